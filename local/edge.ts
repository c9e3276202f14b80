import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { JurisdictionDirectory } from '../lambda/residency/jurisdiction-guard';
import { WRITER_HEALTH_MATCH, WRITER_HEALTH_PATH } from '../lambda/shared/api-contract';
import { jurisdictionDirectory } from '../lib/config/jurisdiction-directory';
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
  readBodyBytes,
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
  /** Each region's writer API, which the writer health checks probe. */
  readonly writerUrls: () => Readonly<Record<string, string>>;
  /**
   * The origin custom header CloudFront adds to every API request (`OriginVerification`):
   * set on every forwarded request, replacing any the client sent, as CloudFront does.
   */
  readonly originHeaders: Readonly<Record<string, string>>;
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
 * (active-passive, failover routing) — after that leg's round trip. It also runs the
 * writer health checks behind `writer.<jurisdiction>.api` (`resolveWriter`).
 */
export class Edge {
  url = '';
  private readonly server: Server;
  private readonly health = new Map<string, RegionHealth>();
  /** Writer health checks, of the regions that can hold a writer locally: the primaries. */
  private readonly writerHealth = new Map<string, RegionHealth>();
  private readonly directory: JurisdictionDirectory;
  private timer?: NodeJS.Timeout;
  private checking?: Promise<void>;
  private readonly intervalMs: number;
  private readonly threshold: number;
  /**
   * The writer checks' threshold: at least 3, as AWS's (`WriterHealthCheck` in
   * lib/routing/api-dns-records.ts), so a writer probe slowed by a loaded machine does not
   * withdraw the writer and turn strong requests read-only.
   */
  private readonly writerThreshold: number;

  constructor(private readonly props: EdgeProps) {
    this.intervalMs = props.healthIntervalMs ?? 1000;
    this.threshold = props.failureThreshold ?? 2;
    this.writerThreshold = Math.max(this.threshold, 3);
    for (const region of props.topology.servingRegions) this.health.set(region, { healthy: true, streak: 0 });
    for (const j of props.topology.jurisdictions) this.writerHealth.set(j.primaryRegion, { healthy: true, streak: 0 });
    this.directory = jurisdictionDirectory(props.topology);
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

  /** Whether `region`'s writer health check passes (its `/api/health/writer` says `"writer":true`). */
  isWriterHealthy(region: string): boolean {
    return this.writerHealth.get(region)?.healthy ?? false;
  }

  /**
   * The region `writer.<jurisdiction>.api` resolves to for a caller in `fromRegion` (a
   * region of the jurisdiction): a latency record per region tied to its writer health
   * check, so the nearest region whose check passes; when none passes, Route 53 answers as
   * if all were healthy, so the nearest region — the caller's own.
   */
  resolveWriter(fromRegion: string, jurisdiction: string): string {
    const known = this.props.topology.jurisdictions.find((j) => j.name === jurisdiction);
    const candidates = this.props.distance.byDistanceFrom(fromRegion, known ? [...known.regions] : [fromRegion]);
    return candidates.find((region) => this.isWriterHealthy(region)) ?? candidates[0] ?? fromRegion;
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
    const region = this.route(clientRegion, token ? unverifiedJurisdiction(token, this.directory) : undefined);
    if (!region)
      return send(response, 503, { message: 'No healthy region can serve this request' }, NO_CROSS_REGION_TRIPS);
    let body: Buffer | undefined;
    try {
      body = await readBodyBytes(request);
    } catch (error) {
      if (error instanceof RequestTooLargeError)
        return send(response, 413, { message: 'Request Entity Too Large' }, NO_CROSS_REGION_TRIPS);
      throw error;
    }
    const trips = await this.props.distance.travel(clientRegion, region);
    const target = required(this.props.regionUrls(), region, 'URL for region');
    const method = request.method ?? 'GET';
    const upstream = await exchange(
      `${target}${url.pathname}${url.search}`,
      method,
      { ...headers, ...this.props.originHeaders },
      body,
    );
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
    const check = async (
      state: RegionHealth,
      url: string,
      passes: (r: Response) => Promise<boolean>,
      threshold = this.threshold,
    ) => {
      const passed = await fetch(url, { signal: AbortSignal.timeout(HEALTH_CHECK_TIMEOUT_MS) })
        .then(passes)
        .catch(() => false);
      if (passed === state.healthy) {
        state.streak = 0;
        return;
      }
      state.streak += 1;
      if (state.streak >= threshold) {
        state.healthy = passed;
        state.streak = 0;
      }
    };
    await Promise.all([
      ...[...this.health.entries()].map(([region, state]) =>
        check(state, `${urls[region]}/api/health`, async (r) => {
          await r.arrayBuffer();
          return r.status === 200;
        }),
      ),
      // Like an HTTPS_STR_MATCH check: a 2xx whose body has the search string.
      ...[...this.writerHealth.entries()].map(([region, state]) =>
        check(
          state,
          `${this.props.writerUrls()[region]}${WRITER_HEALTH_PATH}`,
          async (r) => r.status === 200 && (await r.text()).includes(WRITER_HEALTH_MATCH),
          this.writerThreshold,
        ),
      ),
    ]);
  }
}
