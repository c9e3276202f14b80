import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type FetchLike, WALK_STEPS, type WalkError, walkApi, walkTargets } from '../../../lambda/canary/api-walk';
import { CognitoTokenSource } from '../../../lambda/canary/cognito-token-source';
import { handler } from '../../../lambda/canary/handler';
import { ORIGIN_PROOF_HEADER } from '../../../lambda/shared/api-contract';
import type { LocalPlatform } from '../../../local/platform';
import { failureOf, restoreCanaryEnvironmentAfterEach } from '../../support/canary-walk';
import { documentedFetch } from '../../support/openapi';
import { Client, eventually, startTestPlatform } from '../local/platform-support';

// The canary's walk against the real local platform (default topology on loopback):
// through the edge, standing in for the global hostname, and straight to one region's
// gateway, standing in for its execute-api endpoint.
const WEST = 'eu-west-1';
const CENTRAL = 'eu-central-1';
const SKU = 'CANARY-1';

let platform: LocalPlatform;
let client: Client;
let token: string;
let regionalUrl: string;

/** The edge needs to know where the client is, as CloudFront and Route 53 would. */
const fromRegion =
  (clientRegion: string): FetchLike =>
  (url, init) =>
    documentedFetch(url, {
      ...init,
      headers: { ...(init.headers as Record<string, string>), 'x-client-region': clientRegion },
    });

const globalWalk = (sku = SKU) =>
  walkApi({ label: 'global', baseUrl: platform.edgeUrl, fetch: fromRegion(CENTRAL), token, sku, timeoutMs: 5000 });
/** The proof of origin the regional canary reads from its secret, as CloudFront sends it. */
const proof = () => platform.originHeaders[ORIGIN_PROOF_HEADER] as string;
const regionalWalk = (sku = SKU, originProof: string | undefined = proof()) =>
  walkApi({
    label: `regional ${CENTRAL}`,
    baseUrl: regionalUrl,
    fetch: documentedFetch,
    token,
    sku,
    timeoutMs: 5000,
    ...(originProof ? { originProof } : {}),
  });

beforeAll(async () => {
  platform = await startTestPlatform();
  client = new Client(platform);
  regionalUrl = platform.regions.find((r) => r.region === CENTRAL)?.url as string;
  const admin = await client.token('eu', 'canary-admin', true);
  const created = await client.api(WEST, 'PUT', `/api/products/${SKU}`, {
    token: admin,
    body: { name: 'Canary probe (not for sale)', priceCents: 0, currency: 'EUR', stock: 0 },
  });
  expect(created.status).toBe(200);
  token = await client.token('eu', 'canary-user');
  // The product reaches the secondary region by replication.
  await eventually(async () => expect((await client.api(CENTRAL, 'GET', `/api/products/${SKU}`)).status).toBe(200));
});

afterAll(async () => {
  await platform?.stop();
});

