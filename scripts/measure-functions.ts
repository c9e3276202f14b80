/**
 * Bundles every API function the way the CDK app does (esbuild, minified, Node.js 24,
 * `@aws-sdk/*` left to the Lambda runtime) and prints each bundle's size and its module
 * load time: the cold-start work done before the first request, measured by requiring
 * the bundle in a fresh Node.js process several times.
 *
 *   npx tsx scripts/measure-functions.ts [--runs 7]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import { API_DOMAINS } from '../lambda/shared/api-contract';

const runsFlag = process.argv.indexOf('--runs');
const runs = runsFlag > 0 ? Number(process.argv[runsFlag + 1]) : 7;
const root = path.join(__dirname, '..');
const out = mkdtempSync(path.join(os.tmpdir(), 'commerce-bundles-'));

// What a deployed function finds in its environment; clients are created, not connected.
const environment = {
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'measure',
  AWS_SECRET_ACCESS_KEY: 'measure',
  JURISDICTION: 'eu',
  PRIMARY_REGION: 'eu-west-1',
  EVENTUAL_TABLE: 'Commerce-eu-eventual',
  CACHE_ENDPOINT: 'cache.invalid:6379',
  DB_PROXY_ENDPOINT: 'proxy.invalid',
  POWERTOOLS_SERVICE_NAME: 'measure',
  POWERTOOLS_METRICS_NAMESPACE: 'Commerce',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  POWERTOOLS_TRACE_ENABLED: 'false',
  // The SDK comes from the runtime in Lambda; here from the project's node_modules.
  NODE_PATH: path.join(root, 'node_modules'),
};

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

const rows: string[][] = [];
try {
  for (const domain of API_DOMAINS) {
    const outfile = path.join(out, domain, 'index.js');
    // Mirrors the NodejsFunction bundling options in lib/api/regional-api.ts.
    buildSync({
      entryPoints: [path.join(root, 'lambda', domain, 'handler.ts')],
      outfile,
      bundle: true,
      minify: true,
      platform: 'node',
      target: 'node24',
      format: 'cjs',
      external: ['@aws-sdk/*', 'pg-native'],
      logLevel: 'warning',
    });
    const bytes = statSync(outfile).size;
    // The runtime's SDK packages the bundle requires, timed on their own to show their share.
    const sdkModules = [...new Set(readFileSync(outfile, 'utf8').match(/@aws-sdk\/[a-z0-9-]+/g) ?? [])];
    const timeRequire = (modules: string[]) => {
      const requires = modules.map((m) => `require(${JSON.stringify(m)});`).join('');
      const script = `const t=performance.now();${requires}process.stdout.write(String(performance.now()-t));process.exit(0)`;
      return Number(
        execFileSync(process.execPath, ['-e', script], { env: { ...process.env, ...environment } }).toString(),
      );
    };
    const loads: number[] = [];
    const sdkLoads: number[] = [];
    for (let run = 0; run < runs; run++) {
      loads.push(timeRequire([outfile]));
      sdkLoads.push(timeRequire(sdkModules));
    }
    rows.push([
      domain,
      (bytes / 1024).toFixed(1),
      median(loads).toFixed(1),
      Math.min(...loads).toFixed(1),
      Math.max(...loads).toFixed(1),
      median(sdkLoads).toFixed(1),
      sdkModules.join(' '),
    ]);
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}

console.log(
  `function bundles (minified, @aws-sdk/* external), module load over ${runs} fresh processes, Node ${process.version} ${process.arch}`,
);
console.log(
  ['function', 'KB', 'load ms (median)', 'min', 'max', 'of which SDK alone (median)', 'SDK modules'].join('\t'),
);
for (const row of rows) console.log(row.join('\t'));
