/*
 * The canary's walk through the API, as a shopper takes it: is the region up, does a
 * product page load, can a signed-in user put that product in the cart and see it there.
 * Pure apart from the `fetch` it is given, so the same walk runs against the local
 * platform in tests and against the deployed hostnames in the canary.
 */

import { ORIGIN_PROOF_HEADER } from '../shared/api-contract';
import { type FunctionEnvironment, optionalEnv, requiredEnv, type VariableName } from '../shared/environment';

/** The part of `fetch` the walk uses; tests pass one that adds headers or stalls. */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/** Where to walk: a name for reports and the API's base URL (no trailing `/api`). */
export interface WalkTarget {
  /** Named in every error and log line, e.g. `global` or `regional eu-west-1`. */
  readonly label: string;
  /** e.g. `https://api.shop.example.com` or `https://<id>.execute-api.<region>.amazonaws.com`. */
  readonly baseUrl: string;
  /**
   * A region's API reached directly: the Secrets Manager secret (in the canary's region) whose
   * value goes in `ORIGIN_PROOF_HEADER`, as CloudFront sends it. Absent for a CloudFront host.
   */
  readonly originSecretName?: string;
}

export interface WalkOptions extends WalkTarget {
  /** A token of the canary user, sent on the cart steps only (the others are public). */
  readonly token: string;
  /** A product that exists in the canary user's jurisdiction. */
  readonly sku: string;
  /** Sent as `ORIGIN_PROOF_HEADER` on every step. @default none (through CloudFront, which adds it) */
  readonly originProof?: string;
  /** @default globalThis.fetch */
  readonly fetch?: FetchLike;
  /**
   * Deadline of each step (request and body), in milliseconds.
   * @default 10000
   */
  readonly timeoutMs?: number;
}

export const WALK_STEPS = ['health', 'product page', 'add to cart', 'cart', 'remove from cart'] as const;
export type WalkStep = (typeof WALK_STEPS)[number];

export interface StepTiming {
  readonly step: WalkStep;
  readonly status: number;
  readonly ms: number;
}

export interface WalkResult {
  readonly label: string;
  readonly baseUrl: string;
  /** The region that answered the health check, as its report names it. */
  readonly region: string;
  /** `read-write`, or `read-only` while strong requests are refused (still healthy). */
  readonly mode: string;
  readonly steps: readonly StepTiming[];
  readonly totalMs: number;
}

/** The longest piece of a response body an error quotes. */
export const EXCERPT_CHARS = 200;
export const DEFAULT_STEP_TIMEOUT_MS = 10_000;
const USER_AGENT = 'commerce-api-canary';

/** A failed step: names the target, the step, the HTTP status (if any) and what came back. */
export class WalkError extends Error {
  override readonly name = 'WalkError';

  constructor(
    readonly label: string,
    readonly step: WalkStep,
    /** Undefined when no response came (deadline, connection refused). */
    readonly status: number | undefined,
    readonly problem: string,
    readonly excerpt: string,
  ) {
    super(
      `${label}: step '${step}' failed: ${status === undefined ? 'no response' : `HTTP ${status}`}, ${problem}` +
        (excerpt ? `; body: ${excerpt}` : ''),
    );
  }
}

/**
 * Walks the API at `baseUrl`: `GET /api/health` (200 and a report whose eventual store is
 * ok), `GET /api/products/{sku}` (200, that product), `POST /api/me/cart/items` with the
 * bearer token (2xx), `GET /api/me/cart` (the SKU is in it), then
 * `DELETE /api/me/cart/items/{sku}` (2xx), so that runs every few minutes never fill the
 * cart line up to its limit. Each step has its own deadline; the first failure throws a
 * `WalkError`.
 */
