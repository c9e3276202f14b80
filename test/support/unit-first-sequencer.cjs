const Sequencer = require('@jest/test-sequencer').default;

/**
 * The unit project first, quickest file first; then the integration project in Jest's own
 * order (slowest first, to shorten the tail). With two workers the pure tests then never
 * share the machine with engines starting or whole-app syntheses: the open loop's 50 ms
 * lateness bound (test/unit/local/bench.test.ts) failed when it ran next to them. It also
 * puts the fast feedback of `npm test` first.
 */
class UnitFirstSequencer extends Sequencer {
  sort(tests) {
    const sorted = super.sort(tests);
    const isUnit = (test) => test.context.config.displayName?.name === 'unit';
    const unit = sorted.filter(isUnit).sort((a, b) => (a.duration ?? 0) - (b.duration ?? 0));
    return [...unit, ...sorted.filter((test) => !isUnit(test))];
  }
}

module.exports = UnitFirstSequencer;
