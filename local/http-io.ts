import { Agent, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** API Gateway's own payload limit for HTTP APIs. */
export const MAX_REQUEST_BYTES = 10 * 1024 * 1024;

/**
 * Response header with the cross-region round trips a request made inside the platform
 * (edge to region, region to primary), summed hop by hop: the runtime's own count.
 */
export const CROSS_REGION_TRIPS_HEADER = 'x-cross-region-round-trips';
/** The header of an answer a local server gives itself, before (or without) calling another region. */
export const NO_CROSS_REGION_TRIPS = { [CROSS_REGION_TRIPS_HEADER]: '0' };

/** The round trips an upstream answer reports, plus the one (or none) made to reach it. */
export function tripsHeader(
  upstream: Readonly<Record<string, string>>,
  tripsToReachIt: number,
): Record<string, string> {
  const reported = Number(upstream[CROSS_REGION_TRIPS_HEADER] ?? 0);
  return { [CROSS_REGION_TRIPS_HEADER]: String((Number.isFinite(reported) ? reported : 0) + tripsToReachIt) };
}

export class RequestTooLargeError extends Error {}

/** The message's body as sent, byte for byte; undefined when it has none. */
export async function readBodyBytes(request: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_REQUEST_BYTES) throw new RequestTooLargeError();
    chunks.push(chunk as Buffer);
  }
  return size === 0 ? undefined : Buffer.concat(chunks);
}

export async function readBody(request: IncomingMessage): Promise<string | undefined> {
  return (await readBodyBytes(request))?.toString('utf8');
}

/**
 * A message's headers by lower-case name; repeats joined with `separator` (`,` as API
 * Gateway's v2 event joins a request's, `, ` as fetch joins an answer's).
 */
export function lowerCaseHeaders(message: IncomingMessage, separator = ','): Record<string, string> {
  const headers: Record<string, string> = {};
  // `headersDistinct`, not `headers`: Node keeps only the first of a repeated Authorization,
  // Content-Type or Host, which is not what reaches the function in AWS.
  for (const [name, values] of Object.entries(message.headersDistinct)) {
    if (values !== undefined) headers[name.toLowerCase()] = values.join(separator);
  }
  return headers;
}

export function send(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string | number | boolean> = {},
): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(text);
}

/** Listens on loopback; a busy port is an error that says which server wanted it. */
export async function listen(server: Server, port: number, what: string): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(`port ${port} (${what}) is already in use; stop what holds it or pass --port-base`)
          : error,
      );
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, '127.0.0.1');
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export async function closeServer(server: Server): Promise<void> {
  if (!server.listening) return;
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

// Hop-by-hop headers (RFC 9110 §7.6.1) and `expect` are not forwarded by a proxy; fetch
// also refuses several of them outright.
const NOT_FORWARDED = new Set([
  'host',
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'expect',
  'content-length',
]);

/** Headers a proxy passes on, in either direction. */
export function forwardable(headers: Iterable<[string, string]>): Record<string, string> {
  return Object.fromEntries([...headers].filter(([name]) => !NOT_FORWARDED.has(name.toLowerCase())));
}

/** GET and HEAD carry no body when forwarded (fetch refuses one). */
export function forwardableBody(method: string, body: string | Buffer | undefined): string | Buffer | undefined {
  return method === 'GET' || method === 'HEAD' ? undefined : body;
}

export interface HttpAnswer {
  readonly status: number;
  /** Lower-case names; repeated headers joined with ", " as fetch joins them. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** API Gateway's integration timeout: an upstream that takes longer gets no answer. */
const EXCHANGE_TIMEOUT_MS = 30_000;

/** Connections between the local servers are kept open, as CloudFront and API Gateway keep theirs. */
const keepAlive = new Agent({ keepAlive: true });

/**
 * One HTTP request and its answer, between the local servers (or from the benchmark's
 * shoppers); undefined when the server cannot be reached, breaks off or takes longer than
 * `timeoutMs`. `node:http` with a keep-alive agent rather than fetch: a hop costs a
 * fraction of a millisecond instead of one or two, and the benchmark measures every hop.
 * Core `node:http` rather than the undici package: the deadline and the one retry on a
 * kept-alive socket the server had just closed (as the Node docs describe) are all this
 * needs, without another dependency.
 */
export async function exchange(
  url: string,
  method: string,
  headers: Readonly<Record<string, string>>,
  body: string | Buffer | undefined,
  timeoutMs = EXCHANGE_TIMEOUT_MS,
): Promise<HttpAnswer | undefined> {
  const first = await exchangeOnce(url, method, headers, body, timeoutMs);
  return first === STALE_SOCKET
    ? ((await exchangeOnce(url, method, headers, body, timeoutMs)) as HttpAnswer | undefined)
    : first;
}

const STALE_SOCKET = Symbol('stale keep-alive socket');

function exchangeOnce(
  url: string,
  method: string,
  headers: Readonly<Record<string, string>>,
  body: string | Buffer | undefined,
  timeoutMs: number,
): Promise<HttpAnswer | undefined | typeof STALE_SOCKET> {
  return new Promise((resolve) => {
    let outgoing: ReturnType<typeof httpRequest>;
    try {
      outgoing = httpRequest(url, { method, headers: forwardable(Object.entries(headers)), agent: keepAlive });
    } catch {
      return resolve(undefined); // not a URL
    }
    outgoing.setTimeout(timeoutMs, () => outgoing.destroy(new Error(`no answer in ${timeoutMs} ms`)));
    outgoing.once('error', (error: NodeJS.ErrnoException) => {
      // The server closed an idle kept-alive socket just as this request went out on it:
      // nothing reached the server, so sending it again on a fresh socket is safe.
      resolve(outgoing.reusedSocket && error.code === 'ECONNRESET' ? STALE_SOCKET : undefined);
    });
    outgoing.once('response', (incoming) => {
      const answerHeaders = lowerCaseHeaders(incoming, ', ');
      readBody(incoming).then(
        (text) => resolve({ status: incoming.statusCode ?? 502, headers: answerHeaders, body: text ?? '' }),
        () => resolve(undefined),
      );
    });
    outgoing.end(forwardableBody(method, body));
  });
}
