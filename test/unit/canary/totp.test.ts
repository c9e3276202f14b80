import { createHmac } from 'node:crypto';
import { decodeBase32, totp, totpFromKey } from '../../../lambda/canary/totp';

// RFC 6238, appendix B: the SHA-1 seed is the ASCII string "12345678901234567890".
const SEED = Buffer.from('12345678901234567890', 'ascii');
const SEED_BASE32 = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const VECTORS: readonly [seconds: number, code: string][] = [
  [59, '94287082'],
  [1111111109, '07081804'],
  [1111111111, '14050471'],
  [1234567890, '89005924'],
  [2000000000, '69279037'],
  [20000000000, '65353130'],
];

describe('TOTP (RFC 6238, SHA-1, 30 s steps)', () => {
  test.each(VECTORS)('at %i s the 8-digit code is %s', (seconds, code) => {
    expect(totpFromKey(SEED, { atMs: seconds * 1000, digits: 8 })).toBe(code);
    expect(totp(SEED_BASE32, { atMs: seconds * 1000, digits: 8 })).toBe(code);
  });

  test.each(VECTORS)('at %i s the 6-digit code Cognito expects is the last six of %s', (seconds, code) => {
    expect(totp(SEED_BASE32, { atMs: seconds * 1000 })).toBe(code.slice(-6));
  });

  test('the code changes at step boundaries only', () => {
    expect(totp(SEED_BASE32, { atMs: 30_000 })).toBe(totp(SEED_BASE32, { atMs: 59_999 }));
    expect(totp(SEED_BASE32, { atMs: 59_999 })).not.toBe(totp(SEED_BASE32, { atMs: 60_000 }));
  });

  test('base32 secrets are read as authenticator apps read them: any case, spaces, padding', () => {
    expect(decodeBase32('gezd gnbv gy3t qojq gezd gnbv gy3t qojq')).toEqual(SEED);
    expect(decodeBase32('MZXW6===')).toEqual(Buffer.from('foo'));
    expect(decodeBase32('MZXW6YTBOI======')).toEqual(Buffer.from('foobar'));
  });

  test('a secret that is not base32 is refused without quoting it', () => {
    expect(() => totp('not-base32!')).toThrow('TOTP secret is not base32 (A-Z, 2-7)');
    expect(() => totp('   ')).toThrow('TOTP secret is empty');
  });

  test('agrees with an independent HMAC-SHA-1 HOTP for random keys and times', () => {
    for (let i = 0; i < 50; i++) {
      const key = Buffer.from(Array.from({ length: 20 }, () => Math.floor(Math.random() * 256)));
      const atMs = Math.floor(Math.random() * 4_000_000_000_000);
      const counter = Buffer.alloc(8);
      counter.writeBigUInt64BE(BigInt(Math.floor(atMs / 30_000)));
      const mac = createHmac('sha1', key).update(counter).digest();
      const offset = mac.readUInt8(mac.length - 1) & 0xf;
      const expected = String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
      expect(totpFromKey(key, { atMs })).toBe(expected);
    }
  });
});
