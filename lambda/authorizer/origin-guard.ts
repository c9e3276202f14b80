import type { APIGatewayRequestAuthorizerEventV2, APIGatewaySimpleAuthorizerWithContextResult } from 'aws-lambda';
import { API_ROUTES, ORIGIN_PROOF_HEADER, routeKeyOf } from '../shared/api-contract';
import type { OriginProofVerifier } from './origin-proof';
import type { AuthorizerContext } from './token-authorizer';

export type RequestAuthorizer = (
  event: APIGatewayRequestAuthorizerEventV2,
) => Promise<APIGatewaySimpleAuthorizerWithContextResult<AuthorizerContext>>;

const PUBLIC_ROUTE_KEYS = new Set(API_ROUTES.filter((r) => r.public).map(routeKeyOf));

/**
 * The proof of origin before anything else: a request that did not come through CloudFront
 * (or from the platform's own callers) is refused before a token is looked at or a function
 * runs. A public route needs nothing more; any other route then needs `tokenAuthorizer`'s yes.
 */
export function requireOriginProof(
  verifier: Pick<OriginProofVerifier, 'verify'>,
  tokenAuthorizer: RequestAuthorizer,
): RequestAuthorizer {
  return async (event) => {
    if (!(await verifier.verify(event.headers?.[ORIGIN_PROOF_HEADER]))) return { isAuthorized: false, context: {} };
    if (PUBLIC_ROUTE_KEYS.has(event.routeKey)) return { isAuthorized: true, context: {} };
    return tokenAuthorizer(event);
  };
}
