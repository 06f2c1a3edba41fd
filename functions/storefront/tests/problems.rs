//! Every problem a page can receive has its French text in `problems.js`.
//!
//! The functions answer problems whose `title` and `detail` are English; the
//! pages show the French text of the problem's `type` instead. A new kind of
//! problem added to the code without its French text would reach a customer
//! as a generic sentence, so this test reads every kind the production code
//! can answer (the literal given to `ApiError::new`, `Self::new` or
//! `ApiError::conflict`) and requires `problems.js` to name it.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// Problems no page receives: Stripe is the only caller of the webhook, and
/// an internal error is answered as a bare 500 (the pages' 5xx sentence).
const NOT_FOR_PAGES: &[&str] = &["bad-signature", "internal"];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rust_sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The first string literal after each constructor call: the problem's kind.
fn kinds_in(source: &str) -> Vec<String> {
    let mut kinds = Vec::new();
    for call in ["ApiError::new(", "Self::new(", "ApiError::conflict("] {
        for (at, _) in source.match_indices(call) {
            let rest = &source[at + call.len()..];
            let Some(open) = rest.find('"') else { continue };
            // Only a literal among the call's first arguments (before a `;`).
            if rest[..open].contains(';') || rest[..open].contains(')') {
                continue;
            }
            let literal = &rest[open + 1..];
            let Some(close) = literal.find('"') else {
                continue;
            };
            let kind = &literal[..close];
            let slug = !kind.is_empty()
                && kind
                    .split('-')
                    .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()));
            if slug {
                kinds.push(kind.to_owned());
            }
        }
    }
    kinds
}

#[test]
fn every_problem_kind_the_code_answers_has_its_french_text() {
    let root = workspace();
    let mut files = Vec::new();
    rust_sources(&root.join("shared/src"), &mut files);
    let functions = fs::read_dir(root.join("functions")).expect("functions/ is readable");
    for function in functions.flatten() {
        rust_sources(&function.path().join("src"), &mut files);
    }
    let mut kinds = BTreeSet::new();
    for file in &files {
        let source = fs::read_to_string(file).expect("a source file is UTF-8");
        kinds.extend(kinds_in(&source));
    }
    // The scan must see the kinds we know of, or it proves nothing.
    for known in [
        "payment-due",
        "out-of-stock",
        "pizzeria-closed",
        "rate-limited",
    ] {
        assert!(kinds.contains(known), "the scan missed {known}: {kinds:?}");
    }

    let french = fs::read_to_string(root.join("functions/storefront/static/problems.js"))
        .expect("problems.js is readable");
    let missing: Vec<&String> = kinds
        .iter()
        .filter(|k| !NOT_FOR_PAGES.contains(&k.as_str()))
        .filter(|k| {
            let quoted = format!("'{k}': [");
            let bare = format!("  {k}: [");
            !french.contains(&quoted) && !french.contains(&bare)
        })
        .collect();
    assert!(
        missing.is_empty(),
        "problems.js has no French text for {missing:?}: add each to KINDS"
    );
}

#[test]
fn the_scan_reads_a_kind_from_each_constructor() {
    let source = r#"
        ApiError::new(StatusCode::CONFLICT, "first-kind", "Title", "detail");
        Self::new(
            StatusCode::BAD_REQUEST,
            "second",
            "Bad request",
        )
        ApiError::conflict("third-one", "Title", format!("x"));
        ApiError::new(status, kind, title, "Not a kind");
    "#;
    assert_eq!(kinds_in(source), ["first-kind", "second", "third-one"]);
}
