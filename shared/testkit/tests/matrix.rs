//! The role × endpoint matrix, through the real handlers: for every action of
//! `shared/src/identity/access.rs` (the table in `docs/architecture.md`), every role
//! of pizzeria 1, the same roles of pizzeria 2, a customer, the admin and
//! nobody call the endpoint on pizzeria 1's things. Allowed callers must get
//! through (any answer but 401/403/404); everyone else must be refused. Every
//! answer is also checked against `docs/openapi.json` (`testkit::World::call`).

use http::StatusCode;
use ocpizza::identity::access::Action;
use ocpizza::identity::role::Role;
use serde_json::{json, Value};
use sqlx::MySqlPool;
use testkit::{Function, World};

/// Who calls: a demo account (or nobody), the role, and whether they work in
/// pizzeria 1 (the pizzeria every call is about).
struct Who {
    email: Option<&'static str>,
    role: Option<Role>,
    home: bool,
}

const WHO: &[Who] = &[
    Who {
        email: None,
        role: None,
        home: false,
    },
    Who {
        email: Some("client.1@ocpizza.test"),
        role: Some(Role::Customer),
        home: false,
    },
    Who {
        email: Some("cashier.1@ocpizza.test"),
        role: Some(Role::Cashier),
        home: true,
    },
    Who {
        email: Some("pizzaiolo.1@ocpizza.test"),
        role: Some(Role::Pizzaiolo),
        home: true,
    },
    Who {
        email: Some("courier.1@ocpizza.test"),
        role: Some(Role::Courier),
        home: true,
    },
    Who {
        email: Some("manager.1@ocpizza.test"),
        role: Some(Role::Manager),
        home: true,
    },
    Who {
        email: Some("admin@ocpizza.test"),
        role: Some(Role::Admin),
        home: true,
    },
    Who {
        email: Some("cashier.2@ocpizza.test"),
        role: Some(Role::Cashier),
        home: false,
    },
    Who {
        email: Some("pizzaiolo.2@ocpizza.test"),
        role: Some(Role::Pizzaiolo),
        home: false,
    },
    Who {
        email: Some("courier.2@ocpizza.test"),
        role: Some(Role::Courier),
        home: false,
    },
    Who {
        email: Some("manager.2@ocpizza.test"),
        role: Some(Role::Manager),
        home: false,
    },
];

/// Group-wide things any allowed role reads wherever they work (and a
/// courier's own run and shift, wherever they work).
fn group_wide(action: Action) -> bool {
    matches!(
        action,
        Action::ReadRecipe | Action::ReadProducts | Action::OwnDeliveries | Action::CourierShift
    )
}

