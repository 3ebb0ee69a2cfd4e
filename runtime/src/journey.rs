//! Journeys on event time: per-contact runs that start on triggers and walk their steps.
//!
//! A journey is more state on the same engine, not a second engine: its runs live in the
//! contact's [`ContactState`] ([`JourneyState`]), are driven by the same per-contact replay
//! (after each record, [`react`]; when time passes, the timer loop of
//! `lifecycle::fire_timers` wakes them at their due time, [`next_due`]), and act through the
//! lifecycle's action path (consent, idempotency keys, round robin).
//!
//! At each point in time, in this order: goals and exits of running runs (a goal first: the
//! run ends as converted and is counted); runs waiting for an event that arrived go on; runs
//! whose wait is over go on; triggers start new runs (entry rules permitting); every run that
//! can go on runs its steps until it waits or ends, checking its goals and exits before each
//! step. A step's effects (points, a stage, a field) can start other journeys: the pass is
//! repeated, a bounded number of times.
//!
//! A run's position is its step's **stable name** (see `maclc_compiler::ir::JourneyIr`) as
//! well as its index: [`rebind`] finds runs again in a new version of the program by name, and
//! ends the runs whose step is gone (`docs/language.md`, "Changing a journey").
//!
//! Date triggers arm a timer at the next moment (the date plus the offset, at the time of day
//! in the contact's zone). When the date becomes known after the moment, the contact joins at
//! the point of the journey that matches now (Klaviyo's rule): the run's clock starts at the
//! moment, waits that are already over pass at once, and a message whose time was on an
//! earlier day (contact time) than now is not sent late but reported `suppressed` (`too late`).
//! This applies while the date itself (for `before`) or the moment's day (for `on`, `after`)
//! has not passed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use maclc_compiler::ir::{
    Condition, ConditionIr, Expr, FrequencyCapIr, Ir, JourneyIr, JourneyTrigger, Node,
    QuietHoursIr, SendPolicy, StepKindIr, ValType, ZoneRef, ZoneRules,
};

use crate::engine::{scope, ContactState};
use maclc_compiler::calendar::{civil_from_days, days_from_civil, is_leap};

use crate::eval::{Val, MILLIS_PER_DAY, V};
use crate::lifecycle::{fnv1a, push_action, refusal, RecordEvents};
use crate::output::format_number;

/// One running journey of a contact.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// The journey ([`JourneysIr::journeys`](maclc_compiler::ir::JourneysIr)).
    pub journey: u32,
    /// The run's number within the contact (the order runs started in).
    pub number: u32,
    /// The entry key of a keyed journey (`entry per cart_id`): the property's value.
    pub key: Option<Box<str>>,
    /// The entry event's properties (`entry.cart_id`), by slot; empty without an entry event.
    pub entry: Box<[Val]>,
    /// When the run started (`entry.timestamp`).
    pub entered: i64,
    /// What started it (the record's `messageId`, `line N`, `timer`): part of action keys.
    pub cause: Box<str>,
    /// The step the run is at, by index and by stable name.
    pub step: u32,
    pub step_name: Box<str>,
    pub wait: Wait,
    /// The run's own clock: the time its current step happens at. Equal to event time except
    /// for a contact that joined a date journey late.
    pub clock: i64,
}

/// What a run is doing at its step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// About to run the step.
    Ready,
    /// Asleep until `due`, then goes to the next step (`wait 4h`, `wait until 09:00`).
    Sleep { due: i64 },
    /// The step is held until `due` (quiet hours, a cap) and runs again then.
    Retry { due: i64 },
    /// Waits for an event, until `due` when the wait has a time limit.
    Event { due: Option<i64> },
}

impl Wait {
    fn due(self) -> Option<i64> {
        match self {
            Wait::Ready => None,
            Wait::Sleep { due } | Wait::Retry { due } => Some(due),
            Wait::Event { due } => due,
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It reached its last step or an `end`.
    Completed,
    /// A goal was met: counted as converted.
    Converted,
    /// An exit condition held.
    Exited,
    /// Its step no longer exists in the program it runs under.
    StepRemoved,
}

/// A date trigger's timer.
#[derive(Debug, Clone, PartialEq)]
pub struct DateArm {
    /// The field's value it was computed for.
    pub value: Val,
    /// The next moment (`None`: no more).
    pub due: Option<i64>,
    /// The year of the anniversary `due` belongs to (yearly triggers).
    pub year: i64,
}

/// One message sent by a journey, for frequency caps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendMark {
    pub time: i64,
    pub journey: u32,
    pub channel: u32,
}

/// Everything journeys keep about one contact.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JourneyState {
    pub runs: Vec<Run>,
    /// Runs started so far (numbers runs).
    pub started: u32,
    /// Per journey, the latest entry per key (no key: `None`), for entry rules.
    pub entries: Vec<Vec<(Option<Box<str>>, i64)>>,
    /// Per journey, how many runs met a goal.
    pub converted: Vec<u32>,
    /// Every run that ended: (time, journey, outcome).
    pub ended: Vec<(i64, u32, Outcome)>,
    /// Every step a run took: (time, journey, step, how many actions the contact had before
    /// it), in order.
    pub steps: Vec<(i64, u32, u32, u32)>,
    /// Recent journey sends (pruned to the longest cap).
    pub sends: Vec<SendMark>,
    /// What triggers compare with: segments, stage changes seen, scores, watched fields.
    pub segments_seen: Vec<bool>,
    pub stage_changes_seen: usize,
    pub scores_seen: Vec<f64>,
    pub fields_seen: Vec<Val>,
    /// Per journey with a date trigger, its timer.
    pub dates: Vec<Option<DateArm>>,
}

