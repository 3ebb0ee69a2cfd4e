//! Runs the `test` blocks of a program through the engine: the basis of `maclc test`.
//!
//! A test gives contacts (profile fields, consent, a starting stage), events at times and
//! expectations. Each contact is a `ContactState` driven with the same functions a run uses
//! (`begin_record`, `apply_events`, `finish_contact`), so a test checks the engine's semantics,
//! not a copy of them. An expectation is checked on a copy of the state brought to its time,
//! so time passing with no event (windows, decay, SLA timers) is seen.
//! A failed expectation carries the contact's trace (its events, every score change with its
//! rule, stage changes, segment entries and exits, journey steps and actions) so a report can
//! say why, not only what. Sends, suppressions and routings are read from the actions the
//! contact's state holds up to the expectation's time; a journey position from its runs.

use maclc_compiler::check::{
    Expectation, Program, ScoreRef, Test, TestKey, TestStepKind, TestTime, Value,
};
use maclc_compiler::ir::Ir;
use maclc_compiler::source::Span;
use maclc_compiler::syntax::ast::{CompareOp, ScoreCheck};

use crate::engine::{apply_events, begin_record, finish_contact, refresh_profile_points};
use crate::engine::{ContactState, Decision};
use crate::eval::Val;
use crate::output::format_number;

/// The outcome of one test block.
#[derive(Debug, Clone, PartialEq)]
pub struct TestOutcome {
    pub name: String,
    /// The whole `test "…" { … }` block.
    pub span: Span,
    /// Every expectation that did not hold, in the order written (empty: the test passed).
    pub failures: Vec<Failure>,
    /// Expectations this runtime cannot check (account scores during a test).
    pub skipped: usize,
    /// What the test exercised, for `maclc test --coverage`.
    pub exercised: Exercised,
}

/// What one test exercised: each contact's whole trace to the end of the test, and which
/// segments the test saw a contact in, and out of, at any of its steps.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Exercised {
    /// One trace per contact, in the order the test declares them.
    pub traces: Vec<Vec<TraceEntry>>,
    /// By segment id: some contact of the test was in it at a step of the test.
    pub segments_in: Vec<bool>,
    /// By segment id: some contact of the test was out of it at a step of the test.
    pub segments_out: Vec<bool>,
}

impl TestOutcome {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// One expectation that did not hold, with what happened to its contact up to then.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// The `expect …` statement (with its `at …` when it has one).
    pub span: Span,
    /// The contact the expectation is about (`contact-1` for a test's unnamed contact).
    pub contact: String,
    /// The (virtual) time the expectation was checked at, in milliseconds since the epoch.
    pub time: i64,
    /// The expectation in canonical words: `medical_interest == 30`, `in undecided`.
    pub expected: String,
    /// What holds instead, in the same words: `5`, `not in undecided`, `lead`.
    pub actual: String,
    /// One sentence for a plain log: "expected `s` == 15, but it is 10".
    pub message: String,
    /// What happened to the contact up to the expectation, in time order.
    pub trace: Vec<TraceEntry>,
}

