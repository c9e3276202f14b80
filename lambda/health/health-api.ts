import type { Logger } from '@aws-lambda-powertools/logger';
import type { ProductCache } from '../cache/product-cache';
import { WRITER_HEALTH_PATH } from '../shared/api-contract';
import { json } from '../shared/http';
import { type DomainHandler, domainHandler } from '../shared/instrumented';
import type { RegionContext } from '../shared/region-context';
import type { EventualStore } from '../stores/eventual-store';
import type { StrongStore } from '../stores/strong-store';
import { healthReport, type StoreCheck, type StrongStoreCheck } from './report';

export interface HealthApiDependencies {
  readonly context: RegionContext;
  readonly eventual: EventualStore;
  readonly strong: StrongStore;
  readonly cache: ProductCache;
  /**
   * Longest wait for any one probe; probes run in parallel, so this bounds the answer.
   * @default 1000
   */
  readonly probeTimeoutMs?: number;
  /**
   * How long one probe's result answers the health routes.
   * @default 2000
   */
  readonly probeCacheMs?: number;
  readonly clock?: () => Date;
}

/**
 * `GET /api/health`: real probes of each store, in parallel, each with a deadline. Both health
 * routes are anonymous (Route 53 sends no token or header), so a probe's result answers every
 * request for `probeCacheMs`: a flood of requests costs the stores one probe per interval.
 */
export function createHealthApi(deps: HealthApiDependencies): DomainHandler {
  const timeoutMs = deps.probeTimeoutMs ?? 1000;
  const clock = deps.clock ?? (() => new Date());
  const maxAgeMs = deps.probeCacheMs ?? 2000;
  const writerAnswer = recent(async (log: Logger) => {
    const check = await probe(() => deps.strong.probe(), timeoutMs);
    if (check.status !== 'ok') log.warn('writer probe failed', { detail: check.detail });
    const writer = check.status === 'ok' && check.value?.writable === true;
    // Always 200: Route 53's check looks for `"writer":true` in the body, so a region that
    // is not the writer is not counted as a failing API on every probe.
    return json(200, {
      region: deps.context.region,
      jurisdiction: deps.context.jurisdiction,
      writer,
      checkedAt: clock().toISOString(),
    });
  }, maxAgeMs);
  const healthAnswer = recent(async (log: Logger) => {
    const [eventualStore, cache, strongStore] = await Promise.all([
      probe(() => deps.eventual.probe(), timeoutMs),
      probe(() => deps.cache.probe(), timeoutMs),
      probe(() => deps.strong.probe(), timeoutMs),
    ]);
    const strong: StrongStoreCheck =
      strongStore.status === 'ok'
        ? {
            ...strongStore,
            writable: strongStore.value?.writable,
            writerHeartbeatAgeMs: strongStore.value?.writerHeartbeatAgeMs,
          }
        : strongStore;
    for (const [store, check] of Object.entries({ eventualStore, cache, strongStore })) {
      // Failure details name hosts and addresses: they go to the log, not to anonymous callers.
      if (check.status !== 'ok') log.warn('health probe failed', { store, detail: check.detail });
    }
    const { statusCode, report } = healthReport(
      deps.context,
      { eventualStore: strip(eventualStore), cache: strip(cache), strongStore: strip(strong) },
      clock(),
    );
    return json(statusCode, report);
  }, maxAgeMs);
  return domainHandler({
    domain: 'health',
    context: deps.context,
    routes: {
      [`GET ${WRITER_HEALTH_PATH}`]: (_event, log) => writerAnswer(log),
      'GET /api/health': (_event, log) => healthAnswer(log),
    },
  });
}

/**
 * `answer`, run at most once per `maxAgeMs`: requests in between share its result, including
 * one still in flight. A monotonic clock, so a pinned or corrected wall clock cannot freeze it.
 */
function recent<T>(answer: (log: Logger) => Promise<T>, maxAgeMs: number): (log: Logger) => Promise<T> {
  let last: { readonly at: number; readonly result: Promise<T> } | undefined;
  return (log) => {
    const now = performance.now();
    if (!last || now - last.at >= maxAgeMs) last = { at: now, result: answer(log) };
    return last.result;
  };
}

async function probe<T>(check: () => Promise<T>, timeoutMs: number): Promise<StoreCheck & { value?: T }> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const value = await Promise.race([
      check(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { status: 'ok', latencyMs: elapsed(started), value };
  } catch (error) {
    return { status: 'unavailable', latencyMs: elapsed(started), detail: (error as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

function strip<T extends StoreCheck & { value?: unknown }>(check: T): Omit<T, 'value' | 'detail'> {
  const { value: _value, detail: _detail, ...rest } = check;
  return rest;
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started);
}
