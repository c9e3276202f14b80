import type { APIGatewayProxyHandlerV2 } from 'aws-lambda';
import { json } from '../shared/http';
import { logger, tracer } from '../shared/observability';
import { regionContextFrom } from '../shared/region-context';
import { healthReport } from './report';

const context = regionContextFrom(process.env);

/** `GET /api/health`: what Route 53 health checks probe in every region. */
export const handler: APIGatewayProxyHandlerV2 = async () => {
  const report = healthReport(context, new Date());
  tracer.putAnnotation('region', context.region);
  logger.debug('health', { report });
  return json(200, report);
};
