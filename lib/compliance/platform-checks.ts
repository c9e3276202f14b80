import { type CfnResource, Stack } from 'aws-cdk-lib';
import { CfnGlobalTable } from 'aws-cdk-lib/aws-dynamodb';
import { NagMessageLevel, NagPack, type NagPackProps, NagRuleCompliance, type NagRuleResult } from 'cdk-nag';
import type { IConstruct } from 'constructs';

interface ReplicaSpec {
  readonly region?: string;
  readonly pointInTimeRecoverySpecification?: { readonly pointInTimeRecoveryEnabled?: boolean };
}

/**
 * Every replica of a DynamoDB global table has point-in-time recovery on.
 *
 * AwsSolutions-DDB3 only inspects `AWS::DynamoDB::Table`; `TableV2` synthesizes
 * `AWS::DynamoDB::GlobalTable`, where PITR is set per replica, so a table that forgot it
 * in one region would pass unnoticed.
 */
export function globalTablePitrEnabled(node: CfnResource): NagRuleResult {
  if (!(node instanceof CfnGlobalTable)) return NagRuleCompliance.NOT_APPLICABLE;
  const replicas = Stack.of(node).resolve(node.replicas) as ReplicaSpec[] | undefined;
  if (!Array.isArray(replicas) || replicas.length === 0) return NagRuleCompliance.NON_COMPLIANT;
  const everyReplicaCovered = replicas.every(
    (replica) => replica.pointInTimeRecoverySpecification?.pointInTimeRecoveryEnabled === true,
  );
  return everyReplicaCovered ? NagRuleCompliance.COMPLIANT : NagRuleCompliance.NON_COMPLIANT;
}

/**
 * The platform's own rule pack, for what the published packs miss. Rule ids read
 * `Platform-<rule>`; acknowledge them like any cdk-nag finding.
 */
export class PlatformChecks extends NagPack {
  readonly name = 'Platform';

  constructor(scope?: IConstruct, props?: NagPackProps) {
    super(scope, props);
    this.packName = 'Platform';
  }

  protected checkResource(node: CfnResource): void {
    this.applyRule({
      ruleSuffixOverride: 'DDBGlobalTablePITR',
      info: 'A replica of the DynamoDB global table does not have point-in-time recovery enabled.',
      explanation:
        'Each replica of a global table keeps its own continuous backups. Without PITR in every region, a bad write or delete that replicates everywhere cannot be rolled back in the regions that lack it.',
      level: NagMessageLevel.ERROR,
      rule: globalTablePitrEnabled,
      node,
    });
  }
}
