//! Native code against the reference interpreter: random well-typed conditions over the
//! reference program's schema, random contact state, event and history; both must agree.
//!
//! proptest drives the seeds; the generator builds typed expression trees of every IR node the
//! backend compiles (numbers go through arithmetic, `round`, `abs`, `min`/`max`, comparisons
//! with awkward constants such as `-0.0`, `1e300` and `0.1`, so a float computed differently
//! would flip a comparison somewhere). A condition holds natively exactly when it holds in the
//! interpreter, for every generated case. The same generator fills an event with random score
//! rules (sometimes more than one chunk of 64) compiled to one function per event: each rule's
//! bit agrees with the interpreter.

mod support;

use maclc_compiler::check::{ConsentState, ScoreId, SegmentId};
use maclc_compiler::ir::{
    AggregateId, ArithOp, CmpOp, Condition, Const, EventRule, Expr, Func, Ir, Node, TableIr,
    TextId, TextOp, ValType,
};
use maclc_compiler::syntax::ast::AggregateKind;
use maclc_runtime::eval::{HistoryEntry, Scope, Val};
use maclc_runtime::jit::{Jit, RuleCtx, RULES_PER_CHUNK};
use proptest::prelude::*;

/// splitmix64: a small deterministic generator seeded by proptest.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn num(&mut self) -> f64 {
        if self.chance(60) {
            self.pick(FEW_NUMS)
        } else {
            self.pick(NUMS)
        }
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }
}

const NUMS: &[f64] = &[
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    2.5,
    -2.5,
    0.1,
    0.2,
    3.0,
    7.25,
    1e-300,
    1e300,
    86_400_000.0,
    -86_400_001.5,
    1.0 / 3.0,
    100.0,
    50.0,
];
/// Most numbers come from a few values, so equal operands (and `<` vs `<=`) are common.
const FEW_NUMS: &[f64] = &[0.0, -0.0, 1.0, 2.5];

const TIMES: &[i64] = &[
    0,
    1_767_225_600_000, // 2026-01-01
    1_767_225_600_001,
    1_767_312_000_000,
    1_780_000_000_000,
    -86_400_000,
    -1,
];
const DATES: &[i64] = &[0, -1, 20_454, 20_455, 20_600, 19_000];
const TEXTS: &[&str] = &[
    "",
    "/pricing",
    "/PRICING",
    "İstanbul",
    "ß",
    "/pricing/x",
    "CTO",
    "vp of sales",
    "Head of Procurement",
    "DE",
    "ä€𝄞",
    "a",
];

fn e(ty: ValType, node: Node) -> Expr {
    Expr { ty, node }
}

/// Builds random well-typed expressions over `ir`'s slots.
struct Gen<'a> {
    ir: &'a Ir,
    rng: Rng,
    /// The event whose properties `Property` reads.
    event: usize,
}

