//! Lowering journeys: `check::Journey` → [`JourneyIr`], steps flattened by step id with their
//! control flow resolved, stable step names derived.

use super::*;
use crate::check::{self, EntryRule, Journey, ScoreRef, Step, StepKind, Trigger};
use crate::syntax::ast::CapPolicy;

fn policy(p: CapPolicy) -> SendPolicy {
    match p {
        CapPolicy::Defer => SendPolicy::Defer,
        CapPolicy::Skip => SendPolicy::Skip,
    }
}

/// A duration as a marketer writes it (`4h`, `7d`, `90m`), for derived step names.
pub fn duration_words(millis: i64) -> String {
    const UNITS: [(i64, &str); 4] = [
        (86_400_000, "d"),
        (3_600_000, "h"),
        (60_000, "m"),
        (1_000, "s"),
    ];
    for (size, unit) in UNITS {
        if millis != 0 && millis % size == 0 {
            return format!("{}{unit}", millis / size);
        }
    }
    format!("{millis}ms")
}

fn weekday_bits(days: &[String]) -> u8 {
    days.iter().fold(0u8, |bits, d| {
        bits | match d.as_str() {
            "monday" => 1,
            "tuesday" => 2,
            "wednesday" => 4,
            "thursday" => 8,
            "friday" => 16,
            "saturday" => 32,
            "sunday" => 64,
            "weekdays" => 0b0001_1111,
            "weekends" => 0b0110_0000,
            _ => 0,
        }
    })
}

