import { createHmac } from 'node:crypto';

/*
 * Time-based one-time passwords (RFC 6238 over RFC 4226's HOTP), written here on
 * node:crypto because no TOTP library is in the canary's bundle and the algorithm is an
 * HMAC and a few bit operations: a dependency would add more code than it saves.
 */

/** What Cognito's software-token MFA uses: HMAC-SHA-1, 30 s steps, 6 digits. */
export interface TotpOptions {
  /**
   * The moment the code is for, in milliseconds since the epoch.
   * @default Date.now()
   */
  readonly atMs?: number;
  /** @default 30 */
  readonly stepSeconds?: number;
  /** @default 6 */
  readonly digits?: number;
}

const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/**
 * The code for a base32 shared secret, as an authenticator app shows it (Cognito's
 * `AssociateSoftwareToken` hands out the secret in base32).
 */
export function totp(base32Secret: string, options: TotpOptions = {}): string {
  return totpFromKey(decodeBase32(base32Secret), options);
}

/** The code for a raw key: `HOTP(key, floor(unix time / step))`. */
export function totpFromKey(key: Uint8Array, options: TotpOptions = {}): string {
  const stepSeconds = options.stepSeconds ?? 30;
  const digits = options.digits ?? 6;
  if (!Number.isInteger(digits) || digits < 6 || digits > 10) throw new Error('TOTP digits must be 6 to 10');
  if (!(stepSeconds > 0)) throw new Error('TOTP step must be positive');
  const counter = Math.floor((options.atMs ?? Date.now()) / 1000 / stepSeconds);
  return hotp(key, counter, digits);
}

/** RFC 4226: HMAC-SHA-1 of the 8-byte big-endian counter, dynamically truncated. */
function hotp(key: Uint8Array, counter: number, digits: number): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac('sha1', key).update(message).digest();
  const offset = mac.readUInt8(mac.length - 1) & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

/** RFC 4648 base32, case-insensitive, ignoring spaces and `=` padding. */
export function decodeBase32(text: string): Buffer {
  const clean = text.replace(/[\s=]/g, '').toUpperCase();
  if (clean === '') throw new Error('TOTP secret is empty');
  const bytes: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const char of clean) {
    const value = BASE32_ALPHABET.indexOf(char);
    if (value < 0) throw new Error('TOTP secret is not base32 (A-Z, 2-7)');
    buffer = ((buffer << 5) | value) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((buffer >> bits) & 0xff);
    }
  }
  return Buffer.from(bytes);
}
