//! Users: reading, creating, deactivating, and changing a password.

use super::*;

/// A user as answers show it: never the hash.
#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub phone: Option<String>,
    pub role: Role,
    pub pizzeria_id: Option<PizzeriaId>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    /// Goes into the token's `ver`; not shown.
    #[serde(skip)]
    pub token_version: i32,
}

/// A `users` row as the queries read it (`id, email, name, phone, role,
/// pizzeria_id, active, created_at, token_version`).
pub(super) struct UserRow {
    pub(super) id: i64,
    pub(super) email: String,
    pub(super) name: String,
    pub(super) phone: Option<String>,
    pub(super) role: String,
    pub(super) pizzeria_id: Option<i64>,
    pub(super) active: bool,
    pub(super) created_at: NaiveDateTime,
    pub(super) token_version: i32,
}

impl TryFrom<UserRow> for User {
    type Error = AccountError;
    fn try_from(r: UserRow) -> Result<User, AccountError> {
        Ok(User {
            id: UserId(r.id),
            role: r.role.parse().map_err(AccountError::internal)?,
            email: r.email,
            name: r.name,
            phone: r.phone,
            pizzeria_id: r.pizzeria_id.map(PizzeriaId),
            active: r.active,
            created_at: r.created_at.and_utc(),
            token_version: r.token_version,
        })
    }
}

pub async fn find(pool: &MySqlPool, id: UserId) -> Result<Option<User>, AccountError> {
    let row = sqlx::query_as!(
        UserRow,
        "SELECT id, email, name, phone, role, pizzeria_id, active AS `active: bool`, \
            created_at, token_version \
         FROM users WHERE id = ?",
        id.0
    )
    .fetch_optional(pool)
    .await?;
    row.map(User::try_from).transpose()
}

/// Staff (every role but customer) of one pizzeria, or of all with `None`,
/// by pizzeria, role and name.
pub async fn list_staff(
    pool: &MySqlPool,
    pizzeria: Option<PizzeriaId>,
) -> Result<Vec<User>, AccountError> {
    let pizzeria = pizzeria.map(|p| p.0);
    let rows = sqlx::query_as!(
        UserRow,
        "SELECT id, email, name, phone, role, pizzeria_id, active AS `active: bool`, \
            created_at, token_version \
         FROM users \
         WHERE role <> 'customer' AND (? IS NULL OR pizzeria_id = ?) \
         ORDER BY pizzeria_id, FIELD(role, 'admin', 'manager', 'cashier', 'pizzaiolo', 'courier'), name, id",
        pizzeria,
        pizzeria
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(User::try_from).collect()
}

/// A new account, already checked. The password is held only until hashed.
pub struct NewUser {
    pub email: Email,
    pub(super) password: String,
    pub name: String,
    pub phone: Option<E164>,
    pub role: Role,
    pub pizzeria_id: Option<PizzeriaId>,
}

impl NewUser {
    /// Checks every field and lists every problem at once
    /// ([`AccountError::InvalidAccount`]).
    pub fn parse(
        email: &str,
        password: &str,
        name: &str,
        phone: Option<&str>,
        role: Role,
        pizzeria_id: Option<PizzeriaId>,
    ) -> Result<NewUser, AccountError> {
        let mut errors = Vec::new();
        let mut add = |field: &'static str, message: &str| {
            errors.push(FieldProblem {
                field,
                message: message.to_owned(),
            });
        };
        let parsed_email = Email::parse(email);
        if let Err(message) = &parsed_email {
            add("email", message);
        }
        if let Err(message) = check_password(password, email) {
            add("password", &message);
        }
        let name = match profile_name(name) {
            Ok(name) => name,
            Err(problem) => {
                add(problem.field, &problem.message);
                String::new()
            }
        };
        let phone = match profile_phone(phone) {
            Ok(phone) => phone,
            Err(problem) => {
                add(problem.field, &problem.message);
                None
            }
        };
        if role.is_pizzeria_staff() != pizzeria_id.is_some() {
            add(
                "pizzeria_id",
                if role.is_pizzeria_staff() {
                    "Staff of a pizzeria need its `pizzeria_id`."
                } else {
                    "Only the staff of a pizzeria have a `pizzeria_id`."
                },
            );
        }
        match parsed_email {
            Ok(email) if errors.is_empty() => Ok(NewUser {
                email,
                password: password.to_owned(),
                name,
                phone,
                role,
                pizzeria_id,
            }),
            _ => Err(AccountError::InvalidAccount(errors)),
        }
    }
}

/// A person's name as an account keeps it: trimmed, 1 to 100 characters.
fn profile_name(name: &str) -> Result<String, FieldProblem> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(FieldProblem {
            field: "name",
            message: "Le nom est requis, 100 caractères au plus (a name of 1 to 100 characters)."
                .to_owned(),
        });
    }
    Ok(name.to_owned())
}

/// An optional phone number, stored in E.164 like every phone number
/// (`phone::parse`); empty is none.
fn profile_phone(phone: Option<&str>) -> Result<Option<E164>, FieldProblem> {
    match phone.map(str::trim).filter(|p| !p.is_empty()) {
        None => Ok(None),
        Some(typed) => crate::platform::phone::parse(typed)
            .map(Some)
            .map_err(|why| FieldProblem {
                field: "phone",
                message: format!(
                    "Numéro de téléphone invalide, par exemple 06 12 34 56 78 \
                     (not a valid phone number: {why})."
                ),
            }),
    }
}

