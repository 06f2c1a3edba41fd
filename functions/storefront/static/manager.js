// The manager's (and admin's) screen: stock with low levels highlighted,
// restock, inventory counts, losses and thresholds; orders; the pizzeria's
// hours, special days and pause (manager-hours.js); the menu and its
// prices; the admin's choices and allergens (manager-choices.js); the staff;
// revenue per day and pizzeria as an SVG chart drawn here (no outside
// service).

import {
  $, ROLE, STATUS, api, dateTime, el, euros, frame, onSubmit, phoneFr, problemBox, replace, requireStaff, shortDay, showProblem,
  staffPizzeria, svg,
} from './common.js';
import { loadChoices } from './manager-choices.js';
import { loadHours } from './manager-hours.js';
import { loadOpen } from './manager-open.js';
import { loadPhotos, photoCell } from './manager-photos.js';

frame();
const me = requireStaff(['manager', 'admin']);
const admin = me?.user.role === 'admin';
const pizzeria = me ? await staffPizzeria(me) : null;
// The menu's choices and allergens, and opening a pizzeria, are the admin's only.
const TABS = ['stock', 'orders', 'hours', 'menu', 'staff', 'revenue', ...(admin ? ['choices', 'open'] : [])];
const loaders = {
  stock: loadStock, orders: loadOrders, hours: () => loadHours(pizzeria), menu: loadProducts, staff: loadStaff, revenue: loadRevenue, choices: loadChoices, open: loadOpen,
};
if (admin) {
  $('#tab-open').hidden = false;
  $('#tab-choices').hidden = false;
}

function show(tab) {
  for (const t of TABS) {
    $(`#tab-${t}`).setAttribute('aria-selected', String(t === tab));
    $(`#${t}`).hidden = t !== tab;
  }
  replace($('#problem'));
  // The page's own address with the tab (a bare `#tab` would resolve
  // against <base href> and name the shop): reloading or bookmarking
  // it opens this tab again.
  history.replaceState(null, '', `${location.pathname}${location.search}#${tab}`);
  loaders[tab]();
}

// ---- stock ----------------------------------------------------------------

const UNIT = { piece: 'pièces' };
const unit = (u) => UNIT[u] || u;

async function loadStock() {
  const r = await api('backoffice', `/pizzerias/${pizzeria}/stock`);
  if (!r.ok) { showProblem($('#problem'), r.problem); return; }
  const { stock, low_count: low } = r.data;
  // What the pizzeria does not stock yet, for its first count.
  const all = await api('backoffice', '/ingredients');
  const stocked = new Set(stock.map((s) => s.ingredient_id));
  replace($('#stock-line-ingredient'), (all.ok ? all.data.ingredients : [])
    .filter((i) => !stocked.has(i.id))
    .map((i) => el('option', { value: i.id }, `${i.name} (${unit(i.unit)})`)));
  $('#stock-summary').textContent = low ? `${low} ingrédient(s) sous le seuil bas.` : 'Aucun ingrédient sous le seuil bas.';
  replace($('#stock-rows'), stock.map((s) => {
    const qty = el('input', { type: 'number', min: 1, step: 'any', id: `restock-${s.ingredient_id}`, required: true });
    const out = el('span', { 'aria-live': 'polite' });
    return el('tr', { class: s.low ? 'low' : '', dataset: { ingredient: s.ingredient_id } },
      el('td', {}, s.name, s.low ? [' ', el('span', { class: 'badge warn' }, 'Bas')] : null),
      el('td', { class: 'num' }, `${s.on_hand} ${unit(s.unit)}`),
      el('td', { class: 'num' }, `${s.reserved} ${unit(s.unit)}`),
      el('td', { class: 'num available' }, `${s.available} ${unit(s.unit)}`),
      el('td', { class: 'num' }, `${s.low_threshold} ${unit(s.unit)}`),
      el('td', {}, el('form', {
        onsubmit: async (e) => {
          e.preventDefault();
          const quantity = Number(qty.value);
          const res = await api('backoffice', `/pizzerias/${pizzeria}/stock/${s.ingredient_id}/restock`, { method: 'POST', body: { quantity } });
          if (!res.ok) { replace(out, problemBox(res.problem)); return; }
          await loadStock();
        },
      }, el('label', { for: `restock-${s.ingredient_id}`, class: 'sr-only' }, `Quantité de ${s.name} reçue (${unit(s.unit)})`), qty,
      el('button', { type: 'submit' }, 'Ajouter'), out)),
      el('td', {}, corrections(s)));
  }));
}

