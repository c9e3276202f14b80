import { Match, Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import {
  API_DOMAINS,
  API_ROUTES,
  type ApiDomain,
  type ApiRoute,
  routeKeyOf,
} from '../../../lambda/shared/api-contract';
import { WRITER_HEALTH_PATH, WriterApi } from '../../../lib/api/writer-api';
import { oneStack } from '../../support/one-stack';
import { resourcesOf } from '../../support/templates';

describe('WriterApi', () => {
  // given the region's domain functions and authorizer (the public API's, here by ARN) and a key
  const { stack } = oneStack({ region: 'eu-west-1' });
  const functionOf = (name: string) =>
    lambda.Function.fromFunctionAttributes(stack, name, {
      functionArn: `arn:aws:lambda:eu-west-1:123456789012:function:${name}`,
      sameEnvironment: true,
    });
  const functions = Object.fromEntries(API_DOMAINS.map((domain) => [domain, functionOf(domain)])) as Record<
    ApiDomain,
    lambda.IFunction
  >;
  const key = new kms.Key(stack, 'OperationsKey');
  // when the writer API is built
  const writer = new WriterApi(stack, 'WriterApi', {
    hostname: 'writer.eu.api.shop.example.com',
    certificate: acm.Certificate.fromCertificateArn(
      stack,
      'Certificate',
      'arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555',
    ),
    functions,
    authorizerFunction: functionOf('authorizer'),
    logEncryptionKey: key,
  });
  const template = Template.fromStack(stack);
  const integrations = resourcesOf(template, 'AWS::ApiGatewayV2::Integration');
  const routes = Object.values(resourcesOf(template, 'AWS::ApiGatewayV2::Route')).map((route) => {
    const props = route.Properties as any;
    return {
      routeKey: props.RouteKey as string,
      authorizationType: props.AuthorizationType as string,
      integration: integrations[props.Target['Fn::Join'][1][1].Ref]?.Properties as any,
    };
  });

  test('serves the strong routes and the writer health route itself, with the domain functions', () => {
    // then
    const strongRoutes = API_ROUTES.filter((r) => r.strong).map(routeKeyOf);
    expect(routes.map((r) => r.routeKey).sort()).toEqual([...strongRoutes, `GET ${WRITER_HEALTH_PATH}`].sort());
    expect(routes.map((r) => r.integration.IntegrationType)).toEqual(Array(4).fill('AWS_PROXY'));
    const uriOf = (routeKey: string) =>
      JSON.stringify(routes.find((r) => r.routeKey === routeKey)?.integration.IntegrationUri);
    expect(uriOf('POST /api/orders')).toContain('function:orders');
    expect(uriOf('PUT /api/products/{sku}')).toContain('function:products');
    expect(uriOf(`GET ${WRITER_HEALTH_PATH}`)).toContain('function:health');
  });

  test('only the writer health route, which Route 53 probes, is open; the others take the token authorizer', () => {
    // then
    expect(routes.filter((r) => r.authorizationType === 'NONE').map((r) => r.routeKey)).toEqual([
      `GET ${WRITER_HEALTH_PATH}`,
    ]);
    expect(routes.filter((r) => r.authorizationType === 'CUSTOM')).toHaveLength(3);
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'REQUEST',
      EnableSimpleResponses: true,
      AuthorizerUri: Match.stringLikeRegexp(':function:authorizer/invocations$'),
    });
  });

  test('answers to the writer hostname on a regional TLS 1.2 domain, throttled like a public API', () => {
    // then
    template.hasResourceProperties('AWS::ApiGatewayV2::DomainName', {
      DomainName: 'writer.eu.api.shop.example.com',
      DomainNameConfigurations: [Match.objectLike({ EndpointType: 'REGIONAL', SecurityPolicy: 'TLS_1_2' })],
    });
    template.resourceCountIs('AWS::ApiGatewayV2::ApiMapping', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      DefaultRouteSettings: { ThrottlingRateLimit: 1000, ThrottlingBurstLimit: 2000 },
    });
    expect(stack.resolve(writer.executeApiHost)).toEqual({
      'Fn::Join': [
        '',
        [{ Ref: expect.stringMatching(/^WriterApiHttpApi/) }, '.execute-api.eu-west-1.', { Ref: 'AWS::URLSuffix' }],
      ],
    });
  });

  test('access logs are kept a year under the given key; invocations are allowed from this account only', () => {
    // then
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      RetentionInDays: 365,
      KmsKeyId: { 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as kms.CfnKey), 'Arn'] },
    });
    const permissions = Object.values(resourcesOf(template, 'AWS::Lambda::Permission')).map((p) => p.Properties);
    expect(permissions.length).toBeGreaterThan(0);
    for (const permission of permissions) expect(permission?.SourceAccount).toBe('123456789012');
  });
});

describe('WriterApi logical ids', () => {
  test('given the routes in another order, then no resource changes its logical id or properties', () => {
    // given
    const build = (routes: readonly ApiRoute[]) => {
      const { stack } = oneStack({ region: 'eu-west-1' });
      const fn = (name: string) =>
        lambda.Function.fromFunctionArn(stack, name, `arn:aws:lambda:eu-west-1:123456789012:function:${name}`);
      new WriterApi(stack, 'WriterApi', {
        hostname: 'writer.eu.api.shop.example.com',
        certificate: acm.Certificate.fromCertificateArn(stack, 'Certificate', 'arn:aws:acm:eu-west-1:1:certificate/c'),
        functions: Object.fromEntries(API_DOMAINS.map((domain) => [domain, fn(domain)])) as Record<
          ApiDomain,
          lambda.IFunction
        >,
        authorizerFunction: fn('authorizer'),
        logEncryptionKey: new kms.Key(stack, 'OperationsKey'),
        routes,
      });
      return Template.fromStack(stack).toJSON().Resources;
    };
    // when, then
    expect(build([...API_ROUTES].reverse())).toEqual(build(API_ROUTES));
  });
});
