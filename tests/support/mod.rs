//! Helpers shared by the integration tests: finding `.marketing` cases and checking them.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use maclc_compiler::diagnostics::{render_human, RenderOptions};
use maclc_compiler::source::Sources;
use maclc_compiler::Analysis;

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Cases under `dir`: every `.marketing` file, and every folder named `*.project` (one
/// multi-file project), sorted; `snapshots` folders are skipped.
pub fn cases(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    walk(dir, true, &mut found);
    found.sort();
    found
}

/// Every `.marketing` file below `dir` (recursively, sorted).
pub fn marketing_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    walk(dir, false, &mut found);
    found.sort();
    found
}

/// Collects `.marketing` files below `dir`, skipping hidden, `target*` and `snapshots` folders;
/// with `projects_as_cases`, a `*.project` folder is collected whole instead of entered.
fn walk(dir: &Path, projects_as_cases: bool, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        if path.is_dir() {
            if projects_as_cases && (name.ends_with(".project") || name.ends_with(".against")) {
                found.push(path);
            } else if !name.starts_with('.') && !name.starts_with("target") && name != "snapshots" {
                walk(&path, projects_as_cases, found);
            }
        } else if name.ends_with(".marketing") {
            found.push(path);
        }
    }
}

/// The path relative to the repository, with `/` separators, as diagnostics show it.
pub fn relative(path: &Path) -> String {
    path.strip_prefix(repo_root())
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

/// Loads a case (one file, or all files of a `.project` folder; of an `.against` folder, its
/// `new/` version) under repository-relative names.
pub fn load_case(path: &Path) -> Sources {
    if path.is_dir() && path.to_string_lossy().ends_with(".against") {
        return load_case(&path.join("new"));
    }
    let files = if path.is_dir() {
        marketing_files(path)
    } else {
        vec![path.to_path_buf()]
    };
    let mut sources = Sources::new();
    for file in files {
        let text = std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
        sources.add(relative(&file), text);
    }
    sources
}

pub fn check(sources: &Sources) -> Analysis {
    maclc_compiler::analyze(sources)
}

/// Loads and checks a case; an `.against` folder is checked as `maclc check new --against old`.
pub fn check_case(path: &Path) -> (Sources, Analysis) {
    let sources = load_case(path);
    let mut analysis = check(&sources);
    if path.is_dir() && path.to_string_lossy().ends_with(".against") {
        let old = check(&load_case(&path.join("old")));
        let removed = maclc_compiler::ir::against(&old.program, &analysis.program);
        analysis.diagnostics.extend(removed);
    }
    (sources, analysis)
}

/// Diagnostics rendered as `maclc check` prints them, without colour.
pub fn render(analysis: &Analysis, sources: &Sources) -> String {
    render_human(
        &analysis.diagnostics,
        sources,
        RenderOptions {
            color: false,
            width: 100,
        },
    )
}

/// The workload generator `gen_events.py` (`shared/workload/` beside the repository, or
/// `MACLC_WORKLOAD_DIR`), or `None` with a printed SKIPPED when it or `python3` is missing.
pub fn generator() -> Option<PathBuf> {
    let dir = match std::env::var_os("MACLC_WORKLOAD_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/workload"),
    };
    let script = dir.join("gen_events.py");
    if !script.is_file() {
        eprintln!(
            "SKIPPED: no generator at {} (set MACLC_WORKLOAD_DIR)",
            script.display()
        );
        return None;
    }
    let python = Command::new("python3").arg("--version").output();
    if !python.is_ok_and(|o| o.status.success()) {
        eprintln!("SKIPPED: `python3` is not installed, so the event generator cannot run");
        return None;
    }
    Some(script)
}

/// Writes `gen_events.py` output (300 contacts, 12,000 events, seed 3, plus `extra`) to `dir/name`.
pub fn generate(script: &Path, dir: &Path, name: &str, extra: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let status = Command::new("python3")
        .arg(script)
        .args(["--contacts", "300", "--events", "12000", "--seed", "3"])
        .args(extra)
        .arg("--out")
        .arg(&out)
        .status()
        .unwrap_or_else(|e| panic!("python3 does not run: {e}"));
    assert!(status.success(), "gen_events.py failed: {status}");
    out
}

/// A project in `dir/project` with R1's rules (`examples/reference-r1`, its tests left out) and
/// `tests/crash/actions.marketing` (stages, SLA sends, a round robin): R1's events then give
/// actions of every kind.
pub fn r1_with_actions(dir: &Path) -> PathBuf {
    let project = dir.join("project");
    std::fs::create_dir_all(&project).unwrap_or_else(|e| panic!("{e}"));
    for name in ["schema", "scores", "segments"] {
        let file = format!("{name}.marketing");
        std::fs::copy(
            repo_root().join("examples/reference-r1").join(&file),
            project.join(&file),
        )
        .unwrap_or_else(|e| panic!("{file}: {e}"));
    }
    std::fs::copy(
        repo_root().join("tests/crash/actions.marketing"),
        project.join("actions.marketing"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    project
}
