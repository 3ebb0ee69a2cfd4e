//! Reasoning about conditions: which values a condition proves present (narrowing), conditions
//! that can never be true, rules hidden by earlier rules, and loops between segments.

use std::collections::HashMap;
use std::fmt::Write;

use super::program::*;
use crate::source::Span;
use crate::syntax::ast::{BinaryOp, CompareOp};

/// A key that is equal for two expressions exactly when they read the same thing the same way
/// (spans ignored): the identity used for narrowing and for spotting repeated rules.
pub(crate) fn canon(e: &TypedExpr) -> String {
    let mut out = String::new();
    write_canon(e, &mut out);
    out
}

fn write_canon(e: &TypedExpr, out: &mut String) {
    let _ = match &e.kind {
        ExprKind::Value(v) => write!(out, "{v:?}"),
        ExprKind::Call { function, args } => {
            let _ = write!(out, "{function:?}(");
            for a in args {
                write_canon(a, out);
                out.push(',');
            }
            write!(out, ")")
        }
        ExprKind::List(items) => {
            out.push('[');
            for a in items {
                write_canon(a, out);
                out.push(',');
            }
            write!(out, "]")
        }
        ExprKind::Lookup { table, key, column } => {
            let _ = write!(out, "lookup({table:?},");
            write_canon(key, out);
            write!(out, ",{column})")
        }
        ExprKind::Aggregate(a) => {
            let _ = write!(
                out,
                "agg({:?},{:?},{:?},{:?},",
                a.kind, a.event, a.property, a.window
            );
            if let Some(c) = &a.condition {
                write_canon(c, out);
            }
            write!(out, ")")
        }
        ExprKind::Not(inner) => {
            out.push_str("not(");
            write_canon(inner, out);
            write!(out, ")")
        }
        ExprKind::Negate(inner) => {
            out.push_str("neg(");
            write_canon(inner, out);
            write!(out, ")")
        }
        ExprKind::Binary { op, lhs, rhs } => {
            let _ = write!(out, "{op:?}(");
            write_canon(lhs, out);
            out.push(',');
            write_canon(rhs, out);
            write!(out, ")")
        }
        ExprKind::IsKnown { operand, known } => {
            let _ = write!(out, "known{known}(");
            write_canon(operand, out);
            write!(out, ")")
        }
        ExprKind::InList {
            operand,
            list,
            negated,
        } => {
            let _ = write!(out, "in{negated}(");
            write_canon(operand, out);
            out.push(',');
            write_canon(list, out);
            write!(out, ")")
        }
        ExprKind::Between { operand, low, high } => {
            out.push_str("between(");
            write_canon(operand, out);
            out.push(',');
            write_canon(low, out);
            out.push(',');
            write_canon(high, out);
            write!(out, ")")
        }
        other => write!(out, "{other:?}"),
    };
}

/// The `and`-chain of a condition, flattened.
pub(crate) fn conjuncts(e: &TypedExpr) -> Vec<&TypedExpr> {
    let mut out = Vec::new();
    collect_chain(e, BinaryOp::And, &mut out);
    out
}

fn collect_chain<'e>(e: &'e TypedExpr, wanted: BinaryOp, out: &mut Vec<&'e TypedExpr>) {
    match &e.kind {
        ExprKind::Binary { op, lhs, rhs } if *op == wanted => {
            collect_chain(lhs, wanted, out);
            collect_chain(rhs, wanted, out);
        }
        _ => out.push(e),
    }
}

/// Values proved present when `e` is true: every `X is known` in its `and`-chain.
pub(crate) fn known_if_true(e: &TypedExpr) -> Vec<String> {
    let mut out = Vec::new();
    for c in conjuncts(e) {
        match &c.kind {
            ExprKind::IsKnown {
                operand,
                known: true,
            } => out.push(canon(operand)),
            ExprKind::Not(inner) => out.extend(known_if_false(inner)),
            _ => {}
        }
    }
    out
}

/// Values proved present when `e` is false: every `X is unknown` in its `or`-chain.
pub(crate) fn known_if_false(e: &TypedExpr) -> Vec<String> {
    let mut chain = Vec::new();
    collect_chain(e, BinaryOp::Or, &mut chain);
    let mut out = Vec::new();
    for c in chain {
        match &c.kind {
            ExprKind::IsKnown {
                operand,
                known: false,
            } => out.push(canon(operand)),
            ExprKind::Not(inner) => out.extend(known_if_true(inner)),
            _ => {}
        }
    }
    out
}

