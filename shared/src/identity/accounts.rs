//! Accounts: e-mail addresses, the password policy, argon2id hashes, creating,
//! deactivating and re-keying users, and signing in with throttling.
//!
//! - **E-mail** ([`normalise_email`]): trimmed, Unicode NFC, lower case — the
//!   one form stored and looked up, compared byte for byte. `lea@…` and
//!   `léa@…` are different addresses, and the decomposed `le\u{301}a@…` is
//!   `léa@…`. The unique key (`utf8mb4_unicode_ci`) stays case- and
//!   accent-insensitive, stricter than the lookups: look-alike addresses
//!   cannot both have an account.
//! - **Phone** (optional): stored in E.164 ([`crate::platform::phone`]), an invalid
//!   number refused on the field `phone`.
//! - **Password policy** ([`check_password`]): at least [`MIN_PASSWORD_CHARS`]
//!   characters, at most [`MAX_PASSWORD_CHARS`], not one character repeated,
//!   not the e-mail address itself. Length beats composition rules (NIST SP
//!   800-63B); the message is given in French and English.
//! - **Hashes**: argon2id with [`ARGON2_PARAMS`] (OWASP's m=19456 KiB, t=2,
//!   p=1). The demo's hashes (m=65536, t=3, p=4) verify too — a PHC string
//!   carries its parameters — and are re-hashed with ours at the next
//!   successful sign-in. Why not keep the demo's: 64 MiB per hash would break
//!   the functions' 32 MB memory budget and a few concurrent sign-ins would
//!   need a large Lambda; the `argon2` crate does not run lanes in parallel,
//!   so p=4 only costs time.
//! - **Sign-in** ([`login`]): one answer for an unknown e-mail, a wrong
//!   password and a deactivated account
//!   ([`AccountError::InvalidCredentials`]); an unknown e-mail is checked
//!   against a dummy hash with our parameters so it takes as long. Attempts
//!   are counted per account once the e-mail is found, per normalised
//!   address otherwise (so a lock says nothing about whether an account
//!   exists), and each attempt is counted *before* its password is checked,
//!   in a transaction over the counter's row: however many guesses arrive at
//!   once, at most [`MAX_FAILURES`] are checked within [`LOCKOUT_MINUTES`];
//!   then the account (or address) is locked for [`LOCKOUT_MINUTES`]
//!   ([`AccountError::Locked`], 429, even with the right password). A
//!   successful sign-in resets the count; a manager or the admin can lift a
//!   lock ([`unlock`]); the sweep forgets stale counters
//!   ([`purge_login_attempts`]).
//!
//! Passwords and hashes never leave this module in an answer or a log line:
//! [`User`] has no hash, and nothing here derives `Debug` over a password.
//!
//! Failures are [`AccountError`]s; the HTTP edge answers each with its
//! problem (`From<AccountError> for ApiError`, in `error.rs`).

use crate::identity::role::Role;
use crate::platform::http::ApiError;
use crate::platform::ids::{PizzeriaId, UserId};
use crate::platform::phone::E164;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use chrono::{DateTime, NaiveDateTime, Utc};
use http::StatusCode;
use rand::RngCore;
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::MySqlPool;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use unicode_normalization::UnicodeNormalization;

/// argon2id memory in KiB, iterations and lanes: OWASP's first choice.
pub const ARGON2_PARAMS: (u32, u32, u32) = (19_456, 2, 1);
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Long passphrases are welcome; beyond this it is not a password.
pub const MAX_PASSWORD_CHARS: usize = 128;
/// Sign-in attempts (password checks) for one account or address before it
/// is locked; a successful one starts the count again.
pub const MAX_FAILURES: i32 = 5;
/// How long a lock lasts, and the window in which failures add up.
pub const LOCKOUT_MINUTES: i64 = 15;

/// The parameters as `docs/architecture.md` and the benchmark state them.
pub fn argon2_description() -> String {
    let (m, t, p) = ARGON2_PARAMS;
    format!("argon2id m={m} KiB, t={t}, p={p}")
}

fn hasher() -> Result<Argon2<'static>, AccountError> {
    let (m, t, p) = ARGON2_PARAMS;
    let params = Params::new(m, t, p, None).map_err(AccountError::internal)?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

// ---------------------------------------------------------------- e-mail

/// The one form of an address that is stored and looked up, compared byte
/// for byte: trimmed, Unicode NFC (a decomposed `e` + U+0301 is `é`), lower
/// case. NFC again after lowering, so that the result is NFC whatever the
/// input (lowering can leave a letter and a combining mark that compose).
pub fn normalise_email(raw: &str) -> String {
    let composed: String = raw.trim().nfc().collect();
    composed.to_lowercase().nfc().collect()
}

