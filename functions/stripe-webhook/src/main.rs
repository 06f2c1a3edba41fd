use lambda_http::{run, service_fn, Error, Request};
use ocpizza::platform::config::var;

#[tokio::main]
async fn main() -> Result<(), Error> {
    ocpizza::platform::telemetry::init();
    // A settled payment places the order (`order.placed`, the kitchen's
    // queue); nothing here goes to the delivery queue.
    let state =
        stripe_webhook::State::load(&[var::STRIPE_WEBHOOK_SECRET, var::KITCHEN_QUEUE_URL]).await?;
    run(service_fn(|req: Request| {
        let state = state.clone();
        async move { Ok::<_, Error>(stripe_webhook::handle(&state, req).await) }
    }))
    .await
}
