//! A customer's rights over their data (GDPR articles 15, 17 and 20): a copy
//! of everything kept about them, and the deletion of their account.
//!
//! Deleting keeps the orders, as accounting law asks (ten years), with the
//! personal data taken out: the name, phone, e-mail, street address and its
//! coordinates, the courier's instructions, the kitchen notes and the
//! e-mails sent about them. The postcode and city stay (revenue by area),
//! and so do the lines, prices and payments. The account row stays too,
//! anonymous and inactive, so the orders still point at something and its
//! id is never given to someone else; its sessions end at once.

use super::*;

/// A copy of what is kept about a customer: the account, saved addresses
/// and every order with its lines, as JSON.
pub async fn export(pool: &MySqlPool, id: UserId) -> Result<serde_json::Value, AccountError> {
    let user = find(pool, id).await?.ok_or(AccountError::SessionEnded)?;
    let addresses = sqlx::query!(
        "SELECT label, line1, postcode, city FROM addresses WHERE user_id = ? ORDER BY id",
        id.0
    )
    .fetch_all(pool)
    .await?;
    let orders = sqlx::query!(
        "SELECT o.id, o.number, o.status, o.created_at, p.name AS pizzeria, o.fulfilment, o.payment_method, \
                o.total_cents, o.contact_name, o.contact_phone, o.contact_email, \
                o.address_line1, o.address_postcode, o.address_city, o.delivery_instructions \
         FROM orders o JOIN pizzerias p ON p.id = o.pizzeria_id WHERE o.customer_id = ? ORDER BY o.id",
        id.0
    )
    .fetch_all(pool)
    .await?;
    let lines = sqlx::query!(
        "SELECT l.order_id, l.product_name, l.quantity, l.line_total_cents, l.choices, l.note \
         FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE o.customer_id = ? \
         ORDER BY l.order_id, l.line_no",
        id.0
    )
    .fetch_all(pool)
    .await?;
    Ok(json!({
        "exported_at": Utc::now(),
        "account": user,
        "addresses": addresses.iter().map(|a| json!({
            "label": a.label, "line1": a.line1, "postcode": a.postcode, "city": a.city,
        })).collect::<Vec<_>>(),
        "orders": orders.iter().map(|o| json!({
            "number": o.number,
            "status": o.status,
            "created_at": o.created_at.and_utc(),
            "pizzeria": o.pizzeria,
            "fulfilment": o.fulfilment,
            "payment_method": o.payment_method,
            "total_cents": o.total_cents,
            "contact": {"name": o.contact_name, "phone": o.contact_phone, "email": o.contact_email},
            "address": o.address_line1.as_ref().map(|line1| json!({
                "line1": line1, "postcode": o.address_postcode, "city": o.address_city,
            })),
            "delivery_instructions": o.delivery_instructions,
            "lines": lines.iter().filter(|l| l.order_id == o.id).map(|l| json!({
                "name": l.product_name, "quantity": l.quantity, "total_cents": l.line_total_cents,
                "choices": l.choices, "note": l.note,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    }))
}

/// Why an account was not deleted.
#[derive(Debug, thiserror::Error)]
pub enum DeletionError {
    /// Orders still under way need a name and a phone to reach the customer.
    #[error("{0} orders are still under way")]
    OrdersUnderway(i64),
    #[error(transparent)]
    Account(#[from] AccountError),
}

impl From<sqlx::Error> for DeletionError {
    fn from(err: sqlx::Error) -> Self {
        DeletionError::Account(err.into())
    }
}

impl From<DeletionError> for ApiError {
    fn from(err: DeletionError) -> Self {
        match err {
            DeletionError::OrdersUnderway(count) => ApiError::conflict(
                "orders-underway",
                "Orders under way",
                format!(
                    "Le compte a {count} commande(s) en cours : il pourra être supprimé une fois \
                     livrées, retirées ou annulées ({count} orders are still under way)."
                ),
            ),
            DeletionError::Account(e) => e.into(),
        }
    }
}

/// Deletes a customer's account once its password is checked (throttled
/// like a sign-in): personal data out of the account, its addresses, its
/// orders and their e-mails, in one transaction; every session ends.
/// Refused while an order is under way.
pub async fn delete(pool: &MySqlPool, id: UserId, password: &str) -> Result<(), DeletionError> {
    let user = confirm_password(pool, id, password).await?;

    let mut tx = pool.begin().await?;
    // The account's row first: a checkout for this customer checks the
    // account is still active under a shared lock of the same row, so it
    // either commits before (and is counted below) or finds it deleted.
    sqlx::query!("SELECT id FROM users WHERE id = ? FOR UPDATE", id.0)
        .fetch_one(&mut *tx)
        .await?;
    let underway = sqlx::query_scalar!(
        "SELECT COUNT(*) FROM orders WHERE customer_id = ? AND status NOT IN \
         ('delivered', 'picked_up', 'cancelled', 'failed_delivery', 'no_show', 'voided')",
        id.0
    )
    .fetch_one(&mut *tx)
    .await?;
    if underway > 0 {
        return Err(DeletionError::OrdersUnderway(underway));
    }
    sqlx::query!(
        "UPDATE users SET email = CONCAT('supprime-', id, '@compte-supprime.invalid'), name = 'Compte supprimé', \
         phone = NULL, password_hash = '!', active = FALSE, token_version = token_version + 1, \
         updated_at = UTC_TIMESTAMP(6) WHERE id = ?",
        id.0
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!("DELETE FROM addresses WHERE user_id = ?", id.0)
        .execute(&mut *tx)
        .await?;
    sqlx::query!("DELETE FROM password_links WHERE user_id = ?", id.0)
        .execute(&mut *tx)
        .await?;
    sqlx::query!(
        "UPDATE orders SET contact_name = 'Client supprimé', contact_phone = '', contact_email = NULL, \
         address_line1 = NULL, latitude = NULL, longitude = NULL, delivery_instructions = NULL, \
         updated_at = UTC_TIMESTAMP(6) WHERE customer_id = ?",
        id.0
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "UPDATE order_lines l JOIN orders o ON o.id = l.order_id SET l.note = NULL WHERE o.customer_id = ?",
        id.0
    )
    .execute(&mut *tx)
    .await?;
    // Two statements, each on an index (an `OR` across both would scan).
    sqlx::query!(
        "UPDATE notifications n JOIN orders o ON o.id = n.order_id \
         SET n.recipient = '', n.body = '' WHERE o.customer_id = ?",
        id.0
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "UPDATE notifications SET recipient = '', body = '' WHERE user_id = ?",
        id.0
    )
    .execute(&mut *tx)
    .await?;
    // The answers kept for retries hold the contact, the address and notes.
    sqlx::query!(
        "DELETE FROM idempotency_keys WHERE caller = CONCAT('user:', ?)",
        id.0
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    tracing::info!(user_id = %user.id, "account deleted; its orders kept without personal data");
    Ok(())
}
