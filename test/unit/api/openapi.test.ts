import { readFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { API_ROUTES } from '../../../lambda/shared/api-contract';
import { ERROR_CODES, openApiDocument } from '../../../lib/api/openapi-document';
import { OPENAPI_FILE, openApiText } from '../../../scripts/generate-openapi';

// docs/openapi.json is generated from the route table and the input schemas: it must be
// what the script writes now, name every route, and hold schemas a validator compiles.

test('docs/openapi.json is what scripts/generate-openapi.ts writes (run it after changing the contract)', () => {
  expect(readFileSync(OPENAPI_FILE, 'utf8')).toBe(openApiText());
});

test('every route of the contract is an operation, with its body schema where it takes one', () => {
  const document = openApiDocument();
  for (const route of API_ROUTES) {
    const operation = (document.paths[route.path] as Record<string, any>)[route.method.toLowerCase()];
    expect(operation).toBeDefined();
    expect(Object.keys(operation.responses)).toContain('default');
    expect(operation.security === undefined).toBe(!route.public);
  }
  const order = (document.paths['/api/orders'] as Record<string, any>).post;
  expect(order.requestBody.content['application/json'].schema.properties.lines.items.properties.quantity).toEqual({
    type: 'integer',
    minimum: 1,
    maximum: 99,
  });
  expect(order.parameters).toContainEqual(expect.objectContaining({ name: 'Idempotency-Key', required: true }));
});

test('every schema compiles, and the error envelope takes only the documented codes', () => {
  const document = openApiDocument();
  const ajv = new Ajv2020({ strict: false });
  addFormats(ajv);
  const error = ajv.compile({ $ref: '#/components/schemas/Error', components: document.components });
  expect(error({ error: { code: 'INVALID_INPUT', message: 'quantity is required', field: 'quantity' } })).toBe(true);
  expect(error({ error: { code: 'NOT_A_CODE', message: 'x' } })).toBe(false);
  expect(error({ message: 'Forbidden' })).toBe(false);
  expect(ERROR_CODES).toContain('PRODUCT_NOT_FOUND');
});
