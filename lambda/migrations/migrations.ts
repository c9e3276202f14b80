import type { Migration } from './ledger';

/** The role the API functions log in as, through RDS Proxy with IAM authentication only. */
export const APPLICATION_ROLE = 'commerce_app';

/**
 * The role that owns the schema and applies migrations after the first: it signs in with
 * IAM only, so the migration function of any region of the jurisdiction — the one whose
 * cluster is the writer after a failover — can apply them without the master password,
 * which exists in the primary region alone.
 */
export const MIGRATION_ROLE = 'commerce_migrator';

const TABLES = 'inventory, orders, payment_ledger, order_requests';

/**
 * The strong store's schema, in order. Append; never edit or renumber one that a
 * database may have applied (the ledger refuses it by checksum). Every statement is
 * written to succeed on a database that already has what it creates, because the first
 * databases were created before the ledger existed.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'inventory, orders, the payment ledger and order requests',
    sql: `
CREATE TABLE IF NOT EXISTS inventory (
  sku         text PRIMARY KEY,
  quantity    integer NOT NULL CHECK (quantity >= 0),
  price_cents bigint NOT NULL CHECK (price_cents >= 0),
  currency    char(3) NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS orders (
  id          uuid PRIMARY KEY,
  user_id     text NOT NULL,
  status      text NOT NULL,
  lines       jsonb NOT NULL,
  total_cents bigint NOT NULL,
  currency    char(3) NOT NULL,
  placed_in   text NOT NULL,
  created_at  timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_by_user ON orders (user_id, created_at);

-- One row per capture the processor made for an order; written in the order's transaction.
CREATE TABLE IF NOT EXISTS payment_ledger (
  capture_id   text PRIMARY KEY,
  order_id     uuid NOT NULL UNIQUE REFERENCES orders (id),
  amount_cents bigint NOT NULL,
  currency     char(3) NOT NULL,
  recorded_at  timestamptz NOT NULL DEFAULT now()
);

-- The idempotency key under a unique constraint: a second request with the same key waits
-- for the first transaction, then finds its row and answers with the stored response.
CREATE TABLE IF NOT EXISTS order_requests (
  user_id         text NOT NULL,
  idempotency_key text NOT NULL,
  request_hash    text NOT NULL,
  status_code     smallint NOT NULL,
  -- json, not jsonb: a replay is the first answer byte for byte, key order included.
  response        json NOT NULL,
  order_id        uuid REFERENCES orders (id),
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, idempotency_key)
);
`,
  },
  {
    version: 2,
    name: `the application's login role ${APPLICATION_ROLE}`,
    // Aurora has the rds_iam role; a member signs in with an IAM token only. The functions
    // read and write rows; they never delete, and they create nothing.
    sql: `
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${APPLICATION_ROLE}') THEN
    CREATE ROLE ${APPLICATION_ROLE} LOGIN;
  END IF;
END $$;
GRANT rds_iam TO ${APPLICATION_ROLE};
GRANT USAGE ON SCHEMA public TO ${APPLICATION_ROLE};
GRANT SELECT, INSERT, UPDATE ON ${TABLES} TO ${APPLICATION_ROLE};
`,
  },
  {
    version: 3,
    name: `the migration role ${MIGRATION_ROLE}, owner of the schema`,
    // The login that runs this (Aurora's master user, a CREATEROLE non-superuser) becomes a
    // member of the new role, so it can hand over its tables and later act as their owner.
    sql: `
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${MIGRATION_ROLE}') THEN
    CREATE ROLE ${MIGRATION_ROLE} LOGIN;
  END IF;
END $$;
GRANT rds_iam TO ${MIGRATION_ROLE};
GRANT ${MIGRATION_ROLE} TO CURRENT_USER;
GRANT USAGE, CREATE ON SCHEMA public TO ${MIGRATION_ROLE};
ALTER TABLE inventory OWNER TO ${MIGRATION_ROLE};
ALTER TABLE orders OWNER TO ${MIGRATION_ROLE};
ALTER TABLE payment_ledger OWNER TO ${MIGRATION_ROLE};
ALTER TABLE order_requests OWNER TO ${MIGRATION_ROLE};
ALTER TABLE schema_migrations OWNER TO ${MIGRATION_ROLE};
`,
  },
  {
    version: 4,
    name: "the writer's heartbeat",
    // The writer's health probes stamp it; a secondary reads its age through its replica, and
    // a stale stamp means no writer is reachable: strong requests would be refused.
    sql: `
CREATE TABLE IF NOT EXISTS writer_heartbeat (
  id smallint PRIMARY KEY CHECK (id = 1),
  at timestamptz NOT NULL
);
INSERT INTO writer_heartbeat (id, at) VALUES (1, now()) ON CONFLICT (id) DO NOTHING;
GRANT SELECT, UPDATE ON writer_heartbeat TO ${APPLICATION_ROLE};
`,
  },
];