// ------------------------------------------------------------------ contradictions

/// A conjunct that cannot hold together with an earlier one in the same `and`-chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Contradiction {
    /// The conjunct that makes the chain impossible.
    pub span: Span,
    /// The earlier conjunct it conflicts with.
    pub earlier: Span,
    /// The value both talk about.
    pub path: Span,
    /// `earlier` is a declared bound (`at most 200`), not a part of the condition.
    pub against_bound: bool,
}

#[derive(Debug, Clone, PartialEq)]
enum Scalar {
    Num(f64),
    Text(String),
}

fn scalar(v: &Value) -> Option<Scalar> {
    Some(match v {
        Value::Number(n) | Value::Percent(n) => Scalar::Num(*n),
        Value::Money { amount, .. } => Scalar::Num(*amount),
        Value::Date(d) => Scalar::Num(*d as f64),
        Value::Timestamp(t) | Value::Duration(t) => Scalar::Num(*t as f64),
        Value::Time(t) => Scalar::Num(f64::from(*t)),
        Value::Bool(b) => Scalar::Num(if *b { 1.0 } else { 0.0 }),
        Value::Enum(_, i) => Scalar::Num(f64::from(*i)),
        Value::Stage(s) => Scalar::Num(f64::from(s.0)),
        Value::Consent(c) => Scalar::Text(format!("{c:?}")),
        Value::Text(s) => Scalar::Text(s.clone()),
        Value::List(_) => return None,
    })
}

#[derive(Debug, Clone)]
enum Constraint {
    Cmp(CompareOp, Scalar),
    OneOf(Vec<Scalar>),
}

#[derive(Debug, Default)]
struct Domain {
    low: Option<(f64, bool)>,
    high: Option<(f64, bool)>,
    equal: Option<Scalar>,
    not_equal: Vec<Scalar>,
    one_of: Option<Vec<Scalar>>,
}

impl Domain {
    fn admits(&self, s: &Scalar) -> bool {
        if let Scalar::Num(n) = s {
            if let Some((low, inclusive)) = self.low {
                if *n < low || (*n == low && !inclusive) {
                    return false;
                }
            }
            if let Some((high, inclusive)) = self.high {
                if *n > high || (*n == high && !inclusive) {
                    return false;
                }
            }
        }
        !self.not_equal.contains(s) && self.one_of.as_ref().is_none_or(|set| set.contains(s))
    }

    /// Adds a constraint; `false` when no value is left.
    fn add(&mut self, c: Constraint) -> bool {
        match c {
            Constraint::Cmp(CompareOp::Eq, s) => {
                if matches!(&self.equal, Some(e) if *e != s) {
                    return false;
                }
                self.equal = Some(s);
            }
            Constraint::Cmp(CompareOp::Ne, s) => self.not_equal.push(s),
            Constraint::Cmp(op, Scalar::Num(n)) => {
                let (is_low, inclusive) = match op {
                    CompareOp::Gt => (true, false),
                    CompareOp::Ge => (true, true),
                    CompareOp::Lt => (false, false),
                    _ => (false, true),
                };
                if is_low {
                    if self
                        .low
                        .is_none_or(|(l, li)| n > l || (n == l && !inclusive && li))
                    {
                        self.low = Some((n, inclusive));
                    }
                } else if self
                    .high
                    .is_none_or(|(h, hi)| n < h || (n == h && !inclusive && hi))
                {
                    self.high = Some((n, inclusive));
                }
            }
            Constraint::Cmp(_, Scalar::Text(_)) => {}
            Constraint::OneOf(set) => {
                let merged = match self.one_of.take() {
                    Some(old) => old.into_iter().filter(|s| set.contains(s)).collect(),
                    None => set,
                };
                self.one_of = Some(merged);
            }
        }
        self.satisfiable()
    }

    fn satisfiable(&self) -> bool {
        if let (Some((l, li)), Some((h, hi))) = (self.low, self.high) {
            if l > h || (l == h && !(li && hi)) {
                return false;
            }
        }
        if let Some(e) = &self.equal {
            return self.admits(e);
        }
        if let Some(set) = &self.one_of {
            return set.iter().any(|s| self.admits(s));
        }
        true
    }
}

