import { KMSClient } from '@aws-sdk/client-kms';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { Jwks } from 'aws-jwt-verify/jwk';
import type { APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { jurisdictionDirectoryFrom } from '../residency/jurisdiction-guard';
import { type FunctionEnvironment, requiredEnv } from '../shared/environment';
import { logger } from '../shared/observability';
import { verifiedCopy } from '../signing-keys/signed-copy';
import { requireOriginProof } from './origin-guard';
import { OriginProofVerifier } from './origin-proof';
import { secretsManagerOriginValues } from './origin-secret';
import { keysUnavailable, parseJwks, poolVerifier } from './pool-verifier';
import { createTokenAuthorizer } from './token-authorizer';

/** A failed read of the copy is tried again after this long, not at every request. */
const RETRY_COPY_AFTER_MS = 30_000;

type Authorizer = ReturnType<typeof createTokenAuthorizer>;
type AuthorizerHandler = (event: APIGatewayRequestAuthorizerEventV2) => ReturnType<Authorizer>;

/**
 * The authorizer of one execution environment, from its variables: the proof of origin
 * against this region's replica of the origin secret, then, on a route that needs a user,
 * the token against the pool's keys from this region's copy (SSM, in this region), so no call
 * goes to the pool's region, which may be down, while the copy can be read.
 */
export function createAuthorizerHandler(env: FunctionEnvironment): AuthorizerHandler {
  const parameterName = requiredEnv(env, 'SIGNING_KEYS_PARAMETER');
  const copyKeyId = requiredEnv(env, 'SIGNING_KEYS_COPY_KEY');
  const region = requiredEnv(env, 'AWS_REGION');
  const ssm = new SSMClient({ region, maxAttempts: 3 });
  const kms = new KMSClient({ region, maxAttempts: 3 });

  /** Undefined when the copy cannot be read (throttled, missing, not a JWKS). */
  async function regionalKeys(): Promise<Jwks | undefined> {
    try {
      const answer = await ssm.send(new GetParameterCommand({ Name: parameterName }));
      const copy = await verifiedCopy(kms, copyKeyId, answer.Parameter?.Value ?? '');
      if ('refused' in copy) {
        logger.error("the region's copy of the pool's signing keys is refused; fetching them from the pool's region", {
          parameterName,
          reason: copy.refused,
        });
        return undefined;
      }
      return parseJwks(copy.jwks, `parameter ${parameterName}`);
    } catch (error) {
      logger.warn("no regional copy of the pool's signing keys; fetching them from the pool's region", {
        parameterName,
        reason: (error as Error).message,
      });
      return undefined;
    }
  }

  const authorizerWith = (keys: Jwks | undefined): Authorizer =>
    createTokenAuthorizer({
      verifier: poolVerifier({
        userPoolId: requiredEnv(env, 'USER_POOL_ID'),
        clientId: requiredEnv(env, 'USER_POOL_CLIENT_ID'),
        regionalKeys: keys,
      }),
      jurisdiction: requiredEnv(env, 'JURISDICTION'),
      directory: jurisdictionDirectoryFrom(env),
      isUnavailable: keysUnavailable,
    });

  let withCopy: Authorizer | undefined;
  let withoutCopy: Authorizer | undefined;
  let readCopyAt = 0;

  /**
   * The authorizer with the region's copy once it has been read; until then (a throttled
   * read during a failover's burst of cold starts, say) one that fetches from the pool's
   * region, while the copy is read again every `RETRY_COPY_AFTER_MS` rather than given up.
   */
  async function currentAuthorizer(): Promise<Authorizer> {
    if (withCopy) return withCopy;
    if (Date.now() >= readCopyAt) {
      const keys = await regionalKeys();
      if (keys) {
        withCopy = authorizerWith(keys);
        return withCopy;
      }
      readCopyAt = Date.now() + RETRY_COPY_AFTER_MS;
    }
    withoutCopy ??= authorizerWith(undefined);
    return withoutCopy;
  }

  const origin = new OriginProofVerifier(
    secretsManagerOriginValues(
      new SecretsManagerClient({ region, maxAttempts: 3 }),
      requiredEnv(env, 'ORIGIN_SECRET_NAME'),
    ),
  );
  return requireOriginProof(origin, async (event) => (await currentAuthorizer())(event));
}

let authorizer: AuthorizerHandler | undefined;

export const handler: AuthorizerHandler = (event) => {
  authorizer ??= createAuthorizerHandler(process.env);
  return authorizer(event);
};
