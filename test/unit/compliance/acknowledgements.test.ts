import { Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import {
  type Acknowledgement,
  acknowledgementsOf,
  type ListedAcknowledgement,
  listDifferences,
  mergeModels,
  packOf,
} from '../../../lib/compliance/acknowledgements';
import { documentText } from '../../../scripts/acknowledgements';
import { oneStack } from '../../support/one-stack';

describe('the acknowledgements of a construct tree', () => {
  test('given every way the app acknowledges, each is listed with its pack, the id as written and its construct', () => {
    // given
    const { app, stack } = oneStack();
    const bucket = new s3.Bucket(stack, 'Bucket');
    const queue = new sqs.Queue(stack, 'Queue');
    Validations.of(bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Test bucket holding no data: nothing to record access to, so server access logs would log nothing of use',
    });
    Validations.of(bucket.node.defaultChild as s3.CfnBucket).acknowledge({
      id: 'cdk-validator-cfnguard::s3_bucket_versioning_enabled',
      reason: 'Test bucket rebuilt from source on every run: an overwritten object is never needed back',
    });
    Validations.of(queue).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'Test statement on xray:PutTraceSegments, which supports no resource-level permissions',
      },
      {
        id: 'Platform-DDBGlobalTablePITR',
        reason: 'Test queue, not a global table: the PITR rule has nothing to check here',
      },
      { id: 'DataResidency-Example', reason: 'Test queue in eu-west-1 that no principal outside the EU may read' },
      {
        id: 'AwsSolutions::AwsSolutions-SQS3',
        reason: 'Test queue whose messages are deleted once read: no dead-letter queue is needed for this fixture',
      },
      {
        id: '@aws-cdk/aws-lambda:someWarning',
        reason: 'Test warning about version permissions: the fixture has no function versions',
      },
      {
        id: 'CloudFormation-Validate::W3010',
        reason: 'Test subnets name their zones on purpose: synthesis does no availability-zone lookup',
      },
    );
    // when
    const scan = acknowledgementsOf(app);
    // then: sorted by path, then rule
    expect(scan.acknowledgements).toEqual([
      {
        path: 'Test/Bucket',
        rule: 'AwsSolutions-S1',
        pack: 'AwsSolutions',
        reason:
          'Test bucket holding no data: nothing to record access to, so server access logs would log nothing of use',
      },
      {
        path: 'Test/Bucket/Resource',
        rule: 'cdk-validator-cfnguard::s3_bucket_versioning_enabled',
        pack: 'cdk-validator-cfnguard',
        reason: 'Test bucket rebuilt from source on every run: an overwritten object is never needed back',
      },
      {
        path: 'Test/Queue',
        rule: '@aws-cdk/aws-lambda:someWarning',
        pack: 'annotation',
        reason: 'Test warning about version permissions: the fixture has no function versions',
      },
      {
        path: 'Test/Queue',
        rule: 'AwsSolutions-IAM5[Resource::*]',
        pack: 'AwsSolutions',
        reason: 'Test statement on xray:PutTraceSegments, which supports no resource-level permissions',
      },
      {
        path: 'Test/Queue',
        rule: 'AwsSolutions::AwsSolutions-SQS3',
        pack: 'AwsSolutions',
        reason: 'Test queue whose messages are deleted once read: no dead-letter queue is needed for this fixture',
      },
      {
        path: 'Test/Queue',
        rule: 'CloudFormation-Validate::W3010',
        pack: 'CloudFormation-Validate',
        reason: 'Test subnets name their zones on purpose: synthesis does no availability-zone lookup',
      },
      {
        path: 'Test/Queue',
        rule: 'DataResidency-Example',
        pack: 'DataResidency',
        reason: 'Test queue in eu-west-1 that no principal outside the EU may read',
      },
      {
        path: 'Test/Queue',
        rule: 'Platform-DDBGlobalTablePITR',
        pack: 'Platform',
        reason: 'Test queue, not a global table: the PITR rule has nothing to check here',
      },
    ]);
    expect(scan.byPack).toEqual({
      AwsSolutions: 3,
      Platform: 1,
      DataResidency: 1,
      'cdk-validator-cfnguard': 1,
      'CloudFormation-Validate': 1,
      annotation: 1,
    });
    expect(scan.recorded).toBe(8);
  });

  test('given the same acknowledgement made twice on one construct, it is listed once but counted as recorded twice', () => {
    // given: as a stack's trigger provider is acknowledged once per trigger
    const { app, stack } = oneStack();
    const queue = new sqs.Queue(stack, 'Queue');
    const first = 'Test queue whose messages are deleted once read: no dead-letter queue is needed';
    const second = 'Test queue drained by one consumer that retries itself: a dead-letter queue adds nothing';
    for (let i = 0; i < 2; i++) Validations.of(queue).acknowledge({ id: 'AwsSolutions-SQS3', reason: first });
    Validations.of(queue).acknowledge({ id: 'AwsSolutions-SQS3', reason: second });
    // when
    const scan = acknowledgementsOf(app);
    // then: the two reasons stay apart; only the exact repeat goes
    expect(scan.acknowledgements.map((entry) => entry.reason)).toEqual([second, first]);
    expect(scan.recorded).toBe(3);
    expect(scan.byPack.AwsSolutions).toBe(2);
  });

  test('the pack of a recorded id: its namespace, else the cdk-nag pack of its rule family, else annotation', () => {
    expect(packOf('Annotation::AwsSolutions-L1')).toBe('AwsSolutions');
    expect(packOf('annotation::Platform-X')).toBe('Platform');
    expect(packOf('Annotation::DataResidency-X')).toBe('DataResidency');
    expect(packOf('cdk-validator-cfnguard::lambda_inside_vpc_check')).toBe('cdk-validator-cfnguard');
    expect(packOf('CloudFormation-Validate::W3010')).toBe('CloudFormation-Validate');
    expect(packOf('Annotation::@aws-cdk/core:someWarning')).toBe('annotation');
    expect(packOf('Annotation::AwsSolutionsX')).toBe('annotation');
  });
});

