//! The reference interpreter: evaluates IR expressions over one contact's state.
//!
//! It is the semantics of record (a native backend is tested against it), so it stays a plain
//! tree walk with no caching. Missing values follow the IR's rules: a comparison, text test or
//! arithmetic with a missing operand is false (or missing), `and`/`or`/`not` read missing as
//! false, `??` picks its right side, aggregates of nothing count 0 and give no `min`/`last`.

use std::borrow::Cow;
use std::cmp::Ordering;

use maclc_compiler::check::ConsentState;
use maclc_compiler::ir::{
    AggregateIr, ArithOp, CmpOp, Condition, Const, Expr, Func, Ir, Node, TextOp,
};
use maclc_compiler::syntax::ast::AggregateKind;

pub const MILLIS_PER_DAY: i64 = 86_400_000;

/// A stored value: a contact field, an event property.
///
/// `repr(C, u8)` fixes the layout native code reads in place (`crate::jit`): a one-byte tag
/// (the discriminants below) at offset 0 and the payload at offset 8; texts are read through a
/// helper. The numbers are `maclc_compiler::codegen::layout`'s, checked in `jit`.
#[derive(Debug, Clone, PartialEq)]
#[repr(C, u8)]
pub enum Val {
    Missing = 0,
    Bool(bool) = 1,
    Num(f64) = 2,
    Text(Box<str>) = 3,
    Date(i64) = 4,
    Timestamp(i64) = 5,
    Enum(u32) = 6,
    Consent(ConsentState) = 7,
}

/// A value during evaluation: texts borrow from the state when they can.
#[derive(Debug, Clone, PartialEq)]
pub enum V<'a> {
    Missing,
    Bool(bool),
    Num(f64),
    Text(Cow<'a, str>),
    Date(i64),
    Timestamp(i64),
    Enum(u32),
    Consent(ConsentState),
}

impl V<'_> {
    fn truthy(&self) -> bool {
        matches!(self, V::Bool(true))
    }

    fn num(&self) -> Option<f64> {
        match self {
            V::Num(n) => Some(*n),
            _ => None,
        }
    }
}

impl Val {
    pub fn view(&self) -> V<'_> {
        match self {
            Val::Missing => V::Missing,
            Val::Bool(b) => V::Bool(*b),
            Val::Num(n) => V::Num(*n),
            Val::Text(t) => V::Text(Cow::Borrowed(t)),
            Val::Date(d) => V::Date(*d),
            Val::Timestamp(t) => V::Timestamp(*t),
            Val::Enum(e) => V::Enum(*e),
            Val::Consent(c) => V::Consent(*c),
        }
    }
}

/// One record kept in a contact's history for windowed aggregates.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEntry {
    pub ts: i64,
    /// The program event it is, if any (an identify or alias is no event).
    pub event: Option<u32>,
    /// Its property values (empty when no aggregate reads this event's properties).
    pub properties: Box<[Val]>,
}