impl JourneyState {
    pub fn new(ir: &Ir) -> JourneyState {
        let n = ir.journeys.journeys.len();
        if n == 0 {
            return JourneyState::default();
        }
        let watches_fields = ir
            .journeys
            .journeys
            .iter()
            .any(|j| matches!(j.trigger, JourneyTrigger::FieldChanges { .. }));
        JourneyState {
            entries: vec![Vec::new(); n],
            converted: vec![0; n],
            segments_seen: vec![false; ir.segments.len()],
            scores_seen: vec![0.0; ir.scores.len()],
            fields_seen: if watches_fields {
                vec![Val::Missing; ir.contact_slots.len()]
            } else {
                Vec::new()
            },
            dates: vec![None; n],
            ..JourneyState::default()
        }
    }
}

/// The earliest time a journey needs to wake (a wait ends, a date trigger's moment).
pub fn next_due(state: &ContactState) -> Option<i64> {
    let j = &state.journeys;
    let runs = j.runs.iter().filter_map(|r| r.wait.due());
    let dates = j.dates.iter().flatten().filter_map(|d| d.due);
    runs.chain(dates).min()
}

/// The contact's time zone: its `timezone` field when the zone is known, else the default.
fn contact_zone(ir: &Ir, state: &ContactState) -> Arc<ZoneRules> {
    let named = ir
        .journeys
        .zone_slot
        .and_then(|s| state.profile.get(s as usize))
        .and_then(|v| match v {
            Val::Text(t) => zone_named(t),
            _ => None,
        });
    named.unwrap_or_else(|| default_zone(ir))
}

fn default_zone(ir: &Ir) -> Arc<ZoneRules> {
    // Cached by name too, so a run does not copy the default zone's table per contact.
    let name = ir.journeys.default_zone.name.clone();
    zone_named(&name).unwrap_or_else(|| Arc::new(ir.journeys.default_zone.clone()))
}

/// A zone by name, read once per process from the time-zone database (contacts' zones are
/// data, not known when the program is lowered).
fn zone_named(name: &str) -> Option<Arc<ZoneRules>> {
    static ZONES: OnceLock<Mutex<HashMap<String, Option<Arc<ZoneRules>>>>> = OnceLock::new();
    let load = || {
        maclc_compiler::ir::fixed_zone(name)
            .or_else(|| crate::zone::load_zone(name))
            .map(Arc::new)
    };
    let cache = ZONES.get_or_init(|| Mutex::new(HashMap::new()));
    let Ok(mut zones) = cache.lock() else {
        return load();
    };
    // Looked up without allocating: this runs for every send and date check.
    if let Some(zone) = zones.get(name) {
        return zone.clone();
    }
    let zone = load();
    zones.insert(name.to_string(), zone.clone());
    zone
}

/// Local milliseconds (wall clock as if UTC) of a UTC instant.
fn local(zone: &ZoneRules, utc: i64) -> i64 {
    utc + zone.offset_at(utc)
}

/// The UTC instant of a local wall-clock time (the offset in effect around it).
fn utc_of_local(zone: &ZoneRules, local: i64) -> i64 {
    let guess = local - zone.offset_at(local);
    local - zone.offset_at(guess)
}

/// Monday = 0 … Sunday = 6 (day 0, 1970-01-01, was a Thursday).
fn weekday(day: i64) -> i64 {
    (day + 3).rem_euclid(7)
}

// ------------------------------------------------------------------ the pass

/// A point in time for one contact: after a record (with its events) or when a timer is due.
pub fn react(ir: &Ir, state: &mut ContactState, events: RecordEvents<'_>, now: i64, cause: &str) {
    if ir.journeys.journeys.is_empty() {
        return;
    }
    // Steps can start other journeys (a stage, points): a few passes, each one bounded.
    for pass in 0..4 {
        let events = if pass == 0 { events } else { &[] };
        end_runs(ir, state, events, now);
        wake_runs(ir, state, events, now);
        start_runs(ir, state, events, now, cause);
        let changed = run_ready(ir, state, now);
        if !changed {
            break;
        }
        // What the steps changed: segments, lifecycle and routings see it at once.
        crate::lifecycle::after_record(ir, state, &[], now, cause);
    }
}

/// Goals and exits of every running run, as of `now`.
fn end_runs(ir: &Ir, state: &mut ContactState, events: RecordEvents<'_>, now: i64) {
    let mut i = 0;
    while i < state.journeys.runs.len() {
        let outcome = state
            .journeys
            .runs
            .get(i)
            .and_then(|run| goal_or_exit(ir, state, run, events, now));
        match outcome {
            Some(o) => finish_run(state, i, now, o),
            None => i += 1,
        }
    }
}

fn goal_or_exit(
    ir: &Ir,
    state: &ContactState,
    run: &Run,
    events: RecordEvents<'_>,
    now: i64,
) -> Option<Outcome> {
    let journey = ir.journeys.journeys.get(run.journey as usize)?;
    if journey
        .goals
        .iter()
        .any(|c| condition_holds(ir, state, run, c, events, now))
    {
        return Some(Outcome::Converted);
    }
    if journey
        .exits
        .iter()
        .any(|c| condition_holds(ir, state, run, c, events, now))
    {
        return Some(Outcome::Exited);
    }
    None
}

fn condition_holds(
    ir: &Ir,
    state: &ContactState,
    run: &Run,
    c: &ConditionIr,
    events: RecordEvents<'_>,
    now: i64,
) -> bool {
    match c {
        ConditionIr::Segment { enters, segment } => {
            state
                .segments
                .get(*segment as usize)
                .copied()
                .unwrap_or(false)
                == *enters
        }
        ConditionIr::When(e) => run_scope_holds(ir, state, run, e, None, now),
        ConditionIr::Event { event, condition } => events.iter().any(|(e, props)| {
            *e == *event
                && condition
                    .as_ref()
                    .is_none_or(|c| run_scope_holds(ir, state, run, c, Some((props, now)), now))
        }),
    }
}

