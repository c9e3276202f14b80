import { MIGRATIONS } from '../../../lambda/migrations/migrations';
import { type InstanceSession, migrateWriter } from '../../../lambda/migrations/writer-search';

// Which instance is migrated. The migrations themselves run against PostgreSQL in
// test/integration/stores/schema-migrations.test.ts; here instances are scripted.
type Role = 'writer' | 'replica' | 'unreachable';

function cluster(roles: Record<string, Role>) {
  const ended: string[] = [];
  const written: string[] = [];
  const open = async (host: string): Promise<InstanceSession> => {
    const role = roles[host];
    if (role === undefined || role === 'unreachable') throw new Error(`connect ETIMEDOUT ${host}`);
    return {
      async query(sql: string) {
        if (sql.includes('pg_is_in_recovery')) return { rows: [{ replica: role === 'replica' }] };
        if (sql.includes('to_regclass')) return { rows: [{ present: true }] };
        if (sql.includes('max(version)')) return { rows: [{ version: MIGRATIONS.length }] };
        if (sql.includes('FROM schema_migrations')) return { rows: [] };
        if (sql.includes('FROM pg_tables')) return { rows: [] };
        written.push(host);
        return { rows: [] };
      },
      async end() {
        ended.push(host);
      },
    };
  };
  return { open, ended, written };
}

test('the writer is found among the instances and is the only one written to', async () => {
  const { open, ended, written } = cluster({ a: 'replica', b: 'writer' });
  const report = await migrateWriter(['a', 'b'], open, MIGRATIONS);
  expect(report).toMatchObject({ role: 'writer', host: 'b', applied: MIGRATIONS.map((m) => m.version) });
  expect([...new Set(written)]).toEqual(['b']);
  expect(ended).toEqual(['a', 'b']);
});

test('a cluster of replicas (a secondary region) is reported as one, with nothing written', async () => {
  const { open, written } = cluster({ a: 'replica', b: 'replica' });
  const report = await migrateWriter(['a', 'b'], open, MIGRATIONS);
  expect(report).toEqual({ role: 'replica', applied: [], version: MIGRATIONS.length, host: 'b' });
  expect(written).toEqual([]);
});

test('an unreachable instance does not matter once the writer is found', async () => {
  const { open } = cluster({ a: 'unreachable', b: 'writer' });
  await expect(migrateWriter(['a', 'b'], open, MIGRATIONS)).resolves.toMatchObject({ role: 'writer', host: 'b' });
});

test('with no writer found and an instance unreachable, the run fails naming it: it could be the writer', async () => {
  const { open } = cluster({ a: 'replica', b: 'unreachable' });
  await expect(migrateWriter(['a', 'b'], open, MIGRATIONS)).rejects.toThrow(
    'no instance answered as the writer; could not reach b (connect ETIMEDOUT b)',
  );
});

test('no instance at all is refused', async () => {
  const { open } = cluster({});
  await expect(migrateWriter([], open, MIGRATIONS)).rejects.toThrow('no database instance to migrate');
});
