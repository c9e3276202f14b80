import { buildPlatform, resourcesOf } from '../support/platform';

const activeActive = buildPlatform();
const activePassive = buildPlatform({ deploymentModel: 'active-passive' });
const REGIONS = ['us-east-1', 'ap-southeast-1', 'eu-west-1', 'eu-central-1'];
const JURISDICTION: Record<string, string> = {
  'us-east-1': 'global',
  'ap-southeast-1': 'global',
  'eu-west-1': 'eu',
  'eu-central-1': 'eu',
};

type RecordProps = {
  Name: string;
  Region?: string;
  SetIdentifier?: string;
  Failover?: string;
  HealthCheckId?: unknown;
  AliasTarget: { DNSName: unknown; EvaluateTargetHealth?: boolean };
};

function recordsOf(built: ReturnType<typeof buildPlatform>, region: string) {
  const t = built.templates[`Commerce-${region}-Stateless`];
  if (!t) throw new Error(`no stateless stack in ${region}`);
  return Object.values(resourcesOf(t, 'AWS::Route53::RecordSet')).map((r) => r.Properties as RecordProps);
}

describe('active-active routing', () => {
  test.each(REGIONS)(
    '%s publishes latency records for the shared and its jurisdiction hostname, tied to its health check',
    (region) => {
      const t = activeActive.templates[`Commerce-${region}-Stateless`];
      const healthChecks = resourcesOf(t as never, 'AWS::Route53::HealthCheck');
      // The region's own check, and its writer check (see the operations tests).
      expect(Object.keys(healthChecks)).toHaveLength(2);
      const [healthCheckId, healthCheck] = Object.entries(healthChecks).find(([id]) =>
        id.startsWith('DnsHealthCheck'),
      ) as [string, { Properties: any }];
      expect(healthCheck.Properties.HealthCheckConfig).toMatchObject({
        Type: 'HTTPS',
        ResourcePath: '/api/health',
        Port: 443,
        FullyQualifiedDomainName: {
          'Fn::Join': [
            '',
            [{ Ref: expect.stringMatching(/^ApiHttpApi/) }, `.execute-api.${region}.`, { Ref: 'AWS::URLSuffix' }],
          ],
        },
      });
      const records = recordsOf(activeActive, region).filter((r) => !r.Name.startsWith('writer.'));
      expect(records.map((r) => [r.Name, r.Region, r.SetIdentifier, r.HealthCheckId])).toEqual([
        ['api.shop.example.com.', region, region, { Ref: healthCheckId }],
        [`${JURISDICTION[region]}.api.shop.example.com.`, region, region, { Ref: healthCheckId }],
      ]);
      for (const record of records) expect(record.Failover).toBeUndefined();
    },
  );

  test('each regional API answers to the shared and its jurisdiction hostname with a regional certificate', () => {
    const t = activeActive.templates['Commerce-eu-central-1-Stateless'];
    t?.hasResourceProperties('AWS::CertificateManager::Certificate', {
      DomainName: 'api.shop.example.com',
      SubjectAlternativeNames: ['eu.api.shop.example.com', 'writer.eu.api.shop.example.com'],
      ValidationMethod: 'DNS',
    });
    const names = Object.values(resourcesOf(t as never, 'AWS::ApiGatewayV2::DomainName')).map(
      (d) => d.Properties as any,
    );
    expect(names.map((d) => d.DomainName)).toEqual([
      'api.shop.example.com',
      'eu.api.shop.example.com',
      // The writer API's own domain (see test/operations).
      'writer.eu.api.shop.example.com',
    ]);
    for (const d of names)
      expect(d.DomainNameConfigurations[0]).toMatchObject({ EndpointType: 'REGIONAL', SecurityPolicy: 'TLS_1_2' });
  });

  test('only health, product and like-count reads are public; every other route needs the jurisdiction user pool token', () => {
    const t = activeActive.templates['Commerce-ap-southeast-1-Stateless'];
    // The public API's routes; the writer API's are asserted in test/operations.
    const routes = Object.values(resourcesOf(t as never, 'AWS::ApiGatewayV2::Route'))
      .map((r) => r.Properties as any)
      .filter((r) => r.ApiId.Ref.startsWith('ApiHttpApi'));
    const publicRoutes = routes.filter((r) => r.AuthorizationType === 'NONE').map((r) => r.RouteKey);
    expect(publicRoutes.sort()).toEqual([
      'GET /api/health',
      'GET /api/products/{sku}',
      'GET /api/products/{sku}/likes',
    ]);
    expect(routes.filter((r) => r.AuthorizationType === 'CUSTOM')).toHaveLength(9);
    t?.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'REQUEST',
      AuthorizerPayloadFormatVersion: '2.0',
      EnableSimpleResponses: true,
      IdentitySource: ['$request.header.Authorization'],
    });
    // The token authorizer trusts the jurisdiction's own pool, in its primary region.
    const authorizerFn = Object.values(resourcesOf(t as never, 'AWS::Lambda::Function')).find(
      (f) => (f.Properties as any).Environment?.Variables?.USER_POOL_ID,
    )?.Properties as any;
    expect(authorizerFn.Environment.Variables.USER_POOL_ID).toEqual({
      'Fn::GetStackOutput': expect.objectContaining({ StackName: 'Commerce-us-east-1-Stateful', Region: 'us-east-1' }),
    });
    expect(authorizerFn.Environment.Variables.JURISDICTION).toBe('global');
    expect(authorizerFn.VpcConfig).toBeUndefined();
  });
});

