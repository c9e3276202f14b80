import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';

export interface ReplicaTable {
  readonly region: string;
  readonly documents: DynamoDBDocumentClient;
  readonly tableName: string;
}

export interface ReplicatorOptions {
  readonly jurisdiction: string;
  /** The jurisdiction's replicas, and nothing else: items can only go where a table is listed. */
  readonly replicas: readonly ReplicaTable[];
  /**
   * How long after a write is seen it reaches the other regions.
   * @default 500
   */
  readonly delayMs?: number;
  /**
   * How often each replica is read for new writes.
   * @default 100
   */
  readonly pollMs?: number;
  readonly onError?: (error: unknown) => void;
}

/** A replica with what the replicator keeps for it. */
interface Replica {
  readonly table: ReplicaTable;
  /** Each item as last seen there (canonical JSON), or as the replicator wrote it. */
  readonly seen: Map<string, string>;
  /** Keys written since the last poll read them. */
  readonly written: Set<string>;
}

interface Pending {
  readonly key: string;
  readonly value: string | null;
  readonly dueAt: number;
}

/** The write operations whose keys the capture notes (dynalite has no transactions). */
const WRITES = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'BatchWriteItemCommand']);

type AttributeKey = { readonly pk?: { readonly S?: string }; readonly sk?: { readonly S?: string } };

/** The `[pk, sk]` keys a (marshalled) write request touches in `tableName`. */
export function writtenKeys(commandName: string, input: any, tableName: string): string[] {
  const keyOf = (item: AttributeKey | undefined) =>
    item?.pk?.S !== undefined && item.sk?.S !== undefined ? [JSON.stringify([item.pk.S, item.sk.S])] : [];
  if (!WRITES.has(commandName)) return [];
  if (commandName === 'BatchWriteItemCommand') {
    const writes: unknown = input?.RequestItems?.[tableName];
    return Array.isArray(writes)
      ? writes.flatMap((write) => keyOf(write.PutRequest?.Item ?? write.DeleteRequest?.Key))
      : [];
  }
  if (input?.TableName !== tableName) return [];
  return keyOf(input.Item ?? input.Key);
}

/**
 * A DynamoDB global table's replication between local replicas of one jurisdiction: every
 * item a region writes reaches the jurisdiction's other regions after a delay, whole, and
 * the last write seen for an item wins everywhere (item-level last writer wins). Like the
 * DynamoDB Streams that feed global tables, each replica's writes are captured as they are
 * made (a middleware on the region's SDK client notes the keys), so every `pollMs` it reads
 * only the items written since, not whole tables: writes through other clients are not
 * seen, and the first poll scans each table once. A write it made itself is recognised and
 * not sent back. Paused, it keeps noting writes and delivers them on resume.
 *
 * "Last" is the order the replicator notices writes in (every `pollMs`), not AWS's write
 * timestamps; the platform's merged data never has two regions write one item, so that
 * difference only touches catalog entries and idempotency records.
 */
export class Replicator {
  readonly delayMs: number;
  private readonly pollMs: number;
  /** Per item, the value that won: what every region must end with. */
  private readonly winners = new Map<string, string | null>();
  private readonly replicas: readonly Replica[];
  /** Regions whose table has been scanned once. */
  private readonly scanned = new Set<string>();
  private pending: Pending[] = [];
  private timer?: NodeJS.Timeout;
  private polling?: Promise<void>;
  private paused = false;
  private stopped = true;

  constructor(private readonly options: ReplicatorOptions) {
    this.delayMs = options.delayMs ?? 500;
    this.pollMs = options.pollMs ?? 100;
    this.replicas = options.replicas.map((table) => ({ table, seen: new Map(), written: new Set() }));
  }

