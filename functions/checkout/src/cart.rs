//! The checkout request, parsed: a handler receives a cart that is already
//! valid in shape (quantities in range, a contact that can be called, its
//! phone number in E.164, an address when delivering). Prices and stock are
//! the database's business.

use chrono::{DateTime, Utc};
use ocpizza::identity::accounts::address_book;
use ocpizza::order::pricing;
use ocpizza::order::{Channel, Fulfilment, PaymentMethod};
use ocpizza::platform::http::ApiError;
use ocpizza::platform::ids::{PizzeriaId, UserId};
use ocpizza::platform::phone::{self, E164};
use serde::{Deserialize, Serialize};
use serde_json::json;

use ocpizza::order::pricing::{CartLine, LineRequest};
pub use ocpizza::order::pricing::{MAX_ITEMS, MAX_LINES, MAX_QUANTITY_PER_LINE};

/// Door code, floor, intercom: what a courier reads on the doorstep.
pub const MAX_INSTRUCTIONS_CHARS: usize = 200;

#[derive(Debug, Deserialize, Serialize)]
pub struct CheckoutRequest {
    pub pizzeria_id: PizzeriaId,
    pub fulfilment: Fulfilment,
    #[serde(default)]
    pub address: Option<AddressIn>,
    /// Instead of `address`: one of the ordering customer's saved addresses
    /// (`accounts::address_book`), read by the handler before parsing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_id: Option<i64>,
    pub payment_method: PaymentMethod,
    pub lines: Vec<LineRequest>,
    #[serde(default)]
    pub contact: Option<ContactIn>,
    /// For the courier: door code, floor, intercom (deliveries only).
    #[serde(default)]
    pub delivery_instructions: Option<String>,
    #[serde(default)]
    pub channel: Option<Channel>,
    /// Staff only: the customer account the cashier picked for this order.
    #[serde(default)]
    pub customer_id: Option<UserId>,
    /// A pre-order: the quarter hour it is for (RFC 3339); absent, as soon
    /// as possible.
    #[serde(default)]
    pub slot_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct AddressIn {
    pub line1: String,
    pub postcode: String,
    pub city: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ContactIn {
    pub name: String,
    /// As typed: `06 45 67 89 01`, `+33 6 45 67 89 01`…
    pub phone: String,
    #[serde(default)]
    pub email: Option<String>,
}

/// Who to call about the order: the phone number parsed ([`phone::parse`]).
#[derive(Debug, Clone)]
pub struct Contact {
    pub name: String,
    pub phone: E164,
    pub email: Option<String>,
}

/// A cart that passed every check that needs no database.
#[derive(Debug)]
pub struct Cart {
    pub pizzeria_id: PizzeriaId,
    pub fulfilment: Fulfilment,
    pub address: Option<AddressIn>,
    pub payment_method: PaymentMethod,
    pub channel: Channel,
    /// The lines, equal ones merged, in product order.
    pub lines: Vec<CartLine>,
    /// For the courier, on a delivery.
    pub delivery_instructions: Option<String>,
    pub contact: Contact,
    /// The pre-order's slot, not checked against the hours yet.
    pub slot_at: Option<DateTime<Utc>>,
}

struct Errors(Vec<serde_json::Value>);

impl Errors {
    fn add(&mut self, field: &str, message: &str) {
        self.0.push(json!({ "field": field, "message": message }));
    }
}

fn trimmed(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Checks the shape of a checkout request; every problem is listed at once.
pub fn parse(request: CheckoutRequest) -> Result<Cart, ApiError> {
    let mut errors = Errors(Vec::new());

    let lines = match pricing::cart_lines(&request.lines) {
        Ok(lines) => lines,
        Err(problems) => {
            for p in problems {
                errors.add(&p.field, &p.message);
            }
            Vec::new()
        }
    };

    let address = match (request.fulfilment, request.address) {
        (Fulfilment::Delivery, None) => {
            errors.add("address", "A delivery needs an address.");
            None
        }
        (Fulfilment::Delivery, Some(a)) => {
            match address_book::check_street(&a.line1, &a.postcode, &a.city) {
                Ok(street) => Some(AddressIn {
                    line1: street.line1,
                    postcode: street.postcode,
                    city: street.city,
                }),
                Err(problems) => {
                    for p in problems {
                        errors.add(&format!("address.{}", p.field), &p.message);
                    }
                    Some(a)
                }
            }
        }
        (Fulfilment::Pickup, _) => None,
    };

    let contact = match request.contact {
        None => {
            errors.add(
                "contact",
                "Give a name and a phone number so the pizzeria can reach you.",
            );
            None
        }
        Some(c) => {
            let name = trimmed(&c.name);
            let email = c
                .email
                .map(|e| e.trim().to_owned())
                .filter(|e| !e.is_empty());
            if name.is_empty() || name.chars().count() > 100 {
                errors.add("contact.name", "Give a name (at most 100 characters).");
            }
            let phone = match phone::parse(&c.phone) {
                Ok(phone) => Some(phone),
                Err(why) => {
                    errors.add(
                        "contact.phone",
                        &format!(
                            "Give a phone number the pizzeria can call, e.g. 06 12 34 56 78 \
                             or +44 20 7946 0958 ({why})."
                        ),
                    );
                    None
                }
            };
            if let Some(email) = &email {
                let ok = email.len() <= 254
                    && email.split_once('@').is_some_and(|(local, domain)| {
                        !local.is_empty()
                            && domain.contains('.')
                            && !domain.starts_with('.')
                            && !domain.ends_with('.')
                    })
                    && !email.chars().any(char::is_whitespace);
                if !ok {
                    errors.add("contact.email", "This e-mail address does not look right.");
                }
            }
            phone.map(|phone| Contact { name, phone, email })
        }
    };

    let channel = request.channel.unwrap_or(Channel::Web);
    let delivery_instructions = match pricing::short_text(
        request.delivery_instructions.as_deref(),
        MAX_INSTRUCTIONS_CHARS,
    ) {
        Ok(text) => text.filter(|_| request.fulfilment == Fulfilment::Delivery),
        Err(message) => {
            errors.add("delivery_instructions", &message);
            None
        }
    };

    let Some(contact) = contact.filter(|_| errors.0.is_empty()) else {
        let count = errors.0.len();
        return Err(ApiError::unprocessable(format!(
            "The order has {count} problem{}; see `errors`.",
            if count > 1 { "s" } else { "" }
        ))
        .with("errors", errors.0));
    };
    Ok(Cart {
        pizzeria_id: request.pizzeria_id,
        fulfilment: request.fulfilment,
        address,
        payment_method: request.payment_method,
        channel,
        lines,
        delivery_instructions,
        contact,
        slot_at: request.slot_at,
    })
}
