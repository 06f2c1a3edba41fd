//! Passwords: the policy, argon2id hashes (off the async threads), and
//! the count of checks the throttling tests read.

use super::*;

/// The password policy; the error is the message shown to the person.
pub fn check_password(password: &str, email: &str) -> Result<(), String> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(format!(
            "Le mot de passe doit contenir au moins {MIN_PASSWORD_CHARS} caractères \
             (the password needs at least {MIN_PASSWORD_CHARS} characters)."
        ));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(format!(
            "Le mot de passe doit contenir au plus {MAX_PASSWORD_CHARS} caractères \
             (the password may have at most {MAX_PASSWORD_CHARS} characters)."
        ));
    }
    let mut it = password.chars();
    let first = it.next();
    if it.all(|c| Some(c) == first) {
        return Err("Le mot de passe ne peut pas être un seul caractère répété \
                    (the password cannot be one character repeated)."
            .into());
    }
    if normalise_email(password) == normalise_email(email) {
        return Err("Le mot de passe ne peut pas être l'adresse e-mail \
                    (the password cannot be the e-mail address)."
            .into());
    }
    Ok(())
}

/// An argon2id PHC string for this password, with a fresh 16-byte salt.
pub fn hash_password(password: &str) -> Result<String, AccountError> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(AccountError::internal)?;
    Ok(hasher()?
        .hash_password(password.as_bytes(), &salt)
        .map_err(AccountError::internal)?
        .to_string())
}

pub(super) static PASSWORD_CHECKS: AtomicU64 = AtomicU64::new(0);

/// How many passwords this process has checked against a hash (sign-ins,
/// password changes): what the throttling tests count.
pub fn password_checks() -> u64 {
    PASSWORD_CHECKS.load(Ordering::Relaxed)
}

/// Does the password match this PHC string? The parameters come from the
/// string (the demo's as well as ours); the digests are compared in constant
/// time by `password-hash`. A malformed string matches nothing.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PASSWORD_CHECKS.fetch_add(1, Ordering::Relaxed);
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

/// Was this hash made with other parameters than ours (e.g. the demo's)?
pub fn needs_rehash(phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return true;
    };
    let (m, t, p) = ARGON2_PARAMS;
    let get = |name: &str| parsed.params.get_decimal(name);
    parsed.algorithm.as_str() != "argon2id"
        || get("m") != Some(m)
        || get("t") != Some(t)
        || get("p") != Some(p)
}

/// What an unknown e-mail is checked against, so that it costs as much as a
/// real account. Made once per container, from a random password.
pub(super) fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let mut secret = [0u8; 24];
        rand::rng().fill_bytes(&mut secret);
        hash_password(&hex::encode(secret)).unwrap_or_default()
    })
}

/// Hashing is CPU work of tens of milliseconds: off the async threads.
pub(super) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AccountError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(AccountError::internal)
}

pub async fn hash_password_async(password: String) -> Result<String, AccountError> {
    blocking(move || hash_password(&password)).await?
}

pub async fn verify_password_async(password: String, phc: String) -> Result<bool, AccountError> {
    blocking(move || verify_password(&password, &phc)).await
}
