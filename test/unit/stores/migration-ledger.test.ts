import {
  applyMigrations,
  checkMigrationList,
  type Migration,
  type SqlSession,
} from '../../../lambda/migrations/ledger';
import { MIGRATIONS } from '../../../lambda/migrations/migrations';

/** A session that answers as a read-only replica (a secondary region's cluster) and records every statement. */
function replicaSession(ledgerVersion: number | undefined): SqlSession & { statements: string[] } {
  const statements: string[] = [];
  return {
    statements,
    async query(sql: string) {
      statements.push(sql);
      if (sql.includes('pg_is_in_recovery')) return { rows: [{ replica: true }] };
      if (sql.includes('to_regclass')) return { rows: [{ present: ledgerVersion !== undefined }] };
      if (sql.includes('max(version)')) return { rows: [{ version: ledgerVersion ?? 0 }] };
      throw new Error(`a replica was asked to run: ${sql}`);
    },
  };
}

test.each([
  [3, 3],
  [undefined, 0],
])(
  'on a replica whose ledger is at %p nothing is written and the replicated version is reported',
  async (ledger, version) => {
    const session = replicaSession(ledger);
    const report = await applyMigrations(session, MIGRATIONS);
    expect(report).toEqual({ role: 'replica', applied: [], version });
    expect(session.statements.some((sql) => /CREATE|INSERT|ALTER|GRANT|advisory_lock/i.test(sql))).toBe(false);
  },
);

const step = (version: number, name: string): Migration => ({ version, name, sql: 'SELECT 1' });

test.each([
  [[step(1, 'a'), step(3, 'b')], 'migration "b" has version 3; expected 2'],
  [[step(2, 'a')], 'migration "a" has version 2; expected 1'],
  [[step(1, ' ')], 'migration 1 has no name'],
  [[step(1, 'a'), step(2, 'a')], 'two migrations have the same name'],
])(
  'a list out of order, unnamed or with a repeated name is refused before the database is touched',
  (list, message) => {
    expect(() => checkMigrationList(list)).toThrow(message);
  },
);

test('the shipped list is in order', () => {
  expect(() => checkMigrationList(MIGRATIONS)).not.toThrow();
});
