import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ControlTowerChecks } from './compliance/control-tower-checks';
import { DataResidencyChecks, residencyScopeOf } from './compliance/data-residency-checks';
import { PlatformChecks } from './compliance/platform-checks';
import { edgeStackName, statefulStackName, statelessStackName } from './config/names';
import type { AwsRegion } from './config/regions';
import type { Topology } from './config/topology';
import { edgeLogsRegion, edgeLogsStackName } from './edge/edge-access-logs';
import { EdgeLogsStack } from './stacks/edge-logs-stack';
import { EdgeStack } from './stacks/edge-stack';
import { StatefulStack } from './stacks/stateful-stack';
import { StatelessStack } from './stacks/stateless-stack';

export interface CommercePlatform {
  readonly edge: EdgeStack;
  /** The buckets of the edge's CloudFront and WAF logs, in the EU when any jurisdiction is EU-pinned. */
  readonly edgeLogs: EdgeLogsStack;
  /** Stateful stacks by region. */
  readonly stateful: Readonly<Record<string, StatefulStack>>;
  /** Stateless stacks by region. */
  readonly stateless: Readonly<Record<string, StatelessStack>>;
}

/**
 * Builds every stack of the topology directly under the app, with cdk-nag's AwsSolutions
 * pack and the platform's own pack as policy-validation plugins, so synthesis fails on
 * any finding that is not acknowledged. (Stacks inside a `Stage` would only be written to
 * the validation report, not fail synth — docs/design.md#cdk-choices — so there are no Stages.)
 *
 * Deployment order, which stack dependencies encode for `cdk deploy --all`:
 * 1. per jurisdiction, its stateful stacks one after another, primary region first: the
 *    Aurora global cluster must exist before a secondary joins, and the global table,
 *    held by the last of them, needs every other region's replica key;
 * 2. each region's stateless stack, after the jurisdiction's stateful stacks, whose
 *    triggers apply the schema migrations on the writer;
 * 3. the edge logs stack (its buckets), then the edge stack, once every regional API is up.
 */
export interface CommercePlatformOptions {
  /**
   * Run the Control Tower proactive controls (cfn-guard) at synth, next to cdk-nag. Tests
   * that only read templates turn it off (it needs the templates on disk); the app never does.
   * @default true
   */
  readonly controlTowerChecks?: boolean;
}

export function createCommercePlatform(
  app: App,
  topology: Topology,
  options: CommercePlatformOptions = {},
): CommercePlatform {
  const { appName, account } = topology.config;
  const stateful: Record<string, StatefulStack> = {};
  const stateless: Record<string, StatelessStack> = {};

  for (const jurisdiction of topology.jurisdictions) {
    const order = topology.deployOrder(jurisdiction);
    const tableHome = order.at(-1);
    // This jurisdiction's stateful stacks in deploy order, each with its region.
    const deployed: (readonly [AwsRegion, StatefulStack])[] = [];
    for (const region of order) {
      const stack = new StatefulStack(app, statefulStackName(appName, region), {
        env: { account, region },
        description: `${appName} ${jurisdiction.name} jurisdiction, ${region}: network, keys and data stores`,
        topology,
        jurisdiction,
        globalTableReplicaKeys:
          region === tableHome
            ? Object.fromEntries(deployed.map(([other, otherStack]) => [other, otherStack.dataKey]))
            : undefined,
      });
      const previous = deployed.at(-1)?.[1];
      if (previous) stack.addStackDependency(previous, 'stateful stacks of a jurisdiction deploy in order');
      stateful[region] = stack;
      deployed.push([region, stack]);
    }

    const tableStack = deployed.at(-1)?.[1];
    if (!tableStack) throw new Error(`jurisdiction ${jurisdiction.name} has no regions`);
    const userDirectory = deployed.find(([region]) => region === jurisdiction.primaryRegion)?.[1].userDirectory;
    if (!userDirectory) {
      throw new Error(`jurisdiction ${jurisdiction.name} has no user directory in ${jurisdiction.primaryRegion}`);
    }
    for (const [region, regionStateful] of deployed) {
      const stack = new StatelessStack(app, statelessStackName(appName, region), {
        env: { account, region },
        description: `${appName} ${jurisdiction.name} jurisdiction, ${region}: API, cache, proxy and DNS`,
        topology,
        jurisdiction,
        stateful: regionStateful,
        userDirectory,
      });
      // The global table is addressed by name, so state the dependency on its stack.
      stack.addStackDependency(tableStack, 'the global table must exist before its functions');
      // Whichever region holds the writer applies the schema migrations; the API waits for all.
      for (const [, migrated] of deployed) {
        stack.addStackDependency(migrated, 'the schema migrations run before the API serves');
      }
      stateless[region] = stack;
    }
  }

  const edgeLogs = new EdgeLogsStack(app, edgeLogsStackName(appName), {
    env: { account, region: edgeLogsRegion(topology) },
    description: `${appName} edge logs: the buckets of the CloudFront and WAF logs, in the EU-pinned jurisdiction's primary region`,
    topology,
  });
  const edge = new EdgeStack(app, edgeStackName(appName), {
    env: { account, region: topology.config.edgeRegion },
    description: `${appName} edge: CloudFront, WAF, site certificate and DNS`,
    topology,
  });
  // The edge first: CloudFront sends the proof of origin (and its secret's replicas exist)
  // before any regional API requires it, so an upgrade refuses no request on the way.
  for (const stack of Object.values(stateless)) {
    stack.addStackDependency(edge, 'CloudFront sends the proof of origin before the API requires it');
  }
  edge.addStackDependency(edgeLogs, 'log deliveries point at the edge log buckets by name');

  Validations.of(app).addPlugins(
    new AwsSolutionsChecks(app),
    new PlatformChecks(app),
    new DataResidencyChecks(residencyScopeOf(topology), app),
  );
  if (options.controlTowerChecks ?? true) Validations.of(app).addPlugins(new ControlTowerChecks());
  return { edge, edgeLogs, stateful, stateless };
}
