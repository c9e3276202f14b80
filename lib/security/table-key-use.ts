import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';

/** What DynamoDB's guidance lists for principals that write items of a table under a customer managed key. */
export const TABLE_WRITER_KEY_ACTIONS = ['kms:Decrypt', 'kms:Encrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*'];

/**
 * A table key's use for reading and writing the table's items, and only through DynamoDB in
 * the key's region (`kms:ViaService`): the region's data key also protects Aurora, its master
 * secret, the cache and the logs, which a function must not decrypt directly
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/encryption.usagenotes.html).
 */
export function grantTableKeyUse(
  key: kms.IKey,
  grantee: iam.IGrantable,
  actions: readonly string[] = TABLE_WRITER_KEY_ACTIONS,
): void {
  iam.Grant.addToPrincipal({
    grantee,
    actions: [...actions],
    resourceArns: [key.keyArn],
    conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${Stack.of(key).region}.amazonaws.com` } },
  });
}
