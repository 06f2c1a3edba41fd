// A pizzeria's menu with live availability, and the cart built from it:
// the customer's shop and the cashier's order entry both use it. The cart
// never holds more of a product than the menu's `max_quantity` (nor more of
// a size or an extra than theirs).
//
// A product may be asked in a size, without some of its toppings, with
// extras and with a note for the kitchen: its "+" then opens a panel of
// choices. Lines with the same product and the same choices merge; other
// choices make another line. Each line's price and allergens are worked out
// here as the server does, so the cart shows what will be charged.

import { api, el, euros, replace } from './common.js';

const REASON = {
  sold_out: 'Épuisée',
  no_recipe: 'Indisponible',
  not_on_this_menu: 'Pas à la carte ici',
  pizzeria_not_open: 'Pizzeria fermée',
};

/** The 14 allergens to declare (EU 1169/2011), in the regulation's order, as people read them. */
export const ALLERGENS = {
  gluten: 'Gluten',
  crustaceans: 'Crustacés',
  eggs: 'Œufs',
  fish: 'Poissons',
  peanuts: 'Arachides',
  soybeans: 'Soja',
  milk: 'Lait',
  nuts: 'Fruits à coque',
  celery: 'Céleri',
  mustard: 'Moutarde',
  sesame: 'Sésame',
  sulphites: 'Sulfites',
  lupin: 'Lupin',
  molluscs: 'Mollusques',
};
const ORDER = Object.keys(ALLERGENS);
const rank = (code) => (ORDER.includes(code) ? ORDER.indexOf(code) : ORDER.length);

/** Codes, once each, in the regulation's order. */
export function sortAllergens(codes) {
  return [...new Set(codes || [])].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}
/** ['milk', 'gluten'] → "Gluten, Lait" ('' when none). */
export const allergensText = (codes) => sortAllergens(codes).map((c) => ALLERGENS[c] || c).join(', ');
/** "Allergènes : Gluten, Lait", or "Sans allergène déclaré". */
export function allergenLine(codes) {
  const text = allergensText(codes);
  return text ? `Allergènes : ${text}` : 'Sans allergène déclaré';
}

// What a problem about a choice (422 invalid-choice) asks to change.
const CHOICE_FIELD = {
  size: 'cette taille n’est plus proposée.',
  remove: 'cet ingrédient ne peut plus être retiré.',
  extras: 'un supplément n’est plus proposé, ou il y en a trop.',
  note: 'la remarque pour la cuisine fait 140 caractères au plus.',
};

const sum = (lines) => lines.reduce((n, l) => n + l.quantity, 0);
const keyOf = (l) => JSON.stringify([l.product_id, l.size, l.remove, l.extras, l.note]);
const ids = (values) => [...new Set(values.map(Number))].sort((a, b) => a - b);

/**
 * How wide a card's photo is shown (style.css): a thumbnail on a phone, the
 * card's width (about 22rem at most) elsewhere; the browser picks the file.
 */
const PHOTO_SIZES = '(max-width: 40rem) 5rem, 22rem';

export class OrderForm {
  /** menuRoot: where the products go; cartRoot: the cart's lines and total. */
  constructor({ menuRoot, cartRoot, onChange = () => {}, photos = false }) {
    this.menuRoot = menuRoot;
    // The shop shows each product's photo (the counter's screen does not).
    this.photos = photos;
    this.pictures = new Map(); // product id → its photo's frame, kept between drawings
    this.cartRoot = cartRoot;
    this.onChange = onChange;
    this.products = new Map();
    this.extras = []; // the toppings any product with `max_extras` may take
    // line key → {product_id, size, remove, extras, note, quantity}
    this.cart = new Map();
    this.filters = { glutenFree: false, vegetarian: false };
    this.pizzeria = null;
    this.etag = null;
    this.dialog = null;
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
    this.extras = r.data.extras || [];
    // What was in the cart is kept up to what can still be made.
    this.settle();
    this.render();
    return r;
  }

  /** After a 409 from checkout: each short product's new `max_quantity`. */
  applyShortage(problem) {
    for (const short of problem.products || []) {
      const p = this.products.get(short.product_id);
      if (!p) continue;
      p.max_quantity = short.max_quantity;
      p.available = short.max_quantity > 0;
      if (!p.available) p.unavailable_reason = 'sold_out';
    }
    this.etag = null;
    this.settle();
    this.render();
  }

