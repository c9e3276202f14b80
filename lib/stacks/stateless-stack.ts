import { Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as synthetics from 'aws-cdk-lib/aws-synthetics';
import type { Construct } from 'constructs';
import { RegionalApi } from '../api/regional-api';
import { WriterApi } from '../api/writer-api';
import { RegionalCache } from '../cache/regional-cache';
import { jurisdictionDirectory } from '../config/jurisdiction-directory';
import { eventualTableName, originSecretName, signingKeysParameterName, strongStoreIdentifier } from '../config/names';
import type { JurisdictionConfig, Topology } from '../config/topology';
import { STRONG_STORE_ENGINE } from '../data/strong-store';
import { StrongStoreProxy } from '../data/strong-store-proxy';
import { grantOriginSecretRead } from '../edge/origin-verification';
import { CanaryIdentity } from '../identity/canary-identity';
import { RegionalSigningKeys } from '../identity/regional-signing-keys';
import type { UserDirectory } from '../identity/user-directory';
import { ApiCanary } from '../operations/api-canary';
import { FaultDrills } from '../operations/fault-drills';
import { OperationsKey } from '../operations/operations-key';
import { RegionPromotion } from '../operations/region-promotion';
import { RegionalMonitoring } from '../operations/regional-monitoring';
import { CardPayments } from '../payments/card-payments';
import { ApiDnsRecords } from '../routing/api-dns-records';
import { grantTableKeyUse } from '../security/table-key-use';
import type { StatefulStack } from './stateful-stack';

export interface StatelessStackProps extends StackProps {
  readonly topology: Topology;
  readonly jurisdiction: JurisdictionConfig;
  /** The stateful stack of the same region. */
  readonly stateful: StatefulStack;
  /** The jurisdiction's user pool (in its primary region). */
  readonly userDirectory: UserDirectory;
}

/**
 * What a region runs: the regional API and its functions, the writer API, the cache, the
 * database proxy, the VPC endpoints the functions use, the region's DNS records and health
 * checks, and its operations: alarms, dashboard, canaries, the promotion workflow and the
 * fault-injection drills. Everything here can be destroyed and redeployed without losing data.
 */
export class StatelessStack extends Stack {
  readonly api: RegionalApi;
  readonly writerApi: WriterApi;
  readonly monitoring: RegionalMonitoring;
  /** Present when the jurisdiction has another region to take the writer from. */
  readonly promotion?: RegionPromotion;
  readonly drills: FaultDrills;
  /** `Global` walks the site's hostname, `Regional` this region's endpoint. */
  readonly canaries: Readonly<Record<string, ApiCanary>>;
  readonly cache: RegionalCache;
  readonly databaseProxy: StrongStoreProxy;
  readonly dns: ApiDnsRecords;
  /** Present with `payments.processor: stripe`: the one function that reaches the internet. */
  readonly payments?: CardPayments;

  constructor(scope: Construct, id: string, props: StatelessStackProps) {
    super(scope, id, props);
    const { topology, jurisdiction, stateful, userDirectory } = props;
    const vpc = stateful.network.vpc;
    const region = this.region;

    const zone = route53.PublicHostedZone.fromHostedZoneAttributes(this, 'Zone', topology.config.hostedZone);
    const apiHostname = topology.apiHostname;
    const jurisdictionHostname = topology.jurisdictionApiHostname(jurisdiction);
    const hostnames = [apiHostname, jurisdictionHostname];
    const writerHostname = topology.jurisdictionWriterHostname(jurisdiction);
    const certificate = new acm.Certificate(this, 'ApiCertificate', {
      domainName: apiHostname,
      subjectAlternativeNames: [jurisdictionHostname, writerHostname],
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
      tableName: eventualTableName(topology.config.appName, jurisdiction.name),
      encryptionKey: stateful.dataKey,
    });

    const operationsKey = new OperationsKey(this, 'OperationsKey').key;
    const signingKeys = new RegionalSigningKeys(this, 'SigningKeys', {
      userPoolId: userDirectory.userPool.userPoolId,
      parameterName: signingKeysParameterName(topology.config.appName, jurisdiction.name),
      logEncryptionKey: operationsKey,
    });
    this.api = new RegionalApi(this, 'Api', {
      signingKeys,
      vpc,
      logEncryptionKey: stateful.dataKey,
      hostnames,
      certificate,
      userPoolId: userDirectory.userPool.userPoolId,
      userPoolClientId: userDirectory.webClient.userPoolClientId,
      originSecretName: originSecretName(topology.config.appName),
      strongRoutesHost: writerHostname,
      // With Stripe the orders function waits for the payments function (at most 17 s) on top of
      // its own database work (at most about 9 s: connect, two lock waits, the writes).
      timeouts: topology.payments.processor === 'stripe' ? { orders: Duration.seconds(27) } : {},
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
    this.grantStores(eventualTable, stateful.dataKey);
    this.payments = this.addPayments(topology, vpc);
    this.cache.allowFrom(this.api);
    this.databaseProxy.allowFrom(this.api);
    this.addServiceEndpoints(vpc);

    signingKeys.readBy(this.api.authorizerFunction);
    this.writerApi = new WriterApi(this, 'WriterApi', {
      logEncryptionKey: operationsKey,
      hostname: writerHostname,
      certificate,
      functions: this.api.functions,
      authorizerFunction: this.api.authorizerFunction,
    });
    this.dns = new ApiDnsRecords(this, 'Dns', {
      topology,
      jurisdiction,
      region,
      zone,
      domainNames: this.api.domainNames,
      healthCheckHost: this.api.executeApiHost,
      writer: { domainName: this.writerApi.domainName, healthCheckHost: this.writerApi.executeApiHost },
    });
    this.monitoring = this.addMonitoring(props, operationsKey, eventualTable.tableName);
    this.promotion = this.addPromotion(props, operationsKey);
    this.canaries = this.addCanaries(props, operationsKey);
    this.drills = this.addDrills(props, eventualTable.tableName);
  }

  /**
   * Least privilege per domain: each function gets the items and stores its handler
   * touches, no more. Items are scoped by partition-key prefix (see EventualStore).
   */
  private grantStores(eventualTable: dynamodb.ITableV2, key: kms.IKey): void {
    const fn = this.api.functions;
    grantItems(fn.health, eventualTable, ['GetItem'], ['HEALTH']);
    grantTableKeyUse(key, fn.health, ['kms:Decrypt']);
    grantItems(fn.products, eventualTable, ['Query', 'UpdateItem'], ['PRODUCT#*']);
    grantItems(fn.likes, eventualTable, ['Query', 'UpdateItem'], ['PRODUCT#*']);
    grantItems(fn.likes, eventualTable, ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem'], ['IDEMPOTENCY#likes']);
    grantItems(fn.profile, eventualTable, ['Query', 'UpdateItem'], ['USER#*']);
    grantItems(fn.cart, eventualTable, ['Query'], ['PRODUCT#*', 'USER#*']);
    grantItems(fn.cart, eventualTable, ['UpdateItem'], ['USER#*']);
    for (const writer of [fn.products, fn.likes, fn.profile, fn.cart]) {
      grantTableKeyUse(key, writer);
      acknowledgeTableKeyGrant(writer);
    }
    for (const strongUser of [fn.health, fn.products, fn.orders]) this.databaseProxy.grantConnect(strongUser);
  }

  /** The card processor the config names; only Stripe adds anything beyond a variable. */
  private addPayments(topology: Topology, vpc: ec2.IVpc): CardPayments | undefined {
    const { processor, secretName } = topology.payments;
    if (processor !== 'stripe') {
      this.api.functions.orders.addEnvironment('PAYMENT_PROCESSOR', processor);
      return undefined;
    }
    if (!secretName) throw new Error(`${this.node.path}: payments.secretName is required with processor "stripe"`);
    return new CardPayments(this, 'CardPayments', { vpc, secretName, caller: this.api.functions.orders });
  }

  private addMonitoring(props: StatelessStackProps, operationsKey: kms.IKey, eventualTableName: string) {
    const { topology, jurisdiction, stateful } = props;
    const region = this.region;
    return new RegionalMonitoring(this, 'Monitoring', {
      appName: topology.config.appName,
      encryptionKey: operationsKey,
      jurisdiction: jurisdiction.name,
      thresholds: topology.operations.alarmThresholds,
      alarmEmails: topology.operations.alarmEmails,
      httpApi: this.api.httpApi,
      functions: { ...this.api.functions, authorizer: this.api.authorizerFunction },
      eventualTableName,
      replicaRegions: jurisdiction.regions.filter((other) => other !== region),
      strongStoreClusterIdentifier: stateful.strongStore.cluster.clusterIdentifier,
      cacheName: this.cache.cache.serverlessCacheName,
      databaseProxyName: this.databaseProxy.proxy.dbProxyName,
    });
  }

  /** Present when the jurisdiction has another region to take the writer from. */
  private addPromotion(props: StatelessStackProps, operationsKey: kms.IKey): RegionPromotion | undefined {
    const { topology, jurisdiction, stateful } = props;
    const region = this.region;
    if (jurisdiction.regions.length > 1) {
      return new RegionPromotion(this, 'RegionPromotion', {
        stateMachineName: promotionWorkflowName(topology, region),
        globalClusterIdentifier: strongStoreIdentifier(topology.config.appName, jurisdiction.name),
        clusterArn: stateful.strongStore.cluster.clusterArn,
        jurisdictionRegions: jurisdiction.regions,
        writerHealthCheck: this.dns.writerHealthCheck,
        logEncryptionKey: operationsKey,
      });
    }
    return undefined;
  }

  private addCanaries(props: StatelessStackProps, operationsKey: kms.IKey): Record<string, ApiCanary> {
    const { topology, jurisdiction, stateful, userDirectory } = props;
    const region = this.region;
    // The region's canary user, enrolled by the deploy and rotated (docs/operations.md#canary-user).
    const identity = new CanaryIdentity(this, 'CanaryIdentity', {
      userPool: userDirectory.userPool,
      userPoolClient: userDirectory.webClient,
      username: `canary-${region}@${topology.config.domainName}`,
      productTable: dynamodb.TableV2.fromTableAttributes(this, 'CanaryProductTable', {
        tableName: eventualTableName(topology.config.appName, jurisdiction.name),
        encryptionKey: stateful.dataKey,
      }),
      productSku: CANARY_SKU,
      productCurrency: jurisdiction.residency === 'eu' ? 'EUR' : 'USD',
      encryptionKey: operationsKey,
    });
    // Two canaries take turns (so they never sign their shared user in at the same
    // moment): one through the site's global hostname, as shoppers come, one through
    // this region's own endpoint, which fails when the region does.
    const interval = topology.operations.canaryIntervalMinutes;
    // The regional canary skips CloudFront, so it sends the proof of origin CloudFront would.
    const originSecret = originSecretName(topology.config.appName);
    const canaryTargets = {
      Global: { label: 'global', baseUrl: `https://${topology.config.domainName}`, startMinute: 0 },
      Regional: {
        label: region,
        baseUrl: `https://${this.api.executeApiHost}`,
        originSecretName: originSecret,
        startMinute: Math.floor(interval / 2),
      },
    };
    const canaries: Record<string, ApiCanary> = {};
    for (const [name, target] of Object.entries(canaryTargets)) {
      const canary = new ApiCanary(this, `Canary${name}`, {
        canaryName: `walk-${name.toLowerCase()}`,
        targets: [
          {
            label: target.label,
            baseUrl: target.baseUrl,
            ...('originSecretName' in target ? { originSecretName: target.originSecretName } : {}),
          },
        ],
        sku: CANARY_SKU,
        userPoolArn: userDirectory.userPool.userPoolArn,
        userPoolClientId: userDirectory.webClient.userPoolClientId,
        encryptionKey: operationsKey,
        credentials: identity.secret,
        schedule: synthetics.Schedule.cron({ minute: `${target.startMinute}/${interval}` }),
      });
      if ('originSecretName' in target) grantOriginSecretRead(canary.role, target.originSecretName);
      // The first run finds the user enrolled and the product in the catalog.
      canary.canary.node.addDependency(identity.trigger);
      canaries[name] = canary;
      this.monitoring.addCanaryAlarm(
        `Canary${name}`,
        canary.metricSuccessPercent({ period: Duration.minutes(interval) }),
      );
    }
    return canaries;
  }

  private addDrills(props: StatelessStackProps, eventualTableName: string): FaultDrills {
    const { topology, stateful } = props;
    const region = this.region;
    const alarm = (name: Parameters<RegionalMonitoring['alarmNamed']>[0]) => this.monitoring.alarmNamed(name);
    return new FaultDrills(this, 'FaultDrills', {
      subnets: stateful.network.vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_ISOLATED }).subnets,
      eventualTableName,
      namePrefix: `${topology.config.appName}-${region}`,
      promotion: this.promotion && {
        stateMachine: this.promotion.stateMachine,
        stateMachineName: promotionWorkflowName(topology, region),
      },
      // Each drill's hypothesis is that the customer does not notice: these must stay quiet.
      stopConditions: {
        // The region is meant to fail here: what must not fail is its clients' global walk.
        NetworkIsolation: [alarm('CanaryGlobal')],
        ReplicationPause: [alarm('Api5xxRate'), alarm('FunctionErrors'), alarm('CanaryGlobal')],
        AuroraFailover: [alarm('FunctionErrors'), alarm('CanaryGlobal')],
      },
    });
  }

  /** The functions have no route to the internet: AWS APIs they call come through endpoints. */
  private addServiceEndpoints(vpc: ec2.IVpc): void {
    // DynamoDB's gateway endpoint is reached through a prefix list that differs per region
    // and would need a lookup; with no internet or NAT gateway in the VPC, HTTPS egress
    // can only reach the endpoints anyway.
    this.api.connections.allowToAnyIpv4(ec2.Port.tcp(443), 'HTTPS to AWS service endpoints only (isolated subnets)');
    const dynamodbEndpoint = new ec2.GatewayVpcEndpoint(this, 'DynamoDbEndpoint', {
      vpc,
      service: ec2.GatewayVpcEndpointAwsService.DYNAMODB,
      subnets: [{ subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
    });
    // The VPC's one way to DynamoDB: only the item calls the functions make, only on this
    // account's tables, so no data can be copied out to another account's table
    // (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/vpc-endpoints-dynamodb.html).
    dynamodbEndpoint.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ThisAccountsTablesOnly',
        principals: [new iam.AnyPrincipal()],
        actions: TABLE_ITEM_ACTIONS.map((action) => `dynamodb:${action}`),
        resources: ['*'],
        conditions: { StringEquals: { 'aws:ResourceAccount': this.account } },
      }),
    );
    const xray = new ec2.InterfaceVpcEndpoint(this, 'XRayEndpoint', {
      vpc,
      service: ec2.InterfaceVpcEndpointAwsService.XRAY,
      subnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      open: false,
    });
    xray.connections.allowDefaultPortFrom(this.api, 'Functions send trace segments to X-Ray');
    // X-Ray's calls name no resource: only this account's principals, and only the trace uploads.
    xray.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ThisAccountsTracesOnly',
        principals: [new iam.AnyPrincipal()],
        actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:PrincipalAccount': this.account } },
      }),
    );
  }
}

