import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

export interface RegionalCacheProps {
  readonly vpc: ec2.IVpc;
  /**
   * ElastiCache requires a physical name for serverless caches; keep it unique per
   * account and region (at most 40 characters, lowercase).
   */
  readonly cacheName: string;
  /** Customer-managed key for data at rest. */
  readonly encryptionKey: kms.IKey;
  /**
   * Upper bound of stored data, in GB, to cap cost.
   * @default 10
   */
  readonly maxDataStorageGb?: number;
}

/** Valkey's primary and reader endpoint ports on ElastiCache Serverless. */
const CACHE_PORTS = ec2.Port.tcpRange(6379, 6380);

/**
 * The region's read cache for the catalog: ElastiCache Serverless for Valkey, which only
 * speaks TLS, in the isolated subnets, reachable from nothing until a client is allowed
 * with `allowFrom`. There is no L2 in aws-cdk-lib, hence the L1.
 */
export class RegionalCache extends Construct implements ec2.IConnectable {
  readonly connections: ec2.Connections;
  readonly cache: elasticache.CfnServerlessCache;

  constructor(scope: Construct, id: string, props: RegionalCacheProps) {
    super(scope, id);
    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Regional Valkey cache: accepts only the API functions',
      allowAllOutbound: false,
    });
    this.connections = new ec2.Connections({ securityGroups: [securityGroup], defaultPort: CACHE_PORTS });
    this.cache = new elasticache.CfnServerlessCache(this, 'Cache', {
      serverlessCacheName: props.cacheName,
      engine: 'valkey',
      majorEngineVersion: '8',
      description: 'Catalog read cache (cache-aside, TTL)',
      kmsKeyId: props.encryptionKey.keyArn,
      securityGroupIds: [securityGroup.securityGroupId],
      subnetIds: props.vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_ISOLATED }).subnetIds,
      cacheUsageLimits: { dataStorage: { maximum: props.maxDataStorageGb ?? 10, unit: 'GB' } },
    });
  }

  /** Host of the TLS endpoint clients connect to. */
  get endpointAddress(): string {
    return this.cache.attrEndpointAddress;
  }

  get endpointPort(): string {
    return this.cache.attrEndpointPort;
  }

  allowFrom(peer: ec2.IConnectable): void {
    this.connections.allowDefaultPortFrom(peer, 'API functions read and write the cache');
  }
}
