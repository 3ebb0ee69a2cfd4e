//! `maclc test` as a user and a CI system see it: every `*.project` folder in
//! `tests/test-command/` is run and its output snapshotted (`tests/test-command/snapshots/`),
//! then `--filter`, `--format json`, `--junit`, usage errors, and the scenario of a
//! broken rule in `examples/reference-r1`, coverage (text, LCOV, JSON) and `--jobs`. A case's
//! `args` file gives more arguments (one per line). To add a case, add a folder and run
//! `INSTA_UPDATE=always cargo test --test test_command`, then read the new snapshot.

mod support;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn maclc_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_maclc"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("the maclc binary runs")
}

fn maclc(args: &[&str]) -> Output {
    maclc_in(&support::repo_root(), args)
}

/// Stdout, stderr and the exit code, as one text to snapshot.
fn transcript(args: &[&str], output: &Output) -> String {
    format!(
        "── maclc {}\n{}── stderr\n{}── exit {}\n",
        args.join(" "),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
        output.status.code().unwrap_or(-1)
    )
}

fn snapshot(name: &str, content: String) {
    insta::with_settings!({
        snapshot_path => support::repo_root().join("tests/test-command/snapshots"),
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!(name.to_string(), content);
    });
}

const CASES: &str = "tests/test-command";

#[test]
fn every_case_matches_its_snapshot() {
    let root = support::repo_root().join(CASES);
    let cases = support::cases(&root);
    assert!(cases.len() >= 2, "no cases found in {}", root.display());
    let mut failures = Vec::new();
    for case in &cases {
        let path = support::relative(case);
        // A case may give more arguments in its `args` file, one per line.
        let extra = std::fs::read_to_string(case.join("args")).unwrap_or_default();
        let mut args = vec!["test", path.as_str()];
        args.extend(extra.lines().filter(|l| !l.trim().is_empty()));
        let output = maclc(&args);
        let name = path
            .trim_start_matches("tests/test-command/")
            .trim_end_matches(".project")
            .replace('/', "__");
        let content = transcript(&args, &output);
        if std::panic::catch_unwind(|| snapshot(&name, content)).is_err() {
            failures.push(name);
        }
    }
    assert!(failures.is_empty(), "snapshots differ for: {failures:?}");
}

