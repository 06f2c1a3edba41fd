//! The reconciliation check: whether every order's status, lines, payments,
//! stock movements, kitchen ticket, delivery and notifications agree.
//!
//! Each check is one query that lists what disagrees; nothing is changed. An
//! operator runs it with `ocpizza-admin audit` (`--settled` once the queues
//! and the outbox are drained); the reliability tests run it after breaking
//! things on purpose and expect no finding.
//!
//! What always holds, whatever is in flight, because each of these is
//! written in the transaction that changes the order:
//! - the order's status is its last status history row;
//! - its subtotal is the sum of its lines, its total the subtotal plus the fee;
//! - the stock levels are the sum of their ledger, never negative;
//! - a `pending_payment` or `placed` order holds a reservation; any other
//!   order holds none, and an order the kitchen started has consumed;
//! - an order the kitchen started has consumed, except a `voided` one,
//!   whose consumption went to waste (it holds none);
//! - money (`money_rule`): a handed-over order is paid exactly, less the
//!   goodwill refunds a manager gave; a cancelled or voided one is paid
//!   nothing (refunds decided included); none is paid more than its total,
//!   and none waits for a payment it already has; a web card order at or past
//!   `placed` has paid its total (less goodwill refunds); no charge, of any
//!   provider, is refunded beyond what it took, every refund returns a charge
//!   of its order, and none waits more than 15 minutes for Stripe;
//! - one e-mail per status the order went through (for an order with an
//!   address), and none for a status it never had;
//! - the revenue summaries (`revenue-days`): each row of `revenue_days`
//!   (a pizzeria, a Paris day, a payment method, a channel) holds what its
//!   orders give, counted from the orders as the report did before the
//!   summaries; both read in one snapshot, the differing rows named. Until
//!   the first rebuild has finished, one finding says to run it.
//!
//! What holds once the pipeline is idle (`Scope::Settled`): every outbox
//! event that is due is sent, every order that reached the kitchen has its
//! ticket (its status following the order's), a pre-order's only from its
//! release time (a minute's leeway for the clocks), a cancelled or voided order's ticket is
//! withdrawn, every delivery order that is ready has its delivery, a failed
//! delivery's is `failed` and a voided order's `cancelled` (or none).

use crate::order::money_rule::{COUNTED_REFUND_STATUSES, NET_PAID_BY_ORDER as NET_PAID};
use crate::reporting::revenue;
use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use sqlx::MySqlPool;

/// How much of the pipeline may still be in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Messages may be on their way: only what each transaction guarantees.
    Live,
    /// The outbox is sent and the queues are drained: the asynchronous
    /// effects (tickets, deliveries) must be there too.
    Settled,
}

/// One disagreement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The check that found it (e.g. `payments`).
    pub check: &'static str,
    /// The order concerned, when there is one.
    pub order_id: Option<i64>,
    pub detail: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.order_id {
            Some(id) => write!(f, "{}: order {id}: {}", self.check, self.detail),
            None => write!(f, "{}: {}", self.check, self.detail),
        }
    }
}

/// At most this many findings per check, so a broken database gives a
/// readable report.
const LIMIT: usize = 50;

/// What a check's query gives for one disagreement: `(order id or NULL,
/// detail)`. The detail is read as text whether the server calls `CONCAT`'s
/// answer text or bytes (it is UTF-8 either way).
struct Row {
    order_id: Option<i64>,
    detail: Option<String>,
}

type Rows<'a> = BoxFuture<'a, Result<Vec<Row>, sqlx::Error>>;