describe('walkApi against the local platform', () => {
  test('walks the global hostname and a regional endpoint, every step timed, the cart left as found', async () => {
    for (const walk of [globalWalk, regionalWalk]) {
      const result = await walk();
      expect(result.region).toBe(CENTRAL);
      expect(result.mode).toBe('read-write');
      expect(result.steps.map((s) => [s.step, s.status])).toEqual([
        ['health', 200],
        ['product page', 200],
        ['add to cart', 200],
        ['cart', 200],
        ['remove from cart', 200],
      ]);
      for (const step of result.steps) expect(step.ms).toBeGreaterThanOrEqual(0);
      expect(result.totalMs).toBeGreaterThanOrEqual(Math.max(...result.steps.map((s) => s.ms)));
    }
    const cart = await client.api(CENTRAL, 'GET', '/api/me/cart', { token });
    expect(cart.body.items).toEqual([]);
  });

  test('an unknown SKU fails the product page step with 404, naming the target and quoting the body', async () => {
    for (const [walk, label] of [
      [globalWalk, 'global'],
      [regionalWalk, `regional ${CENTRAL}`],
    ] as const) {
      const error = await failureOf(walk('NO-SUCH-SKU'));
      expect([error.label, error.step, error.status]).toEqual([label, 'product page', 404]);
      expect(error.message).toContain(`${label}: step 'product page' failed: HTTP 404`);
      expect(error.message).toContain('GET /api/products/NO-SUCH-SKU');
      expect(error.message).toContain('PRODUCT_NOT_FOUND');
    }
  });

  test('a region down fails its regional walk at the health step; the global walk passes via another region', async () => {
    await client.control('POST', `/regions/${CENTRAL}/down`);
    try {
      const error = await failureOf(regionalWalk());
      expect([error.label, error.step, error.status]).toEqual([`regional ${CENTRAL}`, 'health', 503]);
      expect(error.message).toContain(`regional ${CENTRAL}: step 'health' failed: HTTP 503`);
      expect(error.message).toContain('Service Unavailable');

      // Once the edge's health checks see it (two failed checks, 100 ms apart).
      const rerouted = await eventually(async () => globalWalk(), 5000, 50);
      expect(rerouted.region).toBe(WEST);
      expect(rerouted.steps).toHaveLength(WALK_STEPS.length);

      // One canary run walks both and reports both.
      const lines: string[] = [];
      const run = await walkTargets(
        [
          { label: 'global', baseUrl: platform.edgeUrl },
          { label: `regional ${CENTRAL}`, baseUrl: regionalUrl, originSecretName: 'Commerce/origin-verify' },
        ],
        { token, sku: SKU, fetch: fromRegion(CENTRAL), timeoutMs: 5000, originProofOf: async () => proof() },
        (line) => lines.push(line),
      );
      expect(run.results.map((r) => [r.label, r.region])).toEqual([['global', WEST]]);
      expect(run.failures.map((f) => (f as WalkError).step)).toEqual(['health']);
      expect(lines[0]).toMatch(/^global: ok via eu-west-1 \(read-write\) in \d+ ms: health 200 \d+ ms, /);
      expect(lines[1]).toContain(`regional ${CENTRAL}: step 'health' failed: HTTP 503`);
    } finally {
      await client.control('POST', `/regions/${CENTRAL}/up`);
    }
    await eventually(async () => expect((await globalWalk()).region).toBe(CENTRAL), 5000, 50);
  });

  test('a token the API refuses fails the add-to-cart step with its status', async () => {
    const error = await failureOf(
      walkApi({
        label: 'regional',
        baseUrl: regionalUrl,
        token: 'not-a-token',
        sku: SKU,
        timeoutMs: 5000,
        originProof: proof(),
      }),
    );
    expect([error.step, error.status]).toEqual(['add to cart', 403]);
  });

  test('straight to a region without the proof of origin, only the health probe answers: the product page is refused 401', async () => {
    const error = await failureOf(regionalWalk(SKU, ''));
    expect([error.step, error.status]).toEqual(['product page', 401]);
    expect(error.message).toContain('Unauthorized');
  });
});

describe('the Synthetics handler', () => {
  restoreCanaryEnvironmentAfterEach();

  test('walks the targets its environment names with the canary user, logs each, throws the first failure', async () => {
    const signIn = jest.spyOn(CognitoTokenSource.prototype, 'token').mockResolvedValue(token);
    const forget = jest.spyOn(CognitoTokenSource.prototype, 'forget');
    const logged = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    // This region's replica of the origin secret, as Secrets Manager would answer for it.
    const secretReads: string[] = [];
    jest.spyOn(SecretsManagerClient.prototype, 'send').mockImplementation(async (command: any) => {
      secretReads.push(command.input.SecretId);
      return { SecretString: proof() };
    });
    Object.assign(process.env, {
      AWS_REGION: CENTRAL,
      CANARY_TARGETS: JSON.stringify([
        { label: `regional ${CENTRAL}`, baseUrl: regionalUrl, originSecretName: 'Commerce/origin-verify' },
      ]),
      CANARY_SKU: SKU,
      CANARY_SECRET_ARN: `arn:aws:secretsmanager:${CENTRAL}:123456789012:secret:canary-AbCdEf`,
      USER_POOL_ID: 'eu-west-1_Pool',
      USER_POOL_CLIENT_ID: 'web-client',
      USER_POOL_REGION: WEST,
    });
    await expect(handler()).resolves.toBe(`walked regional ${CENTRAL}`);
    expect(secretReads).toEqual(['Commerce/origin-verify']);
    expect(logged.mock.calls[0]?.[0]).toMatch(new RegExp(`^regional ${CENTRAL}: ok via ${CENTRAL} \\(read-write\\)`));

    process.env.CANARY_SKU = 'NO-SUCH-SKU';
    await expect(handler()).rejects.toThrow(`regional ${CENTRAL}: step 'product page' failed: HTTP 404`);
    expect(forget).not.toHaveBeenCalled();
    // A token the API refuses is dropped, so the next run signs in again.
    signIn.mockResolvedValue('refused-token');
    process.env.CANARY_SKU = SKU;
    await expect(handler()).rejects.toThrow("step 'add to cart' failed: HTTP 403");
    expect(forget).toHaveBeenCalledTimes(1);
  });
});
