import * as path from 'node:path';
import { ArnFormat, Duration, Stack, Validations } from 'aws-cdk-lib';
import type * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, type IConstruct } from 'constructs';
import { ORIGIN_PROOF_HEADER } from '../../lambda/shared/api-contract';
import type { OriginRotationEnvironment } from '../../lambda/shared/environment';
import { acknowledgeExecutionRole } from '../functions/execution-role';
import { NodeFunction } from '../functions/node-function';

export { ORIGIN_PROOF_HEADER };

export interface OriginVerificationProps {
  /** The secret's name here and in every replica: each regional API reads its replica by it. */
  readonly secretName: string;
  /** The regions besides this stack's whose APIs check the proof: each gets a replica. */
  readonly replicaRegions: readonly string[];
  /** Key of the rotation function's logs. */
  readonly logEncryptionKey: kms.IKey;
  /** @default Duration.days(30) */
  readonly rotateEvery?: Duration;
  /** @default logs.RetentionDays.ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * The proof of origin CloudFront adds to every API request: a random secret in Secrets
 * Manager, replicated to every serving region (where the regional APIs' authorizer reads it),
 * sent by CloudFront as the `x-origin-verify` origin header, and rotated on a schedule by a
 * function that gives CloudFront the new value. The template carries a dynamic reference,
 * never the value; whoever may read the distribution's configuration can read it, as with any
 * origin custom header.
 *
 * Cost: about USD 0.40 a month for the secret and as much per replica, plus the authorizer's
 * reads (cached for 5 minutes). Residency: the secret is the platform's own, not a customer's;
 * its replicas in EU regions carry no personal data.
 */
export class OriginVerification extends Construct {
  readonly secret: secretsmanager.Secret;
  /** The regions holding a replica: every serving region but this stack's. */
  readonly replicaRegions: readonly string[];
  private readonly props: OriginVerificationProps;

  constructor(scope: Construct, id: string, props: OriginVerificationProps) {
    super(scope, id);
    this.props = props;
    const here = Stack.of(this).region;
    this.replicaRegions = props.replicaRegions.filter((region) => region !== here);
    this.secret = new secretsmanager.Secret(this, 'Secret', {
      secretName: props.secretName,
      description: `Proof of origin CloudFront sends to the regional APIs (${ORIGIN_PROOF_HEADER})`,
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
      replicaRegions: this.replicaRegions.map((region) => ({ region })),
    });
  }

  /**
   * The header to add to an API origin: the value is a CloudFormation dynamic reference,
   * resolved when the distribution is deployed, so it appears in no template or output.
   */
  get originHeaders(): Record<string, string> {
    return { [ORIGIN_PROOF_HEADER]: this.secret.secretValue.unsafeUnwrap() };
  }

  /**
   * Rotates the secret on a schedule with a function that sets the new value on every origin
   * of `distribution` that carries the header. Not at once on deploy: the first deploy's value
   * is the one CloudFront gets from the dynamic reference.
   */
  rotateWith(distribution: cloudfront.IDistribution): void {
    const rotation = new NodeFunction(this, 'RotationFunction', {
      entry: path.join(__dirname, '..', '..', 'lambda', 'origin-secret-rotation', 'handler.ts'),
      memorySize: 256,
      // The test step waits for CloudFront to deploy the new value to every edge location.
      timeout: Duration.minutes(15),
      logGroup: new logs.LogGroup(this, 'RotationLogs', {
        retention: this.props.logRetention ?? logs.RetentionDays.ONE_YEAR,
        encryptionKey: this.props.logEncryptionKey,
      }),
      environment: { DISTRIBUTION_ID: distribution.distributionId } satisfies OriginRotationEnvironment,
    });
    rotation.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['cloudfront:GetDistribution', 'cloudfront:GetDistributionConfig', 'cloudfront:UpdateDistribution'],
        resources: [distribution.distributionArn],
      }),
    );

    acknowledgeExecutionRole(rotation);
    this.secret.addRotationSchedule('Rotation', {
      rotationLambda: rotation,
      automaticallyAfter: this.props.rotateEvery ?? Duration.days(30),
      rotateImmediatelyOnUpdate: false,
    });
    // Only Secrets Manager acting for this account may invoke it (confused deputy).
    for (const child of rotation.node.children) {
      if (child instanceof lambda.CfnPermission && child.principal === 'secretsmanager.amazonaws.com') {
        child.sourceAccount = Stack.of(this).account;
      }
    }
    const policy = rotation.role?.node.tryFindChild('DefaultPolicy');
    if (policy) {
      Validations.of(policy).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          "Only secretsmanager:GetRandomPassword is on '*': it has no resource type to scope to (it returns random characters and touches no secret). Every other statement names one resource: the secret, the distribution or the function's log group.",
      });
    }
    Validations.of(rotation.node.defaultChild as lambda.CfnFunction).acknowledge({
      id: 'cdk-validator-cfnguard::lambda_inside_vpc_check',
      reason:
        "Outside a VPC on purpose: the edge stack has none, and the function calls only CloudFront's and Secrets Manager's public APIs; it reads or writes no store.",
    });
  }
}

/**
 * Lets `grantee` read the value of its region's replica of the origin secret, found by name
 * (a secret's ARN ends in six random characters), and nothing else.
 */
export function grantOriginSecretRead(grantee: iam.IGrantable & IConstruct, secretName: string): void {
  iam.Grant.addToPrincipal({
    grantee,
    actions: ['secretsmanager:GetSecretValue'],
    resourceArns: [secretArnIn(grantee, Stack.of(grantee).region, secretName)],
  });
}

/** The ARN of secret `secretName` in `region` (its last six characters are random). */
function secretArnIn(scope: IConstruct, region: string, secretName: string): string {
  return Stack.of(scope).formatArn({
    service: 'secretsmanager',
    region,
    resource: 'secret',
    resourceName: `${secretName}-??????`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}
