import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { EventualStore, type EventualStoreProps } from '../../../lib/data/eventual-store';
import { oneStack } from '../../support/one-stack';
import { onlyOfType } from '../../support/templates';

const WEST_KEY = 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555';

/** The table in the stack that deploys last (eu-central-1), with a replica in eu-west-1. */
function build(props: Partial<EventualStoreProps> = {}) {
  const { stack } = oneStack({ region: 'eu-central-1' });
  const dataKey = new kms.Key(stack, 'DataKey');
  new EventualStore(stack, 'EventualStore', {
    tableName: 'Commerce-eu-eventual',
    tableKey: dataKey,
    replicaKeyArns: { 'eu-west-1': WEST_KEY },
    ...props,
  });
  const template = Template.fromStack(stack);
  template.resourceCountIs('AWS::DynamoDB::GlobalTable', 1);
  const [, table] = onlyOfType(template, 'AWS::DynamoDB::GlobalTable');
  return { keyId: stack.getLogicalId(dataKey.node.defaultChild as kms.CfnKey), table };
}

describe('EventualStore', () => {
  test('one global table under its fixed name, replicas exactly in this region and the given ones, retained', () => {
    // given a replica key for eu-west-1; when the table is built in eu-central-1
    const { table } = build();
    // then
    expect(table.Properties.TableName).toBe('Commerce-eu-eventual');
    expect(table.Properties.Replicas.map((r: any) => r.Region).sort()).toEqual(['eu-central-1', 'eu-west-1']);
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.Properties.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    expect(table.Properties.BillingMode).toBe('PAY_PER_REQUEST');
    expect(table.Properties.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
  });

  test('every replica has 35 days of point-in-time recovery, deletion protection and its own region key', () => {
    // given, when
    const { table, keyId } = build();
    // then
    expect(table.Properties.SSESpecification).toEqual({ SSEEnabled: true, SSEType: 'KMS' });
    const keys: Record<string, unknown> = {};
    for (const replica of table.Properties.Replicas) {
      expect(replica.PointInTimeRecoverySpecification).toEqual({
        PointInTimeRecoveryEnabled: true,
        RecoveryPeriodInDays: 35,
      });
      expect(replica.DeletionProtectionEnabled).toBe(true);
      keys[replica.Region] = replica.SSESpecification.KMSMasterKeyId;
    }
    expect(keys).toEqual({ 'eu-central-1': { 'Fn::GetAtt': [keyId, 'Arn'] }, 'eu-west-1': WEST_KEY });
  });

  test('the recovery period can be shortened, in every replica alike', () => {
    // given, when
    const { table } = build({ recoveryPeriodInDays: 7 });
    // then
    expect(table.Properties.Replicas.map((r: any) => r.PointInTimeRecoverySpecification.RecoveryPeriodInDays)).toEqual([
      7, 7,
    ]);
  });
});
