import * as z from 'zod/mini';

/*
 * What the orders function sends the payments function (a synchronous Lambda invoke) and
 * what it answers. Both sides parse with these schemas: the two functions deploy together,
 * and a mismatch reads as "payments unavailable", never as a charge.
 */

export const captureRequestSchema = z.strictObject({
  idempotencyKey: z.string().check(z.minLength(1), z.maxLength(200)),
  customerId: z.string().check(z.minLength(1), z.maxLength(200)),
  orderId: z.string().check(z.minLength(1), z.maxLength(100)),
  amountCents: z.int().check(z.gte(1)),
  currency: z.string().check(z.regex(/^[A-Za-z]{3}$/)),
  paymentMethod: z.optional(z.string().check(z.minLength(1), z.maxLength(255))),
});

export const paymentsEventSchema = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('capture'), request: captureRequestSchema }),
  z.strictObject({ action: z.literal('void'), captureId: z.string().check(z.minLength(1), z.maxLength(255)) }),
]);
export type PaymentsEvent = z.infer<typeof paymentsEventSchema>;

export const paymentsResultSchema = z.union([
  z.strictObject({ status: z.literal('captured'), captureId: z.string() }),
  z.strictObject({ status: z.literal('declined'), reason: z.string() }),
  z.strictObject({ status: z.literal('voided') }),
  /**
   * `unavailable`: the processor could not be reached, nothing was charged; `invalid`: the
   * event was not understood; `outcome-unknown`: money may have been taken (see
   * `PaymentOutcomeUnknownError`).
   */
  z.strictObject({ error: z.enum(['unavailable', 'invalid', 'outcome-unknown']), reason: z.string() }),
]);
export type PaymentsResult = z.infer<typeof paymentsResultSchema>;
