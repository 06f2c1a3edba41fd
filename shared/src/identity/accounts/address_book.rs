//! A customer's address book: the delivery addresses they keep under a
//! label ("Maison", "Bureau"), offered at checkout, where an order names one
//! by its id (`address_id`) instead of typing it again.
//!
//! An address is checked as a delivery address is at checkout
//! ([`check_street`]: the street and number, a French postcode, the city);
//! whether a pizzeria delivers there is checkout's question, asked for each
//! order. At most [`MAX_ADDRESSES`] per account, each label once. Only its
//! owner sees or deletes an address: someone else's id is answered like an
//! unknown one.

use super::*;

/// How many addresses one account keeps.
pub const MAX_ADDRESSES: i64 = 10;

/// A saved address, as its owner sees it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SavedAddress {
    pub id: i64,
    pub label: String,
    pub line1: String,
    pub postcode: String,
    pub city: String,
}

/// A street address as typed, with its spaces tidied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Street {
    pub line1: String,
    pub postcode: String,
    pub city: String,
}

fn tidy(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A delivery address's shape, the rule checkout and the address book
/// share: the problems name `line1`, `postcode` and `city` (the caller adds
/// its prefix), every one at once.
pub fn check_street(line1: &str, postcode: &str, city: &str) -> Result<Street, Vec<FieldProblem>> {
    let street = Street {
        line1: tidy(line1),
        postcode: tidy(postcode),
        city: tidy(city),
    };
    let mut problems = Vec::new();
    if street.line1.is_empty() || street.line1.chars().count() > 200 {
        problems.push(FieldProblem {
            field: "line1",
            message:
                "Indiquez le numéro et la rue, 200 caractères au plus (at most 200 characters)."
                    .to_owned(),
        });
    }
    if street.postcode.len() != 5 || !street.postcode.bytes().all(|b| b.is_ascii_digit()) {
        problems.push(FieldProblem {
            field: "postcode",
            message: "Le code postal a 5 chiffres (a French postcode has 5 digits).".to_owned(),
        });
    }
    if street.city.is_empty() || street.city.chars().count() > 100 {
        problems.push(FieldProblem {
            field: "city",
            message: "Indiquez la ville, 100 caractères au plus (at most 100 characters)."
                .to_owned(),
        });
    }
    if problems.is_empty() {
        Ok(street)
    } else {
        Err(problems)
    }
}

/// The account's addresses, oldest first.
pub async fn list(pool: &MySqlPool, owner: UserId) -> Result<Vec<SavedAddress>, AccountError> {
    Ok(sqlx::query_as!(
        SavedAddress,
        "SELECT id, label, line1, postcode, city FROM addresses WHERE user_id = ? ORDER BY id",
        owner.0
    )
    .fetch_all(pool)
    .await?)
}

/// One address of the account's, or `None` (unknown, or someone else's).
pub async fn saved(
    pool: &MySqlPool,
    owner: UserId,
    id: i64,
) -> Result<Option<SavedAddress>, AccountError> {
    Ok(sqlx::query_as!(
        SavedAddress,
        "SELECT id, label, line1, postcode, city FROM addresses WHERE id = ? AND user_id = ?",
        id,
        owner.0
    )
    .fetch_optional(pool)
    .await?)
}

/// Keeps a new address under `label` (1 to 50 characters, once per
/// account). Every problem is listed at once; a full book is
/// [`AccountError::AddressBookFull`].
pub async fn add(
    pool: &MySqlPool,
    owner: UserId,
    label: &str,
    street: (&str, &str, &str),
) -> Result<SavedAddress, AccountError> {
    let label = tidy(label);
    let mut problems = Vec::new();
    if label.is_empty() || label.chars().count() > 50 {
        problems.push(FieldProblem {
            field: "label",
            message:
                "Donnez un nom à l'adresse, 50 caractères au plus (a label of 1 to 50 characters)."
                    .to_owned(),
        });
    }
    let street = match check_street(street.0, street.1, street.2) {
        Ok(street) => Some(street),
        Err(more) => {
            problems.extend(more);
            None
        }
    };
    let Some(street) = street.filter(|_| problems.is_empty()) else {
        return Err(AccountError::InvalidAccount(problems));
    };

    let mut tx = pool.begin().await?;
    // The account's row, so two additions at once count one after the other.
    let active = sqlx::query_scalar!(
        "SELECT id FROM users WHERE id = ? AND active FOR UPDATE",
        owner.0
    )
    .fetch_optional(&mut *tx)
    .await?;
    if active.is_none() {
        return Err(AccountError::SessionEnded);
    }
    let count = sqlx::query_scalar!("SELECT COUNT(*) FROM addresses WHERE user_id = ?", owner.0)
        .fetch_one(&mut *tx)
        .await?;
    if count >= MAX_ADDRESSES {
        return Err(AccountError::AddressBookFull);
    }
    let inserted = sqlx::query!(
        "INSERT INTO addresses (user_id, label, line1, postcode, city) VALUES (?, ?, ?, ?, ?)",
        owner.0,
        label,
        street.line1,
        street.postcode,
        street.city
    )
    .execute(&mut *tx)
    .await;
    let id = match inserted {
        Ok(done) => i64::try_from(done.last_insert_id()).map_err(AccountError::internal)?,
        Err(err)
            if crate::platform::db::duplicate_key(&err).as_deref()
                == Some("uq_addresses_user_label") =>
        {
            return Err(AccountError::InvalidField(FieldProblem {
                field: "label",
                message: format!(
                    "Vous avez déjà une adresse « {label} » (this label is already used)."
                ),
            }))
        }
        Err(err) => return Err(err.into()),
    };
    tx.commit().await?;
    Ok(SavedAddress {
        id,
        label,
        line1: street.line1,
        postcode: street.postcode,
        city: street.city,
    })
}

/// Deletes one of the account's addresses; orders that went there keep
/// their own copy. [`AccountError::NoSuchAddress`] for an unknown id or
/// someone else's.
pub async fn delete(pool: &MySqlPool, owner: UserId, id: i64) -> Result<(), AccountError> {
    let done = sqlx::query!(
        "DELETE FROM addresses WHERE id = ? AND user_id = ?",
        id,
        owner.0
    )
    .execute(pool)
    .await?;
    if done.rows_affected() == 0 {
        return Err(AccountError::NoSuchAddress);
    }
    Ok(())
}
