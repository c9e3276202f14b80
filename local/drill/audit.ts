import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { EventualStore } from '../../lambda/stores/eventual-store';
import type { LocalPlatform, LocalRegionHandle } from '../platform';
import { canonicalJson } from '../replicator';
import { required } from '../required';
import { clock, type DrillWall, STOP_RESERVE_MS, seconds, waitFor } from './clock';
import { call, isAnswer } from './http';
import {
  type Acknowledged,
  cartKeyParts,
  type DrillClient,
  type DrillLoad,
  drillSku,
  emptyTally,
  type WriteTally,
} from './load';
import { type Session, signIn } from './tokens';

/** What one region's replica holds of a jurisdiction's drill data. */
export interface ReplicaView {
  readonly likes: Readonly<Record<string, number>>;
  /** sub → serving region → `added` of the drill SKU's cart line there. */
  readonly carts: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

/**
 * Acknowledged likes and cart adds that some replica does not hold: for each serving
 * region (and user), what was acknowledged there minus the fewest any replica shows. A
 * write is only kept if every region of the jurisdiction has it.
 * @throws when there is no replica to read, which would make every write look kept
 */
export function missingEventualWrites(
  acks: Pick<Acknowledged, 'likes' | 'cart'>,
  views: readonly ReplicaView[],
): { likes: number; cartAdds: number } {
  if (views.length === 0) throw new Error('missingEventualWrites: no replica was read back');
  const fewest = (held: (view: ReplicaView) => number) => Math.min(...views.map(held));
  let likes = 0;
  let cartAdds = 0;
  for (const [servedBy, count] of acks.likes) {
    likes += Math.max(0, count - fewest((view) => view.likes[servedBy] ?? 0));
  }
  for (const [key, count] of acks.cart) {
    const [sub, servedBy] = cartKeyParts(key);
    cartAdds += Math.max(0, count - fewest((view) => view.carts[sub]?.[servedBy] ?? 0));
  }
  return { likes, cartAdds };
}

/** Whether `view` holds every acknowledged like and cart add. */
function holdsEvery(acks: Acknowledged, view: ReplicaView): boolean {
  for (const [servedBy, count] of acks.likes) if ((view.likes[servedBy] ?? 0) < count) return false;
  for (const [key, count] of acks.cart) {
    const [sub, servedBy] = cartKeyParts(key);
    if ((view.carts[sub]?.[servedBy] ?? 0) < count) return false;
  }
  return true;
}

/** Reads every region's replica directly from its DynamoDB endpoint, each read with a deadline. */
export class ReplicaReader {
  private readonly dynamoClients: DynamoDBClient[] = [];
  private readonly stores = new Map<string, EventualStore>();

  constructor(
    private readonly platform: LocalPlatform,
    requestTimeoutMs: number,
  ) {
    for (const handle of platform.regions) {
      const client = new DynamoDBClient({
        endpoint: handle.dynamoEndpoint,
        region: handle.region,
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        requestHandler: { requestTimeout: requestTimeoutMs, connectionTimeout: requestTimeoutMs },
      });
      this.dynamoClients.push(client);
      this.stores.set(handle.region, new EventualStore(client, handle.tableName));
    }
  }

  close(): void {
    for (const client of this.dynamoClients) client.destroy();
  }

  regionsOf(jurisdiction: string): LocalRegionHandle[] {
    return this.platform.regions.filter((handle) => handle.jurisdiction === jurisdiction);
  }

  /** Whether every region holds its jurisdiction's drill product. */
  async everyRegionHasItsProduct(): Promise<boolean> {
    for (const handle of this.platform.regions) {
      const { details } = await this.store(handle.region).getProduct(drillSku(handle.jurisdiction));
      if (!details) return false;
    }
    return true;
  }

  /** The drill data of `jurisdiction` in `region`'s replica: likes by region, and its clients' cart lines. */
  async view(region: string, jurisdiction: string, clients: readonly DrillClient[]): Promise<ReplicaView> {
    const store = this.store(region);
    const sku = drillSku(jurisdiction);
    const { likes } = await store.getProduct(sku);
    const carts: Record<string, Record<string, number>> = {};
    for (const client of clients.filter((c) => c.jurisdiction === jurisdiction)) {
      const line = (await store.getCart(client.sub)).get(sku) ?? {};
      carts[client.sub] = Object.fromEntries(Object.entries(line).map(([at, replica]) => [at, replica.added]));
    }
    return { likes, carts };
  }