describe('the reviewed list across deployment models', () => {
  const ack = (path: string, rule: string, reason: string): Acknowledgement => ({
    path,
    rule,
    pack: 'AwsSolutions',
    reason,
  });
  const listed = (entry: Acknowledgement, ...models: string[]): ListedAcknowledgement => ({ ...entry, models });
  const both = ack('A/Role', 'AwsSolutions-IAM4', 'managed policy');
  const onlyPassive = ack('A/Failover', 'AwsSolutions-L1', 'runtime pinned');

  test('given two models, an entry names the models that make it', () => {
    expect(mergeModels({ 'active-active': [both], 'active-passive': [onlyPassive, both] })).toEqual([
      { ...onlyPassive, models: ['active-passive'] },
      { ...both, models: ['active-active', 'active-passive'] },
    ]);
  });

  test('given the same list on both sides, nothing differs', () => {
    const list = [listed(both, 'active-active'), listed(onlyPassive, 'active-passive')];
    expect(listDifferences(list, [...list])).toEqual([]);
  });

  test('given an acknowledgement made but not listed, and one listed but no longer made, each is named', () => {
    expect(listDifferences([listed(both, 'active-active')], [listed(onlyPassive, 'active-passive')])).toEqual([
      'added: AwsSolutions-L1 on A/Failover: "runtime pinned" (AwsSolutions; active-passive)',
      'removed: AwsSolutions-IAM4 on A/Role: "managed policy" (AwsSolutions; active-active)',
    ]);
  });

  test('given a reworded reason or another set of models, the entry is named as changed', () => {
    const reworded = ack('A/Role', 'AwsSolutions-IAM4', 'AWS-managed policy');
    expect(listDifferences([listed(both, 'active-active')], [listed(reworded, 'active-active')])).toEqual([
      'changed: AwsSolutions-IAM4 on A/Role: was "managed policy" (AwsSolutions; active-active), ' +
        'now "AWS-managed policy" (AwsSolutions; active-active)',
    ]);
    expect(listDifferences([listed(both, 'active-active')], [listed(both, 'active-active', 'active-passive')])).toEqual(
      [
        'changed: AwsSolutions-IAM4 on A/Role: was "managed policy" (AwsSolutions; active-active), ' +
          'now "managed policy" (AwsSolutions; active-active, active-passive)',
      ],
    );
  });

  test('the file is written as Biome formats JSON: the models of an entry on one line', () => {
    const text = documentText({
      about: 'x',
      counts: {},
      acknowledgements: [listed(both, 'active-active', 'active-passive')],
    });
    expect(text).toContain('"models": ["active-active", "active-passive"]');
    expect(JSON.parse(text).acknowledgements[0].models).toEqual(['active-active', 'active-passive']);
  });
});
