//! The part of the menus that changes only with the catalogue, read once
//! per version and kept by the menu function (and by checkout, which prices
//! from it: `pricing::price_kept`), and the one query each menu still makes.
//!
//! A menu is what the admin edits a few times a day (the products, their
//! categories, recipes, sizes, extras, the ingredients' allergens, each
//! pizzeria's exclusions, the photos) and what every sale, every restock
//! moves (the pizzeria's stock net of reservations). The first is a
//! [`Catalogue`], read by [`Catalogue::load`] in one transaction (so one
//! committed state of the catalogue, never half of an admin's change); the
//! second is read at each request by [`live`], one statement on the stock's
//! primary key that also answers the versions the kept copies are checked
//! against. [`Catalogue::menu`] puts the two together with the same rules
//! as [`super::listing`] reading everything from the database
//! ([`listing::as_listed`], [`listing::count`]).
//!
//! Every write to the catalogue tables calls [`super::version::bump`] in its transaction,
//! so the version read by the next request is the one of that change. A
//! change made by hand in SQL, without a bump, is seen once the kept copy
//! is older than the menu's TTL.

use crate::catalog::choices::{self, Extra};
use crate::catalog::{listing, photos, MenuExtra, MenuProduct, Pizzeria};
use crate::platform::ids::{IngredientId, PizzeriaId, ProductId};
use crate::platform::kept;
use sqlx::MySqlPool;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

/// What a menu reads at each request.
#[derive(Debug, Clone, PartialEq)]
pub struct Live {
    /// `catalog_version` (-1 when its row is missing: the TTL still holds).
    pub catalog_version: i64,
    /// [`super::pizzerias_version`]'s count and sum.
    pub pizzerias_version: (i64, i64),
    /// Each ingredient's stock net of reservations in the pizzeria (as
    /// [`listing::available`]).
    pub available: BTreeMap<IngredientId, i64>,
}

/// The pizzeria's stock net of reservations and the versions: one
/// statement on the stock's primary key, each row carrying the versions
/// (uncorrelated subqueries, computed once; cheaper for the database than a
/// `UNION` with a row of its own). A pizzeria without a stock row (an
/// unknown id, a new shop) reads the versions by themselves.
pub async fn live(pool: &MySqlPool, pizzeria: PizzeriaId) -> Result<Live, sqlx::Error> {
    let rows = sqlx::query!(
        "SELECT ingredient_id, CAST(GREATEST(on_hand - reserved, 0) AS SIGNED) AS `available!: i64`, \
                (SELECT version FROM catalog_version WHERE id = 1) AS `catalog_version: i64`, \
                (SELECT COUNT(*) FROM pizzerias) AS `pizzerias!: i64`, \
                (SELECT CAST(COALESCE(SUM(version), 0) AS SIGNED) FROM pizzerias) AS `versions!: i64` \
         FROM stock WHERE pizzeria_id = ?",
        pizzeria.0
    )
    .fetch_all(pool)
    .await?;
    let Some(first) = rows.first() else {
        let catalog_version =
            sqlx::query_scalar!("SELECT version FROM catalog_version WHERE id = 1")
                .fetch_optional(pool)
                .await?
                .unwrap_or(-1);
        return Ok(Live {
            catalog_version,
            pizzerias_version: super::pizzerias_version(pool).await?,
            available: BTreeMap::new(),
        });
    };
    Ok(Live {
        catalog_version: first.catalog_version.unwrap_or(-1),
        pizzerias_version: (first.pizzerias, first.versions),
        available: rows
            .iter()
            .map(|r| (IngredientId(r.ingredient_id), r.available))
            .collect(),
    })
}

/// A product as every menu lists it, before a pizzeria's stock.
#[derive(Debug, Clone)]
struct Listed {
    /// Dressed ([`listing::dress`]), its photo attached; availability unset.
    shown: MenuProduct,
    /// Its recipe's lines: ingredient, quantity for one unit.
    recipe: Vec<(IngredientId, i64)>,
    /// [`listing::size_needs`]; `None` when the offer did not know it.
    sizes: Option<Vec<BTreeMap<IngredientId, i64>>>,
}

/// The catalogue as one version of it was read: everything of the menus
/// but the stock.
#[derive(Debug, Clone)]
pub struct Catalogue {
    /// `catalog_version` when it was read (-1: no row).
    pub version: i64,
    /// The `PHOTOS_URL` the photos' addresses were built under.
    pub photos_url: String,
    /// The active products, in the menu's order.
    products: Vec<Listed>,
    /// The group's extras, in their order, with their portions.
    extras: Vec<(MenuExtra, Extra)>,
    excluded: BTreeSet<(PizzeriaId, ProductId)>,
    /// What may be chosen, for every product (checkout prices from it).
    offer: choices::Offer,
    /// Each active product's name, base price and VAT rate, as pricing reads
    /// them (a listed product shows its first size's price instead).
    prices: BTreeMap<ProductId, (String, i64, i32)>,
}

