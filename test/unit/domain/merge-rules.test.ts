import fc from 'fast-check';
import {
  addToLine,
  type CartLine,
  type CartLineReplica,
  clearLine,
  lineQuantity,
  mergeLines,
} from '../../../lambda/domain/cart-lines';
import { incrementLikes, type LikeCounter, likeTotal, mergeLikes } from '../../../lambda/domain/like-counter';
import {
  compareProfiles,
  mergeProfiles,
  nextProfile,
  type ProfileRecord,
  winningProfile,
} from '../../../lambda/domain/profile-register';

const REGIONS = ['us-east-1', 'eu-west-1', 'eu-central-1', 'ap-southeast-1'];
const region = fc.constantFrom(...REGIONS);
const RUNS = { numRuns: 300 };

const likeCounter: fc.Arbitrary<LikeCounter> = fc.dictionary(region, fc.nat({ max: 1000 }));
const profile: fc.Arbitrary<ProfileRecord> = fc.record({
  displayName: fc.string({ maxLength: 8 }),
  preferences: fc.dictionary(fc.constantFrom('lang', 'theme'), fc.constantFrom('a', 'b')),
  version: fc.nat({ max: 5 }),
  updatedAt: fc.nat({ max: 5 }),
  region,
});
const replica: fc.Arbitrary<CartLineReplica> = fc.record({
  added: fc.nat({ max: 50 }),
  cleared: fc.dictionary(region, fc.nat({ max: 50 })),
});
const cartLine: fc.Arbitrary<CartLine> = fc.dictionary(region, replica);

/** The same value whatever the order the pieces are merged in. */
function expectSemilattice<T>(arb: fc.Arbitrary<T>, merge: (a: T, b: T) => T, same: (a: T, b: T) => void) {
  fc.assert(
    fc.property(arb, arb, (a, b) => same(merge(a, b), merge(b, a))),
    RUNS,
  );
  fc.assert(
    fc.property(arb, arb, arb, (a, b, c) => same(merge(merge(a, b), c), merge(a, merge(b, c)))),
    RUNS,
  );
  fc.assert(
    fc.property(arb, (a) => same(merge(a, a), a)),
    RUNS,
  );
}

const sameLikes = (a: LikeCounter, b: LikeCounter) => {
  const regions = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const r of regions) expect(a[r] ?? 0).toBe(b[r] ?? 0);
};
const sameLine = (a: CartLine, b: CartLine) => {
  for (const r of new Set([...Object.keys(a), ...Object.keys(b)])) {
    expect(a[r]?.added ?? 0).toBe(b[r]?.added ?? 0);
    sameLikes(a[r]?.cleared ?? {}, b[r]?.cleared ?? {});
  }
  expect(lineQuantity(a)).toBe(lineQuantity(b));
};

describe('merge rules are commutative, associative and idempotent', () => {
  test('likes (G-Counter)', () => expectSemilattice(likeCounter, mergeLikes, sameLikes));
  test('cart lines (add-wins counter)', () => expectSemilattice(cartLine, mergeLines, sameLine));
  test('profiles (register ordered by version, timestamp, region)', () =>
    expectSemilattice(
      profile,
      (a, b) => mergeProfiles(a, b) as ProfileRecord,
      (a, b) => expect(a).toEqual(b),
    ));
});

/**
 * A history of operations in several regions, each applied to that region's own view,
 * with replication modelled as delivering some region's state to another at random
 * points, in any order, duplicated or late. After everything is delivered everywhere,
 * every region must hold the same value.
 */
type Step =
  | { kind: 'op'; region: string; amount: number; remove: boolean }
  | { kind: 'deliver'; from: string; to: string };
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('op' as const), region, amount: fc.integer({ min: 1, max: 5 }), remove: fc.boolean() }),
  fc.record({ kind: fc.constant('deliver' as const), from: region, to: region }),
);

