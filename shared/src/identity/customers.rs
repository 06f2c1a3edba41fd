//! Customer accounts as staff and checkout see them: the contact an order
//! defaults to, and the accounts a cashier finds by the caller's phone.

use crate::platform::ids::UserId;
use serde::Serialize;
use sqlx::MySqlPool;

/// What an order needs to reach its customer.
#[derive(Debug, Clone, PartialEq)]
pub struct Contact {
    pub name: String,
    /// As stored: E.164 for every number written since phones were checked.
    pub phone: Option<String>,
    pub email: String,
}

/// An active account's contact (any role: a signed-in customer orders for
/// themselves).
pub async fn contact_of_account(
    pool: &MySqlPool,
    user: UserId,
) -> Result<Option<Contact>, sqlx::Error> {
    sqlx::query_as!(
        Contact,
        "SELECT name, phone, email FROM users WHERE id = ? AND active",
        user.0
    )
    .fetch_optional(pool)
    .await
}

/// An active customer account's contact; `None` for staff or unknown ids.
pub async fn contact_of_customer(
    pool: &MySqlPool,
    customer: UserId,
) -> Result<Option<Contact>, sqlx::Error> {
    sqlx::query_as!(
        Contact,
        "SELECT name, phone, email FROM users WHERE id = ? AND role = 'customer' AND active",
        customer.0
    )
    .fetch_optional(pool)
    .await
}

/// A customer account as a cashier picks it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CustomerMatch {
    pub id: UserId,
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
}

/// The active customer accounts with this phone number (E.164), at most ten,
/// through `ix_users_phone`.
pub async fn by_phone(pool: &MySqlPool, e164: &str) -> Result<Vec<CustomerMatch>, sqlx::Error> {
    sqlx::query_as!(
        CustomerMatch,
        "SELECT id AS `id: UserId`, name, email, phone FROM users \
         WHERE phone = ? AND role = 'customer' AND active \
         ORDER BY id LIMIT 10",
        e164
    )
    .fetch_all(pool)
    .await
}

/// Is the customer's account still active? Read under a shared lock held
/// until the caller's transaction ends, so the account cannot be deleted
/// meanwhile (`accounts::privacy::delete` locks the same row first).
pub async fn lock_active(
    tx: &mut sqlx::Transaction<'_, sqlx::MySql>,
    id: UserId,
) -> Result<bool, sqlx::Error> {
    let active = sqlx::query_scalar!(
        "SELECT id FROM users WHERE id = ? AND active LOCK IN SHARE MODE",
        id.0
    )
    .fetch_optional(&mut **tx)
    .await?;
    Ok(active.is_some())
}