/**
 * The other changes of a stock line, folded: the count after an inventory
 * (an adjustment to what is on the shelf), a loss (waste, with why), and the
 * low threshold. Each says what went wrong in French, or reloads the table.
 */
function corrections(s) {
  const id = s.ingredient_id;
  const out = el('div', { 'aria-live': 'polite' });
  const send = async (path, method, body) => {
    const res = await api('backoffice', `/pizzerias/${pizzeria}/stock/${id}${path}`, { method, body });
    if (!res.ok) { replace(out, problemBox(res.problem)); return; }
    await loadStock();
  };
  const field = (name, label, attrs = {}) => [
    el('label', { for: `${name}-${id}` }, label),
    el('input', { id: `${name}-${id}`, name, required: true, autocomplete: 'off', ...attrs }),
  ];
  const form = (label, inputs, submit) => el('form', {
    class: 'row',
    onsubmit: (e) => { e.preventDefault(); submit(e.target.elements); },
  }, inputs, el('button', { type: 'submit', class: 'secondary' }, label));
  return el('details', {}, el('summary', {}, 'Corriger…'),
    form('Enregistrer le compte', field('counted', `Compté (${unit(s.unit)})`, { type: 'number', min: 0, step: 1 }),
      (f) => send('/adjustment', 'POST', { on_hand: Number(f.counted.value), reason: 'inventaire' })),
    form('Déclarer la perte', [
      ...field('lost', `Perdu (${unit(s.unit)})`, { type: 'number', min: 1, step: 1 }),
      ...field('why', 'Raison', { maxlength: 200, placeholder: 'périmé, tombé…' })],
    (f) => send('/waste', 'POST', { quantity: Number(f.lost.value), reason: f.why.value.trim() })),
    form('Changer le seuil', field('threshold', `Seuil bas (${unit(s.unit)})`, { type: 'number', min: 0, step: 1, value: s.low_threshold }),
      (f) => send('', 'PATCH', { low_threshold: Number(f.threshold.value) })),
    out);
}

$('#stock-line-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const out = $('#stock-line-problem');
  replace(out);
  const body = {
    ingredient_id: Number($('#stock-line-ingredient').value),
    on_hand: Number($('#stock-line-count').value),
    low_threshold: Number($('#stock-line-threshold').value || 0),
  };
  const r = await api('backoffice', `/pizzerias/${pizzeria}/stock`, { method: 'POST', body });
  if (!r.ok) { replace(out, problemBox(r.problem)); return; }
  $('#stock-line-form').reset();
  await loadStock();
});
for (const button of document.querySelectorAll('#stock-line-form button[type="submit"]')) button.disabled = false;

// ---- orders ---------------------------------------------------------------

replace($('#orders-status'), el('option', { value: '' }, 'Tous'),
  Object.entries(STATUS).map(([value, text]) => el('option', { value }, text)));

/** The search as the form says it, or null (with the problem shown) for a wrong date. */
function ordersQuery() {
  const q = $('#orders-q').value.trim();
  const dayText = $('#orders-day').value.trim();
  const day = dayText ? isoDate(dayText) : null;
  if (dayText && !day) {
    showProblem($('#problem'), { title: 'Date invalide', detail: 'Saisissez le jour au format jj/mm/aaaa, par exemple 05/12/2026.' });
    return null;
  }
  const params = new URLSearchParams({ pizzeria_id: pizzeria });
  if (q) params.set('q', q);
  if (day) params.set('day', day);
  if ($('#orders-status').value) params.set('status', $('#orders-status').value);
  return `/orders?${params}`;
}

let searches = 0; // the latest search wins: an older answer arriving late is dropped

