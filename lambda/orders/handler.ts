import { ProductCache } from '../cache/product-cache';
import { RecordingCardProcessor, UnconfiguredCardProcessor } from '../payments/card-processor';
import { optionalEnv } from '../shared/environment';
import { regionContextFrom } from '../shared/region-context';
import { StrongStore } from '../stores/strong-store';
import { createOrdersApi } from './orders-api';

// The blueprint ships no card processor integration: a deployment implements
// `CardProcessor` with its processor's SDK and passes it here. Until then orders are
// refused (503), unless PAYMENT_PROCESSOR=recording asks for the local stand-in that
// approves everything and moves no money.
const payments =
  optionalEnv(process.env, 'PAYMENT_PROCESSOR') === 'recording'
    ? new RecordingCardProcessor()
    : new UnconfiguredCardProcessor();

export const handler = createOrdersApi({
  context: regionContextFrom(process.env),
  strong: StrongStore.fromEnvironment(process.env),
  payments,
  cache: ProductCache.fromEnvironment(process.env),
});