impl Gen<'_> {
    fn contact_slots(&self, ty: ValType) -> Vec<u32> {
        (0..self.ir.contact_slots.len() as u32)
            .filter(|i| {
                let s = &self.ir.contact_slots[*i as usize];
                s.ty == ty && (ty == ValType::Text || !s.is_contact_id)
            })
            .collect()
    }

    fn properties(&self, ty: ValType) -> Vec<u32> {
        self.ir.events[self.event]
            .properties
            .iter()
            .enumerate()
            .filter(|(_, p)| p.ty == ty)
            .map(|(i, _)| i as u32)
            .collect()
    }

    fn leaf(&mut self, ty: ValType) -> Expr {
        let contact = self.contact_slots(ty);
        let props = self.properties(ty);
        let r = self.rng.below(4);
        if r == 1 && !contact.is_empty() {
            return e(ty, Node::Contact(self.rng.pick(&contact)));
        }
        if r == 2 && !props.is_empty() {
            // A journey's `entry.…` reads the same layout as the event's properties.
            let slot = self.rng.pick(&props);
            return e(
                ty,
                if self.rng.chance(25) {
                    Node::Entry(slot)
                } else {
                    Node::Property(slot)
                },
            );
        }
        match ty {
            ValType::Bool if r == 3 && !self.ir.segments.is_empty() => e(
                ty,
                Node::Segment(SegmentId(self.rng.below(self.ir.segments.len()) as u32)),
            ),
            ValType::Num if r == 3 => e(
                ty,
                Node::Score(ScoreId(self.rng.below(self.ir.scores.len() + 1) as u32)),
            ),
            ValType::Timestamp if r == 3 => e(
                ty,
                match self.rng.below(3) {
                    0 => Node::Now,
                    1 => Node::EventTime,
                    _ => Node::EntryTime,
                },
            ),
            ValType::Consent if r != 0 => e(
                ty,
                Node::Consent(self.rng.below(self.ir.channels.len() + 1) as u32),
            ),
            _ => e(ty, Node::Const(self.constant(ty))),
        }
    }

    fn constant(&mut self, ty: ValType) -> Const {
        match ty {
            ValType::Bool => Const::Bool(self.rng.chance(50)),
            ValType::Num => Const::Num(self.rng.num()),
            ValType::Text => Const::Text(TextId(self.rng.below(self.ir.texts.len()) as u32)),
            ValType::Date => Const::Date(self.rng.pick(DATES)),
            ValType::Timestamp => Const::Timestamp(self.rng.pick(TIMES)),
            ValType::Enum => Const::Enum(self.rng.below(4) as u32),
            ValType::Consent => Const::Consent(self.rng.pick(&[
                ConsentState::Granted,
                ConsentState::Denied,
                ConsentState::Unknown,
            ])),
        }
    }

    fn any_type(&mut self) -> ValType {
        self.rng.pick(&[
            ValType::Bool,
            ValType::Num,
            ValType::Num,
            ValType::Text,
            ValType::Date,
            ValType::Timestamp,
            ValType::Enum,
            ValType::Consent,
        ])
    }

    fn boxed(&mut self, ty: ValType, depth: u32) -> Box<Expr> {
        Box::new(self.expr(ty, depth))
    }

    /// `table[key].column` of the generated table ([`with_a_table`]): column 1 is a text, 2 a
    /// number.
    fn lookup(&mut self, ty: ValType, d: u32) -> Expr {
        let column = if ty == ValType::Text { 1 } else { 2 };
        match self.ir.tables.len().checked_sub(1) {
            Some(table) => e(
                ty,
                Node::Lookup {
                    table: table as u32,
                    key: self.boxed(ValType::Text, d),
                    column,
                },
            ),
            None => self.leaf(ty),
        }
    }

    fn expr(&mut self, ty: ValType, depth: u32) -> Expr {
        if depth == 0 || self.rng.chance(25) {
            return self.leaf(ty);
        }
        let d = depth - 1;
        if self.rng.chance(10) {
            return e(ty, Node::Default(self.boxed(ty, d), self.boxed(ty, d)));
        }
        match ty {
            ValType::Bool => self.condition(d),
            ValType::Num => match self.rng.below(10) {
                0 => e(ty, Node::Neg(self.boxed(ty, d))),
                1 => e(ty, Node::Call(Func::Abs, vec![self.expr(ty, d)])),
                2 => e(ty, Node::Call(Func::Round, vec![self.expr(ty, d)])),
                3 => {
                    let f = self.rng.pick(&[Func::Min, Func::Max]);
                    let n = 1 + self.rng.below(3);
                    e(
                        ty,
                        Node::Call(f, (0..n).map(|_| self.expr(ty, d)).collect()),
                    )
                }
                4 => e(
                    ty,
                    Node::Call(Func::Length, vec![self.expr(ValType::Text, d)]),
                ),
                5 => {
                    let f = self.rng.pick(&[Func::DaysSince, Func::DaysUntil]);
                    let arg = self.rng.pick(&[ValType::Date, ValType::Timestamp]);
                    e(ty, Node::Call(f, vec![self.expr(arg, d)]))
                }
                6 => {
                    let t = self.rng.pick(&[ValType::Date, ValType::Timestamp]);
                    e(
                        ty,
                        Node::Arith(ArithOp::Sub, self.boxed(t, d), self.boxed(t, d)),
                    )
                }
                7 => self.aggregate(ty).unwrap_or_else(|| self.leaf(ty)),
                8 => self.lookup(ty, d),
                _ => {
                    let op =
                        self.rng
                            .pick(&[ArithOp::Add, ArithOp::Sub, ArithOp::Mul, ArithOp::Div]);
                    e(ty, Node::Arith(op, self.boxed(ty, d), self.boxed(ty, d)))
                }
            },
            ValType::Date => {
                let op = self.rng.pick(&[ArithOp::Add, ArithOp::Sub]);
                e(
                    ty,
                    Node::Arith(op, self.boxed(ty, d), self.boxed(ValType::Num, d)),
                )
            }
            ValType::Timestamp => match self.rng.below(3) {
                0 => e(
                    ty,
                    Node::Arith(ArithOp::Add, self.boxed(ValType::Num, d), self.boxed(ty, d)),
                ),
                _ => {
                    let op = self.rng.pick(&[ArithOp::Add, ArithOp::Sub]);
                    e(
                        ty,
                        Node::Arith(op, self.boxed(ty, d), self.boxed(ValType::Num, d)),
                    )
                }
            },
            // `lower`/`upper` anywhere a text goes (not only compared), and text lookups.
            ValType::Text => match self.rng.below(4) {
                0 => {
                    let f = self.rng.pick(&[Func::Lower, Func::Upper]);
                    e(ty, Node::Call(f, vec![self.expr(ty, d)]))
                }
                1 => self.lookup(ty, d),
                _ => self.leaf(ty),
            },
            _ => self.leaf(ty),
        }
    }

    fn aggregate(&mut self, ty: ValType) -> Option<Expr> {
        let ids: Vec<usize> = (0..self.ir.aggregates.len())
            .filter(|i| {
                let k = self.ir.aggregates[*i].kind;
                match ty {
                    ValType::Bool => matches!(k, AggregateKind::Any | AggregateKind::No),
                    ValType::Num => matches!(
                        k,
                        AggregateKind::Count
                            | AggregateKind::Sum
                            | AggregateKind::Min
                            | AggregateKind::Max
                            | AggregateKind::Average
                    ),
                    _ => false,
                }
            })
            .collect();
        if ids.is_empty() {
            return None;
        }
        Some(e(
            ty,
            Node::Aggregate(AggregateId(self.rng.pick(&ids) as u32)),
        ))
    }

    /// A text, sometimes through `lower`/`upper` (compiled where a comparison reads it).
    fn text_maybe_cased(&mut self, d: u32) -> Expr {
        let t = self.expr(ValType::Text, d);
        match self.rng.below(4) {
            0 => e(ValType::Text, Node::Call(Func::Lower, vec![t])),
            1 => e(ValType::Text, Node::Call(Func::Upper, vec![t])),
            _ => t,
        }
    }

    fn condition(&mut self, d: u32) -> Expr {
        let b = ValType::Bool;
        match self.rng.below(13) {
            0 => e(b, Node::Not(self.boxed(b, d))),
            1 => e(b, Node::And(self.boxed(b, d), self.boxed(b, d))),
            2 => e(b, Node::Or(self.boxed(b, d), self.boxed(b, d))),
            3 => {
                let op = self
                    .rng
                    .pick(&[TextOp::StartsWith, TextOp::EndsWith, TextOp::Contains]);
                let (x, y) = (self.text_maybe_cased(d), self.text_maybe_cased(d));
                e(b, Node::Text(op, Box::new(x), Box::new(y)))
            }
            4 if !self.ir.regexes.is_empty() => {
                let r = self.rng.below(self.ir.regexes.len()) as u32;
                e(
                    b,
                    Node::Matches(self.boxed(ValType::Text, d), maclc_compiler::ir::RegexId(r)),
                )
            }
            5 => {
                let t = self.any_type();
                e(b, Node::IsKnown(self.boxed(t, d), self.rng.chance(50)))
            }
            6 => {
                let t = self.any_type();
                let n = self.rng.below(4);
                e(
                    b,
                    Node::InList {
                        operand: self.boxed(t, d),
                        list: (0..n).map(|_| self.expr(t, d)).collect(),
                        negated: self.rng.chance(50),
                    },
                )
            }
            7 => {
                let t = self
                    .rng
                    .pick(&[ValType::Num, ValType::Date, ValType::Timestamp]);
                e(
                    b,
                    Node::Between(self.boxed(t, d), self.boxed(t, d), self.boxed(t, d)),
                )
            }
            8 => self.aggregate(b).unwrap_or_else(|| self.leaf(b)),
            _ => {
                let op = self.rng.pick(&[
                    CmpOp::Eq,
                    CmpOp::Ne,
                    CmpOp::Lt,
                    CmpOp::Le,
                    CmpOp::Gt,
                    CmpOp::Ge,
                ]);
                let (ta, tb) = if self.rng.chance(15) {
                    self.rng.pick(&[
                        (ValType::Date, ValType::Timestamp),
                        (ValType::Timestamp, ValType::Date),
                    ])
                } else {
                    let t = self.any_type();
                    (t, t)
                };
                if ta == ValType::Text {
                    let (x, y) = (self.text_maybe_cased(d), self.text_maybe_cased(d));
                    return e(b, Node::Cmp(op, Box::new(x), Box::new(y)));
                }
                e(b, Node::Cmp(op, self.boxed(ta, d), self.boxed(tb, d)))
            }
        }
    }

    /// A random value of `ty` (often missing).
    fn value(&mut self, ty: ValType) -> Val {
        if self.rng.chance(20) {
            return Val::Missing;
        }
        match ty {
            ValType::Bool => Val::Bool(self.rng.chance(50)),
            ValType::Num => Val::Num(self.rng.num()),
            ValType::Text => {
                // Often an IR text, so equality and prefixes hold sometimes.
                if self.rng.chance(50) && !self.ir.texts.is_empty() {
                    let t = &self.ir.texts[self.rng.below(self.ir.texts.len())];
                    Val::Text(t.as_str().into())
                } else {
                    Val::Text(self.rng.pick(TEXTS).into())
                }
            }
            ValType::Date => Val::Date(self.rng.pick(DATES)),
            ValType::Timestamp => Val::Timestamp(self.rng.pick(TIMES)),
            ValType::Enum => Val::Enum(self.rng.below(4) as u32),
            ValType::Consent => Val::Consent(ConsentState::Granted),
        }
    }
}

