import { readFileSync } from 'node:fs';
import * as path from 'node:path';

/** The feature flags of cdk.json, as `cdk synth` passes them to the app. */
export const CDK_JSON_CONTEXT: Readonly<Record<string, unknown>> = JSON.parse(
  readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf8'),
).context;
