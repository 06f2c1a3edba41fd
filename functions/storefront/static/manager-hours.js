// The manager's "Horaires" tab: pause online orders, the week's opening
// hours, and special days (closings, other hours). Times are typed as a
// pizzeria writes them on its door: "11:30-14:30, 18:00-01:00" (a period
// ending after midnight belongs to the day it starts).

import { $, api, el, problemBox, replace, session, showProblem, time } from './common.js';

const DAYS = ['Lundi', 'Mardi', 'Mercredi', 'Jeudi', 'Vendredi', 'Samedi', 'Dimanche'];
const hm = (t) => t.slice(0, 5);
/** [{opens_at, closes_at}] → "11:30-14:30, 18:00-01:00" */
const periodsText = (periods) => periods.map((p) => `${hm(p.opens_at)}-${hm(p.closes_at)}`).join(', ');

/** "11:30-14:30, 18h-1h" → periods, or null when a part does not read. */
function parsePeriods(text) {
  const parts = text.split(/[,;]/).map((t) => t.trim()).filter(Boolean);
  const times = (t) => {
    const m = /^(\d{1,2})(?:[:h](\d{2})?)?$/.exec(t.trim());
    if (!m || Number(m[1]) > 23 || Number(m[2] ?? 0) > 59) return null;
    return `${m[1].padStart(2, '0')}:${m[2] ?? '00'}`;
  };
  const periods = parts.map((part) => {
    const [a, b, extra] = part.split(/\s*[-–à]\s*/);
    const opens = a && times(a);
    const closes = b && times(b);
    return opens && closes && extra === undefined ? { opens_at: opens, closes_at: closes } : null;
  });
  return periods.includes(null) ? null : periods;
}

/** "24/12/2026" → "2026-12-24", or null. */
function isoDay(text) {
  const m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(text.trim());
  return m ? `${m[3]}-${m[2].padStart(2, '0')}-${m[1].padStart(2, '0')}` : null;
}
const frenchDay = (ymd) => new Intl.DateTimeFormat('fr-FR', { weekday: 'long', day: 'numeric', month: 'long', timeZone: 'UTC' })
  .format(new Date(`${ymd}T00:00:00Z`));

let pizzeria = null;

export async function loadHours(id) {
  pizzeria = id;
  const [r, list] = await Promise.all([api('backoffice', `/pizzerias/${pizzeria}/hours`), api('menu', '/pizzerias', { token: null })]);
  if (!r.ok) { showProblem($('#problem'), r.problem); return; }
  render(r.data);
  const p = list.ok ? list.data.pizzerias.find((x) => x.id === pizzeria) : null;
  if (p) showTerms(p);
}

const euro = (cents) => (cents / 100).toFixed(2).replace('.', ',');
const cents = (text) => Math.round(Number(String(text).replace(',', '.')) * 100);

/** The pizzeria's phone, delivery terms and kitchen times (and, for the admin, its state). */
function showTerms(p) {
  $('#terms-phone').value = p.phone;
  $('#terms-radius').value = String(p.delivery.radius_m / 1000).replace('.', ',');
  $('#terms-fee').value = euro(p.delivery.delivery_fee_cents);
  $('#terms-minimum').value = euro(p.delivery.min_order_cents);
  $('#terms-prep').value = String(p.prep_minutes);
  $('#terms-slots').value = String(p.slot_capacity);
  // The admin opens a pizzeria or puts it back to "opening soon"; one closed
  // for good is not reopened from here.
  const admin = session()?.user.role === 'admin';
  $('#terms-status-box').hidden = !admin || p.status === 'closed';
  $('#terms-status').value = p.status === 'opening_soon' ? 'opening_soon' : 'active';
  loadedStatus = $('#terms-status').value;
}
let loadedStatus = null;

$('#terms-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const out = $('#terms-problem');
  replace(out);
  // Only what is filled in: an emptied field is left as it was, never 0.
  const filled = (id) => $(id).value.trim();
  const body = {};
  if (filled('#terms-phone')) body.phone = filled('#terms-phone');
  if (filled('#terms-radius')) body.delivery_radius_m = Math.round(Number(filled('#terms-radius').replace(',', '.')) * 1000);
  if (filled('#terms-fee')) body.delivery_fee_cents = cents(filled('#terms-fee'));
  if (filled('#terms-minimum')) body.min_order_cents = cents(filled('#terms-minimum'));
  // A whole number, or what was typed (the server names the field to fix).
  const whole = (text) => (/^\d+$/.test(text) ? Number(text) : text);
  if (filled('#terms-prep')) body.prep_minutes = whole(filled('#terms-prep'));
  if (filled('#terms-slots')) body.slot_capacity = whole(filled('#terms-slots'));
  if (!$('#terms-status-box').hidden && $('#terms-status').value !== loadedStatus) body.status = $('#terms-status').value;
  const r = await api('backoffice', `/pizzerias/${pizzeria}`, { method: 'PATCH', body });
  if (!r.ok) { replace(out, problemBox(r.problem)); return; }
  showTerms(r.data.pizzeria);
  replace(out, el('p', { class: 'success' }, 'Enregistré.'));
});

