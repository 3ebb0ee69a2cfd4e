//! Test coverage for `maclc test --coverage`: which score rules, segments, lifecycle
//! transitions, routing branches and journey steps the tests exercised.
//!
//! The items come from the checked `Program` (each with its span); the hits come from what the
//! test runs recorded (each contact's trace and the segments seen at each step), so coverage is
//! a pure function of the program and the outcomes. What "exercised" means per kind is written
//! in `docs/testing.md`.

use maclc_compiler::check::{Program, RuleTrigger, Step, StepKind};
use maclc_compiler::source::Span;
use maclc_runtime::engine::BOUNDS_RULE;
use maclc_runtime::testing::{Happened, TestOutcome};

/// The kinds of things coverage counts, in the order they are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    EventRule,
    ProfileRule,
    Segment,
    Transition,
    RouteBranch,
    JourneyStep,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::EventRule,
        Kind::ProfileRule,
        Kind::Segment,
        Kind::Transition,
        Kind::RouteBranch,
        Kind::JourneyStep,
    ];

    /// The kind in a marketer's words (the text report).
    pub fn label(self) -> &'static str {
        match self {
            Kind::EventRule => "score rules on events",
            Kind::ProfileRule => "score rules on the profile",
            Kind::Segment => "segments",
            Kind::Transition => "lifecycle transitions",
            Kind::RouteBranch => "routing branches",
            Kind::JourneyStep => "journey steps",
        }
    }

    /// The kind's key in JSON.
    pub fn key(self) -> &'static str {
        match self {
            Kind::EventRule => "event_rules",
            Kind::ProfileRule => "profile_rules",
            Kind::Segment => "segments",
            Kind::Transition => "transitions",
            Kind::RouteBranch => "routing_branches",
            Kind::JourneyStep => "journey_steps",
        }
    }
}

/// Which item of the program, by ids (what the trace names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Rule { score: u32, rule: u32 },
    Segment(u32),
    Transition(u32),
    Route { route: u32, rule: u32 },
    Step { journey: u32, step: u32 },
}

/// One thing a test can exercise.
#[derive(Debug, Clone)]
pub struct Item {
    pub kind: Kind,
    key: Key,
    /// Where it is written (its first line is the item's line in LCOV).
    pub span: Span,
    /// What a report quotes: the rule or step; a segment's condition.
    pub text: Span,
    /// What holds it, in words: "score `interest`", "routing `mql_handoff`".
    pub owner: String,
    /// How many times the tests exercised it (see `docs/testing.md` per kind).
    pub hits: u64,
    /// Exercised; for a segment, seen with a contact in it and with one out of it.
    pub covered: bool,
    /// Why it counts as not exercised, when it does not (a sentence without the item's text).
    pub missing: String,
}

/// The coverage of one project's tests.
#[derive(Debug, Clone, Default)]
pub struct Coverage {
    /// In the order of the program: scores and their rules, segments, transitions, routes,
    /// journeys and their steps.
    pub items: Vec<Item>,
}

impl Coverage {
    /// (covered, total) of one kind.
    pub fn count(&self, kind: Kind) -> (usize, usize) {
        let of_kind = self.items.iter().filter(|i| i.kind == kind);
        let total = of_kind.clone().count();
        (of_kind.filter(|i| i.covered).count(), total)
    }
}

/// What `outcomes` (tests of `program`) exercised.
pub fn measure(program: &Program, outcomes: &[TestOutcome]) -> Coverage {
    let mut items = items(program);
    let mut segment_in = vec![0u64; program.segments.len()];
    let mut segment_out = vec![false; program.segments.len()];
    for outcome in outcomes {
        let exercised = &outcome.exercised;
        for (count, seen) in segment_in.iter_mut().zip(&exercised.segments_in) {
            *count += u64::from(*seen);
        }
        for (any, seen) in segment_out.iter_mut().zip(&exercised.segments_out) {
            *any |= *seen;
        }
        for entry in exercised.traces.iter().flatten() {
            let key = match entry.what {
                Happened::Points {
                    score, rule, delta, ..
                } if rule != BOUNDS_RULE => {
                    // A profile rule that stops holding takes its points back: only its starts
                    // count.
                    let points = program
                        .scores
                        .get(score as usize)
                        .and_then(|s| s.rules.get(rule as usize))
                        .map_or(0.0, |r| r.points);
                    let is_profile = program
                        .scores
                        .get(score as usize)
                        .and_then(|s| s.rules.get(rule as usize))
                        .is_some_and(|r| matches!(r.trigger, RuleTrigger::Profile(_)));
                    if is_profile && (delta >= 0.0) != (points >= 0.0) {
                        continue;
                    }
                    Key::Rule { score, rule }
                }
                Happened::Transition { transition } => Key::Transition(transition),
                Happened::Route { route, rule } => Key::Route { route, rule },
                Happened::JourneyStep { journey, step } => Key::Step { journey, step },
                _ => continue,
            };
            if let Some(item) = items.iter_mut().find(|i| i.key == key) {
                item.hits += 1;
            }
        }
    }
    for item in &mut items {
        if let Key::Segment(s) = item.key {
            let seen_in = segment_in.get(s as usize).copied().unwrap_or(0);
            let seen_out = segment_out.get(s as usize).copied().unwrap_or(false);
            item.covered = seen_in > 0 && seen_out;
            // Counted as exercised only when both sides were seen.
            item.hits = if item.covered { seen_in } else { 0 };
            item.missing = match (seen_in > 0, seen_out) {
                (false, false) => "no test looked at a contact".to_string(),
                (false, true) => "no test had a contact in it".to_string(),
                (true, false) => "no test had a contact outside it".to_string(),
                (true, true) => String::new(),
            };
        } else {
            item.covered = item.hits > 0;
            if item.covered {
                item.missing.clear();
            }
        }
    }
    Coverage { items }
}

