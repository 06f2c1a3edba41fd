// Problems as the person reads them: in French, saying what to do.
//
// The functions answer RFC 9457 problems whose `title` and `detail` are
// written for developers (in English). Every problem has a stable `type`
// (`/problems/<kind>`) and, for a form, a list of `errors` naming each
// field: the pages show the French text of the type and of each field,
// never the server's words. A type this table does not know falls back to
// a French sentence for its HTTP status.

const eur = new Intl.NumberFormat('fr-FR', { style: 'currency', currency: 'EUR' });
const euros = (cents) => eur.format((cents ?? 0) / 100);
const whenOpens = new Intl.DateTimeFormat('fr-FR', {
  weekday: 'long', hour: '2-digit', minute: '2-digit', timeZone: 'Europe/Paris',
});

/** "dans 12 minutes" / "dans 3 heures": a wait the person can plan with. */
function wait(seconds) {
  const s = Math.max(1, Math.round(Number(seconds) || 60));
  if (s < 90) return 'dans une minute';
  if (s < 5400) return `dans ${Math.round(s / 60)} minutes`;
  return `dans ${Math.round(s / 3600)} heures`;
}

const hourMinute = new Intl.DateTimeFormat('fr-FR', { hour: '2-digit', minute: '2-digit', timeZone: 'Europe/Paris' });
const hhmm = (iso) => (iso ? hourMinute.format(new Date(iso)) : '');

const opens = (p) => (p.opens_at ? ` Elle ouvre ${whenOpens.format(new Date(p.opens_at))}.` : '');