/// A check whose SQL is built on the money rule's own (`NET_PAID_BY_ORDER`,
/// `COUNTED_REFUND_STATUSES`, shared with the order view and the balance
/// due), so run as runtime SQL: a macro cannot take its text from a constant.
fn money_check(pool: &MySqlPool, sql: String) -> Rows<'_> {
    use sqlx::Row as _;
    async move {
        let sql = format!("{sql} LIMIT {LIMIT}");
        let mut rows = Vec::new();
        for row in sqlx::query(&sql).fetch_all(pool).await? {
            // CONCAT may come back as text or as bytes depending on the server.
            let detail = match row.try_get::<Option<String>, _>(1) {
                Ok(detail) => detail,
                Err(_) => {
                    Some(String::from_utf8_lossy(&row.try_get::<Vec<u8>, _>(1)?).into_owned())
                }
            };
            rows.push(Row {
                order_id: row.try_get::<Option<i64>, _>(0)?,
                detail,
            });
        }
        Ok(rows)
    }
    .boxed()
}

/// The revenue summaries against the orders (`revenue::scan::differences`),
/// one finding per summary row that differs.
fn revenue_days(pool: &MySqlPool) -> Rows<'_> {
    async move {
        if !revenue::summaries_built(pool).await? {
            return Ok(vec![Row {
                order_id: None,
                detail: Some(
                    "the summaries were never built: run `ocpizza-admin revenue-rebuild`".into(),
                ),
            }]);
        }
        let found = revenue::scan::differences(pool, LIMIT).await?;
        Ok(found
            .into_iter()
            .map(|difference| Row {
                order_id: None,
                detail: Some(difference.to_string()),
            })
            .collect())
    }
    .boxed()
}

