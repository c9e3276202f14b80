/**
 * Checks that the app's fast Control Tower plugin (rules per service folder over template
 * slices, `lib/compliance/control-tower-checks.ts`) finds exactly what the library finds
 * running every rule over every whole template. Run it after upgrading
 * `@cdklabs/cdk-validator-cfnguard` or changing the slicing; it takes about a minute.
 *
 *   npm run synth && npx tsx scripts/verify-control-tower-slices.ts [cdk.out]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import type { IPolicyValidationContextBeta1, PolicyValidationPluginReportBeta1 } from 'aws-cdk-lib';
import { ControlTowerChecks } from '../lib/compliance/control-tower-checks';

const outdir = path.resolve(process.argv[2] ?? 'cdk.out');
const templatePaths = fs
  .readdirSync(outdir)
  .filter((name) => name.endsWith('.template.json'))
  .map((name) => path.join(outdir, name));
if (templatePaths.length === 0) {
  console.error(`No templates in ${outdir}: run \`npm run synth\` first.`);
  process.exit(1);
}
const context = { templatePaths } as unknown as IPolicyValidationContextBeta1;

/** One line per rule, template, resource and location, the way both reports can be compared. */
function findings(report: PolicyValidationPluginReportBeta1): Set<string> {
  return new Set(
    report.violations.flatMap((violation) =>
      violation.violatingResources.flatMap((resource) =>
        resource.locations.map(
          (location) =>
            `${violation.ruleName} ${path.basename(resource.templatePath)} ${resource.resourceLogicalId} ${location}`,
        ),
      ),
    ),
  );
}

function timed<T>(run: () => T): [T, number] {
  const start = Date.now();
  const result = run();
  return [result, (Date.now() - start) / 1000];
}

const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'control-tower-verify-'));
try {
  const [whole, wholeSeconds] = timed(() => findings(new CfnGuardValidator().validate(context)));
  const [sliced, slicedSeconds] = timed(() => findings(new ControlTowerChecks({ cacheDir }).validate(context)));
  const missed = [...whole].filter((line) => !sliced.has(line));
  const extra = [...sliced].filter((line) => !whole.has(line));
  console.log(`${templatePaths.length} templates in ${outdir}`);
  console.log(`library, every rule over whole templates: ${whole.size} findings in ${wholeSeconds.toFixed(1)} s`);
  console.log(`ControlTowerChecks, slices per service:   ${sliced.size} findings in ${slicedSeconds.toFixed(1)} s`);
  for (const line of missed) console.log(`  missed by the slices: ${line}`);
  for (const line of extra) console.log(`  only in the slices:   ${line}`);
  console.log(missed.length + extra.length === 0 ? 'identical' : 'DIFFERENT');
  process.exitCode = missed.length + extra.length === 0 ? 0 : 1;
} finally {
  fs.rmSync(cacheDir, { recursive: true, force: true });
}
