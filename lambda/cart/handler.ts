import { regionContextFrom } from '../shared/region-context';
import { EventualStore } from '../stores/eventual-store';
import { createCartApi } from './cart-api';

export const handler = createCartApi({
  context: regionContextFrom(process.env),
  eventual: EventualStore.fromEnvironment(process.env),
});
