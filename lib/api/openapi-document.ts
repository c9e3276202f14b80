import * as z from 'zod/mini';
import {
  cartAddSchema,
  IDEMPOTENCY_KEY_PATTERN,
  MAX_BODY_BYTES,
  orderRequestSchema,
  productUpdateSchema,
  profileUpdateSchema,
  SKU_PATTERN,
} from '../../lambda/domain/input';
import { API_ROUTES, type ApiRoute, routeKeyOf } from '../../lambda/shared/api-contract';

/*
 * The API's OpenAPI 3.1 description, built from the route table (`api-contract.ts`) and the
 * input schemas (`input.ts`) the handlers check bodies with; `scripts/generate-openapi.ts`
 * writes it to docs/openapi.json. The answers' shapes are written here once; the tests
 * validate every answer they receive against them, so neither side can drift.
 */

/** Every code the functions put in an error body. */
export const ERROR_CODES = [
  'INVALID_INPUT',
  'MALFORMED_JSON',
  'UNAUTHENTICATED',
  'PAYMENT_DECLINED',
  'FORBIDDEN',
  'PRODUCT_NOT_FOUND',
  'PROFILE_NOT_FOUND',
  'ORDER_NOT_FOUND',
  'INSUFFICIENT_STOCK',
  'PROFILE_CONTENDED',
  'CART_CONTENDED',
  'REQUEST_IN_PROGRESS',
  'BODY_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'WRONG_JURISDICTION',
  'IDEMPOTENCY_KEY_REUSED',
  'MIXED_CURRENCIES',
  'INTERNAL',
  'NOT_FOUND',
  'STRONG_STORE_UNAVAILABLE',
  'STRONG_STORE_BUSY',
  'PAYMENT_UNAVAILABLE',
  'PAYMENT_OUTCOME_UNKNOWN',
] as const;

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const integer = (minimum?: number) => ({ type: 'integer', ...(minimum === undefined ? {} : { minimum }) });
const text = { type: 'string' };
const closed = (properties: Record<string, unknown>, optional: readonly string[] = []) => ({
  type: 'object',
  properties,
  required: Object.keys(properties).filter((name) => !optional.includes(name)),
  additionalProperties: false,
});

const line = closed({ sku: text, quantity: integer(1) });
const check = closed({ status: { enum: ['ok', 'unavailable'] }, latencyMs: integer(0) });

const SCHEMAS = {
  Error: closed({
    error: {
      type: 'object',
      properties: {
        code: { enum: ERROR_CODES },
        message: text,
        field: text,
        shortages: { type: 'array', items: closed({ sku: text, requested: integer(1), available: integer(0) }) },
        homeJurisdiction: { ...text, description: 'With WRONG_JURISDICTION: the jurisdiction the token belongs to.' },
      },
      required: ['code', 'message'],
      additionalProperties: false,
    },
  }),
  GatewayError: closed({ message: text }),
  Product: closed(
    {
      sku: text,
      name: text,
      description: text,
      priceCents: integer(0),
      currency: text,
      stock: { type: ['integer', 'null'], minimum: 0 },
      likes: integer(0),
    },
    ['description'],
  ),
  Likes: closed({ sku: text, likes: integer(0) }),
  Profile: closed(
    {
      displayName: text,
      preferences: { type: 'object', additionalProperties: text },
      version: integer(1),
      updatedAt: { type: 'string', format: 'date-time' },
      updatedIn: text,
    },
    ['preferences'],
  ),
  Cart: closed({ items: { type: 'array', items: line } }),
  Order: closed({
    id: { type: 'string', format: 'uuid' },
    status: { const: 'paid' },
    lines: { type: 'array', items: closed({ sku: text, quantity: integer(1), unitPriceCents: integer(0) }) },
    totalCents: integer(0),
    currency: text,
    placedIn: text,
    createdAt: { type: 'string', format: 'date-time' },
    captureId: text,
  }),
  Health: closed({
    region: text,
    jurisdiction: text,
    mode: { enum: ['read-write', 'read-only'] },
    checks: closed({
      eventualStore: check,
      cache: check,
      strongStore: closed(
        { ...check.properties, writable: { type: 'boolean' }, writerHeartbeatAgeMs: { type: 'number', minimum: 0 } },
        ['writable', 'writerHeartbeatAgeMs'],
      ),
    }),
    checkedAt: { type: 'string', format: 'date-time' },
  }),
  WriterHealth: closed({
    region: text,
    jurisdiction: text,
    writer: { type: 'boolean' },
    checkedAt: { type: 'string', format: 'date-time' },
  }),
};

