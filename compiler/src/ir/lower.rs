//! Lowering: `check::Program` → [`Ir`], resolving every name to a slot and interning operands.

use std::collections::HashMap;
use std::fmt;

use super::*;
use crate::check::{
    self, AggregateProperty, EventSourceKind, ExprKind, Limit, Program, RuleTrigger, Type,
    TypedExpr, Value,
};
use crate::syntax::ast::{BinaryOp, CompareOp};

mod journeys;

pub use journeys::duration_words;

/// Why a checked program cannot be lowered (a feature the runtime does not run yet, or a
/// program that still has check errors).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LowerError {
    /// The program has an expression that did not check.
    Unchecked { what: String },
    /// A language feature this runtime does not evaluate yet.
    Unsupported { what: String, feature: String },
    /// A time zone other than UTC or a fixed offset (no time-zone database is bundled yet).
    TimeZone { what: String, zone: String },
    /// A regular expression the engine cannot compile.
    Regex {
        what: String,
        pattern: String,
        error: String,
    },
}

impl fmt::Display for LowerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LowerError::Unchecked { what } => write!(f, "{what} has errors; run `maclc check`"),
            LowerError::Unsupported { what, feature } => {
                write!(
                    f,
                    "{what} uses {feature}, which `maclc run` does not evaluate yet"
                )
            }
            LowerError::TimeZone { what, zone } => write!(
                f,
                "{what} uses the time zone `{zone}`, which is not in the time-zone database \
                 (IANA names such as `Europe/Berlin`, `UTC`, or fixed offsets such as `+02:00`)"
            ),
            LowerError::Regex {
                what,
                pattern,
                error,
            } => write!(
                f,
                "{what}: the pattern `{pattern}` does not compile: {error}"
            ),
        }
    }
}

impl std::error::Error for LowerError {}

/// Lowers a checked program. The program must have no check errors. Time zones: UTC and fixed
/// offsets only (see [`lower_with`]).
pub fn lower(program: &Program) -> Result<Ir, LowerError> {
    lower_with(program, &fixed_zone)
}

/// UTC and fixed offsets (`+02:00`, `UTC-05:00`): the zones known without a time-zone database.
pub fn fixed_zone(name: &str) -> Option<ZoneRules> {
    zone_offset(name).map(|offset| ZoneRules::fixed(name, offset))
}

/// Lowers a checked program, resolving named time zones (`Europe/Berlin`) with `zones`; the
/// compiler does no I/O, so the caller brings the time-zone database.
pub fn lower_with(
    program: &Program,
    zones: &dyn Fn(&str) -> Option<ZoneRules>,
) -> Result<Ir, LowerError> {
    let mut l = Lowerer {
        zones,
        program,
        texts: Vec::new(),
        condition_count: 0,
        text_index: HashMap::new(),
        regexes: Vec::new(),
        regex_index: HashMap::new(),
        aggregates: Vec::new(),
        used: program
            .schema
            .events
            .iter()
            .map(|e| vec![false; e.properties.len()])
            .collect(),
        what: String::new(),
        segment_reads: 0,
        account_slot_index: HashMap::new(),
        account_score_reads: Vec::new(),
        tables_lowered: Vec::new(),
    };
    l.run()
}

struct Lowerer<'p> {
    zones: &'p dyn Fn(&str) -> Option<ZoneRules>,
    program: &'p Program,
    texts: Vec<String>,
    /// How many conditions were numbered so far ([`ConditionId`]).
    condition_count: u32,
    text_index: HashMap<String, TextId>,
    regexes: Vec<regex::Regex>,
    regex_index: HashMap<String, RegexId>,
    aggregates: Vec<AggregateIr>,
    /// Per event, the properties read so far.
    used: Vec<Vec<bool>>,
    /// How many `Segment` reads were lowered so far.
    segment_reads: usize,
    /// The tables, lowered before any expression (a literal lookup is folded).
    tables_lowered: Vec<TableIr>,
    /// Where account scores are read (`what`), checked once everything is lowered.
    account_score_reads: Vec<String>,
    /// (link contact slot, account field) → account slot.
    account_slot_index: HashMap<(u32, u32), u32>,
    /// What is being lowered, for error messages (`score fit, rule 2`).
    what: String,
}

fn cap_kind(limit: Limit) -> CapKind {
    match limit {
        Limit::Once => CapKind::Once,
        Limit::PerDay(n) => CapKind::PerDay(n),
        Limit::PerWeek(n) => CapKind::PerWeek(n),
        Limit::PerWindow { count, millis } => CapKind::Rolling { count, millis },
    }
}