  /** Hides what the customer does not want to see ({glutenFree, vegetarian}). */
  setFilters(filters) {
    this.filters = { ...this.filters, ...filters };
    this.render();
  }

  // ---- the lines -----------------------------------------------------------

  /** The cart as checkout wants it: the choices only when there are some. */
  lines() {
    return [...this.cart.values()].map((l) => {
      const line = { product_id: l.product_id, quantity: l.quantity };
      if (l.size) line.size = l.size;
      if (l.remove.length) line.remove = l.remove;
      if (l.extras.length) line.extras = l.extras;
      if (l.note) line.note = l.note;
      return line;
    });
  }

  subtotal() {
    let cents = 0;
    for (const l of this.cart.values()) if (this.products.has(l.product_id)) cents += this.describe(l).unit * l.quantity;
    return cents;
  }

  /** Every allergen of the order, in the regulation's order. */
  allergens() {
    return sortAllergens([...this.cart.values()].flatMap((l) => (this.products.has(l.product_id) ? this.describe(l).allergens : [])));
  }

  clear() { this.cart.clear(); this.render(); }

  extra(id) { return this.extras.find((x) => x.ingredient_id === id); }

  /** Does `p`'s "+" open the choice panel (a size to choose, a topping to leave off, extras)? */
  hasChoices(p) {
    return (p.sizes?.length ?? 0) > 1
      || (p.ingredients || []).some((i) => i.removable)
      || (p.max_extras > 0 && this.extras.length > 0);
  }

  /** `p` as it comes: its first size, nothing left off, no extra, no note. */
  plain(p, size = p.sizes?.[0]?.code ?? null) {
    return { product_id: p.id, size, remove: [], extras: [], note: '', quantity: 1 };
  }

  /**
   * A line as the server makes it: its unit price (the size's, or the
   * product's, plus the extras'), its allergens (the toppings kept and the
   * extras'), and its choices in words ("Grande 40 cm · sans Oignons rouges
   * · + Chèvre": the size when there is a choice of sizes).
   */
  describe(line) {
    const p = this.products.get(line.product_id);
    const sizes = p.sizes || [];
    const size = sizes.find((s) => s.code === line.size) || null;
    const ingredients = p.ingredients || [];
    const removed = ingredients.filter((i) => line.remove.includes(i.id));
    const extras = line.extras.map((id) => this.extra(id)).filter(Boolean);
    const unit = (size ? size.price_cents : p.price_cents) + extras.reduce((n, x) => n + x.price_cents, 0);
    const kept = ingredients.length
      ? ingredients.filter((i) => !line.remove.includes(i.id)).flatMap((i) => i.allergens || [])
      : p.allergens || [];
    const allergens = sortAllergens([...kept, ...extras.flatMap((x) => x.allergens || [])]);
    const words = [
      sizes.length > 1 && size ? size.label : null,
      ...removed.map((i) => `sans ${i.name}`),
      ...extras.map((x) => `+ ${x.name}`),
    ].filter(Boolean).join(' · ');
    return { product: p, size, unit, allergens, words };
  }

  /** How many more of `line` the menu allows, given what the cart holds. */
  room(line) {
    const p = this.products.get(line.product_id);
    if (!p || !p.available) return 0;
    const all = [...this.cart.values()];
    const same = all.filter((l) => l.product_id === p.id);
    let left = p.max_quantity - sum(same);
    const size = (p.sizes || []).find((s) => s.code === line.size);
    if (size && Number.isFinite(size.max_quantity)) {
      left = Math.min(left, size.max_quantity - sum(same.filter((l) => l.size === size.code)));
    }
    for (const id of line.extras) left = Math.min(left, this.extraLeft(id));
    return Math.max(0, left);
  }

  /** How many more pizzas may take extra `id`. */
  extraLeft(id) {
    const x = this.extra(id);
    if (!x) return 0;
    if (!Number.isFinite(x.max_quantity)) return Infinity;
    return x.max_quantity - sum([...this.cart.values()].filter((l) => l.extras.includes(id)));
  }

  /** Whether the menu still offers `line`'s choices. */
  offers(line) {
    const p = this.products.get(line.product_id);
    if (!p) return false;
    const sizes = p.sizes || [];
    if (sizes.length ? !sizes.some((s) => s.code === line.size) : line.size !== null) return false;
    const removable = new Set((p.ingredients || []).filter((i) => i.removable).map((i) => i.id));
    if (!line.remove.every((id) => removable.has(id))) return false;
    if (line.extras.length > (p.max_extras || 0)) return false;
    return line.extras.every((id) => this.extra(id) && !line.remove.includes(id));
  }

