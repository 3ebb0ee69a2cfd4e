//! The IR: a checked program lowered to flat, slot-resolved, typed expression trees.
//!
//! Everything a run needs is resolved here, once, so that neither the reference interpreter
//! (`maclc-runtime`) nor a later native backend (Cranelift) looks up a name or a hash map while
//! evaluating a record: contact fields, consent channels and event properties are numbered
//! slots; score rules are grouped per event id; regular expressions are compiled and text
//! operands interned. The IR is pure data (no I/O) and plain enough to serialise later.
//!
//! Semantics the IR fixes (the interpreter implements them):
//! - a missing value (an absent optional field, `last …` of nothing) makes a comparison, a
//!   text test or arithmetic false/missing; `and`/`or`/`not` treat missing as false;
//! - a score's value is `behaviour + profile`, kept within its bounds: `behaviour` collects
//!   event points (and decays), `profile` is re-evaluated from the latest profile.

mod journey;
mod lower;

pub use journey::*;

pub use lower::{duration_words, fixed_zone, lower, lower_with, LowerError};

use crate::check::{ConsentState, EventId, ScoreId, SegmentId};
use crate::syntax::ast::AggregateKind;

/// The type of a value at run time (what a backend needs to pick a representation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum ValType {
    Bool,
    /// Numbers, money, percentages and durations (milliseconds): all `f64`.
    Num,
    Text,
    /// Days since 1970-01-01.
    Date,
    /// Milliseconds since 1970-01-01T00:00:00Z.
    Timestamp,
    /// A variant number of an enum.
    Enum,
    Consent,
}

/// A constant operand.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Const {
    Bool(bool),
    Num(f64),
    Text(TextId),
    Date(i64),
    Timestamp(i64),
    Enum(u32),
    Consent(ConsentState),
}

/// An interned text constant: an index into [`Ir::texts`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct TextId(pub u32);

/// A precompiled regular expression: an index into [`Ir::regexes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct RegexId(pub u32);

/// A whole condition of the program (a segment, a rule, a filter, a transition, a routing rule,
/// a journey's trigger, goal, exit, branch or wait): numbered densely from 0 as the program is
/// lowered, below [`Ir::condition_count`]. A backend keeps what it made of each condition in a
/// table indexed by this number, so evaluating one looks nothing up by name or address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct ConditionId(pub u32);

impl ConditionId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A condition: a boolean expression evaluated on its own (missing is false), with its number.
/// Its sub-expressions are plain [`Expr`]s.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Condition {
    pub id: ConditionId,
    pub expr: Expr,
}

/// A time-windowed aggregate: an index into [`Ir::aggregates`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct AggregateId(pub u32);

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum TextOp {
    StartsWith,
    EndsWith,
    Contains,
}

/// The built-in functions: the checker's own list, which already is plain data.
pub use crate::check::program::Function as Func;

