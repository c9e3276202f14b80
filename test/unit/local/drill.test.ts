import { resolveTopology } from '../../../lib/config/topology';
import { DevTokenIssuer } from '../../../local/dev-tokens';
import { missingEventualWrites } from '../../../local/drill/audit';
import { type DrillOperation, errorKind, type Sample } from '../../../local/drill/load';
import { DrillOptionsError, type RegionDrillOptions } from '../../../local/drill/options';
import { isExpiredTokenKind, isSwitchErrorKind } from '../../../local/drill/report';
import { runRegionDrill } from '../../../local/drill/run';
import { signedInFigures } from '../../../local/drill/signed-in';
import { COGNITO_DEFAULT_ID_TOKEN_SECONDS, expiresAtOf, type SignInAttempt } from '../../../local/drill/tokens';

// What the drill decides without a platform: its read-back arithmetic, and the options it
// refuses before anything starts. The drills themselves are in test/integration/local/drill.test.ts.

describe('the read-back that decides "writes lost"', () => {
  const acks = {
    likes: new Map([
      ['eu-west-1', 3],
      ['eu-central-1', 2],
    ]),
    cart: new Map([['alice|eu-central-1', 2]]),
  };
  const complete = { likes: { 'eu-west-1': 3, 'eu-central-1': 2 }, carts: { alice: { 'eu-central-1': 2 } } };

  test('every replica holding every acknowledged write: nothing lost', () => {
    expect(missingEventualWrites(acks, [complete, complete])).toEqual({ likes: 0, cartAdds: 0 });
  });

  test('one replica short of a like and a cart add: both counted, whichever replica it is', () => {
    const short = { likes: { 'eu-west-1': 2, 'eu-central-1': 2 }, carts: { alice: { 'eu-central-1': 1 } } };
    expect(missingEventualWrites(acks, [complete, short])).toEqual({ likes: 1, cartAdds: 1 });
    expect(missingEventualWrites(acks, [short, complete])).toEqual({ likes: 1, cartAdds: 1 });
  });

  test('a replica that never saw a region or a user counts all of its writes as lost', () => {
    expect(missingEventualWrites(acks, [complete, { likes: {}, carts: {} }])).toEqual({ likes: 5, cartAdds: 2 });
  });

  test('extra writes in a replica do not hide a missing one elsewhere', () => {
    const extra = { likes: { 'eu-west-1': 9, 'eu-central-1': 9 }, carts: { alice: { 'eu-central-1': 9 } } };
    const short = { likes: { 'eu-west-1': 3, 'eu-central-1': 1 }, carts: { alice: { 'eu-central-1': 2 } } };
    expect(missingEventualWrites(acks, [extra, short])).toEqual({ likes: 1, cartAdds: 0 });
  });

  test('no replica read back is an error, not "nothing lost"', () => {
    expect(() => missingEventualWrites(acks, [])).toThrow(/no replica was read back/);
  });
});

const singleRegion = resolveTopology({
  jurisdictions: [{ name: 'global', residency: 'none', primaryRegion: 'us-east-1', regions: ['us-east-1'] }],
});

