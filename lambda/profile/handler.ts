import { regionContextFrom } from '../shared/region-context';
import { EventualStore } from '../stores/eventual-store';
import { createProfileApi } from './profile-api';

export const handler = createProfileApi({
  context: regionContextFrom(process.env),
  eventual: EventualStore.fromEnvironment(process.env),
});
