import { Client } from 'pg';
import { StrongStore } from '../../../lambda/stores/strong-store';
import { type PostgresEngine, startPostgres } from '../../../local/engines';

// The writer stamps its heartbeat when its health is probed; a replica (in AWS, a secondary
// region's cluster) reads the stamp's age to tell whether any writer is reachable.
let engine: PostgresEngine;
let strong: StrongStore;
let database: string;

beforeAll(async () => {
  engine = await startPostgres();
  database = await engine.createDatabase('heartbeat');
  strong = StrongStore.connect({ ...engine, database, tls: false });
  await strong.migrate();
});

afterAll(async () => {
  await strong?.close();
  await engine?.destroy();
});

async function stampAge(): Promise<number> {
  const client = new Client({ ...engine, database });
  await client.connect();
  try {
    const { rows } = await client.query('SELECT extract(epoch FROM now() - at) AS age FROM writer_heartbeat');
    return Number(rows[0].age);
  } finally {
    await client.end();
  }
}

async function setStampAge(seconds: number): Promise<void> {
  const client = new Client({ ...engine, database });
  await client.connect();
  try {
    await client.query(`UPDATE writer_heartbeat SET at = now() - make_interval(secs => $1)`, [seconds]);
  } finally {
    await client.end();
  }
}

/** The stamp's age once the probe's best-effort write has had up to a second to land. */
async function settledStampAge(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const age = await stampAge();
    if (age < 1) return age;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return stampAge();
}

test('the writer reports itself writable and renews a stale stamp', async () => {
  await setStampAge(60);
  await expect(strong.probe()).resolves.toEqual({ writable: true, writerHeartbeatAgeMs: 0 });
  expect(await settledStampAge()).toBeLessThan(1);
});

test('a fresh stamp is not written again: at most one write every 5 s, however often Route 53 probes', async () => {
  await setStampAge(2);
  await strong.probe();
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(await stampAge()).toBeGreaterThanOrEqual(2);
});
