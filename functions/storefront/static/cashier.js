// The cashier's screen: phone and counter orders through the same checkout
// as the web, the caller's customer account found by phone number and picked
// by the cashier (an order belongs to an account only then: anyone can sign
// up with someone else's number), a caller's past orders by phone number,
// and the ready pickup orders to hand over (taking the payment when it is due).

import {
  $, STATUS, api, el, euros, frame, newKey, phoneFr, poll, problemBox, replace, requireStaff, showProblem, staffPizzeria,
} from './common.js';
import { OrderForm } from './order-form.js';

frame();
const me = requireStaff(['cashier', 'manager', 'admin']);
const pizzeria = me ? await staffPizzeria(me) : null;
const orderForm = $('#order');
const place = $('#place');
const form = new OrderForm({ menuRoot: $('#menu'), cartRoot: $('#cart'), onChange: update });
let key = newKey();
let pickupsEtag = null;
/** The customer account the cashier picked for this order ({id, name, email, phone}), or null. */
let customer = null;
let searches = 0; // the latest lookup wins: an older answer arriving late is dropped
let lookups = 0;
const CHANNEL = { web: 'En ligne', phone: 'Téléphone', counter: 'Comptoir' };

// A delivery's door code, floor, intercom, for the courier.
$('#address').append(
  el('label', { for: 'delivery-instructions' }, 'Instructions pour le livreur (code, étage, interphone)'),
  el('input', { id: 'delivery-instructions', name: 'delivery_instructions', maxlength: 200, autocomplete: 'off' }));

function update() {
  $('#address').hidden = orderForm.elements.fulfilment.value !== 'delivery';
  const count = form.lines().reduce((n, l) => n + l.quantity, 0);
  place.disabled = count === 0;
  place.textContent = count ? `Enregistrer la commande (${euros(form.subtotal())})` : 'Enregistrer la commande';
}
orderForm.addEventListener('change', update);

// ---- the caller ------------------------------------------------------------

const phoneInput = $('#phone');
const found = $('#customers');
const digitsOf = (phone) => phone.replace(/\D/g, '');

/** The caller's past orders here, by the phone number as typed (or as picked). */
async function showHistory() {
  const phone = phoneInput.value.trim();
  const out = $('#history');
  const mine = ++lookups;
  if (digitsOf(phone).length < 6) { out.textContent = ''; return; }
  const r = await api('orders', `/orders?phone=${encodeURIComponent(phone)}&pizzeria_id=${pizzeria}`);
  if (mine !== lookups) return;
  if (!r.ok) { out.textContent = ''; return; }
  const past = r.data?.orders || [];
  if (!past.length) { out.textContent = 'Aucune commande passée avec ce numéro.'; return; }
  const last = past[0];
  out.textContent = `${past.length} commande(s) passée(s) avec ce numéro, la dernière n° ${last.number} (${euros(last.total_cents)}).`;
  if (!$('#name').value.trim() && last.contact?.name) $('#name').value = last.contact.name;
}

/** Who the order will belong to, as the cashier reads it once they chose. */
function showChoice() {
  if (customer) {
    replace(found, el('p', { class: 'success' },
      `Commande au compte de ${customer.name} (${customer.email}).`),
    el('button', { type: 'button', class: 'secondary', onclick: () => pick(null) }, 'Client sans compte'));
  } else {
    replace(found, el('p', { class: 'muted' }, 'Commande sans compte client.'));
  }
}

/** The cashier's choice: an account found by the number, or none. */
function pick(account) {
  customer = account;
  if (account) {
    $('#name').value = account.name;
    if (account.phone) phoneInput.value = phoneFr(account.phone);
    showHistory();
  }
  showChoice();
}

/** "Rechercher le client": the customer accounts with the number typed. */
async function findCustomer() {
  const phone = phoneInput.value.trim();
  const mine = ++searches;
  customer = null;
  if (digitsOf(phone).length < 9) {
    replace(found, el('p', { class: 'problem', role: 'alert' }, 'Saisissez le numéro complet du client (au moins 9 chiffres).'));
    return;
  }
  replace(found, el('p', { class: 'muted' }, 'Recherche…'));
  const r = await api('checkout', `/customers?phone=${encodeURIComponent(phone)}`);
  if (mine !== searches) return;
  if (!r.ok) {
    replace(found, r.status === 422
      ? el('p', { class: 'problem', role: 'alert' }, 'Saisissez le numéro complet du client (au moins 9 chiffres).')
      : problemBox(r.problem));
    return;
  }
  const accounts = r.data?.customers || [];
  const none = el('button', { type: 'button', class: 'secondary', onclick: () => pick(null) }, 'Client sans compte');
  if (!accounts.length) {
    replace(found, el('p', { class: 'muted' }, 'Aucun compte client avec ce numéro.'), none);
    return;
  }
  replace(found,
    el('p', {}, accounts.length === 1
      ? 'Un compte client avec ce numéro : vérifiez avec l’appelant.'
      : `${accounts.length} comptes clients avec ce numéro : vérifiez avec l’appelant.`),
    el('ul', { class: 'customers' }, accounts.map((a) => el('li', { class: 'customer', dataset: { customer: a.id } },
      el('strong', { class: 'name' }, a.name),
      el('span', { class: 'email' }, a.email),
      a.phone ? el('span', { class: 'phone' }, phoneFr(a.phone)) : null,
      el('button', {
        type: 'button', 'aria-label': `C'est ce client : ${a.name}, ${a.email}`, onclick: () => pick(a),
      }, "C'est ce client")))),
    none);
}

