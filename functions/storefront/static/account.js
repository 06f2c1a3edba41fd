// Sign-in (customers and staff), sign-up, and a customer's past orders.

import {
  $, STATUS, api, dateTime, el, euros, frame, homeOf, onSubmit, problemBox, rememberedOrders, replace, saveSession, session, showProblem, signOut, trackUrl,
} from './common.js';

frame();
const next = new URLSearchParams(location.search).get('next');

async function signIn(email, password, out) {
  const r = await api('accounts', '/sessions', { method: 'POST', body: { email, password }, token: null });
  if (!r.ok) { showProblem(out, r.problem); return; }
  saveSession(r.data);
  const role = r.data.user.role;
  if (next && /^[a-z]+\.html$/.test(next) && role !== 'customer') location.href = next;
  else if (role !== 'customer') location.href = homeOf(role);
  else location.reload();
}

onSubmit($('#login'), () => {
  signIn($('#login-email').value.trim(), $('#login-password').value, $('#login-problem'));
});

// A forgotten password: the answer is the same whether or not the address
// has an account; the link comes by e-mail and opens set-password.html.
onSubmit($('#forgot'), async () => {
  const out = $('#forgot-problem');
  replace(out);
  const email = $('#forgot-email').value.trim();
  const r = await api('accounts', '/password-resets', { method: 'POST', body: { email }, token: null });
  if (!r.ok) { showProblem(out, r.problem); return; }
  $('#forgot-done').textContent = r.data.message;
});

onSubmit($('#signup'), async () => {
  const body = {
    name: $('#signup-name').value.trim(),
    phone: $('#signup-phone').value.trim(),
    email: $('#signup-email').value.trim(),
    password: $('#signup-password').value,
  };
  const out = $('#signup-problem');
  const r = await api('accounts', '/accounts', { method: 'POST', body, token: null });
  if (!r.ok) { replace(out, problemBox(r.problem)); return; }
  await signIn(body.email, body.password, out);
});

// A customer's data: a copy to download, and the account's deletion.
async function downloadData() {
  const out = $('#export-problem');
  replace(out);
  const r = await api('accounts', '/me/export');
  if (!r.ok) { showProblem(out, r.problem); return; }
  const file = new Blob([JSON.stringify(r.data, null, 2)], { type: 'application/json' });
  const link = el('a', { href: URL.createObjectURL(file), download: 'mes-donnees-oc-pizza.json' });
  document.body.append(link);
  link.click();
  link.remove();
}

// Their name and phone, and their password (a new session: the others end).
function myProfile(me) {
  $('#my-profile').hidden = false;
  $('#profile-name').value = me.user.name;
  $('#profile-phone').value = me.user.phone || '';
  onSubmit($('#profile'), async () => {
    const out = $('#profile-problem');
    replace(out);
    $('#profile-done').textContent = '';
    const body = { name: $('#profile-name').value.trim(), phone: $('#profile-phone').value.trim() };
    const r = await api('accounts', '/me', { method: 'PATCH', body });
    if (!r.ok) { showProblem(out, r.problem); return; }
    saveSession({ ...session(), user: r.data.user });
    $('#title').textContent = `Bonjour ${r.data.user.name}`;
    $('#profile-done').textContent = 'Profil enregistré.';
  });
  onSubmit($('#password'), async () => {
    const out = $('#password-problem');
    replace(out);
    $('#password-done').textContent = '';
    const body = { current_password: $('#current-password').value, new_password: $('#changed-password').value };
    const r = await api('accounts', '/me/password', { method: 'POST', body });
    if (!r.ok) { showProblem(out, r.problem); return; }
    saveSession(r.data);
    $('#password').reset();
    $('#password-done').textContent = 'Mot de passe changé : vos autres sessions sont terminées.';
  });
}

// A new e-mail: a link goes to it; the account changes once it is opened.
function myEmail() {
  onSubmit($('#email-change'), async () => {
    const out = $('#email-problem');
    replace(out);
    $('#email-done').textContent = '';
    const body = { new_email: $('#new-email').value.trim(), password: $('#email-password').value };
    const r = await api('accounts', '/me/email', { method: 'POST', body });
    if (!r.ok) { showProblem(out, r.problem); return; }
    $('#email-change').reset();
    $('#email-done').textContent = r.data.message;
  });
}

// The address book, offered at checkout.
function showAddresses(addresses) {
  const list = $('#address-list');
  if (!addresses.length) { replace(list, el('li', { class: 'muted' }, 'Aucune adresse enregistrée.')); return; }
  replace(list, addresses.map((a) => el('li', { dataset: { address: a.id } },
    el('strong', {}, a.label), ` — ${a.line1}, ${a.postcode} ${a.city} `,
    el('button', {
      type: 'button',
      class: 'secondary',
      'aria-label': `Supprimer l’adresse ${a.label}`,
      onclick: async () => {
        const out = $('#address-list-problem');
        replace(out);
        const r = await api('accounts', `/me/addresses/${a.id}`, { method: 'DELETE' });
        if (!r.ok) { showProblem(out, r.problem); return; }
        showAddresses(r.data.addresses);
      },
    }, 'Supprimer'))));
}

