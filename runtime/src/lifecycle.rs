//! Lifecycle stages, SLA timers, routing and consent-checked actions, on event time.
//!
//! After each record (and at `until`) the engine calls [`after_record`]: segments are
//! re-evaluated and compared with the previous membership (entering and leaving are events),
//! lifecycle transitions run in declared order until none applies (each stage at most once per
//! step, so it ends), and routings triggered by the changes run, first matching rule wins.
//! Entering a stage with an SLA arms a timer; [`fire_timers`] runs it when event time reaches
//! its due time if the contact is still in that stage (the same visit). A send is checked
//! against consent when it is made: without consent it becomes a `suppressed` action with the
//! reason, never a silent drop. Round-robin owners are assigned after the run, over all
//! actions in (time, contact, sequence) order, so the assignment does not depend on input order.

use maclc_compiler::check::ConsentState;
use maclc_compiler::ir::{
    ActionStep, Ir, LifecycleIr, RouteTargetIr, RouteTrigger, TransitionIr, TransitionTrigger,
};

use crate::engine::{scope, ContactState, Decision};
use crate::eval::Val;

/// One action the program takes.
#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    /// `send`, `suppressed`, `route`, `notify`, `webhook`.
    pub kind: &'static str,
    pub contact: String,
    /// Event time.
    pub time: i64,
    /// What caused it: `route mql_handoff, rule 2`, `sla sal`.
    pub rule: String,
    /// The triggering record (`messageId`, or `line N`), or `timer` for an SLA.
    pub trigger: String,
    pub payload: Vec<(String, String)>,
    /// Order within the contact (ties in time).
    pub seq: u32,
    /// Stable idempotency key, set when the run ends.
    pub key: String,
}

/// A pending SLA timer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timer {
    pub due: i64,
    pub sla: u32,
    /// The stage visit it belongs to (see [`ContactState::stage_visit`]).
    pub visit: u64,
}

/// A record's program events and their decoded properties, for `move to … on EVENT`.
pub type RecordEvents<'a> = &'a [(u32, Box<[Val]>)];

/// Segments, lifecycle and routing after a record (or time passing, with no events).
pub fn after_record(
    ir: &Ir,
    state: &mut ContactState,
    events: RecordEvents<'_>,
    now: i64,
    trigger: &str,
) {
    let before = state.segments.clone();
    crate::engine::evaluate_segments(ir, state, now);
    let mut changes: Vec<RouteTrigger> = segment_changes(&before, &state.segments);
    // Score crossings since the previous check (the routes name their thresholds).
    let scores = state.score_values();
    for route in &ir.routes {
        if let RouteTrigger::ScoreCrosses {
            score,
            upward,
            threshold,
        } = route.trigger
        {
            let was = state
                .scores_checked
                .get(score.index())
                .copied()
                .unwrap_or(0.0);
            let is = scores.get(score.index()).copied().unwrap_or(0.0);
            let crossed = if upward {
                was < threshold && is >= threshold
            } else {
                was >= threshold && is < threshold
            };
            if crossed && !changes.contains(&route.trigger) {
                changes.push(route.trigger);
            }
        }
    }
    state.scores_checked = scores;
    let Some(lifecycle) = &ir.lifecycle else {
        run_routes(ir, state, &changes, now, trigger);
        return;
    };
    // Each pass moves at most once; a stage is entered at most once per record, so this ends.
    let mut visited = vec![false; lifecycle.stages.len()];
    for _ in 0..=lifecycle.stages.len() {
        let Some((transition, to)) = lifecycle
            .transitions
            .iter()
            .enumerate()
            .find(|(_, t)| applies(ir, state, t, events, now, &visited))
            .map(|(i, t)| (i as u32, t.to))
        else {
            break;
        };
        let from = state.stage;
        if let Some(v) = visited.get_mut(to as usize) {
            *v = true;
        }
        change_stage(lifecycle, state, to, now);
        state.decisions.push(Decision::Transition {
            time: now,
            transition,
        });
        changes.push(RouteTrigger::Stage {
            enters: false,
            stage: from,
        });
        changes.push(RouteTrigger::Stage {
            enters: true,
            stage: to,
        });
        // Segments may read the stage.
        let before = state.segments.clone();
        crate::engine::evaluate_segments(ir, state, now);
        changes.extend(segment_changes(&before, &state.segments));
    }
    run_routes(ir, state, &changes, now, trigger);
}

