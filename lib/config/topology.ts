import { z } from 'zod';
import { AWS_REGIONS, type AwsRegion, EU_REGIONS, isEuRegion, isKnownRegion } from './regions';

export const DEPLOYMENT_MODELS = ['active-active', 'active-passive'] as const;
export type DeploymentModel = (typeof DEPLOYMENT_MODELS)[number];

export const RESIDENCY_PINS = ['eu', 'none'] as const;
export type ResidencyPin = (typeof RESIDENCY_PINS)[number];

/** CloudFront only takes ACM certificates and WAF web ACLs from us-east-1. */
export const EDGE_REGION = 'us-east-1';

export interface JurisdictionConfig {
  /** Short lowercase name, used in hostnames and resource names (`global`, `eu`). */
  readonly name: string;
  /** `eu`: every region must be inside the EU and the data must never leave it. */
  readonly residency: ResidencyPin;
  /** Region holding the Aurora writer; must be one of `regions`. */
  readonly primaryRegion: AwsRegion;
  /** Every region the jurisdiction's data lives in, primary included. */
  readonly regions: readonly AwsRegion[];
}

export interface TopologyConfig {
  /** Prefix of stack names and of the few physical names that are a contract between regions. */
  readonly appName: string;
  /** AWS account every stack deploys into. The default is a placeholder that synthesizes offline. */
  readonly account: string;
  /** Site hostname served by CloudFront; the API lives at `api.<domainName>`. */
  readonly domainName: string;
  /** Existing public hosted zone that holds `domainName` (given by id: no lookups at synth). */
  readonly hostedZone: { readonly zoneName: string; readonly hostedZoneId: string };
  /** Region of the edge stack; CloudFront requires us-east-1. */
  readonly edgeRegion: typeof EDGE_REGION;
  readonly deploymentModel: DeploymentModel;
  readonly jurisdictions: readonly JurisdictionConfig[];
  /**
   * Availability zones per region, for regions whose zones differ from `<region>a/b/c`
   * in your account. Given explicitly so that synthesis needs no context lookup.
   */
  readonly availabilityZones: Readonly<Record<string, readonly string[]>>;
  /** When an alarm fires and who hears of it; every field has a default (see the README). */
  readonly operations: OperationsConfig;
  /** How orders are paid for. @default { processor: 'unconfigured' } */
  readonly payments: PaymentsConfig;
  /** The web app's sign-in with each jurisdiction's user pool. @default no OAuth */
  readonly identity: IdentityConfig;
}

/**
 * The web client of every jurisdiction's user pool. The shop signs in with SRP, which needs
 * none of this; OAuth 2.0 (managed login, federated providers) is allowed only when
 * `callbackUrls` lists where the browser may come back to, and then only the authorization
 * code grant.
 */
export interface IdentityConfig {
  /** `https://` URLs the pool may redirect to after an OAuth sign-in. @default none: no OAuth */
  readonly callbackUrls: readonly string[];
  /** `https://` URLs the pool may redirect to after sign-out; only with `callbackUrls`. @default none */
  readonly logoutUrls: readonly string[];
}

export const PAYMENT_PROCESSORS = ['unconfigured', 'recording', 'stripe'] as const;

export interface PaymentsConfig {
  /**
   * `unconfigured`: every order is refused (503) and nothing is charged; `recording`: a
   * stand-in that approves every order and moves no money (demos only); `stripe`: Stripe's
   * PaymentIntents API, from a payments function outside the VPC.
   * @default 'unconfigured'
   */
  readonly processor: (typeof PAYMENT_PROCESSORS)[number];
  /**
   * With `stripe`: the name of the Secrets Manager secret `{ "apiKey": "sk_..." }`, which
   * must exist in every serving region before the deploy. Refused with other processors.
   */
  readonly secretName?: string;
}

/**
 * Alarm thresholds, the same in every region. A threshold is crossed when the stated
 * statistic over one period breaches it in `evaluationPeriods` consecutive periods.
 */
