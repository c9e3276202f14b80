import type { APIGatewayProxyHandlerV2 } from 'aws-lambda';
import { errorResponse } from './http';
import { logger, metrics, tracer } from './observability';

/**
 * Handler for a domain whose application code has not landed yet: answers 501 and says
 * so, instead of pretending to work.
 */
export function notBuiltHandler(domain: string): APIGatewayProxyHandlerV2 {
  return async (event) => {
    tracer.putAnnotation('domain', domain);
    logger.info('domain not built yet', { domain, routeKey: event.routeKey });
    metrics.addMetric('NotImplemented', 'Count', 1);
    metrics.publishStoredMetrics();
    return errorResponse(501, 'NOT_IMPLEMENTED', `The ${domain} API is not built yet.`);
  };
}
