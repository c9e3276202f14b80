/**
 * Every long-lived connection this process opened (database pools, cache clients), so a
 * process that ends on its own (the local platform, a test run) can close them all. Lambda
 * never needs it: the execution environment is frozen and discarded.
 */
const open = new Set<() => Promise<void>>();

export function trackConnection(close: () => Promise<void>): () => void {
  open.add(close);
  return () => open.delete(close);
}

export async function closeAllConnections(): Promise<void> {
  const closing = [...open];
  open.clear();
  await Promise.allSettled(closing.map((close) => close()));
}
