/**
 * Profiles as a last-writer-wins register ordered by (version, timestamp, region), as
 * docs/design.md#data-stores-and-merge-rules sets out: the highest version wins, a later
 * timestamp breaks a tie, and the region name breaks a tie of both, so every replica picks the same winner whatever order the
 * writes arrive in. Each region writes its own copy (`PROFILE#<region>`); readers take the
 * highest, because DynamoDB's own item-level rule uses AWS's clock, not this order.
 */
export interface ProfileFields {
  readonly displayName: string;
  readonly preferences: Readonly<Record<string, string>>;
}

export interface ProfileRecord extends ProfileFields {
  readonly version: number;
  /** Milliseconds since the epoch when the writing region accepted the write. */
  readonly updatedAt: number;
  readonly region: string;
}

/** Negative if `a` loses to `b`, positive if it wins, 0 only for the same write. */
export function compareProfiles(a: ProfileRecord, b: ProfileRecord): number {
  if (a.version !== b.version) return a.version - b.version;
  if (a.updatedAt !== b.updatedAt) return a.updatedAt - b.updatedAt;
  if (a.region !== b.region) return a.region < b.region ? -1 : 1;
  // Two writes in one region in the same millisecond: the content decides, so the order
  // stays total and every replica still picks the same one.
  const contentA = contentOf(a);
  const contentB = contentOf(b);
  return contentA < contentB ? -1 : contentA > contentB ? 1 : 0;
}

function contentOf(record: ProfileRecord): string {
  const preferences = Object.entries(record.preferences).sort(([x], [y]) => (x < y ? -1 : 1));
  return JSON.stringify([record.displayName, preferences]);
}

export function mergeProfiles(a: ProfileRecord | undefined, b: ProfileRecord | undefined): ProfileRecord | undefined {
  if (!a) return b;
  if (!b) return a;
  return compareProfiles(a, b) >= 0 ? a : b;
}

export function winningProfile(records: readonly ProfileRecord[]): ProfileRecord | undefined {
  return records.reduce<ProfileRecord | undefined>(mergeProfiles, undefined);
}

/** The write a region makes on top of the winner it currently sees. */
export function nextProfile(
  current: ProfileRecord | undefined,
  fields: ProfileFields,
  region: string,
  now: Date,
): ProfileRecord {
  return { ...fields, version: (current?.version ?? 0) + 1, updatedAt: now.getTime(), region };
}
