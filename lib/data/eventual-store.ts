import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

export interface EventualStoreProps {
  /**
   * Physical table name. It is a contract: every region of the jurisdiction addresses the
   * same global table by this name, so it is fixed rather than generated.
   */
  readonly tableName: string;
  /** Customer-managed key for the replica in this stack's region. */
  readonly tableKey: kms.IKey;
  /** Customer-managed key ARN for each other region of the jurisdiction. */
  readonly replicaKeyArns: Readonly<Record<string, string>>;
  /**
   * Days of point-in-time recovery kept in every replica.
   * @default 35
   */
  readonly recoveryPeriodInDays?: number;
}

/**
 * The jurisdiction's DynamoDB global table for the eventually consistent domains
 * (profiles, carts, likes, catalog), one item collection per entity: `pk` names the
 * entity, `sk` the region that wrote it, so concurrent writes from two regions never hit
 * the same item and the merge rules stay conflict-free (see docs/design.md#data-stores-and-merge-rules).
 *
 * Replicas are exactly the regions in `replicaKeyArns` plus this stack's region.
 */
export class EventualStore extends Construct {
  readonly table: dynamodb.TableV2;

  constructor(scope: Construct, id: string, props: EventualStoreProps) {
    super(scope, id);
    const recovery: dynamodb.PointInTimeRecoverySpecification = {
      pointInTimeRecoveryEnabled: true,
      recoveryPeriodInDays: props.recoveryPeriodInDays ?? 35,
    };
    this.table = new dynamodb.TableV2(this, 'Table', {
      tableName: props.tableName,
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      encryption: dynamodb.TableEncryptionV2.customerManagedKey(props.tableKey, { ...props.replicaKeyArns }),
      pointInTimeRecoverySpecification: recovery,
      deletionProtection: true,
      timeToLiveAttribute: 'expiresAt',
      removalPolicy: RemovalPolicy.RETAIN,
      replicas: Object.keys(props.replicaKeyArns).map((region) => ({
        region,
        deletionProtection: true,
        pointInTimeRecoverySpecification: recovery,
      })),
    });
  }
}
