// The customer's shop: choose a pizzeria (or find the one that delivers an
// address), fill the cart from the live menu, choose pickup or delivery,
// pay by card (Stripe.js) or in cash, then go to the tracker.

import {
  $, api, dayOf, el, euros, frame, loadStripe, newKey, onSubmit, opensText, payByCard, problemBox, rememberOrder, replace, session, showProblem, time, trackUrl,
} from './common.js';
import { OrderForm, allergensText, sortAllergens } from './order-form.js';

frame();
const me = session();
const form = new OrderForm({ menuRoot: $('#menu'), cartRoot: $('#cart'), onChange: update, photos: true });
const place = $('#place');
const orderForm = $('#order');
let pizzerias = [];
let idempotencyKey = newKey();
let pending = null; // a card order created but not paid yet
let card = null;
let stripe = null;

const fulfilment = () => orderForm.elements.fulfilment.value;
const payment = () => orderForm.elements.payment.value;
const later = () => orderForm.elements.when.value === 'later';
/** For the courier: door code, floor, intercom (a delivery only). */
const instructions = () => (fulfilment() === 'delivery' ? $('#delivery-instructions').value.trim() : '');
/** The pre-order's slot chosen, if any. */
const slot = () => (times && later() && $('#slot').value) || null;
let times = null; // GET /pizzerias/{id}/times: the promise and the slots

if (me && me.user.role === 'customer') {
  $('#contact').hidden = true;
  offerSavedAddresses();
}

/** The address chosen from the customer's book, if any (its id is sent, not the fields). */
const savedAddress = () => (fulfilment() === 'delivery' && Number($('#saved-address').value)) || null;

/** A signed-in customer's address book, to deliver to one of them in one choice. */
async function offerSavedAddresses() {
  const r = await api('accounts', '/me/addresses');
  if (!r.ok || !r.data.addresses.length) return;
  const book = r.data.addresses;
  const select = $('#saved-address');
  replace(select,
    book.map((a) => el('option', { value: a.id }, `${a.label} — ${a.line1}, ${a.postcode} ${a.city}`)),
    el('option', { value: '' }, 'Une autre adresse…'));
  const fill = () => {
    const chosen = book.find((a) => a.id === Number(select.value));
    for (const id of ['line1', 'postcode', 'city']) {
      $(`#${id}`).value = chosen ? chosen[id] : '';
      $(`#${id}`).readOnly = Boolean(chosen);
    }
  };
  select.addEventListener('change', fill);
  $('#saved-box').hidden = false;
  fill();
}

/** "Sans gluten", "Végétarien": what the menu shows (as ticked, even after a reload). */
const filters = () => ({ glutenFree: $('#filter-gluten').checked, vegetarian: $('#filter-vegetarian').checked });
$('#filters').addEventListener('change', () => form.setFilters(filters()));

async function start() {
  form.filters = filters();
  const r = await api('menu', '/pizzerias', { token: null });
  if (!r.ok) { showProblem($('#menu'), r.problem); return; }
  pizzerias = r.data.pizzerias.filter((p) => p.accepting_orders || p.status === 'open');
  const select = $('#pizzeria');
  replace(select, pizzerias.map((p) => el('option', { value: p.id }, `${p.name}${p.open_now ? '' : ' (fermée)'}`)));
  const wanted = Number(new URLSearchParams(location.search).get('pizzeria')) || Number(localStorage.getItem('ocpizza.pizzeria'));
  // What was asked for (a link, the last visit); else the first open one.
  const first = pizzerias.find((p) => p.id === wanted) || pizzerias.find((p) => p.open_now);
  if (first) select.value = String(first.id);
  select.addEventListener('change', () => choose(Number(select.value)));
  await choose(Number(select.value));
  setupCard();
  // The availability moves with everyone's orders: refreshed every 30 s (a 304 when unchanged).
  // The pause and the hours come with it.
  setInterval(async () => {
    if (document.hidden || !form.pizzeria) return;
    await form.load(form.pizzeria.id);
    showInfo(form.pizzeria);
    await loadTimes(form.pizzeria.id);
    update();
  }, 30000);
}

