import { guardJurisdiction, homeJurisdictionOf } from '../../../lambda/residency/jurisdiction-guard';
import { localIssuerOf } from '../../../local/dev-tokens';

const DIRECTORY = {
  byPrimaryRegion: { 'us-east-1': 'global', 'eu-west-1': 'eu' },
  apiHosts: { global: 'global.api.shop.example.com', eu: 'eu.api.shop.example.com' },
};

test('a Cognito issuer names its pool region, hence the jurisdiction', () => {
  expect(homeJurisdictionOf('https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123', DIRECTORY)).toBe('eu');
  expect(homeJurisdictionOf('https://cognito-idp.us-east-1.amazonaws.com/us-east-1_XyZ', DIRECTORY)).toBe('global');
});

test("the local platform's issuers are Cognito-form, so they map like AWS pools; other forms map to none", () => {
  expect(homeJurisdictionOf(localIssuerOf('eu', 'eu-west-1'), DIRECTORY)).toBe('eu');
  expect(homeJurisdictionOf(localIssuerOf('global', 'us-east-1'), DIRECTORY)).toBe('global');
  expect(homeJurisdictionOf('local://eu', DIRECTORY)).toBeUndefined();
});

test('unknown or malformed issuers name no jurisdiction', () => {
  for (const issuer of [
    undefined,
    42,
    'https://cognito-idp.ap-south-1.amazonaws.com/ap-south-1_X',
    'https://evil.example/eu-west-1',
    'https://cognito-idp.eu-west-1.amazonaws.com.evil.example/x',
  ]) {
    expect(homeJurisdictionOf(issuer, DIRECTORY)).toBeUndefined();
  }
});

test('a region serves its own jurisdiction and refuses others with a pointer home', () => {
  expect(guardJurisdiction(localIssuerOf('global', 'us-east-1'), 'global', DIRECTORY)).toEqual({ allowed: true });
  expect(guardJurisdiction('https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_A', 'global', DIRECTORY)).toEqual({
    allowed: false,
    homeJurisdiction: 'eu',
    apiHost: 'eu.api.shop.example.com',
  });
  expect(guardJurisdiction('https://unknown.example', 'eu', DIRECTORY)).toEqual({
    allowed: false,
    homeJurisdiction: undefined,
    apiHost: undefined,
  });
});