export interface AlarmThresholds {
  /** API responses with a 5xx status, in percent of requests, per minute. @default 5 */
  readonly api5xxPercent: number;
  /** API p99 latency in milliseconds, per 5 minutes. @default 2000 */
  readonly apiP99LatencyMs: number;
  /** Errors of all the region's functions together, per minute. @default 10 */
  readonly lambdaErrors: number;
  /** Throttled invocations of all the region's functions together, per minute. @default 1 */
  readonly lambdaThrottles: number;
  /** DynamoDB global-table replication latency to any one replica, in milliseconds (average per minute). @default 30000 */
  readonly replicationLatencyMs: number;
  /** Aurora global database replication lag of this region's secondary cluster, in milliseconds. @default 10000 */
  readonly auroraReplicationLagMs: number;
  /** Commands the serverless cache throttled, per minute. @default 1 */
  readonly cacheThrottledCommands: number;
  /** Database connections the RDS Proxy holds, in percent of what it may open. @default 80 */
  readonly proxyConnectionsPercent: number;
  /** Canary runs that succeeded, in percent per 5 minutes (alarm below). @default 90 */
  readonly canarySuccessPercent: number;
  /** Consecutive breaching periods before an alarm fires. @default 3 */
  readonly evaluationPeriods: number;
}

export interface OperationsConfig {
  readonly alarmThresholds: AlarmThresholds;
  /** Addresses subscribed to every region's alarm topic (each must confirm). @default none */
  readonly alarmEmails: readonly string[];
  /** How often each region's canary walks the API, in minutes. @default 5 */
  readonly canaryIntervalMinutes: number;
}

export const DEFAULT_ALARM_THRESHOLDS: AlarmThresholds = {
  api5xxPercent: 5,
  apiP99LatencyMs: 2000,
  lambdaErrors: 10,
  lambdaThrottles: 1,
  replicationLatencyMs: 30_000,
  auroraReplicationLagMs: 10_000,
  cacheThrottledCommands: 1,
  proxyConnectionsPercent: 80,
  canarySuccessPercent: 90,
  evaluationPeriods: 3,
};

export const DEFAULT_OPERATIONS: OperationsConfig = {
  alarmThresholds: DEFAULT_ALARM_THRESHOLDS,
  alarmEmails: [],
  canaryIntervalMinutes: 5,
};

export const DEFAULT_TOPOLOGY: TopologyConfig = {
  appName: 'Commerce',
  account: '123456789012',
  domainName: 'shop.example.com',
  hostedZone: { zoneName: 'example.com', hostedZoneId: 'Z0123456789EXAMPLEZONE' },
  edgeRegion: EDGE_REGION,
  deploymentModel: 'active-active',
  jurisdictions: [
    { name: 'global', residency: 'none', primaryRegion: 'us-east-1', regions: ['us-east-1', 'ap-southeast-1'] },
    { name: 'eu', residency: 'eu', primaryRegion: 'eu-west-1', regions: ['eu-west-1', 'eu-central-1'] },
  ],
  availabilityZones: {},
  operations: DEFAULT_OPERATIONS,
  payments: { processor: 'unconfigured' },
  identity: { callbackUrls: [], logoutUrls: [] },
};

/** One thing wrong with a config: the dotted path of the field and what is allowed. */
export interface TopologyIssue {
  readonly field: string;
  readonly message: string;
}

export class TopologyConfigError extends Error {
  constructor(
    readonly issues: readonly TopologyIssue[],
    source: string,
  ) {
    super(
      `Invalid topology config (${source}):\n${issues.map((issue) => `  - ${issue.field}: ${issue.message}`).join('\n')}`,
    );
    this.name = 'TopologyConfigError';
  }
}

const KNOWN_REGIONS = Object.keys(AWS_REGIONS).join(', ');

const region = z.string().refine(isKnownRegion, {
  error: (issue) => `unknown region ${JSON.stringify(issue.input)}; allowed: ${KNOWN_REGIONS}`,
});

/** Cognito's limit on an app client's callback and on its logout URLs. */
const MAX_REDIRECT_URLS = 100;

/**
 * Why `url` cannot be a callback or logout URL of the web client, or undefined if it can.
 * Cognito takes absolute URLs without a fragment, at most 1024 characters, over HTTPS except
 * `http://localhost` "for testing purposes only"
 * (https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_CreateUserPoolClient.html).
 * This refuses `http://localhost` too: the URLs go to the client every shopper signs in
 * with, in every jurisdiction, where a development URL left in would hand sign-ins' codes to
 * whatever listens on a shopper's machine; and development needs none: `npm run local` has
 * no Cognito, and a development deployment has a config (and an HTTPS host) of its own.
 */
