//! Journeys in the IR: triggers, entry rules, goals, exits, quiet hours, caps and a flat step
//! table, every name resolved to a slot or an index.
//!
//! A journey's steps are numbered as the checker numbers them (`StepId`: a depth-first,
//! source-order walk), and stored flat in that order: [`JourneyIr::steps`]`[id]`. Control flow
//! is explicit: every step says which step comes next (`None`: the run ends), branches name the
//! first step of each branch, already resolved to where the branch continues when it is empty.
//! Because `go to` only jumps forward and every other edge goes to a greater number, following
//! `next` always ends.
//!
//! A step also carries a **stable name**: its label when it has one, otherwise a name derived
//! from what it does (`send email abandoned-cart-1`, `wait 4h`, `wait until sales_activity`),
//! with `#2`, `#3`… for the second and third step deriving the same name. A contact's position
//! in a journey is stored against this name, so a new version of the program finds contacts
//! where they were when their step still exists.

use super::{Condition, Expr};

/// What starts a journey.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum JourneyTrigger {
    /// An event (program event id), with a condition on its properties.
    Event {
        event: u32,
        condition: Option<Condition>,
    },
    /// The contact enters (or leaves) a segment.
    Segment { enters: bool, segment: u32 },
    /// The contact's stage becomes (or stops being) `stage`.
    Stage { enters: bool, stage: u32 },
    /// A contact field changes from one known value to another; `from`/`to` narrow it.
    FieldChanges {
        slot: u32,
        from: Option<Expr>,
        to: Option<Expr>,
    },
    /// A contact score goes from below `threshold` to at least it (`upward`), or back below.
    ScoreCrosses {
        score: u32,
        upward: bool,
        threshold: f64,
    },
    /// A moment relative to a date (or timestamp) contact field: `offset_millis` from the date
    /// (negative: before), at `at_minutes` past midnight in the contact's zone (midnight when
    /// not given); `yearly` repeats it on every anniversary.
    Date {
        slot: u32,
        offset_millis: i64,
        yearly: bool,
        at_minutes: u16,
    },
    /// The trigger did not lower (never starts).
    Never,
}

/// Who may start a run, and how often.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EntryIr {
    /// `entry once`: one run in a contact's life (per key, when keyed).
    pub once: bool,
    /// `entry again after D`: not again within D of the previous entry (per key, when keyed).
    pub again_after_millis: Option<i64>,
    /// `entry one at a time`: never two runs at once.
    pub one_at_a_time: bool,
    /// `entry per PROP`: the property of the entry event that keys a run (one running run per
    /// value).
    pub key_property: Option<u32>,
}

/// A goal or an exit condition.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum ConditionIr {
    /// Holds while the contact is in the segment (`enters`) or out of it (`leaves`).
    Segment { enters: bool, segment: u32 },
    /// Holds when such an event happens (its condition may read `entry.…`).
    Event {
        event: u32,
        condition: Option<Condition>,
    },
    /// Holds while the expression holds.
    When(Condition),
}

/// What to do with a send that falls in quiet hours or over a cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SendPolicy {
    /// Hold the message until it is allowed.
    Defer,
    /// Drop it, and report it as suppressed.
    Skip,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct QuietHoursIr {
    /// Channel slot; `None`: every channel.
    pub channel: Option<u32>,
    /// Minutes past midnight, contact time: quiet from `from` (included) to `to` (excluded),
    /// across midnight when `from > to`.
    pub from_minutes: u16,
    pub to_minutes: u16,
    pub policy: SendPolicy,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FrequencyCapIr {
    pub channel: u32,
    pub count: u32,
    pub per_millis: i64,
    pub policy: SendPolicy,
}

/// One step of a journey, with where the run goes after it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StepIr {
    /// The stable name (see the module documentation).
    pub name: String,
    /// Whether `name` is the step's own label (tests can name it: `expect journey j at name`).
    pub labelled: bool,
    pub kind: StepKindIr,
    /// The step that follows; `None`: the run ends.
    pub next: Option<u32>,
}

