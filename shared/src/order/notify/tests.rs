//! The tests of `notify`.

use super::*;

const SITE: &str = "https://www.ocpizza.fr/";

fn facts(fulfilment: Fulfilment) -> OrderFacts {
    OrderFacts {
        number: "K7P2QX".into(),
        contact_name: "Hugo Bernard".into(),
        pizzeria: "OC Pizza Lyon Presqu'île".into(),
        fulfilment,
        total: Money::from_cents(1250),
        promised_at: None,
        slot_at: None,
    }
}

fn paris(d: u32, h: u32, m: u32) -> DateTime<Utc> {
    use chrono::TimeZone;
    chrono_tz::Europe::Paris
        .with_ymd_and_hms(2026, 12, d, h, m, 0)
        .single()
        .expect("a Paris time")
        .to_utc()
}

#[test]
fn the_e_mails_tell_the_promised_time_on_the_paris_clock_while_it_is_to_come() {
    let mut delivery = facts(Fulfilment::Delivery);
    delivery.promised_at = Some(paris(4, 20, 5));
    let (_, body) = message(OrderStatus::Placed, &delivery).unwrap();
    assert!(
        body.contains("elle part en cuisine. Livrée vers 20:05."),
        "{body}"
    );
    let (_, body) = message(OrderStatus::OutForDelivery, &delivery).unwrap();
    assert!(body.contains("Livrée vers 20:05."), "{body}");
    let (_, body) = message(OrderStatus::Delivered, &delivery).unwrap();
    assert!(!body.contains("vers"), "{body}");

    let mut pickup = facts(Fulfilment::Pickup);
    pickup.promised_at = Some(paris(4, 19, 40));
    let (_, body) = message(OrderStatus::Preparing, &pickup).unwrap();
    assert!(body.contains("Prête vers 19:40."), "{body}");
    // Ready at the counter: no promise any more.
    let (_, body) = message(OrderStatus::Ready, &pickup).unwrap();
    assert!(!body.contains("vers"), "{body}");

    // A pre-order tells its day and time, until the kitchen runs late.
    pickup.slot_at = Some(paris(5, 20, 30));
    pickup.promised_at = pickup.slot_at;
    let (_, body) = message(OrderStatus::Placed, &pickup).unwrap();
    assert!(
        body.contains(
            "elle partira en cuisine à temps pour l'horaire choisi. À retirer le 05/12 à 20:30."
        ),
        "{body}"
    );
    pickup.promised_at = Some(paris(5, 20, 40));
    let (_, body) = message(OrderStatus::Preparing, &pickup).unwrap();
    assert!(body.contains("Prête vers 20:40."), "{body}");
}

#[test]
fn every_status_but_pending_payment_has_a_french_message() {
    for &status in OrderStatus::ALL {
        let message = message(status, &facts(Fulfilment::Delivery));
        if status == OrderStatus::PendingPayment {
            assert!(message.is_none());
            continue;
        }
        let (subject, body) = message.unwrap();
        assert!(
            subject.starts_with("Votre commande n° K7P2QX "),
            "{subject}"
        );
        assert!(subject.len() <= 200);
        assert!(body.starts_with("Bonjour Hugo Bernard,"), "{body}");
        assert!(body.contains("Total : 12,50\u{a0}€"), "{body}");
        assert!(body.contains("OC Pizza Lyon Presqu'île"), "{body}");
    }
    let (subject, _) = message(OrderStatus::Preparing, &facts(Fulfilment::Pickup)).unwrap();
    assert_eq!(subject, "Votre commande n° K7P2QX est en préparation");
}

#[test]
fn the_link_leads_to_the_tracker_with_the_token_encoded() {
    assert_eq!(
        tracking_link(SITE, OrderId(42), "Ab-_9"),
        "https://www.ocpizza.fr/track.html?order=42&token=Ab-_9"
    );
    // Whatever a token holds stays inside its parameter.
    assert_eq!(
        tracking_link(SITE, OrderId(7), "a+b/c=d&e f"),
        "https://www.ocpizza.fr/track.html?order=7&token=a%2Bb%2Fc%3Dd%26e+f"
    );
}

#[test]
fn every_message_gets_the_link_above_the_sign_off() {
    let link = tracking_link(SITE, OrderId(42), "t0k3n");
    for &status in OrderStatus::ALL {
        let Some((_, body)) = message(status, &facts(Fulfilment::Pickup)) else {
            continue;
        };
        let sent = with_link(&body, &link);
        assert!(
            sent.ends_with(&format!(
                "Total : 12,50\u{a0}€\n\nSuivez votre commande : {link}\n\n\
                 Merci de votre confiance,\nOC Pizza\n"
            )),
            "{sent}"
        );
        assert!(!body.contains("t0k3n"), "the stored body holds no token");
    }
    // A body stored in another shape still gets it, at the end.
    assert_eq!(
        with_link("Bonjour,\n", &link),
        format!("Bonjour,\n\nSuivez votre commande : {link}\n\n")
    );
}

#[test]
fn ready_says_where_the_order_waits() {
    let (_, pickup) = message(OrderStatus::Ready, &facts(Fulfilment::Pickup)).unwrap();
    assert!(pickup.contains("au comptoir"), "{pickup}");
    let (_, delivery) = message(OrderStatus::Ready, &facts(Fulfilment::Delivery)).unwrap();
    assert!(delivery.contains("livreur"), "{delivery}");
}

#[test]
fn backoff_doubles_from_thirty_seconds() {
    let delays: Vec<i64> = (1..=MAX_ATTEMPTS).map(retry_delay_seconds).collect();
    assert_eq!(delays, [30, 60, 120, 240, 480, 960, 1920, 3840]);
}

#[test]
fn smtp_credentials_never_reach_a_stored_error_or_debug() {
    let url =
        SecretString::from("smtps://AKIAEXAMPLE:ses-smtp-pass@email-smtp.eu-west-3.amazonaws.com");
    let mailer = Mailer::new(&url, "OC Pizza <commandes@ocpizza.test>", SITE).unwrap();
    let scrubbed = mailer.scrub("535 auth failed for AKIAEXAMPLE with ses-smtp-pass");
    assert_eq!(scrubbed, "535 auth failed for *** with ***");
    let printed = format!("{mailer:?}");
    assert!(!printed.contains("ses-smtp-pass") && !printed.contains("AKIAEXAMPLE"));
    assert_eq!(mailer.scrub(&"é".repeat(600)).chars().count(), 500);
}

#[test]
fn bad_settings_are_refused_without_echoing_the_url() {
    let err = Mailer::new(&SecretString::from("nope://secret@x"), "a@b.fr", SITE).unwrap_err();
    assert!(!err.to_string().contains("secret"));
    let local = SecretString::from("smtp://127.0.0.1:2525");
    assert!(Mailer::new(&local, "not an address", SITE).is_err());
    assert!(matches!(
        Mailer::new(&local, "a@b.fr", " "),
        Err(MailerError::SiteUrl)
    ));
}
