use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use ocpizza::platform::config::{var, Config};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    ocpizza::platform::telemetry::init();
    // The sweep cancels unpaid orders and places late-paid ones: kitchen
    // events only.
    let config = Config::load_or_exit(&[
        var::DATABASE_URL,
        var::STRIPE_SECRET_KEY,
        var::KITCHEN_QUEUE_URL,
    ]);
    let state = expiry_sweep::State::from_config(&config).await?;
    run(service_fn(|_: LambdaEvent<Value>| {
        let state = state.clone();
        async move { Ok::<_, Error>(expiry_sweep::run_once(&state).await?) }
    }))
    .await
}
