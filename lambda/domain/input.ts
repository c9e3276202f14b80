import * as z from 'zod/mini';

/*
 * The shapes clients may send, checked before anything is read or written. zod's mini
 * build keeps each function bundle small (the classic build adds ~450 KB minified, which
 * is also why Powertools' parser, built on it, is not used here).
 */

/** SKUs are short opaque codes; anything else in the path is refused before a lookup. */
export const SKU_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const MAX_LINE_QUANTITY = 99;
export const MAX_ORDER_LINES = 50;
/** Idempotency keys clients may send: opaque, short, printable. */
export const IDEMPOTENCY_KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;
/**
 * A Stripe PaymentMethod id, never card data: `pm_` and letters or digits (`_` too, for
 * Stripe's test ids such as `pm_card_visa`), 255 characters at most. A card number does not
 * start `pm_`; a run of 12 or more digits is refused too (`PAN_LIKE`), so none reaches Stripe,
 * whose error would quote it.
 */
export const PAYMENT_METHOD_PATTERN = /^pm_[A-Za-z0-9_]{1,252}$/;
/** Twelve digits or more in a row: what no Stripe id holds and every card number does. */
const PAN_LIKE = /[0-9]{12}/;
/** The largest request body accepted, in bytes. */
export const MAX_BODY_BYTES = 16 * 1024;

const sku = z.string().check(z.regex(SKU_PATTERN));
const lineQuantity = z.int().check(z.gte(1), z.lte(MAX_LINE_QUANTITY));

export const productUpdateSchema = z.strictObject({
  name: z.string().check(z.minLength(1), z.maxLength(200)),
  description: z.optional(z.string().check(z.maxLength(2000))),
  priceCents: z.int().check(z.gte(0), z.lte(100_000_000)),
  currency: z.string().check(z.regex(/^[A-Z]{3}$/)),
  stock: z.int().check(z.gte(0), z.lte(1_000_000)),
});
export type ProductUpdate = z.infer<typeof productUpdateSchema>;

export const profileUpdateSchema = z.strictObject({
  displayName: z.string().check(z.minLength(1), z.maxLength(100)),
  preferences: z.optional(
    z
      .record(z.string().check(z.regex(/^[A-Za-z][A-Za-z0-9_-]{0,39}$/)), z.string().check(z.maxLength(200)))
      .check(z.refine((prefs) => Object.keys(prefs).length <= 20, 'must have at most 20 entries')),
  ),
});
export type ProfileUpdate = z.infer<typeof profileUpdateSchema>;

export const cartAddSchema = z.strictObject({ sku, quantity: lineQuantity });
export type CartAdd = z.infer<typeof cartAddSchema>;

export const orderRequestSchema = z.strictObject({
  lines: z.array(z.strictObject({ sku, quantity: lineQuantity })).check(z.minLength(1), z.maxLength(MAX_ORDER_LINES)),
  /** Required when the deployment's processor takes real money (`PAYMENT_PROCESSOR=stripe`). */
  paymentMethod: z.optional(
    z.string().check(
      z.regex(PAYMENT_METHOD_PATTERN),
      z.refine((value) => !PAN_LIKE.test(value), 'has an invalid format'),
    ),
  ),
});
export type OrderRequest = z.infer<typeof orderRequestSchema>;

export interface InputProblem {
  /** Where the problem is, e.g. `lines[2].quantity`, `body`, `sku`. */
  readonly field: string;
  readonly message: string;
}

export type Checked<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly problem: InputProblem };

export function checkInput<T>(schema: z.ZodMiniType<T>, input: unknown): Checked<T> {
  const result = schema.safeParse(input);
  if (result.success) return { ok: true, value: result.data };
  const [issue] = result.error.issues;
  if (!issue) throw new Error('the input failed its schema with no issue reported');
  const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0] ?? ''] : issue.path;
  const field = fieldName(path) || 'body';
  return { ok: false, problem: { field, message: `${field} ${describe(issue, valueAt(input, issue.path))}` } };
}

/** What the client sent at `path` (zod's issues do not carry it). */
function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const part of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[part];
  }
  return value;
}

/** How a refusal names what was sent instead: its JSON type, and a number's value. */
function sentAs(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number') return Number.isFinite(value) ? `the number ${value}` : 'a number too large for JSON';
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'boolean') return `${value}`;
  return typeof value === 'object' ? 'an object' : typeof value;
}

/** Orders name each SKU once, so a refusal can name exactly the short ones. */
export function checkOrderRequest(input: unknown): Checked<OrderRequest> {
  const checked = checkInput(orderRequestSchema, input);
  if (!checked.ok) return checked;
  const seen = new Set<string>();
  for (const [index, line] of checked.value.lines.entries()) {
    if (seen.has(line.sku)) {
      const field = `lines[${index}].sku`;
      return { ok: false, problem: { field, message: `${field} repeats ${line.sku}; send each SKU once` } };
    }
    seen.add(line.sku);
  }
  return checked;
}

export function checkSku(value: string | undefined, field = 'sku'): Checked<string> {
  if (value !== undefined && SKU_PATTERN.test(value)) return { ok: true, value };
  return { ok: false, problem: { field, message: `${field} must be 1-64 letters, digits, '.', '_' or '-'` } };
}

function fieldName(path: readonly PropertyKey[]): string {
  return path
    .map((part, index) => (typeof part === 'number' ? `[${part}]` : index === 0 ? String(part) : `.${String(part)}`))
    .join('');
}

function describe(issue: z.core.$ZodIssue, sent: unknown): string {
  switch (issue.code) {
    case 'invalid_type':
      return sent === undefined ? 'is required' : `must be ${article(issue.expected)}, not ${sentAs(sent)}`;
    case 'too_small':
      return issue.origin === 'array' || issue.origin === 'string'
        ? `must have at least ${issue.minimum} ${issue.origin === 'array' ? 'entries' : 'characters'}`
        : `must be at least ${issue.minimum}`;
    case 'too_big':
      return issue.origin === 'array' || issue.origin === 'string'
        ? `must have at most ${issue.maximum} ${issue.origin === 'array' ? 'entries' : 'characters'}`
        : `must be at most ${issue.maximum}`;
    case 'invalid_format':
      return 'has an invalid format';
    case 'unrecognized_keys':
      return 'is not a field of this request';
    case 'invalid_key':
      return 'has an invalid key';
    default:
      return issue.message && issue.message !== 'Invalid input' ? issue.message : 'is invalid';
  }
}

function article(expected: string): string {
  // Every number this API takes is an integer (quantities, cents, stock).
  if (expected === 'int' || expected === 'number') return 'an integer';
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}
