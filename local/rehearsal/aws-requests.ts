import { APP_DB_USER } from '../../lib/data/strong-store-proxy';
import type { StoreEndpoint } from '../platform';
import type { DeployedFunction, Deployment } from './deployment';
import type { Observation } from './recorder';

/** One request as IAM would authorize it in the deployed region. */
export interface AwsRequest {
  readonly action: string;
  readonly resource: string;
  readonly context: Readonly<Record<string, string | string[]>>;
  /** Why the code's call makes this request, when it is not the call itself (a key a table uses). */
  readonly impliedBy?: string;
}

/** Where a call goes, as the function's network would have to carry it. */
export type NetworkTarget =
  | { readonly kind: 'aws-service'; readonly service: string; readonly region: string; readonly host: string }
  | { readonly kind: 'database'; readonly host: string; readonly port: number }
  | { readonly kind: 'cache'; readonly host: string; readonly port: number }
  | { readonly kind: 'internet'; readonly host: string; readonly port: number };

export interface DeployedCall {
  readonly what: string;
  readonly requests: readonly AwsRequest[];
  readonly target: NetworkTarget;
}

/** What each local store endpoint (`host:port`) stands for (`LocalPlatform.storeEndpoints`). */
export type LocalEndpoints = ReadonlyMap<string, StoreEndpoint>;

/** The IAM service prefix of each SDK client the code uses. */
const SERVICE_OF_CLIENT: Readonly<Record<string, string>> = {
  DynamoDBClient: 'dynamodb',
  KMSClient: 'kms',
  SSMClient: 'ssm',
  SecretsManagerClient: 'secretsmanager',
  CognitoIdentityProviderClient: 'cognito-idp',
  LambdaClient: 'lambda',
};

/** Cognito user pool operations that are public: signed by no IAM principal. */
const UNAUTHENTICATED = new Set([
  'InitiateAuth',
  'RespondToAuthChallenge',
  'AssociateSoftwareToken',
  'VerifySoftwareToken',
  'GetUser',
]);

/** The deployed form of a recorded observation of `fn`. */
export function deployedCall(
  observation: Observation,
  fn: DeployedFunction,
  deployment: Deployment,
  local: LocalEndpoints,
): DeployedCall {
  switch (observation.kind) {
    case 'sdk':
      return sdkCall(observation, fn, deployment);
    case 'postgres':
      return postgresCall(observation, fn, deployment, local);
    case 'valkey': {
      const [host, port] = splitEndpoint(requiredEnv(fn, 'CACHE_ENDPOINT'));
      return { what: 'cache session', requests: [], target: { kind: 'cache', host, port } };
    }
    case 'http':
      return {
        what: `HTTPS ${observation.host}`,
        requests: [],
        target: awsServiceHost(observation.host) ?? {
          kind: 'internet',
          host: observation.host,
          port: observation.port,
        },
      };
  }
}

function sdkCall(observation: Extract<Observation, { kind: 'sdk' }>, fn: DeployedFunction, deployment: Deployment) {
  const service = SERVICE_OF_CLIENT[observation.client];
  if (!service) throw new Error(`${fn.scope.function}: no IAM service known for ${observation.client}`);
  const action = `${service}:${observation.operation}`;
  const [host] = splitEndpoint(observation.endpoint);
  const target = awsServiceHost(host) ?? { kind: 'internet' as const, host, port: 443 };
  if (service === 'cognito-idp' && UNAUTHENTICATED.has(observation.operation))
    return { what: action, requests: [], target };
  const resource = resourceOf(service, observation.input, observation.region, fn.stack.account);
  const context = contextOf(service, observation.operation, observation.input, () =>
    partitionKeyOf(deployment, String(observation.input.TableName)),
  );
  const request: AwsRequest = { action, resource, context };
  return { what: action, requests: [request, ...impliedKeyUse(request, observation.region, deployment)], target };
}

function resourceOf(service: string, input: Record<string, unknown>, region: string, account: string): string {
  const arnOr = (value: unknown, make: (name: string) => string) => {
    const name = String(value);
    return name.startsWith('arn:') ? name : make(name);
  };
  switch (service) {
    case 'dynamodb': {
      const table = arnOr(input.TableName, (name) => `arn:aws:dynamodb:${region}:${account}:table/${name}`);
      return input.IndexName ? `${table}/index/${input.IndexName}` : table;
    }
    case 'kms':
      return arnOr(
        input.KeyId,
        (id) => `arn:aws:kms:${region}:${account}:${id.startsWith('alias/') ? id : `key/${id}`}`,
      );
    case 'ssm':
      return arnOr(input.Name, (name) => `arn:aws:ssm:${region}:${account}:parameter/${name.replace(/^\//, '')}`);
    case 'secretsmanager':
      return arnOr(input.SecretId, (name) => `arn:aws:secretsmanager:${region}:${account}:secret:${name}-AbCdEf`);
    case 'cognito-idp':
      return `arn:aws:cognito-idp:${region}:${account}:userpool/${input.UserPoolId}`;
    case 'lambda':
      return arnOr(input.FunctionName, (name) => `arn:aws:lambda:${region}:${account}:function:${name}`);
    default:
      throw new Error(`no resource known for ${service}`);
  }
}

