import { buildPlatform, resourcesOf } from '../../support/platform';

// The VPC's endpoints are its only ways to AWS services (no NAT, no internet gateway): each
// has a policy, and none lets data out to another account.
const built = buildPlatform();
const endpoints = Object.entries(built.templates).flatMap(([stack, template]) =>
  Object.entries(resourcesOf(template, 'AWS::EC2::VPCEndpoint')).map(([id, resource]) => ({
    stack,
    id,
    properties: resource.Properties as any,
  })),
);

test('every VPC endpoint of every stack has a policy, and every statement is limited to this account', () => {
  expect(endpoints.length).toBeGreaterThan(0);
  for (const { stack, id, properties } of endpoints) {
    const statements = properties.PolicyDocument?.Statement;
    expect([stack, id, Array.isArray(statements) && statements.length > 0]).toEqual([stack, id, true]);
    for (const statement of statements) {
      const accountConditions = JSON.stringify(statement.Condition ?? {});
      const namesOwnResources = JSON.stringify(statement.Resource).includes('123456789012');
      expect([
        stack,
        id,
        statement.Sid,
        /aws:(Resource|Principal)Account/.test(accountConditions) || namesOwnResources,
      ]).toEqual([stack, id, statement.Sid, true]);
    }
  }
});

test("the DynamoDB gateway endpoint allows the functions' item calls on this account's tables only", () => {
  const dynamodb = endpoints.filter((e) => e.id.startsWith('DynamoDbEndpoint'));
  expect(dynamodb.map((e) => e.stack).sort()).toEqual(
    ['ap-southeast-1', 'eu-central-1', 'eu-west-1', 'us-east-1'].map((r) => `Commerce-${r}-Stateless`).sort(),
  );
  for (const { properties } of dynamodb) {
    expect(properties.PolicyDocument.Statement).toEqual([
      {
        Sid: 'ThisAccountsTablesOnly',
        Effect: 'Allow',
        Principal: { AWS: '*' },
        Action: [
          'dynamodb:DeleteItem',
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:Query',
          'dynamodb:UpdateItem',
        ],
        Resource: '*',
        Condition: { StringEquals: { 'aws:ResourceAccount': '123456789012' } },
      },
    ]);
  }
});

test("no API function may use the region's data key except through DynamoDB in its region", () => {
  for (const region of ['ap-southeast-1', 'eu-central-1', 'eu-west-1', 'us-east-1']) {
    const template = built.templates[`Commerce-${region}-Stateless`];
    if (!template) throw new Error(`no stateless stack in ${region}`);
    const apiPolicies = Object.entries(resourcesOf(template, 'AWS::IAM::Policy')).filter(([id]) =>
      /^Api(Health|Products|Likes|Profile|Cart|Orders)Function/.test(id),
    );
    expect(apiPolicies.length).toBeGreaterThan(0);
    const keyStatements = apiPolicies.flatMap(([, policy]) =>
      ((policy.Properties as any).PolicyDocument.Statement as any[]).filter((s) =>
        [s.Action].flat().some((a: string) => a.startsWith('kms:')),
      ),
    );
    expect(keyStatements.length).toBeGreaterThan(0);
    for (const statement of keyStatements) {
      expect(statement.Condition).toEqual({ StringEquals: { 'kms:ViaService': `dynamodb.${region}.amazonaws.com` } });
    }
  }
});
