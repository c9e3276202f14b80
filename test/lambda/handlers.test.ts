import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { healthReport } from '../../lambda/health/report';
import { regionContextFrom } from '../../lambda/shared/region-context';

// Powertools reads these when the handler modules load (required inside the tests).
process.env.POWERTOOLS_METRICS_NAMESPACE = 'Commerce';
process.env.POWERTOOLS_SERVICE_NAME = 'api-test';
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

const invoke = async (handler: (e: APIGatewayProxyEventV2, c: Context) => unknown, routeKey: string) =>
  (await handler(
    { routeKey, rawPath: routeKey.split(' ')[1] } as APIGatewayProxyEventV2,
    {} as Context,
  )) as APIGatewayProxyStructuredResultV2;

describe('health', () => {
  test('reports the region and jurisdiction it serves', () => {
    expect(healthReport({ region: 'eu-west-1', jurisdiction: 'eu' }, new Date('2026-11-26T10:00:00Z'))).toEqual({
      region: 'eu-west-1',
      jurisdiction: 'eu',
      status: 'serving',
      checkedAt: '2026-11-26T10:00:00.000Z',
    });
  });

  test('the handler answers 200 JSON that is never cached', async () => {
    process.env.AWS_REGION = 'ap-southeast-1';
    process.env.JURISDICTION = 'global';
    const { handler } = require('../../lambda/health/handler');
    const response = await invoke(handler as never, 'GET /api/health');
    expect(response.statusCode).toBe(200);
    expect(response.headers).toMatchObject({ 'content-type': 'application/json', 'cache-control': 'no-store' });
    expect(JSON.parse(response.body as string)).toMatchObject({
      region: 'ap-southeast-1',
      jurisdiction: 'global',
      status: 'serving',
    });
  });

  test('refuses to start without knowing its jurisdiction', () => {
    expect(() => regionContextFrom({ AWS_REGION: 'eu-west-1' })).toThrow('JURISDICTION is not set');
    expect(() => regionContextFrom({ JURISDICTION: 'eu' })).toThrow('AWS_REGION is not set');
  });
});

describe('domains not built yet', () => {
  test.each(['products', 'likes', 'profile', 'cart', 'orders'])(
    '%s answers 501 with the error shape of the contract',
    async (domain) => {
      const { handler } = require(`../../lambda/${domain}/handler`);
      const response = await invoke(handler, 'GET /api/anything');
      expect(response.statusCode).toBe(501);
      expect(JSON.parse(response.body as string)).toEqual({
        error: { code: 'NOT_IMPLEMENTED', message: `The ${domain} API is not built yet.` },
      });
    },
  );
});
