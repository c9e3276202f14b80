import type { RegionContext } from '../shared/region-context';

export type CheckStatus = 'ok' | 'unavailable';

export interface StoreCheck {
  readonly status: CheckStatus;
  readonly latencyMs: number;
  /** Why a probe failed; logged, never put in the public report. */
  readonly detail?: string;
}

export interface StrongStoreCheck extends StoreCheck {
  /** False on a secondary region's replica: strong writes are served by the primary. */
  readonly writable?: boolean;
  /** How old the writer's heartbeat is as this region's cluster sees it (see `StrongStore.probe`). */
  readonly writerHeartbeatAgeMs?: number;
}

/**
 * A secondary whose copy of the writer's heartbeat is older than this has no writer to send
 * strong requests to: the writer's region is down or cut off. Aurora global database
 * replication normally lags under a second; the writer stamps every 5 s.
 */
export const WRITER_HEARTBEAT_STALE_MS = 30_000;

export interface HealthChecks {
  readonly eventualStore: StoreCheck;
  readonly cache: StoreCheck;
  readonly strongStore: StrongStoreCheck;
}

export interface HealthReport {
  readonly region: string;
  readonly jurisdiction: string;
  /**
   * `read-only` when strong requests would be refused: the strong store does not answer,
   * this is the primary region and its cluster is not the writer, or this is a secondary
   * and the writer's heartbeat has not reached it for `WRITER_HEARTBEAT_STALE_MS`.
   */
  readonly mode: 'read-write' | 'read-only';
  readonly checks: HealthChecks;
  readonly checkedAt: string;
}

/**
 * The health document and its status code. A region serves (200) as long as its
 * DynamoDB replica answers, since reads and eventual writes need nothing else; a dead
 * cache only slows it, and a dead strong store makes it read-only for strong domains,
 * which is not a reason to send its users to another continent. 503 makes Route 53 fail
 * the region over.
 */
export function healthReport(
  context: RegionContext,
  checks: HealthChecks,
  now: Date,
): { statusCode: 200 | 503; report: HealthReport } {
  const strong = checks.strongStore;
  const isPrimary = context.region === context.primaryRegion;
  const writerReachable =
    strong.writable === true || (strong.writerHeartbeatAgeMs ?? Infinity) <= WRITER_HEARTBEAT_STALE_MS;
  const readWrite = strong.status === 'ok' && (isPrimary ? strong.writable === true : writerReachable);
  return {
    statusCode: checks.eventualStore.status === 'ok' ? 200 : 503,
    report: {
      region: context.region,
      jurisdiction: context.jurisdiction,
      mode: readWrite ? 'read-write' : 'read-only',
      checks,
      checkedAt: now.toISOString(),
    },
  };
}