#[test]
fn a_passing_run_exits_0_and_ends_with_the_summary() {
    let output = maclc(&["test", "tests/test-command/passing.project"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.ends_with("\n2 passed, 0 failed\n"), "{stdout}");
}

#[test]
fn filter_runs_only_the_tests_whose_name_contains_the_text() {
    let args = [
        "test",
        "tests/test-command/failures.project",
        "--filter",
        "segment",
    ];
    let output = maclc(&args);
    assert_eq!(output.status.code(), Some(1));
    snapshot("filter", transcript(&args, &output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("FAILED  in a segment\nFAILED  not in a segment\n\n"));
    assert!(!stdout.contains("exact score"));
    assert!(stdout.ends_with("\n0 passed, 2 failed\n"), "{stdout}");

    let output = maclc(&[
        "test",
        "tests/test-command/failures.project",
        "--filter",
        "passes",
    ]);
    assert_eq!(output.status.code(), Some(0));
    let output = maclc(&[
        "test",
        "tests/test-command/failures.project",
        "--filter",
        "zzz",
    ]);
    assert_eq!(output.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&output.stdout).ends_with("0 passed, 0 failed\n"));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no test name contains `zzz`"));
}

#[test]
fn json_is_one_document_with_every_test_and_its_failures() {
    let output = maclc(&[
        "test",
        "tests/test-command/failures.project",
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let doc: Value = serde_json::from_slice(&output.stdout).expect("stdout is one JSON document");
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["summary"]["passed"], 1);
    assert_eq!(doc["summary"]["failed"], 5);
    let tests = doc["tests"].as_array().expect("tests is an array");
    assert_eq!(tests.len(), 6);
    let exact = &tests[0];
    assert_eq!(exact["name"], "exact score");
    assert_eq!(exact["status"], "failed");
    let failure = &exact["failures"][0];
    assert_eq!(
        failure["file"],
        "tests/test-command/failures.project/tests.marketing"
    );
    assert_eq!(
        (failure["line"].as_u64(), failure["column"].as_u64()),
        (Some(5), Some(3))
    );
    assert_eq!(failure["expected"], "interest == 35");
    assert_eq!(failure["actual"], "30");
    let trace = failure["trace"].as_array().expect("trace is an array");
    assert!(trace.iter().any(|e| e["kind"] == "points"
        && e["delta"] == 25.0
        && e["source"] == "tests/test-command/failures.project/rules.marketing:20"
        && e["time"] == "2026-03-02T09:01:00Z"));
    assert!(trace.iter().any(|e| e["kind"] == "stage"));
    assert!(trace.iter().any(|e| e["kind"] == "segment"));
    assert_eq!(tests[5]["status"], "passed");
    assert_eq!(tests[5]["failures"].as_array().map(Vec::len), Some(0));
}

/// A minimal XML reader: the document must nest its elements properly; returns every element's
/// name and attributes in document order (enough to check JUnit's structure without a crate).
fn xml_elements(xml: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut elements = Vec::new();
    let mut open: Vec<String> = Vec::new();
    let mut rest = xml;
    assert!(rest.starts_with("<?xml "), "no XML declaration");
    rest = &rest[rest.find("?>").expect("declaration ends") + 2..];
    while let Some(start) = rest.find('<') {
        let text = &rest[..start];
        assert!(!text.contains('>'), "a stray `>` in text: {text}");
        let end = rest[start..].find('>').expect("tag ends") + start;
        let tag = &rest[start + 1..end];
        rest = &rest[end + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(open.pop().as_deref(), Some(name), "badly nested </{name}>");
            continue;
        }
        let self_closing = tag.ends_with('/');
        let tag = tag.trim_end_matches('/');
        let (name, mut attrs_text) = tag.split_once(' ').unwrap_or((tag, ""));
        let mut attrs = Vec::new();
        while let Some(eq) = attrs_text.find("=\"") {
            let key = attrs_text[..eq].trim().to_string();
            let value_end = attrs_text[eq + 2..].find('"').expect("attribute ends") + eq + 2;
            let value = attrs_text[eq + 2..value_end].to_string();
            assert!(!value.contains('<'), "`<` in an attribute");
            attrs.push((key, value));
            attrs_text = &attrs_text[value_end + 1..];
        }
        elements.push((name.to_string(), attrs));
        if !self_closing {
            open.push(name.to_string());
        }
    }
    assert!(open.is_empty(), "unclosed elements: {open:?}");
    elements
}

#[test]
fn junit_is_well_formed_with_one_testcase_per_test() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let report = dir.path().join("junit.xml");
    let report_arg = report.to_string_lossy().to_string();
    let output = maclc(&[
        "test",
        "tests/test-command/failures.project",
        "--junit",
        &report_arg,
    ]);
    assert_eq!(output.status.code(), Some(1));
    let xml = std::fs::read_to_string(&report).expect("the JUnit report is written");
    let elements = xml_elements(&xml);
    let names: Vec<&str> = elements.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names.first(), Some(&"testsuites"));
    assert_eq!(names.iter().filter(|n| **n == "testsuite").count(), 1);
    assert_eq!(names.iter().filter(|n| **n == "testcase").count(), 6);
    assert_eq!(names.iter().filter(|n| **n == "failure").count(), 5);
    let attr = |element: &(String, Vec<(String, String)>), key: &str| {
        element
            .1
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(attr(&elements[0], "tests").as_deref(), Some("6"));
    assert_eq!(attr(&elements[0], "failures").as_deref(), Some("5"));
    let failure = elements
        .iter()
        .find(|e| e.0 == "failure")
        .expect("a failure");
    assert_eq!(
        attr(failure, "message").as_deref(),
        Some("expected `interest == 35`, got `30`")
    );
    // The failure's text is the human report, trace included.
    assert!(xml.contains("trace of contact-1:"));
    assert!(xml.contains("interest +25 (now 30) by `+25 on demo_requested`"));
}

#[test]
fn usage_errors_exit_2_and_check_errors_exit_1() {
    let output = maclc(&["test", "tests/test-command/no-such.project"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("does not exist"));
    let output = maclc(&["test", "--format", "xml"]);
    assert_eq!(output.status.code(), Some(2));

    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(
        dir.path().join("broken.marketing"),
        "contact { email: text }\nsegment s = contact.emial == \"x\"\n",
    )
    .expect("the file is written");
    let output = maclc_in(dir.path(), &["test", "."]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("E0101"), "{stderr}");
    assert!(stderr.contains("its tests did not run"), "{stderr}");
}

/// The scenario: change a `+25` to `+5` in R1's scores and `maclc test` says which
/// expectation fails, what was expected and got, and shows the rule's line in the trace.
#[test]
fn breaking_a_rule_names_the_expectation_the_values_and_the_rule() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let example = support::repo_root().join("examples/reference-r1");
    for entry in std::fs::read_dir(&example).expect("the example exists") {
        let path = entry.expect("a folder entry").path();
        if path.extension().is_some_and(|e| e == "marketing") {
            let name = path.file_name().expect("a file name");
            std::fs::copy(&path, dir.path().join(name)).expect("the file is copied");
        }
    }
    let scores = dir.path().join("scores.marketing");
    let text = std::fs::read_to_string(&scores).expect("scores.marketing is read");
    let rule = "+25 on datasheet_downloaded where category == medical";
    assert!(text.contains(rule), "the rule to break is in the example");
    let line = text
        .lines()
        .position(|l| l.contains(rule))
        .map(|i| i + 1)
        .expect("the rule's line");
    let broken_rule = "+5 on datasheet_downloaded where category == medical";
    std::fs::write(&scores, text.replace(rule, broken_rule)).expect("the rule is changed");

    let output = maclc_in(dir.path(), &["test", "."]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("FAILED  undecided: 60 points or more, less than 10 apart\n"));
    assert!(stdout.contains("test \"undecided: 60 points or more, less than 10 apart\"\n"));
    assert!(
        stdout.contains("expected `in undecided`, got `not in undecided`"),
        "{stdout}"
    );
    assert!(stdout.contains("─[tests.marketing:"), "{stdout}");
    let trace_line =
        format!("medical_interest +5 (now 5) by `{broken_rule}`  (scores.marketing:{line})");
    assert!(stdout.contains(&trace_line), "{stdout}");
    assert!(stdout.ends_with("\n12 passed, 2 failed\n"), "{stdout}");
    snapshot("broken-rule", transcript(&["test", "."], &output));
}

const COVERAGE_CASE: &str = "tests/test-command/coverage.project";

#[test]
fn coverage_as_lcov_has_a_line_per_item_with_its_hits() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let report = dir.path().join("coverage.lcov");
    let report_arg = report.to_string_lossy().to_string();
    let output = maclc(&["test", COVERAGE_CASE, "--coverage-lcov", &report_arg]);
    assert_eq!(output.status.code(), Some(0));
    let lcov = std::fs::read_to_string(&report).expect("the LCOV report is written");
    // `--coverage-lcov` alone also prints the text summary.
    assert!(String::from_utf8_lossy(&output.stdout).contains("coverage of "));
    assert!(lcov.starts_with("TN:\nSF:tests/test-command/coverage.project/rules.marketing\n"));
    // `+25 on demo_requested` (line 29) gave points twice; the webinar rule (31) never.
    assert!(lcov.contains("\nDA:29,2\n"), "{lcov}");
    assert!(lcov.contains("\nDA:31,0\n"), "{lcov}");
    assert!(lcov.ends_with("end_of_record\n"));
    snapshot("coverage-lcov", lcov);
}

