//! The API's contract, `docs/openapi.json`, and the check of one exchange
//! against it.

use crate::Function;
use jsonschema::Validator;
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

/// `docs/openapi.json`, with a compiled validator per schema used so far.
pub struct Contract {
    document: Value,
    validators: Mutex<HashMap<String, Arc<Validator>>>,
    /// `METHOD /path-template` of every operation a check matched.
    reached: Mutex<BTreeSet<String>>,
}

impl Contract {
    pub fn load() -> Contract {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let document: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(document["openapi"], "3.1.0", "an OpenAPI 3.1 document");
        Contract {
            document,
            validators: Mutex::new(HashMap::new()),
            reached: Mutex::new(BTreeSet::new()),
        }
    }

    /// Every operation of the document, as `METHOD /path-template`.
    pub fn operations(&self) -> BTreeSet<String> {
        let mut all = BTreeSet::new();
        for (path, item) in self.document["paths"].as_object().into_iter().flatten() {
            for method in ["get", "put", "post", "delete", "patch", "head", "options"] {
                if item.get(method).is_some() {
                    all.insert(format!("{} {path}", method.to_uppercase()));
                }
            }
        }
        all
    }

    /// The operations checked so far.
    pub fn reached(&self) -> BTreeSet<String> {
        self.reached.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// The document's path template for `/<function><path>`: literal
    /// segments before `{parameters}`, so `/staff/{id}/unlock` is not
    /// mistaken for another route.
    fn template(&self, function: Function, path: &str, method: &str) -> Option<String> {
        let full = format!("/{}{}", function.name(), path);
        let wanted: Vec<&str> = full.split('/').collect();
        let mut best: Option<(usize, String)> = None;
        for (template, item) in self.document["paths"].as_object()? {
            if item.get(method).is_none() {
                continue;
            }
            let parts: Vec<&str> = template.split('/').collect();
            if parts.len() != wanted.len() {
                continue;
            }
            let mut literal = 0;
            let fits = parts.iter().zip(&wanted).all(|(t, w)| {
                if t.starts_with('{') && t.ends_with('}') {
                    !w.is_empty()
                } else {
                    literal += 1;
                    t == w
                }
            });
            if fits && best.as_ref().is_none_or(|(n, _)| literal > *n) {
                best = Some((literal, template.clone()));
            }
        }
        best.map(|(_, t)| t)
    }

    /// Follows a `$ref` to an object of the document.
    fn resolve<'a>(&'a self, value: &'a Value) -> &'a Value {
        match value.get("$ref").and_then(Value::as_str) {
            Some(pointer) => {
                let target = self
                    .document
                    .pointer(pointer.trim_start_matches('#'))
                    .unwrap_or_else(|| panic!("docs/openapi.json: no {pointer}"));
                self.resolve(target)
            }
            None => value,
        }
    }

    /// The validator of the schema at `pointer`, compiled once, with a copy
    /// of the document's components beside it so that its
    /// `#/components/schemas/…` references resolve.
    fn validator(&self, pointer: &str) -> Arc<Validator> {
        let mut cache = self.validators.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(v) = cache.get(pointer) {
            return v.clone();
        }
        let mut schema = self
            .document
            .pointer(pointer)
            .cloned()
            .unwrap_or_else(|| panic!("docs/openapi.json: no schema at {pointer}"));
        if let Some(object) = schema.as_object_mut() {
            object.insert("components".into(), self.document["components"].clone());
        }
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(&schema)
            .unwrap_or_else(|e| panic!("docs/openapi.json {pointer}: not a valid schema: {e}"));
        let validator = Arc::new(validator);
        cache.insert(pointer.to_owned(), validator.clone());
        validator
    }

    fn errors(&self, pointer: &str, instance: &Value) -> Vec<String> {
        self.validator(pointer)
            .iter_errors(instance)
            .map(|e| format!("{} at {}", e, e.instance_path))
            .collect()
    }

    /// Checks one exchange against the document; the error says what differs.
    pub fn check(
        &self,
        function: Function,
        method: &str,
        uri: &str,
        sent: Option<&Value>,
        response: &ocpizza::platform::http::Response,
    ) -> Result<(), String> {
        let path = uri.split('?').next().unwrap_or(uri);
        let method = method.to_ascii_lowercase();
        let name = format!("{} /{}{}", method.to_uppercase(), function.name(), path);
        let template = self
            .template(function, path, &method)
            .ok_or_else(|| format!("{name}: no such operation in docs/openapi.json"))?;
        let escaped = template.replace('~', "~0").replace('/', "~1");
        let op_pointer = format!("/paths/{escaped}/{method}");
        let operation = &self.document["paths"][&template][&method];
        let status = response.status();
        let code = status.as_u16().to_string();
        let class = format!("{}XX", status.as_u16() / 100);
        let responses = &operation["responses"];
        let key = [code.as_str(), class.as_str()]
            .into_iter()
            .find(|k| responses.get(*k).is_some())
            .or_else(|| (!status.is_success()).then_some("default"))
            .filter(|k| responses.get(*k).is_some())
            .ok_or_else(|| format!("{name}: answered {status}, not documented"))?;
        let documented = self.resolve(&responses[key]);
        let content_type = response
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or(v).trim().to_owned());
        let body = response.body().as_ref();
        let Some(contents) = documented.get("content").and_then(Value::as_object) else {
            return match body.is_empty() {
                true => self.reached_and_ok(&method, &template),
                false => Err(format!(
                    "{name}: {status} documented without a body, got one"
                )),
            };
        };
        let content_type =
            content_type.ok_or_else(|| format!("{name}: {status} without a Content-Type"))?;
        if !contents.contains_key(&content_type) {
            return Err(format!(
                "{name}: {status} as {content_type}, documented as {:?}",
                contents.keys().collect::<Vec<_>>()
            ));
        }
        if content_type.ends_with("json") {
            let value: Value = serde_json::from_slice(body)
                .map_err(|e| format!("{name}: {status} body is not JSON: {e}"))?;
            let documented_pointer = match responses[key].get("$ref").and_then(Value::as_str) {
                Some(r) => r.trim_start_matches('#').to_owned(),
                None => format!("{op_pointer}/responses/{key}"),
            };
            let schema_pointer = format!(
                "{documented_pointer}/content/{}/schema",
                content_type.replace('/', "~1")
            );
            let errors = self.errors(&schema_pointer, &value);
            if !errors.is_empty() {
                return Err(format!(
                    "{name}: {status} body differs from the document: {errors:#?}\n{value:#}"
                ));
            }
        }
        if let (Some(sent), true) = (sent, status.is_success()) {
            if operation.get("requestBody").is_some() {
                let body = self.resolve(&operation["requestBody"]);
                if body["content"].get("application/json").is_some() {
                    let pointer =
                        format!("{op_pointer}/requestBody/content/application~1json/schema");
                    let errors = self.errors(&pointer, sent);
                    if !errors.is_empty() {
                        return Err(format!("{name}: the request that succeeded differs from the documented request: {errors:#?}\n{sent:#}"));
                    }
                }
            }
        }
        self.reached_and_ok(&method, &template)
    }

    fn reached_and_ok(&self, method: &str, template: &str) -> Result<(), String> {
        if let Ok(mut reached) = self.reached.lock() {
            reached.insert(format!("{} {template}", method.to_uppercase()));
        }
        Ok(())
    }
}
