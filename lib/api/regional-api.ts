import * as path from 'node:path';
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration, HttpUrlIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

import {
  API_DOMAINS,
  API_ROUTES,
  type ApiDomain,
  type ApiRoute,
  ORIGIN_PROOF_HEADER,
} from '../../lambda/shared/api-contract';
import type { ApiEnvironment, AuthorizerEnvironment, PowertoolsEnvironment } from '../../lambda/shared/environment';
import { grantOriginSecretRead } from '../edge/origin-verification';
import { acknowledgeExecutionRole } from '../functions/execution-role';
import { NodeFunction } from '../functions/node-function';
import { RegionalNetwork } from '../network/regional-network';
import {
  accessLogSettings,
  addContractRoute,
  type ContractAuthorizers,
  contractAuthorizers,
  ROUTE_THROTTLES,
  statePermissionAccounts,
  throttleAnonymousRoutes,
} from './http-api-conventions';

export { API_DOMAINS, API_ROUTES, type ApiDomain };

export interface RegionalApiProps {
  readonly vpc: ec2.IVpc;
  /** Environment every API function gets: jurisdiction, store addresses, the directory. */
  readonly environment: ApiEnvironment;
  /** The jurisdiction's Cognito user pool, whose tokens this API accepts. */
  readonly userPoolId: string;
  /** The app client whose tokens are accepted. */
  readonly userPoolClientId: string;
  /**
   * This region's copy of the pool's signing keys (an SSM parameter the authorizer reads at
   * cold start, see `RegionalSigningKeys`), so verifying a token needs no other region.
   */
  readonly signingKeys: {
    readonly parameterName: string;
    /** The KMS key whose signature the copy carries. */
    readonly copyKeyArn: string;
    grantRead(grantee: iam.IGrantable): void;
  };
  /**
   * Name of this region's replica of the secret CloudFront sends as its proof of origin (see
   * `OriginVerification`): every route but the health probes requires it.
   */
  readonly originSecretName: string;
  /** Custom domains the API answers to, all covered by `certificate`. */
  readonly hostnames: readonly string[];
  readonly certificate: acm.ICertificate;
  /**
   * Steady-state and burst request limits of the stage.
   * @default { rateLimit: 1000, burstLimit: 2000 }
   */
  readonly throttle?: apigwv2.ThrottleSettings;
  /**
   * Host that strong routes (orders, stock) are forwarded to by API Gateway itself: the
   * jurisdiction's writer hostname, which Route 53 resolves to the region that holds the
   * Aurora writer (see `WriterApi`).
   * @default this API serves strong routes itself
   */
  readonly strongRoutesHost?: string;
  /**
   * The routes to serve; the writer-only ones are left to the `WriterApi`.
   * @default API_ROUTES, the contract
   */
  readonly routes?: readonly ApiRoute[];
  /**
   * Retention of function and access logs.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Customer-managed key that encrypts function and access logs; its key policy must let
   * the region's CloudWatch Logs service principal use it.
   * @default the log key of the `RegionalNetwork` that built `vpc` (the region's data key)
   */
  readonly logEncryptionKey?: kms.IKey;
  /**
   * Timeout of a domain's function, for one that waits on something slow (the orders
   * function on the card processor). At most 29 s: API Gateway answers 503 at 30 s.
   * @default Duration.seconds(10) for every domain
   */
  readonly timeouts?: Partial<Readonly<Record<ApiDomain, Duration>>>;
}

/**
 * The regional API: an HTTP API with a token authorizer and one Lambda function
 * per domain (a `NodeFunction`: Node.js 24 on arm64, bundled by esbuild), in the VPC's
 * isolated subnets behind one security group.
 *
 * HTTP API rather than REST API: lower latency and cost. It cannot take a WAF web ACL;
 * the web ACL sits on CloudFront in front of it. The authorizer is a Lambda function, not
 * the built-in JWT authorizer: that one trusts a single issuer and answers any other
 * jurisdiction's user with an anonymous 401, where the residency guard must tell them
 * which jurisdiction they belong to (see `lambda/authorizer/token-authorizer.ts`).
 */
export class RegionalApi extends Construct implements ec2.IConnectable {
  readonly httpApi: apigwv2.HttpApi;
  readonly functions: Readonly<Record<ApiDomain, NodeFunction>>;
  readonly connections: ec2.Connections;
  readonly domainNames: Readonly<Record<string, apigwv2.DomainName>>;
  /** Checks the proof of origin and verifies tokens for this API; the writer API reuses it. */
  readonly authorizerFunction: NodeFunction;
  /** This API's authorizers over `authorizerFunction`. */
  readonly authorizers: ContractAuthorizers;