#[test]
fn coverage_in_json_counts_each_kind_and_lists_every_item() {
    let output = maclc(&["test", COVERAGE_CASE, "--coverage", "--format", "json"]);
    assert_eq!(output.status.code(), Some(0));
    let doc: Value = serde_json::from_slice(&output.stdout).expect("stdout is one JSON document");
    let coverage = &doc["coverage"][0];
    assert_eq!(coverage["project"], COVERAGE_CASE);
    let summary = &coverage["summary"];
    let count = |kind: &str| {
        (
            summary[kind]["covered"].as_u64(),
            summary[kind]["total"].as_u64(),
        )
    };
    assert_eq!(count("event_rules"), (Some(2), Some(3)));
    assert_eq!(count("profile_rules"), (Some(1), Some(2)));
    assert_eq!(count("segments"), (Some(1), Some(2)));
    assert_eq!(count("transitions"), (Some(1), Some(2)));
    assert_eq!(count("routing_branches"), (Some(2), Some(3)));
    assert_eq!(count("journey_steps"), (Some(0), Some(3)));
    let items = coverage["items"].as_array().expect("items is an array");
    let partners = items
        .iter()
        .find(|i| i["kind"] == "routing_branches" && i["line"] == 61)
        .expect("the partners branch is an item");
    assert_eq!(partners["covered"], false);
    assert_eq!(partners["hits"], 0);
    assert_eq!(partners["why"], "was never chosen");
    snapshot(
        "coverage-json",
        serde_json::to_string_pretty(&doc["coverage"]).expect("JSON prints"),
    );
    // Without `--coverage` the document has no coverage.
    let output = maclc(&["test", COVERAGE_CASE, "--format", "json"]);
    let doc: Value = serde_json::from_slice(&output.stdout).expect("stdout is one JSON document");
    assert!(doc.get("coverage").is_none());
}