#[sqlx::test(migrations = "../../migrations")]
async fn every_cell_of_the_role_endpoint_matrix(pool: MySqlPool) {
    let world = World::demo(&pool, chrono::Utc::now()).await;

    // Pizzeria 1's things: a guest's cash pickup order (placed), and a cash
    // delivery order ready and assigned to courier.1.
    let guest_order = json!({
        "pizzeria_id": 1, "fulfilment": "pickup", "payment_method": "cash",
        "lines": [{"product_id": 1, "quantity": 1}],
        "contact": {"name": "Nina Petit", "phone": "0611223344"}
    });
    let (status, placed) = world
        .call(
            Function::Checkout,
            "POST",
            "/orders",
            Some(guest_order.clone()),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{placed}");
    let order = placed["order"]["id"].as_i64().unwrap();
    let (_, ready) = world
        .call(
            Function::Checkout,
            "POST",
            "/orders",
            Some(guest_order),
            None,
        )
        .await;
    let ready = ready["order"]["id"].as_i64().unwrap();
    sqlx::query("UPDATE orders SET status = 'ready', fulfilment = 'delivery' WHERE id = ?")
        .bind(ready)
        .execute(&pool)
        .await
        .unwrap();
    let (delivery_id,): (u64,) = {
        let done = sqlx::query(
            "INSERT INTO deliveries (order_id, pizzeria_id, courier_id, status, cash_to_collect_cents, assigned_at) \
             SELECT ?, 1, id, 'assigned', 0, UTC_TIMESTAMP(6) FROM users WHERE email = 'courier.1@ocpizza.test'",
        )
        .bind(ready)
        .execute(&pool)
        .await
        .unwrap();
        (done.last_insert_id(),)
    };

    let phone_order = json!({
        "pizzeria_id": 1, "channel": "phone", "fulfilment": "pickup", "payment_method": "cash",
        "lines": [{"product_id": 2, "quantity": 1}],
        "contact": {"name": "Paul Roux", "phone": "0655667788"}
    });
    let (cashier_1,): (i64,) =
        sqlx::query_as("SELECT id FROM users WHERE email = 'cashier.1@ocpizza.test'")
            .fetch_one(&pool)
            .await
            .unwrap();
    // A phone order cashier.1 took: theirs to void.
    let cashier_token = world.token("cashier.1@ocpizza.test").await;
    let (status, taken) = world
        .call(
            Function::Checkout,
            "POST",
            "/orders",
            Some(json!({
                "pizzeria_id": 1, "channel": "phone", "fulfilment": "pickup", "payment_method": "cash",
                "lines": [{"product_id": 2, "quantity": 1}],
                "contact": {"name": "Jules Blanc", "phone": "0655667799"}
            })),
            Some(&cashier_token),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{taken}");
    let taken = taken["order"]["id"].as_i64().unwrap();
    let (f, t) = ("2026-11-01", "2026-11-28");
    let endpoints: Vec<(Action, Function, &str, String, Option<Value>)> = vec![
        (
            Action::TakePhoneOrCounterOrder,
            Function::Checkout,
            "POST",
            "/orders".into(),
            Some(phone_order),
        ),
        (
            Action::CollectAtCounter,
            Function::Orders,
            "POST",
            format!("/orders/{order}/payments"),
            Some(json!({"method": "cash"})),
        ),
        (
            Action::ListPizzeriaOrders,
            Function::Orders,
            "GET",
            "/orders?pizzeria_id=1".into(),
            None,
        ),
        (
            Action::ReadPizzeriaOrder,
            Function::Orders,
            "GET",
            format!("/orders/{order}"),
            None,
        ),
        (
            Action::ChangePizzeriaOrder,
            Function::Orders,
            "PATCH",
            format!("/orders/{order}"),
            Some(json!({"lines": [{"product_id": 1, "quantity": 2}]})),
        ),
        (
            Action::VoidOrder,
            Function::Orders,
            "POST",
            format!("/orders/{taken}/void"),
            Some(json!({"reason": "doublon"})),
        ),
        (
            Action::MarkNoShow,
            Function::Orders,
            "POST",
            format!("/orders/{order}/no-show"),
            None,
        ),
        (
            Action::RefundOrder,
            Function::Orders,
            "POST",
            format!("/orders/{order}/refund"),
            Some(json!({"amount_cents": 100, "refunded_cents": 0, "reason": "geste"})),
        ),
        (
            Action::RemakeLine,
            Function::Kitchen,
            "POST",
            format!("/tickets/{order}/remake"),
            Some(json!({"line_no": 1, "quantity": 1, "reason": "brûlée"})),
        ),
        (
            Action::KitchenDisplay,
            Function::Kitchen,
            "GET",
            "/pizzerias/1/tickets".into(),
            None,
        ),
        (
            Action::WorkTicket,
            Function::Kitchen,
            "POST",
            format!("/tickets/{order}/start"),
            None,
        ),
        (
            Action::ReadRecipe,
            Function::Kitchen,
            "GET",
            "/recipes/1".into(),
            None,
        ),
        (
            Action::OwnDeliveries,
            Function::Delivery,
            "GET",
            "/deliveries".into(),
            None,
        ),
        (
            Action::PizzeriaDeliveries,
            Function::Delivery,
            "GET",
            "/deliveries?pizzeria_id=1".into(),
            None,
        ),
        (
            Action::WorkDelivery,
            Function::Delivery,
            "POST",
            format!("/deliveries/{delivery_id}/pickup"),
            None,
        ),
        (
            Action::CourierShift,
            Function::Delivery,
            "GET",
            "/shift".into(),
            None,
        ),
        (
            Action::AssignCourier,
            Function::Delivery,
            "GET",
            "/couriers?pizzeria_id=1".into(),
            None,
        ),
        (
            Action::ManageStaff,
            Function::Accounts,
            "GET",
            "/staff?pizzeria_id=1".into(),
            None,
        ),
        (
            Action::UnlockStaff,
            Function::Accounts,
            "POST",
            format!("/staff/{cashier_1}/unlock"),
            None,
        ),
        (
            Action::ManageStock,
            Function::Backoffice,
            "GET",
            "/pizzerias/1/stock".into(),
            None,
        ),
        (
            Action::ManagePizzeria,
            Function::Backoffice,
            "PUT",
            "/pizzerias/1/pause".into(),
            Some(json!({"scope": "delivery", "minutes": 15, "message": "Livreurs en retard"})),
        ),
        (
            Action::OpenPizzeria,
            Function::Backoffice,
            "POST",
            "/pizzerias".into(),
            Some(json!({
                "name": "OC Pizza Croix-Rousse", "line1": "4 Place de la Croix-Rousse",
                "postcode": "69004", "city": "Lyon", "phone": "04 78 00 00 00",
                "latitude": 45.7745, "longitude": 4.8318, "delivery_radius_m": 3000,
                "delivery_fee_cents": 250, "min_order_cents": 1500, "status": "opening_soon"
            })),
        ),
        (
            Action::ReadProducts,
            Function::Backoffice,
            "GET",
            "/products".into(),
            None,
        ),
        (
            Action::EditMenu,
            Function::Backoffice,
            "PATCH",
            "/products/1".into(),
            Some(json!({"description": "Tomate, mozzarella, basilic."})),
        ),
        (
            Action::MenuExclusion,
            Function::Backoffice,
            "PUT",
            "/pizzerias/1/products/3/unavailable".into(),
            None,
        ),
        (
            Action::PizzeriaRevenue,
            Function::Backoffice,
            "GET",
            format!("/reports/revenue?pizzeria_id=1&from={f}&to={t}"),
            None,
        ),
        (
            Action::GroupRevenue,
            Function::Backoffice,
            "GET",
            format!("/reports/revenue?from={f}&to={t}"),
            None,
        ),
    ];
    assert_eq!(
        endpoints.len(),
        Action::ALL.len(),
        "every action has its endpoint here"
    );

    let mut tokens = Vec::new();
    for who in WHO {
        tokens.push(match who.email {
            Some(email) => Some(world.token(email).await),
            None => None,
        });
    }
    let mut cells = 0;
    for (action, function, method, uri, body) in &endpoints {
        for (who, token) in WHO.iter().zip(&tokens) {
            let allowed = match who.role {
                None => false,
                Some(role) => {
                    let here = who.home || role == Role::Admin || group_wide(*action);
                    // The same URL serves a manager their pizzeria's deliveries.
                    let by_role = action.allows(role)
                        || (*action == Action::OwnDeliveries
                            && Action::PizzeriaDeliveries.allows(role));
                    by_role && here
                }
            };
            let (status, answer) = world
                .call(*function, method, uri, body.clone(), token.as_deref())
                .await;
            let refused = matches!(
                status,
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::NOT_FOUND
            );
            let label = format!("{action:?} as {:?}", who.email);
            if allowed {
                assert!(!refused, "{label} should get through: {status} {answer}");
            } else {
                assert!(refused, "{label} should be refused: {status} {answer}");
                // Signed in but not allowed: 403; an order the caller may not
                // even read is hidden: 404.
                let changes_order = matches!(
                    action,
                    Action::ChangePizzeriaOrder
                        | Action::VoidOrder
                        | Action::MarkNoShow
                        | Action::RefundOrder
                );
                let hidden = *action == Action::ReadPizzeriaOrder
                    || (changes_order
                        && !(who.home
                            && who
                                .role
                                .is_some_and(|r| Action::ReadPizzeriaOrder.allows(r))));
                if who.role.is_some() && !hidden {
                    assert_eq!(status, StatusCode::FORBIDDEN, "{label}: {answer}");
                }
            }
            cells += 1;
        }
    }
    assert_eq!(cells, Action::ALL.len() * WHO.len());
}
