import { createHash } from 'node:crypto';
import { Signer } from '@aws-sdk/rds-signer';
import { Pool, type PoolClient } from 'pg';
import type { OrderRequest } from '../domain/input';
import { canonicalOrderRequest, type InventoryRow, type PricedLine, planOrder } from '../domain/order-plan';
import { applyMigrations, type MigrationReport } from '../migrations/ledger';
import { MIGRATION_ROLE, MIGRATIONS } from '../migrations/migrations';
import { type CardProcessor, PaymentOutcomeUnknownError } from '../payments/card-processor';
import { StrongStoreBusyError, StrongStoreUnavailableError } from '../shared/api-error';
import { trackConnection } from '../shared/connections';
import { type FunctionEnvironment, optionalEnv, requiredEnv } from '../shared/environment';

export interface StrongStoreProbe {
  readonly writable: boolean;
  /** How old the writer's last heartbeat is, as this cluster sees it (0 on the writer). */
  readonly writerHeartbeatAgeMs: number;
}

/** The writer stamps its heartbeat at most this often (its health is probed every 10 s or so). */
const HEARTBEAT_EVERY_SECONDS = 5;

export interface StrongStoreConnection {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  /** A password, or a function that makes one per connection (an RDS IAM token). */
  readonly password: string | (() => Promise<string>);
  /** TLS with certificate verification; RDS Proxy requires it. */
  readonly tls: boolean;
  /**
   * Connections this process keeps; a Lambda environment serves one request at a time.
   * @default 2
   */
  readonly maxConnections?: number;
  /**
   * How long to wait for a connection before calling the store unreachable.
   * @default 2000
   */
  readonly connectTimeoutMs?: number;
  /**
   * Longest any statement may run (server-side `statement_timeout`).
   * @default 5000
   */
  readonly statementTimeoutMs?: number;
}

/** What an order request answered, stored under its idempotency key and replayed. */
export interface StoredResponse {
  readonly statusCode: number;
  readonly body: unknown;
}

export interface OrderView {
  readonly id: string;
  readonly status: 'paid';
  readonly lines: readonly PricedLine[];
  readonly totalCents: number;
  readonly currency: string;
  readonly placedIn: string;
  readonly createdAt: string;
  readonly captureId: string;
}

export interface PlaceOrderInput {
  readonly userId: string;
  readonly idempotencyKey: string;
  readonly request: OrderRequest;
  /** The region whose API took the request (the jurisdiction's primary). */
  readonly region: string;
  readonly now: Date;
}

/** A payment that may stand with no order: for the ledger/processor reconciliation. */
export interface PaymentOutcomeUnknown {
  /** The capture, when the processor named one. */
  readonly captureId?: string;
  /** The order id the processor was told (Stripe: `metadata.order_id`). */
  readonly orderId: string;
  readonly userId: string;
  readonly key: string;
}

export type PlaceOrderOutcome =
  | { readonly kind: 'answered'; readonly response: StoredResponse; readonly replayed: boolean }
  | { readonly kind: 'key-reused'; readonly field: 'Idempotency-Key' };

/**
 * The jurisdiction's Aurora PostgreSQL through `pg`: inventory, orders and the payment
 * ledger. Connection failures surface as `StrongStoreUnavailableError` (the API answers
 * 503 and stays up); the pool drops broken connections and dials again on the next
 * request, so service resumes by itself when the database is back.
 */
