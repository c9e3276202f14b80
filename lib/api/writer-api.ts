import { Stack } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as acm from 'aws-cdk-lib/aws-certificatemanager';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { API_ROUTES, type ApiDomain, type ApiRoute, WRITER_HEALTH_PATH } from '../../lambda/shared/api-contract';
import {
  accessLogSettings,
  addContractRoute,
  contractAuthorizers,
  ROUTE_THROTTLES,
  statePermissionAccounts,
  throttleAnonymousRoutes,
} from './http-api-conventions';

export { WRITER_HEALTH_PATH };

export interface WriterApiProps {
  /** `writer.<jurisdiction>.api.<domain>`, covered by `certificate`. */
  readonly hostname: string;
  readonly certificate: acm.ICertificate;
  /** The region's domain functions (the public API's), which serve strong routes here. */
  readonly functions: Readonly<Record<ApiDomain, lambda.IFunction>>;
  /** The public API's token authorizer function. */
  readonly authorizerFunction: lambda.IFunction;
  /**
   * Key that encrypts the access logs.
   * @default CloudWatch Logs' own encryption
   */
  readonly logEncryptionKey?: kms.IKey;
  /**
   * Retention of the access logs.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * The contract's routes; this API serves the strong and writer-only ones.
   * @default API_ROUTES
   */
  readonly routes?: readonly ApiRoute[];
}

/**
 * The API behind the jurisdiction's writer hostname: strong routes served by this
 * region's functions against its own Aurora cluster, plus the writer health route.
 *
 * Every region's public API forwards strong routes to `writer.<jurisdiction>.api.<domain>`,
 * and Route 53 answers that name with the region whose writer health check passes — the
 * one whose cluster is the Aurora writer. After a switchover or failover strong requests
 * follow the writer with no redeploy. It is a separate API so that a forwarded request is
 * served here and never forwarded again.
 */
export class WriterApi extends Construct {
  readonly httpApi: apigwv2.HttpApi;
  readonly domainName: apigwv2.DomainName;

  constructor(scope: Construct, id: string, props: WriterApiProps) {
    super(scope, id);
    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      encryptionKey: props.logEncryptionKey,
    });
    this.httpApi = new apigwv2.HttpApi(this, 'HttpApi', {
      description: `Commerce writer API in ${Stack.of(this).region}: strong routes only`,
      createDefaultStage: false,
    });
    const stage = this.httpApi.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      // Every region's strong requests end here: sized like a public API, not a share of one.
      throttle: { rateLimit: 1000, burstLimit: 2000 },
      accessLogSettings: accessLogSettings(accessLogs),
    });
    const authorizers = contractAuthorizers(props.authorizerFunction);
    const routes = (props.routes ?? API_ROUTES).filter((r) => r.strong || r.writerOnly);
    // One integration per route, so that its logical id does not depend on the route order.
    for (const route of routes) {
      const integration = new HttpLambdaIntegration(`${route.domain}Integration`, props.functions[route.domain]);
      addContractRoute(
        this.httpApi,
        route,
        integration,
        authorizers,
        `${route.method} ${route.path} is probed by Route 53 (which can send no token or header) and answers only whether this region holds the writer; it is throttled to ${ROUTE_THROTTLES.healthProbe.rateLimit} requests a second on this route and answers from a probe made at most every 2 s per function instance.`,
      );
    }
    throttleAnonymousRoutes(stage, this.httpApi, routes);
    this.domainName = new apigwv2.DomainName(this, 'DomainName', {
      domainName: props.hostname,
      certificate: props.certificate,
      securityPolicy: apigwv2.SecurityPolicy.TLS_1_2,
    });
    new apigwv2.ApiMapping(this, 'ApiMapping', { api: this.httpApi, domainName: this.domainName, stage });
    statePermissionAccounts(this.httpApi);
  }

  /** Host of the API's own execute-api endpoint, which the writer health check probes. */
  get executeApiHost(): string {
    const stack = Stack.of(this);
    return `${this.httpApi.apiId}.execute-api.${stack.region}.${stack.urlSuffix}`;
  }
}
