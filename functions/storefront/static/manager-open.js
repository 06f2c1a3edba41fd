// The admin's "Nouvelle pizzeria" tab: open a pizzeria (its address found
// by the geocode function), add the group's ingredients and categories, and
// write a new product with its recipe from an ingredient picker. A new
// pizzeria's hours, stock and team are then set from the other tabs, once it
// is chosen at the top of the page.

import { $, api, el, problemBox, replace } from './common.js';

const UNITS = { g: 'g', ml: 'ml', piece: 'pièces' };
const cents = (text) => Math.round(Number(String(text).replace(',', '.')) * 100);
let ingredients = [];
let categories = [];

export async function loadOpen() {
  const [i, c] = await Promise.all([api('backoffice', '/ingredients'), api('backoffice', '/categories')]);
  if (i.ok) ingredients = i.data.ingredients;
  if (c.ok) categories = c.data.categories;
  replace($('#product-category'), categories.map((x) => el('option', { value: x.id }, x.name)));
  if (!$('#recipe-lines').children.length) addRecipeLine();
  for (const select of document.querySelectorAll('#recipe-lines select')) fillIngredients(select);
}

function fillIngredients(select) {
  const chosen = select.value;
  replace(select, el('option', { value: '' }, '— ingrédient —'),
    ingredients.map((x) => el('option', { value: x.id }, `${x.name} (${UNITS[x.unit] || x.unit})`)));
  if (chosen) select.value = chosen;
}

let lines = 0;
function addRecipeLine() {
  lines += 1;
  const select = el('select', { id: `recipe-ingredient-${lines}`, class: 'recipe-ingredient' });
  fillIngredients(select);
  const quantity = el('input', { id: `recipe-quantity-${lines}`, class: 'recipe-quantity', type: 'number', min: 1, step: 1 });
  $('#recipe-lines').append(el('div', { class: 'row recipe-line' },
    el('div', {}, el('label', { for: `recipe-ingredient-${lines}` }, `Ingrédient ${lines}`), select),
    el('div', {}, el('label', { for: `recipe-quantity-${lines}` }, 'Quantité'), quantity)));
}
$('#add-recipe-line').addEventListener('click', addRecipeLine);

/** A form's submit: its problem shown in French, or `done` with the answer. */
function handle(form, out, send, done) {
  $(form).addEventListener('submit', async (e) => {
    e.preventDefault();
    replace($(out));
    const r = await send();
    if (!r) return;
    if (!r.ok) { replace($(out), problemBox(r.problem)); return; }
    await done(r.data);
  });
}

handle('#open-form', '#open-problem', async () => {
  const address = `${$('#open-line1').value.trim()}, ${$('#open-postcode').value.trim()} ${$('#open-city').value.trim()}`;
  // Where it is: the geocode function, as the shop finds a customer's address.
  const found = await api('geocode', `/geocode?address=${encodeURIComponent(address)}`);
  if (!found.ok) { replace($('#open-problem'), problemBox(found.problem)); return null; }
  return api('backoffice', '/pizzerias', {
    method: 'POST',
    body: {
      name: $('#open-name').value.trim(),
      line1: $('#open-line1').value.trim(),
      postcode: $('#open-postcode').value.trim(),
      city: $('#open-city').value.trim(),
      phone: $('#open-phone').value.trim(),
      latitude: found.data.latitude,
      longitude: found.data.longitude,
      delivery_radius_m: Math.round(Number($('#open-radius').value.replace(',', '.')) * 1000),
      delivery_fee_cents: cents($('#open-fee').value),
      min_order_cents: cents($('#open-minimum').value),
      status: $('#open-status').value,
    },
  });
}, async (data) => {
  const p = data.pizzeria;
  replace($('#open-problem'), el('p', { class: 'success' },
    `Pizzeria « ${p.name} » ouverte (n° ${p.id}). Choisissez-la en haut de la page pour ses horaires, son stock et son équipe.`));
  $('#pizzeria').append(el('option', { value: p.id }, p.name));
  $('#open-form').reset();
});

handle('#ingredient-form', '#ingredient-problem', () => api('backoffice', '/ingredients', {
  method: 'POST', body: { name: $('#ingredient-name').value.trim(), unit: $('#ingredient-unit').value },
}), async (data) => {
  replace($('#ingredient-problem'), el('p', { class: 'success' }, `Ingrédient « ${data.ingredient.name} » ajouté.`));
  $('#ingredient-form').reset();
  await loadOpen();
});

handle('#category-form', '#category-problem', () => api('backoffice', '/categories', {
  method: 'POST', body: { name: $('#category-name').value.trim(), position: Number($('#category-position').value || 0) },
}), async (data) => {
  replace($('#category-problem'), el('p', { class: 'success' }, `Catégorie « ${data.category.name} » ajoutée.`));
  $('#category-form').reset();
  await loadOpen();
});

handle('#product-form', '#product-problem', () => {
  const recipe = [...document.querySelectorAll('#recipe-lines .recipe-line')]
    .map((line) => ({ ingredient_id: Number(line.querySelector('select').value), quantity: Number(line.querySelector('input').value) }))
    .filter((l) => l.ingredient_id);
  return api('backoffice', '/products', {
    method: 'POST',
    body: {
      category_id: Number($('#product-category').value),
      name: $('#product-name').value.trim(),
      description: $('#product-description').value.trim(),
      price_cents: cents($('#product-price').value),
      vat_rate_bp: Number($('#product-vat').value),
      active: true,
      position: 0,
      recipe: { lines: recipe, steps: $('#product-steps').value.split('\n').map((s) => s.trim()).filter(Boolean) },
    },
  });
}, async (data) => {
  replace($('#product-problem'), el('p', { class: 'success' }, `Produit « ${data.product.name} » ajouté à la carte de toutes les pizzerias.`));
  $('#product-form').reset();
  replace($('#recipe-lines'));
  addRecipeLine();
});

for (const button of document.querySelectorAll('#open button[type="submit"]')) button.disabled = false;