/// Whether `c` holds for a run: the contact's state, the run's entry event, maybe an event.
fn run_scope_holds(
    ir: &Ir,
    state: &ContactState,
    run: &Run,
    c: &Condition,
    event: Option<(&[Val], i64)>,
    now: i64,
) -> bool {
    let scores = state.score_values();
    let mut s = scope(ir, state, &scores, &state.segments, event, now);
    s.entry = Some((&run.entry, run.entered));
    s.holds(c)
}

fn run_scope_eval(ir: &Ir, state: &ContactState, run: &Run, e: &Expr, now: i64) -> Val {
    let scores = state.score_values();
    let mut s = scope(ir, state, &scores, &state.segments, None, now);
    s.entry = Some((&run.entry, run.entered));
    to_val(s.eval(e))
}

fn to_val(v: V<'_>) -> Val {
    match v {
        V::Missing => Val::Missing,
        V::Bool(b) => Val::Bool(b),
        V::Num(n) => Val::Num(n),
        V::Text(t) => Val::Text(t.as_ref().into()),
        V::Date(d) => Val::Date(d),
        V::Timestamp(t) => Val::Timestamp(t),
        V::Enum(e) => Val::Enum(e),
        V::Consent(c) => Val::Consent(c),
    }
}

fn finish_run(state: &mut ContactState, index: usize, now: i64, outcome: Outcome) {
    if index >= state.journeys.runs.len() {
        return;
    }
    let run = state.journeys.runs.remove(index);
    if outcome == Outcome::Converted {
        if let Some(c) = state.journeys.converted.get_mut(run.journey as usize) {
            *c += 1;
        }
    }
    state.journeys.ended.push((now, run.journey, outcome));
}

/// Runs whose event arrived or whose wait is over become ready.
fn wake_runs(ir: &Ir, state: &mut ContactState, events: RecordEvents<'_>, now: i64) {
    let mut i = 0;
    while let Some(run) = state.journeys.runs.get(i) {
        let go = wake(ir, state, run, events, now);
        match go {
            Some((None, _)) => {
                finish_run(state, i, now, Outcome::Completed);
                continue;
            }
            Some((Some(to), clock)) => {
                let name = step_name(ir, run.journey, to);
                if let Some(run) = state.journeys.runs.get_mut(i) {
                    run.step = to;
                    run.step_name = name;
                    run.wait = Wait::Ready;
                    run.clock = clock;
                }
            }
            None => {}
        }
        i += 1;
    }
}

/// Where a waiting run goes now, and its clock then (`None`: it keeps waiting).
fn wake(
    ir: &Ir,
    state: &ContactState,
    run: &Run,
    events: RecordEvents<'_>,
    now: i64,
) -> Option<(Option<u32>, i64)> {
    let step = step_of(ir, run)?;
    match (run.wait, &step.kind) {
        (
            Wait::Event { due },
            StepKindIr::WaitForEvent {
                event,
                condition,
                on_timeout,
                ..
            },
        ) => {
            let arrived = events.iter().any(|(e, props)| {
                *e == *event
                    && condition
                        .as_ref()
                        .is_none_or(|c| run_scope_holds(ir, state, run, c, Some((props, now)), now))
            });
            if arrived {
                Some((step.next, now))
            } else {
                due.filter(|d| *d <= now).map(|d| (*on_timeout, d))
            }
        }
        (Wait::Sleep { due }, _) if due <= now => Some((step.next, due)),
        // A wait for an event whose step became another kind of step (a new program version
        // kept its name): its time limit still ends it.
        (Wait::Event { due: Some(due) }, _) if due <= now => Some((step.next, due)),
        // A held send runs again.
        (Wait::Retry { due }, _) if due <= now => Some((Some(run.step), due)),
        _ => None,
    }
}

fn step_of<'a>(ir: &'a Ir, run: &Run) -> Option<&'a maclc_compiler::ir::StepIr> {
    ir.journeys
        .journeys
        .get(run.journey as usize)?
        .steps
        .get(run.step as usize)
}

fn step_name(ir: &Ir, journey: u32, step: u32) -> Box<str> {
    ir.journeys
        .journeys
        .get(journey as usize)
        .and_then(|j| j.steps.get(step as usize))
        .map_or_else(|| "".into(), |s| s.name.as_str().into())
}

// ------------------------------------------------------------------ triggers

