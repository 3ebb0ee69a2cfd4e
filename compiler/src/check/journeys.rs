//! Journeys, templates and their instances: triggers, steps, labels and `go to`, waits,
//! splits, consent, quiet hours and frequency caps.

use std::collections::HashSet;

use super::errors;
use super::expr::{assignable, fold, Scope};
use super::logic::{self, known_if_false, known_if_true};
use super::program::*;
use super::{Checker, Global, ParamScope};
use crate::source::Span;
use crate::syntax::ast::{self, ItemKind};

/// Labels and jumps of the journey being checked; steps are numbered in source order.
#[derive(Debug)]
pub(crate) struct StepContext {
    owner: Option<StepOwner>,
    next: u32,
    labels: Vec<(String, StepId, Span)>,
    gotos: Vec<(ast::Ident, StepId)>,
}

impl StepContext {
    pub fn new(owner: Option<StepOwner>) -> StepContext {
        StepContext {
            owner,
            next: 0,
            labels: Vec::new(),
            gotos: Vec::new(),
        }
    }
}

impl<'a> Checker<'a> {
    pub(crate) fn check_trigger(&mut self, trigger: &ast::Trigger) -> Option<Trigger> {
        match &trigger.kind {
            ast::TriggerKind::Event(m) => {
                let (event, condition) = self.event_match(m, &Scope::default())?;
                Some(Trigger::Event { event, condition })
            }
            ast::TriggerKind::Segment { enters, segment } => Some(Trigger::Segment {
                enters: *enters,
                segment: self.lookup_segment(segment)?,
            }),
            ast::TriggerKind::Stage { enters, stage } => Some(Trigger::Stage {
                enters: *enters,
                stage: self.lookup_stage(stage)?,
            }),
            ast::TriggerKind::FieldChanges { field, from, to } => {
                let typed = self.type_expr(field, &Scope::default(), None);
                let ExprKind::ContactField(id) = typed.kind else {
                    if !typed.ty.is_error() {
                        let found = self.type_name(&typed.ty);
                        self.report(errors::wrong_value_type(
                            field.span,
                            "the changing value",
                            "a contact field",
                            &found,
                        ));
                    }
                    return None;
                };
                let bound = |checker: &mut Self, e: &Option<ast::Expr>| {
                    e.as_ref().map(|e| {
                        let t = checker.type_expr(e, &Scope::default(), Some(&typed.ty));
                        if !assignable(&typed.ty, &t.ty) {
                            let left = checker.type_name(&typed.ty);
                            let right = checker.type_name(&t.ty);
                            checker.report(errors::type_mismatch(
                                e.span, &left, &right, field.span, None,
                            ));
                        }
                        t
                    })
                };
                let from = bound(self, from);
                let to = bound(self, to);
                Some(Trigger::FieldChanges {
                    field: id,
                    from,
                    to,
                })
            }
            ast::TriggerKind::ScoreCrosses {
                score,
                upward,
                threshold,
            } => {
                let score = self.lookup_any_score(score);
                let t = self.type_expr(threshold, &Scope::default(), Some(&Type::Number));
                if !assignable(&Type::Number, &t.ty) {
                    let found = self.type_name(&t.ty);
                    self.report(errors::wrong_value_type(
                        threshold.span,
                        "the threshold",
                        "a number",
                        &found,
                    ));
                }
                Some(Trigger::ScoreCrosses {
                    score: score?,
                    upward: *upward,
                    threshold: t,
                })
            }
            ast::TriggerKind::Date {
                offset,
                field,
                yearly,
                at,
            } => {
                let offset_millis = match offset {
                    ast::DateOffset::On => Some(0),
                    ast::DateOffset::Before(d) => self.duration_ref(d).map(i64::saturating_neg),
                    ast::DateOffset::After(d) => self.duration_ref(d),
                };
                let id = self.lookup_contact_field(field)?;
                let ty = self
                    .program
                    .schema
                    .contact_field(id)
                    .map_or(Type::Error, |f| f.ty.clone());
                if !matches!(ty, Type::Date | Type::Timestamp | Type::Error) {
                    let found = self.type_name(&ty);
                    let date_fields: Vec<String> = (self.program.schema.contact_fields.iter())
                        .filter(|f| matches!(f.ty, Type::Date | Type::Timestamp))
                        .map(|f| f.name.clone())
                        .collect();
                    self.report(errors::date_trigger_not_a_date(
                        field.span,
                        &found,
                        &date_fields,
                    ));
                    return None;
                }
                Some(Trigger::Date {
                    offset_millis: offset_millis?,
                    field: id,
                    yearly: *yearly,
                    at_minutes: at.and_then(|a| a.minutes),
                })
            }
        }
    }

