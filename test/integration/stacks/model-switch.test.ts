import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { type BuiltPlatform, buildPlatform, resourcesOf } from '../../support/platform';
import { STATEFUL_TYPES } from '../../support/templates';

// Switching `deploymentModel` on a running deployment is one `cdk deploy --all`. That holds
// only if no stack of the new model creates a Route 53 record that Route 53 refuses beside a
// record the old model left (CloudFormation creates and updates first, deletes last), and
// if no data-bearing resource is replaced. Route 53 refuses, under one name and type:
// records of two routing policies; two records of one set identifier; two latency records
// of one region.

/** A Route 53 record set of one stack, as the comparison reads it. */
interface RecordRow {
  readonly stack: string;
  readonly logicalId: string;
  readonly zone: string;
  readonly name: string;
  readonly type: string;
  readonly setIdentifier?: string;
  readonly region?: string;
  readonly policy: RoutingPolicy;
}

type RoutingPolicy =
  | 'simple'
  | 'latency'
  | 'failover'
  | 'weighted'
  | 'geolocation'
  | 'geoproximity'
  | 'multivalue'
  | 'cidr';

/** The routing policy a record set's properties give it. */
function routingPolicyOf(p: Record<string, unknown>): RoutingPolicy {
  if (p.Failover !== undefined) return 'failover';
  if (p.Region !== undefined) return 'latency';
  if (p.Weight !== undefined) return 'weighted';
  if (p.GeoLocation !== undefined) return 'geolocation';
  if (p.GeoProximityLocation !== undefined) return 'geoproximity';
  if (p.CidrRoutingConfig !== undefined) return 'cidr';
  if (p.MultiValueAnswer === true) return 'multivalue';
  return 'simple';
}

/** Every record set of every stack of the app. */
function recordRowsOf(templates: BuiltPlatform['templates']): RecordRow[] {
  return Object.entries(templates).flatMap(([stack, template]) =>
    Object.entries(resourcesOf(template, 'AWS::Route53::RecordSet')).map(([logicalId, resource]) => {
      const p = (resource.Properties ?? {}) as Record<string, any>;
      return {
        stack,
        logicalId,
        zone: JSON.stringify(p.HostedZoneId ?? p.HostedZoneName),
        name: String(p.Name).toLowerCase().replace(/\.?$/, '.'),
        type: String(p.Type),
        setIdentifier: p.SetIdentifier,
        region: p.Region,
        policy: routingPolicyOf(p),
      };
    }),
  );
}

const where = (r: RecordRow) => `${r.stack}/${r.logicalId} (${r.policy}, ${r.setIdentifier ?? 'no set identifier'})`;
const nameOf = (r: RecordRow) => `${r.zone} ${r.name} ${r.type}`;

function groupBy<T>(items: readonly T[], key: (item: T) => string | undefined): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    if (k === undefined) continue;
    groups.set(k, [...(groups.get(k) ?? []), item]);
  }
  return groups;
}

/**
 * What Route 53 would refuse during a switch from model `a` to model `b` (or back): each
 * problem names the record and the stacks' resources. Empty when the switch is safe.
 */
function switchCollisions(a: readonly RecordRow[], b: readonly RecordRow[]): string[] {
  const problems: string[] = [];
  const models = [
    ['a', a],
    ['b', b],
  ] as const;
  // Within one model, as Route 53 checks any one deploy.
  for (const [model, rows] of models) {
    for (const [name, group] of groupBy(rows, nameOf)) {
      const policies = new Set(group.map((r) => r.policy));
      if (policies.size > 1) problems.push(`${model}: ${name} has policies ${[...policies].join(', ')}`);
    }
  }
  const keyed = (
    key: (r: RecordRow) => string | undefined,
    what: string,
    same: (x: RecordRow, y: RecordRow) => boolean,
  ) => {
    const inA = groupBy(a, key);
    for (const [k, ys] of groupBy(b, key)) {
      for (const x of inA.get(k) ?? []) {
        for (const y of ys) {
          if (!same(x, y)) problems.push(`${what} ${k}: ${where(x)} vs ${where(y)}`);
        }
      }
    }
  };
  // One routing policy per (zone, name, type) across the models.
  keyed(nameOf, 'policy of', (x, y) => x.policy === y.policy);
  // A (name, type, set identifier) in both models is the same resource, updated in place:
  // as another resource, CloudFormation would create it before deleting the old one.
  const sameResource = (x: RecordRow, y: RecordRow) =>
    x.policy === y.policy && x.stack === y.stack && x.logicalId === y.logicalId;
  keyed((r) => (r.setIdentifier === undefined ? undefined : `${nameOf(r)} ${r.setIdentifier}`), 'set', sameResource);
  // Route 53 takes one latency record per region under a name: that region's record must be
  // the same resource (CloudFormation updates a set identifier in place), or the new one
  // would be created beside it.
  keyed((r) => (r.policy === 'latency' ? `${nameOf(r)} region ${r.region}` : undefined), 'latency', sameResource);
  // A simple record is one per name: the same resource in both models.
  keyed((r) => (r.policy === 'simple' ? nameOf(r) : undefined), 'simple', sameResource);
  return [...new Set(problems)];
}

