//! Couriers' shifts, and a delivery given to another courier: as the courier
//! and the manager do them from their screens (HTTP, answers checked against
//! `docs/openapi.json`), and as a curious employee would try them.

use chrono::Utc;
use http::StatusCode;
use ocpizza::platform::queue::QueueName;
use ocpizza::reporting::audit::Scope;
use serde_json::{json, Value};
use sqlx::MySqlPool;
use std::time::Duration;
use testkit::{self as testing, Function::*, World};

/// The demo data, open all day with plenty of stock.
async fn world(pool: &MySqlPool) -> World {
    let world = World::demo(pool, Utc::now()).await;
    testing::open_all_day_with_plenty_of_stock(pool).await;
    world
}

async fn user_id(pool: &MySqlPool, email: &str) -> i64 {
    let (id,): (i64,) = sqlx::query_as("SELECT id FROM users WHERE email = ?")
        .bind(email)
        .fetch_one(pool)
        .await
        .unwrap_or_else(|e| panic!("{email}: {e}"));
    id
}

/// A cash delivery order of pizzeria 1 (`n` varies the phone), cooked and
/// ready, its delivery made through the queues as the consumers make it.
/// Returns the delivery's id.
async fn ready_delivery(world: &World, n: u32) -> i64 {
    let body = json!({
        "pizzeria_id": 1, "fulfilment": "delivery", "payment_method": "cash",
        "lines": [{"product_id": 1, "quantity": 2}],
        "contact": {"name": "Nina Petit", "phone": format!("06 11 22 33 {n:02}")},
        "address": {"line1": "18 Rue Mercière", "postcode": "69002", "city": "Lyon"}
    });
    let (status, answer) = world
        .call(Checkout, "POST", "/orders", Some(body), None)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let order = answer["order"]["id"].as_i64().unwrap_or_default();
    let quiet = Duration::from_millis(300);
    for envelope in testing::drain(&world.checkout.queues, QueueName::Kitchen, quiet).await {
        kitchen::apply(&world.pool, envelope)
            .await
            .unwrap_or_else(|e| panic!("kitchen: {e:?}"));
    }
    let chef = world.token("pizzaiolo.1@ocpizza.test").await;
    for step in ["start", "ready"] {
        let uri = format!("/tickets/{order}/{step}");
        let (status, answer) = world.call(Kitchen, "POST", &uri, None, Some(&chef)).await;
        assert_eq!(status, StatusCode::OK, "{step}: {answer}");
    }
    for envelope in testing::drain(&world.checkout.queues, QueueName::Delivery, quiet).await {
        delivery::apply(&world.pool, envelope)
            .await
            .unwrap_or_else(|e| panic!("delivery: {e:?}"));
    }
    let (id,): (i64,) = sqlx::query_as("SELECT id FROM deliveries WHERE order_id = ?")
        .bind(order)
        .fetch_one(&world.pool)
        .await
        .unwrap_or_else(|e| panic!("order {order} has no delivery: {e}"));
    id
}

/// The delivery as the manager's list shows it.
async fn as_manager_sees_it(world: &World, delivery: i64) -> Value {
    let manager = world.token("manager.1@ocpizza.test").await;
    let (status, list) = world
        .call(Delivery, "GET", "/deliveries", None, Some(&manager))
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list["deliveries"]
        .as_array()
        .and_then(|all| all.iter().find(|d| d["id"] == json!(delivery)))
        .cloned()
        .unwrap_or_else(|| panic!("delivery {delivery} is not in the manager's list: {list}"))
}

/// The ids of the deliveries in a courier's own list.
async fn run_of(world: &World, token: &str) -> Vec<i64> {
    let (status, list) = world
        .call(Delivery, "GET", "/deliveries", None, Some(token))
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list["deliveries"]
        .as_array()
        .map(|all| all.iter().filter_map(|d| d["id"].as_i64()).collect())
        .unwrap_or_default()
}

