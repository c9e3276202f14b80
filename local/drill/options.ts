import { type core, z } from 'zod';
import { DEPLOYMENT_MODELS, type DeploymentModel, resolveTopology, type Topology } from '../../lib/config/topology';

export interface RegionDrillOptions {
  /** The serving region taken down. @default 'eu-west-1' */
  readonly region?: string;
  /** The topology; its deployment model unless `model` is given. @default the default topology */
  readonly topology?: Topology;
  /** Overrides the topology's deployment model. */
  readonly model?: DeploymentModel;
  /** How long the region stays down, in ms. @default 5000 */
  readonly downMs?: number;
  /** Load before the region goes down, to see which region serves each client, in ms. @default 1500 */
  readonly warmupMs?: number;
  /**
   * Clients per continent. Client i is a user of jurisdiction i mod (number of
   * jurisdictions), so every continent has users of every jurisdiction, and the
   * continent's regions (`DRILL_CONTINENTS`) take turns as where they are. @default 4
   */
  readonly clientsPerContinent?: number;
  /**
   * Requests per second each client sends (one at a time, never overlapping). The whole
   * platform runs in one Node.js process, so the default keeps the total near 25/s.
   * @default 2
   */
  readonly rate?: number;
  /** Hard cap on the clients' requests in total. @default 2000 */
  readonly maxRequests?: number;
  /** Hard cap on the whole drill, platform start and stop included, in ms. @default 50000 */
  readonly maxWallMs?: number;
  /** The edge's health-check interval, in ms. @default 200 */
  readonly healthIntervalMs?: number;
  /** Failed (or passed) checks in a row that mark a region unhealthy (or healthy). @default 2 */
  readonly healthFailureThreshold?: number;
  /** Replication delay between a jurisdiction's regions, in ms. @default 300 */
  readonly replicationDelayMs?: number;
  /** Multiplies the published inter-region round trips. @default 0.1 */
  readonly distanceScale?: number;
  /** Longest wait for any one client request, in ms. @default 5000 */
  readonly requestTimeoutMs?: number;
  /** Longest wait, after the return, for the region's clients to be served by it again, in ms. @default 5000 */
  readonly returnTimeoutMs?: number;
  /** Longest wait, after the return, for every region to agree on the written data, in ms. @default 15000 */
  readonly convergeTimeoutMs?: number;
  /**
   * How long the clients' ID tokens are valid, in seconds: the local pools' ID token
   * validity for the drill's platform. A client signs in again (the stand-in for a refresh)
   * once less than half of its token's lifetime is left; while its pool's region is down
   * that is refused, so it goes on with the token it has until the token expires.
   * @default 3600 (Cognito's default ID token validity)
   */
  readonly tokenTtlSeconds?: number;
  /** Progress lines (platform started, region down, ...). */
  readonly onProgress?: (line: string) => void;
}

export const DRILL_DEFAULTS = {
  region: 'eu-west-1',
  downMs: 5000,
  warmupMs: 1500,
  clientsPerContinent: 4,
  rate: 2,
  maxRequests: 2000,
  maxWallMs: 50_000,
  healthIntervalMs: 200,
  healthFailureThreshold: 2,
  replicationDelayMs: 300,
  distanceScale: 0.1,
  requestTimeoutMs: 5000,
  returnTimeoutMs: 5000,
  convergeTimeoutMs: 15_000,
  tokenTtlSeconds: 3600,
} as const;

/** A bad option: `field` is the option's name, `detail` what it allows. */
export class DrillOptionsError extends Error {
  constructor(
    readonly field: string,
    readonly detail: string,
  ) {
    super(`${field} ${detail}`);
    this.name = 'DrillOptionsError';
  }
}

