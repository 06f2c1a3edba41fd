//! What the storefront serves, through its handler: every page and file with
//! its security headers, pages that hold no inline script or style, links
//! and imports that all resolve, and `config.json` for local and production.

use http::header;
use ocpizza::platform::config::Config;
use ocpizza::platform::http::{Cors, Response};
use std::collections::HashMap;
use storefront::{Site, State, ASSETS, FUNCTIONS};
use testkit::{json_of, request};

fn state_with(vars: &[(&str, &str)]) -> Result<State, String> {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let lookup = |name: &str| vars.get(name).cloned();
    let config = Config::from_lookup(&[], lookup).map_err(|e| e.to_string())?;
    let site = Site::from_env(&config, lookup)?;
    Ok(State::new(site, Cors::new(&config.allowed_origins)))
}

fn local() -> State {
    state_with(&[]).expect("local defaults are valid")
}

async fn get(state: &State, path: &str) -> Response {
    storefront::handle(state, request("GET", path, None, None)).await
}

fn header_of<'a>(response: &'a Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

fn text(response: &Response) -> String {
    String::from_utf8_lossy(response.body().as_ref()).into_owned()
}

#[tokio::test]
async fn every_file_is_served_with_its_type_and_the_security_headers() {
    let state = local();
    for asset in ASSETS {
        let response = get(&state, &format!("/{}", asset.path)).await;
        assert_eq!(response.status(), 200, "{}", asset.path);
        assert_eq!(header_of(&response, "content-type"), asset.content_type);
        assert!(!response.body().is_empty(), "{} is empty", asset.path);
        let csp = header_of(&response, "content-security-policy");
        assert!(
            csp.contains("script-src 'self' http://127.0.0.1:8420;"),
            "{csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
            "{csp}"
        );
        assert_eq!(header_of(&response, "x-content-type-options"), "nosniff");
        assert_eq!(header_of(&response, "referrer-policy"), "no-referrer");
        assert_eq!(header_of(&response, "x-frame-options"), "DENY");
        assert_eq!(header_of(&response, "cache-control"), "no-cache");
    }
    // The root is the shop.
    let root = get(&state, "/").await;
    assert_eq!(root.status(), 200);
    assert!(text(&root).contains("<title>OC Pizza — Commander</title>"));
}

/// The CSP forbids inline script and style, so a page that had any would
/// break in the browser: none may slip in.
#[tokio::test]
async fn pages_hold_no_inline_script_style_or_handler_and_every_link_resolves() {
    let state = local();
    let served: Vec<&str> = ASSETS.iter().map(|a| a.path).collect();
    for asset in ASSETS.iter().filter(|a| a.path.ends_with(".html")) {
        let html = text(&get(&state, &format!("/{}", asset.path)).await);
        assert!(html.starts_with("<!doctype html>"), "{}", asset.path);
        assert!(
            html.contains("<html lang=\"fr\">"),
            "{} is not in French",
            asset.path
        );
        assert!(
            html.contains("name=\"viewport\""),
            "{} has no viewport",
            asset.path
        );
        assert!(
            html.contains("<base href=\"/lambda-url/storefront/\">"),
            "{} does not carry the local base",
            asset.path
        );
        assert!(!html.contains("<style"), "{} has a <style>", asset.path);
        assert!(
            !html.contains(" style=\""),
            "{} has a style attribute",
            asset.path
        );
        for tag in html.split("<script").skip(1) {
            let open = tag.split('>').next().unwrap_or("");
            assert!(
                open.contains("src=\""),
                "{} has an inline script",
                asset.path
            );
        }
        for handler in [
            " onclick=",
            " onload=",
            " onsubmit=",
            " onchange=",
            " onerror=",
        ] {
            assert!(
                !html.contains(handler),
                "{} has an inline{handler}",
                asset.path
            );
        }
        for attr in ["src=\"", "href=\""] {
            for rest in html.split(attr).skip(1) {
                let target = rest.split('"').next().unwrap_or("");
                if target.starts_with('/') || target.starts_with("http") || target == "./" {
                    continue;
                }
                assert!(
                    served.contains(&target),
                    "{} links to {target}, which is not served",
                    asset.path
                );
            }
        }
        // Every label names a field that exists on the page.
        for rest in html.split("<label for=\"").skip(1) {
            let id = rest.split('"').next().unwrap_or("");
            assert!(
                html.contains(&format!("id=\"{id}\"")),
                "{}: a label for #{id}, which is missing",
                asset.path
            );
        }
    }
    for asset in ASSETS.iter().filter(|a| a.path.ends_with(".js")) {
        let js = text(&get(&state, &format!("/{}", asset.path)).await);
        for rest in js.split("from './").skip(1) {
            let target = rest.split('\'').next().unwrap_or("");
            assert!(
                served.contains(&target),
                "{} imports {target}, which is not served",
                asset.path
            );
        }
        assert!(
            !js.contains("innerHTML"),
            "{} writes HTML from strings",
            asset.path
        );
        assert!(!js.contains("eval("), "{} evaluates strings", asset.path);
    }
}

