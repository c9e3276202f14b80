import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { bestEffort, invalidateProduct } from '../cache/best-effort';
import { type ProductCache, productCacheKey } from '../cache/product-cache';
import { checkInput, checkSku, productUpdateSchema } from '../domain/input';
import { likeTotal } from '../domain/like-counter';
import { ADMIN_GROUP } from '../shared/api-contract';
import { ApiError, StrongStoreUnavailableError } from '../shared/api-error';
import { json } from '../shared/http';
import { type DomainHandler, domainHandler } from '../shared/instrumented';
import { metrics } from '../shared/observability';
import type { RegionContext } from '../shared/region-context';
import { type ApiEvent, callerOf, jsonBody, pathParameter, valid } from '../shared/request';
import type { EventualStore } from '../stores/eventual-store';
import type { StrongStore } from '../stores/strong-store';

/** What `GET /api/products/{sku}` answers, and what the regional cache holds. */
export interface ProductView {
  readonly sku: string;
  readonly name: string;
  readonly description?: string;
  readonly priceCents: number;
  readonly currency: string;
  /** Units in the jurisdiction's warehouse; null while the strong store is unreachable. */
  readonly stock: number | null;
  readonly likes: number;
}

export interface ProductsApiDependencies {
  readonly context: RegionContext;
  readonly eventual: EventualStore;
  readonly strong: StrongStore;
  readonly cache: ProductCache;
  /**
   * How long a product page stays in the regional cache. Writes in this region invalidate
   * it at once; this bounds how stale another region's copy can be.
   * @default 60
   */
  readonly cacheTtlSeconds?: number;
  readonly clock?: () => Date;
}

/** The catalog: product pages served cache-aside, and the admin's product update. */
export function createProductsApi(deps: ProductsApiDependencies): DomainHandler {
  const ttl = deps.cacheTtlSeconds ?? 60;
  const clock = deps.clock ?? (() => new Date());
  return domainHandler({
    domain: 'products',
    context: deps.context,
    strongCapability: 'Changing products and stock',
    routes: {
      'GET /api/products/{sku}': async (event, log) => {
        const sku = valid(checkSku(pathParameter(event, 'sku')));
        const key = productCacheKey(deps.context.jurisdiction, sku);
        const cached = await bestEffort(() => deps.cache.get(key), log);
        if (cached) return json(200, JSON.parse(cached), { 'x-cache': 'hit' });
        const view = await loadProduct(deps, sku, log);
        // A page without stock (strong store unreachable) is not cached: it would outlive the outage.
        if (view.stock !== null) await bestEffort(() => deps.cache.set(key, JSON.stringify(view), ttl), log);
        return json(200, view, { 'x-cache': 'miss' });
      },

      'PUT /api/products/{sku}': async (event, log) => {
        requireAdmin(event);
        const sku = valid(checkSku(pathParameter(event, 'sku')));
        const update = valid(checkInput(productUpdateSchema, jsonBody(event)));
        // Stock first: if the strong store is down the request fails with nothing written.
        await deps.strong.putInventory({
          sku,
          quantity: update.stock,
          priceCents: update.priceCents,
          currency: update.currency,
        });
        await deps.eventual.putProductDetails({
          sku,
          name: update.name,
          priceCents: update.priceCents,
          currency: update.currency,
          updatedAt: clock().getTime(),
          ...(update.description !== undefined ? { description: update.description } : {}),
        });
        await invalidateProduct(deps.cache, deps.context.jurisdiction, sku, log);
        return json(200, await loadProduct(deps, sku, log));
      },
    },
  });
}

async function loadProduct(deps: ProductsApiDependencies, sku: string, log: Logger): Promise<ProductView> {
  const [{ details, likes }, stock] = await Promise.all([
    deps.eventual.getProduct(sku),
    deps.strong.getInventory(sku).then(
      (row) => row?.quantity ?? 0,
      (error: unknown) => {
        if (!(error instanceof StrongStoreUnavailableError)) throw error;
        log.warn('strong store unreachable; product served without stock', { sku });
        metrics.addMetric('StrongStoreUnavailable', MetricUnit.Count, 1);
        return null;
      },
    ),
  ]);
  if (!details) throw new ApiError(404, 'PRODUCT_NOT_FOUND', `No product ${sku} in this catalog`, { field: 'sku' });
  return {
    sku,
    name: details.name,
    ...(details.description !== undefined ? { description: details.description } : {}),
    priceCents: details.priceCents,
    currency: details.currency,
    stock,
    likes: likeTotal(likes),
  };
}

function requireAdmin(event: ApiEvent): void {
  const caller = callerOf(event);
  if (!caller.groups.includes(ADMIN_GROUP)) {
    throw new ApiError(403, 'FORBIDDEN', `Only members of the ${ADMIN_GROUP} group may change products`);
  }
}
