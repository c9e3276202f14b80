import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Every acknowledgement of a finding in a construct tree, as a reviewer reads it, and the
 * comparison that keeps the reviewed list (docs/security-acknowledgements.json) exact.
 *
 * `Validations.of(construct).acknowledge({ id, reason })` records one metadata entry on the
 * construct, type `Validations.ACKNOWLEDGED_RULES_METADATA_KEY`, data `{ [qualifiedId]: reason }`,
 * at construction (no synthesis needed). The id is qualified by the plugin's namespace:
 * `cdk-validator-cfnguard::lambda_inside_vpc_check` stays as written, while an id without
 * `::` outside brackets, as cdk-nag's `AwsSolutions-IAM5[Resource::*]`, is recorded as
 * `Annotation::AwsSolutions-IAM5[Resource::*]` (cdk-nag strips that prefix when it reads them).
 * `Annotations.of(c).acknowledgeWarning(id, message)` records no such entry and keeps no
 * reason, so it is not in the list.
 */

/** cdk-nag packs of this app, whose rule ids read `<pack>-<rule>`. */
export const NAG_PACKS = ['AwsSolutions', 'Platform', 'DataResidency'] as const;
/** The Control Tower plugin's namespace (it keeps `@cdklabs/cdk-validator-cfnguard`'s name). */
export const CONTROL_TOWER_PACK = 'cdk-validator-cfnguard';
/** CDK's built-in CloudFormation template validation (`App` prop `builtinCloudFormationValidation`, on by default). */
export const CLOUDFORMATION_VALIDATE_PACK = 'CloudFormation-Validate';
/** An acknowledged construct warning (`Annotation::` id of no cdk-nag pack). */
export const ANNOTATION_PACK = 'annotation';
/** Every pack, in the order counts are listed; a namespace not here counts under its own name. */
export const ACKNOWLEDGEMENT_PACKS: readonly string[] = [
  ...NAG_PACKS,
  CONTROL_TOWER_PACK,
  CLOUDFORMATION_VALIDATE_PACK,
  ANNOTATION_PACK,
];

export interface Acknowledgement {
  /** The construct the acknowledgement is on; it covers the findings of everything under it. */
  readonly path: string;
  /** The id as written in code, without CDK's `Annotation::` prefix. */
  readonly rule: string;
  /** One of `ACKNOWLEDGEMENT_PACKS`, or the id's namespace when it is none of them. */
  readonly pack: string;
  readonly reason: string;
}

export interface AcknowledgementScan {
  /** Sorted by path, rule, then reason; exact repeats (same path, rule and reason) once. */
  readonly acknowledgements: readonly Acknowledgement[];
  /** Metadata entries read, repeats included (e.g. a stack's trigger provider, once per trigger). */
  readonly recorded: number;
  /** `acknowledgements` by pack, every pack of `ACKNOWLEDGEMENT_PACKS` present. */
  readonly byPack: Readonly<Record<string, number>>;
}

/** An acknowledgement of the reviewed list, with the deployment models that make it. */
export interface ListedAcknowledgement extends Acknowledgement {
  readonly models: readonly string[];
}

const ANNOTATION_NAMESPACE = /^annotation::/i;

/** The pack an acknowledged id (as recorded, qualified) belongs to. */
export function packOf(qualifiedId: string): string {
  const separator = qualifiedId.indexOf('::');
  const namespace = separator < 0 ? '' : qualifiedId.slice(0, separator);
  if (namespace !== '' && !ANNOTATION_NAMESPACE.test(qualifiedId)) return namespace;
  const rule = qualifiedId.replace(ANNOTATION_NAMESPACE, '');
  return NAG_PACKS.find((pack) => rule.startsWith(`${pack}-`)) ?? ANNOTATION_PACK;
}

/** Every acknowledgement recorded on `root` and the constructs under it. */
export function acknowledgementsOf(root: IConstruct): AcknowledgementScan {
  const unique = new Map<string, Acknowledgement>();
  let recorded = 0;
  for (const construct of root.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY || typeof entry.data !== 'object') continue;
      for (const [qualifiedId, reason] of Object.entries(entry.data as Record<string, unknown>)) {
        recorded += 1;
        const acknowledgement: Acknowledgement = {
          path: construct.node.path,
          rule: qualifiedId.replace(ANNOTATION_NAMESPACE, ''),
          pack: packOf(qualifiedId),
          reason: String(reason),
        };
        unique.set(keyOf(acknowledgement), acknowledgement);
      }
    }
  }
  const acknowledgements = sortAcknowledgements([...unique.values()]);
  return { acknowledgements, recorded, byPack: countByPack(acknowledgements) };
}

