use lambda_http::{run, service_fn, Error, Request};
use ocpizza::platform::config::{var, Config};
use ocpizza::platform::http::Cors;

#[tokio::main]
async fn main() -> Result<(), Error> {
    ocpizza::platform::telemetry::init();
    // The changes made here (placed, payment due, cancelled, picked up,
    // delivered) send only kitchen events; `order.ready`, the delivery
    // queue's only event, is the kitchen's.
    let config = Config::load_or_exit(&[
        var::DATABASE_URL,
        var::SECRET_KEY,
        var::STRIPE_SECRET_KEY,
        var::KITCHEN_QUEUE_URL,
    ]);
    let state = orders::State {
        pool: ocpizza::platform::db::connect_lazy(&config)?,
        cors: Cors::new(&config.allowed_origins),
        queues: ocpizza::platform::queue::Queues::from_config(&config).await,
        stripe: ocpizza::payment::Stripe::from_config(&config)?,
        secret_key: config.secret_key.clone(),
        clock: ocpizza::platform::clock::Clock::System,
    };
    run(service_fn(|req: Request| {
        let state = state.clone();
        async move { Ok::<_, Error>(orders::handle(&state, req).await) }
    }))
    .await
}
