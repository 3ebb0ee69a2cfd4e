//! Journey semantics as data: every folder under `tests/journeys/` is a small program
//! (`program.marketing`), a timed list of events (`events.jsonl`) and the time to run to
//! (`until`); `maclc run` runs it and the exact actions and state lines are snapshotted
//! (`tests/journeys/snapshots/`). Time passes with no event in most cases (waits, timeouts,
//! service levels, quiet hours, date triggers fire on event time up to `until`).
//! Add a folder and run `INSTA_UPDATE=always cargo test --test journey_runs`, then read the new
//! snapshot. Each case also runs with its events in reverse order: the output must not change.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

fn cases() -> Vec<PathBuf> {
    let root = support::repo_root().join("tests/journeys");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&root)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.join("program.marketing").is_file())
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

/// Runs `maclc run` on a case with `events`; returns (actions, state, summary).
fn run(case: &Path, events: &Path, until: &str, out: &Path) -> (String, String, String) {
    let actions = out.join("actions.jsonl");
    let state = out.join("state.jsonl");
    let output = Command::new(env!("CARGO_BIN_EXE_maclc"))
        .arg("run")
        .arg(case)
        .arg("--events")
        .arg(events)
        .arg("--actions")
        .arg(&actions)
        .arg("--state-out")
        .arg(&state)
        .arg("--until")
        .arg(until)
        .output()
        .unwrap_or_else(|e| panic!("cannot run maclc: {e}"));
    // The elapsed time is the one line of the summary that may differ between runs.
    let summary: String = String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter(|l| !l.starts_with("elapsed: "))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(
        output.status.success(),
        "{}: maclc run failed:\n{summary}",
        case.display()
    );
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    (read(&actions), read(&state), summary)
}

#[test]
fn every_journey_case_matches_its_snapshot() {
    let cases = cases();
    assert!(cases.len() >= 10, "journey cases missing");
    let mut failures = Vec::new();
    for case in &cases {
        let name = case
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let until = std::fs::read_to_string(case.join("until"))
            .unwrap_or_default()
            .trim()
            .to_string();
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let events = case.join("events.jsonl");
        let (actions, state, summary) = run(case, &events, &until, dir.path());
        assert!(
            !actions.is_empty(),
            "{name}: no actions at all; every case shows what its journeys do"
        );

        // The same records in reverse order: event time decides, not arrival order.
        let reversed = dir.path().join("reversed.jsonl");
        let text = std::fs::read_to_string(&events).unwrap_or_default();
        let mut lines: Vec<&str> = text.lines().collect();
        lines.reverse();
        std::fs::write(&reversed, lines.join("\n") + "\n").unwrap_or_else(|e| panic!("{e}"));
        let again = dir.path().join("again");
        std::fs::create_dir_all(&again).unwrap_or_else(|e| panic!("{e}"));
        let (actions_2, state_2, _) = run(case, &reversed, &until, &again);
        assert_eq!(actions, actions_2, "{name}: actions depend on input order");
        assert_eq!(state, state_2, "{name}: state depends on input order");

        let content = format!(
            "── until {until}\n── actions\n{actions}── state\n{state}── summary\n{summary}"
        );
        let outcome = std::panic::catch_unwind(|| {
            insta::with_settings!({
                snapshot_path => support::repo_root().join("tests/journeys/snapshots"),
                prepend_module_to_snapshot => false,
                omit_expression => true,
            }, {
                insta::assert_snapshot!(name.clone(), content);
            });
        });
        if outcome.is_err() {
            failures.push(name);
        }
    }
    assert!(failures.is_empty(), "snapshots differ for: {failures:?}");
}

/// A random split puts each contact in the same arm on every run, and splits 10,000 contacts
/// in the declared proportions (50/30/20) within a tolerance.
#[test]
fn random_split_is_stable_and_proportional() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let project = dir.path().join("ab");
    std::fs::create_dir_all(&project).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        project.join("program.marketing"),
        r#"channel email opt_out

contact {
  email: text
}

event signed_up from track "Signed Up"

journey ab "A/B/C" {
  trigger on signed_up
  random split {
    50% a => send email "variant-a"
    30% b => send email "variant-b"
    20% c => send email "variant-c"
  }
}
"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut events = String::new();
    for i in 0..10_000 {
        events.push_str(&format!(
            "{{\"type\":\"track\",\"userId\":\"c-{i:05}\",\"messageId\":\"m-{i}\",\
             \"timestamp\":\"2026-03-02T09:00:00Z\",\"event\":\"Signed Up\",\"properties\":{{}}}}\n"
        ));
    }
    let file = dir.path().join("events.jsonl");
    std::fs::write(&file, events).unwrap_or_else(|e| panic!("{e}"));
    let first = dir.path().join("first");
    let second = dir.path().join("second");
    for d in [&first, &second] {
        std::fs::create_dir_all(d).unwrap_or_else(|e| panic!("{e}"));
    }
    let (a1, _, _) = run(&project, &file, "2026-03-03T00:00:00Z", &first);
    let (a2, _, _) = run(&project, &file, "2026-03-03T00:00:00Z", &second);
    assert_eq!(a1, a2, "the same contacts must land in the same arms");
    let count = |t: &str| a1.matches(&format!("\"template\":\"{t}\"")).count();
    let (a, b, c) = (count("variant-a"), count("variant-b"), count("variant-c"));
    assert_eq!(a + b + c, 10_000);
    // Binomial standard deviations are about 50, 46 and 40: 4 of them is plenty.
    assert!((4_800..=5_200).contains(&a), "a: {a}");
    assert!((2_820..=3_180).contains(&b), "b: {b}");
    assert!((1_840..=2_160).contains(&c), "c: {c}");
}
