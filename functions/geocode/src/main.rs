use lambda_http::{run, service_fn, Error, Request};
use ocpizza::delivery::geo::Geocoder;
use ocpizza::platform::clock::Clock;
use ocpizza::platform::config::{var, Config};
use ocpizza::platform::http::Cors;

#[tokio::main]
async fn main() -> Result<(), Error> {
    ocpizza::platform::telemetry::init();
    // The required list binds only with ENV=PRODUCTION, where demo addresses
    // would refuse every real customer. Locally the key is optional: without
    // it the demo addresses answer, and every answer says so
    // (`"source": "demo_addresses"`).
    let config = Config::load_or_exit(&[var::DATABASE_URL, var::GOOGLE_MAP_API_KEY]);
    let geocoder = Geocoder::from_config(&config);
    if geocoder.is_offline() {
        tracing::warn!(
            "GOOGLE_MAP_API_KEY is unset: only the demo addresses of samples/ are known"
        );
    }
    let state = geocode::State {
        pool: ocpizza::platform::db::connect_lazy(&config)?,
        cors: Cors::new(&config.allowed_origins),
        geocoder,
        clock: Clock::System,
    };
    run(service_fn(|req: Request| {
        let state = state.clone();
        async move { Ok::<_, Error>(geocode::handle(&state, req).await) }
    }))
    .await
}
