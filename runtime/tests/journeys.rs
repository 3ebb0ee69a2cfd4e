//! Journey runs through the engine's per-contact functions: positions kept by stable step name
//! across program versions (and what happens to a run whose step is gone), random split
//! determinism, and time passing with no event.

use maclc_compiler::ir::{lower, Ir};
use maclc_compiler::source::Sources;
use maclc_runtime::engine::{apply_events, begin_record, finish_contact, ContactState};
use maclc_runtime::journey::{rebind, split_bucket, Outcome};

const SCHEMA: &str = r#"
channel email opt_out
contact {
  email: text
}
event signed_up from track "Signed Up"
event clicked from track "Clicked"
"#;

fn compile(journeys: &str) -> (maclc_compiler::check::Program, Ir) {
    let mut sources = Sources::new();
    sources.add("t.marketing".to_string(), format!("{SCHEMA}{journeys}"));
    let analysis = maclc_compiler::analyze(&sources);
    assert!(!analysis.has_errors(), "{:#?}", analysis.diagnostics);
    let ir = lower(&analysis.program).unwrap_or_else(|e| panic!("{e}"));
    (analysis.program, ir)
}

const HOUR: i64 = 3_600_000;
const T0: i64 = 1_772_442_000_000; // 2026-03-02T09:00:00Z

/// A contact that signed up at `T0`, brought to `until`.
fn signed_up(ir: &Ir, program: &maclc_compiler::check::Program, until: i64) -> ContactState {
    let event = program.event_named("signed_up").map_or(0, |e| e.0);
    let mut state = ContactState::new(ir, "c-1");
    begin_record(ir, &mut state, T0);
    apply_events(ir, &mut state, vec![(event, Box::new([]))], T0, 1, "m-1");
    finish_contact(ir, &mut state, until);
    state
}

const V1: &str = r#"
journey welcome "Welcome" {
  trigger on signed_up
  send email "hello"
  wait 1d
  follow_up: wait until clicked within 2d else send email "nudge"
  send email "bye"
}
"#;

#[test]
fn a_new_version_keeps_runs_whose_step_still_exists() {
    let (p1, ir1) = compile(V1);
    let state = signed_up(&ir1, &p1, T0 + 2 * HOUR);
    let run = state.journeys.runs.first().map(|r| r.step_name.to_string());
    assert_eq!(run.as_deref(), Some("wait 1d"));

    // The new version adds a step before the wait: the run is found by name, not position.
    let (p2, ir2) = compile(
        r#"
journey welcome "Welcome" {
  trigger on signed_up
  send email "hello"
  send email "hello-again"
  wait 1d
  follow_up: wait until clicked within 2d else send email "nudge"
}
"#,
    );
    let names: Vec<String> = p1.journeys.iter().map(|j| j.name.clone()).collect();
    let mut moved = state.clone();
    assert_eq!(rebind(&ir2, &names, &mut moved, T0 + 2 * HOUR), 0);
    let step = moved.journeys.runs.first().map(|r| r.step);
    assert_eq!(step, ir2.journeys.journeys[0].step_named("wait 1d"));
    // It goes on from there under the new program: after the wait, the labelled step.
    finish_contact(&ir2, &mut moved, T0 + 25 * HOUR);
    let at = moved.journeys.runs.first().map(|r| r.step_name.to_string());
    assert_eq!(at.as_deref(), Some("follow_up"));
    let _ = p2;
}

#[test]
fn a_run_whose_step_was_removed_ends_and_sends_nothing_more() {
    let (p1, ir1) = compile(V1);
    let state = signed_up(&ir1, &p1, T0 + 2 * HOUR);
    let (_, ir2) = compile(
        r#"
journey welcome "Welcome" {
  trigger on signed_up
  send email "hello"
  follow_up: wait until clicked within 2d else send email "nudge"
}
"#,
    );
    let names: Vec<String> = p1.journeys.iter().map(|j| j.name.clone()).collect();
    let mut moved = state.clone();
    let sent_before = moved.actions.len();
    assert_eq!(rebind(&ir2, &names, &mut moved, T0 + 2 * HOUR), 1);
    assert!(moved.journeys.runs.is_empty());
    assert_eq!(
        moved.journeys.ended.last().map(|e| e.2),
        Some(Outcome::StepRemoved)
    );
    finish_contact(&ir2, &mut moved, T0 + 10 * 24 * HOUR);
    assert_eq!(moved.actions.len(), sent_before, "nothing more is sent");
}

#[test]
fn a_wait_times_out_on_event_time_with_no_event() {
    let (p, ir) = compile(V1);
    // 1d wait, then 2d for a click: the nudge is due at T0 + 3d exactly.
    let before = signed_up(&ir, &p, T0 + 72 * HOUR - 1);
    let templates = |s: &ContactState| -> Vec<String> {
        s.actions
            .iter()
            .filter_map(|a| a.payload.iter().find(|(k, _)| k == "template"))
            .map(|(_, v)| v.clone())
            .collect()
    };
    assert_eq!(templates(&before), ["hello"]);
    let at = signed_up(&ir, &p, T0 + 72 * HOUR);
    assert_eq!(templates(&at), ["hello", "nudge", "bye"]);
    assert_eq!(at.actions.get(1).map(|a| a.time), Some(T0 + 72 * HOUR));
}

#[test]
fn a_random_split_gives_a_contact_the_same_arm_every_time() {
    let (p, ir) = compile(
        r#"
journey ab "A/B" {
  trigger on signed_up
  random split {
    50% a => send email "a"
    50% b => send email "b"
  }
}
"#,
    );
    let template = |s: &ContactState| {
        s.actions
            .first()
            .and_then(|a| a.payload.iter().find(|(k, _)| k == "template"))
            .map(|(_, v)| v.clone())
    };
    let first = template(&signed_up(&ir, &p, T0 + HOUR));
    for _ in 0..5 {
        assert_eq!(template(&signed_up(&ir, &p, T0 + HOUR)), first);
    }
    // The arm is a pure function of (contact, journey, step): fixed values pin it down, so a
    // change of the hash (which would reshuffle every running A/B test) cannot go unnoticed.
    assert_eq!(split_bucket("c-1", "ab", "random split"), 501);
}
