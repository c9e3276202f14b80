import { Duration } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { Construct } from 'constructs';
import { WRITER_HEALTH_MATCH, WRITER_HEALTH_PATH } from '../../lambda/shared/api-contract';
import type { JurisdictionConfig, Topology } from '../config/topology';

/** Path of the health endpoint that Route 53 probes in every region. */
export const HEALTH_PATH = '/api/health';

export interface ApiDnsRecordsProps {
  readonly topology: Topology;
  readonly jurisdiction: JurisdictionConfig;
  readonly region: string;
  readonly zone: route53.IHostedZone;
  /** The regional API's custom domains, by hostname. */
  readonly domainNames: Readonly<Record<string, apigwv2.DomainName>>;
  /** Host of the regional API's own endpoint: the health check must reach this region, not whichever the DNS picks. */
  readonly healthCheckHost: string;
  /** The region's writer API: its custom domain and its own execute-api host. */
  readonly writer: { readonly domainName: apigwv2.DomainName; readonly healthCheckHost: string };
}

/**
 * This region's share of the API's DNS. Every (name, type) keeps one routing policy in both
 * deployment models, so switching models is an ordinary deploy (Route 53 refuses a record of
 * another policy beside existing ones, and CloudFormation creates before it deletes):
 *
 * * both models: a latency record for `api.<domain>` and one for
 *   `<jurisdiction>.api.<domain>`, with the same construct ids and the region as set
 *   identifier, so a switch updates each in place;
 * * `active-active`: those records alias this region's own API and carry its health check,
 *   so Route 53 answers with the nearest healthy region;
 * * `active-passive`: the failover pair lives at `failover.<jurisdiction>.api.<domain>` (the
 *   primary region PRIMARY, the next region SECONDARY), and both regions' latency records
 *   alias that name, so both hostnames follow the failover; further regions publish none;
 * * both: a latency record for `writer.<jurisdiction>.api.<domain>` tied to the region's
 *   writer health check, which passes only where the Aurora cluster is the writer.
 */
export class ApiDnsRecords extends Construct {
  readonly healthCheck: route53.HealthCheck;
  /** Passes only while this region's Aurora cluster is the writer. */
  readonly writerHealthCheck: route53.HealthCheck;

  constructor(scope: Construct, id: string, props: ApiDnsRecordsProps) {
    super(scope, id);
    const { topology, jurisdiction, region, zone } = props;
    const sharedHost = topology.apiHostname;
    const jurisdictionHost = topology.jurisdictionApiHostname(jurisdiction);

    this.healthCheck = new route53.HealthCheck(this, 'HealthCheck', {
      type: route53.HealthCheckType.HTTPS,
      fqdn: props.healthCheckHost,
      resourcePath: HEALTH_PATH,
      port: 443,
      requestInterval: Duration.seconds(10),
      failureThreshold: 3,
      measureLatency: true,
    });

    const aliasTo = (hostname: string) => {
      const domainName = props.domainNames[hostname];
      if (!domainName) throw new Error(`${this.node.path}: no API custom domain for ${hostname}`);
      return aliasToDomain(domainName);
    };
    const aliasToDomain = (domainName: apigwv2.DomainName) => {
      // Same target as route53-targets' ApiGatewayv2DomainProperties, which cannot set
      // EvaluateTargetHealth; failover aliases must, and latency aliases should.
      return route53.RecordTarget.fromAlias({
        bind: () => ({
          dnsName: domainName.regionalDomainName,
          hostedZoneId: domainName.regionalHostedZoneId,
          evaluateTargetHealth: true,
        }),
      });
    };

    // Every model: `writer.<jurisdiction>.api` answers with the region that holds the
    // writer. If no region passes (mid-failover), Route 53 answers with all of them and
    // strong requests get a clear 503 from a read-only region until a writer is promoted.
    const writerHost = topology.jurisdictionWriterHostname(jurisdiction);
    this.writerHealthCheck = new route53.HealthCheck(this, 'WriterHealthCheck', {
      type: route53.HealthCheckType.HTTPS_STR_MATCH,
      searchString: WRITER_HEALTH_MATCH,
      fqdn: props.writer.healthCheckHost,
      resourcePath: WRITER_HEALTH_PATH,
      port: 443,
      requestInterval: Duration.seconds(10),
      failureThreshold: 3,
    });
    new route53.ARecord(this, 'WriterLatency', {
      zone,
      recordName: writerHost,
      target: aliasToDomain(props.writer.domainName),
      region,
      setIdentifier: `${region}-writer`,
      healthCheck: this.writerHealthCheck,
    });

    let servingTarget: (hostname: string) => route53.RecordTarget;
    let failover: route53.ARecord | undefined;
    if (topology.deploymentModel === 'active-active') {
      servingTarget = aliasTo;
    } else {
      const [primary, secondary] = topology.deployOrder(jurisdiction);
      if (region !== primary && region !== secondary) return; // a failover set has one standby
      const failoverHost = topology.jurisdictionFailoverHostname(jurisdiction);
      failover = new route53.ARecord(this, 'JurisdictionFailover', {
        zone,
        recordName: failoverHost,
        target: aliasTo(jurisdictionHost),
        failover: region === primary ? route53.Failover.PRIMARY : route53.Failover.SECONDARY,
        setIdentifier: `${jurisdiction.name}-${region === primary ? 'primary' : 'secondary'}`,
        // The primary record serves only while its region is healthy AND holds the writer, so
        // a switchover moves the jurisdiction's traffic with the writer; the standby needs
        // only to be healthy, to serve reads the moment the primary region is lost.
        healthCheck:
          region === primary
            ? new route53.HealthCheck(this, 'ServingWriterHealthCheck', {
                type: route53.HealthCheckType.CALCULATED,
                childHealthChecks: [this.healthCheck, this.writerHealthCheck],
                healthThreshold: 2,
              })
            : this.healthCheck,
      });
      // An alias to a record of the same zone: its health is the failover pair's answer.
      const toFailover = route53.RecordTarget.fromAlias({
        bind: () => ({ dnsName: failoverHost, hostedZoneId: zone.hostedZoneId, evaluateTargetHealth: true }),
      });
      servingTarget = () => toFailover;
    }

    // Same ids and set identifiers in both models: a model switch updates these records in
    // place, never creates one beside the other (Route 53 takes one latency record per
    // region, and no record of another policy, under one name).
    for (const [recordId, hostname] of [
      ['SharedLatency', sharedHost],
      ['JurisdictionLatency', jurisdictionHost],
    ] as const) {
      const record = new route53.ARecord(this, recordId, {
        zone,
        recordName: hostname,
        target: servingTarget(hostname),
        region,
        setIdentifier: region,
        // In active-passive the alias's target health (the failover pair's) decides.
        healthCheck: failover ? undefined : this.healthCheck,
      });
      // Route 53 refuses an alias to a name that does not exist yet: this region's own
      // failover record is created first.
      if (failover) record.node.addDependency(failover);
    }
  }
}