#[tokio::test]
async fn local_config_points_at_cargo_lambda_and_localstripe() {
    let state = local();
    let response = get(&state, "/config.json").await;
    assert_eq!(response.status(), 200);
    let config = json_of(&response);
    for name in FUNCTIONS {
        assert_eq!(config["functions"][name], format!("/lambda-url/{name}"));
    }
    assert_eq!(
        config["stripe"]["js_url"],
        "http://127.0.0.1:8420/js.stripe.com/v3/"
    );
    assert_eq!(config["stripe"]["publishable_key"], "pk_test_local");
    assert!(config["notice"].is_null());
}

#[tokio::test]
async fn production_config_uses_the_domain_or_a_function_url_and_the_csp_follows() {
    let state = state_with(&[
        ("ENV", "PRODUCTION"),
        ("STRIPE_PUBLISHABLE_KEY", "pk_live_abc"),
        (
            "FUNCTION_URL_CHECKOUT",
            "https://abc123.lambda-url.eu-west-3.on.aws/",
        ),
        ("SITE_NOTICE", "Commandes en ligne suspendues jusqu'à 18 h."),
    ])
    .expect("a valid production site");
    let config = json_of(&get(&state, "/config.json").await);
    assert_eq!(config["functions"]["menu"], "/api/menu");
    assert_eq!(
        config["functions"]["checkout"],
        "https://abc123.lambda-url.eu-west-3.on.aws"
    );
    assert_eq!(config["stripe"]["js_url"], "https://js.stripe.com/v3/");
    assert_eq!(
        config["notice"],
        "Commandes en ligne suspendues jusqu'à 18 h."
    );
    let page = get(&state, "/kitchen.html").await;
    assert!(text(&page).contains("<base href=\"/\">"));
    let csp = header_of(&page, "content-security-policy");
    assert!(
        csp.contains("script-src 'self' https://js.stripe.com;"),
        "{csp}"
    );
    assert!(
        csp.contains("connect-src 'self' https://abc123.lambda-url.eu-west-3.on.aws https://js.stripe.com https://api.stripe.com;"),
        "{csp}"
    );
    assert!(
        csp.contains("frame-src https://js.stripe.com https://hooks.stripe.com;"),
        "{csp}"
    );
}

#[test]
fn a_bad_setting_stops_the_storefront_with_its_name() {
    for (name, value) in [
        ("API_BASE", "/api/"),
        ("FUNCTION_URL_MENU", "javascript:alert(1)"),
        ("FUNCTION_URL_ORDERS", "//evil.example"),
        ("STRIPE_JS_URL", "https://js.stripe.com/v3/\" onload=\"x"),
    ] {
        let err = state_with(&[(name, value)]).err().unwrap_or_default();
        assert!(err.contains(name), "{name}={value}: {err:?}");
    }
}

#[tokio::test]
async fn etag_revalidation_head_and_problems() {
    let state = local();
    let first = get(&state, "/shop.js").await;
    let etag = header_of(&first, "etag").to_owned();
    assert!(etag.starts_with('"'));
    let mut again = request("GET", "/shop.js", None, None);
    again
        .headers_mut()
        .insert(header::IF_NONE_MATCH, etag.parse().expect("an etag"));
    let revalidated = storefront::handle(&state, again).await;
    assert_eq!(revalidated.status(), 304);
    assert!(revalidated.body().is_empty());

    let head = storefront::handle(&state, request("HEAD", "/index.html", None, None)).await;
    assert_eq!(head.status(), 200);
    assert!(head.body().is_empty());

    for path in [
        "/nope.html",
        "/../Cargo.toml",
        "/static/index.html",
        "/index.html/",
    ] {
        let missing = get(&state, path).await;
        assert_eq!(missing.status(), 404, "{path}");
        assert_eq!(
            header_of(&missing, "content-type"),
            "application/problem+json"
        );
        assert_eq!(header_of(&missing, "x-content-type-options"), "nosniff");
    }
    let post = storefront::handle(&state, request("POST", "/index.html", None, None)).await;
    assert_eq!(post.status(), 405);
    assert_eq!(header_of(&post, "content-type"), "application/problem+json");
}
