import { signCopy, verifiedCopy } from '../../../lambda/signing-keys/signed-copy';
import { copyKey, signedCopyOf } from '../../support/copy-key';

const JWKS = JSON.stringify({ keys: [{ kty: 'RSA', kid: 'key-1', alg: 'RS256', use: 'sig', n: 'AQAB', e: 'AQAB' }] });
const key = copyKey();

test('a copy signed by the copy key verifies, and yields its JWKS text', async () => {
  const copy = await signCopy(key, key.keyId, JWKS);
  await expect(verifiedCopy(key, key.keyId, JSON.stringify(copy))).resolves.toEqual({ jwks: JWKS });
});

test.each([
  ['a plain JWKS, as anyone allowed to write the parameter could put there', JWKS, 'the copy is not signed'],
  ['not JSON', 'x', 'the copy is not JSON'],
  [
    'a JWKS with an added key under the old signature',
    JSON.stringify({ ...signedCopyOf(key, JWKS), jwks: JWKS.replace('key-1', 'attacker') }),
    "the copy's signature does not verify",
  ],
  [
    'a copy signed by another key',
    JSON.stringify(signedCopyOf(copyKey(), JWKS)),
    "the copy's signature does not verify",
  ],
])('%s is refused', async (_what, text, refused) => {
  await expect(verifiedCopy(key, key.keyId, text)).resolves.toEqual({ refused });
});
