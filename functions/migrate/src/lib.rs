//! The migrate function: the deploy's migration step. Invoked once per deploy
//! (`infra/README.md`, Update), before the new code takes traffic; it applies
//! the migrations of `migrations/` that the database does not have yet and
//! says which. Migrations are forward-compatible, so the code already running
//! keeps working on the migrated schema.
//!
//! Invoked with `{"bootstrap": {"admin_email": "…", "name": "…", "site_url": "https://…"}}`, it
//! creates the first admin of a new deployment instead (refused once an
//! admin exists) and answers the one-time link that sets their password:
//! `infra/README.md`, "Opening the first pizzeria".

use ocpizza::platform::db;
use serde_json::{json, Value};
use sqlx::MySqlPool;

/// Applies what is missing; answers `{"applied": [versions], "latest": v}`.
pub async fn run(pool: &MySqlPool) -> Result<Value, sqlx::migrate::MigrateError> {
    let before = db::applied_migrations(pool).await?;
    db::MIGRATOR.run(pool).await?;
    // E-mails stored before they were normalised in Rust (NFC cannot be done
    // in SQL): idempotent, a no-op once done.
    let normalised = ocpizza::identity::accounts::normalise_stored_emails(pool)
        .await
        .map_err(sqlx::migrate::MigrateError::from)?;
    if normalised > 0 {
        tracing::info!(normalised, "stored e-mails normalised");
    }
    let after = db::applied_migrations(pool).await?;
    let new: Vec<i64> = after
        .iter()
        .copied()
        .filter(|v| !before.contains(v))
        .collect();
    tracing::info!(applied = ?new, latest = ?after.last(), "migrations done");
    Ok(json!({ "applied": new, "latest": after.last() }))
}

/// The first admin, as asked by `{"bootstrap": {...}}`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BootstrapRequest {
    pub admin_email: String,
    #[serde(default)]
    pub name: Option<String>,
    /// The site's address (the stack's `SiteUrl` output), which the link
    /// starts with; the function's own `SITE_URL` otherwise. (The template
    /// cannot give this function the distribution's domain: the
    /// distribution depends on the functions, which wait for the migration.)
    #[serde(default)]
    pub site_url: Option<String>,
}

impl BootstrapRequest {
    /// The request, when the event is one (an error when it is one that
    /// does not read).
    pub fn from_event(event: &Value) -> Option<Result<BootstrapRequest, serde_json::Error>> {
        event
            .get("bootstrap")
            .map(|asked| serde_json::from_value(asked.clone()))
    }
}

/// Creates the first admin; answers `{"admin": email, "link", "expires_at"}`.
pub async fn bootstrap(
    pool: &MySqlPool,
    request: &BootstrapRequest,
    site_url: &str,
) -> Result<Value, ocpizza::identity::accounts::links::BootstrapError> {
    let made = ocpizza::identity::accounts::links::bootstrap_admin(
        pool,
        &request.admin_email,
        request.name.as_deref().unwrap_or("Administrateur"),
        request.site_url.as_deref().unwrap_or(site_url),
        chrono::Utc::now(),
    )
    .await?;
    tracing::info!(user_id = %made.user.id, "first admin created");
    Ok(json!({
        "admin": made.user.email,
        "link": made.link,
        "expires_at": made.expires_at,
    }))
}

/// A CloudFormation custom resource request: the template runs the
/// migrations as a resource every function depends on, so a deploy migrates
/// before any new code takes traffic, and a failed migration fails (and rolls
/// back) the deploy.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CustomResource {
    pub request_type: String,
    #[serde(rename = "ResponseURL")]
    pub response_url: String,
    pub stack_id: String,
    pub request_id: String,
    pub logical_resource_id: String,
}

impl CustomResource {
    /// The request, when the event is one.
    pub fn from_event(event: &Value) -> Option<CustomResource> {
        event.get("ResponseURL")?;
        serde_json::from_value(event.clone()).ok()
    }

    /// CloudFormation's answer document: `SUCCESS` with the migrations
    /// applied, or `FAILED` with the reason (which the stack events show).
    pub fn answer(&self, outcome: &Result<Value, String>) -> Value {
        let (status, reason, data) = match outcome {
            Ok(data) => ("SUCCESS", "migrated".to_owned(), data.clone()),
            Err(err) => ("FAILED", format!("migration failed: {err}"), json!({})),
        };
        json!({
            "Status": status,
            "Reason": reason,
            "PhysicalResourceId": "ocpizza-database-migrations",
            "StackId": self.stack_id,
            "RequestId": self.request_id,
            "LogicalResourceId": self.logical_resource_id,
            "Data": { "Latest": data.get("latest").cloned().unwrap_or(Value::Null) },
        })
    }

    /// Puts the answer to CloudFormation's presigned URL.
    pub async fn respond(
        &self,
        http: &reqwest::Client,
        outcome: Result<Value, String>,
    ) -> Result<(), reqwest::Error> {
        let body = self.answer(&outcome).to_string();
        http.put(&self.response_url)
            .header("content-type", "")
            .body(body)
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloudformation_requests_are_told_from_manual_invocations() {
        let event = json!({
            "RequestType": "Update", "ResponseURL": "https://cfn.example/put",
            "StackId": "arn:aws:cloudformation:eu-west-3:1:stack/ocpizza/1", "RequestId": "r-1",
            "LogicalResourceId": "DatabaseMigration", "ResourceType": "Custom::Migration"
        });
        let request = CustomResource::from_event(&event).expect("a custom resource request");
        assert_eq!(request.request_type, "Update");
        assert!(CustomResource::from_event(&json!({})).is_none());

        let ok = request.answer(&Ok(json!({"applied": [1], "latest": 20261129001000_i64})));
        assert_eq!(ok["Status"], "SUCCESS");
        assert_eq!(ok["RequestId"], "r-1");
        assert_eq!(ok["Data"]["Latest"], 20261129001000_i64);
        let failed = request.answer(&Err("lock wait timeout".into()));
        assert_eq!(failed["Status"], "FAILED");
        assert!(failed["Reason"]
            .as_str()
            .unwrap()
            .contains("lock wait timeout"));
    }
}
