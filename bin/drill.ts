#!/usr/bin/env node
import '../local/powertools-env';
import { DEPLOYMENT_MODELS } from '../lib/config/topology';
import { DRILL_DEFAULTS, DrillOptionsError, type RegionDrillOptions } from '../local/drill/options';
import { formatDrillTable } from '../local/drill/report';
import { runRegionDrill } from '../local/drill/run';
import { parseFlags } from './cli-flags';
import { topologyFromFlags } from './load-topology';

const defaults = DRILL_DEFAULTS;
const USAGE = `Usage: npm run drill -- [options]

Starts the local platform on 127.0.0.1, puts a steady load on it from clients in the
Americas, Europe and Asia, takes one region down, brings it back, and prints: seconds until
the region's clients were served elsewhere (per continent), the errors clients saw, the
acknowledged writes lost (must be 0; read back from every region of the jurisdiction),
seconds until the jurisdiction's regions agreed again, and what the jurisdiction's signed-in
clients got while the region was down: eventual and strong requests, sign-in, and how long
the tokens they held at the down kept them served. Then a line of JSON. Exits 1 if an
acknowledged write was lost or the regions did not converge, 2 on a bad flag.

  --region <r>                     region to take down (default ${defaults.region})
  --model <m>                      ${DEPLOYMENT_MODELS.join(' | ')} (default: the config's)
  --config <file>                  topology JSON merged over the defaults (as cdk -c config=)
  --down-ms <n>                    how long the region stays down (default ${defaults.downMs})
  --warmup-ms <n>                  load before the down (default ${defaults.warmupMs})
  --clients-per-continent <n>      clients in each of Americas, Europe, Asia (default ${defaults.clientsPerContinent})
  --rate <x>                       requests per second per client (default ${defaults.rate})
  --max-requests <n>               hard cap on the clients' requests (default ${defaults.maxRequests})
  --max-wall-ms <n>                hard cap on the whole drill, start and stop included (default ${defaults.maxWallMs})
  --health-interval-ms <n>         edge health-check interval (default ${defaults.healthIntervalMs})
  --health-failure-threshold <n>   failed checks in a row that fail a region over (default ${defaults.healthFailureThreshold})
  --replication-delay-ms <n>       delay before a write reaches the jurisdiction's other regions (default ${defaults.replicationDelayMs})
  --distance-scale <x>             multiply the published inter-region round trips (default ${defaults.distanceScale})
  --request-timeout-ms <n>         longest wait for one client request (default ${defaults.requestTimeoutMs})
  --return-timeout-ms <n>          longest wait after the return for the clients to be back (default ${defaults.returnTimeoutMs})
  --converge-timeout-ms <n>        longest wait after the return for the regions to agree (default ${defaults.convergeTimeoutMs})
  --token-ttl <s>                  the clients' ID token lifetime in seconds, from 2 (default ${defaults.tokenTtlSeconds}, Cognito's);
                                   clients sign in again with half of it left, refused while the pool's region is down
  --quiet                          no progress lines on stderr
  --help                           this text`;

/** Option name → flag, so an error from the drill names the flag the user typed. */
const FLAGS: Readonly<Record<string, string>> = {
  region: '--region',
  model: '--model',
  downMs: '--down-ms',
  warmupMs: '--warmup-ms',
  clientsPerContinent: '--clients-per-continent',
  rate: '--rate',
  maxRequests: '--max-requests',
  maxWallMs: '--max-wall-ms',
  healthIntervalMs: '--health-interval-ms',
  healthFailureThreshold: '--health-failure-threshold',
  replicationDelayMs: '--replication-delay-ms',
  distanceScale: '--distance-scale',
  requestTimeoutMs: '--request-timeout-ms',
  returnTimeoutMs: '--return-timeout-ms',
  convergeTimeoutMs: '--converge-timeout-ms',
  tokenTtlSeconds: '--token-ttl',
};
const NUMBER_FLAGS = Object.entries(FLAGS).filter(([, flag]) => !['--region', '--model'].includes(flag));

function fail(message: string): never {
  console.error(`npm run drill: ${message}\n\n${USAGE}`);
  process.exit(2);
}

async function main(): Promise<void> {
  const values = parseFlags(
    {
      ...Object.fromEntries(Object.values(FLAGS).map((flag) => [flag.slice(2), { type: 'string' as const }])),
      config: { type: 'string' },
      quiet: { type: 'boolean' },
    },
    USAGE,
    fail,
  );
  if (!values) return;
  // The drill's own flags come from FLAGS, so they are read by name.
  const byName: Readonly<Record<string, unknown>> = values;
  const text = (flag: string): string | undefined => {
    const value = byName[flag.slice(2)];
    return typeof value === 'string' ? value : undefined;
  };

  const model = text('--model');
  if (model !== undefined && !(DEPLOYMENT_MODELS as readonly string[]).includes(model)) {
    fail(`--model must be one of ${DEPLOYMENT_MODELS.join(', ')}, got "${model}"`);
  }
  const topology = topologyFromFlags({ config: values.config, model }, fail);

  const options: Record<string, unknown> = { topology };
  const region = text('--region');
  if (region !== undefined) options.region = region;
  for (const [option, flag] of NUMBER_FLAGS) {
    const raw = text(flag);
    if (raw === undefined) continue;
    const parsed = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(parsed)) fail(`${flag} must be a number, got "${raw}"`);
    options[option] = parsed;
  }
  if (!values.quiet) options.onProgress = (line: string) => console.error(`drill: ${line}`);

  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      // The engines' exit hooks kill their servers and delete their data.
      if (!stopping) console.error(`\n${signal}: drill abandoned`);
      stopping = true;
      process.exit(130);
    });
  }

  let result: Awaited<ReturnType<typeof runRegionDrill>>;
  try {
    result = await runRegionDrill(options as RegionDrillOptions);
  } catch (error) {
    if (error instanceof DrillOptionsError) fail(`${FLAGS[error.field] ?? error.field} ${error.detail}`);
    throw error;
  }
  console.log(formatDrillTable(result));
  console.log(JSON.stringify(result));
  if (result.lostAcknowledgedWrites > 0) {
    console.error(`drill: ${result.lostAcknowledgedWrites} acknowledged writes were lost`);
    process.exitCode = 1;
  }
  if (!result.convergence.converged) {
    console.error('drill: the regions did not converge within the timeout');
    process.exitCode = 1;
  }
  // A drill that proved nothing must not pass: no write to lose, or clients never moved.
  if (result.writes.acknowledgedWhileDown.total === 0) {
    console.error('drill: no write was acknowledged while the region was down; nothing was tested');
    process.exitCode = 1;
  }
  if (!result.failover.allServedElsewhere) {
    console.error("drill: some of the region's clients were never served elsewhere");
    process.exitCode = 1;
  }
  if (result.stoppedEarly) {
    console.error(`drill: stopped early (${result.stoppedEarly}); raise --max-requests or --max-wall-ms`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
