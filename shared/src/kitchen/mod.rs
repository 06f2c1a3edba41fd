//! The kitchen's tickets: one per order sent to the kitchen, on its
//! pizzeria's display from `waiting` to `ready`, each line with the recipe
//! card the pizzaiolo follows.
//!
//! A ticket follows its order: it arrives with `order.placed`, is withdrawn
//! when the order leaves the kitchen's path before it started (cancelled, or
//! waiting for a card payment again), and is started and finished with the
//! order's `preparing` and `ready`. The order's transition table decides;
//! the ticket's own table (`TicketStatus::can_become`) is checked on every
//! write so a ticket can never go back.

use crate::catalog::choices::{self, Allergen, Choice};
use crate::catalog::recipe::{self, RecipeCard, RecipeLine};
use crate::order::view::StaffContact;
use crate::order::Fulfilment;
use crate::platform::clock::utc;
use crate::platform::ids::{OrderId, PizzeriaId, ProductId};
use crate::platform::text_enum;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;
use sqlx::{MySql, MySqlPool, QueryBuilder, Transaction};
use std::collections::BTreeMap;

text_enum!(
    /// Where a ticket is on the kitchen display.
    TicketStatus {
        /// On the display, not started.
        Waiting = "waiting",
        /// A pizzaiolo started it.
        Preparing = "preparing",
        /// Out of the oven: off the display.
        Ready = "ready",
        /// Taken off before it started (the order was cancelled, or waits for
        /// a card payment again); back to `waiting` if the order is placed again.
        Withdrawn = "withdrawn",
    }
);