/// New runs for the triggers that happened (events, changes since the previous pass, date
/// moments due).
fn start_runs(ir: &Ir, state: &mut ContactState, events: RecordEvents<'_>, now: i64, cause: &str) {
    let changed_stages: Vec<(u32, u32)> = state
        .stage_changes
        .get(state.journeys.stage_changes_seen..)
        .unwrap_or(&[])
        .iter()
        .map(|&(_, from, to)| (from, to))
        .collect();
    state.journeys.stage_changes_seen = state.stage_changes.len();
    let scores = state.score_values();
    let mut starts: Vec<(u32, Box<[Val]>, i64, String)> = Vec::new();
    for (ji, journey) in ir.journeys.journeys.iter().enumerate() {
        let j = ji as u32;
        match &journey.trigger {
            JourneyTrigger::Never => {}
            JourneyTrigger::Event { event, condition } => {
                for (e, props) in events {
                    if *e != *event {
                        continue;
                    }
                    let holds = condition.as_ref().is_none_or(|c| {
                        scope(ir, state, &scores, &state.segments, Some((props, now)), now).holds(c)
                    });
                    if holds {
                        starts.push((j, props.clone(), now, cause.to_string()));
                    }
                }
            }
            JourneyTrigger::Segment { enters, segment } => {
                let was = state
                    .journeys
                    .segments_seen
                    .get(*segment as usize)
                    .copied()
                    .unwrap_or(false);
                let is = state
                    .segments
                    .get(*segment as usize)
                    .copied()
                    .unwrap_or(false);
                if was != is && is == *enters {
                    starts.push((j, Box::new([]), now, cause.to_string()));
                }
            }
            JourneyTrigger::Stage { enters, stage } => {
                let hit = changed_stages.iter().any(|&(from, to)| {
                    if *enters {
                        to == *stage
                    } else {
                        from == *stage
                    }
                });
                if hit {
                    starts.push((j, Box::new([]), now, cause.to_string()));
                }
            }
            JourneyTrigger::ScoreCrosses {
                score,
                upward,
                threshold,
            } => {
                let was = state
                    .journeys
                    .scores_seen
                    .get(*score as usize)
                    .copied()
                    .unwrap_or(0.0);
                let is = scores.get(*score as usize).copied().unwrap_or(0.0);
                let crossed = if *upward {
                    was < *threshold && is >= *threshold
                } else {
                    was >= *threshold && is < *threshold
                };
                if crossed {
                    starts.push((j, Box::new([]), now, cause.to_string()));
                }
            }
            JourneyTrigger::FieldChanges { slot, from, to } => {
                let old = state
                    .journeys
                    .fields_seen
                    .get(*slot as usize)
                    .cloned()
                    .unwrap_or(Val::Missing);
                let new = state
                    .profile
                    .get(*slot as usize)
                    .cloned()
                    .unwrap_or(Val::Missing);
                // A field becoming known is not a change; a known value replaced is.
                let changed = old != Val::Missing && new != Val::Missing && old != new;
                let s = scope(ir, state, &scores, &state.segments, None, now);
                let matches =
                    |e: &Option<Expr>, v: &Val| e.as_ref().is_none_or(|e| v.view() == s.eval(e));
                if changed && matches(from, &old) && matches(to, &new) {
                    starts.push((j, Box::new([]), now, cause.to_string()));
                }
            }
            JourneyTrigger::Date { .. } => {
                if let Some((at, label)) = date_due(ir, state, j, journey, now) {
                    starts.push((j, Box::new([]), at, label));
                }
            }
        }
    }
    state.journeys.segments_seen.clone_from(&state.segments);
    state.journeys.scores_seen = scores;
    if !state.journeys.fields_seen.is_empty() {
        state.journeys.fields_seen.clone_from(&state.profile);
    }
    for (j, entry, at, cause) in starts {
        start_run(ir, state, j, entry, at, now, &cause);
    }
}

/// A date trigger's moment, if it is due by `now` (re-arming it for the next one).
fn date_due(
    ir: &Ir,
    state: &mut ContactState,
    j: u32,
    journey: &JourneyIr,
    now: i64,
) -> Option<(i64, String)> {
    let JourneyTrigger::Date {
        slot,
        offset_millis,
        yearly,
        at_minutes,
    } = journey.trigger
    else {
        return None;
    };
    let value = state.profile.get(slot as usize).unwrap_or(&Val::Missing);
    // Most of the time the timer is set for this value and not due: nothing to do.
    let current = state
        .journeys
        .dates
        .get(j as usize)
        .and_then(Option::as_ref);
    if current.is_some_and(|a| a.value == *value && a.due.is_none_or(|d| d > now)) {
        return None;
    }
    let value = value.clone();
    let zone = contact_zone(ir, state);
    let anchor_day = match value {
        Val::Date(d) => Some(d),
        Val::Timestamp(t) => Some(local(&zone, t).div_euclid(MILLIS_PER_DAY)),
        _ => None,
    };
    let arm = state.journeys.dates.get(j as usize).cloned().flatten();
    let arm = match arm {
        Some(a) if a.value == value => a,
        _ => {
            // A new or changed date: the first moment that may still be joined.
            let (due, year) = match anchor_day {
                None => (None, 0),
                Some(day) => first_moment(&zone, day, offset_millis, yearly, at_minutes, now),
            };
            DateArm { value, due, year }
        }
    };
    let due = arm.due;
    let fired = due.filter(|d| *d <= now);
    let next = match (fired, anchor_day) {
        (Some(_), Some(day)) if yearly => {
            let year = arm.year + 1;
            DateArm {
                due: Some(moment(&zone, day, year, offset_millis, at_minutes)),
                year,
                value: arm.value.clone(),
            }
        }
        (Some(_), _) => DateArm {
            due: None,
            ..arm.clone()
        },
        (None, _) => arm.clone(),
    };
    if let Some(slot) = state.journeys.dates.get_mut(j as usize) {
        *slot = Some(next);
    }
    let at = fired?;
    let (y, m, d) = civil_from_days(local(&zone, at).div_euclid(MILLIS_PER_DAY));
    Some((at, format!("date {y:04}-{m:02}-{d:02}")))
}

/// The moment of the anniversary of `day` in `year` (the date itself when not yearly).
fn moment(zone: &ZoneRules, day: i64, year: i64, offset_millis: i64, at_minutes: u16) -> i64 {
    let (_, month, dom) = civil_from_days(day);
    // 29 February falls on the 28th in other years.
    let dom = if month == 2 && dom == 29 && !is_leap(year) {
        28
    } else {
        dom
    };
    let anchor = days_from_civil(year, month, dom);
    utc_of_local(
        zone,
        anchor * MILLIS_PER_DAY + offset_millis + i64::from(at_minutes) * 60_000,
    )
}

