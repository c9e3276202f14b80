import { createSign, generateKeyPairSync } from 'node:crypto';
import { CognitoJwtVerifier } from 'aws-jwt-verify';
import type { APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { createTokenAuthorizer } from '../../../lambda/authorizer/token-authorizer';

// The real verifier (aws-jwt-verify) with the pool's signing key cached, so no network.
const POOL = 'us-east-1_TestPool';
const CLIENT = 'web-client-id';
const ISSUER = `https://cognito-idp.us-east-1.amazonaws.com/${POOL}`;
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const verifier = CognitoJwtVerifier.create({ userPoolId: POOL, clientId: CLIENT, tokenUse: null });
verifier.cacheJwks({
  keys: [{ ...(publicKey.export({ format: 'jwk' }) as object), kid: 'k1', alg: 'RS256', use: 'sig' } as never],
});

const authorize = createTokenAuthorizer({
  verifier,
  jurisdiction: 'global',
  directory: {
    byPrimaryRegion: { 'us-east-1': 'global', 'eu-west-1': 'eu' },
    apiHosts: { global: 'global.api.shop.example.com', eu: 'eu.api.shop.example.com' },
  },
});

function jwt(claims: Record<string, unknown>): string {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const unsigned = `${part({ alg: 'RS256', kid: 'k1', typ: 'JWT' })}.${part(claims)}`;
  return `${unsigned}.${createSign('RSA-SHA256').update(unsigned).sign(privateKey).toString('base64url')}`;
}

const now = () => Math.floor(Date.now() / 1000);
const request = (authorization?: string) =>
  ({ headers: authorization ? { authorization } : {} }) as unknown as APIGatewayRequestAuthorizerEventV2;

test("a token of this jurisdiction's pool is verified and its claims passed on", async () => {
  const token = jwt({
    iss: ISSUER,
    sub: 'u-1',
    aud: CLIENT,
    token_use: 'id',
    exp: now() + 300,
    iat: now(),
    'cognito:groups': ['admin'],
  });
  expect(await authorize(request(`Bearer ${token}`))).toEqual({
    isAuthorized: true,
    context: { sub: 'u-1', iss: ISSUER, 'cognito:groups': '[admin]' },
  });
});

test('an expired or tampered token of this pool is refused', async () => {
  const expired = jwt({ iss: ISSUER, sub: 'u-1', aud: CLIENT, token_use: 'id', exp: now() - 10, iat: now() - 400 });
  expect((await authorize(request(`Bearer ${expired}`))).isAuthorized).toBe(false);
  const valid = jwt({ iss: ISSUER, sub: 'u-1', aud: CLIENT, token_use: 'id', exp: now() + 300, iat: now() });
  const [header, , signature] = valid.split('.');
  const forged = `${header}.${Buffer.from(JSON.stringify({ iss: ISSUER, sub: 'someone-else', aud: CLIENT })).toString('base64url')}.${signature}`;
  expect((await authorize(request(`Bearer ${forged}`))).isAuthorized).toBe(false);
});

test("another jurisdiction's token passes with only its issuer, for the residency guard to refuse by name", async () => {
  const euIssuer = 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_EuPool';
  const eu = jwt({ iss: euIssuer, sub: 'eu-user', exp: now() + 300 });
  expect(await authorize(request(`Bearer ${eu}`))).toEqual({ isAuthorized: true, context: { iss: euIssuer } });
});

test('no token, garbage, or an issuer of no jurisdiction is refused', async () => {
  for (const header of [
    undefined,
    'Bearer',
    'Basic abc',
    'Bearer a.b.c',
    `Bearer ${jwt({ iss: 'https://evil.example', sub: 'x' })}`,
  ]) {
    expect((await authorize(request(header))).isAuthorized).toBe(false);
  }
});

test('a pool whose keys cannot be fetched fails the call instead of caching a denial', async () => {
  const outage = new Error('JWKS fetch timed out');
  const unavailable = createTokenAuthorizer({
    verifier: { verify: async () => Promise.reject(outage) },
    jurisdiction: 'global',
    directory: { byPrimaryRegion: { 'us-east-1': 'global' }, apiHosts: {} },
    isUnavailable: (error) => error === outage,
  });
  const token = jwt({ iss: ISSUER, sub: 'u-1', aud: CLIENT, exp: now() + 300 });
  await expect(unavailable(request(`Bearer ${token}`))).rejects.toBe(outage);
});
