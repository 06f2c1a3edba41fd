//! Fuzzing the functions' inputs (for their `tests/fuzz.rs`, and `tests/*_fuzz.rs` here).
//!
//! proptest strategies for hostile input — JSON bodies mixing valid and
//! invalid fields, raw bytes, header values, forged tokens, path segments and
//! query strings — and a runner that holds every answer to the rule of the
//! HTTP edge: never a 5xx, never a panic, every 4xx an RFC 9457 problem
//! ([`crate::problem_violation`]).
//!
//! Cases are drawn up front from a seeded [`TestRunner`], then run one by one
//! in the test's own async runtime against the real database and services.
//! There is no shrinking (the database moves on between cases, so a smaller
//! input would not fail the same way): a failure is reported with its whole
//! input. `FUZZ_CASES` sets how many cases each target runs (64 by default,
//! what `make test` runs), `FUZZ_SEED` draws other cases than the fixed seed.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use base64::Engine;
use hmac::{Hmac, Mac};
use ocpizza::platform::http::{Request, Response};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::{BoxedStrategy, Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256, Sha512};
use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::time::Instant;

/// Cases per target when `FUZZ_CASES` is not set.
pub const DEFAULT_CASES: usize = 64;
/// The seed when `FUZZ_SEED` is not set: the same cases on every run.
const DEFAULT_SEED: u64 = 20_261_129;

/// How many cases each target runs: `FUZZ_CASES`, else [`DEFAULT_CASES`].
pub fn cases() -> usize {
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(DEFAULT_CASES)
}

fn seed() -> u64 {
    std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(DEFAULT_SEED)
}

/// [`cases`] values of `strategy`: the same ones for the same target and seed.
pub fn generate<S: Strategy>(target: &str, strategy: S) -> Vec<S::Value> {
    let digest = Sha256::digest(format!("{target}/{}", seed()).as_bytes());
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, digest.as_slice());
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    (0..cases())
        .map(|_| match strategy.new_tree(&mut runner) {
            Ok(tree) => tree.current(),
            Err(reason) => panic!("fuzz {target}: no case drawn: {reason}"),
        })
        .collect()
}

// ---------------------------------------------------------------- running

/// Runs `call` on every input, each in its own task so that a panic is caught
/// and reported as a failure of that case, and holds each output to `check`
/// (`Ok(label)`, counted in the summary, or `Err(why)`). Prints how many cases
/// ran, how long it took and what came back; panics at the end listing the
/// failed cases.
pub async fn run<T, O, F, Fut, C>(target: &str, inputs: Vec<T>, call: F, check: C)
where
    T: fmt::Debug,
    O: Send + 'static,
    F: Fn(T) -> Fut,
    Fut: Future<Output = O> + Send + 'static,
    C: Fn(&O) -> Result<String, String>,
{
    let started = Instant::now();
    let total = inputs.len();
    let mut labels: BTreeMap<String, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    for (i, input) in inputs.into_iter().enumerate() {
        let shown = shorten(&format!("{input:?}"), 1_500);
        let outcome = match tokio::spawn(call(input)).await {
            Ok(output) => check(&output),
            Err(err) if err.is_panic() => Err("the handler panicked".to_owned()),
            Err(err) => Err(format!("the task failed: {err}")),
        };
        match outcome {
            Ok(label) => *labels.entry(label).or_default() += 1,
            Err(why) => failures.push(format!("case {i}: {why}\n  input: {shown}")),
        }
    }
    let summary: Vec<String> = labels.iter().map(|(l, n)| format!("{l}×{n}")).collect();
    eprintln!(
        "fuzz [{target}]: {total} cases in {:.1} s (seed {}): {}{}",
        started.elapsed().as_secs_f64(),
        seed(),
        summary.join(" "),
        if failures.is_empty() {
            String::new()
        } else {
            format!(", {} FAILED", failures.len())
        }
    );
    if !failures.is_empty() {
        let shown: Vec<&String> = failures.iter().take(8).collect();
        panic!(
            "fuzz [{target}]: {} of {total} cases failed:\n{}",
            failures.len(),
            shown
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

/// [`run`] for HTTP handlers: every answer passes [`check_http`], and the
/// summary counts answers by status.
pub async fn run_http<F, Fut>(target: &str, inputs: Vec<HttpCase>, call: F)
where
    F: Fn(Request) -> Fut,
    Fut: Future<Output = Response> + Send + 'static,
{
    run(
        target,
        inputs,
        |case: HttpCase| call(case.request()),
        check_http,
    )
    .await
}

/// The rule of the HTTP edge: no 5xx, and every 4xx an RFC 9457 problem.
/// `Ok` with the status, for the summary.
pub fn check_http(response: &Response) -> Result<String, String> {
    match crate::problem_violation(response) {
        None => Ok(response.status().as_u16().to_string()),
        Some(why) => Err(why),
    }
}

fn shorten(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes in all)", &text[..end], text.len())
}

// ---------------------------------------------------------------- requests

/// A request body as a function URL may deliver it.
#[derive(Clone, PartialEq)]
pub enum Body {
    Empty,
    Text(String),
    Binary(Vec<u8>),
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Body::Empty => write!(f, "(empty)"),
            Body::Text(t) => write!(f, "{t:?}"),
            Body::Binary(b) => write!(f, "bytes {:?}", String::from_utf8_lossy(b)),
        }
    }
}

