import { ProductCache } from '../cache/product-cache';
import { cardProcessorFromEnvironment } from '../payments/processor-from-environment';
import { regionContextFrom } from '../shared/region-context';
import { StrongStore } from '../stores/strong-store';
import { createOrdersApi } from './orders-api';

// PAYMENT_PROCESSOR picks the card processor: none by default (orders answer 503), the
// recording stand-in for demos, or Stripe through the payments function.
export const handler = createOrdersApi({
  context: regionContextFrom(process.env),
  strong: StrongStore.fromEnvironment(process.env),
  payments: cardProcessorFromEnvironment(process.env),
  cache: ProductCache.fromEnvironment(process.env),
});
