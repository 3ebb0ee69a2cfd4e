//! `test` blocks: their contacts, timed events and expectations checked against the project.

use super::errors;
use super::expr::Scope;
use super::program::*;
use super::{Checker, Global};
use crate::source::Span;
use crate::syntax::ast::{self, ItemKind};

impl Checker<'_> {
    pub(crate) fn check_tests(&mut self) {
        for item in self.items() {
            if let ItemKind::Test(d) = &item.kind {
                let index = self.program.tests.len() as u32;
                let test = self.check_test(index, d, item.span);
                self.program.tests.push(test);
            }
        }
    }

    fn check_test(&mut self, index: u32, d: &ast::TestDecl, span: Span) -> Test {
        let mut contacts: Vec<(TestContact, Option<Span>)> = Vec::new();
        for stmt in &d.stmts {
            if let ast::TestStmtKind::Contact { name, fields } = &stmt.kind {
                if let Some(n) = name {
                    if let Some(first) = contacts
                        .iter()
                        .find_map(|(c, s)| (c.name.as_deref() == Some(&n.name)).then_some(*s))
                    {
                        self.report(errors::duplicate_definition(
                            n,
                            "test contact",
                            first.unwrap_or(n.span),
                            "test contact",
                        ));
                        continue;
                    }
                    self.define(n.span, Symbol::TestContact(index, contacts.len() as u32));
                }
                let fields: Vec<(TestKey, Value)> =
                    fields.iter().filter_map(|f| self.test_field(f)).collect();
                // A contact without a required field would be rejected before any rule runs.
                let missing: Vec<String> = self
                    .program
                    .schema
                    .contact_fields
                    .iter()
                    .enumerate()
                    .filter(|(i, f)| {
                        !f.optional
                            && !f.builtin
                            && !fields
                                .iter()
                                .any(|(k, _)| *k == TestKey::Contact(FieldId(*i as u32)))
                    })
                    .map(|(_, f)| f.name.clone())
                    .collect();
                if !missing.is_empty() {
                    let at = name.as_ref().map_or(stmt.span, |n| n.span);
                    let at = if name.is_some() {
                        at
                    } else {
                        Span {
                            end: at.start.saturating_add(7).min(at.end),
                            ..at
                        }
                    };
                    self.report(errors::test_contact_incomplete(at, &missing));
                }
                contacts.push((
                    TestContact {
                        name: name.as_ref().map(|n| n.name.clone()),
                        fields,
                    },
                    name.as_ref().map(|n| n.span),
                ));
            }
        }
        let contact_names: Vec<String> = contacts
            .iter()
            .filter_map(|(c, _)| c.name.clone())
            .collect();
        let mut steps = Vec::new();
        let mut clock: Option<(i64, Span)> = None;
        for stmt in &d.stmts {
            let (at, contact, kind) = match &stmt.kind {
                ast::TestStmtKind::Contact { .. } => continue,
                ast::TestStmtKind::Event {
                    at,
                    contact,
                    event,
                    properties,
                } => (
                    Some(at),
                    contact,
                    self.test_event(event, properties)
                        .map(|(event, properties)| TestStepKind::Event { event, properties }),
                ),
                ast::TestStmtKind::Identify {
                    at,
                    contact,
                    fields,
                    ..
                } => (
                    Some(at),
                    contact,
                    Some(TestStepKind::Identify {
                        fields: fields
                            .iter()
                            .filter_map(|f| self.identify_field(f))
                            .collect(),
                    }),
                ),
                ast::TestStmtKind::Expect {
                    at,
                    contact,
                    expectation,
                } => (
                    at.as_ref(),
                    contact,
                    self.expectation(expectation).map(TestStepKind::Expect),
                ),
            };
            let time = at.and_then(|at| self.test_time(at, &mut clock));
            let contact = contact.as_ref().and_then(|c| {
                match contact_names.iter().position(|n| *n == c.name) {
                    Some(i) => {
                        self.refer(c.span, Symbol::TestContact(index, i as u32));
                        Some(i)
                    }
                    None => {
                        let suggestion =
                            self.closest(&c.name, contact_names.iter().map(String::as_str));
                        self.report(errors::unknown_test_contact(c, suggestion.as_deref()));
                        None
                    }
                }
            });
            if let Some(kind) = kind {
                steps.push(TestStep {
                    at: time,
                    contact,
                    kind,
                    span: stmt.span,
                });
            }
        }
        Test {
            name: d.name.value.clone(),
            contacts: contacts.into_iter().map(|(c, _)| c).collect(),
            steps,
            span,
        }
    }

    fn test_time(
        &mut self,
        at: &ast::TimePoint,
        clock: &mut Option<(i64, Span)>,
    ) -> Option<TestTime> {
        match at {
            ast::TimePoint::Offset { duration } => {
                if let Some((now, _)) = clock.as_mut() {
                    *now = now.saturating_add(duration.millis);
                }
                Some(TestTime::After(duration.millis))
            }
            ast::TimePoint::Absolute { raw, span } => {
                // The parser reports impossible dates; an unreadable one is skipped here.
                let millis = parse_timestamp(raw)?;
                if let Some((now, previous)) = *clock {
                    if millis < now {
                        self.report(errors::times_out_of_order(*span, previous));
                    }
                }
                *clock = Some((millis, *span));
                Some(TestTime::Absolute(millis))
            }
        }
    }

    /// A field an `identify` step changes: as in a test contact, but a record carries no
    /// stage, so `stage` there is the schema's field or unknown.
    fn identify_field(&mut self, f: &ast::NamedValue) -> Option<(TestKey, Value)> {
        if let [name] = f.key.as_slice() {
            if name.name == "stage" && !self.contact_fields.contains_key("stage") {
                self.report(errors::identify_sets_stage(name));
                return None;
            }
        }
        self.test_field(f)
    }

    fn test_field(&mut self, f: &ast::NamedValue) -> Option<(TestKey, Value)> {
        let (key, ty) = match f.key.as_slice() {
            // The stage a test contact starts in, unless the schema has a field of that name.
            [name] if name.name == "stage" && !self.contact_fields.contains_key("stage") => {
                (TestKey::Stage, Type::Stage)
            }
            [name] | [_, name]
                if f.key.len() == 1 || f.key.first().is_some_and(|k| k.name == "contact") =>
            {
                let id = self.lookup_contact_field(name)?;
                (
                    TestKey::Contact(id),
                    self.program.schema.contact_field(id)?.ty.clone(),
                )
            }
            [first, channel] if first.name == "consent" => (
                TestKey::Consent(self.lookup_channel(channel)?),
                Type::Consent,
            ),
            [first, field] if first.name == "account" => {
                let typed = self.type_expr(
                    &ast::Expr {
                        kind: ast::ExprKind::Path(f.key.clone()),
                        span: first.span.to(field.span),
                    },
                    &Scope::default(),
                    None,
                );
                match typed.kind {
                    ExprKind::AccountField {
                        link,
                        account,
                        field,
                    } => (
                        TestKey::Account {
                            link,
                            account,
                            field,
                        },
                        typed.ty,
                    ),
                    _ => return None,
                }
            }
            _ => {
                let last = f.key.last()?;
                self.report(errors::unknown_contact_field(last, None));
                return None;
            }
        };
        let name = f
            .key
            .iter()
            .map(|k| k.name.as_str())
            .collect::<Vec<_>>()
            .join(".");
        let value = self.fixed_value(&f.value, &ty, &format!("`{name}`"))?;
        Some((key, value))
    }

    fn test_event(
        &mut self,
        event: &ast::Ident,
        properties: &[ast::NamedValue],
    ) -> Option<(EventId, Vec<(u32, Value)>)> {
        let id = self.lookup_event(event)?;
        let mut values = Vec::new();
        for p in properties {
            let [name] = p.key.as_slice() else {
                if let Some(last) = p.key.last() {
                    self.lookup_event_property(id, last);
                }
                continue;
            };
            let Some(index) = self.lookup_event_property(id, name) else {
                continue;
            };
            let Some(prop) = self
                .program
                .schema
                .event(id)
                .and_then(|e| e.properties.get(index as usize))
                .cloned()
            else {
                continue;
            };
            if let Some(v) = self.fixed_value(&p.value, &prop.ty, &format!("`{}`", prop.name)) {
                values.push((index, v));
            }
        }
        let Some(ev) = self.program.schema.event(id).cloned() else {
            return Some((id, values));
        };
        for prop in &ev.properties {
            let given = properties
                .iter()
                .any(|p| p.key.len() == 1 && p.key.first().is_some_and(|k| k.name == prop.name));
            if !prop.optional && !given {
                self.report(errors::missing_property(event.span, &ev.name, &prop.name));
            }
        }
        Some((id, values))
    }

    fn expectation(&mut self, e: &ast::Expectation) -> Option<Expectation> {
        Some(match &e.kind {
            ast::ExpectationKind::Score { score, check } => {
                let found = self.lookup_any_score(score)?;
                if let ScoreRef::Contact(id) = found {
                    self.check_expected_score(id, score, check, e.span);
                }
                Expectation::Score {
                    score: found,
                    check: check.clone(),
                }
            }
            ast::ExpectationKind::Stage(stage) => Expectation::Stage(self.lookup_stage(stage)?),
            ast::ExpectationKind::InSegment { segment, negated } => Expectation::InSegment {
                segment: self.lookup_segment(segment)?,
                negated: *negated,
            },
            ast::ExpectationKind::Sent { channel, template } => {
                let channel = self.lookup_channel(channel)?;
                self.check_sent_somewhere(channel, template);
                Expectation::Sent {
                    channel,
                    template: template.value.clone(),
                }
            }
            ast::ExpectationKind::Suppressed { channel, template } => {
                let channel = self.lookup_channel(channel)?;
                self.check_sent_somewhere(channel, template);
                Expectation::Suppressed {
                    channel,
                    template: template.value.clone(),
                }
            }
            ast::ExpectationKind::NotSent { channel, template } => {
                let channel = self.lookup_channel(channel)?;
                self.check_sent_somewhere(channel, template);
                Expectation::NotSent {
                    channel,
                    template: template.value.clone(),
                }
            }
            ast::ExpectationKind::Notified { target, negated } => match target {
                ast::NotifyTarget::Queue(queue) => Expectation::NotifiedQueue {
                    queue: self.lookup_queue(queue)?,
                    negated: *negated,
                },
                ast::NotifyTarget::Address(address) => {
                    self.check_notified_somewhere(address);
                    Expectation::NotifiedAddress {
                        address: address.value.clone(),
                        negated: *negated,
                    }
                }
            },
            ast::ExpectationKind::Listed { added, list } => {
                self.check_listed_somewhere(*added, list);
                Expectation::Listed {
                    added: *added,
                    list: list.value.clone(),
                }
            }
            ast::ExpectationKind::RoutedTo(queue) => {
                Expectation::RoutedTo(self.lookup_queue(queue)?)
            }
            ast::ExpectationKind::JourneyAt { journey, step } => {
                let Some(Global::Journey(id)) = self.global(&journey.name) else {
                    let suggestion = self.closest(
                        &journey.name,
                        self.global_names(|g| matches!(g, Global::Journey(_))),
                    );
                    self.report(errors::unknown_journey(journey, suggestion.as_deref()));
                    return None;
                };
                self.refer(journey.span, Symbol::Journey(id));
                let labels = self
                    .program
                    .journeys
                    .get(id.index())
                    .map(|j| j.labels.clone())
                    .unwrap_or_default();
                match labels.iter().find(|(n, _)| *n == step.name) {
                    Some((_, step_id)) => {
                        let owner = match self
                            .program
                            .journeys
                            .get(id.index())
                            .and_then(|j| j.template)
                        {
                            Some(t) => StepOwner::Template(t),
                            None => StepOwner::Journey(id),
                        };
                        self.refer(step.span, Symbol::StepLabel(owner, *step_id));
                        Expectation::JourneyAt {
                            journey: id,
                            step: *step_id,
                        }
                    }
                    None => {
                        let suggestion =
                            self.closest(&step.name, labels.iter().map(|(n, _)| n.as_str()));
                        self.report(errors::unknown_step(step, suggestion.as_deref()));
                        return None;
                    }
                }
            }
            ast::ExpectationKind::NoActions => Expectation::NoActions,
        })
    }
}