fn segment_changes(before: &[bool], after: &[bool]) -> Vec<RouteTrigger> {
    before
        .iter()
        .zip(after)
        .enumerate()
        .filter(|(_, (b, a))| b != a)
        .map(|(i, (_, a))| RouteTrigger::Segment {
            enters: *a,
            segment: maclc_compiler::check::SegmentId(i as u32),
        })
        .collect()
}

fn applies(
    ir: &Ir,
    state: &ContactState,
    t: &TransitionIr,
    events: RecordEvents<'_>,
    now: i64,
    visited: &[bool],
) -> bool {
    if t.to == state.stage || visited.get(t.to as usize).copied().unwrap_or(false) {
        return false;
    }
    let allowed = if t.from.is_empty() {
        t.back || t.to > state.stage
    } else {
        t.from.contains(&state.stage) && (t.back || t.to > state.stage)
    };
    if !allowed {
        return false;
    }
    let scores = state.score_values();
    match &t.trigger {
        TransitionTrigger::When(c) => {
            scope(ir, state, &scores, &state.segments, None, now).holds(c)
        }
        TransitionTrigger::On { event, condition } => events.iter().any(|(e, props)| {
            *e == event.0
                && condition.as_ref().is_none_or(|c| {
                    scope(ir, state, &scores, &state.segments, Some((props, now)), now).holds(c)
                })
        }),
    }
}

fn run_routes(
    ir: &Ir,
    state: &mut ContactState,
    changes: &[RouteTrigger],
    now: i64,
    trigger: &str,
) {
    for change in changes {
        for (i, route) in ir.routes.iter().enumerate() {
            if route.trigger == *change {
                run_route(ir, state, i, now, trigger);
            }
        }
    }
}

pub(crate) fn run_route(ir: &Ir, state: &mut ContactState, route: usize, now: i64, trigger: &str) {
    let Some(r) = ir.routes.get(route) else {
        return;
    };
    let scores = state.score_values();
    let chosen = r.rules.iter().enumerate().find(|(_, rule)| {
        rule.condition
            .as_ref()
            .is_none_or(|c| scope(ir, state, &scores, &state.segments, None, now).holds(c))
    });
    let Some((index, rule)) = chosen else {
        return;
    };
    let (route, rule_index) = (route as u32, index as u32);
    state.decisions.push(Decision::Route {
        time: now,
        route,
        rule: rule_index,
    });
    let cause = format!("route {}, rule {}", r.name, index + 1);
    match &rule.target {
        RouteTargetIr::Queue(q) => {
            let queue = ir.queues.get(*q as usize).map_or("", |q| q.name.as_str());
            push_action(
                state,
                "route",
                now,
                cause,
                trigger,
                vec![("queue", queue.to_string())],
            );
        }
        RouteTargetIr::Notify(who) => {
            push_action(
                state,
                "notify",
                now,
                cause,
                trigger,
                vec![("recipient", who.clone())],
            );
        }
    }
}

pub(crate) fn push_action(
    state: &mut ContactState,
    kind: &'static str,
    time: i64,
    rule: String,
    trigger: &str,
    payload: Vec<(&str, String)>,
) {
    let seq = state.actions.len() as u32;
    state.actions.push(Action {
        kind,
        contact: state.id.clone(),
        time,
        rule,
        trigger: trigger.to_string(),
        payload: payload
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        seq,
        key: String::new(),
    });
}

/// Runs the timers due by `to` in time order: SLA timers whose contact is still in the same
/// stage visit, and journey waits and date triggers (`journey::next_due`). At one time, SLA
/// timers first.
pub fn fire_timers(ir: &Ir, state: &mut ContactState, to: i64) {
    // Each journey wake-up moves its runs on; a time that stays due after several wake-ups
    // could only be a run that cannot move, and must not hold the contact forever.
    let mut same_time = (i64::MIN, 0u32);
    loop {
        let next_sla = state
            .timers
            .iter()
            .enumerate()
            .filter(|(_, t)| t.due <= to)
            .min_by_key(|(i, t)| (t.due, *i))
            .map(|(i, t)| (i, *t));
        // A window closing on a record is a wake-up too: with it, "3 pricing views in the
        // last 7 days" stops holding 7 days after the first view, not at the next record.
        let next_journey = [
            crate::journey::next_due(state),
            next_window_closing(ir, state),
        ]
        .into_iter()
        .flatten()
        .filter(|d| *d <= to)
        .min();
        match (next_sla, next_journey) {
            (Some((index, timer)), j) if j.is_none_or(|d| timer.due <= d) => {
                state.timers.remove(index);
                fire_sla(ir, state, timer);
            }
            (_, Some(due)) => {
                state.time_seen = state.time_seen.max(due);
                if same_time.0 == due {
                    same_time.1 += 1;
                    if same_time.1 > 64 {
                        break;
                    }
                } else {
                    same_time = (due, 0);
                }
                crate::engine::advance(ir, state, due);
                if ir.live_segments {
                    // Time alone may have moved segments: goals and exits see it.
                    after_record(ir, state, &[], due, "timer");
                }
                crate::journey::react(ir, state, &[], due, "timer");
            }
            _ => break,
        }
    }
}