describe('any order, duplication or delay of replicated writes converges', () => {
  test('likes', () => {
    fc.assert(
      fc.property(
        fc.array(step, { maxLength: 60 }),
        fc.array(fc.constantFrom(...REGIONS), { minLength: 4 }),
        (steps, finalOrder) => {
          const views = new Map<string, LikeCounter>(REGIONS.map((r) => [r, {}]));
          let expectedTotal = 0;
          for (const s of steps) {
            if (s.kind === 'op') {
              views.set(s.region, incrementLikes(views.get(s.region) ?? {}, s.region, s.amount));
              expectedTotal += s.amount;
            } else {
              views.set(s.to, mergeLikes(views.get(s.to) ?? {}, views.get(s.from) ?? {}));
            }
          }
          const everything = [...finalOrder, ...REGIONS].reduce((acc, r) => mergeLikes(acc, views.get(r) ?? {}), {});
          for (const r of REGIONS) {
            const converged = [...REGIONS]
              .reverse()
              .reduce((acc, from) => mergeLikes(acc, views.get(from) ?? {}), views.get(r) ?? {});
            expect(likeTotal(converged)).toBe(likeTotal(everything));
          }
          // No increment is lost: the converged value is every increment ever made.
          expect(likeTotal(everything)).toBe(expectedTotal);
        },
      ),
      RUNS,
    );
  });

  test('cart line: every region ends with the same quantity, and an add no remove saw survives', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const views = new Map<string, CartLine>(REGIONS.map((r) => [r, {}]));
        for (const s of steps) {
          const view = views.get(s.kind === 'op' ? s.region : s.to) ?? {};
          if (s.kind === 'op') {
            const own = s.remove ? clearLine(view, s.region) : addToLine(view, s.region, s.amount);
            views.set(s.region, { ...view, [s.region]: own });
          } else {
            views.set(s.to, mergeLines(view, views.get(s.from) ?? {}));
          }
        }
        const finals = REGIONS.map((r) =>
          REGIONS.reduce((acc, from) => mergeLines(acc, views.get(from) ?? {}), views.get(r) ?? {}),
        );
        const quantities = finals.map(lineQuantity);
        expect(new Set(quantities).size).toBe(1);
        // Every region's adds after the last remove that saw them still count.
        const [merged] = finals;
        if (!merged) throw new Error('no region to merge in');
        for (const quantity of quantities) expect(quantity).toBeGreaterThanOrEqual(0);
        const unseenByAnyRemove = Object.entries(merged).reduce((sum, [r, rep]) => {
          const seen = Math.max(0, ...Object.values(merged).map((other) => other.cleared[r] ?? 0));
          return sum + Math.max(0, rep.added - seen);
        }, 0);
        expect(quantities[0]).toBe(unseenByAnyRemove);
      }),
      RUNS,
    );
  });

  test('profile: every region picks the same winner, the highest (version, timestamp, region)', () => {
    fc.assert(
      fc.property(fc.array(profile, { minLength: 1, maxLength: 12 }), fc.func(fc.nat()), (writes, shuffleKey) => {
        const shuffled = [...writes].sort((a, b) => shuffleKey(a) - shuffleKey(b));
        const duplicated = [...shuffled, ...writes.slice(0, 3)];
        const winnerA = winningProfile(writes) as ProfileRecord;
        const winnerB = winningProfile(duplicated) as ProfileRecord;
        expect(compareProfiles(winnerA, winnerB)).toBe(0);
        for (const write of writes) expect(compareProfiles(winnerA, write)).toBeGreaterThanOrEqual(0);
      }),
      RUNS,
    );
  });
});

describe('the worked examples of the design, on the pure rules', () => {
  test('profile: "Abhi" v12 at 10:01:05 in the US loses to "Abhishek" v13 at 10:01:07 in the EU', () => {
    const base = { preferences: {} };
    const us: ProfileRecord = {
      ...base,
      displayName: 'Abhi',
      version: 12,
      updatedAt: Date.parse('2026-11-26T10:01:05Z'),
      region: 'us-east-1',
    };
    const eu: ProfileRecord = {
      ...base,
      displayName: 'Abhishek',
      version: 13,
      updatedAt: Date.parse('2026-11-26T10:01:07Z'),
      region: 'eu-west-1',
    };
    expect(mergeProfiles(us, eu)?.displayName).toBe('Abhishek');
    expect(mergeProfiles(eu, us)?.displayName).toBe('Abhishek');
  });

  test('profile: a higher version wins over a later timestamp; the region breaks a full tie', () => {
    const at = (version: number, updatedAt: number, r: string): ProfileRecord => ({
      displayName: r,
      preferences: {},
      version,
      updatedAt,
      region: r,
    });
    expect(mergeProfiles(at(3, 100, 'eu-west-1'), at(2, 999, 'us-east-1'))?.region).toBe('eu-west-1');
    expect(mergeProfiles(at(3, 100, 'eu-west-1'), at(3, 100, 'us-east-1'))?.region).toBe('us-east-1');
    expect(
      nextProfile(at(12, 1, 'us-east-1'), { displayName: 'x', preferences: {} }, 'eu-west-1', new Date(5)).version,
    ).toBe(13);
  });

  test('cart: item A ×1 in the US and ×1 in the EU is quantity 2', () => {
    const us = { 'us-east-1': addToLine({}, 'us-east-1', 1) };
    const eu = { 'eu-west-1': addToLine({}, 'eu-west-1', 1) };
    expect(lineQuantity(mergeLines(us, eu))).toBe(2);
  });

  test('cart: a remove erases what it saw, not an add it had not seen', () => {
    let us: CartLine = { 'us-east-1': addToLine({}, 'us-east-1', 2) };
    let eu: CartLine = mergeLines({}, us);
    eu = { ...eu, 'eu-west-1': clearLine(eu, 'eu-west-1') };
    us = { ...us, 'us-east-1': addToLine(us, 'us-east-1', 1) };
    expect(lineQuantity(eu)).toBe(0);
    expect(lineQuantity(mergeLines(us, eu))).toBe(1);
    expect(lineQuantity(mergeLines(eu, us))).toBe(1);
  });

  test('likes: US +3 and Asia +2 is 5', () => {
    const us = incrementLikes({}, 'us-east-1', 3);
    const asia = incrementLikes({}, 'ap-southeast-1', 2);
    expect(likeTotal(mergeLikes(us, asia))).toBe(5);
  });
});
