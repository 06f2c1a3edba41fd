//! The floor plan, checked: the domain crate's folders import each other in
//! one direction only (the platform imports no domain, and no two modules
//! import each other, even through others), no module grows past 600 lines,
//! and the function crates hold no SQL — it lives in the domain folder that
//! owns its tables.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

const MAX_LINES: usize = 600;

fn rust_files(dir: &Path, into: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, into);
        } else if path.extension().is_some_and(|e| e == "rs") {
            into.push(path);
        }
    }
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// `order/lifecycle.rs` → `["order", "lifecycle"]`; `order/mod.rs` → `["order"]`.
fn module_of(file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src()).expect("a file under src");
    let mut parts: Vec<String> = relative
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

/// The code of a file without its comments and its `#[cfg(test)]` tail.
fn code_of(text: &str) -> String {
    let before_tests = text.split("#[cfg(test)]").next().unwrap_or_default();
    before_tests
        .lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every `crate::a::b…` path a piece of code names, `use crate::{a, b::c}` included.
fn crate_paths(code: &str) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let path: Vec<String> = item
                    .trim()
                    .split("::")
                    .map(|s| {
                        s.chars()
                            .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                            .collect()
                    })
                    .take_while(|s: &String| !s.is_empty())
                    .collect();
                if !path.is_empty() {
                    paths.push(path);
                }
            }
            continue;
        }
        let mut path = Vec::new();
        let mut tail = rest;
        loop {
            let name: String = tail
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            if name.is_empty() {
                break;
            }
            tail = &tail[name.len()..];
            path.push(name);
            match tail.strip_prefix("::") {
                Some(next) => tail = next,
                None => break,
            }
        }
        if !path.is_empty() {
            paths.push(path);
        }
    }
    paths
}

/// Who imports whom, with modules cut to `depth` names (1: the domains).
fn imports(depth: usize) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let module = module_of(&file);
        if module.is_empty() || module[0] == "lib" || module[0] == "bin" {
            continue;
        }
        if module.last().is_some_and(|m| m == "tests") {
            continue;
        }
        let from = module[..module.len().min(depth)].join("::");
        let text = fs::read_to_string(&file).expect("readable source");
        let targets = graph.entry(from.clone()).or_default();
        for path in crate_paths(&code_of(&text)) {
            let to = path[..path.len().min(depth)].join("::");
            let inside = to == from
                || to.starts_with(&format!("{from}::"))
                || from.starts_with(&format!("{to}::"));
            if !inside {
                targets.insert(to);
            }
        }
    }
    graph
}

/// A path `from → … → from`, if there is one.
fn circle_through(graph: &BTreeMap<String, BTreeSet<String>>, from: &str) -> Option<Vec<String>> {
    let mut stack = vec![(from.to_owned(), vec![from.to_owned()])];
    let mut seen = BTreeSet::new();
    while let Some((at, path)) = stack.pop() {
        for next in graph.get(&at).into_iter().flatten() {
            if next == from {
                let mut circle = path.clone();
                circle.push(next.clone());
                return Some(circle);
            }
            if seen.insert(next.clone()) {
                let mut longer = path.clone();
                longer.push(next.clone());
                stack.push((next.clone(), longer));
            }
        }
    }
    None
}

#[test]
fn no_domain_nor_module_imports_itself_through_others() {
    for depth in [1, 2] {
        let graph = imports(depth);
        assert!(graph.len() > 8, "the source tree was read: {graph:?}");
        for module in graph.keys() {
            if let Some(circle) = circle_through(&graph, module) {
                panic!("an import circle: {}", circle.join(" → "));
            }
        }
    }
}

#[test]
fn the_platform_imports_no_domain() {
    let graph = imports(1);
    let platform = graph.get("platform").expect("a platform folder");
    assert!(platform.is_empty(), "platform imports {platform:?}");
    for (domain, uses) in &graph {
        if domain != "platform" && domain != "samples" {
            assert!(uses.contains("platform"), "{domain} stands on the platform");
        }
    }
}

#[test]
fn the_circle_check_sees_a_circle() {
    let code = "use crate::{order::lifecycle, platform::http};\nfn f() { crate::kitchen::mark(); }";
    let paths = crate_paths(code);
    assert!(paths.contains(&vec!["order".to_owned(), "lifecycle".to_owned()]));
    assert!(paths.contains(&vec!["platform".to_owned(), "http".to_owned()]));
    assert!(paths.contains(&vec!["kitchen".to_owned(), "mark".to_owned()]));
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a", &["b"][..]),
        ("b", &["c"][..]),
        ("c", &["a"][..]),
        ("d", &[][..]),
    ]
    .into_iter()
    .map(|(m, to)| (m.to_owned(), to.iter().map(|s| s.to_string()).collect()))
    .collect();
    assert_eq!(
        circle_through(&graph, "a"),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
    assert_eq!(circle_through(&graph, "d"), None);
}

#[test]
fn no_module_of_the_domain_crate_passes_600_lines() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let long: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let lines = fs::read_to_string(f).ok()?.lines().count();
            (lines > MAX_LINES).then(|| format!("{} ({lines} lines)", f.display()))
        })
        .collect();
    assert!(long.is_empty(), "over {MAX_LINES} lines: {long:?}");
}

/// What only SQL (or a query builder) says.
const SQL_MARKS: &[&str] = &[
    "sqlx::query",
    "QueryBuilder",
    "FromRow",
    "query_as",
    "query_scalar",
    "\"SELECT ",
    "\"INSERT ",
    "\"UPDATE ",
    "\"DELETE ",
    " FROM ",
    " WHERE ",
];

#[test]
fn the_functions_hold_no_sql() {
    let functions = Path::new(env!("CARGO_MANIFEST_DIR")).join("../functions");
    let mut files = Vec::new();
    for entry in fs::read_dir(&functions).expect("functions/").flatten() {
        rust_files(&entry.path().join("src"), &mut files);
    }
    assert!(files.len() >= 14, "every function's sources were read");
    let mut found = Vec::new();
    for file in &files {
        let text = fs::read_to_string(file).expect("readable source");
        for (n, line) in code_of(&text).lines().enumerate() {
            if let Some(mark) = SQL_MARKS.iter().find(|m| line.contains(**m)) {
                found.push(format!("{}:{}: {mark}", file.display(), n + 1));
            }
        }
    }
    assert!(found.is_empty(), "SQL in functions/: {found:#?}");
}
