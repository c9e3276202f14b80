import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { cartAddSchema, checkInput, profileUpdateSchema } from '../../../lambda/domain/input';
import { planOrder } from '../../../lambda/domain/order-plan';
import { ApiError } from '../../../lambda/shared/api-error';
import { jsonBody, requireNoBody } from '../../../lambda/shared/request';

// What a client is told when its input is refused: the field, the type it must be and what
// was sent; an unknown SKU as such; a body's media type required and exact.

const problemOf = (schema: Parameters<typeof checkInput>[0], input: unknown) => {
  const checked = checkInput(schema, input);
  if (checked.ok) throw new Error('the input passed');
  return checked.problem;
};

test.each([
  [1.5, 'quantity must be an integer, not the number 1.5'],
  ['1', 'quantity must be an integer, not a string'],
  [true, 'quantity must be an integer, not true'],
  [JSON.parse('1e400'), 'quantity must be an integer, not a number too large for JSON'],
  [null, 'quantity must be an integer, not null'],
  [undefined, 'quantity is required'],
])('a quantity of %j is named with the type it must be', (quantity, message) => {
  expect(problemOf(cartAddSchema, { sku: 'MUG', quantity })).toEqual({ field: 'quantity', message });
});

test('a preference of the wrong type names its key and type, not "required"', () => {
  expect(problemOf(profileUpdateSchema, { displayName: 'A', preferences: { theme: 1 } })).toEqual({
    field: 'preferences.theme',
    message: 'preferences.theme must be a string, not the number 1',
  });
});

test('an order naming unknown SKUs is planned as unknown, by line, before any shortage', () => {
  const plan = planOrder(
    {
      lines: [
        { sku: 'MUG', quantity: 9 },
        { sku: 'GHOST', quantity: 1 },
      ],
    },
    [{ sku: 'MUG', quantity: 1, priceCents: 100, currency: 'EUR' }],
  );
  expect(plan).toEqual({ kind: 'unknown', lines: [{ index: 1, sku: 'GHOST' }] });
});

const event = (body: string | undefined, headers: Record<string, string> = {}) =>
  ({ body, headers, isBase64Encoded: false }) as unknown as APIGatewayProxyEventV2;

const refusal = (act: () => unknown) => {
  try {
    act();
  } catch (error) {
    if (error instanceof ApiError) return [error.statusCode, error.code];
    throw error;
  }
  throw new Error('accepted');
};

test.each([
  [undefined],
  ['text/plain'],
  ['application/json,text/plain'],
  ['text/plain,application/json'],
  ['application/jsonp'],
])('a JSON body with content-type %j is refused 415', (contentType) => {
  const headers: Record<string, string> = contentType ? { 'content-type': contentType } : {};
  expect(refusal(() => jsonBody(event('{"a":1}', headers)))).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
});

test.each([['application/json'], ['application/json; charset=utf-8'], ['application/merge-patch+json']])(
  'a JSON body with content-type %j is read',
  (contentType) => {
    expect(jsonBody(event('{"a":1}', { 'content-type': contentType }))).toEqual({ a: 1 });
  },
);

test('a route without a body refuses any body, `{}` included', () => {
  expect(() => requireNoBody(event(undefined))).not.toThrow();
  expect(refusal(() => requireNoBody(event('{}', { 'content-type': 'application/json' })))).toEqual([
    400,
    'INVALID_INPUT',
  ]);
});
