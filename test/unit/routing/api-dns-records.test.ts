import { Template } from 'aws-cdk-lib/assertions';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { resolveTopology, type Topology } from '../../../lib/config/topology';
import { ApiDnsRecords } from '../../../lib/routing/api-dns-records';
import { oneStack } from '../../support/one-stack';
import { DEFAULT_JURISDICTION_OF as JURISDICTION } from '../../support/platform';
import { type RecordProps, recordSetsOf } from '../../support/route53';
import { only, onlyWhere, resourcesOf } from '../../support/templates';

/** One region's records, its API's custom domains and execute-api hosts standing in as given values. */
function build(topology: Topology, region: string) {
  const { stack } = oneStack({ region });
  const jurisdiction = topology.jurisdictionOf(region);
  const zone = route53.PublicHostedZone.fromHostedZoneAttributes(stack, 'Zone', topology.config.hostedZone);
  const certificate = acm.Certificate.fromCertificateArn(
    stack,
    'Certificate',
    `arn:aws:acm:${region}:123456789012:certificate/11111111-2222-3333-4444-555555555555`,
  );
  const domainOf = (id: string, domainName: string) => new apigwv2.DomainName(stack, id, { domainName, certificate });
  const hostnames = [topology.apiHostname, topology.jurisdictionApiHostname(jurisdiction)];
  const dns = new ApiDnsRecords(stack, 'Dns', {
    topology,
    jurisdiction,
    region,
    zone,
    domainNames: Object.fromEntries(hostnames.map((h, i) => [h, domainOf(`DomainName${i}`, h)])),
    healthCheckHost: `api123.execute-api.${region}.amazonaws.com`,
    writer: {
      domainName: domainOf('WriterDomainName', topology.jurisdictionWriterHostname(jurisdiction)),
      healthCheckHost: `writer123.execute-api.${region}.amazonaws.com`,
    },
  });
  const template = Template.fromStack(stack);
  const records = recordSetsOf(template);
  const checks = resourcesOf(template, 'AWS::Route53::HealthCheck');
  const checkId = (prefix: string) => only(checks, prefix)[0];
  return { stack, dns, template, records, checks, checkId };
}

