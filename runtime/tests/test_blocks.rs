//! The `test` blocks written in the language, run through the engine: R1's hand-computed
//! cases (`examples/reference-r1/tests.marketing`) must all pass.

mod support;

use maclc_compiler::source::Sources;
use maclc_runtime::testing::{run_tests, Happened};

fn load(dir: &str) -> maclc_compiler::Analysis {
    support::load_project(dir)
}

#[test]
fn r1_test_blocks_pass() {
    let analysis = load("examples/reference-r1");
    let ir = maclc_compiler::ir::lower(&analysis.program).unwrap_or_else(|e| panic!("{e}"));
    let outcomes = run_tests(&analysis.program, &ir);
    assert!(outcomes.len() >= 10, "{} tests", outcomes.len());
    let failed = failed_tests(&outcomes);
    assert!(failed.is_empty(), "{failed:#?}");
    assert!(outcomes.iter().all(|o| o.skipped == 0));
}

#[test]
fn a_wrong_expectation_is_reported() {
    let program = r#"
channel email opt_in
contact { email: text }
event page_view from page { path: text }
score s { +5 on page_view limit 2 per day }
segment busy = count page_view in the last 1d >= 2
test "caps and windows" {
  contact { email: "a@b.example" }
  at 2026-03-02T09:00:00Z page_view { path: "/" }
  at +1m page_view { path: "/" }
  at +1m page_view { path: "/" }
  expect s == 15
  expect in busy
  at +1d expect not in busy
  expect s == 10
}
"#;
    let mut sources = Sources::new();
    sources.add("t.marketing".to_string(), program.to_string());
    let analysis = maclc_compiler::analyze(&sources);
    assert!(!analysis.has_errors(), "{:#?}", analysis.diagnostics);
    let ir = maclc_compiler::ir::lower(&analysis.program).unwrap_or_else(|e| panic!("{e}"));
    let outcomes = run_tests(&analysis.program, &ir);
    assert_eq!(outcomes.len(), 1);
    let failures = &outcomes[0].failures;
    let messages: Vec<&str> = failures.iter().map(|f| f.message.as_str()).collect();
    assert_eq!(messages, ["expected `s` == 15, but it is 10"]);
    assert_eq!(failures[0].expected, "s == 15");
    assert_eq!(failures[0].actual, "10");
    // The trace: three page views, two of which gave points (the third was over the limit).
    let points = failures[0]
        .trace
        .iter()
        .filter(|e| matches!(e.what, Happened::Points { .. }))
        .count();
    let events = failures[0]
        .trace
        .iter()
        .filter(|e| matches!(e.what, Happened::Event { .. }))
        .count();
    assert_eq!((events, points), (3, 2));
    assert!(failures[0]
        .trace
        .iter()
        .any(|e| matches!(e.what, Happened::Segment { entered: true, .. })));
}

#[test]
fn a_test_contact_sets_its_account_fields() {
    let program = r#"
account company key id {
  id: text
  target_account: optional bool
}
contact {
  email: text
  company: optional company from "company.id"
}
event page_view from page { path: text }
score s {
  +10 when account.target_account ?? false
  +1 when account.id is known and account.id == "acc-1"
}
test "a named account" {
  contact { email: "a@b.example", account.id: "acc-1", account.target_account: true }
  expect s == 11
}
test "no account" {
  contact { email: "a@b.example" }
  expect s == 0
}
"#;
    let mut sources = Sources::new();
    sources.add("t.marketing".to_string(), program.to_string());
    let analysis = maclc_compiler::analyze(&sources);
    assert!(!analysis.has_errors(), "{:#?}", analysis.diagnostics);
    let ir = maclc_compiler::ir::lower(&analysis.program).unwrap_or_else(|e| panic!("{e}"));
    let failures: Vec<Vec<String>> = run_tests(&analysis.program, &ir)
        .into_iter()
        .map(|o| o.failures.into_iter().map(|f| f.message).collect())
        .collect();
    assert_eq!(failures, [Vec::<String>::new(), Vec::new()]);
}

/// The examples that use accounts, tables, limits on profile points and journeys: every test
/// block passes, and every expectation of the journey examples is checked (none skipped).
#[test]
fn printers_gitlab_and_journeys_test_blocks_pass() {
    for dir in [
        "examples/printers",
        "examples/gitlab-scoring",
        "examples/journeys",
    ] {
        let analysis = load(dir);
        let ir = maclc_compiler::ir::lower_with(&analysis.program, &maclc_runtime::zone::load_zone)
            .unwrap_or_else(|e| panic!("{dir}: {e}"));
        let outcomes = run_tests(&analysis.program, &ir);
        if dir != "examples/gitlab-scoring" {
            let skipped: usize = outcomes.iter().map(|o| o.skipped).sum();
            assert_eq!(skipped, 0, "{dir}: expectations not checked");
        }
        let failed = failed_tests(&outcomes);
        assert!(failed.is_empty(), "{dir}: {failed:#?}");
    }
}

/// Each failed test with the messages of its failed expectations.
fn failed_tests(outcomes: &[maclc_runtime::testing::TestOutcome]) -> Vec<String> {
    outcomes
        .iter()
        .filter(|o| !o.failures.is_empty())
        .map(|o| {
            let why: Vec<&str> = o.failures.iter().map(|f| f.message.as_str()).collect();
            format!("{}: {}", o.name, why.join("; "))
        })
        .collect()
}
