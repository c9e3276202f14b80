import { Client, escapeIdentifier } from 'pg';
import { applyMigrations, type Migration, MigrationError } from '../../../lambda/migrations/ledger';
import { APPLICATION_ROLE, MIGRATION_ROLE, MIGRATIONS } from '../../../lambda/migrations/migrations';
import { type PostgresEngine, startPostgres } from '../../../local/engines';

// Real PostgreSQL 17. The migrations run as Aurora's master user does: a login with
// CREATEROLE and CREATEDB that owns the database but is not a superuser, so a privilege
// the migrations forget fails here as it would on Aurora.
const MASTER = { user: 'commerce_admin', password: 'admin-password' };
const OWNER = { ...MASTER, ownerRole: MIGRATION_ROLE };
let engine: PostgresEngine;
let databases = 0;

beforeAll(async () => {
  engine = await startPostgres();
  await asSuperuser(
    `CREATE ROLE ${MASTER.user} LOGIN CREATEROLE CREATEDB PASSWORD '${MASTER.password}'`,
    `GRANT rds_superuser TO ${MASTER.user}`,
  );
});

afterAll(async () => {
  await engine?.destroy();
});

async function asSuperuser(...statements: string[]): Promise<void> {
  const client = new Client({ ...connection(engine.database), user: engine.user, password: engine.password });
  await client.connect();
  try {
    for (const statement of statements) await client.query(statement);
  } finally {
    await client.end();
  }
}

function connection(database: string) {
  return { host: engine.host, port: engine.port, database, ...MASTER };
}

/** A new database owned by the master login, as Aurora creates `commerce`. */
async function freshDatabase(): Promise<string> {
  databases += 1;
  const name = `migrations_${databases}`;
  await asSuperuser(`CREATE DATABASE ${escapeIdentifier(name)} OWNER ${MASTER.user}`);
  return name;
}

