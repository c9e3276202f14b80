import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';

/**
 * Waits `ms` to a fraction of a millisecond. A timer alone fires up to ~2 ms late (whole
 * milliseconds, then the next loop turn), which over a page's three trans-Pacific calls
 * would add several ms the network does not; the last stretch is waited turn by turn.
 */
async function preciseDelay(ms: number): Promise<void> {
  const until = performance.now() + ms;
  if (ms > 2) await sleep(Math.floor(ms - 2));
  while (performance.now() < until) await nextTurn();
}

interface RttTable {
  readonly unit: 'ms';
  readonly pairs: readonly { readonly a: string; readonly b: string; readonly rtt: number }[];
}

export interface DistanceOptions {
  /**
   * Multiplies every round trip; 1 is the published figure, 0.1 a tenth of it.
   * @default 1
   */
  readonly scale?: number;
  /**
   * Whether calls between regions are delayed at all.
   * @default true
   */
  readonly enabled?: boolean;
}

/**
 * The distance between regions, from published inter-region round-trip times
 * (`inter-region-rtt.json`, copied from the design's reference folder): how long a call
 * from one region to another takes, and which region is nearest to a client.
 */
export class Distance {
  static fromReferenceTable(options: DistanceOptions = {}): Distance {
    const table = JSON.parse(readFileSync(path.join(__dirname, 'inter-region-rtt.json'), 'utf8')) as RttTable;
    return new Distance(table, options);
  }

  private readonly rtt = new Map<string, number>();
  private readonly known = new Set<string>();
  readonly scale: number;
  readonly enabled: boolean;

  constructor(table: RttTable, options: DistanceOptions = {}) {
    for (const { a, b, rtt } of table.pairs) {
      this.rtt.set(`${a}|${b}`, rtt);
      this.rtt.set(`${b}|${a}`, rtt);
      this.known.add(a).add(b);
    }
    this.scale = options.scale ?? 1;
    this.enabled = options.enabled ?? true;
    if (!(this.scale >= 0)) throw new Error(`distance scale must be 0 or more, got ${options.scale}`);
  }

  /** Regions the table knows. */
  get regions(): string[] {
    return [...this.known].sort();
  }

  knows(region: string): boolean {
    return this.regions.includes(region);
  }

  /** The published round trip between two regions in ms (0 within a region). */
  roundTripMs(from: string, to: string): number {
    if (from === to) return 0;
    const rtt = this.rtt.get(`${from}|${to}`);
    if (rtt === undefined) throw new Error(`no round-trip time between ${from} and ${to} in inter-region-rtt.json`);
    return rtt;
  }

  /** The delay a call from `from` to `to` gets here: the round trip, scaled, or 0 if off. */
  delayMs(from: string, to: string): number {
    return this.enabled ? this.roundTripMs(from, to) * this.scale : 0;
  }

  /**
   * A call from `from` to `to`: waits its delay and returns the cross-region round trips it
   * made (1 between regions, 0 within one), counted even when delays are off.
   */
  async travel(from: string, to: string): Promise<number> {
    const ms = this.delayMs(from, to);
    if (ms > 0) await preciseDelay(ms);
    return from === to ? 0 : 1;
  }

  /** `candidates` nearest first, as seen from `from`. */
  byDistanceFrom(from: string, candidates: readonly string[]): string[] {
    return [...candidates].sort((a, b) => this.roundTripMs(from, a) - this.roundTripMs(from, b));
  }
}
