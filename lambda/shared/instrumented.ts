import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { guardJurisdiction } from '../residency/jurisdiction-guard';
import type { ApiDomain, DomainRouteKey } from './api-contract';
import {
  ApiError,
  StrongStoreBusyError,
  StrongStoreUnavailableError,
  strongStoreBusy,
  strongStoreUnavailable,
} from './api-error';
import { errorResponse, json } from './http';
import { metrics, logger as rootLogger } from './observability';
import type { RegionContext } from './region-context';
import { type ApiEvent, verifiedClaims } from './request';

export type RouteHandler = (
  event: ApiEvent,
  log: Logger,
  lambdaContext?: Partial<Context>,
) => Promise<APIGatewayProxyStructuredResultV2>;

export interface DomainApiProps<D extends ApiDomain> {
  /** The domain, for logs, traces and error messages. */
  readonly domain: D;
  readonly context: RegionContext;
  /**
   * A handler for every route of the domain in the contract, by route key
   * (`METHOD /path/{param}`, as API Gateway sends it): a route missing here, or one the
   * contract does not have, fails to compile.
   */
  readonly routes: Readonly<Record<DomainRouteKey<D>, RouteHandler>>;
  /** What the strong domain of this function is called in a 503, e.g. "Ordering". */
  readonly strongCapability?: string;
}

export type DomainHandler = (event: ApiEvent, context?: Partial<Context>) => Promise<APIGatewayProxyStructuredResultV2>;

/**
 * One domain's Lambda handler: routes by route key and wraps every request in Powertools
 * logging (with region, jurisdiction and route) and metrics, and turns
 * errors into the contract's error bodies. Unknown routes are 404; only a defect is a 500.
 */
export function domainHandler<D extends ApiDomain>(props: DomainApiProps<D>): DomainHandler {
  const log = rootLogger.createChild({
    persistentKeys: { region: props.context.region, jurisdiction: props.context.jurisdiction },
  });
  return async (event, lambdaContext) => {
    if (lambdaContext?.awsRequestId) log.addContext(lambdaContext as Context);
    log.appendKeys({ routeKey: event.routeKey });
    metrics.captureColdStartMetric();
    try {
      refuseOtherJurisdictions(event, props.context, log);
      const route = (props.routes as Readonly<Record<string, RouteHandler>>)[event.routeKey];
      const response = route
        ? await route(event, log, lambdaContext)
        : errorResponse(404, 'NOT_FOUND', `No route ${event.routeKey} in the ${props.domain} API`);
      metrics.addMetric(
        response.statusCode && response.statusCode >= 400 ? 'ClientError' : 'Success',
        MetricUnit.Count,
        1,
      );
      return response;
    } catch (error) {
      return failure(error, props, log);
    } finally {
      log.removeKeys(['routeKey']);
      metrics.publishStoredMetrics();
    }
  };
}

function failure(
  error: unknown,
  props: Pick<DomainApiProps<ApiDomain>, 'context' | 'strongCapability'>,
  log: Logger,
): APIGatewayProxyStructuredResultV2 {
  if (error instanceof StrongStoreUnavailableError) {
    log.warn('strong store unreachable; answering read-only', { cause: String(error.cause) });
    metrics.addMetric('StrongStoreUnavailable', MetricUnit.Count, 1);
    return fromApiError(strongStoreUnavailable(props.context.jurisdiction, props.strongCapability ?? 'This action'));
  }
  if (error instanceof StrongStoreBusyError) {
    log.warn('strong store busy', { cause: String(error.cause) });
    metrics.addMetric('StrongStoreBusy', MetricUnit.Count, 1);
    return fromApiError(strongStoreBusy(props.strongCapability ?? 'This action'));
  }
  if (error instanceof ApiError) {
    metrics.addMetric(error.statusCode >= 500 ? 'ServerError' : 'ClientError', MetricUnit.Count, 1);
    return fromApiError(error);
  }
  log.error('unhandled error', error as Error);
  metrics.addMetric('ServerError', MetricUnit.Count, 1);
  return errorResponse(500, 'INTERNAL', 'Something went wrong on our side; it has been logged.');
}

function fromApiError(error: ApiError): APIGatewayProxyStructuredResultV2 {
  const body = {
    error: {
      code: error.code,
      message: error.message,
      ...(error.field ? { field: error.field } : {}),
      ...error.details,
    },
  };
  return json(error.statusCode, body, { ...error.headers });
}

/**
 * The runtime residency guard, before any route runs: a token issued by another
 * jurisdiction's user pool is refused (421) with a pointer to the user's own API. The log
 * line names jurisdictions and the route only — no user id, no token.
 */
function refuseOtherJurisdictions(event: ApiEvent, context: RegionContext, log: Logger): void {
  const claims = verifiedClaims(event);
  if (!claims) return;
  const directory = context.directory ?? { byPrimaryRegion: {}, apiHosts: {} };
  const verdict = guardJurisdiction(claims.iss, context.jurisdiction, directory);
  if (verdict.allowed) return;
  log.warn('refused a user of another jurisdiction', {
    servingJurisdiction: context.jurisdiction,
    homeJurisdiction: verdict.homeJurisdiction ?? 'unknown',
  });
  metrics.addMetric('ResidencyRefusal', MetricUnit.Count, 1);
  const where = verdict.homeJurisdiction
    ? `Your account belongs to the ${verdict.homeJurisdiction} jurisdiction${verdict.apiHost ? `; use https://${verdict.apiHost}` : ''}.`
    : 'Your token was not issued by a user pool this platform knows.';
  throw new ApiError(
    421,
    'WRONG_JURISDICTION',
    `This region serves the ${context.jurisdiction} jurisdiction only and touched no data. ${where}`,
    { field: 'authorization', details: verdict.homeJurisdiction ? { homeJurisdiction: verdict.homeJurisdiction } : {} },
  );
}