  constructor(scope: Construct, id: string, props: RegionalApiProps) {
    super(scope, id);
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_YEAR;
    const encryptionKey = props.logEncryptionKey ?? RegionalNetwork.logEncryptionKeyOf(props.vpc);
    if (!encryptionKey) {
      throw new Error(`${this.node.path}: no logEncryptionKey given and the VPC was not built by a RegionalNetwork`);
    }
    for (const [domain, timeout] of Object.entries(props.timeouts ?? {})) {
      if (timeout && timeout.toSeconds() > 29) {
        throw new Error(
          `${this.node.path}: timeouts.${domain} is ${timeout.toSeconds()} s; at most 29 s (API Gateway gives up at 30 s)`,
        );
      }
    }
    const logGroup = (logsId: string) => encryptedLogGroup(this, logsId, logRetention, encryptionKey);
    const securityGroup = new ec2.SecurityGroup(this, 'FunctionsSecurityGroup', {
      vpc: props.vpc,
      description: 'API functions: the only clients of the cache, the database proxy and the endpoints',
      allowAllOutbound: false,
    });
    this.connections = new ec2.Connections({ securityGroups: [securityGroup] });

    const functions = {} as Record<ApiDomain, NodeFunction>;
    for (const domain of API_DOMAINS) {
      functions[domain] = new NodeFunction(this, `${pascal(domain)}Function`, {
        entry: path.join(__dirname, '..', '..', 'lambda', domain, 'handler.ts'),
        memorySize: 512,
        timeout: props.timeouts?.[domain] ?? Duration.seconds(10),
        tracing: lambda.Tracing.ACTIVE,
        logGroup: logGroup(`${pascal(domain)}Logs`),
        vpc: props.vpc,
        vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
        securityGroups: [securityGroup],
        environment: {
          ...props.environment,
          ...({
            POWERTOOLS_SERVICE_NAME: `api-${domain}`,
            POWERTOOLS_METRICS_NAMESPACE: 'Commerce',
          } satisfies PowertoolsEnvironment),
        },
      });
      acknowledgeExecutionRole(functions[domain]);
      acknowledgeImportedSubnets(functions[domain], props.vpc);
    }
    this.functions = functions;

    const accessLogs = logGroup('AccessLogs');
    this.httpApi = new apigwv2.HttpApi(this, 'HttpApi', {
      description: `Commerce API in ${Stack.of(this).region}`,
      createDefaultStage: false,
    });
    const stage = this.httpApi.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: props.throttle ?? { rateLimit: 1000, burstLimit: 2000 },
      accessLogSettings: accessLogSettings(accessLogs),
    });
    const routes = (props.routes ?? API_ROUTES).filter((route) => !route.writerOnly);

    // Outside the VPC: it fetches the pool's public signing keys (JWKS) from Cognito and
    // touches no store.
    const authorizerFunction = new NodeFunction(this, 'TokenAuthorizerFunction', {
      entry: path.join(__dirname, '..', '..', 'lambda', 'authorizer', 'handler.ts'),
      memorySize: 256,
      timeout: Duration.seconds(5),
      tracing: lambda.Tracing.ACTIVE,
      logGroup: logGroup('TokenAuthorizerLogs'),
      environment: {
        USER_POOL_ID: props.userPoolId,
        USER_POOL_CLIENT_ID: props.userPoolClientId,
        SIGNING_KEYS_PARAMETER: props.signingKeys.parameterName,
        SIGNING_KEYS_COPY_KEY: props.signingKeys.copyKeyArn,
        JURISDICTION: props.environment.JURISDICTION,
        JURISDICTION_DIRECTORY: props.environment.JURISDICTION_DIRECTORY,
        ORIGIN_SECRET_NAME: props.originSecretName,
      } satisfies AuthorizerEnvironment,
    });
    props.signingKeys.grantRead(authorizerFunction);
    grantOriginSecretRead(authorizerFunction, props.originSecretName);
    acknowledgeExecutionRole(authorizerFunction);
    Validations.of(authorizerFunction.node.defaultChild as lambda.CfnFunction).acknowledge({
      id: 'cdk-validator-cfnguard::lambda_inside_vpc_check',
      reason:
        "Outside the VPC on purpose: the authorizer reads this region's replica of the origin secret from Secrets Manager and this region's copy of the user pool's public signing keys from SSM and, for a key not in the copy, fetches the JWKS from Cognito's endpoint in the pool's region, which the isolated subnets cannot reach: the VPC has no NAT and no cognito-idp interface endpoint, and an endpoint of this region would not serve a pool in another region. It reads or writes no store.",
    });
    this.authorizerFunction = authorizerFunction;
    this.authorizers = contractAuthorizers(authorizerFunction);
    // One integration per route: an integration is created under the first route bound to
    // it, so a shared one would change its logical id whenever the route order changed.
    const integrationOf = (route: ApiRoute): apigwv2.HttpRouteIntegration =>
      route.strong && props.strongRoutesHost
        ? new HttpUrlIntegration('ForwardToWriterRegion', `https://${props.strongRoutesHost}`, {
            // The writer API checks the proof of origin too: the request's own is passed on.
            parameterMapping: new apigwv2.ParameterMapping()
              .overwritePath(apigwv2.MappingValue.requestPath())
              .overwriteHeader(ORIGIN_PROOF_HEADER, apigwv2.MappingValue.requestHeader(ORIGIN_PROOF_HEADER)),
          })
        : new HttpLambdaIntegration(`${pascal(route.domain)}Integration`, functions[route.domain]);
    for (const route of routes) {
      addContractRoute(
        this.httpApi,
        route,
        integrationOf(route),
        this.authorizers,
        `${route.method} ${route.path} is Route 53's health probe, which can send no token or header. It returns no personal data, is throttled to ${ROUTE_THROTTLES.healthProbe.rateLimit} requests a second on this route, and answers from a store probe made at most every 2 s per function instance.`,
      );
    }
    throttleAnonymousRoutes(stage, this.httpApi, routes);
    statePermissionAccounts(this.httpApi);

    const domainNames: Record<string, apigwv2.DomainName> = {};
    // Ids from the host name, not its place in the list: reordering the names must not
    // replace a custom domain (and its certificate binding) or its mapping.
    for (const hostname of props.hostnames) {
      const domainName = new apigwv2.DomainName(this, `DomainName-${hostname}`, {
        domainName: hostname,
        certificate: props.certificate,
        securityPolicy: apigwv2.SecurityPolicy.TLS_1_2,
      });
      new apigwv2.ApiMapping(this, `ApiMapping-${hostname}`, { api: this.httpApi, domainName, stage });
      domainNames[hostname] = domainName;
    }
    this.domainNames = domainNames;
  }

  /** Host of the API's own execute-api endpoint, which health checks probe directly. */
  get executeApiHost(): string {
    const stack = Stack.of(this);
    return `${this.httpApi.apiId}.execute-api.${stack.region}.${stack.urlSuffix}`;
  }
}

