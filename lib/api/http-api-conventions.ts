import { Duration, Stack, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaAuthorizer, HttpLambdaResponseType } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { IConstruct } from 'constructs';
import { type ApiRoute, ORIGIN_PROOF_HEADER } from '../../lambda/shared/api-contract';

/**
 * One JSON line per request. The caller's address is kept: behind CloudFront it is
 * CloudFront's (the shopper's address is in CloudFront's logs), and for a request that tried
 * to skip CloudFront it is who tried. The logs stay in the API's region, so in its jurisdiction.
 */
export function accessLogSettings(logGroup: logs.ILogGroup): apigwv2.IAccessLogSettings {
  return {
    destination: new apigwv2.LogGroupLogDestination(logGroup),
    format: AccessLogFormat.custom(
      JSON.stringify({
        requestId: '$context.requestId',
        sourceIp: '$context.identity.sourceIp',
        routeKey: '$context.routeKey',
        status: '$context.status',
        latencyMs: '$context.responseLatency',
        integrationError: '$context.integrationErrorMessage',
        authorizerError: '$context.authorizer.error',
      }),
    ),
  };
}

/**
 * API Gateway may invoke a function only from the API that `SourceArn` names; stating
 * `SourceAccount` too puts the account in a form the Control Tower check CT.LAMBDA.PR.2
 * can verify without resolving the ARN's `Fn::Join`.
 */
export function statePermissionAccounts(api: IConstruct): void {
  for (const child of api.node.findAll()) {
    if (child instanceof lambda.CfnPermission && child.sourceAccount === undefined) {
      child.sourceAccount = Stack.of(api).account;
    }
  }
}

/** The authorizers of one API: every route but a health probe passes one of them. */
export interface ContractAuthorizers {
  /** The proof of origin and a user's token: routes that need a signed-in user. */
  readonly token: apigwv2.IHttpRouteAuthorizer;
  /** The proof of origin alone: public routes (product pages, likes). */
  readonly origin: apigwv2.IHttpRouteAuthorizer;
}

/**
 * One route of the HTTP contract on an API. Only a health probe carries no authorizer:
 * Route 53's health checks can send no header; `healthProbeReason` says why, for cdk-nag and
 * Control Tower alike. Every other route is refused before any function runs unless the
 * request carries the proof of origin CloudFront adds.
 */
export function addContractRoute(
  api: apigwv2.HttpApi,
  route: ApiRoute,
  integration: apigwv2.HttpRouteIntegration,
  authorizers: ContractAuthorizers,
  healthProbeReason: string,
): void {
  const authorizer = route.healthProbe
    ? new apigwv2.HttpNoneAuthorizer()
    : route.public
      ? authorizers.origin
      : authorizers.token;
  const routes = api.addRoutes({
    path: route.path,
    methods: [apigwv2.HttpMethod[route.method]],
    integration,
    authorizer,
  });
  if (!route.healthProbe) return;
  for (const probeRoute of routes) {
    Validations.of(probeRoute).acknowledge({ id: 'AwsSolutions-APIG4', reason: healthProbeReason });
    Validations.of(probeRoute.node.defaultChild as apigwv2.CfnRoute).acknowledge({
      id: 'cdk-validator-cfnguard::api_gw_v2_authorization_type_configured_check',
      reason: healthProbeReason,
    });
  }
}

/**
 * The API's two authorizers over one function (it tells them apart by the route): the proof
 * of origin alone, and the proof with a user's token. Each caches its answer for 5 minutes
 * per distinct value of its identity sources; a request missing one is refused 401 before
 * the function runs.
 */
export function contractAuthorizers(fn: lambda.IFunction): ContractAuthorizers {
  const proof = `$request.header.${ORIGIN_PROOF_HEADER}`;
  return {
    token: new HttpLambdaAuthorizer('TokenAuthorizer', fn, {
      responseTypes: [HttpLambdaResponseType.SIMPLE],
      identitySource: ['$request.header.Authorization', proof],
      resultsCacheTtl: Duration.minutes(5),
    }),
    origin: new HttpLambdaAuthorizer('OriginAuthorizer', fn, {
      responseTypes: [HttpLambdaResponseType.SIMPLE],
      identitySource: [proof],
      resultsCacheTtl: Duration.minutes(5),
    }),
  };
}

/** Per-route limits, in requests per second, below the stage's: anonymous routes cannot starve the rest. */
export const ROUTE_THROTTLES = {
  /** Route 53's checkers probe about once a second per health check; the canaries now and then. */
  healthProbe: { rateLimit: 10, burstLimit: 20 },
  /** Product pages and likes counts, which any shopper may read without signing in. */
  public: { rateLimit: 500, burstLimit: 1000 },
} as const;

/**
 * Sets `ROUTE_THROTTLES` on the stage for each anonymous route of `routes`, once the API has
 * them: API Gateway refuses route settings that name a route it does not have yet, so the
 * stage is made to wait for each route it names.
 */
export function throttleAnonymousRoutes(
  stage: apigwv2.HttpStage,
  api: apigwv2.HttpApi,
  routes: readonly ApiRoute[],
): void {
  // CloudFormation's own key names: `RouteSettings` is a free-form map, which CDK passes as is.
  const settings: Record<string, { ThrottlingRateLimit: number; ThrottlingBurstLimit: number }> = {};
  for (const route of routes) {
    const limits = route.healthProbe ? ROUTE_THROTTLES.healthProbe : route.public ? ROUTE_THROTTLES.public : undefined;
    if (!limits) continue;
    settings[`${route.method} ${route.path}`] = {
      ThrottlingRateLimit: limits.rateLimit,
      ThrottlingBurstLimit: limits.burstLimit,
    };
  }
  (stage.node.defaultChild as apigwv2.CfnStage).routeSettings = settings;
  for (const child of api.node.children) {
    const route = child instanceof apigwv2.HttpRoute ? (child.node.defaultChild as apigwv2.CfnRoute) : undefined;
    if (route && route.routeKey in settings) stage.node.addDependency(child);
  }
}
