// The admin's "Choix et allergènes" tab: what the menu's choices are made
// of. Each ingredient's allergens (the 14 of EU regulation 1169/2011) and
// whether it is vegetarian; each product's sizes, how many extras it takes
// and which toppings a customer may leave off; the group's extras. Each
// part is saved on its own, and the shop shows it at its next menu request.

import { $, api, el, problemBox, replace, showProblem } from './common.js';
import { ALLERGENS, allergensText } from './order-form.js';

const UNITS = { g: 'g', ml: 'ml', piece: 'pièce(s)' };
/** 1250 → "12,50" */
const euroText = (cents) => (cents / 100).toFixed(2).replace('.', ',');
/** "12,50" → 1250; null when it does not read as an amount. */
function cents(text) {
  const t = String(text).trim().replace(/\s/g, '').replace(',', '.');
  if (!/^-?\d+(\.\d{1,2})?$/.test(t)) return null;
  return Math.round(Number(t) * 100);
}
/** "150" → 150; null unless a whole number. */
const whole = (text) => (/^\s*-?\d+\s*$/.test(String(text)) ? Number(text) : null);

let ingredients = [];
let products = [];

export async function loadChoices() {
  const [i, p, x] = await Promise.all([api('backoffice', '/ingredients'), api('backoffice', '/products'), api('backoffice', '/extras')]);
  const failed = [i, p, x].find((r) => !r.ok);
  if (failed) { showProblem($('#problem'), failed.problem); return; }
  ingredients = i.data.ingredients;
  products = p.data.products;
  fill($('#allergens-ingredient'), ingredients.map((g) => [g.id, g.name]));
  showAllergens();
  showAllergenTable();
  fill($('#choices-product'), products.map((q) => [q.id, `${q.name} (${q.category})`]));
  showProduct();
  showExtras(x.data.extras);
}

/** Options of a select, keeping what was chosen. */
function fill(select, options) {
  const chosen = select.value;
  replace(select, options.map(([value, text]) => el('option', { value }, text)));
  if (chosen && options.some(([value]) => String(value) === chosen)) select.value = chosen;
}

/** A problem with each row's number before its field's text ("Taille 2 : …"). */
function numbered(problem, nouns) {
  const errors = (problem.errors || []).map((text, i) => {
    const m = /^(\w+)\[(\d+)\]/.exec(problem.fields?.[i] || '');
    return m && nouns[m[1]] ? `${nouns[m[1]]} ${Number(m[2]) + 1} : ${text}` : text;
  });
  return problemBox({ ...problem, errors });
}

const success = (text) => el('p', { class: 'success' }, text);

/**
 * A row's label, button or caption saying its number (`#` in `text`), kept
 * right when an earlier row is taken away by [`renumber`].
 */
const numberedText = (tag, attrs, text, n) => el(tag, { ...attrs, dataset: { text } }, text.replace('#', String(n)));
function renumber(rows) {
  [...rows.children].forEach((row, i) => {
    for (const node of row.querySelectorAll('[data-text]')) node.textContent = node.dataset.text.replace('#', String(i + 1));
  });
}
const local = (detail) => problemBox({ title: 'Informations à corriger', detail });

// ---- allergens ------------------------------------------------------------

replace($('#allergens-boxes'),
  Object.entries(ALLERGENS).map(([code, name]) => el('label', { class: 'choice', for: `allergen-${code}` },
    el('input', { type: 'checkbox', id: `allergen-${code}`, name: 'allergen', value: code }), name)));

const chosenIngredient = () => ingredients.find((g) => String(g.id) === $('#allergens-ingredient').value);

function showAllergens() {
  const g = chosenIngredient();
  for (const box of document.querySelectorAll('#allergens-boxes input')) box.checked = Boolean(g?.allergens.includes(box.value));
  $('#allergens-vegetarian').checked = Boolean(g?.vegetarian);
}
$('#allergens-ingredient').addEventListener('change', () => { replace($('#allergens-problem')); showAllergens(); });

function showAllergenTable() {
  replace($('#allergen-rows'), ingredients.map((g) => el('tr', { dataset: { ingredient: g.id } },
    el('td', {}, g.name),
    el('td', { class: 'allergens' }, allergensText(g.allergens) || 'Aucun'),
    el('td', {}, g.vegetarian ? 'Oui' : 'Non'))));
}

