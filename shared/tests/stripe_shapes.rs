//! Our webhook reader against a `payment_intent.succeeded` event as the
//! current Stripe API sends it, not only localstripe's 2017-08-15 shape.
//!
//! Where the shape comes from: Stripe's public OpenAPI repository
//! (github.com/stripe/openapi, snapshot at commit f6c2a48f of 2026-08-21),
//! `openapi/fixtures3.json`: its `payment_intent` fixture, every field kept,
//! inside its `event` fixture's envelope. The API version is 2026-07-29.dahlia,
//! the GA release the repository's `openapi/spec3.json` was last updated for
//! (commit 19be337d "Update OpenAPI for 2026-07-29.dahlia"). Values are an
//! order's: 31.50 € (3150 cents) paid in full, order 42 (K7M2QD) in the
//! metadata, `latest_charge` a charge id, and no `charges` list (gone from
//! PaymentIntents since API version 2022-11-15).
//!
//! The fixture lives with the webhook function
//! (`functions/stripe-webhook/tests/fixtures/payment_intent.succeeded.json`);
//! the variants below are edits of it.

use hmac::{Hmac, Mac};
use ocpizza::payment::{
    self, parse_event, verify_signature, EventObject, PaymentIntent, PaymentIntentStatus,
    SignatureError,
};
use ocpizza::platform::ids::OrderId;
use ocpizza::Money;
use serde_json::{json, Value};
use sha2::Sha256;

const FIXTURE: &str =
    include_str!("../../functions/stripe-webhook/tests/fixtures/payment_intent.succeeded.json");

const SECRET: &str = "whsec_ocpizza_stripe_shapes";
/// The fixture's `created`, a few seconds after the PaymentIntent's.
const NOW: i64 = 1_796_381_442;

fn fixture() -> Value {
    serde_json::from_str(FIXTURE).expect("the fixture is JSON")
}

