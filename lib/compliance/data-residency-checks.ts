import { type CfnResource, Stack } from 'aws-cdk-lib';
import { NagMessageLevel, NagPack, type NagPackProps, NagRuleCompliance, type NagRuleResult } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { eventualTableName, strongStoreIdentifier } from '../config/names';
import { isEuRegion } from '../config/regions';
import type { Topology } from '../config/topology';

/** What the pack needs to know about the topology: where EU-pinned data lives and its names. */
export interface ResidencyScope {
  /** Regions of the EU-pinned jurisdictions: their stacks hold EU data. */
  readonly euPinnedRegions: readonly string[];
  /** Global-table names of EU-pinned jurisdictions. */
  readonly euTableNames: readonly string[];
  /** Aurora global-cluster identifiers of EU-pinned jurisdictions. */
  readonly euGlobalClusters: readonly string[];
}

export function residencyScopeOf(topology: Topology): ResidencyScope {
  const pinned = topology.jurisdictions.filter((j) => j.residency === 'eu');
  return {
    euPinnedRegions: pinned.flatMap((j) => [...j.regions]),
    euTableNames: pinned.map((j) => eventualTableName(topology.config.appName, j.name)),
    euGlobalClusters: pinned.map((j) => strongStoreIdentifier(topology.config.appName, j.name)),
  };
}

const REGION = '((?:[a-z]{2}(?:-gov)?)-[a-z]+-\\d)';
const ARN_REGION = new RegExp(`arn:[a-z-]+:[a-z0-9-]+:${REGION}:`, 'g');
const S3_REGIONAL_HOST = new RegExp(`\\.s3[.-]${REGION}\\.amazonaws\\.com`, 'g');

/**
 * Every region a CloudFormation value points at: regions written in ARNs and S3 regional
 * host names, the region of a cross-region `Fn::GetStackOutput`, and the stack's own
 * region for references inside the stack (`Ref`, `Fn::GetAtt`, `AWS::Region`).
 */
export function regionsIn(value: unknown, home: string): Set<string> {
  const found = new Set<string>();
  const addWritten = (text: string): void => {
    for (const pattern of [ARN_REGION, S3_REGIONAL_HOST])
      for (const [, region] of text.matchAll(pattern)) if (region) found.add(region);
  };
  const visit = (v: unknown): void => {
    if (typeof v === 'string') {
      addWritten(v);
      return;
    }
    if (Array.isArray(v)) {
      for (const item of v) visit(item);
      return;
    }
    if (!v || typeof v !== 'object') return;
    const entries = Object.entries(v as Record<string, unknown>);
    const [only] = entries;
    if (entries.length === 1 && only) {
      const [fn, args] = only;
      if (fn === 'Fn::GetStackOutput') {
        const region = (args as { Region?: unknown }).Region;
        found.add(typeof region === 'string' ? region : home);
        return;
      }
      if (fn === 'Ref' || fn === 'Fn::GetAtt' || fn === 'Fn::ImportValue') {
        if (fn !== 'Ref' || !String(args).startsWith('AWS::') || args === 'AWS::Region') found.add(home);
        return;
      }
      const parts: unknown = fn === 'Fn::Join' && Array.isArray(args) ? args[1] : undefined;
      if (Array.isArray(parts)) {
        const text = parts
          .map((p) => (typeof p === 'string' ? p : JSON.stringify(p) === '{"Ref":"AWS::Region"}' ? home : '\u0000'))
          .join('');
        addWritten(text);
        parts.filter((p) => typeof p === 'object').forEach(visit);
        return;
      }
    }
    for (const [, child] of entries) visit(child);
  };
  visit(value);
  return found;
}

const ROLE_ARN = /^arn:[a-z-]+:iam::[^:]*:role\/(?:.*\/)?([\w+=,.@-]+)$/;
const BUCKET_ARN = /^arn:[a-z-]+:s3:::([a-z0-9.-]+)(?:\/.*)?$/;