async function choose(id) {
  localStorage.setItem('ocpizza.pizzeria', String(id));
  showInfo(pizzerias.find((x) => x.id === id));
  const r = await form.load(id);
  if (!r.ok && r.status !== 304) showProblem($('#menu'), r.problem);
  // The menu's copy is the fresher one (a pause set a moment ago).
  if (form.pizzeria?.id === id) showInfo(form.pizzeria);
  await loadTimes(id);
  update();
}

/** The promise for an order now and the slots for later, from the kitchen's queue. */
async function loadTimes(id) {
  const r = await api('menu', `/pizzerias/${id}/times`, { token: null });
  times = r.ok ? r.data : null;
  fillSlots();
}

/**
 * The slots a customer can choose, by day: for a delivery, those late
 * enough for the ride; a full one shown but not choosable. The choice made
 * stays chosen when the list is refreshed.
 */
function fillSlots() {
  const box = $('#when');
  box.hidden = !times;
  if (!times) return;
  const delivery = fulfilment() === 'delivery';
  const slots = times.slots.filter((s) => !delivery || s.delivery);
  const list = $('#slot');
  const chosen = list.value;
  const days = new Map();
  for (const s of slots) {
    const day = dayOf(s.at);
    if (!days.has(day)) days.set(day, []);
    days.get(day).push(el('option', { value: s.at, disabled: s.full }, `${time(s.at)}${s.full ? ' (complet)' : ''}`));
  }
  replace(list, el('option', { value: '' }, 'Choisissez un horaire'),
    [...days].map(([day, options]) => el('optgroup', { label: day }, options)));
  const open = slots.filter((s) => !s.full);
  // The customer's choice stays; one that is no longer free is not swapped
  // for another time behind their back: they choose again.
  fillSlots.lost = Boolean(chosen) && !open.some((s) => s.at === chosen);
  list.value = fillSlots.lost ? '' : chosen || open[0]?.at || '';
  const asap = orderForm.querySelector('input[name=when][value=now]');
  const scheduled = orderForm.querySelector('input[name=when][value=later]');
  // Closed now: only a pre-order, if there are slots.
  asap.disabled = !times.open_now;
  scheduled.disabled = open.length === 0;
  if (asap.disabled && !scheduled.disabled) scheduled.checked = true;
}

/** "Prête vers 19:40" before ordering, or the chosen slot in words. */
function showPromise() {
  if (!times) return;
  const delivery = fulfilment() === 'delivery';
  const soon = delivery ? `livrée vers ${time(times.delivered_at)}` : `prête vers ${time(times.ready_at)}`;
  $('#when-now').textContent = times.open_now ? `Dès que possible (${soon})` : 'Dès que possible (fermée en ce moment)';
  $('#slot-box').hidden = !later();
  const at = slot();
  $('#promise').textContent = at
    ? `${delivery ? 'Livrée' : 'À retirer'} le ${dayOf(at)} ${delivery ? 'vers' : 'à'} ${time(at)}.`
    : later() ? (fillSlots.lost ? 'L’horaire choisi n’est plus disponible : choisissez-en un autre.' : 'Choisissez un horaire.')
      : times.open_now ? `Votre commande sera ${soon}.` : '';
}

/** Today in Paris, as YYYY-MM-DD (what special days are keyed by). */
const parisToday = () => new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris' }).format(new Date());

