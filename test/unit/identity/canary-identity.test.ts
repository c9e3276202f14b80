import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { CANARY_IDENTITY_COGNITO_ACTIONS, CanaryIdentity } from '../../../lib/identity/canary-identity';
import { oneStack, TEST_ACCOUNT } from '../../support/one-stack';
import { only, onlyOfType, resourcesOf } from '../../support/templates';

const REGION = 'eu-central-1';
const POOL_ARN = `arn:aws:cognito-idp:eu-west-1:${TEST_ACCOUNT}:userpool/eu-west-1_AbCdEfGhI`;
const USERNAME = `canary-${REGION}@shop.example.com`;

type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };
const asList = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

describe('CanaryIdentity', () => {
  // given a stateless stack in a secondary region, the pool of the jurisdiction's primary
  // region and the region's replica of the table; when the canary identity is built
  const { stack } = oneStack({ region: REGION });
  const userPool = cognito.UserPool.fromUserPoolArn(stack, 'Pool', POOL_ARN);
  const userPoolClient = cognito.UserPoolClient.fromUserPoolClientId(stack, 'Client', 'webclient123');
  const key = new kms.Key(stack, 'OperationsKey', { enableKeyRotation: true });
  const tableKey = new kms.Key(stack, 'DataKey', { enableKeyRotation: true });
  const productTable = dynamodb.TableV2.fromTableAttributes(stack, 'Table', {
    tableName: 'Commerce-eu-eventual',
    encryptionKey: tableKey,
  });
  const identity = new CanaryIdentity(stack, 'CanaryIdentity', {
    userPool,
    userPoolClient,
    username: USERNAME,
    productTable,
    productSku: 'CANARY-1',
    productCurrency: 'EUR',
    encryptionKey: key,
  });
  // then
  const template = Template.fromStack(stack);
  const functionId = stack.getLogicalId(identity.function.node.defaultChild as lambda.CfnFunction);
  const secretId = stack.getLogicalId(identity.secret.node.defaultChild as secretsmanager.CfnSecret);
  const roleId = stack.getLogicalId(identity.function.role?.node.defaultChild as iam.CfnRole);

  function roleStatements(): Statement[] {
    return Object.values(resourcesOf(template, 'AWS::IAM::Policy'))
      .filter((policy) => JSON.stringify(policy.Properties?.Roles).includes(`"${roleId}"`))
      .flatMap(
        (policy) => (policy.Properties?.PolicyDocument as { Statement?: Statement[] } | undefined)?.Statement ?? [],
      );
  }

  test('a trigger runs the enrolment on the current version of the function, after the function and the secret', () => {
    const [triggerId, trigger] = onlyOfType(template, 'Custom::Trigger');
    expect(trigger.Properties).toMatchObject({
      HandlerArn: { Ref: expect.stringMatching(/^CanaryIdentityFunctionCurrentVersion/) },
      InvocationType: 'RequestResponse',
      ExecuteOnHandlerChange: true,
      Timeout: '180000',
      SecretArn: { Ref: secretId },
      UserPoolArn: POOL_ARN,
      Username: USERNAME,
    });
    const dependsOn = (template.toJSON().Resources[triggerId].DependsOn ?? []) as string[];
    expect(dependsOn).toEqual(expect.arrayContaining([functionId, secretId]));
    // After the function's policy too: the enrolment needs its permissions in place.
    expect(dependsOn.some((id) => id.startsWith('CanaryIdentityFunctionServiceRoleDefaultPolicy'))).toBe(true);
    // The version (what the trigger invokes) is of this function.
    const [, version] = onlyOfType(template, 'AWS::Lambda::Version');
    expect(version.Properties.FunctionName).toEqual({ Ref: functionId });
  });

  test('the function runs outside the VPC with the environment contract, its logs kept a year under the key', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Timeout: 120,
      VpcConfig: Match.absent(),
      Environment: {
        Variables: {
          USER_POOL_ID: 'eu-west-1_AbCdEfGhI',
          USER_POOL_CLIENT_ID: 'webclient123',
          USER_POOL_REGION: 'eu-west-1',
          CANARY_USERNAME: USERNAME,
          CANARY_SECRET_ARN: { Ref: secretId },
          EVENTUAL_TABLE: 'Commerce-eu-eventual',
          CANARY_SKU: 'CANARY-1',
          CANARY_CURRENCY: 'EUR',
        },
      },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      RetentionInDays: 365,
      KmsKeyId: { 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as kms.CfnKey), 'Arn'] },
    });
  });

  test('IAM: the Admin actions on the one pool, PutItem on the canary product only, the one secret', () => {
    const statements = roleStatements();
    const byAction = (action: string) => statements.filter((s) => asList(s.Action).includes(action));
    // AdminDeleteUser: a user with an authenticator nobody holds is deleted and created again
    // (a pool that requires MFA cannot switch its TOTP off).
    const cognitoActions = [
      'cognito-idp:AdminCreateUser',
      'cognito-idp:AdminDeleteUser',
      'cognito-idp:AdminInitiateAuth',
      'cognito-idp:AdminRespondToAuthChallenge',
      'cognito-idp:AdminSetUserMFAPreference',
      'cognito-idp:AdminSetUserPassword',
    ];
    expect([...CANARY_IDENTITY_COGNITO_ACTIONS].sort()).toEqual(cognitoActions);
    expect(byAction('cognito-idp:AdminDeleteUser')).toEqual([
      { Effect: 'Allow', Action: cognitoActions, Resource: POOL_ARN },
    ]);
    expect(statements.flatMap((s) => asList(s.Action)).filter((a) => a.startsWith('cognito-idp:'))).toEqual(
      cognitoActions,
    );
    expect(byAction('dynamodb:PutItem')).toEqual([
      {
        Effect: 'Allow',
        Action: 'dynamodb:PutItem',
        Resource: expect.anything(),
        Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['PRODUCT#CANARY-1'] } },
      },
    ]);
    expect(statements.flatMap((s) => asList(s.Action)).filter((a) => a.startsWith('dynamodb:'))).toEqual([
      'dynamodb:PutItem',
    ]);
    for (const action of ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue']) {
      expect(byAction(action).map((s) => s.Resource)).toEqual([{ Ref: secretId }]);
    }
    // The only '*': GetRandomPassword, which has no resource.
    const onEverything = statements.filter((s) => asList(s.Resource).includes('*'));
    expect(onEverything.flatMap((s) => asList(s.Action))).toEqual(['secretsmanager:GetRandomPassword']);
  });

  test("its role writes its own log group only; the trigger provider's logs are under the same key", () => {
    const logGroupId = stack.getLogicalId(identity.function.logGroup.node.defaultChild as kms.CfnKey);
    expect(roleStatements().filter((s) => asList(s.Action).some((a) => a.startsWith('logs:')))).toEqual([
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: { 'Fn::GetAtt': [logGroupId, 'Arn'] },
      },
    ]);
    const keyArn = { 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as kms.CfnKey), 'Arn'] };
    const [, providerGroup] = only(
      resourcesOf(template, 'AWS::Logs::LogGroup'),
      'AWSCDKTriggerCustomResourceProviderCustomResourceProviderLogs',
    );
    expect(providerGroup).toEqual({ KmsKeyId: keyArn, RetentionInDays: 365 });
  });

  test("the KMS families' acknowledgement names the keys the role's policy holds, the table's alone here", () => {
    const role = identity.function.role as iam.Role;
    const reasons = Object.assign({}, ...role.node.metadata.map((entry) => entry.data as object)) as Record<
      string,
      string
    >;
    const reason = Object.entries(reasons).find(([id]) => id.includes('kms:GenerateDataKey*'))?.[1] ?? '';
    expect(reason).toContain("the table's key");
    // The secret's key is in this stack: its grant is in that key's policy, not the role's.
    expect(reason).not.toContain("the secret's key");
  });

  test('the password rotates every 30 days with the same function, not at creation, after the enrolment', () => {
    const [rotationId, rotation] = onlyOfType(template, 'AWS::SecretsManager::RotationSchedule');
    expect(rotation.Properties).toEqual({
      SecretId: { Ref: secretId },
      RotationLambdaARN: { 'Fn::GetAtt': [functionId, 'Arn'] },
      RotationRules: { ScheduleExpression: 'rate(30 days)' },
      RotateImmediatelyOnUpdate: false,
    });
    const [triggerId] = onlyOfType(template, 'Custom::Trigger');
    expect(template.toJSON().Resources[rotationId].DependsOn).toEqual(expect.arrayContaining([triggerId]));
    template.hasResourceProperties('AWS::Lambda::Permission', {
      FunctionName: { 'Fn::GetAtt': [functionId, 'Arn'] },
      Principal: 'secretsmanager.amazonaws.com',
      SourceAccount: TEST_ACCOUNT,
    });
  });

  test('no credential in the template: the secret value is generated at deploy time', () => {
    const [, secret] = onlyOfType(template, 'AWS::SecretsManager::Secret');
    expect(secret.Properties.SecretString).toBeUndefined();
    expect(secret.Properties.GenerateSecretString).toEqual({});
    expect(secret.Properties.KmsKeyId).toEqual({
      'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as kms.CfnKey), 'Arn'],
    });
    const json = JSON.stringify(template.toJSON());
    expect(json).not.toMatch(/"(password|totpSecret)"\s*:/i);
    expect(json).not.toMatch(/"SecretString"/);
    expect(template.toJSON().Outputs ?? {}).toEqual({});
  });
});