impl Body {
    pub fn json(value: &Value) -> Body {
        Body::Text(value.to_string())
    }
}

/// One generated request: method, URI (already percent-encoded), headers
/// (raw bytes: those no client could send are left out), body.
#[derive(Clone)]
pub struct HttpCase {
    pub method: String,
    pub uri: String,
    pub headers: Vec<(&'static str, Vec<u8>)>,
    pub body: Body,
}

impl fmt::Debug for HttpCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.uri)?;
        for (name, value) in &self.headers {
            write!(f, " [{name}: {:?}]", String::from_utf8_lossy(value))?;
        }
        write!(f, " body {:?}", self.body)
    }
}

impl HttpCase {
    pub fn new(method: &str, uri: impl Into<String>) -> HttpCase {
        HttpCase {
            method: method.to_owned(),
            uri: uri.into(),
            headers: Vec::new(),
            body: Body::Empty,
        }
    }

    /// Adds the header when there is a value.
    pub fn header(mut self, name: &'static str, value: Option<Vec<u8>>) -> HttpCase {
        if let Some(value) = value {
            self.headers.push((name, value));
        }
        self
    }

    pub fn body(mut self, body: Body) -> HttpCase {
        self.body = body;
        self
    }

    /// The request as `lambda_http` hands it to a handler.
    pub fn request(&self) -> Request {
        let mut builder = http::Request::builder()
            .method(self.method.as_str())
            .uri(self.uri.as_str());
        for (name, value) in &self.headers {
            if let Ok(value) = http::HeaderValue::from_bytes(value) {
                builder = builder.header(*name, value);
            }
        }
        let body = match &self.body {
            Body::Empty => lambda_http::Body::Empty,
            Body::Text(t) => lambda_http::Body::Text(t.clone()),
            Body::Binary(b) => lambda_http::Body::Binary(b.clone()),
        };
        match builder.body(body) {
            Ok(req) => req,
            Err(e) => panic!("fuzz generated an unusable request {self:?}: {e}"),
        }
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters, so any
/// text can go into a path segment or a query.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

// ---------------------------------------------------------------- values

/// Text that has broken services before: empty and blank, control and NUL
/// characters, 4-byte and combining characters, characters whose lower case
/// is longer, right-to-left marks, look-alike digits, injections, format
/// strings, and lengths around the limits (100, 200, 254, 300 characters).
pub fn nasty_string() -> BoxedStrategy<String> {
    let classics = select(vec![
        "",
        " ",
        "\t\r\n",
        "\u{0}",
        "0",
        "-1",
        "null",
        "true",
        "[]",
        "{}",
        "é",
        "🍕😀",
        "a\u{301}",
        "\u{202E}gnp.exe",
        "\u{FEFF}",
        "\u{FFFD}",
        "İ",
        "ẞ",
        "ﬀ",
        "１２３",
        "٣٤",
        "'; DROP TABLE orders; --",
        "\" OR \"1\"=\"1",
        "\\",
        "%00",
        "%s%n%x",
        "{{7*7}}",
        "${jndi:ldap://x}",
        "<script>alert(1)</script>",
        "../../etc/passwd",
        "99999999999999999999",
        "tok_visa",
        "pi_123",
        "admin@ocpizza.test",
        "06 12 34 56 78",
        "69002",
    ])
    .prop_map(str::to_owned);
    let repeated = (
        select(vec!["x", "é", "🍕", "9", " ", "\u{0}"]),
        select(vec![
            1usize, 99, 100, 101, 199, 200, 201, 253, 254, 255, 256, 299, 300, 301, 1_000,
        ]),
    )
        .prop_map(|(s, n)| s.repeat(n));
    prop_oneof![
        4 => classics,
        3 => "\\PC{0,40}",
        2 => ".{0,20}",
        2 => any::<String>(),
        2 => repeated,
    ]
    .boxed()
}

/// Text that a "1 to `max` characters" rule lets through but that stresses
/// what stores it: exactly `max` characters of 4-byte or 2-byte characters,
/// control and NUL characters, combining marks, right-to-left overrides,
/// quotes and backslashes, runs of spaces.
pub fn edge_text(max: usize) -> BoxedStrategy<String> {
    let fills = select(vec![
        "🍕", "é", "x", "\u{301}a", "'", "\\", "\u{0}a", "\u{202E}",
    ]);
    prop_oneof![
        2 => fills.prop_map(move |fill| fill.repeat(max).chars().take(max).collect()),
        1 => select(vec![
            "Zoë d'Aubigné", "O'Brien \"Bob\" \\ 🍕", "  lots   of   spaces  ", "\u{0}\u{1}\u{7f}x",
            "a\u{301}\u{302}\u{303}", "\u{202E}olleh", "İıŞş", "ﬀ ẞ",
        ])
        .prop_map(str::to_owned),
    ]
    .boxed()
}

/// E-mail addresses of a plausible shape at the edges: 254 bytes long,
/// upper case, tags, unicode local parts and domains.
pub fn edge_email() -> BoxedStrategy<String> {
    prop_oneof![
        1 => Just(format!("{}@example.fr", "a".repeat(243))),
        1 => Just(format!("{}@example.fr", "é".repeat(121))),
        2 => select(vec![
            "CAMILLE.Martin@Example.FR", "camille+pizza@example.fr", "ünïcødé@exämple.fr",
            "🍕@example.fr", "a@b.co", "x@ocpizza.test", "o'brien@example.fr",
        ])
        .prop_map(str::to_owned),
        1 => uuid_text().prop_map(|u| format!("{}@example.fr", &u[..8])),
    ]
    .boxed()
}

/// Phone numbers at the parser's edges (`phone::parse`): the usual French
/// writings, another country's, the fiction range of the demo, one digit
/// short or over, ranges nobody is given, and what the parser must refuse
/// without a panic (RFC 3966 forms, letters, full-width digits).
pub fn edge_phone() -> BoxedStrategy<String> {
    select(vec![
        "06 12 34 56 78",
        "+33 (0)6.12.34.56.78",
        "0033 6 12 34 56 78",
        "06\u{a0}12\u{a0}34\u{a0}56\u{a0}78",
        "+44 20 7946 0958",
        "06 39 98 00 01",
        "06 12 34 56 7",
        "06 12 34 56 78 9",
        "07 12 34 56 78",
        "+999 123 456 789",
        "000000",
        "123456789012345",
        "((((((123456))))))",
        "+-.() 06 12 34 56",
        "tel:+33612345678;phone-context=é",
        "06 PIZZA 78",
        "０６１２３４５６７８",
    ])
    .prop_map(str::to_owned)
    .boxed()
}

/// Numbers at and around the limits, of every JSON kind.
pub fn nasty_number() -> BoxedStrategy<Value> {
    let classics = select(vec![
        json!(0),
        json!(-1),
        json!(1),
        json!(2),
        json!(29),
        json!(30),
        json!(31),
        json!(59),
        json!(60),
        json!(61),
        json!(100_000_000),
        json!(100_000_001),
        json!(i32::MAX),
        json!(i64::from(i32::MAX) + 1),
        json!(i64::MAX),
        json!(i64::MIN),
        json!(u64::MAX),
        json!(9_007_199_254_740_993i64),
        json!(0.5),
        json!(-0.0),
        json!(1e308),
        json!(-1e308),
        json!(1e-300),
    ]);
    prop_oneof![
        3 => classics,
        2 => any::<i64>().prop_map(Value::from),
        1 => any::<i32>().prop_map(Value::from),
        1 => any::<f64>().prop_map(|f| json!(f)),
    ]
    .boxed()
}

/// Any JSON: scalars of every kind, arrays and objects, nested a few levels.
pub fn junk_json() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        nasty_number(),
        nasty_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((nasty_string(), inner), 0..4)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
    .boxed()
}

/// Bodies that are not JSON, or barely: random bytes, truncated documents,
/// a number out of range, nesting beyond any parser's limit, more than the
/// 64 KiB the edge accepts, a byte-order mark.
pub fn raw_body() -> BoxedStrategy<Body> {
    let classics = select(vec![
        "",
        "   ",
        "null",
        "[]",
        "{}",
        "\"text\"",
        "{",
        "{\"a\":",
        "{\"quantity\": 1e999}",
        "{\"a\": 1,}",
        "{'a': 1}",
        "\u{FEFF}{}",
        "{\"a\":1}{\"a\":2}",
        "{\"a\":\"\\ud800\"}",
        "{\"a\":1,\"a\":2}",
    ])
    .prop_map(|s| Body::Text(s.to_owned()));
    prop_oneof![
        4 => classics,
        2 => prop::collection::vec(any::<u8>(), 0..200).prop_map(Body::Binary),
        2 => nasty_string().prop_map(Body::Text),
        1 => (1usize..3_000).prop_map(|n| Body::Text(format!("{}{}", "[".repeat(n), "]".repeat(n)))),
        1 => Just(Body::Text(format!("{{\"pad\":\"{}\"}}", "x".repeat(70_000)))),
    ]
    .boxed()
}

/// A JSON body from `value`, now and then cut short or replaced by
/// [`raw_body`].
pub fn json_body(value: BoxedStrategy<Value>) -> BoxedStrategy<Body> {
    let truncated = (value.clone(), any::<prop::sample::Index>()).prop_map(|(v, at)| {
        let text = v.to_string();
        let mut end = at.index(text.len().max(1));
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        Body::Text(text[..end].to_owned())
    });
    prop_oneof![
        12 => value.prop_map(|v| Body::json(&v)),
        1 => truncated,
        2 => raw_body(),
    ]
    .boxed()
}

/// A JSON object with each field present and valid: the body a correct
/// client sends.
pub fn good_object(fields: Vec<(&'static str, BoxedStrategy<Value>)>) -> BoxedStrategy<Value> {
    let (names, values): (Vec<_>, Vec<_>) = fields.into_iter().unzip();
    values
        .prop_map(move |values| {
            Value::Object(names.iter().map(|n| (*n).to_owned()).zip(values).collect())
        })
        .boxed()
}

/// A JSON object of these fields, broken in one of three ways, about
/// equally often: every field valid; one field missing or junk (of any JSON
/// type); or each field valid, missing or junk. Now and then with unknown
/// fields besides, or a known one again as junk.
pub fn mixed_object(fields: Vec<(&'static str, BoxedStrategy<Value>)>) -> BoxedStrategy<Value> {
    let count = fields.len();
    let mut known: Vec<String> = fields.iter().map(|(n, _)| (*n).to_owned()).collect();
    let (names, goods): (Vec<_>, Vec<_>) = fields.into_iter().unzip();
    let junks: Vec<BoxedStrategy<Value>> = (0..count).map(|_| junk_json()).collect();
    // Per field: 0..5 valid, 5 missing, 6 and 7 junk (when each field is drawn).
    let each = prop::collection::vec(0u8..8, count);
    let broken = (any::<prop::sample::Index>(), any::<bool>());
    known.push("__proto__".into());
    let extra_name = prop_oneof![4 => nasty_string(), 1 => select(known)];
    let extras = prop_oneof![
        3 => Just(Vec::new()),
        1 => prop::collection::vec((extra_name, junk_json()), 1..3),
    ];
    let mode = 0u8..3;
    (goods, junks, each, broken, extras, mode)
        .prop_map(
            move |(goods, junks, each, (index, missing), extras, mode)| {
                let one = (count > 0).then(|| index.index(count));
                let mut object = Map::new();
                for (i, ((name, good), junk)) in names.iter().zip(goods).zip(junks).enumerate() {
                    let choice = match mode {
                        0 => 0,
                        1 if one == Some(i) => {
                            if missing {
                                5
                            } else {
                                6
                            }
                        }
                        1 => 0,
                        _ => each[i],
                    };
                    match choice {
                        0..5 => object.insert((*name).to_owned(), good),
                        5 => None,
                        _ => object.insert((*name).to_owned(), junk),
                    };
                }
                for (name, value) in extras {
                    object.insert(name, value);
                }
                Value::Object(object)
            },
        )
        .boxed()
}

/// [`mixed_object`] when `mixed`, else [`good_object`]: for generators that
/// draw a whole document valid, or broken anywhere.
pub fn object(
    mixed: bool,
    fields: Vec<(&'static str, BoxedStrategy<Value>)>,
) -> BoxedStrategy<Value> {
    if mixed {
        mixed_object(fields)
    } else {
        good_object(fields)
    }
}

/// A JSON value of one of these literals.
pub fn one_of(values: Vec<Value>) -> BoxedStrategy<Value> {
    select(values).boxed()
}

/// Integers in `range`, as JSON.
pub fn int(range: std::ops::RangeInclusive<i64>) -> BoxedStrategy<Value> {
    range.prop_map(Value::from).boxed()
}

// ---------------------------------------------------------------- headers

/// Header bytes of every kind: random bytes (obs-text included), hostile
/// text, lengths around the 100-byte limits.
pub fn header_bytes() -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        2 => prop::collection::vec(any::<u8>(), 0..120),
        2 => nasty_string().prop_map(String::into_bytes),
        1 => select(vec![99usize, 100, 101, 8_000]).prop_map(|n| vec![b'k'; n]),
    ]
    .boxed()
}

/// A fresh UUID-shaped key, the same for the same draw.
pub fn uuid_text() -> BoxedStrategy<String> {
    any::<u128>()
        .prop_map(|n| uuid::Uuid::from_u128(n).to_string())
        .boxed()
}

/// An `Idempotency-Key`: mostly a fresh UUID, sometimes missing, junk, or
/// one of a few keys used again (a retry, or the same key for another cart).
pub fn idempotency_key() -> BoxedStrategy<Option<Vec<u8>>> {
    prop_oneof![
        6 => uuid_text().prop_map(|k| Some(k.into_bytes())),
        1 => Just(None),
        2 => header_bytes().prop_map(Some),
        2 => select(vec!["fuzz-key-1", "fuzz-key-2", " fuzz-key-1 "]).prop_map(|k| Some(k.as_bytes().to_vec())),
    ]
    .boxed()
}

/// An `Authorization` header: none, one of the `valid` tokens, a forged JWT
/// (see [`forged_jwt`]), or junk.
pub fn authorization(secret: &str, valid: Vec<String>) -> BoxedStrategy<Option<Vec<u8>>> {
    let bearer = |t: String| Some(format!("Bearer {t}").into_bytes());
    let mut options: Vec<(u32, BoxedStrategy<Option<Vec<u8>>>)> = vec![
        (3, Just(None).boxed()),
        (3, forged_jwt(secret).prop_map(bearer).boxed()),
        (1, nasty_string().prop_map(bearer).boxed()),
        (1, header_bytes().prop_map(Some).boxed()),
        (
            1,
            select(vec![
                "Bearer",
                "Bearer ",
                "bearer  x",
                "BEARER x",
                "Basic dXNlcjpwYXNz",
                "Bearer a.b.c",
                "Bearer ...",
                "Bearer eyJhbGciOiJub25lIn0.e30.",
            ])
            .prop_map(|s| Some(s.as_bytes().to_vec()))
            .boxed(),
        ),
    ];
    if !valid.is_empty() {
        options.push((3, select(valid).prop_map(bearer).boxed()));
    }
    prop::strategy::Union::new_weighted(options).boxed()
}

/// A JWT made by someone who is not the accounts function: claims mixing
/// real and junk values (unknown roles, non-numeric or huge subjects, past
/// expiry, wrong versions), signed with the right secret, a wrong one, HS512,
/// `none`, or not at all.
pub fn forged_jwt(secret: &str) -> BoxedStrategy<String> {
    let secret = secret.to_owned();
    let now = chrono::Utc::now().timestamp();
    let claims = mixed_object(vec![
        (
            "sub",
            prop_oneof![
                4 => (1i64..=80).prop_map(|n| json!(n.to_string())),
                1 => nasty_string().prop_map(Value::String),
            ]
            .boxed(),
        ),
        (
            "role",
            one_of(
                [
                    "customer",
                    "cashier",
                    "pizzaiolo",
                    "courier",
                    "manager",
                    "admin",
                    "root",
                ]
                .iter()
                .map(|r| json!(r))
                .collect(),
            ),
        ),
        (
            "pizzeria_id",
            prop_oneof![Just(Value::Null), int(1..=9)].boxed(),
        ),
        ("ver", one_of(vec![json!(0), json!(1), json!(-1)])),
        ("iat", Just(json!(now)).boxed()),
        (
            "exp",
            one_of(vec![
                json!(now + 3_600),
                json!(now - 3_600),
                json!(now),
                json!(i64::MAX),
            ]),
        ),
    ]);
    let signing = select(vec![
        "HS256",
        "HS256-wrong-key",
        "HS512",
        "none",
        "RS256",
        "junk",
    ]);
    (claims, signing)
        .prop_map(move |(claims, signing)| {
            let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
            let alg = signing.trim_end_matches("-wrong-key");
            let header = engine.encode(json!({"alg": alg, "typ": "JWT"}).to_string());
            let payload = engine.encode(claims.to_string());
            let signed = format!("{header}.{payload}");
            let key = if signing.ends_with("wrong-key") {
                "not-the-secret"
            } else {
                secret.as_str()
            };
            let signature = match alg {
                "HS256" => Hmac::<Sha256>::new_from_slice(key.as_bytes())
                    .map(|mac| engine.encode(mac.chain_update(&signed).finalize().into_bytes()))
                    .unwrap_or_default(),
                "HS512" => Hmac::<Sha512>::new_from_slice(key.as_bytes())
                    .map(|mac| engine.encode(mac.chain_update(&signed).finalize().into_bytes()))
                    .unwrap_or_default(),
                "none" => String::new(),
                _ => engine.encode("not a signature"),
            };
            format!("{signed}.{signature}")
        })
        .boxed()
}

// ---------------------------------------------------------------- URIs

/// A path segment where an id goes: one of `good`, or what a path parser
/// trips on (signs, decimals, leading zeros, overflowing numbers, encoded
/// NUL and slash, dots, unicode), percent-encoded as a browser would.
pub fn path_segment(good: Vec<String>) -> BoxedStrategy<String> {
    let classics = select(vec![
        "0",
        "-1",
        "+1",
        "1.0",
        "1e3",
        "0x1",
        "01",
        "00000000000000000001",
        "9223372036854775807",
        "9223372036854775808",
        "99999999999999999999",
        "18446744073709551616",
        "%00",
        "%2F",
        "%2e%2e",
        "..",
        ".",
        "%20",
        "%FF",
        "null",
        "1;DROP",
    ])
    .prop_map(str::to_owned);
    let mut options: Vec<(u32, BoxedStrategy<String>)> = vec![
        (3, classics.boxed()),
        (2, any::<i64>().prop_map(|n| n.to_string()).boxed()),
        (2, nasty_string().prop_map(|s| percent_encode(&s)).boxed()),
    ];
    if !good.is_empty() {
        options.push((17, select(good).boxed()));
    }
    prop::strategy::Union::new_weighted(options).boxed()
}

/// A query string (without `?`) of these parameters, drawn like
/// [`mixed_object`]'s fields: all with one of their `good` values, one of
/// them broken, or each broken or not — missing, junk, a bare name, given
/// twice. Now and then with unknown parameters and malformed escapes.
pub fn query(params: Vec<(&'static str, BoxedStrategy<String>)>) -> BoxedStrategy<String> {
    let count = params.len();
    let (names, goods): (Vec<_>, Vec<_>) = params.into_iter().unzip();
    let junks: Vec<BoxedStrategy<String>> = (0..count).map(|_| nasty_string()).collect();
    // Per parameter: 0..4 valid, 4 missing, 5 junk, 6 a bare name, 7 twice.
    let each = prop::collection::vec(0u8..8, count);
    let broken = (any::<prop::sample::Index>(), 4u8..8);
    let junk = prop_oneof![
        4 => Just(None),
        1 => select(vec!["%", "%zz", "=", "&&", "a=%FF%FE", "+", ";", "%00=%00"]).prop_map(|s| Some(s.to_owned())),
        1 => (nasty_string(), nasty_string()).prop_map(|(k, v)| Some(format!("{}={}", percent_encode(&k), percent_encode(&v)))),
    ];
    (goods, junks, each, broken, junk, 0u8..3)
        .prop_map(move |(goods, junks, each, (index, how), junk, mode)| {
            let one = (count > 0).then(|| index.index(count));
            let mut pairs = Vec::new();
            for (i, ((name, good), bad)) in names.iter().zip(goods).zip(junks).enumerate() {
                let choice = match mode {
                    0 => 0,
                    1 if one == Some(i) => how,
                    1 => 0,
                    _ => each[i],
                };
                match choice {
                    0..4 => pairs.push(format!("{name}={}", percent_encode(&good))),
                    4 => {}
                    5 => pairs.push(format!("{name}={}", percent_encode(&bad))),
                    6 => pairs.push((*name).to_owned()),
                    _ => {
                        pairs.push(format!("{name}={}", percent_encode(&good)));
                        pairs.push(format!("{name}={}", percent_encode(&bad)));
                    }
                }
            }
            pairs.extend(junk);
            pairs.join("&")
        })
        .boxed()
}

/// A `Content-Type`: mostly JSON, sometimes none, another type, or junk.
pub fn content_type() -> BoxedStrategy<Option<Vec<u8>>> {
    prop_oneof![
        8 => Just(Some(b"application/json".to_vec())),
        1 => Just(None),
        1 => select(vec!["text/plain", "application/problem+json", "APPLICATION/JSON; charset=latin1", "multipart/form-data; boundary=x"]).prop_map(|s| Some(s.as_bytes().to_vec())),
        1 => header_bytes().prop_map(Some),
    ]
    .boxed()
}

/// A method: mostly `likely`, sometimes any other.
pub fn method(likely: &'static str) -> BoxedStrategy<String> {
    prop_oneof![
        16 => Just(likely.to_owned()),
        2 => select(vec!["GET", "POST", "PATCH", "PUT", "DELETE", "HEAD", "OPTIONS"]).prop_map(str::to_owned),
        1 => Just("BREW".to_owned()),
    ]
    .boxed()
}

// ---------------------------------------------------------------- SQS

/// A queue message's body: an envelope (`queue::Envelope`: version, event
/// id, order, time, event type and pizzeria) with each field valid, missing
/// or junk, about `orders`; or not an envelope at all; or no body.
pub fn envelope_body(orders: Vec<i64>) -> BoxedStrategy<Option<String>> {
    let envelope = mixed_object(vec![
        ("version", one_of(vec![json!(1), json!(2), json!(0)])),
        ("event_id", uuid_text().prop_map(Value::String).boxed()),
        ("order_id", select(orders).prop_map(Value::from).boxed()),
        (
            "occurred_at",
            one_of(vec![
                json!(chrono::Utc::now().to_rfc3339()),
                json!("2026-11-29T12:00:00Z"),
            ]),
        ),
        (
            "type",
            one_of(
                [
                    "order.placed",
                    "order.cancelled",
                    "order.ready",
                    "order.eaten",
                ]
                .map(Value::from)
                .to_vec(),
            ),
        ),
        ("pizzeria_id", one_of([1, 2, 99].map(Value::from).to_vec())),
    ]);
    prop_oneof![
        6 => envelope.prop_map(|v| Some(v.to_string())),
        2 => raw_body().prop_map(|b| match b {
            Body::Empty => Some(String::new()),
            Body::Text(t) => Some(t),
            Body::Binary(b) => Some(String::from_utf8_lossy(&b).into_owned()),
        }),
        1 => Just(None),
    ]
    .boxed()
}

/// The message every fuzzed batch carries besides its junk, which must go
/// through: its id.
pub const GOOD_MESSAGE: &str = "good";

/// An SQS batch as Lambda's event source mapping delivers it: 1 to 6
/// messages of `bodies` (ids `m0`, `m1`, …, receive counts and timestamps
/// sometimes junk), and one of `good` bodies, as [`GOOD_MESSAGE`], at any
/// place.
pub fn sqs_batch(
    bodies: BoxedStrategy<Option<String>>,
    good: BoxedStrategy<String>,
) -> BoxedStrategy<SqsEvent> {
    let attribute = prop_oneof![
        4 => Just(None),
        1 => select(vec!["1", "5", "6", "-1", "abc", "99999999999999999999", ""]).prop_map(|s| Some(s.to_owned())),
    ];
    let message = (bodies, attribute.clone(), attribute);
    (
        prop::collection::vec(message, 1..7),
        good,
        any::<prop::sample::Index>(),
    )
        .prop_map(|(messages, good, at)| {
            let record = |id: String, body: Option<String>, count: Option<String>, sent: Option<String>| {
                let mut attributes = Map::new();
                attributes.insert("ApproximateReceiveCount".into(), json!(count.unwrap_or_else(|| "1".into())));
                attributes.insert(
                    "SentTimestamp".into(),
                    json!(sent.unwrap_or_else(|| chrono::Utc::now().timestamp_millis().to_string())),
                );
                json!({
                    "messageId": id, "receiptHandle": "AQEBfuzz==", "body": body,
                    "attributes": attributes, "messageAttributes": {}, "md5OfBody": "",
                    "eventSource": "aws:sqs",
                    "eventSourceARN": "arn:aws:sqs:eu-west-3:123456789012:fuzz", "awsRegion": "eu-west-3",
                })
            };
            let mut records: Vec<Value> = messages
                .into_iter()
                .enumerate()
                .map(|(i, (body, count, sent))| record(format!("m{i}"), body, count, sent))
                .collect();
            let place = at.index(records.len() + 1);
            records.insert(place, record(GOOD_MESSAGE.into(), Some(good), None, None));
            match serde_json::from_value(json!({ "Records": records })) {
                Ok(event) => event,
                Err(e) => panic!("fuzz made an SQS event Lambda would not: {e}"),
            }
        })
        .boxed()
}

/// The rule of a queue consumer: every message whose body is not an envelope
/// is reported as failed (SQS delivers it again, then dead-letters it), the
/// [`GOOD_MESSAGE`] is not, and no id outside the batch is named. `Ok` with
/// how many failed, for the summary.
pub fn check_batch(batch: &SqsEvent, response: &SqsBatchResponse) -> Result<String, String> {
    let ids: Vec<&str> = batch
        .records
        .iter()
        .filter_map(|r| r.message_id.as_deref())
        .collect();
    let failed: Vec<&str> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    if let Some(stranger) = failed.iter().find(|id| !ids.contains(id)) {
        return Err(format!("reported {stranger:?}, which is not in the batch"));
    }
    if failed.contains(&GOOD_MESSAGE) {
        return Err("the valid message was reported failed".into());
    }
    for record in &batch.records {
        let readable = record
            .body
            .as_deref()
            .is_some_and(|b| ocpizza::platform::queue::Envelope::parse(b).is_ok());
        let id = record.message_id.as_deref().unwrap_or_default();
        if !readable && !failed.contains(&id) {
            return Err(format!("unreadable message {id:?} was not reported failed"));
        }
    }
    Ok(format!("{} failed", failed.len()))
}

/// Fuzzes a queue consumer: [`cases`] batches of any messages about
/// `orders` (and about ids that name no order), each with a new `valid()`
/// envelope as [`GOOD_MESSAGE`], through `consume`; every answer must pass
/// [`check_batch`].
pub async fn run_consumer<V, F, Fut>(target: &str, orders: &[i64], valid: V, consume: F)
where
    V: Fn() -> ocpizza::platform::queue::Envelope + 'static,
    F: Fn(SqsEvent) -> Fut,
    Fut: Future<Output = SqsBatchResponse> + Send + 'static,
{
    let mut ids = orders.to_vec();
    ids.extend([0, -1, 99_999, i64::MAX]);
    let good = Just(()).prop_map(move |()| valid().to_json()).boxed();
    let inputs = generate(target, sqs_batch(envelope_body(ids), good));
    run(
        target,
        inputs,
        |batch| {
            let answer = consume(batch.clone());
            async move { (batch, answer.await) }
        },
        |(batch, response)| check_batch(batch, response),
    )
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_draws_the_same_cases() {
        let a = generate("t", junk_json());
        let b = generate("t", junk_json());
        assert_eq!(a, b);
        assert_eq!(a.len(), cases());
        assert_ne!(a, generate("another target", junk_json()));
    }

    #[test]
    fn generated_requests_are_well_formed() {
        let segments = generate("segments", path_segment(vec!["1".into()]));
        let queries = generate(
            "queries",
            query(vec![
                ("address", nasty_string()),
                ("token", Just("t".to_owned()).boxed()),
            ]),
        );
        for (segment, query) in segments.iter().zip(&queries) {
            let case = HttpCase::new("GET", format!("/orders/{segment}?{query}"));
            assert_eq!(case.request().method(), "GET");
        }
    }

    #[test]
    fn forged_tokens_are_three_base64_parts() {
        for token in generate("jwt", forged_jwt("s")) {
            assert_eq!(token.split('.').count(), 3, "{token}");
        }
    }
}
