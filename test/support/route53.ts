import type { Template } from 'aws-cdk-lib/assertions';
import { resourcesOf } from './templates';

/** A Route 53 record set's properties, as the routing tests read them. */
export type RecordProps = {
  readonly Name: string;
  readonly Region?: string;
  readonly SetIdentifier?: string;
  readonly Failover?: string;
  readonly HealthCheckId?: unknown;
  readonly AliasTarget: { readonly DNSName: unknown; readonly HostedZoneId?: unknown; EvaluateTargetHealth?: boolean };
};

/** Every record set of the template. */
export function recordSetsOf(template: Template): RecordProps[] {
  return Object.values(resourcesOf(template, 'AWS::Route53::RecordSet')).map((r) => r.Properties as RecordProps);
}
