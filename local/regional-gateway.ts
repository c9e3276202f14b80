import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type {
  APIGatewayProxyStructuredResultV2,
  APIGatewayRequestAuthorizerEventV2,
  APIGatewaySimpleAuthorizerWithContextResult,
} from 'aws-lambda';
import type { AuthorizerContext } from '../lambda/authorizer/token-authorizer';
import { type ApiDomain, matchRoute, ORIGIN_PROOF_HEADER } from '../lambda/shared/api-contract';
import type { DomainHandler } from '../lambda/shared/instrumented';
import type { RegionContext } from '../lambda/shared/region-context';
import { apiGatewayEvent, authorizerEvent, lambdaContext, type RequestIdentity } from './api-gateway-event';
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
import { runAs } from './rehearsal/recorder';

/**
 * The region's authorizer: the AWS function's code, the proof of origin then, on a user's
 * route, the token (`requireOriginProof` over `createTokenAuthorizer`).
 */
export type LocalAuthorizer = (
  event: APIGatewayRequestAuthorizerEventV2,
) => Promise<APIGatewaySimpleAuthorizerWithContextResult<AuthorizerContext>>;

/**
 * Which of a region's two HTTP APIs a request came to: the public one (every route but the
 * writer's health) or the writer API behind `writer.<jurisdiction>.api` (strong routes and
 * the writer's health only), as `lib/api/regional-api.ts` and `lib/api/writer-api.ts` build them.
 */
export type ApiKind = 'public' | 'writer';

export interface RegionalGatewayProps {
  readonly context: RegionContext;
  readonly authorizer: LocalAuthorizer;
  readonly distance: Distance;
  /**
   * The region `writer.<jurisdiction>.api` resolves to from here, as Route 53 answers it:
   * the nearest region whose writer health check passes, or this region when none does.
   */
  readonly writerRegion: () => string;
  /** A region's writer API URL. */
  readonly writerUrlOf: (region: string) => string | undefined;
  /**
   * How long a function may run before Lambda ends it, as `lib/api/regional-api.ts` sets it.
   * @default 10000
   */
  readonly functionTimeoutMs?: number;
}

/** Lambda's quota for a synchronous invocation's request: 6 MB. */
const LAMBDA_INVOCATION_PAYLOAD_BYTES = 6 * 1024 * 1024;

/** The API functions' timeout in the CDK app (`RegionalApi`'s default). */
const DEFAULT_FUNCTION_TIMEOUT_MS = 10_000;

/**
 * One region's API, standing in for its HTTP API: matches routes like API Gateway, runs
 * the region's token authorizer like an HTTP API with a Lambda authorizer (simple
 * responses: no token 401, refused 403, a failed authorizer 500), forwards strong routes
 * to the writer's region (an HTTP proxy integration to `writer.<jurisdiction>.api` in AWS,
 * paying the round trip between them) or serves them here when that is where the writer
 * name resolves, and hands everything to the Lambda handlers with the authorizer's context.
 */
export class RegionalGateway {
  url = '';
  /** The region's writer API, where other regions' public APIs forward strong requests. */
  writerUrl = '';
  /** The region's functions; until attached (stores still starting) the region answers 503. */
  handlers?: Readonly<Record<ApiDomain, DomainHandler>>;
  private readonly servers: Readonly<Record<ApiKind, Server>>;
  private isDown = false;
  private readonly downListeners: ((down: boolean) => void)[] = [];

  constructor(private readonly props: RegionalGatewayProps) {
    const serverOf = (api: ApiKind) =>
      createServer((request, response) => {
        this.handle(request, response, api).catch((error: unknown) => {
          send(response, 502, { message: `local gateway error: ${(error as Error).message}` }, NO_CROSS_REGION_TRIPS);
        });
      });
    this.servers = { public: serverOf('public'), writer: serverOf('writer') };
  }

  get region(): string {
    return this.props.context.region;
  }

  /** A region taken down answers nothing but 503, its health check included. */
  get down(): boolean {
    return this.isDown;
  }

  set down(down: boolean) {
    if (down === this.isDown) return;
    this.isDown = down;
    for (const listener of this.downListeners) listener(down);
  }

  /** Calls `listener` whenever the region is taken down or brought back. */
  onDownChange(listener: (down: boolean) => void): void {
    this.downListeners.push(listener);
  }

  /** The public API on `port`, the writer API on `writerPort` (0: any free port). */
  async listen(port: number, writerPort = 0): Promise<string> {
    this.url = await listen(this.servers.public, port, `API of ${this.region}`);
    this.writerUrl = await listen(this.servers.writer, writerPort, `writer API of ${this.region}`);
    return this.url;
  }

  async close(): Promise<void> {
    await Promise.all([closeServer(this.servers.public), closeServer(this.servers.writer)]);
  }