/// The first moment a contact can still join, as of `now`: the moment itself, or — joining
/// late — while the date (`before`) or the moment's day (`on`, `after`) has not passed.
fn first_moment(
    zone: &ZoneRules,
    day: i64,
    offset_millis: i64,
    yearly: bool,
    at_minutes: u16,
    now: i64,
) -> (Option<i64>, i64) {
    let joinable_until = |year: i64| {
        let m = moment(zone, day, year, offset_millis, at_minutes);
        let anchor = moment(zone, day, year, 0, at_minutes);
        let last = m.max(anchor);
        let end_of_day = (local(zone, last).div_euclid(MILLIS_PER_DAY) + 1) * MILLIS_PER_DAY;
        (m, utc_of_local(zone, end_of_day))
    };
    if !yearly {
        let (year, _, _) = civil_from_days(day);
        let (m, until) = joinable_until(year);
        return (if until > now { Some(m) } else { None }, year);
    }
    let (this_year, _, _) = civil_from_days(local(zone, now).div_euclid(MILLIS_PER_DAY));
    for year in this_year - 1..=this_year + 1 {
        let (m, until) = joinable_until(year);
        if until > now {
            return (Some(m), year);
        }
    }
    (None, this_year)
}

/// Starts a run of journey `j` if its entry rules allow (its clock at `at`, now or earlier for
/// a late date trigger).
fn start_run(
    ir: &Ir,
    state: &mut ContactState,
    j: u32,
    entry: Box<[Val]>,
    at: i64,
    now: i64,
    cause: &str,
) {
    let Some(journey) = ir.journeys.journeys.get(j as usize) else {
        return;
    };
    let rules = &journey.entry;
    let key: Option<Box<str>> = rules
        .key_property
        .and_then(|p| entry.get(p as usize))
        .map(|v| display(v).into());
    let running = state
        .journeys
        .runs
        .iter()
        .filter(|r| r.journey == j)
        .any(|r| rules.one_at_a_time || rules.key_property.is_none() || r.key == key);
    if running && (rules.one_at_a_time || rules.key_property.is_some()) {
        return;
    }
    let last = state
        .journeys
        .entries
        .get(j as usize)
        .and_then(|e| e.iter().find(|(k, _)| *k == key))
        .map(|(_, t)| *t);
    if let Some(last) = last {
        if rules.once {
            return;
        }
        if rules.again_after_millis.is_some_and(|d| at < last + d) {
            return;
        }
    }
    if let Some(entries) = state.journeys.entries.get_mut(j as usize) {
        match entries.iter_mut().find(|(k, _)| *k == key) {
            Some(e) => e.1 = at,
            None => entries.push((key.clone(), at)),
        }
    }
    state.journeys.started += 1;
    let run = Run {
        journey: j,
        number: state.journeys.started,
        key,
        entry,
        entered: at,
        cause: cause.into(),
        step: journey.first.unwrap_or(0),
        step_name: journey
            .first
            .map_or_else(|| "".into(), |f| step_name(ir, j, f)),
        wait: Wait::Ready,
        clock: at,
    };
    if journey.first.is_none() {
        state.journeys.ended.push((now, j, Outcome::Completed));
        return;
    }
    state.journeys.runs.push(run);
}

// ------------------------------------------------------------------ steps

/// Runs every ready run until it waits or ends. Returns whether a step changed what triggers
/// or conditions read (points, a field, the stage).
fn run_ready(ir: &Ir, state: &mut ContactState, now: i64) -> bool {
    let mut changed = false;
    let mut i = 0;
    while i < state.journeys.runs.len() {
        let ready = state
            .journeys
            .runs
            .get(i)
            .is_some_and(|r| r.wait == Wait::Ready);
        if !ready {
            i += 1;
            continue;
        }
        let limit = state
            .journeys
            .runs
            .get(i)
            .and_then(|r| ir.journeys.journeys.get(r.journey as usize))
            .map_or(0, |j| j.steps.len() + 1);
        let mut ended = false;
        for _ in 0..limit {
            // Goals and exits before every step.
            let outcome = state
                .journeys
                .runs
                .get(i)
                .and_then(|run| goal_or_exit(ir, state, run, &[], now));
            if let Some(o) = outcome {
                finish_run(state, i, now, o);
                ended = true;
                break;
            }
            match step(ir, state, i, now, &mut changed) {
                Flow::Next(Some(to), clock) => {
                    if let Some(run) = state.journeys.runs.get_mut(i) {
                        run.step = to;
                        run.step_name = step_name(ir, run.journey, to);
                        run.clock = clock;
                    }
                }
                Flow::Next(None, _) => {
                    finish_run(state, i, now, Outcome::Completed);
                    ended = true;
                    break;
                }
                Flow::Wait(wait) => {
                    if let Some(run) = state.journeys.runs.get_mut(i) {
                        run.wait = wait;
                    }
                    break;
                }
            }
        }
        if !ended {
            i += 1;
        }
    }
    changed
}

enum Flow {
    /// Go on to this step (`None`: the run ends), the run's clock now at this time.
    Next(Option<u32>, i64),
    /// Stay at the step.
    Wait(Wait),
}

