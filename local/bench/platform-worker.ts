// A child process that runs one local platform for the benchmark, so the load generator
// keeps its own event loop (and core): its arrival times are not delayed by the
// platform's work, and the platform is not slowed by the generator's. Its settings all
// come from the benchmark (bin/bench.ts) over IPC; like bin/local.ts it sets the local
// Powertools environment first.
import '../powertools-env';
import { resolveTopology } from '../../lib/config/topology';
import { type LocalPlatform, startLocalPlatform } from '../platform';
import type { PlatformWorkerReply, PlatformWorkerRequest } from './platform-process';

let platform: LocalPlatform | undefined;
let stopping = false;

function reply(message: PlatformWorkerReply): void {
  process.send?.(message);
}

async function stopAndExit(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  // During start-up there is no platform yet: exiting runs the engines' exit hooks.
  await platform?.stop().catch(() => undefined);
  process.exit(code);
}

process.on('message', (message) => {
  if (message === 'stop') void stopAndExit(0);
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void stopAndExit(130));

process.once('message', (request: PlatformWorkerRequest) => {
  if (typeof request !== 'object') return;
  // Inside the promise, so an invalid topology is answered as a failed start, not a crash.
  Promise.resolve()
    .then(() =>
      startLocalPlatform({
        topology: resolveTopology(request.topology, `benchmark model ${request.label}`),
        portBase: 0,
        replicationDelayMs: request.replicationDelayMs,
        ...(request.replicaLagMs !== undefined ? { replicaLagMs: request.replicaLagMs } : {}),
        distance: request.distance,
        // Route 53's fast health-check interval; probing every second would only add load.
        healthIntervalMs: 10_000,
        onReplicationError: (error) => console.warn(`benchmark ${request.label}: replication:`, error),
      }),
    )
    .then(
      (started) => {
        platform = started;
        reply({
          ready: {
            edgeUrl: started.edgeUrl,
            controlUrl: started.controlUrl,
            regionUrls: Object.fromEntries(started.regions.map((r) => [r.region, r.url])),
            originHeaders: started.originHeaders,
          },
        });
      },
      (error: unknown) => {
        reply({ failed: (error as Error).message });
        void stopAndExit(1);
      },
    );
});
// The benchmark ended without stopping us (it crashed or was killed): clean up anyway.
process.on('disconnect', () => void stopAndExit(1));
