import { keysUnavailable, poolVerifier } from '../../../lambda/authorizer/pool-verifier';
import { createTokenAuthorizer } from '../../../lambda/authorizer/token-authorizer';
import { DevTokenIssuer, localIssuerOf, unverifiedJurisdiction } from '../../../local/dev-tokens';
import { Distance } from '../../../local/distance';
import { IssuerServer, issuerFetcher } from '../../../local/issuer-server';

// The local issuers make tokens the AWS authorizer's code verifies unchanged, and serve
// their keys only while their region is up.
const DIRECTORY = {
  byPrimaryRegion: { 'us-east-1': 'global', 'eu-west-1': 'eu' },
  apiHosts: { global: 'global.api.shop.example.com', eu: 'eu.api.shop.example.com' },
};
const tokens = new DevTokenIssuer([
  { name: 'global', primaryRegion: 'us-east-1' },
  { name: 'eu', primaryRegion: 'eu-west-1' },
]);
const eu = tokens.pool('eu');
const event = (token?: string) => ({ headers: token ? { authorization: `Bearer ${token}` } : {} }) as never;

let issuer: IssuerServer;
let regionDown = false;

beforeAll(async () => {
  issuer = new IssuerServer({ pool: eu, tokens, regionDown: () => regionDown });
  await issuer.listen(0);
});

afterAll(async () => {
  await issuer.close();
});

const fetcher = () => issuerFetcher('eu-central-1', () => [issuer], Distance.fromReferenceTable({ enabled: false }));

test('pools are named like Cognito pools, and their issuers map to the jurisdiction as in AWS', () => {
  expect(eu).toMatchObject({
    userPoolId: 'eu-west-1_LocalEu',
    issuer: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_LocalEu',
  });
  expect(localIssuerOf('global', 'us-east-1')).toBe(
    'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_LocalGlobal',
  );
  expect(unverifiedJurisdiction(tokens.issue('eu', { sub: 'ada' }), DIRECTORY)).toBe('eu');
  expect(unverifiedJurisdiction(tokens.issue('global', { sub: 'ada' }), DIRECTORY)).toBe('global');
  expect(unverifiedJurisdiction('not.a.token', DIRECTORY)).toBeUndefined();
});

test('an ID token verifies with the region copy of the keys: RS256, kid, Cognito claims', async () => {
  const token = tokens.issue('eu', { sub: 'ada', admin: true }, 60);
  const header = JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString());
  expect(header).toEqual({ kid: expect.stringMatching(/^local-eu-/), alg: 'RS256' });
  const jwks = tokens.jwks('eu');
  expect(jwks.keys).toEqual([expect.objectContaining({ kty: 'RSA', kid: header.kid, alg: 'RS256', use: 'sig' })]);
  const claims = await poolVerifier({ userPoolId: eu.userPoolId, clientId: eu.clientId, regionalKeys: jwks }).verify(
    token,
  );
  expect(claims).toMatchObject({ sub: 'ada', aud: eu.clientId, token_use: 'id', 'cognito:groups': ['admin'] });
  expect((claims.exp as number) - (claims.iat as number)).toBe(60);
});

test('a tampered token, a token of another pool or an expired one does not verify', async () => {
  const verifier = poolVerifier({ userPoolId: eu.userPoolId, clientId: eu.clientId, regionalKeys: tokens.jwks('eu') });
  const [h, p, s] = tokens.issue('eu', { sub: 'ada' }).split('.');
  const forged = Buffer.from(
    JSON.stringify({ ...JSON.parse(Buffer.from(p as string, 'base64url').toString()), sub: 'eve' }),
  );
  await expect(verifier.verify(`${h}.${forged.toString('base64url')}.${s}`)).rejects.toThrow();
  await expect(verifier.verify(tokens.issue('global', { sub: 'ada' }))).rejects.toThrow();
  await expect(verifier.verify(tokens.issue('eu', { sub: 'ada' }, -10))).rejects.toThrow();
});

test('the authorizer: its own pool verified, another pool passed on for the 421, nothing else', async () => {
  const authorize = createTokenAuthorizer({
    verifier: poolVerifier({ userPoolId: eu.userPoolId, clientId: eu.clientId, regionalKeys: tokens.jwks('eu') }),
    jurisdiction: 'eu',
    directory: DIRECTORY,
    isUnavailable: keysUnavailable,
  });
  await expect(authorize(event(tokens.issue('eu', { sub: 'ada', admin: true })))).resolves.toEqual({
    isAuthorized: true,
    context: { sub: 'ada', iss: eu.issuer, 'cognito:groups': '[admin]' },
  });
  await expect(authorize(event(tokens.issue('global', { sub: 'bo' })))).resolves.toEqual({
    isAuthorized: true,
    context: { iss: tokens.pool('global').issuer },
  });
  await expect(authorize(event('a.b.c'))).resolves.toEqual({ isAuthorized: false, context: {} });
});

test('without a copy, the keys come from the issuer in the primary region, and not while it is down', async () => {
  const authorizer = () =>
    createTokenAuthorizer({
      verifier: poolVerifier({ userPoolId: eu.userPoolId, clientId: eu.clientId, fetcher: fetcher() }),
      jurisdiction: 'eu',
      directory: DIRECTORY,
      isUnavailable: keysUnavailable,
    });
  const token = tokens.issue('eu', { sub: 'ada' });
  await expect(authorizer()(event(token))).resolves.toMatchObject({ isAuthorized: true, context: { sub: 'ada' } });
  regionDown = true;
  try {
    // A cold authorizer cannot verify: it throws (API Gateway answers 500), never denies.
    const cold = authorizer();
    const failure = await cold(event(token)).catch((error: unknown) => error);
    expect(keysUnavailable(failure)).toBe(true);
  } finally {
    regionDown = false;
  }
  const jwks = await fetch(issuer.jwksUrl);
  expect([jwks.status, await jwks.json()]).toEqual([200, tokens.jwks('eu')]);
});
