//! `maclc run --contacts FILE`: a contact snapshot (CRM export) read before the events.
//!
//! On `examples/reference-r1`: a snapshot row gives a contact its profile (and fit points)
//! before its first record; an identify later replaces the fields it carries and keeps the
//! others; a contact of the snapshot with no event is still a contact; bad rows are rejects
//! with `"source":"contacts"`, and the run goes on.

use std::path::Path;
use std::process::{Command, Output};

fn maclc(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_maclc"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("maclc does not run: {e}"))
}

fn write(path: &Path, lines: &[&str]) {
    std::fs::write(path, lines.join("\n") + "\n")
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

fn traits(email: &str, job: Option<&str>, size: Option<u32>) -> String {
    let mut t = format!(
        r#""email":"{email}","first_name":"Ana","country":"DE","timezone":"Europe/Berlin","consent":{{"email":"granted","sms":"unknown"}},"unsubscribed":false,"blocklisted":false"#
    );
    if let Some(job) = job {
        t.push_str(&format!(r#","job_title":"{job}""#));
    }
    if let Some(size) = size {
        t.push_str(&format!(
            r#","company":{{"id":"acc-1","name":"Acme"}},"company_size":{size}"#
        ));
    }
    format!("{{{t}}}")
}

/// Runs R1 over `events` with `contacts`; returns (state lines, reject lines, stderr).
fn run(dir: &Path, contacts: &[&str], events: &[&str]) -> (Vec<String>, Vec<String>, String) {
    let (contacts_file, events_file) = (dir.join("contacts.jsonl"), dir.join("events.jsonl"));
    write(&contacts_file, contacts);
    write(&events_file, events);
    let (state, rejects) = (dir.join("state.jsonl"), dir.join("rejects.jsonl"));
    let output = maclc(&[
        "run".as_ref(),
        "examples/reference-r1".as_ref(),
        "--contacts".as_ref(),
        contacts_file.as_os_str(),
        "--events".as_ref(),
        events_file.as_os_str(),
        "--state-out".as_ref(),
        state.as_os_str(),
        "--rejects".as_ref(),
        rejects.as_os_str(),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{stderr}");
    let lines = |p: &Path| -> Vec<String> {
        std::fs::read_to_string(p)
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
            .lines()
            .map(str::to_string)
            .collect()
    };
    (lines(&state), lines(&rejects), stderr)
}

fn demo(user: &str, time: &str) -> String {
    format!(
        r#"{{"type":"track","event":"Demo Requested","userId":"{user}","properties":{{"product_line":"general"}},"timestamp":"2026-03-02T{time}:00.000Z","messageId":"{user}-{time}"}}"#
    )
}

fn identify(user: &str, traits: &str, time: &str) -> String {
    format!(
        r#"{{"type":"identify","userId":"{user}","traits":{traits},"timestamp":"2026-03-02T{time}:00.000Z","messageId":"{user}-id-{time}"}}"#
    )
}

fn row(user: &str, traits: &str) -> String {
    format!(r#"{{"userId":"{user}","traits":{traits}}}"#)
}

#[test]
fn the_snapshot_gives_the_profile_before_the_events() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let director = traits("a@x.example", Some("Director of Operations"), Some(800));
    let (state, rejects, stderr) = run(
        tmp.path(),
        &[
            &row("u-1", &director),
            &row("u-2", &traits("b@x.example", None, None)),
        ],
        &[&demo("u-1", "10:00")],
    );
    assert!(rejects.is_empty(), "{rejects:?}");
    // Fit from the snapshot: director +50, 800 employees +20.
    assert_eq!(state.len(), 2, "{state:?}");
    assert!(state[0].contains(r#""contact":"u-1""#), "{state:?}");
    assert!(state[0].contains(r#""fit":70"#), "{}", state[0]);
    assert!(
        state[0].contains(r#""general_interest":90"#),
        "{}",
        state[0]
    );
    // A contact of the snapshot alone is a contact, as of the last event's time.
    assert!(state[1].contains(r#""contact":"u-2""#), "{state:?}");
    assert!(state[1].contains(r#""fit":0"#), "{}", state[1]);
    assert!(
        stderr.contains("contact snapshot: 2 lines read: 2 valid, 0 skipped"),
        "{stderr}"
    );
}

#[test]
fn an_identify_replaces_the_fields_it_gives_and_keeps_the_others() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let snapshot = traits("a@x.example", Some("Head of Purchasing"), Some(800));
    // The identify has no job title and no company: the snapshot's stay.
    let later = traits("a@competitor.example", None, None);
    let (state, _, _) = run(
        tmp.path(),
        &[&row("u-1", &snapshot)],
        &[&demo("u-1", "10:00"), &identify("u-1", &later, "11:00")],
    );
    // Purchasing +15, head +50, 800 employees +20, competitor e-mail -100.
    assert!(state[0].contains(r#""fit":-15"#), "{}", state[0]);
    // Without the snapshot, the identify alone: only the competitor e-mail counts.
    let (state, _, _) = run(
        tmp.path(),
        &[],
        &[&demo("u-1", "10:00"), &identify("u-1", &later, "11:00")],
    );
    assert!(state[0].contains(r#""fit":-100"#), "{}", state[0]);
}

#[test]
fn bad_snapshot_lines_are_rejects_with_their_source() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let good = traits("a@x.example", None, None);
    let (state, rejects, stderr) = run(
        tmp.path(),
        &[
            &row("u-1", &good),
            r#"{"userId":"u-2","traits":"#,
            &format!(r#"{{"traits":{good}}}"#),
            r#"{"userId":"u-3","traits":{"email":42}}"#,
            &row("u-1", &traits("other@x.example", None, None)),
            "[1,2]",
        ],
        &[&demo("u-1", "10:00"), "not json"],
    );
    let reasons: Vec<String> = rejects
        .iter()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}"));
            format!(
                "{} {} {}",
                v["source"].as_str().unwrap_or("events"),
                v["line"],
                v["reason"].as_str().unwrap_or("?")
            )
        })
        .collect();
    assert_eq!(
        reasons,
        [
            "contacts 2 invalid_json",
            "contacts 3 missing_identity",
            "contacts 4 wrong_property_type",
            "contacts 5 duplicate_contact",
            "contacts 6 not_object",
            "events 2 invalid_json",
        ]
    );
    // The first row of u-1 is kept.
    assert_eq!(state.len(), 1, "{state:?}");
    assert!(
        stderr.contains("contact snapshot: 6 lines read: 1 valid, 5 skipped"),
        "{stderr}"
    );
}

#[test]
fn a_row_of_an_id_merged_by_an_alias_applies_to_its_contact() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let alias = r#"{"type":"alias","previousId":"old-1","userId":"u-1","timestamp":"2026-03-02T09:00:00.000Z","messageId":"a1"}"#;
    let director = traits("a@x.example", Some("Director of Sales"), None);
    let plain = traits("b@x.example", None, None);
    // Only the old id has a row: it is the contact's profile.
    let (state, _, stderr) = run(
        tmp.path(),
        &[&row("old-1", &director)],
        &[alias, &demo("u-1", "10:00")],
    );
    assert_eq!(state.len(), 1, "{state:?}");
    assert!(state[0].contains(r#""contact":"u-1""#), "{}", state[0]);
    assert!(state[0].contains(r#""fit":50"#), "{}", state[0]);
    assert!(!stderr.contains("snapshot rows not applied"), "{stderr}");
    // Both have a row: the contact's own wins, and the other is counted.
    let (state, _, stderr) = run(
        tmp.path(),
        &[&row("old-1", &director), &row("u-1", &plain)],
        &[alias, &demo("u-1", "10:00")],
    );
    assert_eq!(state.len(), 1, "{state:?}");
    assert!(state[0].contains(r#""fit":0"#), "{}", state[0]);
    assert!(
        stderr.contains(
            "snapshot rows not applied (merged by an alias into a contact with its own row): 1"
        ),
        "{stderr}"
    );
}
