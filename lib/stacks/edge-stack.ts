import { Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as targets from 'aws-cdk-lib/aws-route53-targets';
import type { Construct } from 'constructs';
import { jurisdictionDirectory } from '../config/jurisdiction-directory';
import { originSecretName } from '../config/names';
import type { Topology } from '../config/topology';
import { EdgeAccessLogs, edgeLogDestination } from '../edge/edge-access-logs';
import { OriginVerification } from '../edge/origin-verification';
import { residencyRouterCode } from '../edge/residency-router';
import { StaticSiteBucket } from '../edge/static-site-bucket';
import { EdgeWebAcl } from '../edge/web-acl';
import { GlobalDashboard } from '../operations/global-dashboard';
import { OperationsKey } from '../operations/operations-key';

export interface EdgeStackProps extends StackProps {
  readonly topology: Topology;
}

/**
 * The global front door, in us-east-1 because CloudFront takes its certificate and web
 * ACL only from there: CloudFront with WAF, static assets from a private bucket, `/api/*`
 * to the latency-routed API hostname, and the site's DNS records.
 */
export class EdgeStack extends Stack {
  readonly distribution: cloudfront.Distribution;
  readonly certificate: acm.Certificate;
  readonly site: StaticSiteBucket;
  /** Every region side by side, for whoever is on call. */
  readonly globalDashboard: GlobalDashboard;
  /** The secret CloudFront sends to the regional APIs, and its rotation. */
  readonly originVerification: OriginVerification;

  constructor(scope: Construct, id: string, props: EdgeStackProps) {
    super(scope, id, props);
    const { topology } = props;
    const siteHost = topology.config.domainName;
    const siteHosts = [siteHost, `www.${siteHost}`];
    const zone = route53.PublicHostedZone.fromHostedZoneAttributes(this, 'Zone', topology.config.hostedZone);

    this.certificate = new acm.Certificate(this, 'SiteCertificate', {
      domainName: siteHost,
      subjectAlternativeNames: siteHosts.slice(1),
      validation: acm.CertificateValidation.fromDns(zone),
    });
    const webAcl = new EdgeWebAcl(this, 'WebAcl');
    this.site = new StaticSiteBucket(this, 'Site');

    this.originVerification = new OriginVerification(this, 'OriginVerification', {
      secretName: originSecretName(topology.config.appName),
      replicaRegions: topology.servingRegions,
      logEncryptionKey: new OperationsKey(this, 'OperationsKey').key,
    });
    // The residency router changes only the origin's domain name: the header stays
    // (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/helper-functions-origin-modification.html).
    const apiOrigin = new origins.HttpOrigin(topology.apiHostname, {
      protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
      originSslProtocols: [cloudfront.OriginSslPolicy.TLS_V1_2],
      customHeaders: this.originVerification.originHeaders,
    });
    const residencyRouter = new cloudfront.Function(this, 'ResidencyRouter', {
      comment: "Sends a signed-in user's API requests to their home jurisdiction's API host",
      runtime: cloudfront.FunctionRuntime.JS_2_0,
      code: cloudfront.FunctionCode.fromInline(residencyRouterCode(jurisdictionDirectory(topology))),
    });
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: `${topology.config.appName} storefront and API`,
      domainNames: siteHosts,
      certificate: this.certificate,
      webAclId: webAcl.webAcl.attrArn,
      minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.site.bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS,
      },
      additionalBehaviors: {
        // Every API response may be personalised (carts, profiles, orders, tokens): never
        // cache, and forward everything but Host so the regional custom domain matches.
        '/api/*': {
          origin: apiOrigin,
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
          allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
          cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
          originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
          responseHeadersPolicy: cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS,
          functionAssociations: [{ function: residencyRouter, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST }],
        },
      },
    });

    Validations.of(this.distribution).acknowledge({
      id: 'AwsSolutions-CFR1',
      reason:
        "No GeoRestriction: the shop has no country it must refuse, and it serves every jurisdiction's shoppers wherever they are (the residency router picks the API host from the token's issuer, not the viewer's country); a country allowlist would turn away travelling customers and stop no one using a proxy in an allowed country.",
    });
    // CloudFront and WAF logs hold EU shoppers' requests: delivered to Commerce-EdgeLogs' EU buckets.
    new EdgeAccessLogs(this, 'AccessLogs', {
      distribution: this.distribution,
      webAcl: webAcl.webAcl,
      destination: edgeLogDestination(topology),
    });
    const accessLogsReason =
      'Access logs are on through CloudFront standard logging (v2), delivered to an EU bucket by EdgeAccessLogs (docs/residency.md#edge-logs); the rule reads only the legacy Logging property, which would need an ACL-enabled bucket.';
    Validations.of(this.distribution).acknowledge({ id: 'AwsSolutions-CFR3', reason: accessLogsReason });
    const cfnDistribution = this.distribution.node.defaultChild as cloudfront.CfnDistribution;
    Validations.of(cfnDistribution).acknowledge({
      id: 'cdk-validator-cfnguard::cloudfront_access_logs_enabled_check',
      reason: accessLogsReason,
    });
    Validations.of(cfnDistribution).acknowledge({
      id: 'cdk-validator-cfnguard::cloudfront_origin_failover_enabled_check',
      reason:
        "Regional failover of /api/* happens behind its origin host names: Route 53 answers api.<domain>, and each jurisdiction's API host the residency router sends signed-in users to (<jurisdiction>.api.<domain>), with a healthy region of it (latency records with a health check per region, or a failover pair). A CloudFront origin group would fail over only GET, HEAD and OPTIONS requests, never a cart or order write (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/high_availability_origin_failover.html). The assets origin is one S3 bucket, whose regional durability and availability the storefront's static files accept; a second origin would need a replicated bucket in another region.",
    });

    this.originVerification.rotateWith(this.distribution);

    const target = route53.RecordTarget.fromAlias(new targets.CloudFrontTarget(this.distribution));
    // Ids from the host name, not its place in the list: reordering the names must not replace records.
    for (const recordName of siteHosts) {
      new route53.ARecord(this, `SiteA-${recordName}`, { zone, recordName, target });
      new route53.AaaaRecord(this, `SiteAaaa-${recordName}`, { zone, recordName, target });
    }

    this.globalDashboard = new GlobalDashboard(this, 'GlobalDashboard', { topology });
  }
}
