import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { type CanaryIdentityDependencies, errorName } from './identity';

export const CANARY_PRODUCT_NAME = 'Canary probe (not for sale)';

/**
 * The canary product's catalog entry, created when missing and never overwritten (an
 * admin may have edited it). It is the item `PUT /api/products/{sku}` writes to the
 * eventual store (`PRODUCT#<sku>` / `DETAILS`, see lambda/stores/eventual-store.ts); the
 * PUT also writes an inventory row to the strong store, which is not needed here: a
 * product without one is shown with stock 0 (lambda/products/products-api.ts), the
 * canary only views it and puts it in the cart, and 0 stock means it is never sold.
 */
export async function ensureCanaryProduct(deps: CanaryIdentityDependencies): Promise<'created' | 'exists'> {
  const { tableName, sku, currency } = deps.config.product;
  const now = deps.now ?? Date.now;
  try {
    await deps.clients.dynamodb.send(
      new PutItemCommand({
        TableName: tableName,
        Item: {
          pk: { S: `PRODUCT#${sku}` },
          sk: { S: 'DETAILS' },
          name: { S: CANARY_PRODUCT_NAME },
          priceCents: { N: '0' },
          currency: { S: currency },
          updatedAt: { N: String(now()) },
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  } catch (error) {
    if (errorName(error) === 'ConditionalCheckFailedException') return 'exists';
    throw error;
  }
  deps.log?.('canary product created', { sku, tableName });
  return 'created';
}