/// A typed expression node.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Expr {
    pub ty: ValType,
    pub node: Node,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Node {
    Const(Const),
    /// A contact field, by slot ([`Ir::contact_slots`]).
    Contact(u32),
    /// `table[key].column`: the row whose key equals `key` ([`TableIr::row_of_text`] for a
    /// text key), missing when there is none.
    Lookup {
        table: u32,
        key: Box<Expr>,
        column: u32,
    },
    /// An account score of the contact's account ([`Ir::account_scores`]), as of the end of the
    /// run; missing when the contact has no account. Read only by segments (see lowering).
    AccountScore(u32),
    /// A field of the contact's linked account, by slot ([`Ir::account_slots`]); missing when
    /// the contact has no account.
    Account(u32),
    /// The consent state of a channel, by slot ([`Ir::channels`]).
    Consent(u32),
    /// A property of the event being evaluated, by its slot in that event's layout.
    Property(u32),
    /// The time of the event being evaluated.
    EventTime,
    /// A property of the event that started the journey run (`entry.cart_id`), by its slot in
    /// that event's layout.
    Entry(u32),
    /// The time the journey run started.
    EntryTime,
    Score(ScoreId),
    Segment(SegmentId),
    /// The evaluation time.
    Now,
    /// The contact's lifecycle stage, as its position (an [`ValType::Enum`]: stages compare in
    /// declared order).
    Stage,
    Aggregate(AggregateId),
    Not(Box<Expr>),
    Neg(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Cmp(CmpOp, Box<Expr>, Box<Expr>),
    Arith(ArithOp, Box<Expr>, Box<Expr>),
    /// `a ?? b`.
    Default(Box<Expr>, Box<Expr>),
    Text(TextOp, Box<Expr>, Box<Expr>),
    Matches(Box<Expr>, RegexId),
    IsKnown(Box<Expr>, bool),
    InList {
        operand: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
    },
    Between(Box<Expr>, Box<Expr>, Box<Expr>),
    Call(Func, Vec<Expr>),
}

impl Expr {
    /// The expressions directly inside this one, in order (an aggregate's filter is not inside:
    /// it belongs to the aggregate, `Ir::aggregates`). Walks over the tree use this, so that a
    /// new node needs its children named once, here.
    pub fn children(&self) -> Vec<&Expr> {
        match &self.node {
            Node::Const(_)
            | Node::Contact(_)
            | Node::AccountScore(_)
            | Node::Account(_)
            | Node::Consent(_)
            | Node::Property(_)
            | Node::EventTime
            | Node::Entry(_)
            | Node::EntryTime
            | Node::Score(_)
            | Node::Segment(_)
            | Node::Now
            | Node::Stage
            | Node::Aggregate(_) => Vec::new(),
            Node::Lookup { key, .. } => vec![key],
            Node::Not(x) | Node::Neg(x) | Node::Matches(x, _) | Node::IsKnown(x, _) => vec![x],
            Node::And(a, b)
            | Node::Or(a, b)
            | Node::Cmp(_, a, b)
            | Node::Arith(_, a, b)
            | Node::Default(a, b)
            | Node::Text(_, a, b) => vec![a, b],
            Node::Between(x, lo, hi) => vec![x, lo, hi],
            Node::InList { operand, list, .. } => {
                std::iter::once(&**operand).chain(list.iter()).collect()
            }
            Node::Call(_, args) => args.iter().collect(),
        }
    }
}

/// Where a value comes from in an incoming record.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Slot {
    pub name: String,
    /// Path of member names inside `traits` or `properties` (`company.id` → `["company", "id"]`).
    pub wire: Vec<String>,
    pub ty: ValType,
    /// Declared type, for the input schema (`number` vs `money` vs `date`).
    pub declared: crate::check::Type,
    pub optional: bool,
    /// Variants when `ty` is [`ValType::Enum`].
    pub variants: Vec<String>,
    /// The built-in `id` field: the contact id, not read from traits.
    pub is_contact_id: bool,
    /// Built in (`id`, `unsubscribed`, `blocklisted`) rather than declared.
    pub builtin: bool,
}

/// One field of an account type as seen through one link (a contact field of that account
/// type): `account.name` through `company`. Read from the account object the contact's latest
/// traits carry (`traits.company.name`), so it needs no second input stream.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AccountSlot {
    /// The contact slot of the link (its value is the account's key).
    pub link: u32,
    /// The account type ([`Ir::accounts`]) and the field's position in it.
    pub account: u32,
    pub field: u32,
    /// `wire` is the path inside `traits`; the key field reads the link itself.
    pub slot: Slot,
    /// This is the account's key field: its value is the link's value.
    pub is_key: bool,
}

/// An account type: its name and the wire name of its key field.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AccountIr {
    pub name: String,
    /// The key member inside the account object (`id`), when the account declares a key.
    pub key_wire: Option<String>,
}

/// A table, row-major, with its key column indexed: a text key is one hash lookup of the key
/// text (row values are interned constants, so nothing else is hashed or compared as text).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TableIr {
    pub name: String,
    /// `rows[row][column]`.
    pub rows: Vec<Vec<Const>>,
    /// Text key → row (the first row with that key). Serialised in key order, so an artefact
    /// does not depend on hash order.
    #[serde(serialize_with = "serde_support::sorted_map")]
    pub text_keys: std::collections::HashMap<String, u32>,
    /// Keys of other types (numbers, enums, dates) → row, in row order: tables are small.
    pub other_keys: Vec<(Const, u32)>,
}

impl TableIr {
    /// The row holding the text key `key`.
    pub fn row_of_text(&self, key: &str) -> Option<u32> {
        self.text_keys.get(key).copied()
    }

    /// The cell at `row`, `column`.
    pub fn cell(&self, row: u32, column: u32) -> Option<&Const> {
        self.rows.get(row as usize)?.get(column as usize)
    }
}

/// `account score x = max of s`: a contact score rolled up over the contacts of each account.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AccountScoreIr {
    pub name: String,
    pub aggregate: crate::syntax::ast::AccountAggregate,
    pub score: ScoreId,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ChannelSlot {
    pub name: String,
    pub opt_in: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum EventSource {
    Page,
    Screen,
    Track,
}

/// One event type: where it comes from and the slots of its properties.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EventLayout {
    pub name: String,
    pub source: EventSource,
    /// The exact wire name of a track event.
    pub wire_name: String,
    pub properties: Vec<Slot>,
}

