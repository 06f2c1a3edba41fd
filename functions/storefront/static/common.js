// What every page shares: where the functions live (config.json), calls to
// them with ETags and problems, the session, French formats, and a small DOM
// helper that never parses HTML (all text goes in as text).

import { inFrench } from './problems.js';

export const config = await fetch('config.json', { cache: 'no-cache' })
  .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`config.json: ${r.status}`))));

// ---- formats -------------------------------------------------------------

const money = new Intl.NumberFormat('fr-FR', { style: 'currency', currency: 'EUR' });
/** 1250 → "12,50 €" */
export const euros = (cents) => money.format((cents ?? 0) / 100);

const when = new Intl.DateTimeFormat('fr-FR', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'Europe/Paris' });
const clock = new Intl.DateTimeFormat('fr-FR', { hour: '2-digit', minute: '2-digit', timeZone: 'Europe/Paris' });
const day = new Intl.DateTimeFormat('fr-FR', { weekday: 'short', day: 'numeric', month: 'short', timeZone: 'UTC' });
export const dateTime = (iso) => (iso ? when.format(new Date(iso)) : '');
export const time = (iso) => (iso ? clock.format(new Date(iso)) : '');
const longDay = new Intl.DateTimeFormat('fr-FR', { weekday: 'long', day: 'numeric', month: 'long', timeZone: 'Europe/Paris' });
/** An instant's day in Paris: "samedi 5 décembre". */
export const dayOf = (iso) => (iso ? longDay.format(new Date(iso)) : '');

/**
 * When an order will be ready or at the door, as the customer reads it:
 * "Prête vers 19:40", "Livrée vers 20:05", and a pre-order's day and time
 * until the kitchen runs later than its slot ('' when nothing is to come).
 */
export function promiseText(o) {
  const delivery = o.fulfilment === 'delivery';
  if (!o.promised_at) return '';
  if (o.slot_at && new Date(o.promised_at) <= new Date(o.slot_at)) {
    return delivery
      ? `Livraison programmée le ${dayOf(o.slot_at)} vers ${time(o.slot_at)}`
      : `À retirer le ${dayOf(o.slot_at)} à ${time(o.slot_at)}`;
  }
  return delivery ? `Livrée vers ${time(o.promised_at)}` : `Prête vers ${time(o.promised_at)}`;
}
/** "2026-11-29" → "dim. 29 nov." */
export const shortDay = (ymd) => day.format(new Date(`${ymd}T00:00:00Z`));

const opening = new Intl.DateTimeFormat('fr-FR', { weekday: 'long', hour: '2-digit', minute: '2-digit', timeZone: 'Europe/Paris' });
/** When a closed pizzeria opens, as a sentence: " Ouvre lundi 18:00." ('' when unknown). */
export const opensText = (iso) => (iso ? ` Ouvre ${opening.format(new Date(iso))}.` : '');

/** "+33645678901" → "06 45 67 89 01"; another country's number stays international. */
export function phoneFr(e164) {
  const text = String(e164 ?? '');
  const m = text.match(/^\+33(\d{9})$/);
  return m ? `0${m[1]}`.replace(/(\d\d)(?=\d)/g, '$1 ') : text;
}

/** 75 → "1 min 15 s"; 3700 → "1 h 01 min" */
export function duration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

export const STATUS = {
  pending_payment: 'En attente du paiement',
  placed: 'Commande reçue',
  preparing: 'En préparation',
  ready: 'Prête',
  out_for_delivery: 'En livraison',
  delivered: 'Livrée',
  picked_up: 'Retirée',
  cancelled: 'Annulée',
  failed_delivery: 'Livraison impossible',
  no_show: 'Non retirée',
  voided: 'Annulée par la pizzeria',
};
export const FINISHED = new Set(['delivered', 'picked_up', 'cancelled', 'failed_delivery', 'no_show', 'voided']);
export const ROLE = {
  customer: 'Client', cashier: 'Caisse', pizzaiolo: 'Pizzaiolo', courier: 'Livreur', manager: 'Gérant', admin: 'Administrateur',
};

// ---- DOM -----------------------------------------------------------------