export function redirectUrlProblem(url: string): string | undefined {
  const quoted = JSON.stringify(url);
  // Checked on the text as given, which is what Cognito receives: URL() would accept
  // `https:host` or surrounding spaces and normalise them away.
  if (!/^https:\/\//i.test(url)) {
    return `${quoted} must start with https:// (http://localhost included: shoppers sign in with this client)`;
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `${quoted} is not a URL; give https://<host>/<path>`;
  }
  if (/\s/.test(url)) return `${quoted} contains white space`;
  if (parsed.hash || url.includes('#')) return `${quoted} has a fragment (#...), which Cognito refuses`;
  if (parsed.username || parsed.password) return `${quoted} must not carry a user name or password`;
  if (url.length > 1024) return `${quoted} is longer than Cognito's 1024 characters`;
  return undefined;
}

const redirectUrl = z.string().superRefine((url, ctx) => {
  const problem = redirectUrlProblem(url);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const redirectUrls = z
  .array(redirectUrl)
  .max(MAX_REDIRECT_URLS, `must list at most ${MAX_REDIRECT_URLS} URLs (Cognito's limit)`)
  .default([]);

const positive = z.number().positive('must be a number above 0');
const percent = positive.max(100, 'must be a percentage, at most 100');

const jurisdictionSchema = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9]{0,11}$/, 'must be 1-12 lowercase letters or digits, starting with a letter'),
  residency: z.enum(RESIDENCY_PINS, { error: `must be one of: ${RESIDENCY_PINS.join(', ')}` }).default('none'),
  primaryRegion: region,
  regions: z.array(region),
});

