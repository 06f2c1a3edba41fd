//! The payments module's own tests: signatures, wire types, errors.

use super::*;

const SECRET: &str = "whsec_test_secret";
const NOW: i64 = 1_795_000_000;
const BODY: &[u8] = br#"{"id":"evt_1","type":"payment_intent.succeeded"}"#;

#[test]
fn accepts_what_it_signs() {
    let header = sign(BODY, SECRET, NOW);
    assert!(header.starts_with(&format!("t={NOW},v1=")));
    assert_eq!(verify_signature(BODY, &header, SECRET, NOW), Ok(()));
    // Within the tolerance, either way.
    assert_eq!(verify_signature(BODY, &header, SECRET, NOW + 300), Ok(()));
    assert_eq!(verify_signature(BODY, &header, SECRET, NOW - 300), Ok(()));
}

#[test]
fn matches_an_independently_computed_signature() {
    // Python: hmac.new(b"whsec_test_secret", b"1795000000.{}", sha256).hexdigest()
    assert_eq!(
        sign(b"{}", SECRET, NOW),
        "t=1795000000,v1=75efa4fc275c5bc35e5909773e8be54d738edd7e1aa75226c9775d66159b2548"
    );
}

#[test]
fn refuses_a_tampered_body() {
    let header = sign(BODY, SECRET, NOW);
    let tampered = br#"{"id":"evt_1","type":"payment_intent.succeedeD"}"#;
    assert_eq!(
        verify_signature(tampered, &header, SECRET, NOW),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn refuses_another_secret() {
    let header = sign(BODY, "whsec_other", NOW);
    assert_eq!(
        verify_signature(BODY, &header, SECRET, NOW),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        verify_signature(BODY, &header, "", NOW),
        Err(SignatureError::NoSecret)
    );
}

#[test]
fn refuses_stale_and_future_timestamps() {
    let stale = sign(BODY, SECRET, NOW - 301);
    assert_eq!(
        verify_signature(BODY, &stale, SECRET, NOW),
        Err(SignatureError::OutsideTolerance { age_secs: 301 })
    );
    let future = sign(BODY, SECRET, NOW + 301);
    assert_eq!(
        verify_signature(BODY, &future, SECRET, NOW),
        Err(SignatureError::OutsideTolerance { age_secs: -301 })
    );
}

#[test]
fn refuses_headers_missing_parts() {
    let header = sign(BODY, SECRET, NOW);
    let (t, v1) = header.split_once(',').unwrap();
    assert_eq!(
        verify_signature(BODY, "", SECRET, NOW),
        Err(SignatureError::MissingHeader)
    );
    assert_eq!(
        verify_signature(BODY, "   ", SECRET, NOW),
        Err(SignatureError::MissingHeader)
    );
    assert_eq!(
        verify_signature(BODY, t, SECRET, NOW),
        Err(SignatureError::NoV1Signature)
    );
    assert!(matches!(
        verify_signature(BODY, v1, SECRET, NOW),
        Err(SignatureError::MalformedHeader(_))
    ));
    assert!(matches!(
        verify_signature(BODY, &format!("t=abc,{v1}"), SECRET, NOW),
        Err(SignatureError::MalformedHeader(_))
    ));
    assert!(matches!(
        verify_signature(BODY, &format!("t=,{v1}"), SECRET, NOW),
        Err(SignatureError::MalformedHeader(_))
    ));
    assert!(matches!(
        verify_signature(BODY, &format!("t=-5,{v1}"), SECRET, NOW),
        Err(SignatureError::MalformedHeader(_))
    ));
    // A v0 signature (Stripe's test scheme) is no v1.
    let v0 = v1.replacen("v1=", "v0=", 1);
    assert_eq!(
        verify_signature(BODY, &format!("{t},{v0}"), SECRET, NOW),
        Err(SignatureError::NoV1Signature)
    );
    assert_eq!(
        verify_signature(BODY, &format!("{t},v1="), SECRET, NOW),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn accepts_one_matching_v1_among_several() {
    let header = sign(BODY, SECRET, NOW);
    let (t, v1) = header.split_once(',').unwrap();
    let other = sign(BODY, "whsec_rolled", NOW);
    let other_v1 = other.split_once(',').unwrap().1;
    // Stripe sends two v1 values while a secret is being rolled, plus
    // whatever other schemes; the order does not matter.
    for h in [
        format!("{t},{other_v1},{v1}"),
        format!("{t},{v1},{other_v1}"),
        format!("{t}, v0=deadbeef, v1=zz-not-hex, {v1}"),
        format!("{v1},{t},scheme=unknown"),
    ] {
        assert_eq!(verify_signature(BODY, &h, SECRET, NOW), Ok(()), "{h}");
    }
    assert_eq!(
        verify_signature(BODY, &format!("{t},{other_v1}"), SECRET, NOW),
        Err(SignatureError::Mismatch)
    );
}

/// A tiny deterministic generator: the same "random" cases on every run.
struct XorShift(u64);
impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

#[test]
fn garbage_headers_and_bodies_never_panic() {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let valid = sign(BODY, SECRET, NOW);
    let pieces = [
        "t=",
        "v1=",
        "v0=",
        ",",
        "=",
        " ",
        "1795000000",
        "-1",
        "99999999999999999999",
        "ff",
        "zz",
        "é",
        "\u{0}",
        &valid,
        "t=1795000000",
        "v1=",
        ",,",
        "==",
    ];
    for _ in 0..5_000 {
        let mut header = String::new();
        for _ in 0..(rng.next() % 8) {
            header.push_str(rng.pick(&pieces));
        }
        let len = (rng.next() % 64) as usize;
        let body: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        let now = match rng.next() % 4 {
            0 => i64::MIN,
            1 => i64::MAX,
            _ => NOW,
        };
        let _ = verify_signature(&body, &header, SECRET, now);
        let _ = verify_signature(BODY, &header, SECRET, now);
        let _ = parse_event(&body);
    }
    for body in [
        &b""[..],
        b"null",
        b"[]",
        b"{}",
        b"{\"id\":1}",
        b"{\"id\":\"evt\",\"type\":\"x\",\"created\":1,\"data\":null}",
        b"{\"id\":\"evt\",\"type\":\"x\",\"created\":1,\"data\":{\"object\":null}}",
        b"{\"id\":\"evt\",\"type\":\"x\",\"created\":1,\"data\":{\"object\":{\"object\":\"payment_intent\"}}}",
        b"{\"id\":\"evt\",\"type\":\"x\",\"created\":1,\"data\":{\"object\":{\"object\":\"charge\",\"id\":5}}}",
        b"{\"id\":\"evt\",\"type\":\"x\",\"created\":1e99,\"data\":{\"object\":{}}}",
        "{\"id\":\"évt\u{0}\"}".as_bytes(),
    ] {
        let _ = parse_event(body);
    }
}

fn event(object: serde_json::Value, event_type: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "id": "evt_123",
        "object": "event",
        "api_version": "2017-08-15",
        "created": NOW,
        "type": event_type,
        "data": { "object": object },
    }))
    .unwrap()
}

#[test]
fn reads_a_localstripe_payment_intent_event() {
    // What localstripe sends: no amount_received, a client secret.
    let body = event(
        serde_json::json!({
            "object": "payment_intent", "id": "pi_1", "amount": 2350, "currency": "eur",
            "status": "succeeded", "client_secret": "pi_1_secret_x",
            "metadata": {"order_id": "42", "order_number": "LYO-0042"},
            "capture_method": "automatic_async", "last_payment_error": null,
        }),
        "payment_intent.succeeded",
    );
    let event = parse_event(&body).unwrap();
    assert_eq!(event.id, "evt_123");
    assert_eq!(event.event_type, "payment_intent.succeeded");
    assert_eq!(event.created, NOW);
    let EventObject::PaymentIntent(pi, error) = event.object else {
        panic!("not a payment intent: {:?}", event.object);
    };
    assert_eq!(pi.id, "pi_1");
    assert_eq!(pi.status, PaymentIntentStatus::Succeeded);
    assert_eq!(pi.amount, Money::from_cents(2350));
    assert_eq!(pi.amount_received, Money::from_cents(2350));
    assert_eq!(pi.order_id, Some(OrderId(42)));
    assert_eq!(pi.client_secret, None);
    assert_eq!(error, None);
}

#[test]
fn reads_a_failed_payment_charge_and_refund() {
    let failed = event(
        serde_json::json!({
            "object": "payment_intent", "id": "pi_2", "amount": 900, "amount_received": 0,
            "status": "requires_payment_method", "metadata": {},
            "last_payment_error": {"code": "card_declined", "message": "Your card was declined."},
            "some_new_field": {"nested": [1, 2, 3]},
        }),
        "payment_intent.payment_failed",
    );
    let EventObject::PaymentIntent(pi, error) = parse_event(&failed).unwrap().object else {
        panic!("not a payment intent");
    };
    assert_eq!(pi.status, PaymentIntentStatus::RequiresPaymentMethod);
    assert_eq!(pi.order_id, None);
    assert_eq!(error.as_deref(), Some("Your card was declined."));

    let charge = event(
        serde_json::json!({
            "object": "charge", "id": "ch_1", "payment_intent": "pi_1",
            "amount": 2350, "amount_refunded": 500, "refunded": false,
        }),
        "charge.refunded",
    );
    assert_eq!(
        parse_event(&charge).unwrap().object,
        EventObject::Charge {
            id: "ch_1".into(),
            payment_intent: Some("pi_1".into()),
            amount_refunded: Money::from_cents(500),
            refunded: false,
        }
    );

    let refund = event(
        serde_json::json!({
            "object": "refund", "id": "re_1", "payment_intent": {"id": "pi_1"},
            "amount": 500, "status": "succeeded",
        }),
        "refund.updated",
    );
    assert_eq!(
        parse_event(&refund).unwrap().object,
        EventObject::Refund {
            id: "re_1".into(),
            payment_intent: Some("pi_1".into()),
            amount: Money::from_cents(500),
            status: "succeeded".into(),
        }
    );

    let other = event(
        serde_json::json!({"object": "customer", "id": "cus_1"}),
        "customer.created",
    );
    assert_eq!(parse_event(&other).unwrap().object, EventObject::Other);

    let unknown_status = event(
        serde_json::json!({"object": "payment_intent", "id": "pi_3", "amount": 1, "status": "exploded"}),
        "payment_intent.created",
    );
    assert!(parse_event(&unknown_status)
        .unwrap_err()
        .contains("exploded"));
}

#[test]
fn ids_and_statuses_stripe_could_not_have_sent_are_refused() {
    let intent = |id: &str| serde_json::json!({"object": "payment_intent", "id": id, "amount": 1, "status": "succeeded"});
    let with_id = |id: &str| {
        let mut body: serde_json::Value =
            serde_json::from_slice(&event(intent("pi_1"), "payment_intent.succeeded")).unwrap();
        body["id"] = id.into();
        serde_json::to_vec(&body).unwrap()
    };
    assert!(parse_event(&with_id(&"x".repeat(255))).is_ok());
    for id in ["", &"x".repeat(256), "évt_1", "evt 1", "evt_\u{0}"] {
        assert!(parse_event(&with_id(id)).is_err(), "event id {id:?}");
    }
    let long_intent = event(intent(&"p".repeat(256)), "payment_intent.succeeded");
    assert!(parse_event(&long_intent).is_err());
    let refund = |id: &str, status: &str| {
        event(
            serde_json::json!({"object": "refund", "id": id, "amount": 1, "status": status}),
            "refund.updated",
        )
    };
    assert!(parse_event(&refund("re_1", "requires_action")).is_ok());
    assert!(parse_event(&refund("re_1", &"s".repeat(31))).is_err());
    assert!(parse_event(&refund("re_1", "Succeeded!")).is_err());
    assert!(parse_event(&refund(&"r".repeat(256), "succeeded")).is_err());
}

#[test]
fn negative_amounts_are_refused() {
    // Found by fuzzing: a signed event with a negative amount broke the
    // payments table's check (amount_cents >= 0), a 500.
    for (amount, received) in [(-1, 0), (900, -900), (i64::MIN, 0)] {
        let body = event(
            serde_json::json!({"object": "payment_intent", "id": "pi_1", "amount": amount,
                "amount_received": received, "status": "succeeded"}),
            "payment_intent.succeeded",
        );
        assert!(parse_event(&body).is_err(), "{amount} {received}");
    }
    let refund = event(
        serde_json::json!({"object": "refund", "id": "re_1", "amount": -5, "status": "succeeded"}),
        "refund.updated",
    );
    assert!(parse_event(&refund).is_err());
}

#[test]
fn statuses_round_trip() {
    for status in PaymentIntentStatus::ALL {
        assert_eq!(status.as_str().parse(), Ok(status));
        assert_eq!(
            serde_json::to_value(status).unwrap(),
            serde_json::Value::String(status.as_str().into())
        );
    }
    assert!("paid".parse::<PaymentIntentStatus>().is_err());
}

#[test]
fn ids_and_keys_are_checked_before_any_request() {
    assert!(check_id("pi_3Mtw", "pi_").is_ok());
    for bad in ["", "pi_", "ch_123", "pi_../../customers", "pi_a?b", "pi_é"] {
        assert!(check_id(bad, "pi_").is_err(), "{bad:?}");
    }
    assert!(check_idempotency_key("order-42-payment").is_ok());
    for bad in ["", "a b", "clé", &"k".repeat(256), "a\nb"] {
        assert!(check_idempotency_key(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn secrets_stay_out_of_debug() {
    let stripe = Stripe::new(
        "http://127.0.0.1:8420",
        SecretString::from("sk_test_very_secret_key"),
        SecretString::from("whsec_very_secret"),
    )
    .unwrap();
    let printed = format!("{stripe:?}");
    assert!(!printed.contains("very_secret"), "{printed}");
    let pi = PaymentIntent {
        id: "pi_1".into(),
        client_secret: Some("pi_1_secret_abc".into()),
        status: PaymentIntentStatus::RequiresPaymentMethod,
        amount: Money::from_cents(1),
        amount_received: Money::ZERO,
        currency: "eur".into(),
        order_id: None,
    };
    assert!(!format!("{pi:?}").contains("secret_abc"));
}

#[test]
fn refuses_unusable_settings_without_echoing_the_key() {
    let key = || SecretString::from("sk_test_x");
    let hook = || SecretString::from("whsec_x");
    assert!(matches!(
        Stripe::new("not a url", key(), hook()),
        Err(PaymentError::Config(_))
    ));
    assert!(matches!(
        Stripe::new("ftp://stripe", key(), hook()),
        Err(PaymentError::Config(_))
    ));
    let err = Stripe::new(
        "https://api.stripe.com",
        SecretString::from("sk_live_with space"),
        hook(),
    )
    .unwrap_err();
    assert!(!err.to_string().contains("with space"));
}