describe('ApiDnsRecords, active-active', () => {
  const topology = resolveTopology({}, 'test');

  test.each(Object.keys(JURISDICTION))(
    '%s: latency records for the shared and the jurisdiction hostname, tied to a health check of its own endpoint',
    (region) => {
      // given the default (active-active) topology; when the region's records are built
      const { records, checks, checkId } = build(topology, region);
      // then
      expect(Object.keys(checks)).toHaveLength(2);
      const healthCheckId = checkId('DnsHealthCheck');
      expect((checks[healthCheckId]?.Properties as any)?.HealthCheckConfig).toMatchObject({
        Type: 'HTTPS',
        FullyQualifiedDomainName: `api123.execute-api.${region}.amazonaws.com`,
        ResourcePath: '/api/health',
        Port: 443,
        RequestInterval: 10,
        FailureThreshold: 3,
        MeasureLatency: true,
      });
      const api = records.filter((r) => !r.Name.startsWith('writer.'));
      expect(api.map((r) => [r.Name, r.Region, r.SetIdentifier, r.HealthCheckId])).toEqual([
        ['api.shop.example.com.', region, region, { Ref: healthCheckId }],
        [`${JURISDICTION[region]}.api.shop.example.com.`, region, region, { Ref: healthCheckId }],
      ]);
      for (const record of api) {
        expect(record.Failover).toBeUndefined();
        expect(record.AliasTarget.EvaluateTargetHealth).toBe(true);
        expect(JSON.stringify(record.AliasTarget.DNSName)).toContain('RegionalDomainName');
      }
    },
  );

  test('the writer hostname answers with this region only while its writer health check passes', () => {
    // given, when
    const { records, checks, checkId } = build(topology, 'eu-central-1');
    // then
    const writerCheckId = checkId('DnsWriterHealthCheck');
    expect((checks[writerCheckId]?.Properties as any)?.HealthCheckConfig).toMatchObject({
      Type: 'HTTPS_STR_MATCH',
      SearchString: '"writer":true',
      FullyQualifiedDomainName: 'writer123.execute-api.eu-central-1.amazonaws.com',
      ResourcePath: '/api/health/writer',
      Port: 443,
      RequestInterval: 10,
      FailureThreshold: 3,
    });
    expect(records.filter((r) => r.Name.startsWith('writer.'))).toEqual([
      expect.objectContaining({
        Name: 'writer.eu.api.shop.example.com.',
        Region: 'eu-central-1',
        SetIdentifier: 'eu-central-1-writer',
        HealthCheckId: { Ref: writerCheckId },
        AliasTarget: expect.objectContaining({
          DNSName: { 'Fn::GetAtt': [expect.stringMatching(/^WriterDomainName/), 'RegionalDomainName'] },
          EvaluateTargetHealth: true,
        }),
      }),
    ]);
  });

  test('refuses a hostname the API has no custom domain for, naming it', () => {
    // given a region whose API answers to no hostname
    const { stack } = oneStack();
    const zone = route53.PublicHostedZone.fromHostedZoneAttributes(stack, 'Zone', topology.config.hostedZone);
    const certificate = acm.Certificate.fromCertificateArn(
      stack,
      'Certificate',
      'arn:aws:acm:eu-west-1:1:certificate/c',
    );
    const writerDomain = new apigwv2.DomainName(stack, 'Writer', {
      domainName: 'writer.eu.api.shop.example.com',
      certificate,
    });
    // when, then
    expect(
      () =>
        new ApiDnsRecords(stack, 'Dns', {
          topology,
          jurisdiction: topology.jurisdictionOf('eu-west-1'),
          region: 'eu-west-1',
          zone,
          domainNames: {},
          healthCheckHost: 'h',
          writer: { domainName: writerDomain, healthCheckHost: 'w' },
        }),
    ).toThrow('Test/Dns: no API custom domain for api.shop.example.com');
  });
});

