//! What the accounts can fail with, and the problem each one is at the HTTP
//! edge (`From<AccountError> for ApiError`).

use super::*;

/// A field that is not right, with the message the person reads (in French
/// and English).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    pub field: &'static str,
    pub message: String,
}

/// Why an account operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The one answer to a failed sign-in, whatever failed: unknown e-mail,
    /// wrong password or deactivated account.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// Too many attempts for this account or address (whether or not it has
    /// an account): locked for this many more seconds.
    #[error("sign-in locked for {retry_after_seconds} s")]
    Locked { retry_after_seconds: i64 },
    /// An account already has this e-mail address (whatever its case).
    #[error("e-mail already registered")]
    EmailTaken,
    /// The new staff account names a pizzeria that does not exist.
    #[error("no such pizzeria")]
    NoSuchPizzeria,
    /// Every field of a new account that is not right.
    #[error("the account has {} problem(s)", .0.len())]
    InvalidAccount(Vec<FieldProblem>),
    /// One field that is not right (a new password against the policy).
    #[error("{}: {}", .0.field, .0.message)]
    InvalidField(FieldProblem),
    /// The caller's account is gone or deactivated.
    #[error("session ended")]
    SessionEnded,
    /// A password change with the wrong current password.
    #[error("wrong current password")]
    WrongCurrentPassword,
    /// The password changed between its check and the change.
    #[error("password changed meanwhile")]
    PasswordChanged,
    /// The address book holds [`address_book::MAX_ADDRESSES`] already.
    #[error("the address book is full")]
    AddressBookFull,
    /// No such address in the caller's address book (or someone else's).
    #[error("no such address")]
    NoSuchAddress,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// Our fault (hashing, a row that cannot be read): logged, never shown.
    #[error("{0}")]
    Internal(String),
}

impl AccountError {
    pub(super) fn internal(err: impl std::fmt::Display) -> Self {
        AccountError::Internal(err.to_string())
    }
}

fn errors(problems: &[FieldProblem]) -> Vec<serde_json::Value> {
    problems
        .iter()
        .map(|p| json!({ "field": p.field, "message": p.message }))
        .collect()
}

