import type { ProductCache } from '../lambda/cache/product-cache';
import { createCartApi } from '../lambda/cart/cart-api';
import { createHealthApi } from '../lambda/health/health-api';
import { createLikesApi } from '../lambda/likes/likes-api';
import { createOrdersApi } from '../lambda/orders/orders-api';
import type { CardProcessor } from '../lambda/payments/card-processor';
import { createProductsApi } from '../lambda/products/products-api';
import { createProfileApi } from '../lambda/profile/profile-api';
import type { ApiDomain } from '../lambda/shared/api-contract';
import type { DomainHandler } from '../lambda/shared/instrumented';
import type { RegionContext } from '../lambda/shared/region-context';
import type { EventualStore } from '../lambda/stores/eventual-store';
import type { StrongStore } from '../lambda/stores/strong-store';

export interface RegionalStores {
  readonly eventual: EventualStore;
  readonly strong: StrongStore;
  readonly cache: ProductCache;
  readonly payments: CardProcessor;
}

/** One region's six domain handlers, built exactly as each `lambda/<domain>/handler.ts` does. */
export function regionalHandlers(
  context: RegionContext,
  stores: RegionalStores,
  clock?: () => Date,
  /** Product-page TTL in the regional cache. @default 60 */
  cacheTtlSeconds?: number,
): Readonly<Record<ApiDomain, DomainHandler>> {
  const { eventual, strong, cache, payments } = stores;
  return {
    health: createHealthApi({ context, eventual, strong, cache, clock }),
    products: createProductsApi({ context, eventual, strong, cache, clock, cacheTtlSeconds }),
    likes: createLikesApi({ context, eventual, cache }),
    profile: createProfileApi({ context, eventual, clock }),
    cart: createCartApi({ context, eventual }),
    orders: createOrdersApi({ context, strong, payments, cache, clock }),
  };
}
