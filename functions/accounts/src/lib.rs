//! The accounts function: customers sign up, everyone signs in for a bearer
//! token, sees their profile and changes their password; managers and the
//! admin create, list and deactivate staff accounts within their scope.
//!
//! - `POST /accounts` `{email,password,name,phone}` → 201 `{"user"}`, a
//!   customer, its phone (optional) stored in E.164 (`ocpizza::platform::phone`); 409
//!   when the e-mail is taken (see `docs/architecture.md`, "Accounts and
//!   sessions": sign-up tells, sign-in never does); 422 listing every
//!   problem (a phone number that does not exist on `phone`); 429
//!   (`Retry-After`) past [`rate_limit::SIGN_UPS_PER_ADDRESS`] from one
//!   client address;
//! - `POST /sessions` `{email,password}` → `{"token","expires_at","user"}`;
//!   401 with one body for any wrong pair, 429 while the account (or the
//!   address typed) is locked, or past [`rate_limit::SIGN_INS_PER_ADDRESS`]
//!   from one client address;
//! - `GET /me` → `{"user"}`; `POST /me/password`
//!   `{current_password,new_password}` → a new session (older tokens end);
//! - `POST /password-links` `{token,new_password}` → a session: the
//!   password set with a one-time link (`ocpizza-admin bootstrap`, or a
//!   forgotten password's), 410 for a link unknown, used or expired (one
//!   answer for the three);
//! - `PATCH /me` `{name,phone}` → `{"user"}`, the profile changed (the phone
//!   in E.164; empty clears it); 422 listing every problem;
//! - `GET /me/export` → everything kept about the signed-in customer (a
//!   download); `DELETE /me` `{password}` → the account deleted, its orders
//!   kept without personal data (`accounts::privacy`); 409 while an order is
//!   under way; 403 for staff;
//! - `GET/POST /me/addresses`, `DELETE /me/addresses/{id}`: the address
//!   book; `POST /me/email` and `POST /email-confirmations`: a change of
//!   e-mail confirmed from the new address (see [`me`]);
//! - `POST /password-resets` `{email}` → 202, the same answer whether or not
//!   the address has an account; when it has, a link valid one hour is
//!   e-mailed (`accounts::reset`); 429 past [`rate_limit::RESETS_PER_ADDRESS`]
//!   or [`rate_limit::RESETS_PER_EMAIL`];
//! - `POST /staff` `{email,password,name,phone,role,pizzeria_id}` → 201
//!   `{"user"}`: a manager creates cashiers, pizzaiolos and couriers of their
//!   pizzeria; the admin creates managers and any staff anywhere;
//! - `GET /staff?pizzeria_id=` → `{"staff":[...]}` within the same scope;
//! - `POST /staff/{id}/deactivate` → `{"user"}`, inactive, its sessions
//!   ended; nobody deactivates themself, a manager only their own
//!   pizzeria's cashiers, pizzaiolos and couriers;
//! - `POST /staff/{id}/unlock` → `{"user","unlocked"}`: the account's
//!   sign-in lock and failures forgotten; a manager for their own
//!   pizzeria's cashiers, pizzaiolos and couriers, the admin for any account
//!   (customers too).
//!
//! Every route but sign-up and sign-in needs a session that is still valid
//! in the database ([`auth::authenticate`]). Deny by default.

pub mod me;

use chrono::{DateTime, Utc};
use http::{Method, StatusCode};
use ocpizza::identity::access::{self, Action};
use ocpizza::identity::accounts::{self, NewUser, User};
use ocpizza::identity::auth::{self, Caller};
use ocpizza::identity::role::Role;
use ocpizza::platform::http::{self as edge, ApiError, Cors, Request, Response};
use ocpizza::platform::ids::{PizzeriaId, UserId};
use ocpizza::platform::rate_limit;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::MySqlPool;

#[derive(Clone)]
pub struct State {
    pub pool: MySqlPool,
    pub cors: Cors,
    pub secret_key: SecretString,
}

/// The roles a manager may create and deactivate, in their own pizzeria.
const MANAGED_BY_MANAGER: &[Role] = &[Role::Cashier, Role::Pizzaiolo, Role::Courier];

pub async fn handle(state: &State, req: Request) -> Response {
    edge::serve(&state.cors, req, |req| route(state, req)).await
}