/// Runs the step run `index` is at.
fn step(ir: &Ir, state: &mut ContactState, index: usize, now: i64, changed: &mut bool) -> Flow {
    let Some(run) = state.journeys.runs.get(index).cloned() else {
        return Flow::Next(None, now);
    };
    let Some(journey) = ir.journeys.journeys.get(run.journey as usize) else {
        return Flow::Next(None, now);
    };
    let Some(step) = journey.steps.get(run.step as usize) else {
        return Flow::Next(None, now);
    };
    let actions_before = state.actions.len() as u32;
    state
        .journeys
        .steps
        .push((now, run.journey, run.step, actions_before));
    let clock = run.clock;
    let next = step.next;
    let cause = format!("journey {}, step {}", journey.name, step.name);
    let trigger = format!("{} #{}", run.cause, run.number);
    let base = vec![
        ("journey", journey.name.clone()),
        ("step", step.name.clone()),
    ];
    match &step.kind {
        StepKindIr::Send {
            channel,
            template,
            params,
        } => {
            let name = ir
                .channels
                .get(*channel as usize)
                .map_or("", |c| c.name.as_str());
            let mut payload = base;
            payload.push(("channel", name.to_string()));
            payload.push(("template", template.clone()));
            // Template parameters as `param.NAME` members, so two never share a key.
            let keys: Vec<String> = params.iter().map(|(k, _)| format!("param.{k}")).collect();
            for ((_, e), key) in params.iter().zip(&keys) {
                let v = run_scope_eval(ir, state, &run, e, now);
                payload.push((key.as_str(), display_typed(ir, e, &v, &run)));
            }
            let zone = contact_zone(ir, state);
            let late = local(&zone, clock).div_euclid(MILLIS_PER_DAY)
                < local(&zone, now).div_euclid(MILLIS_PER_DAY);
            if late {
                payload.push((
                    "reason",
                    "too late: the date became known after this message's day".into(),
                ));
                push_action(state, "suppressed", now, cause, &trigger, payload);
                return Flow::Next(next, clock);
            }
            if let Some(reason) = refusal(ir, state, *channel) {
                payload.push(("reason", reason));
                push_action(state, "suppressed", now, cause, &trigger, payload);
                return Flow::Next(next, clock);
            }
            match held(ir, state, journey, run.journey, *channel, &zone, now) {
                Some((SendPolicy::Skip, reason, _)) => {
                    payload.push(("reason", reason));
                    push_action(state, "suppressed", now, cause, &trigger, payload);
                    Flow::Next(next, clock)
                }
                Some((SendPolicy::Defer, reason, until)) => {
                    payload.push(("reason", reason));
                    payload.push(("until", crate::input::time::format_timestamp(until)));
                    push_action(state, "deferred", now, cause, &trigger, payload);
                    Flow::Wait(Wait::Retry { due: until })
                }
                None => {
                    state.journeys.sends.push(SendMark {
                        time: now,
                        journey: run.journey,
                        channel: *channel,
                    });
                    push_action(state, "send", now, cause, &trigger, payload);
                    Flow::Next(next, clock)
                }
            }
        }
        StepKindIr::Wait { millis } => {
            let due = clock + millis;
            if due <= now {
                Flow::Next(next, due)
            } else {
                Flow::Wait(Wait::Sleep { due })
            }
        }
        StepKindIr::WaitForEvent {
            timeout_millis,
            on_timeout,
            ..
        } => {
            let due = timeout_millis.map(|t| clock + t);
            match due {
                // Joined late and the time limit is already over.
                Some(d) if d <= now && clock < now => Flow::Next(*on_timeout, d),
                _ => Flow::Wait(Wait::Event { due }),
            }
        }
        StepKindIr::WaitForTime {
            minutes,
            weekdays,
            zone,
        } => {
            let zone = match zone {
                ZoneRef::Contact => contact_zone(ir, state),
                ZoneRef::Fixed(i) => ir
                    .journeys
                    .zones
                    .get(*i as usize)
                    .map_or_else(|| default_zone(ir), |z| Arc::new(z.clone())),
            };
            let due = next_local_time(&zone, clock, minutes.unwrap_or(0), *weekdays);
            if due <= now {
                Flow::Next(next, due.max(clock))
            } else {
                Flow::Wait(Wait::Sleep { due })
            }
        }
        StepKindIr::If {
            condition,
            then,
            otherwise,
        } => {
            if run_scope_holds(ir, state, &run, condition, None, now) {
                Flow::Next(*then, clock)
            } else {
                Flow::Next(*otherwise, clock)
            }
        }
        StepKindIr::Split { arms } => {
            let chosen = arms.iter().find(|(c, _)| {
                c.as_ref()
                    .is_none_or(|c| run_scope_holds(ir, state, &run, c, None, now))
            });
            match chosen {
                Some((_, to)) => Flow::Next(*to, clock),
                None => Flow::Next(next, clock),
            }
        }
        StepKindIr::RandomSplit { arms } => {
            let bucket = split_bucket(&state.id, &journey.name, &step.name);
            let mut upto = 0.0;
            let mut chosen = arms.last().map(|(_, to)| *to);
            for (percent, to) in arms {
                upto += percent * 100.0;
                if (bucket as f64) < upto {
                    chosen = Some(*to);
                    break;
                }
            }
            Flow::Next(chosen.unwrap_or(next), clock)
        }
        StepKindIr::SetField { slot, value } => {
            let v = run_scope_eval(ir, state, &run, value, now);
            if let Some(field) = state.profile.get_mut(*slot as usize) {
                *field = v;
            }
            *changed = true;
            Flow::Next(next, clock)
        }
        StepKindIr::Points { score, amount } => {
            crate::engine::add_points(ir, state, *score as usize, JOURNEY_RULE, *amount, 0, now);
            *changed = true;
            Flow::Next(next, clock)
        }
        StepKindIr::List { add, list } => {
            let mut payload = base;
            payload.push(("list", list.clone()));
            let kind = if *add { "list_add" } else { "list_remove" };
            push_action(state, kind, now, cause, &trigger, payload);
            Flow::Next(next, clock)
        }
        StepKindIr::MoveToStage(stage) => {
            crate::lifecycle::move_to_stage(ir, state, *stage, now, &trigger);
            *changed = true;
            Flow::Next(next, clock)
        }
        StepKindIr::RouteToQueue(q) => {
            let mut payload = base;
            let queue = ir.queues.get(*q as usize).map_or("", |q| q.name.as_str());
            payload.push(("queue", queue.to_string()));
            push_action(state, "route", now, cause, &trigger, payload);
            Flow::Next(next, clock)
        }
        StepKindIr::RouteWith(r) => {
            crate::lifecycle::run_route(ir, state, *r as usize, now, &trigger);
            Flow::Next(next, clock)
        }
        StepKindIr::Notify {
            queue,
            recipient,
            message,
        } => {
            let mut payload = base;
            if let Some(q) = queue.and_then(|q| ir.queues.get(q as usize)) {
                payload.push(("queue", q.name.clone()));
            }
            if let Some(r) = recipient {
                payload.push(("recipient", r.clone()));
            }
            payload.push(("message", message.clone()));
            push_action(state, "notify", now, cause, &trigger, payload);
            Flow::Next(next, clock)
        }
        StepKindIr::Webhook { method, url, body } => {
            let mut payload = base;
            payload.push(("method", method.clone()));
            payload.push(("url", url.clone()));
            if let Some(b) = body {
                payload.push(("body", b.clone()));
            }
            push_action(state, "webhook", now, cause, &trigger, payload);
            Flow::Next(next, clock)
        }
        StepKindIr::Pass => Flow::Next(next, clock),
        StepKindIr::End => Flow::Next(None, clock),
    }
}