  /** Adds `line` (merged with the same choices), as far as the menu allows. */
  add(line) {
    const p = this.products.get(line.product_id);
    const clean = {
      product_id: line.product_id,
      size: (p.sizes || []).length ? line.size ?? p.sizes[0].code : null,
      remove: ids(line.remove || []),
      extras: ids(line.extras || []),
      note: String(line.note || '').trim().slice(0, 140),
    };
    const key = keyOf(clean);
    const had = this.cart.get(key)?.quantity || 0;
    const more = Math.min(line.quantity ?? 1, this.room(clean));
    if (more > 0) this.cart.set(key, { ...clean, quantity: had + more });
    this.render();
  }

  /** Line `key` to `quantity` (0 removes it), as far as the menu allows. */
  setQuantity(key, quantity) {
    const line = this.cart.get(key);
    if (!line) return;
    const next = Math.max(0, Math.min(quantity, line.quantity + this.room(line)));
    if (next === 0) this.cart.delete(key);
    else line.quantity = next;
    this.render();
  }

  /** Keeps the lines the menu still offers, each up to what can be made. */
  settle() {
    const before = [...this.cart.values()];
    this.cart = new Map();
    for (const line of before) {
      if (!this.offers(line)) continue;
      const quantity = Math.min(line.quantity, this.room(line));
      if (quantity > 0) this.cart.set(keyOf(line), { ...line, quantity });
    }
  }

  /** A checkout problem with, for a choice refused, each product named and what to change. */
  explain(problem) {
    if (!problem || !Array.isArray(problem.choices)) return problem;
    const errors = problem.choices.map((c) => `${this.products.get(c.product_id)?.name ?? 'Un produit'} : ${CHOICE_FIELD[c.field] || 'un choix n’est plus possible.'}`);
    return { ...problem, errors };
  }

  // ---- the menu ------------------------------------------------------------

  shown(p) {
    if (this.filters.glutenFree && (p.allergens || []).includes('gluten')) return false;
    if (this.filters.vegetarian && !p.vegetarian) return false;
    return true;
  }

  render() {
    const groups = new Map();
    for (const p of this.products.values()) {
      if (!this.shown(p)) continue;
      if (!groups.has(p.category)) groups.set(p.category, []);
      groups.get(p.category).push(p);
    }
    replace(this.menuRoot, groups.size ? [...groups].map(([category, products]) => [
      el('h2', {}, category),
      el('ul', { class: 'products' }, products.map((p) => this.productCard(p))),
    ]) : el('p', { class: 'muted' }, this.products.size ? 'Aucun produit de la carte ne correspond à ces filtres.' : 'La carte est vide.'));
    this.renderCart();
    this.onChange();
  }

  countOf(id) { return sum([...this.cart.values()].filter((l) => l.product_id === id)); }

  productCard(p) {
    const qty = this.countOf(p.id);
    const max = p.available ? p.max_quantity : 0;
    const choices = this.hasChoices(p);
    let badge = null;
    if (!p.available) badge = el('span', { class: 'badge bad' }, REASON[p.unavailable_reason] || 'Indisponible');
    else if (max <= 5) badge = el('span', { class: 'badge warn' }, `Plus que ${max}`);
    const name = p.name;
    const full = choices ? qty >= max : this.room(this.plain(p)) < 1;
    // The last line of this product is the one "−" takes from.
    const last = [...this.cart].filter(([, l]) => l.product_id === p.id).pop();
    const sizes = p.sizes || [];
    return el('li', { class: `product${p.available ? '' : ' sold-out'}`, dataset: choices ? { product: p.id, choices: 'yes' } : { product: p.id } },
      this.photos ? this.picture(p) : null,
      el('span', { class: 'name' }, name),
      p.description ? el('span', { class: 'muted' }, p.description) : null,
      el('span', { class: 'price' }, euros(p.price_cents)),
      sizes.length > 1 ? el('span', { class: 'muted sizes' }, sizes.map((s) => `${s.label} ${euros(s.price_cents)}`).join(' · ')) : null,
      p.vegetarian ? el('span', { class: 'badge ok veg' }, 'Végétarien') : null,
      el('span', { class: 'muted allergens' }, allergenLine(p.allergens)),
      badge,
      el('div', { class: 'qty' },
        el('button', {
          type: 'button', class: 'secondary minus', 'aria-label': `Retirer une ${name}`,
          disabled: !last, onclick: () => this.setQuantity(last[0], last[1].quantity - 1),
        }, '−'),
        el('output', { 'aria-live': 'polite', 'aria-label': `Quantité de ${name}` }, String(qty)),
        el('button', {
          type: 'button', class: 'plus', 'aria-label': `Ajouter une ${name}`, 'aria-haspopup': choices ? 'dialog' : undefined,
          disabled: full, onclick: () => (choices ? this.openChoices(p) : this.add(this.plain(p))),
        }, '+'),
        full && max > 0 ? el('span', { class: 'muted max' }, 'maximum atteint') : null));
  }

