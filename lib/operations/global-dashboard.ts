import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { eventualTableName } from '../config/names';
import type { Topology } from '../config/topology';

export interface GlobalDashboardProps {
  readonly topology: Topology;
}

/**
 * All regions side by side: traffic, p99 latency, errors and replication lag, one column
 * per signal and one line per region.
 *
 * A dashboard in one region cannot reference the generated ids (API ids, cluster names)
 * of stacks in other regions without cross-region references, so API and Aurora signals
 * are CloudWatch `SEARCH` expressions run in each region: they add up every HTTP API and
 * every Aurora global cluster of the account there. In the account layout this blueprint
 * assumes — one workload per account — that is exactly this platform. Table names are
 * fixed, so the global-table lines name their table.
 */
export class GlobalDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: GlobalDashboardProps) {
    super(scope, id);
    const { topology } = props;
    const regions = topology.servingRegions;
    const minute = Duration.minutes(1);
    const search = (region: string, label: string, query: string, statistic: string, reduce: 'SUM' | 'MAX') =>
      new cloudwatch.MathExpression({
        expression: `${reduce}(SEARCH('${query}', '${statistic}', 60))`,
        searchRegion: region,
        label,
        period: minute,
      });
    const perRegion = (build: (region: string) => cloudwatch.IMetric) => regions.map(build);

    const traffic = perRegion((region) =>
      search(region, region, '{AWS/ApiGateway,ApiId} MetricName="Count"', 'Sum', 'SUM'),
    );
    const p99 = perRegion((region) =>
      search(region, region, '{AWS/ApiGateway,ApiId} MetricName="Latency"', 'p99', 'MAX'),
    );
    const serverErrors = perRegion((region) =>
      search(region, region, '{AWS/ApiGateway,ApiId} MetricName="5xx"', 'Sum', 'SUM'),
    );
    const functionErrors = perRegion((region) =>
      search(region, region, '{AWS/Lambda,FunctionName} MetricName="Errors"', 'Sum', 'SUM'),
    );
    const auroraLag = perRegion((region) =>
      search(
        region,
        region,
        '{AWS/RDS,DBClusterIdentifier} MetricName="AuroraGlobalDBReplicationLag"',
        'Maximum',
        'MAX',
      ),
    );
    const tableLag = topology.jurisdictions.flatMap((jurisdiction) =>
      jurisdiction.regions.flatMap((from) =>
        jurisdiction.regions
          .filter((to) => to !== from)
          .map(
            (to) =>
              new cloudwatch.Metric({
                namespace: 'AWS/DynamoDB',
                metricName: 'ReplicationLatency',
                dimensionsMap: {
                  TableName: eventualTableName(topology.config.appName, jurisdiction.name),
                  ReceivingRegion: to,
                },
                region: from,
                statistic: 'Average',
                period: minute,
                label: `${from} → ${to}`,
              }),
          ),
      ),
    );

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      // Named: the runbook starts every incident here.
      dashboardName: `${topology.config.appName}-global`,
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown: `# ${topology.config.appName} — all regions\nOne line per region. Per-region detail: dashboards \`${topology.config.appName}-<region>\`. Runbook: docs/operations.md.`,
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Traffic (API requests/min)', left: traffic, width: 12 }),
      new cloudwatch.GraphWidget({ title: 'API p99 latency (ms)', left: p99, width: 12 }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'API 5xx/min', left: serverErrors, width: 12 }),
      new cloudwatch.GraphWidget({ title: 'Function errors/min', left: functionErrors, width: 12 }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Global-table replication latency (ms)', left: tableLag, width: 12 }),
      new cloudwatch.GraphWidget({ title: 'Aurora global replication lag (ms)', left: auroraLag, width: 12 }),
    );
  }
}