fn val_type(ty: &Type) -> Option<ValType> {
    Some(match ty {
        Type::Bool => ValType::Bool,
        Type::Number | Type::Money | Type::Percent | Type::Duration | Type::Time => ValType::Num,
        Type::Text => ValType::Text,
        Type::Date => ValType::Date,
        Type::Timestamp => ValType::Timestamp,
        Type::Enum(_) => ValType::Enum,
        Type::Consent => ValType::Consent,
        // Stages are ordered like enum variants (declared order).
        Type::Stage => ValType::Enum,
        // A link to an account holds the account's key (its id on the wire).
        Type::Account(_) => ValType::Text,
        Type::List(_) | Type::Error => return None,
    })
}

impl Lowerer<'_> {
    fn run(&mut self) -> Result<Ir, LowerError> {
        let schema = &self.program.schema;
        let mut contact_slots = Vec::new();
        for field in &schema.contact_fields {
            contact_slots.push(self.slot(field, "contact field")?);
        }
        let (accounts, account_slots) = self.account_slots(&contact_slots)?;
        let tables = self.tables()?;
        let channels = schema
            .channels
            .iter()
            .map(|c| ChannelSlot {
                name: c.name.clone(),
                opt_in: matches!(c.mode, crate::syntax::ast::ConsentMode::OptIn),
            })
            .collect();
        let mut events = Vec::new();
        for event in &schema.events {
            let mut properties = Vec::new();
            for p in &event.properties {
                properties.push(self.slot(p, "event property")?);
            }
            let (source, wire_name) = match &event.source {
                EventSourceKind::Track(w) => (EventSource::Track, w.clone()),
                EventSourceKind::Page => (EventSource::Page, String::new()),
                EventSourceKind::Screen => (EventSource::Screen, String::new()),
            };
            events.push(EventLayout {
                name: event.name.clone(),
                source,
                wire_name,
                properties,
            });
        }

        let default_zone = schema.default_time_zone.clone();
        let mut scores = Vec::new();
        let mut rules_by_event: Vec<Vec<EventRule>> = vec![Vec::new(); events.len()];
        let mut cap_count = 0u32;
        for (si, score) in self.program.scores.iter().enumerate() {
            let score_id = ScoreId(si as u32);
            self.what = format!("score `{}`", score.name);
            let zone = score.time_zone.clone().or_else(|| default_zone.clone());
            let zone = match zone {
                None => ZoneRules::fixed("UTC", 0),
                Some(z) => fixed_zone(&z).or_else(|| (self.zones)(&z)).ok_or_else(|| {
                    LowerError::TimeZone {
                        what: self.what.clone(),
                        zone: z.clone(),
                    }
                })?,
            };
            let mut profile_rules = Vec::new();
            for (ri, rule) in score.rules.iter().enumerate() {
                self.what = format!("score `{}`, rule {}", score.name, ri + 1);
                match &rule.trigger {
                    RuleTrigger::Event { event, condition } => {
                        let condition = self.optional_condition(condition.as_ref())?;
                        let cap = rule.limit.map(|limit| {
                            cap_count += 1;
                            (cap_kind(limit), cap_count - 1)
                        });
                        let slot = rules_by_event.get_mut(event.index()).ok_or_else(|| {
                            LowerError::Unchecked {
                                what: self.what.clone(),
                            }
                        })?;
                        slot.push(EventRule {
                            score: score_id,
                            rule: ri as u32,
                            points: rule.points,
                            condition,
                            cap,
                        });
                    }
                    RuleTrigger::Profile(condition) => {
                        let condition = self.condition(condition)?;
                        let cap = rule.limit.map(|limit| {
                            cap_count += 1;
                            (cap_kind(limit), cap_count - 1)
                        });
                        profile_rules.push(ProfileRule {
                            rule: ri as u32,
                            points: rule.points,
                            condition,
                            cap,
                        });
                    }
                }
            }
            let decay = score.decay.map(|d| match d {
                check::Decay::HalfLife { millis } => DecayIr::HalfLife { millis },
                check::Decay::Step {
                    percent,
                    every_millis,
                    only_when_inactive,
                } => DecayIr::Step {
                    factor: 1.0 - percent / 100.0,
                    every_millis,
                    only_when_inactive,
                },
            });
            scores.push(ScoreIr {
                name: score.name.clone(),
                at_least: score.at_least,
                at_most: score.at_most,
                decay,
                zone,
                profile_rules,
            });
        }

        // Score rules lowered above read segments: membership must then be kept up to date
        // after every record, not only computed at the end.
        let scores_read_segments = self.segment_reads > 0;
        let mut segments = Vec::new();
        for segment in &self.program.segments {
            self.what = format!("segment `{}`", segment.name);
            segments.push(SegmentIr {
                name: segment.name.clone(),
                condition: self.condition(&segment.condition)?,
            });
        }
        let segment_order = self.segment_order()?;

        let (account_link, account_scores) = self.account_scores(&contact_slots)?;
        let lifecycle = match &self.program.lifecycle {
            Some(l) => Some(self.lifecycle(l)?),
            None => None,
        };
        let queues = self
            .program
            .queues
            .iter()
            .map(|q| QueueIr {
                name: q.name.clone(),
                round_robin: q.round_robin.clone(),
            })
            .collect();
        let mut routes = Vec::new();
        for route in &self.program.routes {
            routes.push(self.route(route)?);
        }
        let journeys = self.journeys()?;
        let live_segments = lifecycle.is_some()
            || !journeys.journeys.is_empty()
            || scores_read_segments
            || routes
                .iter()
                .any(|r| !matches!(r.trigger, RouteTrigger::Step));

        // Account scores are known only once every contact has run: segments read them at the
        // end. A score rule, or a segment evaluated during the run (lifecycle, routing), cannot.
        let outside_segment = self
            .account_score_reads
            .iter()
            .find(|w| !w.starts_with("segment ") || live_segments);
        if let Some(what) = outside_segment {
            return Err(LowerError::Unsupported {
                what: what.clone(),
                feature: "an account score outside a segment evaluated at the end of the run"
                    .into(),
            });
        }

        let mut history_events = vec![false; events.len()];
        let mut history_any = false;
        for a in &self.aggregates {
            match a.event {
                Some(e) => {
                    if let Some(flag) = history_events.get_mut(e.index()) {
                        *flag = true;
                    }
                }
                None => history_any = true,
            }
        }
        Ok(Ir {
            contact_slots,
            accounts,
            account_slots,
            account_link,
            account_scores,
            tables,
            channels,
            events,
            scores,
            rules_by_event,
            cap_count,
            segments,
            segment_order,
            aggregates: std::mem::take(&mut self.aggregates),
            history_events,
            history_any,
            texts: std::mem::take(&mut self.texts),
            condition_count: self.condition_count,
            regexes: std::mem::take(&mut self.regexes),
            lifecycle,
            queues,
            routes,
            used_properties: std::mem::take(&mut self.used),
            live_segments,
            journeys,
        })
    }

    fn lifecycle(&mut self, l: &check::Lifecycle) -> Result<LifecycleIr, LowerError> {
        let mut transitions = Vec::new();
        for (i, t) in l.transitions.iter().enumerate() {
            self.what = format!("lifecycle transition {}", i + 1);
            let trigger = match &t.condition {
                check::TransitionTrigger::When(c) => TransitionTrigger::When(self.condition(c)?),
                check::TransitionTrigger::On { event, condition } => TransitionTrigger::On {
                    event: *event,
                    condition: self.optional_condition(condition.as_ref())?,
                },
            };
            transitions.push(TransitionIr {
                back: t.back,
                to: t.to.0,
                from: t.from.iter().map(|s| s.0).collect(),
                trigger,
            });
        }
        let mut slas = Vec::new();
        for sla in &l.slas {
            self.what = "a service level (sla)".to_string();
            slas.push(SlaIr {
                stage: sla.stage.0,
                within_millis: sla.within_millis,
                steps: self.steps(&sla.action)?,
            });
        }
        Ok(LifecycleIr {
            stages: l.stages.iter().map(|s| s.name.clone()).collect(),
            transitions,
            slas,
        })
    }

    fn steps(&mut self, steps: &[check::Step]) -> Result<Vec<ActionStep>, LowerError> {
        let mut out = Vec::new();
        for step in steps {
            out.push(match &step.kind {
                check::StepKind::Send {
                    channel, template, ..
                } => ActionStep::Send {
                    channel: channel.0,
                    template: template.clone(),
                },
                check::StepKind::Notify {
                    queue,
                    recipient,
                    message,
                } => ActionStep::Notify {
                    queue: queue.map(|q| q.0),
                    recipient: recipient.clone(),
                    message: message.clone(),
                },
                check::StepKind::RouteToQueue(q) => ActionStep::RouteToQueue(q.0),
                check::StepKind::RouteWith(r) => ActionStep::RouteWith(r.0),
                check::StepKind::Webhook { method, url, body } => ActionStep::Webhook {
                    method: method.clone(),
                    url: url.clone(),
                    body: body.clone(),
                },
                _ => return Err(self.unsupported("this kind of step outside a journey")),
            });
        }
        Ok(out)
    }

    fn route(&mut self, route: &check::Route) -> Result<RouteIr, LowerError> {
        self.what = format!("route `{}`", route.name);
        let trigger =
            match &route.trigger {
                None => RouteTrigger::Step,
                Some(check::Trigger::Stage { enters, stage }) => RouteTrigger::Stage {
                    enters: *enters,
                    stage: stage.0,
                },
                Some(check::Trigger::Segment { enters, segment }) => RouteTrigger::Segment {
                    enters: *enters,
                    segment: *segment,
                },
                Some(check::Trigger::ScoreCrosses {
                    score: check::ScoreRef::Contact(score),
                    upward,
                    threshold,
                }) => match &threshold.kind {
                    ExprKind::Value(Value::Number(t)) => RouteTrigger::ScoreCrosses {
                        score: *score,
                        upward: *upward,
                        threshold: *t,
                    },
                    _ => return Err(self.unsupported("a score threshold that is not a number")),
                },
                Some(_) => return Err(self.unsupported(
                    "a routing trigger other than a stage, a segment or a contact score crossing",
                )),
            };
        let mut rules = Vec::new();
        for rule in &route.rules {
            rules.push(RouteRuleIr {
                condition: self.optional_condition(rule.condition.as_ref())?,
                target: match &rule.target {
                    check::RouteTarget::Queue(q) => RouteTargetIr::Queue(q.0),
                    check::RouteTarget::Notify(who) => RouteTargetIr::Notify(who.clone()),
                },
            });
        }
        Ok(RouteIr {
            name: route.name.clone(),
            trigger,
            rules,
        })
    }

    /// One slot per (account link, account field). The account object is the member that holds
    /// the link's key (`from "company.id"` → `traits.company`, the generator's
    /// `company: {id, name}`). A link read from a member of its own (`traits.employer`, the key
    /// as text) has no object: its account's other fields are missing (empty wire path).
    fn account_slots(
        &mut self,
        contact_slots: &[Slot],
    ) -> Result<(Vec<AccountIr>, Vec<AccountSlot>), LowerError> {
        let schema = &self.program.schema;
        let accounts: Vec<AccountIr> = schema
            .accounts
            .iter()
            .map(|a| AccountIr {
                name: a.name.clone(),
                key_wire: a.key.as_ref().map(|k| {
                    a.fields
                        .iter()
                        .find(|f| &f.name == k)
                        .map_or_else(|| k.clone(), |f| f.wire_name.clone())
                }),
            })
            .collect();
        let mut out = Vec::new();
        for (li, link) in contact_slots.iter().enumerate() {
            let Type::Account(account) = link.declared else {
                continue;
            };
            let Some(account_type) = schema.accounts.get(account.index()) else {
                continue;
            };
            let key_wire = accounts
                .get(account.index())
                .and_then(|a| a.key_wire.clone());
            let object: Option<Vec<String>> = match (link.wire.split_last(), &key_wire) {
                (Some((last, parent)), Some(key)) if last == key && !parent.is_empty() => {
                    Some(parent.to_vec())
                }
                _ => None,
            };
            for (fi, field) in account_type.fields.iter().enumerate() {
                let is_key = account_type.key.as_ref() == Some(&field.name);
                let mut slot = self.slot(field, "account field")?;
                slot.name = format!("{}.{}", link.name, field.name);
                // Through a link every account field may be missing (no account).
                slot.optional = true;
                slot.wire = if is_key {
                    link.wire.clone()
                } else if let Some(object) = &object {
                    let mut w = object.clone();
                    w.extend(field.wire_name.split('.').map(str::to_string));
                    w
                } else {
                    Vec::new()
                };
                self.account_slot_index
                    .insert((li as u32, fi as u32), out.len() as u32);
                out.push(AccountSlot {
                    link: li as u32,
                    account: account.0,
                    field: fi as u32,
                    slot,
                    is_key,
                });
            }
        }
        Ok((accounts, out))
    }

    /// Tables as rows of constants with the key column indexed.
    fn tables(&mut self) -> Result<Vec<TableIr>, LowerError> {
        let mut out = Vec::new();
        for table in &self.program.schema.tables {
            self.what = format!("table `{}`", table.name);
            let mut rows = Vec::with_capacity(table.rows.len());
            let mut text_keys = HashMap::new();
            let mut other_keys = Vec::new();
            for (ri, row) in table.rows.iter().enumerate() {
                let mut cells = Vec::with_capacity(row.len());
                for value in row {
                    cells.push(self.constant(value)?.0);
                }
                match table.key.and_then(|k| row.get(k)) {
                    Some(Value::Text(t)) => {
                        text_keys.entry(t.clone()).or_insert(ri as u32);
                    }
                    Some(_) => {
                        if let Some(k) = table.key.and_then(|k| cells.get(k)) {
                            other_keys.push((k.clone(), ri as u32));
                        }
                    }
                    None => {}
                }
                rows.push(cells);
            }
            out.push(TableIr {
                name: table.name.clone(),
                rows,
                text_keys,
                other_keys,
            });
        }
        self.tables_lowered = out.clone();
        Ok(out)
    }

    /// The cell of a lookup whose key is a constant, when the row exists.
    fn literal_lookup(&self, table: usize, key: &Const, column: u32) -> Option<(Const, ValType)> {
        let t = self.tables_lowered.get(table)?;
        let row = match key {
            Const::Text(id) => t.row_of_text(self.texts.get(id.0 as usize)?)?,
            other => t.other_keys.iter().find(|(k, _)| k == other)?.1,
        };
        let cell = t.cell(row, column)?.clone();
        let ty = match &cell {
            Const::Bool(_) => ValType::Bool,
            Const::Num(_) => ValType::Num,
            Const::Text(_) => ValType::Text,
            Const::Date(_) => ValType::Date,
            Const::Timestamp(_) => ValType::Timestamp,
            Const::Enum(_) => ValType::Enum,
            Const::Consent(_) => ValType::Consent,
        };
        Some((cell, ty))
    }

    /// Account scores group contacts by their one account link; with several links the account
    /// a score rolls up to would be ambiguous.
    fn account_scores(
        &self,
        contact_slots: &[Slot],
    ) -> Result<(Option<u32>, Vec<AccountScoreIr>), LowerError> {
        let links: Vec<u32> = contact_slots
            .iter()
            .enumerate()
            .filter(|(_, s)| matches!(s.declared, Type::Account(_)))
            .map(|(i, _)| i as u32)
            .collect();
        let mut out = Vec::new();
        for a in &self.program.account_scores {
            let what = format!("account score `{}`", a.name);
            let score = a
                .of_score
                .ok_or_else(|| LowerError::Unchecked { what: what.clone() })?;
            if links.len() != 1 {
                return Err(LowerError::Unsupported {
                    what,
                    feature: "an account score without exactly one account field on the contact"
                        .into(),
                });
            }
            out.push(AccountScoreIr {
                name: a.name.clone(),
                aggregate: a.aggregate,
                score,
            });
        }
        Ok((links.first().copied(), out))
    }

    fn slot(&self, field: &check::Field, kind: &str) -> Result<Slot, LowerError> {
        let what = format!("{kind} `{}`", field.name);
        let ty = val_type(&field.ty).ok_or_else(|| LowerError::Unsupported {
            what: what.clone(),
            feature: "a type of field (account link, list or stage)".into(),
        })?;
        let variants = match &field.ty {
            Type::Enum(id) => self
                .program
                .schema
                .enum_type(*id)
                .map(|e| e.variants.clone())
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        Ok(Slot {
            name: field.name.clone(),
            wire: field.wire_name.split('.').map(str::to_string).collect(),
            ty,
            declared: field.ty.clone(),
            optional: field.optional,
            variants,
            is_contact_id: field.builtin && field.name == "id",
            builtin: field.builtin,
        })
    }

    /// Segments ordered so that each follows those it reads (the checker rejects cycles).
    fn segment_order(&self) -> Result<Vec<SegmentId>, LowerError> {
        let n = self.program.segments.len();
        let mut state = vec![0u8; n];
        let mut order = Vec::with_capacity(n);
        fn visit(
            i: usize,
            segments: &[check::Segment],
            state: &mut [u8],
            order: &mut Vec<SegmentId>,
        ) -> Result<(), LowerError> {
            match state.get(i).copied() {
                Some(2) => return Ok(()),
                Some(1) => {
                    return Err(LowerError::Unchecked {
                        what: "a cycle of segments".into(),
                    })
                }
                Some(_) => {}
                None => return Ok(()),
            }
            if let Some(s) = state.get_mut(i) {
                *s = 1;
            }
            if let Some(seg) = segments.get(i) {
                for d in &seg.depends_on {
                    visit(d.index(), segments, state, order)?;
                }
            }
            if let Some(s) = state.get_mut(i) {
                *s = 2;
            }
            order.push(SegmentId(i as u32));
            Ok(())
        }
        for i in 0..n {
            visit(i, &self.program.segments, &mut state, &mut order)?;
        }
        Ok(order)
    }

    fn mark_used(&mut self, event: EventId, property: u32) {
        if let Some(flag) = self
            .used
            .get_mut(event.index())
            .and_then(|e| e.get_mut(property as usize))
        {
            *flag = true;
        }
    }

    fn intern(&mut self, text: &str) -> TextId {
        if let Some(id) = self.text_index.get(text) {
            return *id;
        }
        let id = TextId(self.texts.len() as u32);
        self.texts.push(text.to_string());
        self.text_index.insert(text.to_string(), id);
        id
    }

    fn regex(&mut self, pattern: &str) -> Result<RegexId, LowerError> {
        if let Some(id) = self.regex_index.get(pattern) {
            return Ok(*id);
        }
        let compiled =
            regex::Regex::new(&ascii_word_boundaries(pattern)).map_err(|e| LowerError::Regex {
                what: self.what.clone(),
                pattern: pattern.to_string(),
                error: e.to_string(),
            })?;
        let id = RegexId(self.regexes.len() as u32);
        self.regexes.push(compiled);
        self.regex_index.insert(pattern.to_string(), id);
        Ok(id)
    }

    fn unsupported(&self, feature: &str) -> LowerError {
        LowerError::Unsupported {
            what: self.what.clone(),
            feature: feature.into(),
        }
    }

    fn constant(&mut self, value: &Value) -> Result<(Const, ValType), LowerError> {
        Ok(match value {
            Value::Text(t) => (Const::Text(self.intern(t)), ValType::Text),
            Value::Number(n) => (Const::Num(*n), ValType::Num),
            Value::Bool(b) => (Const::Bool(*b), ValType::Bool),
            Value::Date(d) => (Const::Date(*d), ValType::Date),
            Value::Timestamp(t) => (Const::Timestamp(*t), ValType::Timestamp),
            Value::Duration(d) => (Const::Num(*d as f64), ValType::Num),
            Value::Time(m) => (Const::Num(f64::from(*m)), ValType::Num),
            Value::Money { amount, .. } => (Const::Num(*amount), ValType::Num),
            // `10%` is a factor of 0.1 wherever it is used.
            Value::Percent(p) => (Const::Num(p / 100.0), ValType::Num),
            Value::Enum(_, v) => (Const::Enum(*v), ValType::Enum),
            Value::Consent(c) => (Const::Consent(*c), ValType::Consent),
            Value::Stage(s) => (Const::Enum(s.0), ValType::Enum),
            Value::List(_) => return Err(self.unsupported("a list value here")),
        })
    }

    /// A whole condition, with the next [`ConditionId`] (its aggregates' filters, lowered
    /// with it, are numbered first).
    fn condition(&mut self, e: &TypedExpr) -> Result<Condition, LowerError> {
        let expr = self.expr(e)?;
        let id = ConditionId(self.condition_count);
        self.condition_count = self
            .condition_count
            .checked_add(1)
            .ok_or_else(|| self.unsupported("more than 4 billion conditions"))?;
        Ok(Condition { id, expr })
    }

    fn optional_condition(
        &mut self,
        e: Option<&TypedExpr>,
    ) -> Result<Option<Condition>, LowerError> {
        e.map(|e| self.condition(e)).transpose()
    }

    fn boxed(&mut self, e: &TypedExpr) -> Result<Box<Expr>, LowerError> {
        Ok(Box::new(self.expr(e)?))
    }

    fn expr(&mut self, e: &TypedExpr) -> Result<Expr, LowerError> {
        let ty = match &e.ty {
            Type::Error => {
                return Err(LowerError::Unchecked {
                    what: self.what.clone(),
                })
            }
            t => val_type(t),
        };
        let node = match &e.kind {
            ExprKind::Value(v) => {
                let (c, t) = self.constant(v)?;
                return Ok(Expr {
                    ty: t,
                    node: Node::Const(c),
                });
            }
            ExprKind::ContactField(f) => Node::Contact(f.0),
            ExprKind::EventProperty { event, property } => {
                self.mark_used(*event, *property);
                Node::Property(*property)
            }
            ExprKind::EventTimestamp(_) => Node::EventTime,
            ExprKind::Consent(c) => Node::Consent(c.0),
            ExprKind::Score(s) => Node::Score(*s),
            ExprKind::Segment(s) => {
                self.segment_reads += 1;
                Node::Segment(*s)
            }
            ExprKind::Now => Node::Now,
            ExprKind::Call { function, args } => {
                let f: Func = *function;
                let mut lowered = Vec::with_capacity(args.len());
                for a in args {
                    lowered.push(self.expr(a)?);
                }
                Node::Call(f, lowered)
            }
            ExprKind::Aggregate(a) => {
                let condition = self.optional_condition(a.condition.as_ref())?;
                let property = match a.property {
                    Some(AggregateProperty::Property(p)) => Some(p),
                    Some(AggregateProperty::Timestamp) | None => None,
                };
                if let (Some(e), Some(p)) = (a.event, property) {
                    self.mark_used(e, p);
                }
                let id = AggregateId(self.aggregates.len() as u32);
                self.aggregates.push(AggregateIr {
                    kind: a.kind,
                    event: a.event,
                    property,
                    condition,
                    window_millis: a.window,
                });
                Node::Aggregate(id)
            }
            ExprKind::Not(x) => Node::Not(self.boxed(x)?),
            ExprKind::Negate(x) => Node::Neg(self.boxed(x)?),
            ExprKind::Binary { op, lhs, rhs } => {
                let l = self.boxed(lhs)?;
                match op {
                    BinaryOp::Matches => match &rhs.kind {
                        ExprKind::Value(Value::Text(pattern)) => {
                            Node::Matches(l, self.regex(pattern)?)
                        }
                        _ => return Err(self.unsupported("`matches` with a computed pattern")),
                    },
                    _ => {
                        let r = self.boxed(rhs)?;
                        match op {
                            BinaryOp::Or => Node::Or(l, r),
                            BinaryOp::And => Node::And(l, r),
                            BinaryOp::Compare(c) => Node::Cmp(
                                match c {
                                    CompareOp::Eq => CmpOp::Eq,
                                    CompareOp::Ne => CmpOp::Ne,
                                    CompareOp::Lt => CmpOp::Lt,
                                    CompareOp::Le => CmpOp::Le,
                                    CompareOp::Gt => CmpOp::Gt,
                                    CompareOp::Ge => CmpOp::Ge,
                                },
                                l,
                                r,
                            ),
                            BinaryOp::StartsWith => Node::Text(TextOp::StartsWith, l, r),
                            BinaryOp::EndsWith => Node::Text(TextOp::EndsWith, l, r),
                            BinaryOp::Contains => Node::Text(TextOp::Contains, l, r),
                            BinaryOp::Add => Node::Arith(ArithOp::Add, l, r),
                            BinaryOp::Subtract => Node::Arith(ArithOp::Sub, l, r),
                            BinaryOp::Multiply => Node::Arith(ArithOp::Mul, l, r),
                            BinaryOp::Divide => Node::Arith(ArithOp::Div, l, r),
                            BinaryOp::Default => Node::Default(l, r),
                            BinaryOp::Matches => return Err(self.unsupported("`matches`")),
                        }
                    }
                }
            }
            ExprKind::IsKnown { operand, known } => Node::IsKnown(self.boxed(operand)?, *known),
            ExprKind::InList {
                operand,
                list,
                negated,
            } => {
                let operand = self.boxed(operand)?;
                let items = match &list.kind {
                    ExprKind::List(items) => {
                        let mut out = Vec::with_capacity(items.len());
                        for i in items {
                            out.push(self.expr(i)?);
                        }
                        out
                    }
                    ExprKind::Value(Value::List(values)) => {
                        let mut out = Vec::with_capacity(values.len());
                        for v in values {
                            let (c, t) = self.constant(v)?;
                            out.push(Expr {
                                ty: t,
                                node: Node::Const(c),
                            });
                        }
                        out
                    }
                    _ => return Err(self.unsupported("`in` over a computed list")),
                };
                Node::InList {
                    operand,
                    list: items,
                    negated: *negated,
                }
            }
            ExprKind::Between { operand, low, high } => {
                Node::Between(self.boxed(operand)?, self.boxed(low)?, self.boxed(high)?)
            }
            ExprKind::AccountField { link, field, .. } => {
                // Slots are numbered link by link, in field order (see `account_slots`).
                match self.account_slot_index.get(&(link.0, *field)) {
                    Some(i) => Node::Account(*i),
                    None => {
                        return Err(LowerError::Unchecked {
                            what: self.what.clone(),
                        })
                    }
                }
            }
            ExprKind::AccountScore(id) => {
                self.account_score_reads.push(self.what.clone());
                Node::AccountScore(id.0)
            }
            ExprKind::EntryProperty { event, property } => {
                self.mark_used(*event, *property);
                Node::Entry(*property)
            }
            ExprKind::EntryTimestamp(_) => Node::EntryTime,
            ExprKind::Param(_) => return Err(self.unsupported("an unbound template parameter")),
            ExprKind::Stage => Node::Stage,
            ExprKind::Lookup { table, key, column } => {
                let key = self.expr(key)?;
                // A literal key (`products["GEN-MK1"].line`) is looked up once, here.
                if let Node::Const(k) = &key.node {
                    let cell = self.literal_lookup(table.index(), k, *column);
                    return Ok(match cell {
                        Some((c, t)) => Expr {
                            ty: t,
                            node: Node::Const(c),
                        },
                        // No such row: missing, as at run time (`?? default` takes over).
                        None => Expr {
                            ty: ty.ok_or_else(|| self.unsupported("a value of this type"))?,
                            node: Node::Lookup {
                                table: table.0,
                                key: Box::new(key),
                                column: *column,
                            },
                        },
                    });
                }
                Node::Lookup {
                    table: table.0,
                    key: Box::new(key),
                    column: *column,
                }
            }
            ExprKind::List(_) => return Err(self.unsupported("a list value here")),
            ExprKind::Error => {
                return Err(LowerError::Unchecked {
                    what: self.what.clone(),
                })
            }
        };
        let ty = ty.ok_or_else(|| self.unsupported("a value of this type"))?;
        Ok(Expr { ty, node })
    }
}