async fn route(state: &State, req: Request) -> Result<Response, ApiError> {
    let segments = edge::segments(&req);
    match (req.method(), segments.as_slice()) {
        (&Method::POST, ["accounts"]) => sign_up(state, &req).await,
        (&Method::POST, ["sessions"]) => sign_in(state, &req).await,
        (&Method::GET, ["me"]) => me(state, &req).await,
        (&Method::POST, ["me", "password"]) => change_password(state, &req).await,
        (&Method::GET, ["me", "export"]) => export(state, &req).await,
        (&Method::DELETE, ["me"]) => delete_account(state, &req).await,
        (&Method::PATCH, ["me"]) => update_profile(state, &req).await,
        (&Method::GET, ["me", "addresses"]) => me::list_addresses(state, &req).await,
        (&Method::POST, ["me", "addresses"]) => me::add_address(state, &req).await,
        (&Method::DELETE, ["me", "addresses", id]) => {
            me::delete_address(state, &req, edge::path_param(id, "address")?).await
        }
        (&Method::POST, ["me", "email"]) => me::change_email(state, &req).await,
        (&Method::POST, ["email-confirmations"]) => me::confirm_email(state, &req).await,
        (&Method::POST, ["password-links"]) => use_link(state, &req).await,
        (&Method::POST, ["password-resets"]) => forgotten_password(state, &req).await,
        (&Method::POST, ["staff"]) => create_staff(state, &req).await,
        (&Method::GET, ["staff"]) => list_staff(state, &req).await,
        (&Method::POST, ["staff", id, "deactivate"]) => {
            deactivate(state, &req, edge::path_param(id, "account")?).await
        }
        (&Method::POST, ["staff", id, "unlock"]) => {
            unlock(state, &req, edge::path_param(id, "account")?).await
        }
        (_, ["accounts" | "sessions"])
        | (_, ["me", "password"])
        | (_, ["staff", _, "deactivate" | "unlock"]) => Err(edge::no_route(&req, &[Method::POST])),
        (_, ["me"]) => Err(edge::no_route(
            &req,
            &[Method::GET, Method::PATCH, Method::DELETE],
        )),
        (_, ["me", "export"]) => Err(edge::no_route(&req, &[Method::GET])),
        (_, ["me", "addresses"]) => Err(edge::no_route(&req, &[Method::GET, Method::POST])),
        (_, ["me", "addresses", _]) => Err(edge::no_route(&req, &[Method::DELETE])),
        (_, ["me", "email"] | ["email-confirmations"]) => {
            Err(edge::no_route(&req, &[Method::POST]))
        }
        (_, ["password-links" | "password-resets"]) => Err(edge::no_route(&req, &[Method::POST])),
        (_, ["staff"]) => Err(edge::no_route(&req, &[Method::GET, Method::POST])),
        _ => Err(edge::no_route(&req, &[])),
    }
}

fn secret(state: &State) -> &[u8] {
    state.secret_key.expose_secret().as_bytes()
}

/// A caller whose session is still valid; 401 otherwise.
async fn signed_in(state: &State, req: &Request) -> Result<Caller, ApiError> {
    auth::require(
        &state.pool,
        req,
        &state.secret_key,
        "Sign in first: `Authorization: Bearer <token>`.",
    )
    .await
}

/// A manager or the admin; 401 or 403 for anyone else.
async fn staff_manager(state: &State, req: &Request) -> Result<Caller, ApiError> {
    let caller = signed_in(state, req).await?;
    access::check_role(Some(&caller), Action::ManageStaff)?;
    Ok(caller)
}

/// May `caller` (a manager or the admin) create, deactivate or unlock
/// (`action`) an account of `role` in `pizzeria`?
fn may_manage(
    caller: &Caller,
    action: Action,
    role: Role,
    pizzeria: Option<PizzeriaId>,
) -> Result<(), ApiError> {
    if caller.role == Role::Manager && !MANAGED_BY_MANAGER.contains(&role) {
        return Err(ApiError::forbidden(format!(
            "A manager manages cashiers, pizzaiolos and couriers only, not the {role} role."
        )));
    }
    match pizzeria {
        Some(pizzeria) => access::check(Some(caller), action, pizzeria).map(|_| ()),
        None if caller.role == Role::Admin => Ok(()),
        None => Err(ApiError::forbidden(
            "A manager manages the staff of their own pizzeria only.",
        )),
    }
}