async function myAddresses() {
  $('#my-addresses').hidden = false;
  const r = await api('accounts', '/me/addresses');
  if (!r.ok) { showProblem($('#address-list-problem'), r.problem); return; }
  showAddresses(r.data.addresses);
  onSubmit($('#address-add'), async () => {
    const out = $('#address-problem');
    replace(out);
    $('#address-done').textContent = '';
    const body = {
      label: $('#address-label').value.trim(),
      line1: $('#address-line1').value.trim(),
      postcode: $('#address-postcode').value.trim(),
      city: $('#address-city').value.trim(),
    };
    const added = await api('accounts', '/me/addresses', { method: 'POST', body });
    if (!added.ok) { showProblem(out, added.problem); return; }
    $('#address-add').reset();
    // The list first, then the message: who reads "enregistrée" sees it listed.
    const all = await api('accounts', '/me/addresses');
    if (all.ok) showAddresses(all.data.addresses);
    $('#address-done').textContent = `Adresse « ${added.data.address.label} » enregistrée.`;
  });
}

// The link e-mailed to a new address: #email-token=… (a fragment, never
// sent to a server). Works signed in or not, on any device.
async function confirmEmail() {
  const token = new URLSearchParams(location.hash.slice(1)).get('email-token');
  if (!token) return;
  history.replaceState(null, '', location.pathname + location.search);
  const out = $('#email-confirmed');
  const r = await api('accounts', '/email-confirmations', { method: 'POST', body: { token }, token: null });
  if (!r.ok) { showProblem(out, r.problem); return; }
  replace(out, el('p', { class: 'notice' }, `Votre adresse e-mail est désormais ${r.data.email}.`));
  // Signed in on this device: the session's copy of the account follows.
  if (session()) {
    const fresh = await api('accounts', '/me');
    if (fresh.ok) saveSession({ ...session(), user: fresh.data.user });
  }
}

function myData() {
  $('#my-data').hidden = false;
  $('#export').addEventListener('click', downloadData);
  onSubmit($('#delete-account'), async () => {
    const out = $('#delete-problem');
    replace(out);
    const r = await api('accounts', '/me', { method: 'DELETE', body: { password: $('#delete-password').value } });
    if (!r.ok) { showProblem(out, r.problem); return; }
    signOut(false);
    $('#signed-in').hidden = true;
    $('#my-profile').hidden = true;
    $('#my-data').hidden = true;
    $('#my-addresses').hidden = true;
    $('#title').textContent = 'Compte supprimé';
    replace($('#deleted'), r.data.message);
  });
}

async function showOrders(me) {
  $('#signed-out').hidden = true;
  $('#signed-in').hidden = false;
  myProfile(me);
  myEmail();
  myAddresses();
  myData();
  $('#title').textContent = `Bonjour ${me.user.name}`;
  const r = await api('orders', '/orders');
  const box = $('#orders');
  if (!r.ok) { showProblem(box, r.problem); return; }
  const orders = r.data.orders;
  if (!orders.length) { replace(box, el('p', { class: 'muted' }, 'Aucune commande pour l’instant. ', el('a', { href: './' }, 'Commander'))); return; }
  replace(box, el('table', {},
    el('thead', {}, el('tr', {}, el('th', {}, 'N°'), el('th', {}, 'Date'), el('th', {}, 'État'), el('th', { class: 'num' }, 'Total'), el('th', {}, ''))),
    el('tbody', {}, orders.map((o) => el('tr', { dataset: { order: o.id } },
      el('td', {}, o.number),
      el('td', {}, dateTime(o.created_at.endsWith('Z') ? o.created_at : `${o.created_at}Z`)),
      el('td', {}, STATUS[o.status] || o.status),
      el('td', { class: 'num' }, euros(o.total_cents)),
      el('td', {}, el('a', { href: `track.html?order=${o.id}` }, 'Suivre')))))));
}

confirmEmail();
const me = session();
if (me && me.user.role === 'customer') showOrders(me);
else if (me) {
  $('#signed-out').hidden = true;
  $('#title').textContent = `Connecté : ${me.user.name}`;
  replace($('#signed-in'), el('p', {}, el('a', { class: 'button', href: homeOf(me.user.role) }, 'Aller à mon écran')));
  $('#signed-in').hidden = false;
}
const mine = rememberedOrders();
if (!me && mine.length) {
  $('#guest-orders').hidden = false;
  replace($('#guest-list'), mine.map((o) => el('li', {}, el('a', { href: trackUrl(o) }, `Commande ${o.number}`), ` — ${dateTime(o.at)}`)));
}
