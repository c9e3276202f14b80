import * as vm from 'node:vm';
import { residencyRouterCode } from '../../../lib/edge/residency-router';

const DIRECTORY = {
  byPrimaryRegion: { 'us-east-1': 'global', 'eu-west-1': 'eu' },
  apiHosts: { global: 'global.api.shop.example.com', eu: 'eu.api.shop.example.com' },
};

/** Runs the function source as CloudFront would, with a recording stand-in for `cloudfront`. */
function route(authorization?: string): { origin?: string; request: unknown } {
  const updates: { domainName: string }[] = [];
  const source = residencyRouterCode(DIRECTORY).replace("import cf from 'cloudfront';", '');
  const context = vm.createContext({
    Buffer,
    cf: { updateRequestOrigin: (o: { domainName: string }) => updates.push(o) },
  });
  vm.runInContext(source, context);
  const request = { uri: '/api/me/cart', headers: authorization ? { authorization: { value: authorization } } : {} };
  const result = vm.runInContext('handler', context)({ request });
  return { origin: updates.at(-1)?.domainName, request: result };
}

function token(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `Bearer ${part({ alg: 'RS256' })}.${part(claims)}.c2lnbmF0dXJl`;
}

test('an EU-home user goes to the EU API host, a global user to the global one', () => {
  expect(route(token({ iss: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc', sub: 'u' })).origin).toBe(
    'eu.api.shop.example.com',
  );
  expect(route(token({ iss: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Xyz', sub: 'u' })).origin).toBe(
    'global.api.shop.example.com',
  );
});

test('no token, a malformed one or an unknown issuer keeps the default origin, and the request passes on', () => {
  for (const authorization of [
    undefined,
    'Bearer not-a-jwt',
    'Basic dXNlcjpwYXNz',
    token({ iss: 'https://evil.example/eu-west-1', sub: 'u' }),
    token({ iss: 'https://cognito-idp.ap-south-1.amazonaws.com/ap-south-1_Q', sub: 'u' }),
    `Bearer a.${Buffer.from('{not json').toString('base64url')}.c`,
  ]) {
    const { origin, request } = route(authorization);
    expect(origin).toBeUndefined();
    expect(request).toMatchObject({ uri: '/api/me/cart' });
  }
});