$('#allergens-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const out = $('#allergens-problem');
  replace(out);
  const g = chosenIngredient();
  if (!g) return;
  const allergens = [...document.querySelectorAll('#allergens-boxes input:checked')].map((box) => box.value);
  const r = await api('backoffice', `/ingredients/${g.id}/allergens`, { method: 'PUT', body: { allergens, vegetarian: $('#allergens-vegetarian').checked } });
  if (!r.ok) { replace(out, numbered(r.problem, { allergens: 'Allergène' })); return; }
  ingredients = ingredients.map((x) => (x.id === g.id ? r.data.ingredient : x));
  showAllergenTable();
  replace(out, success(`« ${g.name} » : ${allergensText(r.data.ingredient.allergens) || 'aucun allergène'}${r.data.ingredient.vegetarian ? ', végétarien' : ''}. Enregistré.`));
});

// ---- one product: sizes, extras it takes, toppings left off ---------------

const chosenProduct = () => products.find((q) => String(q.id) === $('#choices-product').value);

let sizeRows = 0;
function addSizeRow(size = { code: '', label: '', price_cents: null, recipe_percent: 100 }) {
  sizeRows += 1;
  const n = $('#size-rows').children.length + 1;
  const id = (what) => `size-${what}-${sizeRows}`;
  const field = (what, label, attrs) => el('div', {},
    numberedText('label', { for: id(what) }, label, n),
    el('input', { id: id(what), class: `size-${what}`, autocomplete: 'off', ...attrs }));
  const row = el('div', { class: 'row size-row' },
    field('code', 'Code de la taille #', { value: size.code, maxlength: 20, placeholder: 'large' }),
    field('label', 'Nom de la taille #', { value: size.label, maxlength: 50, placeholder: 'Grande 40 cm' }),
    field('price', 'Prix de la taille # (€ TTC)', { value: size.price_cents === null ? '' : euroText(size.price_cents), inputmode: 'decimal' }),
    field('percent', 'Recette de la taille # (%)', { value: size.recipe_percent, type: 'number', min: 10, max: 400, step: 1 }),
    el('div', {}, numberedText('button', {
      type: 'button', class: 'secondary', onclick: () => { row.remove(); renumber($('#size-rows')); },
    }, 'Retirer la taille #', n)));
  $('#size-rows').append(row);
}
$('#add-size').addEventListener('click', () => addSizeRow());

function showProduct() {
  const p = chosenProduct();
  replace($('#size-rows'));
  replace($('#removable-boxes'));
  replace($('#sizes-problem'));
  replace($('#product-options-problem'));
  if (!p) return;
  for (const size of p.sizes) addSizeRow(size);
  $('#max-extras').value = String(p.max_extras);
  replace($('#removable-boxes'),
    p.recipe.lines.length ? p.recipe.lines.map((line) => el('label', { class: 'choice', for: `removable-${line.ingredient_id}` },
      el('input', { type: 'checkbox', id: `removable-${line.ingredient_id}`, value: line.ingredient_id, checked: line.removable }), line.name))
      : el('p', { class: 'muted' }, 'Ce produit n’a pas de recette.'));
}
$('#choices-product').addEventListener('change', showProduct);

/** The product as the back office answered it, in the list and on screen. */
function changed(product) {
  products = products.map((q) => (q.id === product.id ? product : q));
  showProduct();
}

$('#sizes-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const out = $('#sizes-problem');
  replace(out);
  const p = chosenProduct();
  if (!p) return;
  const rows = [...document.querySelectorAll('#size-rows .size-row')];
  const sizes = rows.map((row) => ({
    code: row.querySelector('.size-code').value.trim(),
    label: row.querySelector('.size-label').value.trim(),
    price_cents: cents(row.querySelector('.size-price').value),
    recipe_percent: whole(row.querySelector('.size-percent').value),
  }));
  const unread = sizes.findIndex((s) => s.price_cents === null || s.recipe_percent === null);
  if (unread >= 0) {
    replace(out, local(`Taille ${unread + 1} : indiquez un prix en euros (par exemple 12,50) et la recette en pourcentage (100 : la recette telle quelle).`));
    return;
  }
  const r = await api('backoffice', `/products/${p.id}/sizes`, { method: 'PUT', body: { sizes } });
  if (!r.ok) { replace(out, numbered(r.problem, { sizes: 'Taille' })); return; }
  changed(r.data.product);
  replace($('#sizes-problem'), success(sizes.length
    ? `Tailles de « ${p.name} » enregistrées : la carte affiche ${sizes[0].label} à ${euroText(sizes[0].price_cents)} €.`
    : `« ${p.name} » est vendu sans taille, à ${euroText(r.data.product.price_cents)} €.`));
});

