use lambda_http::Error;
use ocpizza::platform::config::{var, Config};
use ocpizza::platform::http::Cors;

#[tokio::main]
async fn main() -> Result<(), Error> {
    ocpizza::platform::telemetry::init();
    // The kitchen's queue reaches this function through its event source
    // mapping (no URL needed); it sends `order.ready` to the delivery queue.
    let config =
        Config::load_or_exit(&[var::DATABASE_URL, var::SECRET_KEY, var::DELIVERY_QUEUE_URL]);
    let state = kitchen::State {
        pool: ocpizza::platform::db::connect_lazy(&config)?,
        cors: Cors::new(&config.allowed_origins),
        queues: ocpizza::platform::queue::Queues::from_config(&config).await,
        secret_key: config.secret_key.clone(),
    };
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