  /**
   * The product's photo at the width the card needs (`srcset`, loaded when
   * it comes near the screen), or a neutral placeholder when it has none or
   * its file does not load: never a broken image. The same element from
   * one drawing of the menu to the next, so a photo is not fetched again.
   */
  picture(p) {
    const photo = p.photo;
    const kept = this.pictures.get(p.id);
    if (kept && kept.dataset.src === (photo?.src || '')) return kept;
    const frame = el('div', { class: photo ? 'photo' : 'photo placeholder', dataset: { src: photo?.src || '' } });
    if (photo) {
      const img = el('img', {
        src: photo.src, srcset: photo.srcset, sizes: PHOTO_SIZES, width: photo.width, height: photo.height,
        alt: '', loading: 'lazy', decoding: 'async',
      });
      img.addEventListener('error', () => { img.remove(); frame.classList.add('placeholder'); }, { once: true });
      frame.append(img);
    }
    this.pictures.set(p.id, frame);
    return frame;
  }

  /** Back on the product's "+" (the menu was drawn again). */
  focusPlus(id) {
    const card = this.menuRoot.querySelector(`li.product[data-product="${id}"]`);
    (card?.querySelector('.plus:not(:disabled)') || card?.querySelector('.minus'))?.focus();
  }

  // ---- the choice panel ------------------------------------------------------

