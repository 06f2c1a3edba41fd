// The courier's screen: my shift (started and ended here: only couriers on
// shift are given deliveries), my deliveries, active first, with the address
// and a map link, the customer's phone, the cash to collect, and the two
// actions. A manager sees the pizzeria's deliveries, each with its courier,
// and gives one not yet picked up to another courier on shift.

import {
  $, api, el, euros, frame, phoneFr, poll, replace, requireStaff, showProblem, staffPizzeria, time,
} from './common.js';

frame();
const me = requireStaff(['courier', 'manager', 'admin']);
const forPizzeria = me && me.user.role !== 'courier' ? await staffPizzeria(me) : null;
const query = forPizzeria ? `?pizzeria_id=${forPizzeria}` : '';
let etag = null;
const STATE = {
  waiting: 'En attente d’un livreur', assigned: 'À récupérer', out_for_delivery: 'En route', delivered: 'Livrée',
  failed: 'Non livrée', cancelled: 'Annulée par la pizzeria',
};
// Why a delivery could not be made, as the courier picks it.
const FAILURE = { absent: 'Client absent', address_not_found: 'Adresse introuvable', refused: 'Commande refusée' };

const isCourier = me && me.user.role === 'courier';
// A manager reads the pizzeria's deliveries, not their own.
if (me && !isCourier) $('#title').textContent = 'Livraisons de la pizzeria';
// For a manager: the couriers on shift, to give a delivery to.
let onShift = [];

async function load() {
  if (isCourier) await loadShift();
  if (forPizzeria) await loadCouriers();
  const r = await api('delivery', `/deliveries${query}`, { etag });
  if (r.status === 304) return;
  if (!r.ok) { showProblem($('#problem'), r.problem); return; }
  replace($('#problem'));
  etag = r.etag;
  const list = r.data.deliveries;
  $('#empty').hidden = list.length > 0;
  replace($('#deliveries'), list.map(card));
}

async function loadShift() {
  const r = await api('delivery', '/shift');
  if (!r.ok) { showProblem($('#problem'), r.problem); return; }
  showShift(r.data.on_shift_since);
}

// The shift as last shown: a poll that finds it unchanged leaves the box
// (and a problem shown in it) alone.
let shownSince;

function showShift(since) {
  if (since === shownSince) return;
  shownSince = since;
  const box = $('#shift');
  const out = el('div', { 'aria-live': 'assertive' });
  box.hidden = false;
  replace(box,
    el('p', { class: since ? 'on-shift' : 'off-shift' },
      since ? `En service depuis ${time(since)}` : 'Hors service : vous ne recevez pas de livraisons.'),
    el('button', { type: 'button', class: since ? 'end-shift' : 'big start-shift', onclick: () => toggleShift(since, out) },
      since ? 'Terminer mon service' : 'Commencer mon service'),
    out);
}

async function toggleShift(since, out) {
  const r = await api('delivery', '/shift', { method: since ? 'DELETE' : 'POST' });
  if (!r.ok) { showProblem(out, r.problem); return; }
  showShift(r.data.on_shift_since);
  etag = null;
  await load();
}

async function loadCouriers() {
  const r = await api('delivery', `/couriers${query}`);
  if (r.ok) onShift = r.data.couriers.filter((c) => c.on_shift_since);
}

// A delivery not yet picked up, given to another courier on shift.
function reassign(d, out) {
  const others = onShift.filter((c) => c.id !== d.courier_id);
  if (!others.length) return el('p', { class: 'muted' }, 'Aucun autre livreur en service.');
  const choice = el('select', { id: `courier-${d.id}` },
    others.map((c) => el('option', { value: c.id }, `${c.name} (${c.active_deliveries} en cours)`)));
  return el('p', { class: 'reassign' },
    el('label', { for: `courier-${d.id}` }, 'Confier à '), choice, ' ',
    el('button', {
      type: 'button', class: 'give',
      onclick: () => act(d, 'courier', { courier_id: Number(choice.value) }, out),
    }, 'Confier'));
}

function card(d) {
  const a = d.address || {};
  const out = el('div', { 'aria-live': 'assertive' });
  const cash = d.cash_to_collect_cents > 0 && !['delivered', 'failed', 'cancelled'].includes(d.status);
  const amount = el('input', { type: 'number', min: 0, step: '0.01', id: `cash-${d.id}`, value: (d.cash_to_collect_cents / 100).toFixed(2) });
  return el('li', { class: 'delivery', dataset: { delivery: d.id, order: d.order_id } },
    el('h2', {}, `n° ${d.number} — ${STATE[d.status] || d.status}`),
    forPizzeria ? el('p', { class: 'courier' }, d.courier_name ? `Livreur : ${d.courier_name}` : 'Aucun livreur') : null,
    el('p', {}, `${a.line1 ?? ''}, ${a.postcode ?? ''} ${a.city ?? ''}`, ' ',
      a.map_url ? el('a', { href: a.map_url, target: '_blank', rel: 'noopener' }, 'Ouvrir le plan') : null),
    // Door code, floor, intercom: what gets the courier to the door.
    d.delivery_instructions ? el('p', { class: 'instructions' }, el('strong', {}, 'Instructions : '), d.delivery_instructions) : null,
    el('p', {}, d.contact.name, ' — ', el('a', { href: `tel:${d.contact.phone}` }, phoneFr(d.contact.phone))),
    el('p', { class: 'muted' },
      d.distance_m ? `${(d.distance_m / 1000).toFixed(1).replace('.', ',')} km` : '',
      d.eta && ['waiting', 'assigned', 'out_for_delivery'].includes(d.status) ? ` — arrivée prévue ${time(d.eta)}` : ''),
    d.failure ? el('p', { class: 'failure' }, `Échec : ${FAILURE[d.failure] || d.failure}`) : null,
    cash ? el('p', { class: 'cash' }, `À encaisser : ${euros(d.cash_to_collect_cents)}`) : el('p', { class: 'muted' }, d.payment_method === 'card' ? 'Déjà payée en ligne' : ''),
    forPizzeria && (d.status === 'waiting' || d.status === 'assigned') ? reassign(d, out) : null,
    d.status === 'assigned' ? el('button', { type: 'button', class: 'big pickup', onclick: () => act(d, 'pickup', undefined, out) }, 'J’ai la commande, je pars') : null,
    d.status === 'out_for_delivery' ? [
      cash ? [el('label', { for: `cash-${d.id}` }, 'Montant encaissé (€)'), amount] : null,
      el('button', {
        type: 'button', class: 'big delivered',
        onclick: () => act(d, 'delivered', cash ? { cash_collected_cents: Math.round(Number(amount.value) * 100) } : {}, out),
      }, 'Livrée'),
      failing(d, out),
    ] : null,
    out);
}

// Nobody home, no such address, refused at the door: recorded with its
// reason; nothing is collected.
function failing(d, out) {
  const reason = el('select', { id: `failure-${d.id}` },
    Object.entries(FAILURE).map(([value, text]) => el('option', { value }, text)));
  return el('details', { class: 'failing' },
    el('summary', {}, 'Livraison impossible'),
    el('p', {}, el('label', { for: `failure-${d.id}` }, 'Raison '), reason, ' ',
      el('button', {
        type: 'button', class: 'failed',
        onclick: () => act(d, 'failed', { reason: reason.value }, out),
      }, 'Enregistrer l’échec')));
}

async function act(d, action, body, out) {
  const r = await api('delivery', `/deliveries/${d.id}/${action}`, { method: 'POST', body });
  if (!r.ok) { showProblem(out, r.problem); return; }
  etag = null;
  await load();
}

if (me) poll(load, () => 5000).now();
