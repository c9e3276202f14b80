import { resolveTopology } from '../../../lib/config/topology';
import { missingEventualWrites } from '../../../local/drill/audit';
import { DrillOptionsError, type RegionDrillOptions } from '../../../local/drill/options';
import { runRegionDrill } from '../../../local/drill/run';

// What the drill decides without a platform: its read-back arithmetic, and the options it
// refuses before anything starts. The drills themselves are in test/integration/local/drill.test.ts.

describe('the read-back that decides "writes lost"', () => {
  const acks = {
    likes: new Map([
      ['eu-west-1', 3],
      ['eu-central-1', 2],
    ]),
    cart: new Map([['alice|eu-central-1', 2]]),
  };
  const complete = { likes: { 'eu-west-1': 3, 'eu-central-1': 2 }, carts: { alice: { 'eu-central-1': 2 } } };

  test('every replica holding every acknowledged write: nothing lost', () => {
    expect(missingEventualWrites(acks, [complete, complete])).toEqual({ likes: 0, cartAdds: 0 });
  });

  test('one replica short of a like and a cart add: both counted, whichever replica it is', () => {
    const short = { likes: { 'eu-west-1': 2, 'eu-central-1': 2 }, carts: { alice: { 'eu-central-1': 1 } } };
    expect(missingEventualWrites(acks, [complete, short])).toEqual({ likes: 1, cartAdds: 1 });
    expect(missingEventualWrites(acks, [short, complete])).toEqual({ likes: 1, cartAdds: 1 });
  });

  test('a replica that never saw a region or a user counts all of its writes as lost', () => {
    expect(missingEventualWrites(acks, [complete, { likes: {}, carts: {} }])).toEqual({ likes: 5, cartAdds: 2 });
  });

  test('extra writes in a replica do not hide a missing one elsewhere', () => {
    const extra = { likes: { 'eu-west-1': 9, 'eu-central-1': 9 }, carts: { alice: { 'eu-central-1': 9 } } };
    const short = { likes: { 'eu-west-1': 3, 'eu-central-1': 1 }, carts: { alice: { 'eu-central-1': 2 } } };
    expect(missingEventualWrites(acks, [extra, short])).toEqual({ likes: 1, cartAdds: 0 });
  });

  test('no replica read back is an error, not "nothing lost"', () => {
    expect(() => missingEventualWrites(acks, [])).toThrow(/no replica was read back/);
  });
});

const singleRegion = resolveTopology({
  jurisdictions: [{ name: 'global', residency: 'none', primaryRegion: 'us-east-1', regions: ['us-east-1'] }],
});

test.each<[string, RegionDrillOptions, string, RegExp]>([
  ['an unknown region', { region: 'mars-1' }, 'region', /must be a serving region of the topology \(us-east-1, /],
  ['a region with nowhere to go', { region: 'us-east-1', topology: singleRegion }, 'region', /nowhere to go/],
  ['an unknown model', { model: 'sideways' as never }, 'model', /must be one of active-active, active-passive/],
  ['a down too short to notice', { downMs: 100 }, 'downMs', /must be from 800 to 60000/],
  ['no clients', { clientsPerContinent: 0 }, 'clientsPerContinent', /must be from 1 to 50/],
  ['a rate that is not a number', { rate: 'fast' as never }, 'rate', /must be a number .* got "fast"/],
  ['half a client', { clientsPerContinent: 1.5 }, 'clientsPerContinent', /whole number/],
  ['a wall cap below the drill', { maxWallMs: 10_000, downMs: 9000 }, 'maxWallMs', /warmupMs \+ downMs/],
  ['an unknown option', { bogus: 1 } as never, 'bogus', /is not a drill option/],
  ['an unknown option beside a bad value', { downMs: 'x', bogus: 1 } as never, 'bogus', /is not a drill option/],
  ['options that are not an object', null as never, 'options', /must be an object/],
  ['a warm-up shorter than two requests', { rate: 0.5, warmupMs: 3000 }, 'warmupMs', /must be from 4000 to 60000/],
  ['a progress callback that is not one', { onProgress: 'loud' as never }, 'onProgress', /must be a function/],
])('bad options: %s is refused, naming the field, before anything starts', async (_what, options, field, message) => {
  const started = Date.now();
  const error = await runRegionDrill(options).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(DrillOptionsError);
  expect((error as DrillOptionsError).field).toBe(field);
  expect((error as Error).message).toMatch(new RegExp(`^${field} `));
  expect((error as Error).message).toMatch(message);
  expect(Date.now() - started).toBeLessThan(1000);
});