/// A session as `POST /sessions` and a password change answer it.
#[derive(Serialize)]
struct Session {
    token: String,
    expires_at: DateTime<Utc>,
    user: User,
}

fn session_for(state: &State, user: User) -> Result<Response, ApiError> {
    let (token, expires_at) = auth::issue(
        secret(state),
        user.id,
        user.role,
        user.pizzeria_id,
        user.token_version,
        Utc::now(),
    )?;
    edge::json(
        StatusCode::OK,
        &Session {
            token,
            expires_at,
            user,
        },
    )
}

// No `Debug` on bodies that hold a password: they cannot end up in a log.
#[derive(Deserialize)]
struct SignUp {
    email: String,
    password: String,
    name: String,
    #[serde(default)]
    phone: Option<String>,
}

/// Counts a hit of the client's address against `limit` (429 past it). A
/// request without a known address (a test calling the handler directly)
/// is not counted.
async fn per_address(
    state: &State,
    req: &Request,
    limit: rate_limit::Limit,
    message: &str,
) -> Result<(), ApiError> {
    match edge::client_address(req) {
        Some(address) => {
            rate_limit::check(&mut *state.pool.acquire().await?, limit, &address, message).await
        }
        None => Ok(()),
    }
}

#[tracing::instrument(skip_all)]
async fn sign_up(state: &State, req: &Request) -> Result<Response, ApiError> {
    let body: SignUp = edge::parse_json(req)?;
    let new = NewUser::parse(
        &body.email,
        &body.password,
        &body.name,
        body.phone.as_deref(),
        Role::Customer,
        None,
    )?;
    // Counted once the account is well-formed, before its password is hashed.
    per_address(
        state,
        req,
        rate_limit::SIGN_UPS_PER_ADDRESS,
        "Trop de comptes créés depuis cette connexion : réessayez plus tard \
         (too many sign-ups from this address; try again later).",
    )
    .await?;
    let user = accounts::create(&state.pool, new).await?;
    tracing::info!(user_id = %user.id, "customer signed up");
    edge::json(StatusCode::CREATED, &json!({ "user": user }))
}

#[derive(Deserialize)]
struct SignIn {
    email: String,
    password: String,
}

#[tracing::instrument(skip_all)]
async fn sign_in(state: &State, req: &Request) -> Result<Response, ApiError> {
    let body: SignIn = edge::parse_json(req)?;
    // Whatever the e-mail: many addresses tried from one client.
    per_address(
        state,
        req,
        rate_limit::SIGN_INS_PER_ADDRESS,
        "Trop de tentatives de connexion depuis cette connexion : réessayez plus tard \
         (too many sign-in attempts from this address; try again later).",
    )
    .await?;
    let user = accounts::login(&state.pool, &body.email, &body.password).await?;
    tracing::info!(user_id = %user.id, role = %user.role, "signed in");
    session_for(state, user)
}

#[tracing::instrument(skip_all)]
async fn me(state: &State, req: &Request) -> Result<Response, ApiError> {
    let caller = signed_in(state, req).await?;
    let user = accounts::find(&state.pool, caller.user_id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("The session has ended; sign in again."))?;
    edge::json(StatusCode::OK, &json!({ "user": user }))
}

#[derive(Deserialize)]
struct PasswordChange {
    current_password: String,
    new_password: String,
}