/// The fixture with its PaymentIntent edited by `edit`.
fn variant(edit: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Vec<u8> {
    let mut event = fixture();
    let object = event["data"]["object"]
        .as_object_mut()
        .expect("data.object is an object");
    edit(object);
    serde_json::to_vec_pretty(&event).unwrap()
}

/// The PaymentIntent of an event that must read as one.
fn payment_intent(payload: &[u8]) -> PaymentIntent {
    let event = parse_event(payload).expect("the event reads");
    match event.object {
        EventObject::PaymentIntent(pi, last_error) => {
            assert_eq!(last_error, None);
            pi
        }
        other => panic!("not a PaymentIntent: {other:?}"),
    }
}

#[test]
fn the_fixture_has_the_current_api_shape() {
    // Guards the fixture itself against a careless edit: it is what Stripe
    // sends now, which is the point of these tests.
    let event = fixture();
    assert_eq!(event["object"], "event");
    assert_eq!(event["api_version"], "2026-07-29.dahlia");
    assert_eq!(event["livemode"], false);
    assert_eq!(event["pending_webhooks"], 1);
    assert_eq!(
        event["request"],
        json!({"id": null, "idempotency_key": null})
    );
    let pi = &event["data"]["object"];
    assert_eq!(pi["object"], "payment_intent");
    assert!(pi["latest_charge"].as_str().unwrap().starts_with("ch_"));
    assert!(
        pi.get("charges").is_none(),
        "no charges list since 2022-11-15"
    );
    assert!(pi["amount_details"].is_object());
    assert!(pi["client_secret"].as_str().unwrap().contains("_secret_"));
    assert_eq!(pi["payment_method_types"], json!(["card"]));
}

#[test]
fn reads_a_current_payment_intent_succeeded_event() {
    let event = parse_event(FIXTURE.as_bytes()).expect("the event reads");
    assert_eq!(event.id, "evt_3TaK2cLkdIwHu7ix0Jq7YcRm");
    assert_eq!(event.event_type, "payment_intent.succeeded");
    assert_eq!(event.created, NOW);
    let EventObject::PaymentIntent(pi, last_error) = event.object else {
        panic!("not a PaymentIntent: {:?}", event.object);
    };
    assert_eq!(pi.id, "pi_3TaK2cLkdIwHu7ix0b8XQ1fN");
    assert_eq!(pi.status, PaymentIntentStatus::Succeeded);
    assert_eq!(pi.amount, Money::from_cents(3150));
    assert_eq!(pi.amount_received, Money::from_cents(3150));
    assert_eq!(pi.amount_received, pi.amount, "paid in full");
    assert_eq!(pi.currency, "eur");
    assert_eq!(pi.order_id, Some(OrderId(42)));
    // The fixture carries a client secret; a webhook never passes it on.
    assert_eq!(pi.client_secret, None);
    assert_eq!(last_error, None);
}

#[test]
fn the_signed_fixture_verifies_and_a_changed_byte_does_not() {
    let payload = FIXTURE.as_bytes();
    let header = payment::sign(payload, SECRET, NOW);
    assert_eq!(verify_signature(payload, &header, SECRET, NOW), Ok(()));
    assert_eq!(verify_signature(payload, &header, SECRET, NOW + 60), Ok(()));

    // Stripe's scheme, computed here independently: `t=<unix>,v1=<hex of
    // HMAC-SHA256("<t>.<raw body>") keyed with the endpoint's secret>`.
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{NOW}.").as_bytes());
    mac.update(payload);
    let expected = format!("t={NOW},v1={}", hex::encode(mac.finalize().into_bytes()));
    assert_eq!(header, expected);

    // One byte changed: 3150 cents become 3151.
    let at = FIXTURE
        .find("\"amount\": 3150")
        .expect("the amount is in the fixture")
        + "\"amount\": 315".len();
    let mut tampered = payload.to_vec();
    assert_eq!(tampered[at], b'0');
    tampered[at] = b'1';
    assert_eq!(tampered.len(), payload.len());
    assert_eq!(
        verify_signature(&tampered, &header, SECRET, NOW),
        Err(SignatureError::Mismatch)
    );
    // The same byte changed anywhere else, e.g. the event type's last letter.
    let mut tampered = payload.to_vec();
    let last = FIXTURE.rfind("succeeded").unwrap() + "succeeded".len() - 1;
    tampered[last] = b'D';
    assert_eq!(
        verify_signature(&tampered, &header, SECRET, NOW),
        Err(SignatureError::Mismatch)
    );
    // Pretty-printed and compact JSON are different bodies: the signature
    // covers the raw bytes, never a re-serialization.
    let compact = serde_json::to_vec(&fixture()).unwrap();
    assert_eq!(
        verify_signature(&compact, &header, SECRET, NOW),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn reads_another_currency_as_it_is() {
    let pi = payment_intent(&variant(|pi| {
        pi.insert("currency".into(), json!("usd"));
    }));
    assert_eq!(pi.currency, "usd");
    assert_eq!(pi.amount, Money::from_cents(3150));
}

#[test]
fn reads_a_partial_amount_received() {
    let pi = payment_intent(&variant(|pi| {
        pi.insert("amount_received".into(), json!(1));
    }));
    assert_eq!(pi.amount_received, Money::from_cents(1));
    assert_eq!(pi.amount, Money::from_cents(3150));
    assert!(pi.amount_received < pi.amount);
}

#[test]
fn reads_a_missing_amount_received_as_all_of_a_succeeded_amount() {
    let pi = payment_intent(&variant(|pi| {
        assert!(pi.remove("amount_received").is_some());
    }));
    assert_eq!(pi.status, PaymentIntentStatus::Succeeded);
    assert_eq!(pi.amount_received, Money::from_cents(3150));
}

#[test]
fn reads_an_expanded_latest_charge() {
    let pi = payment_intent(&variant(|pi| {
        pi.insert(
            "latest_charge".into(),
            json!({
                "id": "ch_3TaK2cLkdIwHu7ix0nW5sEo2",
                "object": "charge",
                "amount": 3150,
                "amount_captured": 3150,
                "amount_refunded": 0,
                "captured": true,
                "currency": "eur",
                "paid": true,
                "payment_intent": "pi_3TaK2cLkdIwHu7ix0b8XQ1fN",
                "refunded": false,
                "status": "succeeded",
            }),
        );
    }));
    assert_eq!(pi.id, "pi_3TaK2cLkdIwHu7ix0b8XQ1fN");
    assert_eq!(pi.amount_received, Money::from_cents(3150));
    assert_eq!(pi.order_id, Some(OrderId(42)));
}

#[test]
fn ignores_an_unknown_new_field() {
    let pi = payment_intent(&variant(|pi| {
        pi.insert(
            "some_field_from_2030".into(),
            json!({"nested": [1, {"deep": null}], "flag": true}),
        );
    }));
    assert_eq!(pi.status, PaymentIntentStatus::Succeeded);
    assert_eq!(pi.amount_received, Money::from_cents(3150));
    assert_eq!(pi.currency, "eur");
    // And on the envelope too.
    let mut event = fixture();
    event["context"] = json!("acct_1Nv0FGQ9RKHgCVdK");
    event["some_envelope_field"] = json!([]);
    let event = parse_event(&serde_json::to_vec(&event).unwrap()).expect("the event reads");
    assert!(matches!(event.object, EventObject::PaymentIntent(..)));
}

#[test]
fn refuses_an_unknown_status_without_panicking() {
    // `parse_event` knows Stripe's seven statuses and refuses any other with
    // an error naming it (the webhook answers 400 and Stripe retries), rather
    // than guessing what a new status means for an order.
    let payload = variant(|pi| {
        pi.insert("status".into(), json!("requires_reauthorization"));
    });
    let err = parse_event(&payload).expect_err("an unknown status is refused");
    assert!(err.contains("requires_reauthorization"), "{err}");
}
