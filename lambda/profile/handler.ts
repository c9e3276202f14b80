import { notBuiltHandler } from '../shared/not-built';

export const handler = notBuiltHandler('profile');
