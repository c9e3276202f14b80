/**
 * Likes as a G-Counter (docs/design.md#data-stores-and-merge-rules): every region increments only its own count, the
 * value is the sum, and two views merge by taking each region's larger count. Each
 * region's count is its own DynamoDB item, so global-table replication (item-level last
 * writer wins) never has two writers on one item and no increment is lost.
 */
export type LikeCounter = Readonly<Record<string, number>>;

export function likeTotal(counter: LikeCounter): number {
  return Object.values(counter).reduce((sum, count) => sum + count, 0);
}

export function incrementLikes(counter: LikeCounter, region: string, by = 1): LikeCounter {
  return { ...counter, [region]: (counter[region] ?? 0) + by };
}

export function mergeLikes(a: LikeCounter, b: LikeCounter): LikeCounter {
  const merged: Record<string, number> = { ...a };
  for (const [region, count] of Object.entries(b)) merged[region] = Math.max(merged[region] ?? 0, count);
  return merged;
}
