import { clock } from './clock';
import { callControlServer, isAnswer } from './http';

/** Cognito's default ID token validity (an app client's `IdTokenValidity`): 60 minutes. */
export const COGNITO_DEFAULT_ID_TOKEN_SECONDS = 3600;

/** A signed-in client's ID token, and when it was issued and expires, on the drill's clock (ms). */
export interface Session {
  readonly token: string;
  readonly issuedAt: number;
  readonly expiresAt: number;
}

/** One sign-in (`POST /tokens` of the controls): a client's refresh, or the drill's probe. */
export interface SignInAttempt {
  readonly jurisdiction: string;
  readonly purpose: 'refresh' | 'probe';
  /** When it was asked for, on the drill's clock. */
  readonly at: number;
  readonly granted: boolean;
  /** The HTTP status, or null when the controls did not answer. */
  readonly status: number | null;
  /** The refusal's error code (`USER_POOL_DOWN` while the pool's region is down). */
  readonly code?: string;
}

/**
 * When a token expires, on the drill's (monotonic) clock: its `exp` claim, read without
 * verifying. The authorizer accepts it while `exp` is not past (aws-jwt-verify, no grace).
 */
export function expiresAtOf(token: string, now = clock(), wallNow = Date.now()): number {
  const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown };
  if (typeof payload.exp !== 'number') throw new Error('the token has no exp claim');
  return now + (payload.exp * 1000 - wallNow);
}

/** A sign-in of `sub` at the jurisdiction's pool through the controls: the session, or the refusal. */
export async function signIn(
  controlUrl: string,
  jurisdiction: string,
  sub: string,
  timeoutMs: number,
): Promise<{ session?: Session; status: number | null; code?: string }> {
  const at = clock();
  const answer = await callControlServer(
    `${controlUrl}/tokens`,
    { method: 'POST', body: { jurisdiction, sub } },
    timeoutMs,
  );
  if (!isAnswer(answer)) return { status: null, code: answer.kind };
  if (answer.status !== 200 || typeof answer.body?.token !== 'string') {
    return { status: answer.status, code: String(answer.body?.error?.code ?? answer.body?.message ?? answer.status) };
  }
  const token: string = answer.body.token;
  return { session: { token, issuedAt: at, expiresAt: expiresAtOf(token) }, status: 200 };
}
