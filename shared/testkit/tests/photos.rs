//! Product photos, end to end against the local S3 server (moto at
//! `AWS_ENDPOINT_URL`): the admin's upload is decoded, cropped and resized
//! into the shop's widths, each file readable over HTTP at `PHOTOS_URL`
//! with a year's immutable cache; the menu names them; a new upload is a new
//! version (the menu follows, the old files go); a deletion leaves the
//! product without a photo. Whoever may not, and whatever is not a usable
//! photo, changes nothing: not the bucket, not the menu.

use chrono::Utc;
use http::StatusCode;
use serde_json::Value;
use sqlx::MySqlPool;
use testkit::{bucket_keys, png, Function, World};

/// Product 1 of the demo menu (a pizza on pizzeria 1's menu).
const PRODUCT: i64 = 1;

/// Product `id` as pizzeria 1's menu lists it.
async fn on_the_menu(world: &World, id: i64) -> Value {
    let (status, menu) = world
        .call(Function::Menu, "GET", "/pizzerias/1/menu", None, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{menu}");
    menu["products"]
        .as_array()
        .and_then(|all| all.iter().find(|p| p["id"] == id))
        .cloned()
        .unwrap_or_else(|| panic!("product {id} on the menu: {menu}"))
}

/// A file as a browser gets it from `PHOTOS_URL`: its decoded size, and
/// its `Cache-Control`.
async fn fetched(url: &str) -> (u32, u32, String) {
    let response = reqwest::get(url)
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    assert_eq!(response.status(), reqwest::StatusCode::OK, "GET {url}");
    let cache = response
        .headers()
        .get(reqwest::header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let bytes = response
        .bytes()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let format = image::guess_format(&bytes).unwrap_or_else(|e| panic!("{url}: {e}"));
    assert_eq!(format, image::ImageFormat::Jpeg, "{url} is a JPEG");
    let picture = image::load_from_memory(&bytes).unwrap_or_else(|e| panic!("{url}: {e}"));
    (picture.width(), picture.height(), cache)
}

/// The `(url, width)` pairs of a `srcset`.
fn srcset(photo: &Value) -> Vec<(String, u32)> {
    photo["srcset"]
        .as_str()
        .unwrap_or_default()
        .split(", ")
        .filter_map(|item| {
            let (url, width) = item.rsplit_once(' ')?;
            Some((url.to_owned(), width.trim_end_matches('w').parse().ok()?))
        })
        .collect()
}

/// The product's recorded version, if it has a photo.
async fn version(pool: &MySqlPool, product: i64) -> Option<String> {
    sqlx::query_scalar::<_, String>("SELECT version FROM product_photos WHERE product_id = ?")
        .bind(product)
        .fetch_optional(pool)
        .await
        .unwrap_or_else(|e| panic!("product_photos: {e}"))
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_admin_uploads_replaces_and_removes_a_photo_the_menu_shows(pool: MySqlPool) {
    let world = World::demo(&pool, Utc::now()).await;
    let admin = world.token("admin@ocpizza.test").await;

    // No photo yet: the menu says so.
    assert_eq!(on_the_menu(&world, PRODUCT).await["photo"], Value::Null);

    let (status, answer) = world
        .put_photo(PRODUCT, "image/png", png(1200, 900), Some(&admin))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let first = version(&pool, PRODUCT)
        .await
        .unwrap_or_else(|| panic!("recorded"));
    let keys = bucket_keys(&world.photos.store).await;
    assert_eq!(
        keys,
        [320, 640, 960].map(|w| format!("products/{PRODUCT}/{first}/{w}.jpg")),
        "one file per width, under the new version"
    );

    // The menu names the three files; each is a 4:3 JPEG of its width,
    // served with a year's immutable cache.
    let product = on_the_menu(&world, PRODUCT).await;
    let photo = &product["photo"];
    assert_eq!(
        photo, &answer["photo"],
        "the upload answers what the menu shows"
    );
    let base = &world.photos.photos_url;
    let files = srcset(photo);
    assert_eq!(
        files,
        [320, 640, 960].map(|w| (format!("{base}/products/{PRODUCT}/{first}/{w}.jpg"), w)),
        "{photo}"
    );
    assert_eq!(photo["src"], files[1].0, "src: the 640 file");
    assert_eq!(
        (photo["width"].as_u64(), photo["height"].as_u64()),
        (Some(640), Some(480))
    );
    for (url, width) in &files {
        let (w, h, cache) = fetched(url).await;
        assert_eq!((w, h), (*width, width * 3 / 4), "{url}");
        assert_eq!(cache, "public, max-age=31536000, immutable", "{url}");
    }
    // Another product keeps going without a photo.
    assert_eq!(on_the_menu(&world, 2).await["photo"], Value::Null);

    // A second upload: a new version, the menu follows, the old files go.
    let (status, answer) = world
        .put_photo(PRODUCT, "image/png", png(800, 1000), Some(&admin))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let second = version(&pool, PRODUCT)
        .await
        .unwrap_or_else(|| panic!("recorded"));
    assert_ne!(second, first, "a new upload is a new version");
    let photo = on_the_menu(&world, PRODUCT).await["photo"].clone();
    let files = srcset(&photo);
    assert_eq!(
        files,
        [320, 640].map(|w| (format!("{base}/products/{PRODUCT}/{second}/{w}.jpg"), w)),
        "an 800 px wide photo is not enlarged to 960: {photo}"
    );
    assert_eq!(
        bucket_keys(&world.photos.store).await,
        [320, 640].map(|w| format!("products/{PRODUCT}/{second}/{w}.jpg")),
        "the first version's files are gone"
    );
    for (url, width) in &files {
        let (w, h, _) = fetched(url).await;
        assert_eq!((w, h), (*width, width * 3 / 4), "{url}");
    }

    // Deleted: no photo on the menu, no file left; deleting again is fine.
    for _ in 0..2 {
        let (status, answer) = world
            .call(
                Function::Photos,
                "DELETE",
                &format!("/products/{PRODUCT}/photo"),
                None,
                Some(&admin),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{answer}");
    }
    assert_eq!(on_the_menu(&world, PRODUCT).await["photo"], Value::Null);
    assert_eq!(version(&pool, PRODUCT).await, None);
    assert!(bucket_keys(&world.photos.store).await.is_empty());
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_manager_screen_lists_the_photos(pool: MySqlPool) {
    let world = World::demo(&pool, Utc::now()).await;
    let admin = world.token("admin@ocpizza.test").await;
    let manager = world.token("manager.1@ocpizza.test").await;
    let (status, _) = world
        .put_photo(3, "image/png", png(640, 480), Some(&admin))
        .await;
    assert_eq!(status, StatusCode::OK);
    for who in [&admin, &manager] {
        let (status, list) = world
            .call(Function::Photos, "GET", "/photos", None, Some(who))
            .await;
        assert_eq!(status, StatusCode::OK, "{list}");
        let all = list["photos"].as_array().cloned().unwrap_or_default();
        assert_eq!(all.len(), 1, "{list}");
        assert_eq!(all[0]["product_id"], 3);
        assert_eq!(all[0]["photo"], on_the_menu(&world, 3).await["photo"]);
    }
    let customer = world.token("client.1@ocpizza.test").await;
    let (status, _) = world
        .call(Function::Photos, "GET", "/photos", None, Some(&customer))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = world
        .call(Function::Photos, "GET", "/photos", None, None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[sqlx::test(migrations = "../../migrations")]
async fn nobody_else_and_nothing_else_changes_a_photo(pool: MySqlPool) {
    let world = World::demo(&pool, Utc::now()).await;
    let admin = world.token("admin@ocpizza.test").await;
    let manager = world.token("manager.1@ocpizza.test").await;
    let customer = world.token("client.1@ocpizza.test").await;
    let (status, _) = world
        .put_photo(PRODUCT, "image/png", png(1200, 900), Some(&admin))
        .await;
    assert_eq!(status, StatusCode::OK);
    let kept = on_the_menu(&world, PRODUCT).await["photo"].clone();
    let kept_keys = bucket_keys(&world.photos.store).await;
    let kept_version = version(&pool, PRODUCT).await;
    let unchanged = |what: &str| {
        let what = what.to_owned();
        let (world, pool, kept, kept_keys, kept_version) = (
            &world,
            &pool,
            kept.clone(),
            kept_keys.clone(),
            kept_version.clone(),
        );
        async move {
            assert_eq!(on_the_menu(world, PRODUCT).await["photo"], kept, "{what}");
            assert_eq!(bucket_keys(&world.photos.store).await, kept_keys, "{what}");
            assert_eq!(version(pool, PRODUCT).await, kept_version, "{what}");
        }
    };

    // Who may not: a manager, a customer (403), nobody signed in (401).
    for (who, bearer, expected) in [
        ("manager", Some(manager.as_str()), StatusCode::FORBIDDEN),
        ("customer", Some(customer.as_str()), StatusCode::FORBIDDEN),
        ("no session", None, StatusCode::UNAUTHORIZED),
    ] {
        let (status, problem) = world
            .put_photo(PRODUCT, "image/png", png(1200, 900), bearer)
            .await;
        assert_eq!(status, expected, "{who} uploads: {problem}");
        let (status, problem) = world
            .call(
                Function::Photos,
                "DELETE",
                &format!("/products/{PRODUCT}/photo"),
                None,
                bearer,
            )
            .await;
        assert_eq!(status, expected, "{who} deletes: {problem}");
        unchanged(who).await;
    }

    // What is not a usable photo, sent by the admin.
    let whole = png(1200, 900);
    let cut = whole[..whole.len() / 2].to_vec();
    for (what, content_type, body, expected, reason) in [
        (
            "a text file",
            "image/png",
            b"Margherita: tomate, mozzarella, basilic".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_an_image",
        ),
        (
            "a truncated PNG",
            "image/png",
            cut,
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_an_image",
        ),
        (
            "a 100 × 100 picture",
            "image/png",
            png(100, 100),
            StatusCode::UNPROCESSABLE_ENTITY,
            "too_small",
        ),
        (
            "6 MB",
            "image/jpeg",
            vec![0xFF; 6 * 1024 * 1024],
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_heavy",
        ),
        (
            "an empty body",
            "image/jpeg",
            Vec::new(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "empty",
        ),
        (
            "a picture over 6000 px",
            "image/png",
            png(6001, 300),
            StatusCode::UNPROCESSABLE_ENTITY,
            "too_large",
        ),
        (
            "a PNG sent as text",
            "text/plain",
            png(1200, 900),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "format",
        ),
    ] {
        let (status, problem) = world
            .put_photo(PRODUCT, content_type, body, Some(&admin))
            .await;
        assert_eq!(status, expected, "{what}: {problem}");
        assert_eq!(
            problem["type"], "/problems/invalid-photo",
            "{what}: {problem}"
        );
        assert_eq!(problem["reason"], reason, "{what}: {problem}");
        unchanged(what).await;
    }

    // A product that does not exist.
    let (status, _) = world
        .put_photo(999_999, "image/png", png(1200, 900), Some(&admin))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = world
        .call(
            Function::Photos,
            "DELETE",
            "/products/999999/photo",
            None,
            Some(&admin),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    unchanged("an unknown product").await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn an_upload_s3_refuses_leaves_the_photo_in_place(pool: MySqlPool) {
    let mut world = World::demo(&pool, Utc::now()).await;
    let admin = world.token("admin@ocpizza.test").await;
    let (status, _) = world
        .put_photo(PRODUCT, "image/png", png(1200, 900), Some(&admin))
        .await;
    assert_eq!(status, StatusCode::OK);
    let kept = on_the_menu(&world, PRODUCT).await["photo"].clone();
    // The bucket is gone from under the function: every put fails.
    let working = world.photos.store.clone();
    world.photos.store = photos::Store::new(working.client().clone(), "t-photos-no-such-bucket");
    let (status, problem) = world
        .put_photo(PRODUCT, "image/png", png(1000, 750), Some(&admin))
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{problem}");
    assert_eq!(on_the_menu(&world, PRODUCT).await["photo"], kept);
    assert_eq!(bucket_keys(&working).await.len(), 3, "the old files stay");
}
