import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { allowRegionalLogs, restrictGrantsToAwsServices } from '../security/key-policy';

/**
 * The key of a region's operational data — alarm notifications, workflow and access logs,
 * canary artifacts — kept apart from the data key so that operators' tools never need
 * the key that protects customer data. It lives in the same (stateless) stack as what it
 * encrypts, so Control Tower's checks can see that each log group has a key.
 */
export class OperationsKey extends Construct {
  readonly key: kms.Key;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const stack = Stack.of(this);
    this.key = new kms.Key(this, 'Key', {
      description: `Operational data of ${stack.stackName}: alarm topic, workflow and access logs, canary artifacts`,
      enableKeyRotation: true,
    });
    allowRegionalLogs(this.key);
    // CloudWatch cannot publish alarms to a topic under the AWS-managed SNS key.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );
    restrictGrantsToAwsServices(this.key);
  }
}
