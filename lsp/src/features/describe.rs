//! Words about a symbol of the checked program: its name, kind, type as written in the
//! language, doc comment and durations in words. Shared by hover, completion and rename.

use maclc_compiler::check::{
    Decay, EventSourceKind, Limit, Program, Schema, StepOwner, Symbol, Type, Value,
};
use maclc_compiler::source::Span;

use crate::world::ProjectView;

/// Which names a symbol must not collide with: top-level names share one namespace, fields and
/// values are unique within their owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Namespace {
    Global,
    ContactFields,
    AccountFields(u32),
    EventProperties(u32),
    EnumValues(u32),
    TableColumns(u32),
    Stages,
    TemplateParams(u32),
    StepLabels(StepOwner),
    TestContacts(u32),
}

pub fn namespace(symbol: Symbol) -> Namespace {
    match symbol {
        Symbol::ContactField(_) => Namespace::ContactFields,
        Symbol::AccountField(a, _) => Namespace::AccountFields(a.0),
        Symbol::EventProperty(e, _) => Namespace::EventProperties(e.0),
        Symbol::EnumVariant(e, _) => Namespace::EnumValues(e.0),
        Symbol::TableColumn(t, _) => Namespace::TableColumns(t.0),
        Symbol::Stage(_) => Namespace::Stages,
        Symbol::TemplateParam(t, _) => Namespace::TemplateParams(t.0),
        Symbol::StepLabel(owner, _) => Namespace::StepLabels(owner),
        Symbol::TestContact(t, _) => Namespace::TestContacts(t),
        Symbol::Account(_)
        | Symbol::Event(_)
        | Symbol::Enum(_)
        | Symbol::Table(_)
        | Symbol::Channel(_)
        | Symbol::Constant(_)
        | Symbol::Score(_)
        | Symbol::AccountScore(_)
        | Symbol::Segment(_)
        | Symbol::Queue(_)
        | Symbol::Route(_)
        | Symbol::Journey(_)
        | Symbol::Template(_) => Namespace::Global,
    }
}

/// The word a marketer uses for this kind of name.
pub fn kind_word(symbol: Symbol) -> &'static str {
    match symbol {
        Symbol::ContactField(_) => "contact field",
        Symbol::Account(_) => "account",
        Symbol::AccountField(..) => "account field",
        Symbol::Event(_) => "event",
        Symbol::EventProperty(..) => "event property",
        Symbol::Enum(_) => "enum",
        Symbol::EnumVariant(..) => "enum value",
        Symbol::Table(_) => "table",
        Symbol::TableColumn(..) => "table column",
        Symbol::Channel(_) => "channel",
        Symbol::Constant(_) => "constant",
        Symbol::Score(_) => "score",
        Symbol::AccountScore(_) => "account score",
        Symbol::Segment(_) => "segment",
        Symbol::Stage(_) => "lifecycle stage",
        Symbol::Queue(_) => "queue",
        Symbol::Route(_) => "routing",
        Symbol::Journey(_) => "journey",
        Symbol::Template(_) => "journey template",
        Symbol::TemplateParam(..) => "template parameter",
        Symbol::StepLabel(..) => "step label",
        Symbol::TestContact(..) => "test contact",
    }
}

