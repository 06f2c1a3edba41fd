use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use ocpizza::platform::config::{var, Config};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    ocpizza::platform::telemetry::init();
    let config = Config::load_or_exit(&[var::DATABASE_URL]);
    let site_url = config.site_url.clone();
    let pool = ocpizza::platform::db::connect_lazy(&config)?;
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()?;
    run(service_fn(|event: LambdaEvent<Value>| {
        let (pool, http, site_url) = (pool.clone(), http.clone(), site_url.clone());
        async move {
            match migrate::CustomResource::from_event(&event.payload) {
                // Run by CloudFormation during the deploy, before the functions.
                Some(request) => {
                    let outcome = match request.request_type.as_str() {
                        "Delete" => Ok(serde_json::json!({})),
                        _ => migrate::run(&pool).await.map_err(|e| e.to_string()),
                    };
                    request.respond(&http, outcome).await?;
                    Ok::<Value, Error>(Value::Null)
                }
                // Invoked by hand (`aws lambda invoke`): the first admin, or
                // the migrations again.
                None => match migrate::BootstrapRequest::from_event(&event.payload) {
                    Some(request) => Ok(migrate::bootstrap(&pool, &request?, &site_url).await?),
                    None => Ok(migrate::run(&pool).await?),
                },
            }
        }
    }))
    .await
}
