// The kitchen display: the pizzeria's tickets in arrival order, each with
// its age and every pizza's recipe card, and big start / ready buttons. New
// tickets arrive by themselves (a poll every 3 s, a bodiless 304 while
// nothing changes) and are announced on screen.

import { $, api, duration, el, frame, poll, replace, requireStaff, showProblem, staffPizzeria, time } from './common.js';
import { allergensText } from './order-form.js';

frame();
const me = requireStaff(['pizzaiolo', 'manager', 'admin']);
const pizzeria = me ? await staffPizzeria(me) : null;
let etag = null;
let tickets = [];
let fetchedAt = Date.now();
const seen = new Set();
let firstLoad = true;
const fresh = new Set();

async function load() {
  const r = await api('kitchen', `/pizzerias/${pizzeria}/tickets`, { etag });
  if (r.status === 304) return;
  if (!r.ok) { showProblem($('#problem'), r.problem); return; }
  replace($('#problem'));
  etag = r.etag;
  tickets = r.data.tickets;
  fetchedAt = Date.now();
  const arrived = tickets.filter((t) => !seen.has(t.order_id));
  arrived.forEach((t) => { seen.add(t.order_id); if (!firstLoad) fresh.add(t.order_id); });
  if (!firstLoad && arrived.length) {
    const cue = $('#cue');
    cue.textContent = arrived.length === 1 ? `Nouvelle commande : n° ${arrived[0].number}` : `${arrived.length} nouvelles commandes`;
    cue.hidden = false;
    document.title = `(${arrived.length}) Cuisine — OC Pizza`;
    setTimeout(() => { cue.hidden = true; document.title = 'OC Pizza — Cuisine'; }, 15000);
  }
  firstLoad = false;
  render();
}

// The card's quantities are for the line's size, without what was left
// off; the extras asked for come last, marked.
function recipeCard(recipe) {
  if (!recipe) return null;
  return el('div', { class: 'recipe' },
    el('ul', { 'aria-label': 'Ingrédients' }, recipe.ingredients.map((i) => el('li', { class: i.extra ? 'extra' : undefined },
      `${i.extra ? '+ ' : ''}${i.name} : ${i.quantity} ${i.unit}${i.extra ? ' (supplément)' : ''}`))),
    recipe.steps?.length ? el('ol', { 'aria-label': 'Étapes' }, recipe.steps.map((s) => el('li', {}, s))) : null);
}

function render() {
  $('#empty').hidden = tickets.length > 0;
  replace($('#tickets'), tickets.map((t) => el('li', {
    class: `ticket ${t.status}${fresh.has(t.order_id) ? ' new' : ''}`, dataset: { order: t.order_id },
  },
  el('header', {},
    el('span', { class: 'number' }, `n° ${t.number}`),
    el('span', { class: 'age', dataset: { age: t.age_seconds } }, duration(t.age_seconds))),
  el('div', {}, el('span', { class: 'badge' }, t.fulfilment === 'delivery' ? 'Livraison' : 'À emporter'), ' ',
    t.slot_at ? [el('span', { class: 'badge slot' }, `Programmée ${time(t.slot_at)}`), ' '] : null, t.contact?.name || '',
    t.status === 'preparing' ? el('span', { class: 'badge warn' }, ' En préparation') : null),
  t.lines.map((l, i) => el('section', {}, el('h3', {}, `${l.quantity} × ${l.name}`), asked(l), recipeCard(l.recipe),
    t.status === 'preparing' && l.recipe ? remake(t, l, i + 1) : null)),
  t.status === 'waiting'
    ? el('button', { type: 'button', class: 'big start', onclick: () => act(t, 'start') }, 'Commencer')
    : el('button', { type: 'button', class: 'big ready', onclick: () => act(t, 'ready') }, 'Prête'))));
  tickAges();
}

/**
 * What the customer asked for a line, to be seen at a glance: the size,
 * each topping to leave off (SANS, it stands out), each extra, the note,
 * and the allergens.
 */
function asked(l) {
  const removed = l.removed || [];
  const extras = l.extras || [];
  const allergens = allergensText(l.allergens);
  return el('div', { class: 'asked' },
    l.size ? el('p', { class: 'size' }, l.size) : null,
    removed.length || extras.length ? el('ul', { class: 'changes', 'aria-label': 'Demandes du client' },
      removed.map((name) => el('li', {}, el('strong', { class: 'without' }, `SANS ${name}`))),
      extras.map((name) => el('li', { class: 'with' }, `+ ${name}`))) : null,
    l.note ? el('p', { class: 'note' }, `« ${l.note} »`) : null,
    allergens ? el('p', { class: 'allergens' }, `Allergènes : ${allergens}`) : null);
}

function tickAges() {
  const elapsed = (Date.now() - fetchedAt) / 1000;
  for (const node of document.querySelectorAll('.ticket .age')) {
    const age = Number(node.dataset.age) + elapsed;
    node.textContent = duration(age);
    node.classList.toggle('late', age > 20 * 60);
  }
}

// A pizza burnt or dropped: made again, its ingredients recorded as waste.
function remake(ticket, line, lineNo) {
  const why = el('input', { id: `remake-${ticket.order_id}-${lineNo}`, value: 'Brûlée', maxlength: 150 });
  return el('details', { class: 'remake' },
    el('summary', {}, `Refaire 1 ${line.name}`),
    el('p', {}, el('label', { for: why.id }, 'Raison '), why, ' ',
      el('button', {
        type: 'button', class: 'redo',
        onclick: async () => {
          const r = await api('kitchen', `/tickets/${ticket.order_id}/remake`, { method: 'POST', body: { line_no: lineNo, quantity: 1, reason: why.value } });
          if (!r.ok) { showProblem($('#problem'), r.problem); return; }
          const cue = $('#cue');
          cue.textContent = `À refaire : 1 ${line.name} (n° ${ticket.number})`;
          cue.hidden = false;
        },
      }, 'Refaire')));
}

async function act(ticket, action) {
  const r = await api('kitchen', `/tickets/${ticket.order_id}/${action}`, { method: 'POST' });
  if (!r.ok) showProblem($('#problem'), r.problem);
  fresh.delete(ticket.order_id);
  etag = null;
  await load();
}

if (me) {
  setInterval(tickAges, 1000);
  poll(load, () => 3000).now();
}
