/**
 * Measures the synthesis loop an engineer lives in, in one run, on this machine:
 * - a bare one-stack CDK app (the size of `cdk init app`), synthesized the same way;
 * - the first `npm run synth` of a fresh clone of this repository's HEAD, after `npm ci`
 *   (nothing cached: no bundles, no Control Tower verdicts);
 * - a repeat `npm run synth` after a one-line change in one handler.
 * Prints each wall time and its ratio to the bare app's.
 *
 *   npx tsx scripts/measure-synth.ts [--keep]
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { keep: { type: 'boolean', default: false } } });
const root = path.join(__dirname, '..');
const work = mkdtempSync(path.join(os.tmpdir(), 'measure-synth-'));

function run(command: string, args: string[], cwd: string): void {
  execFileSync(command, args, { cwd, stdio: ['ignore', 'ignore', 'inherit'] });
}

function seconds(command: string, args: string[], cwd: string): number {
  const start = process.hrtime.bigint();
  run(command, args, cwd);
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** A one-stack app as `cdk init app --language typescript` makes it, using this project's packages. */
function bareApp(): string {
  const dir = path.join(work, 'bare');
  mkdirSync(path.join(dir, 'bin'), { recursive: true });
  symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
  writeFileSync(path.join(dir, 'cdk.json'), JSON.stringify({ app: 'npx tsx bin/app.ts' }));
  writeFileSync(
    path.join(dir, 'bin', 'app.ts'),
    [
      "import { App, Duration, Stack } from 'aws-cdk-lib';",
      "import * as sqs from 'aws-cdk-lib/aws-sqs';",
      'const app = new App();',
      "const stack = new Stack(app, 'BareStack');",
      "new sqs.Queue(stack, 'BareQueue', { visibilityTimeout: Duration.seconds(300) });",
      '',
    ].join('\n'),
  );
  return dir;
}

try {
  const bare = bareApp();
  const clone = path.join(work, 'clone');
  run('git', ['clone', '--quiet', root, clone], work);
  console.error('npm ci in the fresh clone (not timed)...');
  run('npm', ['ci', '--no-audit', '--no-fund'], clone);

  seconds('npx', ['cdk', '--version'], bare); // warm npx and the CLI, as the clone's npm ci did
  const bareSeconds = seconds('npx', ['cdk', 'synth', '--quiet'], bare);
  const firstSeconds = seconds('npm', ['run', 'synth'], clone);
  appendFileSync(path.join(clone, 'lambda', 'cart', 'handler.ts'), `export const measuredAt = ${Date.now()};\n`);
  const repeatSeconds = seconds('npm', ['run', 'synth'], clone);

  const ratio = (value: number) => `${(value / bareSeconds).toFixed(1)}x`;
  console.log(
    `machine: ${os.cpus().length} CPUs, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
  );
  console.log(`bare one-stack app, cdk synth:              ${bareSeconds.toFixed(1)} s`);
  console.log(`fresh clone, first npm run synth:           ${firstSeconds.toFixed(1)} s (${ratio(firstSeconds)})`);
  console.log(`after a one-line handler change, again:     ${repeatSeconds.toFixed(1)} s (${ratio(repeatSeconds)})`);
} finally {
  if (values.keep) console.error(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