/// A calendar or rolling limit on one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum CapKind {
    Once,
    /// `count` per calendar day of the score's time zone.
    PerDay(u32),
    /// `count` per ISO week (Monday to Monday) of the score's time zone.
    PerWeek(u32),
    /// `count` within any rolling window of `millis`.
    Rolling {
        count: u32,
        millis: i64,
    },
}

/// One event rule of a score, as found from its event id.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EventRule {
    pub score: ScoreId,
    /// Position of the rule in its score (provenance).
    pub rule: u32,
    pub points: f64,
    pub condition: Option<Condition>,
    /// The limit and its counter slot ([`Ir::cap_count`] slots per contact).
    pub cap: Option<(CapKind, u32)>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ProfileRule {
    pub rule: u32,
    pub points: f64,
    pub condition: Condition,
    /// A limit on how often the points are earned: each time the condition starts holding
    /// counts against it, as an event rule's record does; with its counter slot.
    pub cap: Option<(CapKind, u32)>,
}

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum DecayIr {
    HalfLife {
        millis: i64,
    },
    Step {
        factor: f64,
        every_millis: i64,
        only_when_inactive: bool,
    },
}

/// A time zone as a table: the offset from UTC before the first transition, then from each
/// transition on. Pure data, so a native backend can look offsets up without a library.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ZoneRules {
    pub name: String,
    pub initial_offset_millis: i64,
    /// (UTC milliseconds of the transition, offset in milliseconds from then on), sorted.
    pub transitions: Vec<(i64, i64)>,
}

impl ZoneRules {
    pub fn fixed(name: &str, offset_millis: i64) -> ZoneRules {
        ZoneRules {
            name: name.to_string(),
            initial_offset_millis: offset_millis,
            transitions: Vec::new(),
        }
    }

