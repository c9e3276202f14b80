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
  readonly clock?: () => Date;
}

/** `GET /api/health`: real probes of each store, in parallel, each with a deadline. */
export function createHealthApi(deps: HealthApiDependencies): DomainHandler {
  const timeoutMs = deps.probeTimeoutMs ?? 1000;
  const clock = deps.clock ?? (() => new Date());
  return domainHandler({
    domain: 'health',
    context: deps.context,
    routes: {
      [`GET ${WRITER_HEALTH_PATH}`]: async (_event, log) => {
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
      },
      'GET /api/health': async (_event, log) => {
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
      },
    },
  });
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