/**
 * Regions of IAM roles and S3 buckets by physical name, across the whole app: their ARNs
 * carry no region, so a cross-region grant (`key.grantDecrypt(roleElsewhere)`) or an S3
 * replication destination is placed by finding the named resource's stack.
 */
function namedResourceRegions(root: IConstruct): Map<string, string> {
  const regions = new Map<string, string>();
  for (const construct of root.node.findAll()) {
    const resource = construct as Partial<CfnResource> & { roleName?: unknown; bucketName?: unknown };
    const kind =
      resource.cfnResourceType === 'AWS::IAM::Role'
        ? 'role'
        : resource.cfnResourceType === 'AWS::S3::Bucket'
          ? 'bucket'
          : '';
    if (!kind) continue;
    const stack = Stack.of(construct);
    const name = stack.resolve(kind === 'role' ? resource.roleName : resource.bucketName);
    if (typeof name === 'string') regions.set(`${kind}/${name}`, stack.region);
  }
  return regions;
}

/** The text of an `Fn::Join` of literals and pseudo-parameters (`arn:${Partition}:iam::…`). */
function joinedText(v: unknown): string | undefined {
  const join = (v as { 'Fn::Join'?: [string, unknown[]] } | null)?.['Fn::Join'];
  if (!Array.isArray(join) || !Array.isArray(join[1])) return undefined;
  return join[1]
    .map((part) =>
      typeof part === 'string' ? part : JSON.stringify(part) === '{"Ref":"AWS::Partition"}' ? 'aws' : '\u0000',
    )
    .join(join[0]);
}

/** `regionsIn`, plus the regions of roles and buckets named by region-less ARNs. */
function regionsOf(value: unknown, home: string, named: Map<string, string>): Set<string> {
  const found = regionsIn(value, home);
  const visit = (v: unknown): void => {
    const text = typeof v === 'string' ? v : joinedText(v);
    if (text !== undefined) {
      const role = ROLE_ARN.exec(text)?.[1];
      const bucket = BUCKET_ARN.exec(text)?.[1];
      const region = (role && named.get(`role/${role}`)) || (bucket && named.get(`bucket/${bucket}`));
      if (region) found.add(region);
      if (typeof v === 'string') return;
    }
    if (Array.isArray(v)) {
      for (const item of v) visit(item);
    } else if (v && typeof v === 'object') {
      for (const child of Object.values(v)) visit(child);
    }
  };
  visit(value);
  return found;
}

function outsideEu(regions: Iterable<string>): string[] {
  return [...regions].filter((region) => !isEuRegion(region));
}

/**
 * The resource's properties as they will be deployed: `_toCloudFormation` includes raw
 * overrides (the Aurora secondary's `GlobalClusterIdentifier` is one), which the typed L1
 * properties do not show.
 */
// Five rules read each resource; resolve its template once per validation run.
const resolvedCache = new WeakMap<CfnResource, { props: any; region: string }>();

function resolved(node: CfnResource): { props: any; region: string } {
  const cached = resolvedCache.get(node);
  if (cached) return cached;
  const result = resolveOnce(node);
  resolvedCache.set(node, result);
  return result;
}

function resolveOnce(node: CfnResource): { props: any; region: string } {
  const stack = Stack.of(node);
  const props = stack.resolve((node as unknown as { _toCloudFormation(): any })._toCloudFormation()).Resources;
  const [resource] = Object.values(props as Record<string, { Properties?: unknown }>);
  return { props: resource?.Properties ?? {}, region: stack.region };
}

function verdict(violating: boolean): NagRuleResult {
  return violating ? NagRuleCompliance.NON_COMPLIANT : NagRuleCompliance.COMPLIANT;
}

/** Resources whose own policy can grant principals access to EU data. */
const RESOURCE_POLICY_TYPES = new Set([
  'AWS::KMS::Key',
  'AWS::S3::BucketPolicy',
  'AWS::DynamoDB::GlobalTable',
  'AWS::SQS::QueuePolicy',
  'AWS::SNS::TopicPolicy',
]);