/** Where the pizzeria is, whether it is open, today's special day, its pause. */
function showInfo(p) {
  if (!p) { $('#pizzeria-info').textContent = ''; return; }
  const where = `${p.address?.line1 ?? ''} ${p.address?.city ?? ''}`.trim();
  const today = (p.special_days || []).find((d) => d.date === parisToday());
  const special = today ? (today.periods.length ? ` Horaires spéciaux aujourd'hui${today.note ? ` (${today.note})` : ''}.` : ` Fermeture exceptionnelle aujourd'hui${today.note ? ` : ${today.note}` : ''}.`) : '';
  const state = p.open_now ? '' : ` — fermée en ce moment.${opensText(p.next_opening_at ?? p.opens_at)}`;
  $('#pizzeria-info').textContent = `${where}${state}${special}`;
  const note = $('#pause-note');
  note.hidden = !p.pause;
  if (p.pause) {
    const what = p.pause.scope === 'delivery'
      ? 'Livraisons en ligne en pause (le retrait reste possible)'
      : 'Commandes en ligne en pause';
    note.textContent = `${what} jusqu'à ${time(p.pause.until)}.${p.pause.message ? ` « ${p.pause.message} »` : ''}`;
  }
}

/** Does the pizzeria's pause stop this order (its fulfilment)? */
const paused = () => {
  const pause = form.pizzeria?.pause;
  // A pre-order for after the pause goes through.
  const after = slot() && new Date(slot()) >= new Date(pause?.until);
  return Boolean(pause) && !after && (pause.scope === 'all' || fulfilment() === 'delivery');
};

onSubmit($('#find'), async () => {
  const address = $('#find-address').value.trim();
  const out = $('#find-result');
  if (!address) { showProblem(out, { title: 'Adresse manquante', detail: 'Tapez votre adresse.' }); return; }
  const r = await api('geocode', `/geocode?address=${encodeURIComponent(address)}`, { token: null });
  if (!r.ok) { showProblem(out, r.problem); return; }
  const g = r.data;
  const km = (m) => `${(m / 1000).toFixed(1).replace('.', ',')} km`;
  // Pizzerias that would deliver but are closed now: named, with when they open.
  const closed = (g.closed || []).map((c) => el('li', { class: 'closed-pizzeria' }, c.pause
    ? `${c.name} (${km(c.distance_m)}) ne prend plus de livraisons en ligne jusqu'à ${time(c.pause.until)}.`
    : `${c.name} (${km(c.distance_m)}) est fermée en ce moment.${opensText(c.opens_at)}`));
  const closedList = closed.length ? el('ul', { class: 'muted closed-list' }, closed) : null;
  if (g.delivers && g.pizzeria) {
    replace(out, el('p', { class: 'success' },
      `${g.pizzeria.name} vous livre (${km(g.distance_m)}) : frais ${euros(g.delivery_fee_cents)}, minimum ${euros(g.min_order_cents)}.`), closedList);
    select(g.pizzeria);
    orderForm.elements.fulfilment.value = 'delivery';
    fillAddress(g.formatted_address || address);
    await choose(g.pizzeria.id);
  } else {
    const near = g.pickup?.pizzeria;
    replace(out, el('p', { class: 'problem' },
      closed.length ? 'Aucune pizzeria ouverte ne livre cette adresse en ce moment.' : 'Aucune pizzeria ne livre encore cette adresse.',
      near ? ` La plus proche ouverte, pour un retrait : ${near.name}.` : ''), closedList);
    if (near) { select(near); orderForm.elements.fulfilment.value = 'pickup'; await choose(near.id); }
  }
  update();
});

/** Makes `p` the chosen pizzeria of the list (adding it if the list lacked it). */
function select(p) {
  const list = $('#pizzeria');
  if (!pizzerias.some((x) => x.id === p.id)) {
    pizzerias.push(p);
    list.append(el('option', { value: p.id }, p.name));
  }
  list.value = String(p.id);
}

function fillAddress(text) {
  // "12 Rue de la Paix, 75002 Paris, France" → line, postcode, city
  const m = text.match(/^(.*?),\s*(\d{5})\s+([^,]+)/);
  // A found address is typed in: the book's choice steps aside.
  const saved = $('#saved-address');
  if (saved.value) { saved.value = ''; saved.dispatchEvent(new Event('change')); }
  if (m) { $('#line1').value = m[1]; $('#postcode').value = m[2]; $('#city').value = m[3]; }
  else $('#line1').value = text;
}

