import { callControl } from '../control-client';
import type { PlatformUrls } from './platform-process';

export function control(urls: PlatformUrls, method: string, path: string, body?: unknown): Promise<any> {
  return callControl(urls.controlUrl, method, path, body);
}

/** A signed-in user's ID token from the jurisdiction's pool. */
export async function token(urls: PlatformUrls, jurisdiction: string, sub: string, admin = false): Promise<string> {
  return (await control(urls, 'POST', '/tokens', { jurisdiction, sub, admin })).token;
}
