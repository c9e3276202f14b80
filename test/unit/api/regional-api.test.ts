import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as kms from 'aws-cdk-lib/aws-kms';
import { API_ROUTES, routeKeyOf } from '../../../lambda/shared/api-contract';
import type { ApiEnvironment } from '../../../lambda/shared/environment';
import { RegionalApi, type RegionalApiProps } from '../../../lib/api/regional-api';
import { RegionalNetwork } from '../../../lib/network/regional-network';
import { API_FUNCTION_SERVICES } from '../../support/api';
import { acknowledgedRules, isolatedVpc, oneStack, zonesOf } from '../../support/one-stack';
import { resourcesOf } from '../../support/templates';

/** What a stack tells every API function; values are examples. */
const API_ENVIRONMENT: ApiEnvironment = {
  JURISDICTION: 'eu',
  PRIMARY_REGION: 'eu-west-1',
  DEPLOYMENT_MODEL: 'active-active',
  EVENTUAL_TABLE: 'T',
  CACHE_ENDPOINT: 'cache.example:6379',
  DB_PROXY_ENDPOINT: 'proxy.example',
  JURISDICTION_DIRECTORY: '{"byPrimaryRegion":{}}',
};

const HOSTNAMES = ['api.shop.example.com', 'eu.api.shop.example.com'];
/** A stand-in for the region's key copy: the parameter's name and a read grant that records its grantees. */
const SIGNING_KEYS = {
  parameterName: '/Commerce/eu/user-pool-signing-keys',
  copyKeyArn: 'arn:aws:kms:eu-central-1:123456789012:key/copy',
  grantRead: () => undefined,
};
const STRONG_ROUTES = API_ROUTES.filter((r) => r.strong).map(routeKeyOf);
const ORIGIN_SECRET_NAME = 'Commerce/origin-verify';

/** The API in a stack of its own: the region's VPC and key, a certificate and a user pool given by id. */
function build(props: Partial<RegionalApiProps> = {}) {
  const { stack } = oneStack({ region: 'eu-central-1' });
  const vpc = isolatedVpc(stack);
  const key = new kms.Key(stack, 'DataKey');
  const api = new RegionalApi(stack, 'Api', {
    vpc,
    logEncryptionKey: key,
    hostnames: HOSTNAMES,
    certificate: acm.Certificate.fromCertificateArn(
      stack,
      'Certificate',
      'arn:aws:acm:eu-central-1:123456789012:certificate/11111111-2222-3333-4444-555555555555',
    ),
    userPoolId: 'eu-west-1_AbCdEfGhI',
    userPoolClientId: 'webclient123',
    originSecretName: ORIGIN_SECRET_NAME,
    environment: API_ENVIRONMENT,
    signingKeys: SIGNING_KEYS,
    ...props,
  });
  const template = Template.fromStack(stack);
  const keyArn = { 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as kms.CfnKey), 'Arn'] };
  return { stack, vpc, api, template, keyArn };
}

/** The API's routes with the integration each one targets. */
function routesOf(template: Template) {
  const integrations = resourcesOf(template, 'AWS::ApiGatewayV2::Integration');
  return Object.values(resourcesOf(template, 'AWS::ApiGatewayV2::Route')).map((route) => {
    const props = route.Properties as any;
    const target = props.Target['Fn::Join'][1][1].Ref as string;
    return {
      routeKey: props.RouteKey as string,
      authorizationType: props.AuthorizationType as string,
      authorizerId: props.AuthorizerId?.Ref as string,
      integration: integrations[target]?.Properties as any,
    };
  });
}

