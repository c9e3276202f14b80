import type { OrderRequest } from './input';

/** A SKU's row in the jurisdiction's inventory, read under a row lock. */
export interface InventoryRow {
  readonly sku: string;
  readonly quantity: number;
  readonly priceCents: number;
  readonly currency: string;
}

export interface Shortage {
  readonly sku: string;
  readonly requested: number;
  readonly available: number;
}

export interface PricedLine {
  readonly sku: string;
  readonly quantity: number;
  readonly unitPriceCents: number;
}

export type OrderPlan =
  /** Lines naming SKUs the catalog has no inventory for, by their index in the request. */
  | { readonly kind: 'unknown'; readonly lines: readonly { readonly index: number; readonly sku: string }[] }
  | { readonly kind: 'short'; readonly shortages: readonly Shortage[] }
  | { readonly kind: 'mixed-currency'; readonly currencies: readonly string[] }
  | {
      readonly kind: 'ok';
      readonly lines: readonly PricedLine[];
      readonly totalCents: number;
      readonly currency: string;
    };

/**
 * Decides an order from the locked inventory rows: refused if a line names a SKU the
 * catalog does not have, or wants more than is in stock (naming every short SKU),
 * otherwise priced. Stock never goes below zero because only a plan of kind `ok` is applied.
 */
export function planOrder(request: OrderRequest, inventory: readonly InventoryRow[]): OrderPlan {
  const rows = new Map(inventory.map((row) => [row.sku, row]));
  const unknown = request.lines.flatMap((line, index) => (rows.has(line.sku) ? [] : [{ index, sku: line.sku }]));
  if (unknown.length > 0) return { kind: 'unknown', lines: unknown };
  const shortages: Shortage[] = [];
  for (const line of request.lines) {
    const available = rows.get(line.sku)?.quantity ?? 0;
    if (line.quantity > available) shortages.push({ sku: line.sku, requested: line.quantity, available });
  }
  if (shortages.length > 0) return { kind: 'short', shortages };
  const rowOf = (sku: string): InventoryRow => {
    const row = rows.get(sku);
    if (!row) throw new Error(`no inventory row for SKU ${sku}`);
    return row;
  };
  const currencies = [...new Set(request.lines.map((line) => rowOf(line.sku).currency))];
  if (currencies.length > 1) return { kind: 'mixed-currency', currencies };
  const [currency] = currencies;
  if (currency === undefined) throw new Error('an order has no lines to price');
  const lines = request.lines.map((line) => ({
    sku: line.sku,
    quantity: line.quantity,
    unitPriceCents: rowOf(line.sku).priceCents,
  }));
  const totalCents = lines.reduce((sum, line) => sum + line.quantity * line.unitPriceCents, 0);
  return { kind: 'ok', lines, totalCents, currency };
}

/**
 * The canonical form of a request body under an idempotency key: the same order sent
 * twice hashes the same whatever the key order or line order, a different one does not.
 * The payment method is part of the order: a retry naming another card is another request
 * (422), never a replay telling the client that card paid. An order without one hashes as
 * it always did, so keys stored before the field existed still replay.
 */
export function canonicalOrderRequest(request: OrderRequest): string {
  const lines = [...request.lines]
    .sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0))
    .map((line) => [line.sku, line.quantity]);
  if (request.paymentMethod === undefined) return JSON.stringify(lines);
  return JSON.stringify({ lines, paymentMethod: request.paymentMethod });
}