fn is_value(e: &TypedExpr) -> bool {
    matches!(e.kind, ExprKind::Value(_))
}

fn flip(op: CompareOp) -> CompareOp {
    match op {
        CompareOp::Lt => CompareOp::Gt,
        CompareOp::Le => CompareOp::Ge,
        CompareOp::Gt => CompareOp::Lt,
        CompareOp::Ge => CompareOp::Le,
        other => other,
    }
}

/// What one conjunct says about one value: `(key, the value's span, constraints)`.
fn constraints_of(c: &TypedExpr) -> Option<(String, &TypedExpr, Vec<Constraint>)> {
    match &c.kind {
        ExprKind::Binary {
            op: BinaryOp::Compare(op),
            lhs,
            rhs,
        } => {
            let (path, value, op) = match (is_value(lhs), is_value(rhs)) {
                (false, true) => (lhs, rhs, *op),
                (true, false) => (rhs, lhs, flip(*op)),
                _ => return None,
            };
            let ExprKind::Value(v) = &value.kind else {
                return None;
            };
            Some((canon(path), path, vec![Constraint::Cmp(op, scalar(v)?)]))
        }
        ExprKind::Between { operand, low, high } if !is_value(operand) => {
            let (ExprKind::Value(l), ExprKind::Value(h)) = (&low.kind, &high.kind) else {
                return None;
            };
            Some((
                canon(operand),
                operand,
                vec![
                    Constraint::Cmp(CompareOp::Ge, scalar(l)?),
                    Constraint::Cmp(CompareOp::Le, scalar(h)?),
                ],
            ))
        }
        ExprKind::InList {
            operand,
            list,
            negated,
        } if !is_value(operand) => {
            let ExprKind::List(items) = &list.kind else {
                return None;
            };
            let values: Option<Vec<Scalar>> = items
                .iter()
                .map(|i| match &i.kind {
                    ExprKind::Value(v) => scalar(v),
                    _ => None,
                })
                .collect();
            let values = values?;
            let constraints = if *negated {
                values
                    .into_iter()
                    .map(|v| Constraint::Cmp(CompareOp::Ne, v))
                    .collect()
            } else {
                vec![Constraint::OneOf(values)]
            };
            Some((canon(operand), operand, constraints))
        }
        ExprKind::Not(inner) if inner.ty == Type::Bool && is_plain_read(inner) => Some((
            canon(inner),
            inner,
            vec![Constraint::Cmp(CompareOp::Eq, Scalar::Num(0.0))],
        )),
        _ if c.ty == Type::Bool && is_plain_read(c) => Some((
            canon(c),
            c,
            vec![Constraint::Cmp(CompareOp::Eq, Scalar::Num(1.0))],
        )),
        _ => None,
    }
}

/// A yes/no value read directly (a field, a property, a segment), not computed.
fn is_plain_read(e: &TypedExpr) -> bool {
    matches!(
        e.kind,
        ExprKind::ContactField(_)
            | ExprKind::AccountField { .. }
            | ExprKind::EventProperty { .. }
            | ExprKind::EntryProperty { .. }
            | ExprKind::Segment(_)
            | ExprKind::Param(_)
    )
}

/// The values a number can take whatever happens (a score's `at least` and `at most`), with
/// where each limit is declared.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Range {
    pub low: Option<(f64, Span)>,
    pub high: Option<(f64, Span)>,
}

/// The bound that makes comparisons of a value in `range` impossible, if any.
pub(crate) fn outside_range(range: Range, wanted: &[(CompareOp, f64)]) -> Option<Span> {
    let mut domain = Domain {
        low: range.low.map(|(v, _)| (v, true)),
        high: range.high.map(|(v, _)| (v, true)),
        ..Domain::default()
    };
    for (op, value) in wanted {
        if !domain.add(Constraint::Cmp(*op, Scalar::Num(*value))) {
            return match (range.high, range.low) {
                (Some((h, span)), _) if *value >= h => Some(span),
                (_, Some((_, span))) => Some(span),
                (Some((_, span)), None) => Some(span),
                (None, None) => None,
            };
        }
    }
    None
}

/// Every `and`-chain in `e` (at any depth) that can never be true.
pub(crate) fn contradictions(e: &TypedExpr) -> Vec<Contradiction> {
    contradictions_within(e, &|_| None)
}