/** Item operations, whose partition key values IAM sees as `dynamodb:LeadingKeys`. */
const ITEM_OPERATIONS = new Set(['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query']);

/**
 * The request's condition keys the policies use: `dynamodb:LeadingKeys`, the partition key
 * values an item operation touches (plain or in DynamoDB's attribute-value form), the key
 * named as the table's `KeySchema` names it. An item call whose key cannot be read fails the
 * rehearsal: with the `ForAllValues` conditions of the grants, a missing key would match.
 */
function contextOf(
  service: string,
  operation: string,
  input: Record<string, any>,
  partitionKey: () => string | undefined,
): Record<string, string[]> {
  if (service !== 'dynamodb' || !ITEM_OPERATIONS.has(operation)) return {};
  const key = partitionKey();
  if (!key) throw new Error(`no table ${input.TableName} with a partition key in the app`);
  const plain = (value: any) => (value && typeof value === 'object' && 'S' in value ? value.S : value);
  const named = Object.entries((input.ExpressionAttributeNames ?? {}) as Record<string, string>)
    .filter(([, name]) => name === key)
    .map(([placeholder]) => placeholder);
  const condition = new RegExp(`(?:^|[\\s(])(?:${[key, ...named].join('|')})\\s*=\\s*(:\\w+)`).exec(
    String(input.KeyConditionExpression ?? ''),
  );
  const value = plain(input.Key?.[key] ?? input.Item?.[key] ?? input.ExpressionAttributeValues?.[condition?.[1] ?? '']);
  if (typeof value !== 'string')
    throw new Error(`dynamodb:${operation} on ${input.TableName}: no value of its partition key ${key} in the call`);
  return { 'dynamodb:LeadingKeys': [value] };
}

/** The partition key attribute of table `tableName` as the app defines it. */
function partitionKeyOf(deployment: Deployment, tableName: string): string | undefined {
  const table = tableDefinition(deployment, tableName);
  return (table?.KeySchema as { AttributeName: string; KeyType: string }[] | undefined)?.find(
    (part) => part.KeyType === 'HASH',
  )?.AttributeName;
}

function tableDefinition(deployment: Deployment, tableName: string): Record<string, any> | undefined {
  for (const stack of deployment.app.stacks)
    for (const resource of Object.values(stack.template.Resources)) {
      if (resource.Type !== 'AWS::DynamoDB::GlobalTable' && resource.Type !== 'AWS::DynamoDB::Table') continue;
      const props = deployment.app.resolve(stack, resource.Properties ?? {});
      if (props.TableName === tableName) return { ...props, region: stack.region };
    }
  return undefined;
}

/**
 * KMS requests a call makes with the caller's credentials: DynamoDB decrypts the table key
 * of a table under a customer managed key for the caller
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/encryption.howitworks.html);
 * Secrets Manager decrypts a secret's value under its key, and has a data key generated for a
 * new value (https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html).
 */
function impliedKeyUse(request: AwsRequest, region: string, deployment: Deployment): AwsRequest[] {
  const [service] = request.action.split(':') as [string];
  const keyUse: Record<string, { key: () => string | undefined; action: string }> = {
    'secretsmanager:GetSecretValue': {
      key: () => secretKey(deployment, region, request.resource),
      action: 'kms:Decrypt',
    },
    'secretsmanager:PutSecretValue': {
      key: () => secretKey(deployment, region, request.resource),
      action: 'kms:GenerateDataKey',
    },
  };
  const use =
    keyUse[request.action] ??
    (service === 'dynamodb' && !request.action.endsWith('Table')
      ? { key: () => tableKey(deployment, region, request.resource.split('/')[1] as string), action: 'kms:Decrypt' }
      : undefined);
  const key = use?.key();
  if (!use || !key) return [];
  return [
    {
      action: use.action,
      resource: key,
      context: { 'kms:ViaService': `${service}.${region}.amazonaws.com` },
      impliedBy: request.action,
    },
  ];
}

/** The customer managed key of `tableName`'s replica in `region`, if it has one. */
function tableKey(deployment: Deployment, region: string, tableName: string): string | undefined {
  const table = tableDefinition(deployment, tableName);
  if (!table) return undefined;
  if (table.Replicas)
    return (table.Replicas as any[]).find((replica) => replica.Region === region)?.SSESpecification?.KMSMasterKeyId;
  return table.region === region ? table.SSESpecification?.KMSMasterKeyId : undefined;
}