/// One thing that happened to a contact in a test.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceEntry {
    pub time: i64,
    pub what: Happened,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Happened {
    /// An event of the test (`span`: its statement).
    Event { event: u32, span: Span },
    /// An `identify { … }` step of the test changed the profile (`span`: its statement).
    Identify { span: Span },
    /// Points changed: `rule` is the rule's position in its score as written
    /// (`engine::BOUNDS_RULE` when a bound cut the change).
    Points {
        score: u32,
        rule: u32,
        delta: f64,
        /// The score's value right after this change (decay between changes included).
        value: Option<f64>,
    },
    /// The lifecycle stage changed (positions in the declared order).
    Stage { from: u32, to: u32 },
    /// The contact entered (or left) a segment: seen when the test moved to `time`.
    Segment { segment: u32, entered: bool },
    /// The lifecycle's transition `transition` (position as declared) moved the contact; it
    /// follows the `Stage` entry of that move.
    Transition { transition: u32 },
    /// Routing `route` (position in `Program::routes`) chose its rule `rule`.
    Route { route: u32, rule: u32 },
    /// A journey run reached a step (`journey`: index in `Program::journeys`, `step`:
    /// `StepId.0`).
    JourneyStep { journey: u32, step: u32 },
    /// A journey run ended (completed, converted, exited).
    JourneyEnded {
        journey: u32,
        outcome: crate::journey::Outcome,
    },
    /// An action the program took: its kind (`send`, `suppressed`, `route`…) and payload.
    Action {
        kind: &'static str,
        payload: Vec<(String, String)>,
    },
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

/// A test contact and what the test saw happen to it (besides what its state records).
struct Subject {
    state: ContactState,
    /// Its events and identify steps: (time, event id or `None` for an identify, the
    /// statement).
    events: Vec<(i64, Option<u32>, Span)>,
    /// Segment entries and exits, as seen at each step of the test.
    segments_seen: Vec<TraceEntry>,
    /// How many of `state.changes` and `segments_seen` were there from the start (profile
    /// points, starting segments): they come before the first event in the trace.
    at_start: (usize, usize),
    /// Membership as of the latest look.
    segments: Vec<bool>,
    /// By segment: seen in it, seen out of it, at some look.
    seen_in: Vec<bool>,
    seen_out: Vec<bool>,
}

impl Subject {
    fn new(ir: &Ir, state: ContactState) -> Subject {
        Subject {
            segments: vec![false; state.segments.len()],
            state,
            events: Vec::new(),
            segments_seen: Vec::new(),
            at_start: (0, 0),
            seen_in: vec![false; ir.segments.len()],
            seen_out: vec![false; ir.segments.len()],
        }
    }

    /// Looks at the contact's segments as of `now` (on a copy: looking changes nothing) and
    /// notes each entry and exit since the previous look.
    fn look(&mut self, ir: &Ir, now: i64) -> ContactState {
        let mut view = self.state.clone();
        finish_contact(ir, &mut view, now);
        for (i, (&was, &is)) in self.segments.iter().zip(&view.segments).enumerate() {
            if was != is {
                // In and out at one time (before and after an event) is no story: drop both.
                let undone = self.segments_seen.iter().rposition(|e| {
                    e.time == now
                        && matches!(e.what, Happened::Segment { segment, .. } if segment == i as u32)
                });
                if let Some(k) = undone {
                    self.segments_seen.remove(k);
                    if k < self.at_start.1 {
                        self.at_start.1 -= 1;
                    }
                    continue;
                }
                self.segments_seen.push(TraceEntry {
                    time: now,
                    what: Happened::Segment {
                        segment: i as u32,
                        entered: is,
                    },
                });
            }
        }
        self.segments.clone_from(&view.segments);
        for (i, &is) in view.segments.iter().enumerate() {
            let seen = if is {
                &mut self.seen_in
            } else {
                &mut self.seen_out
            };
            if let Some(s) = seen.get_mut(i) {
                *s = true;
            }
        }
        view
    }

    /// The contact's story up to `view` (a copy brought to the expectation's time), in time
    /// order; at one time, in the order things happened.
    fn trace(&self, ir: &Ir, view: &ContactState) -> Vec<TraceEntry> {
        let mut entries: Vec<(i64, usize, TraceEntry)> = Vec::new();
        // The order key within one time: an event first, then what it caused.
        let mut order = 0usize;
        let mut push = |entries: &mut Vec<(i64, usize, TraceEntry)>, entry: TraceEntry| {
            order += 1;
            entries.push((entry.time, order, entry));
        };
        for &(time, event, span) in &self.events {
            let what = match event {
                Some(event) => Happened::Event { event, span },
                None => Happened::Identify { span },
            };
            push(&mut entries, TraceEntry { time, what });
        }
        // Replays the score values so each change shows where it left the score; decay between
        // changes is not replayed, so scores with decay show the change only.
        let mut values: Vec<f64> = vec![0.0; ir.scores.len()];
        for change in &view.changes {
            let decays = ir
                .scores
                .get(change.score as usize)
                .is_some_and(|s| s.decay.is_some());
            let value = values.get_mut(change.score as usize).map(|v| {
                *v += change.delta;
                *v
            });
            push(
                &mut entries,
                TraceEntry {
                    time: change.ts,
                    what: Happened::Points {
                        score: change.score,
                        rule: change.rule,
                        delta: change.delta,
                        value: value.filter(|_| !decays),
                    },
                },
            );
        }
        // A stage change made by a transition is followed by that transition (journeys move
        // stages too, without one).
        let mut transitions: Vec<(i64, u32)> = view
            .decisions
            .iter()
            .filter_map(|d| match *d {
                Decision::Transition { time, transition } => Some((time, transition)),
                Decision::Route { .. } => None,
            })
            .collect();
        let target = |t: u32| {
            ir.lifecycle
                .as_ref()
                .and_then(|l| l.transitions.get(t as usize))
                .map(|t| t.to)
        };
        let mut stage_entries = 0;
        for &(time, from, to) in &view.stage_changes {
            push(
                &mut entries,
                TraceEntry {
                    time,
                    what: Happened::Stage { from, to },
                },
            );
            stage_entries += 1;
            let made_by = transitions
                .iter()
                .position(|&(t, k)| t == time && target(k) == Some(to));
            if let Some(k) = made_by {
                let (_, transition) = transitions.remove(k);
                push(
                    &mut entries,
                    TraceEntry {
                        time,
                        what: Happened::Transition { transition },
                    },
                );
                stage_entries += 1;
            }
        }
        for entry in &self.segments_seen {
            push(&mut entries, entry.clone());
        }
        for decision in &view.decisions {
            if let Decision::Route { time, route, rule } = *decision {
                push(
                    &mut entries,
                    TraceEntry {
                        time,
                        what: Happened::Route { route, rule },
                    },
                );
            }
        }
        // Journey steps, each followed by the actions it took; actions of no step (routings,
        // service levels) in their place.
        let mut actions = view.actions.iter().enumerate().peekable();
        let action_entry = |a: &crate::lifecycle::Action| TraceEntry {
            time: a.time,
            what: Happened::Action {
                kind: a.kind,
                payload: a.payload.clone(),
            },
        };
        // A routing's own action is already told by its `Route` decision.
        let told = |a: &crate::lifecycle::Action| a.rule.starts_with("route ");
        for &(time, journey, step, before) in &view.journeys.steps {
            while let Some((_, a)) = actions.next_if(|(i, _)| (*i as u32) < before) {
                if !told(a) {
                    push(&mut entries, action_entry(a));
                }
            }
            push(
                &mut entries,
                TraceEntry {
                    time,
                    what: Happened::JourneyStep { journey, step },
                },
            );
        }
        for (_, a) in actions {
            if !told(a) {
                push(&mut entries, action_entry(a));
            }
        }
        for &(time, journey, outcome) in &view.journeys.ended {
            push(
                &mut entries,
                TraceEntry {
                    time,
                    what: Happened::JourneyEnded { journey, outcome },
                },
            );
        }
        let (start_changes, start_segments) = self.at_start;
        let first_change = self.events.len();
        let first_stage = first_change + view.changes.len();
        let first_segment = first_stage + stage_entries;
        // At one time: what the contact started with, then events, then what they caused, each
        // kind in the order it happened.
        entries.sort_by_key(|(time, order, entry)| {
            let from_start = match entry.what {
                Happened::Points { .. } => *order - 1 - first_change < start_changes,
                Happened::Segment { .. } => *order - 1 - first_segment < start_segments,
                _ => false,
            };
            let rank = match entry.what {
                _ if from_start => 0,
                Happened::Event { .. } | Happened::Identify { .. } => 1,
                Happened::Points { .. } => 2,
                Happened::Stage { .. } | Happened::Transition { .. } => 3,
                Happened::Segment { .. } => 4,
                Happened::Route { .. } => 5,
                Happened::JourneyStep { .. } | Happened::Action { .. } => 6,
                Happened::JourneyEnded { .. } => 7,
            };
            (*time, rank, *order)
        });
        entries.into_iter().map(|(_, _, e)| e).collect()
    }
}

/// Runs every test block of `program` (lowered as `ir`).
pub fn run_tests(program: &Program, ir: &Ir) -> Vec<TestOutcome> {
    program
        .tests
        .iter()
        .map(|test| run_test(ir, test))
        .collect()
}

/// Runs one test block on its own virtual clock.
pub fn run_test(ir: &Ir, test: &Test) -> TestOutcome {
    let mut failures = Vec::new();
    let mut skipped = 0;
    let mut subjects: Vec<Subject> = test
        .contacts
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let id = c
                .name
                .clone()
                .unwrap_or_else(|| format!("contact-{}", i + 1));
            let mut state = ContactState::new(ir, &id);
            set_fields(ir, &mut state, &c.fields);
            state
        })
        .map(|state| Subject::new(ir, state))
        .collect();
    if subjects.is_empty() {
        subjects.push(Subject::new(ir, ContactState::new(ir, "contact-1")));
    }
    // The clock starts at the test's first time (not the epoch), so profile points and
    // starting segments are dated when the test begins.
    let mut now = match test.steps.iter().find_map(|s| s.at) {
        Some(TestTime::Absolute(t)) => t,
        _ => 0,
    };
    // Test contacts start with their profile: its points count from the start.
    for subject in &mut subjects {
        refresh_profile_points(ir, &mut subject.state, now, 0);
        // Date triggers are armed from the starting profile, at the test's first time.
        crate::journey::react(ir, &mut subject.state, &[], now, "test start");
        subject.look(ir, now);
        subject.at_start = (subject.state.changes.len(), subject.segments_seen.len());
    }
    for (n, step) in test.steps.iter().enumerate() {
        match step.at {
            Some(TestTime::Absolute(t)) => now = t,
            Some(TestTime::After(d)) => now += d,
            None => {}
        }
        let who = step.contact.unwrap_or(0);
        let Some(subject) = subjects.get_mut(who) else {
            continue;
        };
        match &step.kind {
            TestStepKind::Event { event, properties } => {
                // What time alone did before this event (a window closing, decay) is seen
                // here, before the event's own effects.
                subject.look(ir, now);
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
                subject.events.push((now, Some(event.0), step.span));
                let state = &mut subject.state;
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
                subject.look(ir, now);
            }
            TestStepKind::Identify { fields } => {
                // As an identify record: time moves, the traits replace the fields they carry,
                // profile points are recomputed, then segments, lifecycle, routing and journeys
                // (a `contact.FIELD changes` trigger) react.
                subject.look(ir, now);
                subject.events.push((now, None, step.span));
                let state = &mut subject.state;
                begin_record(ir, state, now);
                set_fields(ir, state, fields);
                refresh_profile_points(ir, state, now, 0);
                let trigger = format!("test step {}", n + 1);
                apply_events(ir, state, Vec::new(), now, 0, &trigger);
                subject.look(ir, now);
            }
            TestStepKind::Expect(expectation) => {
                let view = subject.look(ir, now);
                match check(ir, &view, expectation) {
                    Check::Holds => {}
                    Check::Fails {
                        expected,
                        actual,
                        message,
                    } => failures.push(Failure {
                        span: step.span,
                        contact: view.id.clone(),
                        time: now,
                        expected,
                        actual,
                        message,
                        trace: subject.trace(ir, &view),
                    }),
                    Check::Skipped => skipped += 1,
                }
            }
        }
    }
    // Each contact's whole story, to the test's last time: what coverage counts.
    let mut exercised = Exercised {
        traces: Vec::with_capacity(subjects.len()),
        segments_in: vec![false; ir.segments.len()],
        segments_out: vec![false; ir.segments.len()],
    };
    for subject in &mut subjects {
        let view = subject.look(ir, now);
        exercised.traces.push(subject.trace(ir, &view));
        for (all, seen) in [
            (&mut exercised.segments_in, &subject.seen_in),
            (&mut exercised.segments_out, &subject.seen_out),
        ] {
            for (a, s) in all.iter_mut().zip(seen) {
                *a |= *s;
            }
        }
    }
    TestOutcome {
        name: test.name.clone(),
        span: test.span,
        failures,
        skipped,
        exercised,
    }
}

