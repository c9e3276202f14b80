import type { APIGatewayProxyEventV2, APIGatewayRequestAuthorizerEventV2, Context } from 'aws-lambda';
import type { AuthorizerContext } from '../lambda/authorizer/token-authorizer';
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
  /** As the client sent it: bytes, or text already decoded. */
  readonly body?: string | Buffer;
  readonly sourceIp?: string;
}

/** Who the request's authorizer let through, as the function sees it. */
export type RequestIdentity =
  /** A JWT authorizer's verified claims (`requestContext.authorizer.jwt.claims`). */
  | VerifiedClaims
  /** A Lambda authorizer's context (`requestContext.authorizer.lambda`), as the regional APIs have. */
  | { readonly lambda: AuthorizerContext };

/**
 * The HTTP API payload (format 2.0) API Gateway builds for a Lambda integration, so the
 * handlers run locally exactly as in Lambda. Verified JWT claims arrive as strings, and
 * `cognito:groups` as the "[a b]" string HTTP APIs make of array claims; a Lambda
 * authorizer's context arrives as it returned it.
 */
export function apiGatewayEvent(
  request: IncomingRequest,
  match: RouteMatch,
  identity?: RequestIdentity,
): APIGatewayProxyEventV2 {
  const claims = identity && !isLambdaIdentity(identity) ? identity : undefined;
  const { sub, groups, ...rest } = claims ?? ({} as VerifiedClaims);
  const { cookie, ...headers } = request.headers;
  const binary = request.body !== undefined && !isTextMediaType(headers['content-type']);
  return {
    version: '2.0',
    routeKey: match.routeKey,
    rawPath: request.rawPath,
    rawQueryString: request.rawQueryString,
    ...cookiesOf(cookie),
    headers,
    ...queryStringParameters(request.rawQueryString),
    pathParameters: Object.keys(match.pathParameters).length ? { ...match.pathParameters } : undefined,
    body: binary ? bytesOf(request.body).toString('base64') : textOf(request.body),
    isBase64Encoded: binary,
    requestContext: {
      http: httpContext(request),
      routeKey: match.routeKey,
      stage: '$default',
      ...(identity && isLambdaIdentity(identity) ? { authorizer: { lambda: { ...identity.lambda } } } : {}),
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

function bytesOf(body: string | Buffer | undefined): Buffer {
  return typeof body === 'string' ? Buffer.from(body, 'utf8') : (body ?? Buffer.alloc(0));
}

function textOf(body: string | Buffer | undefined): string | undefined {
  return body === undefined || typeof body === 'string' ? body : body.toString('utf8');
}

/** Payload 2.0 moves the Cookie header to `cookies`, one entry per cookie; absent when there is none. */
function cookiesOf(cookie: string | undefined): { cookies?: string[] } {
  const cookies = (cookie ?? '').split(';').map((c) => c.trim());
  return cookie ? { cookies: cookies.filter(Boolean) } : {};
}

/**
 * Payload 2.0 (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html):
 * "Duplicate query strings are combined with commas and included in the queryStringParameters
 * field"; absent when the request has none.
 */
function queryStringParameters(rawQueryString: string): { queryStringParameters?: Record<string, string> } {
  const parameters: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(rawQueryString)) {
    parameters[name] = name in parameters ? `${parameters[name]},${value}` : value;
  }
  return Object.keys(parameters).length ? { queryStringParameters: parameters } : {};
}

/**
 * Whether API Gateway hands the body to the function as text. The same page: "If the content
 * type of the request is binary, the body is base64-encoded". It does not list which types are
 * text; observed on HTTP APIs: `text/*`, `application/json`, `application/xml` and
 * `application/javascript` only. Everything else, a missing Content-Type and
 * `application/x-www-form-urlencoded` included, arrives base64-encoded with `isBase64Encoded`.
 */
function isTextMediaType(contentType: string | undefined): boolean {
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
  return mediaType.startsWith('text/') || TEXT_APPLICATION_TYPES.has(mediaType);
}

const TEXT_APPLICATION_TYPES = new Set(['application/json', 'application/xml', 'application/javascript']);

/** `requestContext.http` of both events, as API Gateway fills it. */
function httpContext(request: IncomingRequest) {
  return {
    method: request.method.toUpperCase(),
    path: request.rawPath,
    protocol: 'HTTP/1.1',
    sourceIp: request.sourceIp ?? '127.0.0.1',
    userAgent: request.headers['user-agent'] ?? '',
  };
}

function isLambdaIdentity(identity: RequestIdentity): identity is { readonly lambda: AuthorizerContext } {
  const { sub, lambda } = identity as { sub?: unknown; lambda?: unknown };
  return sub === undefined && typeof lambda === 'object' && lambda !== null;
}

/**
 * The event API Gateway hands a Lambda authorizer (payload 2.0) for a request whose
 * identity sources are all present, with their values.
 */
export function authorizerEvent(
  request: IncomingRequest,
  match: RouteMatch,
  identitySource: readonly string[],
): APIGatewayRequestAuthorizerEventV2 {
  return {
    version: '2.0',
    type: 'REQUEST',
    routeArn: `arn:aws:execute-api:local:000000000000:local/$default/${match.routeKey.replace(' ', '')}`,
    identitySource: [...identitySource],
    routeKey: match.routeKey,
    rawPath: request.rawPath,
    rawQueryString: request.rawQueryString,
    cookies: [],
    headers: { ...request.headers },
    ...queryStringParameters(request.rawQueryString),
    pathParameters: { ...match.pathParameters },
    stageVariables: {},
    requestContext: {
      http: httpContext(request),
      routeKey: match.routeKey,
      stage: '$default',
    },
  } as unknown as APIGatewayRequestAuthorizerEventV2;
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