function render(h) {
  // The pause.
  const pause = h.pause;
  $('#pause-state').textContent = pause
    ? `${pause.scope === 'delivery' ? 'Livraisons en ligne en pause' : 'Commandes en ligne en pause'} jusqu'à ${time(pause.until)}.${pause.message ? ` Message : « ${pause.message} »` : ''}`
    : `Commandes en ligne ouvertes${h.open_now ? '' : ' (la pizzeria est fermée en ce moment)'}.`;
  $('#resume').hidden = !pause;
  // The week.
  replace($('#week-rows'), DAYS.map((name, i) => {
    const periods = h.weekly.filter((p) => p.weekday === i + 1);
    return el('tr', {},
      el('th', { scope: 'row' }, el('label', { for: `day-${i + 1}` }, name)),
      el('td', {}, el('input', { id: `day-${i + 1}`, value: periodsText(periods), placeholder: 'Fermé', autocomplete: 'off' })));
  }));
  // The special days.
  replace($('#special-rows'), h.special_days.length ? h.special_days.map((d) => el('tr', { dataset: { day: d.date } },
    el('td', {}, frenchDay(d.date)),
    el('td', {}, d.periods.length ? periodsText(d.periods) : 'Fermé'),
    el('td', {}, d.note),
    el('td', {}, el('button', {
      type: 'button',
      class: 'secondary',
      onclick: () => change(`/pizzerias/${pizzeria}/special-days/${d.date}`, 'DELETE', undefined, $('#special-problem')),
    }, 'Supprimer')))) : el('tr', {}, el('td', { colspan: 4, class: 'muted' }, 'Aucun jour spécial prévu.')));
}

/** A change, then the tab as the server now has it; the problem (or null). */
async function change(path, method, body, out) {
  replace(out);
  const r = await api('backoffice', path, { method, body });
  if (!r.ok) { replace(out, problemBox(r.problem)); return r.problem; }
  render(r.data);
  return null;
}

$('#pause-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const body = {
    scope: $('#pause-scope').value,
    minutes: Number($('#pause-minutes').value),
    message: $('#pause-message').value.trim(),
  };
  if (!await change(`/pizzerias/${pizzeria}/pause`, 'PUT', body, $('#pause-problem'))) $('#pause-message').value = '';
});
$('#resume').addEventListener('click', () => change(`/pizzerias/${pizzeria}/pause`, 'DELETE', undefined, $('#pause-problem')));

$('#week-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const weekly = [];
  for (let day = 1; day <= 7; day += 1) {
    const periods = parsePeriods($(`#day-${day}`).value);
    if (!periods) {
      replace($('#week-problem'), problemBox({ title: 'Horaires illisibles', detail: `${DAYS[day - 1]} : écrivez les plages comme « 11:30-14:30, 18:00-01:00 », ou laissez vide si fermé.` }));
      return;
    }
    weekly.push(...periods.map((p) => ({ weekday: day, ...p })));
  }
  const out = $('#week-problem');
  const problem = await change(`/pizzerias/${pizzeria}/hours`, 'PUT', { weekly }, out);
  if (!problem) {
    out.append(el('p', { class: 'success' }, 'Horaires enregistrés.'));
    return;
  }
  // Which days to look at: the server names each period by its place in the week sent.
  const days = new Set((problem.fields || [])
    .map((f) => /^weekly\[(\d+)\]$/.exec(f)?.[1])
    .filter((i) => i !== undefined && weekly[Number(i)])
    .map((i) => DAYS[weekly[Number(i)].weekday - 1]));
  if (days.size) out.append(el('p', { class: 'problem' }, `À corriger : ${[...days].join(', ')}.`));
});

$('#special-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const day = isoDay($('#special-date').value);
  const periods = parsePeriods($('#special-hours').value);
  if (!day || !periods) {
    replace($('#special-problem'), problemBox({ title: 'Jour spécial illisible', detail: 'Date au format jj/mm/aaaa ; horaires comme « 18:00-02:00 », ou vide pour fermé.' }));
    return;
  }
  const body = { periods, note: $('#special-note').value.trim() };
  if (!await change(`/pizzerias/${pizzeria}/special-days/${day}`, 'PUT', body, $('#special-problem'))) {
    for (const id of ['#special-date', '#special-hours', '#special-note']) $(id).value = '';
  }
});

for (const button of document.querySelectorAll('#hours button[type="submit"]')) button.disabled = false;