/// Everything an expression may read.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    pub ir: &'a Ir,
    pub contact_id: &'a str,
    pub profile: &'a [Val],
    /// The linked accounts' fields, by account slot ([`Ir::account_slots`]).
    pub account: &'a [Val],
    /// The account scores of the contact's account (missing until the end of the run).
    pub account_scores: &'a [Option<f64>],
    pub consent: &'a [ConsentState],
    /// Current value of every score.
    pub scores: &'a [f64],
    /// Membership of segments computed so far (in `segment_order`).
    pub segments: &'a [bool],
    pub history: &'a [HistoryEntry],
    /// The event being evaluated: its properties and time.
    pub event: Option<(&'a [Val], i64)>,
    /// The event that started the journey run being evaluated: its properties and time.
    pub entry: Option<(&'a [Val], i64)>,
    pub now: i64,
    /// The lifecycle stage (its position), when the program has a lifecycle.
    pub stage: Option<u32>,
}

impl<'a> Scope<'a> {
    /// Whether a condition holds (missing is false).
    /// Inside `Jit::run`, a condition compiled to native code runs natively (found by its id).
    pub fn holds(&self, c: &Condition) -> bool {
        if let Some(holds) = crate::jit::holds(self, c) {
            return holds;
        }
        self.eval(&c.expr).truthy()
    }

    /// Aggregate `index` ([`Ir::aggregates`]), for native code (missing when there is none).
    pub(crate) fn aggregate_by_id(&self, index: u32) -> V<'a> {
        match self.ir.aggregates.get(index as usize) {
            Some(agg) => self.aggregate(agg),
            None => V::Missing,
        }
    }

    fn constant(&self, c: &Const) -> V<'a> {
        match c {
            Const::Bool(b) => V::Bool(*b),
            Const::Num(n) => V::Num(*n),
            Const::Text(t) => V::Text(Cow::Borrowed(self.ir.text(*t))),
            Const::Date(d) => V::Date(*d),
            Const::Timestamp(t) => V::Timestamp(*t),
            Const::Enum(v) => V::Enum(*v),
            Const::Consent(c) => V::Consent(*c),
        }
    }

    pub fn eval(&self, e: &Expr) -> V<'a> {
        match &e.node {
            Node::Const(c) => self.constant(c),
            Node::Contact(slot) => {
                let is_id = self
                    .ir
                    .contact_slots
                    .get(*slot as usize)
                    .is_some_and(|s| s.is_contact_id);
                if is_id {
                    return V::Text(Cow::Borrowed(self.contact_id));
                }
                self.profile
                    .get(*slot as usize)
                    .map_or(V::Missing, Val::view)
            }
            Node::Lookup { table, key, column } => {
                let Some(t) = self.ir.tables.get(*table as usize) else {
                    return V::Missing;
                };
                let row = match self.eval(key) {
                    V::Text(k) => t.row_of_text(&k),
                    V::Missing => None,
                    other => t
                        .other_keys
                        .iter()
                        .find(|(k, _)| self.constant(k) == other)
                        .map(|(_, row)| *row),
                };
                match row.and_then(|r| t.cell(r, *column)) {
                    Some(c) => self.constant(c),
                    None => V::Missing,
                }
            }
            Node::AccountScore(i) => self
                .account_scores
                .get(*i as usize)
                .copied()
                .flatten()
                .map_or(V::Missing, V::Num),
            Node::Account(slot) => self
                .account
                .get(*slot as usize)
                .map_or(V::Missing, Val::view),
            Node::Consent(c) => V::Consent(
                self.consent
                    .get(*c as usize)
                    .copied()
                    .unwrap_or(ConsentState::Unknown),
            ),
            Node::Property(p) => match self.event {
                Some((props, _)) => props.get(*p as usize).map_or(V::Missing, Val::view),
                None => V::Missing,
            },
            Node::EventTime => match self.event {
                Some((_, ts)) => V::Timestamp(ts),
                None => V::Missing,
            },
            Node::Entry(p) => match self.entry {
                Some((props, _)) => props.get(*p as usize).map_or(V::Missing, Val::view),
                None => V::Missing,
            },
            Node::EntryTime => match self.entry {
                Some((_, ts)) => V::Timestamp(ts),
                None => V::Missing,
            },
            Node::Score(s) => V::Num(self.scores.get(s.index()).copied().unwrap_or(0.0)),
            Node::Segment(s) => V::Bool(self.segments.get(s.index()).copied().unwrap_or(false)),
            Node::Now => V::Timestamp(self.now),
            Node::Stage => self.stage.map_or(V::Missing, V::Enum),
            Node::Aggregate(a) => match self.ir.aggregates.get(a.0 as usize) {
                Some(agg) => self.aggregate(agg),
                None => V::Missing,
            },
            Node::Not(x) => V::Bool(!self.eval(x).truthy()),
            Node::Neg(x) => match self.eval(x) {
                V::Num(n) => V::Num(-n),
                _ => V::Missing,
            },
            Node::And(a, b) => V::Bool(self.eval(a).truthy() && self.eval(b).truthy()),
            Node::Or(a, b) => V::Bool(self.eval(a).truthy() || self.eval(b).truthy()),
            Node::Cmp(op, a, b) => {
                let (a, b) = (self.eval(a), self.eval(b));
                V::Bool(compare(&a, &b).is_some_and(|o| cmp_holds(*op, o)))
            }
            Node::Arith(op, a, b) => arith(*op, self.eval(a), self.eval(b)),
            Node::Default(a, b) => match self.eval(a) {
                V::Missing => self.eval(b),
                v => v,
            },
            Node::Text(op, a, b) => match (self.eval(a), self.eval(b)) {
                (V::Text(a), V::Text(b)) => V::Bool(match op {
                    TextOp::StartsWith => a.starts_with(b.as_ref()),
                    TextOp::EndsWith => a.ends_with(b.as_ref()),
                    TextOp::Contains => a.contains(b.as_ref()),
                }),
                _ => V::Bool(false),
            },
            Node::Matches(a, r) => match (self.eval(a), self.ir.regexes.get(r.0 as usize)) {
                (V::Text(t), Some(re)) => V::Bool(re.is_match(&t)),
                _ => V::Bool(false),
            },
            Node::IsKnown(x, known) => V::Bool(!matches!(self.eval(x), V::Missing) == *known),
            Node::InList {
                operand,
                list,
                negated,
            } => {
                let v = self.eval(operand);
                if matches!(v, V::Missing) {
                    return V::Bool(false);
                }
                let found = list
                    .iter()
                    .any(|item| compare(&v, &self.eval(item)) == Some(Ordering::Equal));
                V::Bool(found != *negated)
            }
            Node::Between(x, lo, hi) => {
                let v = self.eval(x);
                let ok = compare(&v, &self.eval(lo)).is_some_and(|o| o != Ordering::Less)
                    && compare(&v, &self.eval(hi)).is_some_and(|o| o != Ordering::Greater);
                V::Bool(ok)
            }
            Node::Call(f, args) => self.call(*f, args),
        }
    }

    fn call(&self, f: Func, args: &[Expr]) -> V<'a> {
        let vals: Vec<V<'a>> = args.iter().map(|a| self.eval(a)).collect();
        let first = vals.first().cloned().unwrap_or(V::Missing);
        match f {
            Func::Abs => first.num().map_or(V::Missing, |n| V::Num(n.abs())),
            Func::Round => first.num().map_or(V::Missing, |n| V::Num(n.round())),
            Func::Min | Func::Max => {
                let mut best: Option<V<'a>> = None;
                for v in vals {
                    if matches!(v, V::Missing) {
                        return V::Missing;
                    }
                    best = Some(match best {
                        None => v,
                        Some(b) => {
                            let o = compare(&v, &b);
                            let take = match f {
                                Func::Min => o == Some(Ordering::Less),
                                _ => o == Some(Ordering::Greater),
                            };
                            if take {
                                v
                            } else {
                                b
                            }
                        }
                    });
                }
                best.unwrap_or(V::Missing)
            }
            Func::Lower => match first {
                V::Text(t) => V::Text(Cow::Owned(t.to_lowercase())),
                _ => V::Missing,
            },
            Func::Upper => match first {
                V::Text(t) => V::Text(Cow::Owned(t.to_uppercase())),
                _ => V::Missing,
            },
            Func::Length => match first {
                V::Text(t) => V::Num(t.chars().count() as f64),
                _ => V::Missing,
            },
            Func::DaysSince | Func::DaysUntil => {
                let day = match first {
                    V::Date(d) => d,
                    V::Timestamp(t) => t.div_euclid(MILLIS_PER_DAY),
                    _ => return V::Missing,
                };
                let today = self.now.div_euclid(MILLIS_PER_DAY);
                V::Num(if f == Func::DaysSince {
                    today.wrapping_sub(day) as f64
                } else {
                    day.wrapping_sub(today) as f64
                })
            }
        }
    }

    /// A windowed aggregate over the history, as of `now`: records with
    /// `now - window < ts <= now`.
    fn aggregate(&self, agg: &AggregateIr) -> V<'a> {
        let now = self.now;
        let from = agg.window_millis.map(|w| now - w);
        let mut count = 0u64;
        let mut sum = 0.0;
        let mut min: Option<f64> = None;
        let mut max: Option<f64> = None;
        let mut last: Option<(i64, V<'a>)> = None;
        for entry in self.history.iter().rev() {
            if entry.ts > now {
                continue;
            }
            if from.is_some_and(|f| entry.ts <= f) {
                // The history is in time order: everything before is older still.
                break;
            }
            if let Some(e) = agg.event {
                if entry.event != Some(e.0) {
                    continue;
                }
            }
            if let Some(cond) = &agg.condition {
                let scope = Scope {
                    event: Some((&entry.properties, entry.ts)),
                    ..*self
                };
                if !scope.holds(cond) {
                    continue;
                }
            }
            count += 1;
            let value = match agg.property {
                Some(p) => entry
                    .properties
                    .get(p as usize)
                    .map_or(V::Missing, Val::view),
                None => V::Timestamp(entry.ts),
            };
            if let V::Num(n) = value {
                sum += n;
                min = Some(min.map_or(n, |m| m.min(n)));
                max = Some(max.map_or(n, |m| m.max(n)));
            }
            if last.is_none() {
                last = Some((entry.ts, value));
            }
            if matches!(agg.kind, AggregateKind::Any | AggregateKind::Last) {
                break;
            }
        }
        match agg.kind {
            AggregateKind::Count => V::Num(count as f64),
            AggregateKind::Any => V::Bool(count > 0),
            AggregateKind::No => V::Bool(count == 0),
            AggregateKind::Sum => V::Num(sum),
            AggregateKind::Min => min.map_or(V::Missing, V::Num),
            AggregateKind::Max => max.map_or(V::Missing, V::Num),
            AggregateKind::Average => {
                if count == 0 {
                    V::Missing
                } else {
                    V::Num(sum / count as f64)
                }
            }
            AggregateKind::Last => last.map_or(V::Missing, |(_, v)| v),
        }
    }
}