/// Changes the name and phone number of an active account (its profile);
/// every problem is listed at once.
pub async fn update_profile(
    pool: &MySqlPool,
    id: UserId,
    name: &str,
    phone: Option<&str>,
) -> Result<User, AccountError> {
    let (name, phone) = match (profile_name(name), profile_phone(phone)) {
        (Ok(name), Ok(phone)) => (name, phone),
        (name, phone) => {
            let problems = [name.err(), phone.err()].into_iter().flatten().collect();
            return Err(AccountError::InvalidAccount(problems));
        }
    };
    let done = sqlx::query!(
        "UPDATE users SET name = ?, phone = ?, updated_at = UTC_TIMESTAMP(6) WHERE id = ? AND active",
        name,
        phone.as_ref().map(|p| p.as_str()),
        id.0
    )
    .execute(pool)
    .await?;
    if done.rows_affected() == 0 {
        return Err(AccountError::SessionEnded);
    }
    find(pool, id).await?.ok_or(AccountError::SessionEnded)
}

/// Creates the account: [`AccountError::EmailTaken`] when the e-mail is
/// taken (whatever its case), [`AccountError::NoSuchPizzeria`] for a
/// pizzeria that does not exist.
pub async fn create(pool: &MySqlPool, new: NewUser) -> Result<User, AccountError> {
    let hash = hash_password_async(new.password).await?;
    let inserted = sqlx::query!(
        "INSERT INTO users (email, password_hash, name, phone, role, pizzeria_id, created_at, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))",
        new.email.as_str(),
        hash,
        new.name,
        new.phone.as_ref().map(E164::as_str),
        new.role.as_str(),
        new.pizzeria_id.map(|p| p.0)
    )
    .execute(pool)
    .await;
    let id = match inserted {
        Ok(done) => done.last_insert_id(),
        Err(err)
            if crate::platform::db::duplicate_key(&err).as_deref() == Some("uq_users_email") =>
        {
            return Err(AccountError::EmailTaken)
        }
        Err(sqlx::Error::Database(db)) if db.is_foreign_key_violation() => {
            return Err(AccountError::NoSuchPizzeria)
        }
        Err(err) => return Err(err.into()),
    };
    let id = i64::try_from(id).map_err(AccountError::internal)?;
    find(pool, UserId(id))
        .await?
        .ok_or_else(|| AccountError::internal("the new user vanished"))
}

/// Ends the account's access at once: inactive, and every token it holds
/// refused (`token_version` + 1). False when it was already inactive.
pub async fn deactivate(pool: &MySqlPool, id: UserId) -> Result<bool, AccountError> {
    let done = sqlx::query!(
        "UPDATE users SET active = FALSE, token_version = token_version + 1, \
         updated_at = UTC_TIMESTAMP(6) WHERE id = ? AND active = TRUE",
        id.0
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Checks the current password (throttled like a sign-in, on the same
/// account's count) and sets the new one; every session of the account ends
/// (`token_version` + 1). Answers the user with its new token version.
pub async fn change_password(
    pool: &MySqlPool,
    id: UserId,
    current: &str,
    new: &str,
) -> Result<User, AccountError> {
    let user = find(pool, id)
        .await?
        .filter(|u| u.active)
        .ok_or(AccountError::SessionEnded)?;
    // The policy first: a weak new password costs no attempt.
    if let Err(message) = check_password(new, &user.email) {
        return Err(AccountError::InvalidField(FieldProblem {
            field: "new_password",
            message,
        }));
    }
    let key = account_key(id);
    reserve_attempt(pool, &key).await?;
    let stored = sqlx::query_scalar!("SELECT password_hash FROM users WHERE id = ?", id.0)
        .fetch_one(pool)
        .await?;
    if !verify_password_async(current.to_owned(), stored.clone()).await? {
        return Err(AccountError::WrongCurrentPassword);
    }
    let hash = hash_password_async(new.to_owned()).await?;
    // Only over the hash that was checked: a concurrent change wins once.
    let done = sqlx::query!(
        "UPDATE users SET password_hash = ?, token_version = token_version + 1, \
         updated_at = UTC_TIMESTAMP(6) WHERE id = ? AND password_hash = ? AND active = TRUE",
        hash,
        id.0,
        stored
    )
    .execute(pool)
    .await?;
    if done.rows_affected() != 1 {
        return Err(AccountError::PasswordChanged);
    }
    // A change of e-mail or a reset asked before ends with the old password:
    // whoever knew it cannot finish moving the account elsewhere.
    sqlx::query!(
        "UPDATE password_links SET used_at = UTC_TIMESTAMP(6) WHERE user_id = ? AND used_at IS NULL",
        id.0
    )
    .execute(pool)
    .await?;
    clear_attempts(pool, &key).await?;
    find(pool, id)
        .await?
        .ok_or_else(|| AccountError::internal("the user vanished"))
}
