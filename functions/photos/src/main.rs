use lambda_http::{run, service_fn, Error, Request};
use ocpizza::platform::config::{var, Config};
use ocpizza::platform::http::Cors;

#[tokio::main]
async fn main() -> Result<(), Error> {
    ocpizza::platform::telemetry::init();
    let config = Config::load_or_exit(&[
        var::DATABASE_URL,
        var::SECRET_KEY,
        var::PHOTOS_BUCKET,
        var::PHOTOS_URL,
    ]);
    let state = photos::State {
        pool: ocpizza::platform::db::connect_lazy(&config)?,
        cors: Cors::new(&config.allowed_origins),
        secret_key: config.secret_key.clone(),
        store: photos::Store::from_config(&config).await,
        photos_url: config.photos_url.clone(),
    };
    run(service_fn(|req: Request| {
        let state = state.clone();
        async move { Ok::<_, Error>(photos::handle(&state, req).await) }
    }))
    .await
}