#[tracing::instrument(skip_all)]
async fn change_password(state: &State, req: &Request) -> Result<Response, ApiError> {
    let caller = signed_in(state, req).await?;
    let body: PasswordChange = edge::parse_json(req)?;
    let user = accounts::change_password(
        &state.pool,
        caller.user_id,
        &body.current_password,
        &body.new_password,
    )
    .await?;
    tracing::info!(user_id = %user.id, "password changed; older sessions ended");
    session_for(state, user)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkUse {
    token: String,
    new_password: String,
}

/// A one-time link's password set (the first admin's, after a deploy), and
/// a session for the account: the link is the proof of who they are.
#[tracing::instrument(skip_all)]
async fn use_link(state: &State, req: &Request) -> Result<Response, ApiError> {
    let body: LinkUse = edge::parse_json(req)?;
    let user = accounts::links::set_password_with_link(
        &state.pool,
        &body.token,
        &body.new_password,
        Utc::now(),
    )
    .await?;
    tracing::info!(user_id = %user.id, "password set with a one-time link");
    session_for(state, user)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Profile {
    name: String,
    #[serde(default)]
    phone: Option<String>,
}

/// The signed-in person changes their name and phone number.
#[tracing::instrument(skip_all)]
async fn update_profile(state: &State, req: &Request) -> Result<Response, ApiError> {
    let caller = signed_in(state, req).await?;
    let body: Profile = edge::parse_json(req)?;
    let user = accounts::update_profile(
        &state.pool,
        caller.user_id,
        &body.name,
        body.phone.as_deref(),
    )
    .await?;
    tracing::info!(user_id = %user.id, "profile changed");
    edge::json(StatusCode::OK, &json!({ "user": user }))
}

/// A signed-in customer (staff accounts are their managers' to close).
pub(crate) async fn customer(state: &State, req: &Request) -> Result<Caller, ApiError> {
    let caller = signed_in(state, req).await?;
    if caller.role != Role::Customer {
        return Err(ApiError::forbidden(
            "Un compte du personnel est fermé par son gérant (a staff account is closed by its manager).",
        ));
    }
    Ok(caller)
}

/// A copy of everything kept about the signed-in customer, to download.
#[tracing::instrument(skip_all)]
async fn export(state: &State, req: &Request) -> Result<Response, ApiError> {
    let caller = customer(state, req).await?;
    let data = accounts::privacy::export(&state.pool, caller.user_id).await?;
    tracing::info!(user_id = %caller.user_id, "data exported");
    let mut response = edge::json(StatusCode::OK, &data)?;
    response.headers_mut().insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
    response.headers_mut().insert(
        http::header::CONTENT_DISPOSITION,
        http::HeaderValue::from_static("attachment; filename=\"mes-donnees-oc-pizza.json\""),
    );
    Ok(response)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Deletion {
    password: String,
}

/// Deletes the signed-in customer's account (their password again); orders
/// are kept for accounting without their personal data.
#[tracing::instrument(skip_all)]
async fn delete_account(state: &State, req: &Request) -> Result<Response, ApiError> {
    let caller = customer(state, req).await?;
    let body: Deletion = edge::parse_json(req)?;
    accounts::privacy::delete(&state.pool, caller.user_id, &body.password).await?;
    edge::json(
        StatusCode::OK,
        &json!({ "message": "Votre compte est supprimé. Vos commandes sont gardées pour la comptabilité, sans vos données personnelles." }),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResetAsked {
    email: String,
}

/// A forgotten password: a one-time link by e-mail when the address is an
/// active account's. The answer is the same either way, so nobody learns
/// who has an account here.
#[tracing::instrument(skip_all)]
async fn forgotten_password(state: &State, req: &Request) -> Result<Response, ApiError> {
    let body: ResetAsked = edge::parse_json(req)?;
    per_address(
        state,
        req,
        rate_limit::RESETS_PER_ADDRESS,
        "Trop de demandes depuis cette connexion : réessayez plus tard \
         (too many password resets asked from this address; try again later).",
    )
    .await?;
    let typed = accounts::normalise_email(&body.email);
    if typed.is_empty() || typed.len() > 254 {
        return Err(
            ApiError::unprocessable("Give the e-mail address of the account.").with(
                "errors",
                json!([{"field": "email", "message": "Give an e-mail address."}]),
            ),
        );
    }
    rate_limit::check(
        &mut *state.pool.acquire().await?,
        rate_limit::RESETS_PER_EMAIL,
        &typed,
        "Un lien vient déjà d'être envoyé plusieurs fois : regardez vos e-mails, ou réessayez dans une heure \
         (too many links asked for this address; try again later).",
    )
    .await?;
    if let Some(user) = accounts::reset::request(&state.pool, &typed, Utc::now()).await? {
        tracing::info!(user_id = %user, "password reset link queued");
    }
    edge::json(
        StatusCode::ACCEPTED,
        &json!({ "message": "Si un compte existe pour cette adresse, un lien pour choisir un nouveau \
                             mot de passe vient de lui être envoyé. Il est valable une heure." }),
    )
}

#[derive(Deserialize)]
struct NewStaff {
    email: String,
    password: String,
    name: String,
    #[serde(default)]
    phone: Option<String>,
    role: String,
    #[serde(default)]
    pizzeria_id: Option<PizzeriaId>,
}

#[tracing::instrument(skip_all)]
async fn create_staff(state: &State, req: &Request) -> Result<Response, ApiError> {
    let caller = staff_manager(state, req).await?;
    let body: NewStaff = edge::parse_json(req)?;
    let role = body
        .role
        .parse::<Role>()
        .ok()
        .filter(|r| r.is_pizzeria_staff())
        .ok_or_else(|| {
            let message = "`role` is one of cashier, pizzaiolo, courier, manager.";
            ApiError::unprocessable(message)
                .with("errors", [json!({"field": "role", "message": message})])
        })?;
    may_manage(&caller, Action::ManageStaff, role, body.pizzeria_id)?;
    let new = NewUser::parse(
        &body.email,
        &body.password,
        &body.name,
        body.phone.as_deref(),
        role,
        body.pizzeria_id,
    )?;
    let user = accounts::create(&state.pool, new).await?;
    tracing::info!(user_id = %user.id, role = %user.role, by = %caller.user_id, "staff account created");
    edge::json(StatusCode::CREATED, &json!({ "user": user }))
}

#[tracing::instrument(skip_all)]
async fn list_staff(state: &State, req: &Request) -> Result<Response, ApiError> {
    let caller = staff_manager(state, req).await?;
    let mut asked = None;
    for (key, value) in edge::query_pairs(req) {
        if key == "pizzeria_id" && !value.is_empty() {
            let id = value.parse::<PizzeriaId>().map_err(|_| {
                ApiError::unprocessable("`pizzeria_id` is a pizzeria's id, e.g. 1.")
            })?;
            asked = Some(id);
        }
    }
    let scope = match caller.role {
        Role::Admin => asked,
        _ => {
            if asked.is_some() && asked != caller.pizzeria_id {
                return Err(ApiError::forbidden(
                    "A manager sees the staff of their own pizzeria only.",
                ));
            }
            caller.pizzeria_id
        }
    };
    let staff = accounts::list_staff(&state.pool, scope).await?;
    edge::json(StatusCode::OK, &json!({ "staff": staff }))
}

#[tracing::instrument(skip_all, fields(user_id = %id))]
async fn deactivate(state: &State, req: &Request, id: UserId) -> Result<Response, ApiError> {
    let caller = staff_manager(state, req).await?;
    let target = accounts::find(&state.pool, id)
        .await?
        .filter(|u| u.role != Role::Customer)
        .ok_or_else(|| ApiError::not_found(format!("No staff account {id}.")))?;
    if target.id == caller.user_id {
        return Err(ApiError::forbidden(
            "You cannot deactivate your own account.",
        ));
    }
    may_manage(
        &caller,
        Action::ManageStaff,
        target.role,
        target.pizzeria_id,
    )?;
    if accounts::deactivate(&state.pool, id).await? {
        tracing::info!(by = %caller.user_id, "staff account deactivated; its sessions ended");
    }
    let user = accounts::find(&state.pool, id)
        .await?
        .ok_or_else(|| ApiError::internal("the account vanished"))?;
    edge::json(StatusCode::OK, &json!({ "user": user }))
}

#[tracing::instrument(skip_all, fields(user_id = %id))]
async fn unlock(state: &State, req: &Request, id: UserId) -> Result<Response, ApiError> {
    let caller = signed_in(state, req).await?;
    access::check_role(Some(&caller), Action::UnlockStaff)?;
    // The admin unlocks anyone; for a manager, customers are not staff.
    let target = accounts::find(&state.pool, id)
        .await?
        .filter(|u| caller.role == Role::Admin || u.role != Role::Customer)
        .ok_or_else(|| ApiError::not_found(format!("No staff account {id}.")))?;
    if caller.role != Role::Admin {
        may_manage(
            &caller,
            Action::UnlockStaff,
            target.role,
            target.pizzeria_id,
        )?;
    }
    let unlocked = accounts::unlock(&state.pool, id).await?;
    if unlocked {
        tracing::info!(by = %caller.user_id, "sign-in lock lifted");
    }
    edge::json(
        StatusCode::OK,
        &json!({ "user": target, "unlocked": unlocked }),
    )
}
