import { Template } from 'aws-cdk-lib/assertions';
import { resolveTopology } from '../../../lib/config/topology';
import { EdgeStack } from '../../../lib/stacks/edge-stack';
import { TEST_ACCOUNT, testApp } from '../../support/one-stack';
import { onlyOfType, resourcesOf } from '../../support/templates';

// The edge stack needs nothing from another stack: it is tested alone, in the region the
// platform gives it (that the platform gives it us-east-1 is asserted on the whole app).
describe('EdgeStack', () => {
  // given the default topology
  const topology = resolveTopology({}, 'test');
  // when the edge stack is built on its own
  const stack = new EdgeStack(testApp('us-east-1'), 'Commerce-Edge', {
    env: { account: TEST_ACCOUNT, region: 'us-east-1' },
    topology,
  });
  const edge = Template.fromStack(stack);
  const distribution = () =>
    Object.values(resourcesOf(edge, 'AWS::CloudFront::Distribution'))[0]?.Properties?.DistributionConfig as any;

  // then
  test('the site certificate is issued for the site hostnames, and the distribution takes only TLS 1.2 and SNI', () => {
    edge.hasResourceProperties('AWS::CertificateManager::Certificate', {
      DomainName: 'shop.example.com',
      SubjectAlternativeNames: ['www.shop.example.com'],
      ValidationMethod: 'DNS',
    });
    expect(distribution().ViewerCertificate).toMatchObject({
      MinimumProtocolVersion: 'TLSv1.2_2021',
      SslSupportMethod: 'sni-only',
    });
  });

  test('static assets come from a private bucket through origin access control, cached', () => {
    const config = distribution();
    const s3Origin = config.Origins.find((o: any) => o.Id === config.DefaultCacheBehavior.TargetOriginId);
    expect(s3Origin.S3OriginConfig).toEqual({ OriginAccessIdentity: '' });
    expect(s3Origin.OriginAccessControlId).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/OriginAccessControl/), 'Id'],
    });
    expect(config.DefaultCacheBehavior.CachePolicyId).toBe('658327ea-f89d-4fab-a63d-7e88639e58f6'); // CachingOptimized
    const buckets = Object.values(resourcesOf(edge, 'AWS::S3::Bucket'));
    expect(buckets).toHaveLength(2);
    for (const bucket of buckets) {
      expect(bucket.Properties?.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(bucket.Properties?.BucketEncryption).toBeDefined();
    }
  });

  test('/api/* goes to the API hostname over TLS and is never cached', () => {
    const config = distribution();
    const behaviors = config.CacheBehaviors as any[];
    expect(behaviors.map((b) => b.PathPattern)).toEqual(['/api/*']);
    const api = behaviors[0];
    expect(api.CachePolicyId).toBe('4135ea2d-6df8-44a3-9df3-4b5a84be39ad'); // CachingDisabled
    expect(api.OriginRequestPolicyId).toBe('b689b0a8-53d0-40ab-baf2-68738e2966ac'); // AllViewerExceptHostHeader
    expect(api.AllowedMethods).toEqual(expect.arrayContaining(['GET', 'POST', 'PUT', 'DELETE']));
    expect(api.ViewerProtocolPolicy).toBe('https-only');
    const origin = config.Origins.find((o: any) => o.Id === api.TargetOriginId);
    expect(origin.DomainName).toBe('api.shop.example.com');
    expect(origin.CustomOriginConfig).toMatchObject({
      OriginProtocolPolicy: 'https-only',
      OriginSSLProtocols: ['TLSv1.2'],
    });
  });

  test('a CLOUDFRONT-scope web ACL with AWS managed rule groups and a per-IP rate rule protects the distribution', () => {
    edge.resourceCountIs('AWS::WAFv2::WebACL', 1);
    const [aclId, acl] = onlyOfType(edge, 'AWS::WAFv2::WebACL');
    expect(acl.Properties.Scope).toBe('CLOUDFRONT');
    const rules = acl.Properties.Rules as any[];
    expect(
      rules.filter((r) => r.Statement.ManagedRuleGroupStatement).map((r) => r.Statement.ManagedRuleGroupStatement.Name),
    ).toEqual([
      'AWSManagedRulesCommonRuleSet',
      'AWSManagedRulesKnownBadInputsRuleSet',
      'AWSManagedRulesAmazonIpReputationList',
    ]);
    expect(rules.find((r) => r.Statement.RateBasedStatement)).toMatchObject({
      Action: { Block: {} },
      Statement: { RateBasedStatement: { AggregateKeyType: 'IP', Limit: 2000 } },
    });
    expect(distribution().WebACLId).toEqual({ 'Fn::GetAtt': [aclId, 'Arn'] });
  });

  test('the site hostnames alias the distribution over IPv4 and IPv6', () => {
    const records = Object.values(resourcesOf(edge, 'AWS::Route53::RecordSet')).map((r) => r.Properties as any);
    expect(records.map((r) => `${r.Type} ${r.Name}`).sort()).toEqual([
      'A shop.example.com.',
      'A www.shop.example.com.',
      'AAAA shop.example.com.',
      'AAAA www.shop.example.com.',
    ]);
    for (const record of records) {
      expect(record.AliasTarget.DNSName).toEqual({
        'Fn::GetAtt': [expect.stringMatching(/^Distribution/), 'DomainName'],
      });
    }
  });

  test('the distribution runs the residency router on every API request, as a JavaScript 2.0 viewer-request function', () => {
    edge.resourceCountIs('AWS::CloudFront::Function', 1);
    const [functionId, fn] = onlyOfType(edge, 'AWS::CloudFront::Function');
    expect(fn.Properties.FunctionConfig.Runtime).toBe('cloudfront-js-2.0');
    expect(fn.Properties.FunctionCode).toContain('eu.api.shop.example.com');
    const api = distribution().CacheBehaviors.find((b: any) => b.PathPattern === '/api/*');
    expect(api.FunctionAssociations).toEqual([
      { EventType: 'viewer-request', FunctionARN: { 'Fn::GetAtt': [functionId, 'FunctionARN'] } },
    ]);
  });
});