/// One generated case: the state an expression reads.
struct State {
    profile: Vec<Val>,
    props: Vec<Val>,
    consent: Vec<ConsentState>,
    scores: Vec<f64>,
    segments: Vec<bool>,
    history: Vec<HistoryEntry>,
    has_event: bool,
    ts: i64,
    now: i64,
    stage: Option<u32>,
}

impl State {
    /// The generated contact as a `Scope` of `ir`, with `entry` as its journey run's entry.
    fn scope<'a>(&'a self, ir: &'a Ir, entry: Option<(&'a [Val], i64)>) -> Scope<'a> {
        Scope {
            ir,
            contact_id: "contact-1",
            profile: &self.profile,
            account: &[],
            account_scores: &[],
            consent: &self.consent,
            scores: &self.scores,
            segments: &self.segments,
            history: &self.history,
            event: self.has_event.then_some((&self.props[..], self.ts)),
            now: self.now,
            stage: self.stage,
            entry,
        }
    }
}

fn state(g: &mut Gen<'_>) -> State {
    let ir = g.ir;
    let profile = ir.contact_slots.iter().map(|s| g.value(s.ty)).collect();
    let props = ir.events[g.event]
        .properties
        .iter()
        .map(|p| g.value(p.ty))
        .collect();
    let consent = ir
        .channels
        .iter()
        .map(|_| {
            g.rng.pick(&[
                ConsentState::Granted,
                ConsentState::Denied,
                ConsentState::Unknown,
            ])
        })
        .collect();
    let scores = ir.scores.iter().map(|_| g.rng.num()).collect();
    let segments = ir.segments.iter().map(|_| g.rng.chance(50)).collect();
    let mut history: Vec<HistoryEntry> = (0..g.rng.below(12))
        .map(|_| {
            let event = g.rng.below(ir.events.len() + 1);
            let properties = match ir.events.get(event) {
                Some(layout) => layout.properties.iter().map(|p| g.value(p.ty)).collect(),
                None => Vec::new(),
            };
            HistoryEntry {
                ts: 1_767_225_600_000 + g.rng.below(200) as i64 * 3_600_000,
                event: (event < ir.events.len()).then_some(event as u32),
                properties: properties.into_boxed_slice(),
            }
        })
        .collect();
    history.sort_by_key(|h| h.ts);
    State {
        profile,
        props,
        consent,
        scores,
        segments,
        history,
        has_event: g.rng.chance(80),
        stage: g.rng.chance(50).then(|| g.rng.below(4) as u32),
        ts: g.rng.pick(TIMES),
        now: 1_767_225_600_000 + g.rng.below(300) as i64 * 3_600_000,
    }
}