/** el('button', {class: 'big', onclick: f}, 'Texte', child) */
export function el(tag, attrs = {}, ...children) {
  const node = tag === 'svg' || attrs.svg
    ? document.createElementNS('http://www.w3.org/2000/svg', tag)
    : document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false || key === 'svg') continue;
    if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  append(node, children);
  return node;
}
function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}
export const svg = (tag, attrs = {}, ...children) => el(tag, { ...attrs, svg: true }, ...children);
export const $ = (selector, root = document) => root.querySelector(selector);
export function replace(node, ...children) { node.replaceChildren(); append(node, children); }

/**
 * Handles `form`'s submissions in the page, then enables its submit buttons.
 * They are `disabled` in the HTML: the modules wait for config.json first, and
 * a click before the handler is attached would submit the form natively.
 */
export function onSubmit(form, handler) {
  form.addEventListener('submit', (e) => { e.preventDefault(); handler(e); });
  for (const button of form.querySelectorAll('button[type="submit"]')) button.disabled = false;
}

// ---- calls ---------------------------------------------------------------

/** A call that got no whole answer: no connection, or a body cut off. */
const unreachable = () => ({ status: 0, ok: false, problem: { title: 'Service injoignable', detail: 'Vérifiez votre connexion puis réessayez.' } });

/**
 * Calls function `fn` at `path`. Answers {status, ok, data, etag, problem}:
 * never throws; a network failure is status 0 with a problem in French.
 */
