import { randomInt } from 'node:crypto';
import { generatePassword, meetsPoolPolicy, PASSWORD_CLASSES } from '../../../lambda/canary-identity/password';

describe('canary passwords', () => {
  test('32 characters meeting the pool policy, every class present, different each time', () => {
    const passwords = Array.from({ length: 200 }, () => generatePassword());
    for (const password of passwords) {
      expect(password).toHaveLength(32);
      expect(meetsPoolPolicy(password)).toBe(true);
      for (const alphabet of Object.values(PASSWORD_CLASSES)) {
        expect([...password].some((c) => alphabet.includes(c))).toBe(true);
      }
    }
    expect(new Set(passwords).size).toBe(passwords.length);
  });

  test('even when the random source favours one class, each class is in the password', () => {
    // given a source that always answers 0 (the first character of any alphabet)
    const password = generatePassword(12, () => 0);
    // then
    expect(meetsPoolPolicy(password)).toBe(true);
  });

  test('uses only characters that need no quoting in a shell, JSON or the CLI shorthand', () => {
    const password = generatePassword(64, randomInt);
    expect(password).toMatch(/^[A-Za-z0-9!#%+\-.:=?^_~]+$/);
  });

  test('refuses lengths below the policy minimum', () => {
    expect(() => generatePassword(11)).toThrow('at least 12 characters');
  });

  test('the policy check: each missing class fails it', () => {
    expect(meetsPoolPolicy('Abcdefghij1!')).toBe(true);
    for (const weak of ['Abcdefghij1', 'abcdefghij1!', 'ABCDEFGHIJ1!', 'Abcdefghijk!', 'Abcdefgh1!']) {
      expect([weak, meetsPoolPolicy(weak)]).toEqual([weak, false]);
    }
  });
});