/// Like [`contradictions`], also knowing the range of some values (a condition on a score
/// beyond its bounds can never be true either).
pub(crate) fn contradictions_within(
    e: &TypedExpr,
    ranges: &dyn Fn(&TypedExpr) -> Option<Range>,
) -> Vec<Contradiction> {
    let mut out = Vec::new();
    walk(e, ranges, &mut out);
    out
}

type Ranges<'r> = &'r dyn Fn(&TypedExpr) -> Option<Range>;

fn walk(e: &TypedExpr, ranges: Ranges<'_>, out: &mut Vec<Contradiction>) {
    if let ExprKind::Binary {
        op: BinaryOp::And, ..
    } = e.kind
    {
        let chain = conjuncts(e);
        analyse_chain(&chain, ranges, out);
        for c in chain {
            walk_children(c, ranges, out);
        }
        return;
    }
    if e.ty == Type::Bool && !is_plain_read(e) && !matches!(e.kind, ExprKind::Not(_)) {
        // A lone comparison can contradict itself (`between 500 and 10`) or a known range.
        analyse_chain(&[e], ranges, out);
    }
    walk_children(e, ranges, out);
}

fn walk_children(e: &TypedExpr, ranges: Ranges<'_>, out: &mut Vec<Contradiction>) {
    match &e.kind {
        ExprKind::Call { args, .. } | ExprKind::List(args) => {
            args.iter().for_each(|a| walk(a, ranges, out))
        }
        ExprKind::Lookup { key, .. } => walk(key, ranges, out),
        ExprKind::Aggregate(a) => {
            if let Some(c) = &a.condition {
                walk(c, ranges, out);
            }
        }
        ExprKind::Not(inner) | ExprKind::Negate(inner) => walk(inner, ranges, out),
        ExprKind::Binary { lhs, rhs, .. } => {
            walk(lhs, ranges, out);
            walk(rhs, ranges, out);
        }
        ExprKind::IsKnown { operand, .. } => walk(operand, ranges, out),
        ExprKind::InList { operand, list, .. } => {
            walk(operand, ranges, out);
            walk(list, ranges, out);
        }
        ExprKind::Between { operand, low, high } => {
            walk(operand, ranges, out);
            walk(low, ranges, out);
            walk(high, ranges, out);
        }
        _ => {}
    }
}

fn analyse_chain(chain: &[&TypedExpr], ranges: Ranges<'_>, out: &mut Vec<Contradiction>) {
    struct State {
        domain: Domain,
        first: Span,
        range: Option<Range>,
        done: bool,
    }
    let mut states: HashMap<String, State> = HashMap::new();
    for c in chain {
        let Some((key, path, constraints)) = constraints_of(c) else {
            continue;
        };
        let state = states.entry(key).or_insert_with(|| {
            let range = ranges(path);
            let mut domain = Domain::default();
            if let Some(r) = range {
                domain.low = r.low.map(|(v, _)| (v, true));
                domain.high = r.high.map(|(v, _)| (v, true));
            }
            State {
                domain,
                first: c.span,
                range,
                done: false,
            }
        });
        if state.done {
            continue;
        }
        for constraint in constraints {
            let value = match &constraint {
                Constraint::Cmp(_, Scalar::Num(n)) => Some(*n),
                _ => None,
            };
            if state.domain.add(constraint) {
                continue;
            }
            // Blame the declared bound when the chain alone was still possible.
            let bound = state.range.and_then(|r| {
                let mut alone = Domain::default();
                let own = constraints_of(c).map(|(_, _, cs)| cs).unwrap_or_default();
                let possible = own.into_iter().all(|k| alone.add(k));
                if !possible || state.first != c.span {
                    return None;
                }
                match (value, r.high, r.low) {
                    (Some(v), Some((h, span)), _) if v >= h => Some(span),
                    (_, _, Some((_, span))) => Some(span),
                    (_, Some((_, span)), None) => Some(span),
                    _ => None,
                }
            });
            out.push(Contradiction {
                span: c.span,
                earlier: bound.unwrap_or(state.first),
                path: path.span,
                against_bound: bound.is_some(),
            });
            state.done = true;
            break;
        }
    }
}

// ------------------------------------------------------------------ rule order

