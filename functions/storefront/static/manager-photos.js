// The products' photos on the manager screen ("Carte et prix"): each
// product's current photo, and for the admin a file field to send a new one
// (the photos function crops it to 4:3 and makes the shop's sizes) and a
// button to remove it. A photo too heavy to send as it is (a phone's) is
// first made smaller here, in the browser.

import { api, el, problemBox, replace } from './common.js';

/** What the photos function takes (MAX_PHOTO_BYTES, CONTENT_TYPES). */
const MAX_BYTES = 4 * 1024 * 1024;
const TYPES = ['image/jpeg', 'image/png', 'image/webp'];
/** A photo made smaller here is at most this wide or tall (the shop needs 960 px). */
const MAX_SIDE = 2400;

/** Every product's photo, by product id (empty when they cannot be read). */
export async function loadPhotos() {
  const r = await api('photos', '/photos');
  return new Map(r.ok ? r.data.photos.map((p) => [p.product_id, p.photo]) : []);
}

/**
 * The file as it can be sent: as it is when it fits, else redrawn as a JPEG
 * at most MAX_SIDE px on its longest side (turned upright as the browser
 * shows it). Answers {bytes, type}, or null when the browser cannot read it.
 */
async function sendable(file) {
  if (TYPES.includes(file.type) && file.size <= MAX_BYTES) {
    return { bytes: await file.arrayBuffer(), type: file.type };
  }
  let bitmap;
  try {
    bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
  } catch {
    return null;
  }
  const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(bitmap.width * scale);
  canvas.height = Math.round(bitmap.height * scale);
  const context = canvas.getContext('2d');
  context.fillStyle = '#fff';
  context.fillRect(0, 0, canvas.width, canvas.height);
  context.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close();
  const blob = await new Promise((resolve) => { canvas.toBlob(resolve, 'image/jpeg', 0.9); });
  return blob ? { bytes: await blob.arrayBuffer(), type: 'image/jpeg' } : null;
}

function thumbnail(p, photo) {
  return photo
    ? el('img', {
      class: 'photo-thumb', src: photo.src, srcset: photo.srcset, sizes: '8rem', width: photo.width, height: photo.height,
      alt: `Photo de ${p.name}`, loading: 'lazy', decoding: 'async',
    })
    : el('span', { class: 'photo-thumb placeholder muted' }, 'Pas de photo');
}

/**
 * The cell of product `p` in the products' table: its photo, and for the
 * admin the "Photo" file field with its "Envoyer" and "Supprimer" buttons.
 */
export function photoCell(p, photos, admin) {
  const cell = el('td', { class: 'photo-cell' });
  const draw = (photo, message) => {
    if (!admin) {
      replace(cell, thumbnail(p, photo));
      return;
    }
    const out = el('div', { 'aria-live': 'polite' }, message);
    const file = el('input', {
      type: 'file', id: `photo-${p.id}`, accept: TYPES.join(','), 'aria-label': `Photo de ${p.name}`,
    });
    const send = el('button', { type: 'submit', 'aria-label': `Envoyer la photo de ${p.name}` }, 'Envoyer');
    const remove = el('button', {
      type: 'button', class: 'secondary', 'aria-label': `Supprimer la photo de ${p.name}`, disabled: !photo,
      onclick: async () => {
        remove.disabled = true;
        const r = await api('photos', `/products/${p.id}/photo`, { method: 'DELETE' });
        if (r.ok) draw(null, 'Photo supprimée');
        else { remove.disabled = false; replace(out, problemBox(r.problem)); }
      },
    }, 'Supprimer');
    const form = el('form', {
      class: 'photo-form',
      onsubmit: async (e) => {
        e.preventDefault();
        const chosen = file.files[0];
        if (!chosen) { replace(out, problemBox({ title: 'Aucune photo choisie', detail: 'Choisissez une photo JPEG, PNG ou WebP.' })); return; }
        send.disabled = true;
        replace(out, 'Envoi…');
        const body = await sendable(chosen);
        if (!body || body.bytes.byteLength > MAX_BYTES) {
          send.disabled = false;
          replace(out, problemBox({ title: 'Photo illisible', detail: 'Ce fichier n’est pas une photo que le navigateur sait lire : choisissez une photo JPEG, PNG ou WebP.' }));
          return;
        }
        const r = await api('photos', `/products/${p.id}/photo`, { method: 'PUT', bytes: body.bytes, contentType: body.type });
        if (r.ok) draw(r.data.photo, 'Photo enregistrée');
        else { send.disabled = false; replace(out, problemBox(r.problem)); }
      },
    },
    el('label', { for: `photo-${p.id}` }, 'Photo'), file,
    el('div', { class: 'photo-actions' }, send, remove));
    replace(cell, thumbnail(p, photo), form, out);
  };
  draw(photos.get(p.id) || null, '');
  return cell;
}