describe('ApiDnsRecords, active-passive', () => {
  const topology = resolveTopology({ deploymentModel: 'active-passive' }, 'test');

  /** Logical id of the record set named `name` among the stack's resources. */
  const recordId = (built: ReturnType<typeof build>, name: string) =>
    onlyWhere(resourcesOf(built.template, 'AWS::Route53::RecordSet'), name, (_, p) => p.Name === name)[0];

  test.each([
    ['global', 'us-east-1', 'ap-southeast-1'],
    ['eu', 'eu-west-1', 'eu-central-1'],
  ])(
    '%s: the failover pair has a name of its own; the primary %s serves only while healthy and holding the writer, %s stands by',
    (jurisdiction, primary, secondary) => {
      // given the active-passive topology; when the primary's and the standby's records are built
      const first = build(topology, primary);
      const standby = build(topology, secondary);
      // then
      const failoverName = `failover.${jurisdiction}.api.shop.example.com.`;
      const [calculatedId, calculated] = onlyWhere(
        first.checks,
        'of type CALCULATED',
        (_, check) => check.HealthCheckConfig.Type === 'CALCULATED',
      );
      expect(calculated.HealthCheckConfig).toMatchObject({
        Type: 'CALCULATED',
        HealthThreshold: 2,
        ChildHealthChecks: [{ Ref: first.checkId('DnsHealthCheck') }, { Ref: first.checkId('DnsWriterHealthCheck') }],
      });
      expect(calculatedId).toMatch(/^DnsServingWriterHealthCheck/);
      const failoverOf = (built: ReturnType<typeof build>) =>
        built.records
          .filter((r) => r.Name === failoverName)
          .map((r) => [r.Failover, r.SetIdentifier, r.HealthCheckId, r.Region, r.AliasTarget.DNSName]);
      const jurisdictionDomain = {
        'Fn::GetAtt': [expect.stringMatching(/^DomainName1/), 'RegionalDomainName'],
      };
      expect(failoverOf(first)).toEqual([
        ['PRIMARY', `${jurisdiction}-primary`, { Ref: calculatedId }, undefined, jurisdictionDomain],
      ]);
      expect(failoverOf(standby)).toEqual([
        [
          'SECONDARY',
          `${jurisdiction}-secondary`,
          { Ref: standby.checkId('DnsHealthCheck') },
          undefined,
          jurisdictionDomain,
        ],
      ]);
      // Health checks are those of active-active, plus the primary's calculated one.
      expect(Object.keys(first.checks)).toHaveLength(3);
      expect(Object.keys(standby.checks)).toHaveLength(2);
    },
  );

  test.each([
    ['global', 'us-east-1'],
    ['global', 'ap-southeast-1'],
    ['eu', 'eu-west-1'],
    ['eu', 'eu-central-1'],
  ])(
    '%s: %s publishes latency records for the shared and the jurisdiction hostname that alias the failover name, created after it',
    (jurisdiction, region) => {
      // given the active-passive topology; when the region's records are built
      const built = build(topology, region);
      // then
      const serving = built.records.filter((r) => !r.Name.startsWith('writer.') && !r.Name.startsWith('failover.'));
      expect(serving.map((r) => [r.Name, r.Region, r.SetIdentifier, r.Failover, r.HealthCheckId])).toEqual([
        ['api.shop.example.com.', region, region, undefined, undefined],
        [`${jurisdiction}.api.shop.example.com.`, region, region, undefined, undefined],
      ]);
      for (const record of serving) expectAliasOfFailoverName(record, jurisdiction);
      const failoverId = recordId(built, `failover.${jurisdiction}.api.shop.example.com.`);
      for (const name of ['api.shop.example.com.', `${jurisdiction}.api.shop.example.com.`]) {
        expect(resourcesOf(built.template)[recordId(built, name)]).toMatchObject({ DependsOn: [failoverId] });
      }
    },
  );

  test('a third region of a jurisdiction publishes only its writer record: a failover set has one standby', () => {
    // given a jurisdiction of three regions
    const three = resolveTopology(
      {
        deploymentModel: 'active-passive',
        jurisdictions: [
          {
            name: 'eu',
            residency: 'eu',
            primaryRegion: 'eu-west-1',
            regions: ['eu-west-1', 'eu-central-1', 'eu-north-1'],
          },
        ],
      },
      'test',
    );
    // when
    const { records } = build(three, 'eu-north-1');
    // then
    expect(records.map((r) => r.Name)).toEqual(['writer.eu.api.shop.example.com.']);
  });
});

describe('ApiDnsRecords, switching the deployment model', () => {
  test.each(Object.keys(JURISDICTION))(
    '%s: the shared and the jurisdiction hostname keep their construct ids, routing policy and set identifiers',
    (region) => {
      // given one region's records in each model
      const activeActive = build(resolveTopology({}, 'test'), region);
      const activePassive = build(resolveTopology({ deploymentModel: 'active-passive' }, 'test'), region);
      // when the records of those names are compared
      const serving = (built: ReturnType<typeof build>) =>
        Object.entries(resourcesOf(built.template, 'AWS::Route53::RecordSet'))
          .map(([id, r]) => [id, r.Properties as unknown as RecordProps] as const)
          .filter(([, r]) => !r.Name.startsWith('writer.') && !r.Name.startsWith('failover.'))
          .map(([id, r]) => [id, r.Name, r.Region, r.SetIdentifier, r.Failover]);
      // then CloudFormation updates each in place: the same record, another alias target
      expect(serving(activePassive)).toEqual(serving(activeActive));
      expect(serving(activeActive)).toHaveLength(2);
    },
  );
});

/** Asserts that `record` is an alias, with target health, of the jurisdiction's failover name in the same zone. */
function expectAliasOfFailoverName(record: RecordProps, jurisdiction: string): void {
  expect(record.AliasTarget).toEqual({
    DNSName: `failover.${jurisdiction}.api.shop.example.com`,
    HostedZoneId: 'Z0123456789EXAMPLEZONE',
    EvaluateTargetHealth: true,
  });
}
