//! End to end: `maclc run examples/reference-r1` over a file written by `gen_events.py`.
//!
//! Checks what can be derived without a second implementation of R1: the command succeeds,
//! every contact has one line in R1 §5's shape and sorted order, the rejects match the
//! generator's manifest reason by reason, and a shuffled copy of the file gives byte-identical
//! state. The generator lives in `shared/workload/` beside the repository (`MACLC_WORKLOAD_DIR`
//! to use another copy); without it or `python3` the test prints SKIPPED and passes.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn maclc(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_maclc"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("maclc does not run: {e}"))
}

fn run_r1(events: &Path, state: &Path, rejects: &Path) -> String {
    let output = maclc(&[
        "run".as_ref(),
        "examples/reference-r1".as_ref(),
        "--events".as_ref(),
        events.as_os_str(),
        "--state-out".as_ref(),
        state.as_os_str(),
        "--rejects".as_ref(),
        rejects.as_os_str(),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(output.status.success(), "maclc run failed: {stderr}");
    stderr
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn r1_over_a_generated_file() {
    let Some(script) = support::generator() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let manifest_path = dir.path().join("manifest.json");
    let sorted = support::generate(
        &script,
        dir.path(),
        "events.jsonl",
        &["--manifest", manifest_path.to_str().unwrap_or_default()],
    );
    let shuffled = support::generate(
        &script,
        dir.path(),
        "shuffled.jsonl",
        &["--shuffle-window", "1000"],
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&read(&manifest_path)).unwrap_or_else(|e| panic!("{e}"));

    let (state, rejects) = (dir.path().join("state"), dir.path().join("rejects"));
    let summary = run_r1(&sorted, &state, &rejects);
    let (state2, rejects2) = (dir.path().join("state2"), dir.path().join("rejects2"));
    let summary2 = run_r1(&shuffled, &state2, &rejects2);

    // Event time, not file order: the shuffled file gives the same state and summary.
    assert!(read(&state) == read(&state2), "shuffling changed the state");
    assert_eq!(summary, summary2);

    // Rejects: one line each, per reason as the manifest counts them.
    let mut by_reason: BTreeMap<String, u64> = BTreeMap::new();
    let reject_text = String::from_utf8(read(&rejects)).unwrap_or_else(|e| panic!("{e}"));
    for line in reject_text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}"));
        let reason = v["reason"].as_str().unwrap_or_default().to_string();
        assert!(v["line"].as_u64().is_some_and(|n| n >= 1));
        assert!(v["detail"].as_str().is_some_and(|d| !d.is_empty()));
        if reason == "invalid_utf8" {
            assert!(v["raw_base64"].is_string(), "{line}");
        } else {
            assert!(v["raw"].is_string(), "{line}");
        }
        *by_reason.entry(reason).or_default() += 1;
    }
    let malformed = manifest["malformed_by_kind"]
        .as_object()
        .unwrap_or_else(|| panic!("no malformed_by_kind"));
    for (kind, count) in malformed {
        let reason = if kind == "truncated_json" {
            "invalid_json"
        } else {
            kind
        };
        let expected = count.as_u64().unwrap_or(0)
            + if kind == "invalid_json" {
                malformed["truncated_json"].as_u64().unwrap_or(0)
            } else {
                0
            };
        if kind != "truncated_json" {
            assert_eq!(
                by_reason.get(reason).copied().unwrap_or(0),
                expected,
                "{reason}"
            );
        }
    }
    let valid = manifest["lines_valid"].as_u64().unwrap_or(0);
    assert!(
        summary.contains(&format!("valid records: {valid}\n")),
        "{summary}"
    );
    assert!(summary.contains("lines read: 12000\n"), "{summary}");

    // State: R1 §5's shape, sorted by id, plausible values.
    let state_text = String::from_utf8(read(&state)).unwrap_or_else(|e| panic!("{e}"));
    let mut previous: Option<String> = None;
    let mut contacts = 0u64;
    for line in state_text.lines() {
        contacts += 1;
        assert!(!line.contains(' '), "no spaces: {line}");
        let v: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}"));
        let keys: Vec<&String> = v
            .as_object()
            .map(|o| o.keys().collect())
            .unwrap_or_default();
        assert_eq!(
            keys,
            [
                "contact",
                "fit",
                "general_interest",
                "medical_interest",
                "segments"
            ],
            "{line}"
        );
        assert!(
            line.starts_with(r#"{"contact":""#) && line.contains(r#","general_interest":"#),
            "{line}"
        );
        let id = v["contact"].as_str().unwrap_or_default().to_string();
        assert!(id.starts_with("user-") || id.starts_with("crm-"), "{id}");
        if let Some(p) = &previous {
            assert!(p.as_bytes() < id.as_bytes(), "not sorted: {p} then {id}");
        }
        previous = Some(id);
        let fit = v["fit"].as_i64().unwrap_or(i64::MIN);
        let possible: Vec<i64> = (0..16)
            .map(|m: i64| {
                [15, 50, -100, 20]
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| m & (1 << i) != 0)
                    .map(|(_, p)| p)
                    .sum()
            })
            .collect();
        assert!(possible.contains(&fit), "{line}");
        assert_eq!(
            v["general_interest"].as_i64().map(|g| g % 5),
            Some(0),
            "{line}"
        );
        assert_eq!(
            v["medical_interest"].as_i64().map(|g| g % 5),
            Some(0),
            "{line}"
        );
        let segments: Vec<&str> = v["segments"]
            .as_array()
            .map(|a| a.iter().filter_map(|s| s.as_str()).collect())
            .unwrap_or_default();
        let mut sorted_segments = segments.clone();
        sorted_segments.sort_unstable();
        assert_eq!(segments, sorted_segments);
        for s in segments {
            assert!(["dormant", "mql", "pricing_hot", "undecided"].contains(&s));
        }
    }
    let people = manifest["contacts_in_valid_lines"].as_u64().unwrap_or(0);
    assert!(
        contacts >= people && contacts <= people + 10,
        "{contacts} contacts for {people} people"
    );
    assert!(
        summary.contains(&format!("contacts: {contacts}\n")),
        "{summary}"
    );
}

