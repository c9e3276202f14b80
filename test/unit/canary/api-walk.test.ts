import { canaryConfigFrom, type FetchLike, parseTargets, walkApi } from '../../../lambda/canary/api-walk';
import { CognitoTokenSource } from '../../../lambda/canary/cognito-token-source';
import { handler } from '../../../lambda/canary/handler';
import { CANARY_VARIABLES, failureOf, restoreCanaryEnvironmentAfterEach } from '../../support/canary-walk';

// The canary's walk and configuration on their own: stand-in fetches, no platform. The walk
// against the local platform is in test/integration/canary/api-walk.test.ts.

describe('the Synthetics handler', () => {
  restoreCanaryEnvironmentAfterEach();

  test('a missing variable stops the run before any sign-in, naming it', async () => {
    const signIn = jest.spyOn(CognitoTokenSource.prototype, 'token');
    for (const name of CANARY_VARIABLES) delete process.env[name];
    await expect(handler()).rejects.toThrow('CANARY_TARGETS is not set');
    expect(signIn).not.toHaveBeenCalled();
  });
});

describe('walkApi on its own', () => {
  const healthy = { region: 'r1', mode: 'read-write', checks: { eventualStore: { status: 'ok' } } };
  const answers =
    (routes: Record<string, [number, unknown]>): FetchLike =>
    async (url, init) => {
      const key = `${init.method} ${new URL(url).pathname}`;
      const [status, body] = routes[key] ?? [404, { message: 'Not Found' }];
      return new Response(typeof body === 'string' ? body : JSON.stringify(body), { status });
    };
  const walk = (fetchFn: FetchLike, timeoutMs = 1000) =>
    walkApi({ label: 'stub', baseUrl: 'https://api.example.test/', fetch: fetchFn, token: 't', sku: 'S-1', timeoutMs });

  test('each step has a deadline: a stalled answer fails that step, naming the deadline', async () => {
    const stalled: FetchLike = (_url, init) =>
      new Promise((_resolve, reject) => {
        init.signal?.addEventListener('abort', () => reject(init.signal?.reason));
      });
    const started = Date.now();
    const error = await failureOf(walk(stalled, 50));
    expect(Date.now() - started).toBeLessThan(2000);
    expect([error.step, error.status]).toEqual(['health', undefined]);
    expect(error.message).toBe("stub: step 'health' failed: no response, GET /api/health: no answer within 50 ms");
  });

  test('a connection that fails is named as such', async () => {
    const refused: FetchLike = async () => {
      throw new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:9') });
    };
    const error = await failureOf(walk(refused));
    expect(error.message).toContain('request failed: fetch failed (connect ECONNREFUSED 127.0.0.1:9)');
  });

  test('a 200 health report that does not say healthy fails the health step', async () => {
    const unhealthy = { ...healthy, checks: { eventualStore: { status: 'unavailable' } } };
    const error = await failureOf(walk(answers({ 'GET /api/health': [200, unhealthy] })));
    expect([error.step, error.status]).toEqual(['health', 200]);
    expect(error.message).toContain('does not say healthy');
    const notJson = await failureOf(walk(answers({ 'GET /api/health': [200, '<html>ok</html>'] })));
    expect(notJson.message).toContain('expected a health report naming its region; body: <html>ok</html>');
  });

  test('a cart without the SKU fails the cart step; long bodies are cut short', async () => {
    const routes: Record<string, [number, unknown]> = {
      'GET /api/health': [200, healthy],
      'GET /api/products/S-1': [200, { sku: 'S-1' }],
      'POST /api/me/cart/items': [200, { items: [] }],
      'GET /api/me/cart': [200, { items: [{ sku: 'OTHER', quantity: 1 }], note: 'x'.repeat(500) }],
    };
    const error = await failureOf(walk(answers(routes)));
    expect([error.step, error.status]).toEqual(['cart', 200]);
    expect(error.message).toContain('S-1 is not in the cart');
    expect(error.excerpt.length).toBeLessThanOrEqual(201);
    expect(error.excerpt.endsWith('…')).toBe(true);
  });

  test('sends the token on the cart steps only, and the JSON body the cart route takes', async () => {
    const seen: [string, string | null, string | undefined][] = [];
    const recording: FetchLike = async (url, init) => {
      const headers = new Headers(init.headers);
      seen.push([`${init.method} ${new URL(url).pathname}`, headers.get('authorization'), init.body as string]);
      return answers({
        'GET /api/health': [200, healthy],
        'GET /api/products/S-1': [200, { sku: 'S-1' }],
        'POST /api/me/cart/items': [200, { items: [{ sku: 'S-1', quantity: 1 }] }],
        'GET /api/me/cart': [200, { items: [{ sku: 'S-1', quantity: 1 }] }],
        'DELETE /api/me/cart/items/S-1': [200, { items: [] }],
      })(url, init);
    };
    await walk(recording);
    expect(seen).toEqual([
      ['GET /api/health', null, undefined],
      ['GET /api/products/S-1', null, undefined],
      ['POST /api/me/cart/items', 'Bearer t', '{"sku":"S-1","quantity":1}'],
      ['GET /api/me/cart', 'Bearer t', undefined],
      ['DELETE /api/me/cart/items/S-1', 'Bearer t', undefined],
    ]);
  });
});

describe('canary configuration', () => {
  const env = {
    CANARY_TARGETS: JSON.stringify([
      { label: 'global', baseUrl: 'https://api.shop.example.com' },
      { label: 'regional', baseUrl: 'https://abc.execute-api.eu-west-1.amazonaws.com' },
    ]),
    CANARY_SKU: 'CANARY-1',
    CANARY_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:canary-AbCdEf',
    USER_POOL_ID: 'eu-west-1_AbCdEfGhI',
    USER_POOL_CLIENT_ID: 'client',
    USER_POOL_REGION: 'eu-west-1',
  };

  test('reads every variable, with a 10 s step deadline by default', () => {
    expect(canaryConfigFrom(env)).toEqual({
      targets: [
        { label: 'global', baseUrl: 'https://api.shop.example.com' },
        { label: 'regional', baseUrl: 'https://abc.execute-api.eu-west-1.amazonaws.com' },
      ],
      sku: 'CANARY-1',
      secretArn: env.CANARY_SECRET_ARN,
      userPoolId: env.USER_POOL_ID,
      userPoolClientId: 'client',
      userPoolRegion: 'eu-west-1',
      stepTimeoutMs: 10_000,
    });
    expect(canaryConfigFrom({ ...env, CANARY_STEP_TIMEOUT_MS: '2500' }).stepTimeoutMs).toBe(2500);
  });

  test('names what is missing or malformed', () => {
    expect(() => canaryConfigFrom({ ...env, CANARY_SKU: '' })).toThrow('CANARY_SKU is not set');
    expect(() => canaryConfigFrom({ ...env, CANARY_STEP_TIMEOUT_MS: 'soon' })).toThrow('CANARY_STEP_TIMEOUT_MS');
    expect(() => parseTargets('nope')).toThrow('CANARY_TARGETS is not JSON');
    expect(() => parseTargets('[]')).toThrow('non-empty list');
    expect(() => parseTargets('[{"label":"x","baseUrl":"ftp://x"}]')).toThrow('CANARY_TARGETS[0].baseUrl');
    expect(() => parseTargets('[{"baseUrl":"https://x"}]')).toThrow('CANARY_TARGETS[0].label');
  });
});
