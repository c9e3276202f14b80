import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import type {
  IPolicyValidationContextBeta1,
  IPolicyValidationPluginBeta1,
  PolicyValidationPluginReportBeta1,
  PolicyViolationBeta1,
} from 'aws-cdk-lib';
import { resourceTypesOf, sliceTemplate, type TemplateDocument } from './template-slice';

/** The Control Tower rules shipped with `@cdklabs/cdk-validator-cfnguard`, one `.guard` file per control. */
const PACKAGE_DIR = path.dirname(require.resolve('@cdklabs/cdk-validator-cfnguard/package.json'));
const RULES_DIR = path.join(PACKAGE_DIR, 'rules', 'control-tower', 'cfn-guard');
const RESOURCE_TYPE = /AWS::[A-Za-z0-9]+::[A-Za-z0-9]+/g;
/** A 64-hex-digit string in a template is an asset hash (S3 key of a bundle, asset metadata). */
const ASSET_HASH = /\b[0-9a-f]{64}\b/g;

export interface ControlTowerRule {
  readonly file: string;
  /** The service folder the rule ships in, e.g. `s3`: rules are run in one cfn-guard process per folder. */
  readonly service: string;
  /** Every resource type the rule's text names. */
  readonly resourceTypes: readonly string[];
}

export interface ControlTowerChecksProps {
  /**
   * Folder that keeps each template's verdict by content hash, so an unchanged template
   * (asset hashes aside) is not checked again.
   * @default node_modules/.cache/control-tower-checks
   */
  readonly cacheDir?: string;
}

/**
 * The AWS Control Tower proactive controls, run by `@cdklabs/cdk-validator-cfnguard` as a
 * policy-validation plugin, made fast enough to run on every synthesis.
 *
 * The library runs all 237 rules over every whole template in one cfn-guard process, and
 * that build of cfn-guard pays for each rule in proportion to the size of each template:
 * 54 s per synthesis of this app on a 2-core machine. Without skipping a rule that could
 * fire, this plugin
 * - runs, per service folder of rules, one cfn-guard process over each template's slice
 *   that those rules can see (`sliceTemplate`): every Control Tower rule selects
 *   resources by a literal type it names and follows references by logical id. The
 *   processes run one after another: two at once take longer on 2 cores, as this
 *   cfn-guard build spends its time allocating memory, one kernel call per allocation;
 * - keeps each template's verdict by the hash of the template with its asset hashes
 *   blanked (no Control Tower rule reads a function's code location), so a change inside
 *   a handler does not re-run the rules. cfn-guard checks slices of exactly the text that
 *   was hashed.
 *
 * It keeps the library's name, so findings are still acknowledged as
 * `cdk-validator-cfnguard::<rule>`, and makes every violation an error: the library reports
 * them without a severity, and aws-cdk-lib would print those without failing synthesis
 * once any of the plugin's findings is acknowledged.
 */
export class ControlTowerChecks implements IPolicyValidationPluginBeta1 {
  readonly name: string;
  readonly version?: string;
  readonly ruleIds?: string[];
  private readonly rules: readonly ControlTowerRule[];
  private readonly cacheDir: string;
  private readonly rulesHash: string;

  constructor(props: ControlTowerChecksProps = {}) {
    const library = new CfnGuardValidator();
    this.name = library.name;
    this.version = library.version;
    this.ruleIds = library.ruleIds;
    this.rules = controlTowerRules();
    this.cacheDir =
      props.cacheDir ?? path.join(__dirname, '..', '..', 'node_modules', '.cache', 'control-tower-checks');
    const digest = createHash('sha256').update(String(this.version));
    for (const rule of this.rules) digest.update(rule.file).update(fs.readFileSync(rule.file));
    this.rulesHash = digest.digest('hex');
  }

  validate(context: IPolicyValidationContextBeta1): PolicyValidationPluginReportBeta1 {
    const templates = context.templatePaths.map((templatePath) => this.checkedTemplate(templatePath));
    const unchecked = templates.filter((template) => !fs.existsSync(template.verdictFile));
    if (unchecked.length > 0) this.check(unchecked);
    const violations = templates.flatMap((template) => readVerdict(template.verdictFile, template.templatePath));
    return {
      success: violations.length === 0,
      violations: violations.map((violation) => ({ ...violation, severity: violation.severity ?? 'error' })),
    };
  }

  private checkedTemplate(templatePath: string): CheckedTemplate {
    const text = fs.readFileSync(templatePath, 'utf8').replace(ASSET_HASH, 'ASSET_HASH');
    const key = createHash('sha256').update(this.rulesHash).update(text).digest('hex');
    return {
      templatePath,
      document: JSON.parse(text) as TemplateDocument,
      verdictFile: path.join(this.cacheDir, `${key}.verdict.json`),
    };
  }

