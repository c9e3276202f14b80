import { Template } from 'aws-cdk-lib/assertions';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { resolveTopology, type Topology } from '../../../lib/config/topology';
import { ApiDnsRecords } from '../../../lib/routing/api-dns-records';
import { oneStack } from '../../support/one-stack';
import { DEFAULT_JURISDICTION_OF as JURISDICTION } from '../../support/platform';
import { expectSharedHostnameFollowsFailover, recordSetsOf } from '../../support/route53';
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

  test.each([
    ['global', 'us-east-1', 'ap-southeast-1'],
    ['eu', 'eu-west-1', 'eu-central-1'],
  ])(
    '%s: the primary %s serves only while healthy and holding the writer; %s stands by',
    (jurisdiction, primary, secondary) => {
      // given the active-passive topology; when the primary's and the standby's records are built
      const first = build(topology, primary);
      const standby = build(topology, secondary);
      // then
      const name = `${jurisdiction}.api.shop.example.com.`;
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
      const primaryRecords = first.records.filter((r) => r.Name === name);
      expect(primaryRecords.map((r) => [r.Failover, r.SetIdentifier, r.HealthCheckId, r.Region])).toEqual([
        ['PRIMARY', `${jurisdiction}-primary`, { Ref: calculatedId }, undefined],
      ]);
      const standbyRecords = standby.records.filter((r) => r.Name === name);
      expect(standbyRecords.map((r) => [r.Failover, r.SetIdentifier, r.HealthCheckId, r.Region])).toEqual([
        ['SECONDARY', `${jurisdiction}-secondary`, { Ref: standby.checkId('DnsHealthCheck') }, undefined],
      ]);
      // The shared hostname follows the failover: the primary aliases it to the jurisdiction's name.
      expectSharedHostnameFollowsFailover(first.records, jurisdiction, primary);
      expect(standby.records.filter((r) => r.Name === 'api.shop.example.com.')).toEqual([]);
      // Writer records stay latency records in both models.
      expect(standby.records.filter((r) => r.Name.startsWith('writer.')).map((r) => r.Region)).toEqual([secondary]);
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
