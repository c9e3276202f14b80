import { CognitoJwtVerifier } from 'aws-jwt-verify';
import { FetchError, JwksNotAvailableInCacheError } from 'aws-jwt-verify/error';
import { jurisdictionDirectoryFrom } from '../residency/jurisdiction-guard';
import { requiredEnv } from '../shared/environment';
import { createTokenAuthorizer } from './token-authorizer';

// aws-jwt-verify fetches and caches the pool's JWKS; one verifier per cold start.
const verifier = CognitoJwtVerifier.create({
  userPoolId: requiredEnv(process.env, 'USER_POOL_ID'),
  clientId: requiredEnv(process.env, 'USER_POOL_CLIENT_ID'),
  tokenUse: null,
});

export const handler = createTokenAuthorizer({
  verifier,
  jurisdiction: requiredEnv(process.env, 'JURISDICTION'),
  directory: jurisdictionDirectoryFrom(process.env),
  isUnavailable: (error) => error instanceof FetchError || error instanceof JwksNotAvailableInCacheError,
});