export async function walkApi(options: WalkOptions): Promise<WalkResult> {
  const fetchFn = options.fetch ?? ((url, init) => globalThis.fetch(url, init));
  const timeoutMs = options.timeoutMs ?? DEFAULT_STEP_TIMEOUT_MS;
  const base = options.baseUrl.replace(/\/+$/, '');
  const sku = encodeURIComponent(options.sku);
  const auth = { authorization: `Bearer ${options.token}` };
  const steps: StepTiming[] = [];
  const started = performance.now();

  const step = async (
    name: WalkStep,
    method: string,
    path: string,
    check: (status: number, body: unknown) => string | undefined,
    extra: { headers?: Record<string, string>; body?: unknown } = {},
  ): Promise<unknown> => {
    const stepStarted = performance.now();
    let status: number | undefined;
    let text = '';
    try {
      const response = await fetchFn(`${base}${path}`, {
        method,
        headers: {
          accept: 'application/json',
          'user-agent': USER_AGENT,
          ...(options.originProof ? { [ORIGIN_PROOF_HEADER]: options.originProof } : {}),
          ...(extra.body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...extra.headers,
        },
        body: extra.body === undefined ? undefined : JSON.stringify(extra.body),
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'manual',
      });
      status = response.status;
      text = await response.text();
    } catch (error) {
      const reason = isTimeout(error) ? `no answer within ${timeoutMs} ms` : `request failed: ${describe(error)}`;
      throw new WalkError(options.label, name, status, `${method} ${path}: ${reason}`, excerptOf(text));
    }
    const body = parseJson(text);
    const problem = check(status, body);
    if (problem) throw new WalkError(options.label, name, status, `${method} ${path}: ${problem}`, excerptOf(text));
    steps.push({ step: name, status, ms: Math.round(performance.now() - stepStarted) });
    return body;
  };

  const health = (await step('health', 'GET', '/api/health', (status, body) => {
    if (status !== 200) return 'expected 200';
    if (!isRecord(body) || typeof body.region !== 'string') return 'expected a health report naming its region';
    const checks = body.checks;
    if (!isRecord(checks) || !isRecord(checks.eventualStore) || checks.eventualStore.status !== 'ok') {
      return 'the report does not say healthy (checks.eventualStore.status is not ok)';
    }
    return undefined;
  })) as { region: string; mode?: unknown };

  await step('product page', 'GET', `/api/products/${sku}`, (status, body) => {
    if (status !== 200) return 'expected 200';
    if (!isRecord(body) || body.sku !== options.sku) return `expected the page of ${options.sku}`;
    return undefined;
  });

  await step('add to cart', 'POST', '/api/me/cart/items', (status) => (is2xx(status) ? undefined : 'expected 2xx'), {
    headers: auth,
    body: { sku: options.sku, quantity: 1 },
  });

  await step(
    'cart',
    'GET',
    '/api/me/cart',
    (status, body) => {
      if (status !== 200) return 'expected 200';
      const items = isRecord(body) && Array.isArray(body.items) ? body.items : undefined;
      if (!items) return 'expected a cart with items';
      const line = items.find((item) => isRecord(item) && item.sku === options.sku);
      if (!isRecord(line) || !(typeof line.quantity === 'number' && line.quantity >= 1)) {
        return `${options.sku} is not in the cart`;
      }
      return undefined;
    },
    { headers: auth },
  );

  await step(
    'remove from cart',
    'DELETE',
    `/api/me/cart/items/${sku}`,
    (status) => (is2xx(status) ? undefined : 'expected 2xx'),
    { headers: auth },
  );

  return {
    label: options.label,
    baseUrl: base,
    region: health.region,
    mode: typeof health.mode === 'string' ? health.mode : 'unknown',
    steps,
    totalMs: Math.round(performance.now() - started),
  };
}

/** What the canary reads from its environment; every problem is named. */
export interface CanaryConfig {
  readonly targets: readonly WalkTarget[];
  readonly sku: string;
  readonly secretArn: string;
  readonly userPoolId: string;
  readonly userPoolClientId: string;
  readonly userPoolRegion: string;
  readonly stepTimeoutMs: number;
}

export function canaryConfigFrom(env: FunctionEnvironment): CanaryConfig {
  const required = (name: VariableName) => requiredEnv(env, name);
  const targets = parseTargets(required('CANARY_TARGETS'));
  const timeoutText = optionalEnv(env, 'CANARY_STEP_TIMEOUT_MS');
  const timeout = timeoutText ? Number(timeoutText) : DEFAULT_STEP_TIMEOUT_MS;
  if (!Number.isInteger(timeout) || timeout <= 0) throw new Error('CANARY_STEP_TIMEOUT_MS must be a positive integer');
  return {
    targets,
    sku: required('CANARY_SKU'),
    secretArn: required('CANARY_SECRET_ARN'),
    userPoolId: required('USER_POOL_ID'),
    userPoolClientId: required('USER_POOL_CLIENT_ID'),
    userPoolRegion: required('USER_POOL_REGION'),
    stepTimeoutMs: timeout,
  };
}

/** `CANARY_TARGETS`: a JSON list of `{ "label", "baseUrl" }`, at least one, http(s) URLs. */
export function parseTargets(text: string): WalkTarget[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error('CANARY_TARGETS is not JSON: expected [{"label": "...", "baseUrl": "https://..."}]');
  }
  if (!Array.isArray(value) || value.length === 0) {
    throw new Error('CANARY_TARGETS must be a non-empty list of {"label", "baseUrl"}');
  }
  return value.map((entry, index) => {
    if (!isRecord(entry) || typeof entry.label !== 'string' || entry.label === '') {
      throw new Error(`CANARY_TARGETS[${index}].label must be a non-empty string`);
    }
    if (typeof entry.baseUrl !== 'string' || !/^https?:\/\/[^/\s]+/.test(entry.baseUrl)) {
      throw new Error(`CANARY_TARGETS[${index}].baseUrl must be an http(s) URL`);
    }
    const secret = entry.originSecretName;
    if (secret !== undefined && (typeof secret !== 'string' || secret === '')) {
      throw new Error(`CANARY_TARGETS[${index}].originSecretName must be a non-empty string when given`);
    }
    return { label: entry.label, baseUrl: entry.baseUrl, ...(secret ? { originSecretName: secret } : {}) };
  });
}

