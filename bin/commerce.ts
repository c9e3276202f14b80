#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { createCommercePlatform } from '../lib/commerce-platform';
import { resolveTopology, TopologyConfigError } from '../lib/config/topology';

/**
 * Topology overrides, in order of precedence:
 *   -c deploymentModel=active-passive   switch the deployment model
 *   -c config=path/to/topology.json     a JSON file merged over the defaults
 */
function readOverrides(app: App): { overrides: Record<string, unknown>; source: string } {
  const file = app.node.tryGetContext('config') as string | undefined;
  const model = app.node.tryGetContext('deploymentModel') as string | undefined;
  let overrides: Record<string, unknown> = {};
  const sources: string[] = [];
  if (file) {
    const resolved = path.resolve(file);
    let text: string;
    try {
      text = readFileSync(resolved, 'utf8');
    } catch (error) {
      throw new Error(`Cannot read topology config file ${resolved} (-c config=...): ${(error as Error).message}`);
    }
    try {
      overrides = JSON.parse(text) as Record<string, unknown>;
    } catch (error) {
      throw new Error(`Topology config file ${resolved} is not valid JSON: ${(error as Error).message}`);
    }
    sources.push(resolved);
  }
  if (model !== undefined) {
    overrides = { ...overrides, deploymentModel: model };
    sources.push('context deploymentModel');
  }
  return { overrides, source: sources.join(' + ') || 'defaults' };
}

const app = new App();
try {
  const { overrides, source } = readOverrides(app);
  createCommercePlatform(app, resolveTopology(overrides, source));
} catch (error) {
  if (error instanceof TopologyConfigError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}