  /** Runs the rules over `templates` and writes each one's verdict. */
  private check(templates: readonly CheckedTemplate[]): void {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'control-tower-'));
    try {
      const { jobs, templateOfSlice } = guardJobs(templates, this.rules, work);
      const reports = jobs.map((job) =>
        new CfnGuardValidator({ controlTowerRulesEnabled: false, rules: [...job.rules] }).validate({
          templatePaths: [...job.data],
        } as IPolicyValidationContextBeta1),
      );
      const byTemplate = new Map<string, PolicyViolationBeta1[]>(
        templates.map((template) => [template.templatePath, []]),
      );
      for (const violation of reports.flatMap((report) => report.violations)) {
        for (const [templatePath, violatingResources] of groupByTemplate(violation, templateOfSlice)) {
          byTemplate.get(templatePath)?.push({ ...violation, violatingResources });
        }
      }
      fs.mkdirSync(this.cacheDir, { recursive: true });
      for (const template of templates) writeVerdict(template.verdictFile, byTemplate.get(template.templatePath) ?? []);
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  }
}

interface CheckedTemplate {
  readonly templatePath: string;
  /** The template with its asset hashes blanked: what is hashed and checked. */
  readonly document: TemplateDocument;
  readonly verdictFile: string;
}

interface GuardJob {
  readonly rules: readonly string[];
  readonly data: readonly string[];
}

/**
 * One job per service folder that applies to any template: its rules over the slice of
 * each template they can see (written to `work`), skipping templates of which they see nothing.
 */
function guardJobs(templates: readonly CheckedTemplate[], rules: readonly ControlTowerRule[], work: string) {
  const jobs: GuardJob[] = [];
  const templateOfSlice = new Map<string, string>();
  const services = [...new Set(rules.map((rule) => rule.service))];
  for (const service of services) {
    const serviceRules = rules.filter((rule) => rule.service === service);
    const types = new Set(serviceRules.flatMap((rule) => rule.resourceTypes));
    const data: string[] = [];
    const applicable = new Set<string>();
    templates.forEach((template, index) => {
      const present = resourceTypesOf(template.document);
      const seen = serviceRules.filter((rule) => ruleAppliesTo(rule, present));
      if (seen.length === 0) return;
      for (const rule of seen) applicable.add(rule.file);
      const slice = path.join(work, `${service}-${index}.json`);
      fs.writeFileSync(slice, JSON.stringify(sliceTemplate(template.document, types)));
      templateOfSlice.set(slice, template.templatePath);
      data.push(slice);
    });
    if (data.length > 0) jobs.push({ rules: [...applicable], data });
  }
  return { jobs, templateOfSlice };
}

/** Every rule file of the Control Tower pack, with the resource types it names. */
export function controlTowerRules(): ControlTowerRule[] {
  return fs
    .readdirSync(RULES_DIR, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
    .flatMap((service) =>
      fs
        .readdirSync(path.join(RULES_DIR, service))
        .filter((name) => name.endsWith('.guard'))
        .sort()
        .map((name) => {
          const file = path.join(RULES_DIR, service, name);
          const resourceTypes = [...new Set(fs.readFileSync(file, 'utf8').match(RESOURCE_TYPE) ?? [])];
          return { file, service, resourceTypes };
        }),
    );
}

/**
 * Whether a rule can select any resource of a template holding `types`. A rule that names
 * no type at all is always run: nothing says what it selects.
 */
export function ruleAppliesTo(rule: ControlTowerRule, types: ReadonlySet<string>): boolean {
  return rule.resourceTypes.length === 0 || rule.resourceTypes.some((type) => types.has(type));
}

/** A violation's resources by the template whose slice they were found in. */
function groupByTemplate(violation: PolicyViolationBeta1, templateOfSlice: ReadonlyMap<string, string>) {
  const groups = new Map<string, PolicyViolationBeta1['violatingResources'][number][]>();
  for (const resource of violation.violatingResources) {
    const templatePath = templateOfSlice.get(resource.templatePath) ?? resource.templatePath;
    groups.set(templatePath, [...(groups.get(templatePath) ?? []), { ...resource, templatePath }]);
  }
  return groups;
}

function writeVerdict(file: string, violations: readonly PolicyViolationBeta1[]): void {
  // Written under a temporary name first: a synthesis stopped half-way leaves no partial verdict.
  const partial = `${file}.${process.pid}.partial`;
  fs.writeFileSync(partial, JSON.stringify(violations));
  fs.renameSync(partial, file);
}

/** The kept violations, pointed at this synthesis's template. */
function readVerdict(file: string, templatePath: string): PolicyViolationBeta1[] {
  const violations = JSON.parse(fs.readFileSync(file, 'utf8')) as PolicyViolationBeta1[];
  return violations.map((violation) => ({
    ...violation,
    violatingResources: violation.violatingResources.map((resource) => ({ ...resource, templatePath })),
  }));
}
