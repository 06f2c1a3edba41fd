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
        // The product photos, from the local S3 server.
        assert!(
            csp.contains("img-src 'self' data: http://127.0.0.1:9324;"),
            "{csp}"
        );
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
    // Without PHOTOS_URL, images from the site alone.
    assert!(csp.contains("img-src 'self' data:;"), "{csp}");
    let state = state_with(&[
        ("ENV", "PRODUCTION"),
        ("STRIPE_PUBLISHABLE_KEY", "pk_live_abc"),
        ("PHOTOS_URL", "https://d222photos.cloudfront.net"),
    ])
    .expect("a valid production site");
    let csp = header_of(&get(&state, "/").await, "content-security-policy").to_owned();
    assert!(
        csp.contains("img-src 'self' data: https://d222photos.cloudfront.net;"),
        "the product photos' domain: {csp}"
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

/// The legal pages every page links from its footer: the file, the link's
/// text.
const LEGAL: [(&str, &str); 3] = [
    ("mentions-legales.html", "Mentions légales"),
    ("cgv.html", "CGV"),
    ("confidentialite.html", "Confidentialité"),
];

/// Each `<a …>text</a>` in a piece of HTML: its `href`, its text, and
/// whether it says it is the current page.
fn links_in(html: &str) -> Vec<(String, String, bool)> {
    html.split("<a ")
        .skip(1)
        .filter_map(|rest| {
            let (open, after) = rest.split_once('>')?;
            let href = open.split("href=\"").nth(1)?.split('"').next()?;
            let text = after.split("</a>").next()?;
            Some((
                href.to_owned(),
                text.trim().to_owned(),
                open.contains("aria-current=\"page\""),
            ))
        })
        .collect()
}

/// Every page, the legal ones included, ends with a footer whose navigation
/// links the three legal pages by relative links (they follow the page's
/// `<base href>`), each of them a page the storefront serves.
#[tokio::test]
async fn every_page_links_the_legal_pages_from_its_footer() {
    let state = local();
    let pages: Vec<&str> = ASSETS
        .iter()
        .filter(|a| a.content_type.starts_with("text/html"))
        .map(|a| a.path)
        .collect();
    for (legal, _) in LEGAL {
        assert!(pages.contains(&legal), "{legal} is not served as a page");
    }
    for page in &pages {
        let html = text(&get(&state, &format!("/{page}")).await);
        assert_eq!(html.matches("<footer").count(), 1, "{page}: one footer");
        let main_ends = html.find("</main>").unwrap_or(usize::MAX);
        let footer_starts = html.find("<footer").unwrap_or(0);
        assert!(
            main_ends < footer_starts,
            "{page}: the footer comes after the main content"
        );
        let footer = html[footer_starts..]
            .split("</footer>")
            .next()
            .unwrap_or("");
        assert!(
            footer.contains("<nav aria-label=\"Informations légales\">"),
            "{page}: the footer's links are a navigation named for screen readers"
        );
        let links = links_in(footer);
        let found: Vec<(&str, &str)> = links
            .iter()
            .map(|(href, text, _)| (href.as_str(), text.as_str()))
            .collect();
        assert_eq!(found, LEGAL.to_vec(), "{page}: the footer's links");
        for (target, _) in &found {
            let response = get(&state, &format!("/{target}")).await;
            assert_eq!(response.status(), 200, "{page} links to {target}");
            assert_eq!(
                header_of(&response, "content-type"),
                "text/html; charset=utf-8",
                "{page} links to {target}"
            );
        }
        let current: Vec<&str> = links
            .iter()
            .filter(|(_, _, current)| *current)
            .map(|(href, _, _)| href.as_str())
            .collect();
        let expected: Vec<&str> = LEGAL
            .iter()
            .map(|(legal, _)| *legal)
            .filter(|legal| legal == page)
            .collect();
        assert_eq!(current, expected, "{page}: the link to itself is marked");
    }
}

/// The legal pages: plain pages with no script, their title and date, the
/// facts the law asks them to give, and landmarks that name real headings.
#[tokio::test]
async fn the_legal_pages_say_what_they_must_without_a_script() {
    let state = local();
    let pages: [(&str, &str, &[&str]); 3] = [
        (
            "mentions-legales.html",
            "Mentions légales",
            &[
                "<strong>OC Pizza</strong>, société par actions simplifiée",
                "Directeur de la publication",
                "Amazon Web Services EMEA SARL</strong><br>38 avenue John F. Kennedy, L-1855 Luxembourg",
                "eu-west-3",
                "OC Pizza Lyon Presqu'île",
                "OC Pizza Villeurbanne Gratte-Ciel",
                "OC Pizza Paris Oberkampf",
                "OC Pizza Lille Vieux-Lille",
                "OC Pizza Bordeaux Chartrons",
            ],
        ),
        (
            "cgv.html",
            "Conditions générales de vente",
            &[
                "toutes taxes comprises (TTC)",
                "10&nbsp;%",
                "20&nbsp;%",
                "minimum de commande",
                "Stripe",
                "En espèces",
                "6 jours à l'avance",
                "Tant que la cuisine n'a pas commencé",
                "règlement (UE) n°&nbsp;1169/2011",
                "L221-28,&nbsp;4°",
                "Livraison impossible",
                "Commande non retirée",
                "L3342-1",
                "médiateur de la consommation",
                "droit français",
            ],
        ),
        (
            "confidentialite.html",
            "Politique de confidentialité",
            &[
                "RGPD",
                "L123-22 du Code de commerce",
                "Stripe",
                "Google Maps Platform",
                "Amazon Web Services",
                "aucun cookie",
                "localStorage",
                "exporter vos données et supprimer votre compte",
                "droit d'accès, de rectification, d'effacement",
                "portabilité",
                "opposition",
                "CNIL",
            ],
        ),
    ];
    for (page, title, facts) in pages {
        let html = text(&get(&state, &format!("/{page}")).await);
        assert!(
            html.contains(&format!("<title>OC Pizza — {title}</title>")),
            "{page}: its title"
        );
        assert_eq!(html.matches("<h1").count(), 1, "{page}: one h1");
        assert!(
            html.contains(&format!("<h1>{title}</h1>")),
            "{page}: its h1"
        );
        assert!(
            html.contains(
                "Dernière mise à jour : <time datetime=\"2026-12-07\">7 décembre 2026</time>"
            ),
            "{page}: its date"
        );
        assert!(!html.contains("<script"), "{page} needs no script");
        assert!(
            html.contains("<link rel=\"stylesheet\" href=\"style.css\">"),
            "{page}: the shared stylesheet"
        );
        assert!(html.contains("<main"), "{page}: a main landmark");
        for fact in facts {
            assert!(html.contains(fact), "{page} does not say {fact:?}");
        }
        for rest in html.split("aria-labelledby=\"").skip(1) {
            let id = rest.split('"').next().unwrap_or("");
            assert!(
                html.contains(&format!("<h2 id=\"{id}\">")),
                "{page}: a section named by #{id}, which is not a heading"
            );
        }
    }
}
