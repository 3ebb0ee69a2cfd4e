//! Runs the `test` blocks of a program through the engine: the basis of `maclc test`.
//!
//! A test gives contacts (profile fields, consent, a starting stage), events at times and
//! expectations. Each contact is a `ContactState` driven with the same functions a run uses
//! (`begin_record`, `apply_events`, `finish_contact`), so a test checks the engine's semantics,
//! not a copy of them. An expectation is checked on a copy of the state brought to its time,
//! so time passing with no event (windows, decay, SLA timers) is seen.
//! Not checked yet: expectations about journeys, sends and routings by journeys.

use maclc_compiler::check::{
    Expectation, Program, ScoreRef, TestKey, TestStepKind, TestTime, Value,
};
use maclc_compiler::ir::Ir;
use maclc_compiler::syntax::ast::{CompareOp, ScoreCheck};

use crate::engine::ContactState;
use crate::engine::{apply_events, begin_record, finish_contact, refresh_profile_points};
use crate::eval::Val;

/// The outcome of one test block.
#[derive(Debug, Clone, PartialEq)]
pub struct TestOutcome {
    pub name: String,
    /// One line per expectation that did not hold (empty: the test passed).
    pub failures: Vec<String>,
    /// Expectations this runtime cannot check yet (journeys, sends).
    pub skipped: usize,
}

fn val(value: &Value) -> Val {
    match value {
        Value::Text(t) => Val::Text(t.as_str().into()),
        Value::Number(n) | Value::Percent(n) => Val::Num(*n),
        Value::Money { amount, .. } => Val::Num(*amount),
        Value::Bool(b) => Val::Bool(*b),
        Value::Date(d) => Val::Date(*d),
        Value::Timestamp(t) => Val::Timestamp(*t),
        Value::Duration(d) => Val::Num(*d as f64),
        Value::Time(m) => Val::Num(f64::from(*m)),
        Value::Enum(_, v) => Val::Enum(*v),
        Value::Consent(c) => Val::Consent(*c),
        Value::Stage(s) => Val::Enum(s.0),
        Value::List(_) => Val::Missing,
    }
}

/// Runs every test block of `program` (lowered as `ir`).
pub fn run_tests(program: &Program, ir: &Ir) -> Vec<TestOutcome> {
    program
        .tests
        .iter()
        .map(|test| {
            let mut failures = Vec::new();
            let mut skipped = 0;
            let mut contacts: Vec<ContactState> = test
                .contacts
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let id = c
                        .name
                        .clone()
                        .unwrap_or_else(|| format!("contact-{}", i + 1));
                    let mut state = ContactState::new(ir, &id);
                    for (key, value) in &c.fields {
                        match key {
                            TestKey::Contact(f) => {
                                if let Some(slot) = state.profile.get_mut(f.index()) {
                                    *slot = val(value);
                                }
                            }
                            TestKey::Consent(ch) => {
                                if let (Some(slot), Value::Consent(v)) =
                                    (state.consent.get_mut(ch.index()), value)
                                {
                                    *slot = *v;
                                }
                            }
                            TestKey::Stage => {
                                if let Value::Stage(s) = value {
                                    state.stage = s.0;
                                }
                            }
                            TestKey::Account { link, field, .. } => {
                                let slot = ir.account_slot(link.0, *field);
                                if let Some(v) =
                                    slot.and_then(|i| state.account.get_mut(i as usize))
                                {
                                    *v = val(value);
                                }
                            }
                        }
                    }
                    state
                })
                .collect();
            if contacts.is_empty() {
                contacts.push(ContactState::new(ir, "contact-1"));
            }
            let mut now = 0i64;
            // Test contacts start with their profile: its points count from the start.
            for state in &mut contacts {
                refresh_profile_points(ir, state, now, 0);
            }
            for (n, step) in test.steps.iter().enumerate() {
                match step.at {
                    Some(TestTime::Absolute(t)) => now = t,
                    Some(TestTime::After(d)) => now += d,
                    None => {}
                }
                let who = step.contact.unwrap_or(0);
                let Some(state) = contacts.get_mut(who) else {
                    continue;
                };
                match &step.kind {
                    TestStepKind::Event { event, properties } => {
                        let count = ir
                            .events
                            .get(event.index())
                            .map_or(0, |e| e.properties.len());
                        let mut props = vec![Val::Missing; count];
                        for (p, v) in properties {
                            if let Some(slot) = props.get_mut(*p as usize) {
                                *slot = val(v);
                            }
                        }
                        begin_record(ir, state, now);
                        let trigger = format!("test step {}", n + 1);
                        apply_events(
                            ir,
                            state,
                            vec![(event.0, props.into_boxed_slice())],
                            now,
                            0,
                            &trigger,
                        );
                    }
                    TestStepKind::Expect(expectation) => {
                        let mut view = state.clone();
                        finish_contact(ir, &mut view, now);
                        match check(ir, &view, expectation) {
                            Check::Holds => {}
                            Check::Fails(why) => failures.push(why),
                            Check::Skipped => skipped += 1,
                        }
                    }
                }
            }
            TestOutcome {
                name: test.name.clone(),
                failures,
                skipped,
            }
        })
        .collect()
}

enum Check {
    Holds,
    Fails(String),
    Skipped,
}

fn check(ir: &Ir, state: &ContactState, expectation: &Expectation) -> Check {
    match expectation {
        Expectation::Score {
            score: ScoreRef::Contact(s),
            check,
        } => {
            let name = ir.scores.get(s.index()).map_or("?", |x| x.name.as_str());
            let value = state.scores.get(s.index()).map_or(0.0, |x| x.value());
            let holds = match check {
                ScoreCheck::Compare { op, value: v } => match op {
                    CompareOp::Eq => value == *v,
                    CompareOp::Ne => value != *v,
                    CompareOp::Lt => value < *v,
                    CompareOp::Le => value <= *v,
                    CompareOp::Gt => value > *v,
                    CompareOp::Ge => value >= *v,
                },
                ScoreCheck::Between { low, high } => *low <= value && value <= *high,
            };
            if holds {
                Check::Holds
            } else {
                let expected = match check {
                    ScoreCheck::Compare { op, value: v } => {
                        format!("{} {}", op.symbol(), crate::output::format_number(*v))
                    }
                    ScoreCheck::Between { low, high } => format!(
                        "between {} and {}",
                        crate::output::format_number(*low),
                        crate::output::format_number(*high)
                    ),
                };
                Check::Fails(format!(
                    "expected `{name}` {expected}, but it is {}",
                    crate::output::format_number(value)
                ))
            }
        }
        Expectation::InSegment { segment, negated } => {
            let member = state
                .segments
                .get(segment.index())
                .copied()
                .unwrap_or(false);
            let name = ir
                .segments
                .get(segment.index())
                .map_or("?", |x| x.name.as_str());
            if member != *negated {
                Check::Holds
            } else if member {
                Check::Fails(format!(
                    "expected not in `{name}`, but the contact is in it"
                ))
            } else {
                Check::Fails(format!(
                    "expected in `{name}`, but the contact is not in it"
                ))
            }
        }
        Expectation::Stage(stage) => {
            let names = ir.lifecycle.as_ref().map(|l| &l.stages);
            let name = |s: u32| {
                names
                    .and_then(|n| n.get(s as usize))
                    .map_or("?".to_string(), Clone::clone)
            };
            if state.stage == stage.0 {
                Check::Holds
            } else {
                Check::Fails(format!(
                    "expected stage `{}`, but it is `{}`",
                    name(stage.0),
                    name(state.stage)
                ))
            }
        }
        _ => Check::Skipped,
    }
}