async function setupCard() {
  try {
    stripe = await loadStripe();
    card = stripe.elements().create('card');
    card.mount('#card-element');
  } catch {
    replace($('#card-element'), el('p', { class: 'problem' }, 'Le paiement par carte est indisponible ; vous pouvez payer en espèces.'));
  }
}

function update() {
  const delivery = fulfilment() === 'delivery';
  showPromise();
  $('#address').hidden = !delivery;
  $('#card-box').hidden = payment() !== 'card';
  $('#cash-label').textContent = delivery ? 'Espèces à la livraison' : 'Espèces au retrait';
  const p = form.pizzeria;
  const fee = $('#delivery-fee');
  if (delivery && p?.delivery) {
    fee.hidden = false;
    fee.textContent = `Livraison : ${euros(p.delivery.delivery_fee_cents)}, minimum de commande ${euros(p.delivery.min_order_cents)}.`;
  } else fee.hidden = true;
  const count = form.lines().reduce((n, l) => n + l.quantity, 0);
  // What will be charged: the products and, for a delivery, its fee (once
  // the order exists, its own total, as the server priced it).
  const fees = delivery && p?.delivery ? (p.delivery.delivery_fee_cents ?? 0) : 0;
  const total = pending ? pending.order.total_cents : form.subtotal() + fees;
  const stopped = paused() && !pending;
  // For later, a time must be chosen first.
  const noTime = later() && !slot() && !pending;
  place.disabled = (count === 0 && !pending) || stopped || noTime;
  place.textContent = pending ? `Payer ${euros(total)}` : stopped ? 'Commandes en pause' : count === 0 ? 'Commander' : `Commander (${euros(total)})`;
  $('#cart-fee').hidden = !fees;
  $('#cart-fee-amount').textContent = euros(fees);
  $('#cart-total').textContent = euros(form.subtotal() + fees);
  // The summary that stays on screen on a phone.
  $('#cart-bar').hidden = count === 0;
  $('#cart-bar-text').textContent = `${count} article${count > 1 ? 's' : ''} · ${euros(form.subtotal() + fees)}`;
  showAllergens(count);
  // A changed cart is a new order: a new idempotency key.
  const signature = JSON.stringify([form.pizzeria?.id, form.lines(), fulfilment(), payment(), slot(), instructions()]);
  if (update.last !== undefined && update.last !== signature && !pending) idempotencyKey = newKey();
  update.last = signature;
}
/**
 * Every allergen of the order, before paying: as the server counted them
 * once the order exists, as the cart works them out before.
 */
function showAllergens(count) {
  const box = $('#order-allergens');
  const told = pending?.order?.lines;
  const codes = told && told.every((l) => Array.isArray(l.allergens))
    ? sortAllergens(told.flatMap((l) => l.allergens))
    : form.allergens();
  box.hidden = count === 0 && !pending;
  box.textContent = `Allergènes de votre commande : ${allergensText(codes) || 'aucun déclaré'}`;
}

orderForm.addEventListener('change', (e) => {
  if (e.target.name === 'fulfilment') fillSlots();
  update();
});

// Back to the shop after paying (the browser restores the page as it was,
// "Payer" and all): the order is looked at again, and a paid one is no
// longer offered for payment.
window.addEventListener('pageshow', async (e) => {
  if (!e.persisted || !pending) return;
  const r = await api('orders', `/orders/${pending.id}?token=${encodeURIComponent(pending.token)}`, { token: null });
  const o = r.ok ? r.data.order : null;
  if (o && o.status === 'pending_payment' && o.payment.balance_cents > 0) return; // still to pay
  const done = pending.order;
  pending = null;
  idempotencyKey = newKey();
  form.clear();
  replace($('#order-problem'), el('p', { class: 'success' },
    `Votre commande n° ${done.number} est ${o?.status === 'cancelled' ? 'annulée' : 'payée'}. `,
    el('a', { href: trackUrl(done) }, 'Suivre la commande')));
  update();
});

