use lambda_http::{run, service_fn, Error, Request};
use ocpizza::platform::config::{var, Config};
use ocpizza::platform::http::Cors;

#[tokio::main]
async fn main() -> Result<(), Error> {
    ocpizza::platform::telemetry::init();
    // The pages need no secret: only where the functions, Stripe.js and the
    // product photos live, and Stripe.js's (public) key.
    let config = Config::load_or_exit(&[var::STRIPE_PUBLISHABLE_KEY, var::PHOTOS_URL]);
    let site = match storefront::Site::from_env(&config, |name| std::env::var(name).ok()) {
        Ok(site) => site,
        Err(reason) => {
            eprintln!("configuration error: {reason}");
            std::process::exit(78); // EX_CONFIG
        }
    };
    let state = storefront::State::new(site, Cors::new(&config.allowed_origins));
    run(service_fn(|req: Request| {
        let state = state.clone();
        async move { Ok::<_, Error>(storefront::handle(&state, req).await) }
    }))
    .await
}