/** Key names under which CloudFormation resources name an encryption key. */
const KEY_PROPERTY = /^(kms.*key.*|.*kmskeyid|.*keyarn|encryptionkey|kmsmasterkeyid|sseawskmskeyid)$/i;
/** Properties through which a resource sends data to another resource. */
const EGRESS: Readonly<Record<string, (props: any) => unknown>> = {
  'AWS::Logs::SubscriptionFilter': (p) => p.DestinationArn,
  'AWS::Events::Rule': (p) => (p.Targets ?? []).map((t: any) => t.Arn),
  'AWS::Lambda::EventInvokeConfig': (p) => p.DestinationConfig,
  'AWS::Lambda::EventSourceMapping': (p) => p.DestinationConfig,
  'AWS::SNS::Subscription': (p) => p.Endpoint,
  'AWS::SQS::Queue': (p) => p.RedrivePolicy,
  'AWS::KinesisFirehose::DeliveryStream': (p) => [
    p.S3DestinationConfiguration,
    p.ExtendedS3DestinationConfiguration,
    p.HttpEndpointDestinationConfiguration,
  ],
  'AWS::Pipes::Pipe': (p) => p.Target,
  'AWS::Logs::Delivery': (p) => p.DeliveryDestinationArn,
};

/**
 * Residency rules: data of an EU-pinned jurisdiction stays in the EU (docs/design.md#residency, first of
 * the three guards). Rule ids read `DataResidency-<rule>`; they are errors, and none of
 * them is acknowledged anywhere in this app — a finding means a design change, not an
 * exception.
 */
export class DataResidencyChecks extends NagPack {
  readonly name = 'DataResidency';

  static forTopology(topology: Topology, props?: NagPackProps): DataResidencyChecks {
    return new DataResidencyChecks(residencyScopeOf(topology), undefined, props);
  }

  constructor(
    private readonly scope: ResidencyScope,
    validationScope?: IConstruct,
    props?: NagPackProps,
  ) {
    super(validationScope, props);
    this.packName = 'DataResidency';
  }

  private isEuPinned(region: string): boolean {
    return this.scope.euPinnedRegions.includes(region);
  }

  private namedCache?: { root: IConstruct; regions: Map<string, string> };

  private named(node: CfnResource): Map<string, string> {
    const root = node.node.root;
    if (this.namedCache?.root !== root) this.namedCache = { root, regions: namedResourceRegions(root) };
    return this.namedCache.regions;
  }

  /** Regions a destination reaches; a destination whose region cannot be told counts as outside. */
  private destinationOutsideEu(value: unknown, home: string, node: CfnResource): boolean {
    const regions = regionsOf(value, home, this.named(node));
    return regions.size === 0 || outsideEu(regions).length > 0;
  }

