import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { Topology } from '../config/topology';
import { EdgeLogBuckets, type EdgeLogDestination, edgeLogDestination } from '../edge/edge-access-logs';

export interface EdgeLogsStackProps extends StackProps {
  readonly topology: Topology;
}

/**
 * The buckets the edge's CloudFront and WAF logs are delivered to, in the primary Region of
 * the EU-pinned jurisdiction (`edgeLogsRegion`): those logs hold EU shoppers' requests. The
 * edge stack's `EdgeAccessLogs` points its deliveries at them by name (`destination`).
 */
export class EdgeLogsStack extends Stack {
  readonly destination: EdgeLogDestination;
  readonly buckets: EdgeLogBuckets;

  constructor(scope: Construct, id: string, props: EdgeLogsStackProps) {
    super(scope, id, props);
    this.destination = edgeLogDestination(props.topology);
    this.buckets = new EdgeLogBuckets(this, 'EdgeLogs', {
      destination: this.destination,
      sourceRegion: props.topology.config.edgeRegion,
    });
  }
}
