import { seconds } from './clock';
import type { DrillOperation, Sample } from './load';
import type { SignInAttempt } from './tokens';

/** Signed-in requests of one class (eventual or strong) sent while the region was down. */
export interface SignedInOperations {
  readonly sent: number;
  readonly succeeded: number;
  readonly failed: number;
  /** Failed, though sent once the edge had switched (outside the switch window). */
  readonly failedAfterSwitch: number;
  /** Of those, refused because the token had expired (401/403): no refresh while the pool's region is down. */
  readonly failedAfterSwitchTokenExpired: number;
  /** Failures by kind (see `errorKind`). */
  readonly byKind: Readonly<Record<string, number>>;
}

/** Orders: as above, and how they were refused. */
export interface SignedInStrong extends SignedInOperations {
  /** Answered 503 with a Retry-After header. */
  readonly answered503WithRetryAfter: number;
  /** Failures by the answer's error code or message (`STRONG_STORE_UNAVAILABLE`, `Service Unavailable`, ...). */
  readonly byCode: Readonly<Record<string, number>>;
}

/** Sign-ins (`POST /tokens`) tried while the region was down: the drill's probes and the clients' refreshes. */
export interface SignInFigures {
  readonly attempts: number;
  readonly granted: number;
  readonly refused: number;
  readonly byCode: Readonly<Record<string, number>>;
  /** Tried, and never granted while the region was down. */
  readonly refusedWhileDown: boolean;
}

/** One client's token across the outage. */
export interface ShopperToken {
  readonly client: number;
  /** From the down until the token it held at the down expired (negative: expired before). */
  readonly tokenLeftAtDownSeconds: number;
  /** From the down until its last success with that token; null if it had none after the down. */
  readonly lastServedAfterDownSeconds: number | null;
  /** Whether that token expired before the return, not replaced by a sign-in. */
  readonly expiredWhileDown: boolean;
}

/** A jurisdiction's signed-in clients across the outage: their tokens, when they expired, how long they were served. */
export interface JurisdictionTokens {
  /** The region of the jurisdiction's user pool (its primary). */
  readonly poolRegion: string;
  /** Whether the pool's region was the one down (no sign-in, no refresh). */
  readonly poolDown: boolean;
  readonly shoppers: number;
  /** From the down until the tokens held at the down expired: the first and the last. */
  readonly tokensExpireAfterSeconds: { readonly first: number; readonly last: number } | null;
  /** Shoppers whose token expired before the return, not replaced. */
  readonly expiredWhileDown: number;
  /** From the down until each shopper's last success with the token it held then: the first and the last. */
  readonly lastServedAfterSeconds: { readonly first: number; readonly last: number } | null;
  /** For the shoppers whose token expired while down: the longest time between its last success and its expiry. */
  readonly lastServedBeforeExpiryWithinSeconds: number | null;
  /** Requests sent while down with a token that had expired by the answer. */
  readonly afterExpiry: { readonly sent: number; readonly succeeded: number; readonly refused401or403: number };
  readonly refreshesWhileDown: { readonly attempted: number; readonly granted: number; readonly refused: number };
  readonly byShopper: readonly ShopperToken[];
}

export interface SignedInResult {
  /** The downed region's jurisdiction, whose clients' requests are counted. */
  readonly jurisdiction: string;
  readonly poolRegion: string;
  readonly poolDown: boolean;
  /** Likes, cart adds and cart reads. */
  readonly eventual: SignedInOperations;
  /** Orders. */
  readonly strong: SignedInStrong;
  readonly signIn: SignInFigures;
  readonly tokens: {
    /** The clients' ID token validity, in seconds (`--token-ttl`). */
    readonly lifetimeSeconds: number;
    readonly byJurisdiction: Readonly<Record<string, JurisdictionTokens>>;
  };
}

/** What the signed-in figures are made of: plain data, so they can be checked on synthetic samples. */
export interface SignedInInput {
  readonly samples: readonly Sample[];
  /** The clients' refreshes and the drill's probes. */
  readonly signIns: readonly SignInAttempt[];
  readonly clients: readonly { readonly index: number; readonly jurisdiction: string }[];
  /** The downed region's jurisdiction, and each jurisdiction's pool region. */
  readonly jurisdiction: string;
  readonly poolRegions: Readonly<Record<string, string>>;
  readonly region: string;
  readonly downAt: number;
  readonly upAt: number;
  /** When the edge marked the region unhealthy (eventual routes switched). */
  readonly switchedAt?: number;
  /** When strong routes switched: for a primary, once its writer check failed too. */
  readonly strongSwitchedAt?: number;
  readonly tokenLifetimeSeconds: number;
}

const STRONG: ReadonlySet<DrillOperation> = new Set(['order']);
const add = (counts: Record<string, number>, key: string) => {
  counts[key] = (counts[key] ?? 0) + 1;
};
const isExpiredRefusal = (sample: Sample) => sample.kind?.endsWith(' token expired') === true;

