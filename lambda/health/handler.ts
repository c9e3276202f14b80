import { ProductCache } from '../cache/product-cache';
import { regionContextFrom } from '../shared/region-context';
import { EventualStore } from '../stores/eventual-store';
import { StrongStore } from '../stores/strong-store';
import { createHealthApi } from './health-api';

export const handler = createHealthApi({
  context: regionContextFrom(process.env),
  eventual: EventualStore.fromEnvironment(process.env),
  strong: StrongStore.fromEnvironment(process.env),
  cache: ProductCache.fromEnvironment(process.env),
});