export class StrongStore {
  /**
   * `DB_PROXY_ENDPOINT` and optionally `DB_PORT`, `DB_NAME`, `DB_USER`. In AWS every
   * connection signs in with a fresh IAM token (the proxy requires IAM auth and TLS);
   * `DB_PASSWORD` and `DB_TLS=false` are for a local PostgreSQL only.
   */
  static fromEnvironment(env: FunctionEnvironment): StrongStore {
    const host = requiredEnv(env, 'DB_PROXY_ENDPOINT');
    const port = Number(optionalEnv(env, 'DB_PORT') ?? 5432);
    const user = optionalEnv(env, 'DB_USER') ?? 'commerce_app';
    const password = optionalEnv(env, 'DB_PASSWORD');
    const signer = password
      ? undefined
      : new Signer({ hostname: host, port, username: user, region: requiredEnv(env, 'AWS_REGION') });
    return StrongStore.connect({
      host,
      port,
      user,
      database: optionalEnv(env, 'DB_NAME') ?? 'commerce',
      password: signer ? () => signer.getAuthToken() : (password ?? ''),
      tls: optionalEnv(env, 'DB_TLS') !== 'false',
    });
  }

  static connect(connection: StrongStoreConnection): StrongStore {
    const pool = new Pool({
      host: connection.host,
      port: connection.port,
      database: connection.database,
      user: connection.user,
      password: connection.password,
      ssl: connection.tls ? { rejectUnauthorized: true } : false,
      max: connection.maxConnections ?? 2,
      connectionTimeoutMillis: connection.connectTimeoutMs ?? 2000,
      statement_timeout: connection.statementTimeoutMs ?? 5000,
      // Lock waits give up before the statement does, so contention reads as "busy".
      lock_timeout: Math.floor((connection.statementTimeoutMs ?? 5000) * 0.6),
      idleTimeoutMillis: 60_000,
    });
    // An idle connection that dies (database restart, failover) must not crash the process.
    pool.on('error', () => undefined);
    return new StrongStore(pool);
  }

  private readonly untrack: () => void;

  constructor(private readonly pool: Pool) {
    this.untrack = trackConnection(() => this.close());
  }

  /** Applies the schema's pending migrations (the deploy's own step; here for local use and tests). */
  async migrate(): Promise<MigrationReport> {
    const client = await this.guard(() => this.pool.connect());
    try {
      return await applyMigrations(client, MIGRATIONS, { ownerRole: MIGRATION_ROLE });
    } finally {
      client.release();
    }
  }

  /**
   * A real round trip. `writable` is false on a replica (a secondary region's cluster). The
   * writer stamps its heartbeat (at most every few seconds); a replica reports how old the
   * stamp it has received is, which grows while no writer is reachable.
   */
  async probe(): Promise<StrongStoreProbe> {
    const result = await this.guard(() =>
      this.pool.query(
        // A hot standby's sessions are read-only too; the local platform's replicas are only that.
        `SELECT pg_is_in_recovery() OR current_setting('transaction_read_only')::boolean AS replica,
                (SELECT extract(epoch FROM now() - at) * 1000 FROM writer_heartbeat WHERE id = 1) AS age_ms`,
      ),
    );
    const replica = result.rows[0].replica === true;
    if (replica) return { writable: false, writerHeartbeatAgeMs: Number(result.rows[0].age_ms ?? Infinity) };
    // Best effort, not awaited: a slow or failed stamp must not make the writer's own health
    // check fail, which would withdraw `writer.<jurisdiction>.api` from every region.
    this.pool
      .query(`UPDATE writer_heartbeat SET at = now() WHERE id = 1 AND at < now() - make_interval(secs => $1)`, [
        HEARTBEAT_EVERY_SECONDS,
      ])
      .catch(() => undefined);
    return { writable: true, writerHeartbeatAgeMs: 0 };
  }

  async getInventory(sku: string): Promise<InventoryRow | undefined> {
    const result = await this.guard(() =>
      this.pool.query('SELECT sku, quantity, price_cents, currency FROM inventory WHERE sku = $1', [sku]),
    );
    return result.rows[0] ? inventoryRowOf(result.rows[0]) : undefined;
  }