test.each<[string, RegionDrillOptions, string, RegExp]>([
  ['an unknown region', { region: 'mars-1' }, 'region', /must be a serving region of the topology \(us-east-1, /],
  ['a region with nowhere to go', { region: 'us-east-1', topology: singleRegion }, 'region', /nowhere to go/],
  ['an unknown model', { model: 'sideways' as never }, 'model', /must be one of active-active, active-passive/],
  ['a down too short to notice', { downMs: 100 }, 'downMs', /must be from 800 to 60000/],
  ['no clients', { clientsPerContinent: 0 }, 'clientsPerContinent', /must be from 1 to 50/],
  ['a rate that is not a number', { rate: 'fast' as never }, 'rate', /must be a number .* got "fast"/],
  ['half a client', { clientsPerContinent: 1.5 }, 'clientsPerContinent', /whole number/],
  ['a wall cap below the drill', { maxWallMs: 10_000, downMs: 9000 }, 'maxWallMs', /warmupMs \+ downMs/],
  ['an unknown option', { bogus: 1 } as never, 'bogus', /is not a drill option/],
  ['an unknown option beside a bad value', { downMs: 'x', bogus: 1 } as never, 'bogus', /is not a drill option/],
  ['options that are not an object', null as never, 'options', /must be an object/],
  ['a warm-up shorter than two requests', { rate: 0.5, warmupMs: 3000 }, 'warmupMs', /must be from 4000 to 60000/],
  ['a progress callback that is not one', { onProgress: 'loud' as never }, 'onProgress', /must be a function/],
])('bad options: %s is refused, naming the field, before anything starts', async (_what, options, field, message) => {
  const started = Date.now();
  const error = await runRegionDrill(options).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(DrillOptionsError);
  expect((error as DrillOptionsError).field).toBe(field);
  expect((error as Error).message).toMatch(new RegExp(`^${field} `));
  expect((error as Error).message).toMatch(message);
  expect(Date.now() - started).toBeLessThan(1000);
});

// The signed-in figures, on synthetic samples: the region eu-west-1 (the eu pool's) down
// from t=1000 to t=9000, the edge switched at 1400 (writer at 1500).
describe('the signed-in figures of a drill', () => {
  const DOWN = 1000;
  const UP = 9000;
  const clients = [
    { index: 0, jurisdiction: 'eu' },
    { index: 1, jurisdiction: 'global' },
  ];
  const poolRegions = { eu: 'eu-west-1', global: 'us-east-1' };
  const token = (issuedAt: number, expiresAt: number) => ({ tokenIssuedAt: issuedAt, tokenExpiresAt: expiresAt });
  /** One request of `client` from `start` to start + 20 ms. */
  const sample = (
    client: number,
    op: DrillOperation,
    start: number,
    status: number,
    tokenTimes: { tokenIssuedAt: number; tokenExpiresAt: number },
    error?: { code?: string; retryAfter?: boolean },
  ): Sample => {
    const end = start + 20;
    const ok = status < 300;
    const body = error?.code ? { error: { code: error.code } } : { message: 'Forbidden' };
    return {
      client,
      op,
      start,
      end,
      ok,
      ...(ok
        ? {}
        : {
            kind: errorKind(status, body, error?.retryAfter ?? false, end >= tokenTimes.tokenExpiresAt),
            detail: error?.code ?? (status === 503 ? 'Service Unavailable' : 'Forbidden'),
          }),
      status,
      retryAfter: error?.retryAfter ?? false,
      routedTo: 'eu-central-1',
      servedBy: 'eu-central-1',
      ...tokenTimes,
    };
  };
  // The eu shopper's token, issued before the down, expires 4 s into it; the global one's is refreshed.
  const euToken = token(-1000, 5000);
  const globalOld = token(-1000, 5000);
  const globalNew = token(3000, 11_000);
  const samples: Sample[] = [
    sample(0, 'like', 500, 200, euToken),
    // In the switch window: the lost region's bare 503, for an eventual write and an order.
    sample(0, 'cart-add', 1100, 503, euToken, {}),
    sample(0, 'order', 1450, 503, euToken, {}),
    // After the switch: served, orders refused read-only.
    sample(0, 'cart-read', 2000, 200, euToken),
    sample(0, 'order', 2500, 503, euToken, { code: 'STRONG_STORE_UNAVAILABLE', retryAfter: true }),
    sample(0, 'like', 4500, 200, euToken),
    // The token expired at 5000: refused, as no refresh was possible.
    sample(0, 'cart-add', 5500, 403, euToken),
    sample(0, 'order', 6000, 403, euToken),
    // After the return (not counted).
    sample(0, 'cart-read', 9500, 200, token(9100, 13_000)),
    sample(1, 'like', 2000, 200, globalOld),
    sample(1, 'like', 4000, 200, globalNew),
  ];
  const signIns: SignInAttempt[] = [
    { jurisdiction: 'eu', purpose: 'refresh', at: 3000, granted: false, status: 503, code: 'USER_POOL_DOWN' },
    { jurisdiction: 'eu', purpose: 'probe', at: 5000, granted: false, status: 503, code: 'USER_POOL_DOWN' },
    { jurisdiction: 'global', purpose: 'refresh', at: 3000, granted: true, status: 200 },
    { jurisdiction: 'eu', purpose: 'refresh', at: 9100, granted: true, status: 200 },
  ];
  const figures = signedInFigures({
    samples,
    signIns,
    clients,
    jurisdiction: 'eu',
    poolRegions,
    region: 'eu-west-1',
    downAt: DOWN,
    upAt: UP,
    switchedAt: 1400,
    strongSwitchedAt: 1500,
    tokenLifetimeSeconds: 6,
  });

  test('eventual and strong requests of the jurisdiction while down: sent, failed, failed after the switch', () => {
    expect(figures.eventual).toEqual({
      sent: 4,
      succeeded: 2,
      failed: 2,
      failedAfterSwitch: 1,
      failedAfterSwitchTokenExpired: 1,
      byKind: { 'HTTP 503': 1, 'HTTP 403 token expired': 1 },
    });
    expect(figures.strong).toEqual({
      sent: 3,
      succeeded: 0,
      failed: 3,
      failedAfterSwitch: 2,
      failedAfterSwitchTokenExpired: 1,
      byKind: { 'HTTP 503': 1, 'HTTP 503 STRONG_STORE_UNAVAILABLE': 1, 'HTTP 403 token expired': 1 },
      answered503WithRetryAfter: 1,
      byCode: { 'Service Unavailable': 1, STRONG_STORE_UNAVAILABLE: 1, Forbidden: 1 },
    });
  });

  test('sign-in while down: refused, counted by code; one after the return is not counted', () => {
    expect([figures.poolRegion, figures.poolDown]).toEqual(['eu-west-1', true]);
    expect(figures.signIn).toEqual({
      attempts: 2,
      granted: 0,
      refused: 2,
      byCode: { USER_POOL_DOWN: 2 },
      refusedWhileDown: true,
    });
  });

  test('tokens: the eu shopper served until its token expired, then refused; the global one refreshed', () => {
    const { eu, global } = figures.tokens.byJurisdiction;
    expect(figures.tokens.lifetimeSeconds).toBe(6);
    expect(eu).toMatchObject({
      poolDown: true,
      shoppers: 1,
      tokensExpireAfterSeconds: { first: 4, last: 4 },
      expiredWhileDown: 1,
      lastServedAfterSeconds: { first: 3.52, last: 3.52 },
      lastServedBeforeExpiryWithinSeconds: 0.48,
      afterExpiry: { sent: 2, succeeded: 0, refused401or403: 2 },
      refreshesWhileDown: { attempted: 1, granted: 0, refused: 1 },
    });
    expect(global).toMatchObject({
      poolDown: false,
      expiredWhileDown: 0,
      lastServedAfterSeconds: { first: 1.02, last: 1.02 },
      lastServedBeforeExpiryWithinSeconds: null,
      afterExpiry: { sent: 0, succeeded: 0, refused401or403: 0 },
      refreshesWhileDown: { attempted: 1, granted: 1, refused: 0 },
    });
  });

  test('a secondary down: sign-in granted, tokens refreshed, nothing expires', () => {
    const secondary = signedInFigures({
      samples: [sample(0, 'like', 2000, 200, euToken), sample(0, 'order', 2500, 201, euToken)],
      signIns: [{ jurisdiction: 'eu', purpose: 'probe', at: 3000, granted: true, status: 200 }],
      clients,
      jurisdiction: 'eu',
      poolRegions,
      region: 'eu-central-1',
      downAt: DOWN,
      upAt: 4000,
      switchedAt: 1400,
      strongSwitchedAt: 1400,
      tokenLifetimeSeconds: 3600,
    });
    expect(secondary.poolDown).toBe(false);
    expect(secondary.signIn.refusedWhileDown).toBe(false);
    expect(secondary.strong).toMatchObject({ sent: 1, succeeded: 1, failed: 0, answered503WithRetryAfter: 0 });
    expect(secondary.tokens.byJurisdiction.eu).toMatchObject({
      expiredWhileDown: 0,
      tokensExpireAfterSeconds: { first: 4, last: 4 },
    });
  });
});

describe('error kinds: the documented strong-store 503 apart from a bare one', () => {
  test.each<[number, unknown, boolean, boolean, string, 'switch' | 'expired' | 'unexpected']>([
    [503, { message: 'Service Unavailable' }, false, false, 'HTTP 503', 'switch'],
    [503, { error: { code: 'STRONG_STORE_UNAVAILABLE' } }, true, false, 'HTTP 503 STRONG_STORE_UNAVAILABLE', 'switch'],
    [
      503,
      { error: { code: 'STRONG_STORE_UNAVAILABLE' } },
      false,
      false,
      'HTTP 503 STRONG_STORE_UNAVAILABLE without Retry-After',
      'unexpected',
    ],
    [503, { error: { code: 'PAYMENT_UNAVAILABLE' } }, true, false, 'HTTP 503 PAYMENT_UNAVAILABLE', 'unexpected'],
    [403, { message: 'Forbidden' }, false, true, 'HTTP 403 token expired', 'expired'],
    [403, { message: 'Forbidden' }, false, false, 'HTTP 403', 'unexpected'],
    [500, { message: 'Internal Server Error' }, false, true, 'HTTP 500', 'unexpected'],
  ])('%i %j (Retry-After %s, token expired %s): %s, %s', (status, body, retryAfter, expired, kind, verdict) => {
    expect(errorKind(status, body, retryAfter, expired)).toBe(kind);
    const seen = isSwitchErrorKind(kind) ? 'switch' : isExpiredTokenKind(kind) ? 'expired' : 'unexpected';
    expect(seen).toBe(verdict);
  });
});

describe('the ID token lifetime of the drill', () => {
  test('a token expires at its exp claim, on the drill clock', () => {
    const payload = Buffer.from(JSON.stringify({ exp: 1_000_004 })).toString('base64url');
    expect(expiresAtOf(`h.${payload}.s`, 500, 1_000_000_000)).toBe(4500);
  });

  test("the issuer's ID token validity is the default lifetime, and an explicit lifetime still wins", () => {
    const issuer = new DevTokenIssuer([{ name: 'eu', primaryRegion: 'eu-west-1' }], 5);
    const lifetime = (token: string) => {
      const { exp, iat } = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString());
      return exp - iat;
    };
    expect([lifetime(issuer.issue('eu', { sub: 'a' })), lifetime(issuer.issue('eu', { sub: 'a' }, 60))]).toEqual([
      5, 60,
    ]);
    const cognitoDefault = new DevTokenIssuer([{ name: 'eu', primaryRegion: 'eu-west-1' }]);
    expect(lifetime(cognitoDefault.issue('eu', { sub: 'a' }))).toBe(COGNITO_DEFAULT_ID_TOKEN_SECONDS);
  });

  test.each<[RegionDrillOptions, RegExp]>([
    [{ tokenTtlSeconds: 1 }, /must be from 2 to 86400 \(s\)/],
    [{ tokenTtlSeconds: 2.5 }, /whole number/],
  ])('bad token lifetime %j is refused', async (options, message) => {
    const error = await runRegionDrill(options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DrillOptionsError);
    expect((error as DrillOptionsError).field).toBe('tokenTtlSeconds');
    expect((error as Error).message).toMatch(message);
  });
});
