import { Client } from 'pg';
import { type PostgresEngine, startPostgres } from '../../../local/engines';
import { eventually } from './platform-support';

// A hot standby of the local PostgreSQL, as an Aurora replica is of its writer: streaming
// replication between two local servers, read-only, behind by the lag it is given.

let primary: PostgresEngine;
let standby: PostgresEngine;
const LAG_MS = 1500;

async function session(engine: PostgresEngine): Promise<Client> {
  const client = new Client({ ...engine, database: 'shop' });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

beforeAll(async () => {
  primary = await startPostgres();
  await primary.createDatabase('shop');
  const writer = await session(primary);
  await writer.query('CREATE TABLE stock (sku text PRIMARY KEY, quantity int NOT NULL)');
  await writer.query("INSERT INTO stock VALUES ('MUG', 10)");
  await writer.end();
  standby = await primary.startStandby({ applyDelayMs: LAG_MS });
});

afterAll(async () => {
  await standby?.destroy();
  await primary?.destroy();
});

test('the standby is in recovery, holds what the primary had, and refuses writes as a replica does', async () => {
  const reader = await session(standby);
  try {
    expect((await reader.query('SELECT pg_is_in_recovery() AS replica')).rows[0].replica).toBe(true);
    expect((await reader.query("SELECT quantity FROM stock WHERE sku = 'MUG'")).rows).toEqual([{ quantity: 10 }]);
    await expect(reader.query("UPDATE stock SET quantity = 0 WHERE sku = 'MUG'")).rejects.toMatchObject({
      code: '25006',
    });
  } finally {
    await reader.end();
  }
});

test('a write on the primary reaches the standby only after the injected lag', async () => {
  const writer = await session(primary);
  const reader = await session(standby);
  try {
    const wrote = Date.now();
    await writer.query("UPDATE stock SET quantity = 7 WHERE sku = 'MUG'");
    const quantity = async () => (await reader.query("SELECT quantity FROM stock WHERE sku = 'MUG'")).rows[0].quantity;
    // Right after the write, the standby still has the old stock: stale, as a replica can be.
    expect(await quantity()).toBe(10);
    await eventually(async () => expect(await quantity()).toBe(7), 10_000, 100);
    expect(Date.now() - wrote).toBeGreaterThanOrEqual(LAG_MS);
  } finally {
    await Promise.all([writer.end(), reader.end()]);
  }
});