/** kind → [title, detail] (detail may read the problem's extension members). */
const KINDS = {
  'bad-request': ['Demande invalide', 'La page a envoyé une demande incomplète : rechargez-la puis réessayez.'],
  'invalid-request': ['Informations à corriger', 'Vérifiez les champs signalés ci-dessous.'],
  unauthorized: ['Connexion requise', 'Connectez-vous pour continuer.'],
  'invalid-credentials': ['Connexion refusée', 'E-mail ou mot de passe incorrect.'],
  'session-ended': ['Session terminée', 'Votre session a pris fin : reconnectez-vous.'],
  'wrong-password': ['Mot de passe incorrect', 'Ce n’est pas le mot de passe de votre compte : retapez-le.'],
  'address-book-full': ['Carnet d’adresses plein', 'Vous avez déjà 10 adresses : supprimez-en une avant d’en ajouter une autre.'],
  'orders-underway': ['Commande en cours', 'Une commande est encore en cours : le compte pourra être supprimé une fois qu’elle sera livrée, retirée ou annulée.'],
  'password-changed': ['Mot de passe déjà changé', 'Ce mot de passe a déjà été changé : reconnectez-vous.'],
  'too-many-attempts': ['Trop d’essais', (p) => `Par sécurité, réessayez ${wait(p.retry_after_seconds)}.`],
  'rate-limited': ['Trop de demandes', (p) => `Par sécurité, cette action est suspendue un moment : réessayez ${wait(p.retry_after_seconds)}.`],
  forbidden: ['Action non autorisée', 'Votre compte ne permet pas cette action. Demandez à votre gérant si elle est nécessaire.'],
  'not-found': ['Introuvable', 'Cette commande ou cette page n’existe pas, ou le lien est incomplet.'],
  'method-not-allowed': ['Action impossible', 'Cette action n’existe pas ici : rechargez la page.'],
  'payload-too-large': ['Demande trop volumineuse', 'Raccourcissez le texte saisi puis réessayez.'],
  'unsupported-media-type': ['Demande invalide', 'Rechargez la page puis réessayez.'],
  'email-taken': ['E-mail déjà utilisé', 'Un compte existe déjà avec cet e-mail : connectez-vous, ou choisissez un autre e-mail.'],
  'idempotency-key-missing': ['Demande invalide', 'Rechargez la page puis réessayez.'],
  'idempotency-key-invalid': ['Demande invalide', 'Rechargez la page puis réessayez.'],
  'idempotency-key-reused': ['Commande déjà envoyée', 'Cette commande a déjà été envoyée avec un autre contenu : rechargez la page pour en passer une nouvelle.'],
  'idempotency-key-taken': ['Commande déjà envoyée', 'Rechargez la page pour en passer une nouvelle.'],
  'out-of-stock': ['Stock insuffisant', 'Il ne reste pas assez de certains produits : votre panier a été ajusté à ce qui reste.'],
  'invalid-choice': ['Choix impossible', 'Un choix n’est plus possible pour un produit du panier : vérifiez la taille, les ingrédients retirés et les suppléments.'],
  'unknown-product': ['Produit indisponible', 'Certains produits ne sont plus à la carte de cette pizzeria : retirez-les du panier.'],
  'below-minimum-order': ['Minimum de commande non atteint', (p) => `La livraison demande au moins ${euros(p.min_order_cents)} de produits : ajoutez-en, ou choisissez le retrait.`],
  'outside-delivery-zone': ['Adresse hors zone de livraison', 'Cette pizzeria ne livre pas cette adresse : choisissez le retrait, ou cherchez la pizzeria qui vous livre.'],
  'address-not-found': ['Adresse introuvable', 'Nous ne trouvons pas cette adresse : vérifiez le numéro, la rue, le code postal et la ville.'],
  'pizzeria-paused': ['Commandes en ligne en pause', (p) => `${p.scope === 'delivery' ? 'Cette pizzeria ne prend plus de livraisons en ligne pour le moment' : 'Cette pizzeria ne prend plus de commandes en ligne pour le moment'}, jusqu'à ${hhmm(p.until)}.${p.message ? ` « ${p.message} »` : ''}`],
  'name-taken': ['Nom déjà pris', 'Ce nom est déjà utilisé : choisissez-en un autre.'],
  'already-stocked': ['Déjà en stock', 'Cette pizzeria stocke déjà cet ingrédient : réapprovisionnez-le ou corrigez son compte.'],
  'link-invalid': ['Lien expiré', 'Ce lien a déjà servi ou a expiré. Demandez-en un nouveau.'],
  'pizzeria-closed': ['Pizzeria fermée', (p) => `Cette pizzeria est fermée en ce moment.${opens(p)} Programmez votre commande pour plus tard, ou choisissez une autre pizzeria ouverte.`],
  'slot-unavailable': ['Horaire indisponible', (p) => ({
    too_soon: `C'est trop tôt pour préparer votre commande : choisissez ${hhmm(p.earliest)} ou plus tard.`,
    closed: 'La pizzeria est fermée à cette heure-là : choisissez un autre horaire.',
    too_far: 'Les commandes se programment jusqu’à 6 jours à l’avance : choisissez un horaire plus proche.',
    no_pre_orders: 'Cette pizzeria ne prend pas de commandes programmées : commandez pour tout de suite.',
  }[p.reason] || 'Choisissez un horaire dans la liste.')],
  'slot-full': ['Horaire complet', 'La pizzeria a déjà toutes les commandes qu’elle peut préparer pour cet horaire : choisissez-en un autre.'],
  'pizzeria-not-open': ['Pizzeria pas encore ouverte', 'Cette pizzeria ne prend pas encore de commandes : choisissez-en une autre.'],
  'payment-refused': ['Paiement refusé', 'Le paiement n’a pas pu être préparé : réessayez, ou payez en espèces.'],
  'card-declined': ['Carte refusée', 'Votre banque a refusé ce paiement. Vérifiez la carte ou essayez-en une autre.'],
  'nothing-to-pay': ['Déjà payée', 'Cette commande est déjà réglée : rien à payer.'],
  'nothing-due': ['Rien à encaisser', 'Cette commande est déjà réglée.'],
  'payment-due': ['Paiement attendu', (p) => `Il reste ${euros(p.balance_cents)} à régler avant de continuer.`],
  'paid-by-card-only': ['Paiement en ligne attendu', 'Cette commande part en cuisine dès que le client a payé en ligne.'],
  'order-in-preparation': ['Trop tard pour modifier', 'La cuisine a commencé votre commande : elle ne peut plus être modifiée ni annulée. Appelez la pizzeria si besoin.'],
  'transition-not-allowed': ['Action impossible maintenant', 'La commande a changé entre-temps : la page est à jour, vérifiez puis réessayez.'],
  'delivery-state': ['Action impossible maintenant', 'La livraison a changé entre-temps : la page est à jour, vérifiez puis réessayez.'],
  'deliveries-on-the-way': ['Livraisons en cours', (p) => `Il vous reste ${p.out_for_delivery} livraison(s) en route : livrez-les avant de terminer votre service.`],
  'courier-off-shift': ['Livreur hors service', 'Ce livreur n’est pas en service : choisissez un livreur en service.'],
  'invalid-photo': ['Photo refusée', (p) => ({
    format: 'Envoyez une photo au format JPEG, PNG ou WebP.',
    empty: 'Le fichier est vide : choisissez une photo.',
    too_heavy: `Le fichier est trop lourd : ${Math.floor((p.max_bytes || 4194304) / 1048576)} Mo au plus.`,
    not_an_image: 'Ce fichier n’est pas une photo lisible (JPEG, PNG ou WebP) : choisissez-en une autre.',
    too_small: `La photo est trop petite : il faut au moins ${p.min_width || 320} × ${p.min_height || 240} pixels une fois recadrée en 4:3.`,
    too_large: `La photo est trop grande : ${p.max_side || 6000} × ${p.max_side || 6000} pixels au plus.`,
  }[p.reason] || 'Choisissez une photo JPEG, PNG ou WebP d’au moins 320 pixels de large.')],
  'reason-required': ['Raison manquante', 'Indiquez une raison (150 caractères au plus).'],
  'too-early-for-no-show': ['Trop tôt', (p) => `Une commande est déclarée non retirée 30 minutes après être prête${p.allowed_at ? `, à partir de ${new Date(p.allowed_at).toLocaleTimeString('fr-FR', { timeZone: 'Europe/Paris', hour: '2-digit', minute: '2-digit' })}` : ''}.`],
  'not-refundable': ['Remboursement impossible maintenant', 'Une commande est remboursée une fois terminée (livrée, retirée, non livrée ou non retirée) ; avant, annulez-la.'],
  'refunds-changed': ['Remboursement déjà fait', (p) => `${new Intl.NumberFormat('fr-FR', { style: 'currency', currency: 'EUR' }).format((p.refunded_cents ?? 0) / 100)} ont été remboursés entre-temps : la commande est à jour, vérifiez avant de recommencer.`],
  'refund-too-large': ['Montant trop élevé', (p) => `Au plus ${new Intl.NumberFormat('fr-FR', { style: 'currency', currency: 'EUR' }).format((p.refundable_cents ?? 0) / 100)} peuvent être remboursés sur cette commande.`],
  'remake-out-of-stock': ['Stock insuffisant', 'Il ne reste pas assez d’ingrédients pour refaire cette pizza : prévenez le gérant.'],
  'not-in-kitchen': ['Plus en cuisine', 'Cette commande n’est plus en cuisine : elle ne peut plus être refaite.'],
  'no-such-courier': ['Livreur inconnu', 'Ce livreur ne travaille pas dans cette pizzeria.'],
  'below-reserved': ['Stock insuffisant', 'Le stock ne peut pas descendre sous ce que les commandes en cours réservent.'],
  unavailable: ['Service momentanément indisponible', 'Réessayez dans un instant.'],
};

