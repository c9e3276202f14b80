/**
 * Grants the rehearsal sees no recorded call use, and why each is kept. The rehearsal lists
 * any other unused grant as unexplained: remove the grant, or say here why it stays.
 */

/** Used by the Lambda runtime for a function, never by its code: not counted as unused. */
const LAMBDA_RUNTIME: Readonly<Record<string, string>> = {
  'xray:PutTraceSegments': "active tracing: the runtime's X-Ray daemon sends the function's segments",
  'xray:PutTelemetryRecords': "active tracing: the runtime's X-Ray daemon reports its own telemetry",
  'logs:CreateLogStream': "the runtime writes the function's output to its own log group",
  'logs:PutLogEvents': "the runtime writes the function's output to its own log group",
  // https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html#configuration-vpc-permissions
  'ec2:CreateNetworkInterface':
    "Lambda attaches a VPC function to its subnets through network interfaces it manages with the function's role",
  'ec2:DeleteNetworkInterface':
    "Lambda attaches a VPC function to its subnets through network interfaces it manages with the function's role",
  'ec2:DescribeNetworkInterfaces':
    "Lambda attaches a VPC function to its subnets through network interfaces it manages with the function's role",
  'ec2:DescribeSubnets':
    "Lambda attaches a VPC function to its subnets through network interfaces it manages with the function's role",
  'ec2:AssignPrivateIpAddresses':
    "Lambda attaches a VPC function to its subnets through network interfaces it manages with the function's role",
  'ec2:UnassignPrivateIpAddresses':
    "Lambda attaches a VPC function to its subnets through network interfaces it manages with the function's role",
};

/**
 * Used by the Synthetics runtime around a canary's script: its artifacts (encrypted with the
 * operations key), metrics and logs
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Synthetics_Canaries_CanaryPermissions.html).
 */
const SYNTHETICS_RUNTIME: Readonly<Record<string, string>> = {
  's3:ListAllMyBuckets': 'the Synthetics runtime finds the artifacts bucket',
  's3:GetBucketLocation': 'the Synthetics runtime finds the artifacts bucket',
  's3:PutObject': "the Synthetics runtime writes the run's artifacts",
  'kms:Encrypt': "the Synthetics runtime encrypts the run's artifacts with the operations key",
  'kms:GenerateDataKey*': "the Synthetics runtime encrypts the run's artifacts with the operations key",
  'kms:ReEncrypt*': "the Synthetics runtime encrypts the run's artifacts with the operations key",
  'cloudwatch:PutMetricData': "the Synthetics runtime publishes the run's metrics",
  'logs:CreateLogGroup': "the Synthetics runtime writes the run's log",
  'logs:CreateLogStream': "the Synthetics runtime writes the run's log",
  'logs:PutLogEvents': "the Synthetics runtime writes the run's log",
};

/** Why the runtime around `fn` (not its code) uses `action`, or undefined. */
export function runtimeReason(fn: string, action: string): string | undefined {
  return matching(fn.startsWith('canary:') ? SYNTHETICS_RUNTIME : LAMBDA_RUNTIME, action);
}

const TABLE_KEY =
  "granted on the table's customer managed key through DynamoDB only (kms:ViaService): DynamoDB's guidance lists " +
  'these for principals that write a table under such a key; the rehearsal models only the Decrypt of each item call';

const CANARY_KEYS =
  "granted on the product table's key (through DynamoDB only) and the credentials secret's key; the rehearsal models " +
  "the Decrypt of each item call and the secret's Decrypt and GenerateDataKey, not what the services call for themselves";

/** Per function (the rehearsal's scope name): action pattern → why it is kept. */
export const KEPT_GRANTS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'api:products': { 'kms:Encrypt': TABLE_KEY, 'kms:GenerateDataKey*': TABLE_KEY, 'kms:ReEncrypt*': TABLE_KEY },
  'api:profile': { 'kms:Encrypt': TABLE_KEY, 'kms:GenerateDataKey*': TABLE_KEY, 'kms:ReEncrypt*': TABLE_KEY },
  'api:cart': { 'kms:Encrypt': TABLE_KEY, 'kms:GenerateDataKey*': TABLE_KEY, 'kms:ReEncrypt*': TABLE_KEY },
  'api:likes': {
    'kms:Encrypt': TABLE_KEY,
    'kms:GenerateDataKey*': TABLE_KEY,
    'kms:ReEncrypt*': TABLE_KEY,
    'dynamodb:GetItem':
      "Powertools idempotency reads a like's record when its put finds one in progress: a retry racing the first try",
    'dynamodb:DeleteItem':
      "Powertools idempotency deletes a like's record when the handler fails, so a retry runs again",
  },
  'canary-identity': {
    'kms:Encrypt': CANARY_KEYS,
    'kms:GenerateDataKey*': CANARY_KEYS,
    'kms:ReEncrypt*': CANARY_KEYS,
    'cognito-idp:AdminDeleteUser':
      'enrolment deletes and re-creates a canary user whose authenticator secret is lost (docs/operations.md#canary-user)',
    'secretsmanager:GetRandomPassword':
      'CDK grants it to every rotation function; the function draws its passwords with node:crypto',
  },
};

/** Why `action` of `fn` is kept unused, or undefined when nothing says. */
export function reasonKept(fn: string, action: string): string | undefined {
  return matching(KEPT_GRANTS[fn] ?? {}, action);
}

/** The reason of the first pattern (`kms:GenerateDataKey*`) that `action` matches. */
function matching(reasons: Readonly<Record<string, string>>, action: string): string | undefined {
  for (const [pattern, reason] of Object.entries(reasons))
    if (new RegExp(`^${pattern.replace(/\*/g, '.*')}$`, 'i').test(action)) return reason;
  return undefined;
}
