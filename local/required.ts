type Lookup<V> = ReadonlyMap<unknown, V> | Readonly<Record<string, V>>;

/**
 * The value `source` holds for `key`, where its absence is a bug (the local platform fills
 * these maps from one topology): an Error names what is missing, as `no <what> <key>`.
 */
export function required<K, V>(source: ReadonlyMap<K, V>, key: K, what: string): V;
export function required<V>(source: Readonly<Record<string, V>>, key: string, what: string): V;
export function required<V>(source: Lookup<V>, key: unknown, what: string): V {
  const value = isMap(source) ? source.get(key) : source[String(key)];
  if (value === undefined) throw new Error(`no ${what} ${String(key)}`);
  return value;
}

/** The element of `list` at `index`, where its absence is a bug: an Error names what is missing. */
export function nth<T>(list: readonly T[], index: number, what: string): T {
  const value = list[index];
  if (value === undefined) throw new Error(`no ${what} at index ${index} of ${list.length}`);
  return value;
}

function isMap<V>(source: Lookup<V>): source is ReadonlyMap<unknown, V> {
  return source instanceof Map;
}
