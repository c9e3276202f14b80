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

  test.each(['pm_card_visa', 'pm_1PqRsTuVwXyZ0123456789ab'])('takes the Stripe PaymentMethod id %s', (value) => {
    expect(checkOrderRequest({ lines, paymentMethod: value })).toMatchObject({ ok: true });
  });

  test.each([
    ['an empty string', ''],
    ['a card number', '4242 4242 4242 4242'],
    ['a card number without spaces', '4242424242424242'],
    ['a card number behind pm_', 'pm_4242424242424242'],
    ['another processor reference', 'card_1PqRsTuVwXyZ'],
    ['pm_ alone', 'pm_'],
    ['a number', 42],
    ['256 characters', 'pm_'.padEnd(256, 'x')],
  ])('refuses %s, naming the field and not echoing it', (_, value) => {
    const checked = checkOrderRequest({ lines, paymentMethod: value });
    expect(checked).toMatchObject({ ok: false, problem: { field: 'paymentMethod' } });
    if (typeof value === 'string' && value.length > 0 && !checked.ok) {
      expect(checked.problem.message).not.toContain(value);
    }
  });

  test('an order without one hashes as before the field existed; another card is another request', () => {
    expect(canonicalOrderRequest({ lines })).toBe('[["MUG",1]]');
    expect(canonicalOrderRequest({ lines, paymentMethod: 'pm_a' })).not.toBe(canonicalOrderRequest({ lines }));
    expect(canonicalOrderRequest({ lines, paymentMethod: 'pm_a' })).not.toBe(
      canonicalOrderRequest({ lines, paymentMethod: 'pm_b' }),
    );
  });
});