/// A zone to read local time in: the contact's own, or a named one.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum ZoneRef {
    /// The contact's `timezone` field, falling back to the default zone.
    Contact,
    /// An index into [`JourneysIr::zones`].
    Fixed(u32),
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum StepKindIr {
    Send {
        channel: u32,
        template: String,
        /// Template parameters: name and value.
        params: Vec<(String, Expr)>,
    },
    Wait {
        millis: i64,
    },
    WaitForEvent {
        event: u32,
        condition: Option<Condition>,
        timeout_millis: Option<i64>,
        /// Where the run goes on timeout (the first step of the `else` block, or the wait's
        /// `next` when there is none).
        on_timeout: Option<u32>,
    },
    WaitForTime {
        /// Minutes past midnight; `None`: midnight.
        minutes: Option<u16>,
        /// Allowed weekdays, Monday = bit 0 … Sunday = bit 6; 0: any day.
        weekdays: u8,
        zone: ZoneRef,
    },
    If {
        condition: Condition,
        then: Option<u32>,
        otherwise: Option<u32>,
    },
    /// The first arm whose condition holds (`None`: `otherwise`).
    Split {
        arms: Vec<(Option<Condition>, Option<u32>)>,
    },
    /// Percentages (adding up to 100) and where each arm goes.
    RandomSplit {
        arms: Vec<(f64, Option<u32>)>,
    },
    SetField {
        slot: u32,
        value: Expr,
    },
    Points {
        score: u32,
        amount: f64,
    },
    List {
        add: bool,
        list: String,
    },
    MoveToStage(u32),
    RouteToQueue(u32),
    RouteWith(u32),
    Notify {
        queue: Option<u32>,
        recipient: Option<String>,
        message: String,
    },
    Webhook {
        method: String,
        url: String,
        body: Option<String>,
    },
    /// Nothing to do (`go to`, a step that did not check): the run goes to `next`.
    Pass,
    End,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct JourneyIr {
    pub name: String,
    pub trigger: JourneyTrigger,
    /// The event `entry.…` reads (the trigger's event), if any.
    pub entry_event: Option<u32>,
    pub entry: EntryIr,
    pub goals: Vec<ConditionIr>,
    pub exits: Vec<ConditionIr>,
    pub quiet_hours: Vec<QuietHoursIr>,
    pub caps: Vec<FrequencyCapIr>,
    /// By step id.
    pub steps: Vec<StepIr>,
    /// The first step (`None`: a journey with no steps).
    pub first: Option<u32>,
}

impl JourneyIr {
    /// The step with this stable name.
    pub fn step_named(&self, name: &str) -> Option<u32> {
        self.steps
            .iter()
            .position(|s| s.name == name)
            .map(|i| i as u32)
    }
}

/// Every journey, with what they share.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct JourneysIr {
    /// By journey id of the checked program.
    pub journeys: Vec<JourneyIr>,
    /// Program-wide quiet hours and caps (every journey's sends).
    pub quiet_hours: Vec<QuietHoursIr>,
    pub caps: Vec<FrequencyCapIr>,
    /// The contact slot holding the contact's IANA zone (`timezone`), if the schema has one.
    pub zone_slot: Option<u32>,
    /// The zone of contacts without one of their own (the default time zone, else UTC).
    pub default_zone: super::ZoneRules,
    /// Named zones steps use (`wait until 09:00 in "Europe/Paris"`).
    pub zones: Vec<super::ZoneRules>,
}

impl StepKindIr {
    /// Whether a contact can be at this step between two points in time: a wait, or a send
    /// held back by quiet hours or a cap.
    pub fn can_hold(&self) -> bool {
        matches!(
            self,
            StepKindIr::Wait { .. }
                | StepKindIr::WaitForEvent { .. }
                | StepKindIr::WaitForTime { .. }
                | StepKindIr::Send { .. }
        )
    }
}

