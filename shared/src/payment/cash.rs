//! Cash taken by a courier at the customer's door, recorded as the order's
//! payment: a succeeded `cash` charge whose reference names the delivery, so
//! the same delivery can never be recorded twice (unique provider reference).
//! Cash taken at the counter is [`super::settlement::collect_at_counter`].

use crate::order::revenue;
use crate::platform::ids::{DeliveryId, OrderId};
use sqlx::{MySql, Transaction};

/// Records `amount_cents` of cash collected on delivery `delivery_id` of the
/// order (locked by the caller), in the caller's transaction, and counts the
/// order again in the revenue summaries. Anything the courier took above
/// what was due is a tip and is not recorded here.
pub async fn record_at_door(
    tx: &mut Transaction<'_, MySql>,
    order: OrderId,
    delivery_id: DeliveryId,
    amount_cents: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO payments (order_id, provider, kind, provider_ref, amount_cents, status, created_at, updated_at) \
         VALUES (?, 'cash', 'charge', ?, ?, 'succeeded', UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))",
        order.0,
        format!("delivery-{delivery_id}"),
        amount_cents,
    )
    .execute(&mut **tx)
    .await?;
    revenue::recount(tx, order).await?;
    Ok(())
}
