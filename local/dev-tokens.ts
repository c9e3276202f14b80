import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { VerifiedClaims } from './api-gateway-event';

/**
 * Dev-only tokens standing in for each jurisdiction's Cognito user pool: HS256 JWTs signed
 * with a key made at start-up, issuer `local://<jurisdiction>`. Written with node:crypto
 * rather than a JWT library because the well-kept one (`jose`) ships as ES modules only,
 * which the CommonJS test runner cannot load; the format needs a dozen lines.
 */
export class DevTokenIssuer {
  private readonly key = randomBytes(32);

  static issuerOf(jurisdiction: string): string {
    return `local://${jurisdiction}`;
  }

  issue(jurisdiction: string, user: { sub: string; admin?: boolean }, ttlSeconds = 3600): string {
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: DevTokenIssuer.issuerOf(jurisdiction),
      sub: user.sub,
      token_use: 'id',
      iat: now,
      exp: now + ttlSeconds,
      ...(user.admin ? { 'cognito:groups': ['admin'] } : {}),
    };
    const unsigned = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode(claims)}`;
    return `${unsigned}.${this.sign(unsigned)}`;
  }

  /**
   * The claims, if the token is ours and unexpired, whichever jurisdiction issued it: like
   * a multi-issuer authorizer, the gateway lets the function's residency guard refuse a
   * user of another jurisdiction by name.
   */
  verify(token: string): VerifiedClaims | undefined {
    const [header, payload, signature] = token.split('.');
    if (!header || !payload || !signature) return undefined;
    const expected = Buffer.from(this.sign(`${header}.${payload}`));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
    const claims = decode(payload);
    if (!claims || typeof claims.iss !== 'string' || !claims.iss.startsWith('local://')) return undefined;
    if (typeof claims.exp !== 'number' || claims.exp < Date.now() / 1000) return undefined;
    if (typeof claims.sub !== 'string') return undefined;
    const claimed = claims['cognito:groups'];
    const groups = Array.isArray(claimed) && claimed.every((g) => typeof g === 'string') ? claimed : undefined;
    return { sub: claims.sub, iss: claims.iss, ...(groups ? { groups } : {}) };
  }

  private sign(unsigned: string): string {
    return createHmac('sha256', this.key).update(unsigned).digest('base64url');
  }
}

/** The jurisdiction a token claims to be from, read without verifying (the edge routes on it). */
export function unverifiedJurisdiction(token: string): string | undefined {
  const claims = decode(token.split('.')[1] ?? '');
  const issuer = typeof claims?.iss === 'string' ? claims.iss : '';
  return issuer.startsWith('local://') ? issuer.slice('local://'.length) : undefined;
}

function encode(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function decode(part: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null ? value : undefined;
  } catch {
    return undefined;
  }
}