describe('RegionalApi', () => {
  // given the region's VPC and key and the writer hostname; when the API is built
  const { stack, vpc, api, template, keyArn } = build({ strongRoutesHost: 'writer.eu.api.shop.example.com' });
  // The API's own functions (the VPC's default-security-group handler is CDK's).
  const functions = Object.values(resourcesOf(template, 'AWS::Lambda::Function'))
    .map((f) => f.Properties as any)
    .filter((f) => f.Role['Fn::GetAtt'][0].startsWith('Api'));
  const domainFunctions = functions.filter((f) => f.Environment?.Variables?.POWERTOOLS_SERVICE_NAME);

  test('runs one arm64 Node.js 24 function per domain with tracing, in the isolated subnets behind one group', () => {
    // then
    expect(domainFunctions.map((f) => f.Environment.Variables.POWERTOOLS_SERVICE_NAME).sort()).toEqual(
      API_FUNCTION_SERVICES,
    );
    const [groupId] = Object.keys(resourcesOf(template, 'AWS::EC2::SecurityGroup'));
    for (const fn of domainFunctions) {
      expect(fn).toMatchObject({
        Architectures: ['arm64'],
        Runtime: 'nodejs24.x',
        TracingConfig: { Mode: 'Active' },
        MemorySize: 512,
        Timeout: 10,
        LoggingConfig: { LogFormat: 'JSON' },
        VpcConfig: {
          SubnetIds: vpc.isolatedSubnets.map((s) => stack.resolve(s.subnetId)),
          SecurityGroupIds: [{ 'Fn::GetAtt': [groupId, 'GroupId'] }],
        },
      });
      // The stack's environment reaches every function, next to Powertools' own.
      expect(fn.Environment.Variables).toMatchObject({
        JURISDICTION: 'eu',
        EVENTUAL_TABLE: 'T',
        POWERTOOLS_METRICS_NAMESPACE: 'Commerce',
      });
    }
    expect(Object.keys(api.functions).sort()).toEqual(['cart', 'health', 'likes', 'orders', 'products', 'profile']);
  });

  test('the functions and the access logs log to groups kept a year, encrypted with the given key', () => {
    // then
    const logGroups = Object.values(resourcesOf(template, 'AWS::Logs::LogGroup')).map((g) => g.Properties as any);
    // Six domains, the authorizer and the access logs.
    expect(logGroups).toHaveLength(8);
    for (const group of logGroups) expect(group).toMatchObject({ RetentionInDays: 365, KmsKeyId: keyArn });
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 1000, ThrottlingBurstLimit: 2000 },
      AccessLogSettings: { DestinationArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ApiAccessLogs'), 'Arn'] } },
    });
  });

  test('serves every public-API route of the contract; strong ones are forwarded to the writer hostname', () => {
    // then
    const routes = routesOf(template);
    expect(routes.map((r) => r.routeKey).sort()).toEqual(
      API_ROUTES.filter((r) => !r.writerOnly)
        .map(routeKeyOf)
        .sort(),
    );
    expect(STRONG_ROUTES.sort()).toEqual(['GET /api/orders/{id}', 'POST /api/orders', 'PUT /api/products/{sku}']);
    for (const { routeKey, integration } of routes) {
      if (!STRONG_ROUTES.includes(routeKey)) {
        expect([routeKey, integration.IntegrationType]).toEqual([routeKey, 'AWS_PROXY']);
        continue;
      }
      expect(integration).toMatchObject({
        IntegrationType: 'HTTP_PROXY',
        IntegrationUri: 'https://writer.eu.api.shop.example.com',
        RequestParameters: { 'overwrite:path': '$request.path' },
      });
    }
  });

  test('with no writer hostname it serves strong routes itself', () => {
    // given, when
    const { template: alone } = build();
    // then
    const types = routesOf(alone).map((r) => r.integration.IntegrationType);
    expect(new Set(types)).toEqual(new Set(['AWS_PROXY']));
  });

  test('only the health probe is open; public reads need the proof of origin, every other route a token too', () => {
    // then
    const routes = routesOf(template);
    const authorizers = resourcesOf(template, 'AWS::ApiGatewayV2::Authorizer');
    const sourcesOf = (r: (typeof routes)[number]) =>
      r.authorizationType === 'NONE' ? 'none' : (authorizers[r.authorizerId]?.Properties as any)?.IdentitySource;
    const byRoute = Object.fromEntries(routes.map((r) => [r.routeKey, sourcesOf(r)]));
    const proof = '$request.header.x-origin-verify';
    expect(byRoute['GET /api/health']).toBe('none');
    expect(byRoute['GET /api/products/{sku}']).toEqual([proof]);
    expect(byRoute['GET /api/products/{sku}/likes']).toEqual([proof]);
    const userRoutes = routes.filter((r) => !API_ROUTES.find((c) => routeKeyOf(c) === r.routeKey)?.public);
    expect(userRoutes).toHaveLength(9);
    for (const route of userRoutes) expect(byRoute[route.routeKey]).toEqual(['$request.header.Authorization', proof]);
    for (const authorizer of Object.values(authorizers)) {
      expect(authorizer.Properties).toMatchObject({
        AuthorizerType: 'REQUEST',
        AuthorizerPayloadFormatVersion: '2.0',
        EnableSimpleResponses: true,
        AuthorizerResultTtlInSeconds: 300,
      });
    }
    expect(Object.keys(authorizers)).toHaveLength(2);
  });

  test('anonymous routes are throttled below the stage: the health probe hardest', () => {
    // then
    const [stage] = Object.values(resourcesOf(template, 'AWS::ApiGatewayV2::Stage')).map((s) => s.Properties as any);
    expect(stage.DefaultRouteSettings).toMatchObject({ ThrottlingRateLimit: 1000, ThrottlingBurstLimit: 2000 });
    // API Gateway refuses settings for a route it does not have yet: the stage waits for each.
    const [stageResource] = Object.values(resourcesOf(template, 'AWS::ApiGatewayV2::Stage'));
    const routeIds = Object.entries(resourcesOf(template, 'AWS::ApiGatewayV2::Route'))
      .filter(([, route]) => (route.Properties as any).RouteKey in stage.RouteSettings)
      .map(([id]) => id);
    expect(routeIds).toHaveLength(3);
    expect((stageResource as { DependsOn?: string[] } | undefined)?.DependsOn).toEqual(
      expect.arrayContaining(routeIds),
    );
    expect(stage.RouteSettings).toEqual({
      'GET /api/health': { ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 },
      'GET /api/products/{sku}': { ThrottlingRateLimit: 500, ThrottlingBurstLimit: 1000 },
      'GET /api/products/{sku}/likes': { ThrottlingRateLimit: 500, ThrottlingBurstLimit: 1000 },
    });
  });

  test("the authorizer may read its region's replica of the origin secret, by name, and nothing else of Secrets Manager", () => {
    // then
    const statements = Object.values(resourcesOf(template, 'AWS::IAM::Policy')).flatMap(
      (p) => (p.Properties as any).PolicyDocument.Statement,
    );
    const secrets = statements.filter((st: any) =>
      [st.Action].flat().some((a: string) => a.startsWith('secretsmanager:')),
    );
    expect(secrets).toEqual([
      expect.objectContaining({
        Action: 'secretsmanager:GetSecretValue',
        Resource: `arn:aws:secretsmanager:eu-central-1:123456789012:secret:${ORIGIN_SECRET_NAME}-??????`,
      }),
    ]);
  });

  test("strong routes forwarded to the writer carry the request's proof of origin along", () => {
    // then
    const forwarded = routesOf(template).filter((r) => r.integration.IntegrationType === 'HTTP_PROXY');
    expect(forwarded.length).toBe(STRONG_ROUTES.length);
    for (const route of forwarded) {
      expect(route.integration.RequestParameters).toEqual({
        'overwrite:path': '$request.path',
        'overwrite:header.x-origin-verify': '$request.header.x-origin-verify',
      });
    }
  });

  test("the token authorizer runs outside the VPC and trusts the given pool's client", () => {
    // then
    const authorizer = functions.find((f) => f.Environment?.Variables?.USER_POOL_ID);
    expect(authorizer).toMatchObject({
      Architectures: ['arm64'],
      Runtime: 'nodejs24.x',
      TracingConfig: { Mode: 'Active' },
      Environment: {
        Variables: {
          USER_POOL_ID: 'eu-west-1_AbCdEfGhI',
          USER_POOL_CLIENT_ID: 'webclient123',
          JURISDICTION: 'eu',
          JURISDICTION_DIRECTORY: '{"byPrimaryRegion":{}}',
          ORIGIN_SECRET_NAME,
        },
      },
    });
    expect(authorizer.VpcConfig).toBeUndefined();
    expect(functions).toHaveLength(7);
  });

  test('answers to each hostname on a regional TLS 1.2 custom domain of the certificate', () => {
    // then
    const names = Object.values(resourcesOf(template, 'AWS::ApiGatewayV2::DomainName')).map((d) => d.Properties as any);
    expect(names.map((d) => d.DomainName)).toEqual(HOSTNAMES);
    for (const d of names) {
      expect(d.DomainNameConfigurations).toEqual([
        expect.objectContaining({
          EndpointType: 'REGIONAL',
          SecurityPolicy: 'TLS_1_2',
          CertificateArn: 'arn:aws:acm:eu-central-1:123456789012:certificate/11111111-2222-3333-4444-555555555555',
        }),
      ]);
    }
    template.resourceCountIs('AWS::ApiGatewayV2::ApiMapping', 2);
    expect(Object.keys(api.domainNames)).toEqual(HOSTNAMES);
    expect(stack.resolve(api.executeApiHost)).toEqual({
      'Fn::Join': [
        '',
        [{ Ref: expect.stringMatching(/^ApiHttpApi/) }, '.execute-api.eu-central-1.', { Ref: 'AWS::URLSuffix' }],
      ],
    });
  });

  test('API Gateway may invoke the functions only from this account, stated literally', () => {
    // then
    const permissions = Object.values(resourcesOf(template, 'AWS::Lambda::Permission')).map((p) => p.Properties);
    expect(permissions.length).toBeGreaterThan(0);
    for (const permission of permissions) expect(permission?.SourceAccount).toBe('123456789012');
  });

  test('only the health probe carries a reason for having no authorizer, for cdk-nag and Control Tower', () => {
    // then
    const health = api.httpApi.node.findChild('GET--api--health');
    expect(acknowledgedRules(health)).toEqual(['AwsSolutions-APIG4']);
    expect(acknowledgedRules(health.node.findChild('Resource'))).toEqual([
      'cdk-validator-cfnguard::api_gw_v2_authorization_type_configured_check',
    ]);
    for (const route of ['GET--api--me--cart', 'GET--api--products--{sku}']) {
      expect(acknowledgedRules(api.httpApi.node.findChild(route))).toEqual([]);
    }
  });
});