async function loadOrders() {
  const query = ordersQuery();
  if (!query) return;
  replace($('#problem'));
  const mine = ++searches;
  const r = await api('orders', query);
  if (mine !== searches) return;
  if (!r.ok) { showProblem($('#problem'), r.problem); return; }
  const { orders } = r.data;
  const searched = $('#orders-q').value.trim() || $('#orders-day').value.trim();
  $('#orders-summary').textContent = `${orders.length} commande(s)${searched ? '' : ' des dernières 24 heures'}.`;
  replace($('#order-rows'), orders.map((o) => el('tr', { dataset: { order: o.id } },
    el('td', {}, o.number),
    el('td', {}, dateTime(o.created_at)),
    el('td', {}, o.contact.name),
    el('td', {}, phoneFr(o.contact.phone)),
    el('td', { class: 'num' }, euros(o.total_cents)),
    el('td', {}, STATUS[o.status] || o.status),
    el('td', {}, el('button', { type: 'button', class: 'secondary open', onclick: () => openOrder(o.id) }, 'Ouvrir')))));
}
onSubmit($('#orders-search'), loadOrders);

const CALLED_OFF_FROM = ['pending_payment', 'placed', 'preparing', 'ready', 'out_for_delivery'];
const REFUNDABLE = ['delivered', 'picked_up', 'failed_delivery', 'no_show'];

/** One order with its payment and history, and what the manager may do with it. */
async function openOrder(id) {
  const box = $('#order-detail');
  const r = await api('orders', `/orders/${id}`);
  if (!r.ok) { box.hidden = false; showProblem(box, r.problem); return; }
  const o = r.data.order;
  const pay = o.payment;
  const out = el('div', { 'aria-live': 'assertive', class: 'order-problem' });
  const kept = pay.paid_cents - pay.refunded_cents;
  const act = async (path, body) => {
    const res = await api('orders', `/orders/${id}/${path}`, { method: 'POST', body });
    if (!res.ok) { replace(out, problemBox(res.problem)); return; }
    await openOrder(id);
    await loadOrders();
  };
  const reason = (idPart, text) => el('input', { id: `${idPart}-${id}`, maxlength: 150, placeholder: text, 'aria-label': text });
  const actions = [];
  if (CALLED_OFF_FROM.includes(o.status)) {
    const why = reason('void-reason', 'Raison de l’annulation');
    actions.push(el('p', { class: 'void' }, why, ' ',
      el('button', { type: 'button', class: 'danger void-order', onclick: () => act('void', { reason: why.value }) }, 'Annuler la commande')));
  }
  if (o.status === 'ready' && o.fulfilment === 'pickup') {
    actions.push(el('p', {}, el('button', { type: 'button', class: 'secondary no-show', onclick: () => act('no-show') }, 'Non retirée')));
  }
  if (REFUNDABLE.includes(o.status) && kept > 0) {
    const amount = el('input', { id: `refund-amount-${id}`, type: 'number', min: 0.01, step: '0.01', max: (kept / 100).toFixed(2) });
    const why = reason('refund-reason', 'Raison du remboursement');
    actions.push(el('p', { class: 'refund' },
      el('label', { for: amount.id }, `Rembourser (au plus ${euros(kept)}) `), amount, ' € ', why, ' ',
      el('button', {
        type: 'button', class: 'refund-order',
        onclick: () => {
          const cents = Math.round(Number(amount.value.replace(',', '.')) * 100);
          if (!(cents > 0)) {
            replace(out, problemBox({ title: 'Montant invalide', detail: `Saisissez un montant en euros, au plus ${euros(kept)}.` }));
            return;
          }
          act('refund', { amount_cents: cents, refunded_cents: pay.refunded_cents, reason: why.value });
        },
      }, 'Rembourser')));
  }
  box.hidden = false;
  replace(box,
    el('h2', {}, `Commande n° ${o.number} — ${STATUS[o.status] || o.status}`),
    el('p', {}, `${o.contact.name} — ${phoneFr(o.contact.phone)} — ${o.fulfilment === 'delivery' ? 'Livraison' : 'À emporter'}`),
    el('ul', { class: 'lines' }, o.lines.map((l) => el('li', {}, `${l.quantity} × ${l.name} — ${euros(l.line_total_cents)}`))),
    el('p', { class: 'payment' },
      `Total ${euros(o.total_cents)} — payé ${euros(pay.paid_cents)}`,
      pay.refunded_cents ? ` — remboursé ${euros(pay.refunded_cents)}` : ''),
    el('ol', { class: 'history' }, o.history.map((h) => el('li', {},
      `${dateTime(h.at)} — ${STATUS[h.status] || h.status}${h.note ? ` — ${h.note}` : ''}`))),
    actions, out);
}

