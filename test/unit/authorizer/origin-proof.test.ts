import type { APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { requireOriginProof } from '../../../lambda/authorizer/origin-guard';
import { OriginProofVerifier } from '../../../lambda/authorizer/origin-proof';

// The proof of origin CloudFront adds, checked as the regional authorizer checks it: every
// value a rotation can have in flight is accepted, reads are cached, and a mismatch reads again
// at most once per interval.

/** A secret whose values can be changed, counting the reads. */
function secret(initial: string[]) {
  const state = { values: initial, reads: 0 };
  const read = async () => {
    state.reads++;
    return [...state.values];
  };
  return { state, read };
}

describe('OriginProofVerifier', () => {
  test('accepts each value in use, refuses anything else and no proof at all', async () => {
    // given current, pending and previous values during a rotation
    const { read } = secret(['current', 'pending', 'previous']);
    const verifier = new OriginProofVerifier(read);
    // then
    for (const proof of ['current', 'pending', 'previous']) expect(await verifier.verify(proof)).toBe(true);
    for (const proof of [undefined, '', 'curren', 'current ', 'CURRENT'])
      expect(await verifier.verify(proof)).toBe(false);
  });

  test('reads the secret once per max age, and concurrent checks share one read', async () => {
    // given
    let now = 0;
    const { state, read } = secret(['v1']);
    const verifier = new OriginProofVerifier(read, { maxAgeMs: 1000, now: () => now });
    // when
    await Promise.all([verifier.verify('v1'), verifier.verify('v1'), verifier.verify('v1')]);
    now = 999;
    await verifier.verify('v1');
    // then
    expect(state.reads).toBe(1);
    now = 1000;
    await verifier.verify('v1');
    expect(state.reads).toBe(2);
  });

  test("a rotation's new value is accepted without waiting for the cached read to age; wrong proofs cost one read per interval", async () => {
    // given a cached value, then a rotation that adds a pending one
    let now = 0;
    const { state, read } = secret(['v1']);
    const verifier = new OriginProofVerifier(read, { refreshOnMismatchMs: 10_000, now: () => now });
    await verifier.verify('v1');
    state.values = ['v1', 'v2'];
    now = 10_000;
    // when CloudFront starts sending the new value
    expect(await verifier.verify('v2')).toBe(true);
    expect(state.reads).toBe(2);
    // then a flood of wrong proofs within the interval reads nothing more
    for (let i = 0; i < 50; i++) expect(await verifier.verify(`forged-${i}`)).toBe(false);
    expect(state.reads).toBe(2);
  });

  test('a failed read is an error, never a cached refusal', async () => {
    const verifier = new OriginProofVerifier(async () => {
      throw new Error('throttled');
    });
    await expect(verifier.verify('v1')).rejects.toThrow('throttled');
  });
});

describe('requireOriginProof', () => {
  const event = (routeKey: string, headers: Record<string, string>) =>
    ({ routeKey, headers }) as unknown as APIGatewayRequestAuthorizerEventV2;
  const tokens: string[] = [];
  const tokenAuthorizer = async (e: APIGatewayRequestAuthorizerEventV2) => {
    tokens.push(String(e.headers?.authorization));
    return { isAuthorized: true, context: { sub: 'shopper' } };
  };
  const authorizer = requireOriginProof(new OriginProofVerifier(async () => ['proof']), tokenAuthorizer);

  beforeEach(() => {
    tokens.length = 0;
  });

  test('without the proof nothing else is looked at: the token is never verified', async () => {
    const answer = await authorizer(
      event('GET /api/me/cart', { authorization: 'Bearer t', 'x-origin-verify': 'nope' }),
    );
    expect(answer).toEqual({ isAuthorized: false, context: {} });
    expect(tokens).toEqual([]);
  });

  test('a public route needs only the proof; a user route then needs the token authorizer', async () => {
    expect(await authorizer(event('GET /api/products/{sku}', { 'x-origin-verify': 'proof' }))).toEqual({
      isAuthorized: true,
      context: {},
    });
    expect(tokens).toEqual([]);
    const user = await authorizer(event('GET /api/me/cart', { authorization: 'Bearer t', 'x-origin-verify': 'proof' }));
    expect(user).toEqual({ isAuthorized: true, context: { sub: 'shopper' } });
    expect(tokens).toEqual(['Bearer t']);
  });
});