async function withClient<T>(
  database: string,
  login: { user: string; password: string },
  use: (client: Client) => Promise<T>,
): Promise<T> {
  const client = new Client({ ...connection(database), ...login });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

const migrate = (database: string, migrations: readonly Migration[] = MIGRATIONS) =>
  withClient(database, MASTER, (client) => applyMigrations(client, migrations, OWNER));

/** Tables, columns, constraints, indexes, owners and grants of the public schema, as text. */
async function schemaOf(database: string): Promise<string> {
  return withClient(database, MASTER, async (client) => {
    const parts = await Promise.all(
      [
        `SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns
           WHERE table_schema = 'public' ORDER BY table_name, ordinal_position`,
        `SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
           WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2`,
        `SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1, 2`,
        `SELECT tablename, tableowner FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`,
        `SELECT grantee, table_name, privilege_type FROM information_schema.role_table_grants
           WHERE table_schema = 'public' AND grantee = '${APPLICATION_ROLE}' ORDER BY 1, 2, 3`,
        'SELECT version, name, checksum FROM schema_migrations ORDER BY version',
      ].map((sql) => client.query(sql)),
    );
    return JSON.stringify(parts.map((result) => result.rows));
  });
}

const last = MIGRATIONS.length;

test('applying twice leaves the same schema, and the second run applies nothing', async () => {
  const database = await freshDatabase();
  const first = await migrate(database);
  const schema = await schemaOf(database);
  const second = await migrate(database);
  expect(first).toEqual({ role: 'writer', applied: MIGRATIONS.map((m) => m.version), version: last });
  expect(second).toEqual({ role: 'writer', applied: [], version: last });
  expect(await schemaOf(database)).toBe(schema);
});

test.each(MIGRATIONS.map((migration) => [migration.version - 1]))(
  'a database left at version %i reaches the same schema as a new one',
  async (earlier) => {
    const reference = await freshDatabase();
    await migrate(reference);
    const database = await freshDatabase();
    await migrate(database, MIGRATIONS.slice(0, earlier));
    const report = await migrate(database);
    expect(report.applied).toEqual(MIGRATIONS.slice(earlier).map((m) => m.version));
    expect(await schemaOf(database)).toBe(await schemaOf(reference));
  },
);

test('a failing migration fails by name with the database error, and the ones after it are not applied', async () => {
  const database = await freshDatabase();
  const broken: Migration = { version: last + 1, name: 'backfill from a missing table', sql: 'SELECT * FROM nowhere' };
  const after: Migration = { version: last + 2, name: 'never reached', sql: 'CREATE TABLE never_reached (id int)' };
  const failure = migrate(database, [...MIGRATIONS, broken, after]);
  await expect(failure).rejects.toThrow(MigrationError);
  await expect(failure).rejects.toThrow(
    `migration ${last + 1} "backfill from a missing table" failed: relation "nowhere" does not exist`,
  );
  await withClient(database, MASTER, async (client) => {
    const ledger = await client.query('SELECT max(version) AS version FROM schema_migrations');
    expect(ledger.rows[0].version).toBe(last);
    const table = await client.query("SELECT to_regclass('never_reached') AS present");
    expect(table.rows[0].present).toBeNull();
  });
});

test('a failing migration leaves nothing of itself behind: its statements roll back together', async () => {
  const database = await freshDatabase();
  await migrate(database);
  const halfDone: Migration = {
    version: last + 1,
    name: 'two statements, the second fails',
    sql: 'CREATE TABLE half_done (id int); SELECT 1 / 0',
  };
  await expect(migrate(database, [...MIGRATIONS, halfDone])).rejects.toThrow('division by zero');
  await withClient(database, MASTER, async (client) => {
    const table = await client.query("SELECT to_regclass('half_done') AS present");
    expect(table.rows[0].present).toBeNull();
  });
});

test('a migration edited after it was applied is refused instead of skipped', async () => {
  const database = await freshDatabase();
  await migrate(database);
  const edited = MIGRATIONS.map((m) => (m.version === 1 ? { ...m, sql: `${m.sql}\n-- edited` } : m));
  await expect(migrate(database, edited)).rejects.toThrow(
    `migration 1 "${MIGRATIONS[0]?.name}" was changed after it was applied`,
  );
});

test('two runs at once (a retried trigger) apply each migration once', async () => {
  const database = await freshDatabase();
  const reports = await Promise.all([migrate(database), migrate(database)]);
  expect(reports.flatMap((report) => report.applied).sort()).toEqual(MIGRATIONS.map((m) => m.version).sort());
});

test('after a failover the migration role alone applies a new migration to tables the master created', async () => {
  const database = await freshDatabase();
  // The primary's master applies one more before the failover: its table must belong to the role too.
  const before: Migration = { version: last + 1, name: 'gift cards', sql: 'CREATE TABLE gift_cards (code text)' };
  await migrate(database, [...MIGRATIONS, before]);
  const next: Migration = {
    version: last + 2,
    name: 'orders and gift cards remember their channel',
    sql: 'ALTER TABLE orders ADD COLUMN channel text; ALTER TABLE gift_cards ADD COLUMN channel text',
  };
  // Locally the migration role signs in with a password; on Aurora, with an IAM token.
  await asSuperuser(`ALTER ROLE ${MIGRATION_ROLE} PASSWORD 'migrator-password'`);
  const migrator = { user: MIGRATION_ROLE, password: 'migrator-password' };
  const report = await withClient(database, migrator, (client) =>
    applyMigrations(client, [...MIGRATIONS, before, next], { ownerRole: MIGRATION_ROLE }),
  );
  expect(report.applied).toEqual([last + 2]);
});

test('the application role reads and writes rows but may not delete them or change the schema', async () => {
  const database = await freshDatabase();
  await migrate(database);
  await asSuperuser(`ALTER ROLE ${APPLICATION_ROLE} PASSWORD 'app-password'`);
  const app = { user: APPLICATION_ROLE, password: 'app-password' };
  await withClient(database, app, async (client) => {
    await client.query("INSERT INTO inventory (sku, quantity, price_cents, currency) VALUES ('A', 1, 100, 'EUR')");
    await client.query("UPDATE inventory SET quantity = 0 WHERE sku = 'A'");
    await expect(client.query("DELETE FROM inventory WHERE sku = 'A'")).rejects.toThrow('permission denied');
    await expect(client.query('CREATE TABLE app_made (id int)')).rejects.toThrow('permission denied');
  });
});