/// Gives a test contact the fields, consents and stage of its `contact { … }` block, or of an
/// `identify { … }` step (only those it names change).
fn set_fields(ir: &Ir, state: &mut ContactState, fields: &[(TestKey, Value)]) {
    for (key, value) in fields {
        match key {
            TestKey::Contact(f) => {
                if let Some(slot) = state.profile.get_mut(f.index()) {
                    *slot = val(value);
                }
            }
            TestKey::Consent(ch) => {
                if let (Some(slot), Value::Consent(v)) = (state.consent.get_mut(ch.index()), value)
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
                if let Some(v) = slot.and_then(|i| state.account.get_mut(i as usize)) {
                    *v = val(value);
                }
                // The account's key is the link's value (`contact.company` is known
                // once the test gives `account.id`), as in a record's traits.
                let is_key = slot
                    .and_then(|i| ir.account_slots.get(i as usize))
                    .is_some_and(|a| a.is_key);
                if let (true, Some(v)) = (is_key, state.profile.get_mut(link.index())) {
                    *v = val(value);
                }
            }
        }
    }
}

enum Check {
    Holds,
    Fails {
        expected: String,
        actual: String,
        message: String,
    },
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
                return Check::Holds;
            }
            let wanted = match check {
                ScoreCheck::Compare { op, value: v } => {
                    format!("{} {}", op.symbol(), format_number(*v))
                }
                ScoreCheck::Between { low, high } => format!(
                    "between {} and {}",
                    format_number(*low),
                    format_number(*high)
                ),
            };
            let actual = score_words(value);
            Check::Fails {
                expected: format!("{name} {wanted}"),
                message: format!("expected `{name}` {wanted}, but it is {actual}"),
                actual,
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
                return Check::Holds;
            }
            let (expected, actual) = if member {
                (format!("not in {name}"), format!("in {name}"))
            } else {
                (format!("in {name}"), format!("not in {name}"))
            };
            let message = if member {
                format!("expected not in `{name}`, but the contact is in it")
            } else {
                format!("expected in `{name}`, but the contact is not in it")
            };
            Check::Fails {
                expected,
                actual,
                message,
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
                return Check::Holds;
            }
            Check::Fails {
                expected: format!("stage == {}", name(stage.0)),
                actual: name(state.stage),
                message: format!(
                    "expected stage `{}`, but it is `{}`",
                    name(stage.0),
                    name(state.stage)
                ),
            }
        }
        Expectation::Sent { channel, template } => {
            check_message(ir, state, "send", *channel, template)
        }
        Expectation::Suppressed { channel, template } => {
            check_message(ir, state, "suppressed", *channel, template)
        }
        Expectation::NotSent { channel, template } => {
            let channel = ir
                .channels
                .get(channel.index())
                .map_or("?", |c| c.name.as_str());
            let sent: Vec<&crate::lifecycle::Action> = state
                .actions
                .iter()
                .filter(|a| {
                    a.kind == "send"
                        && payload(a, "channel") == Some(channel)
                        && payload(a, "template") == Some(template.as_str())
                })
                .collect();
            let Some(first) = sent.first() else {
                return Check::Holds;
            };
            Check::Fails {
                expected: format!("not sent {channel} \"{template}\""),
                message: format!(
                    "expected no send of {channel} `{template}`, but it was sent ({})",
                    first.rule
                ),
                actual: action_words(first),
            }
        }
        Expectation::NotifiedQueue { queue, negated } => {
            let name = ir
                .queues
                .get(queue.index())
                .map_or("?", |q| q.name.as_str());
            check_notified(
                state,
                "queue",
                name,
                &format!("notified queue {name}"),
                *negated,
            )
        }
        Expectation::NotifiedAddress { address, negated } => check_notified(
            state,
            "recipient",
            address,
            &format!("notified \"{address}\""),
            *negated,
        ),
        Expectation::Listed { added, list } => {
            let kind = if *added { "list_add" } else { "list_remove" };
            if state
                .actions
                .iter()
                .any(|a| a.kind == kind && payload(a, "list") == Some(list.as_str()))
            {
                return Check::Holds;
            }
            let expected = if *added {
                format!("added to list \"{list}\"")
            } else {
                format!("removed from list \"{list}\"")
            };
            let changes: Vec<&crate::lifecycle::Action> = state
                .actions
                .iter()
                .filter(|a| matches!(a.kind, "list_add" | "list_remove"))
                .collect();
            missing_action(expected, &changes, "no list change")
        }
        Expectation::RoutedTo(queue) => {
            let name = ir
                .queues
                .get(queue.index())
                .map_or("?", |q| q.name.as_str());
            let routed: Vec<&str> = state
                .actions
                .iter()
                .filter(|a| a.kind == "route")
                .filter_map(|a| a.payload.iter().find(|(k, _)| k == "queue"))
                .map(|(_, q)| q.as_str())
                .collect();
            if routed.contains(&name) {
                return Check::Holds;
            }
            let actual = if routed.is_empty() {
                "not routed".to_string()
            } else {
                format!("routed to {}", routed.join(", "))
            };
            Check::Fails {
                expected: format!("routed to {name}"),
                message: format!("expected routed to `{name}`, but it was {actual}"),
                actual,
            }
        }
        Expectation::JourneyAt { journey, step } => {
            let Some(j) = ir.journeys.journeys.get(journey.index()) else {
                return Check::Skipped;
            };
            let step_name = j
                .steps
                .get(step.0 as usize)
                .map_or("?", |s| s.name.as_str());
            let runs: Vec<&crate::journey::Run> = state
                .journeys
                .runs
                .iter()
                .filter(|r| r.journey == journey.0)
                .collect();
            if runs.iter().any(|r| r.step == step.0) {
                return Check::Holds;
            }
            let expected = format!("journey {} at {step_name}", j.name);
            let actual = if runs.is_empty() {
                let ended = state
                    .journeys
                    .ended
                    .iter()
                    .rev()
                    .find(|(_, jj, _)| *jj == journey.0);
                match ended {
                    Some((_, _, outcome)) => {
                        format!(
                            "not in journey {} (its run {})",
                            j.name,
                            outcome_words(*outcome)
                        )
                    }
                    None => format!("not in journey {}", j.name),
                }
            } else {
                let at: Vec<&str> = runs.iter().map(|r| r.step_name.as_ref()).collect();
                format!("journey {} at {}", j.name, at.join(", "))
            };
            Check::Fails {
                message: format!("expected {expected}, but the contact is {actual}"),
                expected,
                actual,
            }
        }
        Expectation::NoActions => {
            if state.actions.is_empty() {
                return Check::Holds;
            }
            let actual = actions_words(ir, &state.actions);
            Check::Fails {
                expected: "no actions".into(),
                message: format!("expected no actions, but there were: {actual}"),
                actual,
            }
        }
        _ => Check::Skipped,
    }
}

