use lambda_http::Error;
use ocpizza::platform::config::{var, Config};

#[tokio::main]
async fn main() -> Result<(), Error> {
    ocpizza::platform::telemetry::init();
    // The kitchen's queue reaches this function through its event source
    // mapping (no URL needed); it sends `order.ready` to the delivery queue.
    let config =
        Config::load_or_exit(&[var::DATABASE_URL, var::SECRET_KEY, var::DELIVERY_QUEUE_URL]);
    let state = kitchen::State::from_config(&config).await?;
    let sqs_state = state.clone();
    ocpizza::platform::lambda::run_http_and_sqs(
        move |req| {
            let state = state.clone();
            async move { kitchen::handle(&state, req).await }
        },
        |batch| kitchen::consume(&sqs_state, batch),
    )
    .await
}
