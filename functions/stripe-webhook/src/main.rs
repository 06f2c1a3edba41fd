use lambda_http::{run, service_fn, Error, Request};
use ocpizza::platform::config::{var, Config};

#[tokio::main]
async fn main() -> Result<(), Error> {
    ocpizza::platform::telemetry::init();
    // A settled payment places the order (`order.placed`, the kitchen's
    // queue); nothing here goes to the delivery queue.
    let config = Config::load_or_exit(&[
        var::DATABASE_URL,
        var::STRIPE_SECRET_KEY,
        var::STRIPE_WEBHOOK_SECRET,
        var::KITCHEN_QUEUE_URL,
    ]);
    let state = stripe_webhook::State::from_config(&config).await?;
    run(service_fn(|req: Request| {
        let state = state.clone();
        async move { Ok::<_, Error>(stripe_webhook::handle(&state, req).await) }
    }))
    .await
}