fn reference_ir() -> Ir {
    let analysis = support::load_project("examples/reference-r1");
    let mut ir =
        maclc_compiler::ir::lower(&analysis.program).expect("the reference program lowers");
    with_a_table(&mut ir);
    ir
}

/// Adds a table keyed by text (R1 has none), for lookups of a text or a number: keys that
/// differ only in case, and one that is the `lower` of a text the generator uses (`İstanbul`).
fn with_a_table(ir: &mut Ir) {
    let rows = [
        ("/pricing", "pricing page", 1.0),
        ("de", "Germany", 2.0),
        ("DE", "DEU", 3.0),
        ("cto", "", 4.0),
        ("i\u{307}stanbul", "TR", 5.0),
    ];
    let mut intern = |t: &str| {
        ir.texts.push(t.to_string());
        Const::Text(TextId((ir.texts.len() - 1) as u32))
    };
    let cells: Vec<Vec<Const>> = rows
        .iter()
        .map(|(key, text, num)| vec![intern(key), intern(text), Const::Num(*num)])
        .collect();
    ir.tables.push(TableIr {
        name: "generated".into(),
        rows: cells,
        text_keys: rows
            .iter()
            .enumerate()
            .map(|(i, (key, _, _))| (key.to_string(), i as u32))
            .collect(),
        other_keys: Vec::new(),
    });
}

