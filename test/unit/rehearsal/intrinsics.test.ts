import { DeployedApp, type DeployedStack } from '../../../local/rehearsal/intrinsics';

const ACCOUNT = '123456789012';

function stack(name: string, region: string, template: DeployedStack['template']): DeployedStack {
  return { name, region, account: ACCOUNT, template };
}

const primary = stack('Primary', 'eu-west-1', {
  Resources: {
    Pool: { Type: 'AWS::Cognito::UserPool' },
    Key: { Type: 'AWS::KMS::Key' },
    Proxy: { Type: 'AWS::RDS::DBProxy' },
    Table: { Type: 'AWS::DynamoDB::GlobalTable', Properties: { TableName: 'shop-eu' } },
  },
  Outputs: {
    PoolId: { Value: { Ref: 'Pool' } },
    KeyArn: { Value: { 'Fn::GetAtt': ['Key', 'Arn'] }, Export: { Name: 'key-arn' } },
  },
});
const secondary = stack('Secondary', 'eu-central-1', {
  Resources: { Group: { Type: 'AWS::EC2::SecurityGroup' } },
});
const app = new DeployedApp([primary, secondary]);

test('a reference to another region resolves to the value the exporting stack has there', () => {
  expect(
    app.resolve(secondary, {
      'Fn::GetStackOutput': { StackName: 'Primary', Region: 'eu-west-1', OutputName: 'PoolId' },
    }),
  ).toBe('eu-west-1_Pool');
  expect(app.resolve(secondary, { 'Fn::ImportValue': 'key-arn' })).toBe(
    `arn:aws:kms:eu-west-1:${ACCOUNT}:key/primary-key`,
  );
});

test('joins, splits, selects and substitutions resolve as CloudFormation evaluates them', () => {
  const proxyId = {
    'Fn::Select': [6, { 'Fn::Split': [':', { 'Fn::GetAtt': ['Proxy', 'DBProxyArn'] }] }],
  };
  expect(app.resolve(primary, { 'Fn::Join': ['', ['dbuser:', proxyId, '/app']] })).toBe('dbuser:prx-primary-proxy/app');
  expect(
    app.resolve(primary, {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's own substitution syntax
      'Fn::Sub': 'arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${Table}',
    }),
  ).toBe(`arn:aws:dynamodb:eu-west-1:${ACCOUNT}:table/shop-eu`);
  expect(app.resolve(primary, { 'Fn::GetAtt': ['Table', 'Arn'] })).toBe(
    `arn:aws:dynamodb:eu-west-1:${ACCOUNT}:table/shop-eu`,
  );
  expect(app.resolve(secondary, { 'Fn::GetAtt': ['Group', 'GroupId'] })).toBe(app.resolve(secondary, { Ref: 'Group' }));
});

test('a reference to a resource the template lacks fails, naming the stack', () => {
  expect(() => app.resolve(secondary, { Ref: 'Missing' })).toThrow('Secondary: Ref to unknown Missing');
  expect(() => app.resolve(secondary, { 'Fn::Transform': {} })).toThrow('Secondary: cannot resolve Fn::Transform');
});

test('resources of a type are listed per region, resolved', () => {
  expect(
    app.resourcesIn('eu-west-1', 'AWS::DynamoDB::GlobalTable').map(({ id, props }) => [id, props.TableName]),
  ).toEqual([['Table', 'shop-eu']]);
  expect(app.resourcesIn('eu-central-1', 'AWS::DynamoDB::GlobalTable')).toEqual([]);
});
