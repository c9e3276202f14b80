import { Stack, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { IConstruct } from 'constructs';
import type { ApiRoute } from '../../lambda/shared/api-contract';

/** One JSON line per request, with no client address or header: nothing personal to keep. */
export function accessLogSettings(logGroup: logs.ILogGroup): apigwv2.IAccessLogSettings {
  return {
    destination: new apigwv2.LogGroupLogDestination(logGroup),
    format: AccessLogFormat.custom(
      JSON.stringify({
        requestId: '$context.requestId',
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

/**
 * One route of the HTTP contract on an API. A public route carries no authorizer by
 * contract; `publicReason` says why, for cdk-nag and Control Tower alike.
 */
export function addContractRoute(
  api: apigwv2.HttpApi,
  route: ApiRoute,
  integration: apigwv2.HttpRouteIntegration,
  authorizer: apigwv2.IHttpRouteAuthorizer,
  publicReason: string,
): void {
  const routes = api.addRoutes({
    path: route.path,
    methods: [apigwv2.HttpMethod[route.method]],
    integration,
    authorizer: route.public ? new apigwv2.HttpNoneAuthorizer() : authorizer,
  });
  if (!route.public) return;
  for (const publicRoute of routes) {
    Validations.of(publicRoute).acknowledge({ id: 'AwsSolutions-APIG4', reason: publicReason });
    Validations.of(publicRoute.node.defaultChild as apigwv2.CfnRoute).acknowledge({
      id: 'cdk-validator-cfnguard::api_gw_v2_authorization_type_configured_check',
      reason: publicReason,
    });
  }
}