/// The `rule` of a [`crate::engine::Change`] made by a journey step (`add 10 points to …`).
pub const JOURNEY_RULE: u32 = u32::MAX - 1;

/// The arm bucket of a random split, 0..10000: a hash of the contact, the journey and the step,
/// so the same contact lands in the same arm on every run and machine, with no state kept.
pub fn split_bucket(contact: &str, journey: &str, step: &str) -> u64 {
    let h = fnv1a(
        &[contact.as_bytes(), journey.as_bytes(), step.as_bytes()],
        0,
    );
    // SplitMix64's finaliser: FNV's low bits alone are not uniform enough for percentages.
    let mut z = h.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    z % 10_000
}

/// The first instant at or after `from` at `minutes` past midnight local time, on an allowed
/// weekday (`weekdays`: Monday = bit 0; 0 = any day).
fn next_local_time(zone: &ZoneRules, from: i64, minutes: u16, weekdays: u8) -> i64 {
    let day = local(zone, from).div_euclid(MILLIS_PER_DAY);
    for d in day..day + 8 {
        let allowed = weekdays == 0 || weekdays & (1 << weekday(d)) != 0;
        if !allowed {
            continue;
        }
        let at = utc_of_local(zone, d * MILLIS_PER_DAY + i64::from(minutes) * 60_000);
        if at >= from {
            return at;
        }
    }
    from
}

/// Whether quiet hours or a cap hold a send back: the policy, the reason, and until when.
fn held(
    ir: &Ir,
    state: &mut ContactState,
    journey: &JourneyIr,
    j: u32,
    channel: u32,
    zone: &ZoneRules,
    now: i64,
) -> Option<(SendPolicy, String, i64)> {
    let channel_name = ir
        .channels
        .get(channel as usize)
        .map_or("", |c| c.name.as_str());
    let quiet = ir.journeys.quiet_hours.iter().chain(&journey.quiet_hours);
    let minute = local(zone, now).rem_euclid(MILLIS_PER_DAY) / 60_000;
    for q in quiet {
        if q.channel.is_some_and(|c| c != channel) || !in_quiet_hours(q, minute) {
            continue;
        }
        let day = local(zone, now).div_euclid(MILLIS_PER_DAY);
        let end_today = utc_of_local(
            zone,
            day * MILLIS_PER_DAY + i64::from(q.to_minutes) * 60_000,
        );
        let until = if end_today > now {
            end_today
        } else {
            utc_of_local(
                zone,
                (day + 1) * MILLIS_PER_DAY + i64::from(q.to_minutes) * 60_000,
            )
        };
        let reason = format!(
            "quiet hours for {channel_name} ({} to {}, contact time)",
            hhmm(q.from_minutes),
            hhmm(q.to_minutes)
        );
        return Some((q.policy, reason, until));
    }
    // Forget sends older than every cap's window.
    let longest = ir
        .journeys
        .caps
        .iter()
        .chain(ir.journeys.journeys.iter().flat_map(|j| &j.caps))
        .map(|c| c.per_millis)
        .max()
        .unwrap_or(0);
    state.journeys.sends.retain(|s| s.time > now - longest);
    let caps = ir
        .journeys
        .caps
        .iter()
        .map(|c| (c, None))
        .chain(journey.caps.iter().map(|c| (c, Some(j))));
    for (cap, only) in caps {
        if cap.channel != channel {
            continue;
        }
        if let Some(until) = cap_reached(cap, only, &state.journeys.sends, now) {
            let reason = format!(
                "{} cap: at most {} per {}",
                channel_name,
                cap.count,
                maclc_compiler::ir::duration_words(cap.per_millis)
            );
            return Some((cap.policy, reason, until));
        }
    }
    None
}

fn in_quiet_hours(q: &QuietHoursIr, minute: i64) -> bool {
    let (from, to) = (i64::from(q.from_minutes), i64::from(q.to_minutes));
    if from <= to {
        from <= minute && minute < to
    } else {
        minute >= from || minute < to
    }
}

