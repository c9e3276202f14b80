import { type CartLine, clearLine, lineQuantity } from '../domain/cart-lines';
import { cartAddSchema, checkInput, checkSku } from '../domain/input';
import { ApiError } from '../shared/api-error';
import { json } from '../shared/http';
import { type DomainHandler, domainHandler } from '../shared/instrumented';
import type { RegionContext } from '../shared/region-context';
import { callerOf, jsonBody, pathParameter, requireNoBody, valid } from '../shared/request';
import type { EventualStore } from '../stores/eventual-store';

export interface CartApiDependencies {
  readonly context: RegionContext;
  readonly eventual: EventualStore;
}

/** Attempts at recording a remove when another remove in this region gets in first. */
const CLEAR_ATTEMPTS = 5;
/** Largest quantity of one SKU a cart holds, however many regions added to it. */
export const MAX_CART_LINE_QUANTITY = 999;

/** The cart: add-wins lines whose quantities from different regions add up. */
export function createCartApi(deps: CartApiDependencies): DomainHandler {
  const { region } = deps.context;
  const cartView = async (userId: string) => viewOf(await deps.eventual.getCart(userId));
  return domainHandler({
    domain: 'cart',
    context: deps.context,
    routes: {
      'GET /api/me/cart': async (event) => json(200, await cartView(callerOf(event).userId)),

      'POST /api/me/cart/items': async (event) => {
        const { userId } = callerOf(event);
        const item = valid(checkInput(cartAddSchema, jsonBody(event)));
        const { details } = await deps.eventual.getProduct(item.sku);
        if (!details)
          throw new ApiError(404, 'PRODUCT_NOT_FOUND', `No product ${item.sku} in this catalog`, { field: 'sku' });
        const { line } = await deps.eventual.getCartLine(userId, item.sku, region);
        if (lineQuantity(line) + item.quantity > MAX_CART_LINE_QUANTITY) {
          throw new ApiError(
            400,
            'INVALID_INPUT',
            `quantity would take ${item.sku} above ${MAX_CART_LINE_QUANTITY} in the cart`,
            { field: 'quantity' },
          );
        }
        // An atomic ADD on this region's replica (`addToLine`), so concurrent adds all count.
        await deps.eventual.addToCart(userId, item.sku, region, item.quantity);
        return json(200, await cartView(userId));
      },

      'DELETE /api/me/cart/items/{sku}': async (event) => {
        const { userId } = callerOf(event);
        const sku = valid(checkSku(pathParameter(event, 'sku')));
        requireNoBody(event);
        for (let attempt = 1; attempt <= CLEAR_ATTEMPTS; attempt++) {
          const { line, ownRevision } = await deps.eventual.getCartLine(userId, sku, region);
          if (lineQuantity(line) === 0) return json(200, await cartView(userId));
          if (await deps.eventual.recordCartClear(userId, sku, region, clearLine(line, region), ownRevision)) {
            return json(200, await cartView(userId));
          }
        }
        throw new ApiError(409, 'CART_CONTENDED', `The ${sku} line kept changing while removing it; try again`, {
          field: 'sku',
        });
      },
    },
  });
}

function viewOf(lines: ReadonlyMap<string, CartLine>) {
  const items = [...lines.entries()]
    .map(([sku, line]) => ({ sku, quantity: lineQuantity(line) }))
    .filter((item) => item.quantity > 0)
    .sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0));
  return { items };
}
