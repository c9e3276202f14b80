import { Stack } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { IConstruct } from 'constructs';

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
