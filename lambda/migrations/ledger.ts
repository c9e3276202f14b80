import { createHash } from 'node:crypto';
import { escapeIdentifier } from 'pg';

/** One step of the strong store's schema, applied once, in order, by its version. */
export interface Migration {
  /** 1, 2, 3, …: consecutive, never reused, never renumbered. */
  readonly version: number;
  /** What it does, in the words a failed deploy reports. */
  readonly name: string;
  readonly sql: string;
}

/** The part of a `pg` client a migration run uses. */
export interface SqlSession {
  query(sql: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

export interface MigrationReport {
  /** `replica`: a read-only cluster (a secondary region), which gets the schema by replication. */
  readonly role: 'writer' | 'replica';
  /** Versions applied by this run, in order. */
  readonly applied: readonly number[];
  /** The database's version after the run (0: none applied). */
  readonly version: number;
}

/** A migration that failed: its version and name, and the database's own error. */
export class MigrationError extends Error {
  constructor(
    readonly migration: Pick<Migration, 'version' | 'name'>,
    readonly databaseError: string,
  ) {
    super(`migration ${migration.version} "${migration.name}" failed: ${databaseError}`);
    this.name = 'MigrationError';
  }
}

/**
 * The ledger of applied migrations lives in the database it describes, so a replica that
 * receives the schema also receives the record of it. Why not node-pg-migrate: it loads
 * migration files from a folder at run time, which a one-file Lambda bundle does not have;
 * this is the ordered ledger such tools keep, with a checksum so that a migration edited
 * after it was applied is refused rather than silently skipped.
 */
const LEDGER = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version    integer PRIMARY KEY,
  name       text NOT NULL,
  checksum   text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)`;

/** Serializes concurrent runs (two deploys, a retried trigger) on one database. */
const LOCK_ID = 720_518_001;

export function checksumOf(migration: Migration): string {
  return createHash('sha256').update(migration.sql).digest('hex');
}

/** Refuses a list whose versions are not 1, 2, 3, … or whose names are empty or repeated. */
export function checkMigrationList(migrations: readonly Migration[]): void {
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new Error(`migration "${migration.name}" has version ${migration.version}; expected ${index + 1}`);
    }
    if (!migration.name.trim()) throw new Error(`migration ${migration.version} has no name`);
  });
  const names = new Set(migrations.map((migration) => migration.name));
  if (names.size !== migrations.length) throw new Error('two migrations have the same name');
}

/**
 * Brings the database to the last version of `migrations`, each pending one in its own
 * transaction, stopping at the first that fails (its transaction rolled back, none after
 * it applied). On a replica it writes nothing. Idempotent: a second run applies nothing.
 */
export interface ApplyOptions {
  /**
   * Once this role exists, each migration runs as it (`SET LOCAL ROLE`), so every object
   * has one owner whichever login applies the migration.
   * @default the login's own role
   */
  readonly ownerRole?: string;
}

export async function applyMigrations(
  session: SqlSession,
  migrations: readonly Migration[],
  options: ApplyOptions = {},
): Promise<MigrationReport> {
  checkMigrationList(migrations);
  const recovery = await session.query('SELECT pg_is_in_recovery() AS replica');
  if (recovery.rows[0]?.replica === true) {
    return { role: 'replica', applied: [], version: await versionOf(session) };
  }
  await session.query('SELECT pg_advisory_lock($1)', [LOCK_ID]);
  try {
    await session.query(LEDGER);
    const done = await appliedVersions(session, migrations);
    const applied: number[] = [];
    for (const migration of migrations.filter((candidate) => candidate.version > done)) {
      await applyOne(session, migration, options.ownerRole);
      applied.push(migration.version);
    }
    return { role: 'writer', applied, version: migrations.length };
  } finally {
    await session.query('SELECT pg_advisory_unlock($1)', [LOCK_ID]);
  }
}

/** The highest version applied, after checking the applied ones are the list's first ones, unchanged. */
async function appliedVersions(session: SqlSession, migrations: readonly Migration[]): Promise<number> {
  const { rows } = await session.query('SELECT version, name, checksum FROM schema_migrations ORDER BY version');
  rows.forEach((row, index) => {
    const known = migrations[index];
    if (!known || row.version !== known.version) {
      throw new Error(
        `the database has migration ${String(row.version)} "${String(row.name)}", which this code does not know; deploy the code that added it`,
      );
    }
    if (row.checksum !== checksumOf(known)) {
      throw new Error(
        `migration ${known.version} "${known.name}" was changed after it was applied; add a new migration instead`,
      );
    }
  });
  return rows.length;
}

async function applyOne(session: SqlSession, migration: Migration, ownerRole: string | undefined): Promise<void> {
  await session.query('BEGIN');
  try {
    if (ownerRole) await becomeOwner(session, ownerRole);
    await session.query(migration.sql);
    await session.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
      migration.version,
      migration.name,
      checksumOf(migration),
    ]);
    await session.query('COMMIT');
  } catch (error) {
    await session.query('ROLLBACK').catch(() => undefined);
    throw new MigrationError(migration, (error as Error).message);
  }
}

/**
 * `SET LOCAL ROLE` to the owner role once the ledger belongs to it (the migration that
 * creates the role hands the ledger over last), unless the login already is that role.
 * Roles are shared by every database of a server; the ledger's owner is this database's.
 */
async function becomeOwner(session: SqlSession, ownerRole: string): Promise<void> {
  const { rows } = await session.query(
    `SELECT tableowner = $1 AS handed_over, current_user = $1 AS already
       FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'schema_migrations'`,
    [ownerRole],
  );
  if (rows[0]?.handed_over === true && rows[0]?.already !== true) {
    await session.query(`SET LOCAL ROLE ${escapeIdentifier(ownerRole)}`);
  }
}

async function versionOf(session: SqlSession): Promise<number> {
  const ledger = await session.query("SELECT to_regclass('schema_migrations') IS NOT NULL AS present");
  if (ledger.rows[0]?.present !== true) return 0;
  const { rows } = await session.query('SELECT coalesce(max(version), 0) AS version FROM schema_migrations');
  return Number(rows[0]?.version ?? 0);
}
