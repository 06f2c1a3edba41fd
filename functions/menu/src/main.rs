use lambda_http::{run, service_fn, Error, Request};
use ocpizza::platform::config::{var, Config};
use ocpizza::platform::http::Cors;

#[tokio::main]
async fn main() -> Result<(), Error> {
    ocpizza::platform::telemetry::init();
    let config = Config::load_or_exit(&[var::DATABASE_URL, var::PHOTOS_URL]);
    let mut state = menu::State::new(
        ocpizza::platform::db::connect_lazy(&config)?,
        Cors::new(&config.allowed_origins),
    );
    state.photos_url = config.photos_url.clone();
    run(service_fn(|req: Request| {
        let state = state.clone();
        async move { Ok::<_, Error>(menu::handle(&state, req).await) }
    }))
    .await
}
