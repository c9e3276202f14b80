import { RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { eventualTableName, strongStoreIdentifier } from '../config/names';
import type { JurisdictionConfig, Topology } from '../config/topology';
import { EventualStore } from '../data/eventual-store';
import { SchemaMigrations } from '../data/schema-migrations';
import { StrongStore } from '../data/strong-store';
import { UserDirectory } from '../identity/user-directory';
import { RegionalNetwork } from '../network/regional-network';
import { allowRegionalLogs, restrictGrantsToAwsServices } from '../security/key-policy';

export interface StatefulStackProps extends StackProps {
  readonly topology: Topology;
  readonly jurisdiction: JurisdictionConfig;
  /**
   * When set, this stack holds the jurisdiction's DynamoDB global table, with a replica
   * in each listed region encrypted by that region's key. Only the stack that deploys
   * last in the jurisdiction may hold it: every replica key must exist before the table.
   * @default - the table lives in another region's stack
   */
  readonly globalTableReplicaKeys?: Readonly<Record<string, kms.IKey>>;
}

/**
 * What a region keeps: its network, its data key, its member of the jurisdiction's Aurora
 * global database, and (primary region) the user pool or (last region) the global table.
 * Termination-protected; every store is retained when removed from the app.
 */
export class StatefulStack extends Stack {
  readonly network: RegionalNetwork;
  readonly dataKey: kms.Key;
  readonly strongStore: StrongStore;
  readonly migrations: SchemaMigrations;
  readonly userDirectory?: UserDirectory;
  readonly eventualStore?: EventualStore;

  private readonly zones: string[];

  constructor(scope: Construct, id: string, props: StatefulStackProps) {
    super(scope, id, { ...props, terminationProtection: true });
    const { topology, jurisdiction } = props;
    this.zones = topology.availabilityZones(this.region);
    const region = this.region;
    const isPrimary = region === jurisdiction.primaryRegion;

    this.dataKey = new kms.Key(this, 'DataKey', {
      description: `${topology.config.appName} ${jurisdiction.name} data in ${region}: DynamoDB replica, Aurora storage, master secret, logs`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    restrictGrantsToAwsServices(this.dataKey);
    allowRegionalLogs(this.dataKey);

    this.network = new RegionalNetwork(this, 'Network', {
      availabilityZones: this.zones,
      logEncryptionKey: this.dataKey,
    });

    this.strongStore = new StrongStore(this, 'StrongStore', {
      role: isPrimary ? 'primary' : 'secondary',
      globalClusterIdentifier: strongStoreIdentifier(topology.config.appName, jurisdiction.name),
      vpc: this.network.vpc,
      storageKey: this.dataKey,
    });

    this.migrations = new SchemaMigrations(this, 'SchemaMigrations', {
      vpc: this.network.vpc,
      cluster: this.strongStore.cluster,
      master: this.strongStore.master,
      logEncryptionKey: this.dataKey,
    });

    if (isPrimary) {
      this.userDirectory = new UserDirectory(this, 'Users', {
        callbackUrls: topology.identity.callbackUrls,
        logoutUrls: topology.identity.logoutUrls,
      });
    }

    if (props.globalTableReplicaKeys) {
      this.eventualStore = new EventualStore(this, 'EventualStore', {
        tableName: eventualTableName(topology.config.appName, jurisdiction.name),
        tableKey: this.dataKey,
        replicaKeyArns: Object.fromEntries(
          Object.entries(props.globalTableReplicaKeys).map(([replicaRegion, key]) => [replicaRegion, key.keyArn]),
        ),
      });
    }
  }

  /** Zones come from the topology: the default lookup would need AWS credentials at synth. */
  override get availabilityZones(): string[] {
    return this.zones;
  }
}