// ---- menu -----------------------------------------------------------------

async function loadProducts() {
  const [r, photos] = await Promise.all([api('backoffice', '/products'), loadPhotos()]);
  if (!r.ok) { showProblem($('#problem'), r.problem); return; }
  replace($('#product-rows'), r.data.products.map((p) => {
    const out = el('span', { 'aria-live': 'polite' });
    const onMenu = el('input', {
      type: 'checkbox', id: `on-menu-${p.id}`, checked: !p.unavailable_in.includes(pizzeria),
      onchange: async () => {
        const res = await api('backoffice', `/pizzerias/${pizzeria}/products/${p.id}/unavailable`, { method: onMenu.checked ? 'DELETE' : 'PUT' });
        replace(out, res.ok ? '' : problemBox(res.problem));
      },
    });
    const price = el('input', { type: 'number', min: 0, step: '0.01', value: (p.price_cents / 100).toFixed(2), id: `price-${p.id}` });
    const priceCell = admin
      ? el('form', {
        onsubmit: async (e) => {
          e.preventDefault();
          const res = await api('backoffice', `/products/${p.id}`, { method: 'PATCH', body: { price_cents: Math.round(Number(price.value) * 100) } });
          replace(out, res.ok ? 'Enregistré' : problemBox(res.problem));
        },
      }, el('label', { for: `price-${p.id}`, class: 'sr-only' }, `Prix de ${p.name}`), price, el('button', { type: 'submit' }, 'OK'))
      : euros(p.price_cents);
    return el('tr', { dataset: { product: p.id } },
      el('td', {}, p.name, p.active ? null : [' ', el('span', { class: 'badge bad' }, 'Retiré')]),
      el('td', {}, p.category),
      el('td', { class: 'num' }, priceCell),
      el('td', { class: 'num' }, `${(p.vat_rate_bp / 100).toLocaleString('fr-FR')} %`),
      el('td', {}, el('label', { class: 'choice', for: `on-menu-${p.id}` }, onMenu, 'À la carte'), out),
      photoCell(p, photos, admin));
  }));
}

// ---- staff ----------------------------------------------------------------

async function loadStaff() {
  const r = await api('accounts', `/staff?pizzeria_id=${pizzeria}`);
  if (!r.ok) { showProblem($('#problem'), r.problem); return; }
  replace($('#staff-rows'), r.data.staff.map((u) => el('tr', { dataset: { user: u.id } },
    el('td', {}, u.name),
    el('td', {}, u.email),
    el('td', {}, ROLE[u.role] || u.role),
    el('td', {}, u.active ? 'Actif' : el('span', { class: 'badge bad' }, 'Désactivé')),
    el('td', {}, u.active && u.id !== me.user.id ? el('button', {
      type: 'button', class: 'secondary',
      onclick: async () => {
        if (!window.confirm(`Désactiver le compte de ${u.name} ?`)) return;
        const res = await api('accounts', `/staff/${u.id}/deactivate`, { method: 'POST' });
        if (!res.ok) showProblem($('#problem'), res.problem);
        await loadStaff();
      },
    }, 'Désactiver') : null))));
}

