//! Expressions and literals as text, with the parentheses the tree needs.
//!
//! The parser drops parentheses, so they are put back from precedence: an operand gets them
//! when it binds looser than its place allows, or when it is a right operand of its own level
//! (`a - (b - c)`), so the text parses back to the same tree. One more case is particular to
//! this language: `count e where COND` has no end of its own (the condition takes everything
//! after `where`), so such an aggregate gets parentheses whenever anything follows it, and an
//! `and`/`or` condition after `where` is put in parentheses to show where it ends.

use crate::source::Span;
use crate::syntax::ast::{
    BinaryOp, DurationLit, DurationRef, Expr, ExprKind, Literal, LiteralValue, StrLit, TimeOfDayLit,
};

/// Binding strength, loosest first; the numbers follow the grammar's rule nesting.
const OR: u8 = 1;
const AND: u8 = 2;
const NOT: u8 = 3;
const CMP: u8 = 4;
const COALESCE: u8 = 5;
const SUM: u8 = 6;
const PRODUCT: u8 = 7;
const UNARY: u8 = 8;
const PRIMARY: u8 = 9;

/// The level a comparison operand (and a trigger's `from`/`to`/threshold) is parsed at.
pub(super) const OPERAND: u8 = COALESCE;

/// An expression where any expression may stand.
pub(super) fn expr(src: &str, e: &Expr) -> String {
    expr_at(src, e, 0)
}

/// An expression where the grammar only allows level `min` (`coalesce` in triggers).
pub(super) fn expr_at(src: &str, e: &Expr, min: u8) -> String {
    let mut out = String::new();
    write(src, e, min, false, &mut out);
    out
}

/// The pieces a too-long condition is broken into: the first operand of the top-level
/// `and`/`or` chain, then `and X`/`or X` for each of the others. Joined by spaces they give
/// exactly `expr(src, e)`.
pub(super) fn break_points(src: &str, e: &Expr) -> Vec<String> {
    let op = match &e.kind {
        ExprKind::Binary {
            op: op @ (BinaryOp::Or | BinaryOp::And),
            ..
        } => *op,
        _ => return vec![expr(src, e)],
    };
    let mut rights = Vec::new();
    let mut left = e;
    while let ExprKind::Binary {
        op: o, lhs, rhs, ..
    } = &left.kind
    {
        if *o != op {
            break;
        }
        rights.push(rhs.as_ref());
        left = lhs;
    }
    rights.reverse();
    let (lhs_min, rhs_min) = operand_levels(op);
    let mut first = String::new();
    write(src, left, lhs_min, true, &mut first);
    let mut pieces = vec![first];
    let last = rights.len().saturating_sub(1);
    for (i, rhs) in rights.into_iter().enumerate() {
        let mut piece = format!("{} ", op.symbol());
        write(src, rhs, rhs_min, i != last, &mut piece);
        pieces.push(piece);
    }
    pieces
}

fn level(e: &Expr) -> u8 {
    match &e.kind {
        ExprKind::Binary { op, .. } => match op {
            BinaryOp::Or => OR,
            BinaryOp::And => AND,
            BinaryOp::Compare(_)
            | BinaryOp::StartsWith
            | BinaryOp::EndsWith
            | BinaryOp::Contains
            | BinaryOp::Matches => CMP,
            BinaryOp::Default => COALESCE,
            BinaryOp::Add | BinaryOp::Subtract => SUM,
            BinaryOp::Multiply | BinaryOp::Divide => PRODUCT,
        },
        ExprKind::Not(_) => NOT,
        ExprKind::IsKnown { .. } | ExprKind::InList { .. } | ExprKind::Between { .. } => CMP,
        ExprKind::Negate(_) => UNARY,
        ExprKind::Literal(_)
        | ExprKind::Path(_)
        | ExprKind::Call { .. }
        | ExprKind::List(_)
        | ExprKind::Lookup { .. }
        | ExprKind::Aggregate(_)
        | ExprKind::Missing => PRIMARY,
    }
}

/// The least levels of the left and right operands of a binary operator. Comparisons do not
/// chain, so both sides of one sit at the level below; a `??` beside a comparison keeps its
/// parentheses, `(contact.company_size ?? 0) >= 500`, which reads unambiguously.
fn operand_levels(op: BinaryOp) -> (u8, u8) {
    match op {
        BinaryOp::Or => (OR, AND),
        BinaryOp::And => (AND, NOT),
        BinaryOp::Compare(_)
        | BinaryOp::StartsWith
        | BinaryOp::EndsWith
        | BinaryOp::Contains
        | BinaryOp::Matches => (SUM, SUM),
        BinaryOp::Default => (COALESCE, SUM),
        BinaryOp::Add | BinaryOp::Subtract => (SUM, PRODUCT),
        BinaryOp::Multiply | BinaryOp::Divide => (PRODUCT, UNARY),
    }
}

/// An aggregate whose `where` condition would swallow what follows it.
fn is_open_aggregate(e: &Expr) -> bool {
    matches!(&e.kind, ExprKind::Aggregate(a) if a.condition.is_some() && a.window.is_none())
}

/// Writes `e` where level `min` is allowed; `followed` says whether more of the enclosing
/// expression comes after it on the line.
fn write(src: &str, e: &Expr, min: u8, followed: bool, out: &mut String) {
    if level(e) < min || (followed && is_open_aggregate(e)) {
        out.push('(');
        write_bare(src, e, false, out);
        out.push(')');
    } else {
        write_bare(src, e, followed, out);
    }
}