    pub(crate) fn check_quiet_hours(&mut self, q: &ast::QuietHours) -> Option<QuietHours> {
        let channel = match &q.channel {
            Some(c) => Some(self.lookup_channel(c)?),
            None => None,
        };
        let (from, to) = (q.from.minutes?, q.to.minutes?);
        if from == to {
            self.report(errors::bad_quiet_hours(q.from.span.to(q.to.span)));
            return None;
        }
        Some(QuietHours {
            channel,
            from_minutes: from,
            to_minutes: to,
            policy: q.policy,
        })
    }

    pub(crate) fn check_cap(&mut self, c: &ast::FrequencyCap) -> Option<FrequencyCap> {
        let channel = self.lookup_channel(&c.channel);
        if c.count == 0 {
            self.report(errors::zero_cap(c.count_span));
        }
        let per = self.duration_ref(&c.per);
        if per == Some(0) {
            self.report(errors::zero_duration(c.per.span(), "the cap's period"));
        }
        if c.count == 0 || per == Some(0) {
            return None;
        }
        Some(FrequencyCap {
            channel: channel?,
            count: c.count,
            per_millis: per?,
            policy: c.policy,
        })
    }

    pub(crate) fn check_top_level_delivery(&mut self) {
        for item in self.items() {
            match &item.kind {
                ItemKind::QuietHours(q) => {
                    if let Some(q) = self.check_quiet_hours(q) {
                        self.program.quiet_hours.push(q);
                    }
                }
                ItemKind::Cap(c) => {
                    if let Some(c) = self.check_cap(c) {
                        self.program.caps.push(c);
                    }
                }
                _ => {}
            }
        }
    }

    pub(crate) fn check_journeys(&mut self) {
        let mut templates: Vec<&'a ast::TemplateDecl> = Vec::new();
        for item in self.items() {
            if let ItemKind::Template(d) = &item.kind {
                let id = TemplateId(templates.len() as u32);
                templates.push(d);
                self.check_template(id, d);
            }
        }
        let mut journey_index = 0u32;
        for item in self.items() {
            match &item.kind {
                ItemKind::Journey(d) => {
                    let id = JourneyId(journey_index);
                    journey_index += 1;
                    let journey =
                        self.check_journey_body(&d.name, &d.body, Some(StepOwner::Journey(id)));
                    if let Some(j) = self.program.journeys.get_mut(id.index()) {
                        let (name, title, span) = (j.name.clone(), j.title.clone(), j.span);
                        *j = Journey {
                            name,
                            title,
                            span,
                            ..journey
                        };
                    }
                }
                ItemKind::JourneyInstance(d) => {
                    let id = JourneyId(journey_index);
                    journey_index += 1;
                    if let Some(journey) = self.instantiate(d, &templates) {
                        if let Some(j) = self.program.journeys.get_mut(id.index()) {
                            let (name, span) = (j.name.clone(), j.span);
                            *j = Journey {
                                name,
                                span,
                                ..journey
                            };
                        }
                    }
                }
                _ => {}
            }
        }
    }

