//! Formatter tests. Every `.marketing` file in `tests/fmt/` is formatted and snapshotted as
//! "source + formatted output" in `tests/fmt/snapshots/`; formatting must be idempotent and keep
//! every comment. Add a file and run `INSTA_UPDATE=always cargo test --test fmt_snapshots`,
//! then read the new snapshot. A second test formats every `.marketing` file of the repository
//! that has no syntax errors and checks that the output parses and formats to itself.

mod support;

use std::path::Path;

use maclc_compiler::diagnostics::Severity;
use maclc_compiler::fmt::format_file;
use maclc_compiler::source::Sources;
use maclc_compiler::syntax::{parse_file, ParsedFile};

/// Parses `text`; `None` when it has syntax errors.
fn parse(name: &str, text: &str) -> Option<(Sources, ParsedFile)> {
    let mut sources = Sources::new();
    let id = sources.add(name, text);
    let parsed = parse_file(sources.get(id)?);
    if parsed
        .diagnostics
        .iter()
        .any(|d| d.severity() == Severity::Error)
    {
        return None;
    }
    Some((sources, parsed))
}

fn format(name: &str, text: &str) -> Option<String> {
    let (sources, parsed) = parse(name, text)?;
    let file = sources.iter().next()?;
    Some(format_file(file, &parsed))
}

/// Formats `text` and checks what must hold for any input: the output parses, formats to
/// itself and keeps every comment. Returns the output.
fn format_checked(name: &str, text: &str) -> String {
    let (sources, parsed) = parse(name, text).unwrap_or_else(|| panic!("{name} has syntax errors"));
    let formatted = sources
        .iter()
        .next()
        .map(|f| format_file(f, &parsed))
        .unwrap_or_default();
    let again = format(name, &formatted)
        .unwrap_or_else(|| panic!("the formatted {name} has syntax errors:\n{formatted}"));
    assert_eq!(again, formatted, "formatting {name} twice changes it");
    for comment in &parsed.comments {
        let raw = text
            .get(comment.span.range())
            .unwrap_or_default()
            .trim_end();
        assert!(
            formatted.contains(raw),
            "{name}: the comment `{raw}` is lost:\n{formatted}"
        );
    }
    formatted
}

#[test]
fn every_case_matches_its_snapshot() {
    let dir = support::repo_root().join("tests/fmt");
    let cases = support::marketing_files(&dir);
    assert!(!cases.is_empty(), "no cases in {}", dir.display());
    for case in &cases {
        let text = std::fs::read_to_string(case)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", case.display()));
        let relative = support::relative(case);
        let formatted = format_checked(&relative, &text);
        let name = relative
            .trim_start_matches("tests/fmt/")
            .trim_end_matches(".marketing")
            .replace('/', "__");
        let content = format!("── {relative}\n{text}── maclc fmt\n{formatted}");
        insta::with_settings!({
            snapshot_path => dir.join("snapshots"),
            prepend_module_to_snapshot => false,
            omit_expression => true,
        }, {
            insta::assert_snapshot!(name, content);
        });
    }
}

#[test]
fn every_repository_file_formats_idempotently() {
    let root = support::repo_root();
    let mut formatted = 0;
    for path in support::marketing_files(&root) {
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let relative = support::relative(&path);
        // Files with syntax errors (tests/check/**, examples/mistakes/**) are not formatted.
        if parse(&relative, &text).is_none() {
            continue;
        }
        format_checked(&relative, &text);
        formatted += 1;
    }
    assert!(
        formatted > 0,
        "no .marketing file without syntax errors under {}",
        Path::new(&root).display()
    );
}
