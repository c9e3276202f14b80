import { CognitoJwtVerifier } from 'aws-jwt-verify';
import { FetchError, JwksNotAvailableInCacheError } from 'aws-jwt-verify/error';
import { type Fetcher, SimpleFetcher } from 'aws-jwt-verify/https';
import { assertIsJwks, type Jwks, SimpleJwksCache } from 'aws-jwt-verify/jwk';
import type { TokenVerifier } from './token-authorizer';

export interface PoolVerifierOptions {
  readonly userPoolId: string;
  readonly clientId: string;
  /**
   * The pool's signing keys as held in this region (copied there ahead of time), so that
   * tokens verify with no call to the pool's region. A token signed with a key not in the
   * copy makes the verifier fetch the pool's JWKS from its region, once.
   * @default none: the first verification fetches the JWKS from the pool's region
   */
  readonly regionalKeys?: Jwks;
  /**
   * How the JWKS is fetched when it must be (tests and the local platform point it at a
   * local issuer).
   * @default aws-jwt-verify's HTTPS fetcher
   */
  readonly fetcher?: Fetcher;
  /**
   * After a failed fetch of the JWKS, how long further fetches fail at once.
   * @default FETCH_FAILURE_HOLD_MS (30 s)
   */
  readonly fetchFailureHoldMs?: number;
}

/** The JWKS URI aws-jwt-verify derives for a pool: its key in the verifier's cache. */
export function jwksUriOf(userPoolId: string): string {
  const region = userPoolId.split('_')[0];
  return `https://cognito-idp.${region}.amazonaws.com/${userPoolId}/.well-known/jwks.json`;
}

/**
 * A verifier of one pool's ID and access tokens (signature, expiry, issuer, client), with
 * the region's copy of the pool's keys loaded into aws-jwt-verify's cache.
 */
export function poolVerifier(options: PoolVerifierOptions): TokenVerifier {
  const jwksCache = new SimpleJwksCache({
    fetcher: failingFast(
      asFetchErrors(options.fetcher ?? new SimpleFetcher()),
      options.fetchFailureHoldMs ?? FETCH_FAILURE_HOLD_MS,
    ),
  });
  const verifier = CognitoJwtVerifier.create(
    { userPoolId: options.userPoolId, clientId: options.clientId, tokenUse: null },
    { jwksCache },
  );
  if (options.regionalKeys) verifier.cacheJwks(options.regionalKeys);
  return verifier;
}

/** A fetcher whose failures are `FetchError`s, as aws-jwt-verify's own fetcher's are, so `keysUnavailable` knows them. */
function asFetchErrors(fetcher: Fetcher): Fetcher {
  return {
    fetch: async (uri, requestOptions, data) => {
      try {
        return await fetcher.fetch(uri, requestOptions, data);
      } catch (error) {
        throw error instanceof FetchError ? error : new FetchError(uri, (error as Error).message);
      }
    },
  };
}

/** After a failed fetch of a JWKS, how long further fetches of it fail at once. */
export const FETCH_FAILURE_HOLD_MS = 30_000;

/**
 * A fetcher that, after a failure, fails at once for `holdMs`: aws-jwt-verify
 * backs off only after a fetch that succeeded without the key, so with the pool's region
 * down every token of an unknown key (anyone can make one) would wait out a fetch.
 */
function failingFast(fetcher: Fetcher, holdMs: number, now: () => number = Date.now): Fetcher {
  const failedAt = new Map<string, number>();
  return {
    fetch: async (uri, requestOptions, data) => {
      const failed = failedAt.get(uri);
      if (failed !== undefined && now() - failed < holdMs) {
        throw new FetchError(uri, 'the last fetch failed moments ago');
      }
      try {
        const answer = await fetcher.fetch(uri, requestOptions, data);
        failedAt.delete(uri);
        return answer;
      } catch (error) {
        failedAt.set(uri, now());
        throw error;
      }
    },
  };
}

/** Parses a JWKS held as text (an SSM parameter, a file), naming what is wrong. */
export function parseJwks(text: string, source: string): Jwks {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`${source} is not JSON`);
  }
  try {
    assertIsJwks(value as Parameters<typeof assertIsJwks>[0]);
  } catch (error) {
    throw new Error(`${source} is not a JWKS: ${(error as Error).message}`);
  }
  return value as Jwks;
}

/** The keys could not be had: an outage, not a bad token. */
export function keysUnavailable(error: unknown): boolean {
  return error instanceof FetchError || error instanceof JwksNotAvailableInCacheError;
}
