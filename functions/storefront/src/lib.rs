//! The web pages: static files compiled into the binary (no build step, no
//! CDN at run time), and `config.json`, which tells the pages where each
//! function and Stripe.js live, so the same pages run under `make run` and
//! behind the production domain.
//!
//! Every answer carries the security headers: a Content-Security-Policy with
//! no inline script or style (the pages have none), `nosniff`, no framing
//! and no referrer (the tracking page's address holds the order's token).

use http::header::{self, HeaderValue};
use http::Method;
use lambda_http::Body;
use ocpizza::platform::config::{Config, Environment};
use ocpizza::platform::http::{self as edge, ApiError, Cors, Request, Response};
use serde_json::json;
use std::sync::Arc;

/// The functions the pages call, by the name of their function URL.
pub const FUNCTIONS: [&str; 9] = [
    "menu",
    "checkout",
    "orders",
    "geocode",
    "accounts",
    "kitchen",
    "delivery",
    "backoffice",
    "photos",
];

/// One embedded file.
pub struct Asset {
    pub path: &'static str,
    pub content_type: &'static str,
    body: &'static [u8],
}

macro_rules! assets {
    ($($path:literal => $type:expr),* $(,)?) => {
        &[$(Asset {
            path: $path,
            content_type: $type,
            body: include_bytes!(concat!("../static/", $path)),
        }),*]
    };
}

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";

/// Everything the storefront serves besides `config.json`.
pub static ASSETS: &[Asset] = assets! {
    "index.html" => HTML,
    "track.html" => HTML,
    "account.html" => HTML,
    "kitchen.html" => HTML,
    "courier.html" => HTML,
    "cashier.html" => HTML,
    "manager.html" => HTML,
    "set-password.html" => HTML,
    "mentions-legales.html" => HTML,
    "cgv.html" => HTML,
    "confidentialite.html" => HTML,
    "style.css" => "text/css; charset=utf-8",
    "favicon.svg" => "image/svg+xml",
    "common.js" => JS,
    "problems.js" => JS,
    "order-form.js" => JS,
    "shop.js" => JS,
    "track.js" => JS,
    "account.js" => JS,
    "kitchen.js" => JS,
    "courier.js" => JS,
    "cashier.js" => JS,
    "manager.js" => JS,
    "manager-hours.js" => JS,
    "manager-choices.js" => JS,
    "manager-open.js" => JS,
    "manager-photos.js" => JS,
    "set-password.js" => JS,
};