/** The hex SHA-256 of a text or of bytes, as AWS signatures want a body's. */
async function sha256Hex(data) {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * `bytes` (an ArrayBuffer) is sent as the body instead of JSON, as
 * `contentType`: a photo for the photos function.
 */
export async function api(fn, path, { method = 'GET', body, bytes, contentType, token, etag, idempotencyKey } = {}) {
  const base = config.functions[fn];
  const headers = { accept: 'application/json' };
  const bearer = token === undefined ? session()?.token : token;
  // Not `Authorization`: behind CloudFront's Origin Access Control that header
  // carries CloudFront's own signature to the function.
  if (bearer) headers['x-ocpizza-token'] = bearer;
  const text = body === undefined ? undefined : JSON.stringify(body);
  if (text !== undefined) headers['content-type'] = 'application/json';
  if (bytes !== undefined) headers['content-type'] = contentType;
  // Origin Access Control signs the request for the function URL, and for a
  // POST, PUT or PATCH it needs the body's SHA-256 (of '' when empty) from us.
  if (method !== 'GET' && method !== 'HEAD') headers['x-amz-content-sha256'] = await sha256Hex(bytes ?? text ?? '');
  if (etag) headers['if-none-match'] = etag;
  if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
  let response;
  try {
    response = await fetch(base + path, { method, headers, body: bytes ?? text, cache: 'no-store' });
  } catch {
    return unreachable();
  }
  const result = { status: response.status, ok: response.ok, etag: response.headers.get('etag') };
  if (response.status === 304 || response.status === 204) return result;
  let answer;
  try {
    answer = await response.text();
  } catch {
    // The body was cut off (the connection dropped, or the page is being left).
    return unreachable();
  }
  let data = null;
  try { data = answer ? JSON.parse(answer) : null; } catch { data = null; }
  if (response.ok) {
    result.data = data;
  } else {
    // In French, by its type and fields; the server's own words are for developers.
    result.problem = inFrench(data, response.status);
    if (response.status === 401 && bearer && fn !== 'accounts') signOut(false);
    // A limit of ours explains itself (in French); a bare 429 or 503 is the edge's.
    if ((response.status === 429 || response.status === 503) && !data?.detail) {
      result.problem = { title: 'Service momentanément suspendu', detail: config.notice || 'Trop de demandes en ce moment : réessayez dans un instant.' };
    }
  }
  return result;
}

/** A problem as the user reads it, with each listed error. */
export function problemBox(problem) {
  if (!problem) return null;
  // A server's problem was put in French by `api`; the pages' own are French.
  const items = Array.isArray(problem.errors) ? [...new Set(problem.errors.map(String))].map((e) => el('li', {}, e)) : [];
  return el('div', { class: 'problem', role: 'alert' },
    el('strong', {}, problem.title || 'Erreur'),
    problem.detail ? el('div', {}, problem.detail) : null,
    items.length ? el('ul', {}, items) : null);
}

export function showProblem(container, problem) { replace(container, problemBox(problem)); }

/** A fresh idempotency key. */
export const newKey = () => (crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`);

// ---- session -------------------------------------------------------------

const SESSION = 'ocpizza.session';
export function session() {
  try {
    const s = JSON.parse(localStorage.getItem(SESSION));
    if (s && s.token && new Date(s.expires_at) > new Date()) return s;
  } catch { /* none */ }
  return null;
}
export function saveSession(s) { localStorage.setItem(SESSION, JSON.stringify(s)); }
export function signOut(go = true) {
  localStorage.removeItem(SESSION);
  if (go) location.href = 'account.html';
}
const STAFF_HOME = {
  cashier: 'cashier.html', pizzaiolo: 'kitchen.html', courier: 'courier.html', manager: 'manager.html', admin: 'manager.html',
};
export const homeOf = (role) => STAFF_HOME[role] || './';

/** The signed-in staff member of one of `roles`, or a redirect to sign in. */
export function requireStaff(roles) {
  const s = session();
  if (s && roles.includes(s.user.role)) return s;
  const back = encodeURIComponent(location.pathname.split('/').pop() || '');
  location.replace(`account.html?next=${back}`);
  return null;
}

// ---- page frame ----------------------------------------------------------

/** The top bar's links for who is signed in, and the site notice. */
export function frame() {
  const nav = $('#nav');
  const s = session();
  const links = [el('a', { href: './' }, 'Commander')];
  if (s) {
    const role = s.user.role;
    if (role === 'customer') links.push(el('a', { href: 'account.html' }, 'Mes commandes'));
    if (['pizzaiolo', 'manager', 'admin'].includes(role)) links.push(el('a', { href: 'kitchen.html' }, 'Cuisine'));
    if (['courier', 'manager', 'admin'].includes(role)) links.push(el('a', { href: 'courier.html' }, 'Livraisons'));
    if (['cashier', 'manager', 'admin'].includes(role)) links.push(el('a', { href: 'cashier.html' }, 'Caisse'));
    if (['manager', 'admin'].includes(role)) links.push(el('a', { href: 'manager.html' }, 'Gestion'));
    links.push(el('span', { class: 'who' }, `${s.user.name} (${ROLE[role] || role})`));
    links.push(el('a', { href: 'account.html', onclick: (e) => { e.preventDefault(); signOut(); } }, 'Se déconnecter'));
  } else {
    links.push(el('a', { href: 'account.html' }, 'Se connecter'));
  }
  if (nav) replace(nav, links);
  const notice = $('#notice');
  if (notice && config.notice) { notice.textContent = config.notice; notice.hidden = false; }
}

/**
 * Polls `load` (which answers true when it changed something) every
 * `interval()` ms while the tab is visible; stops when `interval()` answers
 * null; polls at once when the tab comes back.
 */
export function poll(load, interval) {
  let timer = null;
  let running = false;
  const schedule = () => {
    clearTimeout(timer);
    const ms = interval();
    if (ms !== null && !document.hidden) timer = setTimeout(tick, ms);
  };
  const tick = async () => {
    if (running) return;
    running = true;
    try { await load(); } finally { running = false; schedule(); }
  };
  document.addEventListener('visibilitychange', () => {
    if (document.hidden) clearTimeout(timer);
    else tick();
  });
  return { now: tick, schedule };
}

// ---- card payments -------------------------------------------------------

let stripeLoading = null;
/** Stripe.js (locally localstripe's stand-in), loaded once, when needed. */
export function loadStripe() {
  stripeLoading ??= new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = config.stripe.js_url;
    script.onload = () => resolve(window.Stripe(config.stripe.publishable_key));
    script.onerror = () => { stripeLoading = null; reject(new Error('Stripe.js')); };
    document.head.append(script);
  });
  return stripeLoading;
}

/** What a PaymentIntent's status means once 3-D Secure is over: paid (or being paid). */
const PAID_INTENT = new Set(['succeeded', 'processing', 'requires_capture']);

/**
 * Pays order `id` with the card in `cardElement`: Stripe.js makes a token in
 * the browser, the orders function pays what the order owes with it (the
 * whole order, or the difference after it was made bigger), and 3-D Secure,
 * when the bank asks, is completed here with the client secret of the
 * PaymentIntent the answer names (`clientSecret`, the checkout's, when it
 * names none). Answers {ok, status, problem}, the problem in French; a
 * failure leaves the order waiting, so the customer may try again.
 */
export async function payByCard(stripe, cardElement, { id, token, clientSecret }) {
  const tokenised = await stripe.createToken(cardElement);
  if (tokenised.error || !tokenised.token) {
    return { ok: false, problem: { title: 'Carte refusée', detail: tokenised.error?.message || 'Vérifiez le numéro, la date et le cryptogramme.' } };
  }
  const query = token ? `?token=${encodeURIComponent(token)}` : '';
  const paid = await api('orders', `/orders/${id}/payment/card${query}`, { method: 'POST', body: { card_token: tokenised.token.id } });
  if (!paid.ok) {
    const problem = paid.status === 402
      ? { title: 'Carte refusée', detail: 'Votre banque a refusé ce paiement. Vérifiez la carte ou essayez-en une autre.' }
      : paid.status === 503 && paid.problem?.title !== 'Service momentanément suspendu'
        ? { title: 'Paiement par carte indisponible', detail: 'Le service de paiement ne répond pas : réessayez dans un instant.' }
        : paid.problem;
    return { ok: false, status: paid.status, problem };
  }
  const intent = paid.data?.payment_intent;
  if (intent?.status === 'requires_action') {
    const secret = intent.client_secret || clientSecret;
    const refused = { title: 'Authentification refusée', detail: 'Votre banque n’a pas confirmé le paiement (3-D Secure). Réessayez, ou payez avec une autre carte.' };
    if (!secret) return { ok: false, status: 0, problem: refused };
    const auth = await stripe.confirmCardPayment(secret);
    // Stripe.js answers an error; localstripe's stand-in answers the
    // PaymentIntent back to `requires_payment_method`.
    if (auth.error || !PAID_INTENT.has(auth.paymentIntent?.status)) return { ok: false, status: 0, problem: refused };
    await api('orders', `/orders/${id}/payment/refresh${query}`, { method: 'POST' });
  }
  return { ok: true, status: paid.status };
}

/** The orders a guest placed from this browser, to find their tracker again. */
export function rememberOrder(order) {
  const list = JSON.parse(localStorage.getItem('ocpizza.orders') || '[]').filter((o) => o.id !== order.id);
  list.unshift({ id: order.id, number: order.number, token: order.tracking_token, at: new Date().toISOString() });
  localStorage.setItem('ocpizza.orders', JSON.stringify(list.slice(0, 10)));
}
export const rememberedOrders = () => JSON.parse(localStorage.getItem('ocpizza.orders') || '[]');
export const trackUrl = (order) => `track.html?order=${order.id}${order.tracking_token || order.token ? `&token=${encodeURIComponent(order.tracking_token || order.token)}` : ''}`;

/**
 * The pizzeria a staff screen works on: the staff member's own; the admin
 * (and a manager, for their own) picks from the list, remembered here.
 */
export async function staffPizzeria(me) {
  if (me.user.role !== 'admin' && me.user.pizzeria_id) {
    const r = await api('menu', '/pizzerias', { token: null });
    const p = r.ok ? r.data.pizzerias.find((x) => x.id === me.user.pizzeria_id) : null;
    const name = $('#pizzeria-name');
    if (name && p) name.textContent = `— ${p.name}`;
    return me.user.pizzeria_id;
  }
  const r = await api('menu', '/pizzerias', { token: null });
  const list = r.ok ? r.data.pizzerias : [];
  const select = $('#pizzeria');
  const saved = Number(localStorage.getItem('ocpizza.staff-pizzeria'));
  replace(select, list.map((p) => el('option', { value: p.id }, p.name)));
  if (list.some((p) => p.id === saved)) select.value = String(saved);
  $('#pizzeria-choice').hidden = false;
  select.addEventListener('change', () => {
    localStorage.setItem('ocpizza.staff-pizzeria', select.value);
    location.reload();
  });
  return Number(select.value);
}
