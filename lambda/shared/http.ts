import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly field?: string };
}

export function json(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}

export function errorResponse(
  statusCode: number,
  code: string,
  message: string,
  field?: string,
): APIGatewayProxyStructuredResultV2 {
  const body: ErrorBody = { error: { code, message, ...(field ? { field } : {}) } };
  return json(statusCode, body);
}
