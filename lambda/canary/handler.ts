import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type FunctionEnvironment, requiredEnv } from '../shared/environment';
import { canaryConfigFrom, WalkError, walkTargets } from './api-walk';
import { CognitoTokenSource } from './cognito-token-source';

/*
 * The CloudWatch Synthetics entry point (bundled to `nodejs/node_modules/api-walk.js`,
 * handler `api-walk.handler`). Plain fetch, no Synthetics library: a canary run fails
 * when the handler throws, and what it logs goes to the run's log.
 */

type CanaryHandler = () => Promise<string>;

/**
 * The canary of one execution environment: its token source is kept across warm runs, so
 * the canary user signs in about once an hour. `now` replaces the clock of the TOTP codes
 * (the deploy rehearsal's stand-in pool keeps its own time), `log` where each target's line goes.
 */
export function createCanaryHandler(
  env: FunctionEnvironment,
  overrides: { readonly now?: () => number; readonly log?: (line: string) => void } = {},
): CanaryHandler {
  const { log = (line: string) => console.log(line), ...tokenOptions } = overrides;
  let tokens: CognitoTokenSource | undefined;
  let secrets: SecretsManagerClient | undefined;
  // Read at each run: a rotation's new value is in use within minutes.
  const originProofOf = async (secretName: string) => {
    secrets ??= new SecretsManagerClient({ region: requiredEnv(env, 'AWS_REGION') });
    const answer = await secrets.send(new GetSecretValueCommand({ SecretId: secretName }));
    if (!answer.SecretString) throw new Error('the secret has no string value');
    return answer.SecretString;
  };
  return async () => {
    const config = canaryConfigFrom(env);
    tokens ??= new CognitoTokenSource({
      secretArn: config.secretArn,
      userPoolId: config.userPoolId,
      clientId: config.userPoolClientId,
      userPoolRegion: config.userPoolRegion,
      ...tokenOptions,
    });
    const token = await tokens.token();
    const run = await walkTargets(
      config.targets,
      { token, sku: config.sku, timeoutMs: config.stepTimeoutMs, originProofOf },
      log,
    );
    // A refused token (revoked, user disabled) is not reused on the next run.
    if (run.failures.some((f) => f instanceof WalkError && (f.status === 401 || f.status === 403))) tokens.forget();
    // Every target was walked and logged; the run fails with the first failure.
    const [first] = run.failures;
    if (first) throw first;
    return `walked ${run.results.map((r) => r.label).join(', ')}`;
  };
}

let canary: CanaryHandler | undefined;

export const handler: CanaryHandler = () => {
  canary ??= createCanaryHandler(process.env);
  return canary();
};