fn hhmm(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// When the cap is reached at `now`, the time a send is allowed again.
fn cap_reached(
    cap: &FrequencyCapIr,
    only: Option<u32>,
    sends: &[SendMark],
    now: i64,
) -> Option<i64> {
    let counted: Vec<i64> = sends
        .iter()
        .filter(|s| {
            s.channel == cap.channel
                && only.is_none_or(|j| s.journey == j)
                && s.time > now - cap.per_millis
        })
        .map(|s| s.time)
        .collect();
    if (counted.len() as u64) < u64::from(cap.count) {
        return None;
    }
    // Allowed again once enough of the counted sends leave the window.
    let excess = counted.len() + 1 - cap.count as usize;
    counted
        .get(excess.saturating_sub(1))
        .map(|t| t + cap.per_millis)
}

// ------------------------------------------------------------------ values in actions

/// A value as text for an action's payload.
pub fn display(v: &Val) -> String {
    match v {
        Val::Missing => String::new(),
        Val::Bool(b) => b.to_string(),
        Val::Num(n) => format_number(*n),
        Val::Text(t) => t.to_string(),
        Val::Date(d) => {
            let (y, m, d) = civil_from_days(*d);
            format!("{y:04}-{m:02}-{d:02}")
        }
        Val::Timestamp(t) => crate::input::time::format_timestamp(*t),
        Val::Enum(e) => e.to_string(),
        Val::Consent(c) => format!("{c:?}").to_lowercase(),
    }
}

/// [`display`], with enum values by name when the expression says which enum.
fn display_typed(ir: &Ir, e: &Expr, v: &Val, run: &Run) -> String {
    if let (ValType::Enum, Val::Enum(i)) = (e.ty, v) {
        let slot = match &e.node {
            Node::Contact(s) => ir.contact_slots.get(*s as usize),
            Node::Entry(p) => ir
                .journeys
                .journeys
                .get(run.journey as usize)
                .and_then(|j| j.entry_event)
                .and_then(|ev| ir.events.get(ev as usize))
                .and_then(|layout| layout.properties.get(*p as usize)),
            _ => None,
        };
        if let Some(name) = slot.and_then(|s| s.variants.get(*i as usize)) {
            return name.clone();
        }
    }
    display(v)
}

/// The journeys part of a run's summary: per journey, runs started, converted (goal met),
/// exited, completed, and still running at the end.
pub fn summary(ir: &Ir, contacts: &[ContactState]) -> String {
    let n = ir.journeys.journeys.len();
    // started, converted, exited, completed, removed, running
    let mut counts = vec![[0u64; 6]; n];
    for c in contacts {
        for &(_, j, outcome) in &c.journeys.ended {
            if let Some(row) = counts.get_mut(j as usize) {
                row[0] += 1;
                let k = match outcome {
                    Outcome::Converted => 1,
                    Outcome::Exited => 2,
                    Outcome::Completed => 3,
                    Outcome::StepRemoved => 4,
                };
                row[k] += 1;
            }
        }
        for run in &c.journeys.runs {
            if let Some(row) = counts.get_mut(run.journey as usize) {
                row[0] += 1;
                row[5] += 1;
            }
        }
    }
    let mut text = String::from("journeys:\n");
    for (j, row) in ir.journeys.journeys.iter().zip(&counts) {
        let [started, converted, exited, completed, removed, running] = *row;
        text.push_str(&format!(
            "  {}: {started} started, {converted} converted, {exited} exited, {completed} \
             completed, {running} still running",
            j.name
        ));
        if removed > 0 {
            text.push_str(&format!(", {removed} ended because their step was removed"));
        }
        text.push('\n');
    }
    text
}

// ------------------------------------------------------------------ a new program version

/// Moves every run to the step of the same stable name in `ir` (a new version of the
/// program); a run whose journey or step is gone ends, as `StepRemoved`. Returns how many.
pub fn rebind(ir: &Ir, journey_names: &[String], state: &mut ContactState, now: i64) -> usize {
    let mut removed = 0;
    let mut i = 0;
    while i < state.journeys.runs.len() {
        let found = state.journeys.runs.get(i).and_then(|run| {
            let name = journey_names.get(run.journey as usize)?;
            let j = ir.journeys.journeys.iter().position(|x| &x.name == name)?;
            let step = ir.journeys.journeys.get(j)?.step_named(&run.step_name)?;
            Some((j as u32, step))
        });
        match found {
            Some((j, step)) => {
                if let Some(run) = state.journeys.runs.get_mut(i) {
                    run.journey = j;
                    run.step = step;
                }
                i += 1;
            }
            None => {
                removed += 1;
                finish_run(state, i, now, Outcome::StepRemoved);
            }
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_days_round_trip() {
        for day in [-1000, 0, 59, 60, 20_000, 20_514] {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil(y, m, d), day);
        }
        assert_eq!(weekday(0), 3, "1970-01-01 was a Thursday");
    }

    #[test]
    fn split_buckets_are_stable_and_spread() {
        assert_eq!(
            split_bucket("c-1", "j", "random split"),
            split_bucket("c-1", "j", "random split")
        );
        let below_half = (0..10_000)
            .filter(|i| split_bucket(&format!("c-{i}"), "j", "s") < 5_000)
            .count();
        assert!((4_800..=5_200).contains(&below_half), "{below_half}");
    }

    #[test]
    fn caps_allow_again_when_the_oldest_send_leaves_the_window() {
        let cap = FrequencyCapIr {
            channel: 0,
            count: 2,
            per_millis: 100,
            policy: SendPolicy::Defer,
        };
        let sends = [
            SendMark {
                time: 10,
                journey: 0,
                channel: 0,
            },
            SendMark {
                time: 50,
                journey: 0,
                channel: 0,
            },
        ];
        assert_eq!(cap_reached(&cap, None, &sends, 60), Some(110));
        assert_eq!(cap_reached(&cap, None, &sends[..1], 60), None);
        assert_eq!(cap_reached(&cap, Some(1), &sends, 60), None);
    }
}
