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

interface Pending {
  readonly key: string;
  readonly value: string | null;
  readonly dueAt: number;
}

/**
 * A DynamoDB global table's replication between local replicas of one jurisdiction: every
 * item a region writes reaches the jurisdiction's other regions after a delay, whole, and
 * the last write seen for an item wins everywhere (item-level last writer wins). It reads
 * each replica's items every `pollMs`; a write it made itself is recognised and not sent
 * back. Paused, it keeps noting writes and delivers them on resume.
 *
 * "Last" is the order the replicator notices writes in (every `pollMs`), not AWS's write
 * timestamps; the platform's merged data never has two regions write one item, so that
 * difference only touches catalog entries and idempotency records.
 */
export class Replicator {
  readonly delayMs: number;
  private readonly pollMs: number;
  /** Per region, each item as last seen there (canonical JSON), or as the replicator wrote it. */
  private readonly seen = new Map<string, Map<string, string>>();
  /** Per item, the value that won: what every region must end with. */
  private readonly winners = new Map<string, string | null>();
  private pending: Pending[] = [];
  private timer?: NodeJS.Timeout;
  private polling?: Promise<void>;
  private paused = false;
  private stopped = true;

  constructor(private readonly options: ReplicatorOptions) {
    this.delayMs = options.delayMs ?? 500;
    this.pollMs = options.pollMs ?? 100;
    for (const replica of options.replicas) this.seen.set(replica.region, new Map());
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** Writes seen but not yet delivered everywhere. */
  get backlog(): number {
    return this.pending.length;
  }

  start(): void {
    // One replica has no other to deliver to: scanning it would only cost CPU.
    if (this.options.replicas.length < 2) return;
    this.stopped = false;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.polling;
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
    for (const replica of this.options.replicas) {
      const seen = this.seen.get(replica.region) as Map<string, string>;
      const current = await this.scan(replica);
      for (const key of new Set([...seen.keys(), ...current.keys()])) {
        const value = current.get(key) ?? null;
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
    for (const replica of this.options.replicas) {
      const seen = this.seen.get(replica.region) as Map<string, string>;
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
