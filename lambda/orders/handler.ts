import { ProductCache } from '../cache/product-cache';
import { RecordingCardProcessor } from '../payments/card-processor';
import { logger } from '../shared/observability';
import { regionContextFrom } from '../shared/region-context';
import { StrongStore } from '../stores/strong-store';
import { createOrdersApi } from './orders-api';

// The blueprint ships no card processor integration: a deployment implements
// `CardProcessor` with its processor's SDK and passes it here.
logger.warn('orders use the recording card processor: no real money moves');

export const handler = createOrdersApi({
  context: regionContextFrom(process.env),
  strong: StrongStore.fromEnvironment(process.env),
  payments: new RecordingCardProcessor(),
  cache: ProductCache.fromEnvironment(process.env),
});