impl Checker<'_> {
    /// An expected score must be one the score's bounds allow.
    fn check_expected_score(
        &mut self,
        id: ScoreId,
        name: &ast::Ident,
        check: &ast::ScoreCheck,
        span: Span,
    ) {
        let Some(range) = self.score_bounds.get(id.index()).copied() else {
            return;
        };
        let wanted: Vec<(ast::CompareOp, f64)> = match check {
            ast::ScoreCheck::Compare { op, value } => vec![(*op, *value)],
            ast::ScoreCheck::Between { low, high } => {
                vec![(ast::CompareOp::Ge, *low), (ast::CompareOp::Le, *high)]
            }
        };
        if let Some(bound) = super::logic::outside_range(range, &wanted) {
            let bound_text = self.text(bound);
            self.report(errors::expected_beyond_bound(
                span,
                &name.name,
                bound,
                &bound_text,
            ));
        }
    }

    /// An expected message must be one that some journey or service level can send.
    fn check_sent_somewhere(&mut self, channel: ChannelId, template: &ast::StrLit) {
        let mut sent: Vec<&str> = Vec::new();
        let lifecycle_steps = self
            .program
            .lifecycle
            .iter()
            .flat_map(|l| l.slas.iter())
            .flat_map(|s| s.action.iter());
        let journey_steps = self.program.journeys.iter().flat_map(|j| j.steps.iter());
        for step in journey_steps.chain(lifecycle_steps) {
            collect_sends(step, channel, &mut sent);
        }
        if sent.contains(&template.value.as_str()) {
            return;
        }
        let suggestion = crate::diagnostics::closest_name(&template.value, sent.iter().copied())
            .map(str::to_string);
        let channel_name = self
            .program
            .schema
            .channels
            .get(channel.index())
            .map_or("", |c| c.name.as_str())
            .to_string();
        self.report(errors::never_sent(
            template,
            &channel_name,
            suggestion.as_deref(),
        ));
    }
}