/// Where the pages find everything, from the environment.
#[derive(Debug, Clone)]
pub struct Site {
    /// The pages' own address, ending in `/` (their `<base href>`).
    pub base: String,
    /// Each function's base URL, absolute or relative to the pages' origin.
    pub functions: Vec<(&'static str, String)>,
    pub stripe_js_url: String,
    pub stripe_publishable_key: String,
    /// Shown on every page when set: e.g. why ordering is paused.
    pub notice: Option<String>,
    csp: String,
}

impl Site {
    /// `SITE_BASE` (default `/lambda-url/storefront/` locally, `/` in
    /// production), `API_BASE` with `{function}` in it (default
    /// `/lambda-url/{function}` locally, `/api/{function}` in production: the
    /// CloudFront paths of `infra/template.yaml`), `FUNCTION_URL_<NAME>` to
    /// point one function elsewhere (e.g. its own function URL),
    /// `STRIPE_JS_URL`, and `SITE_NOTICE`.
    pub fn from_env(
        config: &Config,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Site, String> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let local = config.env == Environment::Local;
        let mut base = get("SITE_BASE").unwrap_or_else(|| {
            if local {
                "/lambda-url/storefront/"
            } else {
                "/"
            }
            .to_owned()
        });
        if !base.ends_with('/') {
            base.push('/');
        }
        let template = get("API_BASE").unwrap_or_else(|| {
            if local {
                "/lambda-url/{function}"
            } else {
                "/api/{function}"
            }
            .to_owned()
        });
        if !template.contains("{function}") {
            return Err("API_BASE must contain {function}, e.g. /api/{function}".into());
        }
        let mut functions = Vec::new();
        for name in FUNCTIONS {
            let key = format!("FUNCTION_URL_{}", name.to_ascii_uppercase());
            let url = get(&key).unwrap_or_else(|| template.replace("{function}", name));
            let url = url.trim_end_matches('/').to_owned();
            check_url(&key, &url)?;
            functions.push((name, url));
        }
        let stripe_js_url = get("STRIPE_JS_URL").unwrap_or_else(|| {
            if local {
                format!(
                    "{}/js.stripe.com/v3/",
                    config.stripe_api_base.trim_end_matches('/')
                )
            } else {
                "https://js.stripe.com/v3/".to_owned()
            }
        });
        check_url("STRIPE_JS_URL", &stripe_js_url)?;
        for (what, value) in [
            ("SITE_BASE", &base),
            ("STRIPE_PUBLISHABLE_KEY", &config.stripe_publishable_key),
        ] {
            if value
                .chars()
                .any(|c| c.is_control() || c == '"' || c == '<' || c == '>')
            {
                return Err(format!("{what} holds a character a page cannot carry"));
            }
        }
        let csp = content_security_policy(config, &functions, &stripe_js_url);
        Ok(Site {
            base,
            functions,
            stripe_js_url,
            stripe_publishable_key: config.stripe_publishable_key.clone(),
            notice: get("SITE_NOTICE"),
            csp,
        })
    }

    pub fn content_security_policy(&self) -> &str {
        &self.csp
    }
}

fn check_url(what: &str, url: &str) -> Result<(), String> {
    let ok = (url.starts_with('/') && !url.starts_with("//"))
        || url.starts_with("https://")
        || url.starts_with("http://");
    if ok
        && !url
            .chars()
            .any(|c| c.is_whitespace() || c == '"' || c == '\'' || c == ';')
    {
        Ok(())
    } else {
        Err(format!(
            "{what} must be a path (/…) or an http(s) URL, got {url:?}"
        ))
    }
}

/// `https://host:port` of an absolute URL, `None` for a path.
fn origin(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let end = rest
        .find('/')
        .map_or(url.len(), |i| url.len() - rest.len() + i);
    Some(&url[..end])
}

/// Scripts only from here and Stripe.js; calls only to the functions and
/// Stripe's API; images from here and the product photos' origin
/// (`PHOTOS_URL`); no inline script or style, no framing by anyone.
fn content_security_policy(
    config: &Config,
    functions: &[(&str, String)],
    stripe_js: &str,
) -> String {
    let mut connect = vec!["'self'".to_owned()];
    for (_, url) in functions {
        if let Some(o) = origin(url) {
            if !connect.iter().any(|c| c == o) {
                connect.push(o.to_owned());
            }
        }
    }
    let stripe_js_origin = origin(stripe_js).unwrap_or("'self'").to_owned();
    let stripe_api = if config.env == Environment::Local {
        origin(&config.stripe_api_base)
            .unwrap_or("'self'")
            .to_owned()
    } else {
        "https://api.stripe.com".to_owned()
    };
    for o in [&stripe_js_origin, &stripe_api] {
        if !connect.contains(o) {
            connect.push(o.clone());
        }
    }
    let mut images = "'self' data:".to_owned();
    if let Some(photos) = origin(&config.photos_url) {
        if !photos.contains(['\'', ';', ' ', '"']) {
            images.push(' ');
            images.push_str(photos);
        }
    }
    // Stripe.js draws the card field and 3-D Secure in frames of its own.
    let frames = if config.env == Environment::Local {
        stripe_js_origin.clone()
    } else {
        format!("{stripe_js_origin} https://hooks.stripe.com")
    };
    format!(
        "default-src 'none'; script-src 'self' {stripe_js_origin}; style-src 'self'; \
         img-src {images}; font-src 'self'; connect-src {}; frame-src {frames}; \
         base-uri 'self'; form-action 'self'; frame-ancestors 'none'; manifest-src 'self'",
        connect.join(" ")
    )
}

/// The site, rendered once per container.
#[derive(Clone)]
pub struct State {
    inner: Arc<Inner>,
    cors: Cors,
}

struct Inner {
    site: Site,
    /// Each asset's body as served (HTML with its `<base href>`) and its ETag.
    served: Vec<(&'static Asset, Vec<u8>, String)>,
    config_json: Vec<u8>,
    config_etag: String,
}

impl State {
    pub fn new(site: Site, cors: Cors) -> State {
        let served = ASSETS
            .iter()
            .map(|asset| {
                let body = if asset.content_type == HTML {
                    render_html(asset.body, &site)
                } else {
                    asset.body.to_vec()
                };
                let etag = edge::etag_for(&body);
                (asset, body, etag)
            })
            .collect();
        let functions: serde_json::Map<String, serde_json::Value> = site
            .functions
            .iter()
            .map(|(name, url)| ((*name).to_owned(), json!(url)))
            .collect();
        let config_json = serde_json::to_vec(&json!({
            "functions": functions,
            "stripe": {
                "js_url": site.stripe_js_url,
                "publishable_key": site.stripe_publishable_key,
            },
            "notice": site.notice,
        }))
        .unwrap_or_default();
        let config_etag = edge::etag_for(&config_json);
        State {
            inner: Arc::new(Inner {
                site,
                served,
                config_json,
                config_etag,
            }),
            cors,
        }
    }