fn compare(a: &V<'_>, b: &V<'_>) -> Option<Ordering> {
    match (a, b) {
        (V::Num(x), V::Num(y)) => x.partial_cmp(y),
        (V::Text(x), V::Text(y)) => Some(x.as_ref().cmp(y.as_ref())),
        (V::Bool(x), V::Bool(y)) => Some(x.cmp(y)),
        (V::Date(x), V::Date(y)) => Some(x.cmp(y)),
        (V::Timestamp(x), V::Timestamp(y)) => Some(x.cmp(y)),
        (V::Date(d), V::Timestamp(t)) => Some(d.wrapping_mul(MILLIS_PER_DAY).cmp(t)),
        (V::Timestamp(t), V::Date(d)) => Some(t.cmp(&d.wrapping_mul(MILLIS_PER_DAY))),
        (V::Enum(x), V::Enum(y)) => Some(x.cmp(y)),
        (V::Consent(x), V::Consent(y)) => (x == y).then_some(Ordering::Equal),
        _ => None,
    }
}

fn cmp_holds(op: CmpOp, o: Ordering) -> bool {
    match op {
        CmpOp::Eq => o == Ordering::Equal,
        CmpOp::Ne => o != Ordering::Equal,
        CmpOp::Lt => o == Ordering::Less,
        CmpOp::Le => o != Ordering::Greater,
        CmpOp::Gt => o == Ordering::Greater,
        CmpOp::Ge => o != Ordering::Less,
    }
}