/// Every check of `scope`, in order: a name and its query. The statuses past
/// the kitchen's start, with the ingredients consumed, are `('preparing',
/// 'ready', 'out_for_delivery', 'delivered', 'picked_up', 'failed_delivery',
/// 'no_show')`; a `voided` order consumed nothing (its ingredients went to
/// waste).
fn checks(pool: &MySqlPool, scope: Scope) -> Vec<(&'static str, Rows<'_>)> {
    let limit = LIMIT as i64;
    // The goodwill refunds of each order (a manager's, after it ended): what
    // a delivered order no longer keeps, on purpose.
    let goodwill = format!(
        "LEFT JOIN (SELECT order_id, SUM(amount_cents) AS goodwill FROM payments \
         WHERE kind = 'refund' AND reason = 'goodwill' AND status IN {COUNTED_REFUND_STATUSES} \
         GROUP BY order_id) g ON g.order_id = o.id"
    );
    let mut checks = vec![
        (
            "status-history",
            sqlx::query_as!(
                Row,
                "SELECT o.id AS `order_id?`, \
                    CONCAT('status ', o.status, ', last history row ', COALESCE(h.status, 'none')) AS `detail?: String` \
                 FROM orders o \
                 LEFT JOIN (SELECT order_id, MAX(id) AS last_id FROM order_status_history GROUP BY order_id) l ON l.order_id = o.id \
                 LEFT JOIN order_status_history h ON h.id = l.last_id \
                 WHERE h.id IS NULL OR h.status <> o.status \
                 LIMIT ?",
                limit
            )
            .fetch_all(pool)
            .boxed(),
        ),
        (
            "totals",
            sqlx::query_as!(
                Row,
                "SELECT o.id AS `order_id?`, CONCAT('subtotal ', o.subtotal_cents, ', lines ', COALESCE(l.lines_total, 0), \
                    ', total ', o.total_cents, ', fee ', o.delivery_fee_cents) AS `detail?: String` \
                 FROM orders o \
                 LEFT JOIN (SELECT order_id, SUM(line_total_cents) AS lines_total FROM order_lines GROUP BY order_id) l \
                    ON l.order_id = o.id \
                 WHERE l.order_id IS NULL OR l.lines_total <> o.subtotal_cents \
                    OR o.total_cents <> o.subtotal_cents + o.delivery_fee_cents \
                 LIMIT ?",
                limit
            )
            .fetch_all(pool)
            .boxed(),
        ),
        (
            "stock-ledger",
            sqlx::query_as!(
                Row,
                "SELECT NULL AS `order_id?: i64`, CONCAT('pizzeria ', s.pizzeria_id, ', ingredient ', s.ingredient_id, \
                    ': on hand ', s.on_hand, ' (ledger ', COALESCE(m.on_hand, 0), '), reserved ', s.reserved, \
                    ' (ledger ', COALESCE(m.reserved, 0), ')') AS `detail?: String` \
                 FROM stock s \
                 LEFT JOIN (SELECT pizzeria_id, ingredient_id, SUM(on_hand_delta) AS on_hand, SUM(reserved_delta) AS reserved \
                    FROM stock_movements GROUP BY pizzeria_id, ingredient_id) m \
                    ON m.pizzeria_id = s.pizzeria_id AND m.ingredient_id = s.ingredient_id \
                 WHERE COALESCE(m.on_hand, 0) <> s.on_hand OR COALESCE(m.reserved, 0) <> s.reserved \
                    OR s.on_hand < 0 OR s.reserved < 0 \
                 LIMIT ?",
                limit
            )
            .fetch_all(pool)
            .boxed(),
        ),
        (
            "reservation",
            sqlx::query_as!(
                Row,
                "SELECT o.id AS `order_id?`, \
                    CONCAT(o.status, ': holds ', COALESCE(m.held, 0), ', consumed ', COALESCE(-m.used, 0)) AS `detail?: String` \
                 FROM orders o \
                 LEFT JOIN (SELECT order_id, SUM(reserved_delta) AS held, \
                    SUM(CASE WHEN kind = 'consumption' THEN on_hand_delta ELSE 0 END) AS used \
                    FROM stock_movements WHERE order_id IS NOT NULL GROUP BY order_id) m ON m.order_id = o.id \
                 WHERE (o.status IN ('pending_payment', 'placed') AND COALESCE(m.held, 0) <= 0) \
                    OR (o.status NOT IN ('pending_payment', 'placed') AND COALESCE(m.held, 0) <> 0) \
                    OR (o.status IN ('preparing', 'ready', 'out_for_delivery', 'delivered', 'picked_up', \
                            'failed_delivery', 'no_show') \
                        AND COALESCE(m.used, 0) >= 0) \
                    OR (o.status NOT IN ('preparing', 'ready', 'out_for_delivery', 'delivered', 'picked_up', \
                            'failed_delivery', 'no_show') \
                        AND COALESCE(m.used, 0) <> 0) \
                 LIMIT ?",
                limit
            )
            .fetch_all(pool)
            .boxed(),
        ),
        (
            "payments",
            money_check(
                pool,
                format!(
                    "SELECT o.id, CONCAT(o.status, ' ', o.payment_method, ' order of ', o.total_cents, \
                        ' cents keeps ', COALESCE(p.net, 0), ' after ', COALESCE(g.goodwill, 0), ' of goodwill refunds') \
                     FROM orders o LEFT JOIN ({NET_PAID}) p ON p.order_id = o.id {goodwill} \
                     WHERE (o.status IN ('delivered', 'picked_up') \
                            AND COALESCE(p.net, 0) + COALESCE(g.goodwill, 0) <> o.total_cents) \
                        OR (o.status IN ('cancelled', 'voided') AND COALESCE(p.net, 0) <> 0) \
                        OR (o.status = 'pending_payment' AND COALESCE(p.net, 0) >= o.total_cents) \
                        OR COALESCE(p.net, 0) > o.total_cents OR COALESCE(p.net, 0) < 0"
                ),
            ),
        ),
        (
            // The money rule: a web card order is at or past the kitchen's
            // door only while what it paid covers its total.
            "card-unpaid",
            money_check(
                pool,
                format!(
                    "SELECT o.id, CONCAT(o.status, ' web card order of ', o.total_cents, ' cents has paid ', COALESCE(p.net, 0)) \
                     FROM orders o LEFT JOIN ({NET_PAID}) p ON p.order_id = o.id {goodwill} \
                     WHERE o.channel = 'web' AND o.payment_method = 'card' \
                        AND o.status IN ('placed', 'preparing', 'ready', 'out_for_delivery', 'delivered', 'picked_up') \
                        AND COALESCE(p.net, 0) + COALESCE(g.goodwill, 0) < o.total_cents"
                ),
            ),
        ),
        (
            // Nothing refunded twice: no charge gives back more than it took,
            // no order more than it was paid (in each currency).
            "refunds",
            money_check(
                pool,
                format!(
                    "SELECT c.order_id, CONCAT('charge ', c.provider_ref, ' of ', c.amount_cents, ' ', c.currency, \
                        ' refunded ', r.refunded) \
                     FROM payments c JOIN (SELECT refund_of, SUM(amount_cents) AS refunded FROM payments \
                        WHERE kind = 'refund' AND status IN {COUNTED_REFUND_STATUSES} GROUP BY refund_of) r \
                        ON r.refund_of = c.provider_ref \
                     WHERE c.kind = 'charge' \
                        AND (c.status <> 'succeeded' OR r.refunded > c.amount_cents) \
                     UNION ALL \
                     SELECT r.order_id, CONCAT('refunds of ', r.amount_cents, ' ', r.currency, ' return no recorded charge') \
                     FROM payments r WHERE r.kind = 'refund' AND r.status IN {COUNTED_REFUND_STATUSES} \
                        AND NOT EXISTS (SELECT 1 FROM payments c WHERE c.kind = 'charge' AND c.provider = r.provider \
                            AND c.provider_ref = r.refund_of AND c.order_id = r.order_id)"
                ),
            ),
        ),
        (
            // A refund decided but not accepted by Stripe within 15 minutes
            // (the sweep retries every minute): the operator looks at
            // `last_error`.
            "refunds-pending",
            sqlx::query_as!(
                Row,
                "SELECT order_id AS `order_id?`, CONCAT('refund of ', amount_cents, ' ', currency, ' requested at ', created_at, \
                    ', ', attempts, ' attempts: ', COALESCE(last_error, 'no answer yet')) AS `detail?: String` \
                 FROM payments WHERE kind = 'refund' AND status = 'requested' \
                    AND created_at < UTC_TIMESTAMP(6) - INTERVAL 15 MINUTE \
                 LIMIT ?",
                limit
            )
            .fetch_all(pool)
            .boxed(),
        ),
        (
            "notifications",
            sqlx::query_as!(
                Row,
                "SELECT h.order_id AS `order_id?`, CONCAT('went through ', h.status, ' with no e-mail recorded') AS `detail?: String` \
                 FROM order_status_history h JOIN orders o ON o.id = h.order_id \
                 WHERE h.status <> 'pending_payment' AND TRIM(COALESCE(o.contact_email, '')) <> '' \
                    AND NOT EXISTS (SELECT 1 FROM notifications n \
                        WHERE n.order_id = h.order_id AND n.kind = h.status AND n.channel = 'email') \
                 UNION ALL \
                 SELECT n.order_id, CONCAT('e-mail about ', n.kind, ', a status it never had') \
                 FROM notifications n \
                 WHERE n.order_id IS NOT NULL AND n.kind NOT LIKE 'refund-%' \
                    AND NOT EXISTS (SELECT 1 FROM order_status_history h \
                    WHERE h.order_id = n.order_id AND h.status = n.kind) \
                 UNION ALL \
                 SELECT NULL, CONCAT('account e-mail ', n.id, ' (', n.kind, ') ', n.status, ' but its link kept') \
                 FROM notifications n \
                 WHERE n.order_id IS NULL AND n.status <> 'pending' AND n.body LIKE '%token=%' \
                 LIMIT ?",
                limit
            )
            .fetch_all(pool)
            .boxed(),
        ),
    ];
    checks.push(("revenue-days", revenue_days(pool)));
    if scope == Scope::Settled {
        checks.extend([
            (
                "outbox",
                sqlx::query_as!(
                    Row,
                    "SELECT order_id AS `order_id?`, \
                        CONCAT(event_type, ' not sent after ', attempts, ' attempts') AS `detail?: String` \
                     FROM outbox WHERE sent_at IS NULL \
                        AND (not_before IS NULL OR not_before <= UTC_TIMESTAMP(6)) \
                     LIMIT ?",
                    limit
                )
                .fetch_all(pool)
                .boxed(),
            ),
            (
                "kitchen",
                sqlx::query_as!(
                    Row,
                    "SELECT o.id AS `order_id?`, \
                        CONCAT(o.status, IF(o.release_at IS NULL, ' order', ' pre-order'), \
                               ', ticket ', COALESCE(t.status, 'missing'), \
                               IF(t.received_at < o.release_at - INTERVAL 1 MINUTE, ' before its release time', '')) \
                            AS `detail?: String` \
                     FROM orders o LEFT JOIN kitchen_tickets t ON t.order_id = o.id \
                     WHERE (o.status IN ('placed', 'preparing') \
                            AND NOT (o.status = 'placed' AND COALESCE(o.release_at > UTC_TIMESTAMP(6), FALSE)) \
                            AND (t.status IS NULL OR t.status <> \
                            CASE o.status WHEN 'placed' THEN 'waiting' ELSE 'preparing' END)) \
                        OR COALESCE(t.received_at < o.release_at - INTERVAL 1 MINUTE, FALSE) \
                        OR (o.status IN ('ready', 'out_for_delivery', 'delivered', 'picked_up', 'failed_delivery', 'no_show') \
                            AND (t.status IS NULL OR t.status <> 'ready')) \
                        OR (o.status IN ('cancelled', 'pending_payment', 'voided') \
                            AND t.status IS NOT NULL AND t.status <> 'withdrawn') \
                     LIMIT ?",
                    limit
                )
                .fetch_all(pool)
                .boxed(),
            ),
            (
                "delivery",
                sqlx::query_as!(
                    Row,
                    "SELECT o.id AS `order_id?`, \
                        CONCAT(o.fulfilment, ' order ', o.status, ', delivery ', COALESCE(d.status, 'missing')) AS `detail?: String` \
                     FROM orders o LEFT JOIN deliveries d ON d.order_id = o.id \
                     WHERE (o.fulfilment = 'pickup' AND d.id IS NOT NULL) \
                        OR (o.fulfilment = 'delivery' AND o.status = 'ready' AND (d.id IS NULL OR d.status NOT IN ('waiting', 'assigned'))) \
                        OR (o.fulfilment = 'delivery' AND o.status IN ('out_for_delivery', 'delivered') \
                            AND (d.id IS NULL OR d.status <> o.status)) \
                        OR (o.status = 'failed_delivery' AND (d.id IS NULL OR d.status <> 'failed')) \
                        OR (o.status <> 'failed_delivery' AND d.status = 'failed') \
                        OR (o.status = 'voided' AND d.id IS NOT NULL AND d.status <> 'cancelled') \
                        OR (o.status <> 'voided' AND d.status = 'cancelled') \
                     LIMIT ?",
                    limit
                )
                .fetch_all(pool)
                .boxed(),
            ),
        ]);
    }
    checks
}

/// Runs every check of `scope`, one after the other; an empty list means
/// everything agrees.
pub async fn audit(pool: &MySqlPool, scope: Scope) -> Result<Vec<Finding>, sqlx::Error> {
    let mut findings = Vec::new();
    for (check, rows) in checks(pool, scope) {
        for row in rows.await? {
            findings.push(Finding {
                check,
                order_id: row.order_id,
                detail: row.detail.unwrap_or_default(),
            });
        }
    }
    Ok(findings)
}