/// The name of a symbol as declared (from the program, else from its definition's text).
pub fn name_of(view: &ProjectView, symbol: Symbol) -> Option<String> {
    let p = &view.analysis.program;
    let s = &p.schema;
    let name = match symbol {
        Symbol::ContactField(f) => s.contact_fields.get(f.index())?.name.clone(),
        Symbol::Account(a) => s.accounts.get(a.index())?.name.clone(),
        Symbol::AccountField(a, i) => s
            .accounts
            .get(a.index())?
            .fields
            .get(i as usize)?
            .name
            .clone(),
        Symbol::Event(e) => s.events.get(e.index())?.name.clone(),
        Symbol::EventProperty(e, i) => s
            .events
            .get(e.index())?
            .properties
            .get(i as usize)?
            .name
            .clone(),
        Symbol::Enum(e) => s.enums.get(e.index())?.name.clone(),
        Symbol::EnumVariant(e, i) => s.enums.get(e.index())?.variants.get(i as usize)?.clone(),
        Symbol::Table(t) => s.tables.get(t.index())?.name.clone(),
        Symbol::TableColumn(t, i) => s
            .tables
            .get(t.index())?
            .columns
            .get(i as usize)?
            .name
            .clone(),
        Symbol::Channel(c) => s.channels.get(c.index())?.name.clone(),
        Symbol::Constant(c) => p.constants.get(c.index())?.name.clone(),
        Symbol::Score(c) => p.scores.get(c.index())?.name.clone(),
        Symbol::AccountScore(c) => p.account_scores.get(c.index())?.name.clone(),
        Symbol::Segment(c) => p.segments.get(c.index())?.name.clone(),
        Symbol::Stage(c) => p.lifecycle.as_ref()?.stages.get(c.index())?.name.clone(),
        Symbol::Queue(c) => p.queues.get(c.index())?.name.clone(),
        Symbol::Route(c) => p.routes.get(c.index())?.name.clone(),
        Symbol::Journey(c) => p.journeys.get(c.index())?.name.clone(),
        Symbol::Template(c) => p.templates.get(c.index())?.name.clone(),
        Symbol::TemplateParam(t, i) => p
            .templates
            .get(t.index())?
            .params
            .get(i as usize)?
            .name
            .clone(),
        Symbol::StepLabel(..) | Symbol::TestContact(..) => {
            let span = p.definition_of(symbol)?;
            view.sources.get(span.file)?.slice(span).to_string()
        }
    };
    Some(name)
}

/// A type as written in a `.marketing` file: `text`, `list of text`, `product_line`.
pub fn type_text(schema: &Schema, ty: &Type) -> String {
    match ty {
        Type::Text => "text".into(),
        Type::Number => "number".into(),
        Type::Bool => "bool".into(),
        Type::Date => "date".into(),
        Type::Timestamp => "timestamp".into(),
        Type::Duration => "duration".into(),
        Type::Time => "time".into(),
        Type::Money => "money".into(),
        Type::Percent => "percent".into(),
        Type::Enum(id) => schema
            .enum_type(*id)
            .map_or_else(|| "enum".into(), |e| e.name.clone()),
        Type::Account(id) => schema
            .accounts
            .get(id.index())
            .map_or_else(|| "account".into(), |a| a.name.clone()),
        Type::List(inner) => format!("list of {}", type_text(schema, inner)),
        Type::Consent => "consent".into(),
        Type::Stage => "stage".into(),
        Type::Error => "unknown".into(),
    }
}

pub fn field_type_text(schema: &Schema, ty: &Type, optional: bool) -> String {
    let ty = type_text(schema, ty);
    if optional {
        format!("optional {ty}")
    } else {
        ty
    }
}

/// A duration in words: the largest whole unit (`14d` → "2 weeks", `90m` → "90 minutes").
pub fn duration_words(millis: i64) -> String {
    const UNITS: [(i64, &str); 7] = [
        (365 * 86_400_000, "year"),
        (7 * 86_400_000, "week"),
        (86_400_000, "day"),
        (3_600_000, "hour"),
        (60_000, "minute"),
        (1000, "second"),
        (1, "millisecond"),
    ];
    if millis == 0 {
        return "no time".into();
    }
    for (size, unit) in UNITS {
        if millis % size == 0 {
            let n = millis / size;
            return format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
        }
    }
    format!("{millis} milliseconds")
}

/// A duration literal as written (`30d`, `2w`, `3mo`) in words, with its length in days when
/// the unit is months or weeks.
pub fn duration_literal_words(literal: &str) -> Option<String> {
    let millis = maclc_compiler::syntax::parse_duration(literal)?;
    let digits_end = literal.find(|c: char| !c.is_ascii_digit())?;
    let (amount, unit) = literal.split_at(digits_end);
    let amount: i64 = amount.parse().ok()?;
    let plural = if amount == 1 { "" } else { "s" };
    let word = match unit {
        "ms" => "millisecond",
        "s" => "second",
        "m" => "minute",
        "h" => "hour",
        "d" => "day",
        "w" => "week",
        "mo" => "month",
        "y" => "year",
        _ => return None,
    };
    let mut text = format!("{amount} {word}{plural}");
    if matches!(unit, "w" | "mo" | "y" | "h") && millis % 86_400_000 == 0 && amount > 0 {
        let days = millis / 86_400_000;
        if unit != "h" || days > 0 {
            text.push_str(&format!(
                " ({days} day{})",
                if days == 1 { "" } else { "s" }
            ));
        }
    } else if unit == "h" && millis % 86_400_000 != 0 && millis > 86_400_000 {
        text.push_str(&format!(" ({})", duration_words(millis)));
    }
    Some(text)
}