  protected checkResource(node: CfnResource): void {
    const rule = (suffix: string, info: string, explanation: string, check: (n: CfnResource) => NagRuleResult) =>
      this.applyRule({
        ruleSuffixOverride: suffix,
        info,
        explanation,
        level: NagMessageLevel.ERROR,
        rule: check,
        node,
      });

    rule(
      'ReplicatesOutsideEU',
      'EU-pinned data is replicated to, or joined from, a region outside the EU.',
      'Global-table replicas, Aurora global-cluster members, S3 replication destinations and cache global datastores of an EU-pinned jurisdiction must all be in EU regions.',
      (n) => this.replication(n),
    );
    rule(
      'SendsOutsideEU',
      'A resource of an EU-pinned jurisdiction sends data to a destination outside the EU.',
      'Log subscriptions, event targets, Lambda destinations, SNS/SQS/Firehose/Pipes targets of EU-pinned stacks must be in EU regions.',
      (n) => this.egress(n),
    );
    rule(
      'KeyOutsideEU',
      'A resource of an EU-pinned jurisdiction is encrypted with a KMS key outside the EU.',
      'Keys that protect EU data must live in the EU, or the data is only as resident as its key.',
      (n) => this.keys(n),
    );
    rule(
      'GrantOutsideEU',
      'A principal or function outside the EU is granted access to EU-pinned data.',
      'Policies in non-EU stacks must not name resources of EU-pinned regions, and resource policies of EU-pinned stacks must not name principals from stacks outside the EU.',
      (n) => this.grants(n),
    );
    rule(
      'LogsOutsideEU',
      'A log stream that can carry EU shoppers\u2019 data is delivered to a destination outside the EU.',
      'CloudFront standard logs and WAF logs of a CloudFront web ACL carry every jurisdiction\u2019s shoppers, and the logs of an EU-pinned stack (API access logs, flow logs, execution logs, deliveries) carry EU data: their buckets, log groups and streams must be in EU regions.',
      (n) => this.logDestinations(n),
    );
    rule(
      'CloudFrontLogsOutsideEU',
      'CloudFront access logs (which hold EU users\u2019 IP addresses) are delivered to a bucket outside the EU.',
      'CloudFront is global; its standard logs must land in an EU bucket, or be off.',
      (n) => this.cloudFrontLogs(n),
    );
  }

  private replication(node: CfnResource): NagRuleResult {
    const { props, region } = resolved(node);
    const pinned = this.isEuPinned(region);
    switch (node.cfnResourceType) {
      case 'AWS::DynamoDB::GlobalTable':
        if (!pinned && !this.scope.euTableNames.includes(props.TableName)) return NagRuleCompliance.NOT_APPLICABLE;
        return verdict(outsideEu([region, ...(props.Replicas ?? []).map((r: any) => r.Region)]).length > 0);
      case 'AWS::RDS::DBCluster':
        if (!this.scope.euGlobalClusters.includes(props.GlobalClusterIdentifier))
          return NagRuleCompliance.NOT_APPLICABLE;
        return verdict(!isEuRegion(region));
      case 'AWS::ElastiCache::GlobalReplicationGroup':
        if (!pinned) return NagRuleCompliance.NOT_APPLICABLE;
        return verdict(outsideEu((props.Members ?? []).map((m: any) => m.ReplicationGroupRegion ?? region)).length > 0);
      case 'AWS::S3::Bucket': {
        if (!pinned || !props.ReplicationConfiguration) return NagRuleCompliance.NOT_APPLICABLE;
        const destinations = (props.ReplicationConfiguration.Rules ?? []).map((r: any) => r.Destination?.Bucket);
        return verdict(destinations.some((d: unknown) => this.destinationOutsideEu(d, region, node)));
      }
      case 'AWS::SecretsManager::Secret':
        if (!pinned || !props.ReplicaRegions) return NagRuleCompliance.NOT_APPLICABLE;
        return verdict(outsideEu(props.ReplicaRegions.map((r: any) => r.Region)).length > 0);
      case 'AWS::KMS::ReplicaKey':
        // A replica of an EU-pinned key, created outside the EU.
        if (![...regionsIn(props.PrimaryKeyArn, region)].some((r) => this.isEuPinned(r))) {
          return pinned ? NagRuleCompliance.COMPLIANT : NagRuleCompliance.NOT_APPLICABLE;
        }
        return verdict(!isEuRegion(region));
      case 'AWS::Backup::BackupPlan': {
        if (!pinned) return NagRuleCompliance.NOT_APPLICABLE;
        const copies = (props.BackupPlan?.BackupPlanRule ?? []).flatMap((rule: any) =>
          (rule.CopyActions ?? []).map((copy: any) => copy.DestinationBackupVaultArn),
        );
        return verdict(copies.some((c: unknown) => this.destinationOutsideEu(c, region, node)));
      }
      default:
        return NagRuleCompliance.NOT_APPLICABLE;
    }
  }

