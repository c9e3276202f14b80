import {
  type BuiltPlatform,
  buildPlatform,
  DEFAULT_JURISDICTION_OF as JURISDICTION,
  resourcesOf,
  statelessTemplate,
} from '../../support/platform';
import { recordSetsOf } from '../../support/route53';
import { only } from '../../support/templates';

// Routing between regions in both models, on the whole app. The edge stack needs no other
// stack and is tested alone (test/unit/stacks/edge-stack.test.ts).
let activeActive: BuiltPlatform;
let activePassive: BuiltPlatform;
// One synthesis per model (seconds each on 2 cores), shared by every test.
beforeAll(() => {
  activeActive = buildPlatform();
  activePassive = buildPlatform({ deploymentModel: 'active-passive' });
});
const REGIONS = Object.keys(JURISDICTION);

const recordsOf = (built: BuiltPlatform, region: string) => recordSetsOf(statelessTemplate(built, region));

describe('active-active routing', () => {
  test.each(REGIONS)(
    '%s publishes latency records for the shared and its jurisdiction hostname, tied to its health check',
    (region) => {
      const healthChecks = resourcesOf(statelessTemplate(activeActive, region), 'AWS::Route53::HealthCheck');
      // The region's own check, and its writer check (see the operations tests).
      expect(Object.keys(healthChecks)).toHaveLength(2);
      const [healthCheckId, healthCheck] = only(healthChecks, 'DnsHealthCheck');
      expect(healthCheck.HealthCheckConfig).toMatchObject({
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
    const t = statelessTemplate(activeActive, 'eu-central-1');
    t.hasResourceProperties('AWS::CertificateManager::Certificate', {
      DomainName: 'api.shop.example.com',
      SubjectAlternativeNames: ['eu.api.shop.example.com', 'writer.eu.api.shop.example.com'],
      ValidationMethod: 'DNS',
    });
    const names = Object.values(resourcesOf(t, 'AWS::ApiGatewayV2::DomainName')).map((d) => d.Properties as any);
    expect(names.map((d) => d.DomainName)).toEqual([
      'api.shop.example.com',
      'eu.api.shop.example.com',
      // The writer API's own domain (see test/operations).
      'writer.eu.api.shop.example.com',
    ]);
    for (const d of names)
      expect(d.DomainNameConfigurations[0]).toMatchObject({ EndpointType: 'REGIONAL', SecurityPolicy: 'TLS_1_2' });
  });

  test('only the health probe is open; product and like-count reads need the proof of origin; every other route a token too', () => {
    const t = statelessTemplate(activeActive, 'ap-southeast-1');
    // The public API's routes; the writer API's are asserted in test/operations.
    const routes = Object.values(resourcesOf(t, 'AWS::ApiGatewayV2::Route'))
      .map((r) => r.Properties as any)
      .filter((r) => r.ApiId.Ref.startsWith('ApiHttpApi'));
    const authorizers = resourcesOf(t, 'AWS::ApiGatewayV2::Authorizer');
    const sourcesOf = (route: any) =>
      route.AuthorizationType === 'NONE'
        ? 'none'
        : (authorizers[route.AuthorizerId.Ref]?.Properties as any)?.IdentitySource.join(' ');
    const byRoute = Object.fromEntries(routes.map((r) => [r.RouteKey, sourcesOf(r)]));
    const proof = '$request.header.x-origin-verify';
    const token = `$request.header.Authorization ${proof}`;
    expect(byRoute).toEqual({
      'GET /api/health': 'none',
      'GET /api/products/{sku}': proof,
      'GET /api/products/{sku}/likes': proof,
      'PUT /api/products/{sku}': token,
      'POST /api/products/{sku}/likes': token,
      'GET /api/me/profile': token,
      'PUT /api/me/profile': token,
      'GET /api/me/cart': token,
      'POST /api/me/cart/items': token,
      'DELETE /api/me/cart/items/{sku}': token,
      'POST /api/orders': token,
      'GET /api/orders/{id}': token,
    });
    for (const authorizer of Object.values(authorizers)) {
      expect(authorizer.Properties).toMatchObject({
        AuthorizerType: 'REQUEST',
        AuthorizerPayloadFormatVersion: '2.0',
        EnableSimpleResponses: true,
      });
    }
    // The token authorizer (the one function given the app client) trusts the jurisdiction's
    // own pool, in its primary region.
    const authorizerFn = Object.values(resourcesOf(t, 'AWS::Lambda::Function')).find(
      (f) => (f.Properties as any).Environment?.Variables?.USER_POOL_CLIENT_ID,
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
  ])(
    '%s: failover PRIMARY in %s and SECONDARY in %s at a name of their own, both health-checked',
    (jurisdiction, primary, secondary) => {
      const name = `failover.${jurisdiction}.api.shop.example.com.`;
      const primaryRecords = recordsOf(activePassive, primary).filter((r) => r.Name === name);
      const secondaryRecords = recordsOf(activePassive, secondary).filter((r) => r.Name === name);
      expect(primaryRecords.map((r) => [r.Failover, r.SetIdentifier])).toEqual([
        ['PRIMARY', `${jurisdiction}-primary`],
      ]);
      expect(secondaryRecords.map((r) => [r.Failover, r.SetIdentifier])).toEqual([
        ['SECONDARY', `${jurisdiction}-secondary`],
      ]);
      expect(primaryRecords[0]?.HealthCheckId).toEqual({ Ref: expect.stringMatching(/^DnsServingWriterHealthCheck/) });
      expect(secondaryRecords[0]?.HealthCheckId).toEqual({ Ref: expect.stringMatching(/^DnsHealthCheck/) });
      for (const record of [...primaryRecords, ...secondaryRecords]) {
        expect(record.Region).toBeUndefined();
        expect(JSON.stringify(record.AliasTarget.DNSName)).toContain('RegionalDomainName');
      }
    },
  );

  test.each(REGIONS)(
    '%s publishes latency records for the shared and its jurisdiction hostname that alias the failover name',
    (region) => {
      const jurisdiction = JURISDICTION[region];
      const records = recordsOf(activePassive, region).filter(
        (r) => !r.Name.startsWith('writer.') && !r.Name.startsWith('failover.'),
      );
      expect(records.map((r) => [r.Name, r.Region, r.SetIdentifier, r.AliasTarget])).toEqual([
        ['api.shop.example.com.', region, region, failoverAlias(jurisdiction)],
        [`${jurisdiction}.api.shop.example.com.`, region, region, failoverAlias(jurisdiction)],
      ]);
    },
  );

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

  test('the failover name is only an alias target: every name a client uses has a custom domain and a certificate name in every region', () => {
    for (const region of REGIONS) {
      const t = statelessTemplate(activePassive, region);
      const domains = Object.values(resourcesOf(t, 'AWS::ApiGatewayV2::DomainName')).map(
        (d) => (d.Properties as any).DomainName as string,
      );
      const certificate = Object.values(resourcesOf(t, 'AWS::CertificateManager::Certificate'))
        .map((c) => c.Properties as any)
        .filter((c) => c.DomainName === 'api.shop.example.com');
      const certified = certificate.flatMap((c) => [c.DomainName, ...c.SubjectAlternativeNames]);
      // Hosts: the shared name (CloudFront's origin) and the jurisdiction's (the residency router's).
      for (const host of ['api.shop.example.com', `${JURISDICTION[region]}.api.shop.example.com`]) {
        expect(domains).toContain(host);
        expect(certified).toContain(host);
      }
      expect([...domains, ...certified].filter((n) => n.startsWith('failover.'))).toEqual([]);
    }
  });
});

/** An alias, with target health, of the jurisdiction's failover name in the same hosted zone. */
const failoverAlias = (jurisdiction: string | undefined) => ({
  DNSName: `failover.${jurisdiction}.api.shop.example.com`,
  HostedZoneId: 'Z0123456789EXAMPLEZONE',
  EvaluateTargetHealth: true,
});