$('#product-options-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const out = $('#product-options-problem');
  replace(out);
  const p = chosenProduct();
  if (!p) return;
  const max = whole($('#max-extras').value);
  if (max === null) { replace(out, local('Indiquez un nombre de suppléments, de 0 à 10.')); return; }
  const body = { max_extras: max };
  if (p.recipe.lines.length) {
    // The recipe is sent back as it is, with what may be left off.
    body.recipe = {
      lines: p.recipe.lines.map((line) => ({
        ingredient_id: line.ingredient_id,
        quantity: line.quantity,
        removable: $(`#removable-${line.ingredient_id}`).checked,
      })),
      steps: p.recipe.steps,
    };
  }
  const r = await api('backoffice', `/products/${p.id}`, { method: 'PATCH', body });
  if (!r.ok) { replace(out, problemBox(r.problem)); return; }
  changed(r.data.product);
  replace($('#product-options-problem'), success(`« ${p.name} » : ${max} supplément(s) au plus, garnitures enregistrées.`));
});

// ---- the group's extras ---------------------------------------------------

let extraRows = 0;
function addExtraRow(extra = { ingredient_id: null, quantity: '', price_cents: null }) {
  extraRows += 1;
  const n = $('#extra-rows').children.length + 1;
  const id = (what) => `extra-${what}-${extraRows}`;
  const select = el('select', { id: id('ingredient'), class: 'extra-ingredient' },
    el('option', { value: '' }, '— ingrédient —'),
    ingredients.map((g) => el('option', { value: g.id }, `${g.name} (${UNITS[g.unit] || g.unit})`)));
  if (extra.ingredient_id) select.value = String(extra.ingredient_id);
  const row = el('div', { class: 'row extra-row' },
    el('div', {}, numberedText('label', { for: id('ingredient') }, 'Ingrédient du supplément #', n), select),
    el('div', {}, numberedText('label', { for: id('quantity') }, 'Portion du supplément # (pour la recette de base)', n),
      el('input', { id: id('quantity'), class: 'extra-quantity', type: 'number', min: 1, max: 10000, step: 1, value: extra.quantity })),
    el('div', {}, numberedText('label', { for: id('price') }, 'Prix du supplément # (€ TTC)', n),
      el('input', { id: id('price'), class: 'extra-price', inputmode: 'decimal', autocomplete: 'off', value: extra.price_cents === null ? '' : euroText(extra.price_cents) })),
    el('div', {}, numberedText('button', {
      type: 'button', class: 'secondary', onclick: () => { row.remove(); renumber($('#extra-rows')); },
    }, 'Retirer le supplément #', n)));
  $('#extra-rows').append(row);
}
$('#add-extra').addEventListener('click', () => addExtraRow());

function showExtras(extras) {
  replace($('#extra-rows'));
  for (const extra of extras) addExtraRow(extra);
}

$('#extras-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const out = $('#extras-problem');
  replace(out);
  const extras = [...document.querySelectorAll('#extra-rows .extra-row')].map((row) => ({
    ingredient_id: whole(row.querySelector('.extra-ingredient').value),
    quantity: whole(row.querySelector('.extra-quantity').value),
    price_cents: cents(row.querySelector('.extra-price').value),
  }));
  const unread = extras.findIndex((x) => x.ingredient_id === null || x.quantity === null || x.price_cents === null);
  if (unread >= 0) {
    replace(out, local(`Supplément ${unread + 1} : choisissez l’ingrédient, sa portion (un nombre entier) et son prix en euros (par exemple 1,50).`));
    return;
  }
  const r = await api('backoffice', '/extras', { method: 'PUT', body: { extras } });
  if (!r.ok) { replace(out, numbered(r.problem, { extras: 'Supplément' })); return; }
  showExtras(r.data.extras);
  replace($('#extras-problem'), success(`${r.data.extras.length} supplément(s) enregistré(s), dans cet ordre sur la carte.`));
});

for (const button of document.querySelectorAll('#choices button[type="submit"]')) button.disabled = false;
