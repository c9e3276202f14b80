#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { createCommercePlatform } from '../lib/commerce-platform';
import { TopologyConfigError } from '../lib/config/topology';
import { loadTopology, TopologyFileError } from './load-topology';

/**
 * Topology overrides, in order of precedence:
 *   -c deploymentModel=active-passive   switch the deployment model
 *   -c config=path/to/topology.json     a JSON file merged over the defaults
 */
const app = new App();
try {
  const topology = loadTopology({
    configFile: app.node.tryGetContext('config') as string | undefined,
    deploymentModel: app.node.tryGetContext('deploymentModel') as string | undefined,
    deploymentModelSource: 'context deploymentModel',
  });
  createCommercePlatform(app, topology);
} catch (error) {
  if (error instanceof TopologyConfigError || error instanceof TopologyFileError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}
