use lambda_http::Error;
use ocpizza::platform::config::{var, Config};

#[tokio::main]
async fn main() -> Result<(), Error> {
    ocpizza::platform::telemetry::init();
    // The delivery queue reaches this function through its event source
    // mapping, and its changes (out for delivery, delivered) send no event:
    // it needs no queue URL. Should one ever be sent, the send fails, is
    // logged, and outbox-relay sends it from the outbox.
    let config = Config::load_or_exit(&[var::DATABASE_URL, var::SECRET_KEY]);
    let state = delivery::State::from_config(&config).await?;
    let sqs_state = state.clone();
    ocpizza::platform::lambda::run_http_and_sqs(
        move |req| {
            let state = state.clone();
            async move { delivery::handle(&state, req).await }
        },
        |batch| delivery::consume(&sqs_state, batch),
    )
    .await
}
