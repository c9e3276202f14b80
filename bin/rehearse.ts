#!/usr/bin/env node
import '../local/powertools-env';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { createCommercePlatform } from '../lib/commerce-platform';
import { resolveTopology } from '../lib/config/topology';
import { checkCalls } from '../local/rehearsal/check';
import { deploymentOf } from '../local/rehearsal/deployment';
import { recordCalls } from '../local/rehearsal/record-calls';
import { renderReport, totals } from '../local/rehearsal/report';

/**
 * `npm run rehearse`: the deploy rehearsed without an account. For each deployment model,
 * synthesizes the app (no bundling), runs every function's code locally while recording
 * what it calls, and checks each call against the function's role and network in the
 * templates. Exits 1 on any denied or unreachable call.
 */
const MODELS = ['active-active', 'active-passive'] as const;

async function main(): Promise<number> {
  // The RDS signer of the migrations in secondary regions signs with whatever credentials
  // it finds; these reach nothing (no call leaves the machine).
  process.env.AWS_ACCESS_KEY_ID ??= 'AKIAREHEARSAL';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'rehearsal';
  const context = JSON.parse(readFileSync(path.join(__dirname, '..', 'cdk.json'), 'utf8')).context;
  let failed = 0;
  for (const model of MODELS) {
    const outdir = mkdtempSync(path.join(tmpdir(), 'rehearse-'));
    try {
      const app = new App({ outdir, context: { ...context, 'aws:cdk:bundling-stacks': [] } });
      const topology = resolveTopology({ deploymentModel: model }, `rehearsal (${model})`);
      const platform = createCommercePlatform(app, topology, { controlTowerChecks: false });
      const assembly = app.synth();
      const templates = Object.fromEntries(assembly.stacks.map((stack) => [stack.stackName, stack.template]));
      const deployment = deploymentOf(platform, templates);
      const recording = await recordCalls(topology, deployment);
      const verdicts = await checkCalls(recording.calls, deployment, recording.storeEndpoints);
      console.log(renderReport(`${model} (${recording.requests} requests walked)`, verdicts));
      // Expected where a stand-in refuses (no Aurora instance here); shown, never hidden.
      for (const failure of recording.failures) console.log(`ended in     ${failure.slice(0, 160)}`);
      const { denied, unreachable } = totals(verdicts);
      failed += denied + unreachable;
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  }
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
