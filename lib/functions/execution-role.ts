import { Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';

/**
 * What the Lambda runtime needs to write a function's logs into a log group that already
 * exists: no `logs:CreateLogGroup`, since every group of the app is in its templates.
 * https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-advanced.html#monitoring-cloudwatchlogs-loggroups
 */
export const LOG_WRITE_ACTIONS = ['logs:CreateLogStream', 'logs:PutLogEvents'] as const;

/**
 * What Lambda does with the execution role of a function in a VPC: it creates, describes and
 * deletes the function's network interfaces (the EC2 half of AWSLambdaVPCAccessExecutionRole).
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html#configuration-vpc-permissions
 */
export const VPC_NETWORK_INTERFACE_ACTIONS = [
  'ec2:CreateNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:DeleteNetworkInterface',
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
] as const;

/**
 * Lets a function's CDK-made execution role write its logs to `logGroup` and nowhere else.
 *
 * Lambda gives a role it makes AWSLambdaBasicExecutionRole (and, in a VPC,
 * AWSLambdaVPCAccessExecutionRole); both allow logs:CreateLogGroup, CreateLogStream and
 * PutLogEvents on `*`, every log group of the account. Here the role carries no managed
 * policy: its log writes are an inline statement on the one group's ARN, and a VPC function
 * gets the network-interface actions inline, on the role itself so that they exist when
 * Lambda checks them at CreateFunction.
 *
 * `logGroup` must exist before the function first runs: a group whose name is made from the
 * function's (CDK's `/aws/lambda/<name>` group) gets its statement in a policy of its own,
 * which the function does not wait for, since that would be a dependency cycle; such a
 * function must not be invoked while its stack deploys.
 */
export function confineExecutionRole(fn: lambda.Function, logGroup: logs.ILogGroup): void {
  const role = fn.role;
  if (!(role instanceof iam.Role))
    throw new Error(`${fn.node.path}: confineExecutionRole needs a role made in this app`);
  const cfnRole = role.node.defaultChild as iam.CfnRole;
  cfnRole.managedPolicyArns = undefined;
  if (fn.isBoundToVpc) {
    cfnRole.policies = [
      {
        policyName: 'VpcNetworkInterfaces',
        policyDocument: {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: [...VPC_NETWORK_INTERFACE_ACTIONS], Resource: '*' }],
        },
      },
    ];
  }
  const statement = new iam.PolicyStatement({ actions: [...LOG_WRITE_ACTIONS], resources: [logGroup.logGroupArn] });
  if (logGroup.node.scope === fn) {
    new iam.Policy(fn, 'LogsPolicy', { roles: [role], statements: [statement] });
  } else {
    fn.addToRolePolicy(statement);
  }
}

/**
 * Acknowledges the finding a function's execution role has by how the function runs, and
 * only that one: `Resource::*` for the network-interface actions of a VPC function and for
 * X-Ray's actions of a traced one. Findings of the function's own grants stay with the
 * construct that makes them.
 */
export function acknowledgeExecutionRole(fn: lambda.Function): void {
  const role = fn.role;
  if (!role) return;
  const tracing = (fn.node.defaultChild as lambda.CfnFunction).tracingConfig as
    | lambda.CfnFunction.TracingConfigProperty
    | undefined;
  const reasons = [
    ...(fn.isBoundToVpc
      ? [
          "Lambda manages the network interfaces of a VPC function with the function's role: ec2:DescribeNetworkInterfaces and ec2:DescribeSubnets support no resource-level scoping, and the interfaces Lambda creates, assigns addresses to and deletes do not exist before it names them (https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html#configuration-vpc-permissions).",
        ]
      : []),
    ...(tracing?.mode === lambda.Tracing.ACTIVE
      ? ['xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level scoping.']
      : []),
  ];
  if (reasons.length === 0) return;
  Validations.of(role).acknowledge({ id: 'AwsSolutions-IAM5[Resource::*]', reason: reasons.join(' ') });
}
