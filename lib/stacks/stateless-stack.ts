import { Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as route53 from 'aws-cdk-lib/aws-route53';
import type { Construct } from 'constructs';
import { RegionalApi } from '../api/regional-api';
import { RegionalCache } from '../cache/regional-cache';
import { jurisdictionDirectory } from '../config/jurisdiction-directory';
import type { JurisdictionConfig, Topology } from '../config/topology';
import { STRONG_STORE_ENGINE } from '../data/strong-store';
import { StrongStoreProxy } from '../data/strong-store-proxy';
import type { UserDirectory } from '../identity/user-directory';
import { ApiDnsRecords } from '../routing/api-dns-records';
import { eventualTableName, type StatefulStack } from './stateful-stack';

export interface StatelessStackProps extends StackProps {
  readonly topology: Topology;
  readonly jurisdiction: JurisdictionConfig;
  /** The stateful stack of the same region. */
  readonly stateful: StatefulStack;
  /** The jurisdiction's user pool (in its primary region). */
  readonly userDirectory: UserDirectory;
  /**
   * The regional API of the jurisdiction's primary region, where this (secondary) region
   * forwards strong requests.
   * @default this is the primary region
   */
  readonly primaryApi?: RegionalApi;
}

/**
 * What a region runs: the regional API and its functions, the cache, the database proxy,
 * the VPC endpoints the functions use, and the region's DNS records and health check.
 * Everything here can be destroyed and redeployed without losing data.
 */
export class StatelessStack extends Stack {
  readonly api: RegionalApi;
  readonly cache: RegionalCache;
  readonly databaseProxy: StrongStoreProxy;
  readonly dns: ApiDnsRecords;

  constructor(scope: Construct, id: string, props: StatelessStackProps) {
    super(scope, id, props);
    const { topology, jurisdiction, stateful, userDirectory } = props;
    const vpc = stateful.network.vpc;
    const region = this.region;

    const zone = route53.PublicHostedZone.fromHostedZoneAttributes(this, 'Zone', topology.config.hostedZone);
    const hostnames = [topology.apiHostname, topology.jurisdictionApiHostname(jurisdiction)];
    const certificate = new acm.Certificate(this, 'ApiCertificate', {
      domainName: hostnames[0] as string,
      subjectAlternativeNames: hostnames.slice(1),
      validation: acm.CertificateValidation.fromDns(zone),
    });

    this.cache = new RegionalCache(this, 'Cache', {
      vpc,
      cacheName: `${topology.config.appName}-${region}`.toLowerCase(),
      encryptionKey: stateful.dataKey,
    });
    this.databaseProxy = new StrongStoreProxy(this, 'StrongStoreProxy', {
      vpc,
      cluster: stateful.strongStore.cluster,
      engine: STRONG_STORE_ENGINE,
    });

    // Replica of the jurisdiction's global table in this region, addressed by its fixed name.
    const eventualTable = dynamodb.TableV2.fromTableAttributes(this, 'EventualTable', {
      tableName: eventualTableName(topology, jurisdiction),
      encryptionKey: stateful.dataKey,
    });

    this.api = new RegionalApi(this, 'Api', {
      vpc,
      hostnames,
      certificate,
      userPoolId: userDirectory.userPool.userPoolId,
      userPoolClientId: userDirectory.webClient.userPoolClientId,
      strongRoutesHost: props.primaryApi?.executeApiHost,
      environment: {
        JURISDICTION: jurisdiction.name,
        PRIMARY_REGION: jurisdiction.primaryRegion,
        DEPLOYMENT_MODEL: topology.deploymentModel,
        EVENTUAL_TABLE: eventualTable.tableName,
        CACHE_ENDPOINT: `${this.cache.endpointAddress}:${this.cache.endpointPort}`,
        DB_PROXY_ENDPOINT: this.databaseProxy.endpoint,
        JURISDICTION_DIRECTORY: JSON.stringify(jurisdictionDirectory(topology)),
      },
    });

    // Least privilege per domain: each function gets the items and stores its handler
    // touches, no more. Items are scoped by partition-key prefix (see EventualStore).
    const fn = this.api.functions;
    const key = stateful.dataKey;
    grantItems(fn.health, eventualTable, ['GetItem'], ['HEALTH']);
    key.grantDecrypt(fn.health);
    grantItems(fn.products, eventualTable, ['Query', 'UpdateItem'], ['PRODUCT#*']);
    grantItems(fn.likes, eventualTable, ['Query', 'UpdateItem'], ['PRODUCT#*']);
    grantItems(fn.likes, eventualTable, ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem'], ['IDEMPOTENCY#likes']);
    grantItems(fn.profile, eventualTable, ['Query', 'UpdateItem'], ['USER#*']);
    grantItems(fn.cart, eventualTable, ['Query'], ['PRODUCT#*', 'USER#*']);
    grantItems(fn.cart, eventualTable, ['UpdateItem'], ['USER#*']);
    for (const writer of [fn.products, fn.likes, fn.profile, fn.cart]) {
      key.grantEncryptDecrypt(writer);
      acknowledgeTableKeyGrant(writer);
    }
    for (const strongUser of [fn.health, fn.products, fn.orders]) this.databaseProxy.grantConnect(strongUser);

    this.cache.allowFrom(this.api);
    this.databaseProxy.allowFrom(this.api);
    this.addServiceEndpoints(vpc);

    this.dns = new ApiDnsRecords(this, 'Dns', {
      topology,
      jurisdiction,
      region,
      zone,
      domainNames: this.api.domainNames,
      healthCheckHost: this.api.executeApiHost,
    });
  }

  /** The functions have no route to the internet: AWS APIs they call come through endpoints. */
  private addServiceEndpoints(vpc: ec2.IVpc): void {
    // DynamoDB's gateway endpoint is reached through a prefix list that differs per region
    // and would need a lookup; with no internet or NAT gateway in the VPC, HTTPS egress
    // can only reach the endpoints anyway.
    this.api.connections.allowToAnyIpv4(ec2.Port.tcp(443), 'HTTPS to AWS service endpoints only (isolated subnets)');
    new ec2.GatewayVpcEndpoint(this, 'DynamoDbEndpoint', {
      vpc,
      service: ec2.GatewayVpcEndpointAwsService.DYNAMODB,
      subnets: [{ subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
    });
    const xray = new ec2.InterfaceVpcEndpoint(this, 'XRayEndpoint', {
      vpc,
      service: ec2.InterfaceVpcEndpointAwsService.XRAY,
      subnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      open: false,
    });
    xray.connections.allowDefaultPortFrom(this.api, 'Functions send trace segments to X-Ray');
  }
}

/** Item actions on the table, only for items whose partition key matches one of `leadingKeys`. */
function grantItems(fn: lambda.IFunction, table: dynamodb.ITableV2, actions: string[], leadingKeys: string[]): void {
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: actions.map((action) => `dynamodb:${action}`),
      resources: [table.tableArn],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': leadingKeys } },
    }),
  );
}

/** Writing items of a table with a customer-managed key needs these KMS action families. */
function acknowledgeTableKeyGrant(grantee: { readonly role?: iam.IRole }): void {
  if (!grantee.role) return;
  for (const action of ['kms:GenerateDataKey*', 'kms:ReEncrypt*']) {
    Validations.of(grantee.role).acknowledge({
      id: `AwsSolutions-IAM5[Action::${action}]`,
      reason: `${action} is granted on the one data key of this region's table only (resource-scoped); DynamoDB needs the action family to write encrypted items.`,
    });
  }
}