  /** Sets a SKU's price and stock (the admin's product update). */
  async putInventory(row: InventoryRow): Promise<void> {
    await this.guard(() =>
      this.pool.query(
        `INSERT INTO inventory (sku, quantity, price_cents, currency) VALUES ($1, $2, $3, $4)
         ON CONFLICT (sku) DO UPDATE SET quantity = EXCLUDED.quantity, price_cents = EXCLUDED.price_cents,
           currency = EXCLUDED.currency, updated_at = now()`,
        [row.sku, row.quantity, row.priceCents, row.currency],
      ),
    );
  }

  /**
   * Places an order exactly once: in one transaction it claims the idempotency key, locks
   * the lines' inventory rows (in SKU order, so concurrent orders cannot deadlock), refuses
   * if any line is short, captures the payment, takes the stock, and writes the order, its
   * ledger row and the response under the key. Refusals are stored too, so a retry gets
   * the first answer. Idempotency lives here rather than in Powertools' idempotency
   * utility because the key must commit atomically with the order and the ledger row.
   */
  async placeOrder(
    input: PlaceOrderInput,
    processor: CardProcessor,
    onPaymentOutcomeUnknown?: (payment: PaymentOutcomeUnknown) => void,
  ): Promise<PlaceOrderOutcome> {
    const requestHash = createHash('sha256').update(canonicalOrderRequest(input.request)).digest('hex');
    // The same for every attempt of this order request, and so are the processor's keys
    // (`order-<id>`): an attempt whose payment outcome was lost is found again by the retry
    // with the same key, which never charges twice (see `CaptureRequest.idempotencyKey`).
    const orderIdOfRequest = orderIdOf(input.userId, input.idempotencyKey, requestHash);
    const client = await this.guard(() => this.pool.connect());
    let captureToVoid: string | undefined;
    let committing = false;
    let broken = false;
    try {
      await client.query('BEGIN');
      const claimed = await client.query(
        `INSERT INTO order_requests (user_id, idempotency_key, request_hash, status_code, response)
         VALUES ($1, $2, $3, 0, 'null') ON CONFLICT DO NOTHING`,
        [input.userId, input.idempotencyKey, requestHash],
      );
      if (claimed.rowCount === 0) {
        await client.query('ROLLBACK');
        return await this.replay(client, input, requestHash);
      }

      const skus = input.request.lines.map((line) => line.sku).sort();
      const locked = await client.query(
        'SELECT sku, quantity, price_cents, currency FROM inventory WHERE sku = ANY($1) ORDER BY sku FOR UPDATE',
        [skus],
      );
      const plan = planOrder(input.request, locked.rows.map(inventoryRowOf));
      let response: StoredResponse;
      let orderId: string | null = null;
      if (plan.kind === 'unknown') {
        const [first] = plan.lines;
        response = errorBody(
          404,
          'PRODUCT_NOT_FOUND',
          `No product ${plan.lines.map((line) => line.sku).join(', ')} in this catalog.`,
          `lines[${first?.index ?? 0}].sku`,
        );
      } else if (plan.kind === 'short') {
        const named = plan.shortages.map((s) => `${s.sku} (${s.available} left, ${s.requested} wanted)`).join(', ');
        response = errorBody(409, 'INSUFFICIENT_STOCK', `Not enough stock for ${named}.`, 'lines', {
          shortages: plan.shortages,
        });
      } else if (plan.kind === 'mixed-currency') {
        response = errorBody(
          422,
          'MIXED_CURRENCIES',
          `The lines are priced in ${plan.currencies.join(' and ')}; one order takes one currency.`,
          'lines',
        );
      } else {
        orderId = orderIdOfRequest;
        // A retry after a voided capture must be a new charge, never the voided one handed
        // back by a deduping processor: the processor checks what its key hands back.
        const capture = await processor.capture({
          idempotencyKey: `order-${orderId}`,
          customerId: input.userId,
          orderId,
          amountCents: plan.totalCents,
          currency: plan.currency,
        });
        if (capture.status === 'declined') {
          response = errorBody(402, 'PAYMENT_DECLINED', `The payment was declined: ${capture.reason}.`, undefined);
          orderId = null;
        } else {
          captureToVoid = capture.captureId;
          await client.query(
            `UPDATE inventory SET quantity = inventory.quantity - line.quantity, updated_at = now()
             FROM unnest($1::text[], $2::int[]) AS line (sku, quantity) WHERE inventory.sku = line.sku`,
            [plan.lines.map((line) => line.sku), plan.lines.map((line) => line.quantity)],
          );
          const order: OrderView = {
            id: orderId,
            status: 'paid',
            lines: plan.lines,
            totalCents: plan.totalCents,
            currency: plan.currency,
            placedIn: input.region,
            createdAt: input.now.toISOString(),
            captureId: capture.captureId,
          };
          await client.query(
            `INSERT INTO orders (id, user_id, status, lines, total_cents, currency, placed_in, created_at)
             VALUES ($1, $2, 'paid', $3, $4, $5, $6, $7)`,
            [
              orderId,
              input.userId,
              JSON.stringify(plan.lines),
              plan.totalCents,
              plan.currency,
              input.region,
              input.now,
            ],
          );
          await client.query(
            'INSERT INTO payment_ledger (capture_id, order_id, amount_cents, currency) VALUES ($1, $2, $3, $4)',
            [capture.captureId, orderId, plan.totalCents, plan.currency],
          );
          response = { statusCode: 201, body: order };
        }
      }
      await client.query(
        'UPDATE order_requests SET status_code = $3, response = $4, order_id = $5 WHERE user_id = $1 AND idempotency_key = $2',
        [input.userId, input.idempotencyKey, response.statusCode, JSON.stringify(response.body), orderId],
      );
      committing = true;
      await client.query('COMMIT');
      return { kind: 'answered', response, replayed: false };
    } catch (error) {
      broken = isUnavailable(error);
      if (!broken) await client.query('ROLLBACK').catch(() => undefined);
      if (error instanceof PaymentOutcomeUnknownError) {
        // Money may have been taken with no order: reported; the key stays unspent, and its
        // retry reaches the same payment.
        onPaymentOutcomeUnknown?.({ orderId: orderIdOfRequest, userId: input.userId, key: input.idempotencyKey });
      }
      if (captureToVoid) {
        // A failed COMMIT may still have committed: look before giving the money back.
        const committed = committing ? await this.orderCommitted(captureToVoid) : false;
        if (committed === true) {
          const stored = await this.guard(() => this.storedResponse(this.pool, input));
          return { kind: 'answered', response: stored, replayed: false };
        }
        const standing = {
          captureId: captureToVoid,
          orderId: orderIdOfRequest,
          userId: input.userId,
          key: input.idempotencyKey,
        };
        if (committed === false) {
          // A refund that fails leaves the capture standing: report it like an unknown outcome,
          // and answer with the commit's error, not a "nothing charged" that would be untrue.
          await processor.void(captureToVoid).catch(() => onPaymentOutcomeUnknown?.(standing));
        } else {
          // Neither confirmed nor refuted: the capture stays and is reported for the
          // ledger/processor reconciliation (see README).
          onPaymentOutcomeUnknown?.(standing);
        }
      }
      throw translate(error);
    } finally {
      // A connection that failed is destroyed rather than handed to the next request.
      client.release(broken);
    }
  }

