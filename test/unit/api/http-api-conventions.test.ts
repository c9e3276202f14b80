import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpUrlIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { accessLogSettings, addContractRoute, statePermissionAccounts } from '../../../lib/api/http-api-conventions';
import { acknowledgedRules, oneStack } from '../../support/one-stack';

describe('HTTP API conventions', () => {
  test('access logs: one JSON line per request, with no client address or header', () => {
    // given
    const { stack } = oneStack();
    const logGroup = new logs.LogGroup(stack, 'AccessLogs');
    // when
    const settings = accessLogSettings(logGroup);
    // then
    const format = JSON.parse(settings.format?.toString() as string);
    expect(Object.keys(format)).toEqual([
      'requestId',
      'routeKey',
      'status',
      'latencyMs',
      'integrationError',
      'authorizerError',
    ]);
    expect(JSON.stringify(format)).not.toMatch(/sourceIp|identity|header|userAgent/i);
  });

  test('a public route takes no authorizer and says why; a private one takes the authorizer', () => {
    // given
    const { stack } = oneStack();
    const api = new apigwv2.HttpApi(stack, 'HttpApi');
    const integration = new HttpUrlIntegration('Url', 'https://example.com');
    const authorizer = new apigwv2.HttpNoneAuthorizer();
    // when
    addContractRoute(
      api,
      { method: 'GET', path: '/api/health', domain: 'health', public: true },
      integration,
      authorizer,
      'probes',
    );
    addContractRoute(api, { method: 'GET', path: '/api/me/cart', domain: 'cart' }, integration, authorizer, 'unused');
    // then
    const health = api.node.findChild('GET--api--health');
    expect(acknowledgedRules(health)).toEqual(['AwsSolutions-APIG4']);
    expect(acknowledgedRules(health.node.findChild('Resource'))).toEqual([
      'cdk-validator-cfnguard::api_gw_v2_authorization_type_configured_check',
    ]);
    expect(acknowledgedRules(api.node.findChild('GET--api--me--cart'))).toEqual([]);
    Template.fromStack(stack).resourceCountIs('AWS::ApiGatewayV2::Route', 2);
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
