//! Scores, account scores, segments, the lifecycle and routing: the rules marketers and sales
//! operations write, checked for names, types and logic (duplicates, impossible conditions,
//! missing fallbacks, loops).

use std::collections::HashMap;

use super::errors;
use super::expr::Scope;
use super::journeys::StepContext;
use super::logic::{self, canon, known_if_false};
use super::program::*;
use super::Checker;
use crate::source::Span;
use crate::syntax::ast::{self, ItemKind};

impl Checker<'_> {
    /// Reports every `and`-chain in a checked condition that can never be true.
    pub(crate) fn report_never_true(&mut self, e: &TypedExpr) {
        let bounds = &self.score_bounds;
        let ranges = |e: &TypedExpr| match e.kind {
            ExprKind::Score(id) => bounds.get(id.index()).copied(),
            _ => None,
        };
        for c in logic::contradictions_within(e, &ranges) {
            let path = self.text(c.path);
            if c.against_bound {
                let bound = self.text(c.earlier);
                self.report(errors::beyond_bound(c.span, &path, c.earlier, &bound));
            } else if c.earlier == c.span {
                self.report(errors::empty_range(c.span, &path));
            } else {
                self.report(errors::never_true(c.span, &path, c.earlier));
            }
        }
    }

    /// A condition checked, then searched for impossible `and`-chains.
    pub(crate) fn rule_condition(&mut self, expr: &ast::Expr, scope: &Scope) -> TypedExpr {
        let typed = self.condition(expr, scope);
        self.report_never_true(&typed);
        typed
    }

    /// `on EVENT [where …]`: the event and its condition, with the event's properties in scope.
    pub(crate) fn event_match(
        &mut self,
        m: &ast::EventMatch,
        outer: &Scope,
    ) -> Option<(EventId, Option<TypedExpr>)> {
        let event = self.lookup_event(&m.event);
        let scope = outer.matching(event);
        // With the event unknown its properties are too: one message is enough.
        let quiet = u32::from(event.is_none());
        self.muted += quiet;
        let condition = m.condition.as_ref().map(|c| self.rule_condition(c, &scope));
        self.muted -= quiet;
        Some((event?, condition))
    }

    pub(crate) fn check_lifecycle_stages(&mut self) {
        let Some((item, decl)) = self.items().find_map(|i| match &i.kind {
            ItemKind::Lifecycle(d) => Some((i, d)),
            _ => None,
        }) else {
            return;
        };
        let mut lifecycle = Lifecycle::default();
        let mut stages_span: Option<Span> = None;
        for stmt in &decl.stmts {
            let ast::LifecycleStmtKind::Stages(names) = &stmt.kind else {
                continue;
            };
            if let Some(first) = stages_span {
                let name = ast::Ident {
                    name: "stages".into(),
                    span: Span {
                        end: stmt.span.start.saturating_add(6).min(stmt.span.end),
                        ..stmt.span
                    },
                };
                self.report(errors::duplicate_definition(
                    &name,
                    "list of stages",
                    first,
                    "list of stages",
                ));
                continue;
            }
            stages_span = Some(Span {
                end: stmt.span.start.saturating_add(6).min(stmt.span.end),
                ..stmt.span
            });
            let mut seen: HashMap<&str, Span> = HashMap::new();
            for name in names {
                if let Some(first) = seen.get(name.name.as_str()) {
                    self.report(errors::duplicate_stage(name, *first));
                    continue;
                }
                seen.insert(&name.name, name.span);
                let id = StageId(lifecycle.stages.len() as u32);
                self.stages.insert(name.name.clone(), id);
                self.define(name.span, Symbol::Stage(id));
                lifecycle.stages.push(StageDef {
                    name: name.name.clone(),
                    span: name.span,
                });
            }
        }
        if stages_span.is_none() {
            self.report(errors::no_stages(Span {
                end: item.span.start.saturating_add(9).min(item.span.end),
                ..item.span
            }));
        }
        self.program.lifecycle = Some(lifecycle);
    }

    pub(crate) fn check_lifecycle_rules(&mut self) {
        let Some(decl) = self.items().find_map(|i| match &i.kind {
            ItemKind::Lifecycle(d) => Some(d),
            _ => None,
        }) else {
            return;
        };
        let mut transitions = Vec::new();
        let mut slas = Vec::new();
        let mut seen: HashMap<String, Span> = HashMap::new();
        for stmt in &decl.stmts {
            match &stmt.kind {
                ast::LifecycleStmtKind::Stages(_) => {}
                ast::LifecycleStmtKind::Transition(t) => {
                    let to = self.lookup_stage(&t.to);
                    let from: Vec<StageId> =
                        t.from.iter().filter_map(|f| self.lookup_stage(f)).collect();
                    if let Some(to) = to {
                        if !t.back && !from.is_empty() && from.iter().all(|f| f.0 > to.0) {
                            self.report(errors::backward_stage_move(t.to.span, &t.to.name));
                        }
                    }
                    let condition = match &t.condition {
                        ast::TransitionCondition::When(e) => Some(TransitionTrigger::When(
                            self.rule_condition(e, &Scope::default()),
                        )),
                        ast::TransitionCondition::On(m) => self
                            .event_match(m, &Scope::default())
                            .map(|(event, condition)| TransitionTrigger::On { event, condition }),
                    };
                    if let (Some(to), Some(condition)) = (to, condition) {
                        let key = match &condition {
                            TransitionTrigger::When(c) => {
                                format!("{to:?} {from:?} when {}", canon(c))
                            }
                            TransitionTrigger::On { event, condition } => format!(
                                "{to:?} {from:?} on {event:?} {}",
                                condition.as_ref().map(canon).unwrap_or_default()
                            ),
                        };
                        if let Some(first) = seen.get(&key) {
                            self.report(errors::duplicate_transition(stmt.span, *first));
                        } else {
                            seen.insert(key, stmt.span);
                        }
                        transitions.push(LifecycleTransition {
                            back: t.back,
                            to,
                            from,
                            condition,
                            span: stmt.span,
                        });
                    }
                }
                ast::LifecycleStmtKind::Sla {
                    stage,
                    within,
                    action,
                } => {
                    let stage = self.lookup_stage(stage);
                    let within_millis = self.duration_ref(within);
                    if within_millis == Some(0) {
                        self.report(errors::zero_duration(within.span(), "the time limit"));
                    }
                    let mut ctx = StepContext::new(None);
                    let steps = self.check_steps(
                        std::slice::from_ref(action.as_ref()),
                        &mut ctx,
                        &Scope::default(),
                    );
                    self.finish_steps(&mut ctx, &steps);
                    if let (Some(stage), Some(within_millis)) = (stage, within_millis) {
                        slas.push(Sla {
                            stage,
                            within_millis,
                            action: steps,
                            span: stmt.span,
                        });
                    }
                }
            }
        }
        if let Some(lifecycle) = self.program.lifecycle.as_mut() {
            lifecycle.transitions = transitions;
            lifecycle.slas = slas;
        }
    }

    pub(crate) fn check_scores(&mut self) {
        let (mut score_index, mut account_index) = (0u32, 0u32);
        self.score_bounds = vec![logic::Range::default(); self.program.scores.len()];
        for item in self.items() {
            match &item.kind {
                ItemKind::Score(d) => {
                    let id = ScoreId(score_index);
                    score_index += 1;
                    self.uses = Some(Vec::new());
                    self.check_score(id, d);
                    let used = self.uses.take().unwrap_or_default();
                    self.score_uses.push(used);
                }
                ItemKind::AccountScore(d) => {
                    let id = AccountScoreId(account_index);
                    account_index += 1;
                    let of = self.lookup_score(&d.of_score);
                    let linked = self
                        .program
                        .schema
                        .contact_fields
                        .iter()
                        .any(|f| matches!(f.ty, Type::Account(_)));
                    if !linked {
                        self.report(errors::no_account_link(d.name.span));
                    }
                    if let Some(a) = self.program.account_scores.get_mut(id.index()) {
                        a.of_score = of;
                    }
                }
                _ => {}
            }
        }
    }

    fn check_score(&mut self, id: ScoreId, d: &ast::ScoreDecl) {
        let mut rules = Vec::new();
        let mut seen: HashMap<String, Span> = HashMap::new();
        let mut at_least: Option<(f64, Span)> = None;
        let mut at_most: Option<(f64, Span)> = None;
        let mut at_least_stmt: Option<(f64, Span)> = None;
        let mut at_most_stmt: Option<(f64, Span)> = None;
        let mut decay = None;
        let mut time_zone = None;
        for stmt in &d.stmts {
            match &stmt.kind {
                ast::ScoreStmtKind::Points(rule) => {
                    let amount = self.points_amount(&rule.points.amount);
                    let (trigger, key) = match &rule.trigger {
                        ast::PointsTrigger::Event(m) => {
                            match self.event_match(m, &Scope::default()) {
                                Some((event, condition)) => {
                                    let key = format!(
                                        "on {event:?} {}",
                                        condition.as_ref().map(canon).unwrap_or_default()
                                    );
                                    (Some(RuleTrigger::Event { event, condition }), key)
                                }
                                None => (None, String::new()),
                            }
                        }
                        ast::PointsTrigger::Profile(e) => {
                            let typed = self.rule_condition(e, &Scope::default());
                            let key = format!("when {}", canon(&typed));
                            let ok = !typed.ty.is_error();
                            (ok.then_some(RuleTrigger::Profile(typed)), key)
                        }
                    };
                    let limit = rule.limit.as_ref().and_then(|l| self.limit(l));
                    if trigger.is_some() {
                        if let Some(first) = seen.get(&key) {
                            self.report(errors::duplicate_rule(stmt.span, *first));
                        } else {
                            seen.insert(key, stmt.span);
                        }
                    }
                    if let (Some(trigger), Some(amount)) = (trigger, amount) {
                        let points = if rule.points.negative {
                            -amount
                        } else {
                            amount
                        };
                        rules.push(PointsRule {
                            points,
                            trigger,
                            limit,
                            span: stmt.span,
                        });
                    }
                }
                ast::ScoreStmtKind::Bound {
                    is_upper,
                    value,
                    value_span,
                } => {
                    let slot = if *is_upper {
                        &mut at_most
                    } else {
                        &mut at_least
                    };
                    if let Some((_, first)) = slot {
                        let first = *first;
                        self.report(errors::duplicate_bound(stmt.span, first));
                    } else {
                        *slot = Some((*value, *value_span));
                        let whole = Some((*value, stmt.span));
                        if *is_upper {
                            at_most_stmt = whole;
                        } else {
                            at_least_stmt = whole;
                        }
                    }
                }
                ast::ScoreStmtKind::Decay(ast::Decay::HalfLife(duration)) => {
                    let millis = self.duration_ref(duration);
                    if millis == Some(0) {
                        self.report(errors::zero_duration(duration.span(), "the half-life"));
                    }
                    decay = millis
                        .filter(|m| *m > 0)
                        .map(|millis| Decay::HalfLife { millis });
                }
                ast::ScoreStmtKind::Decay(ast::Decay::Step {
                    percent,
                    every,
                    only_when_inactive,
                    percent_span,
                }) => {
                    if !(*percent > 0.0 && *percent <= 100.0) {
                        self.report(errors::decay_out_of_range(*percent_span, *percent));
                    }
                    let millis = self.duration_ref(every);
                    if millis == Some(0) {
                        self.report(errors::zero_duration(every.span(), "the decay period"));
                    }
                    decay = millis.filter(|m| *m > 0).map(|every_millis| Decay::Step {
                        percent: *percent,
                        every_millis,
                        only_when_inactive: *only_when_inactive,
                    });
                }
                ast::ScoreStmtKind::TimeZone(zone) => time_zone = Some(zone.value.clone()),
            }
        }
        if let (Some((low, low_span)), Some((high, high_span))) = (at_least, at_most) {
            if low > high {
                self.report(errors::bounds_crossed(low_span, low, high, high_span));
            }
        }
        if let Some(range) = self.score_bounds.get_mut(id.index()) {
            *range = logic::Range {
                low: at_least_stmt,
                high: at_most_stmt,
            };
        }
        if let Some(score) = self.program.scores.get_mut(id.index()) {
            score.rules = rules;
            score.at_least = at_least.map(|(v, _)| v);
            score.at_most = at_most.map(|(v, _)| v);
            score.decay = decay;
            score.time_zone = time_zone;
        }
    }

    fn limit(&mut self, limit: &ast::Limit) -> Option<Limit> {
        match &limit.kind {
            ast::LimitKind::Once => Some(Limit::Once),
            ast::LimitKind::Per { count, period } => {
                if *count == 0 {
                    self.report(errors::zero_limit(limit.span));
                    return None;
                }
                match period {
                    ast::LimitPeriod::Day => Some(Limit::PerDay(*count)),
                    ast::LimitPeriod::Week => Some(Limit::PerWeek(*count)),
                    ast::LimitPeriod::Rolling(d) => {
                        if d.millis <= 0 {
                            self.report(errors::zero_duration(d.span, "the limit's period"));
                            return None;
                        }
                        Some(Limit::PerWindow {
                            count: *count,
                            millis: d.millis,
                        })
                    }
                }
            }
        }
    }

    pub(crate) fn check_segments(&mut self) {
        let mut index = 0u32;
        let score_count = self.program.scores.len();
        let mut uses: Vec<Vec<(usize, Span)>> = std::mem::take(&mut self.score_uses);
        uses.resize(score_count, Vec::new());
        let mut seen: HashMap<String, (String, Span)> = HashMap::new();
        for item in self.items() {
            let ItemKind::Segment(d) = &item.kind else {
                continue;
            };
            let id = SegmentId(index);
            index += 1;
            self.uses = Some(Vec::new());
            let condition = self.rule_condition(&d.condition, &Scope::default());
            let used = self.uses.take().unwrap_or_default();
            if !condition.ty.is_error() {
                let key = canon(&condition);
                if let Some((other, other_span)) = seen.get(&key) {
                    self.report(errors::same_segment(&d.name, other, *other_span));
                } else {
                    seen.insert(key, (d.name.name.clone(), d.name.span));
                }
            }
            if let Some(s) = self.program.segments.get_mut(id.index()) {
                s.condition = condition;
                let mut deps: Vec<SegmentId> = Vec::new();
                for (node, _) in &used {
                    let Some(dep) = node.checked_sub(score_count) else {
                        continue;
                    };
                    let dep = SegmentId(dep as u32);
                    if !deps.contains(&dep) {
                        deps.push(dep);
                    }
                }
                s.depends_on = deps;
            }
            uses.push(used);
        }
        for (cycle, span) in logic::cycles(&uses) {
            let name = |node: &usize| match node.checked_sub(score_count) {
                None => self
                    .program
                    .scores
                    .get(*node)
                    .map_or("?", |s| s.name.as_str()),
                Some(i) => self
                    .program
                    .segments
                    .get(i)
                    .map_or("?", |s| s.name.as_str()),
            };
            let mut text: Vec<String> = cycle.iter().map(|n| format!("`{}`", name(n))).collect();
            if let Some(first) = text.first().cloned() {
                text.push(first);
            }
            let what = match (
                cycle.iter().all(|n| *n >= score_count),
                cycle.iter().all(|n| *n < score_count),
            ) {
                (true, _) => "segments",
                (_, true) => "scores",
                _ => "scores and segments",
            };
            self.report(errors::rule_cycle(span, what, &text.join(" → ")));
        }
    }

    pub(crate) fn check_routing(&mut self) {
        let (mut queue_index, mut route_index) = (0u32, 0u32);
        for item in self.items() {
            if let ItemKind::Queue(d) = &item.kind {
                let id = QueueId(queue_index);
                queue_index += 1;
                let members = match &d.round_robin {
                    Some(list) => match self.fixed_value(
                        list,
                        &Type::List(Box::new(Type::Text)),
                        "the round-robin list",
                    ) {
                        Some(Value::List(items)) => items
                            .into_iter()
                            .filter_map(|v| match v {
                                Value::Text(t) => Some(t),
                                _ => None,
                            })
                            .collect(),
                        _ => Vec::new(),
                    },
                    None => Vec::new(),
                };
                if let Some(q) = self.program.queues.get_mut(id.index()) {
                    q.round_robin = members;
                }
            }
        }
        for item in self.items() {
            let ItemKind::Route(d) = &item.kind else {
                continue;
            };
            let id = RouteId(route_index);
            route_index += 1;
            let trigger = self.check_trigger(&d.trigger);
            let scope = Scope {
                entry: match &trigger {
                    Some(Trigger::Event { event, .. }) => Some(*event),
                    _ => None,
                },
                ..Scope::default()
            };
            let rules = self.check_route_rules(d, item.span, scope);
            if let Some(r) = self.program.routes.get_mut(id.index()) {
                r.trigger = trigger;
                r.rules = rules;
            }
        }
    }

    fn check_route_rules(
        &mut self,
        d: &ast::RouteDecl,
        item_span: Span,
        mut scope: Scope,
    ) -> Vec<RouteRule> {
        let mut rules: Vec<RouteRule> = Vec::new();
        let mut otherwise: Option<Span> = None;
        for rule in &d.rules {
            let condition = rule.condition.as_ref().map(|c| {
                let typed = self.rule_condition(c, &scope);
                scope.known.extend(known_if_false(&typed));
                typed
            });
            let target = match &rule.target {
                ast::RouteTarget::Queue(q) => self.lookup_queue(q).map(RouteTarget::Queue),
                ast::RouteTarget::Notify(s) => Some(RouteTarget::Notify(s.value.clone())),
            };
            if let Some(o) = otherwise {
                self.report(errors::rule_after_otherwise(rule.span, o));
            } else if let Some(c) = &condition {
                let earlier = rules
                    .iter()
                    .find(|r| r.condition.as_ref().is_some_and(|e| logic::covers(e, c)));
                if let Some(earlier) = earlier {
                    let span = earlier.span;
                    self.report(errors::rule_shadowed(rule.span, span));
                }
            }
            if rule.condition.is_none() && otherwise.is_none() {
                otherwise = Some(rule.span);
            }
            if let Some(target) = target {
                rules.push(RouteRule {
                    condition,
                    target,
                    span: rule.span,
                });
            }
        }
        if otherwise.is_none() {
            // Suggest a queue no rule uses yet: the usual catch-all.
            let used: Vec<QueueId> = rules
                .iter()
                .filter_map(|r| match r.target {
                    RouteTarget::Queue(q) => Some(q),
                    RouteTarget::Notify(_) => None,
                })
                .collect();
            let queues = &self.program.queues;
            let unused = (0..queues.len()).find(|i| !used.contains(&QueueId(*i as u32)));
            let queue = unused
                .or(if queues.is_empty() { None } else { Some(0) })
                .and_then(|i| queues.get(i))
                .map_or("QUEUE".to_string(), |q| q.name.clone());
            let (at, indent) = self.closing_brace_line(item_span);
            let replacement = format!("{indent}otherwise => queue {queue}\n");
            self.report(errors::missing_otherwise(&d.name, at, &replacement));
        }
        rules
    }

    /// Where to insert a line before the closing `}` of an item, and the indentation to use.
    fn closing_brace_line(&self, item: Span) -> (Span, String) {
        let text = self
            .sources
            .get(item.file)
            .map(|f| f.slice(item).to_string())
            .unwrap_or_default();
        let Some(brace) = text.rfind('}') else {
            return (
                Span {
                    start: item.end,
                    ..item
                },
                "  ".into(),
            );
        };
        let line_start = text
            .get(..brace)
            .and_then(|t| t.rfind('\n'))
            .map_or(brace, |i| i + 1);
        let before = text.get(line_start..brace).unwrap_or("");
        let (insert, indent) = if before.trim().is_empty() {
            (line_start, format!("{before}  "))
        } else {
            (brace, " ".into())
        };
        let at = item
            .start
            .saturating_add(u32::try_from(insert).unwrap_or(0))
            .min(item.end);
        (
            Span {
                start: at,
                end: at,
                file: item.file,
            },
            indent,
        )
    }
}