/// A score as a reader wants it: whole numbers as they are, decayed ones to two decimals with
/// `about` so a rounded `70` that fails `>= 70` does not read as a contradiction.
pub fn score_words(value: f64) -> String {
    let rounded = (value * 100.0).round() / 100.0;
    if rounded == value || !value.is_finite() {
        format_number(value)
    } else {
        format!("about {}", format_number(rounded))
    }
}

/// How a journey run ended, in words.
pub fn outcome_words(outcome: crate::journey::Outcome) -> &'static str {
    match outcome {
        crate::journey::Outcome::Completed => "completed",
        crate::journey::Outcome::Converted => "met its goal",
        crate::journey::Outcome::Exited => "exited",
        crate::journey::Outcome::StepRemoved => "ended: its step was removed",
    }
}

fn payload<'a>(a: &'a crate::lifecycle::Action, key: &str) -> Option<&'a str> {
    a.payload
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// An action in the words of an expectation: `sent email "welcome"`, `routed to sales`.
pub fn action_words(a: &crate::lifecycle::Action) -> String {
    let message = || {
        format!(
            "{} \"{}\"",
            payload(a, "channel").unwrap_or("?"),
            payload(a, "template").unwrap_or("?")
        )
    };
    match a.kind {
        "send" => format!("sent {}", message()),
        "suppressed" => format!(
            "suppressed {} ({})",
            message(),
            payload(a, "reason").unwrap_or("no reason")
        ),
        "deferred" => format!(
            "deferred {} until {} ({})",
            message(),
            payload(a, "until").unwrap_or("?"),
            payload(a, "reason").unwrap_or("no reason")
        ),
        "route" => format!("routed to {}", payload(a, "queue").unwrap_or("?")),
        "notify" => match (payload(a, "queue"), payload(a, "recipient")) {
            (Some(q), _) => format!("notified queue {q}"),
            (None, Some(r)) => format!("notified {r}"),
            _ => "notified".into(),
        },
        "webhook" => format!(
            "called webhook {} {}",
            payload(a, "method").unwrap_or("?"),
            payload(a, "url").unwrap_or("?")
        ),
        "list_add" => format!("added to list \"{}\"", payload(a, "list").unwrap_or("?")),
        "list_remove" => format!(
            "removed from list \"{}\"",
            payload(a, "list").unwrap_or("?")
        ),
        other => other.to_string(),
    }
}