fn write_bare(src: &str, e: &Expr, followed: bool, out: &mut String) {
    match &e.kind {
        ExprKind::Literal(lit) => out.push_str(&literal(lit)),
        ExprKind::Path(parts) => out.push_str(&path(parts.iter().map(|p| p.name.as_str()))),
        ExprKind::Call { function, args } => {
            out.push_str(&function.name);
            out.push('(');
            list_items(src, args, out);
            out.push(')');
        }
        ExprKind::List(items) => {
            out.push('[');
            list_items(src, items, out);
            out.push(']');
        }
        ExprKind::Lookup { table, key, column } => {
            out.push_str(&table.name);
            out.push('[');
            write(src, key, 0, false, out);
            out.push_str("].");
            out.push_str(&column.name);
        }
        ExprKind::Aggregate(agg) => {
            out.push_str(agg.kind.keyword());
            out.push(' ');
            out.push_str(agg.event.as_ref().map_or("event", |e| e.name.as_str()));
            if let Some(property) = &agg.property {
                out.push('.');
                out.push_str(&property.name);
            }
            if let Some(condition) = &agg.condition {
                out.push_str(" where ");
                // `where (a or b) in the last 7d` reads better than the bare chain; same tree.
                write(src, condition, NOT, agg.window.is_some(), out);
            }
            if let Some(window) = &agg.window {
                out.push_str(" in the last ");
                out.push_str(&duration_ref(src, window));
            }
        }
        ExprKind::Not(operand) => {
            out.push_str("not ");
            write(src, operand, NOT, followed, out);
        }
        ExprKind::Negate(operand) => {
            out.push('-');
            write(src, operand, UNARY, followed, out);
        }
        ExprKind::Binary { op, lhs, rhs, .. } => {
            let (lhs_min, rhs_min) = operand_levels(*op);
            write(src, lhs, lhs_min, true, out);
            out.push(' ');
            out.push_str(op.symbol());
            out.push(' ');
            write(src, rhs, rhs_min, followed, out);
        }
        ExprKind::IsKnown { operand, known } => {
            write(src, operand, COALESCE, true, out);
            out.push_str(if *known { " is known" } else { " is unknown" });
        }
        ExprKind::InList {
            operand,
            list,
            negated,
        } => {
            write(src, operand, COALESCE, true, out);
            out.push_str(if *negated { " not in " } else { " in " });
            // The grammar takes only a list or a name here, never parentheses.
            write_bare(src, list, followed, out);
        }
        ExprKind::Between { operand, low, high } => {
            write(src, operand, COALESCE, true, out);
            out.push_str(" between ");
            write(src, low, COALESCE, true, out);
            out.push_str(" and ");
            write(src, high, COALESCE, followed, out);
        }
        ExprKind::Missing => {}
    }
}

fn list_items(src: &str, items: &[Expr], out: &mut String) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write(src, item, 0, false, out);
    }
}

pub(super) fn path<'n>(parts: impl Iterator<Item = &'n str>) -> String {
    parts.collect::<Vec<_>>().join(".")
}

/// A literal as the user wrote it; money is spaced as `10 EUR`.
pub(super) fn literal(lit: &Literal) -> String {
    let raw = lit.raw.trim();
    match &lit.value {
        LiteralValue::Text(value) => {
            if raw.len() >= 2 && raw.starts_with('"') && raw.ends_with('"') {
                raw.to_string()
            } else {
                quote(value)
            }
        }
        LiteralValue::Money { amount, currency } => {
            let compact: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
            match compact.find(|c: char| c.is_ascii_alphabetic()) {
                Some(at) if at > 0 => format!("{} {}", &compact[..at], &compact[at..]),
                _ => format!("{} {currency}", number(*amount)),
            }
        }
        _ if !raw.is_empty() => raw.to_string(),
        LiteralValue::Number(n) => number(*n),
        LiteralValue::Bool(b) => b.to_string(),
        LiteralValue::Percent(p) => format!("{}%", number(*p)),
        LiteralValue::Duration(d) => duration_millis(d.millis),
        LiteralValue::TimeOfDay(t) => time_of_day_minutes(t.minutes),
        // Dates and timestamps always keep their text; nothing better can be made up.
        LiteralValue::Date(_) | LiteralValue::Timestamp(_) => String::new(),
    }
}

/// A text in double quotes, with the escapes the parser undoes (`\\`, `\"`, `\n`, `\t`).
pub(super) fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub(super) fn str_lit(s: &StrLit) -> String {
    quote(&s.value)
}

/// A number without a needless `.0`.
pub(super) fn number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// The source text of a span, when it has any.
pub(super) fn raw(src: &str, span: Span) -> Option<&str> {
    src.get(span.range())
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

pub(super) fn duration(src: &str, d: &DurationLit) -> String {
    raw(src, d.span).map_or_else(|| duration_millis(d.millis), str::to_string)
}

pub(super) fn duration_ref(src: &str, d: &DurationRef) -> String {
    match d {
        DurationRef::Literal(lit) => duration(src, lit),
        DurationRef::Constant(name) => name.name.clone(),
    }
}

pub(super) fn time_of_day(src: &str, t: &TimeOfDayLit) -> String {
    raw(src, t.span).map_or_else(|| time_of_day_minutes(t.minutes), str::to_string)
}

fn duration_millis(millis: i64) -> String {
    const UNITS: [(i64, &str); 5] = [
        (604_800_000, "w"),
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

fn time_of_day_minutes(minutes: Option<u16>) -> String {
    let m = minutes.unwrap_or(0);
    format!("{:02}:{:02}", m / 60, m % 60)
}
