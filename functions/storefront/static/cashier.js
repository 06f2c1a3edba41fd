// The cashier's screen: phone and counter orders through the same checkout
// as the web, a caller's past orders by phone number, and the ready pickup
// orders to hand over (taking the payment when it is due).

import {
  $, STATUS, api, el, euros, frame, newKey, poll, problemBox, replace, requireStaff, showProblem, staffPizzeria,
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

function update() {
  $('#address').hidden = orderForm.elements.fulfilment.value !== 'delivery';
  const count = form.lines().reduce((n, l) => n + l.quantity, 0);
  place.disabled = count === 0;
  place.textContent = count ? `Enregistrer la commande (${euros(form.subtotal())})` : 'Enregistrer la commande';
}
orderForm.addEventListener('change', update);

$('#phone').addEventListener('change', async () => {
  const phone = $('#phone').value.trim();
  const out = $('#history');
  if (phone.length < 6) { out.textContent = ''; return; }
  const r = await api('orders', `/orders?phone=${encodeURIComponent(phone)}&pizzeria_id=${pizzeria}`);
  if (!r.ok) { out.textContent = ''; return; }
  const past = r.data.orders;
  if (!past.length) { out.textContent = 'Nouveau client.'; return; }
  out.textContent = `${past.length} commande(s) passée(s), la dernière n° ${past[0].number} (${euros(past[0].total_cents)}).`;
  if (!$('#name').value.trim()) $('#name').value = past[0].contact_name;
});

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
    contact: { name: $('#name').value.trim(), phone: $('#phone').value.trim() },
  };
  if (body.fulfilment === 'delivery') {
    body.address = { line1: $('#line1').value.trim(), postcode: $('#postcode').value.trim(), city: $('#city').value.trim() };
  }
  place.disabled = true;
  const r = await api('checkout', '/orders', { method: 'POST', body, idempotencyKey: key });
  if (r.status === 409 && r.problem?.products) {
    form.applyShortage(r.problem);
    key = newKey();
    replace(out, problemBox(r.problem));
    return;
  }
  if (!r.ok) { replace(out, problemBox(r.problem)); update(); return; }
  const o = r.data.order;
  replace(out, el('p', { class: 'success', role: 'status' }, `Commande n° ${o.number} enregistrée : ${euros(o.total_cents)}.`));
  key = newKey();
  form.clear();
  for (const id of ['phone', 'name', 'line1', 'postcode', 'city']) $(`#${id}`).value = '';
  $('#history').textContent = '';
  await form.load(pizzeria);
  update();
});

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
    el('td', {}, `${o.contact_name} ${o.contact_phone}`),
    el('td', {}, STATUS[o.status]),
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