/** The options checked, defaults filled in. */
export interface DrillSettings {
  readonly topology: Topology;
  readonly region: string;
  readonly downMs: number;
  readonly warmupMs: number;
  readonly clientsPerContinent: number;
  readonly rate: number;
  readonly maxRequests: number;
  readonly maxWallMs: number;
  readonly healthIntervalMs: number;
  readonly healthFailureThreshold: number;
  readonly replicationDelayMs: number;
  readonly distanceScale: number;
  readonly requestTimeoutMs: number;
  readonly returnTimeoutMs: number;
  readonly convergeTimeoutMs: number;
  readonly tokenTtlSeconds: number;
}

type NumberOption = Exclude<keyof typeof DRILL_DEFAULTS, 'region'>;

const KNOWN_OPTIONS = [...Object.keys(DRILL_DEFAULTS), 'topology', 'model', 'onProgress'];

interface Bounds {
  readonly min: number;
  readonly max: number;
  /** Integers only. @default true */
  readonly whole?: boolean;
  /** What the number counts, for the messages. @default 'ms' */
  readonly unit?: string;
}

/** A number option from `min` to `max`, its default when left out. */
function numberOption(option: NumberOption, { min, max, whole = true, unit = 'ms' }: Bounds) {
  const notANumber = (issue: { input?: unknown }) =>
    `must be ${whole ? 'a whole number' : 'a number'} (${unit}) from ${min} to ${max}, got ${JSON.stringify(issue.input)}`;
  const outOfRange = (issue: { input?: unknown }) => `must be from ${min} to ${max} (${unit}), got ${issue.input}`;
  // z.number() refuses NaN and the infinities; Number.isInteger rather than .int(), which
  // also refuses integers past 2^53 with the whole-number message instead of the range's.
  return z
    .number({ error: notANumber })
    .refine((value) => !whole || Number.isInteger(value), { error: notANumber, abort: true })
    .min(min, { error: outOfRange })
    .max(max, { error: outOfRange })
    .default(DRILL_DEFAULTS[option]);
}

// The checks run in stages, in the order the options were always checked (the first bad
// one is reported), each stage's bounds depending on what the earlier ones settled.

/** Stage 1: an object of known options only. */
const knownOptionsSchema = z.strictObject(
  Object.fromEntries(KNOWN_OPTIONS.map((key) => [key, z.unknown().optional()])),
);

/** Stage 2: the deployment model, which decides the topology. */
const modelSchema = z.object({
  model: z
    .enum(DEPLOYMENT_MODELS, {
      error: (issue) => `must be one of ${DEPLOYMENT_MODELS.join(', ')}, got ${JSON.stringify(issue.input)}`,
    })
    .optional(),
});

/** Stage 3: a serving region of the topology, with another region for its clients to go to. */
function regionSchema(topology: Topology) {
  const serving: readonly string[] = topology.servingRegions;
  const region = z
    .string({ error: (issue) => notServing(topology, issue.input) })
    .refine((name) => serving.includes(name), { error: (issue) => notServing(topology, issue.input), abort: true })
    .refine((name) => topology.jurisdictionOf(name as never).regions.length >= 2, {
      error: (issue) =>
        `${issue.input} is the only region of jurisdiction "${topology.jurisdictionOf(issue.input as never).name}": ` +
        'its clients have nowhere to go',
    });
  return z.object({ region });
}

const notServing = (topology: Topology, input: unknown) =>
  `must be a serving region of the topology (${topology.servingRegions.join(', ')}), got ${JSON.stringify(input)}`;

/** Stage 4: the pace of health checks and requests, which bounds how short the down and the warm-up can be. */
const paceSchema = z.object({
  healthIntervalMs: numberOption('healthIntervalMs', { min: 50, max: 10_000 }),
  healthFailureThreshold: numberOption('healthFailureThreshold', { min: 1, max: 10, unit: 'checks' }),
  rate: numberOption('rate', { min: 0.5, max: 50, whole: false, unit: 'requests per second per client' }),
});
type Pace = z.output<typeof paceSchema>;