#[test]
fn a_project_with_errors_does_not_run() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let program = dir.path().join("bad.marketing");
    std::fs::write(&program, "score s { +5 on nothing_like_this }\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let events = dir.path().join("events.jsonl");
    std::fs::write(&events, "").unwrap_or_else(|e| panic!("{e}"));
    let output = maclc(&[
        "run".as_ref(),
        program.as_os_str(),
        "--events".as_ref(),
        events.as_os_str(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("nothing_like_this"), "{stderr}");
    assert!(stderr.contains("fix them before running"), "{stderr}");
}

#[test]
fn until_sets_the_as_of_time() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let events = dir.path().join("events.jsonl");
    let pricing = |ts: &str| {
        format!(
            r#"{{"type":"page","userId":"user-1","properties":{{"path":"/pricing","url":"u"}},"timestamp":"{ts}","messageId":"{ts}"}}"#
        )
    };
    let lines = [
        pricing("2026-03-01T10:00:00Z"),
        pricing("2026-03-02T10:00:00Z"),
        pricing("2026-03-03T10:00:00Z"),
        "not json".to_string(),
    ];
    std::fs::write(&events, lines.join("\n") + "\n").unwrap_or_else(|e| panic!("{e}"));
    let state = dir.path().join("state");
    let run = |until: &str| {
        let output = maclc(&[
            "run".as_ref(),
            "examples/reference-r1".as_ref(),
            "--events".as_ref(),
            events.as_os_str(),
            "--state-out".as_ref(),
            state.as_os_str(),
            "--until".as_ref(),
            until.as_ref(),
        ]);
        assert!(output.status.success());
        String::from_utf8(read(&state)).unwrap_or_else(|e| panic!("{e}"))
    };
    assert_eq!(
        run("2026-03-08T09:59:59Z"),
        "{\"contact\":\"user-1\",\"general_interest\":0,\"medical_interest\":0,\"fit\":0,\"segments\":[\"pricing_hot\"]}\n"
    );
    assert_eq!(
        run("2026-06-08T10:00:00Z"),
        "{\"contact\":\"user-1\",\"general_interest\":0,\"medical_interest\":0,\"fit\":0,\"segments\":[\"dormant\"]}\n"
    );
}

#[test]
fn explain_shows_each_change_with_its_rule_and_line() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let events = dir.path().join("events.jsonl");
    let lines = [
        r#"{"type":"page","userId":"user-1","properties":{"path":"/medical/x","url":"u"},"timestamp":"2026-03-01T10:00:00Z","messageId":"a"}"#,
        r#"{"type":"identify","userId":"user-1","traits":{"email":"p@rhein.example","first_name":"P","country":"DE","timezone":"Europe/Berlin","consent":{"email":"granted","sms":"unknown"},"unsubscribed":false,"blocklisted":false,"job_title":"Head of Procurement","company_size":800},"timestamp":"2026-03-01T11:00:00Z","messageId":"b"}"#,
    ];
    std::fs::write(&events, lines.join("\n") + "\n").unwrap_or_else(|e| panic!("{e}"));
    let output = maclc(&[
        "run".as_ref(),
        "examples/reference-r1".as_ref(),
        "--events".as_ref(),
        events.as_os_str(),
        "--explain".as_ref(),
        "user-1".as_ref(),
    ]);
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        stdout,
        "user-1\n  general_interest = 0\n  medical_interest = 5\n    2026-03-01T10:00:00.000Z  +5  (line 1)  +5 on page_view where path starts_with \"/medical\" limit 3 per day\n  fit = 85\n    2026-03-01T11:00:00.000Z  +15  (line 2)  +15 when contact.job_title is known and contact.job_title matches \"(?i)purchas|procurement\"\n    2026-03-01T11:00:00.000Z  +50  (line 2)  +50 when contact.job_title is known and contact.job_title matches \"(?i)\\\\b(vp|vice president|director|head|chief|cto|ceo|cfo)\\\\b\"\n    2026-03-01T11:00:00.000Z  +20  (line 2)  +20 when (contact.company_size ?? 0) >= 500\n  segments: none\n"
    );
}