impl Checker<'_> {
    /// Every journey and service-level step, nested ones included.
    fn all_steps(&self) -> Vec<&Step> {
        let lifecycle_steps = self
            .program
            .lifecycle
            .iter()
            .flat_map(|l| l.slas.iter())
            .flat_map(|s| s.action.iter());
        let journey_steps = self.program.journeys.iter().flat_map(|j| j.steps.iter());
        let mut out = Vec::new();
        for step in journey_steps.chain(lifecycle_steps) {
            nested_steps(step, &mut out);
        }
        out
    }

    /// An expected notify address must be one a journey, service level or route notifies.
    fn check_notified_somewhere(&mut self, address: &ast::StrLit) {
        let mut known: Vec<String> = self
            .all_steps()
            .into_iter()
            .filter_map(|s| match &s.kind {
                StepKind::Notify {
                    recipient: Some(r), ..
                } => Some(r.clone()),
                _ => None,
            })
            .collect();
        known.extend(self.program.routes.iter().flat_map(|r| {
            r.rules.iter().filter_map(|rule| match &rule.target {
                RouteTarget::Notify(who) => Some(who.clone()),
                RouteTarget::Queue(_) => None,
            })
        }));
        if known.contains(&address.value) {
            return;
        }
        let suggestion =
            crate::diagnostics::closest_name(&address.value, known.iter().map(String::as_str))
                .map(str::to_string);
        self.report(errors::never_done(
            address,
            &format!("no journey or route notifies `{}`", address.value),
            "nobody notifies this address",
            "expect an address that a `notify \"…\"` step or route names",
            suggestion.as_deref(),
        ));
    }

    /// An expected list change must be one some journey makes.
    fn check_listed_somewhere(&mut self, added: bool, list: &ast::StrLit) {
        let known: Vec<String> = self
            .all_steps()
            .into_iter()
            .filter_map(|s| match &s.kind {
                StepKind::List { add, list } if *add == added => Some(list.clone()),
                _ => None,
            })
            .collect();
        if known.contains(&list.value) {
            return;
        }
        let suggestion =
            crate::diagnostics::closest_name(&list.value, known.iter().map(String::as_str))
                .map(str::to_string);
        let (verb, step) = if added {
            ("adds contacts to", "add to list \"…\"")
        } else {
            ("removes contacts from", "remove from list \"…\"")
        };
        self.report(errors::never_done(
            list,
            &format!("no journey {verb} list `{}`", list.value),
            "no journey changes this list this way",
            &format!("expect a list that a journey's `{step}` step names"),
            suggestion.as_deref(),
        ));
    }
}

