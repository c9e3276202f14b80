import type { FlowName } from './flows';
import type { ModelName } from './models';

/** Milliseconds, from an HdrHistogram of microseconds. */
export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  /**
   * 95 % confidence intervals of p50 and p95 from these samples (distribution-free, see
   * `percentile-interval.ts`): how far a re-run's figure may move by chance alone. The
   * upper end is null when no sample bounds it (too few samples for that percentile).
   */
  readonly p50Interval: Interval;
  readonly p95Interval: Interval;
}

export type Interval = readonly [low: number, high: number | null];

/** One model × client location × flow. */
export interface CellResult {
  readonly location: string;
  readonly flow: FlowName;
  /**
   * Flows that answered as the API promises, from each one's intended start to its last
   * answer (a product page: all three calls).
   */
  readonly latency: LatencySummary;
  /** Flows with an answer the API does not promise (or no answer); not in `latency`. */
  readonly errors: number;
  readonly errorSamples: readonly string[];
  /** HTTP requests the flows made. */
  readonly requests: number;
  /** Cross-region round trips per request as the platform counted them: the most any made, and the mean. */
  readonly tripsPerRequestMax: number;
  readonly tripsPerRequestMean: number;
}

export interface ReplicationLag {
  readonly jurisdiction: string;
  readonly from: string;
  readonly to: string;
  /** From the write's answer in `from` to the first read in `to` that shows it. */
  readonly lag: LatencySummary;
  /** Probes written but not visible within 10 s. */
  readonly unseen: number;
  /** Probe writes that failed (not timed). */
  readonly failedWrites: number;
}

/**
 * Stock changed at the primary, read from a secondary's replica of the strong store; `lag` is
 * timed from when the change was sent (the stock commits before the request's answer).
 */
export interface StockReplicaLag extends ReplicationLag {
  /** The replica's configured apply delay (the one-way distance unless set): the floor of `lag`. */
  readonly injectedLagMs: number;
}

export interface CheckoutAudit {
  readonly jurisdiction: string;
  /** Measured checkouts sent (one unit each of the checkout product). */
  readonly attempts: number;
  readonly initialStock: number;
  /** Orders the API confirmed (201). */
  readonly confirmedUnits: number;
  /** Orders refused with 409 INSUFFICIENT_STOCK. */
  readonly refusedSoldOut: number;
  readonly finalStock: number;
  /** Units confirmed beyond the stock there was: must be 0. */
  readonly oversoldUnits: number;
  /** Stock taken minus units confirmed: 0 when every unit sold is an order the shopper was told of. */
  readonly stockMismatch: number;
  /** Captures the card processor kept (not voided), unmeasured orders (warm-up, replication phase) included. */
  readonly charges: number;
  /** Kept captures beyond one per confirmed order: must be 0. */
  readonly duplicateCharges: number;
  /** Kept captures for an order no shopper was told of: must be 0. */
  readonly chargesWithoutOrder: number;
  /** Confirmed orders the processor kept no capture for: must be 0. */
  readonly ordersWithoutCharge: number;
  /** Checkouts sent a second time with the same Idempotency-Key. */
  readonly retriesSent: number;
  /** Retries that answered differently from the first request: must be empty. */
  readonly retryMismatches: readonly string[];
}

export interface ModelResult {
  readonly label: string;
  readonly model: ModelName;
  readonly description: string;
  readonly regions: readonly { readonly jurisdiction: string; readonly regions: readonly string[] }[];
  /** Each client location's home jurisdiction in this model. */
  readonly homes: Readonly<Record<string, string>>;
  readonly cells: readonly CellResult[];
  /** Profiles (the eventual store, DynamoDB global tables) between the regions of each jurisdiction. */
  readonly replication: readonly ReplicationLag[];
  /** Stock (the strong store, Aurora's cross-region replica) from each primary to its secondaries. */
  readonly stockReplication: readonly StockReplicaLag[];
  readonly checkout: readonly CheckoutAudit[];
}

export interface BenchSettings {
  readonly durationS: number;
  readonly warmupS: number;
  /** Seconds after the measured window in which replication lag was observed, under the same load. */
  readonly replicationPhaseS: number;
  readonly ratesPerLocation: Readonly<Record<FlowName, number>>;
  readonly replicationDelayMs: number;
  readonly distanceScale: number;
}

export interface BenchResult {
  readonly finishedAt: string;
  readonly machine: { readonly cpus: number; readonly node: string };
  readonly settings: BenchSettings;
  /** The three models with the published round trips. */
  readonly models: readonly ModelResult[];
  /** A model with no injected delay at all: what the harness and local engines add. */
  readonly overhead: ModelResult;
}
