import { createSign, generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { Fetcher } from 'aws-jwt-verify/https';
import type { Jwks } from 'aws-jwt-verify/jwk';
import { jwksUriOf, keysUnavailable, parseJwks, poolVerifier } from '../../../lambda/authorizer/pool-verifier';
import { createTokenAuthorizer } from '../../../lambda/authorizer/token-authorizer';

// aws-jwt-verify itself, with RS256 tokens signed here as Cognito signs them. The point:
// with the region's copy of the keys, no fetch from the pool's region is needed.
const POOL = 'eu-west-1_TestPool';
const CLIENT = 'web-client';
const ISSUER = `https://cognito-idp.eu-west-1.amazonaws.com/${POOL}`;

function signingKey(kid: string): { privateKey: KeyObject; jwks: Jwks } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const { n, e } = publicKey.export({ format: 'jwk' });
  return { privateKey, jwks: { keys: [{ kty: 'RSA', n: String(n), e: String(e), kid, alg: 'RS256', use: 'sig' }] } };
}

function token(privateKey: KeyObject, kid: string, claims: Record<string, unknown> = {}): string {
  const now = Math.floor(Date.now() / 1000);
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const body = { iss: ISSUER, sub: 'shopper-1', aud: CLIENT, token_use: 'id', iat: now, exp: now + 3600, ...claims };
  const unsigned = `${encode({ alg: 'RS256', kid })}.${encode(body)}`;
  return `${unsigned}.${createSign('RSA-SHA256').update(unsigned).sign(privateKey).toString('base64url')}`;
}

/** The pool's region is down: every fetch of its JWKS fails, and is counted. */
function downRegion(): Fetcher & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    fetch: async (uri: string) => {
      calls.push(uri);
      throw new Error(`connect ECONNREFUSED ${uri}`);
    },
  };
}

const key = signingKey('key-1');

test("with the region's copy of the keys a token verifies while the pool's region is down, with no fetch", async () => {
  const fetcher = downRegion();
  const verifier = poolVerifier({ userPoolId: POOL, clientId: CLIENT, regionalKeys: key.jwks, fetcher });
  await expect(verifier.verify(token(key.privateKey, 'key-1'))).resolves.toMatchObject({ sub: 'shopper-1' });
  expect(fetcher.calls).toEqual([]);
});

test("without a copy the verifier must fetch from the pool's region, and fails as unavailable when it is down", async () => {
  const fetcher = downRegion();
  const verifier = poolVerifier({ userPoolId: POOL, clientId: CLIENT, fetcher });
  const failure = verifier.verify(token(key.privateKey, 'key-1')).catch((error: unknown) => error);
  expect(keysUnavailable(await failure)).toBe(true);
  expect(fetcher.calls).toEqual([jwksUriOf(POOL)]);
});

test('after a failed fetch, tokens of an unknown key fail at once instead of each waiting out another fetch', async () => {
  const fetcher = downRegion();
  const verifier = poolVerifier({ userPoolId: POOL, clientId: CLIENT, regionalKeys: key.jwks, fetcher });
  const stranger = signingKey('made-up-kid');
  const failures = [];
  for (let attempt = 0; attempt < 5; attempt++) {
    failures.push(await verifier.verify(token(stranger.privateKey, 'made-up-kid')).catch((error: unknown) => error));
  }
  expect(failures.map(keysUnavailable)).toEqual([true, true, true, true, true]);
  expect(fetcher.calls).toHaveLength(1);
  // Tokens of the copied key still verify meanwhile.
  await expect(verifier.verify(token(key.privateKey, 'key-1'))).resolves.toMatchObject({ sub: 'shopper-1' });
});

test('a key the copy lacks is fetched from the pool (a rotation the copy has not seen yet)', async () => {
  const rotated = signingKey('key-2');
  const fetcher: Fetcher = { fetch: async () => new TextEncoder().encode(JSON.stringify(rotated.jwks)).buffer };
  const verifier = poolVerifier({ userPoolId: POOL, clientId: CLIENT, regionalKeys: key.jwks, fetcher });
  await expect(verifier.verify(token(rotated.privateKey, 'key-2'))).resolves.toMatchObject({ sub: 'shopper-1' });
});

test('the copy does not make a bad token good: another client, another signer, expired', async () => {
  const verifier = poolVerifier({ userPoolId: POOL, clientId: CLIENT, regionalKeys: key.jwks, fetcher: downRegion() });
  const stranger = signingKey('key-1');
  await expect(verifier.verify(token(key.privateKey, 'key-1', { aud: 'other-client' }))).rejects.toThrow();
  await expect(verifier.verify(token(stranger.privateKey, 'key-1'))).rejects.toThrow();
  await expect(verifier.verify(token(key.privateKey, 'key-1', { exp: 1 }))).rejects.toThrow();
});

test('the authorizer answers a signed-in request in a region whose pool region is down', async () => {
  const authorizer = createTokenAuthorizer({
    verifier: poolVerifier({ userPoolId: POOL, clientId: CLIENT, regionalKeys: key.jwks, fetcher: downRegion() }),
    jurisdiction: 'eu',
    directory: { byPrimaryRegion: { 'eu-west-1': 'eu' }, apiHosts: {} },
    isUnavailable: keysUnavailable,
  });
  const event = { headers: { authorization: `Bearer ${token(key.privateKey, 'key-1')}` } };
  const result = await authorizer(event as unknown as Parameters<typeof authorizer>[0]);
  expect(result).toMatchObject({ isAuthorized: true, context: { sub: 'shopper-1', iss: ISSUER } });
});

test.each([
  ['not json', 'parameter p is not JSON'],
  ['{"keys": 3}', 'parameter p is not a JWKS'],
])('a copy that is not a JWKS (%s) is refused naming its source', (text, message) => {
  expect(() => parseJwks(text, 'parameter p')).toThrow(message);
});
