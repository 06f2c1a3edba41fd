// The tracker: the order's stages as a timeline that follows the order by
// itself, its ETA and messages, and "modify" / "cancel" while allowed.
//
// Each poll is a paid invocation, so it is cheap and rare: it sends the
// ETag (an unchanged order is a bodiless 304), polls every 2 s only when a
// change is due within moments (a card payment being confirmed, an ETA
// reached), every 5 s otherwise, and stops when the order is finished or
// the tab is hidden (it polls again at once when the tab comes back).

import {
  $, FINISHED, STATUS, api, dateTime, el, euros, frame, loadStripe, payByCard, poll, problemBox, replace, session, showProblem, time,
} from './common.js';

frame();
const params = new URLSearchParams(location.search);
const id = Number(params.get('order'));
const token = params.get('token');
const query = token ? `?token=${encodeURIComponent(token)}` : '';
const me = session();
let order = null;
let etag = null;

export const FAST_MS = 2000;
export const SLOW_MS = 5000;

function interval() {
  if (!order) return SLOW_MS;
  if (FINISHED.has(order.status)) return null;
  if (order.status === 'pending_payment') return FAST_MS;
  if (order.eta && new Date(order.eta) - Date.now() < 120000) return FAST_MS;
  return SLOW_MS;
}

const openedAt = Date.now();
let refreshedAt = 0;

async function load() {
  const bearer = token ? null : me?.token ?? null;
  // The webhook places a paid order within seconds; if it is late (or lost),
  // ask the server to check with Stripe, at most every 15 s.
  if (order?.status === 'pending_payment' && Date.now() - openedAt > 10000 && Date.now() - refreshedAt > 15000) {
    refreshedAt = Date.now();
    await api('orders', `/orders/${id}/payment/refresh${query}`, { method: 'POST', token: bearer });
  }
  const r = await api('orders', `/orders/${id}${query}`, { etag, token: bearer });
  $('#live').textContent = FINISHED.has(order?.status) ? '' : `Mise à jour automatique — vérifiée à ${time(new Date().toISOString())}`;
  if (r.status === 304) return;
  if (!r.ok) { showProblem($('#problem'), r.problem); return; }
  replace($('#problem'));
  etag = r.etag;
  order = r.data.order;
  render();
}

function stagesOf(o) {
  const stages = o.payment_method === 'card' && o.channel === 'web' ? ['pending_payment'] : [];
  stages.push('placed', 'preparing', 'ready');
  if (o.fulfilment === 'delivery') stages.push('out_for_delivery', 'delivered');
  else stages.push('picked_up');
  return stages;
}

const LABEL = { ...STATUS, pending_payment: 'Paiement', placed: 'Reçue par la pizzeria', ready: 'Prête' };

function render() {
  const o = order;
  document.title = `Commande ${o.number} — ${STATUS[o.status] || o.status}`;
  $('#title').textContent = `Commande n° ${o.number}`;
  replace($('#status'), o.status === 'cancelled'
    ? el('p', { class: 'cancelled-banner', id: 'cancelled' }, 'Commande annulée')
    : el('p', {}, el('strong', {}, STATUS[o.status] || o.status)));
  const reached = new Map(o.history.map((h) => [h.status, h.at]));
  // A cancelled order shows the steps it went through, then its cancellation.
  const stages = o.status === 'cancelled'
    ? stagesOf(o).filter((s) => reached.has(s)).concat('cancelled')
    : stagesOf(o);
  const current = stages.indexOf(o.status);
  replace($('#timeline'), stages.map((s, i) => {
    const at = reached.get(s);
    const state = i < current ? 'done' : i === current ? (FINISHED.has(s) && s !== 'cancelled' ? 'done' : 'current') : '';
    return el('li', { class: state, dataset: { stage: s }, 'aria-current': state === 'current' ? 'step' : undefined },
      LABEL[s], at ? el('time', { datetime: at }, dateTime(at)) : null);
  }));
  const eta = $('#eta');
  if (o.eta && !FINISHED.has(o.status)) {
    eta.textContent = o.fulfilment === 'delivery' ? `Livraison prévue vers ${time(o.eta)}` : `Prête vers ${time(o.eta)}`;
  } else eta.textContent = '';

  const pay = o.payment || {};
  replace($('#detail'),
    el('ul', { class: 'cart-lines' }, o.lines.map((l) => el('li', {}, el('span', {}, `${l.quantity} × ${l.name}`), el('span', {}, euros(l.line_total_cents))))),
    o.delivery_fee_cents ? el('p', {}, `Livraison : ${euros(o.delivery_fee_cents)}`) : null,
    el('div', { class: 'total' }, el('span', {}, 'Total'), el('span', { id: 'total' }, euros(o.total_cents))),
    el('p', {}, o.fulfilment === 'delivery' ? `Livraison : ${o.address?.line1 ?? ''}, ${o.address?.postcode ?? ''} ${o.address?.city ?? ''}` : 'À retirer à la pizzeria'),
    el('p', { class: 'muted' }, paymentText(o.payment_method, pay)));

  replace($('#actions'), o.changeable ? el('div', { class: 'row' },
    el('button', { type: 'button', class: 'secondary', id: 'modify', onclick: openEditor }, 'Modifier'),
    el('button', { type: 'button', class: 'secondary', id: 'cancel', onclick: cancel }, 'Annuler la commande')) : null);
  if (!o.changeable) $('#edit').hidden = true;

  replace($('#notifications'), o.notifications.length
    ? o.notifications.map((n) => el('li', {}, n.subject, n.sent_at ? el('span', { class: 'muted' }, ` — ${dateTime(n.sent_at)}`) : el('span', { class: 'muted' }, ' — en cours d’envoi')))
    : el('li', { class: 'muted' }, 'Aucun pour l’instant.'));
}

