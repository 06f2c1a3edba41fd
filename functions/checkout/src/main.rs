use lambda_http::{run, service_fn, Error, Request};
use ocpizza::platform::config::{var, Config};

#[tokio::main]
async fn main() -> Result<(), Error> {
    ocpizza::platform::telemetry::init();
    // Nearly every request parses a phone number: its rules are compiled
    // while the rest starts, not in the first order's time.
    ocpizza::platform::phone::warm_up();
    // Checkout's events (`order.placed`, `order.payment_due`) all go to the
    // kitchen's queue; it never sends to the delivery queue.
    let config = Config::load_or_exit(&[
        var::DATABASE_URL,
        var::SECRET_KEY,
        var::STRIPE_SECRET_KEY,
        var::STRIPE_PUBLISHABLE_KEY,
        var::GOOGLE_MAP_API_KEY,
        var::KITCHEN_QUEUE_URL,
    ]);
    let payment_timeout = std::env::var("PAYMENT_TIMEOUT_MINUTES")
        .ok()
        .and_then(|m| m.parse::<i64>().ok())
        .filter(|m| (1..=120).contains(m))
        .unwrap_or(15);
    let pool = ocpizza::platform::db::connect_lazy(&config)?;
    let queues = ocpizza::platform::queue::Queues::from_config(&config).await;
    let mut state = checkout::State::new(pool, &config, queues)?;
    state.payment_timeout = chrono::Duration::minutes(payment_timeout);
    state.send_after_commit = std::env::var("OUTBOX_SEND_AFTER_COMMIT").as_deref() != Ok("false");
    run(service_fn(|req: Request| {
        let state = state.clone();
        async move { Ok::<_, Error>(checkout::handle(&state, req).await) }
    }))
    .await
}