    /// The offset from UTC in effect at `utc_millis`.
    pub fn offset_at(&self, utc_millis: i64) -> i64 {
        let after = self.transitions.partition_point(|(t, _)| *t <= utc_millis);
        match after.checked_sub(1).and_then(|i| self.transitions.get(i)) {
            Some((_, offset)) => *offset,
            None => self.initial_offset_millis,
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ScoreIr {
    pub name: String,
    pub at_least: Option<f64>,
    pub at_most: Option<f64>,
    pub decay: Option<DecayIr>,
    /// The score's time zone (days and weeks of limits).
    pub zone: ZoneRules,
    pub profile_rules: Vec<ProfileRule>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AggregateIr {
    pub kind: AggregateKind,
    /// `None`: any record of the contact.
    pub event: Option<EventId>,
    /// The property summed, compared or returned; `None` with `Timestamp` semantics for `last`.
    pub property: Option<u32>,
    pub condition: Option<Condition>,
    /// `None`: all history.
    pub window_millis: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SegmentIr {
    pub name: String,
    pub condition: Condition,
}

/// The whole lowered program.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Ir {
    pub contact_slots: Vec<Slot>,
    pub accounts: Vec<AccountIr>,
    /// Every (link, account field) pair, link by link in field order.
    pub account_slots: Vec<AccountSlot>,
    /// The contact slot of the link account scores group contacts by (the one account link).
    pub account_link: Option<u32>,
    pub account_scores: Vec<AccountScoreIr>,
    /// By table id of the checked program.
    pub tables: Vec<TableIr>,
    pub channels: Vec<ChannelSlot>,
    /// By [`EventId`] of the checked program.
    pub events: Vec<EventLayout>,
    pub scores: Vec<ScoreIr>,
    /// Event rules per event id, in score then rule order (the order points are applied).
    pub rules_by_event: Vec<Vec<EventRule>>,
    /// How many cap counters a contact carries.
    pub cap_count: u32,
    pub segments: Vec<SegmentIr>,
    /// Segments in an order where each comes after the segments it reads.
    pub segment_order: Vec<SegmentId>,
    pub aggregates: Vec<AggregateIr>,
    /// Events whose records a contact's history must keep (for aggregates), by event id.
    pub history_events: Vec<bool>,
    /// Some aggregate reads any record (`no event in the last 90d`): keep every record's time.
    pub history_any: bool,
    pub texts: Vec<String>,
    /// How many conditions the program has: every [`Condition`]'s id is below it, each once.
    pub condition_count: u32,
    /// Serialised as their patterns (as compiled, `\b` already rewritten) and compiled again
    /// when read.
    #[serde(with = "serde_support::regexes")]
    pub regexes: Vec<regex::Regex>,
    pub lifecycle: Option<LifecycleIr>,
    pub queues: Vec<QueueIr>,
    pub routes: Vec<RouteIr>,
    /// Per event, the properties some expression reads: the others need not be decoded or kept.
    pub used_properties: Vec<Vec<bool>>,
    /// Segments must be evaluated after every record (routes on entering or leaving a segment,
    /// lifecycle conditions, journeys), not only at the end.
    pub live_segments: bool,
    /// The journeys, with the quiet hours and caps they share.
    pub journeys: JourneysIr,
}

impl Ir {
    pub fn text(&self, id: TextId) -> &str {
        self.texts.get(id.0 as usize).map_or("", String::as_str)
    }

    /// A new condition of this program, numbered after the others: for programs built or
    /// changed by hand (tests, benchmarks); lowering numbers the program's own.
    pub fn add_condition(&mut self, expr: Expr) -> Condition {
        let id = ConditionId(self.condition_count);
        // At the (unreachable) limit the id repeats, which the JIT refuses with an error.
        self.condition_count = self.condition_count.saturating_add(1);
        Condition { id, expr }
    }

    /// The account slot of `field` of the account reached through contact slot `link`.
    pub fn account_slot(&self, link: u32, field: u32) -> Option<u32> {
        self.account_slots
            .iter()
            .position(|a| a.link == link && a.field == field)
            .map(|i| i as u32)
    }

    pub fn score_named(&self, name: &str) -> Option<ScoreId> {
        self.scores
            .iter()
            .position(|s| s.name == name)
            .map(|i| ScoreId(i as u32))
    }
}

/// What serialising the IR needs beyond derives: a stable order for hash maps, and regexes as
/// their patterns.
mod serde_support {
    use std::collections::HashMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn sorted_map<S: Serializer>(map: &HashMap<String, u32>, s: S) -> Result<S::Ok, S::Error> {
        let sorted: std::collections::BTreeMap<&String, &u32> = map.iter().collect();
        sorted.serialize(s)
    }

    pub mod regexes {
        use super::*;

        pub fn serialize<S: Serializer>(regexes: &[regex::Regex], s: S) -> Result<S::Ok, S::Error> {
            let patterns: Vec<&str> = regexes.iter().map(regex::Regex::as_str).collect();
            patterns.serialize(s)
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<regex::Regex>, D::Error> {
            let patterns = Vec::<String>::deserialize(d)?;
            patterns
                .iter()
                .map(|p| regex::Regex::new(p).map_err(serde::de::Error::custom))
                .collect()
        }
    }
}

// ------------------------------------------------------------------ lifecycle, routing, actions

/// What moves a contact to a stage.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum TransitionTrigger {
    /// As soon as the condition holds.
    When(Condition),
    /// When such an event happens (and its condition holds).
    On {
        event: EventId,
        condition: Option<Condition>,
    },
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TransitionIr {
    pub back: bool,
    pub to: u32,
    /// Empty: from any earlier stage.
    pub from: Vec<u32>,
    pub trigger: TransitionTrigger,
}

/// A step an SLA or a routing runs, reduced to the actions it emits.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum ActionStep {
    Send {
        channel: u32,
        template: String,
    },
    Notify {
        queue: Option<u32>,
        recipient: Option<String>,
        message: String,
    },
    RouteToQueue(u32),
    RouteWith(u32),
    Webhook {
        method: String,
        url: String,
        body: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SlaIr {
    pub stage: u32,
    pub within_millis: i64,
    pub steps: Vec<ActionStep>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LifecycleIr {
    /// In order: a later stage is greater. Every contact starts at the first.
    pub stages: Vec<String>,
    pub transitions: Vec<TransitionIr>,
    pub slas: Vec<SlaIr>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct QueueIr {
    pub name: String,
    /// Members handed leads in turn; empty: the queue itself.
    pub round_robin: Vec<String>,
}

/// When a routing runs.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum RouteTrigger {
    /// Never on its own: only as a step (`route with …`).
    Step,
    Stage {
        enters: bool,
        stage: u32,
    },
    Segment {
        enters: bool,
        segment: SegmentId,
    },
    /// A score goes from below the threshold to at least it (`upward`), or back below it.
    ScoreCrosses {
        score: ScoreId,
        upward: bool,
        threshold: f64,
    },
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum RouteTargetIr {
    Queue(u32),
    Notify(String),
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RouteRuleIr {
    /// `None`: `otherwise`.
    pub condition: Option<Condition>,
    pub target: RouteTargetIr,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RouteIr {
    pub name: String,
    pub trigger: RouteTrigger,
    pub rules: Vec<RouteRuleIr>,
}