  /** The panel of `p`: its size, the toppings to leave off, extras, a note; adds one. */
  openChoices(p) {
    this.dialog ??= document.body.appendChild(el('dialog', { class: 'choice-panel', 'aria-labelledby': 'choice-title' }));
    const dialog = this.dialog;
    const sizes = p.sizes || [];
    const removable = (p.ingredients || []).filter((i) => i.removable);
    const extras = p.max_extras > 0 ? this.extras : [];
    const open = (code) => this.room(this.plain(p, code)) > 0;
    const first = sizes.find((s) => open(s.code)) || sizes[0];
    const words = el('span', { id: 'choice-words' });
    const price = el('strong', { id: 'choice-price' });
    const allergens = el('span', { id: 'choice-allergens' });
    const limit = `${p.max_extras} supplément${p.max_extras > 1 ? 's' : ''} au plus`;
    const hint = el('p', { class: 'muted', id: 'choice-extras-hint' }, limit);
    const left = el('p', { class: 'warn-text', role: 'status' });
    const add = el('button', { type: 'submit', class: 'big' }, 'Ajouter au panier');
    const form = el('form', { class: 'choice-form' },
      el('h2', { id: 'choice-title' }, p.name),
      p.description ? el('p', { class: 'muted' }, p.description) : null,
      sizes.length > 1 ? el('fieldset', {},
        el('legend', {}, 'Taille'),
        sizes.map((s) => el('label', { class: 'choice' },
          el('input', { type: 'radio', name: 'size', value: s.code, checked: s === first, disabled: !open(s.code) }),
          `${s.label} — ${euros(s.price_cents)}${open(s.code) ? '' : ' (épuisée)'}`))) : null,
      removable.length ? el('fieldset', {},
        el('legend', {}, 'Retirer des ingrédients'),
        removable.map((i) => el('label', { class: 'choice' },
          el('input', { type: 'checkbox', name: 'remove', value: i.id }), `Sans ${i.name}`))) : null,
      extras.length ? el('fieldset', { 'aria-describedby': 'choice-extras-hint' },
        el('legend', {}, 'Suppléments'),
        hint,
        extras.map((x) => el('label', { class: 'choice' },
          el('input', { type: 'checkbox', name: 'extra', value: x.ingredient_id, dataset: this.extraLeft(x.ingredient_id) > 0 ? {} : { out: 'yes' } }),
          `+ ${x.name} (+${euros(x.price_cents)})${this.extraLeft(x.ingredient_id) > 0 ? '' : ' — épuisé'}`))) : null,
      el('label', { for: 'choice-note' }, 'Une remarque pour la cuisine ?'),
      el('input', { id: 'choice-note', name: 'note', maxlength: 140, autocomplete: 'off', placeholder: 'bien cuite, peu de sauce…' }),
      el('p', { class: 'choice-summary', 'aria-live': 'polite' }, words, el('br'), 'Prix : ', price, el('br'), allergens),
      left,
      el('div', { class: 'row' }, add,
        el('button', { type: 'button', class: 'secondary', onclick: () => dialog.close() }, 'Annuler')));

    const checked = (name) => [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((b) => Number(b.value));
    const read = () => ({
      product_id: p.id,
      size: sizes.length ? (form.querySelector('input[name="size"]:checked')?.value ?? first?.code) : null,
      remove: ids(checked('remove')),
      extras: ids(checked('extra')),
      note: form.elements.note.value.trim(),
      quantity: 1,
    });
    const refresh = () => {
      const line = read();
      for (const box of form.querySelectorAll('input[name="extra"]')) {
        const id = Number(box.value);
        // An ingredient is either left off or added, never both; no more than max_extras.
        box.disabled = !box.checked && (box.dataset.out === 'yes' || line.remove.includes(id) || line.extras.length >= p.max_extras);
      }
      for (const box of form.querySelectorAll('input[name="remove"]')) box.disabled = line.extras.includes(Number(box.value));
      hint.textContent = line.extras.length >= p.max_extras ? `${limit} : retirez-en un pour en choisir un autre.` : `${limit}.`;
      const seen = this.describe(line);
      words.textContent = seen.words || p.name;
      price.textContent = euros(seen.unit);
      allergens.textContent = allergenLine(seen.allergens);
      const room = this.room(line);
      add.disabled = room < 1;
      left.textContent = room < 1 ? 'Plus disponible avec ces choix : changez la taille ou les suppléments.' : '';
    };
    form.addEventListener('change', refresh);
    form.addEventListener('input', refresh);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const line = read();
      if (this.room(line) < 1) return;
      dialog.close();
      this.add(line);
      this.focusPlus(p.id);
    });
    replace(dialog, form);
    refresh();
    dialog.showModal();
  }

  // ---- the cart ----------------------------------------------------------------

  renderCart() {
    if (!this.cartRoot) return;
    const items = [...this.cart].filter(([, l]) => this.products.has(l.product_id)).map(([key, l]) => this.cartLine(key, l));
    replace(this.cartRoot,
      items.length ? el('ul', { class: 'cart-lines' }, items) : el('p', { class: 'muted' }, 'Votre panier est vide.'),
      el('div', { class: 'total' }, el('span', {}, 'Produits'), el('span', { id: 'subtotal' }, euros(this.subtotal()))));
  }

  /** A line: what it is, its choices and note, its prices and allergens, and − / +. */
  cartLine(key, line) {
    const { product: p, unit, allergens, words } = this.describe(line);
    const what = words ? `${p.name} (${words})` : p.name;
    return el('li', { class: 'cart-line', dataset: { product: p.id } },
      el('div', { class: 'line-main' },
        el('span', { class: 'line-name' }, `${line.quantity} × ${p.name}`),
        el('span', { class: 'line-total' }, euros(unit * line.quantity))),
      words ? el('span', { class: 'choices' }, words) : null,
      line.note ? el('span', { class: 'line-note' }, `Remarque : « ${line.note} »`) : null,
      el('span', { class: 'muted line-unit' }, `${euros(unit)} l’unité`),
      el('span', { class: 'muted allergens' }, allergenLine(allergens)),
      el('div', { class: 'qty' },
        el('button', {
          type: 'button', class: 'secondary minus', 'aria-label': `Une de moins : ${what}`,
          onclick: () => this.setQuantity(key, line.quantity - 1),
        }, '−'),
        el('output', { 'aria-label': `Nombre : ${what}` }, String(line.quantity)),
        el('button', {
          type: 'button', class: 'plus', 'aria-label': `Une de plus : ${what}`,
          disabled: this.room(line) < 1, onclick: () => this.setQuantity(key, line.quantity + 1),
        }, '+')));
  }
}