/** How many acknowledgements each pack has, every known pack listed (0 if none), known packs first. */
export function countByPack(acknowledgements: readonly Pick<Acknowledgement, 'pack'>[]): Record<string, number> {
  const counts: Record<string, number> = Object.fromEntries(ACKNOWLEDGEMENT_PACKS.map((pack) => [pack, 0]));
  for (const { pack } of acknowledgements) counts[pack] = (counts[pack] ?? 0) + 1;
  return counts;
}

/**
 * One list of the acknowledgements of several builds of the app (one per deployment model),
 * each entry naming the models that make it; sorted as `acknowledgementsOf` sorts.
 */
export function mergeModels(byModel: Readonly<Record<string, readonly Acknowledgement[]>>): ListedAcknowledgement[] {
  const merged = new Map<string, { acknowledgement: Acknowledgement; models: string[] }>();
  for (const [model, acknowledgements] of Object.entries(byModel)) {
    for (const acknowledgement of acknowledgements) {
      const key = keyOf(acknowledgement);
      const found = merged.get(key) ?? { acknowledgement, models: [] };
      found.models.push(model);
      merged.set(key, found);
    }
  }
  return sortAcknowledgements(
    [...merged.values()].map(({ acknowledgement: { path, rule, pack, reason }, models }) => ({
      path,
      rule,
      pack,
      models: [...models].sort(compareText),
      reason,
    })),
  );
}

/**
 * What differs between the reviewed list and what the app makes, one line per entry:
 * `added` (made, not on the list), `removed` (on the list, no longer made) and `changed`
 * (the same rule on the same construct with another reason, pack or set of models).
 * Empty when they agree.
 */
export function listDifferences(
  listed: readonly ListedAcknowledgement[],
  made: readonly ListedAcknowledgement[],
): string[] {
  const before = groupByConstructRule(listed);
  const after = groupByConstructRule(made);
  const keys = [...new Set([...before.keys(), ...after.keys()])].sort(compareText);
  return keys.flatMap((key) => {
    const was = before.get(key) ?? [];
    const now = after.get(key) ?? [];
    const gone = was.filter((entry) => !now.some((other) => sameEntry(entry, other)));
    const come = now.filter((entry) => !was.some((other) => sameEntry(entry, other)));
    const [first] = come;
    if (gone.length > 0 && first) {
      const now = come.map(describe).join('; ');
      return [`changed: ${first.rule} on ${first.path}: was ${gone.map(describe).join('; ')}, now ${now}`];
    }
    return [
      ...come.map((entry) => `added: ${entry.rule} on ${entry.path}: ${describe(entry)}`),
      ...gone.map((entry) => `removed: ${entry.rule} on ${entry.path}: ${describe(entry)}`),
    ];
  });
}

function describe(entry: ListedAcknowledgement): string {
  return `${JSON.stringify(entry.reason)} (${entry.pack}; ${entry.models.join(', ')})`;
}

function sameEntry(a: ListedAcknowledgement, b: ListedAcknowledgement): boolean {
  return a.pack === b.pack && a.reason === b.reason && a.models.join() === b.models.join();
}

function groupByConstructRule(entries: readonly ListedAcknowledgement[]): Map<string, ListedAcknowledgement[]> {
  const groups = new Map<string, ListedAcknowledgement[]>();
  for (const entry of entries) {
    const key = `${entry.path}\u0000${entry.rule}`;
    groups.set(key, [...(groups.get(key) ?? []), entry]);
  }
  return groups;
}

function keyOf({ path, rule, reason }: Acknowledgement): string {
  return `${path}\u0000${rule}\u0000${reason}`;
}

/** By code unit, not locale, so the order is the same on every machine. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sortAcknowledgements<T extends Acknowledgement>(entries: T[]): T[] {
  return entries.sort(
    (a, b) => compareText(a.path, b.path) || compareText(a.rule, b.rule) || compareText(a.reason, b.reason),
  );
}
