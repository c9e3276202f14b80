import { createPublicKey, generateKeyPairSync, type KeyObject, randomBytes, randomUUID, sign } from 'node:crypto';
import type { Jwks } from 'aws-jwt-verify/jwk';
import { homeJurisdictionOf, type JurisdictionDirectory } from '../lambda/residency/jurisdiction-guard';

/** A jurisdiction's local user pool: named like Cognito's, living in its primary region. */
export interface LocalPool {
  readonly jurisdiction: string;
  /** Where the pool lives, as a Cognito pool lives in its jurisdiction's primary region. */
  readonly primaryRegion: string;
  /** `<primaryRegion>_Local<Name>`: the format aws-jwt-verify requires of a pool id. */
  readonly userPoolId: string;
  /** The app client every local token is issued to (its `aud`). */
  readonly clientId: string;
  /** `https://cognito-idp.<primaryRegion>.amazonaws.com/<userPoolId>`, as Cognito's. */
  readonly issuer: string;
}

/** The local pool id of a jurisdiction: `<primaryRegion>_Local<Name>` (letters and digits only). */
export function localUserPoolId(jurisdiction: string, primaryRegion: string): string {
  const name = jurisdiction.replace(/[^A-Za-z0-9]/g, '');
  return `${primaryRegion}_Local${name.charAt(0).toUpperCase()}${name.slice(1)}`;
}

/** The Cognito-form issuer of a jurisdiction's local pool. */
export function localIssuerOf(jurisdiction: string, primaryRegion: string): string {
  return `https://cognito-idp.${primaryRegion}.amazonaws.com/${localUserPoolId(jurisdiction, primaryRegion)}`;
}

/** A jurisdiction's local pool, named as the platform names it. */
export function localPool(jurisdiction: string, primaryRegion: string): LocalPool {
  return {
    jurisdiction,
    primaryRegion,
    userPoolId: localUserPoolId(jurisdiction, primaryRegion),
    clientId: `local${jurisdiction.replace(/[^A-Za-z0-9]/g, '')}client`,
    issuer: localIssuerOf(jurisdiction, primaryRegion),
  };
}

interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly jwks: Jwks;
}

/**
 * Dev-only tokens standing in for each jurisdiction's Cognito user pool: one issuer per
 * jurisdiction, in its primary region, signing RS256 ID tokens shaped like Cognito's
 * (`iss` the pool's Cognito URL, `aud` the local client id, `token_use` `id`, a `kid` in
 * the header) with an RSA 2048 key made at start-up, so the AWS authorizer's code
 * (aws-jwt-verify) verifies them unchanged. Written with node:crypto rather than a JWT
 * library because the well-kept one (`jose`) ships as ES modules only, which the CommonJS
 * test runner cannot load.
 */
export class DevTokenIssuer {
  private readonly pools = new Map<string, LocalPool>();
  private readonly keys = new Map<string, SigningKey>();

  /**
   * @param idTokenValiditySeconds how long a token is valid unless `issue` is told otherwise,
   * as a Cognito app client's `IdTokenValidity` (default 3600, Cognito's)
   */
  constructor(
    jurisdictions: readonly { readonly name: string; readonly primaryRegion: string }[],
    private readonly idTokenValiditySeconds = 3600,
  ) {
    for (const { name, primaryRegion } of jurisdictions) {
      this.pools.set(name, localPool(name, primaryRegion));
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const kid = `local-${name}-${randomBytes(8).toString('hex')}`;
      const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
      this.keys.set(name, { kid, privateKey, jwks: { keys: [{ ...jwk, kid, alg: 'RS256', use: 'sig' }] } as Jwks });
    }
  }

  /** Every jurisdiction's pool. */
  get allPools(): readonly LocalPool[] {
    return [...this.pools.values()];
  }

  pool(jurisdiction: string): LocalPool {
    const pool = this.pools.get(jurisdiction);
    if (!pool) throw new Error(`no local user pool for jurisdiction ${jurisdiction}; have ${[...this.pools.keys()]}`);
    return pool;
  }

  /** The pool's public keys, as Cognito serves them at `/<poolId>/.well-known/jwks.json`. */
  jwks(jurisdiction: string): Jwks {
    this.pool(jurisdiction);
    return structuredClone(this.signingKey(jurisdiction).jwks);
  }

  /** An ID token of `user` from the jurisdiction's pool, valid for `ttlSeconds`. */
  issue(
    jurisdiction: string,
    user: { sub: string; admin?: boolean },
    ttlSeconds = this.idTokenValiditySeconds,
  ): string {
    const pool = this.pool(jurisdiction);
    const key = this.signingKey(jurisdiction);
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      sub: user.sub,
      ...(user.admin ? { 'cognito:groups': ['admin'] } : {}),
      iss: pool.issuer,
      'cognito:username': user.sub,
      aud: pool.clientId,
      event_id: randomUUID(),
      token_use: 'id',
      auth_time: now,
      exp: now + ttlSeconds,
      iat: now,
      jti: randomUUID(),
    };
    const unsigned = `${encode({ kid: key.kid, alg: 'RS256' })}.${encode(claims)}`;
    return `${unsigned}.${sign('sha256', Buffer.from(unsigned), key.privateKey).toString('base64url')}`;
  }

  private signingKey(jurisdiction: string): SigningKey {
    const key = this.keys.get(jurisdiction);
    if (!key) throw new Error(`no signing key for jurisdiction ${jurisdiction}`);
    return key;
  }
}

/**
 * The jurisdiction a token claims to be from, read without verifying (the edge routes on
 * it): its Cognito issuer names the pool's region, which is a jurisdiction's primary.
 */
export function unverifiedJurisdiction(token: string, directory: JurisdictionDirectory): string | undefined {
  return homeJurisdictionOf(decode(token.split('.')[1] ?? '')?.iss, directory);
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