/**
 * The product every canary views and puts in its cart: created, when missing, by each
 * deploy's canary enrolment (`CanaryIdentity`, docs/operations.md#canary-user), at price 0
 * and with no stock, so it is never sold.
 */
export const CANARY_SKU = 'CANARY-1';

/** The DynamoDB calls the functions in the VPC make, all on items of this account's tables. */
const TABLE_ITEM_ACTIONS = ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query'] as const;

/** The promotion workflow's name, which the runbook uses: `<app>-promote-<region>`. */
export function promotionWorkflowName(topology: Topology, region: string): string {
  return `${topology.config.appName}-promote-${region}`;
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

function acknowledgeTableKeyGrant(grantee: { readonly role?: iam.IRole }): void {
  if (!grantee.role) return;
  for (const action of ['kms:GenerateDataKey*', 'kms:ReEncrypt*']) {
    Validations.of(grantee.role).acknowledge({
      id: `AwsSolutions-IAM5[Action::${action}]`,
      reason: `${action} is granted on this region's data key only (resource-scoped) and only through DynamoDB in this region (kms:ViaService): the action family DynamoDB's guidance lists for principals that write a table under a customer managed key (https://docs.aws.amazon.com/kms/latest/developerguide/services-dynamodb.html).`,
    });
  }
}