  async getOrder(userId: string, orderId: string): Promise<OrderView | undefined> {
    const result = await this.guard(() =>
      this.pool.query(
        `SELECT o.id, o.status, o.lines, o.total_cents, o.currency, o.placed_in, o.created_at, l.capture_id
         FROM orders o JOIN payment_ledger l ON l.order_id = o.id WHERE o.id = $1 AND o.user_id = $2`,
        [orderId, userId],
      ),
    );
    const row = result.rows[0];
    if (!row) return undefined;
    return {
      id: row.id,
      status: row.status,
      lines: row.lines,
      totalCents: Number(row.total_cents),
      currency: row.currency,
      placedIn: row.placed_in,
      createdAt: new Date(row.created_at).toISOString(),
      captureId: row.capture_id,
    };
  }

  async close(): Promise<void> {
    this.untrack();
    await this.pool.end();
  }

  private async replay(client: PoolClient, input: PlaceOrderInput, requestHash: string): Promise<PlaceOrderOutcome> {
    const stored = await client.query(
      'SELECT request_hash, status_code, response FROM order_requests WHERE user_id = $1 AND idempotency_key = $2',
      [input.userId, input.idempotencyKey],
    );
    const row = stored.rows[0];
    if (row.request_hash !== requestHash) return { kind: 'key-reused', field: 'Idempotency-Key' };
    return { kind: 'answered', response: { statusCode: row.status_code, body: row.response }, replayed: true };
  }