  private captureName(region: string): string {
    return `LocalReplicator-${this.options.jurisdiction}-${region}`;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** Writes seen but not yet delivered everywhere. */
  get backlog(): number {
    return this.pending.length;
  }

  start(): void {
    // One replica has no other to deliver to: reading it would only cost CPU.
    if (this.replicas.length < 2 || !this.stopped) return;
    // Writes made while stopped were not captured: read every table whole once more.
    this.scanned.clear();
    for (const { table: replica, written } of this.replicas) {
      replica.documents.middlewareStack.add(
        (next, context) => async (args) => {
          try {
            return await next(args);
          } finally {
            for (const key of writtenKeys(context.commandName ?? '', args.input, replica.tableName)) written.add(key);
          }
        },
        { step: 'build', name: this.captureName(replica.region), override: true },
      );
    }
    this.stopped = false;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.polling;
    for (const { table: replica } of this.replicas)
      replica.documents.middlewareStack.remove(this.captureName(replica.region));
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.polling = this.poll()
        .catch((error: unknown) => this.options.onError?.(error))
        .finally(() => this.schedule());
    }, this.pollMs);
  }

  private async poll(): Promise<void> {
    const now = Date.now();
    for (const replica of this.replicas) {
      const { seen } = replica;
      for (const [key, value] of await this.changedItems(replica)) {
        if ((seen.get(key) ?? null) === value) continue;
        if (value === null) seen.delete(key);
        else seen.set(key, value);
        if (this.winners.has(key) && this.winners.get(key) === value) continue;
        this.winners.set(key, value);
        this.pending.push({ key, value, dueAt: now + this.delayMs });
      }
    }
    if (this.paused) return;
    for (const change of this.pending.filter((c) => c.dueAt <= now)) {
      // A later write to the same item has won meanwhile: it is delivered instead.
      if (this.winners.get(change.key) === change.value) await this.deliver(change.key, change.value);
      // Only once delivered everywhere (a failure above leaves it queued for the next poll).
      this.pending = this.pending.filter((c) => c !== change);
    }
  }

  private async deliver(key: string, value: string | null): Promise<void> {
    const [pk, sk] = JSON.parse(key) as [string, string];
    for (const { table: replica, seen } of this.replicas) {
      if ((seen.get(key) ?? null) === value) continue;
      // The region wrote the item since its last scan: that newer local write wins, and the
      // next poll picks it up and carries it to the others.
      const now = await replica.documents.send(new GetCommand({ TableName: replica.tableName, Key: { pk, sk } }));
      if ((now.Item ? canonicalJson(now.Item) : null) !== (seen.get(key) ?? null)) continue;
      if (value === null) {
        await replica.documents.send(new DeleteCommand({ TableName: replica.tableName, Key: { pk, sk } }));
        seen.delete(key);
      } else {
        await replica.documents.send(new PutCommand({ TableName: replica.tableName, Item: JSON.parse(value) }));
        seen.set(key, value);
      }
    }
  }

  /** Each item that may have changed in the replica, with its value now (null: deleted). */
  private async changedItems({ table: replica, seen, written }: Replica): Promise<Map<string, string | null>> {
    const keys = [...written];
    written.clear();
    try {
      if (!this.scanned.has(replica.region)) {
        const current = await this.scan(replica);
        this.scanned.add(replica.region);
        const all = new Map<string, string | null>();
        for (const key of new Set([...seen.keys(), ...current.keys()])) all.set(key, current.get(key) ?? null);
        return all;
      }
      const values = await Promise.all(
        keys.map(async (key) => {
          const [pk, sk] = JSON.parse(key) as [string, string];
          const { Item } = await replica.documents.send(
            new GetCommand({ TableName: replica.tableName, Key: { pk, sk }, ConsistentRead: true }),
          );
          return [key, Item ? canonicalJson(Item) : null] as const;
        }),
      );
      return new Map(values);
    } catch (error) {
      // Read again on the next poll.
      for (const key of keys) written.add(key);
      throw error;
    }
  }

  private async scan(replica: ReplicaTable): Promise<Map<string, string>> {
    const items = new Map<string, string>();
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await replica.documents.send(
        new ScanCommand({ TableName: replica.tableName, ExclusiveStartKey: startKey }),
      );
      for (const item of page.Items ?? []) items.set(JSON.stringify([item.pk, item.sk]), canonicalJson(item));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items;
  }
}

/** JSON with object keys sorted, so one item always reads as one string. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) =>
    v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Set)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}
