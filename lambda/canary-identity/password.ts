import { randomInt } from 'node:crypto';

/*
 * Passwords for the canary user, drawn with node:crypto's CSPRNG (`randomInt`, unbiased).
 * The user pool's policy (lib/identity/user-directory.ts): at least 12 characters with a
 * lowercase letter, an uppercase letter, a digit and a symbol. The symbols are a subset of
 * Cognito's that no shell, JSON or CLI shorthand treats specially.
 */

export const PASSWORD_CLASSES = {
  lower: 'abcdefghijkmnopqrstuvwxyz',
  upper: 'ABCDEFGHJKLMNPQRSTUVWXYZ',
  digit: '23456789',
  symbol: '!#%+-.:=?^_~',
} as const;

export const DEFAULT_PASSWORD_LENGTH = 32;

/** A password with at least one character of every class, in random positions. */
export function generatePassword(
  length = DEFAULT_PASSWORD_LENGTH,
  random: (max: number) => number = randomInt,
): string {
  const classes = Object.values(PASSWORD_CLASSES);
  if (!Number.isInteger(length) || length < 12) throw new Error('canary passwords are at least 12 characters');
  const all = classes.join('');
  const pick = (alphabet: string) => alphabet.charAt(random(alphabet.length));
  const chars = classes.map(pick);
  while (chars.length < length) chars.push(pick(all));
  // Fisher-Yates, so the one-of-each characters are not always first.
  for (let i = chars.length - 1; i > 0; i--) {
    const j = random(i + 1);
    [chars[i], chars[j]] = [chars[j] as string, chars[i] as string];
  }
  return chars.join('');
}

/** Whether `password` meets the pool's policy (the check Cognito makes, for tests and guards). */
export function meetsPoolPolicy(password: string): boolean {
  return (
    password.length >= 12 &&
    /[a-z]/.test(password) &&
    /[A-Z]/.test(password) &&
    /[0-9]/.test(password) &&
    /[\^$*.[\]{}()?"!@#%&/\\,><':;|_~`=+-]/.test(password)
  );
}