onSubmit($('#new-staff'), async (e) => {
  const f = e.target.elements;
  const body = { name: f.name.value.trim(), email: f.email.value.trim(), phone: f.phone.value.trim(), role: f.role.value, password: f.password.value, pizzeria_id: pizzeria };
  const r = await api('accounts', '/staff', { method: 'POST', body });
  if (!r.ok) { replace($('#staff-problem'), problemBox(r.problem)); return; }
  replace($('#staff-problem'), el('p', { class: 'success' }, `Compte créé pour ${r.data.user.name}.`));
  e.target.reset();
  await loadStaff();
});

// ---- revenue --------------------------------------------------------------

const PALETTE = ['#a8281d', '#1a56c4', '#1f6b3a', '#8a5300', '#6b2fa3', '#00707a', '#b0306b', '#4a4a4a'];

// The report's days are Paris days: the default range ends on today in
// Paris (not in UTC, which is still yesterday between 00:00 and 01:00 or
// 02:00 in Paris). The fields read and take French dates (jj/mm/aaaa),
// whatever the browser's own language.
const parisDay = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris', year: 'numeric', month: '2-digit', day: '2-digit' });
/** "2026-12-05" → "05/12/2026" */
const frDate = (ymd) => ymd.split('-').reverse().join('/');
/** "5/12/2026" → "2026-12-05", or null when it is not a date. */
function isoDate(text) {
  const m = text.trim().match(/^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/);
  if (!m) return null;
  const iso = `${m[3]}-${m[2].padStart(2, '0')}-${m[1].padStart(2, '0')}`;
  const d = new Date(`${iso}T12:00:00Z`);
  return Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== iso ? null : iso;
}
const daysBefore = (ymd, n) => new Date(Date.parse(`${ymd}T12:00:00Z`) - n * 86400000).toISOString().slice(0, 10);
{
  const today = parisDay.format(new Date());
  $('#to').value = frDate(today);
  $('#from').value = frDate(daysBefore(today, 13));
}
// The admin sees the whole chain or one pizzeria; a manager, their own.
if (admin) {
  const r = await api('menu', '/pizzerias', { token: null });
  replace($('#revenue-scope'), el('option', { value: '' }, 'Toutes les pizzerias'),
    (r.ok ? r.data.pizzerias : []).map((p) => el('option', { value: p.id }, p.name)));
  $('#revenue-scope-box').hidden = false;
}
const scopeId = () => (admin ? $('#revenue-scope').value : String(pizzeria));

/** The report's query, or null (with the field's problem shown) when a date is wrong. */
const revenueQuery = (format) => {
  const from = isoDate($('#from').value);
  const to = isoDate($('#to').value);
  if (!from || !to) {
    showProblem($('#problem'), { title: 'Date invalide', detail: 'Saisissez les dates au format jj/mm/aaaa, par exemple 05/12/2026.' });
    return null;
  }
  const scope = scopeId() ? `pizzeria_id=${scopeId()}&` : '';
  return `/reports/revenue?${scope}from=${from}&to=${to}${format ? `&format=${format}` : ''}`;
};