// ---- finding one's way on a phone ------------------------------------------

/** The categories as links that jump to each (buttons: <base href> would send a bare #anchor to the site root). */
function categoryNav() {
  const headings = [...$('#menu').querySelectorAll('h2')];
  replace($('#categories'), headings.map((h, i) => {
    h.id = `category-${i}`;
    h.tabIndex = -1;
    return el('li', {}, el('button', {
      type: 'button', class: 'secondary',
      onclick: () => { h.scrollIntoView({ block: 'start' }); h.focus({ preventScroll: true }); },
    }, h.textContent));
  }));
}
new MutationObserver(categoryNav).observe($('#menu'), { childList: true });
$('#cart-bar-open').addEventListener('click', () => {
  $('#cart-title').scrollIntoView({ block: 'start' });
  $('#cart-title').focus({ preventScroll: true });
});

orderForm.addEventListener('submit', async (e) => {
  e.preventDefault();
  const out = $('#order-problem');
  replace(out);
  place.disabled = true;
  try {
    if (!pending) {
      const body = {
        pizzeria_id: form.pizzeria.id,
        fulfilment: fulfilment(),
        payment_method: payment(),
        lines: form.lines(),
      };
      if (slot()) body.slot_at = slot();
      if (body.fulfilment === 'delivery') {
        if (savedAddress()) body.address_id = savedAddress();
        else body.address = { line1: $('#line1').value.trim(), postcode: $('#postcode').value.trim(), city: $('#city').value.trim() };
        if (instructions()) body.delivery_instructions = instructions();
      }
      if (!(me && me.user.role === 'customer')) {
        body.contact = { name: $('#name').value.trim(), phone: $('#phone').value.trim() };
        const email = $('#email').value.trim();
        if (email) body.contact.email = email;
      }
      const r = await api('checkout', '/orders', { method: 'POST', body, idempotencyKey, token: me?.user.role === 'customer' ? me.token : null });
      if (r.status === 409 && r.data === undefined && r.problem?.products) {
        form.applyShortage(r.problem);
        replace(out, problemBox({ title: 'Stock insuffisant', detail: 'Nous avons ajusté votre panier à ce qui reste. Vérifiez-le puis recommandez.' }));
        idempotencyKey = newKey();
        return;
      }
      if (!r.ok) { replace(out, problemBox(form.explain(r.problem))); return; }
      const order = r.data.order;
      rememberOrder(order);
      if (body.payment_method !== 'card') { location.href = trackUrl(order); return; }
      pending = { id: order.id, token: order.tracking_token, clientSecret: r.data.payment?.client_secret, order };
    }
    if (!card) {
      replace(out, problemBox({ title: 'Paiement par carte indisponible', detail: 'Votre commande vous attend : payez-la depuis son suivi dans un instant.' }),
        el('p', {}, el('a', { href: trackUrl(pending.order) }, 'Suivre et payer la commande')));
      return;
    }
    place.textContent = 'Paiement en cours…';
    const paid = await payByCard(stripe, card, pending);
    if (!paid.ok && paid.status === 409 && /nothing-to-pay/.test(paid.problem?.type || '')) {
      location.href = trackUrl(pending.order); // paid already (from another tab, or before going back)
      return;
    }
    if (!paid.ok) {
      replace(out, problemBox(paid.problem),
        el('p', { class: 'muted' }, 'Votre commande vous attend : corrigez la carte ou essayez-en une autre, puis payez. ',
          el('a', { href: trackUrl(pending.order) }, 'Voir la commande')));
      return;
    }
    location.href = `${trackUrl(pending.order)}&paid=1`;
  } finally {
    update();
    if (!place.textContent.startsWith('Paiement')) place.disabled = form.lines().length === 0 && !pending;
  }
});

start();
