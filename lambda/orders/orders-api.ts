import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { invalidateProduct } from '../cache/best-effort';
import type { ProductCache } from '../cache/product-cache';
import { checkOrderRequest, IDEMPOTENCY_KEY_PATTERN } from '../domain/input';
import {
  type CardProcessor,
  PaymentOutcomeUnknownError,
  PaymentUnavailableError,
  withPaymentMethod,
} from '../payments/card-processor';
import { ApiError, STRONG_STORE_RETRY_AFTER_SECONDS } from '../shared/api-error';
import { json } from '../shared/http';
import { type DomainHandler, domainHandler } from '../shared/instrumented';
import { metrics } from '../shared/observability';
import type { RegionContext } from '../shared/region-context';
import { callerOf, header, jsonBody, pathParameter, valid } from '../shared/request';
import type { StrongStore } from '../stores/strong-store';

export interface OrdersApiDependencies {
  readonly context: RegionContext;
  readonly strong: StrongStore;
  readonly payments: CardProcessor;
  /** This region's product cache, cleared of the SKUs an order took stock from. */
  readonly cache?: ProductCache;
  readonly clock?: () => Date;
}

/**
 * Seconds a client waits before retrying an order whose payment outcome is unknown: past
 * the payments function's timeout (15 s), so an attempt still running there has ended and
 * the retry finds its payment rather than racing it.
 */
export const PAYMENT_OUTCOME_RETRY_AFTER_SECONDS = 20;

const ORDER_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Orders, in the jurisdiction's primary region: placed exactly once per idempotency key,
 * all or nothing with the payment capture, never selling stock that is not there.
 */
export function createOrdersApi(deps: OrdersApiDependencies): DomainHandler {
  const clock = deps.clock ?? (() => new Date());
  return domainHandler({
    domain: 'orders',
    context: deps.context,
    strongCapability: 'Ordering',
    routes: {
      'POST /api/orders': async (event, log) => {
        const { userId } = callerOf(event);
        const idempotencyKey = header(event, 'idempotency-key');
        if (idempotencyKey === undefined || !IDEMPOTENCY_KEY_PATTERN.test(idempotencyKey)) {
          throw new ApiError(
            400,
            'INVALID_INPUT',
            'Idempotency-Key header is required: 1-128 letters, digits or _.:-, new for each order',
            { field: 'Idempotency-Key' },
          );
        }
        const request = valid(checkOrderRequest(jsonBody(event)));
        // Checked before the key is claimed: the key stays unspent and nothing is reserved.
        if (deps.payments.requiresPaymentMethod && request.paymentMethod === undefined) {
          throw new ApiError(
            400,
            'INVALID_INPUT',
            'paymentMethod is required: a Stripe PaymentMethod id (pm_...) created for this payment, not attached to a customer',
            { field: 'paymentMethod' },
          );
        }
        const outcome = await deps.strong
          .placeOrder(
            { userId, idempotencyKey, request, region: deps.context.region, now: clock() },
            withPaymentMethod(deps.payments, request.paymentMethod),
            (payment) => {
              log.error('payment outcome unknown: a payment may stand without an order', { ...payment });
              metrics.addMetric('PaymentOutcomeUnknown', MetricUnit.Count, 1);
            },
          )
          .catch((error: unknown) => {
            if (error instanceof PaymentOutcomeUnknownError) {
              log.error('payment outcome unknown', { reason: error.message });
              throw new ApiError(
                503,
                'PAYMENT_OUTCOME_UNKNOWN',
                `The payment's outcome is not known yet and the card may have been charged; no order was placed. Retry with the same Idempotency-Key and body after ${PAYMENT_OUTCOME_RETRY_AFTER_SECONDS} seconds: the retry finds this payment and never charges twice.`,
                { headers: { 'retry-after': String(PAYMENT_OUTCOME_RETRY_AFTER_SECONDS) } },
              );
            }
            if (!(error instanceof PaymentUnavailableError)) throw error;
            log.warn('card processor unavailable', { reason: error.message });
            throw new ApiError(
              503,
              'PAYMENT_UNAVAILABLE',
              'Payments cannot be taken right now; nothing was charged or reserved. Retry later.',
              { headers: { 'retry-after': String(STRONG_STORE_RETRY_AFTER_SECONDS) } },
            );
          });
        if (outcome.kind === 'key-reused') {
          throw new ApiError(
            422,
            'IDEMPOTENCY_KEY_REUSED',
            'This Idempotency-Key was used for a different order; use a new key for a new order',
            { field: 'Idempotency-Key' },
          );
        }
        const { response, replayed } = outcome;
        metrics.addMetric(replayed ? 'OrderReplayed' : `Order${response.statusCode}`, MetricUnit.Count, 1);
        if (response.statusCode === 201 && !replayed) await invalidateSkus(deps, request.lines, log);
        return json(response.statusCode, response.body);
      },

      'GET /api/orders/{id}': async (event) => {
        const { userId } = callerOf(event);
        const id = pathParameter(event, 'id');
        if (id === undefined || !ORDER_ID_PATTERN.test(id)) {
          throw new ApiError(400, 'INVALID_INPUT', 'id must be an order id (a UUID)', { field: 'id' });
        }
        // Someone else's order is "not found" too: its existence is not the caller's business.
        const order = await deps.strong.getOrder(userId, id);
        if (!order) throw new ApiError(404, 'ORDER_NOT_FOUND', `No order ${id} of yours`, { field: 'id' });
        return json(200, order);
      },
    },
  });
}

async function invalidateSkus(deps: OrdersApiDependencies, lines: readonly { sku: string }[], log: Logger) {
  const cache = deps.cache;
  if (!cache) return;
  await Promise.all(lines.map((line) => invalidateProduct(cache, deps.context.jurisdiction, line.sku, log)));
}
