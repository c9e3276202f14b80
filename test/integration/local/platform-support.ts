import { resolveTopology } from '../../../lib/config/topology';
import { callControl } from '../../../local/control-client';
import { type LocalPlatform, type LocalPlatformOptions, startLocalPlatform } from '../../../local/platform';
import { expectDocumented, expectEdgeShape } from '../../support/openapi';

export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: any;
  /** The region whose functions answered (the primary, for a forwarded strong route). */
  readonly servedBy: string | null;
  /** The region the edge sent the client to. */
  readonly routedTo: string | null;
}

/** A local platform for scenario tests: fast distance, quick replication and health checks. */
export async function startTestPlatform(
  overrides: Record<string, unknown> = {},
  options: Partial<LocalPlatformOptions> = {},
): Promise<LocalPlatform> {
  return startLocalPlatform({
    topology: resolveTopology(overrides, 'scenario test'),
    portBase: 0,
    replicationDelayMs: 150,
    distance: { scale: 0.05 },
    healthIntervalMs: 100,
    healthFailureThreshold: 2,
    cacheTtlSeconds: 2,
    ...options,
  });
}

/** Talks to the platform over HTTP only: the edge for the API, the control port for dev controls. */
export class Client {
  constructor(private readonly platform: LocalPlatform) {}

  control(method: string, path: string, body?: unknown): Promise<any> {
    return callControl(this.platform.controlUrl, method, path, body);
  }

  async token(jurisdiction: string, sub: string, admin = false): Promise<string> {
    return (await this.control('POST', '/tokens', { jurisdiction, sub, admin })).token;
  }

  /** A request through the edge from a client in `clientRegion`. */
  async api(
    clientRegion: string,
    method: string,
    path: string,
    call: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<Answer> {
    const response = await fetch(`${this.platform.edgeUrl}${path}`, {
      method,
      headers: {
        'x-client-region': clientRegion,
        ...(call.token ? { authorization: `Bearer ${call.token}` } : {}),
        ...(call.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...call.headers,
      },
      body: call.body === undefined ? undefined : JSON.stringify(call.body),
    });
    const text = await response.text();
    const body = text ? JSON.parse(text) : undefined;
    // A region's answer against its route; the edge's own (no X-Client-Region, say) against the
    // document's two error shapes.
    if (response.headers.get('x-served-by-region')) expectDocumented(method, path, response.status, body);
    else expectEdgeShape(method, path, response.status, body);
    return {
      status: response.status,
      headers: response.headers,
      body,
      servedBy: response.headers.get('x-served-by-region'),
      routedTo: response.headers.get('x-edge-routed-to'),
    };
  }
}

/** Retries `check` until it passes or `timeoutMs` runs out, then throws its last failure. */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 8000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  }
}