function paymentText(method, pay) {
  const status = {
    awaiting_payment: 'en attente', paid: 'payée', partially_refunded: 'partiellement remboursée', refunded: 'remboursée',
    due_on_delivery: 'à régler à la livraison', due_at_counter: 'à régler au retrait', collected: 'réglée', not_due: 'rien à régler',
  }[pay.status] || pay.status || '';
  const how = method === 'card' ? 'Carte bancaire' : method === 'cash' ? 'Espèces' : 'Carte au terminal';
  return `${how} : ${status}${pay.refunded_cents ? ` (${euros(pay.refunded_cents)} remboursés)` : ''}`;
}

async function cancel() {
  if (!window.confirm('Annuler cette commande ?')) return;
  const r = await api('orders', `/orders/${id}/cancel${query}`, { method: 'POST', token: token ? null : undefined });
  if (!r.ok) { showProblem($('#problem'), r.problem); return; }
  etag = null;
  await load();
  tracker.now();
}

function openEditor() {
  const box = $('#edit');
  box.hidden = false;
  const inputs = order.lines.map((l) => el('input', { type: 'number', min: 0, max: 20, value: l.quantity, id: `edit-${l.product_id}`, dataset: { product: l.product_id } }));
  const out = el('div', { 'aria-live': 'assertive' });
  replace(box,
    el('h3', {}, 'Modifier les quantités'),
    order.lines.map((l, i) => [el('label', { for: `edit-${l.product_id}` }, l.name), inputs[i]]),
    out,
    el('p', {}, el('button', {
      type: 'button', onclick: async () => {
        const lines = inputs.map((input) => ({ product_id: Number(input.dataset.product), quantity: Number(input.value) })).filter((l) => l.quantity > 0);
        const r = await api('orders', `/orders/${id}${query}`, { method: 'PATCH', body: { lines }, token: token ? null : undefined });
        if (!r.ok) { replace(out, problemBox(r.problem)); return; }
        box.hidden = true;
        if (r.data.payment?.client_secret) await payExtra(r.data.payment.client_secret);
        etag = null;
        await load();
      },
    }, 'Enregistrer')));
}

/** A card order made bigger: the difference is paid like the order was. */
async function payExtra(clientSecret) {
  const stripe = await loadStripe();
  const card = stripe.elements().create('card');
  const box = $('#edit');
  box.hidden = false;
  const out = el('div', { 'aria-live': 'assertive' });
  replace(box, el('h3', {}, 'Payer la différence'), el('div', { id: 'card-element' }), out);
  card.mount('#card-element');
  return new Promise((resolve) => {
    box.append(el('button', {
      type: 'button', onclick: async () => {
        const paid = await payByCard(stripe, card, { id, token, clientSecret });
        if (!paid.ok) { replace(out, problemBox(paid.problem)); return; }
        box.hidden = true;
        resolve();
      },
    }, 'Payer'));
  });
}

const tracker = poll(load, interval);
if (!id) showProblem($('#problem'), { title: 'Commande introuvable', detail: 'Le lien de suivi est incomplet.' });
else tracker.now();
