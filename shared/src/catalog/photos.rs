//! Product photos: where their files are, what the menu tells of them, and
//! their rows (`product_photos`).
//!
//! The photos function makes the files from the admin's upload: the picture
//! cropped to 4:3 around its centre, then one JPEG per width of [`WIDTHS`]
//! that the picture reaches, stored at
//! `products/{product_id}/{version}/{width}.jpg`. Each upload has a new
//! version, so a file is never overwritten: the files are served with a
//! year's `immutable` cache, and a page never gets a stale photo, since the
//! menu names the new version as soon as it is recorded. The row is written
//! once every file is stored; the previous version's files are removed
//! after.
//!
//! The menu reads the rows, never the bucket: each product's `photo` is
//! built from `PHOTOS_URL` and the key, or `null` without a photo (the shop
//! then shows a placeholder).

use crate::catalog::{version, MenuProduct};
use crate::platform::ids::ProductId;
use serde::Serialize;
use sqlx::MySqlPool;
use std::collections::BTreeMap;

/// The widths the shop's cards use (CSS pixels × device pixel ratio): a
/// phone's thumbnail, a card on a computer, the same on a dense screen.
pub const WIDTHS: [u32; 3] = [320, 640, 960];

/// The narrowest photo accepted: the smallest width the shop uses.
pub const MIN_WIDTH: u32 = WIDTHS[0];

/// The width the page's `src` names (browsers without `srcset`), when made.
pub const DEFAULT_WIDTH: u32 = 640;

/// Every file is cropped to this shape (width:height), the cards' own.
pub const ASPECT: (u32, u32) = (4, 3);

/// The height of a file `width` wide.
pub fn height_for(width: u32) -> u32 {
    (width * ASPECT.1 + ASPECT.0 / 2) / ASPECT.0
}

/// A product's photo as recorded: its version and the widths made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Photo {
    pub version: String,
    /// Ascending, each one of [`WIDTHS`].
    pub widths: Vec<u32>,
}

/// What the menu tells of a photo, ready for an `<img>`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PhotoView {
    pub src: String,
    /// `"{url} 320w, {url} 640w, …"`.
    pub srcset: String,
    /// Of the file `src` names (the aspect ratio the page reserves).
    pub width: u32,
    pub height: u32,
}

/// A fresh version: time-ordered (UUID v7), 32 hex digits.
pub fn new_version() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

/// A version as made by [`new_version`] (what a key may carry).
pub fn is_version(text: &str) -> bool {
    (8..=40).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
}

/// The widths of [`WIDTHS`] a picture `width` wide (once cropped) can give
/// without enlarging it.
pub fn widths_for(width: u32) -> Vec<u32> {
    WIDTHS.into_iter().filter(|w| *w <= width).collect()
}

/// A file's key in the bucket.
pub fn key(product: ProductId, version: &str, width: u32) -> String {
    format!("products/{product}/{version}/{width}.jpg")
}

impl Photo {
    /// The keys of its files.
    pub fn keys(&self, product: ProductId) -> Vec<String> {
        self.widths
            .iter()
            .map(|w| key(product, &self.version, *w))
            .collect()
    }

    /// For the page, under `base_url` (`PHOTOS_URL`, no trailing `/`).
    /// `None` when it has no file (a row written by hand).
    pub fn view(&self, product: ProductId, base_url: &str) -> Option<PhotoView> {
        let url = |w: u32| format!("{base_url}/{}", key(product, &self.version, w));
        let src_width = self
            .widths
            .iter()
            .copied()
            .find(|w| *w == DEFAULT_WIDTH)
            .or_else(|| self.widths.last().copied())?;
        Some(PhotoView {
            src: url(src_width),
            srcset: self
                .widths
                .iter()
                .map(|w| format!("{} {w}w", url(*w)))
                .collect::<Vec<_>>()
                .join(", "),
            width: src_width,
            height: height_for(src_width),
        })
    }

    fn from_row(version: String, widths: &str) -> Photo {
        let mut widths: Vec<u32> = widths
            .split(',')
            .filter_map(|w| w.trim().parse().ok())
            .filter(|w| WIDTHS.contains(w))
            .collect();
        widths.sort_unstable();
        widths.dedup();
        Photo { version, widths }
    }

    fn widths_text(&self) -> String {
        self.widths
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Every product's photo, for the menu (on a pool, or in a transaction).
pub async fn all<'c>(
    db: impl sqlx::Executor<'c, Database = sqlx::MySql>,
) -> Result<BTreeMap<ProductId, Photo>, sqlx::Error> {
    let rows = sqlx::query!("SELECT product_id, version, widths FROM product_photos")
        .fetch_all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                ProductId(r.product_id),
                Photo::from_row(r.version, &r.widths),
            )
        })
        .collect())
}