/** What each route answers when it succeeds: status and body schema. */
const SUCCESS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'GET /api/health': { '200': 'Health' },
  'GET /api/health/writer': { '200': 'WriterHealth' },
  'GET /api/products/{sku}': { '200': 'Product' },
  'PUT /api/products/{sku}': { '200': 'Product' },
  'POST /api/products/{sku}/likes': { '200': 'Likes' },
  'GET /api/products/{sku}/likes': { '200': 'Likes' },
  'GET /api/me/profile': { '200': 'Profile' },
  'PUT /api/me/profile': { '200': 'Profile' },
  'GET /api/me/cart': { '200': 'Cart' },
  'POST /api/me/cart/items': { '200': 'Cart' },
  'DELETE /api/me/cart/items/{sku}': { '200': 'Cart' },
  'POST /api/orders': { '201': 'Order' },
  'GET /api/orders/{id}': { '200': 'Order' },
};

/** The error statuses each kind of route answers (docs/api.md#errors), beyond any route's 5xx. */
function errorStatuses(route: ApiRoute, key: string): Record<string, string> {
  const statuses: Record<string, string> = { '503': 'A store or the card processor is unavailable (`Retry-After`).' };
  if (!route.public) {
    Object.assign(statuses, {
      '401': 'No token (API Gateway) or no identity in it.',
      '403': 'A token the authorizer refuses (API Gateway), or a route for the admin group only.',
      '421': 'A token of another jurisdiction: the message names its API host.',
    });
  }
  if (route.path.includes('{')) statuses['400'] = 'A path parameter out of its shape, named in `field`.';
  if (BODIES[key]) {
    Object.assign(statuses, {
      '400': 'A field out of its shape (named in `field`), or a body that is not JSON.',
      '413': 'A body over the limit.',
      '415': 'A body without a JSON media type.',
    });
  }
  if (route.method === 'GET' && route.path !== '/api/health' && !route.writerOnly)
    statuses['404'] = 'No such resource.';
  const specific: Record<string, Record<string, string>> = {
    'POST /api/orders': {
      '402': 'The payment was declined.',
      '404': 'A line names a SKU the catalog does not have.',
      '409': 'Not enough stock (`shortages`), or the key is still in flight.',
      '422': 'The key was used for another order, or the lines take more than one currency.',
    },
    'GET /api/health': {
      '503': "The region's DynamoDB does not answer (a `Health` body), or the region is down (API Gateway's).",
    },
    'POST /api/products/{sku}/likes': {
      '400': 'A body was sent, or a bad Idempotency-Key.',
      '404': 'No such product.',
      '409': 'The same key is still being recorded.',
    },
    'DELETE /api/me/cart/items/{sku}': {
      '400': 'A body was sent, or the SKU is out of its shape.',
      '409': 'The line kept changing.',
    },
    'PUT /api/me/profile': { '409': 'The profile kept changing while saving.' },
    'POST /api/me/cart/items': { '404': 'No such product.', '409': 'The line kept changing while saving.' },
  };
  return { ...statuses, ...specific[key] };
}

const errorContent = { 'application/json': { schema: { oneOf: [ref('Error'), ref('GatewayError')] } } };
/** The health route's 503 is its report (DynamoDB down) or API Gateway's (region down). */
const healthUnavailable = { 'application/json': { schema: { oneOf: [ref('Health'), ref('GatewayError')] } } };