#[test]
fn maclc_test_runs_the_r1_test_blocks() {
    let output = maclc(&["test".as_ref(), "examples/reference-r1".as_ref()]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.ends_with("\n14 passed, 0 failed\n"), "{stdout}");
}

/// The bundled sample (`examples/reference-r1/events.sample.jsonl`, written by
/// `gen_events.py --contacts 100 --events 3000 --malformed-rate 0.004 --seed 11`) gives the
/// committed state, which the independent Python reference also gives. This needs neither
/// Python nor the generator, so it runs everywhere.
#[test]
fn the_bundled_sample_gives_the_expected_state() {
    let dir = std::env::temp_dir().join(format!("maclc-sample-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let state = dir.join("state.jsonl");
    let rejects = dir.join("rejects.jsonl");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let summary = run_r1(
        &root.join("examples/reference-r1/events.sample.jsonl"),
        &state,
        &rejects,
    );
    let actual = read(&state);
    let rejected = String::from_utf8_lossy(&read(&rejects)).lines().count();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        actual == read(&root.join("examples/reference-r1/state.sample.jsonl")),
        "state differs from examples/reference-r1/state.sample.jsonl"
    );
    assert_eq!(rejected, 14, "the sample holds 14 malformed lines");
    assert!(summary.contains("contacts: 100"), "{summary}");
}