    fn check_template(&mut self, id: TemplateId, d: &ast::TemplateDecl) {
        let mut params = Vec::new();
        let mut seen: Vec<(&str, Span)> = Vec::new();
        for (i, p) in d.params.iter().enumerate() {
            if let Some((_, first)) = seen.iter().find(|(n, _)| *n == p.name.name) {
                let first = *first;
                self.report(errors::duplicate_definition(
                    &p.name,
                    "parameter",
                    first,
                    "parameter",
                ));
            }
            seen.push((&p.name.name, p.name.span));
            self.define(p.name.span, Symbol::TemplateParam(id, i as u32));
            let ty = self.resolve_type(&p.ty);
            let default = p.default.as_ref().and_then(|e| {
                self.fixed_value(e, &ty, &format!("the default of `{}`", p.name.name))
            });
            params.push(TemplateParam {
                name: p.name.name.clone(),
                ty,
                default,
                span: p.name.span,
            });
        }
        self.params = Some(ParamScope {
            template: id,
            params: params
                .iter()
                .map(|p| (p.name.clone(), p.ty.clone(), None))
                .collect(),
        });
        // Checked once with unbound parameters for its messages; each instance then reports
        // only what its arguments add (see `instantiate`).
        let before = self.diagnostics.len();
        let _ = self.check_journey_body(&d.name, &d.body, Some(StepOwner::Template(id)));
        let own = self.diagnostics.get(before..).unwrap_or_default().to_vec();
        if self.template_reports.len() <= id.index() {
            self.template_reports.resize(id.index() + 1, Vec::new());
        }
        if let Some(slot) = self.template_reports.get_mut(id.index()) {
            *slot = own;
        }
        self.params = None;
        if let Some(t) = self.program.templates.get_mut(id.index()) {
            t.params = params;
        }
    }

    fn instantiate(
        &mut self,
        d: &ast::JourneyInstance,
        templates: &[&'a ast::TemplateDecl],
    ) -> Option<Journey> {
        let Some(Global::Template(id)) = self.global(&d.template.name) else {
            let suggestion = self.closest(
                &d.template.name,
                self.global_names(|g| matches!(g, Global::Template(_))),
            );
            self.report(errors::unknown_template(&d.template, suggestion.as_deref()));
            for a in &d.args {
                self.type_expr(&a.value, &Scope::default(), None);
            }
            return None;
        };
        self.refer(d.template.span, Symbol::Template(id));
        let decl = *templates.get(id.index())?;
        let params = self.program.templates.get(id.index())?.params.clone();
        let template_name = d.template.name.clone();
        let mut values: Vec<Option<Value>> = vec![None; params.len()];
        let mut given: Vec<bool> = vec![false; params.len()];
        // Where each argument's value is written, to point an instance's messages at it.
        let mut argument_spans: Vec<Option<Span>> = vec![None; params.len()];
        let mut position = 0usize;
        for arg in &d.args {
            let index = match &arg.name {
                Some(name) => match params.iter().position(|p| p.name == name.name) {
                    Some(i) => {
                        self.refer(name.span, Symbol::TemplateParam(id, i as u32));
                        i
                    }
                    None => {
                        let suggestion =
                            self.closest(&name.name, params.iter().map(|p| p.name.as_str()));
                        self.report(errors::unknown_argument(
                            name,
                            &template_name,
                            suggestion.as_deref(),
                        ));
                        continue;
                    }
                },
                None => {
                    let i = position;
                    position += 1;
                    if i >= params.len() {
                        self.report(errors::too_many_arguments(
                            arg.span,
                            &template_name,
                            params.len(),
                        ));
                        continue;
                    }
                    i
                }
            };
            let Some(param) = params.get(index) else {
                continue;
            };
            if given.get(index).copied().unwrap_or(false) {
                self.report(errors::argument_twice(arg.span, &param.name));
                continue;
            }
            if let Some(g) = given.get_mut(index) {
                *g = true;
            }
            if let Some(slot) = argument_spans.get_mut(index) {
                *slot = Some(arg.value.span);
            }
            let typed = self.type_expr(&arg.value, &Scope::default(), Some(&param.ty));
            if typed.ty.is_error() {
                continue;
            }
            if !assignable(&param.ty, &typed.ty) {
                let expected = self.type_name(&param.ty);
                let found = self.type_name(&typed.ty);
                self.report(errors::argument_type(
                    arg.value.span,
                    &param.name,
                    &expected,
                    &found,
                ));
                continue;
            }
            match fold(&typed) {
                Some(v) => {
                    if let Some(slot) = values.get_mut(index) {
                        *slot = Some(v);
                    }
                }
                None => self.report(errors::not_constant(
                    arg.value.span,
                    &format!("`{}`", param.name),
                )),
            }
        }
        for (i, p) in params.iter().enumerate() {
            if given.get(i).copied().unwrap_or(false) {
                continue;
            }
            match &p.default {
                Some(v) => {
                    if let Some(slot) = values.get_mut(i) {
                        *slot = Some(v.clone());
                    }
                }
                None => {
                    let has_default = decl.params.get(i).is_some_and(|a| a.default.is_some());
                    if !has_default {
                        self.report(errors::missing_argument(
                            d.name.span.to(d.template.span),
                            &p.name,
                            &template_name,
                            p.span,
                        ));
                    }
                }
            }
        }
        self.params = Some(ParamScope {
            template: id,
            params: params
                .iter()
                .zip(values)
                .map(|(p, v)| (p.name.clone(), p.ty.clone(), v))
                .collect(),
        });
        // The body again, with these arguments: what it reports beyond what the template
        // reported on its own comes from the arguments, and is pointed at them. Names in the
        // body were recorded (for the editor) when the template was checked.
        let before = self.diagnostics.len();
        let symbols = (
            self.program.references.len(),
            self.program.definitions.len(),
        );
        let mut journey =
            self.check_journey_body(&d.name, &decl.body, Some(StepOwner::Template(id)));
        self.program.references.truncate(symbols.0);
        self.program.definitions.truncate(symbols.1);
        let produced = self.diagnostics.split_off(before);
        let known = self
            .template_reports
            .get(id.index())
            .cloned()
            .unwrap_or_default();
        for diagnostic in produced {
            if known.contains(&diagnostic) {
                continue;
            }
            let argument = self.argument_behind(&diagnostic, &params, &argument_spans);
            self.report(errors::in_template_instance(
                &diagnostic,
                &d.name,
                d.name.span.to(d.template.span),
                &template_name,
                argument,
            ));
        }
        self.params = None;
        journey.template = Some(id);
        Some(journey)
    }

    /// The argument a message about a template's body comes from: the first parameter named
    /// in the part of the body it points at that this instance gives explicitly.
    fn argument_behind<'p>(
        &self,
        diagnostic: &crate::diagnostics::Diagnostic,
        params: &'p [TemplateParam],
        argument_spans: &[Option<Span>],
    ) -> Option<(&'p str, Span)> {
        let file = self.sources.get(diagnostic.span().file)?;
        let text = file.slice(diagnostic.span());
        let words: Vec<&str> = text
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .collect();
        params
            .iter()
            .zip(argument_spans)
            .find_map(|(p, span)| match span {
                Some(span) if words.contains(&p.name.as_str()) => Some((p.name.as_str(), *span)),
                _ => None,
            })
    }