/** The signed-in section of the drill's result. */
export function signedInFigures(input: SignedInInput): SignedInResult {
  const { samples, downAt, upAt, jurisdiction } = input;
  const ofJurisdiction = new Set(input.clients.filter((c) => c.jurisdiction === jurisdiction).map((c) => c.index));
  const whileDown = samples.filter((s) => ofJurisdiction.has(s.client) && s.start >= downAt && s.start < upAt);
  const poolRegion = input.poolRegions[jurisdiction] ?? '';
  const strong = whileDown.filter((s) => STRONG.has(s.op));
  return {
    jurisdiction,
    poolRegion,
    poolDown: poolRegion === input.region,
    eventual: operationFigures(
      whileDown.filter((s) => !STRONG.has(s.op)),
      input.switchedAt ?? Number.POSITIVE_INFINITY,
    ),
    strong: {
      ...operationFigures(strong, input.strongSwitchedAt ?? Number.POSITIVE_INFINITY),
      answered503WithRetryAfter: strong.filter((s) => s.status === 503 && s.retryAfter === true).length,
      byCode: strong.reduce<Record<string, number>>((counts, s) => {
        if (!s.ok) add(counts, s.detail ?? s.kind ?? 'unknown');
        return counts;
      }, {}),
    },
    signIn: signInFigures(
      input.signIns.filter((a) => a.jurisdiction === jurisdiction && a.at >= downAt && a.at < upAt),
    ),
    tokens: {
      lifetimeSeconds: input.tokenLifetimeSeconds,
      byJurisdiction: Object.fromEntries(
        Object.entries(input.poolRegions).map(([name, pool]) => [name, jurisdictionTokens(input, name, pool)]),
      ),
    },
  };
}

function operationFigures(samples: readonly Sample[], switchedAt: number): SignedInOperations {
  const failed = samples.filter((s) => !s.ok);
  const failedAfterSwitch = failed.filter((s) => s.start >= switchedAt);
  const byKind: Record<string, number> = {};
  for (const s of failed) add(byKind, s.kind ?? 'unknown');
  return {
    sent: samples.length,
    succeeded: samples.length - failed.length,
    failed: failed.length,
    failedAfterSwitch: failedAfterSwitch.length,
    failedAfterSwitchTokenExpired: failedAfterSwitch.filter(isExpiredRefusal).length,
    byKind,
  };
}

function signInFigures(attempts: readonly SignInAttempt[]): SignInFigures {
  const byCode: Record<string, number> = {};
  for (const attempt of attempts) if (!attempt.granted) add(byCode, attempt.code ?? String(attempt.status));
  const granted = attempts.filter((a) => a.granted).length;
  return {
    attempts: attempts.length,
    granted,
    refused: attempts.length - granted,
    byCode,
    refusedWhileDown: attempts.length > 0 && granted === 0,
  };
}

function jurisdictionTokens(input: SignedInInput, jurisdiction: string, poolRegion: string): JurisdictionTokens {
  const { downAt, upAt } = input;
  const clients = input.clients.filter((c) => c.jurisdiction === jurisdiction).map((c) => c.index);
  const byShopper = clients.flatMap((client) => {
    const mine = input.samples.filter((s) => s.client === client && s.start < upAt);
    const shopper = shopperToken(client, mine, downAt, upAt);
    return shopper ? [shopper] : [];
  });
  const expired = byShopper.filter((s) => s.expiredWhileDown);
  const afterExpiry = input.samples.filter(
    (s) => clients.includes(s.client) && s.start >= downAt && s.start < upAt && s.end >= s.tokenExpiresAt,
  );
  const refreshes = input.signIns.filter(
    (a) => a.jurisdiction === jurisdiction && a.purpose === 'refresh' && a.at >= downAt && a.at < upAt,
  );
  const served = byShopper.map((s) => s.lastServedAfterDownSeconds).filter((v): v is number => v !== null);
  const gaps = expired.map((s) =>
    s.lastServedAfterDownSeconds === null
      ? Math.max(0, s.tokenLeftAtDownSeconds)
      : round(s.tokenLeftAtDownSeconds - s.lastServedAfterDownSeconds),
  );
  return {
    poolRegion,
    poolDown: poolRegion === input.region,
    shoppers: byShopper.length,
    tokensExpireAfterSeconds: range(byShopper.map((s) => s.tokenLeftAtDownSeconds)),
    expiredWhileDown: expired.length,
    lastServedAfterSeconds: range(served),
    lastServedBeforeExpiryWithinSeconds: gaps.length > 0 ? Math.max(...gaps) : null,
    afterExpiry: {
      sent: afterExpiry.length,
      succeeded: afterExpiry.filter((s) => s.ok).length,
      refused401or403: afterExpiry.filter((s) => s.status === 401 || s.status === 403).length,
    },
    refreshesWhileDown: {
      attempted: refreshes.length,
      granted: refreshes.filter((a) => a.granted).length,
      refused: refreshes.filter((a) => !a.granted).length,
    },
    byShopper,
  };
}