/// `\b` and `\B` as ASCII word boundaries (RE2's meaning, which R1 uses), everything else as
/// written: Rust's `regex` makes them Unicode-aware by default.
fn ascii_word_boundaries(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('b') => out.push_str("(?-u:\\b)"),
                Some('B') => out.push_str("(?-u:\\B)"),
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The offset of a time zone, when it is UTC or a fixed offset (`+02:00`, `UTC-05:00`).
fn zone_offset(zone: &str) -> Option<i64> {
    let z = zone.trim();
    if matches!(z, "UTC" | "Etc/UTC" | "GMT" | "Etc/GMT" | "Z" | "utc") {
        return Some(0);
    }
    let rest = z
        .strip_prefix("UTC")
        .or_else(|| z.strip_prefix("GMT"))
        .unwrap_or(z);
    let (sign, digits) = match rest.as_bytes().first()? {
        b'+' => (1, rest.get(1..)?),
        b'-' => (-1, rest.get(1..)?),
        _ => return None,
    };
    let (h, m) = match digits.split_once(':') {
        Some((h, m)) => (h.parse::<i64>().ok()?, m.parse::<i64>().ok()?),
        None => (digits.parse::<i64>().ok()?, 0),
    };
    if h > 23 || m > 59 {
        return None;
    }
    Some(sign * (h * 3_600_000 + m * 60_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_boundaries_are_ascii() {
        let r = regex::Regex::new(&ascii_word_boundaries(r"(?i)\bhead\b")).ok();
        assert!(r.as_ref().is_some_and(|r| r.is_match("Head of Sales")));
        assert!(r.as_ref().is_some_and(|r| !r.is_match("Headhunter")));
        // An ASCII boundary sits between `d` and `é` (RE2), a Unicode one would not.
        assert!(r.as_ref().is_some_and(|r| r.is_match("headé")));
    }

    fn lowered(text: &str) -> Result<Ir, LowerError> {
        let mut sources = crate::source::Sources::new();
        sources.add("t.marketing".to_string(), text.to_string());
        let analysis = crate::analyze(&sources);
        assert!(!analysis.has_errors(), "{:#?}", analysis.diagnostics);
        lower(&analysis.program)
    }

    const SCHEMA: &str = r#"
channel email opt_in
enum line { general, medical }
contact {
  email: text
  company_size: optional number
}
event page_view from page {
  path: text
  url: text
}
event demo from track "Demo Requested" {
  product_line: line
  note: text
}
"#;

    #[test]
    fn rules_are_grouped_per_event_with_cap_slots() {
        let ir = lowered(&format!(
            "{SCHEMA}
score a {{ +5 on page_view where path starts_with \"/p\" limit 3 per day
  +90 on demo where product_line == general limit 1 per week
  +20 when contact.company_size ?? 0 >= 500 }}
score b {{ +1 on page_view }}
segment hot = count page_view where path == \"/pricing\" in the last 7d >= 3
segment quiet = no event in the last 90d"
        ))
        .unwrap_or_else(|e| panic!("{e}"));
        let page = ir
            .events
            .iter()
            .position(|e| e.name == "page_view")
            .unwrap_or(99);
        let demo = ir
            .events
            .iter()
            .position(|e| e.name == "demo")
            .unwrap_or(99);
        let on_page = ir.rules_by_event.get(page).map(Vec::len);
        assert_eq!(on_page, Some(2));
        assert_eq!(ir.rules_by_event.get(demo).map(Vec::len), Some(1));
        assert_eq!(ir.cap_count, 2);
        assert_eq!(ir.scores.first().map(|s| s.profile_rules.len()), Some(1));
        // Only what expressions read is decoded: `path` and `product_line`, not `url`/`note`.
        assert_eq!(ir.used_properties.get(page), Some(&vec![true, false]));
        assert_eq!(ir.used_properties.get(demo), Some(&vec![true, false]));
        assert_eq!(ir.history_events.get(page), Some(&true));
        assert!(ir.history_any);
        assert_eq!(ir.aggregates.len(), 2);
        assert_eq!(ir.texts, ["/p", "/pricing"]);
        assert!(!ir.live_segments);
    }

    #[test]
    fn unsupported_features_are_typed_errors() {
        let error = lowered(
            r#"
channel email opt_in
account company {
  name: text
}
contact {
  email: text
  employer: optional company
  partner: optional company
}
event page_view from page {
  path: text
}
score b { +1 on page_view }
// Two account links: which account the score rolls up to is ambiguous.
account score company_total = sum of b
"#,
        );
        assert!(
            matches!(error, Err(LowerError::Unsupported { .. })),
            "{error:?}"
        );
        let zone = lowered(&format!(
            "{SCHEMA}
score b {{ time_zone \"Europe/Berlin\"
  +1 on page_view limit 1 per day }}"
        ));
        assert!(matches!(zone, Err(LowerError::TimeZone { .. })), "{zone:?}");
    }

    #[test]
    fn zones() {
        assert_eq!(zone_offset("UTC"), Some(0));
        assert_eq!(zone_offset("+02:00"), Some(7_200_000));
        assert_eq!(zone_offset("UTC-05:30"), Some(-19_800_000));
        assert_eq!(zone_offset("Europe/Berlin"), None);
    }
}