    fn check_journey_body(
        &mut self,
        name: &ast::Ident,
        body: &ast::JourneyBody,
        owner: Option<StepOwner>,
    ) -> Journey {
        let mut journey = Journey {
            name: name.name.clone(),
            title: None,
            template: None,
            trigger: None,
            entry: Vec::new(),
            goals: Vec::new(),
            exits: Vec::new(),
            quiet_hours: Vec::new(),
            caps: Vec::new(),
            steps: Vec::new(),
            labels: Vec::new(),
            span: name.span,
        };
        // The trigger decides what `entry.X` means, so it is read before everything else.
        let mut first_trigger: Option<Span> = None;
        for stmt in &body.stmts {
            let ast::JourneyStmtKind::Trigger(t) = &stmt.kind else {
                continue;
            };
            if let Some(first) = first_trigger {
                self.report(errors::two_triggers(stmt.span, first));
                continue;
            }
            first_trigger = Some(stmt.span);
            journey.trigger = self.check_trigger(t);
        }
        if first_trigger.is_none() {
            self.report(errors::no_trigger(name));
        }
        let entry_event = match &journey.trigger {
            Some(Trigger::Event { event, .. }) => Some(*event),
            _ => None,
        };
        // A trigger on an event that is not declared was reported once already.
        let entry_unknown = entry_event.is_none()
            && body.stmts.iter().any(|s| {
                matches!(&s.kind, ast::JourneyStmtKind::Trigger(t) if matches!(t.kind, ast::TriggerKind::Event(_)))
            });
        let scope = Scope {
            entry: entry_event,
            entry_unknown,
            ..Scope::default()
        };
        let mut ctx = StepContext::new(owner);
        let mut steps: Vec<ast::Step> = Vec::new();
        for stmt in &body.stmts {
            match &stmt.kind {
                ast::JourneyStmtKind::Trigger(_) => {}
                ast::JourneyStmtKind::Entry(rule) => {
                    let rule = match &rule.kind {
                        ast::EntryRuleKind::Once => Some(EntryRule::Once),
                        ast::EntryRuleKind::OneAtATime => Some(EntryRule::OneAtATime),
                        ast::EntryRuleKind::AgainAfter(d) => self
                            .duration_ref(d)
                            .map(|millis| EntryRule::AgainAfter { millis }),
                        ast::EntryRuleKind::PerKey(key) => match entry_event {
                            Some(event) => self
                                .lookup_event_property(event, key)
                                .map(|property| EntryRule::PerKey { property }),
                            None => {
                                if !entry_unknown {
                                    self.report(errors::entry_key_unknown(key));
                                }
                                None
                            }
                        },
                    };
                    journey.entry.extend(rule);
                }
                ast::JourneyStmtKind::Goal(c) => {
                    let c = self.check_condition_stmt(c, &scope);
                    journey.goals.extend(c);
                }
                ast::JourneyStmtKind::Exit(c) => {
                    let c = self.check_condition_stmt(c, &scope);
                    journey.exits.extend(c);
                }
                ast::JourneyStmtKind::QuietHours(q) => {
                    let q = self.check_quiet_hours(q);
                    journey.quiet_hours.extend(q);
                }
                ast::JourneyStmtKind::Cap(c) => {
                    let c = self.check_cap(c);
                    journey.caps.extend(c);
                }
                ast::JourneyStmtKind::Step(step) => steps.push(step.clone()),
            }
        }
        journey.steps = self.check_steps(&steps, &mut ctx, &scope);
        journey.labels = self.finish_steps(&mut ctx, &journey.steps);
        let mut typed_steps = std::mem::take(&mut journey.steps);
        patch_gotos(&mut typed_steps, &ctx);
        journey.steps = typed_steps;
        journey
    }