/// Every item of the program, not yet exercised.
fn items(program: &Program) -> Vec<Item> {
    let mut items = Vec::new();
    let mut item = |kind, key, span: Span, owner: String, missing: &str| {
        items.push(Item {
            kind,
            key,
            span,
            text: span,
            owner,
            hits: 0,
            covered: false,
            missing: missing.to_string(),
        });
    };
    for (s, score) in program.scores.iter().enumerate() {
        for (r, rule) in score.rules.iter().enumerate() {
            let (kind, missing) = match rule.trigger {
                RuleTrigger::Event { .. } => (Kind::EventRule, "never gave points"),
                RuleTrigger::Profile(_) => {
                    (Kind::ProfileRule, "never held for a contact of a test")
                }
            };
            let key = Key::Rule {
                score: s as u32,
                rule: r as u32,
            };
            item(
                kind,
                key,
                rule.span,
                format!("score `{}`", score.name),
                missing,
            );
        }
    }
    for (s, segment) in program.segments.iter().enumerate() {
        item(
            Kind::Segment,
            Key::Segment(s as u32),
            segment.span,
            format!("segment `{}`", segment.name),
            "",
        );
    }
    if let Some(lifecycle) = &program.lifecycle {
        for (t, transition) in lifecycle.transitions.iter().enumerate() {
            item(
                Kind::Transition,
                Key::Transition(t as u32),
                transition.span,
                "lifecycle".to_string(),
                "never moved a contact",
            );
        }
    }
    for (r, route) in program.routes.iter().enumerate() {
        for (k, rule) in route.rules.iter().enumerate() {
            let missing = if rule.condition.is_none() {
                "no lead fell through to this fallback"
            } else {
                "was never chosen"
            };
            item(
                Kind::RouteBranch,
                Key::Route {
                    route: r as u32,
                    rule: k as u32,
                },
                rule.span,
                format!("routing `{}`", route.name),
                missing,
            );
        }
    }
    for (j, journey) in program.journeys.iter().enumerate() {
        let mut steps = Vec::new();
        walk(&journey.steps, &mut steps);
        steps.sort_by_key(|s| s.id);
        for step in steps {
            item(
                Kind::JourneyStep,
                Key::Step {
                    journey: j as u32,
                    step: step.id.0,
                },
                step.span,
                format!("journey `{}`", journey.name),
                "no contact reached this step",
            );
        }
    }
    // A segment is quoted by its condition.
    for item in &mut items {
        if let Key::Segment(s) = item.key {
            if let Some(segment) = program.segments.get(s as usize) {
                item.text = segment.condition.span;
            }
        }
    }
    items
}

/// Every step of a journey, nested ones included.
fn walk<'a>(steps: &'a [Step], out: &mut Vec<&'a Step>) {
    for step in steps {
        if matches!(step.kind, StepKind::Error) {
            continue;
        }
        out.push(step);
        match &step.kind {
            StepKind::WaitForEvent { on_timeout, .. } => walk(on_timeout, out),
            StepKind::If {
                then, otherwise, ..
            } => {
                walk(then, out);
                walk(otherwise, out);
            }
            StepKind::Split { arms } => {
                for (_, arm) in arms {
                    walk(arm, out);
                }
            }
            StepKind::RandomSplit { arms } => {
                for (_, _, arm) in arms {
                    walk(arm, out);
                }
            }
            _ => {}
        }
    }
}
