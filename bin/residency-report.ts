#!/usr/bin/env node
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { residencyReport } from '../lib/compliance/residency-report';
import type { Topology } from '../lib/config/topology';
import { loadTopology } from './load-topology';

const USAGE = `Usage: npm run residency                      (default topology: synthesizes, then reports)
       npx cdk synth -c config=my.json && npx tsx bin/residency-report.ts --config my.json [--out cdk.out]

Lists every data-bearing resource of the synthesized app per jurisdiction, with its region
and where it replicates, then every log destination (bucket, log group) per jurisdiction whose
shoppers' entries it receives, with its region and the streams delivered there; exits 1 if
anything of an EU-pinned jurisdiction, or a log destination receiving its entries, is outside
the EU.`;

function fail(message: string): never {
  console.error(`residency report: ${message}\n\n${USAGE}`);
  process.exit(2);
}

let values: { config?: string; out?: string; help?: boolean } = {};
try {
  ({ values } = parseArgs({
    options: { config: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean' } },
    strict: true,
  }));
} catch (error) {
  fail((error as Error).message);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
let topology: Topology;
try {
  topology = loadTopology({ configFile: values.config });
} catch (error) {
  fail((error as Error).message);
}
const out = path.resolve(values.out ?? 'cdk.out');
if (!existsSync(path.join(out, 'manifest.json'))) fail(`no cloud assembly in ${out}; run npm run synth first`);
try {
  const report = residencyReport(out, topology);
  console.log(report.text);
  process.exit(report.violations.length ? 1 : 0);
} catch (error) {
  fail((error as Error).message);
}