/** Stage 5: the rest of the numbers, and a wall cap with room for the warm-up and the down. */
function runSchema(pace: Pace) {
  return z
    .object({
      // Long enough for the edge to mark the region down: its failed checks and two intervals more.
      downMs: numberOption('downMs', { min: pace.healthIntervalMs * (pace.healthFailureThreshold + 2), max: 60_000 }),
      // Long enough for two requests from every client.
      warmupMs: numberOption('warmupMs', { min: Math.ceil(2000 / pace.rate), max: 60_000 }),
      clientsPerContinent: numberOption('clientsPerContinent', { min: 1, max: 50, unit: 'clients' }),
      // Capped so that one user's cart line stays under the API's 999 per SKU.
      maxRequests: numberOption('maxRequests', { min: 1, max: 10_000, unit: 'requests' }),
      maxWallMs: numberOption('maxWallMs', { min: 10_000, max: 600_000 }),
      replicationDelayMs: numberOption('replicationDelayMs', { min: 0, max: 10_000 }),
      distanceScale: numberOption('distanceScale', {
        min: 0,
        max: 10,
        whole: false,
        unit: 'times the published round trips',
      }),
      requestTimeoutMs: numberOption('requestTimeoutMs', { min: 100, max: 60_000 }),
      returnTimeoutMs: numberOption('returnTimeoutMs', { min: 0, max: 60_000 }),
      convergeTimeoutMs: numberOption('convergeTimeoutMs', { min: 100, max: 120_000 }),
      // Cognito allows 5 minutes to 1 day; the drill goes down to seconds so tokens can expire within it.
      tokenTtlSeconds: numberOption('tokenTtlSeconds', { min: 2, max: 86_400, unit: 's' }),
    })
    .refine((run) => run.warmupMs + run.downMs < run.maxWallMs, {
      path: ['maxWallMs'],
      error: (issue) => {
        const run = issue.input as { warmupMs: number; downMs: number; maxWallMs: number };
        return (
          `must leave room for warmupMs + downMs (${run.warmupMs + run.downMs} ms) and the platform's start, ` +
          `got ${run.maxWallMs}`
        );
      },
    });
}

/** Stage 6: the progress callback. */
const progressSchema = z.object({
  onProgress: z
    .custom<(line: string) => void>((value) => typeof value === 'function', { error: 'must be a function' })
    .optional(),
});

/** The stage's output, or a DrillOptionsError naming the first bad field. */
function parseStage<Schema extends z.ZodType>(schema: Schema, input: unknown): z.output<Schema> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  throw optionsError(parsed.error.issues);
}

function optionsError(issues: readonly core.$ZodIssue[]): DrillOptionsError {
  // Zod lists unknown keys after the fields' issues; an unknown option is reported first.
  const unknown = issues.find((issue) => issue.code === 'unrecognized_keys');
  if (unknown) {
    const known = [...KNOWN_OPTIONS].sort().join(', ');
    return new DrillOptionsError(String(unknown.keys[0]), `is not a drill option; known: ${known}`);
  }
  const [first] = issues;
  if (!first) throw new Error('the drill options failed a schema with no issue reported');
  if (first.path.length === 0) return new DrillOptionsError('options', 'must be an object');
  return new DrillOptionsError(String(first.path[0]), first.message);
}

/** Checks every option and fills the defaults; throws DrillOptionsError naming the first bad field. */
export function resolveDrillOptions(options: RegionDrillOptions): DrillSettings {
  parseStage(knownOptionsSchema, options);
  const { model } = parseStage(modelSchema, options);
  let topology = options.topology ?? resolveTopology({}, 'drill defaults');
  if (model !== undefined && model !== topology.deploymentModel) {
    topology = resolveTopology({ ...topology.config, deploymentModel: model }, 'drill model');
  }
  const { region } = parseStage(regionSchema(topology), { region: options.region ?? DRILL_DEFAULTS.region });
  const pace = parseStage(paceSchema, options);
  const run = parseStage(runSchema(pace), options);
  parseStage(progressSchema, options);
  return { topology, region, ...pace, ...run };
}
