import type { Pool } from 'pg';
import { StrongStore } from '../../../lambda/stores/strong-store';

// The replica side of the writer heartbeat: no Aurora replica runs here, so a scripted pool
// answers as one. The writer side runs against PostgreSQL (test/integration/stores).
function replicaPool(ageMs: string | null) {
  const statements: string[] = [];
  const pool = {
    on: () => pool,
    query: async (text: string) => {
      statements.push(text);
      return { rows: [{ replica: true, age_ms: ageMs }], rowCount: 1 };
    },
  } as unknown as Pool;
  return { pool, statements };
}

test("a replica reports the age of the writer's last stamp it received, and writes nothing", async () => {
  const { pool, statements } = replicaPool('45000.5');
  await expect(new StrongStore(pool).probe()).resolves.toEqual({ writable: false, writerHeartbeatAgeMs: 45000.5 });
  expect(statements.some((sql) => /UPDATE|INSERT/i.test(sql))).toBe(false);
});

test('a replica with no stamp at all reports an infinitely old one', async () => {
  const { pool } = replicaPool(null);
  await expect(new StrongStore(pool).probe()).resolves.toEqual({ writable: false, writerHeartbeatAgeMs: Infinity });
});
