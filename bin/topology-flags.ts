import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { resolveTopology, type Topology, TopologyConfigError } from '../lib/config/topology';

/**
 * The topology the local CLIs run: `--config <file>` merged over the defaults, then
 * `--model` over that. Calls `fail` (which exits) with a message naming what is wrong.
 */
export function topologyFromFlags(
  flags: { readonly config?: string; readonly model?: string },
  fail: (message: string) => never,
): Topology {
  let overrides: Record<string, unknown> = {};
  const sources: string[] = [];
  if (flags.config !== undefined) {
    const file = path.resolve(flags.config);
    try {
      overrides = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      fail(`cannot read topology config ${file}: ${(error as Error).message}`);
    }
    sources.push(file);
  }
  if (flags.model !== undefined) {
    overrides = { ...overrides, deploymentModel: flags.model };
    sources.push('--model');
  }
  try {
    return resolveTopology(overrides, sources.join(' + ') || 'defaults');
  } catch (error) {
    if (error instanceof TopologyConfigError) fail(error.message);
    throw error;
  }
}
