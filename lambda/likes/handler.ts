import { ProductCache } from '../cache/product-cache';
import { regionContextFrom } from '../shared/region-context';
import { EventualStore } from '../stores/eventual-store';
import { createLikesApi } from './likes-api';

export const handler = createLikesApi({
  context: regionContextFrom(process.env),
  eventual: EventualStore.fromEnvironment(process.env),
  cache: ProductCache.fromEnvironment(process.env),
});
