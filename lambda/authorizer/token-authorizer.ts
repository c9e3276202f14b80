import type { APIGatewayRequestAuthorizerEventV2, APIGatewaySimpleAuthorizerWithContextResult } from 'aws-lambda';
import { homeJurisdictionOf, type JurisdictionDirectory } from '../residency/jurisdiction-guard';

/** What the functions see as `requestContext.authorizer.lambda`. */
export interface AuthorizerContext {
  readonly [key: string]: string;
}

export interface TokenVerifier {
  /** Resolves with the verified claims, or rejects. */
  verify(token: string): Promise<Record<string, unknown>>;
}

export interface TokenAuthorizerProps {
  /** Verifies tokens of this jurisdiction's user pool (signature, expiry, issuer, client). */
  readonly verifier: TokenVerifier;
  readonly jurisdiction: string;
  readonly directory: JurisdictionDirectory;
  /** Whether a verification error means the keys could not be fetched (rethrown, never cached). */
  readonly isUnavailable?: (error: unknown) => boolean;
}

/**
 * The regional API's authorizer. Tokens of this jurisdiction's pool are verified and
 * their claims passed on. A token whose issuer is another jurisdiction's pool is let
 * through with nothing but that issuer, so the function's residency guard can refuse it
 * by name (421 with the user's own API) before any store is touched; API Gateway's JWT
 * authorizer, which trusts one issuer, could only answer an anonymous 401. Anything else
 * is unauthorized.
 */
export function createTokenAuthorizer(props: TokenAuthorizerProps) {
  return async (
    event: APIGatewayRequestAuthorizerEventV2,
  ): Promise<APIGatewaySimpleAuthorizerWithContextResult<AuthorizerContext>> => {
    const token = /^Bearer\s+(\S+)$/i.exec(event.headers?.authorization ?? '')?.[1];
    if (!token) return { isAuthorized: false, context: {} };
    try {
      const claims = await props.verifier.verify(token);
      const groups = claims['cognito:groups'];
      return {
        isAuthorized: true,
        context: {
          sub: String(claims.sub),
          iss: String(claims.iss),
          'cognito:groups': Array.isArray(groups) ? `[${groups.join(' ')}]` : '',
        },
      };
    } catch (error) {
      // The pool's keys could not be fetched: an outage, not a bad token. Failing the
      // invocation (API Gateway answers 500) keeps a denial from being cached for 5 minutes.
      if (props.isUnavailable?.(error)) throw error;
      const issuer = unverifiedIssuer(token);
      const home = homeJurisdictionOf(issuer, props.directory);
      if (home && home !== props.jurisdiction) return { isAuthorized: true, context: { iss: issuer as string } };
      return { isAuthorized: false, context: {} };
    }
  };
}

function unverifiedIssuer(token: string): string | undefined {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
    return typeof payload?.iss === 'string' ? payload.iss : undefined;
  } catch {
    return undefined;
  }
}