    fn check_condition_stmt(&mut self, c: &ast::Condition, scope: &Scope) -> Option<Condition> {
        match c {
            ast::Condition::Segment { enters, segment } => Some(Condition::Segment {
                enters: *enters,
                segment: self.lookup_segment(segment)?,
            }),
            ast::Condition::Event(m) => {
                let (event, condition) = self.event_match(m, scope)?;
                Some(Condition::Event { event, condition })
            }
            ast::Condition::When(e) => Some(Condition::When(self.rule_condition(e, scope))),
        }
    }

    /// Resolves `go to` labels (forward only) and reports steps that can never run.
    pub(crate) fn finish_steps(
        &mut self,
        ctx: &mut StepContext,
        steps: &[Step],
    ) -> Vec<(String, StepId)> {
        let mut targets: HashSet<String> = HashSet::new();
        let mut unresolved = false;
        for (label, from) in ctx.gotos.clone() {
            match ctx.labels.iter().find(|(n, _, _)| *n == label.name) {
                Some((_, to, to_span)) => {
                    targets.insert(label.name.clone());
                    if let Some(owner) = ctx.owner {
                        self.refer(label.span, Symbol::StepLabel(owner, *to));
                    }
                    if *to <= from {
                        let to_span = *to_span;
                        self.report(errors::backward_goto(label.span, &label.name, to_span));
                    }
                }
                None => {
                    unresolved = true;
                    let suggestion =
                        self.closest(&label.name, ctx.labels.iter().map(|(n, _, _)| n.as_str()));
                    self.report(errors::unknown_step(&label, suggestion.as_deref()));
                }
            }
        }
        if unresolved {
            // A misspelled `go to` may have meant any labelled step: count them all as targets.
            targets.extend(ctx.labels.iter().map(|(n, _, _)| n.clone()));
        }
        self.report_unreachable(steps, &targets);
        ctx.labels
            .iter()
            .map(|(n, id, _)| (n.clone(), *id))
            .collect()
    }