describe('RegionalApi log key', () => {
  test('defaults to the key of the RegionalNetwork that built the VPC', () => {
    // given
    const { stack } = oneStack();
    const key = new kms.Key(stack, 'DataKey');
    const network = new RegionalNetwork(stack, 'Network', {
      availabilityZones: zonesOf('eu-west-1'),
      logEncryptionKey: key,
    });
    // when
    new RegionalApi(stack, 'Api', {
      vpc: network.vpc,
      hostnames: [],
      certificate: acm.Certificate.fromCertificateArn(
        stack,
        'Certificate',
        'arn:aws:acm:eu-west-1:123456789012:certificate/c',
      ),
      userPoolId: 'p',
      userPoolClientId: 'c',
      originSecretName: ORIGIN_SECRET_NAME,
      environment: API_ENVIRONMENT,
      signingKeys: SIGNING_KEYS,
    });
    // then
    const keyArn = { 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as kms.CfnKey), 'Arn'] };
    const apiLogGroups = Object.entries(resourcesOf(Template.fromStack(stack), 'AWS::Logs::LogGroup'))
      .filter(([id]) => id.startsWith('Api'))
      .map(([, group]) => group.Properties?.KmsKeyId);
    expect(apiLogGroups).toEqual(Array(8).fill(keyArn));
  });

  test('refuses a VPC of unknown origin with no key given, naming the construct', () => {
    // given
    const { stack } = oneStack();
    // when, then
    expect(
      () =>
        new RegionalApi(stack, 'Api', {
          vpc: isolatedVpc(stack),
          hostnames: [],
          certificate: acm.Certificate.fromCertificateArn(
            stack,
            'Certificate',
            'arn:aws:acm:eu-west-1:1:certificate/c',
          ),
          userPoolId: 'p',
          userPoolClientId: 'c',
          originSecretName: ORIGIN_SECRET_NAME,
          environment: API_ENVIRONMENT,
          signingKeys: SIGNING_KEYS,
        }),
    ).toThrow('Test/Api: no logEncryptionKey given and the VPC was not built by a RegionalNetwork');
  });
});

