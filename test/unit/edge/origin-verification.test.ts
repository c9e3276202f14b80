import { Template } from 'aws-cdk-lib/assertions';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { grantOriginSecretRead, OriginVerification } from '../../../lib/edge/origin-verification';
import { oneStack } from '../../support/one-stack';
import { resourcesOf } from '../../support/templates';

// The proof of origin: a replicated secret, sent by CloudFront as an origin header without
// its value in the template, rotated by a function that may touch only that distribution.

function build() {
  // given the edge's stack (us-east-1) and a distribution whose API origin carries the header
  const { stack } = oneStack({ region: 'us-east-1' });
  const verification = new OriginVerification(stack, 'OriginVerification', {
    secretName: 'Commerce/origin-verify',
    replicaRegions: ['us-east-1', 'ap-southeast-1', 'eu-west-1'],
    logEncryptionKey: new kms.Key(stack, 'Key'),
  });
  const distribution = new cloudfront.Distribution(stack, 'Distribution', {
    defaultBehavior: {
      origin: new origins.HttpOrigin('api.shop.example.com', { customHeaders: verification.originHeaders }),
    },
  });
  // when
  verification.rotateWith(distribution);
  return { stack, verification, distribution, template: Template.fromStack(stack) };
}

test('one secret, named for the regional APIs, replicated to every other serving region', () => {
  const { template } = build();
  const secrets = Object.values(resourcesOf(template, 'AWS::SecretsManager::Secret')).map((s) => s.Properties as any);
  expect(secrets).toEqual([
    expect.objectContaining({
      Name: 'Commerce/origin-verify',
      GenerateSecretString: { PasswordLength: 48, ExcludePunctuation: true },
      ReplicaRegions: [{ Region: 'ap-southeast-1' }, { Region: 'eu-west-1' }],
    }),
  ]);
});

test('CloudFront sends the header by dynamic reference: the value is in no template', () => {
  const { stack, template } = build();
  const distributions = Object.values(resourcesOf(template, 'AWS::CloudFront::Distribution'));
  expect(distributions).toHaveLength(1);
  const [origin] = (distributions[0] as { Properties: any }).Properties.DistributionConfig.Origins;
  const [header] = origin.OriginCustomHeaders;
  expect(header.HeaderName).toBe('x-origin-verify');
  const value = JSON.stringify(stack.resolve(header.HeaderValue));
  expect(value).toContain('{{resolve:secretsmanager:');
  expect(value).toContain(':SecretString:::}}');
});

test('rotated every 30 days by its function, not on deploy; only Secrets Manager of this account may invoke it', () => {
  const { template } = build();
  template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
    RotateImmediatelyOnUpdate: false,
    RotationRules: { ScheduleExpression: 'rate(30 days)' },
  });
  template.hasResourceProperties('AWS::Lambda::Permission', {
    Principal: 'secretsmanager.amazonaws.com',
    SourceAccount: '123456789012',
  });
});

test('the rotation function may change only the one distribution and the one secret, and nothing in other regions', () => {
  const { stack, template } = build();
  const statements = Object.values(resourcesOf(template, 'AWS::IAM::Policy')).flatMap(
    (p) => (p.Properties as any).PolicyDocument.Statement,
  );
  const cloudfrontStatement = statements.find((s: any) => [s.Action].flat().includes('cloudfront:UpdateDistribution'));
  expect(cloudfrontStatement.Action).toEqual([
    'cloudfront:GetDistribution',
    'cloudfront:GetDistributionConfig',
    'cloudfront:UpdateDistribution',
  ]);
  const replicaReads = statements
    .filter((s: any) => [s.Action].flat().includes('secretsmanager:GetSecretValue'))
    .flatMap((s: any) => [s.Resource].flat())
    .filter((resource: unknown) => typeof resource === 'string');
  // It learns whether the replicas are in sync from the secret's own description (DescribeSecret).
  expect(replicaReads).toEqual([]);
  expect(JSON.stringify(stack.resolve(cloudfrontStatement.Resource))).toContain(':distribution/');
  const wildcard = statements.filter((s: any) => s.Resource === '*').flatMap((s: any) => [s.Action].flat());
  expect(wildcard).toEqual(['secretsmanager:GetRandomPassword']);
});

test("a reader gets GetSecretValue on its region's replica, by name, and nothing else", () => {
  const { stack } = oneStack({ region: 'eu-west-1' });
  const fn = new lambda.Function(stack, 'Fn', {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({})'),
  });
  grantOriginSecretRead(fn, 'Commerce/origin-verify');
  Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
    PolicyDocument: {
      Statement: [
        {
          Action: 'secretsmanager:GetSecretValue',
          Effect: 'Allow',
          Resource: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:Commerce/origin-verify-??????',
        },
      ],
    },
  });
});