fn actions_words(_ir: &Ir, actions: &[crate::lifecycle::Action]) -> String {
    actions
        .iter()
        .map(action_words)
        .collect::<Vec<_>>()
        .join("; ")
}

/// `expect [not] notified …`: a notify action whose `key` (queue or recipient) is `who`.
fn check_notified(state: &ContactState, key: &str, who: &str, words: &str, negated: bool) -> Check {
    let notified: Vec<&crate::lifecycle::Action> = state
        .actions
        .iter()
        .filter(|a| a.kind == "notify")
        .collect();
    let found = notified.iter().find(|a| payload(a, key) == Some(who));
    if negated {
        let Some(first) = found else {
            return Check::Holds;
        };
        return Check::Fails {
            expected: format!("not {words}"),
            message: format!("expected not {words}, but it was ({})", first.rule),
            actual: action_words(first),
        };
    }
    if found.is_some() {
        return Check::Holds;
    }
    missing_action(words.to_string(), &notified, "no notification")
}

/// A failed expectation of an action: what was expected, and the actions shown instead
/// (`none`, such as "no message", when there are none).
fn missing_action(expected: String, shown: &[&crate::lifecycle::Action], none: &str) -> Check {
    let actual = if shown.is_empty() {
        none.to_string()
    } else {
        shown
            .iter()
            .map(|a| action_words(a))
            .collect::<Vec<_>>()
            .join("; ")
    };
    Check::Fails {
        message: format!("expected {expected}, but there was {actual}"),
        expected,
        actual,
    }
}

