// The page of a one-time link (`#token=…`, never sent to a server): the
// password is set, and the person is signed in and taken to their screen.
import { $, api, homeOf, onSubmit, problemBox, replace, saveSession, showProblem } from './common.js';

const token = new URLSearchParams(location.hash.slice(1)).get('token');
// The token leaves the address bar (and the history) at once.
history.replaceState(null, '', location.pathname);

if (!token) {
  replace($('#set-problem'), problemBox({ title: 'Lien incomplet', detail: 'Ouvrez le lien tel que vous l\'avez reçu, en entier.' }));
}

onSubmit($('#set-password'), async () => {
  const out = $('#set-problem');
  const password = $('#new-password').value;
  if (password !== $('#new-password-again').value) {
    replace(out, problemBox({ title: 'Les deux mots de passe diffèrent', detail: 'Tapez le même mot de passe deux fois.' }));
    return;
  }
  const r = await api('accounts', '/password-links', { method: 'POST', body: { token, new_password: password }, token: null });
  if (!r.ok) { showProblem(out, r.problem); return; }
  saveSession(r.data);
  location.href = homeOf(r.data.user.role);
});
