//! A customer's address book and a change of e-mail, through the accounts
//! and checkout functions (answers checked against `docs/openapi.json`),
//! MariaDB and the local SMTP server, whose e-mails are read back from its
//! maildir. And as a curious customer would try them: someone else's
//! address at checkout or in a deletion, a full book, a label twice, a
//! guest naming a saved address, the confirmation link used twice, or sent
//! to an address someone takes meanwhile, a staff account, a flood of
//! e-mails to a stranger.

use chrono::Utc;
use http::StatusCode;
use ocpizza::reporting::audit::Scope;
use serde_json::{json, Value};
use sqlx::MySqlPool;
use testkit::mail::emails_to;
use testkit::{self as testing, scalar, Function::*, World};

async fn world(pool: &MySqlPool) -> World {
    let world = World::demo(pool, Utc::now()).await;
    testing::open_all_day_with_plenty_of_stock(pool).await;
    world
}

/// A POST to the accounts function: its status and answer.
async fn post(
    world: &World,
    uri: &str,
    body: Option<Value>,
    bearer: Option<&str>,
) -> (StatusCode, Value) {
    world.call(Accounts, "POST", uri, body, bearer).await
}

async fn book(world: &World, token: &str) -> Vec<Value> {
    let (status, answer) = world
        .call(Accounts, "GET", "/me/addresses", None, Some(token))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    answer["addresses"].as_array().cloned().unwrap_or_default()
}

async fn save(world: &World, token: &str, address: Value) -> (StatusCode, Value) {
    post(world, "/me/addresses", Some(address), Some(token)).await
}

/// Pizzeria 1's cash delivery of two Margheritas (over the minimum) to `address`.
fn delivery(address: Value) -> Value {
    let mut cart = json!({
        "pizzeria_id": 1, "fulfilment": "delivery", "payment_method": "cash",
        "lines": [{"product_id": 1, "quantity": 2}],
    });
    if let (Some(cart), Some(extra)) = (cart.as_object_mut(), address.as_object()) {
        cart.extend(extra.clone());
    }
    cart
}