const BY_STATUS = {
  400: ['Demande invalide', 'Rechargez la page puis réessayez.'],
  401: KINDS.unauthorized,
  402: KINDS['card-declined'],
  403: KINDS.forbidden,
  404: KINDS['not-found'],
  409: ['Action impossible maintenant', 'La situation a changé entre-temps : rechargez la page puis réessayez.'],
  413: KINDS['payload-too-large'],
  422: KINDS['invalid-request'],
  429: ['Trop de demandes', 'Réessayez dans un instant.'],
};

/** Each field a form can send → what the person must fix. */
const FIELDS = [
  [/^lines$/, 'Le panier est vide ou trop grand : de 1 à 20 pizzas du même produit (appelez la pizzeria pour plus).'],
  [/^lines\[\d+\]\.quantity$/, 'Une quantité va de 1 à 20.'],
  [/^lines\[\d+\]\.product_id$/, 'Un produit du panier n’existe plus : retirez-le.'],
  [/^lines\[\d+\]\.size$/, 'Une taille choisie n’est plus proposée : choisissez-en une autre.'],
  [/^lines\[\d+\]\.remove/, 'Un ingrédient retiré ne peut plus l’être : vérifiez le panier.'],
  [/^lines\[\d+\]\.extras/, 'Un supplément n’est plus proposé, ou il y en a trop : vérifiez le panier.'],
  [/^lines\[\d+\]\.note$/, 'Une remarque pour la cuisine fait 140 caractères au plus.'],
  [/^delivery_instructions$/, 'Les instructions pour le livreur font 200 caractères au plus.'],
  [/^address$/, 'Une livraison demande une adresse.'],
  [/^address_id$/, 'Cette adresse n’est plus dans votre carnet : choisissez-en une autre ou saisissez-la.'],
  [/^label$/, 'Donnez un nom à l’adresse (50 caractères au plus), différent de vos autres adresses.'],
  [/^address\.line1$/, 'Indiquez le numéro et la rue (200 caractères au plus).'],
  [/^address\.postcode$/, 'Le code postal a 5 chiffres.'],
  [/^address\.city$/, 'Indiquez la ville (100 caractères au plus).'],
  [/^contact$/, 'Indiquez un nom et un numéro de téléphone pour que la pizzeria puisse vous joindre.'],
  [/^(contact\.)?name$/, 'Indiquez un nom (100 caractères au plus).'],
  [/^(contact\.)?phone$/, 'Numéro de téléphone invalide : par exemple 06 12 34 56 78 ou +33 6 12 34 56 78.'],
  [/^(contact\.|new_)?email$/, 'Cette adresse e-mail ne semble pas correcte.'],
  [/^(new_)?password$/, 'Mot de passe trop faible : 10 caractères au moins, ni un seul caractère répété, ni votre e-mail.'],
  [/^role$/, 'Ce rôle ne peut pas être donné ici.'],
  [/^pizzeria_id$/, 'Choisissez une pizzeria.'],
  [/^reason$/, 'Indiquez la raison (200 caractères au plus).'],
  [/^quantity$/, 'Indiquez une quantité positive.'],
  [/^(price_cents|price)$/, 'Indiquez un prix positif.'],
  [/^vat_rate/, 'Choisissez un taux de TVA.'],
  [/^description$/, 'La description fait 500 caractères au plus.'],
  [/^position$/, 'La position va de 0 à 10 000.'],
  [/^category(_id)?$/, 'Choisissez une catégorie.'],
  [/^(from|to)$/, 'Choisissez une période valide (du premier jour au dernier, une année au plus).'],
  [/^(weekly|periods)\[\d+\]$/, 'Une plage horaire est illisible, vide ou en chevauche une autre (une plage après minuit compte pour le jour où elle commence) ; 4 plages par jour au plus.'],
  [/^date$/, 'Choisissez un jour entre aujourd’hui et un an plus tard (jj/mm/aaaa).'],
  [/^(note|message)$/, 'Le message aux clients fait 200 caractères au plus.'],
  [/^line1$/, 'Indiquez le numéro et la rue de la pizzeria (200 caractères au plus).'],
  [/^postcode$/, 'Le code postal a 5 chiffres.'],
  [/^city$/, 'Indiquez la ville (100 caractères au plus).'],
  [/^(latitude|longitude)$/, 'Cette adresse n’a pas été trouvée en France métropolitaine : vérifiez-la.'],
  [/^delivery_radius_m$/, 'Le rayon de livraison va de 0 (pas de livraison) à 20 km.'],
  [/^(delivery_fee|min_order)_cents$/, 'Les frais et le minimum de commande vont de 0 à 100 €.'],
  [/^status$/, 'Choisissez l’état de la pizzeria.'],
  [/^unit$/, 'Choisissez l’unité : grammes, millilitres ou pièces.'],
  [/^(on_hand|low_threshold)$/, 'Indiquez une quantité entière, 0 ou plus.'],
  [/^minutes$/, 'Une pause dure de 1 minute à 12 heures.'],
  [/^scope$/, 'Choisissez ce que la pause arrête : toutes les commandes en ligne, ou les livraisons.'],
  [/^prep_minutes$/, 'Le temps de préparation va de 5 à 120 minutes.'],
  [/^slot_capacity$/, 'Les commandes programmées par quart d’heure vont de 0 (aucune) à 100.'],
  [/^allergens\[\d+\]$/, 'Cet allergène ne fait pas partie des 14 à déclarer, ou il est donné deux fois.'],
  [/^sizes$/, 'Un produit a 6 tailles au plus.'],
  [/^sizes\[\d+\]\.code$/, 'Le code d’une taille a de 1 à 20 lettres minuscules, chiffres ou tirets, et diffère de celui des autres tailles.'],
  [/^sizes\[\d+\]\.label$/, 'Le nom d’une taille a de 1 à 50 caractères.'],
  [/^sizes\[\d+\]\.price_cents$/, 'Le prix d’une taille va de 0,01 à 1 000 €.'],
  [/^sizes\[\d+\]\.recipe_percent$/, 'La recette d’une taille va de 10 % à 400 % de la recette de base.'],
  [/^max_extras$/, 'Un produit prend de 0 à 10 suppléments.'],
  [/^extras$/, 'La liste compte 30 suppléments au plus.'],
  [/^extras\[\d+\]\.ingredient_id$/, 'Un supplément est un ingrédient existant, une seule fois dans la liste.'],
  [/^extras\[\d+\]\.quantity$/, 'La portion d’un supplément va de 1 à 10 000, dans l’unité de l’ingrédient.'],
  [/^extras\[\d+\]\.price_cents$/, 'Le prix d’un supplément va de 0,01 à 1 000 €.'],
];