export interface CanaryRun {
  readonly results: readonly WalkResult[];
  readonly failures: readonly Error[];
}

/**
 * Walks every target in order, all of them even after a failure (so a run's log says
 * whether the global hostname still serves while a region is down), and reports each.
 */
export async function walkTargets(
  targets: readonly WalkTarget[],
  walk: Omit<WalkOptions, keyof WalkTarget | 'originProof'> & {
    /** The value of a target's origin secret; required when a target names one. */
    readonly originProofOf?: (secretName: string) => Promise<string>;
  },
  log: (line: string) => void = () => undefined,
): Promise<CanaryRun> {
  const results: WalkResult[] = [];
  const failures: Error[] = [];
  const { originProofOf, ...options } = walk;
  for (const target of targets) {
    try {
      const originProof = await proofFor(target, originProofOf);
      const result = await walkApi({ ...options, ...target, ...(originProof ? { originProof } : {}) });
      results.push(result);
      const timings = result.steps.map((s) => `${s.step} ${s.status} ${s.ms} ms`).join(', ');
      log(`${result.label}: ok via ${result.region} (${result.mode}) in ${result.totalMs} ms: ${timings}`);
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      failures.push(failure);
      log(failure.message);
    }
  }
  return { results, failures };
}

async function proofFor(
  target: WalkTarget,
  originProofOf: ((secretName: string) => Promise<string>) | undefined,
): Promise<string | undefined> {
  if (!target.originSecretName) return undefined;
  if (!originProofOf)
    throw new Error(`${target.label}: names origin secret ${target.originSecretName}, and nothing reads it`);
  try {
    return await originProofOf(target.originSecretName);
  } catch (error) {
    throw new Error(`${target.label}: could not read origin secret ${target.originSecretName}: ${describe(error)}`);
  }
}

function is2xx(status: number): boolean {
  return status >= 200 && status < 300;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

function excerptOf(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > EXCERPT_CHARS ? `${flat.slice(0, EXCERPT_CHARS)}…` : flat;
}

function isTimeout(error: unknown): boolean {
  const name = (error as { name?: unknown } | undefined)?.name;
  return name === 'TimeoutError' || name === 'AbortError';
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  const causeText = cause instanceof Error ? cause.message : '';
  return causeText && causeText !== error.message ? `${error.message} (${causeText})` : error.message;
}
