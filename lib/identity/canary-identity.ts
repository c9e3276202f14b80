import * as path from 'node:path';
import {
  Annotations,
  type CfnResource,
  type CustomResource,
  Duration,
  RemovalPolicy,
  Stack,
  Validations,
} from 'aws-cdk-lib';
import type * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as triggers from 'aws-cdk-lib/triggers';
import { Construct } from 'constructs';
import type { CanaryIdentityEnvironment } from '../../lambda/shared/environment';
import { acknowledgeExecutionRole } from '../functions/execution-role';
import { NodeFunction } from '../functions/node-function';
import { acknowledgeTriggerProvider } from '../functions/trigger-provider';
import { grantTableKeyUse } from '../security/table-key-use';

export interface CanaryIdentityProps {
  /** The jurisdiction's pool (in its primary region), where the canary user lives. */
  readonly userPool: cognito.IUserPool;
  /** The app client the canaries sign in with; it must allow `ALLOW_ADMIN_USER_PASSWORD_AUTH`. */
  readonly userPoolClient: cognito.IUserPoolClient;
  /** The user's sign-in name, an e-mail address: `canary-<region>@<shop domain>`. */
  readonly username: string;
  /** The jurisdiction's table (this region's replica), where the canary product is created if missing. */
  readonly productTable: dynamodb.ITableV2;
  /** The canary product, e.g. `CANARY-1`. */
  readonly productSku: string;
  /**
   * Currency of the canary product (price 0).
   * @default 'USD'
   */
  readonly productCurrency?: string;
  /**
   * Encrypts the secret, the function's logs and the trigger provider's logs (the region's
   * operations key); its key policy must let the region's CloudWatch Logs use it.
   */
  readonly encryptionKey: kms.IKey;
  /**
   * How often the password is rotated.
   * @default Duration.days(30)
   */
  readonly rotationInterval?: Duration;
}

const ENTRY = path.join(__dirname, '..', '..', 'lambda', 'canary-identity', 'handler.ts');

/**
 * The Cognito actions of the enrolment and the rotation, all on the one pool.
 * AdminDeleteUser: a user with an authenticator nobody holds cannot have its TOTP switched
 * off in a pool that requires MFA, so the enrolment deletes and re-creates it.
 */
export const CANARY_IDENTITY_COGNITO_ACTIONS = [
  'cognito-idp:AdminCreateUser',
  'cognito-idp:AdminDeleteUser',
  'cognito-idp:AdminSetUserPassword',
  'cognito-idp:AdminInitiateAuth',
  'cognito-idp:AdminRespondToAuthChallenge',
  'cognito-idp:AdminSetUserMFAPreference',
] as const;

/**
 * A region's canary user, kept signed-in-able by the deploy: a secret for its credentials
 * `{ "username", "password", "totpSecret" }` (the value is generated at deploy time, never
 * in the template), a function that enrols the user in the jurisdiction's pool, and
 * - a trigger that runs the enrolment during every deploy that changes the function, its
 *   configuration or the secret (a new secret is always enrolled): it does nothing when the
 *   stored credentials sign in, so re-running it is safe;
 * - a rotation schedule with the same function: a new password every 30 days, the TOTP
 *   authenticator kept.
 * The function also creates the canary product in the jurisdiction's table when missing.
 * See lambda/canary-identity/ and docs/operations.md#canary-user.
 */
export class CanaryIdentity extends Construct {
  readonly secret: secretsmanager.Secret;
  readonly function: NodeFunction;
  readonly trigger: triggers.Trigger;
  readonly rotation: secretsmanager.RotationSchedule;