/** Response headers clients act on: when to retry, and whether the page came from the cache. */
const RETRY_AFTER = { 'Retry-After': { description: 'Seconds to wait before retrying.', schema: integer(1) } };
const X_CACHE = {
  'x-cache': { description: "Whether the region's cache served the page.", schema: { enum: ['hit', 'miss'] } },
};

/** Routes answered from the region's cache when it has the page. */
const CACHED = new Set(['GET /api/products/{sku}', 'GET /api/products/{sku}/likes']);

const BODIES: Readonly<Record<string, z.ZodMiniType>> = {
  'PUT /api/products/{sku}': productUpdateSchema,
  'PUT /api/me/profile': profileUpdateSchema,
  'POST /api/me/cart/items': cartAddSchema,
  'POST /api/orders': orderRequestSchema,
};

const PARAMETERS: Readonly<Record<string, Record<string, unknown>>> = {
  sku: { name: 'sku', in: 'path', required: true, schema: { type: 'string', pattern: SKU_PATTERN.source } },
  id: { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } },
};

const idempotencyKey = (required: boolean) => ({
  name: 'Idempotency-Key',
  in: 'header',
  required,
  schema: { type: 'string', pattern: IDEMPOTENCY_KEY_PATTERN.source },
});

function operation(route: ApiRoute) {
  const key = routeKeyOf(route);
  const body = BODIES[key];
  const success = SUCCESS[key];
  if (!success) throw new Error(`openapi: no success response for ${key}`);
  const headers =
    key === 'POST /api/orders'
      ? [idempotencyKey(true)]
      : key === 'POST /api/products/{sku}/likes'
        ? [idempotencyKey(false)]
        : [];
  return {
    operationId: `${route.method.toLowerCase()}${route.path.replace(/[{}]/g, '').replace(/\/(\w)/g, (_: string, c: string) => c.toUpperCase())}`,
    tags: [route.domain],
    ...(route.public ? { security: [] } : {}),
    parameters: [...[...route.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => PARAMETERS[name as string]), ...headers],
    ...(body
      ? {
          requestBody: {
            required: true,
            description: `JSON, at most ${MAX_BODY_BYTES} bytes; sent without a JSON content type it is refused 415.`,
            content: { 'application/json': { schema: z.toJSONSchema(body, { target: 'draft-2020-12', io: 'input' }) } },
          },
        }
      : {}),
    responses: {
      ...Object.fromEntries(
        Object.entries(success).map(([status, schema]) => [
          status,
          {
            description: schema,
            ...(CACHED.has(key) ? { headers: X_CACHE } : {}),
            content: { 'application/json': { schema: ref(schema) } },
          },
        ]),
      ),
      ...Object.fromEntries(
        Object.entries(errorStatuses(route, key))
          .filter(([status]) => !success[status])
          .map(([status, description]) => [
            status,
            {
              description,
              ...(status === '503' ? { headers: RETRY_AFTER } : {}),
              content: key === 'GET /api/health' && status === '503' ? healthUnavailable : errorContent,
            },
          ]),
      ),
      default: {
        description:
          "Any other error: the functions' envelope, or API Gateway's own `{message}` (docs/api.md#the-gateways-own-answers).",
        content: errorContent,
      },
    },
  };
}

/** The OpenAPI 3.1 document of the regional API, for the site served at `apiHostname`. */
export function openApiDocument(apiHostname = 'api.shop.example.com') {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of API_ROUTES) {
    const path = paths[route.path] ?? {};
    paths[route.path] = path;
    path[route.method.toLowerCase()] = operation(route);
    if (route.writerOnly)
      path.servers = [
        {
          url: 'https://writer.{jurisdiction}.api.shop.example.com',
          variables: { jurisdiction: { default: 'global' } },
        },
      ];
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Commerce regional API',
      version: '1',
      description: 'Every region serves this API; see docs/api.md for the routes, limits and errors.',
    },
    servers: [{ url: `https://${apiHostname}` }],
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: SCHEMAS,
    },
  };
}
