import { performance } from 'node:perf_hooks';

/** The monotonic clock, in ms. */
export const clock = (): number => performance.now();

export const sleep = (ms: number): Promise<void> =>
  new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** ms as seconds, to the ms. */
export const seconds = (ms: number): number => Math.round(ms) / 1000;

/** Time kept back from the wall cap for stopping the platform. */
export const STOP_RESERVE_MS = 5000;

/** Retries `check` until it returns true or `timeoutMs` runs out; returns whether it passed. */
export async function waitFor(
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  everyMs = 50,
): Promise<boolean> {
  const deadline = clock() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (clock() >= deadline) return false;
    await sleep(Math.min(everyMs, deadline - clock()));
  }
}

/** The drill's wall cap: when it started, and how long its load may still run. */
export class DrillWall {
  readonly startedAt = clock();
  /** When the load must stop, to leave `STOP_RESERVE_MS` for the platform's stop. */
  readonly deadline: number;

  constructor(maxWallMs: number) {
    this.deadline = this.startedAt + maxWallMs - STOP_RESERVE_MS;
  }

  /** ms until the deadline; negative once it has passed. */
  timeLeft(): number {
    return this.deadline - clock();
  }

  /** A moment of the monotonic clock as seconds since the drill started. */
  secondsAt(at: number): number {
    return seconds(at - this.startedAt);
  }
}
