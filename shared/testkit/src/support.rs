//! Test support shared by the functions' tests and benchmarks: fresh queues on
//! the real SQS-compatible server, the local configuration, small queries,
//! the checks every answer and the database must pass.

use ocpizza::platform::config::Config;
use ocpizza::platform::queue::{self, QueueName, Queues};
use sqlx::MySqlPool;
use std::time::Duration;

/// The local configuration, as `make test` exports it.
pub fn config() -> Config {
    let mut config = match Config::load(&[]) {
        Ok(config) => config,
        Err(err) => panic!("test configuration: {err}"),
    };
    if config.aws_endpoint_url.is_none() {
        config.aws_endpoint_url = Some("http://127.0.0.1:9324".into());
    }
    config
}

/// A kitchen and a delivery queue of this test's own (with their dead-letter
/// queues), so parallel tests never read each other's messages.
pub async fn fresh_queues() -> Queues {
    fresh_queues_with_visibility(queue::VISIBILITY_TIMEOUT_SECONDS).await
}

/// [`fresh_queues`] whose messages come back after `visibility_timeout_seconds`.
pub async fn fresh_queues_with_visibility(visibility_timeout_seconds: u32) -> Queues {
    let base = Queues::from_config(&config()).await;
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let kitchen = queue::create_with_visibility_timeout(
        base.client(),
        &format!("t-kitchen-{suffix}"),
        visibility_timeout_seconds,
    )
    .await
    .unwrap_or_else(|e| panic!("the SQS server must be running (make test starts it): {e}"));
    let delivery = queue::create_with_visibility_timeout(
        base.client(),
        &format!("t-delivery-{suffix}"),
        visibility_timeout_seconds,
    )
    .await
    .unwrap_or_else(|e| panic!("SQS: {e}"));
    Queues::new(base.client().clone(), kitchen, delivery)
}

/// A photos bucket of this test's own on the local S3 server (moto at
/// `AWS_ENDPOINT_URL`), which anyone may read, as CloudFront reads the real
/// one; and its public address (`PHOTOS_URL`), path-style.
pub async fn fresh_photos_bucket() -> (photos::Store, String) {
    let config = config();
    let endpoint = config.aws_endpoint_url.clone().unwrap_or_default();
    let shared = ocpizza::platform::aws::sdk_config(&config).await;
    let client = photos::store::client(&shared, true);
    let bucket = format!("t-photos-{}", uuid::Uuid::new_v4().simple());
    if let Err(e) = create_public_bucket(&client, &bucket).await {
        panic!("the S3 server must be running (make test starts moto, which serves S3 beside SQS): {e}");
    }
    let url = format!("{}/{bucket}", endpoint.trim_end_matches('/'));
    (photos::Store::new(client, &bucket), url)
}