  private egress(node: CfnResource): NagRuleResult {
    const destinations = EGRESS[node.cfnResourceType];
    if (!destinations) return NagRuleCompliance.NOT_APPLICABLE;
    const { props, region } = resolved(node);
    if (!this.isEuPinned(region)) return NagRuleCompliance.NOT_APPLICABLE;
    // An alarm notification holds an alarm's name, description, state and metric values:
    // no customer data, so a subscriber anywhere receives nothing of the EU's.
    if (node.cfnResourceType === 'AWS::SNS::Subscription' && alarmOnlyTopic(node, props.TopicArn)) {
      return NagRuleCompliance.NOT_APPLICABLE;
    }
    const targets = [destinations(props)].flat(2).filter((t) => t !== undefined && t !== null);
    if (targets.length === 0) return NagRuleCompliance.NOT_APPLICABLE;
    return verdict(targets.some((target) => this.destinationOutsideEu(target, region, node)));
  }

  private keys(node: CfnResource): NagRuleResult {
    const { props, region } = resolved(node);
    if (!this.isEuPinned(region)) return NagRuleCompliance.NOT_APPLICABLE;
    const keyValues: unknown[] = [];
    const collect = (v: unknown): void => {
      if (Array.isArray(v)) {
        for (const item of v) collect(item);
        return;
      }
      if (!v || typeof v !== 'object') return;
      for (const [name, child] of Object.entries(v as Record<string, unknown>)) {
        if (KEY_PROPERTY.test(name)) keyValues.push(child);
        else collect(child);
      }
    };
    collect(props);
    if (keyValues.length === 0) return NagRuleCompliance.NOT_APPLICABLE;
    return verdict(outsideEu(regionsIn(keyValues, region)).length > 0);
  }

  private grants(node: CfnResource): NagRuleResult {
    const { props, region } = resolved(node);
    const type = node.cfnResourceType;
    if (!this.isEuPinned(region) && ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy', 'AWS::IAM::Role'].includes(type)) {
      const documents = [props.PolicyDocument, ...(props.Policies ?? []).map((p: any) => p.PolicyDocument)];
      const resources = documents.flatMap((d: any) => (d?.Statement ?? []).map((s: any) => s.Resource));
      return verdict([...regionsOf(resources, region, this.named(node))].some((r) => this.isEuPinned(r)));
    }
    if (this.isEuPinned(region)) {
      const policies =
        type === 'AWS::DynamoDB::GlobalTable'
          ? (props.Replicas ?? []).map((r: any) => r.ResourcePolicy?.PolicyDocument)
          : [props.KeyPolicy ?? props.PolicyDocument];
      const documents = policies.filter(Boolean);
      if (documents.length === 0 || !RESOURCE_POLICY_TYPES.has(type)) return NagRuleCompliance.NOT_APPLICABLE;
      const principals = documents.flatMap((d: any) => (d.Statement ?? []).map((s: any) => s.Principal));
      return verdict(outsideEu(regionsOf(principals, region, this.named(node))).length > 0);
    }
    return NagRuleCompliance.NOT_APPLICABLE;
  }

