import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { CartLine, CartLineReplica } from '../domain/cart-lines';
import type { LikeCounter } from '../domain/like-counter';
import type { ProfileRecord } from '../domain/profile-register';
import { type FunctionEnvironment, optionalEnv, requiredEnv } from '../shared/environment';

/** A product's catalog entry, written by admins, read by everyone. */
export interface ProductDetails {
  readonly sku: string;
  readonly name: string;
  readonly description?: string;
  readonly priceCents: number;
  readonly currency: string;
  readonly updatedAt: number;
}

/**
 * The jurisdiction's DynamoDB global table, through the replica in this region.
 *
 * Every merge-ruled domain writes per-region items (sort key ends in the region), so the
 * table's own replication, item-level last writer wins, never has to choose between two
 * regions' writes to one item (docs/design.md#data-stores-and-merge-rules). Readers query
 * all regions' items and merge:
 *
 * | item | pk | sk |
 * |---|---|---|
 * | catalog entry | `PRODUCT#<sku>` | `DETAILS` |
 * | likes of one region | `PRODUCT#<sku>` | `LIKES#<region>` |
 * | profile as one region wrote it | `USER#<sub>` | `PROFILE#<region>` |
 * | cart line replica of one region | `USER#<sub>` | `CART#<sku>#<region>` |
 */
export class EventualStore {
  /** `EVENTUAL_TABLE`, and `DYNAMODB_ENDPOINT` only where a local DynamoDB stands in. */
  static fromEnvironment(env: FunctionEnvironment): EventualStore {
    const endpoint = optionalEnv(env, 'DYNAMODB_ENDPOINT');
    const client = new DynamoDBClient(endpoint ? { endpoint, maxAttempts: 2 } : { maxAttempts: 3 });
    return new EventualStore(client, requiredEnv(env, 'EVENTUAL_TABLE'));
  }

  private readonly documents: DynamoDBDocumentClient;