  private async handle(request: IncomingMessage, response: ServerResponse, api: ApiKind): Promise<void> {
    const served = { 'x-served-by-region': this.region, ...NO_CROSS_REGION_TRIPS };
    if (this.down || !this.handlers) return send(response, 503, { message: 'Service Unavailable' }, served);
    const url = new URL(request.url ?? '/', 'http://local');
    const method = request.method ?? 'GET';
    let body: Buffer | undefined;
    try {
      body = await readBodyBytes(request);
    } catch (error) {
      if (error instanceof RequestTooLargeError) {
        return send(response, 413, { message: 'Request Entity Too Large' }, served);
      }
      throw error;
    }
    // RFC 9112 §3.2: a request with more than one Host is answered 400, as API Gateway's
    // front end answers it; every other repeated header arrives joined with commas
    // (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html).
    if ((request.headersDistinct.host?.length ?? 0) > 1) return send(response, 400, { message: 'Bad Request' }, served);
    const headers = lowerCaseHeaders(request);
    const match = matchRoute(method, url.pathname);
    // A route the API does not have: the writer's health is the writer API's alone, and the
    // writer API has only it and the strong routes.
    const servedHere =
      match && (api === 'writer' ? match.route.strong || match.route.writerOnly : !match.route.writerOnly);
    if (!match || !servedHere) return send(response, 404, { message: 'Not Found' }, served);

    const incoming = { method, rawPath: url.pathname, rawQueryString: url.search.slice(1), headers, body };
    let identity: RequestIdentity | undefined;
    if (!match.route.healthProbe) {
      // As an HTTP API with Lambda authorizers (simple responses) whose identity sources are
      // the proof of origin, and the Authorization header on a user's route, as
      // `contractAuthorizers` sets them: a source missing 401 (the authorizer is not
      // invoked), refused 403, an authorizer that fails 500.
      const sources = match.route.public ? [ORIGIN_PROOF_HEADER] : ['authorization', ORIGIN_PROOF_HEADER];
      const values = sources.map((name) => headers[name]);
      if (values.some((value) => !value)) return send(response, 401, { message: 'Unauthorized' }, served);
      let verdict: Awaited<ReturnType<LocalAuthorizer>>;
      try {
        verdict = await this.props.authorizer(authorizerEvent(incoming, match, values as string[]));
      } catch {
        return send(response, 500, { message: 'Internal Server Error' }, served);
      }
      if (!verdict.isAuthorized) return send(response, 403, { message: 'Forbidden' }, served);
      if (!match.route.public) identity = { lambda: verdict.context };
    }

    const { region } = this.props.context;
    const writer = api === 'public' && match.route.strong ? this.props.writerRegion() : region;
    const writerUrl = writer === region ? undefined : this.props.writerUrlOf(writer);
    if (writerUrl) {
      const trips = await this.props.distance.travel(region, writer);
      const forwarded = await exchange(`${writerUrl}${url.pathname}${url.search}`, method, headers, body);
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

    const event = apiGatewayEvent(incoming, match, identity);
    const result = await this.invoke(match.route.domain, event);
    // An HTTP API answers 500 when its Lambda integration fails: the function threw, timed out
    // or could not be invoked (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-troubleshooting-lambda.html).
    if (!result) return send(response, 500, { message: 'Internal Server Error' }, served);
    send(response, result.statusCode ?? 200, result.body ?? '', {
      ...(result.headers as Record<string, string>),
      ...served,
    });
  }

  /**
   * The domain's function, as Lambda runs it: undefined when it throws or outlives its timeout
   * (Lambda ends the invocation with "Task timed out"; locally the handler's promise is only
   * abandoned, so its late work still happens).
   */
  private async invoke(domain: ApiDomain, event: unknown): Promise<APIGatewayProxyStructuredResultV2 | undefined> {
    const handler = this.handlers?.[domain];
    if (!handler) return undefined;
    // "For synchronous invocations, the maximum payload size is 6 MB"
    // (https://docs.aws.amazon.com/lambda/latest/dg/API_Invoke.html): Lambda refuses a larger event.
    if (Buffer.byteLength(JSON.stringify(event), 'utf8') > LAMBDA_INVOCATION_PAYLOAD_BYTES) return undefined;
    const timeoutMs = this.props.functionTimeoutMs ?? DEFAULT_FUNCTION_TIMEOUT_MS;
    const { region } = this.props.context;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), timeoutMs);
    });
    // Each domain is its own function in AWS: what it calls is recorded as that function's.
    const invocation = runAs({ region, function: `api:${domain}` }, () =>
      handler(event as never, lambdaContext(`${domain}-${region}`, timeoutMs)),
    ).then(
      (result) => result as APIGatewayProxyStructuredResultV2,
      () => undefined,
    );
    try {
      return await Promise.race([invocation, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }
}
