import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from './flows';
import { newHistogram, record, summarize } from './latency-histogram';
import type { topologyOf } from './models';
import { control, token } from './platform-controls';
import type { PlatformUrls } from './platform-process';
import type { ReplicationLag, StockReplicaLag } from './results';

/** How often a lag probe reads the other region: the lag's resolution. */
export const LAG_POLL_MS = 25;
const LAG_TIMEOUT_MS = 10_000;
/** Pause between rounds of lag probes. */
export const LAG_PROBE_PAUSE_MS = 500;

type BenchTopology = ReturnType<typeof topologyOf>;

interface Pair {
  readonly jurisdiction: string;
  readonly from: string;
  readonly to: string;
}

/**
 * Until `probing.done`: a write, then reads until one shows it, then a pause. Timed from the
 * write's answer, or from when it was sent (`fromSent`) when the write commits before the
 * request ends, so its answer comes after the commit the lag counts from.
 */
async function probeLoop(
  probing: { readonly done: boolean },
  write: (n: number) => Promise<boolean>,
  shows: (n: number) => Promise<boolean>,
  fromSent = false,
): Promise<Pick<ReplicationLag, 'lag' | 'unseen' | 'failedWrites'>> {
  const lag = newHistogram();
  let unseen = 0;
  let failedWrites = 0;
  for (let n = 1; !probing.done; n++) {
    const sentAt = performance.now();
    if (!(await write(n).catch(() => false))) {
      failedWrites += 1;
    } else {
      const writtenAt = fromSent ? sentAt : performance.now();
      let seen = false;
      while (!seen && performance.now() - writtenAt < LAG_TIMEOUT_MS) {
        seen = await shows(n).catch(() => false);
        if (!seen) await sleep(LAG_POLL_MS);
      }
      if (seen) record(lag, performance.now() - writtenAt);
      else unseen += 1;
    }
    await sleep(LAG_PROBE_PAUSE_MS);
  }
  return { lag: summarize(lag), unseen, failedWrites };
}

/**
 * The eventual store (DynamoDB global tables): a profile update at one region's API, then
 * reads of the other region's API every `LAG_POLL_MS` until it shows, a probe per pair at a
 * time, every pair at once. Active-passive only writes in the primary; active-active writes
 * in every region.
 */
export async function probeEventualReplication(
  urls: PlatformUrls,
  topology: BenchTopology,
  probing: { readonly done: boolean },
): Promise<ReplicationLag[]> {
  const pairs = topology.jurisdictions.flatMap((j) => {
    const writers = topology.deploymentModel === 'active-active' ? j.regions : [j.primaryRegion];
    return writers.flatMap((from) =>
      j.regions.filter((to) => to !== from).map((to) => ({ jurisdiction: j.name, from, to })),
    );
  });
  return Promise.all(
    pairs.map(async (pair): Promise<ReplicationLag> => {
      const probeToken = await token(urls, pair.jurisdiction, `lag-probe-${pair.from}-${pair.to}`);
      const displayName = (n: number) => `lag probe ${pair.from} ${n}`;
      const profile = (region: string, method: string, body?: unknown) =>
        request(`${urls.regionUrls[region]}/api/me/profile`, method, {
          token: probeToken,
          body,
          headers: urls.originHeaders,
        });
      const found = await probeLoop(
        probing,
        async (n) => (await profile(pair.from, 'PUT', { displayName: displayName(n) })).status === 200,
        async (n) => {
          const read = await profile(pair.to, 'GET');
          return read.status === 200 && (read.body as { displayName?: string })?.displayName === displayName(n);
        },
      );
      return { ...pair, ...found };
    }),
  );
}

/**
 * The strong store (an Aurora global database's secondary cluster): a stock change at the
 * primary's API, then the secondary's replica read every `LAG_POLL_MS` until it shows, timed
 * from when the change is sent (the stock commits before the request ends). The
 * replica is read through the platform's control, not a product page: the page is cached
 * for the cache TTL, which would hide the replica's lag behind the cache's.
 */
export async function probeStockReplication(
  urls: PlatformUrls,
  topology: BenchTopology,
  probing: { readonly done: boolean },
): Promise<StockReplicaLag[]> {
  const status = await control(urls, 'GET', '/');
  const pairs: Pair[] = topology.jurisdictions.flatMap((j) =>
    j.regions.filter((to) => to !== j.primaryRegion).map((to) => ({ jurisdiction: j.name, from: j.primaryRegion, to })),
  );
  return Promise.all(
    pairs.map(async (pair): Promise<StockReplicaLag> => {
      const admin = await token(urls, pair.jurisdiction, `stock-lag-probe-${pair.to}`, true);
      const sku = `LAG-PROBE-${pair.to}`;
      const found = await probeLoop(
        probing,
        async (stock) => {
          const written = await request(`${urls.regionUrls[pair.from]}/api/products/${sku}`, 'PUT', {
            token: admin,
            headers: urls.originHeaders,
            body: { name: `Stock lag probe for ${pair.to}`, priceCents: 100, currency: 'EUR', stock },
          });
          return written.status === 200;
        },
        async (stock) => {
          const read = await control(urls, 'GET', `/regions/${pair.to}/inventory/${sku}`).catch(() => undefined);
          return read?.quantity === stock;
        },
        // The product update commits the stock first, then writes the catalog and the cache.
        true,
      );
      return { ...pair, ...found, injectedLagMs: status.regions[pair.to]?.replicaLagMs ?? 0 };
    }),
  );
}