/// A rule a test starts exercising moves from the "not exercised" list to the count.
#[test]
fn a_test_that_exercises_an_item_removes_it_from_the_report() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let case = support::repo_root().join(COVERAGE_CASE);
    for name in ["rules.marketing", "tests.marketing"] {
        std::fs::copy(case.join(name), dir.path().join(name)).expect("the file is copied");
    }
    let before = maclc_in(dir.path(), &["test", ".", "--coverage"]);
    let before = String::from_utf8_lossy(&before.stdout).to_string();
    assert!(
        before.contains("score rules on events          2/3"),
        "{before}"
    );
    assert!(before.contains("`+15 on webinar_attended` never gave points"));
    let mut tests = std::fs::read_to_string(dir.path().join("tests.marketing")).expect("read");
    tests.push_str(
        "\ntest \"a webinar\" {\n  contact { email: \"x@example.com\", country: \"DE\" }\n  \
         at 2026-03-02T09:00:00Z webinar_attended { topic: \"t\" }\n  expect interest == 15\n}\n",
    );
    std::fs::write(dir.path().join("tests.marketing"), tests).expect("write");
    let after = maclc_in(dir.path(), &["test", ".", "--coverage"]);
    let after = String::from_utf8_lossy(&after.stdout).to_string();
    assert!(
        after.contains("score rules on events          3/3"),
        "{after}"
    );
    assert!(
        !after.contains("webinar_attended` never gave points"),
        "{after}"
    );
    // The contact from Germany is in `eu`, so the segment is exercised too.
    assert!(
        after.contains("segments                       2/2"),
        "{after}"
    );
}

/// Tests run on several threads print exactly what one thread prints.
#[test]
fn jobs_do_not_change_a_single_byte_of_the_output() {
    for format in ["human", "json"] {
        let run = |jobs: &str| {
            let args = [
                "test",
                "tests/test-command",
                "examples/reference-r1",
                "examples/gitlab-scoring",
                "examples/printers",
                "--coverage",
                "--format",
                format,
                "--jobs",
                jobs,
            ];
            maclc(&args)
        };
        let one = run("1");
        let many = run("4");
        assert!(!one.stdout.is_empty());
        assert_eq!(
            String::from_utf8_lossy(&one.stdout),
            String::from_utf8_lossy(&many.stdout),
            "--jobs 1 and --jobs 4 differ ({format})"
        );
        assert_eq!(one.status.code(), many.status.code());
    }
    let output = maclc(&["test", COVERAGE_CASE, "--jobs", "0"]);
    assert_eq!(output.status.code(), Some(2));
}

/// The README's promise: `maclc test examples/` is green (`examples/mistakes`, which has no
/// tests, is skipped with a note).
#[test]
fn every_example_test_passes() {
    let output = maclc(&["test", "examples/"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("note: `examples/mistakes` has no tests, skipped"),
        "{stderr}"
    );
    let failed: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("FAILED  "))
        .collect();
    assert_eq!(output.status.code(), Some(0), "{stdout}{stderr}");
    assert!(failed.is_empty(), "{stdout}");
    assert!(stdout.contains(" passed, "), "{stdout}");
}

/// Journey steps no test can reach, each with the reason. None today: `identify { … }` steps
/// change a profile mid-test, so `trigger contact.job_title changes` fires in tests too.
const UNREACHABLE_IN_TESTS: &[(&str, &str)] = &[];

/// Every example's tests exercise all of its score rules, segments, lifecycle transitions,
/// routing branches and journey steps (but those in `UNREACHABLE_IN_TESTS`, which must stay
/// unreached: the list cannot go stale).
#[test]
fn example_tests_cover_every_rule_segment_transition_routing_branch_and_journey_step() {
    for example in [
        "examples/printers",
        "examples/reference-r1",
        "examples/gitlab-scoring",
        "examples/journeys",
        "examples/brands/acme",
        "examples/brands/globex",
    ] {
        let output = maclc(&["test", example, "--coverage", "--format", "json"]);
        let doc: Value =
            serde_json::from_slice(&output.stdout).expect("stdout is one JSON document");
        let coverage = &doc["coverage"][0];
        assert_eq!(coverage["project"], example);
        let items = coverage["items"].as_array().expect("items is an array");
        let not_exercised: Vec<String> = items
            .iter()
            .filter(|item| item["covered"] == false)
            .map(|item| {
                format!(
                    "{}: {}",
                    item["owner"].as_str().unwrap_or("?"),
                    item["text"].as_str().unwrap_or("?")
                )
            })
            .collect();
        let expected: Vec<String> = UNREACHABLE_IN_TESTS
            .iter()
            .filter(|(project, _)| *project == example)
            .map(|(_, item)| (*item).to_string())
            .collect();
        assert_eq!(
            not_exercised, expected,
            "{example}: items no test exercised"
        );
        for kind in [
            "event_rules",
            "profile_rules",
            "segments",
            "transitions",
            "routing_branches",
            "journey_steps",
        ] {
            let count = &coverage["summary"][kind];
            let known = items
                .iter()
                .filter(|item| item["kind"] == kind && item["covered"] == false)
                .count() as u64;
            assert_eq!(
                count["covered"].as_u64().map(|c| c + known),
                count["total"].as_u64(),
                "{example}: {kind}"
            );
        }
    }
}
