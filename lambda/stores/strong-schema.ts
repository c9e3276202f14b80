/**
 * The jurisdiction's strong store (Aurora PostgreSQL, written only in the primary
 * region). Idempotent DDL: run by the local platform and tests at start, and by the
 * deployment's migration step against the writer.
 */
export const STRONG_STORE_SCHEMA = `
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
`;
