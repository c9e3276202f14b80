import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { resolveTopology, type Topology, TopologyConfigError } from '../lib/config/topology';

/** Where a topology comes from; every `bin/` entry point reads it here and nowhere else. */
export interface TopologySources {
  /** A JSON file merged over the defaults. */
  readonly configFile?: string;
  /** A deployment model that wins over the file's. */
  readonly deploymentModel?: string;
  /**
   * How the user named the model, for messages, e.g. `context deploymentModel` or `--model`.
   * @default 'deploymentModel'
   */
  readonly deploymentModelSource?: string;
}

/** A topology config file that cannot be read or is not JSON. */
export class TopologyFileError extends Error {
  constructor(file: string, problem: string) {
    super(`Cannot read topology config file ${file}: ${problem}`);
    this.name = 'TopologyFileError';
  }
}

/**
 * The topology: the file merged over the defaults, then the model over that. Throws a
 * `TopologyFileError` naming the file, or a `TopologyConfigError` naming every wrong field
 * and where it came from.
 */
export function loadTopology(sources: TopologySources): Topology {
  let overrides: Record<string, unknown> = {};
  const names: string[] = [];
  if (sources.configFile !== undefined) {
    const file = path.resolve(sources.configFile);
    overrides = readJson(file);
    names.push(file);
  }
  if (sources.deploymentModel !== undefined) {
    overrides = { ...overrides, deploymentModel: sources.deploymentModel };
    names.push(sources.deploymentModelSource ?? 'deploymentModel');
  }
  return resolveTopology(overrides, names.join(' + ') || 'defaults');
}

/**
 * For the local CLIs: the topology of `--config` and `--model`, or `fail` (which exits)
 * with the loader's message.
 */
export function topologyFromFlags(
  flags: { readonly config?: string; readonly model?: string },
  fail: (message: string) => never,
): Topology {
  try {
    return loadTopology({ configFile: flags.config, deploymentModel: flags.model, deploymentModelSource: '--model' });
  } catch (error) {
    if (error instanceof TopologyConfigError || error instanceof TopologyFileError) fail(error.message);
    throw error;
  }
}

function readJson(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new TopologyFileError(file, (error as Error).message);
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new TopologyFileError(file, `not valid JSON: ${(error as Error).message}`);
  }
}