    pub fn site(&self) -> &Site {
        &self.inner.site
    }
}

/// Each page says `<base href="/">`; the storefront serves it under its own
/// address, so that relative links work at `/lambda-url/storefront/` as at `/`.
fn render_html(body: &[u8], site: &Site) -> Vec<u8> {
    String::from_utf8_lossy(body)
        .replacen(
            "<base href=\"/\">",
            &format!("<base href=\"{}\">", site.base),
            1,
        )
        .into_bytes()
}

pub async fn handle(state: &State, req: Request) -> Response {
    let mut response = edge::serve(&state.cors, req, |req| route(state, req)).await;
    secure(&mut response, state.site().content_security_policy());
    response
}

async fn route(state: &State, req: Request) -> Result<Response, ApiError> {
    let path = req.uri().path().trim_start_matches('/').to_owned();
    let name = if path.is_empty() {
        "index.html"
    } else {
        path.as_str()
    };
    let method = req.method();
    if method != Method::GET && method != Method::HEAD {
        return Err(edge::no_route(&req, &[Method::GET, Method::HEAD]));
    }
    let head = method == Method::HEAD;
    if name == "config.json" {
        let inner = &state.inner;
        return Ok(file(
            &req,
            "application/json",
            &inner.config_json,
            &inner.config_etag,
            head,
        ));
    }
    match state
        .inner
        .served
        .iter()
        .find(|(asset, _, _)| asset.path == name)
    {
        Some((asset, body, etag)) => Ok(file(&req, asset.content_type, body, etag, head)),
        None => Err(ApiError::not_found(format!(
            "No page at /{path}. The shop is at the site's root."
        ))),
    }
}

/// The file, revalidated by its ETag each time (`no-cache`): a deploy shows at
/// once, and an unchanged file costs a bodiless 304.
fn file(
    req: &Request,
    content_type: &'static str,
    body: &[u8],
    etag: &str,
    head: bool,
) -> Response {
    if edge::holds_etag(req, etag) {
        return edge::not_modified(etag);
    }
    let mut response = Response::new(if head {
        Body::Empty
    } else {
        Body::Binary(body.to_vec())
    });
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(value) = HeaderValue::from_str(etag) {
        headers.insert(header::ETAG, value);
    }
    response
}

fn secure(response: &mut Response, csp: &str) {
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=(self)"),
    );
    headers.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
}