/// Whether a rule with condition `earlier` already takes every case `later` would take: the
/// earlier `and`-chain is a part of the later one (identical conditions included).
pub(crate) fn covers(earlier: &TypedExpr, later: &TypedExpr) -> bool {
    if earlier.ty.is_error() || later.ty.is_error() {
        return false;
    }
    let later_keys: Vec<String> = conjuncts(later).into_iter().map(canon).collect();
    conjuncts(earlier)
        .into_iter()
        .all(|c| later_keys.contains(&canon(c)))
        || range_covers(earlier, later)
}

/// `x >= 100` covers `x >= 500`: one comparison of the same value with fixed values each.
fn range_covers(earlier: &TypedExpr, later: &TypedExpr) -> bool {
    let (Some((ek, _, ec)), Some((lk, _, lc))) = (single(earlier), single(later)) else {
        return false;
    };
    if ek != lk {
        return false;
    }
    let mut e = Domain::default();
    for c in ec {
        e.add(c);
    }
    let mut l = Domain::default();
    for c in lc {
        if !l.add(c) {
            return false;
        }
    }
    if let Some(value) = &l.equal {
        return e.admits(value);
    }
    if e.equal.is_some()
        || e.one_of.is_some()
        || !e.not_equal.is_empty()
        || (e.low.is_none() && e.high.is_none())
    {
        return false;
    }
    let low_ok = match (e.low, l.low) {
        (None, _) => true,
        (Some((el, einc)), Some((ll, linc))) => ll > el || (ll == el && (einc || !linc)),
        (Some(_), None) => false,
    };
    let high_ok = match (e.high, l.high) {
        (None, _) => true,
        (Some((eh, einc)), Some((lh, linc))) => lh < eh || (lh == eh && (einc || !linc)),
        (Some(_), None) => false,
    };
    low_ok && high_ok
}

fn single(e: &TypedExpr) -> Option<(String, Span, Vec<Constraint>)> {
    let chain = conjuncts(e);
    if chain.len() != 1 {
        return None;
    }
    constraints_of(chain.first()?).map(|(key, path, cs)| (key, path.span, cs))
}

// ------------------------------------------------------------------ segment loops