  /**
   * Log streams and where they are delivered. A stream carries EU data when its resource is
   * in an EU-pinned region, or when it is global (CloudFront, a CloudFront web ACL) and any
   * jurisdiction is EU-pinned: one distribution serves every jurisdiction's shoppers.
   */
  private logDestinations(node: CfnResource): NagRuleResult {
    const { props, region } = resolved(node);
    const pinned = this.isEuPinned(region);
    const euAnywhere = this.scope.euPinnedRegions.length > 0;
    let carriesEu = pinned;
    let destinations: unknown[];
    switch (node.cfnResourceType) {
      case 'AWS::Logs::Delivery': {
        const source = resourceIn(node, 'AWS::Logs::DeliverySource', props.DeliverySourceName);
        const destination = resourceIn(node, 'AWS::Logs::DeliveryDestination', props.DeliveryDestinationArn);
        carriesEu ||= euAnywhere && isGlobalLogSource(node, source ? resolved(source).props.ResourceArn : undefined);
        // A destination that cannot be found is one whose region cannot be told.
        destinations = [destination ? (resolved(destination).props.DestinationResourceArn ?? null) : null];
        break;
      }
      case 'AWS::WAFv2::LoggingConfiguration':
        carriesEu ||= euAnywhere && isGlobalLogSource(node, props.ResourceArn);
        destinations = props.LogDestinationConfigs ?? [];
        break;
      case 'AWS::ApiGatewayV2::Stage':
      case 'AWS::ApiGateway::Stage':
        destinations = [props.AccessLogSettings?.DestinationArn].filter((d) => d !== undefined);
        break;
      case 'AWS::EC2::FlowLog':
        // A log group given by name is in the flow log's own region.
        destinations = [
          props.LogDestination ?? (props.LogGroupName === undefined ? undefined : { Ref: 'AWS::Region' }),
        ];
        destinations = destinations.filter((d) => d !== undefined);
        break;
      case 'AWS::StepFunctions::StateMachine':
        destinations = (props.LoggingConfiguration?.Destinations ?? []).map(
          (d: any) => d.CloudWatchLogsLogGroup?.LogGroupArn ?? null,
        );
        break;
      default:
        return NagRuleCompliance.NOT_APPLICABLE;
    }
    if (!carriesEu || destinations.length === 0) return NagRuleCompliance.NOT_APPLICABLE;
    return verdict(destinations.some((d) => this.destinationOutsideEu(d, region, node)));
  }

  private cloudFrontLogs(node: CfnResource): NagRuleResult {
    if (node.cfnResourceType !== 'AWS::CloudFront::Distribution' || this.scope.euPinnedRegions.length === 0) {
      return NagRuleCompliance.NOT_APPLICABLE;
    }
    const { props, region } = resolved(node);
    const logging = props.DistributionConfig?.Logging;
    if (!logging) return NagRuleCompliance.COMPLIANT;
    const regions = regionsIn(logging.Bucket, region);
    return verdict(regions.size === 0 || outsideEu(regions).length > 0);
  }
}

/** The resource of `type` in `node`'s stack that `value` names: by `Ref`, `Fn::GetAtt` or its `Name`. */
function resourceIn(node: CfnResource, type: string, value: unknown): CfnResource | undefined {
  const stack = Stack.of(node);
  const ref = value as { Ref?: unknown; 'Fn::GetAtt'?: unknown[] } | null;
  const logicalId = typeof ref?.Ref === 'string' ? ref.Ref : ref?.['Fn::GetAtt']?.[0];
  return stack.node
    .findAll()
    .filter((c): c is CfnResource => (c as Partial<CfnResource>).cfnResourceType === type)
    .find((candidate) =>
      logicalId !== undefined
        ? stack.resolve(candidate.logicalId) === logicalId
        : typeof value === 'string' && resolved(candidate).props.Name === value,
    );
}

/**
 * Whether a log source's resource is global, so its logs hold every jurisdiction's
 * shoppers: a CloudFront distribution, or a web ACL of scope CLOUDFRONT.
 */
function isGlobalLogSource(node: CfnResource, resourceArn: unknown): boolean {
  const text = JSON.stringify(resourceArn ?? null);
  if (text.includes(':cloudfront::') || text.includes(':global/webacl/')) return true;
  const distribution = resourceIn(node, 'AWS::CloudFront::Distribution', resourceArn);
  const acl = resourceIn(node, 'AWS::WAFv2::WebACL', resourceArn);
  if (distribution) return true;
  if (acl) return resolved(acl).props.Scope === 'CLOUDFRONT';
  // A distribution named by its id inside an ARN built with Fn::Join.
  return [...text.matchAll(/"Ref":"([^"]+)"/g)].some(
    ([, id]) => id !== undefined && resourceIn(node, 'AWS::CloudFront::Distribution', { Ref: id }) !== undefined,
  );
}

