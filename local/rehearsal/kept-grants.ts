/**
 * Grants the rehearsal sees no recorded call use, and why each is kept. The rehearsal lists
 * any other unused grant as unexplained: remove the grant, or say here why it stays.
 */

/** Used by the Lambda runtime for the function, never by its code: not counted as unused. */
export const RUNTIME_GRANTS: Readonly<Record<string, string>> = {
  'xray:PutTraceSegments': "active tracing: the runtime's X-Ray daemon sends the function's segments",
  'xray:PutTelemetryRecords': "active tracing: the runtime's X-Ray daemon reports its own telemetry",
};

const TABLE_KEY =
  "granted with the table's customer managed key (grantEncryptDecrypt): DynamoDB's key policy guidance lists " +
  'these for principals that write a table under such a key; the rehearsal models only the Decrypt of each item call';

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
    'kms:Encrypt': TABLE_KEY,
    'kms:GenerateDataKey*': TABLE_KEY,
    'kms:ReEncrypt*': TABLE_KEY,
    'cognito-idp:AdminDeleteUser':
      'enrolment deletes and re-creates a canary user whose authenticator secret is lost (docs/operations.md#canary-user)',
    'secretsmanager:GetRandomPassword':
      'CDK grants it to every rotation function; the function draws its passwords with node:crypto',
  },
};

/** Why `action` of `fn` is kept unused, or undefined when nothing says. */
export function reasonKept(fn: string, action: string): string | undefined {
  for (const [pattern, reason] of Object.entries(KEPT_GRANTS[fn] ?? {}))
    if (new RegExp(`^${pattern.replace(/\*/g, '.*')}$`, 'i').test(action)) return reason;
  return undefined;
}