  private async storedResponse(queryable: Pick<Pool, 'query'>, input: PlaceOrderInput): Promise<StoredResponse> {
    const stored = await queryable.query(
      'SELECT status_code, response FROM order_requests WHERE user_id = $1 AND idempotency_key = $2',
      [input.userId, input.idempotencyKey],
    );
    return { statusCode: stored.rows[0].status_code, body: stored.rows[0].response };
  }

  /** Whether the ledger holds the capture (true), does not (false), or the store cannot say (undefined). */
  private async orderCommitted(captureId: string): Promise<boolean | undefined> {
    try {
      const found = await this.pool.query('SELECT 1 FROM payment_ledger WHERE capture_id = $1', [captureId]);
      return (found.rowCount ?? 0) > 0;
    } catch {
      return undefined;
    }
  }

  private async guard<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw translate(error);
    }
  }
}

/**
 * The order id of one order request: a UUID-shaped digest of the user, the key and the
 * request's hash, so every attempt of the request carries the same id (a committed order
 * spends the key, so an id is never written twice).
 */
function orderIdOf(userId: string, idempotencyKey: string, requestHash: string): string {
  const hex = createHash('sha256').update(`${userId}\n${idempotencyKey}\n${requestHash}`).digest('hex');
  // Version 8 (custom) and the RFC 9562 variant.
  const variant = ((Number.parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function inventoryRowOf(row: Record<string, unknown>): InventoryRow {
  return {
    sku: String(row.sku),
    quantity: Number(row.quantity),
    priceCents: Number(row.price_cents),
    currency: String(row.currency),
  };
}

function errorBody(
  statusCode: number,
  code: string,
  message: string,
  field: string | undefined,
  details: Record<string, unknown> = {},
): StoredResponse {
  return { statusCode, body: { error: { code, message, ...(field ? { field } : {}), ...details } } };
}

const UNREACHABLE_NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);
// SQLSTATEs meaning "not now": connection exceptions (class 08), shutdown in progress,
// cannot connect now, too many connections, and a write sent to a read-only replica.
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '25006']);

export function isUnavailable(error: unknown): boolean {
  // Duck-typed: errors from Node's own modules may come from another realm than `Error`.
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string') {
    if (UNREACHABLE_NETWORK_CODES.has(code) || UNAVAILABLE_SQLSTATES.has(code) || code.startsWith('08')) return true;
  }
  return (
    typeof message === 'string' &&
    /connection terminated|timeout exceeded when trying to connect|connection error|not queryable|Connection ended/i.test(
      message,
    )
  );
}

// A statement cancelled by `statement_timeout` or a lock not granted within `lock_timeout`:
// the store is up but contended (e.g. a retry waiting on the same key); retrying helps.
const BUSY_SQLSTATES = new Set(['57014', '55P03']);

function translate(error: unknown): unknown {
  if (isUnavailable(error)) return new StrongStoreUnavailableError(error);
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  if (typeof code === 'string' && BUSY_SQLSTATES.has(code)) return new StrongStoreBusyError(error);
  return error;
}
