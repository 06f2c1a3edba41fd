// The courier's screen: my deliveries, active first, with the address and a
// map link, the customer's phone, the cash to collect, and the two actions.

import {
  $, api, el, euros, frame, phoneFr, poll, replace, requireStaff, showProblem, staffPizzeria, time,
} from './common.js';

frame();
const me = requireStaff(['courier', 'manager', 'admin']);
const forPizzeria = me && me.user.role !== 'courier' ? await staffPizzeria(me) : null;
const query = forPizzeria ? `?pizzeria_id=${forPizzeria}` : '';
let etag = null;
const STATE = { waiting: 'En attente d’un livreur', assigned: 'À récupérer', out_for_delivery: 'En route', delivered: 'Livrée' };

async function load() {
  const r = await api('delivery', `/deliveries${query}`, { etag });
  if (r.status === 304) return;
  if (!r.ok) { showProblem($('#problem'), r.problem); return; }
  replace($('#problem'));
  etag = r.etag;
  const list = r.data.deliveries;
  $('#empty').hidden = list.length > 0;
  replace($('#deliveries'), list.map(card));
}

function card(d) {
  const a = d.address || {};
  const out = el('div', { 'aria-live': 'assertive' });
  const cash = d.cash_to_collect_cents > 0 && d.status !== 'delivered';
  const amount = el('input', { type: 'number', min: 0, step: '0.01', id: `cash-${d.id}`, value: (d.cash_to_collect_cents / 100).toFixed(2) });
  return el('li', { class: 'delivery', dataset: { delivery: d.id, order: d.order_id } },
    el('h2', {}, `n° ${d.number} — ${STATE[d.status] || d.status}`),
    el('p', {}, `${a.line1 ?? ''}, ${a.postcode ?? ''} ${a.city ?? ''}`, ' ',
      a.map_url ? el('a', { href: a.map_url, target: '_blank', rel: 'noopener' }, 'Ouvrir le plan') : null),
    el('p', {}, d.contact.name, ' — ', el('a', { href: `tel:${d.contact.phone}` }, phoneFr(d.contact.phone))),
    el('p', { class: 'muted' },
      d.distance_m ? `${(d.distance_m / 1000).toFixed(1).replace('.', ',')} km` : '',
      d.eta && d.status !== 'delivered' ? ` — arrivée prévue ${time(d.eta)}` : ''),
    cash ? el('p', { class: 'cash' }, `À encaisser : ${euros(d.cash_to_collect_cents)}`) : el('p', { class: 'muted' }, d.payment_method === 'card' ? 'Déjà payée en ligne' : ''),
    d.status === 'assigned' ? el('button', { type: 'button', class: 'big pickup', onclick: () => act(d, 'pickup', undefined, out) }, 'J’ai la commande, je pars') : null,
    d.status === 'out_for_delivery' ? [
      cash ? [el('label', { for: `cash-${d.id}` }, 'Montant encaissé (€)'), amount] : null,
      el('button', {
        type: 'button', class: 'big delivered',
        onclick: () => act(d, 'delivered', cash ? { cash_collected_cents: Math.round(Number(amount.value) * 100) } : {}, out),
      }, 'Livrée'),
    ] : null,
    out);
}

async function act(d, action, body, out) {
  const r = await api('delivery', `/deliveries/${d.id}/${action}`, { method: 'POST', body });
  if (!r.ok) { showProblem(out, r.problem); return; }
  etag = null;
  await load();
}

if (me) poll(load, () => 5000).now();
