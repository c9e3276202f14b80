import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpUrlIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import {
  accessLogSettings,
  addContractRoute,
  contractAuthorizers,
  statePermissionAccounts,
} from '../../../lib/api/http-api-conventions';
import { acknowledgedRules, oneStack } from '../../support/one-stack';

describe('HTTP API conventions', () => {
  test("access logs: one JSON line per request, with the caller's address and no header", () => {
    // given
    const { stack } = oneStack();
    const logGroup = new logs.LogGroup(stack, 'AccessLogs');
    // when
    const settings = accessLogSettings(logGroup);
    // then
    const format = JSON.parse(settings.format?.toString() as string);
    expect(format).toEqual({
      requestId: '$context.requestId',
      sourceIp: '$context.identity.sourceIp',
      routeKey: '$context.routeKey',
      status: '$context.status',
      latencyMs: '$context.responseLatency',
      integrationError: '$context.integrationErrorMessage',
      authorizerError: '$context.authorizer.error',
    });
    expect(JSON.stringify(format)).not.toMatch(/header|userAgent|authorization/i);
  });

  test('a health probe takes no authorizer and says why; a public route the origin one; a user route the token one', () => {
    // given
    const { stack } = oneStack();
    const api = new apigwv2.HttpApi(stack, 'HttpApi');
    const integration = new HttpUrlIntegration('Url', 'https://example.com');
    const fn = new lambda.Function(stack, 'Authorizer', {
      runtime: lambda.Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => ({})'),
    });
    const authorizers = contractAuthorizers(fn);
    // when
    const health = { method: 'GET', path: '/api/health', domain: 'health', public: true, healthProbe: true } as const;
    addContractRoute(api, health, integration, authorizers, 'probes');
    addContractRoute(
      api,
      { method: 'GET', path: '/api/products/{sku}', domain: 'products', public: true },
      integration,
      authorizers,
      'unused',
    );
    addContractRoute(api, { method: 'GET', path: '/api/me/cart', domain: 'cart' }, integration, authorizers, 'unused');
    // then
    const healthRoute = api.node.findChild('GET--api--health');
    expect(acknowledgedRules(healthRoute)).toEqual(['AwsSolutions-APIG4']);
    expect(acknowledgedRules(healthRoute.node.findChild('Resource'))).toEqual([
      'cdk-validator-cfnguard::api_gw_v2_authorization_type_configured_check',
    ]);
    expect(acknowledgedRules(api.node.findChild('GET--api--me--cart'))).toEqual([]);
    const template = Template.fromStack(stack);
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map((r: any) => r.Properties);
    const authorizerSources = Object.fromEntries(
      Object.entries(template.findResources('AWS::ApiGatewayV2::Authorizer')).map(([id, a]: [string, any]) => [
        id,
        a.Properties.IdentitySource,
      ]),
    );
    const sources = Object.fromEntries(
      routes.map((r) => [r.RouteKey, r.AuthorizationType === 'NONE' ? 'none' : authorizerSources[r.AuthorizerId.Ref]]),
    );
    expect(sources).toEqual({
      'GET /api/health': 'none',
      'GET /api/products/{sku}': ['$request.header.x-origin-verify'],
      'GET /api/me/cart': ['$request.header.Authorization', '$request.header.x-origin-verify'],
    });
  });

  test('invoke permissions under an API state the account literally, and others are left alone', () => {
    // given
    const { stack } = oneStack();
    const fn = new lambda.Function(stack, 'Fn', {
      runtime: lambda.Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => ({})'),
    });
    const api = new apigwv2.HttpApi(stack, 'HttpApi');
    new lambda.CfnPermission(api, 'Invoke', {
      action: 'lambda:InvokeFunction',
      functionName: fn.functionName,
      principal: 'apigateway.amazonaws.com',
    });
    new lambda.CfnPermission(api, 'Stated', {
      action: 'lambda:InvokeFunction',
      functionName: fn.functionName,
      principal: 'apigateway.amazonaws.com',
      sourceAccount: '210987654321',
    });
    // when
    statePermissionAccounts(api);
    // then
    const accounts = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Permission')).map(
      (p: any) => p.Properties.SourceAccount,
    );
    expect(accounts.sort()).toEqual(['123456789012', '210987654321']);
    expect(Stack.of(api).account).toBe('123456789012');
  });
});