#[sqlx::test(migrations = "../../migrations")]
async fn only_couriers_on_shift_get_deliveries_and_a_shift_start_takes_what_waits(pool: MySqlPool) {
    let world = world(&pool).await;
    let first = world.token("courier.1@ocpizza.test").await;
    let second = world.token("courier2.1@ocpizza.test").await;
    for token in [&first, &second] {
        let (status, answer) = world
            .call(Delivery, "DELETE", "/shift", None, Some(token))
            .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(answer["on_shift_since"], Value::Null);
    }

    // Nobody on shift: the delivery waits, with no courier, though both
    // couriers' accounts are active.
    let delivery = ready_delivery(&world, 1).await;
    let seen = as_manager_sees_it(&world, delivery).await;
    assert_eq!(seen["status"], "waiting");
    assert_eq!(seen["courier_name"], Value::Null);
    assert!(run_of(&world, &first).await.is_empty());

    // The first courier starts their shift: the delivery is theirs at once,
    // and the manager reads their name beside it.
    let (status, started) = world
        .call(Delivery, "POST", "/shift", None, Some(&first))
        .await;
    assert_eq!(status, StatusCode::OK, "{started}");
    assert_eq!(started["assigned"], 1);
    assert!(started["on_shift_since"].is_string(), "{started}");
    assert_eq!(run_of(&world, &first).await, vec![delivery]);
    let seen = as_manager_sees_it(&world, delivery).await;
    assert_eq!(seen["status"], "assigned");
    assert_eq!(seen["courier_name"], "Mehdi Rousseau");
    assert!(seen["eta"].is_string(), "{seen}");

    // Starting again changes nothing: the same shift, nothing more to give.
    let (status, again) = world
        .call(Delivery, "POST", "/shift", None, Some(&first))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["on_shift_since"], started["on_shift_since"]);
    assert_eq!(again["assigned"], 0);
    let (status, shift) = world
        .call(Delivery, "GET", "/shift", None, Some(&first))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(shift["on_shift_since"], started["on_shift_since"]);

    // The second, off shift, is given nothing.
    let next = ready_delivery(&world, 2).await;
    assert_eq!(
        run_of(&world, &first).await.len(),
        2,
        "{next} is the first's too"
    );
    assert!(run_of(&world, &second).await.is_empty());
    testing::assert_reconciled(&pool, Scope::Settled).await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_shift_ends_with_nothing_on_the_way_and_gives_back_what_was_not_picked_up(
    pool: MySqlPool,
) {
    let world = world(&pool).await;
    let first = world.token("courier.1@ocpizza.test").await;
    let second = world.token("courier2.1@ocpizza.test").await;
    let (status, _) = world
        .call(Delivery, "DELETE", "/shift", None, Some(&second))
        .await;
    assert_eq!(status, StatusCode::OK);
    let delivery = ready_delivery(&world, 3).await;
    assert_eq!(run_of(&world, &first).await, vec![delivery]);

    // The first goes home before leaving with it: it goes back to waiting,
    // then to the second the moment their shift starts.
    let (status, ended) = world
        .call(Delivery, "DELETE", "/shift", None, Some(&first))
        .await;
    assert_eq!(status, StatusCode::OK, "{ended}");
    assert_eq!(
        (ended["given_back"].as_i64(), ended["assigned"].as_i64()),
        (Some(1), Some(0))
    );
    assert_eq!(
        as_manager_sees_it(&world, delivery).await["status"],
        "waiting"
    );
    let (status, started) = world
        .call(Delivery, "POST", "/shift", None, Some(&second))
        .await;
    assert_eq!(status, StatusCode::OK, "{started}");
    assert_eq!(started["assigned"], 1);
    assert_eq!(
        as_manager_sees_it(&world, delivery).await["courier_name"],
        "Manon Blanc"
    );
    assert!(run_of(&world, &first).await.is_empty());

    // On the way, the shift does not end: the problem says how many.
    let uri = format!("/deliveries/{delivery}/pickup");
    let (status, answer) = world
        .call(Delivery, "POST", &uri, None, Some(&second))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, problem) = world
        .call(Delivery, "DELETE", "/shift", None, Some(&second))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(problem["type"], "/problems/deliveries-on-the-way");
    assert_eq!(problem["out_for_delivery"], 1);
    let (status, shift) = world
        .call(Delivery, "GET", "/shift", None, Some(&second))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        shift["on_shift_since"].is_string(),
        "still on shift: {shift}"
    );
    testing::assert_reconciled(&pool, Scope::Settled).await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_manager_gives_a_delivery_to_a_courier_on_shift_and_nobody_else_may(pool: MySqlPool) {
    let world = world(&pool).await;
    let manager = world.token("manager.1@ocpizza.test").await;
    let first = world.token("courier.1@ocpizza.test").await;
    let second_id = user_id(&pool, "courier2.1@ocpizza.test").await;
    let second = world.token("courier2.1@ocpizza.test").await;
    // Both on shift (the demo's couriers are): the first has the delivery.
    let delivery = ready_delivery(&world, 4).await;
    let first_id = user_id(&pool, "courier.1@ocpizza.test").await;
    let holder = as_manager_sees_it(&world, delivery).await["courier_id"].as_i64();
    let (mine, mine_id, other, other_id) = if holder == Some(second_id) {
        (&second, second_id, &first, first_id)
    } else {
        (&first, first_id, &second, second_id)
    };
    let give = format!("/deliveries/{delivery}/courier");

    // Who may not: the couriers themselves, a cashier, another pizzeria's
    // manager, nobody signed in.
    let cashier = world.token("cashier.1@ocpizza.test").await;
    let elsewhere = world.token("manager.2@ocpizza.test").await;
    for (token, expected) in [
        (Some(mine.as_str()), StatusCode::FORBIDDEN),
        (Some(other.as_str()), StatusCode::FORBIDDEN),
        (Some(cashier.as_str()), StatusCode::FORBIDDEN),
        (Some(elsewhere.as_str()), StatusCode::FORBIDDEN),
        (None, StatusCode::UNAUTHORIZED),
    ] {
        let (status, answer) = world
            .call(
                Delivery,
                "POST",
                &give,
                Some(json!({"courier_id": other_id})),
                token,
            )
            .await;
        assert_eq!(status, expected, "{answer}");
    }
    assert_eq!(
        as_manager_sees_it(&world, delivery).await["courier_id"].as_i64(),
        holder,
        "refused, nothing moved"
    );

    // To whom not: a pizzaiolo, another pizzeria's courier, nobody, junk.
    let pizzaiolo = user_id(&pool, "pizzaiolo.1@ocpizza.test").await;
    let away = user_id(&pool, "courier.2@ocpizza.test").await;
    for (body, kind) in [
        (
            json!({"courier_id": pizzaiolo}),
            "/problems/no-such-courier",
        ),
        (json!({"courier_id": away}), "/problems/no-such-courier"),
        (json!({"courier_id": 999_999}), "/problems/no-such-courier"),
        (json!({"courier_id": -1}), "/problems/no-such-courier"),
        (json!({"courier_id": "deux"}), "/problems/invalid-request"),
        (
            json!({"courier_id": other_id, "urgent": true}),
            "/problems/invalid-request",
        ),
    ] {
        let (status, problem) = world
            .call(Delivery, "POST", &give, Some(body.clone()), Some(&manager))
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {problem}"
        );
        assert_eq!(problem["type"], kind, "{body}");
    }
    let (status, _) = world
        .call(
            Delivery,
            "POST",
            "/deliveries/999999/courier",
            Some(json!({"courier_id": other_id})),
            Some(&manager),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A courier off shift is refused; on shift, they have it, with a new
    // arrival estimate, and the first can no longer take it.
    let (status, _) = world
        .call(Delivery, "DELETE", "/shift", None, Some(other))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, problem) = world
        .call(
            Delivery,
            "POST",
            &give,
            Some(json!({"courier_id": other_id})),
            Some(&manager),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["type"], "/problems/courier-off-shift");
    let (status, _) = world
        .call(Delivery, "POST", "/shift", None, Some(other))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, given) = world
        .call(
            Delivery,
            "POST",
            &give,
            Some(json!({"courier_id": other_id})),
            Some(&manager),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{given}");
    assert_eq!(given["delivery"]["courier_id"], other_id);
    assert_eq!(given["delivery"]["status"], "assigned");
    assert!(given["delivery"]["eta"].is_string());
    assert_eq!(run_of(&world, other).await, vec![delivery]);
    assert!(run_of(&world, mine).await.is_empty());
    let pickup = format!("/deliveries/{delivery}/pickup");
    let (status, _) = world
        .call(Delivery, "POST", &pickup, None, Some(mine))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "another courier's now");

    // Once on the way it stays with its courier.
    let (status, _) = world
        .call(Delivery, "POST", &pickup, None, Some(other))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, problem) = world
        .call(
            Delivery,
            "POST",
            &give,
            Some(json!({"courier_id": mine_id})),
            Some(&manager),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(problem["delivery_status"], "out_for_delivery");

    // Shifts are couriers' own: a manager and the admin have none.
    let admin = world.token("admin@ocpizza.test").await;
    for token in [&manager, &admin] {
        let (status, _) = world
            .call(Delivery, "POST", "/shift", None, Some(token))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    testing::assert_reconciled(&pool, Scope::Settled).await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn two_shifts_starting_at_once_never_share_a_delivery(pool: MySqlPool) {
    let world = world(&pool).await;
    let first = world.token("courier.1@ocpizza.test").await;
    let second = world.token("courier2.1@ocpizza.test").await;
    for token in [&first, &second] {
        let (status, _) = world
            .call(Delivery, "DELETE", "/shift", None, Some(token))
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    let capacity = delivery::COURIER_CAPACITY as u32;
    let mut waiting = Vec::new();
    for n in 0..capacity + 2 {
        waiting.push(ready_delivery(&world, 10 + n).await);
    }
    let ((s1, a1), (s2, a2)) = tokio::join!(
        world.call(Delivery, "POST", "/shift", None, Some(&first)),
        world.call(Delivery, "POST", "/shift", None, Some(&second)),
    );
    assert_eq!((s1, s2), (StatusCode::OK, StatusCode::OK), "{a1} {a2}");
    let (mut a, mut b) = (run_of(&world, &first).await, run_of(&world, &second).await);
    assert_eq!(
        a1["assigned"].as_u64().unwrap_or_default() + a2["assigned"].as_u64().unwrap_or_default(),
        u64::from(capacity + 2),
        "every waiting delivery given once"
    );
    assert!(a.len() <= capacity as usize && b.len() <= capacity as usize);
    a.append(&mut b);
    a.sort_unstable();
    waiting.sort_unstable();
    assert_eq!(a, waiting, "each delivery in exactly one run");
    testing::assert_reconciled(&pool, Scope::Settled).await;
}

/// The manager's "Confier" clicked twice at once, and a courier picking up
/// while the manager gives the delivery away: the delivery ends with one
/// courier, in one run, and a pickup and a reassignment never both succeed.
#[sqlx::test(migrations = "../../migrations")]
async fn the_same_reassignment_twice_at_once_and_a_race_with_the_pickup(pool: MySqlPool) {
    let world = world(&pool).await;
    let manager = world.token("manager.1@ocpizza.test").await;
    let ids = [
        user_id(&pool, "courier.1@ocpizza.test").await,
        user_id(&pool, "courier2.1@ocpizza.test").await,
    ];
    let delivery = ready_delivery(&world, 30).await;
    let holder = as_manager_sees_it(&world, delivery).await["courier_id"].as_i64();
    let other = ids
        .into_iter()
        .find(|id| Some(*id) != holder)
        .unwrap_or_default();
    let give = format!("/deliveries/{delivery}/courier");
    let body = json!({ "courier_id": other });
    let ((s1, a1), (s2, a2)) = tokio::join!(
        world.call(Delivery, "POST", &give, Some(body.clone()), Some(&manager)),
        world.call(Delivery, "POST", &give, Some(body.clone()), Some(&manager)),
    );
    assert_eq!((s1, s2), (StatusCode::OK, StatusCode::OK), "{a1} {a2}");
    assert_eq!(
        as_manager_sees_it(&world, delivery).await["courier_id"],
        other
    );
    // In the new courier's run only.
    let emails = ["courier.1@ocpizza.test", "courier2.1@ocpizza.test"];
    let email = |id: i64| emails[usize::from(id != ids[0])];
    let courier = world.token(email(other)).await;
    let previous = world.token(email(holder.unwrap_or_default())).await;
    assert!(run_of(&world, &courier).await.contains(&delivery));
    assert!(!run_of(&world, &previous).await.contains(&delivery));

    // Its new courier picks it up while the manager gives it back: one wins.
    let back = json!({ "courier_id": holder });
    let pickup = format!("/deliveries/{delivery}/pickup");
    let ((picked, _), (given, _)) = tokio::join!(
        world.call(Delivery, "POST", &pickup, None, Some(&courier)),
        world.call(Delivery, "POST", &give, Some(back), Some(&manager)),
    );
    let seen = as_manager_sees_it(&world, delivery).await;
    if picked == StatusCode::OK {
        // Picked up first: the manager's change came too late (409), or came
        // first and the pickup was refused — never both.
        assert_eq!(given, StatusCode::CONFLICT, "{seen}");
        assert_eq!(seen["status"], "out_for_delivery");
        assert_eq!(seen["courier_id"], other);
    } else {
        assert_eq!(picked, StatusCode::FORBIDDEN, "{seen}");
        assert_eq!(given, StatusCode::OK);
        assert_eq!(seen["status"], "assigned");
        assert_eq!(seen["courier_id"], json!(holder));
    }
    testing::assert_reconciled(&pool, Scope::Settled).await;
}