/// The next moment after `state.time_seen` at which a record of the contact's history leaves
/// the window of an aggregate (windows are `now - D < ts <= now`, so a record at `ts` leaves
/// at `ts + D`). Only programs whose segments are watched (lifecycle, routing, journeys) need
/// it; for the others segments are evaluated once, at the end.
fn next_window_closing(ir: &Ir, state: &ContactState) -> Option<i64> {
    if !ir.live_segments {
        return None;
    }
    let mut next: Option<i64> = None;
    for aggregate in &ir.aggregates {
        let Some(window) = aggregate.window_millis else {
            continue;
        };
        // The history is in time order (records are applied in event time), so the entries
        // still to leave start at one point, and the first of them that the aggregate counts
        // leaves first: no scan of the whole history on every record.
        let history = &state.history;
        let first = history.partition_point(|h| h.ts.saturating_add(window) <= state.time_seen);
        let leaves = history
            .get(first..)
            .unwrap_or_default()
            .iter()
            .find(|h| aggregate.event.is_none_or(|event| h.event == Some(event.0)))
            .map(|h| h.ts.saturating_add(window));
        next = match (next, leaves) {
            (Some(n), Some(l)) => Some(n.min(l)),
            (n, l) => n.or(l),
        };
    }
    next
}

fn fire_sla(ir: &Ir, state: &mut ContactState, timer: Timer) {
    let Some(lifecycle) = &ir.lifecycle else {
        return;
    };
    if timer.visit != state.stage_visit {
        return;
    }
    let Some(sla) = lifecycle.slas.get(timer.sla as usize) else {
        return;
    };
    if sla.stage != state.stage {
        return;
    }
    crate::engine::advance(ir, state, timer.due);
    let stage = lifecycle
        .stages
        .get(sla.stage as usize)
        .map_or("", String::as_str);
    let cause = format!("sla {stage}");
    run_steps(ir, state, &sla.steps, timer.due, &cause, "timer");
}

/// The contact is in stage `to` from `now`: a new visit of it, recorded, with its SLA timers
/// armed.
fn change_stage(lifecycle: &LifecycleIr, state: &mut ContactState, to: u32, now: i64) {
    let from = state.stage;
    state.stage = to;
    state.stage_visit += 1;
    state.stage_changes.push((now, from, to));
    for (i, sla) in lifecycle.slas.iter().enumerate() {
        if sla.stage == to {
            state.timers.push(Timer {
                due: now + sla.within_millis,
                sla: i as u32,
                visit: state.stage_visit,
            });
        }
    }
}

/// A journey's `move to stage`: the stage changes (in any direction: the step says so), its
/// SLA timers are armed, and routings on leaving and entering stages run.
pub(crate) fn move_to_stage(ir: &Ir, state: &mut ContactState, to: u32, now: i64, trigger: &str) {
    let Some(lifecycle) = &ir.lifecycle else {
        return;
    };
    let from = state.stage;
    if from == to {
        return;
    }
    change_stage(lifecycle, state, to, now);
    let changes = [
        RouteTrigger::Stage {
            enters: false,
            stage: from,
        },
        RouteTrigger::Stage {
            enters: true,
            stage: to,
        },
    ];
    run_routes(ir, state, &changes, now, trigger);
}

