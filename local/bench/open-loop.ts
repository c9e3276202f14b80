import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';

export interface OpenLoopOptions {
  /** Starts per second, at evenly spaced intended times. */
  readonly ratePerSecond: number;
  readonly durationMs: number;
  /**
   * Delay of the first start, so loops running side by side do not all fire at the same
   * instant (a burst no real shoppers make).
   * @default 0
   */
  readonly phaseMs?: number;
  /**
   * Called at (or, if the loop is late, right after) each intended start, without waiting
   * for earlier calls: a slow server's queue shows in the latency instead of slowing the
   * arrivals. Measure latency from `intendedStart`, not from when the call began.
   */
  readonly run: (index: number, intendedStart: number) => Promise<void>;
  /**
   * Where time comes from.
   * @default the real clock: `performance.now`, timers, `setImmediate`
   */
  readonly clock?: LoopClock;
}

/** The loop's view of time, so that tests can run it on a virtual clock. */
export interface LoopClock {
  now(): number;
  sleep(ms: number): Promise<unknown>;
  /** Lets other work run, e.g. `setImmediate`. */
  nextTurn(): Promise<unknown>;
}

const REAL_CLOCK: LoopClock = { now: () => performance.now(), sleep, nextTurn };

/**
 * A constant arrival rate (an open loop, as wrk2 and k6's constant-arrival-rate drive
 * load): starts are fixed in advance, so a request is never held back because an earlier
 * one is still in flight (no coordinated omission). Resolves when every call has settled.
 * Written here because the flows are multi-call, signed-in and checked answer by answer
 * in-process; the Node load tools at hand (autocannon) run closed loops.
 */
export async function openLoop(options: OpenLoopOptions): Promise<number> {
  const { ratePerSecond, durationMs, run } = options;
  if (!(ratePerSecond > 0)) throw new Error(`openLoop: ratePerSecond must be above 0, got ${ratePerSecond}`);
  if (!(durationMs > 0)) throw new Error(`openLoop: durationMs must be above 0, got ${durationMs}`);
  const intervalMs = 1000 / ratePerSecond;
  const starts = Math.max(1, Math.round((durationMs / 1000) * ratePerSecond));
  const clock = options.clock ?? REAL_CLOCK;
  const origin = clock.now() + (options.phaseMs ?? 0);
  const inFlight: Promise<void>[] = [];
  for (let index = 0; index < starts; index++) {
    const intendedStart = origin + index * intervalMs;
    const wait = intendedStart - clock.now();
    if (wait > 1) await clock.sleep(wait - 1);
    // A timer can fire a little early (it counts from the loop's cached clock); a call
    // started early would be timed short.
    while (clock.now() < intendedStart) await clock.nextTurn();
    inFlight.push(run(index, intendedStart));
  }
  await Promise.allSettled(inFlight);
  return starts;
}
