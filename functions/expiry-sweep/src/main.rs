use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use ocpizza::platform::config::var;
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    ocpizza::platform::telemetry::init();
    // The sweep cancels unpaid orders and places late-paid ones: kitchen
    // events only.
    let state = expiry_sweep::State::load(&[var::KITCHEN_QUEUE_URL]).await?;
    run(service_fn(|_: LambdaEvent<Value>| {
        let state = state.clone();
        async move { Ok::<_, Error>(expiry_sweep::run_once(&state).await?) }
    }))
    .await
}