fn arith<'a>(op: ArithOp, a: V<'a>, b: V<'a>) -> V<'a> {
    let f = |x: f64, y: f64| match op {
        ArithOp::Add => x + y,
        ArithOp::Sub => x - y,
        ArithOp::Mul => x * y,
        ArithOp::Div => {
            if y == 0.0 {
                f64::NAN
            } else {
                x / y
            }
        }
    };
    // Integer time arithmetic wraps (as release builds always did), so out-of-range results
    // are defined, and the same in native code.
    let shift = |x: i64, by: i64| {
        if op == ArithOp::Sub {
            x.wrapping_sub(by)
        } else {
            x.wrapping_add(by)
        }
    };
    let out = match (a, b) {
        (V::Num(x), V::Num(y)) => V::Num(f(x, y)),
        // Dates and timestamps move by durations (milliseconds) and differ by durations.
        (V::Timestamp(t), V::Num(d)) => V::Timestamp(shift(t, d as i64)),
        (V::Num(d), V::Timestamp(t)) if op == ArithOp::Add => {
            V::Timestamp(t.wrapping_add(d as i64))
        }
        (V::Date(x), V::Num(d)) => V::Date(shift(x, (d as i64).div_euclid(MILLIS_PER_DAY))),
        (V::Timestamp(x), V::Timestamp(y)) if op == ArithOp::Sub => {
            V::Num(x.wrapping_sub(y) as f64)
        }
        (V::Date(x), V::Date(y)) if op == ArithOp::Sub => {
            V::Num(x.wrapping_sub(y).wrapping_mul(MILLIS_PER_DAY) as f64)
        }
        _ => V::Missing,
    };
    match out {
        V::Num(n) if n.is_nan() => V::Missing,
        other => other,
    }
}