  /** A region's whole replica as one string: one scan, cheap enough to poll. */
  async contents(handle: LocalRegionHandle): Promise<string> {
    const documents = DynamoDBDocumentClient.from(this.store(handle.region).client);
    const items: string[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await documents.send(new ScanCommand({ TableName: handle.tableName, ExclusiveStartKey: startKey }));
      for (const item of page.Items ?? []) items.push(canonicalJson(item));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items.sort().join('\n');
  }

  /**
   * Whether every region of `jurisdiction` holds the same items (a whole-table comparison),
   * and they include every acknowledged write (read through the store's own queries).
   */
  async agreed(jurisdiction: string, acks: Acknowledged, clients: readonly DrillClient[]): Promise<boolean> {
    const regions = this.regionsOf(jurisdiction);
    const contents = await Promise.all(regions.map((handle) => this.contents(handle)));
    const [first] = regions;
    if (!first || new Set(contents).size !== 1) return false;
    return holdsEvery(acks, await this.view(first.region, jurisdiction, clients));
  }

  private store(region: string): EventualStore {
    return required(this.stores, region, 'eventual store for region');
  }
}

export interface ConvergenceWatch {
  readonly replicas: ReplicaReader;
  readonly load: DrillLoad;
  readonly clients: readonly DrillClient[];
  readonly jurisdictions: readonly string[];
  readonly timeoutMs: number;
  /** True once the drill's phases failed: the watch gives up. */
  readonly abandoned: () => boolean;
}

/** From the return, polls every jurisdiction until its regions agree; seconds after the return, or null. */
export async function watchConvergence(watch: ConvergenceWatch): Promise<Record<string, number | null>> {
  const { replicas, load, clients, jurisdictions } = watch;
  const result: Record<string, number | null> = Object.fromEntries(jurisdictions.map((j) => [j, null]));
  const pending = new Set(jurisdictions);
  await waitFor(
    async () => {
      // Writes still in flight may yet be acknowledged: agreement counts only once they are done.
      if (watch.abandoned()) return true;
      if (load.inFlightWrites > 0) return false;
      for (const jurisdiction of [...pending]) {
        // A failed read is retried on the next poll.
        const acks = required(load.acknowledged, jurisdiction, 'acknowledged writes for jurisdiction');
        if (await replicas.agreed(jurisdiction, acks, clients).catch(() => false)) {
          result[jurisdiction] = seconds(clock() - load.upAt);
          pending.delete(jurisdiction);
        }
      }
      return pending.size === 0;
    },
    watch.timeoutMs,
    100,
  );
  return result;
}

/** Acknowledged writes that did not survive, and the regions that were read back, per jurisdiction. */
export interface ReadBack {
  readonly lost: WriteTally;
  readonly checkedRegions: Record<string, string[]>;
}

/** Reads back every acknowledged write: eventual ones from every replica, strong ones through every region's API. */
export async function readBackWrites(
  replicas: ReplicaReader,
  load: DrillLoad,
  clients: readonly DrillClient[],
  orderCheck: OrderCheck,
): Promise<ReadBack> {
  const lost = emptyTally();
  const checkedRegions: Record<string, string[]> = {};
  for (const [jurisdiction, acks] of load.acknowledged) {
    const regions = replicas.regionsOf(jurisdiction);
    checkedRegions[jurisdiction] = regions.map((handle) => handle.region);
    const views = await Promise.all(regions.map((handle) => replicas.view(handle.region, jurisdiction, clients)));
    const missing = missingEventualWrites(acks, views);
    lost.likes += missing.likes;
    lost.cartAdds += missing.cartAdds;
    lost.orders += await missingOrders(jurisdiction, acks.orders, regions, orderCheck);
  }
  return { lost, checkedRegions };
}

export interface OrderCheck {
  readonly requestTimeoutMs: number;
  readonly wall: DrillWall;
  /** The platform's controls: each order's user signs in afresh, as the drill's tokens may have expired. */
  readonly controlUrl: string;
  /** The proof of origin each region's API requires of a direct read, as CloudFront's requests carry it. */
  readonly originHeaders: Readonly<Record<string, string>>;
}

/**
 * Acknowledged orders that some region of the jurisdiction cannot show (read through its
 * own API, as the user who placed it, freshly signed in). Orders left unchecked when the
 * wall cap comes, or whose user cannot sign in, count as missing: unproven.
 */
async function missingOrders(
  jurisdiction: string,
  orders: Acknowledged['orders'],
  regions: readonly LocalRegionHandle[],
  { requestTimeoutMs, wall, controlUrl, originHeaders }: OrderCheck,
): Promise<number> {
  let missing = 0;
  const queue = [...orders];
  const sessions = new Map<string, Session>();
  // A token with a second left, at least: the drill's lifetimes can be a few seconds.
  const tokenOf = async (sub: string): Promise<string | undefined> => {
    const held = sessions.get(sub);
    if (held && clock() < held.expiresAt - 1000) return held.token;
    const { session } = await signIn(controlUrl, jurisdiction, sub, requestTimeoutMs);
    if (session) sessions.set(sub, session);
    return session?.token;
  };
  const worker = async () => {
    for (let order = queue.shift(); order; order = queue.shift()) {
      if (wall.timeLeft() < -STOP_RESERVE_MS / 2) {
        missing++;
        continue;
      }
      for (const handle of regions) {
        const token = await tokenOf(order.sub);
        const answer = token
          ? await call(
              `${handle.url}/api/orders/${encodeURIComponent(order.id)}`,
              { method: 'GET', headers: { ...originHeaders, authorization: `Bearer ${token}` } },
              requestTimeoutMs,
            )
          : { kind: 'sign-in refused' };
        if (!isAnswer(answer) || answer.status !== 200 || answer.body?.id !== order.id) {
          missing++;
          break;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return missing;
}

/** Every acknowledged write, counted. */
export function countAcknowledged(load: DrillLoad): WriteTally {
  const counted = emptyTally();
  for (const acks of load.acknowledged.values()) {
    counted.likes += [...acks.likes.values()].reduce((a, b) => a + b, 0);
    counted.cartAdds += [...acks.cart.values()].reduce((a, b) => a + b, 0);
    counted.orders += acks.orders.length;
  }
  return counted;
}