/// The `///` lines right above the line of `span`, joined.
pub fn doc_above(view: &ProjectView, span: Span) -> Option<String> {
    let text = view.text(span.file);
    let start = (span.start as usize).min(text.len());
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let mut lines: Vec<&str> = Vec::new();
    let mut end = line_start;
    while end > 0 {
        let above_start = text[..end - 1].rfind('\n').map_or(0, |i| i + 1);
        let line = text[above_start..end - 1].trim();
        match line.strip_prefix("///") {
            Some(doc) if !line.starts_with("////") => lines.push(doc.trim()),
            _ => break,
        }
        end = above_start;
    }
    if lines.is_empty() {
        return None;
    }
    lines.reverse();
    Some(lines.join("\n"))
}

pub fn value_text(program: &Program, value: &Value) -> String {
    match value {
        Value::Text(t) => format!("{t:?}"),
        Value::Number(n) => number_text(*n),
        Value::Bool(b) => b.to_string(),
        Value::Duration(d) => duration_words(*d),
        Value::Money { amount, currency } => format!("{} {currency}", number_text(*amount)),
        Value::Percent(p) => format!("{}%", number_text(*p)),
        Value::Enum(e, i) => program
            .schema
            .enum_type(*e)
            .and_then(|e| e.variants.get(*i as usize))
            .cloned()
            .unwrap_or_default(),
        Value::List(items) => format!(
            "[{}]",
            items
                .iter()
                .map(|v| value_text(program, v))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Stage(s) => program
            .lifecycle
            .as_ref()
            .and_then(|l| l.stages.get(s.index()))
            .map(|s| s.name.clone())
            .unwrap_or_default(),
        Value::Date(_) | Value::Timestamp(_) | Value::Time(_) | Value::Consent(_) => {
            "(a fixed value)".into()
        }
    }
}

pub fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

pub fn limit_words(limit: &Limit) -> String {
    match limit {
        Limit::Once => "once".into(),
        Limit::PerDay(n) => format!("at most {n} a day"),
        Limit::PerWeek(n) => format!("at most {n} a week"),
        Limit::PerWindow { count, millis } => {
            format!("at most {count} in any {}", duration_words(*millis))
        }
    }
}

pub fn decay_words(decay: &Decay) -> String {
    match decay {
        Decay::HalfLife { millis } => format!("halves every {}", duration_words(*millis)),
        Decay::Step {
            percent,
            every_millis,
            only_when_inactive,
        } => format!(
            "loses {}% every {}{}",
            number_text(*percent),
            duration_words(*every_millis),
            if *only_when_inactive {
                " without a new point"
            } else {
                ""
            }
        ),
    }
}

pub fn event_source_text(source: &EventSourceKind) -> String {
    match source {
        EventSourceKind::Track(name) => format!("from track {name:?}"),
        EventSourceKind::Page => "from page".into(),
        EventSourceKind::Screen => "from screen".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_words() {
        assert_eq!(duration_words(14 * 86_400_000), "2 weeks");
        assert_eq!(duration_words(60 * 86_400_000), "60 days");
        assert_eq!(duration_words(90 * 60_000), "90 minutes");
        assert_eq!(duration_words(86_400_000), "1 day");
        assert_eq!(
            duration_literal_words("3mo").as_deref(),
            Some("3 months (90 days)")
        );
        assert_eq!(
            duration_literal_words("48h").as_deref(),
            Some("48 hours (2 days)")
        );
        assert_eq!(duration_literal_words("30m").as_deref(), Some("30 minutes"));
        assert_eq!(duration_literal_words("1d").as_deref(), Some("1 day"));
        assert_eq!(duration_literal_words("x"), None);
    }
}
