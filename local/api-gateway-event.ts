import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import type { RouteMatch } from '../lambda/shared/api-contract';

/** Claims of a verified token, as API Gateway's JWT authorizer hands them to the function. */
export interface VerifiedClaims {
  readonly sub: string;
  readonly groups?: readonly string[];
  readonly [claim: string]: unknown;
}

export interface IncomingRequest {
  readonly method: string;
  readonly rawPath: string;
  readonly rawQueryString: string;
  /** Lower-case header names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly sourceIp?: string;
}

/**
 * The HTTP API payload (format 2.0) API Gateway builds for a Lambda integration, so the
 * handlers run locally exactly as in Lambda; `cognito:groups` arrives as the "[a b]"
 * string HTTP APIs make of array claims.
 */
export function apiGatewayEvent(
  request: IncomingRequest,
  match: RouteMatch,
  claims?: VerifiedClaims,
): APIGatewayProxyEventV2 {
  const { sub, groups, ...rest } = claims ?? ({} as VerifiedClaims);
  return {
    version: '2.0',
    routeKey: match.routeKey,
    rawPath: request.rawPath,
    rawQueryString: request.rawQueryString,
    headers: { ...request.headers },
    pathParameters: Object.keys(match.pathParameters).length ? { ...match.pathParameters } : undefined,
    body: request.body,
    isBase64Encoded: false,
    requestContext: {
      http: {
        method: request.method.toUpperCase(),
        path: request.rawPath,
        protocol: 'HTTP/1.1',
        sourceIp: request.sourceIp ?? '127.0.0.1',
        userAgent: request.headers['user-agent'] ?? '',
      },
      routeKey: match.routeKey,
      stage: '$default',
      ...(claims
        ? {
            authorizer: {
              jwt: {
                claims: {
                  ...Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, String(v)])),
                  sub,
                  ...(groups?.length ? { 'cognito:groups': `[${groups.join(' ')}]` } : {}),
                },
                scopes: [],
              },
            },
          }
        : {}),
    },
  } as unknown as APIGatewayProxyEventV2;
}

let invocations = 0;

/** The parts of a Lambda context the handlers read, with a 10 s deadline like the functions'. */
export function lambdaContext(functionName: string, timeoutMs = 10_000): Partial<Context> {
  const started = Date.now();
  return {
    awsRequestId: `local-${++invocations}`,
    functionName,
    getRemainingTimeInMillis: () => Math.max(0, timeoutMs - (Date.now() - started)),
  };
}
