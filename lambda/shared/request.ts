import type { APIGatewayProxyEventV2, APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import { type Checked, MAX_BODY_BYTES } from '../domain/input';
import { ApiError } from './api-error';

export type ApiEvent = APIGatewayProxyEventV2 | APIGatewayProxyEventV2WithJWTAuthorizer;

/** The signed-in user, from the claims API Gateway's JWT authorizer verified. */
export interface Caller {
  readonly userId: string;
  readonly groups: readonly string[];
}

/** Identity comes from verified token claims only, never from the request body. */
export function callerOf(event: ApiEvent): Caller {
  const claims = verifiedClaims(event);
  const userId = claims?.sub;
  if (typeof userId !== 'string' || userId === '') {
    throw new ApiError(401, 'UNAUTHENTICATED', 'Sign in first: this route needs a valid token.', {
      field: 'authorization',
    });
  }
  return { userId, groups: groupsOf(claims?.['cognito:groups']) };
}

/** Claims from API Gateway's JWT authorizer, or the context of the platform's token authorizer. */
export function verifiedClaims(event: ApiEvent): Record<string, unknown> | undefined {
  const authorizer = (
    event.requestContext as {
      authorizer?: { jwt?: { claims?: Record<string, unknown> }; lambda?: Record<string, unknown> };
    }
  ).authorizer;
  return authorizer?.lambda ?? authorizer?.jwt?.claims;
}

// HTTP APIs pass array claims as "[a b]" strings; a local gateway may pass arrays.
function groupsOf(claim: unknown): string[] {
  if (Array.isArray(claim)) return claim.map(String);
  if (typeof claim !== 'string') return [];
  return claim
    .replace(/^\[|\]$/g, '')
    .split(/[\s,]+/)
    .filter(Boolean);
}

/**
 * The request body as JSON: refuses oversized bodies, other media types and malformed
 * JSON with a 4xx naming `body` (or `content-type`). An absent body reads as `undefined`.
 */
export function jsonBody(event: ApiEvent): unknown {
  if (event.body === undefined || event.body === null || event.body === '') return undefined;
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  if (Buffer.byteLength(text, 'utf8') > MAX_BODY_BYTES) {
    throw new ApiError(413, 'BODY_TOO_LARGE', `body must be at most ${MAX_BODY_BYTES} bytes`, { field: 'body' });
  }
  if (!isJsonMediaType(header(event, 'content-type'))) {
    throw new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'content-type must be application/json for a JSON body', {
      field: 'content-type',
    });
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(400, 'MALFORMED_JSON', 'body is not valid JSON', { field: 'body' });
  }
}

/**
 * `application/json` or a `+json` type, parameters aside. Absent is refused: a body must say
 * what it is. Repeated headers arrive joined with commas (as API Gateway joins them), which
 * no single media type matches.
 */
function isJsonMediaType(contentType: string | undefined): boolean {
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
  return /^application\/([a-z0-9.-]+\+)?json$/.test(mediaType);
}

export function header(event: ApiEvent, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted) return value;
  }
  return undefined;
}

export function pathParameter(event: ApiEvent, name: string): string | undefined {
  return event.pathParameters?.[name];
}

/** The value of a check, or a 400 naming the field. */
export function valid<T>(checked: Checked<T>): T {
  if (checked.ok) return checked.value;
  throw new ApiError(400, 'INVALID_INPUT', checked.problem.message, { field: checked.problem.field });
}

/** Routes that take no body accept none: any body, `{}` included, is refused. */
export function requireNoBody(event: ApiEvent): void {
  if (event.body === undefined || event.body === null || event.body === '') return;
  throw new ApiError(400, 'INVALID_INPUT', 'body must be empty: this route takes no body', { field: 'body' });
}
