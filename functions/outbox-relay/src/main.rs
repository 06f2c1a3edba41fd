use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use ocpizza::platform::config::{var, Config};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    ocpizza::platform::telemetry::init();
    let config = Config::load_or_exit(&[
        var::DATABASE_URL,
        var::KITCHEN_QUEUE_URL,
        var::DELIVERY_QUEUE_URL,
    ]);
    let state = outbox_relay::State {
        pool: ocpizza::platform::db::connect_lazy(&config)?,
        queues: ocpizza::platform::queue::Queues::from_config(&config).await,
        clock: ocpizza::platform::clock::Clock::System,
    };
    run(service_fn(|_: LambdaEvent<Value>| {
        let state = state.clone();
        async move { Ok::<_, Error>(outbox_relay::run_once(&state, outbox_relay::MIN_AGE_MS).await?) }
    }))
    .await
}
