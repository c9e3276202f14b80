import { checkOrderRequest } from '../../../lambda/domain/input';
import { canonicalOrderRequest } from '../../../lambda/domain/order-plan';

// The order request's optional payment method: its shape, and its part in the request hash
// that decides whether a repeated Idempotency-Key is a replay.
const lines = [{ sku: 'MUG', quantity: 1 }];

describe('paymentMethod of an order request', () => {
  test('is optional, and taken when it is a processor reference', () => {
    expect(checkOrderRequest({ lines })).toEqual({ ok: true, value: { lines } });
    expect(checkOrderRequest({ lines, paymentMethod: 'pm_card_visa' })).toEqual({
      ok: true,
      value: { lines, paymentMethod: 'pm_card_visa' },
    });
  });

  test.each([
    ['an empty string', ''],
    ['a card number', '4242 4242 4242 4242'],
    ['a number', 42],
    ['256 characters', 'pm_'.padEnd(256, 'x')],
  ])('refuses %s, naming the field', (_, value) => {
    expect(checkOrderRequest({ lines, paymentMethod: value })).toMatchObject({
      ok: false,
      problem: { field: 'paymentMethod' },
    });
  });

  test('an order without one hashes as before the field existed; another card is another request', () => {
    expect(canonicalOrderRequest({ lines })).toBe('[["MUG",1]]');
    expect(canonicalOrderRequest({ lines, paymentMethod: 'pm_a' })).not.toBe(canonicalOrderRequest({ lines }));
    expect(canonicalOrderRequest({ lines, paymentMethod: 'pm_a' })).not.toBe(
      canonicalOrderRequest({ lines, paymentMethod: 'pm_b' }),
    );
  });
});
