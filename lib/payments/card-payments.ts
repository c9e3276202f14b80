import * as path from 'node:path';
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { OrdersEnvironment, PaymentsEnvironment, PowertoolsEnvironment } from '../../lambda/shared/environment';
import { acknowledgeExecutionRole } from '../functions/execution-role';
import { NodeFunction } from '../functions/node-function';
import { RegionalNetwork } from '../network/regional-network';

export interface CardPaymentsProps {
  /** The region's VPC, whose isolated subnets get the Lambda endpoint. */
  readonly vpc: ec2.IVpc;
  /** The secret holding `{ "apiKey": "sk_..." }`, created by hand before the deploy. */
  readonly secretName: string;
  /** The function that takes orders (in the VPC): it alone may invoke the payments function. */
  readonly caller: lambda.IFunction & ec2.IConnectable & Pick<lambda.Function, 'addEnvironment'>;
  /**
   * Retention of the payments function's logs.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Customer-managed key of the payments function's logs.
   * @default the log key of the `RegionalNetwork` that built `vpc`
   */
  readonly logEncryptionKey?: kms.IKey;
}

/**
 * Card payments through Stripe: the payments function, the one function that reaches the
 * internet (Stripe's API), outside the VPC; a Lambda interface endpoint in the isolated
 * subnets through which the orders function invokes it synchronously; and the orders
 * function switched to it (`PAYMENT_PROCESSOR=stripe`, `PAYMENTS_FUNCTION`).
 *
 * Time budget, worst case: this function runs at most 2 s reading its secret (cold start)
 * plus `CAPTURE_MAX_CALLS` (8) sequential Stripe calls of at most 1.5 s each, 14 s, under
 * its 15 s timeout. The orders function's `InvokedCardProcessor` waits 17 s (15 s plus 2 s
 * for init and the invoke) and invokes once per request; a wait that runs out answers 503
 * `PAYMENT_OUTCOME_UNKNOWN`, and the client's retry with the same key replays the payment
 * rather than charging again. The orders function's own timeout must be above 17 s plus
 * its database work before and after the capture (connect 2 s, lock waits up to 3 s twice,
 * the writes): 27 s leaves that room (at most 29 s, API Gateway's limit).
 */
export class CardPayments extends Construct {
  readonly function: NodeFunction;
  readonly endpoint: ec2.InterfaceVpcEndpoint;

  constructor(scope: Construct, id: string, props: CardPaymentsProps) {
    super(scope, id);
    const encryptionKey = props.logEncryptionKey ?? RegionalNetwork.logEncryptionKeyOf(props.vpc);
    if (!encryptionKey) {
      throw new Error(`${this.node.path}: no logEncryptionKey given and the VPC was not built by a RegionalNetwork`);
    }
    const logGroup = new logs.LogGroup(this, 'PaymentsLogs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      encryptionKey,
    });
    acknowledgeImportedKey(logGroup, encryptionKey);

    this.function = new NodeFunction(this, 'PaymentsFunction', {
      entry: path.join(__dirname, '..', '..', 'lambda', 'payments', 'handler.ts'),
      description: 'Captures and refunds card payments at Stripe for the orders function',
      memorySize: 256,
      timeout: Duration.seconds(15),
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      environment: {
        ...({ PAYMENTS_SECRET_NAME: props.secretName } satisfies PaymentsEnvironment),
        ...({
          POWERTOOLS_SERVICE_NAME: 'payments',
          POWERTOOLS_METRICS_NAMESPACE: 'Commerce',
        } satisfies PowertoolsEnvironment),
      },
    });
    // By name: the secret is made by hand, so its ARN (name plus a random suffix) is not known.
    const secret = secretsmanager.Secret.fromSecretNameV2(this, 'ProcessorSecret', props.secretName);
    secret.grantRead(this.function);
    acknowledgeOutsideVpc(this.function);

    this.endpoint = new ec2.InterfaceVpcEndpoint(this, 'LambdaEndpoint', {
      vpc: props.vpc,
      service: ec2.InterfaceVpcEndpointAwsService.LAMBDA,
      subnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      open: false,
    });
    this.endpoint.connections.allowDefaultPortFrom(props.caller, 'The orders function invokes the payments function');
    // The one call the VPC makes to Lambda: invoking this function, by this account's principals
    // (https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc-endpoints.html#vpc-endpoint-policy).
    this.endpoint.addToPolicy(
      new iam.PolicyStatement({
        sid: 'InvokePaymentsFunctionOnly',
        principals: [new iam.AnyPrincipal()],
        actions: ['lambda:InvokeFunction'],
        resources: [this.function.functionArn],
        conditions: { StringEquals: { 'aws:PrincipalAccount': Stack.of(this).account } },
      }),
    );

    // The unqualified function only: the orders function never invokes a version or alias.
    props.caller.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [this.function.functionArn] }),
    );
    const callerEnvironment: Required<OrdersEnvironment> = {
      PAYMENT_PROCESSOR: 'stripe',
      PAYMENTS_FUNCTION: this.function.functionName,
    };
    for (const [name, value] of Object.entries(callerEnvironment)) props.caller.addEnvironment(name, value);
  }
}

/** The payments function's findings: outside the VPC on purpose, and its role. */
function acknowledgeOutsideVpc(fn: NodeFunction): void {
  Validations.of(fn.node.defaultChild as lambda.CfnFunction).acknowledge({
    id: 'cdk-validator-cfnguard::lambda_inside_vpc_check',
    reason:
      "Outside the VPC on purpose: it is the only function with internet egress, to reach Stripe's API. It holds only the card processor's API key and has no access to any data store; the orders function, in the VPC, invokes it through a Lambda interface endpoint. Putting it in the VPC would need a NAT gateway, giving every function of the VPC internet egress.",
  });
  acknowledgeExecutionRole(fn);
}

/** A log key of another stack (the region's stateful stack) is a reference the check cannot resolve. */
function acknowledgeImportedKey(logGroup: logs.LogGroup, key: kms.IKey): void {
  if (Stack.of(key) === Stack.of(logGroup)) return;
  Validations.of(logGroup.node.defaultChild as logs.CfnLogGroup).acknowledge({
    id: 'cdk-validator-cfnguard::cloudwatch_log_group_encrypted_check',
    reason:
      "Encrypted: KmsKeyId is the region's customer-managed data key, imported from the region's stateful stack. The check accepts only a literal ARN or a key in the same template, and a key ARN is known only after deployment.",
  });
}