$('#find-customer').addEventListener('click', findCustomer);
phoneInput.addEventListener('keydown', (e) => {
  // Enter in the phone field looks the caller up; it does not place the order.
  if (e.key === 'Enter') { e.preventDefault(); findCustomer(); }
});
phoneInput.addEventListener('input', () => {
  // Another number: the account found for the previous one no longer applies.
  searches += 1;
  if (customer || found.childNodes.length) {
    customer = null;
    replace(found);
  }
});
phoneInput.addEventListener('change', showHistory);

orderForm.addEventListener('submit', async (e) => {
  e.preventDefault();
  const out = $('#order-problem');
  replace(out);
  const body = {
    pizzeria_id: pizzeria,
    channel: orderForm.elements.channel.value,
    fulfilment: orderForm.elements.fulfilment.value,
    payment_method: orderForm.elements.payment.value,
    lines: form.lines(),
    contact: { name: $('#name').value.trim(), phone: phoneInput.value.trim() },
  };
  // The order belongs to an account only when the cashier picked one.
  if (customer) body.customer_id = customer.id;
  if (body.fulfilment === 'delivery') {
    body.address = { line1: $('#line1').value.trim(), postcode: $('#postcode').value.trim(), city: $('#city').value.trim() };
    const instructions = $('#delivery-instructions').value.trim();
    if (instructions) body.delivery_instructions = instructions;
  }
  place.disabled = true;
  const r = await api('checkout', '/orders', { method: 'POST', body, idempotencyKey: key });
  if (r.status === 409 && r.problem?.products) {
    form.applyShortage(r.problem);
    key = newKey();
    replace(out, problemBox(r.problem));
    return;
  }
  if (!r.ok) { replace(out, problemBox(form.explain(r.problem))); update(); return; }
  const o = r.data.order;
  const owner = customer ? `au compte de ${customer.name}` : 'sans compte client';
  replace(out, el('p', { class: 'success', role: 'status', dataset: { order: o.id } },
    `Commande n° ${o.number} enregistrée ${owner} : ${euros(o.total_cents)}.`), callOff(o));
  key = newKey();
  form.clear();
  for (const id of ['phone', 'name', 'line1', 'postcode', 'city', 'delivery-instructions']) $(`#${id}`).value = '';
  customer = null;
  searches += 1;
  lookups += 1;
  replace(found);
  $('#history').textContent = '';
  await form.load(pizzeria);
  update();
});

/**
 * The phone order just taken, called off (the caller changed their mind, a
 * duplicate): cancelled before the kitchen starts, voided after. A cashier
 * may do it for a phone order they took.
 */
function callOff(o) {
  const why = el('input', { id: `void-${o.id}`, maxlength: 150 });
  const out = el('div', { 'aria-live': 'assertive' });
  return el('details', { class: 'call-off' },
    el('summary', {}, `Annuler la commande n° ${o.number}`),
    el('p', {}, el('label', { for: why.id }, 'Raison '), why, ' ',
      el('button', {
        type: 'button', class: 'void-order',
        onclick: async () => {
          const r = await api('orders', `/orders/${o.id}/void`, { method: 'POST', body: { reason: why.value } });
          replace(out, r.ok
            ? el('p', { class: 'success' }, `Commande n° ${o.number} : ${STATUS[r.data.order.status] || r.data.order.status}.`)
            : problemBox(r.problem));
        },
      }, 'Annuler la commande')),
    out);
}

async function loadPickups() {
  const r = await api('orders', `/orders?status=ready&pizzeria_id=${pizzeria}`, { etag: pickupsEtag });
  if (r.status === 304) return;
  if (!r.ok) { showProblem($('#pickups-problem'), r.problem); return; }
  replace($('#pickups-problem'));
  pickupsEtag = r.etag;
  const ready = r.data.orders.filter((o) => o.fulfilment === 'pickup');
  replace($('#pickups'), ready.length ? ready.map(pickupRow) : el('tr', {}, el('td', { colspan: 6, class: 'muted' }, 'Aucune commande prête à remettre.')));
}

function pickupRow(o) {
  const online = o.payment_method === 'card' && o.channel === 'web';
  const method = el('select', { 'aria-label': `Paiement de la commande ${o.number}` },
    el('option', { value: o.payment_method === 'cash' ? 'cash' : 'card_terminal' }, o.payment_method === 'cash' ? 'Espèces' : 'Carte (terminal)'),
    el('option', { value: o.payment_method === 'cash' ? 'card_terminal' : 'cash' }, o.payment_method === 'cash' ? 'Carte (terminal)' : 'Espèces'));
  return el('tr', { dataset: { order: o.id } },
    el('td', {}, o.number),
    el('td', {}, `${o.contact?.name ?? ''} ${phoneFr(o.contact?.phone)}`.trim()),
    el('td', {}, CHANNEL[o.channel] || o.channel),
    el('td', { class: 'num' }, euros(o.total_cents)),
    el('td', {}, online ? 'Payée en ligne' : method),
    el('td', {}, el('button', {
      type: 'button', class: 'handover',
      onclick: async () => {
        const body = { status: 'picked_up' };
        if (!online) body.payment = { method: method.value };
        const r = await api('orders', `/orders/${o.id}/status`, { method: 'POST', body });
        if (!r.ok) { showProblem($('#pickups-problem'), r.problem); return; }
        pickupsEtag = null;
        await loadPickups();
      },
    }, online ? 'Remettre' : `Encaisser ${euros(o.total_cents)} et remettre`)));
}

if (me) {
  await form.load(pizzeria);
  update();
  poll(loadPickups, () => 5000).now();
}
