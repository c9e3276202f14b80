import { referencedIds, resourceTypesOf, sliceTemplate } from '../../../lib/compliance/template-slice';

/** CloudFormation's `${Name}` syntax, written so that it reads as no JavaScript template. */
const sub = (...names: string[]) => names.map((name) => `$\{${name}}`).join('/');

const template = {
  AWSTemplateFormatVersion: '2010-09-09',
  Parameters: { BootstrapVersion: { Type: 'String' } },
  Resources: {
    Fn: {
      Type: 'AWS::Lambda::Function',
      Properties: {
        Role: { 'Fn::GetAtt': ['FnRole', 'Arn'] },
        VpcConfig: { SubnetIds: [{ Ref: 'Subnet' }], SecurityGroupIds: [{ 'Fn::GetAtt': 'Sg.GroupId' }] },
      },
      DependsOn: ['FnPolicy'],
    },
    FnRole: { Type: 'AWS::IAM::Role', Properties: { Path: { 'Fn::Sub': sub('Vpc', '!Literal', 'Key.Arn') } } },
    FnPolicy: { Type: 'AWS::IAM::Policy' },
    Subnet: { Type: 'AWS::EC2::Subnet', Properties: { VpcId: { Ref: 'Vpc' } } },
    Sg: { Type: 'AWS::EC2::SecurityGroup' },
    Vpc: { Type: 'AWS::EC2::VPC' },
    Key: { Type: 'AWS::KMS::Key' },
    Bucket: { Type: 'AWS::S3::Bucket' },
    Unrelated: { Type: 'AWS::SNS::Topic', Properties: { KmsMasterKeyId: { Ref: 'Key' } } },
  },
  Outputs: { Out: { Value: { Ref: 'Bucket' } } },
};

describe('template slices for Control Tower rules', () => {
  test('given rules that select functions, the slice holds the functions and everything they reach', () => {
    // when
    const slice = sliceTemplate(template, new Set(['AWS::Lambda::Function']));
    // then: the role, policy, subnet, security group, and what those reach (the VPC, the key)
    expect(Object.keys(slice.Resources ?? {}).sort()).toEqual([
      'Fn',
      'FnPolicy',
      'FnRole',
      'Key',
      'Sg',
      'Subnet',
      'Vpc',
    ]);
  });

  test('given rules of a type the template lacks, the slice has no resource but every other section', () => {
    // when
    const slice = sliceTemplate(template, new Set(['AWS::RDS::DBCluster']));
    // then
    expect(slice.Resources).toEqual({});
    expect(slice.Parameters).toEqual(template.Parameters);
    expect(slice.Outputs).toEqual(template.Outputs);
    expect(slice.AWSTemplateFormatVersion).toBe('2010-09-09');
  });

  test('a resource referring to a selected one is not pulled in: references are followed outwards only', () => {
    // when
    const slice = sliceTemplate(template, new Set(['AWS::KMS::Key']));
    // then
    expect(Object.keys(slice.Resources ?? {})).toEqual(['Key']);
  });

  test('references: Ref, both forms of Fn::GetAtt, Fn::Sub names but not escaped ones, DependsOn', () => {
    expect([...referencedIds(template.Resources.Fn)].sort()).toEqual(['FnPolicy', 'FnRole', 'Sg', 'Subnet']);
    expect([...referencedIds(template.Resources.FnRole)].sort()).toEqual(['Key', 'Vpc']);
    expect([...referencedIds({ 'Fn::Sub': [sub('A', 'B.Arn'), { B: 'x' }] })].sort()).toEqual(['A', 'B']);
  });

  test('resource types present in a template', () => {
    expect(resourceTypesOf(template).has('AWS::S3::Bucket')).toBe(true);
    expect(resourceTypesOf(template).has('AWS::RDS::DBCluster')).toBe(false);
    expect(resourceTypesOf({}).size).toBe(0);
  });
});
