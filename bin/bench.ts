#!/usr/bin/env node
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { FlowName } from '../local/bench/flows';
import { BENCH_MODELS, MODEL_NAMES, type ModelName } from '../local/bench/models';
import { compareRuns, renderMarkdown, renderSvg, targets } from '../local/bench/report';
import type { BenchResult, ModelResult } from '../local/bench/results';
import { DEFAULT_REPLICATION_PHASE_MS, runModel } from '../local/bench/run-model';
import { parseFlags } from './cli-flags';

/** Flow starts per second from each client location: light enough for a 2-core machine. */
const DEFAULT_RATES: Readonly<Record<FlowName, number>> = {
  'product page': 2,
  like: 1,
  'add to cart': 1,
  'profile update': 1,
  checkout: 1,
};

/**
 * Measured seconds per model: a cell at 1 flow/s gets 120 samples, so its p95 is the
 * 114th, not the 57th of 60 (whose 95 % interval runs past the largest sample).
 */
const DEFAULT_DURATION_S = 120;
/**
 * Discarded seconds per model. The local platform runs slower for its first ~25 s under
 * load: after a 5 s warm-up, the next 20 s ran at 1.17 × the run's median latency and
 * 2.6 × at p95, against 1.0 × and 1.8 × afterwards.
 */
const DEFAULT_WARMUP_S = 30;

const USAGE = `Usage: npm run bench -- [options]

Runs each deployment model on the local platform (loopback only) with the published
inter-region round trips, drives every flow from North America, Europe and Asia at a
constant rate, then once more with no injected delay (the benchmark's own overhead).
Writes docs/benchmark.md, docs/benchmark.svg and docs/benchmark.json; exits 1 if a
target is missed. Takes about (warm-up + duration + 25 s) per model, 4 runs: ~12 min.

  --duration-s <n>            measured seconds per model (default ${DEFAULT_DURATION_S})
  --warmup-s <n>              discarded warm-up seconds per model (default ${DEFAULT_WARMUP_S})
  --models <a,b>              ${MODEL_NAMES.join(', ')} (default: all)
  --replication-delay-ms <n>  local replication delay (default 500)
  --out-dir <dir>             where the results go (default docs)
  --help                      this text`;

function fail(message: string): never {
  console.error(`npm run bench: ${message}\n\n${USAGE}`);
  process.exit(2);
}

function number(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < min || parsed > max) {
    fail(`--${name} must be a number from ${min} to ${max}, got "${value}"`);
  }
  return parsed;
}

async function main(): Promise<void> {
  const values = parseFlags(
    {
      'duration-s': { type: 'string' },
      'warmup-s': { type: 'string' },
      models: { type: 'string' },
      'replication-delay-ms': { type: 'string' },
      'out-dir': { type: 'string' },
    },
    USAGE,
    fail,
  );
  if (!values) return;
  const durationS = number('duration-s', values['duration-s'], DEFAULT_DURATION_S, 2, 600);
  const warmupS = number('warmup-s', values['warmup-s'], DEFAULT_WARMUP_S, 1, 120);
  const replicationDelayMs = number('replication-delay-ms', values['replication-delay-ms'], 500, 0, 10_000);
  const models = (values.models?.split(',') ?? [...MODEL_NAMES]).map((name) => {
    if (!(MODEL_NAMES as readonly string[]).includes(name)) {
      fail(`--models: unknown model "${name}"; allowed: ${MODEL_NAMES.join(', ')}`);
    }
    return name as ModelName;
  });
  const outDir = path.resolve(values['out-dir'] ?? 'docs');

  const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
  const common = {
    durationMs: durationS * 1000,
    warmupMs: warmupS * 1000,
    replicationPhaseMs: DEFAULT_REPLICATION_PHASE_MS,
    rates: DEFAULT_RATES,
    log,
  };
  const results: ModelResult[] = [];
  for (const name of models) {
    results.push(
      await runModel(BENCH_MODELS[name], { ...common, label: name, distance: { scale: 1 }, replicationDelayMs }),
    );
  }
  const overheadModel = BENCH_MODELS['active-active'];
  const overhead = await runModel(overheadModel, {
    ...common,
    label: `${overheadModel.name}, no injected delay`,
    distance: { enabled: false },
    replicationDelayMs: 0,
  });

  const result: BenchResult = {
    finishedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    machine: { cpus: os.cpus().length, node: process.versions.node },
    settings: {
      durationS,
      warmupS,
      replicationPhaseS: DEFAULT_REPLICATION_PHASE_MS / 1000,
      ratesPerLocation: DEFAULT_RATES,
      replicationDelayMs,
      distanceScale: 1,
    },
    models: results,
    overhead,
  };
  mkdirSync(outDir, { recursive: true });
  const jsonFile = path.join(outDir, 'benchmark.json');
  const previous = existsSync(jsonFile) ? (JSON.parse(readFileSync(jsonFile, 'utf8')) as BenchResult) : undefined;
  const comparison = previous && sameSettings(previous, result) ? compareRuns(previous, result) : undefined;
  const markdown = renderMarkdown(result, comparison);
  const files = {
    md: path.join(outDir, 'benchmark.md'),
    svg: path.join(outDir, 'benchmark.svg'),
    json: jsonFile,
  };
  writeFileSync(files.md, markdown);
  writeFileSync(files.svg, renderSvg(result));
  writeFileSync(files.json, `${JSON.stringify(result, null, 2)}\n`);

  console.log(`\n${readFileSync(files.md, 'utf8')}`);
  console.log(
    `Wrote ${path.relative(process.cwd(), files.md)}, ${path.relative(process.cwd(), files.svg)}, ${path.relative(process.cwd(), files.json)}.`,
  );
  const missed = targets(result).filter((t) => !t.met);
  for (const t of missed) console.error(`MISSED: ${t.target}: ${t.measured}`);
  process.exitCode = missed.length > 0 ? 1 : 0;
}

/** Runs are comparable only at the same load and length. */
function sameSettings(a: BenchResult, b: BenchResult): boolean {
  return JSON.stringify(a.settings) === JSON.stringify(b.settings);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