/// `maclc check --against OLD`: the steps of `old` where contacts may be waiting that `new` no
/// longer has (by stable name, in journeys of the same name). Contacts waiting in such a step
/// end their run when the new version runs (see `docs/language.md`); each is a warning on the
/// journey's name in the new program.
pub fn against(
    old: &crate::check::Program,
    new: &crate::check::Program,
) -> Vec<crate::diagnostics::Diagnostic> {
    use crate::check::{JourneyId, Symbol};
    use crate::diagnostics::{catalogue, Diagnostic};
    // Only step names matter here: any zone will do, so no time-zone database is needed.
    let any_zone = |name: &str| Some(super::ZoneRules::fixed(name, 0));
    let (Ok(old_ir), Ok(new_ir)) = (
        super::lower_with(old, &any_zone),
        super::lower_with(new, &any_zone),
    ) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (ni, journey) in new_ir.journeys.journeys.iter().enumerate() {
        let Some(before) = old_ir
            .journeys
            .journeys
            .iter()
            .find(|j| j.name == journey.name)
        else {
            continue;
        };
        let Some(span) = new.definition_of(Symbol::Journey(JourneyId(ni as u32))) else {
            continue;
        };
        for step in before.steps.iter().filter(|s| s.kind.can_hold()) {
            if journey.step_named(&step.name).is_some() {
                continue;
            }
            let what = if step.labelled {
                format!("the step `{}`", step.name)
            } else {
                format!("the step `{}` (unlabelled)", step.name)
            };
            out.push(
                Diagnostic::new(
                    catalogue::STEP_REMOVED,
                    format!(
                        "{what} of journey `{}` was removed while contacts may be waiting in it",
                        journey.name
                    ),
                    span,
                    "contacts waiting there end their run when this version runs",
                )
                .with_help(format!(
                    "to keep them, keep a step named `{}` (a label keeps a name stable); \
                     otherwise they leave the journey and get nothing more from it",
                    step.name
                )),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lowered(text: &str) -> (crate::check::Program, super::super::Ir) {
        let mut sources = crate::source::Sources::new();
        sources.add("t.marketing".to_string(), text.to_string());
        let analysis = crate::analyze(&sources);
        assert!(!analysis.has_errors(), "{:#?}", analysis.diagnostics);
        let ir = super::super::lower(&analysis.program).unwrap_or_else(|e| panic!("{e}"));
        (analysis.program, ir)
    }

    const PROGRAM: &str = r#"
channel email opt_in
contact {
  email: text
}
event checkout_started from track "Checkout Started" {
  cart_id: text
  note: text
}
event order_completed from track "Order Completed" {
  cart_id: text
}
journey cart "Cart" {
  trigger on checkout_started
  entry per cart_id
  exit on order_completed where cart_id == entry.cart_id
  wait 1h
  first: send email "cart" with { cart_id: entry.cart_id }
  wait until order_completed within 1d else {
    send email "last-call"
    end
  }
  wait 1h
  send email "thanks"
}
"#;

    #[test]
    fn steps_are_flat_by_id_with_their_control_flow_and_stable_names() {
        let (_, ir) = lowered(PROGRAM);
        let j = &ir.journeys.journeys[0];
        let names: Vec<&str> = j.steps.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "wait 1h",
                "first",
                "wait until order_completed",
                "send email last-call",
                "end",
                "wait 1h #2",
                "send email thanks"
            ]
        );
        assert_eq!(j.first, Some(0));
        let nexts: Vec<Option<u32>> = j.steps.iter().map(|s| s.next).collect();
        assert_eq!(
            nexts,
            [Some(1), Some(2), Some(5), Some(4), None, Some(6), None]
        );
        assert!(matches!(
            j.steps[2].kind,
            StepKindIr::WaitForEvent {
                on_timeout: Some(3),
                ..
            }
        ));
        assert_eq!(j.entry.key_property, Some(0));
        // `entry.cart_id` is read, so it is decoded; `note` is not.
        assert_eq!(ir.used_properties[0], [true, false]);
        assert!(ir.live_segments);
    }

    #[test]
    fn journeys_survive_a_serialisation_round_trip() {
        let (_, ir) = lowered(PROGRAM);
        let text = serde_json::to_string(&ir.journeys).unwrap_or_default();
        let back: Result<JourneysIr, _> = serde_json::from_str(&text);
        assert_eq!(back.ok().as_ref(), Some(&ir.journeys));
    }
}
