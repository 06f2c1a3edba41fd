// The tracker: the order's stages as a timeline that follows the order by
// itself, its ETA and messages, and "modify" / "cancel" while allowed.
//
// Each poll is a paid invocation, so it is cheap and rare: it sends the
// ETag (an unchanged order is a bodiless 304), polls every 2 s only when a
// change is due within moments (a card payment being confirmed, an ETA
// reached), every 5 s otherwise, and stops when the order is finished or
// the tab is hidden (it polls again at once when the tab comes back).

import {
  $, FINISHED, STATUS, api, dateTime, el, euros, frame, loadStripe, payByCard, poll, problemBox, promiseText, replace, session, showProblem, time,
} from './common.js';
import { allergensText } from './order-form.js';

frame();
const params = new URLSearchParams(location.search);
const id = Number(params.get('order'));
const token = params.get('token');
// Arriving from the shop right after paying: the payment is being
// confirmed; no "Payer" while the webhook is on its way.
const justPaid = params.get('paid') === '1';
if (justPaid) {
  params.delete('paid');
  history.replaceState(null, '', `${location.pathname}?${params}`);
}
const query = token ? `?token=${encodeURIComponent(token)}` : '';
const me = session();
let order = null;
let etag = null;

export const FAST_MS = 2000;
export const SLOW_MS = 5000;

function interval() {
  if (!order) return SLOW_MS;
  if (FINISHED.has(order.status)) return null;
  // A difference waiting for the customer's card changes only when they pay.
  if (balance && !balance.sent) return SLOW_MS;
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
  const pay = o.payment || {};
  const owes = owesPayment(o);
  const difference = owes && pay.paid_cents > 0;
  const endedBadly = ['cancelled', 'voided', 'failed_delivery', 'no_show'].includes(o.status);
  replace($('#status'), endedBadly
    ? el('p', { class: 'cancelled-banner', id: 'cancelled' }, o.status === 'cancelled' ? 'Commande annulée' : STATUS[o.status])
    : el('p', {}, el('strong', {}, !owes ? STATUS[o.status] || o.status
      : balance?.sent ? 'Paiement reçu : confirmation en cours…'
        : difference ? 'En attente du paiement de la différence' : 'En attente du paiement')));
  const reached = new Map(o.history.map((h) => [h.status, h.at]));
  // A cancelled order shows the steps it went through, then its cancellation.
  const stages = endedBadly
    ? stagesOf(o).filter((s) => reached.has(s)).concat(o.status)
    : stagesOf(o);
  const current = stages.indexOf(o.status);
  replace($('#timeline'), stages.map((s, i) => {
    const at = reached.get(s);
    const state = i < current ? 'done' : i === current ? (FINISHED.has(s) && !endedBadly ? 'done' : 'current') : '';
    return el('li', { class: state, dataset: { stage: s }, 'aria-current': state === 'current' ? 'step' : undefined },
      // A step still ahead shows no time (a paid order made bigger was placed once already).
      LABEL[s], at && i <= current ? el('time', { datetime: at }, dateTime(at)) : null);
  }));
  // The promise, kept up to date by the server as the order moves (the
  // courier's ETA once there is one); nothing once it is done.
  $('#eta').textContent = FINISHED.has(o.status) ? '' : promiseText(o);

  showBalance(o, owes);

  replace($('#detail'),
    el('ul', { class: 'cart-lines' }, o.lines.map(lineItem)),
    o.delivery_fee_cents ? el('p', {}, `Livraison : ${euros(o.delivery_fee_cents)}`) : null,
    el('div', { class: 'total' }, el('span', {}, 'Total'), el('span', { id: 'total' }, euros(o.total_cents))),
    el('p', {}, o.fulfilment === 'delivery' ? `Livraison : ${o.address?.line1 ?? ''}, ${o.address?.postcode ?? ''} ${o.address?.city ?? ''}` : 'À retirer à la pizzeria'),
    o.fulfilment === 'delivery' && o.delivery_instructions
      ? el('p', { class: 'instructions' }, `Instructions pour le livreur : ${o.delivery_instructions}`) : null,
    el('p', { class: 'muted' }, paymentText(o.payment_method, pay)));

  replace($('#actions'), o.changeable ? el('div', { class: 'row' },
    el('button', { type: 'button', class: 'secondary', id: 'modify', onclick: openEditor }, 'Modifier'),
    el('button', { type: 'button', class: 'secondary', id: 'cancel', onclick: cancel }, 'Annuler la commande')) : null);
  if (!o.changeable) $('#edit').hidden = true;

  replace($('#notifications'), o.notifications.length
    ? o.notifications.map((n) => el('li', {}, n.subject, n.sent_at ? el('span', { class: 'muted' }, ` — ${dateTime(n.sent_at)}`) : el('span', { class: 'muted' }, ' — en cours d’envoi')))
    : el('li', { class: 'muted' }, 'Aucun pour l’instant.'));
}

