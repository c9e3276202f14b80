import { createServer, type Server } from 'node:http';
import { FetchError, NonRetryableFetchError } from 'aws-jwt-verify/error';
import type { Fetcher } from 'aws-jwt-verify/https';
import { jwksUriOf } from '../lambda/authorizer/pool-verifier';
import type { DevTokenIssuer, LocalPool } from './dev-tokens';
import type { Distance } from './distance';
import { closeServer, exchange, listen, send } from './http-io';

/** How long a JWKS fetch may take, like the authorizer's HTTPS fetch timeout. */
const JWKS_FETCH_TIMEOUT_MS = 1500;

export interface IssuerServerProps {
  readonly pool: LocalPool;
  readonly tokens: DevTokenIssuer;
  /** Whether the pool's region (the jurisdiction's primary) is down: the issuer goes with it. */
  readonly regionDown: () => boolean;
}

/**
 * A jurisdiction's user pool endpoint in its primary region: it serves the pool's JWKS at
 * `/<poolId>/.well-known/jwks.json`, as Cognito does, and nothing while its region is
 * down (the connection is dropped, as an unreachable host's would be).
 */
export class IssuerServer {
  url = '';
  private readonly server: Server;

  constructor(private readonly props: IssuerServerProps) {
    const path = `/${props.pool.userPoolId}/.well-known/jwks.json`;
    this.server = createServer((request, response) => {
      if (props.regionDown()) {
        request.socket.destroy();
        return;
      }
      const url = new URL(request.url ?? '/', 'http://local');
      if (request.method !== 'GET' || url.pathname !== path) return send(response, 404, { message: 'Not Found' });
      send(response, 200, props.tokens.jwks(props.pool.jurisdiction));
    });
  }

  get pool(): LocalPool {
    return this.props.pool;
  }

  /** Where the pool's JWKS is, on this machine. */
  get jwksUrl(): string {
    return `${this.url}/${this.props.pool.userPoolId}/.well-known/jwks.json`;
  }

  async listen(port: number): Promise<string> {
    this.url = await listen(this.server, port, `issuer of ${this.props.pool.jurisdiction}`);
    return this.url;
  }

  async close(): Promise<void> {
    await closeServer(this.server);
  }
}

/**
 * The authorizer's JWKS fetcher in `region`: a pool's Cognito JWKS URI (`jwksUriOf`) is
 * fetched from that pool's local issuer, after the round trip to the pool's region. An
 * issuer that does not answer, or answers other than 200, fails like aws-jwt-verify's
 * HTTPS fetch (`FetchError`), which the authorizer treats as keys unavailable.
 */
export function issuerFetcher(region: string, issuers: () => readonly IssuerServer[], distance: Distance): Fetcher {
  return {
    fetch: async (uri: string) => {
      const issuer = issuers().find((candidate) => jwksUriOf(candidate.pool.userPoolId) === uri);
      if (!issuer) throw new NonRetryableFetchError(uri, 'no local issuer serves this URI');
      await distance.travel(region, issuer.pool.primaryRegion);
      const answer = await exchange(issuer.jwksUrl, 'GET', {}, undefined, JWKS_FETCH_TIMEOUT_MS);
      if (!answer) throw new FetchError(uri, `${issuer.pool.primaryRegion} did not answer`);
      if (answer.status !== 200) throw new FetchError(uri, `Status code is ${answer.status}, expected 200`);
      return new TextEncoder().encode(answer.body).buffer as ArrayBuffer;
    },
  };
}