impl From<AccountError> for ApiError {
    fn from(err: AccountError) -> Self {
        match err {
            AccountError::InvalidCredentials => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid-credentials",
                "Sign-in failed",
                "E-mail ou mot de passe incorrect (the e-mail or the password is not right).",
            ),
            AccountError::Locked {
                retry_after_seconds,
            } => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too-many-attempts",
                "Too many attempts",
                format!(
                    "Trop d'essais : réessayez dans {LOCKOUT_MINUTES} minutes au plus \
                     (too many failed sign-ins for this e-mail; try again within {LOCKOUT_MINUTES} minutes)."
                ),
            )
            .with("retry_after_seconds", retry_after_seconds.max(1)),
            AccountError::EmailTaken => ApiError::conflict(
                "email-taken",
                "E-mail already registered",
                "Un compte existe déjà avec cette adresse (an account already uses this e-mail); sign in instead.",
            ),
            AccountError::NoSuchPizzeria => ApiError::unprocessable("No such pizzeria.").with(
                "errors",
                [json!({"field": "pizzeria_id", "message": "No such pizzeria."})],
            ),
            AccountError::InvalidAccount(problems) => {
                let count = problems.len();
                ApiError::unprocessable(format!(
                    "The account has {count} problem{}; see `errors`.",
                    if count > 1 { "s" } else { "" }
                ))
                .with("errors", errors(&problems))
            }
            AccountError::InvalidField(problem) => {
                ApiError::unprocessable(problem.message.clone())
                    .with("errors", errors(std::slice::from_ref(&problem)))
            }
            AccountError::SessionEnded => {
                ApiError::unauthorized("The session has ended; sign in again.")
            }
            AccountError::WrongCurrentPassword => ApiError::new(
                StatusCode::FORBIDDEN,
                "wrong-password",
                "Wrong password",
                "Le mot de passe actuel est incorrect (the current password is not right).",
            ),
            AccountError::PasswordChanged => ApiError::conflict(
                "password-changed",
                "Password already changed",
                "The password was changed meanwhile; sign in again.",
            ),
            AccountError::AddressBookFull => ApiError::conflict(
                "address-book-full",
                "Address book full",
                format!(
                    "Votre carnet contient déjà {} adresses : supprimez-en une d'abord \
                     (the address book is full).",
                    super::address_book::MAX_ADDRESSES
                ),
            ),
            AccountError::NoSuchAddress => {
                ApiError::not_found("No such address in your address book.")
            }
            AccountError::Database(e) => e.into(),
            AccountError::Internal(message) => ApiError::Internal(message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(err: AccountError) -> (u16, Option<String>, serde_json::Value) {
        let response = ApiError::from(err).to_response("r");
        let retry_after = response
            .headers()
            .get(http::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = serde_json::from_slice(response.body().as_ref()).unwrap();
        (response.status().as_u16(), retry_after, body)
    }

    /// Each failure answers as the accounts answered before they had their
    /// own error: the same status, problem, detail, fields and headers.
    #[test]
    fn every_failure_keeps_its_answer() {
        let problem = |status: u16, kind: &str, title: &str, detail: &str| {
            json!({"type": format!("/problems/{kind}"), "title": title, "status": status,
                   "detail": detail, "request_id": "r"})
        };
        assert_eq!(
            answer(AccountError::InvalidCredentials),
            (
                401,
                None,
                problem(
                    401,
                    "invalid-credentials",
                    "Sign-in failed",
                    "E-mail ou mot de passe incorrect (the e-mail or the password is not right)."
                )
            )
        );
        let mut locked = problem(
            429,
            "too-many-attempts",
            "Too many attempts",
            "Trop d'essais : réessayez dans 15 minutes au plus \
             (too many failed sign-ins for this e-mail; try again within 15 minutes).",
        );
        locked["retry_after_seconds"] = json!(42);
        assert_eq!(
            answer(AccountError::Locked {
                retry_after_seconds: 42
            }),
            (429, Some("42".into()), locked.clone())
        );
        locked["retry_after_seconds"] = json!(1);
        assert_eq!(
            answer(AccountError::Locked {
                retry_after_seconds: 0
            }),
            (429, Some("1".into()), locked)
        );
        assert_eq!(
            answer(AccountError::EmailTaken),
            (
                409,
                None,
                problem(
                    409,
                    "email-taken",
                    "E-mail already registered",
                    "Un compte existe déjà avec cette adresse (an account already uses this e-mail); sign in instead."
                )
            )
        );
        let mut no_pizzeria = problem(
            422,
            "invalid-request",
            "Invalid request",
            "No such pizzeria.",
        );
        no_pizzeria["errors"] = json!([{"field": "pizzeria_id", "message": "No such pizzeria."}]);
        assert_eq!(
            answer(AccountError::NoSuchPizzeria),
            (422, None, no_pizzeria)
        );
        let field = |field, message: &str| FieldProblem {
            field,
            message: message.to_owned(),
        };
        for (problems, detail) in [
            (
                vec![field("email", "e")],
                "The account has 1 problem; see `errors`.",
            ),
            (
                vec![field("email", "e"), field("name", "n")],
                "The account has 2 problems; see `errors`.",
            ),
        ] {
            let mut expected = problem(422, "invalid-request", "Invalid request", detail);
            expected["errors"] = json!(problems
                .iter()
                .map(|p| json!({"field": p.field, "message": p.message}))
                .collect::<Vec<_>>());
            assert_eq!(
                answer(AccountError::InvalidAccount(problems)),
                (422, None, expected)
            );
        }
        let mut weak = problem(422, "invalid-request", "Invalid request", "too short");
        weak["errors"] = json!([{"field": "new_password", "message": "too short"}]);
        assert_eq!(
            answer(AccountError::InvalidField(field(
                "new_password",
                "too short"
            ))),
            (422, None, weak)
        );
        assert_eq!(
            answer(AccountError::SessionEnded),
            (
                401,
                None,
                problem(
                    401,
                    "unauthorized",
                    "Authentication required",
                    "The session has ended; sign in again."
                )
            )
        );
        assert_eq!(
            answer(AccountError::WrongCurrentPassword),
            (
                403,
                None,
                problem(
                    403,
                    "wrong-password",
                    "Wrong password",
                    "Le mot de passe actuel est incorrect (the current password is not right)."
                )
            )
        );
        assert_eq!(
            answer(AccountError::PasswordChanged),
            (
                409,
                None,
                problem(
                    409,
                    "password-changed",
                    "Password already changed",
                    "The password was changed meanwhile; sign in again."
                )
            )
        );
        assert!(matches!(
            ApiError::from(AccountError::internal("the user vanished")),
            ApiError::Internal(m) if m == "the user vanished"
        ));
        assert_eq!(answer(AccountError::internal("x")).0, 500);
        assert!(matches!(
            ApiError::from(AccountError::Database(sqlx::Error::PoolTimedOut)),
            ApiError::Problem(p) if p.status == StatusCode::SERVICE_UNAVAILABLE
        ));
        assert!(matches!(
            ApiError::from(AccountError::Database(sqlx::Error::RowNotFound)),
            ApiError::Internal(m) if m.starts_with("database: ")
        ));
    }
}