impl Lowerer<'_> {
    fn zone_rules(&self, name: &str) -> Result<ZoneRules, LowerError> {
        fixed_zone(name)
            .or_else(|| (self.zones)(name))
            .ok_or_else(|| LowerError::TimeZone {
                what: self.what.clone(),
                zone: name.to_string(),
            })
    }

    /// Every journey, the program-wide quiet hours and caps, and the zones they need.
    pub(super) fn journeys(&mut self) -> Result<JourneysIr, LowerError> {
        let program = self.program;
        self.what = "the default time zone".into();
        let default_zone = match &program.schema.default_time_zone {
            Some(z) => self.zone_rules(z)?,
            None => ZoneRules::fixed("UTC", 0),
        };
        let zone_slot = program
            .schema
            .contact_fields
            .iter()
            .position(|f| f.name == "timezone" && f.ty == crate::check::Type::Text)
            .map(|i| i as u32);
        let mut out = JourneysIr {
            journeys: Vec::new(),
            quiet_hours: program.quiet_hours.iter().map(quiet_hours).collect(),
            caps: program.caps.iter().map(cap).collect(),
            zone_slot,
            default_zone,
            zones: Vec::new(),
        };
        for journey in &program.journeys {
            self.what = format!("journey `{}`", journey.name);
            let lowered = self.journey(journey, &mut out.zones)?;
            out.journeys.push(lowered);
        }
        Ok(out)
    }

    fn goal_or_exit(&mut self, c: &check::Condition) -> Result<ConditionIr, LowerError> {
        Ok(match c {
            check::Condition::Segment { enters, segment } => {
                self.segment_reads += 1;
                ConditionIr::Segment {
                    enters: *enters,
                    segment: segment.0,
                }
            }
            check::Condition::Event { event, condition } => ConditionIr::Event {
                event: event.0,
                condition: self.optional_condition(condition.as_ref())?,
            },
            check::Condition::When(e) => ConditionIr::When(self.condition(e)?),
        })
    }

    fn optional(&mut self, e: Option<&TypedExpr>) -> Result<Option<Expr>, LowerError> {
        e.map(|e| self.expr(e)).transpose()
    }

    fn journey(
        &mut self,
        j: &Journey,
        zones: &mut Vec<ZoneRules>,
    ) -> Result<JourneyIr, LowerError> {
        let mut entry_event = None;
        let trigger = match &j.trigger {
            None => JourneyTrigger::Never,
            Some(Trigger::Event { event, condition }) => {
                entry_event = Some(event.0);
                JourneyTrigger::Event {
                    event: event.0,
                    condition: self.optional_condition(condition.as_ref())?,
                }
            }
            Some(Trigger::Segment { enters, segment }) => JourneyTrigger::Segment {
                enters: *enters,
                segment: segment.0,
            },
            Some(Trigger::Stage { enters, stage }) => JourneyTrigger::Stage {
                enters: *enters,
                stage: stage.0,
            },
            Some(Trigger::FieldChanges { field, from, to }) => JourneyTrigger::FieldChanges {
                slot: field.0,
                from: self.optional(from.as_ref())?,
                to: self.optional(to.as_ref())?,
            },
            Some(Trigger::ScoreCrosses {
                score,
                upward,
                threshold,
            }) => {
                let ScoreRef::Contact(score) = score else {
                    return Err(self.unsupported("a trigger on an account score"));
                };
                let threshold = match &threshold.kind {
                    ExprKind::Value(v) => match self.constant(v)?.0 {
                        Const::Num(n) => n,
                        _ => return Err(self.unsupported("a score threshold that is not a number")),
                    },
                    _ => return Err(self.unsupported("a score threshold that is not a number")),
                };
                JourneyTrigger::ScoreCrosses {
                    score: score.0,
                    upward: *upward,
                    threshold,
                }
            }
            Some(Trigger::Date {
                offset_millis,
                field,
                yearly,
                at_minutes,
            }) => JourneyTrigger::Date {
                slot: field.0,
                offset_millis: *offset_millis,
                yearly: *yearly,
                at_minutes: at_minutes.unwrap_or(0),
            },
        };
        let mut entry = EntryIr::default();
        for rule in &j.entry {
            match rule {
                EntryRule::Once => entry.once = true,
                EntryRule::AgainAfter { millis } => entry.again_after_millis = Some(*millis),
                EntryRule::OneAtATime => entry.one_at_a_time = true,
                EntryRule::PerKey { property } => {
                    if let Some(e) = entry_event {
                        self.mark_used(EventId(e), *property);
                    }
                    entry.key_property = Some(*property);
                }
            }
        }
        let mut goals = Vec::new();
        for g in &j.goals {
            goals.push(self.goal_or_exit(g)?);
        }
        let mut exits = Vec::new();
        for e in &j.exits {
            exits.push(self.goal_or_exit(e)?);
        }
        // Flatten the steps by id: each block's steps continue to the next one in the block,
        // the last one to where the block continues.
        let count = count_steps(&j.steps);
        let mut steps: Vec<Option<StepIr>> = vec![None; count];
        let first = self.block(&j.steps, None, &mut steps, zones)?;
        let mut steps: Vec<StepIr> = steps
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                s.unwrap_or(StepIr {
                    name: String::new(),
                    labelled: false,
                    kind: StepKindIr::Pass,
                    next: None,
                })
                .with_default_name(i)
            })
            .collect();
        // Labels are the stable names; others are derived and numbered when they repeat.
        let mut seen: HashMap<String, u32> = HashMap::new();
        for step in steps.iter_mut().filter(|s| !s.labelled) {
            let n = seen.entry(step.name.clone()).or_insert(0);
            *n += 1;
            if *n > 1 {
                step.name = format!("{} #{n}", step.name);
            }
        }
        // Entry properties read by the journey must be decoded from the entry event.
        Ok(JourneyIr {
            name: j.name.clone(),
            trigger,
            entry_event,
            entry,
            goals,
            exits,
            quiet_hours: j.quiet_hours.iter().map(quiet_hours).collect(),
            caps: j.caps.iter().map(cap).collect(),
            steps,
            first,
        })
    }

    /// Lowers a block whose end continues at `then`; returns where the block starts.
    fn block(
        &mut self,
        block: &[Step],
        then: Option<u32>,
        out: &mut Vec<Option<StepIr>>,
        zones: &mut Vec<ZoneRules>,
    ) -> Result<Option<u32>, LowerError> {
        let mut next = then;
        for step in block.iter().rev() {
            self.step(step, next, out, zones)?;
            next = Some(step.id.0);
        }
        Ok(next)
    }

    fn step(
        &mut self,
        step: &Step,
        next: Option<u32>,
        out: &mut Vec<Option<StepIr>>,
        zones: &mut Vec<ZoneRules>,
    ) -> Result<(), LowerError> {
        let program = self.program;
        let name_of = |list: &[String], i: u32| list.get(i as usize).cloned().unwrap_or_default();
        let event_name = |e: EventId| {
            program
                .schema
                .event(e)
                .map_or_else(String::new, |e| e.name.clone())
        };
        let mut next = next;
        let (kind, derived) = match &step.kind {
            StepKind::Send {
                channel,
                template,
                params,
            } => {
                let mut lowered = Vec::new();
                for (k, v) in params {
                    lowered.push((k.clone(), self.expr(v)?));
                }
                let channel_name = program
                    .schema
                    .channels
                    .get(channel.index())
                    .map_or("", |c| c.name.as_str());
                (
                    StepKindIr::Send {
                        channel: channel.0,
                        template: template.clone(),
                        params: lowered,
                    },
                    format!("send {channel_name} {template}"),
                )
            }
            StepKind::Wait { millis } => (
                StepKindIr::Wait { millis: *millis },
                format!("wait {}", duration_words(*millis)),
            ),
            StepKind::WaitForEvent {
                event,
                condition,
                timeout_millis,
                on_timeout,
            } => {
                let condition = self.optional_condition(condition.as_ref())?;
                let on_timeout = self.block(on_timeout, next, out, zones)?;
                (
                    StepKindIr::WaitForEvent {
                        event: event.0,
                        condition,
                        timeout_millis: *timeout_millis,
                        on_timeout,
                    },
                    format!("wait until {}", event_name(*event)),
                )
            }
            StepKind::WaitForTime {
                minutes,
                days,
                zone,
            } => {
                let zone = match zone {
                    None => ZoneRef::Contact,
                    Some(z) => {
                        let rules = self.zone_rules(z)?;
                        let index = match zones.iter().position(|r| r.name == rules.name) {
                            Some(i) => i,
                            None => {
                                zones.push(rules);
                                zones.len() - 1
                            }
                        };
                        ZoneRef::Fixed(index as u32)
                    }
                };
                let mut words = String::from("wait until");
                if let Some(m) = minutes {
                    words.push_str(&format!(" {:02}:{:02}", m / 60, m % 60));
                }
                if !days.is_empty() {
                    words.push_str(&format!(" on {}", days.join(", ")));
                }
                (
                    StepKindIr::WaitForTime {
                        minutes: *minutes,
                        weekdays: weekday_bits(days),
                        zone,
                    },
                    words,
                )
            }
            StepKind::If {
                condition,
                then,
                otherwise,
            } => {
                let condition = self.condition(condition)?;
                let then = self.block(then, next, out, zones)?;
                let otherwise = self.block(otherwise, next, out, zones)?;
                (
                    StepKindIr::If {
                        condition,
                        then,
                        otherwise,
                    },
                    "if".to_string(),
                )
            }
            StepKind::Split { arms } => {
                let mut lowered = Vec::new();
                for (c, steps) in arms {
                    let c = self.optional_condition(c.as_ref())?;
                    lowered.push((c, self.block(steps, next, out, zones)?));
                }
                (StepKindIr::Split { arms: lowered }, "split".to_string())
            }
            StepKind::RandomSplit { arms } => {
                let mut lowered = Vec::new();
                for (percent, _, steps) in arms {
                    lowered.push((*percent, self.block(steps, next, out, zones)?));
                }
                (
                    StepKindIr::RandomSplit { arms: lowered },
                    "random split".to_string(),
                )
            }
            StepKind::SetField { field, value } => {
                let field_name = program
                    .schema
                    .contact_field(*field)
                    .map_or("", |f| f.name.as_str());
                (
                    StepKindIr::SetField {
                        slot: field.0,
                        value: self.expr(value)?,
                    },
                    format!("set contact.{field_name}"),
                )
            }
            StepKind::Points { score, amount } => {
                let score_name = program
                    .scores
                    .get(score.index())
                    .map_or("", |s| s.name.as_str());
                (
                    StepKindIr::Points {
                        score: score.0,
                        amount: *amount,
                    },
                    if *amount >= 0.0 {
                        format!("add points to {score_name}")
                    } else {
                        format!("remove points from {score_name}")
                    },
                )
            }
            StepKind::List { add, list } => (
                StepKindIr::List {
                    add: *add,
                    list: list.clone(),
                },
                if *add {
                    format!("add to list {list}")
                } else {
                    format!("remove from list {list}")
                },
            ),
            StepKind::MoveToStage(s) => {
                let stages: Vec<String> = program
                    .lifecycle
                    .as_ref()
                    .map(|l| l.stages.iter().map(|s| s.name.clone()).collect())
                    .unwrap_or_default();
                (
                    StepKindIr::MoveToStage(s.0),
                    format!("move to stage {}", name_of(&stages, s.0)),
                )
            }
            StepKind::RouteToQueue(q) => {
                let queues: Vec<String> = program.queues.iter().map(|q| q.name.clone()).collect();
                (
                    StepKindIr::RouteToQueue(q.0),
                    format!("route to queue {}", name_of(&queues, q.0)),
                )
            }
            StepKind::RouteWith(r) => {
                let routes: Vec<String> = program.routes.iter().map(|r| r.name.clone()).collect();
                (
                    StepKindIr::RouteWith(r.0),
                    format!("route with {}", name_of(&routes, r.0)),
                )
            }
            StepKind::Notify {
                queue,
                recipient,
                message,
            } => {
                let queues: Vec<String> = program.queues.iter().map(|q| q.name.clone()).collect();
                let who = match (queue, recipient) {
                    (Some(q), _) => name_of(&queues, q.0),
                    (None, Some(r)) => r.clone(),
                    (None, None) => String::new(),
                };
                (
                    StepKindIr::Notify {
                        queue: queue.map(|q| q.0),
                        recipient: recipient.clone(),
                        message: message.clone(),
                    },
                    format!("notify {who}"),
                )
            }
            StepKind::Webhook { method, url, body } => (
                StepKindIr::Webhook {
                    method: method.clone(),
                    url: url.clone(),
                    body: body.clone(),
                },
                format!("call webhook {method} {url}"),
            ),
            StepKind::GoTo(target) => {
                next = Some(target.0);
                (StepKindIr::Pass, "go to".to_string())
            }
            StepKind::End => {
                next = None;
                (StepKindIr::End, "end".to_string())
            }
            StepKind::Error => {
                return Err(LowerError::Unchecked {
                    what: self.what.clone(),
                })
            }
        };
        if let Some(slot) = out.get_mut(step.id.0 as usize) {
            *slot = Some(StepIr {
                name: step.label.clone().unwrap_or(derived),
                labelled: step.label.is_some(),
                kind,
                next,
            });
        }
        Ok(())
    }
}