/** A line as sold: what, its choices and note under its name, its allergens, its price. */
function lineItem(l) {
  const allergens = allergensText(l.allergens);
  return el('li', {},
    el('span', { class: 'line-what' },
      el('span', {}, `${l.quantity} × ${l.name}`),
      l.choices ? el('span', { class: 'choices' }, l.choices) : null,
      l.note ? el('span', { class: 'line-note' }, `Remarque : « ${l.note} »`) : null,
      allergens ? el('span', { class: 'muted allergens' }, `Allergènes : ${allergens}`) : null),
    el('span', {}, euros(l.line_total_cents)));
}

function paymentText(method, pay) {
  const status = {
    awaiting_payment: 'en attente', paid: 'payée', partially_refunded: 'partiellement remboursée', refunded: 'remboursée',
    due_on_delivery: 'à régler à la livraison', due_at_counter: 'à régler au retrait', collected: 'réglée', not_due: 'rien à régler',
    balance_due: `différence de ${euros(pay.balance_cents)} à régler`,
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
  // One field a line: `edit-<product>` for a product's first line, `edit-<product>-<n>` for the next ones.
  const seen = new Map();
  const fieldIds = order.lines.map((l) => {
    const n = (seen.get(l.product_id) || 0) + 1;
    seen.set(l.product_id, n);
    return n === 1 ? `edit-${l.product_id}` : `edit-${l.product_id}-${n}`;
  });
  const inputs = order.lines.map((l, i) => el('input', { type: 'number', min: 0, max: 20, value: l.quantity, id: fieldIds[i] }));
  const out = el('div', { 'aria-live': 'assertive' });
  replace(box,
    el('h3', {}, 'Modifier les quantités'),
    order.lines.map((l, i) => [el('label', { for: fieldIds[i] }, l.choices ? `${l.name} (${l.choices})` : l.name), inputs[i]]),
    out,
    el('p', {}, el('button', {
      type: 'button', onclick: async () => {
        const lines = order.lines.map((l, i) => ({ ...choicesOf(l), product_id: l.product_id, quantity: Number(inputs[i].value) })).filter((l) => l.quantity > 0);
        const r = await api('orders', `/orders/${id}${query}`, { method: 'PATCH', body: { lines }, token: token ? null : undefined });
        if (!r.ok) { replace(out, problemBox(r.problem)); return; }
        box.hidden = true;
        // A paid order made bigger now waits for the difference: the reload
        // shows what to pay (the "Payer la différence" box).
        etag = null;
        await load();
      },
    }, 'Enregistrer')));
}

/**
 * A line's choices as checkout takes them, to keep them when the
 * quantities change: those the order view gives in that form.
 */
function choicesOf(l) {
  const kept = {};
  if (typeof l.size_code === 'string') kept.size = l.size_code;
  const ids = (list) => Array.isArray(list) && list.length > 0 && list.every(Number.isInteger);
  if (ids(l.remove)) kept.remove = l.remove;
  if (ids(l.extras)) kept.extras = l.extras;
  if (l.note) kept.note = l.note;
  return kept;
}

// ---- what is left to pay -------------------------------------------------

/**
 * A web card order waiting for the customer's card: never paid (the card
 * was declined, 3-D Secure failed, the tab was closed before paying) or
 * made bigger after it was paid. The tracker always lets them pay it.
 */
function owesPayment(o) {
  const pay = o.payment || {};
  return o.status === 'pending_payment' && o.payment_method === 'card' && o.channel === 'web' && pay.balance_cents > 0;
}

// The box shown, if any: {cents, card, busy, sent (when it was paid)}.
// Polls re-render the page; the box stays as it is (the card typed in it
// too) while it asks for the same amount.
let balance = justPaid ? { cents: undefined, card: null, busy: false, sent: Date.now() } : null;

function deadlineText(o) {
  return o.reservation_expires_at ? `À régler avant ${time(o.reservation_expires_at)}, sinon la commande est annulée et remboursée.` : '';
}

function showBalance(o, owes) {
  const box = $('#balance');
  const cents = o.payment?.balance_cents;
  if (balance?.busy) return; // a payment under way ends by reloading the order
  // Paid from this page: no second payment while Stripe confirms it (a
  // payment still unconfirmed after a minute shows the box again).
  if (balance?.sent && Date.now() - balance.sent > 60000) balance.cents = null;
  if (balance?.cents === undefined && balance?.sent) balance.cents = cents; // just paid in the shop
  if (owes && balance?.cents === cents) {
    box.hidden = Boolean(balance.sent);
    const deadline = $('#balance-deadline');
    if (deadline) deadline.textContent = deadlineText(o);
    return;
  }
  balance?.card?.destroy();
  balance = null;
  replace(box);
  box.hidden = !owes;
  if (owes) mountBalance(o, cents);
}

async function mountBalance(o, cents) {
  const box = $('#balance');
  const shown = { cents, card: null, busy: false, sent: false };
  balance = shown;
  const out = el('div', { 'aria-live': 'assertive' });
  const button = el('button', { type: 'button', id: 'pay-balance', class: 'big', disabled: true }, `Payer ${euros(cents)}`);
  const difference = o.payment?.paid_cents > 0;
  replace(box,
    el('h3', { id: 'balance-title' }, difference ? 'Payer la différence' : 'Payer la commande'),
    el('p', {}, difference
      ? 'Votre commande a augmenté : la cuisine la prépare dès que la différence est réglée.'
      : 'Votre commande n’est pas encore payée : la cuisine la prépare dès que le paiement est confirmé.'),
    el('p', { class: 'deadline', id: 'balance-deadline' }, deadlineText(o)),
    el('label', { for: 'balance-card' }, 'Carte'),
    el('div', { id: 'balance-card' }),
    out,
    button);
  let stripe;
  try {
    stripe = await loadStripe();
  } catch {
    if (balance !== shown) return;
    replace(out, problemBox({ title: 'Paiement par carte indisponible', detail: 'Le service de paiement ne répond pas : réessayez dans un instant.' }));
    button.textContent = 'Réessayer';
    button.disabled = false;
    button.addEventListener('click', () => { if (balance === shown) { balance = null; showBalance(order, owesPayment(order)); } }, { once: true });
    return;
  }
  if (balance !== shown) return; // the order changed meanwhile
  shown.card = stripe.elements().create('card');
  shown.card.mount('#balance-card');
  button.disabled = false;
  button.addEventListener('click', async () => {
    if (shown.busy || shown.sent) return;
    shown.busy = true;
    button.disabled = true;
    button.textContent = 'Paiement en cours…';
    replace(out);
    const paid = await payByCard(stripe, shown.card, { id, token });
    shown.busy = false;
    if (!paid.ok && !(paid.status === 409 && /nothing-to-pay/.test(paid.problem?.type || ''))) {
      replace(out, problemBox(paid.problem), el('p', { class: 'muted' }, 'Votre commande vous attend : corrigez la carte ou essayez-en une autre, puis payez.'));
      button.textContent = `Payer ${euros(cents)}`;
      button.disabled = false;
      return;
    }
    // Paid (or already paid): the order is placed again as soon as the
    // payment is confirmed; until then, no second payment.
    shown.sent = Date.now();
    box.hidden = true;
    replace($('#status'), el('p', {}, el('strong', {}, 'Paiement reçu : confirmation en cours…')));
    etag = null;
    await load();
    tracker.now();
  });
}

const tracker = poll(load, interval);
if (!id) showProblem($('#problem'), { title: 'Commande introuvable', detail: 'Le lien de suivi est incomplet.' });
else tracker.now();