function statefulIds(templates: BuiltPlatform['templates']): string[] {
  return Object.entries(templates).flatMap(([stack, template]) =>
    Object.entries(resourcesOf(template))
      .filter(([, resource]) => STATEFUL_TYPES.has(resource.Type))
      .map(([id, resource]) => `${stack}/${id} ${resource.Type}`),
  );
}

let activeActive: BuiltPlatform;
let activePassive: BuiltPlatform;
// One synthesis per model (seconds each on 2 cores), shared by every test.
beforeAll(() => {
  activeActive = buildPlatform();
  activePassive = buildPlatform({ deploymentModel: 'active-passive' });
});

describe('switching the deployment model', () => {
  test('creates no Route 53 record beside one of another policy, set identifier owner or latency region', () => {
    const aa = recordRowsOf(activeActive.templates);
    const ap = recordRowsOf(activePassive.templates);
    expect(switchCollisions(aa, ap)).toEqual([]);
    // The comparison saw the API's names in both models.
    for (const rows of [aa, ap]) {
      expect(rows.filter((r) => r.name === 'api.shop.example.com.' && r.policy === 'latency')).toHaveLength(4);
    }
  });

  test('keeps the logical id of every stateful resource', () => {
    const pinned = JSON.parse(readFileSync(path.join(__dirname, 'stateful-logical-ids.json'), 'utf8'));
    const pinnedTypes = Object.values(pinned).flatMap((ids) => Object.values(ids as Record<string, string>));
    expect(pinnedTypes.filter((type) => !STATEFUL_TYPES.has(type))).toEqual([]);
    expect(statefulIds(activePassive.templates).sort()).toEqual(statefulIds(activeActive.templates).sort());
  });
});

describe('the collision check, on planted records', () => {
  const row = (overrides: Partial<RecordRow>): RecordRow => ({
    stack: 'S',
    logicalId: 'Latency',
    zone: '"Z1"',
    name: 'eu.api.shop.example.com.',
    type: 'A',
    setIdentifier: 'eu-west-1',
    region: 'eu-west-1',
    policy: 'latency',
    ...overrides,
  });

  test.each([
    [
      'the same name as failover records in one model and latency records in the other',
      [row({})],
      [row({ logicalId: 'Failover', setIdentifier: 'eu-primary', region: undefined, policy: 'failover' })],
      [
        'policy of "Z1" eu.api.shop.example.com. A: S/Latency (latency, eu-west-1) vs S/Failover (failover, eu-primary)',
      ],
    ],
    [
      'one set identifier owned by another resource',
      [row({})],
      [row({ logicalId: 'Other' })],
      [
        'set "Z1" eu.api.shop.example.com. A eu-west-1: S/Latency (latency, eu-west-1) vs S/Other (latency, eu-west-1)',
        'latency "Z1" eu.api.shop.example.com. A region eu-west-1: S/Latency (latency, eu-west-1) vs S/Other (latency, eu-west-1)',
      ],
    ],
    [
      "one region's latency record as another resource, under another set identifier",
      [row({})],
      [row({ logicalId: 'Other', setIdentifier: 'eu-failover' })],
      [
        'latency "Z1" eu.api.shop.example.com. A region eu-west-1: S/Latency (latency, eu-west-1) vs S/Other (latency, eu-failover)',
      ],
    ],
    [
      'two policies under one name within one model',
      [row({}), row({ logicalId: 'Weighted', setIdentifier: 'w', region: undefined, policy: 'weighted' })],
      [],
      ['a: "Z1" eu.api.shop.example.com. A has policies latency, weighted'],
    ],
  ])('reports %s', (_, a, b, expected) => {
    // given records of two models; when they are compared
    const problems = switchCollisions(a, b);
    // then
    expect(problems).toEqual(expected);
  });

  test('passes a record updated in place, and names or types that exist in one model only', () => {
    // given the same latency record with another alias target, and a failover pair of its own name
    const a = [row({})];
    const b = [
      row({}),
      row({ logicalId: 'F', name: 'failover.eu.api.shop.example.com.', region: undefined, policy: 'failover' }),
      row({ logicalId: 'Aaaa', type: 'AAAA', setIdentifier: undefined, region: undefined, policy: 'simple' }),
    ];
    // when, then
    expect(switchCollisions(a, b)).toEqual([]);
  });

  test.each([
    [{ Failover: 'PRIMARY', SetIdentifier: 'p' }, 'failover'],
    [{ Region: 'eu-west-1', SetIdentifier: 'r' }, 'latency'],
    [{ Weight: 0, SetIdentifier: 'w' }, 'weighted'],
    [{ GeoLocation: { ContinentCode: 'EU' }, SetIdentifier: 'g' }, 'geolocation'],
    [{ MultiValueAnswer: true, SetIdentifier: 'm' }, 'multivalue'],
    [{ AliasTarget: { DNSName: 'd' } }, 'simple'],
  ])('reads the routing policy of %j as %s', (properties, policy) => {
    expect(routingPolicyOf(properties)).toBe(policy);
  });
});
