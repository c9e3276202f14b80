import { Validations } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';

/**
 * Acknowledges the findings a function's CDK-made execution role has by how the function
 * runs, and only those: the basic logging policy always, the VPC access policy when it is in
 * a VPC, and X-Ray's wildcard when it traces. Findings of the function's own grants stay with
 * the construct that makes them.
 */
export function acknowledgeExecutionRole(fn: lambda.Function): void {
  const role = fn.role;
  if (!role) return;
  Validations.of(role).acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    reason:
      'Lets the function write its own CloudWatch logs and nothing else; the AWS-maintained policy follows Lambda changes.',
  });
  if (fn.isBoundToVpc) {
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
      reason: 'Lets Lambda manage the network interfaces of a VPC function; it carries no data-plane permission.',
    });
  }
  const tracing = (fn.node.defaultChild as lambda.CfnFunction).tracingConfig as
    | lambda.CfnFunction.TracingConfigProperty
    | undefined;
  if (tracing?.mode === lambda.Tracing.ACTIVE) {
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level scoping.',
    });
  }
}