    fn report_unreachable(&mut self, steps: &[Step], targets: &HashSet<String>) {
        let mut leaves: Option<Span> = None;
        for step in steps {
            let is_target = step.label.as_ref().is_some_and(|l| targets.contains(l));
            if let Some(cause) = leaves {
                if !is_target {
                    self.report(errors::unreachable_step(step.span, cause));
                    break;
                }
                leaves = None;
            }
            match &step.kind {
                StepKind::If {
                    then, otherwise, ..
                } => {
                    self.report_unreachable(then, targets);
                    self.report_unreachable(otherwise, targets);
                }
                StepKind::Split { arms } => arms
                    .iter()
                    .for_each(|(_, s)| self.report_unreachable(s, targets)),
                StepKind::RandomSplit { arms } => arms
                    .iter()
                    .for_each(|(_, _, s)| self.report_unreachable(s, targets)),
                StepKind::WaitForEvent { on_timeout, .. } => {
                    self.report_unreachable(on_timeout, targets)
                }
                _ => {}
            }
            if always_leaves(step) {
                leaves = Some(step.span);
            }
        }
    }

    pub(crate) fn check_steps(
        &mut self,
        steps: &[ast::Step],
        ctx: &mut StepContext,
        scope: &Scope,
    ) -> Vec<Step> {
        steps
            .iter()
            .map(|s| self.check_step(s, ctx, scope))
            .collect()
    }

    fn check_step(&mut self, step: &ast::Step, ctx: &mut StepContext, scope: &Scope) -> Step {
        let id = StepId(ctx.next);
        ctx.next += 1;
        if let Some(label) = &step.label {
            if let Some((_, _, first)) = ctx.labels.iter().find(|(n, _, _)| *n == label.name) {
                let first = *first;
                self.report(errors::duplicate_label(label, first));
            } else {
                ctx.labels.push((label.name.clone(), id, label.span));
                if let Some(owner) = ctx.owner {
                    self.define(label.span, Symbol::StepLabel(owner, id));
                }
            }
        }
        let kind = self
            .check_step_kind(step, ctx, scope)
            .unwrap_or(StepKind::Error);
        Step {
            id,
            label: step.label.as_ref().map(|l| l.name.clone()),
            kind,
            span: step.span,
        }
    }