/// Creates `bucket` with a policy letting anyone read its files (locally
/// only: production's bucket is private, read by CloudFront alone).
pub async fn create_public_bucket(client: &aws_sdk_s3::Client, bucket: &str) -> Result<(), String> {
    use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
    let region = client
        .config()
        .region()
        .map(|r| r.to_string())
        .unwrap_or_default();
    let mut create = client.create_bucket().bucket(bucket);
    if !region.is_empty() && region != "us-east-1" {
        create = create.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(region.as_str()))
                .build(),
        );
    }
    create
        .send()
        .await
        .map_err(|e| aws_sdk_s3::error::DisplayErrorContext(e).to_string())?;
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": format!("arn:aws:s3:::{bucket}/*"),
        }]
    });
    client
        .put_bucket_policy()
        .bucket(bucket)
        .policy(policy.to_string())
        .send()
        .await
        .map_err(|e| aws_sdk_s3::error::DisplayErrorContext(e).to_string())?;
    Ok(())
}

/// The keys in a bucket (all of them, in order).
pub async fn bucket_keys(store: &photos::Store) -> Vec<String> {
    let listed = store
        .client()
        .list_objects_v2()
        .bucket(store.bucket())
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "list {}: {}",
                store.bucket(),
                aws_sdk_s3::error::DisplayErrorContext(e)
            )
        });
    let mut keys: Vec<String> = listed
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect();
    keys.sort();
    keys
}

/// A PNG picture of `width` × `height` (a gradient, so that it compresses
/// as a photo would not, and a resize shows).
pub fn png(width: u32, height: u32) -> Vec<u8> {
    let picture = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([
            (x * 255 / width.max(1)) as u8,
            (y * 255 / height.max(1)) as u8,
            90,
        ])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    if let Err(e) = picture.write_to(&mut out, image::ImageFormat::Png) {
        panic!("PNG in memory: {e}");
    }
    out.into_inner()
}

/// Queues whose server does not answer: what the request path sees when SQS is down.
pub async fn unreachable_queues() -> Queues {
    let mut config = config();
    config.aws_endpoint_url = Some("http://127.0.0.1:9".into());
    let base = Queues::from_config(&config).await;
    Queues::new(
        base.client().clone(),
        "http://127.0.0.1:9/123456789012/down-kitchen".into(),
        "http://127.0.0.1:9/123456789012/down-delivery".into(),
    )
}

/// Receives and deletes everything on a queue until it stays empty for `quiet`.
pub async fn drain(queues: &Queues, queue: QueueName, quiet: Duration) -> Vec<queue::Envelope> {
    let mut all = Vec::new();
    loop {
        let batch = match queues.receive(queue, 10, quiet).await {
            Ok(batch) => batch,
            Err(e) => panic!("receive: {e}"),
        };
        if batch.is_empty() {
            return all;
        }
        let handles: Vec<&str> = batch.iter().map(|m| m.receipt_handle.as_str()).collect();
        if let Err(e) = queues.delete(queue, &handles).await {
            panic!("delete: {e}");
        }
        all.extend(
            batch
                .iter()
                .filter_map(|m| queue::Envelope::parse(&m.body).ok()),
        );
    }
}

/// One number from a query, e.g. a `COUNT(*)` or a `SUM` (cast to an integer).
pub async fn scalar(pool: &MySqlPool, sql: &str) -> i64 {
    let sql = format!("SELECT CAST(({sql}) AS SIGNED)");
    match sqlx::query_as::<_, (i64,)>(&sql).fetch_one(pool).await {
        Ok((n,)) => n,
        Err(e) => panic!("{sql}: {e}"),
    }
}

/// Rows of the stock ledger that disagree with the stock levels (0 when consistent).
pub async fn ledger_mismatches(pool: &MySqlPool) -> i64 {
    scalar(
        pool,
        "SELECT COUNT(*) FROM stock s LEFT JOIN ( \
            SELECT pizzeria_id, ingredient_id, SUM(on_hand_delta) AS on_hand, SUM(reserved_delta) AS reserved \
            FROM stock_movements GROUP BY pizzeria_id, ingredient_id) m \
         ON m.pizzeria_id = s.pizzeria_id AND m.ingredient_id = s.ingredient_id \
         WHERE COALESCE(m.on_hand, 0) <> s.on_hand OR COALESCE(m.reserved, 0) <> s.reserved \
            OR s.reserved < 0 OR s.on_hand < 0",
    )
    .await
}

/// Orders missing what their transaction always writes with them: a line and
/// a status history row (0 when nothing was left half-written).
pub async fn incomplete_orders(pool: &MySqlPool) -> i64 {
    scalar(
        pool,
        "SELECT COUNT(*) FROM orders o \
         WHERE NOT EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = o.id) \
            OR NOT EXISTS (SELECT 1 FROM order_status_history h WHERE h.order_id = o.id)",
    )
    .await
}

/// The reconciliation check ([`ocpizza::reporting::audit`]) must find nothing; fails
/// with every finding otherwise. Returns the number of orders checked.
pub async fn assert_reconciled(pool: &MySqlPool, scope: ocpizza::reporting::audit::Scope) -> i64 {
    let findings = match ocpizza::reporting::audit::audit(pool, scope).await {
        Ok(findings) => findings,
        Err(e) => panic!("audit: {e}"),
    };
    let report: Vec<String> = findings.iter().map(ToString::to_string).collect();
    assert!(
        report.is_empty(),
        "the reconciliation check found {} disagreements:\n{}",
        report.len(),
        report.join("\n")
    );
    scalar(pool, "SELECT COUNT(*) FROM orders").await
}

/// What is wrong with an answer by the rule of the HTTP edge, if anything:
/// never a 5xx, and a 4xx is an RFC 9457 `application/problem+json` with a
/// `type`, a `title`, the answer's `status` and a `detail`.
pub fn problem_violation(response: &ocpizza::platform::http::Response) -> Option<String> {
    let status = response.status();
    let body = String::from_utf8_lossy(response.body().as_ref()).into_owned();
    if status.is_server_error() {
        return Some(format!("answered {status}: {body}"));
    }
    if !status.is_client_error() {
        return None;
    }
    let content_type = response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if content_type != ocpizza::platform::http::PROBLEM_JSON {
        return Some(format!(
            "{status} as {content_type:?}, not a problem: {body}"
        ));
    }
    let problem: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    let text = |field: &str| problem[field].as_str().is_some_and(|t| !t.is_empty());
    if !(text("type") && text("title") && text("detail"))
        || problem["status"].as_u64() != Some(u64::from(status.as_u16()))
    {
        return Some(format!(
            "{status}: the problem lacks type, title, status or detail: {body}"
        ));
    }
    None
}

/// Panics unless the answer is a 4xx problem as [`problem_violation`] wants it.
pub fn assert_problem(response: &ocpizza::platform::http::Response) {
    if let Some(why) = problem_violation(response) {
        panic!("{why}");
    }
    let status = response.status();
    if !status.is_client_error() {
        panic!(
            "answered {status}, not a problem: {}",
            String::from_utf8_lossy(response.body().as_ref())
        );
    }
}

/// A request as a function URL delivers it: JSON body, optional bearer token.
pub fn request(
    method: &str,
    uri: &str,
    body: Option<serde_json::Value>,
    bearer: Option<&str>,
) -> ocpizza::platform::http::Request {
    let mut builder = http::Request::builder()
        .method(method)
        .uri(uri)
        .header(http::header::CONTENT_TYPE, "application/json");
    if let Some(token) = bearer {
        builder = builder.header(http::header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let body = body
        .map(|v| lambda_http::Body::Text(v.to_string()))
        .unwrap_or(lambda_http::Body::Empty);
    match builder.body(body) {
        Ok(req) => req,
        Err(e) => panic!("request {method} {uri}: {e}"),
    }
}

/// A request with a binary body (a photo), as a function URL delivers it
/// once decoded: `Body::Binary`, with its content type.
pub fn binary_request(
    method: &str,
    uri: &str,
    content_type: &str,
    bytes: Vec<u8>,
    bearer: Option<&str>,
) -> ocpizza::platform::http::Request {
    let mut builder = http::Request::builder()
        .method(method)
        .uri(uri)
        .header(http::header::CONTENT_TYPE, content_type);
    if let Some(token) = bearer {
        builder = builder.header(http::header::AUTHORIZATION, format!("Bearer {token}"));
    }
    match builder.body(lambda_http::Body::Binary(bytes)) {
        Ok(req) => req,
        Err(e) => panic!("request {method} {uri}: {e}"),
    }
}

/// A response's JSON body (`null` when empty or not JSON).
pub fn json_of(response: &ocpizza::platform::http::Response) -> serde_json::Value {
    serde_json::from_slice(response.body().as_ref()).unwrap_or(serde_json::Value::Null)
}

/// A bearer token for a demo account, signed with `secret`.
pub async fn token_for(pool: &MySqlPool, secret: &str, email: &str) -> String {
    let now = chrono::Utc::now();
    match ocpizza::identity::auth::token_for_email(pool, secret.as_bytes(), email, now).await {
        Ok((token, _)) => token,
        Err(e) => panic!("token for {email}: {e}"),
    }
}

/// Waits up to `limit` for `check` to hold, polling every 50 ms; false if it never did.
pub async fn eventually<F, Fut>(limit: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// For benchmarks: pizzerias 1 to 5 open around the clock with plenty of
/// every ingredient, written through the ledger so it stays consistent.
pub async fn open_all_day_with_plenty_of_stock(pool: &MySqlPool) {
    if let Err(e) = ocpizza::samples::open_all_day_with_plenty_of_stock(pool).await {
        panic!("benchmark stock: {e}");
    }
}

/// The request as a function URL delivers it from the client at `ip` (its
/// request context's source address), for the limits per client address.
pub fn from_client(
    req: ocpizza::platform::http::Request,
    ip: &str,
) -> ocpizza::platform::http::Request {
    use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
    use lambda_http::request::RequestContext;
    use lambda_http::RequestExt;
    let mut context = ApiGatewayV2httpRequestContext::default();
    context.http.source_ip = Some(ip.to_owned());
    req.with_request_context(RequestContext::ApiGatewayV2(context))
}

/// The fields a 422 problem names in its `errors`, in order.
pub fn field_errors(problem: &serde_json::Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|all| {
            all.iter()
                .filter_map(|e| e["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// CPU time used so far, user and system, in seconds, by this process and by
/// the database server when it runs on this machine (`None` when its process
/// cannot be read: another host, or another user's). A benchmark takes both
/// before and after a run: CPU per request does not move with how fast the
/// machine happens to be that minute, where a rate does.
pub async fn cpu_seconds(pool: &MySqlPool) -> (f64, Option<f64>) {
    let server = match sqlx::query_as::<_, (String,)>("SELECT @@pid_file")
        .fetch_one(pool)
        .await
    {
        Ok((file,)) => std::fs::read_to_string(file)
            .ok()
            .and_then(|pid| process_cpu_seconds(pid.trim())),
        Err(_) => None,
    };
    (process_cpu_seconds("self").unwrap_or_default(), server)
}

/// `/proc/<pid>/stat`'s `utime` and `stime` (fields 14 and 15, after the
/// command's name in parentheses), in clock ticks of 1/100 s (Linux's
/// `USER_HZ` on x86_64 and arm64).
fn process_cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<f64>().ok();
    Some((ticks(11)? + ticks(12)?) / 100.0)
}
