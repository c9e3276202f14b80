import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Topology } from '../lib/config/topology';
import { unverifiedJurisdiction } from './dev-tokens';
import type { Distance } from './distance';
import {
  CROSS_REGION_TRIPS_HEADER,
  closeServer,
  exchange,
  forwardable,
  listen,
  lowerCaseHeaders,
  NO_CROSS_REGION_TRIPS,
  RequestTooLargeError,
  readBody,
  send,
  tripsHeader,
} from './http-io';
import { required } from './required';

/** How long one health check may take, as Route 53 allows a few seconds per check. */
const HEALTH_CHECK_TIMEOUT_MS = 2000;

export interface EdgeProps {
  readonly topology: Topology;
  readonly distance: Distance;
  /** Each serving region's API URL. */
  readonly regionUrls: () => Readonly<Record<string, string>>;
  /**
   * Seconds between health checks of each region, like Route 53's request interval.
   * @default 1000
   */
  readonly healthIntervalMs?: number;
  /**
   * Consecutive failed (or passed) checks that make a region unhealthy (or healthy again).
   * @default 2
   */
  readonly failureThreshold?: number;
}

interface RegionHealth {
  healthy: boolean;
  streak: number;
}

/**
 * CloudFront and Route 53 in one port: the client says where it is (`X-Client-Region`),
 * the edge health-checks every region's `/api/health` like Route 53 and sends each request
 * to the region the deployment model picks — the nearest healthy region of the caller's
 * jurisdiction (active-active, latency routing), or its primary and then its standby
 * (active-passive, failover routing) — after that leg's round trip.
 */
export class Edge {
  url = '';
  private readonly server: Server;
  private readonly health = new Map<string, RegionHealth>();
  private timer?: NodeJS.Timeout;
  private checking?: Promise<void>;
  private readonly intervalMs: number;
  private readonly threshold: number;

  constructor(private readonly props: EdgeProps) {
    this.intervalMs = props.healthIntervalMs ?? 1000;
    this.threshold = props.failureThreshold ?? 2;
    for (const region of props.topology.servingRegions) this.health.set(region, { healthy: true, streak: 0 });
    this.server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        send(response, 502, { message: `edge error: ${(error as Error).message}` }, NO_CROSS_REGION_TRIPS);
      });
    });
  }

  async listen(port: number): Promise<string> {
    this.url = await listen(this.server, port, 'edge');
    return this.url;
  }

  /** Starts Route 53-style checks; call once the regions can answer. */
  startHealthChecks(): void {
    if (!this.timer) this.scheduleHealthChecks();
  }

  async close(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.checking;
    await closeServer(this.server);
  }

  isHealthy(region: string): boolean {
    return this.health.get(region)?.healthy ?? false;
  }

  /** Where a client in `clientRegion` of `jurisdiction` (undefined: anonymous) is sent. */
  route(clientRegion: string, jurisdiction?: string): string | undefined {
    const { topology, distance } = this.props;
    const known = topology.jurisdictions.find((j) => j.name === jurisdiction);
    const failoverTarget = (j: (typeof topology.jurisdictions)[number]): string | undefined =>
      // A failover record set has one standby: the next region in deploy order.
      topology
        .deployOrder(j)
        .slice(0, 2)
        .find((region) => this.isHealthy(region));
    if (topology.deploymentModel === 'active-passive') {
      if (known) return failoverTarget(known) ?? topology.deployOrder(known)[0];
      const targets = topology.jurisdictions.map(failoverTarget).filter((r): r is string => r !== undefined);
      return distance.byDistanceFrom(clientRegion, targets.length ? targets : topology.servingRegions)[0];
    }
    const candidates = distance.byDistanceFrom(clientRegion, known ? [...known.regions] : topology.servingRegions);
    // Like Route 53, when every record is unhealthy it answers as if all were healthy.
    return candidates.find((region) => this.isHealthy(region)) ?? candidates[0];
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://local');
    const headers = lowerCaseHeaders(request);
    const clientRegion = headers['x-client-region'];
    if (!clientRegion || !this.props.distance.knows(clientRegion)) {
      return send(
        response,
        400,
        {
          error: {
            code: 'BAD_CLIENT_REGION',
            message: `X-Client-Region must name the AWS region the client is in, one of: ${this.props.distance.regions.join(', ')}`,
            field: 'X-Client-Region',
          },
        },
        NO_CROSS_REGION_TRIPS,
      );
    }
    if (!url.pathname.startsWith('/api/')) return send(response, 404, { message: 'Not Found' }, NO_CROSS_REGION_TRIPS);
    const token = /^Bearer (.+)$/i.exec(headers.authorization ?? '')?.[1];
    const region = this.route(clientRegion, token ? unverifiedJurisdiction(token) : undefined);
    if (!region)
      return send(response, 503, { message: 'No healthy region can serve this request' }, NO_CROSS_REGION_TRIPS);
    let body: string | undefined;
    try {
      body = await readBody(request);
    } catch (error) {
      if (error instanceof RequestTooLargeError)
        return send(response, 413, { message: 'Request Entity Too Large' }, NO_CROSS_REGION_TRIPS);
      throw error;
    }
    const trips = await this.props.distance.travel(clientRegion, region);
    const target = required(this.props.regionUrls(), region, 'URL for region');
    const method = request.method ?? 'GET';
    const upstream = await exchange(`${target}${url.pathname}${url.search}`, method, headers, body);
    if (!upstream) {
      return send(
        response,
        502,
        { message: `region ${region} did not answer` },
        { [CROSS_REGION_TRIPS_HEADER]: trips },
      );
    }
    send(response, upstream.status, upstream.body, {
      ...forwardable(Object.entries(upstream.headers)),
      ...tripsHeader(upstream.headers, trips),
      'x-edge-routed-to': region,
    });
  }

  private scheduleHealthChecks(): void {
    this.timer = setTimeout(() => {
      this.checking = this.checkAll().finally(() => {
        if (this.timer) this.scheduleHealthChecks();
      });
    }, this.intervalMs);
  }

  private async checkAll(): Promise<void> {
    const urls = this.props.regionUrls();
    await Promise.all(
      [...this.health.entries()].map(async ([region, state]) => {
        const passed = await fetch(`${urls[region]}/api/health`, {
          signal: AbortSignal.timeout(HEALTH_CHECK_TIMEOUT_MS),
        })
          .then((r) => r.status === 200)
          .catch(() => false);
        if (passed === state.healthy) {
          state.streak = 0;
          return;
        }
        state.streak += 1;
        if (state.streak >= this.threshold) {
          state.healthy = passed;
          state.streak = 0;
        }
      }),
    );
  }
}