function secretKey(deployment: Deployment, region: string, secretArn: string): string | undefined {
  const secret = deployment.app
    .resourcesIn(region, 'AWS::SecretsManager::Secret')
    .find(({ stack, id }) => deployment.app.resolve(stack, { Ref: id }) === secretArn);
  return secret?.props.KmsKeyId;
}

function postgresCall(
  observation: Extract<Observation, { kind: 'postgres' }>,
  fn: DeployedFunction,
  deployment: Deployment,
  local: LocalEndpoints,
): DeployedCall {
  const endpoint = local.get(`${observation.host}:${observation.port}`);
  return endpoint?.store === 'strong-store'
    ? proxySession(endpoint.region, fn, deployment)
    : instanceSession(observation, fn, deployment);
}

/**
 * A session through the RDS Proxy of `region` (the local server standing for it), which
 * requires IAM authentication: as the user the function's environment names, as it signs
 * in in AWS (the local servers have their own users).
 */
function proxySession(region: string, fn: DeployedFunction, deployment: Deployment): DeployedCall {
  const host = proxyEndpointIn(region, fn, deployment);
  const proxy = deployment.app
    .resourcesIn(region, 'AWS::RDS::DBProxy')
    .find(({ stack, id }) => deployment.app.resolve(stack, { 'Fn::GetAtt': [id, 'Endpoint'] }) === host);
  const proxyId = proxy
    ? String(deployment.app.resolve(proxy.stack, { 'Fn::GetAtt': [proxy.id, 'DBProxyArn'] })).split(':')[6]
    : `unknown-proxy(${host})`;
  const user = fn.environment.DB_USER ?? APP_DB_USER;
  const resource = `arn:aws:rds-db:${region}:${fn.stack.account}:dbuser:${proxyId}/${user}`;
  return {
    what: `database session as ${user}`,
    requests: [{ action: 'rds-db:connect', resource, context: {} }],
    target: { kind: 'database', host, port: Number(fn.environment.DB_PORT ?? 5432) },
  };
}

/** The function's own proxy, or (a session to another region's server) that region's. */
function proxyEndpointIn(region: string, fn: DeployedFunction, deployment: Deployment): string {
  if (region === fn.scope.region) return requiredEnv(fn, 'DB_PROXY_ENDPOINT');
  const [proxy] = deployment.app.resourcesIn(region, 'AWS::RDS::DBProxy');
  if (!proxy)
    throw new Error(`${fn.scope.function} in ${fn.scope.region} opened a session in ${region}, which has no proxy`);
  return deployment.app.resolve(proxy.stack, { 'Fn::GetAtt': [proxy.id, 'Endpoint'] });
}

/** Straight to an Aurora instance (the migrations): IAM unless signed in with a password. */
function instanceSession(
  observation: Extract<Observation, { kind: 'postgres' }>,
  fn: DeployedFunction,
  deployment: Deployment,
): DeployedCall {
  const { app } = deployment;
  const region = fn.scope.region;
  const instance = app
    .resourcesIn(region, 'AWS::RDS::DBInstance')
    .find(({ stack, id }) => app.resolve(stack, { 'Fn::GetAtt': [id, 'Endpoint.Address'] }) === observation.host);
  const cluster = app
    .resourcesIn(region, 'AWS::RDS::DBCluster')
    .find(({ stack, id }) => app.resolve(stack, { Ref: id }) === instance?.props.DBClusterIdentifier);
  const resourceId = cluster
    ? app.resolve(cluster.stack, { 'Fn::GetAtt': [cluster.id, 'DBClusterResourceId'] })
    : `unknown-cluster(${observation.host})`;
  const resource = `arn:aws:rds-db:${region}:${fn.stack.account}:dbuser:${resourceId}/${observation.user}`;
  return {
    what: `database session as ${observation.user}`,
    requests: observation.iam ? [{ action: 'rds-db:connect', resource, context: {} }] : [],
    target: { kind: 'database', host: observation.host, port: observation.port },
  };
}

/** `service.region.amazonaws.com` (and `service-fips`, dual-stack forms are not used). */
function awsServiceHost(host: string): NetworkTarget | undefined {
  const match = /^([a-z0-9-]+)\.([a-z]{2}-[a-z]+-\d)\.amazonaws\.com$/.exec(host);
  if (!match) return undefined;
  return { kind: 'aws-service', service: match[1] as string, region: match[2] as string, host };
}

function splitEndpoint(endpoint: string): [string, number] {
  const separator = endpoint.lastIndexOf(':');
  return [endpoint.slice(0, separator), Number(endpoint.slice(separator + 1))];
}

function requiredEnv(fn: DeployedFunction, name: string): string {
  const value = fn.environment[name];
  if (value === undefined)
    throw new Error(`${fn.scope.function} in ${fn.scope.region} has no ${name} in its environment`);
  return value;
}
