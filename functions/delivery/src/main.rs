use lambda_http::Error;
use ocpizza::config::{var, Config};
use ocpizza::http::Cors;

#[tokio::main]
async fn main() -> Result<(), Error> {
    ocpizza::telemetry::init();
    let config = Config::load_or_exit(&[
        var::DATABASE_URL,
        var::SECRET_KEY,
        var::KITCHEN_QUEUE_URL,
        var::DELIVERY_QUEUE_URL,
    ]);
    let state = delivery::State {
        pool: ocpizza::db::connect_lazy(&config)?,
        cors: Cors::new(&config.allowed_origins),
        queues: ocpizza::queue::Queues::from_config(&config).await,
        secret_key: config.secret_key.clone(),
    };
    let sqs_state = state.clone();
    ocpizza::lambda::run_http_and_sqs(
        move |req| {
            let state = state.clone();
            async move { delivery::handle(&state, req).await }
        },
        |batch| delivery::consume(&sqs_state, batch),
    )
    .await
}