describe('active-passive routing', () => {
  test.each([
    ['global', 'us-east-1', 'ap-southeast-1'],
    ['eu', 'eu-west-1', 'eu-central-1'],
  ])('%s: failover PRIMARY in %s and SECONDARY in %s, both health-checked', (jurisdiction, primary, secondary) => {
    const name = `${jurisdiction}.api.shop.example.com.`;
    const primaryRecords = recordsOf(activePassive, primary).filter((r) => r.Name === name);
    const secondaryRecords = recordsOf(activePassive, secondary).filter((r) => r.Name === name);
    expect(primaryRecords.map((r) => [r.Failover, r.SetIdentifier])).toEqual([['PRIMARY', `${jurisdiction}-primary`]]);
    expect(secondaryRecords.map((r) => [r.Failover, r.SetIdentifier])).toEqual([
      ['SECONDARY', `${jurisdiction}-secondary`],
    ]);
    expect(primaryRecords[0]?.HealthCheckId).toEqual({ Ref: expect.stringMatching(/^DnsServingWriterHealthCheck/) });
    expect(secondaryRecords[0]?.HealthCheckId).toEqual({ Ref: expect.stringMatching(/^DnsHealthCheck/) });
    for (const record of [...primaryRecords, ...secondaryRecords]) {
      expect(record.Region).toBeUndefined();
    }
    const shared = recordsOf(activePassive, primary).filter((r) => r.Name === 'api.shop.example.com.');
    expect(shared).toEqual([
      expect.objectContaining({
        Region: primary,
        SetIdentifier: `${jurisdiction}-failover`,
        AliasTarget: expect.objectContaining({
          DNSName: `${jurisdiction}.api.shop.example.com`,
          EvaluateTargetHealth: true,
        }),
      }),
    ]);
    expect(recordsOf(activePassive, secondary).filter((r) => r.Name === 'api.shop.example.com.')).toEqual([]);
  });

  test('no latency record points straight at a regional API in active-passive', () => {
    for (const region of REGIONS) {
      const direct = recordsOf(activePassive, region).filter(
        // Writer records are latency records in both models (they follow the Aurora writer).
        (r) =>
          r.Region && !r.Name.startsWith('writer.') && JSON.stringify(r.AliasTarget).includes('RegionalDomainName'),
      );
      expect(direct).toEqual([]);
    }
  });
});

describe('edge', () => {
  const edge = activeActive.templates['Commerce-Edge'];
  const distribution = () =>
    Object.values(resourcesOf(edge as never, 'AWS::CloudFront::Distribution'))[0]?.Properties
      ?.DistributionConfig as any;

  test('the site certificate is issued in us-east-1 for the site hostnames', () => {
    expect(activeActive.platform.edge.region).toBe('us-east-1');
    edge?.hasResourceProperties('AWS::CertificateManager::Certificate', {
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
    for (const bucket of Object.values(resourcesOf(edge as never, 'AWS::S3::Bucket'))) {
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
    const acls = resourcesOf(edge as never, 'AWS::WAFv2::WebACL');
    const [aclId, acl] = Object.entries(acls)[0] as [string, any];
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
    const records = Object.values(resourcesOf(edge as never, 'AWS::Route53::RecordSet')).map(
      (r) => r.Properties as any,
    );
    expect(records.map((r) => `${r.Type} ${r.Name}`).sort()).toEqual([
      'A shop.example.com.',
      'A www.shop.example.com.',
      'AAAA shop.example.com.',
      'AAAA www.shop.example.com.',
    ]);
  });
});
