#!/usr/bin/env node
import '../local/powertools-env';
import { DEPLOYMENT_MODELS } from '../lib/config/topology';
import { startLocalPlatform } from '../local/platform';
import { parseFlags } from './cli-flags';
import { topologyFromFlags } from './load-topology';

const USAGE = `Usage: npm run local -- [options]

Runs every region of the topology, the edge and the stores on 127.0.0.1.

  --config <file>             topology JSON merged over the defaults (as cdk -c config=)
  --model <m>                 ${DEPLOYMENT_MODELS.join(' | ')} (default: the config's)
  --port-base <n>             edge on n, controls on n+1, region APIs from n+10, their writer APIs from n+110 (default 4000)
  --replication-delay-ms <n>  delay before a write reaches the jurisdiction's other regions (default 500)
  --distance-scale <x>        multiply the published inter-region round trips (default 1)
  --no-distance               no delay between regions at all
  --health-interval-ms <n>    edge health-check interval, like Route 53's (default 1000)
  --cache-ttl-s <n>           product-page TTL in each region's cache (default 60)
  --help                      this text`;

function fail(message: string): never {
  console.error(`npm run local: ${message}\n\n${USAGE}`);
  process.exit(2);
}

function number(name: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < min) fail(`--${name} must be a number of at least ${min}, got "${value}"`);
  return parsed;
}

async function main(): Promise<void> {
  const values = parseFlags(
    {
      config: { type: 'string' },
      model: { type: 'string' },
      'port-base': { type: 'string' },
      'replication-delay-ms': { type: 'string' },
      'distance-scale': { type: 'string' },
      'no-distance': { type: 'boolean' },
      'health-interval-ms': { type: 'string' },
      'cache-ttl-s': { type: 'string' },
    },
    USAGE,
    fail,
  );
  if (!values) return;
  const topology = topologyFromFlags({ config: values.config, model: values.model }, fail);
  const portBase = number('port-base', values['port-base'], 1);
  if (
    portBase !== undefined &&
    (!Number.isInteger(portBase) || portBase + 110 + topology.servingRegions.length > 65535)
  ) {
    // The writer APIs listen 100 above the region APIs, from n+110.
    fail(`--port-base must be an integer port leaving room for ${topology.servingRegions.length + 110} ports`);
  }

  const cacheTtl = number('cache-ttl-s', values['cache-ttl-s'], 1);
  if (cacheTtl !== undefined && !Number.isInteger(cacheTtl)) fail('--cache-ttl-s must be a whole number of seconds');

  // Signals are handled from the start: during start-up they end the process at once,
  // and the engines' exit hooks kill their servers and delete their data; once running,
  // the first stops everything in order and a second forces the exit.
  let platform: Awaited<ReturnType<typeof startLocalPlatform>> | undefined;
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (!platform || stopping) {
      console.error(`\n${signal}: exiting now`);
      process.exit(130);
    }
    stopping = true;
    console.log('\nStopping: servers, replication, PostgreSQL, DynamoDB, Valkey ...');
    platform.stop().then(
      () => {
        console.log('Stopped; nothing left running, temp data deleted.');
        process.exit(0);
      },
      (error: unknown) => {
        console.error('Stopping failed:', error);
        process.exit(1);
      },
    );
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);

  const started = Date.now();
  console.log(`Starting ${topology.servingRegions.length} regions (${topology.deploymentModel}) on 127.0.0.1 ...`);
  platform = await startLocalPlatform({
    topology,
    portBase,
    replicationDelayMs: number('replication-delay-ms', values['replication-delay-ms'], 0),
    distance: {
      scale: number('distance-scale', values['distance-scale'], 0),
      enabled: values['no-distance'] !== true,
    },
    healthIntervalMs: number('health-interval-ms', values['health-interval-ms'], 50),
    cacheTtlSeconds: cacheTtl,
  }).catch((error: unknown) => fail((error as Error).message));

  console.log(`Ready in ${((Date.now() - started) / 1000).toFixed(1)} s.\n`);
  console.log(`  edge (CloudFront + Route 53)  ${platform.edgeUrl}   send X-Client-Region: <aws region>`);
  console.log(`  dev controls                  ${platform.controlUrl}   GET / for the state`);
  for (const region of platform.regions) {
    console.log(
      `  API ${region.region.padEnd(15)} (${region.jurisdiction.padEnd(6)}) ${region.url}   writer API ${region.writerUrl}`,
    );
  }
  console.log('\nCtrl-C stops everything.');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
