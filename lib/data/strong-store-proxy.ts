import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';

/** Database user the API functions log in as, through IAM. */
export const APP_DB_USER = 'commerce_app';

const POSTGRES_PORT = 5432;

export interface StrongStoreProxyProps {
  readonly vpc: ec2.IVpc;
  /** The region's member of the Aurora global database. */
  readonly cluster: rds.IDatabaseCluster;
  /** Engine of the cluster, which sets the proxy's engine family. */
  readonly engine: rds.IClusterEngine;
}

/**
 * RDS Proxy in front of the region's Aurora cluster: pools the connections of many
 * short-lived Lambda environments, requires TLS, and authenticates end to end with IAM,
 * so no database password reaches a function. Reachable only from `allowFrom` peers.
 */
export class StrongStoreProxy extends Construct implements ec2.IConnectable {
  readonly proxy: rds.DatabaseProxy;

  constructor(scope: Construct, id: string, props: StrongStoreProxyProps) {
    super(scope, id);
    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'RDS Proxy: accepts only the API functions',
      allowAllOutbound: false,
    });
    // The cluster lives in the stateful stack, which must not refer back to this one. A
    // handle imported here makes the proxy's ingress rule on the cluster's security group
    // a resource of this stack.
    const clusterGroups = props.cluster.connections.securityGroups.map((group, index) =>
      ec2.SecurityGroup.fromSecurityGroupId(this, `ClusterSecurityGroup${index}`, group.securityGroupId),
    );
    const cluster = rds.DatabaseCluster.fromDatabaseClusterAttributes(this, 'Cluster', {
      clusterIdentifier: props.cluster.clusterIdentifier,
      engine: props.engine,
      port: POSTGRES_PORT,
      securityGroups: clusterGroups,
    });
    for (const group of clusterGroups) {
      securityGroup.addEgressRule(group, ec2.Port.tcp(POSTGRES_PORT), 'RDS Proxy reaches its target cluster');
    }
    this.proxy = new rds.DatabaseProxy(this, 'Proxy', {
      proxyTarget: rds.ProxyTarget.fromCluster(cluster),
      vpc: props.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      securityGroups: [securityGroup],
      requireTLS: true,
      iamAuth: true,
      defaultAuthScheme: rds.DefaultAuthScheme.IAM_AUTH,
    });
  }

  get connections(): ec2.Connections {
    return this.proxy.connections;
  }

  get endpoint(): string {
    return this.proxy.endpoint;
  }

  allowFrom(peer: ec2.IConnectable): void {
    this.proxy.connections.allowFrom(peer, ec2.Port.tcp(POSTGRES_PORT), 'API functions query the strong store');
  }

  grantConnect(grantee: Parameters<rds.DatabaseProxy['grantConnect']>[0]): void {
    this.proxy.grantConnect(grantee, APP_DB_USER);
  }
}