const topologySchema = z.strictObject({
  appName: z.string().regex(/^[A-Z][A-Za-z0-9]{0,19}$/, 'must be 1-20 letters or digits, starting with a capital'),
  account: z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id'),
  domainName: z
    .string()
    .regex(/^(?=.{1,200}$)([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$/, 'must be a lowercase DNS name'),
  hostedZone: z.strictObject({
    zoneName: z.string().regex(/^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$/, 'must be a lowercase DNS name'),
    hostedZoneId: z.string().regex(/^Z[A-Z0-9]{1,31}$/, 'must be a Route 53 hosted zone id (Z...)'),
  }),
  edgeRegion: z.literal(EDGE_REGION, {
    error: `must be ${EDGE_REGION}: CloudFront only uses certificates and web ACLs from there`,
  }),
  deploymentModel: z.enum(DEPLOYMENT_MODELS, {
    error: (issue) =>
      `${JSON.stringify(issue.input)} is not a deployment model; allowed: ${DEPLOYMENT_MODELS.join(', ')}`,
  }),
  jurisdictions: z.array(jurisdictionSchema).min(1, 'must name at least one jurisdiction'),
  availabilityZones: z.record(region, z.array(z.string().regex(/^[a-z]{2}-[a-z]+-\d[a-z]$/)).min(2)),
  operations: z.strictObject({
    // Each threshold may be given alone; the others keep their defaults.
    alarmThresholds: z
      .strictObject({
        api5xxPercent: percent.default(DEFAULT_ALARM_THRESHOLDS.api5xxPercent),
        apiP99LatencyMs: positive.default(DEFAULT_ALARM_THRESHOLDS.apiP99LatencyMs),
        lambdaErrors: positive.default(DEFAULT_ALARM_THRESHOLDS.lambdaErrors),
        lambdaThrottles: positive.default(DEFAULT_ALARM_THRESHOLDS.lambdaThrottles),
        replicationLatencyMs: positive.default(DEFAULT_ALARM_THRESHOLDS.replicationLatencyMs),
        auroraReplicationLagMs: positive.default(DEFAULT_ALARM_THRESHOLDS.auroraReplicationLagMs),
        cacheThrottledCommands: positive.default(DEFAULT_ALARM_THRESHOLDS.cacheThrottledCommands),
        proxyConnectionsPercent: percent.default(DEFAULT_ALARM_THRESHOLDS.proxyConnectionsPercent),
        canarySuccessPercent: percent.default(DEFAULT_ALARM_THRESHOLDS.canarySuccessPercent),
        evaluationPeriods: z
          .number()
          .int('must be a whole number')
          .min(1, 'must be at least 1')
          .max(60, 'must be at most 60')
          .default(DEFAULT_ALARM_THRESHOLDS.evaluationPeriods),
      })
      .default(DEFAULT_ALARM_THRESHOLDS),
    alarmEmails: z.array(z.email('must be an email address')).default([]),
    canaryIntervalMinutes: z
      .number()
      .int('must be a whole number of minutes')
      .min(2, 'must be at least 2 (the two canaries of a region take turns)')
      .max(60, 'must be at most 60')
      .default(DEFAULT_OPERATIONS.canaryIntervalMinutes),
  }),
  payments: z.strictObject({
    processor: z
      .enum(PAYMENT_PROCESSORS, { error: `must be one of: ${PAYMENT_PROCESSORS.join(', ')}` })
      .default('unconfigured'),
    // Secrets Manager's name rules: https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html
    secretName: z
      .string()
      .regex(/^[A-Za-z0-9/_+=.@-]{1,512}$/, 'must be a Secrets Manager secret name (letters, digits, /_+=.@-)')
      .optional(),
  }),
  identity: z.strictObject({
    callbackUrls: redirectUrls,
    logoutUrls: redirectUrls,
  }),
});

/** Rules that span fields, each reported on the exact field that breaks it. */
function crossFieldIssues(config: z.infer<typeof topologySchema>): TopologyIssue[] {
  const issues: TopologyIssue[] = [];
  const owner = new Map<string, string>();
  const names = new Set<string>();

  config.jurisdictions.forEach((jurisdiction, j) => {
    const at = `jurisdictions[${j}]`;
    if (names.has(jurisdiction.name)) {
      issues.push({ field: `${at}.name`, message: `jurisdiction name "${jurisdiction.name}" is used twice` });
    }
    names.add(jurisdiction.name);

    if (jurisdiction.regions.length === 0) {
      issues.push({
        field: `${at}.regions`,
        message: `jurisdiction "${jurisdiction.name}" has no regions; list at least one (its primary region first)`,
      });
    }
    jurisdiction.regions.forEach((r, i) => {
      const previous = owner.get(r);
      if (previous === jurisdiction.name) {
        issues.push({ field: `${at}.regions[${i}]`, message: `region "${r}" is listed twice` });
      } else if (previous !== undefined) {
        issues.push({
          field: `${at}.regions[${i}]`,
          message: `region "${r}" is already in jurisdiction "${previous}"; a region belongs to exactly one jurisdiction`,
        });
      }
      owner.set(r, jurisdiction.name);
      if (jurisdiction.residency === 'eu' && !isEuRegion(r)) {
        issues.push({
          field: `${at}.regions[${i}]`,
          message: `region "${r}" is outside the EU but jurisdiction "${jurisdiction.name}" is EU-pinned (residency "eu"); allowed: ${EU_REGIONS.join(', ')}`,
        });
      }
    });
    if (jurisdiction.regions.length > 0 && !jurisdiction.regions.includes(jurisdiction.primaryRegion)) {
      issues.push({
        field: `${at}.primaryRegion`,
        message: `"${jurisdiction.primaryRegion}" is not one of jurisdiction "${jurisdiction.name}"'s regions; allowed: ${jurisdiction.regions.join(', ')}`,
      });
    }
  });

  if (
    !config.domainName.endsWith(`.${config.hostedZone.zoneName}`) &&
    config.domainName !== config.hostedZone.zoneName
  ) {
    issues.push({
      field: 'domainName',
      message: `"${config.domainName}" is not inside hosted zone "${config.hostedZone.zoneName}"`,
    });
  }
  issues.push(...paymentsIssues(config.payments), ...identityIssues(config.identity));
  for (const [r, zones] of Object.entries(config.availabilityZones)) {
    zones.forEach((zone, i) => {
      if (!zone.startsWith(r)) {
        issues.push({ field: `availabilityZones.${r}[${i}]`, message: `"${zone}" is not a zone of ${r}` });
      }
    });
  }
  return issues;
}

function paymentsIssues(payments: z.infer<typeof topologySchema>['payments']): TopologyIssue[] {
  if (payments.processor === 'stripe' && !payments.secretName) {
    return [
      {
        field: 'payments.secretName',
        message:
          'processor "stripe" needs the name of the Secrets Manager secret that holds its API key ({"apiKey": "sk_..."}), created in every serving region before the deploy',
      },
    ];
  }
  if (payments.processor !== 'stripe' && payments.secretName) {
    return [{ field: 'payments.secretName', message: `processor "${payments.processor}" uses no secret; remove it` }];
  }
  return [];
}

function identityIssues(identity: z.infer<typeof topologySchema>['identity']): TopologyIssue[] {
  const issues: TopologyIssue[] = [];
  for (const field of ['callbackUrls', 'logoutUrls'] as const) {
    identity[field].forEach((url, i) => {
      if (identity[field].indexOf(url) < i) {
        issues.push({ field: `identity.${field}[${i}]`, message: `${JSON.stringify(url)} is listed twice` });
      }
    });
  }
  if (identity.logoutUrls.length > 0 && identity.callbackUrls.length === 0) {
    issues.push({
      field: 'identity.logoutUrls',
      message: 'logout URLs need callbackUrls: without them the web client has no OAuth sign-in to sign out of',
    });
  }
  return issues;
}

function fieldPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)),
    '',
  );
}