const ALARM_ACTIONS = ['AlarmActions', 'OKActions', 'InsufficientDataActions'];

/** Per app: whether `appPublishesWidely`; the whole app is read once, not once per subscription. */
const publishesWidely = new WeakMap<object, boolean>();

/** Whether an identity policy of any stack of the app allows sns:Publish on a wildcard resource. */
function appPublishesWidely(node: CfnResource): boolean {
  const app = node.node.root;
  let known = publishesWidely.get(app);
  if (known === undefined) {
    known = readPublishesWidely(app);
    publishesWidely.set(app, known);
  }
  return known;
}

function readPublishesWidely(app: IConstruct): boolean {
  const stacks = app.node.findAll().filter((c): c is Stack => Stack.isStack(c));
  const publishes = (action: unknown) => [action].flat().some((a) => a === '*' || a === 'sns:*' || a === 'sns:Publish');
  const wildcard = (resource: unknown) => [resource].flat().some((r) => typeof r === 'string' && r.includes('*'));
  return stacks.some((stack) => {
    const template = stack.resolve((stack as unknown as { _toCloudFormation(): any })._toCloudFormation());
    return Object.values(template.Resources ?? {}).some((resource: any) => {
      if (!['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy', 'AWS::IAM::Role'].includes(resource.Type)) return false;
      const p = resource.Properties ?? {};
      const documents = [p.PolicyDocument, ...(p.Policies ?? []).map((x: any) => x.PolicyDocument)];
      return documents
        .flatMap((d: any) => d?.Statement ?? [])
        .some((s: any) => s.Effect === 'Allow' && publishes(s.Action) && wildcard(s.Resource));
    });
  });
}

/**
 * Whether the topic `topicArn` names (in `node`'s stack) is published to by CloudWatch alarms
 * alone: every other mention of it in the stack's template is a subscription, or a topic
 * policy that allows nobody but CloudWatch, no output hands it to another stack, and no
 * identity policy anywhere in the app may publish to topics it does not name (a wildcard).
 * Principals outside the app are not seen: an account's administrators can publish anywhere.
 */
function alarmOnlyTopic(node: CfnResource, topicArn: unknown): boolean {
  const topic = resourceIn(node, 'AWS::SNS::Topic', topicArn);
  if (!topic) return false;
  if (appPublishesWidely(node)) return false;
  const stack = Stack.of(node);
  const id = stack.resolve(topic.logicalId) as string;
  const names = (v: unknown): boolean => JSON.stringify(v ?? null).includes(`"${id}"`);
  const template = stack.resolve((stack as unknown as { _toCloudFormation(): any })._toCloudFormation());
  if (names(template.Outputs)) return false;
  let publishedByAlarm = false;
  for (const [otherId, resource] of Object.entries(template.Resources ?? {}) as [string, any][]) {
    const p = resource.Properties ?? {};
    if (otherId === id || !names(p)) continue;
    switch (resource.Type) {
      case 'AWS::SNS::Subscription':
        continue;
      case 'AWS::CloudWatch::Alarm': {
        const rest = Object.fromEntries(Object.entries(p).filter(([k]) => !ALARM_ACTIONS.includes(k)));
        if (names(rest)) return false;
        publishedByAlarm = true;
        continue;
      }
      case 'AWS::SNS::TopicPolicy': {
        const allows = (p.PolicyDocument?.Statement ?? []).filter((s: any) => s.Effect === 'Allow');
        const cloudWatchOnly = allows.every(
          (s: any) => JSON.stringify(s.Principal) === JSON.stringify({ Service: 'cloudwatch.amazonaws.com' }),
        );
        if (!cloudWatchOnly) return false;
        continue;
      }
      default:
        return false;
    }
  }
  return publishedByAlarm;
}