  constructor(scope: Construct, id: string, props: CanaryIdentityProps) {
    super(scope, id);
    const stack = Stack.of(this);

    this.secret = new secretsmanager.Secret(this, 'Credentials', {
      description: `Canary user ${props.username}: {"username", "password", "totpSecret"}, set by the deploy and rotated (docs/operations.md#canary-user)`,
      encryptionKey: props.encryptionKey,
      // Everything in it is recreated by the next deploy's enrolment.
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_YEAR,
      encryptionKey: props.encryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Outside the VPC: it calls Cognito in the jurisdiction's primary region, which no VPC
    // endpoint of this region serves.
    this.function = new NodeFunction(this, 'Function', {
      entry: ENTRY,
      description: `Enrols the canary user ${props.username} at deploy and rotates its password`,
      memorySize: 256,
      // A sign-in check may wait for the next TOTP step (30 s) once.
      timeout: Duration.minutes(2),
      logGroup,
      environment: {
        USER_POOL_ID: props.userPool.userPoolId,
        USER_POOL_CLIENT_ID: props.userPoolClient.userPoolClientId,
        USER_POOL_REGION: props.userPool.env.region,
        CANARY_USERNAME: props.username,
        CANARY_SECRET_ARN: this.secret.secretArn,
        EVENTUAL_TABLE: props.productTable.tableName,
        CANARY_SKU: props.productSku,
        CANARY_CURRENCY: props.productCurrency ?? 'USD',
      } satisfies CanaryIdentityEnvironment,
    });
    // IAM cannot scope Cognito's Admin* actions to one user (their resource is the pool), so
    // the role could create, delete or set the password of any user of the pool. Acceptable:
    // the code only ever names the canary user; the function has no other data access (one
    // catalog item, its own secret); it runs only at deploy (the trigger) and rotation, with
    // no other invoker (Secrets Manager of this account, the trigger's provider).
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        actions: [...CANARY_IDENTITY_COGNITO_ACTIONS],
        resources: [props.userPool.userPoolArn],
      }),
    );
    // The canary product's catalog entry only: one partition key.
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:PutItem'],
        resources: [props.productTable.tableArn],
        conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [`PRODUCT#${props.productSku}`] } },
      }),
    );
    // The table's key, through DynamoDB only.
    if (props.productTable.encryptionKey) grantTableKeyUse(props.productTable.encryptionKey, this.function);

    // Reading and writing the one secret comes with the rotation schedule.
    this.rotation = this.secret.addRotationSchedule('Rotation', {
      rotationLambda: this.function,
      automaticallyAfter: props.rotationInterval ?? Duration.days(30),
      // Not at creation: the first value is the enrolment's (the trigger), which runs first.
      rotateImmediatelyOnUpdate: false,
    });

    // Only Secrets Manager acting for this account may invoke it (confused deputy).
    for (const child of this.function.node.children) {
      if (child instanceof lambda.CfnPermission && child.principal === 'secretsmanager.amazonaws.com') {
        child.sourceAccount = stack.account;
      }
    }

    this.trigger = new triggers.Trigger(this, 'Enrolment', {
      handler: this.function,
      invocationType: triggers.InvocationType.REQUEST_RESPONSE,
      timeout: Duration.minutes(3),
      // Runs on create and whenever the function's code or configuration changes (a new
      // version) — its environment names the secret, the pool and the user, so a new secret
      // or pool re-runs it too; they are also named on the trigger, to say so.
      executeOnHandlerChange: true,
      // The secret resource itself, not its subtree: the rotation schedule under it comes after.
      executeAfter: [this.function, this.secret.node.defaultChild as secretsmanager.CfnSecret, logGroup],
    });
    const triggerResource = (this.trigger.node.defaultChild as CustomResource).node.defaultChild as CfnResource;
    triggerResource.addPropertyOverride('SecretArn', this.secret.secretArn);
    triggerResource.addPropertyOverride('UserPoolArn', props.userPool.userPoolArn);
    triggerResource.addPropertyOverride('Username', props.username);
    this.rotation.node.addDependency(this.trigger);

    this.acknowledgeFindings(stack, props);
  }

  private acknowledgeFindings(stack: Stack, props: CanaryIdentityProps): void {
    Annotations.of(this.function).acknowledgeWarning(
      '@aws-cdk/aws-lambda:addPermissionsToVersionOrAlias',
      'Secrets Manager invokes the function itself (unqualified), as the permission says; the version exists only for the trigger, whose provider is allowed to invoke every version.',
    );
    Validations.of(this.function.node.defaultChild as lambda.CfnFunction).acknowledge({
      id: 'cdk-validator-cfnguard::lambda_inside_vpc_check',
      reason:
        "Outside the VPC on purpose: it calls Cognito's admin API for the jurisdiction's user pool, which is in the jurisdiction's primary region; from another region no VPC endpoint of this region serves it, and the VPC has neither a NAT nor a cognito-idp interface endpoint. It creates one synthetic user and writes one catalog item and the canary's own secret, no customer data.",
    });
    const role = this.function.role as iam.Role;
    acknowledgeExecutionRole(this.function);
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        "Only secretsmanager:GetRandomPassword is on '*': CDK grants it to every rotation function, and it has no resource type to scope to; this function does not call it (it draws its passwords with node:crypto). Every other statement names one resource: the pool, the table (one item key), a KMS key, the secret or the function's log group.",
    });
    // The role's policy holds the table key's grant, and the secret key's when that key is in
    // another stack (in the same stack, CDK puts it in the key's policy instead).
    const secretKeyInRolePolicy = Stack.of(props.encryptionKey) !== stack;
    if (props.productTable.encryptionKey || secretKeyInRolePolicy) {
      for (const action of ['kms:GenerateDataKey*', 'kms:ReEncrypt*']) {
        Validations.of(role).acknowledge({
          id: `AwsSolutions-IAM5[Action::${action}]`,
          reason: [
            `${action} (with kms:Encrypt and kms:Decrypt) is granted on named keys only, never on '*':`,
            props.productTable.encryptionKey
              ? "the table's key (the region's data key), through DynamoDB in this region only (kms:ViaService), under which DynamoDB encrypts the one item the function writes, the canary product: DynamoDB's guidance for a table under a customer-managed key names these families for principals that write its items;"
              : '',
            secretKeyInRolePolicy
              ? "the secret's key (the region's operations key), for calls made through Secrets Manager only (kms:ViaService), which encrypts the secret versions the rotation puts;"
              : '',
            'The families are what those services need of a caller; each key is named, and each grant held to the one service that uses it.',
          ]
            .filter(Boolean)
            .join(' '),
        });
      }
    }
    acknowledgeTriggerProvider(stack, props.encryptionKey);
  }
}
