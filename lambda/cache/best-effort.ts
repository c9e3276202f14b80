import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { metrics } from '../shared/observability';
import { CacheUnavailableError, type ProductCache, productCacheKey } from './product-cache';

/** Drops a product page from this region's cache after a write that changes it. */
export async function invalidateProduct(cache: ProductCache, jurisdiction: string, sku: string, log: Logger) {
  await bestEffort(() => cache.invalidate(productCacheKey(jurisdiction, sku)), log);
}

/** The cache never fails a request: a cache error is logged, counted and treated as a miss. */
export async function bestEffort<T>(operation: () => Promise<T>, log: Logger): Promise<T | undefined> {
  try {
    return await operation();
  } catch (error) {
    if (!(error instanceof CacheUnavailableError)) throw error;
    log.warn('cache unavailable; going to the store', { reason: error.message });
    metrics.addMetric('CacheUnavailable', MetricUnit.Count, 1);
    return undefined;
  }
}
