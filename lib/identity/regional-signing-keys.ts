import * as path from 'node:path';
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventsTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as triggers from 'aws-cdk-lib/triggers';
import { Construct } from 'constructs';
import type { PowertoolsEnvironment, SigningKeysEnvironment } from '../../lambda/shared/environment';
import { acknowledgeExecutionRole } from '../functions/execution-role';
import { NodeFunction } from '../functions/node-function';
import { acknowledgeTriggerProvider } from '../functions/trigger-provider';
import { restrictGrantsToAwsServices } from '../security/key-policy';

export interface RegionalSigningKeysProps {
  /** The jurisdiction's user pool (in its primary region, maybe another one). */
  readonly userPoolId: string;
  /** This region's parameter for the copy (a name of the contract, see `lib/config/names.ts`). */
  readonly parameterName: string;
  /** Encrypts the copier's logs. */
  readonly logEncryptionKey: kms.IKey;
  /**
   * How often the copy is refreshed, besides every deploy that changes the copier.
   * @default Duration.hours(6)
   */
  readonly refreshEvery?: Duration;
}

/**
 * This region's copy of the user pool's public signing keys (JWKS), so the region's
 * authorizer verifies tokens with no call to the pool's region: when that region is down,
 * shoppers signed in before keep being served here. A function copies the JWKS into an SSM
 * parameter of this region at deploy (a Trigger, which the authorizer waits for) and on a
 * schedule, so a key the pool adds arrives within `refreshEvery`.
 *
 * The parameter is written by the function, not declared in the template: a declared value
 * would be put back at every deploy. It holds public keys only.
 */
export class RegionalSigningKeys extends Construct {
  readonly function: NodeFunction;
  readonly trigger: triggers.Trigger;
  readonly parameterName: string;
  /**
   * Signs the copy (the copier alone may sign); the authorizer trusts the copy only if the
   * signature verifies, so writing the parameter cannot add a key it would accept.
   */
  readonly copyKey: kms.Key;
  private readonly parameterArn: string;

  constructor(scope: Construct, id: string, props: RegionalSigningKeysProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.parameterName = props.parameterName;
    this.parameterArn = stack.formatArn({
      service: 'ssm',
      resource: 'parameter',
      resourceName: props.parameterName.replace(/^\//, ''),
    });
    this.copyKey = new kms.Key(this, 'CopyKey', {
      description: "Signs this region's copy of the user pool signing keys",
      keySpec: kms.KeySpec.ECC_NIST_P256,
      keyUsage: kms.KeyUsage.SIGN_VERIFY,
    });
    restrictGrantsToAwsServices(this.copyKey);
    // Outside the VPC: it fetches the JWKS from Cognito's public endpoint in the pool's region.
    this.function = new NodeFunction(this, 'Function', {
      entry: path.join(__dirname, '..', '..', 'lambda', 'signing-keys', 'handler.ts'),
      description: "Copies the user pool's public signing keys into this region",
      memorySize: 256,
      timeout: Duration.seconds(30),
      logGroup: new logs.LogGroup(this, 'Logs', {
        retention: logs.RetentionDays.ONE_YEAR,
        encryptionKey: props.logEncryptionKey,
      }),
      environment: {
        USER_POOL_ID: props.userPoolId,
        SIGNING_KEYS_PARAMETER: props.parameterName,
        SIGNING_KEYS_COPY_KEY: this.copyKey.keyArn,
        ...({
          POWERTOOLS_SERVICE_NAME: 'signing-keys',
          POWERTOOLS_METRICS_NAMESPACE: 'Commerce',
        } satisfies PowertoolsEnvironment),
      } satisfies SigningKeysEnvironment & PowertoolsEnvironment,
    });
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['ssm:GetParameter', 'ssm:PutParameter'],
        resources: [this.parameterArn],
      }),
    );
    this.copyKey.grant(this.function, 'kms:Sign', 'kms:Verify');
    this.trigger = new triggers.Trigger(this, 'Copy', {
      handler: this.function,
      executeOnHandlerChange: true,
      timeout: Duration.minutes(2),
    });
    const refresh = new events.Rule(this, 'Refresh', {
      description: "Refreshes this region's copy of the user pool signing keys",
      schedule: events.Schedule.rate(props.refreshEvery ?? Duration.hours(6)),
      targets: [new eventsTargets.LambdaFunction(this.function, { retryAttempts: 2 })],
    });
    // The target's invoke permission names the rule; name the account too (as every
    // permission of the app does), so no other account's rule of that name could invoke it.
    for (const permission of refresh.node.findAll()) {
      if (permission instanceof lambda.CfnPermission) permission.sourceAccount = stack.account;
    }
    this.acknowledge();
    acknowledgeTriggerProvider(this, props.logEncryptionKey);
  }

  get copyKeyArn(): string {
    return this.copyKey.keyArn;
  }

  /** Lets `grantee` read the copy and verify its signature (the authorizer, at cold start). */
  grantRead(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['ssm:GetParameter'], resources: [this.parameterArn] }),
    );
    this.copyKey.grant(grantee, 'kms:Verify');
  }

  /** The copy exists before `fn` is created or updated (the authorizer reads it at cold start). */
  readBy(fn: lambda.IFunction): void {
    this.trigger.executeBefore(fn);
  }

  private acknowledge(): void {
    Validations.of(this.function.node.defaultChild as lambda.CfnFunction).acknowledge({
      id: 'cdk-validator-cfnguard::lambda_inside_vpc_check',
      reason:
        "Outside the VPC on purpose: it fetches the user pool's public JWKS from Cognito's endpoint in the pool's region, which the isolated subnets cannot reach: the VPC has no NAT and no cognito-idp interface endpoint, and an endpoint of this region would not serve a pool in another region. It writes one SSM parameter of public keys and reads no store.",
    });
    acknowledgeExecutionRole(this.function);
  }
}
