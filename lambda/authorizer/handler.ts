import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { Jwks } from 'aws-jwt-verify/jwk';
import { jurisdictionDirectoryFrom } from '../residency/jurisdiction-guard';
import { requiredEnv } from '../shared/environment';
import { logger } from '../shared/observability';
import { keysUnavailable, parseJwks, poolVerifier } from './pool-verifier';
import { createTokenAuthorizer } from './token-authorizer';

const parameterName = requiredEnv(process.env, 'SIGNING_KEYS_PARAMETER');

/**
 * The pool's keys from this region's copy (SSM, in this region): no call to the pool's
 * region, which may be down. Without a copy the verifier fetches the JWKS from the pool's
 * region on first use, as it did before copies existed.
 */
async function regionalKeys(): Promise<Jwks | undefined> {
  try {
    const answer = await new SSMClient({}).send(new GetParameterCommand({ Name: parameterName }));
    return parseJwks(answer.Parameter?.Value ?? '', `parameter ${parameterName}`);
  } catch (error) {
    logger.warn("no regional copy of the pool's signing keys; fetching them from the pool's region", {
      parameterName,
      reason: (error as Error).message,
    });
    return undefined;
  }
}

// One verifier per cold start, with the keys loaded once.
const authorizer = regionalKeys().then((keys) =>
  createTokenAuthorizer({
    verifier: poolVerifier({
      userPoolId: requiredEnv(process.env, 'USER_POOL_ID'),
      clientId: requiredEnv(process.env, 'USER_POOL_CLIENT_ID'),
      regionalKeys: keys,
    }),
    jurisdiction: requiredEnv(process.env, 'JURISDICTION'),
    directory: jurisdictionDirectoryFrom(process.env),
    isUnavailable: keysUnavailable,
  }),
);

export const handler: Awaited<typeof authorizer> = async (event) => (await authorizer)(event);
