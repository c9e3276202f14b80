import { KMSClient } from '@aws-sdk/client-kms';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { Jwks } from 'aws-jwt-verify/jwk';
import type { APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { jurisdictionDirectoryFrom } from '../residency/jurisdiction-guard';
import { requiredEnv } from '../shared/environment';
import { logger } from '../shared/observability';
import { verifiedCopy } from '../signing-keys/signed-copy';
import { keysUnavailable, parseJwks, poolVerifier } from './pool-verifier';
import { createTokenAuthorizer } from './token-authorizer';

const parameterName = requiredEnv(process.env, 'SIGNING_KEYS_PARAMETER');
/** A failed read of the copy is tried again after this long, not at every request. */
const RETRY_COPY_AFTER_MS = 30_000;
const copyKeyId = requiredEnv(process.env, 'SIGNING_KEYS_COPY_KEY');
const ssm = new SSMClient({ maxAttempts: 3 });
const kms = new KMSClient({ maxAttempts: 3 });

type Authorizer = ReturnType<typeof createTokenAuthorizer>;

/**
 * The pool's keys from this region's copy (SSM, in this region): no call to the pool's
 * region, which may be down. Undefined when the copy cannot be read (throttled, missing,
 * not a JWKS).
 */
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

function authorizerWith(keys: Jwks | undefined): Authorizer {
  return createTokenAuthorizer({
    verifier: poolVerifier({
      userPoolId: requiredEnv(process.env, 'USER_POOL_ID'),
      clientId: requiredEnv(process.env, 'USER_POOL_CLIENT_ID'),
      regionalKeys: keys,
    }),
    jurisdiction: requiredEnv(process.env, 'JURISDICTION'),
    directory: jurisdictionDirectoryFrom(process.env),
    isUnavailable: keysUnavailable,
  });
}

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

export const handler = async (event: APIGatewayRequestAuthorizerEventV2) => (await currentAuthorizer())(event);
