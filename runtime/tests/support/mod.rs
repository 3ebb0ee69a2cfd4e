//! Helpers shared by the runtime's integration tests.

#![allow(dead_code)]

use std::path::Path;

use maclc_compiler::source::Sources;

/// Checks the project in `dir` (relative to the repository root) and asserts it has no errors.
pub fn load_project(dir: &str) -> maclc_compiler::Analysis {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(dir);
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{e}"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "marketing"))
        .collect();
    names.sort();
    let mut sources = Sources::new();
    for path in names {
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
        sources.add(path.display().to_string(), text);
    }
    let analysis = maclc_compiler::analyze(&sources);
    assert!(!analysis.has_errors(), "{:#?}", analysis.diagnostics);
    analysis
}