/// The step and every step nested in it, in source order.
fn nested_steps<'p>(step: &'p Step, out: &mut Vec<&'p Step>) {
    out.push(step);
    match &step.kind {
        StepKind::WaitForEvent { on_timeout, .. } => {
            on_timeout.iter().for_each(|s| nested_steps(s, out));
        }
        StepKind::If {
            then, otherwise, ..
        } => then
            .iter()
            .chain(otherwise)
            .for_each(|s| nested_steps(s, out)),
        StepKind::Split { arms } => arms
            .iter()
            .flat_map(|(_, s)| s)
            .for_each(|s| nested_steps(s, out)),
        StepKind::RandomSplit { arms } => arms
            .iter()
            .flat_map(|(_, _, s)| s)
            .for_each(|s| nested_steps(s, out)),
        _ => {}
    }
}

fn collect_sends<'p>(step: &'p Step, channel: ChannelId, out: &mut Vec<&'p str>) {
    match &step.kind {
        StepKind::Send {
            channel: c,
            template,
            ..
        } if *c == channel => out.push(template),
        StepKind::WaitForEvent { on_timeout, .. } => on_timeout
            .iter()
            .for_each(|s| collect_sends(s, channel, out)),
        StepKind::If {
            then, otherwise, ..
        } => then
            .iter()
            .chain(otherwise)
            .for_each(|s| collect_sends(s, channel, out)),
        StepKind::Split { arms } => arms
            .iter()
            .flat_map(|(_, s)| s)
            .for_each(|s| collect_sends(s, channel, out)),
        StepKind::RandomSplit { arms } => arms
            .iter()
            .flat_map(|(_, _, s)| s)
            .for_each(|s| collect_sends(s, channel, out)),
        _ => {}
    }
}

