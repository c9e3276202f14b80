/**
 * The HTTP contract of the regional API, shared by the CDK app (which creates one API
 * Gateway route per entry) and the local gateway (which routes requests the same way).
 * Plain data so that function bundles never pull in aws-cdk-lib.
 */
export const API_DOMAINS = ['health', 'products', 'likes', 'profile', 'cart', 'orders'] as const;
export type ApiDomain = (typeof API_DOMAINS)[number];

export type HttpMethodName = 'GET' | 'PUT' | 'POST' | 'DELETE';

export interface ApiRoute {
  readonly method: HttpMethodName;
  /** Path template with `{param}` segments; keeps the `/api` prefix CloudFront routes on. */
  readonly path: string;
  readonly domain: ApiDomain;
  /** Routes anyone may call; every other route needs a valid token of the jurisdiction's user pool. */
  readonly public?: boolean;
  /**
   * Served by the jurisdiction's primary region only: strong reads and writes (Aurora's
   * writer lives there). Other regions forward these requests to it.
   */
  readonly strong?: boolean;
  /**
   * Answered by the writer API only (the one behind `writer.<jurisdiction>.api.<domain>`),
   * never by the public one.
   */
  readonly writerOnly?: boolean;
  /**
   * Probed by Route 53's health checks, which can send no header: the one kind of route served
   * without the proof of origin (`ORIGIN_PROOF_HEADER`) that CloudFront adds to every other
   * request. Throttled per route and answered from a short-lived probe result.
   */
  readonly healthProbe?: boolean;
}

/**
 * The header CloudFront adds to every request it sends to a regional API, with a secret only
 * the platform holds: a regional API refuses any other route's request without it, so the
 * only way in is through CloudFront and its web ACL.
 */
export const ORIGIN_PROOF_HEADER = 'x-origin-verify';

/**
 * Says `"writer":true` only in the region whose Aurora cluster is the writer: Route 53
 * routes strong requests by it.
 */
export const WRITER_HEALTH_PATH = '/api/health/writer';
/** What Route 53 looks for in the writer health route's answer. */
export const WRITER_HEALTH_MATCH = '"writer":true';

const CONTRACT_ROUTES = [
  { method: 'GET', path: '/api/health', domain: 'health', public: true, healthProbe: true },
  { method: 'GET', path: WRITER_HEALTH_PATH, domain: 'health', public: true, writerOnly: true, healthProbe: true },
  { method: 'GET', path: '/api/products/{sku}', domain: 'products', public: true },
  { method: 'PUT', path: '/api/products/{sku}', domain: 'products', strong: true },
  { method: 'POST', path: '/api/products/{sku}/likes', domain: 'likes' },
  // After the POST: the likes integration keeps the logical id it was created with.
  { method: 'GET', path: '/api/products/{sku}/likes', domain: 'likes', public: true },
  { method: 'GET', path: '/api/me/profile', domain: 'profile' },
  { method: 'PUT', path: '/api/me/profile', domain: 'profile' },
  { method: 'GET', path: '/api/me/cart', domain: 'cart' },
  { method: 'POST', path: '/api/me/cart/items', domain: 'cart' },
  { method: 'DELETE', path: '/api/me/cart/items/{sku}', domain: 'cart' },
  { method: 'POST', path: '/api/orders', domain: 'orders', strong: true },
  { method: 'GET', path: '/api/orders/{id}', domain: 'orders', strong: true },
] as const satisfies readonly ApiRoute[];

export const API_ROUTES: readonly ApiRoute[] = CONTRACT_ROUTES;

type ContractRoute = (typeof CONTRACT_ROUTES)[number];
type KeyOf<R> = R extends ContractRoute ? `${R['method']} ${R['path']}` : never;

/** `METHOD /path/{param}` of every route of the contract, as API Gateway hands it to the function. */
export type RouteKey = KeyOf<ContractRoute>;

/** The route keys one domain's function serves. */
export type DomainRouteKey<D extends ApiDomain> = KeyOf<Extract<ContractRoute, { readonly domain: D }>>;

/** `METHOD /path/{param}`, the route key API Gateway hands to the function. */
export function routeKeyOf(route: ApiRoute): string {
  return `${route.method} ${route.path}`;
}

/** The Cognito group whose members may change the catalog and stock. */
export const ADMIN_GROUP = 'admin';

export interface RouteMatch {
  readonly route: ApiRoute;
  readonly routeKey: string;
  readonly pathParameters: Readonly<Record<string, string>>;
}

/**
 * The route a request takes, matched the way API Gateway matches `{param}` segments
 * (one whole segment each); undefined when no route has that method and path.
 */
export function matchRoute(method: string, path: string): RouteMatch | undefined {
  const segments = path.split('/');
  for (const route of API_ROUTES) {
    if (route.method !== method.toUpperCase()) continue;
    const template = route.path.split('/');
    if (template.length !== segments.length) continue;
    const pathParameters: Record<string, string> = {};
    const matches = template.every((part, index) => {
      const segment = segments[index];
      if (part.startsWith('{') && part.endsWith('}')) {
        if (!segment) return false;
        pathParameters[part.slice(1, -1)] = decodeSegment(segment);
        return true;
      }
      return part === segment;
    });
    if (matches) return { route, routeKey: routeKeyOf(route), pathParameters };
  }
  return undefined;
}

/** A malformed escape stays as sent, for the parameter's own validation to refuse. */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