/**
 * Validates a topology and fills defaults. `overrides` is merged over the defaults one
 * top-level key at a time: a config that gives `jurisdictions` replaces the whole list.
 *
 * @param source where the overrides came from, quoted in the error message
 * @throws TopologyConfigError naming every wrong field and what it allows
 */
export function resolveTopology(overrides: unknown = {}, source = 'defaults'): Topology {
  if (typeof overrides !== 'object' || overrides === null || Array.isArray(overrides)) {
    throw new TopologyConfigError([{ field: '(root)', message: 'must be a JSON object' }], source);
  }
  const parsed = topologySchema.safeParse({ ...DEFAULT_TOPOLOGY, ...overrides });
  if (!parsed.success) {
    throw new TopologyConfigError(
      parsed.error.issues.map((issue) => ({
        field: fieldPath(issue.path) || '(root)',
        message:
          issue.code === 'unrecognized_keys'
            ? `unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`
            : issue.message,
      })),
      source,
    );
  }
  const issues = crossFieldIssues(parsed.data);
  if (issues.length > 0) throw new TopologyConfigError(issues, source);
  return new Topology(parsed.data as TopologyConfig);
}

/** A validated topology with the derived facts the stacks need. */
export class Topology {
  constructor(readonly config: TopologyConfig) {}

  get deploymentModel(): DeploymentModel {
    return this.config.deploymentModel;
  }

  get operations(): OperationsConfig {
    return this.config.operations;
  }

  get payments(): PaymentsConfig {
    return this.config.payments;
  }

  get identity(): IdentityConfig {
    return this.config.identity;
  }

  get jurisdictions(): readonly JurisdictionConfig[] {
    return this.config.jurisdictions;
  }

  /** Every region that serves the API, in config order. */
  get servingRegions(): AwsRegion[] {
    return this.config.jurisdictions.flatMap((j) => [...this.deployOrder(j)]);
  }

  /**
   * The jurisdiction's regions in the order their stateful stacks deploy: the primary
   * first (the Aurora global cluster must exist before a secondary joins it), then the
   * others as listed.
   */
  deployOrder(jurisdiction: JurisdictionConfig): AwsRegion[] {
    return [jurisdiction.primaryRegion, ...jurisdiction.regions.filter((r) => r !== jurisdiction.primaryRegion)];
  }

  jurisdictionOf(region: string): JurisdictionConfig {
    const found = this.config.jurisdictions.find((j) => j.regions.includes(region as AwsRegion));
    if (!found) throw new Error(`Region ${region} is not in any jurisdiction of the topology`);
    return found;
  }

  /** The shared API hostname every regional API answers to. */
  get apiHostname(): string {
    return `api.${this.config.domainName}`;
  }

  /**
   * The hostname that always reaches the region holding the jurisdiction's Aurora writer:
   * Route 53 answers with the region whose writer health check passes, so strong
   * requests follow a switchover or failover without a redeploy.
   */
  jurisdictionWriterHostname(jurisdiction: JurisdictionConfig): string {
    return `writer.${this.jurisdictionApiHostname(jurisdiction)}`;
  }

  /**
   * `active-passive` only: the name of the jurisdiction's failover pair (primary, then
   * standby), which the shared and the jurisdiction hostname's latency records alias. A
   * name of its own, so that every name keeps one routing policy in both models. Only
   * ever an alias target, never a Host: no certificate or API custom domain carries it.
   */
  jurisdictionFailoverHostname(jurisdiction: JurisdictionConfig): string {
    return `failover.${this.jurisdictionApiHostname(jurisdiction)}`;
  }

  /** The API hostname that reaches only the given jurisdiction's regions. */
  jurisdictionApiHostname(jurisdiction: JurisdictionConfig): string {
    return `${jurisdiction.name}.api.${this.config.domainName}`;
  }

  availabilityZones(region: string): string[] {
    return [...(this.config.availabilityZones[region] ?? ['a', 'b', 'c'].map((suffix) => `${region}${suffix}`))];
  }
}