impl TicketStatus {
    /// The ticket's transition table; `None` is a ticket not made yet (the
    /// pizzaiolo may start, or finish, an order whose message has not
    /// arrived: the ticket is made then).
    pub fn can_become(from: Option<TicketStatus>, to: TicketStatus) -> bool {
        use TicketStatus::*;
        matches!(
            (from, to),
            (None, Waiting | Preparing | Ready)
                | (Some(Waiting), Preparing | Withdrawn)
                | (Some(Withdrawn), Waiting | Preparing)
                | (Some(Preparing), Ready)
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TicketError {
    #[error("the ticket of order {order} is {from:?}; it cannot become {to}")]
    NotAllowed {
        order: OrderId,
        from: Option<TicketStatus>,
        to: TicketStatus,
    },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

#[derive(Debug, Clone, Serialize)]
pub struct TicketLine {
    pub product_id: ProductId,
    pub name: String,
    pub quantity: i64,
    /// The size's label; `null` when the product has no sizes.
    pub size: Option<String>,
    /// What was asked, in words: "Grande 40 cm · sans Oignons · + Chèvre".
    pub choices: String,
    /// Names of the toppings to leave off, and of the extras to add.
    pub removed: Vec<String>,
    pub extras: Vec<String>,
    /// The customer's note ("bien cuite").
    pub note: Option<String>,
    pub allergens: Vec<Allergen>,
    /// `null` for what is not cooked (drinks, desserts). Its quantities are
    /// for this line's size, without what was left off, with the extras.
    pub recipe: Option<RecipeCard>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Ticket {
    pub order_id: OrderId,
    pub number: String,
    pub pizzeria_id: PizzeriaId,
    pub status: TicketStatus,
    pub fulfilment: Fulfilment,
    pub contact: StaffContact,
    pub received_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub ready_at: Option<DateTime<Utc>>,
    /// A pre-order's quarter hour: the customer comes (or the courier
    /// leaves) then.
    pub slot_at: Option<DateTime<Utc>>,
    /// Seconds since the ticket arrived, when this answer was made.
    pub age_seconds: i64,
    pub lines: Vec<TicketLine>,
}

/// A ticket with its order's head, as [`ticket_rows!`] reads it.
struct TicketRow {
    order_id: i64,
    number: String,
    pizzeria_id: i64,
    status: TicketStatus,
    fulfilment: Fulfilment,
    contact_name: String,
    contact_phone: String,
    received_at: NaiveDateTime,
    started_at: Option<NaiveDateTime>,
    ready_at: Option<NaiveDateTime>,
    /// Changes when the customer modifies the order's lines.
    updated_at: NaiveDateTime,
    slot_at: Option<NaiveDateTime>,
}

/// The tickets with their orders, the query's end (`WHERE`, `ORDER BY`) and
/// its arguments given.
macro_rules! ticket_rows {
    ($tail:literal $(, $arg:expr)*) => {
        sqlx::query_as!(
            TicketRow,
            "SELECT t.order_id, o.number, t.pizzeria_id, t.status AS `status: TicketStatus`, \
                    o.fulfilment AS `fulfilment: Fulfilment`, o.contact_name, o.contact_phone, \
                    t.received_at, t.started_at, t.ready_at, o.updated_at, o.slot_at \
             FROM kitchen_tickets t JOIN orders o ON o.id = t.order_id "
                + $tail
            $(, $arg)*
        )
    };
}

/// `order.placed`: a `waiting` ticket (or a withdrawn one back), only while
/// the order is still placed — a cancellation that overtook the message
/// leaves nothing to cook. True when a ticket was made or put back.
pub async fn receive(
    tx: &mut Transaction<'_, MySql>,
    order: OrderId,
    pizzeria: PizzeriaId,
) -> Result<bool, sqlx::Error> {
    let changed = sqlx::query!(
        "INSERT INTO kitchen_tickets (order_id, pizzeria_id, status, received_at) \
         SELECT id, pizzeria_id, 'waiting', UTC_TIMESTAMP(6) FROM orders \
         WHERE id = ? AND pizzeria_id = ? AND status = 'placed' \
         ON DUPLICATE KEY UPDATE \
            status = IF(kitchen_tickets.status = 'withdrawn', 'waiting', kitchen_tickets.status), \
            withdrawn_at = IF(kitchen_tickets.status = 'waiting', NULL, kitchen_tickets.withdrawn_at)",
        order.0,
        pizzeria.0,
    )
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(changed > 0)
}

/// `order.cancelled` or `order.payment_due`: the waiting ticket leaves the
/// display, only while the order is still off the kitchen's path — a payment
/// that placed it again meanwhile keeps its ticket.
pub async fn withdraw(tx: &mut Transaction<'_, MySql>, order: OrderId) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE kitchen_tickets t JOIN orders o ON o.id = t.order_id \
         SET t.status = 'withdrawn', t.withdrawn_at = UTC_TIMESTAMP(6) \
         WHERE t.order_id = ? AND t.status = 'waiting' AND o.status IN ('cancelled', 'pending_payment')",
        order.0,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A voided order: its ticket leaves the display whatever its stage.
pub async fn call_off(tx: &mut Transaction<'_, MySql>, order: OrderId) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE kitchen_tickets SET status = 'withdrawn', withdrawn_at = UTC_TIMESTAMP(6) \
         WHERE order_id = ? AND status <> 'withdrawn'",
        order.0,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Starts (`preparing`) or finishes (`ready`) the ticket of an order whose
/// own transition was just made in this transaction (the order's row lock
/// is held). The ticket is made if its message has not arrived yet.
pub async fn mark(
    tx: &mut Transaction<'_, MySql>,
    order: OrderId,
    pizzeria: PizzeriaId,
    to: TicketStatus,
) -> Result<(), TicketError> {
    let from = sqlx::query_scalar!(
        "SELECT status AS `status: TicketStatus` FROM kitchen_tickets WHERE order_id = ? FOR UPDATE",
        order.0,
    )
    .fetch_optional(&mut **tx)
    .await?;
    if !TicketStatus::can_become(from, to) {
        return Err(TicketError::NotAllowed { order, from, to });
    }
    // The ticket takes the status and the time it reached it (`$stamp`).
    macro_rules! stamp {
        ($status:literal, $stamp:literal) => {
            sqlx::query!(
                "INSERT INTO kitchen_tickets (order_id, pizzeria_id, status, received_at, "
                    + $stamp
                    + ") VALUES (?, ?, '"
                    + $status
                    + "', UTC_TIMESTAMP(6), UTC_TIMESTAMP(6)) \
                 ON DUPLICATE KEY UPDATE status = '"
                    + $status
                    + "', "
                    + $stamp
                    + " = UTC_TIMESTAMP(6)",
                order.0,
                pizzeria.0,
            )
        };
    }
    let stamped = match to {
        TicketStatus::Preparing => stamp!("preparing", "started_at"),
        TicketStatus::Ready => stamp!("ready", "ready_at"),
        TicketStatus::Waiting | TicketStatus::Withdrawn => {
            return Err(TicketError::NotAllowed { order, from, to })
        }
    };
    stamped.execute(&mut **tx).await?;
    Ok(())
}

/// A pizzeria's display as read from the database: the waiting and
/// preparing tickets in arrival order, before their lines are read.
pub struct Board {
    rows: Vec<TicketRow>,
}

impl Board {
    /// What changes the display (tickets, their status, the order's lines),
    /// not the ages, which move on their own: the basis of its `ETag`.
    pub fn version(&self) -> String {
        self.rows
            .iter()
            .map(|r| format!("{}:{}:{};", r.order_id, r.status, r.updated_at))
            .collect()
    }

    /// The tickets with their lines and recipe cards, aged at `now`.
    pub async fn tickets(
        self,
        pool: &MySqlPool,
        now: DateTime<Utc>,
    ) -> Result<Vec<Ticket>, sqlx::Error> {
        tickets_of(pool, self.rows, now).await
    }
}

/// The display of a pizzeria; `None` when there is no such pizzeria.
pub async fn board(pool: &MySqlPool, pizzeria: PizzeriaId) -> Result<Option<Board>, sqlx::Error> {
    let exists = sqlx::query_scalar!("SELECT id FROM pizzerias WHERE id = ?", pizzeria.0)
        .fetch_optional(pool)
        .await?;
    if exists.is_none() {
        return Ok(None);
    }
    let rows = ticket_rows!(
        "WHERE t.pizzeria_id = ? AND t.status IN ('waiting', 'preparing') \
         ORDER BY t.received_at, t.order_id",
        pizzeria.0
    )
    .fetch_all(pool)
    .await?;
    Ok(Some(Board { rows }))
}

/// One ticket, in whatever state.
pub async fn ticket(
    pool: &MySqlPool,
    order: OrderId,
    now: DateTime<Utc>,
) -> Result<Option<Ticket>, sqlx::Error> {
    let rows = ticket_rows!("WHERE t.order_id = ?", order.0)
        .fetch_all(pool)
        .await?;
    Ok(tickets_of(pool, rows, now).await?.pop())
}

/// An order line as the kitchen reads it.
#[derive(sqlx::FromRow)]
struct LineRow {
    order_id: i64,
    product_id: i64,
    product_name: String,
    quantity: i32,
    size_code: Option<String>,
    size_label: Option<String>,
    removed: String,
    extras: String,
    made_of: Option<String>,
    choices: String,
    allergens: String,
    note: Option<String>,
}

/// The lines and recipe cards of these ticket rows.
async fn tickets_of(
    pool: &MySqlPool,
    rows: Vec<TicketRow>,
    now: DateTime<Utc>,
) -> Result<Vec<Ticket>, sqlx::Error> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    // Runtime SQL: an `IN` list as long as the tickets shown.
    let mut q = QueryBuilder::<MySql>::new(
        "SELECT order_id, product_id, product_name, quantity, size_code, size_label, removed, extras, made_of, \
                choices, allergens, note \
         FROM order_lines WHERE order_id IN (",
    );
    let mut list = q.separated(", ");
    for row in &rows {
        list.push_bind(row.order_id);
    }
    q.push(") ORDER BY order_id, line_no");
    let lines: Vec<LineRow> = q.build_query_as().fetch_all(pool).await?;
    let mut products: Vec<ProductId> = lines.iter().map(|l| ProductId(l.product_id)).collect();
    products.sort_unstable();
    products.dedup();
    let cards = recipe::cards(pool, &products).await?;
    let offer = choices::load(&mut *pool.acquire().await?, choices::Of::These(&products)).await?;

    let mut by_order: BTreeMap<i64, Vec<TicketLine>> = BTreeMap::new();
    for line in lines {
        let product = ProductId(line.product_id);
        let asked = Choice::stored(line.size_code, &line.removed, &line.extras);
        // As it was sold, even if the catalogue changed since.
        let made = offer.made_as_sold(product, &asked, line.made_of.as_deref());
        let recipe = cards.get(&product).cloned().map(|mut card| {
            card.ingredients = made.ingredients.iter().map(RecipeLine::from).collect();
            card
        });
        by_order.entry(line.order_id).or_default().push(TicketLine {
            product_id: product,
            name: line.product_name,
            quantity: i64::from(line.quantity),
            size: line.size_label,
            choices: line.choices,
            removed: made.removed,
            extras: made.extras,
            note: line.note,
            allergens: Allergen::split(&line.allergens),
            recipe,
        });
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            let received_at = utc(r.received_at);
            Ticket {
                order_id: OrderId(r.order_id),
                number: r.number,
                pizzeria_id: PizzeriaId(r.pizzeria_id),
                status: r.status,
                fulfilment: r.fulfilment,
                contact: StaffContact {
                    name: r.contact_name,
                    phone: r.contact_phone,
                },
                age_seconds: (now - received_at).num_seconds().max(0),
                received_at,
                started_at: r.started_at.map(utc),
                ready_at: r.ready_at.map(utc),
                slot_at: r.slot_at.map(utc),
                lines: by_order.remove(&r.order_id).unwrap_or_default(),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::TicketStatus::{self, *};

    #[test]
    fn a_ticket_only_goes_forward_or_off_the_display_before_it_starts() {
        let allowed: Vec<(Option<TicketStatus>, TicketStatus)> = vec![
            (None, Waiting),
            (None, Preparing),
            (None, Ready),
            (Some(Waiting), Preparing),
            (Some(Waiting), Withdrawn),
            (Some(Withdrawn), Waiting),
            (Some(Withdrawn), Preparing),
            (Some(Preparing), Ready),
        ];
        let froms = std::iter::once(None).chain(TicketStatus::ALL.iter().copied().map(Some));
        for from in froms {
            for &to in TicketStatus::ALL {
                assert_eq!(
                    TicketStatus::can_become(from, to),
                    allowed.contains(&(from, to)),
                    "{from:?} -> {to}"
                );
            }
        }
    }

    #[test]
    fn a_started_or_finished_ticket_is_never_withdrawn() {
        for from in [Preparing, Ready] {
            assert!(!TicketStatus::can_become(Some(from), Withdrawn));
            assert!(!TicketStatus::can_become(Some(from), Waiting));
        }
    }
}
