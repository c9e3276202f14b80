import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { type ApiDomain, matchRoute } from '../lambda/shared/api-contract';
import type { DomainHandler } from '../lambda/shared/instrumented';
import type { RegionContext } from '../lambda/shared/region-context';
import { apiGatewayEvent, lambdaContext } from './api-gateway-event';
import type { DevTokenIssuer } from './dev-tokens';
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

export interface RegionalGatewayProps {
  readonly context: RegionContext;
  readonly tokens: DevTokenIssuer;
  readonly distance: Distance;
  /** The primary region's gateway URL, for strong routes taken in a secondary region. */
  readonly primaryUrl: () => string | undefined;
}

/**
 * One region's API, standing in for its HTTP API: matches routes like API Gateway, checks
 * the token against the jurisdiction's issuer like the JWT authorizer, forwards strong
 * routes of a secondary region to the primary (an HTTP proxy integration in AWS, paying
 * the round trip between them), and hands everything else to the Lambda handlers.
 */
export class RegionalGateway {
  /** A region taken down answers nothing but 503, its health check included. */
  down = false;
  url = '';
  /** The region's functions; until attached (stores still starting) the region answers 503. */
  handlers?: Readonly<Record<ApiDomain, DomainHandler>>;
  private readonly server: Server;

  constructor(private readonly props: RegionalGatewayProps) {
    this.server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        send(response, 502, { message: `local gateway error: ${(error as Error).message}` }, NO_CROSS_REGION_TRIPS);
      });
    });
  }

  get region(): string {
    return this.props.context.region;
  }

  async listen(port: number): Promise<string> {
    this.url = await listen(this.server, port, `API of ${this.region}`);
    return this.url;
  }

  async close(): Promise<void> {
    await closeServer(this.server);
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const served = { 'x-served-by-region': this.region, ...NO_CROSS_REGION_TRIPS };
    if (this.down || !this.handlers) return send(response, 503, { message: 'Service Unavailable' }, served);
    const url = new URL(request.url ?? '/', 'http://local');
    const method = request.method ?? 'GET';
    let body: string | undefined;
    try {
      body = await readBody(request);
    } catch (error) {
      if (error instanceof RequestTooLargeError) {
        return send(response, 413, { message: 'Request Entity Too Large' }, served);
      }
      throw error;
    }
    const headers = lowerCaseHeaders(request);
    const match = matchRoute(method, url.pathname);
    if (!match) return send(response, 404, { message: 'Not Found' }, served);

    let claims: ReturnType<DevTokenIssuer['verify']>;
    if (!match.route.public) {
      const token = /^Bearer (.+)$/i.exec(headers.authorization ?? '')?.[1];
      // As an HTTP API with a Lambda authorizer: no token 401, a refused token 403.
      if (!token) return send(response, 401, { message: 'Unauthorized' }, served);
      claims = this.props.tokens.verify(token);
      if (!claims) return send(response, 403, { message: 'Forbidden' }, served);
    }

    const { region, primaryRegion } = this.props.context;
    const primaryUrl = this.props.primaryUrl();
    if (match.route.strong && region !== primaryRegion && primaryUrl) {
      const trips = await this.props.distance.travel(region, primaryRegion);
      const forwarded = await exchange(`${primaryUrl}${url.pathname}${url.search}`, method, headers, body);
      // What an HTTP API answers when its HTTP integration cannot be reached.
      if (!forwarded) {
        return send(
          response,
          503,
          { message: 'Service Unavailable' },
          { ...served, [CROSS_REGION_TRIPS_HEADER]: trips },
        );
      }
      return send(response, forwarded.status, forwarded.body, {
        ...forwardable(Object.entries(forwarded.headers)),
        ...tripsHeader(forwarded.headers, trips),
        'x-entry-region': region,
      });
    }

    const event = apiGatewayEvent(
      { method, rawPath: url.pathname, rawQueryString: url.search.slice(1), headers, body },
      match,
      claims,
    );
    const handler = this.handlers[match.route.domain];
    const result = (await handler(
      event,
      lambdaContext(`${match.route.domain}-${region}`),
    )) as APIGatewayProxyStructuredResultV2;
    send(response, result.statusCode ?? 200, result.body ?? '', {
      ...(result.headers as Record<string, string>),
      ...served,
    });
  }
}
