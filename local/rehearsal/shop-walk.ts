import type { Topology } from '../../lib/config/topology';
import { type Answer, type CallOptions, request } from '../bench/flows';
import { callControl } from '../control-client';
import type { LocalPlatform } from '../platform';

/**
 * Every route of the API, taken by a shopper and an admin at each serving region's own
 * endpoint (so a standby region of active-passive runs too), so each domain function runs
 * its calls in each region: the catalog written (strong, at the writer), read, liked; the
 * profile and cart written and read; an order placed and read; health. Throws on an answer
 * the API does not promise.
 */
export async function walkTheShop(platform: LocalPlatform, topology: Topology): Promise<number> {
  const urlOf = new Map(platform.regions.map((handle) => [handle.region, handle.url]));
  let requests = 0;
  for (const jurisdiction of topology.jurisdictions) {
    const token = (sub: string, admin = false) =>
      callControl(platform.controlUrl, 'POST', '/tokens', { jurisdiction: jurisdiction.name, sub, admin }).then(
        (body: { token: string }) => body.token,
      );
    const admin = await token('rehearsal-admin', true);
    for (const region of topology.deployOrder(jurisdiction)) {
      const sku = `REHEARSAL-${region.toUpperCase()}`;
      const shopper = await token(`rehearsal-${region}`);
      const ask = (method: string, path: string, options: CallOptions = {}) =>
        // Straight to the region's API, with the proof of origin CloudFront would add.
        request(`${urlOf.get(region)}${path}`, method, {
          ...options,
          headers: { ...platform.originHeaders, ...options.headers },
        });
      const call = async (method: string, path: string, expected: number[], options: CallOptions = {}) => {
        requests++;
        const answer: Answer = await ask(method, path, options);
        if (!expected.includes(answer.status))
          throw new Error(`${method} ${path} from ${region}: HTTP ${answer.status} ${JSON.stringify(answer.body)}`);
        return answer;
      };
      await call('GET', '/api/health', [200]);
      await call('PUT', `/api/products/${sku}`, [200], {
        token: admin,
        body: {
          name: 'Rehearsal',
          priceCents: 100,
          currency: jurisdiction.residency === 'eu' ? 'EUR' : 'USD',
          stock: 5,
        },
      });
      await untilAnswered(() => ask('GET', `/api/products/${sku}`), 200);
      requests++;
      await call('POST', `/api/products/${sku}/likes`, [200, 201], {
        token: shopper,
        headers: { 'Idempotency-Key': `like-${region}` },
      });
      await call('GET', `/api/products/${sku}/likes`, [200]);
      await call('PUT', '/api/me/profile', [200], { token: shopper, body: { displayName: 'Rehearsal' } });
      await call('GET', '/api/me/profile', [200], { token: shopper });
      await call('POST', '/api/me/cart/items', [200, 201], { token: shopper, body: { sku, quantity: 1 } });
      await call('GET', '/api/me/cart', [200], { token: shopper });
      await call('DELETE', `/api/me/cart/items/${sku}`, [200, 204], { token: shopper });
      const order = await call('POST', '/api/orders', [201, 503], {
        token: shopper,
        headers: { 'Idempotency-Key': `order-${region}` },
        body: { lines: [{ sku, quantity: 1 }] },
      });
      if (order.status === 201) await call('GET', `/api/orders/${order.body.id}`, [200], { token: shopper });
    }
  }
  return requests;
}

/** The product written at the writer reaches this region's replica within seconds. */
async function untilAnswered(ask: () => Promise<Answer>, status: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await ask();
    if (answer.status === status) return;
    if (Date.now() > deadline)
      throw new Error(`no HTTP ${status} within ${timeoutMs} ms: ${JSON.stringify(answer.body)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
