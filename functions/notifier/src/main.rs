use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use ocpizza::order::notify::Mailer;
use ocpizza::platform::config::{var, Config};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    ocpizza::platform::telemetry::init();
    let config = Config::load_or_exit(&[
        var::DATABASE_URL,
        var::SMTP_URL,
        var::SMTP_FROM,
        var::SITE_URL,
    ]);
    let state = notifier::State {
        pool: ocpizza::platform::db::connect_lazy(&config)?,
        mailer: Mailer::from_config(&config)?,
    };
    run(service_fn(|_: LambdaEvent<Value>| {
        let state = state.clone();
        async move { Ok::<_, Error>(serde_json::to_value(notifier::run_once(&state).await?)?) }
    }))
    .await
}
