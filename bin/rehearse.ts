#!/usr/bin/env node
import '../local/powertools-env';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { createCommercePlatform } from '../lib/commerce-platform';
import { DEPLOYMENT_MODELS, type Topology } from '../lib/config/topology';
import { checkCalls } from '../local/rehearsal/check';
import { deploymentOf } from '../local/rehearsal/deployment';
import { recordCalls } from '../local/rehearsal/record-calls';
import { renderReport, totals } from '../local/rehearsal/report';
import { parseFlags } from './cli-flags';
import { topologyFromFlags } from './load-topology';

const USAGE = `Usage: npm run rehearse [-- --config my.json] [-- --model active-passive]

The deploy rehearsed without an account: for each deployment model (or the one --model
names) of the topology (defaults, or --config merged over them), synthesizes the app, runs
every function's code locally while recording what it calls, and checks each call against
the function's role, key policies and network in the templates. Exits 1 on any denied or
unreachable call, or a handler ending in an unexpected error.`;

function fail(message: string): never {
  console.error(`rehearse: ${message}\n\n${USAGE}`);
  process.exit(2);
}

/** Synthesizes `topology` (no bundling), records its code's calls, prints the report; the problems found. */
async function rehearse(topology: Topology): Promise<number> {
  const context = JSON.parse(readFileSync(path.join(__dirname, '..', 'cdk.json'), 'utf8')).context;
  const outdir = mkdtempSync(path.join(tmpdir(), 'rehearse-'));
  try {
    const app = new App({ outdir, context: { ...context, 'aws:cdk:bundling-stacks': [] } });
    const platform = createCommercePlatform(app, topology, { controlTowerChecks: false });
    const templates = Object.fromEntries(app.synth().stacks.map((stack) => [stack.stackName, stack.template]));
    const deployment = deploymentOf(platform, templates);
    const recording = await recordCalls(topology, deployment);
    const verdicts = await checkCalls(recording.calls, deployment, recording.storeEndpoints);
    console.log(renderReport(`${topology.deploymentModel} (${recording.requests} requests walked)`, verdicts));
    for (const ending of recording.expectedEndings) console.log(`ended as stand-ins make it: ${ending.slice(0, 140)}`);
    for (const failure of recording.failures) console.log(`FAILED      ${failure}`);
    const { denied, unreachable } = totals(verdicts);
    return denied + unreachable + recording.failures.length;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  const values = parseFlags({ config: { type: 'string' }, model: { type: 'string' } }, USAGE, fail);
  if (!values) return 0;
  // The RDS signer of the migrations in secondary regions signs with whatever credentials
  // it finds; these reach nothing (no call leaves the machine).
  process.env.AWS_ACCESS_KEY_ID ??= 'AKIAREHEARSAL';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'rehearsal';
  const models = values.model ? [values.model] : DEPLOYMENT_MODELS;
  let problems = 0;
  for (const model of models) problems += await rehearse(topologyFromFlags({ config: values.config, model }, fail));
  return problems === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