fn run_steps(
    ir: &Ir,
    state: &mut ContactState,
    steps: &[ActionStep],
    now: i64,
    cause: &str,
    trigger: &str,
) {
    for step in steps {
        match step {
            ActionStep::Send { channel, template } => {
                let name = ir
                    .channels
                    .get(*channel as usize)
                    .map_or("", |c| c.name.as_str());
                let mut payload = vec![
                    ("channel", name.to_string()),
                    ("template", template.clone()),
                ];
                match refusal(ir, state, *channel) {
                    None => push_action(state, "send", now, cause.to_string(), trigger, payload),
                    Some(reason) => {
                        payload.push(("reason", reason));
                        push_action(
                            state,
                            "suppressed",
                            now,
                            cause.to_string(),
                            trigger,
                            payload,
                        );
                    }
                }
            }
            ActionStep::Notify {
                queue,
                recipient,
                message,
            } => {
                let mut payload = Vec::new();
                if let Some(q) = queue.and_then(|q| ir.queues.get(q as usize)) {
                    payload.push(("queue", q.name.clone()));
                }
                if let Some(r) = recipient {
                    payload.push(("recipient", r.clone()));
                }
                payload.push(("message", message.clone()));
                push_action(state, "notify", now, cause.to_string(), trigger, payload);
            }
            ActionStep::RouteToQueue(q) => {
                let queue = ir.queues.get(*q as usize).map_or("", |q| q.name.as_str());
                push_action(
                    state,
                    "route",
                    now,
                    cause.to_string(),
                    trigger,
                    vec![("queue", queue.to_string())],
                );
            }
            ActionStep::RouteWith(r) => run_route(ir, state, *r as usize, now, trigger),
            ActionStep::Webhook { method, url, body } => {
                let mut payload = vec![("method", method.clone()), ("url", url.clone())];
                if let Some(b) = body {
                    payload.push(("body", b.clone()));
                }
                push_action(state, "webhook", now, cause.to_string(), trigger, payload);
            }
        }
    }
}

/// Why a send on `channel` is not allowed, if it is not: consent by construction.
pub(crate) fn refusal(ir: &Ir, state: &ContactState, channel: u32) -> Option<String> {
    let c = ir.channels.get(channel as usize)?;
    let flag = |name: &str| {
        ir.contact_slots
            .iter()
            .position(|s| s.name == name)
            .and_then(|i| state.profile.get(i))
            .is_some_and(|v| *v == Val::Bool(true))
    };
    if flag("blocklisted") {
        return Some("the contact is blocklisted".into());
    }
    if flag("unsubscribed") {
        return Some("the contact is unsubscribed".into());
    }
    match state.consent.get(channel as usize).copied() {
        Some(ConsentState::Granted) => None,
        Some(ConsentState::Denied) => Some(format!("{} consent is denied", c.name)),
        _ if c.opt_in => Some(format!(
            "{} consent is unknown and {} needs an opt-in",
            c.name, c.name
        )),
        _ => None,
    }
}

/// 64-bit FNV-1a: a small, stable hash for idempotency keys (not for security).
pub fn fnv1a(parts: &[&[u8]], seed: u64) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ seed;
    for part in parts {
        for b in part.iter().chain(&[0xff]) {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// Orders every action of the run, assigns round-robin owners and idempotency keys.
pub fn finish_actions(ir: &Ir, actions: &mut [Action], program_hash: u64) {
    actions.sort_by(|a, b| {
        (a.time, a.contact.as_bytes(), a.seq).cmp(&(b.time, b.contact.as_bytes(), b.seq))
    });
    let mut cursors = vec![0usize; ir.queues.len()];
    for action in actions.iter_mut() {
        if action.kind == "route" || action.kind == "notify" {
            let queue = action
                .payload
                .iter()
                .find(|(k, _)| k == "queue")
                .map(|(_, v)| v.clone());
            let index = queue.and_then(|q| ir.queues.iter().position(|x| x.name == q));
            if let Some(i) = index {
                if let (Some(q), Some(cursor)) = (ir.queues.get(i), cursors.get_mut(i)) {
                    if !q.round_robin.is_empty() {
                        let member = q.round_robin.get(*cursor % q.round_robin.len());
                        if let Some(m) = member {
                            action.payload.push(("assignee".into(), m.clone()));
                        }
                        *cursor += 1;
                    }
                }
            }
        }
        let seq = action.seq.to_le_bytes();
        let key = fnv1a(
            &[
                action.rule.as_bytes(),
                action.contact.as_bytes(),
                action.trigger.as_bytes(),
                action.kind.as_bytes(),
                &action.time.to_le_bytes(),
                &seq,
            ],
            program_hash,
        );
        action.key = format!("{key:016x}");
    }
}
