/**
 * Bundles every function exactly as the CDK app does (`lib/functions/esbuild-bundling.ts`)
 * and prints each bundle's size and its cold-start load: the time to `require` the bundle
 * in a fresh Node.js process (everything a cold start does before the first request, the
 * AWS SDK included), median of several runs, beside an empty handler bundled the same way.
 *
 *   npx tsx scripts/measure-functions.ts [--runs 9] [--profile <function>]
 *
 * `--profile cart` also prints where that function's load time goes, by package (a CPU
 * profile of the load, mapped back to sources through the bundle's source map).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { buildSync } from 'esbuild';
import { API_DOMAINS } from '../lambda/shared/api-contract';
import type { ApiEnvironment, AuthorizerEnvironment, PowertoolsEnvironment } from '../lambda/shared/environment';
import { esbuildOptions } from '../lib/functions/esbuild-bundling';

/**
 * Runs in the fresh process: profiles `require(file)` with the inspector and sums the
 * samples by the package their bundled source belongs to (through the bundle's source map).
 */
const PROFILER = `
const fs = require('node:fs');
const { Session } = require('node:inspector');
const { SourceMap } = require('node:module');
const file = process.argv[2];
const map = new SourceMap(JSON.parse(fs.readFileSync(file + '.map', 'utf8')));
const session = new Session();
session.connect();
session.post('Profiler.enable');
session.post('Profiler.setSamplingInterval', { interval: 100 });
session.post('Profiler.start', () => {
  require(file);
  session.post('Profiler.stop', (error, { profile }) => {
    const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
    const parents = new Map();
    for (const node of profile.nodes) for (const child of node.children || []) parents.set(child, node.id);
    // A sample counts for the bundled source nearest the top of its stack, so Node's own
    // work (compiling, loading built-in modules) counts for the package that caused it.
    const owner = (id) => {
      for (let at = id; at !== undefined; at = parents.get(at)) {
        const frame = nodes.get(at).callFrame;
        if (frame.url !== 'file://' + file && frame.url !== file) continue;
        const origin = map.findEntry(frame.lineNumber, frame.columnNumber);
        const source = (origin && origin.originalSource) || '';
        const pkg = source.match(/node_modules\\/((?:@[^/]+\\/)?[^/]+)/);
        return pkg ? pkg[1] : source ? 'project: ' + source.replace(/^.*?(lambda\\/)/, '$1') : 'bundle (unmapped)';
      }
      return 'node (compiling and starting the bundle)';
    };
    const totals = new Map();
    profile.samples.forEach((id, index) => {
      const where = owner(id);
      totals.set(where, (totals.get(where) || 0) + (profile.timeDeltas[index] || 0) / 1000);
    });
    process.stdout.write(JSON.stringify([...totals].sort((a, b) => b[1] - a[1]).slice(0, 20)));
    process.exit(0);
  });
});
`;

const { values } = parseArgs({ options: { runs: { type: 'string', default: '9' }, profile: { type: 'string' } } });
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer, got ${values.runs}`);
const root = path.join(__dirname, '..');
const out = mkdtempSync(path.join(os.tmpdir(), 'commerce-bundles-'));

/** What the stack tells the functions (the contract of lambda/shared/environment.ts). */
const contract: ApiEnvironment & AuthorizerEnvironment & PowertoolsEnvironment = {
  JURISDICTION: 'eu',
  PRIMARY_REGION: 'eu-west-1',
  DEPLOYMENT_MODEL: 'active-active',
  EVENTUAL_TABLE: 'Commerce-eu-eventual',
  CACHE_ENDPOINT: 'cache.invalid:6379',
  DB_PROXY_ENDPOINT: 'proxy.invalid',
  JURISDICTION_DIRECTORY: '{"byPrimaryRegion":{},"apiHosts":{}}',
  USER_POOL_ID: 'eu-west-1_measure',
  USER_POOL_CLIENT_ID: 'measure',
  SIGNING_KEYS_PARAMETER: '/Commerce/eu/user-pool-signing-keys',
  SIGNING_KEYS_COPY_KEY: 'arn:aws:kms:eu-west-1:123456789012:key/measure',
  ORIGIN_SECRET_NAME: 'Commerce/origin-verify',
  POWERTOOLS_SERVICE_NAME: 'measure',
  POWERTOOLS_METRICS_NAMESPACE: 'Commerce',
};

/** What a deployed function finds in its environment; clients are created, not connected. */
const environment: NodeJS.ProcessEnv = {
  ...contract,
  // Set by the Lambda runtime.
  PATH: process.env.PATH,
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'measure',
  AWS_SECRET_ACCESS_KEY: 'measure',
  AWS_LAMBDA_FUNCTION_NAME: 'measure',
  // Quiet: the load is measured, not the log lines.
  POWERTOOLS_LOG_LEVEL: 'SILENT',
};

const entries: Record<string, string> = {
  ...Object.fromEntries(API_DOMAINS.map((domain) => [domain, path.join(root, 'lambda', domain, 'handler.ts')])),
  authorizer: path.join(root, 'lambda', 'authorizer', 'handler.ts'),
};

function bundle(name: string, entry: string): string {
  const dir = path.join(out, name);
  buildSync(esbuildOptions({ entry }, dir));
  return path.join(dir, 'index.js');
}

/** Milliseconds to require `file` in a fresh process (the process exits before any request). */
function loadTime(file: string): number {
  const script = `const t=performance.now();require(${JSON.stringify(file)});process.stdout.write(String(performance.now()-t));process.exit(0)`;
  return Number(execFileSync(process.execPath, ['-e', script], { env: environment }).toString());
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function measure(name: string, file: string): string[] {
  const loads = Array.from({ length: runs }, () => loadTime(file));
  return [name, (statSync(file).size / 1024).toFixed(1), median(loads).toFixed(1), Math.min(...loads).toFixed(1)];
}

/** Time of the load by package, from a CPU profile taken in a fresh process. */
function profileLoad(file: string): [string, number][] {
  const profiler = path.join(out, 'profile-load.js');
  writeFileSync(profiler, PROFILER);
  const json = execFileSync(process.execPath, [profiler, file], { env: environment });
  return JSON.parse(json.toString()) as [string, number][];
}

try {
  const emptyEntry = path.join(out, 'empty.ts');
  writeFileSync(emptyEntry, 'export const handler = async () => ({ statusCode: 200 });\n');
  const empty = measure('(empty handler)', bundle('empty', emptyEntry));
  const rows = Object.entries(entries).map(([name, entry]) => measure(name, bundle(name, entry)));
  const emptyMedian = Number(empty[2]);
  console.log(`bundles as the app builds them; load = require() in a fresh process, ${runs} runs, ${process.version}`);
  console.log(['function', 'KB', 'load ms (median)', 'min', 'more than empty'].join('\t'));
  for (const row of [empty, ...rows]) console.log([...row, (Number(row[2]) - emptyMedian).toFixed(1)].join('\t'));
  if (values.profile) {
    const entry = entries[values.profile];
    if (!entry) throw new Error(`--profile: no function ${values.profile}; one of ${Object.keys(entries).join(', ')}`);
    console.log(
      `\nwhere ${values.profile}'s load goes (ms, by the bundled package nearest the top of each sampled stack):`,
    );
    for (const [where, ms] of profileLoad(path.join(out, values.profile, 'index.js'))) {
      console.log(`${ms.toFixed(1).padStart(7)}  ${where}`);
    }
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