/** A log group of the API kept `retention` and encrypted with `encryptionKey`. */
function encryptedLogGroup(
  scope: Construct,
  id: string,
  retention: logs.RetentionDays,
  encryptionKey: kms.IKey,
): logs.LogGroup {
  const logGroup = new logs.LogGroup(scope, id, { retention, encryptionKey });
  if (Stack.of(encryptionKey) !== Stack.of(scope)) {
    Validations.of(logGroup.node.defaultChild as logs.CfnLogGroup).acknowledge({
      id: 'cdk-validator-cfnguard::cloudwatch_log_group_encrypted_check',
      reason:
        "Encrypted: KmsKeyId is the region's customer-managed data key, imported from the region's stateful stack. The check accepts only a literal ARN or a key in the same template, and a key ARN is known only after deployment.",
    });
  }
  return logGroup;
}

/**
 * A function in a VPC of another stack (the region's stateful stack) names its subnets by
 * cross-stack reference, which the Control Tower check cannot resolve.
 */
function acknowledgeImportedSubnets(fn: NodeFunction, vpc: ec2.IVpc): void {
  if (Stack.of(vpc) === Stack.of(fn)) return;
  Validations.of(fn.node.defaultChild as lambda.CfnFunction).acknowledge({
    id: 'cdk-validator-cfnguard::lambda_inside_vpc_check',
    reason:
      "The function is in the region's VPC (VpcConfig with its isolated subnets and the functions' security group); the subnet ids are imported from the stateful stack, and the check accepts only literal ids or subnets of the same template.",
  });
}

function pascal(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}