async function loadRevenue() {
  const query = revenueQuery();
  if (!query) return;
  replace($('#problem'));
  const r = await api('backoffice', query);
  if (!r.ok) { showProblem($('#problem'), r.problem); return; }
  const report = r.data;
  const t = report.totals;
  replace($('#revenue-totals'), el('p', {},
    el('strong', {}, euros(t.revenue_incl_vat_cents)), ' TTC (', euros(t.revenue_excl_vat_cents), ' HT) — ',
    `${t.orders} commande(s), panier moyen ${euros(t.average_basket_cents)}`));
  drawChart(report);
}
onSubmit($('#revenue-form'), loadRevenue);
$('#csv').addEventListener('click', async () => {
  const query = revenueQuery('csv');
  if (!query) return;
  const { config, session } = await import('./common.js');
  const response = await fetch(config.functions.backoffice + query, { headers: { 'x-ocpizza-token': session().token } });
  if (!response.ok) { showProblem($('#problem'), { title: 'Export impossible', detail: 'Le fichier n’a pas pu être préparé : réessayez dans un instant.' }); return; }
  // Exactly one byte order mark first, which tells a spreadsheet the file is
  // UTF-8: the back office writes one, but a layer on the way may drop it
  // (the local Lambda emulator does), and text() takes it off when present.
  const csv = new Blob(['\ufeff', await response.text()], { type: 'text/csv;charset=utf-8' });
  const url = URL.createObjectURL(csv);
  // The name the back office gives it (it says the pizzeria or "toutes-pizzerias" and the range).
  const given = (response.headers.get('content-disposition') || '').match(/filename="?([^";]+)"?/)?.[1];
  const a = el('a', { href: url, download: given || `chiffre-affaires_${isoDate($('#from').value)}_${isoDate($('#to').value)}.csv` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
});
$('#revenue-scope').addEventListener('change', loadRevenue);

/** Stacked bars: one per day, one colour per pizzeria, revenue incl. VAT. */
function drawChart(report) {
  const series = report.pizzerias || [];
  const days = report.days.map((d) => d.date);
  const W = 820; const H = 320; const left = 70; const bottom = 40; const top = 16; const right = 10;
  const totals = days.map((_, i) => series.reduce((sum, p) => sum + (p.days[i]?.revenue_incl_vat_cents || 0), 0));
  const max = Math.max(1, ...totals);
  const step = niceStep(max / 4);
  const ceiling = Math.ceil(max / step) * step;
  const y = (cents) => top + (H - top - bottom) * (1 - cents / ceiling);
  const band = (W - left - right) / Math.max(1, days.length);
  const bar = Math.max(2, band * 0.7);
  const chart = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-labelledby': 'chart-title' },
    svg('title', { id: 'chart-title' }, `Chiffre d'affaires TTC par jour et par pizzeria, du ${report.from} au ${report.to}`));
  for (let v = 0; v <= ceiling; v += step) {
    chart.append(svg('line', { x1: left, x2: W - right, y1: y(v), y2: y(v), stroke: '#d9d2c7' }),
      svg('text', { x: left - 6, y: y(v) + 4, 'text-anchor': 'end' }, euros(v).replace(/,00/, '')));
  }
  days.forEach((date, i) => {
    let base = 0;
    const x = left + i * band + (band - bar) / 2;
    series.forEach((p, s) => {
      const cents = p.days[i]?.revenue_incl_vat_cents || 0;
      if (!cents) return;
      chart.append(svg('rect', { x, y: y(base + cents), width: bar, height: y(base) - y(base + cents), fill: PALETTE[s % PALETTE.length], dataset: { pizzeria: p.pizzeria_id, date } },
        svg('title', {}, `${p.name}, ${shortDay(date)} : ${euros(cents)}`)));
      base += cents;
    });
    if (i % Math.ceil(days.length / 8) === 0) { // at most 8 labels: they never overlap
      chart.append(svg('text', { x: x + bar / 2, y: H - bottom + 16, 'text-anchor': 'middle' }, shortDay(date)));
    }
  });
  replace($('#chart'), chart);
  $('#chart-caption').textContent = `Chiffre d'affaires TTC par jour (${days.length} jours), empilé par pizzeria.`;
  replace($('#legend'), series.map((p, s) => el('li', {},
    svg('svg', { width: 14, height: 14, 'aria-hidden': 'true', class: 'swatch' }, svg('rect', { width: 14, height: 14, rx: 3, fill: PALETTE[s % PALETTE.length] })),
    `${p.name} : ${euros(p.totals?.revenue_incl_vat_cents ?? p.days.reduce((n, d) => n + d.revenue_incl_vat_cents, 0))}`)));
}

function niceStep(raw) {
  const power = 10 ** Math.floor(Math.log10(Math.max(raw, 1)));
  for (const m of [1, 2, 5, 10]) if (m * power >= raw) return m * power;
  return 10 * power;
}

// The tabs are enabled (disabled in the HTML) only once the whole module has
// run: a click during the admin's wait for the pizzerias' list (a top-level
// await) would otherwise reach a loader whose helpers are not defined yet.
for (const t of TABS) {
  const tab = $(`#tab-${t}`);
  tab.addEventListener('click', () => show(t));
  tab.disabled = false;
}
if (me) show(TABS.includes(location.hash.slice(1)) ? location.hash.slice(1) : 'stock');
