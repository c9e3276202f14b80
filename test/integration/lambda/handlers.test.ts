import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ProductCache } from '../../../lambda/cache/product-cache';
import { healthReport } from '../../../lambda/health/report';
import { API_DOMAINS } from '../../../lambda/shared/api-contract';
import { closeAllConnections } from '../../../lambda/shared/connections';
import { regionContextFrom } from '../../../lambda/shared/region-context';
import { EventualStore } from '../../../lambda/stores/eventual-store';
import { StrongStore } from '../../../lambda/stores/strong-store';
import { createEventualTable } from '../../../local/eventual-table';
import { type Engines, startEngines } from '../../support/local-jurisdiction';

// The handler modules exactly as Lambda loads them, configured only by their environment,
// talking to real engines.
let engines: Engines;
const context = { region: 'eu-west-1', jurisdiction: 'eu', primaryRegion: 'eu-west-1' };

beforeAll(async () => {
  engines = await startEngines();
  const database = await engines.postgres.createDatabase('commerce');
  Object.assign(process.env, {
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    JURISDICTION: 'eu',
    PRIMARY_REGION: 'eu-west-1',
    EVENTUAL_TABLE: 'Commerce-eu-eventual',
    DYNAMODB_ENDPOINT: engines.dynamo.endpoint,
    CACHE_ENDPOINT: `${engines.valkey.host}:${engines.valkey.port}`,
    CACHE_SERVERLESS: 'false',
    DB_PROXY_ENDPOINT: engines.postgres.host,
    DB_PORT: String(engines.postgres.port),
    DB_NAME: database,
    DB_USER: engines.postgres.user,
    DB_PASSWORD: engines.postgres.password,
    DB_TLS: 'false',
  });
  await createEventualTable(new DynamoDBClient({ endpoint: engines.dynamo.endpoint }), 'Commerce-eu-eventual');
  const strong = StrongStore.fromEnvironment(process.env);
  await strong.migrate();
  await strong.close();
});

afterAll(async () => {
  await closeAllConnections();
  await engines?.close();
});

const invoke = async (domain: string, routeKey: string, extra: Partial<APIGatewayProxyEventV2> = {}) => {
  const { handler } = require(`../../../lambda/${domain}/handler`);
  return (await handler(
    { routeKey, headers: {}, requestContext: {}, ...extra },
    {},
  )) as APIGatewayProxyStructuredResultV2;
};

test('every domain has a handler module that loads from its environment', () => {
  for (const domain of API_DOMAINS) {
    expect(typeof require(`../../../lambda/${domain}/handler`).handler).toBe('function');
  }
});

test('health probes every store for real and answers read-write, never cached', async () => {
  const response = await invoke('health', 'GET /api/health');
  expect(response.statusCode).toBe(200);
  expect(response.headers).toMatchObject({ 'content-type': 'application/json', 'cache-control': 'no-store' });
  const report = JSON.parse(response.body as string);
  expect(report).toMatchObject({
    region: 'eu-west-1',
    jurisdiction: 'eu',
    mode: 'read-write',
    checks: {
      eventualStore: { status: 'ok' },
      cache: { status: 'ok' },
      strongStore: { status: 'ok', writable: true },
    },
  });
  expect(report.checks.strongStore.latencyMs).toBeLessThan(1000);
});

test('a route a function does not serve is a 404 in the contract error shape', async () => {
  const response = await invoke('cart', 'GET /api/elsewhere');
  expect(response.statusCode).toBe(404);
  expect(JSON.parse(response.body as string)).toEqual({
    error: { code: 'NOT_FOUND', message: 'No route GET /api/elsewhere in the cart API' },
  });
});

test('user routes without verified claims are refused with 401', async () => {
  const response = await invoke('profile', 'GET /api/me/profile');
  expect(response.statusCode).toBe(401);
  expect(JSON.parse(response.body as string).error).toMatchObject({ code: 'UNAUTHENTICATED', field: 'authorization' });
});

test('a missing setting stops the cold start with its name', () => {
  expect(() => regionContextFrom({ AWS_REGION: 'eu-west-1' })).toThrow('JURISDICTION is not set');
  expect(() => regionContextFrom({ JURISDICTION: 'eu' })).toThrow('AWS_REGION is not set');
  expect(() => EventualStore.fromEnvironment({})).toThrow('EVENTUAL_TABLE is not set');
  expect(() => StrongStore.fromEnvironment({ AWS_REGION: 'eu-west-1' })).toThrow('DB_PROXY_ENDPOINT is not set');
  expect(() => ProductCache.fromEnvironment({ CACHE_ENDPOINT: 'cache.example' })).toThrow(
    'CACHE_ENDPOINT must be host:port, got cache.example',
  );
});

describe('health report', () => {
  const ok = { status: 'ok' as const, latencyMs: 1 };
  const down = { status: 'unavailable' as const, latencyMs: 1000 };
  const now = new Date('2026-11-26T10:00:00Z');

  // Which mode each region reports: test/unit/health/report.test.ts.
  test('only an unreachable DynamoDB replica takes the region out of service (503)', () => {
    expect(healthReport(context, { eventualStore: down, cache: ok, strongStore: ok }, now).statusCode).toBe(503);
    expect(healthReport(context, { eventualStore: ok, cache: down, strongStore: down }, now).statusCode).toBe(200);
  });
});