fn fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_saved_address_is_reused_at_checkout_and_stays_its_owners(pool: MySqlPool) {
    let world = world(&pool).await;
    let camille = world.token("client.1@ocpizza.test").await;
    let lucas = world.token("client.2@ocpizza.test").await;

    // Camille's book holds her home; she adds her office (spaces tidied).
    let home = book(&world, &camille).await;
    assert_eq!(home.len(), 1);
    assert_eq!(home[0]["label"], "Domicile");
    let (status, saved) = save(
        &world,
        &camille,
        json!({"label": " Bureau ", "line1": "18  Rue Mercière", "postcode": "69002", "city": "Lyon"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{saved}");
    let office = saved["address"]["id"].as_i64().unwrap_or_default();
    let labels: Vec<Value> = book(&world, &camille)
        .await
        .iter()
        .map(|a| a["label"].clone())
        .collect();
    assert_eq!(labels, [json!("Domicile"), json!("Bureau")]);

    // She orders to it by its id: the order goes to the saved street.
    let (status, placed) = world
        .call(
            Checkout,
            "POST",
            "/orders",
            Some(delivery(json!({ "address_id": office }))),
            Some(&camille),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{placed}");
    assert_eq!(placed["order"]["address"]["line1"], "18 Rue Mercière");
    assert_eq!(placed["order"]["address"]["postcode"], "69002");
    let order = placed["order"]["id"].as_i64().unwrap_or_default();
    assert_eq!(
        scalar(&pool, &format!("SELECT COUNT(*) FROM orders WHERE id = {order} AND address_line1 = '18 Rue Mercière' AND customer_id = (SELECT id FROM users WHERE email = 'client.1@ocpizza.test')")).await,
        1
    );

    // Lucas tries Camille's address: at checkout, as a guest, with an
    // address too, and in a deletion. Nothing is ordered nor deleted.
    let orders_before = scalar(&pool, "SELECT COUNT(*) FROM orders").await;
    for (cart, bearer) in [
        (json!({ "address_id": office }), Some(lucas.as_str())),
        (json!({ "address_id": office }), None),
        (json!({ "address_id": -1 }), Some(lucas.as_str())),
        (
            json!({ "address_id": office, "address": {"line1": "1 Rue X", "postcode": "69002", "city": "Lyon"} }),
            Some(camille.as_str()),
        ),
    ] {
        let mut body = delivery(cart.clone());
        if bearer.is_none() {
            body["contact"] = json!({"name": "Inconnu", "phone": "06 12 34 56 78"});
        }
        let (status, problem) = world
            .call(Checkout, "POST", "/orders", Some(body), bearer)
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{cart}: {problem}"
        );
        assert_eq!(fields(&problem), ["address_id"], "{problem}");
    }
    assert_eq!(
        scalar(&pool, "SELECT COUNT(*) FROM orders").await,
        orders_before
    );
    let uri = format!("/me/addresses/{office}");
    let (status, _) = world
        .call(Accounts, "DELETE", &uri, None, Some(&lucas))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(book(&world, &camille).await.len(), 2);
    assert_eq!(
        book(&world, &lucas).await.len(),
        1,
        "Lucas sees only his own"
    );

    // A cashier taking Camille's call types her address: staff name no
    // saved address (they would read a customer's street by guessing ids).
    let cashier = world.token("cashier.1@ocpizza.test").await;
    let lucas_home = book(&world, &lucas).await[0]["id"]
        .as_i64()
        .unwrap_or_default();
    let camille_id = scalar(
        &pool,
        "SELECT id FROM users WHERE email = 'client.1@ocpizza.test'",
    )
    .await;
    for address in [office, lucas_home] {
        let mut phone = delivery(json!({ "address_id": address }));
        phone["channel"] = json!("phone");
        phone["customer_id"] = json!(camille_id);
        let (status, answer) = world
            .call(Checkout, "POST", "/orders", Some(phone), Some(&cashier))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
        assert_eq!(fields(&answer), ["address_id"], "{answer}");
    }
    // Nor on a pickup, where it would mean nothing.
    let mut pickup = delivery(json!({ "address_id": office }));
    pickup["fulfilment"] = json!("pickup");
    let (status, answer) = world
        .call(Checkout, "POST", "/orders", Some(pickup), Some(&camille))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(fields(&answer), ["address_id"]);

    // Staff and strangers have no book.
    let (status, _) = world
        .call(Accounts, "GET", "/me/addresses", None, Some(&cashier))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = world
        .call(Accounts, "GET", "/me/addresses", None, None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Every problem at once, nothing written; a label twice.
    let (status, problem) = save(
        &world,
        &camille,
        json!({"label": "", "line1": " ", "postcode": "6900", "city": "x".repeat(101)}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        fields(&problem),
        ["label", "line1", "postcode", "city"],
        "{problem}"
    );
    let (status, problem) = save(
        &world,
        &camille,
        json!({"label": "bureau", "line1": "2 Rue Y", "postcode": "69002", "city": "Lyon"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(fields(&problem), ["label"]);
    let (status, _) = save(
        &world,
        &camille,
        json!({"label": "Chez Léa", "line1": "2 Rue Y", "postcode": "69002", "city": "Lyon", "latitude": 1}),
    )
    .await;
    assert_eq!(status.as_u16() / 100, 4, "unknown fields are refused");
    assert_eq!(book(&world, &camille).await.len(), 2);

    // Ten at most, even when eight more are asked at once.
    let adds = (0..10).map(|i| {
        save(
            &world,
            &camille,
            json!({"label": format!("Ami {i}"), "line1": format!("{i} Rue Z"), "postcode": "69002", "city": "Lyon"}),
        )
    });
    let answers = futures_util::future::join_all(adds).await;
    let created = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .count();
    let full: Vec<&Value> = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::CONFLICT)
        .map(|(_, p)| p)
        .collect();
    assert_eq!((created, full.len()), (8, 2), "{answers:?}");
    assert!(full[0]["type"]
        .as_str()
        .is_some_and(|t| t.ends_with("/address-book-full")));
    assert_eq!(book(&world, &camille).await.len(), 10);

    // Deleting her office keeps the order's own copy.
    let (status, left) = world
        .call(Accounts, "DELETE", &uri, None, Some(&camille))
        .await;
    assert_eq!(status, StatusCode::OK, "{left}");
    assert_eq!(left["addresses"].as_array().map(Vec::len), Some(9));
    assert_eq!(
        scalar(&pool, &format!("SELECT COUNT(*) FROM orders WHERE id = {order} AND address_line1 = '18 Rue Mercière'")).await,
        1
    );
    let (status, _) = world
        .call(
            Checkout,
            "POST",
            "/orders",
            Some(delivery(json!({ "address_id": office }))),
            Some(&camille),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    world.run_consumers().await;
    testing::assert_reconciled(&pool, Scope::Settled).await;
}

/// The confirmation tokens e-mailed to `address`, as a mail client reads
/// them.
fn confirmation_tokens(address: &str) -> Vec<String> {
    let link = format!("{}account.html#email-token=", testing::config().site_url);
    emails_to(address)
        .iter()
        .filter(|mail| mail.subject == "Confirmez votre nouvelle adresse OC Pizza")
        .filter_map(|mail| {
            let (_, rest) = mail.body.split_once(&link)?;
            Some(rest.split_whitespace().next()?.to_owned())
        })
        .collect()
}

#[sqlx::test(migrations = "../../migrations")]
async fn an_e_mail_changes_only_once_the_new_address_confirms_it(pool: MySqlPool) {
    let world = world(&pool).await;
    let old = format!("ancienne.{}@example.fr", uuid::Uuid::new_v4().simple());
    let new = format!("nouvelle.{}@example.fr", uuid::Uuid::new_v4().simple());
    let account = json!({"email": old, "password": "pizza-du-mardi", "name": "Inès Girard"});
    let (status, _) = post(&world, "/accounts", Some(account), None).await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, session) = post(
        &world,
        "/sessions",
        Some(json!({"email": old, "password": "pizza-du-mardi"})),
        None,
    )
    .await;
    let token = session["token"].as_str().unwrap_or_default().to_owned();
    let change =
        |email: &str, password: &str| Some(json!({"new_email": email, "password": password}));

    // A wrong password, the same address, someone else's, nonsense: refused,
    // nothing sent.
    let (status, problem) = post(
        &world,
        "/me/email",
        change(&new, "pas le bon"),
        Some(&token),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
    let (status, problem) = post(
        &world,
        "/me/email",
        change(&old.to_uppercase(), "pizza-du-mardi"),
        Some(&token),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(fields(&problem), ["new_email"]);
    let (status, problem) = post(
        &world,
        "/me/email",
        change("client.2@ocpizza.test", "pizza-du-mardi"),
        Some(&token),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    let (status, _) = post(
        &world,
        "/me/email",
        change("pas une adresse", "pizza-du-mardi"),
        Some(&token),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let cashier = world.token("cashier.1@ocpizza.test").await;
    let (status, _) = post(
        &world,
        "/me/email",
        change(&new, "ocpizza-demo"),
        Some(&cashier),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(scalar(&pool, "SELECT COUNT(*) FROM notifications").await, 0);

    // Asked twice: the link goes to the new address; the account keeps the
    // old one meanwhile, and only the newest link works.
    for _ in 0..2 {
        let (status, asked) = post(
            &world,
            "/me/email",
            change(&new, "pizza-du-mardi"),
            Some(&token),
        )
        .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{asked}");
        assert_eq!(asked["sent_to"], new.as_str());
        testkit::mail::send_pending(&pool).await;
    }
    let (_, me) = world.call(Accounts, "GET", "/me", None, Some(&token)).await;
    assert_eq!(me["user"]["email"], old.as_str());
    let tokens = confirmation_tokens(&new);
    assert_eq!(tokens.len(), 2, "{tokens:?}");
    assert!(emails_to(&old).is_empty(), "nothing to the old address yet");
    let newest = {
        let mut found = None;
        for t in &tokens {
            let digest = format!("UNHEX(SHA2('{t}', 256))");
            let unused = scalar(&pool, &format!("SELECT COUNT(*) FROM password_links WHERE token_sha256 = {digest} AND used_at IS NULL")).await;
            if unused == 1 {
                found = Some(t.clone());
            }
        }
        found.expect("one link still unused")
    };
    let older = tokens
        .iter()
        .find(|t| **t != newest)
        .cloned()
        .unwrap_or_default();
    let confirm = |t: &str| Some(json!({ "token": t }));
    let (status, _) = post(&world, "/email-confirmations", confirm(&older), None).await;
    assert_eq!(status, StatusCode::GONE);

    // The link sets no password.
    let (status, _) = post(
        &world,
        "/password-links",
        Some(json!({"token": newest, "new_password": "un mot de passe volé"})),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::GONE);

    // A reset link asked for the old address meanwhile.
    let (status, _) = post(
        &world,
        "/password-resets",
        Some(json!({ "email": old })),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let account_links = "SELECT COUNT(*) FROM password_links WHERE used_at IS NULL AND user_id = \
         (SELECT id FROM users WHERE name = 'Inès Girard')";
    assert_eq!(
        scalar(&pool, account_links).await,
        2,
        "the newest confirmation and the reset"
    );

    // Followed (no session needed): the new address signs in, the old is
    // told, the link works once, every other link of the account ends (the
    // reset link in the old inbox too), and the session goes on.
    let (status, changed) = post(&world, "/email-confirmations", confirm(&newest), None).await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(
        changed,
        json!({ "email": new }),
        "the new address, nothing else"
    );
    assert_eq!(scalar(&pool, account_links).await, 0);
    let (status, _) = post(&world, "/email-confirmations", confirm(&newest), None).await;
    assert_eq!(status, StatusCode::GONE);
    let sign_in = |email: &str| Some(json!({"email": email, "password": "pizza-du-mardi"}));
    let (status, _) = post(&world, "/sessions", sign_in(&new), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = post(&world, "/sessions", sign_in(&old), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, me) = world.call(Accounts, "GET", "/me", None, Some(&token)).await;
    assert_eq!(
        (status, &me["user"]["email"]),
        (StatusCode::OK, &json!(new))
    );
    testkit::mail::send_pending(&pool).await;
    let notices: Vec<_> = emails_to(&old)
        .into_iter()
        .filter(|m| m.subject != "Choisir un nouveau mot de passe OC Pizza")
        .collect();
    assert_eq!(notices.len(), 1);
    assert_eq!(
        notices[0].subject,
        "L'adresse de votre compte OC Pizza a changé"
    );
    assert!(notices[0].body.contains(&new), "{}", notices[0].body);

    // A link to an address someone takes before it is followed changes
    // nothing.
    let third = format!("troisieme.{}@example.fr", uuid::Uuid::new_v4().simple());
    let (status, _) = post(
        &world,
        "/me/email",
        change(&third, "pizza-du-mardi"),
        Some(&token),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    testkit::mail::send_pending(&pool).await;
    let late = confirmation_tokens(&third).pop().unwrap_or_default();
    let (status, _) = post(
        &world,
        "/accounts",
        Some(json!({"email": third, "password": "quelqu'un d'autre", "name": "Autre"})),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, problem) = post(&world, "/email-confirmations", confirm(&late), None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    let (_, me) = world.call(Accounts, "GET", "/me", None, Some(&token)).await;
    assert_eq!(me["user"]["email"], new.as_str());

    // Three links an hour to one address, whichever account asks; ten
    // requests an hour per account, whatever their outcome (each says
    // whether an address has an account). This account has made seven.
    let stranger = format!("inconnu.{}@example.fr", uuid::Uuid::new_v4().simple());
    for _ in 0..3 {
        let (status, answer) = post(
            &world,
            "/me/email",
            change(&stranger, "pizza-du-mardi"),
            Some(&token),
        )
        .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    }
    let other = format!("autre.{}@example.fr", uuid::Uuid::new_v4().simple());
    let account = json!({"email": other, "password": "pizza-du-jeudi", "name": "Autre"});
    post(&world, "/accounts", Some(account), None).await;
    let (_, session) = post(
        &world,
        "/sessions",
        Some(json!({"email": other, "password": "pizza-du-jeudi"})),
        None,
    )
    .await;
    let other_token = session["token"].as_str().unwrap_or_default().to_owned();
    let (status, problem) = post(
        &world,
        "/me/email",
        change(&stranger, "pizza-du-jeudi"),
        Some(&other_token),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "{problem}: a fourth link to one address"
    );
    let (status, problem) = post(
        &world,
        "/me/email",
        change("encore@example.fr", "pizza-du-mardi"),
        Some(&token),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "{problem}: the account's eleventh request"
    );
    testkit::mail::send_pending(&pool).await;
    let sent = emails_to(&stranger);
    assert_eq!(sent.len(), 3);
    assert!(
        sent.iter()
            .all(|m| m.body.starts_with("Bonjour,") && !m.body.contains("Inès")),
        "nothing the requester wrote reaches the stranger"
    );
    for bad in [
        json!({}),
        json!({"token": 5}),
        json!({"token": ""}),
        json!({"token": "x", "more": 1}),
    ] {
        let (status, _) = post(&world, "/email-confirmations", Some(bad.clone()), None).await;
        assert!(status.is_client_error(), "{bad}: {status}");
    }
    // The database keeps no link in clear, and no e-mail keeps one once sent.
    testkit::mail::send_pending(&pool).await;
    testing::assert_reconciled(&pool, Scope::Settled).await;
}