/// A normalised e-mail address of a plausible shape (the mailbox itself is
/// not checked: there is no confirmation e-mail yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Email, &'static str> {
        let email = normalise_email(raw);
        let Some((local, domain)) = email.split_once('@') else {
            return Err("Adresse e-mail invalide (an e-mail address needs an @).");
        };
        let plausible = !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
            && !email.chars().any(|c| c.is_whitespace() || c.is_control());
        if !plausible || email.len() > 254 {
            return Err("Adresse e-mail invalide (not a valid e-mail address).");
        }
        Ok(Email(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

pub mod address_book;
pub mod email_change;
mod error;
pub mod links;
mod password;
pub mod privacy;
pub mod reset;
mod sign_in;
mod users;

pub use error::*;
pub use password::*;
pub use sign_in::*;
pub use users::*;

#[cfg(test)]
mod tests {
    use super::*;

    /// The demo's hash of `ocpizza-demo` (samples/demo.sql).
    const DEMO_HASH: &str = "$argon2id$v=19$m=65536,t=3,p=4$K7p28xs/3TOmVkPp8Ml3Zw$wamf0/irO77ilpXrATBARdhdOwBMx1U90lzF5kHr0r4";

    #[test]
    fn emails_are_trimmed_and_lower_cased() {
        assert_eq!(
            Email::parse("  Lea.Martin@Example.FR ").unwrap().as_str(),
            "lea.martin@example.fr"
        );
        for bad in [
            "",
            "lea",
            "lea@",
            "@example.fr",
            "lea@example",
            "l a@example.fr",
            "a@b@c.fr",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn emails_are_one_exact_form_in_nfc() {
        let nfc = "l\u{e9}a@example.org";
        for typed in [
            nfc,
            "le\u{301}a@example.org",
            " L\u{c9}A@Example.ORG\t",
            "LE\u{301}A@EXAMPLE.ORG",
        ] {
            assert_eq!(normalise_email(typed), nfc, "{typed:?}");
        }
        // Other letters are other addresses.
        assert_ne!(normalise_email("lea@example.org"), nfc);
        // Once is enough: the form is stable.
        for typed in [
            "\u{130}stanbul@example.org",
            "\u{1c4}@example.org",
            "A\u{30a}ngstr\u{f6}m@example.org",
            "\u{3a3}\u{391}\u{3a3}@example.org",
        ] {
            let once = normalise_email(typed);
            assert_eq!(normalise_email(&once), once, "{typed:?}");
            assert!(unicode_normalization::is_nfc(&once), "{typed:?}");
        }
        assert_eq!(
            Email::parse("A\u{30a}sa@Example.org").unwrap().as_str(),
            "\u{e5}sa@example.org"
        );
    }

    #[test]
    fn no_typed_address_shares_an_accounts_count() {
        assert_ne!(address_key("account:5"), account_key(UserId(5)));
        assert_ne!(address_key(""), account_key(UserId(0)));
        assert_eq!(
            address_key(" Lea@Example.org"),
            address_key("lea@example.org")
        );
        assert_eq!(account_key(UserId(5)).len(), 32);
    }

    #[test]
    fn the_password_policy_says_why() {
        assert!(check_password("pizza-margherita", "lea@example.fr").is_ok());
        assert!(check_password("court", "lea@example.fr")
            .unwrap_err()
            .contains("au moins 10"));
        assert!(check_password("aaaaaaaaaaaa", "lea@example.fr")
            .unwrap_err()
            .contains("repeated"));
        assert!(check_password("Lea@Example.fr", "lea@example.fr")
            .unwrap_err()
            .contains("e-mail"));
        assert!(check_password(&"ab".repeat(65), "lea@example.fr").is_err());
        // Characters, not bytes.
        assert!(check_password("éééééééééè", "lea@example.fr").is_ok());
    }

    #[test]
    fn hashes_use_our_parameters_and_verify() {
        let hash = hash_password("pizza-margherita").unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(verify_password("pizza-margherita", &hash));
        assert!(!verify_password("pizza-regina", &hash));
        assert!(!needs_rehash(&hash));
        assert_ne!(hash, hash_password("pizza-margherita").unwrap(), "salted");
    }

    #[test]
    fn the_demo_hashes_verify_and_are_marked_for_rehash() {
        assert!(verify_password("ocpizza-demo", DEMO_HASH));
        assert!(!verify_password("ocpizza-demo!", DEMO_HASH));
        assert!(needs_rehash(DEMO_HASH));
        assert!(!verify_password("ocpizza-demo", "not a hash"));
    }

    #[test]
    fn a_new_user_lists_every_problem() {
        let err = NewUser::parse("lea", "court", " ", Some("abc"), Role::Pizzaiolo, None)
            .err()
            .unwrap();
        let response = ApiError::from(err).to_response("r");
        assert_eq!(response.status(), 422);
        let body: serde_json::Value = serde_json::from_slice(response.body().as_ref()).unwrap();
        let fields: Vec<&str> = body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(
            fields,
            ["email", "password", "name", "phone", "pizzeria_id"]
        );
        let ok = NewUser::parse(
            "Lea@Example.fr",
            "pizza-margherita",
            "Léa",
            Some("+33 6 12 34 56 78"),
            Role::Customer,
            None,
        )
        .ok()
        .unwrap();
        assert_eq!(ok.email.as_str(), "lea@example.fr");
        assert_eq!(ok.phone.as_ref().map(E164::as_str), Some("+33612345678"));
        // A number that does not exist is refused like any other field.
        for typed in ["06 12 34 56", "07 12 34 56 78", "06 12 34 56 78 90"] {
            let err = NewUser::parse(
                "lea@example.fr",
                "pizza-margherita",
                "Léa",
                Some(typed),
                Role::Customer,
                None,
            )
            .err()
            .unwrap();
            let body: serde_json::Value =
                serde_json::from_slice(ApiError::from(err).to_response("r").body().as_ref())
                    .unwrap();
            assert_eq!(body["errors"][0]["field"], "phone", "{typed}");
        }
    }
}