describe('RegionalApi function timeouts', () => {
  test('a domain given a timeout gets it; the others keep 10 s', () => {
    // given, when
    const { template } = build({ timeouts: { orders: Duration.seconds(25) } });
    // then
    const timeouts = Object.entries(resourcesOf(template, 'AWS::Lambda::Function'))
      .filter(([id]) => /^Api(Health|Products|Likes|Profile|Cart|Orders)Function/.test(id))
      .map(([id, fn]) => [id.replace(/Function.*/, ''), fn.Properties?.Timeout]);
    expect(Object.fromEntries(timeouts)).toEqual({
      ApiHealth: 10,
      ApiProducts: 10,
      ApiLikes: 10,
      ApiProfile: 10,
      ApiCart: 10,
      ApiOrders: 25,
    });
  });

  test('refuses a timeout API Gateway would cut short, naming the construct and the field', () => {
    expect(() => build({ timeouts: { orders: Duration.seconds(30) } })).toThrow(
      'Test/Api: timeouts.orders is 30 s; at most 29 s (API Gateway gives up at 30 s)',
    );
  });
});

describe('RegionalApi logical ids', () => {
  test('given the host names and the routes in another order, then no resource changes its logical id or properties', () => {
    // given
    const inOrder = build({ strongRoutesHost: 'writer.eu.api.shop.example.com' });
    // when
    const reordered = build({
      strongRoutesHost: 'writer.eu.api.shop.example.com',
      hostnames: [...HOSTNAMES].reverse(),
      routes: [...API_ROUTES].reverse(),
    });
    // then
    expect(reordered.template.toJSON().Resources).toEqual(inOrder.template.toJSON().Resources);
  });

  test('each route has its own integration, named after the route', () => {
    // given, when
    const { template } = build({ strongRoutesHost: 'writer.eu.api.shop.example.com' });
    // then
    const routes = API_ROUTES.filter((route) => !route.writerOnly);
    expect(Object.keys(resourcesOf(template, 'AWS::ApiGatewayV2::Integration'))).toHaveLength(routes.length);
  });
});