/// `2026-01-14T09:00:00Z` or with `+01:00`, to milliseconds since the epoch.
pub(crate) fn parse_timestamp(raw: &str) -> Option<i64> {
    let (date, rest) = raw.split_once('T')?;
    let mut d = date.split('-');
    let year: i64 = d.next()?.parse().ok()?;
    let month: i64 = d.next()?.parse().ok()?;
    let day: i64 = d.next()?.parse().ok()?;
    let zone_at = rest.find(['Z', '+', '-']).unwrap_or(rest.len());
    let (time, zone) = rest.split_at(zone_at);
    let mut t = time.split(':');
    let hour: i64 = t.next()?.parse().ok()?;
    let minute: i64 = t.next()?.parse().ok()?;
    let seconds: f64 = t.next().map_or(Some(0.0), |s| s.parse().ok())?;
    let offset_minutes = match zone.chars().next() {
        Some(sign @ ('+' | '-')) => {
            let (h, m) = zone.get(1..)?.split_once(':')?;
            let total = h.parse::<i64>().ok()? * 60 + m.parse::<i64>().ok()?;
            if sign == '-' {
                -total
            } else {
                total
            }
        }
        _ => 0,
    };
    let days = crate::calendar::days_from_civil(year, month, day);
    let millis = ((days * 24 + hour) * 60 + minute - offset_minutes) * 60_000
        + (seconds * 1000.0).round() as i64;
    Some(millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_parse_with_zones() {
        assert_eq!(parse_timestamp("1970-01-01T00:00Z"), Some(0));
        assert_eq!(parse_timestamp("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(
            parse_timestamp("2026-01-14T09:00:00Z"),
            Some(1_768_381_200_000)
        );
    }
}