    fn check_step_kind(
        &mut self,
        step: &ast::Step,
        ctx: &mut StepContext,
        scope: &Scope,
    ) -> Option<StepKind> {
        Some(match &step.kind {
            ast::StepKind::Send {
                channel,
                template,
                params,
            } => {
                let id = match self.global(&channel.name) {
                    Some(Global::Channel(id)) => {
                        self.refer(channel.span, Symbol::Channel(id));
                        Some(id)
                    }
                    _ => {
                        let suggestion = self.closest(
                            &channel.name,
                            self.global_names(|g| matches!(g, Global::Channel(_))),
                        );
                        self.report(errors::send_without_consent(channel, suggestion.as_deref()));
                        None
                    }
                };
                let params = params
                    .iter()
                    .map(|p| {
                        let key = p
                            .key
                            .iter()
                            .map(|k| k.name.as_str())
                            .collect::<Vec<_>>()
                            .join(".");
                        (key, self.type_expr(&p.value, scope, None))
                    })
                    .collect();
                StepKind::Send {
                    channel: id?,
                    template: template.value.clone(),
                    params,
                }
            }
            ast::StepKind::Wait(d) => {
                let millis = self.duration_ref(d)?;
                if millis == 0 {
                    self.report(errors::zero_wait(d.span()));
                }
                StepKind::Wait { millis }
            }
            ast::StepKind::WaitForEvent {
                event,
                timeout,
                on_timeout,
            } => {
                let id = self.lookup_event(&event.event);
                let inner = scope.matching(id);
                let quiet = u32::from(id.is_none());
                self.muted += quiet;
                let condition = event.condition.as_ref().map(|c| self.condition(c, &inner));
                self.muted -= quiet;
                let mut never_ends = false;
                if let Some(c) = &condition {
                    let found = logic::contradictions(c);
                    if let Some(first) = found.first() {
                        never_ends = true;
                        self.report(errors::wait_never_ends(step.span, first.span));
                    }
                }
                let timeout_millis = match timeout {
                    Some(d) => {
                        let m = self.duration_ref(d);
                        if m == Some(0) {
                            self.report(errors::zero_wait(d.span()));
                        }
                        m
                    }
                    None => {
                        if id.is_some() && !never_ends {
                            self.report(errors::may_wait_forever(event.span, &event.event.name));
                        }
                        None
                    }
                };
                let on_timeout = self.check_steps(on_timeout, ctx, scope);
                StepKind::WaitForEvent {
                    event: id?,
                    condition,
                    timeout_millis,
                    on_timeout,
                }
            }
            ast::StepKind::WaitForTime { time, days, zone } => StepKind::WaitForTime {
                minutes: time.and_then(|t| t.minutes),
                days: days.iter().map(|d| d.name.clone()).collect(),
                zone: zone.as_ref().map(|z| z.value.clone()),
            },
            ast::StepKind::If {
                condition,
                then,
                otherwise,
            } => {
                let c = self.rule_condition(condition, scope);
                let then_scope = scope.narrowed(known_if_true(&c));
                let else_scope = scope.narrowed(known_if_false(&c));
                let then = self.check_steps(then, ctx, &then_scope);
                let otherwise = otherwise
                    .as_ref()
                    .map(|o| self.check_steps(o, ctx, &else_scope))
                    .unwrap_or_default();
                StepKind::If {
                    condition: c,
                    then,
                    otherwise,
                }
            }
            ast::StepKind::Split { arms } => {
                let mut scope = scope.clone();
                let mut typed: Vec<(Option<TypedExpr>, Vec<Step>)> = Vec::new();
                let mut spans: Vec<Span> = Vec::new();
                let mut otherwise: Option<Span> = None;
                for arm in arms {
                    let condition = arm
                        .condition
                        .as_ref()
                        .map(|c| self.rule_condition(c, &scope));
                    if let Some(o) = otherwise {
                        self.report(errors::rule_after_otherwise(arm.span, o));
                    } else if let Some(c) = &condition {
                        let earlier = typed
                            .iter()
                            .zip(&spans)
                            .find(|((e, _), _)| e.as_ref().is_some_and(|e| logic::covers(e, c)));
                        if let Some((_, span)) = earlier {
                            let span = *span;
                            self.report(errors::rule_shadowed(arm.span, span));
                        }
                    }
                    if arm.condition.is_none() && otherwise.is_none() {
                        otherwise = Some(arm.span);
                    }
                    let arm_scope = match &condition {
                        Some(c) => scope.narrowed(known_if_true(c)),
                        None => scope.clone(),
                    };
                    let steps = self.check_steps(&arm.steps, ctx, &arm_scope);
                    if let Some(c) = &condition {
                        scope.known.extend(known_if_false(c));
                    }
                    typed.push((condition, steps));
                    spans.push(arm.span);
                }
                StepKind::Split { arms: typed }
            }
            ast::StepKind::RandomSplit { arms } => {
                let total: f64 = arms.iter().map(|a| a.percent).sum();
                if (total - 100.0).abs() > 1e-9 {
                    if let Some(last) = arms.last() {
                        let mut d = errors::split_not_100(last.percent_span, total);
                        for a in arms.iter().take(arms.len().saturating_sub(1)) {
                            d = d.with_label(a.percent_span, format!("{}%", a.percent));
                        }
                        self.report(d);
                    }
                }
                let typed = arms
                    .iter()
                    .map(|a| {
                        (
                            a.percent,
                            a.label.as_ref().map(|l| l.name.clone()),
                            self.check_steps(&a.steps, ctx, scope),
                        )
                    })
                    .collect();
                StepKind::RandomSplit { arms: typed }
            }
            ast::StepKind::SetField { field, value } => {
                let id = self.lookup_contact_field(field)?;
                let f = self.program.schema.contact_field(id)?.clone();
                let typed = self.type_expr(value, scope, Some(&f.ty));
                let typed = if f.optional {
                    typed
                } else {
                    self.present(typed, value.span)
                };
                if f.builtin {
                    self.report(errors::set_builtin(field));
                } else if !assignable(&f.ty, &typed.ty) {
                    let expected = self.type_name(&f.ty);
                    let found = self.type_name(&typed.ty);
                    self.report(errors::wrong_value_type(
                        value.span,
                        &format!("`contact.{}`", f.name),
                        &expected,
                        &found,
                    ));
                }
                StepKind::SetField {
                    field: id,
                    value: typed,
                }
            }
            ast::StepKind::Points {
                add,
                amount,
                amount_span: _,
                score,
            } => {
                let amount = self.points_amount(amount);
                let score = self.lookup_score(score)?;
                let amount = amount?;
                StepKind::Points {
                    score,
                    amount: if *add { amount } else { -amount },
                }
            }
            ast::StepKind::List { add, list } => StepKind::List {
                add: *add,
                list: list.value.clone(),
            },
            ast::StepKind::MoveToStage(stage) => StepKind::MoveToStage(self.lookup_stage(stage)?),
            ast::StepKind::RouteToQueue(queue) => StepKind::RouteToQueue(self.lookup_queue(queue)?),
            ast::StepKind::RouteWith(route) => match self.global(&route.name) {
                Some(Global::Route(id)) => {
                    self.refer(route.span, Symbol::Route(id));
                    StepKind::RouteWith(id)
                }
                _ => {
                    let suggestion = self.closest(
                        &route.name,
                        self.global_names(|g| matches!(g, Global::Route(_))),
                    );
                    self.report(errors::unknown_route(route, suggestion.as_deref()));
                    return None;
                }
            },
            ast::StepKind::Notify {
                queue,
                recipient,
                message,
            } => {
                let queue = match queue {
                    Some(q) => Some(self.lookup_queue(q)?),
                    None => None,
                };
                StepKind::Notify {
                    queue,
                    recipient: recipient.as_ref().map(|r| r.value.clone()),
                    message: message.value.clone(),
                }
            }
            ast::StepKind::Webhook { method, url, body } => StepKind::Webhook {
                method: method.clone(),
                url: url.value.clone(),
                body: body.as_ref().map(|b| b.value.clone()),
            },
            ast::StepKind::GoTo(label) => {
                ctx.gotos
                    .push((label.clone(), StepId(ctx.next.saturating_sub(1))));
                // Patched to the label's step once every label of the journey is known.
                StepKind::GoTo(StepId(u32::MAX))
            }
            ast::StepKind::End => StepKind::End,
        })
    }
}

