// A pizzeria's menu with live availability, and the cart built from it:
// the customer's shop and the cashier's order entry both use it. The cart
// never holds more of a product than the menu's `max_quantity`.

import { api, el, euros, replace } from './common.js';

const REASON = {
  sold_out: 'Épuisée',
  no_recipe: 'Indisponible',
  not_on_this_menu: 'Pas à la carte ici',
  pizzeria_not_open: 'Pizzeria fermée',
};

export class OrderForm {
  /** menuRoot: where the products go; cartRoot: the cart's lines and total. */
  constructor({ menuRoot, cartRoot, onChange = () => {} }) {
    this.menuRoot = menuRoot;
    this.cartRoot = cartRoot;
    this.onChange = onChange;
    this.products = new Map();
    this.cart = new Map(); // product id → quantity
    this.pizzeria = null;
    this.etag = null;
  }

  /** Loads (or refreshes, by ETag) the menu of `pizzeriaId`. */
  async load(pizzeriaId) {
    if (this.pizzeria?.id !== pizzeriaId) {
      this.etag = null;
      this.cart.clear();
    }
    const r = await api('menu', `/pizzerias/${pizzeriaId}/menu`, { etag: this.etag, token: null });
    if (r.status === 304) return r;
    if (!r.ok) return r;
    this.etag = r.etag;
    this.pizzeria = r.data.pizzeria;
    this.products = new Map(r.data.products.map((p) => [p.id, p]));
    // What was in the cart is kept up to what can still be made.
    for (const [id, qty] of this.cart) {
      const p = this.products.get(id);
      const max = p && p.available ? p.max_quantity : 0;
      if (max <= 0) this.cart.delete(id);
      else if (qty > max) this.cart.set(id, max);
    }
    this.render();
    return r;
  }

  /** After a 409 from checkout: each short product's new `max_quantity`. */
  applyShortage(problem) {
    for (const short of problem.products || []) {
      const p = this.products.get(short.product_id);
      if (p) {
        p.max_quantity = short.max_quantity;
        p.available = short.max_quantity > 0;
        if (!p.available) p.unavailable_reason = 'sold_out';
      }
      const qty = this.cart.get(short.product_id) || 0;
      if (qty > short.max_quantity) {
        if (short.max_quantity > 0) this.cart.set(short.product_id, short.max_quantity);
        else this.cart.delete(short.product_id);
      }
    }
    this.etag = null;
    this.render();
  }

  lines() {
    return [...this.cart].map(([product_id, quantity]) => ({ product_id, quantity }));
  }

  subtotal() {
    let cents = 0;
    for (const [id, qty] of this.cart) cents += (this.products.get(id)?.price_cents || 0) * qty;
    return cents;
  }

  clear() { this.cart.clear(); this.render(); }

  set(id, qty) {
    const p = this.products.get(id);
    const max = p && p.available ? p.max_quantity : 0;
    const next = Math.max(0, Math.min(qty, max));
    if (next === 0) this.cart.delete(id);
    else this.cart.set(id, next);
    this.render();
  }

  render() {
    const groups = new Map();
    for (const p of this.products.values()) {
      if (!groups.has(p.category)) groups.set(p.category, []);
      groups.get(p.category).push(p);
    }
    replace(this.menuRoot, [...groups].map(([category, products]) => [
      el('h2', {}, category),
      el('ul', { class: 'products' }, products.map((p) => this.productCard(p))),
    ]));
    this.renderCart();
    this.onChange();
  }

  productCard(p) {
    const qty = this.cart.get(p.id) || 0;
    const max = p.available ? p.max_quantity : 0;
    let badge = null;
    if (!p.available) badge = el('span', { class: 'badge bad' }, REASON[p.unavailable_reason] || 'Indisponible');
    else if (max <= 5) badge = el('span', { class: 'badge warn' }, `Plus que ${max}`);
    const name = p.name;
    return el('li', { class: `product${p.available ? '' : ' sold-out'}`, dataset: { product: p.id } },
      el('span', { class: 'name' }, name),
      p.description ? el('span', { class: 'muted' }, p.description) : null,
      el('span', { class: 'price' }, euros(p.price_cents)),
      badge,
      el('div', { class: 'qty' },
        el('button', {
          type: 'button', class: 'secondary minus', 'aria-label': `Retirer une ${name}`,
          disabled: qty === 0, onclick: () => this.set(p.id, qty - 1),
        }, '−'),
        el('output', { 'aria-live': 'polite', 'aria-label': `Quantité de ${name}` }, String(qty)),
        el('button', {
          type: 'button', class: 'plus', 'aria-label': `Ajouter une ${name}`,
          disabled: qty >= max, onclick: () => this.set(p.id, qty + 1),
        }, '+'),
        qty >= max && max > 0 ? el('span', { class: 'muted max' }, 'maximum atteint') : null));
  }

  renderCart() {
    if (!this.cartRoot) return;
    const items = this.lines().map(({ product_id, quantity }) => {
      const p = this.products.get(product_id);
      return el('li', {}, el('span', {}, `${quantity} × ${p.name}`), el('span', {}, euros(p.price_cents * quantity)));
    });
    replace(this.cartRoot,
      items.length ? el('ul', { class: 'cart-lines' }, items) : el('p', { class: 'muted' }, 'Votre panier est vide.'),
      el('div', { class: 'total' }, el('span', {}, 'Produits'), el('span', { id: 'subtotal' }, euros(this.subtotal()))));
  }
}