impl Catalogue {
    /// Reads the catalogue and its version in one transaction: under the
    /// default isolation (`REPEATABLE READ`, MySQL's and MariaDB's) every
    /// statement sees the snapshot of the first, so the copy is the
    /// committed state of exactly that version. Six statements.
    pub async fn load(pool: &MySqlPool, photos_url: &str) -> Result<Catalogue, sqlx::Error> {
        let mut tx = pool.begin().await?;
        let version = sqlx::query_scalar!("SELECT version FROM catalog_version WHERE id = 1")
            .fetch_optional(&mut *tx)
            .await?
            .unwrap_or(-1);
        let rows = sqlx::query!(
            "SELECT p.id, p.name, c.name AS category, p.description, p.price_cents, p.vat_rate_bp \
             FROM products p JOIN categories c ON c.id = p.category_id \
             WHERE p.active \
             ORDER BY c.position, p.position, p.id"
        )
        .fetch_all(&mut *tx)
        .await?;
        let offer = choices::load(&mut tx, choices::Of::All).await?;
        let excluded = sqlx::query!("SELECT pizzeria_id, product_id FROM menu_exclusions")
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .map(|r| (PizzeriaId(r.pizzeria_id), ProductId(r.product_id)))
            .collect();
        let photos = photos::all(&mut *tx).await?;
        tx.commit().await?;

        let prices = rows
            .iter()
            .map(|row| {
                let price = (row.name.clone(), row.price_cents, row.vat_rate_bp);
                (ProductId(row.id), price)
            })
            .collect();
        let mut shown: Vec<MenuProduct> = rows
            .into_iter()
            .map(|row| MenuProduct {
                id: ProductId(row.id),
                name: row.name,
                category: row.category,
                description: row.description,
                price_cents: row.price_cents,
                vat_rate_bp: row.vat_rate_bp,
                available: false,
                max_quantity: 0,
                unavailable_reason: None,
                allergens: Vec::new(),
                vegetarian: false,
                max_extras: 0,
                sizes: Vec::new(),
                ingredients: Vec::new(),
                photo: None,
            })
            .collect();
        photos::attach(&mut shown, &photos, photos_url);
        let products = shown
            .into_iter()
            .map(|mut shown| {
                let own = offer.products.get(&shown.id);
                let recipe = own.map_or_else(Vec::new, |own| {
                    own.recipe
                        .iter()
                        .map(|part| (part.ingredient, part.quantity))
                        .collect()
                });
                let sizes = listing::dress(&mut shown, &offer)
                    .then(|| listing::size_needs(&offer, shown.id));
                Listed {
                    shown,
                    recipe,
                    sizes,
                }
            })
            .collect();
        let none = BTreeMap::new();
        let extras = listing::extras(&offer, &none)
            .into_iter()
            .zip(offer.extras.iter().cloned())
            .collect();
        Ok(Catalogue {
            version,
            photos_url: photos_url.to_owned(),
            products,
            extras,
            excluded,
            offer,
            prices,
        })
    }

    /// An active product's name, base price and VAT rate (as pricing reads
    /// them); `None` for an unknown or withdrawn one.
    pub fn price_of(&self, id: ProductId) -> Option<&(String, i64, i32)> {
        self.prices.get(&id)
    }

    /// Whether the pizzeria leaves this product off its menu.
    pub fn excluded(&self, pizzeria: PizzeriaId, product: ProductId) -> bool {
        self.excluded.contains(&(pizzeria, product))
    }

    /// What may be chosen, for every product.
    pub fn offer(&self) -> &choices::Offer {
        &self.offer
    }

    /// The menu's products and extras in `pizzeria` with its stock net of
    /// reservations (`available`): what [`super::listing`] answers from the
    /// database at this version.
    pub fn menu(
        &self,
        pizzeria: &Pizzeria,
        available: &BTreeMap<IngredientId, i64>,
    ) -> (Vec<MenuProduct>, Vec<MenuExtra>) {
        let products = self
            .products
            .iter()
            .map(|listed| {
                let mut product = listed.shown.clone();
                // As the SQL of `catalog::products`: the least, over the
                // recipe's lines, of what is available divided by the line.
                let max = listed
                    .recipe
                    .iter()
                    .map(|(i, q)| available.get(i).copied().unwrap_or(0) / (*q).max(1))
                    .min();
                let (max_quantity, reason) = listing::as_listed(
                    pizzeria.accepting_orders,
                    self.excluded.contains(&(pizzeria.id, product.id)),
                    !listed.recipe.is_empty(),
                    max,
                );
                product.max_quantity = max_quantity;
                product.available = max_quantity > 0;
                product.unavailable_reason = reason;
                if let Some(needs) = &listed.sizes {
                    listing::count(&mut product, needs, available);
                }
                product
            })
            .collect();
        let extras = self
            .extras
            .iter()
            .map(|(shown, extra)| MenuExtra {
                max_quantity: listing::portions(extra, available),
                ..shown.clone()
            })
            .collect();
        (products, extras)
    }
}

/// How long a container trusts its copy of the catalogue at most: within
/// it, the version read by each request says whether the copy is current
/// (every change made through our code bumps it); past it the catalogue is
/// read again anyway, so a change made by hand in SQL, without a bump,
/// shows within this time.
pub const TTL: Duration = Duration::from_secs(30);

/// A container's copy of the catalogue (shared by its invocations), read
/// again when the version moved, when it is older than the TTL or when it
/// was built for another `PHOTOS_URL`.
#[derive(Clone, Default)]
pub struct Kept(kept::Kept<(i64, String), Catalogue>);

impl Kept {
    /// The catalogue at `version` (as [`live`] or another statement read
    /// it): the kept copy when it is that version, younger than `ttl` and
    /// built for `photos_url`; else read again (and kept: the last one read
    /// wins, as each request checks the version).
    pub async fn at(
        &self,
        pool: &MySqlPool,
        version: i64,
        ttl: Duration,
        photos_url: &str,
    ) -> Result<Arc<Catalogue>, sqlx::Error> {
        let read = Catalogue::load(pool, photos_url);
        self.0.at((version, photos_url.to_owned()), ttl, read).await
    }
}