/// Each loop in a dependency graph (scores and segments, by node number) once: the nodes in
/// order and the use that closes the loop (reported at the use inside the loop's first node).
pub(crate) fn cycles(uses: &[Vec<(usize, Span)>]) -> Vec<(Vec<usize>, Span)> {
    let mut found = Vec::new();
    for start in 0..uses.len() {
        // Depth-first search for a path back to `start` through larger node numbers only, so
        // each loop is reported from its smallest node.
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        let mut on_path = vec![start];
        let mut visited = vec![false; uses.len()];
        while let Some((node, next)) = stack.last().copied() {
            let edges = uses.get(node).map_or(&[][..], |v| v.as_slice());
            let Some(&(target, span)) = edges.get(next) else {
                stack.pop();
                on_path.pop();
                continue;
            };
            if let Some(top) = stack.last_mut() {
                top.1 += 1;
            }
            if target == start {
                let first_span = match on_path.get(1) {
                    None => span,
                    Some(second) => uses
                        .get(start)
                        .and_then(|v| v.iter().find(|(t, _)| t == second))
                        .map_or(span, |(_, s)| *s),
                };
                found.push((on_path.clone(), first_span));
                break;
            }
            if target > start && !visited.get(target).copied().unwrap_or(true) {
                if let Some(v) = visited.get_mut(target) {
                    *v = true;
                }
                stack.push((target, 0));
                on_path.push(target);
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn sp(start: u32) -> Span {
        Span {
            file: FileId(0),
            start,
            end: start + 1,
        }
    }

    fn field(id: u32, ty: Type, optional: bool) -> TypedExpr {
        TypedExpr {
            kind: ExprKind::ContactField(FieldId(id)),
            ty,
            optional,
            span: sp(id),
        }
    }

    fn num(n: f64) -> TypedExpr {
        TypedExpr {
            kind: ExprKind::Value(Value::Number(n)),
            ty: Type::Number,
            optional: false,
            span: sp(90),
        }
    }

    fn text(s: &str) -> TypedExpr {
        TypedExpr {
            kind: ExprKind::Value(Value::Text(s.into())),
            ty: Type::Text,
            optional: false,
            span: sp(91),
        }
    }

    fn bin(op: BinaryOp, l: TypedExpr, r: TypedExpr, at: u32) -> TypedExpr {
        TypedExpr {
            kind: ExprKind::Binary {
                op,
                lhs: Box::new(l),
                rhs: Box::new(r),
            },
            ty: Type::Bool,
            optional: false,
            span: sp(at),
        }
    }

    fn cmp(op: CompareOp, l: TypedExpr, r: TypedExpr, at: u32) -> TypedExpr {
        bin(BinaryOp::Compare(op), l, r, at)
    }

    #[test]
    fn disjoint_ranges_contradict() {
        let size = || field(1, Type::Number, false);
        let e = bin(
            BinaryOp::And,
            cmp(CompareOp::Lt, size(), num(10.0), 20),
            cmp(CompareOp::Gt, size(), num(500.0), 30),
            40,
        );
        let found = contradictions(&e);
        assert_eq!(found.len(), 1);
        assert_eq!(found.first().map(|c| c.span), Some(sp(30)));
        assert_eq!(found.first().map(|c| c.earlier), Some(sp(20)));
    }

    #[test]
    fn overlapping_ranges_and_different_paths_do_not() {
        let size = || field(1, Type::Number, false);
        let e = bin(
            BinaryOp::And,
            cmp(CompareOp::Ge, size(), num(10.0), 20),
            cmp(CompareOp::Le, size(), num(10.0), 30),
            40,
        );
        assert!(contradictions(&e).is_empty());
        let other = bin(
            BinaryOp::And,
            cmp(CompareOp::Lt, size(), num(10.0), 20),
            cmp(CompareOp::Gt, field(2, Type::Number, false), num(500.0), 30),
            40,
        );
        assert!(contradictions(&other).is_empty());
    }

    #[test]
    fn two_different_equalities_contradict_even_inside_or() {
        let x = || field(3, Type::Text, false);
        let chain = bin(
            BinaryOp::And,
            cmp(CompareOp::Eq, x(), text("a"), 20),
            cmp(CompareOp::Eq, x(), text("b"), 30),
            40,
        );
        let e = bin(
            BinaryOp::Or,
            chain,
            cmp(CompareOp::Eq, x(), text("c"), 50),
            60,
        );
        assert_eq!(contradictions(&e).len(), 1);
    }

    #[test]
    fn strict_bounds_on_the_same_point_contradict() {
        let size = || field(1, Type::Number, false);
        let e = bin(
            BinaryOp::And,
            cmp(CompareOp::Gt, size(), num(10.0), 20),
            cmp(CompareOp::Le, size(), num(10.0), 30),
            40,
        );
        assert_eq!(contradictions(&e).len(), 1);
    }

    #[test]
    fn is_known_narrows_the_rest_of_the_chain() {
        let size = field(1, Type::Number, true);
        let known = TypedExpr {
            kind: ExprKind::IsKnown {
                operand: Box::new(size.clone()),
                known: true,
            },
            ty: Type::Bool,
            optional: false,
            span: sp(5),
        };
        let e = bin(
            BinaryOp::And,
            known.clone(),
            cmp(CompareOp::Ge, size.clone(), num(500.0), 9),
            10,
        );
        assert_eq!(known_if_true(&e), vec![canon(&size)]);
        assert!(known_if_false(&e).is_empty());
        let unknown = TypedExpr {
            kind: ExprKind::IsKnown {
                operand: Box::new(size.clone()),
                known: false,
            },
            ..known
        };
        assert_eq!(known_if_false(&unknown), vec![canon(&size)]);
    }

    #[test]
    fn broader_earlier_rule_covers_later() {
        let size = || field(1, Type::Number, false);
        let broad = cmp(CompareOp::Ge, size(), num(100.0), 1);
        let narrow = cmp(CompareOp::Ge, size(), num(500.0), 2);
        assert!(covers(&broad, &narrow));
        assert!(!covers(&narrow, &broad));
        let both = bin(
            BinaryOp::And,
            cmp(CompareOp::Ge, size(), num(100.0), 3),
            field(4, Type::Bool, false),
            5,
        );
        assert!(covers(&broad, &both));
    }

    #[test]
    fn segment_loops_are_found_once() {
        let uses = vec![vec![(1, sp(1))], vec![(0, sp(2))], vec![(2, sp(3))], vec![]];
        let cycles = cycles(&uses);
        assert_eq!(cycles.len(), 2);
        assert_eq!(cycles.first().map(|c| c.0.clone()), Some(vec![0, 1]));
        assert_eq!(cycles.get(1).map(|c| c.0.clone()), Some(vec![2]));
    }
}