/**
 * A client's token at the down (the newest issued before it; sessions only get newer), and
 * how long it was served with it. Undefined if the client sent nothing with such a token.
 */
function shopperToken(
  client: number,
  samples: readonly Sample[],
  downAt: number,
  upAt: number,
): ShopperToken | undefined {
  let held: Sample | undefined;
  for (const s of samples) if (s.tokenIssuedAt < downAt && (!held || s.tokenIssuedAt > held.tokenIssuedAt)) held = s;
  if (!held) return undefined;
  const { tokenIssuedAt, tokenExpiresAt } = held;
  const withIt = samples.filter((s) => s.tokenIssuedAt === tokenIssuedAt && s.start >= downAt);
  const successes = withIt.filter((s) => s.ok).map((s) => s.end);
  // Replaced in time: a newer token, from a sign-in before this one expired, was in use.
  const replaced = samples.some((s) => s.tokenIssuedAt > tokenIssuedAt && s.tokenIssuedAt <= tokenExpiresAt);
  return {
    client,
    tokenLeftAtDownSeconds: seconds(tokenExpiresAt - downAt),
    lastServedAfterDownSeconds: successes.length > 0 ? seconds(Math.max(...successes) - downAt) : null,
    expiredWhileDown: tokenExpiresAt < upAt && !replaced,
  };
}

const round = (value: number) => Math.round(value * 1000) / 1000;

function range(values: readonly number[]): { first: number; last: number } | null {
  return values.length > 0 ? { first: Math.min(...values), last: Math.max(...values) } : null;
}

/** The signed-in section as table lines. */
export function formatSignedIn(result: SignedInResult, region: string): string[] {
  const { eventual, strong, signIn } = result;
  const lines = [
    `  Signed-in ${result.jurisdiction} clients while ${region} was down (pool in ${result.poolRegion}` +
      `${result.poolDown ? ', down' : ''})`,
  ];
  const row = (label: string, value: string, detail = '') =>
    lines.push(`    ${label.padEnd(34)} ${value.padEnd(8)} ${detail}`.trimEnd());
  const ops = (figures: SignedInOperations) =>
    `${figures.succeeded} ok, ${figures.failed} failed, ${figures.failedAfterSwitch} after the switch` +
    (figures.failedAfterSwitchTokenExpired ? ` (${figures.failedAfterSwitchTokenExpired} token expired)` : '');
  row('eventual (like, cart)', String(eventual.sent), ops(eventual));
  row(
    'strong (order)',
    String(strong.sent),
    `${ops(strong)}; 503 with Retry-After ${strong.answered503WithRetryAfter}` +
      (Object.keys(strong.byCode).length ? ` (${list(strong.byCode)})` : ''),
  );
  row(
    'sign-in (POST /tokens)',
    signIn.refusedWhileDown ? 'REFUSED' : signIn.attempts === 0 ? '-' : 'granted',
    `${signIn.granted}/${signIn.attempts} granted${signIn.refused ? `, refused: ${list(signIn.byCode)}` : ''}`,
  );
  lines.push(`  Tokens (ID token lifetime ${result.tokens.lifetimeSeconds} s), from the down`);
  for (const [name, tokens] of Object.entries(result.tokens.byJurisdiction)) {
    row(`${name} (${tokens.shoppers} shoppers${tokens.poolDown ? ', pool down' : ''})`, '', tokenDetail(tokens));
  }
  return lines;
}

function tokenDetail(tokens: JurisdictionTokens): string {
  const span = (r: { first: number; last: number } | null) =>
    r ? `${r.first.toFixed(2)}-${r.last.toFixed(2)} s` : '-';
  const { afterExpiry, refreshesWhileDown: refreshes } = tokens;
  return [
    `tokens expire ${span(tokens.tokensExpireAfterSeconds)}`,
    `${tokens.expiredWhileDown} expired while down`,
    `last served ${span(tokens.lastServedAfterSeconds)}` +
      (tokens.lastServedBeforeExpiryWithinSeconds === null
        ? ''
        : ` (within ${tokens.lastServedBeforeExpiryWithinSeconds.toFixed(2)} s of expiry)`),
    `after expiry ${afterExpiry.sent} sent, ${afterExpiry.refused401or403} refused 401/403, ${afterExpiry.succeeded} ok`,
    `refreshes ${refreshes.granted}/${refreshes.attempted} granted`,
  ].join('; ');
}

const list = (counts: Readonly<Record<string, number>>) =>
  Object.entries(counts)
    .map(([key, value]) => `${key} ${value}`)
    .join(', ');
