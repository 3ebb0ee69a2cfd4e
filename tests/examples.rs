//! The example projects: each checks clean, and `examples/mistakes` shows every typical mistake
//! with a located, fixable message (snapshotted with its sources).

mod support;

use maclc_compiler::diagnostics::Severity;

/// Every folder directly under `examples/` is a project; all but `mistakes` must be clean.
#[test]
fn every_example_checks_without_errors_or_warnings() {
    let examples = support::repo_root().join("examples");
    let mut projects: Vec<_> = std::fs::read_dir(&examples)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    projects.sort();
    projects.retain(|p| !p.ends_with("mistakes"));
    assert!(!projects.is_empty(), "no example projects found");
    for project in projects {
        let sources = support::load_case(&project);
        assert!(
            !sources.is_empty(),
            "{} has no .marketing files",
            support::relative(&project)
        );
        let analysis = support::check(&sources);
        assert!(
            analysis.diagnostics.is_empty(),
            "{} should check clean:\n{}",
            support::relative(&project),
            support::render(&analysis, &sources)
        );
    }
}

#[test]
fn mistakes_are_reported_clearly() {
    let project = support::repo_root().join("examples/mistakes");
    let sources = support::load_case(&project);
    let analysis = support::check(&sources);
    assert!(analysis
        .diagnostics
        .iter()
        .any(|d| d.severity() == Severity::Error));
    // Every file shows at least one mistake: none is there for nothing.
    for file in sources.iter() {
        assert!(
            analysis
                .diagnostics
                .iter()
                .any(|d| d.span().file == file.id),
            "{} reports nothing",
            file.name
        );
    }
    insta::with_settings!({
        snapshot_path => support::repo_root().join("tests/snapshots"),
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!("examples-mistakes", support::render(&analysis, &sources));
    });
}