/// `expect sent …` / `expect suppressed …`: an action of `kind` with that channel and template.
fn check_message(
    ir: &Ir,
    state: &ContactState,
    kind: &str,
    channel: maclc_compiler::check::ChannelId,
    template: &str,
) -> Check {
    let channel = ir
        .channels
        .get(channel.index())
        .map_or("?", |c| c.name.as_str());
    let same = |a: &&crate::lifecycle::Action| {
        payload(a, "channel") == Some(channel) && payload(a, "template") == Some(template)
    };
    if state
        .actions
        .iter()
        .filter(|a| a.kind == kind)
        .any(|a| same(&a))
    {
        return Check::Holds;
    }
    let word = if kind == "send" { "sent" } else { "suppressed" };
    let expected = format!("{word} {channel} \"{template}\"");
    // What happened to this message instead, else every message so far.
    let same_message: Vec<&crate::lifecycle::Action> =
        state.actions.iter().filter(|a| same(a)).collect();
    let messages: Vec<&crate::lifecycle::Action> = state
        .actions
        .iter()
        .filter(|a| matches!(a.kind, "send" | "suppressed" | "deferred"))
        .collect();
    let shown = if same_message.is_empty() {
        messages
    } else {
        same_message
    };
    missing_action(expected, &shown, "no message")
}

#[cfg(test)]
mod score_words_tests {
    use super::score_words;

    #[test]
    fn decayed_scores_read_rounded_and_say_so() {
        assert_eq!(score_words(69.865_388_059_888_09), "about 69.87");
        assert_eq!(score_words(69.999), "about 70");
        assert_eq!(score_words(12.5), "12.5");
        assert_eq!(score_words(40.0), "40");
    }
}
