/**
 * Cart lines as an add-wins counter (docs/design.md#data-stores-and-merge-rules). For each
 * SKU every region keeps its own replica: `added`, the total quantity ever added in that region, and `cleared`, for each
 * region, how much of that region's `added` it had seen when it last removed the line.
 * The line's quantity is, summed over regions, what was added there beyond the largest
 * amount any remover saw. So quantities added in different regions add up, and a remove
 * erases only the adds it had seen: an add it had not seen survives (add wins).
 *
 * Replicas only grow (counts never decrease), and merging takes the larger of each count,
 * which makes the merge commutative, associative and idempotent: any order, duplication
 * or delay of replicated writes converges.
 */
export interface CartLineReplica {
  readonly added: number;
  readonly cleared: Readonly<Record<string, number>>;
}

/** One SKU's line: region → that region's replica. */
export type CartLine = Readonly<Record<string, CartLineReplica>>;

const EMPTY: CartLineReplica = { added: 0, cleared: {} };

export function lineQuantity(line: CartLine): number {
  let quantity = 0;
  for (const [region, replica] of Object.entries(line)) {
    let seenByRemovers = 0;
    for (const other of Object.values(line)) seenByRemovers = Math.max(seenByRemovers, other.cleared[region] ?? 0);
    quantity += Math.max(0, replica.added - seenByRemovers);
  }
  return quantity;
}

/** `region`'s replica after adding `quantity` (DynamoDB does this with an atomic `ADD`). */
export function addToLine(line: CartLine, region: string, quantity: number): CartLineReplica {
  const own = line[region] ?? EMPTY;
  return { ...own, added: own.added + quantity };
}

/** `region`'s replica after removing the line as this region currently sees it. */
export function clearLine(line: CartLine, region: string): CartLineReplica {
  const own = line[region] ?? EMPTY;
  const cleared: Record<string, number> = { ...own.cleared };
  for (const [other, replica] of Object.entries(line)) cleared[other] = Math.max(cleared[other] ?? 0, replica.added);
  return { added: own.added, cleared };
}

export function mergeReplicas(a: CartLineReplica, b: CartLineReplica): CartLineReplica {
  const cleared: Record<string, number> = { ...a.cleared };
  for (const [region, seen] of Object.entries(b.cleared)) cleared[region] = Math.max(cleared[region] ?? 0, seen);
  return { added: Math.max(a.added, b.added), cleared };
}

export function mergeLines(a: CartLine, b: CartLine): CartLine {
  const merged: Record<string, CartLineReplica> = { ...a };
  for (const [region, replica] of Object.entries(b)) merged[region] = mergeReplicas(merged[region] ?? EMPTY, replica);
  return merged;
}
