import {
  IdempotencyAlreadyInProgressError,
  IdempotencyConfig,
  makeIdempotent,
} from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { Context } from 'aws-lambda';
import { bestEffort, invalidateProduct } from '../cache/best-effort';
import { type ProductCache, productCacheKey } from '../cache/product-cache';
import { checkSku, IDEMPOTENCY_KEY_PATTERN } from '../domain/input';
import { likeTotal } from '../domain/like-counter';
import { ApiError } from '../shared/api-error';
import { json } from '../shared/http';
import { type DomainHandler, domainHandler } from '../shared/instrumented';
import type { RegionContext } from '../shared/region-context';
import { callerOf, header, pathParameter, requireNoBody, valid } from '../shared/request';
import type { EventualStore } from '../stores/eventual-store';

export interface LikesApiDependencies {
  readonly context: RegionContext;
  readonly eventual: EventualStore;
  readonly cache: ProductCache;
}

interface LikeRequest {
  readonly userId: string;
  readonly sku: string;
  readonly idempotencyKey: string;
}

/**
 * `GET /api/products/{sku}/likes`: the total as the region's cached product page has it,
 * else read from the store (`x-cache` says which; a miss does not fill the cache, which
 * needs the stock only the product route reads). A like made in this region drops that
 * page; likes from other regions, and a like racing a page read that re-caches the older
 * page, show within its TTL, as on the page itself.
 *
 * `POST /api/products/{sku}/likes`: +1 on this region's G-Counter entry. A client that
 * retries with the same `Idempotency-Key` is counted once: Powertools' idempotency
 * utility fits here because a like is one DynamoDB update whose result is worth
 * remembering, and its records live in the jurisdiction's own table (so stay in it).
 */
export function createLikesApi(deps: LikesApiDependencies): DomainHandler {
  const addLike = async ({ sku }: { sku: string }) => {
    await deps.eventual.incrementLikes(sku, deps.context.region);
    return { counted: true };
  };
  const idempotency = new IdempotencyConfig({
    eventKeyJmesPath: '[userId, sku, idempotencyKey]',
    expiresAfterSeconds: 3600,
  });
  // Only the increment is made idempotent: a failure after it (the read of the total)
  // must not delete the record and let a retry count the like again.
  const addLikeOnce = makeIdempotent(async (request: LikeRequest) => addLike(request), {
    persistenceStore: new DynamoDBPersistenceLayer({
      tableName: deps.eventual.tableName,
      awsSdkV3Client: deps.eventual.client,
      keyAttr: 'pk',
      sortKeyAttr: 'sk',
      staticPkValue: 'IDEMPOTENCY#likes',
      expiryAttr: 'expiresAt',
    }),
    config: idempotency,
  });

  return domainHandler({
    domain: 'likes',
    context: deps.context,
    routes: {
      'GET /api/products/{sku}/likes': async (event, log) => {
        const sku = valid(checkSku(pathParameter(event, 'sku')));
        const cached = await bestEffort(() => deps.cache.get(productCacheKey(deps.context.jurisdiction, sku)), log);
        if (cached)
          return json(200, { sku, likes: (JSON.parse(cached) as { likes: number }).likes }, { 'x-cache': 'hit' });
        const { details, likes } = await deps.eventual.getProduct(sku);
        if (!details)
          throw new ApiError(404, 'PRODUCT_NOT_FOUND', `No product ${sku} in this catalog`, { field: 'sku' });
        return json(200, { sku, likes: likeTotal(likes) }, { 'x-cache': 'miss' });
      },
      'POST /api/products/{sku}/likes': async (event, log, lambdaContext) => {
        // Lets an in-progress record expire with this invocation if it times out.
        if (lambdaContext?.getRemainingTimeInMillis) idempotency.registerLambdaContext(lambdaContext as Context);
        const caller = callerOf(event);
        const sku = valid(checkSku(pathParameter(event, 'sku')));
        requireNoBody(event);
        const idempotencyKey = header(event, 'idempotency-key');
        if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY_PATTERN.test(idempotencyKey)) {
          throw new ApiError(400, 'INVALID_INPUT', 'Idempotency-Key must be 1-128 letters, digits or _.:-', {
            field: 'Idempotency-Key',
          });
        }
        const { details } = await deps.eventual.getProduct(sku);
        if (!details)
          throw new ApiError(404, 'PRODUCT_NOT_FOUND', `No product ${sku} in this catalog`, { field: 'sku' });
        try {
          if (idempotencyKey) await addLikeOnce({ userId: caller.userId, sku, idempotencyKey });
          else await addLike({ sku });
        } catch (error) {
          if (error instanceof IdempotencyAlreadyInProgressError) {
            throw new ApiError(409, 'REQUEST_IN_PROGRESS', 'A like with this Idempotency-Key is still being recorded', {
              field: 'Idempotency-Key',
            });
          }
          throw error;
        }
        await invalidateProduct(deps.cache, deps.context.jurisdiction, sku, log);
        const { likes } = await deps.eventual.getProduct(sku);
        return json(200, { sku, likes: likeTotal(likes) });
      },
    },
  });
}
