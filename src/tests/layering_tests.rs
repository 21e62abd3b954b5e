//! Arrows point down only (docs/ARCHITECTURE.md): this test reads the
//! crate's own sources and fails when a layer names one above it.
//!
//! protocol → nothing else; edge → protocol; pos → edge, protocol;
//! flows → pos, edge, protocol; only runner, wasm (and the `job` re-export
//! shim) name `runner`.

use std::path::{Path, PathBuf};

/// The top-level modules of the crate a file in `layer` may name.
fn allowed(layer: &str) -> Option<&'static [&'static str]> {
    Some(match layer {
        "protocol" => &["protocol"],
        "edge" => &["edge", "protocol"],
        "pos" => &["pos", "edge", "protocol"],
        "flows" => &["flows", "pos", "edge", "protocol"],
        _ => return None,
    })
}

/// Every `crate::<module>` a source names outside comments, with its line.
fn crate_paths(source: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (n, line) in source.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let after = &rest[at + "crate::".len()..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                found.push((n + 1, name));
            }
            rest = after;
        }
    }
    found
}

/// The arrows a file breaks: `path` is relative to `src/`.
fn violations(path: &str, source: &str) -> Vec<String> {
    let layer = path.split('/').next().unwrap_or("").trim_end_matches(".rs");
    let mut out = Vec::new();
    for (line, name) in crate_paths(source) {
        let uppercase = name.chars().next().is_some_and(|c| c.is_ascii_uppercase());
        if uppercase {
            continue; // a crate-root constant such as CORE_VERSION
        }
        let bad = match allowed(layer) {
            Some(ok) => !ok.contains(&name.as_str()),
            None => name == "runner" && !matches!(layer, "runner" | "wasm" | "job" | "lib"),
        };
        if bad {
            out.push(format!("src/{path}:{line} ({layer}) names crate::{name}"));
        }
    }
    out
}

fn sources(dir: &Path, root: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path: PathBuf = entry.expect("a directory entry").path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "tests") {
                continue; // the tests may name every layer
            }
            sources(&path, root, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let text = std::fs::read_to_string(&path).expect("a source file is readable");
            out.push((rel, text));
        }
    }
}

#[test]
fn every_layer_names_only_the_layers_below_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root, &root, &mut files);
    for layer in ["protocol", "edge", "pos", "flows"] {
        assert!(
            files
                .iter()
                .any(|(p, _)| p.starts_with(&format!("{layer}/"))),
            "no sources found under src/{layer}/"
        );
    }
    let broken: Vec<String> = files
        .iter()
        .flat_map(|(path, text)| violations(path, text))
        .collect();
    assert!(broken.is_empty(), "arrows point up:\n{}", broken.join("\n"));
}

#[test]
fn the_check_catches_an_upward_import() {
    assert_eq!(
        violations("protocol/job.rs", "use crate::flows::stock::StockPlan;\n"),
        vec!["src/protocol/job.rs:1 (protocol) names crate::flows".to_string()]
    );
    assert_eq!(
        violations("pos/lightspeed_r/session.rs", "use crate::job::Host;").len(),
        1
    );
    assert_eq!(
        violations("flows/stock.rs", "let r = crate::runner::run(j);").len(),
        1
    );
    assert_eq!(
        violations("edge/host.rs", "use crate::pos::x; // crate::flows").len(),
        1
    );
    assert!(violations("flows/stock.rs", "// see crate::runner").is_empty());
    assert!(violations("flows/stock.rs", "use crate::protocol::{Event};").is_empty());
    assert!(violations("wasm.rs", "use crate::runner;").is_empty());
    assert_eq!(
        violations("tests_helper.rs", "crate::runner::run()").len(),
        1
    );
}