fn check_seed(ir: &Ir, seed: u64) -> Result<(), TestCaseError> {
    let mut g = Gen {
        ir,
        rng: Rng(seed),
        event: 0,
    };
    g.event = g.rng.below(ir.events.len());
    let generated: Vec<Expr> = (0..8).map(|_| g.expr(ValType::Bool, 4)).collect();
    // The program with the generated conditions numbered after its own.
    let mut numbered = ir.clone();
    let conditions: Vec<Condition> = generated
        .into_iter()
        .map(|e| numbered.add_condition(e))
        .collect();
    let ir = &numbered;
    let list = conditions
        .iter()
        .enumerate()
        .map(|(i, c)| (format!("generated {i}"), c))
        .collect();
    let jit = Jit::compile_conditions(ir, list).map_err(|e| TestCaseError::fail(e.to_string()))?;
    for c in &jit.conditions {
        prop_assert!(c.error.is_none(), "{}: {:?}", c.label, c.error);
    }
    for _ in 0..4 {
        let s = state(&mut g);
        // Inside a journey run or not; the entry reuses the generated properties.
        let in_run = g.rng.chance(50);
        let scope = s.scope(ir, in_run.then_some((&s.props[..], s.now - 3_600_000)));
        for c in &conditions {
            let native = jit.holds_native(&scope, c);
            let interpreted = scope.holds(c);
            prop_assert_eq!(native, Some(interpreted), "condition {:#?}", c);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn native_conditions_agree_with_the_interpreter(seed in any::<u64>()) {
        let ir = reference_ir();
        check_seed(&ir, seed)?;
    }
}

/// The reference program with event `event`'s score rules replaced by `count` generated ones:
/// most with a random condition (some read scores, so native code must leave them to the
/// engine), some with none.
fn with_generated_rules(g: &mut Gen<'_>, event: usize, count: usize) -> Ir {
    let mut ir = g.ir.clone();
    let mut rules = Vec::new();
    for i in 0..count {
        let condition = (!g.rng.chance(10)).then(|| g.expr(ValType::Bool, 4));
        rules.push(EventRule {
            score: ScoreId((i % ir.scores.len()) as u32),
            rule: i as u32,
            points: 1.0,
            condition: condition.map(|e| ir.add_condition(e)),
            cap: None,
        });
    }
    ir.rules_by_event[event] = rules;
    ir
}

/// Whether a generated condition may read a score (itself; the reference program's aggregate
/// filters read none).
fn reads_a_score(c: &Expr) -> bool {
    let text = format!("{:?}", c.node);
    text.contains("Score(ScoreId")
}

/// An event's score rules as ONE native function per chunk of 64 (the engine's path) against
/// the interpreter, rule by rule: every rule native code answers holds exactly when it holds
/// in the interpreter, and every compiled condition that reads no score is answered natively.
fn check_score_rules_seed(base: &Ir, seed: u64) -> Result<(), TestCaseError> {
    let mut g = Gen {
        ir: base,
        rng: Rng(seed),
        event: 0,
    };
    g.event = g.rng.below(base.events.len());
    // Now and then more than one chunk of 64 rules.
    let count = if g.rng.chance(15) {
        65 + g.rng.below(70)
    } else {
        1 + g.rng.below(12)
    };
    let event = g.event;
    let ir = with_generated_rules(&mut g, event, count);
    let g_ir = &ir;
    let mut g = Gen {
        ir: g_ir,
        rng: Rng(seed ^ 0x5eed),
        event: g.event,
    };
    let jit = Jit::compile(g_ir).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(jit.fallbacks().count(), 0, "{:#?}", jit.conditions);
    let rules = &g_ir.rules_by_event[g.event];
    for _ in 0..4 {
        let s = state(&mut g);
        let scope = s.scope(g_ir, None);
        // The engine's way: a `RuleCtx` of the contact's fields, its event set alone (no
        // scores; `now` is the event's time), a `Scope` only for chunks that call back.
        let event_scope = Scope {
            scores: &[],
            now: s.ts,
            event: Some((&s.props[..], s.ts)),
            ..scope
        };
        let mut ctx = RuleCtx::new(
            "contact-1",
            &s.profile,
            &[],
            &s.consent,
            &s.segments,
            s.stage,
        );
        ctx.set_event(&s.props, s.ts);
        for (chunk, chunk_rules) in rules.chunks(RULES_PER_CHUNK).enumerate() {
            // The engine's call (through the `RuleCtx`) against the same code called with a
            // context built from the `Scope`: the rules that may hold are those native code
            // does not decide, and exactly those of the others it finds true.
            let code = jit.score_rules().event(g.event).get(chunk).copied();
            prop_assert!(code.is_some(), "a chunk of native code per chunk of rules");
            if let Some(code) = code {
                let may_hold = code.may_hold(&ctx, || event_scope);
                let all = u64::MAX >> (RULES_PER_CHUNK - chunk_rules.len());
                let from_scope = jit.score_rules_native(&event_scope, g.event, chunk);
                prop_assert_eq!(may_hold.native, from_scope.map_or(0, |m| m.native));
                prop_assert_eq!(
                    may_hold.rules,
                    (all & !may_hold.native) | from_scope.map_or(0, |m| m.holds)
                );
            }
            let mask = jit.score_rules_native(&scope, g.event, chunk);
            let expect_native = chunk_rules.iter().any(|r| {
                r.condition
                    .as_ref()
                    .is_some_and(|c| !reads_a_score(&c.expr))
            });
            prop_assert_eq!(mask.is_some(), expect_native);
            let Some(mask) = mask else { continue };
            for (bit, rule) in chunk_rules.iter().enumerate() {
                let native = mask.native >> bit & 1 == 1;
                let Some(c) = &rule.condition else {
                    prop_assert!(!native, "a rule with no condition is the engine's");
                    continue;
                };
                prop_assert_eq!(native, !reads_a_score(&c.expr), "rule {} {:#?}", bit, c);
                if native {
                    let holds = mask.holds >> bit & 1 == 1;
                    prop_assert_eq!(holds, scope.holds(c), "rule {} {:#?}", bit, c);
                } else {
                    prop_assert_eq!(mask.holds >> bit & 1, 0);
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn score_rules_per_event_agree_with_the_interpreter(seed in any::<u64>()) {
        let ir = reference_ir();
        check_score_rules_seed(&ir, seed)?;
    }
}

/// Runs inside `Jit::run` reach native code through `Scope::holds` (not only `holds_native`).
#[test]
fn holds_dispatches_to_native_code_while_running() {
    let ir = reference_ir();
    let jit = Jit::compile(&ir).expect("the JIT starts");
    assert!(jit.compiled_count() > 0);
    assert_eq!(jit.fallbacks().count(), 0, "{:#?}", jit.conditions);
    let segment = &ir.segments[0].condition;
    let blank = support::BlankContact::new(&ir);
    let scope = blank.scope(&ir);
    let native = jit.holds_native(&scope, segment);
    assert_eq!(native, Some(scope.holds(segment)));
    assert_eq!(jit.run(|| scope.holds(segment)), scope.holds(segment));
}
