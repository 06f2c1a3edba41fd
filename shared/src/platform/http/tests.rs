//! The tests of `http`.

use super::*;

fn body_json(response: &Response) -> Value {
    serde_json::from_slice(response.body().as_ref()).unwrap()
}

#[test]
fn problem_is_rfc9457_with_extensions() {
    let response = ApiError::conflict("out-of-stock", "Out of stock", "2 pizzas are short")
        .with("products", json!([{"product_id": 3, "max_quantity": 1}]))
        .to_response("req-1");
    assert_eq!(response.status(), 409);
    assert_eq!(response.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
    let body = body_json(&response);
    assert_eq!(body["type"], "/problems/out-of-stock");
    assert_eq!(body["status"], 409);
    assert_eq!(body["detail"], "2 pizzas are short");
    assert_eq!(body["products"][0]["max_quantity"], 1);
    assert_eq!(body["request_id"], "req-1");
}

#[test]
fn internal_errors_are_not_shown() {
    let response = ApiError::internal("password=hunter2 in SQL").to_response("req-2");
    assert_eq!(response.status(), 500);
    let text = String::from_utf8_lossy(response.body().as_ref()).to_string();
    assert!(!text.contains("hunter2"));
    assert!(text.contains("req-2"));
}

#[test]
fn unreachable_database_is_a_503() {
    let err: ApiError = sqlx::Error::PoolTimedOut.into();
    let response = err.to_response("r");
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()[header::RETRY_AFTER], "2");
}

fn request(body: &str, content_type: Option<&str>) -> Request {
    let mut b = http::Request::builder().method("POST").uri("/x");
    if let Some(ct) = content_type {
        b = b.header(header::CONTENT_TYPE, ct);
    }
    b.body(Body::Text(body.to_owned())).unwrap()
}

#[test]
fn parse_json_refuses_clearly() {
    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct In {
        quantity: u32,
    }
    let ok: In = parse_json(&request(r#"{"quantity": 2}"#, Some("application/json"))).unwrap();
    assert_eq!(ok.quantity, 2);
    for (body, ct, status) in [
        ("{", Some("application/json"), 422),
        (r#"{"quantity": -1}"#, None, 422),
        (r#"{"quantity": "2"}"#, None, 422),
        ("", None, 422),
        (r#"{"quantity": 2}"#, Some("text/plain"), 415),
    ] {
        let err = parse_json::<In>(&request(body, ct)).unwrap_err();
        assert_eq!(err.status(), status, "{body:?}");
    }
    let huge = format!(
        r#"{{"quantity": 2, "pad": "{}"}}"#,
        "x".repeat(MAX_BODY_BYTES)
    );
    assert_eq!(
        parse_json::<In>(&request(&huge, None))
            .unwrap_err()
            .status(),
        413
    );
}

#[test]
fn etag_turns_a_repeat_into_a_304() {
    let value = json!({"a": 1});
    let first = json_with_etag(&request("", None), &value).unwrap();
    assert_eq!(first.status(), 200);
    let etag = first.headers()[header::ETAG].to_str().unwrap().to_owned();
    let mut again = request("", None);
    again
        .headers_mut()
        .insert(header::IF_NONE_MATCH, HeaderValue::from_str(&etag).unwrap());
    let second = json_with_etag(&again, &value).unwrap();
    assert_eq!(second.status(), 304);
    assert!(second.body().is_empty());
    let changed = json_with_etag(&again, &json!({"a": 2})).unwrap();
    assert_eq!(changed.status(), 200);
}

#[tokio::test]
async fn serve_adds_cors_for_allowed_origins_only() {
    let cors = Cors::new(&["http://localhost:9000".to_owned()]);
    for (origin, expect) in [
        ("http://localhost:9000", true),
        ("http://evil.example", false),
    ] {
        let mut req = request("", None);
        req.headers_mut()
            .insert(header::ORIGIN, HeaderValue::from_static(origin));
        let response = serve(&cors, req, |_| async { json(StatusCode::OK, &json!({})) }).await;
        assert_eq!(
            response
                .headers()
                .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN),
            expect
        );
        assert!(response.headers().contains_key(REQUEST_ID));
    }
}

#[tokio::test]
async fn serve_turns_errors_into_problems() {
    let response = serve(&Cors::default(), request("", None), |_| async {
        Err::<Response, _>(ApiError::not_found("No pizzeria with id 99."))
    })
    .await;
    assert_eq!(response.status(), 404);
    assert_eq!(body_json(&response)["detail"], "No pizzeria with id 99.");
}