impl StepIr {
    fn with_default_name(mut self, id: usize) -> StepIr {
        if self.name.is_empty() {
            self.name = format!("step {}", id + 1);
        }
        self
    }
}

fn count_steps(steps: &[Step]) -> usize {
    steps
        .iter()
        .map(|s| {
            1 + match &s.kind {
                StepKind::WaitForEvent { on_timeout, .. } => count_steps(on_timeout),
                StepKind::If {
                    then, otherwise, ..
                } => count_steps(then) + count_steps(otherwise),
                StepKind::Split { arms } => arms.iter().map(|(_, s)| count_steps(s)).sum(),
                StepKind::RandomSplit { arms } => arms.iter().map(|(_, _, s)| count_steps(s)).sum(),
                _ => 0,
            }
        })
        .sum()
}

fn quiet_hours(q: &crate::check::QuietHours) -> QuietHoursIr {
    QuietHoursIr {
        channel: q.channel.map(|c| c.0),
        from_minutes: q.from_minutes,
        to_minutes: q.to_minutes,
        policy: policy(q.policy),
    }
}

fn cap(c: &crate::check::FrequencyCap) -> FrequencyCapIr {
    FrequencyCapIr {
        channel: c.channel.0,
        count: c.count,
        per_millis: c.per_millis,
        policy: policy(c.policy),
    }
}
