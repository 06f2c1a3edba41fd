// The customer's shop: choose a pizzeria (or find the one that delivers an
// address), fill the cart from the live menu, choose pickup or delivery,
// pay by card (Stripe.js) or in cash, then go to the tracker.

import {
  $, api, config, el, euros, frame, loadStripe, newKey, onSubmit, payByCard, problemBox, rememberOrder, replace, session, showProblem, trackUrl,
} from './common.js';
import { OrderForm } from './order-form.js';

frame();
const me = session();
const form = new OrderForm({ menuRoot: $('#menu'), cartRoot: $('#cart'), onChange: update });
const place = $('#place');
const orderForm = $('#order');
let pizzerias = [];
let idempotencyKey = newKey();
let pending = null; // a card order created but not paid yet
let card = null;
let stripe = null;

const fulfilment = () => orderForm.elements.fulfilment.value;
const payment = () => orderForm.elements.payment.value;

if (me && me.user.role === 'customer') {
  $('#contact').hidden = true;
}

async function start() {
  const r = await api('menu', '/pizzerias', { token: null });
  if (!r.ok) { showProblem($('#menu'), r.problem); return; }
  pizzerias = r.data.pizzerias.filter((p) => p.accepting_orders || p.status === 'open');
  const select = $('#pizzeria');
  replace(select, pizzerias.map((p) => el('option', { value: p.id }, `${p.name}${p.open_now ? '' : ' (fermée)'}`)));
  const wanted = Number(new URLSearchParams(location.search).get('pizzeria')) || Number(localStorage.getItem('ocpizza.pizzeria'));
  if (pizzerias.some((p) => p.id === wanted)) select.value = String(wanted);
  select.addEventListener('change', () => choose(Number(select.value)));
  await choose(Number(select.value));
  setupCard();
  // The availability moves with everyone's orders: refreshed every 30 s (a 304 when unchanged).
  setInterval(() => { if (!document.hidden && form.pizzeria) form.load(form.pizzeria.id); }, 30000);
}

async function choose(id) {
  localStorage.setItem('ocpizza.pizzeria', String(id));
  const p = pizzerias.find((x) => x.id === id);
  $('#pizzeria-info').textContent = p ? `${p.address?.line1 ?? ''} ${p.address?.city ?? ''}`.trim() : '';
  const r = await form.load(id);
  if (!r.ok && r.status !== 304) showProblem($('#menu'), r.problem);
}

onSubmit($('#find'), async () => {
  const address = $('#find-address').value.trim();
  const out = $('#find-result');
  if (!address) { showProblem(out, { title: 'Adresse manquante', detail: 'Tapez votre adresse.' }); return; }
  const r = await api('geocode', `/geocode?address=${encodeURIComponent(address)}`, { token: null });
  if (!r.ok) { showProblem(out, r.problem); return; }
  const g = r.data;
  if (g.delivers && g.pizzeria) {
    replace(out, el('p', { class: 'success' },
      `${g.pizzeria.name} vous livre (${(g.distance_m / 1000).toFixed(1).replace('.', ',')} km) : frais ${euros(g.delivery_fee_cents)}, minimum ${euros(g.min_order_cents)}.`));
    $('#pizzeria').value = String(g.pizzeria.id);
    orderForm.elements.fulfilment.value = 'delivery';
    fillAddress(g.formatted_address || address);
    await choose(g.pizzeria.id);
  } else {
    const near = g.pickup?.pizzeria;
    replace(out, el('p', { class: 'problem' },
      'Aucune pizzeria ne livre encore cette adresse.',
      near ? ` La plus proche pour un retrait : ${near.name}.` : ''));
    if (near) { $('#pizzeria').value = String(near.id); orderForm.elements.fulfilment.value = 'pickup'; await choose(near.id); }
  }
  update();
});

function fillAddress(text) {
  // "12 Rue de la Paix, 75002 Paris, France" → line, postcode, city
  const m = text.match(/^(.*?),\s*(\d{5})\s+([^,]+)/);
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
  $('#address').hidden = !delivery;
  $('#card-box').hidden = payment() !== 'card';
  $('#cash-label').textContent = delivery ? 'Espèces à la livraison' : 'Espèces au retrait';
  const p = form.pizzeria;
  const fee = $('#delivery-fee');
  if (delivery && p?.delivery) {
    fee.hidden = false;
    fee.textContent = `Livraison : ${euros(p.delivery.fee_cents ?? p.delivery.delivery_fee_cents)}, minimum de commande ${euros(p.delivery.min_order_cents)}.`;
  } else fee.hidden = true;
  const count = form.lines().reduce((n, l) => n + l.quantity, 0);
  place.disabled = count === 0 && !pending;
  place.textContent = pending ? 'Payer' : count === 0 ? 'Commander' : `Commander (${euros(form.subtotal())})`;
  // A changed cart is a new order: a new idempotency key.
  const signature = JSON.stringify([form.pizzeria?.id, form.lines(), fulfilment(), payment()]);
  if (update.last !== undefined && update.last !== signature && !pending) idempotencyKey = newKey();
  update.last = signature;
}
orderForm.addEventListener('change', update);

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
      if (body.fulfilment === 'delivery') {
        body.address = { line1: $('#line1').value.trim(), postcode: $('#postcode').value.trim(), city: $('#city').value.trim() };
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
      if (!r.ok) { replace(out, problemBox(r.problem)); return; }
      const order = r.data.order;
      rememberOrder(order);
      if (body.payment_method !== 'card') { location.href = trackUrl(order); return; }
      pending = { id: order.id, token: order.tracking_token, clientSecret: r.data.payment?.client_secret, order };
    }
    if (!card) { replace(out, problemBox({ title: 'Paiement par carte indisponible' })); return; }
    place.textContent = 'Paiement en cours…';
    const paid = await payByCard(stripe, card, pending);
    if (!paid.ok) {
      replace(out, problemBox(paid.problem), el('p', { class: 'muted' }, 'Votre commande vous attend : corrigez la carte puis payez.'));
      return;
    }
    location.href = trackUrl(pending.order);
  } finally {
    update();
    if (!place.textContent.startsWith('Paiement')) place.disabled = form.lines().length === 0 && !pending;
  }
});

start();