  constructor(
    /** The plain client, for libraries that take one (Powertools idempotency). */
    readonly client: DynamoDBClient,
    readonly tableName: string,
  ) {
    this.documents = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  /** A real read of the table, for health checks. */
  async probe(): Promise<void> {
    await this.documents.send(new GetCommand({ TableName: this.tableName, Key: { pk: 'HEALTH', sk: 'PROBE' } }));
  }

  /** The catalog entry and every region's like count, in one query. */
  async getProduct(sku: string): Promise<{ details?: ProductDetails; likes: LikeCounter }> {
    const items = await this.queryAll(`PRODUCT#${sku}`, '');
    let details: ProductDetails | undefined;
    const likes: Record<string, number> = {};
    for (const item of items) {
      if (item.sk === 'DETAILS') {
        details = {
          sku,
          name: item.name,
          priceCents: item.priceCents,
          currency: item.currency,
          updatedAt: item.updatedAt,
          ...(item.description !== undefined ? { description: item.description } : {}),
        };
      } else if (typeof item.sk === 'string' && item.sk.startsWith('LIKES#')) {
        likes[item.sk.slice('LIKES#'.length)] = Number(item.count);
      }
    }
    return { details, likes };
  }

  async putProductDetails(details: ProductDetails): Promise<void> {
    const { sku, ...fields } = details;
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const sets: string[] = [];
    for (const [name, value] of Object.entries(fields)) {
      names[`#${name}`] = name;
      values[`:${name}`] = value;
      sets.push(`#${name} = :${name}`);
    }
    const remove = details.description === undefined ? ' REMOVE description' : '';
    await this.documents.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: `PRODUCT#${sku}`, sk: 'DETAILS' },
        UpdateExpression: `SET ${sets.join(', ')}${remove}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  }

  /** Atomic +n on this region's own count: concurrent likes in one region all count. */
  async incrementLikes(sku: string, region: string, by = 1): Promise<void> {
    await this.documents.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: `PRODUCT#${sku}`, sk: `LIKES#${region}` },
        UpdateExpression: 'ADD #count :by',
        ExpressionAttributeNames: { '#count': 'count' },
        ExpressionAttributeValues: { ':by': by },
      }),
    );
  }

  async getProfileRecords(userId: string): Promise<ProfileRecord[]> {
    const items = await this.queryAll(`USER#${userId}`, 'PROFILE#');
    return items.map((item) => ({
      displayName: item.displayName,
      preferences: item.preferences ?? {},
      version: Number(item.version),
      updatedAt: Number(item.updatedAt),
      region: item.region,
    }));
  }

  /**
   * Writes this region's copy unless it already holds a record that wins over `record`
   * (a concurrent write in the same region); returns whether it was written.
   */
  async putProfileRecord(userId: string, record: ProfileRecord): Promise<boolean> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: `USER#${userId}`, sk: `PROFILE#${record.region}` },
          UpdateExpression:
            'SET displayName = :displayName, preferences = :preferences, version = :version, updatedAt = :updatedAt, #region = :region',
          ConditionExpression:
            'attribute_not_exists(version) OR version < :version OR (version = :version AND updatedAt < :updatedAt)',
          ExpressionAttributeNames: { '#region': 'region' },
          ExpressionAttributeValues: {
            ':displayName': record.displayName,
            ':preferences': record.preferences,
            ':version': record.version,
            ':updatedAt': record.updatedAt,
            ':region': record.region,
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** Every cart line, each as the replicas of all regions this replica has seen. */
  async getCart(userId: string): Promise<Map<string, CartLine>> {
    const items = await this.queryAll(`USER#${userId}`, 'CART#');
    const lines = new Map<string, Record<string, CartLineReplica>>();
    for (const item of items) {
      const line = lines.get(item.sku) ?? {};
      line[item.region] = cartReplicaOf(item);
      lines.set(item.sku, line);
    }
    return lines;
  }

  /** One line, plus the revision of `region`'s own replica (0 if it has none yet). */
  async getCartLine(userId: string, sku: string, region: string): Promise<{ line: CartLine; ownRevision: number }> {
    const items = await this.queryAll(`USER#${userId}`, `CART#${sku}#`);
    const line: Record<string, CartLineReplica> = {};
    let ownRevision = 0;
    for (const item of items) {
      line[item.region] = cartReplicaOf(item);
      if (item.region === region) ownRevision = Number(item.revision ?? 0);
    }
    return { line, ownRevision };
  }

  /** Atomic +quantity on this region's replica; never touches what removes recorded. */
  async addToCart(userId: string, sku: string, region: string, quantity: number): Promise<void> {
    await this.documents.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: `USER#${userId}`, sk: `CART#${sku}#${region}` },
        UpdateExpression: 'ADD added :quantity SET sku = :sku, #region = :region',
        ExpressionAttributeNames: { '#region': 'region' },
        ExpressionAttributeValues: { ':quantity': quantity, ':sku': sku, ':region': region },
      }),
    );
  }

  /**
   * Records what this region's remove saw. Guarded by the replica's revision so two
   * concurrent removes in one region cannot shrink what an earlier one recorded; returns
   * false when the guard failed and the caller should re-read and try again.
   */
  async recordCartClear(
    userId: string,
    sku: string,
    region: string,
    replica: CartLineReplica,
    expectedRevision: number,
  ): Promise<boolean> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: `USER#${userId}`, sk: `CART#${sku}#${region}` },
          UpdateExpression: 'SET cleared = :cleared, revision = :next, sku = :sku, #region = :region',
          ConditionExpression: expectedRevision === 0 ? 'attribute_not_exists(revision)' : 'revision = :expected',
          ExpressionAttributeNames: { '#region': 'region' },
          ExpressionAttributeValues: {
            ':cleared': replica.cleared,
            ':next': expectedRevision + 1,
            ':sku': sku,
            ':region': region,
            ...(expectedRevision === 0 ? {} : { ':expected': expectedRevision }),
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  private async queryAll(pk: string, skPrefix: string): Promise<Record<string, any>[]> {
    const items: Record<string, any>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: skPrefix ? 'pk = :pk AND begins_with(sk, :prefix)' : 'pk = :pk',
          ExpressionAttributeValues: skPrefix ? { ':pk': pk, ':prefix': skPrefix } : { ':pk': pk },
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items;
  }
}

function cartReplicaOf(item: Record<string, any>): CartLineReplica {
  return { added: Number(item.added ?? 0), cleared: item.cleared ?? {} };
}