/// One product's photo, if it has one.
pub async fn of(pool: &MySqlPool, product: ProductId) -> Result<Option<Photo>, sqlx::Error> {
    let row = sqlx::query!(
        "SELECT version, widths FROM product_photos WHERE product_id = ?",
        product.0
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| Photo::from_row(r.version, &r.widths)))
}

/// Makes `photo` the product's, once its files are stored: one statement.
/// Answers the photo it replaces (whose files may then go).
pub async fn record(
    pool: &MySqlPool,
    product: ProductId,
    photo: &Photo,
) -> Result<Option<Photo>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let previous = sqlx::query!(
        "SELECT version, widths FROM product_photos WHERE product_id = ? FOR UPDATE",
        product.0
    )
    .fetch_optional(&mut *tx)
    .await?
    .map(|r| Photo::from_row(r.version, &r.widths));
    let widths = photo.widths_text();
    let now = chrono::Utc::now().naive_utc();
    sqlx::query!(
        "INSERT INTO product_photos (product_id, version, widths, updated_at) VALUES (?, ?, ?, ?) \
         ON DUPLICATE KEY UPDATE version = ?, widths = ?, updated_at = ?",
        product.0,
        photo.version,
        widths,
        now,
        photo.version,
        widths,
        now,
    )
    .execute(&mut *tx)
    .await?;
    version::bump(&mut tx).await?;
    tx.commit().await?;
    Ok(previous)
}

/// The product has no photo any more. Answers the one it had (whose files
/// may then go), `None` when it had none.
pub async fn remove(pool: &MySqlPool, product: ProductId) -> Result<Option<Photo>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let previous = sqlx::query!(
        "SELECT version, widths FROM product_photos WHERE product_id = ? FOR UPDATE",
        product.0
    )
    .fetch_optional(&mut *tx)
    .await?
    .map(|r| Photo::from_row(r.version, &r.widths));
    if previous.is_some() {
        sqlx::query!("DELETE FROM product_photos WHERE product_id = ?", product.0)
            .execute(&mut *tx)
            .await?;
        version::bump(&mut tx).await?;
    }
    tx.commit().await?;
    Ok(previous)
}

/// Gives each product of a menu its photo under `base_url` (none when
/// `base_url` is empty: photos are not configured).
pub fn attach(products: &mut [MenuProduct], photos: &BTreeMap<ProductId, Photo>, base_url: &str) {
    for product in products.iter_mut() {
        product.photo = if base_url.is_empty() {
            None
        } else {
            photos
                .get(&product.id)
                .and_then(|p| p.view(product.id, base_url))
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_photo_names_its_files_under_the_base_url() {
        let photo = Photo {
            version: "0193abcd".into(),
            widths: vec![320, 640, 960],
        };
        let view = photo
            .view(ProductId(7), "https://d1.cloudfront.net")
            .unwrap();
        assert_eq!(
            view.src,
            "https://d1.cloudfront.net/products/7/0193abcd/640.jpg"
        );
        assert_eq!(
            view.srcset,
            "https://d1.cloudfront.net/products/7/0193abcd/320.jpg 320w, \
             https://d1.cloudfront.net/products/7/0193abcd/640.jpg 640w, \
             https://d1.cloudfront.net/products/7/0193abcd/960.jpg 960w"
        );
        assert_eq!((view.width, view.height), (640, 480));
        assert_eq!(
            photo.keys(ProductId(7)),
            [
                "products/7/0193abcd/320.jpg",
                "products/7/0193abcd/640.jpg",
                "products/7/0193abcd/960.jpg"
            ]
        );
    }

    #[test]
    fn a_small_photo_has_the_widths_it_reaches() {
        assert_eq!(widths_for(320), [320]);
        assert_eq!(widths_for(900), [320, 640]);
        assert_eq!(widths_for(4000), [320, 640, 960]);
        let photo = Photo::from_row("0193abcd".into(), "320");
        let view = photo.view(ProductId(1), "http://x").unwrap();
        assert_eq!((view.width, view.height), (320, 240));
        // A row without a usable width has nothing to show.
        assert_eq!(
            Photo::from_row("0193abcd".into(), "12,x").view(ProductId(1), "http://x"),
            None
        );
    }

    #[test]
    fn versions_are_fresh_and_safe_in_a_key() {
        let (a, b) = (new_version(), new_version());
        assert_ne!(a, b);
        assert!(is_version(&a), "{a}");
        assert!(!is_version("../etc"));
        assert!(!is_version("ABC12345"));
        assert_eq!(height_for(960), 720);
    }
}
