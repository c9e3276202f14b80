import { canaryConfigFrom, WalkError, walkTargets } from './api-walk';
import { CognitoTokenSource } from './cognito-token-source';

/*
 * The CloudWatch Synthetics entry point (bundled to `nodejs/node_modules/api-walk.js`,
 * handler `api-walk.handler`). Plain fetch, no Synthetics library: a canary run fails
 * when the handler throws, and what it logs goes to the run's log.
 */

// Kept across warm runs, so the canary user signs in about once an hour.
let tokens: CognitoTokenSource | undefined;

export const handler = async (): Promise<string> => {
  const config = canaryConfigFrom(process.env);
  tokens ??= new CognitoTokenSource({
    secretArn: config.secretArn,
    userPoolId: config.userPoolId,
    clientId: config.userPoolClientId,
    userPoolRegion: config.userPoolRegion,
  });
  const token = await tokens.token();
  const run = await walkTargets(config.targets, { token, sku: config.sku, timeoutMs: config.stepTimeoutMs }, (line) =>
    console.log(line),
  );
  // A refused token (revoked, user disabled) is not reused on the next run.
  if (run.failures.some((f) => f instanceof WalkError && (f.status === 401 || f.status === 403))) tokens.forget();
  // Every target was walked and logged; the run fails with the first failure.
  const [first] = run.failures;
  if (first) throw first;
  return `walked ${run.results.map((r) => r.label).join(', ')}`;
};