/// Whether the journey never continues after this step.
fn always_leaves(step: &Step) -> bool {
    let block = |steps: &[Step]| steps.iter().any(always_leaves);
    match &step.kind {
        StepKind::End | StepKind::GoTo(_) => true,
        StepKind::If {
            then, otherwise, ..
        } => block(then) && block(otherwise),
        StepKind::Split { arms } => {
            arms.iter().any(|(c, _)| c.is_none()) && arms.iter().all(|(_, s)| block(s))
        }
        StepKind::RandomSplit { arms } => !arms.is_empty() && arms.iter().all(|(_, _, s)| block(s)),
        _ => false,
    }
}

/// Points every `go to` at its label's step now that all labels are known.
fn patch_gotos(steps: &mut [Step], ctx: &StepContext) {
    for step in steps {
        match &mut step.kind {
            StepKind::GoTo(target) => {
                let label = ctx
                    .gotos
                    .iter()
                    .find(|(_, from)| *from == step.id)
                    .map(|(l, _)| l.name.as_str());
                if let Some((_, id, _)) =
                    label.and_then(|l| ctx.labels.iter().find(|(n, _, _)| n == l))
                {
                    *target = *id;
                }
            }
            StepKind::If {
                then, otherwise, ..
            } => {
                patch_gotos(then, ctx);
                patch_gotos(otherwise, ctx);
            }
            StepKind::Split { arms } => arms.iter_mut().for_each(|(_, s)| patch_gotos(s, ctx)),
            StepKind::RandomSplit { arms } => {
                arms.iter_mut().for_each(|(_, _, s)| patch_gotos(s, ctx))
            }
            StepKind::WaitForEvent { on_timeout, .. } => patch_gotos(on_timeout, ctx),
            _ => {}
        }
    }
}