/**
 * A server message written "French (English gloss)." keeps its French part;
 * anything else is not shown.
 */
function frenchPart(message) {
  const m = typeof message === 'string' && message.match(/^(.*?[^\s])\s*\((?:the|a|an|not|at|no)\b[^)]*\)\.?$/i);
  return m ? `${m[1]}.` : null;
}

function fieldText(error) {
  const field = typeof error === 'object' && error ? String(error.field || '') : '';
  const own = frenchPart(error?.message);
  if (own && field !== 'phone' && field !== 'contact.phone') return own;
  const known = FIELDS.find(([pattern]) => pattern.test(field));
  return known ? known[1] : 'Une information saisie est invalide : vérifiez le formulaire.';
}

/**
 * The problem `raw` (as the server answered it, with HTTP `status`) with its
 * title, detail and errors in French; its other members (type, products,
 * balance_cents...) kept for the pages that act on them.
 */
export function inFrench(raw, status) {
  const problem = raw && typeof raw === 'object' ? raw : {};
  const kind = String(problem.type || '').replace(/^.*\/problems\//, '');
  const [title, detail] = KINDS[kind] || BY_STATUS[status ?? problem.status]
    || (status >= 500 || problem.status >= 500 ? KINDS.unavailable : ['Erreur', 'Réessayez dans un instant.']);
  const errors = Array.isArray(problem.errors) ? problem.errors.map(fieldText) : undefined;
  return {
    ...problem,
    title,
    detail: typeof detail === 'function' ? detail(problem) : detail,
    errors,
    // The fields named, for a page that points at them.
    fields: Array.isArray(problem.errors) ? problem.errors.map((e) => String(e?.field ?? '')) : [],
    french: true,
  };
}
