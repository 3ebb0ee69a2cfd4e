//! Syntax diagnostics, one constructor each.

use crate::diagnostics::catalogue::{INVALID_LITERAL, SYNTAX, UNCLOSED};
use crate::diagnostics::{closest_name, Diagnostic};
use crate::source::Span;

/// What the parser found where it stopped, in words.
#[derive(Debug, Clone)]
pub enum Found {
    EndOfFile,
    EndOfLine,
    Text(String),
}

/// E0001: the text at `span` does not fit; `expected` are readable alternatives,
/// `keywords` the words that would have fitted (for "did you mean"), `hint` how such a line reads.
pub fn unexpected(
    span: Span,
    found: &Found,
    expected: &[String],
    keywords: &[String],
    hint: Option<&str>,
) -> Diagnostic {
    let message = match found {
        Found::EndOfFile => "the file ends too early".to_string(),
        Found::EndOfLine => "this line ends too early".to_string(),
        Found::Text(word) => format!("unexpected `{word}`"),
    };
    let label = if expected.is_empty() {
        "not expected here".to_string()
    } else {
        format!("expected {}", join_or(expected))
    };
    let mut diagnostic = Diagnostic::new(SYNTAX, message, span, label);
    let suggestion = match found {
        Found::Text(word) => closest_name(word, keywords.iter().map(String::as_str)),
        _ => None,
    };
    if let (Some(keyword), Found::Text(word)) = (suggestion, found) {
        diagnostic = diagnostic
            .with_help(format!("did you mean `{keyword}`?"))
            .with_fix(format!("change `{word}` to `{keyword}`"), span, keyword);
    } else if let Some(hint) = hint {
        diagnostic = diagnostic.with_help(hint.to_string());
    }
    diagnostic
}

/// E0002: a `{` that is never closed.
pub fn unclosed_brace(open: Span, item: &str) -> Diagnostic {
    Diagnostic::new(
        UNCLOSED,
        format!("this {item} is not closed"),
        open,
        "this `{` has no matching `}`",
    )
    .with_help("add a `}` where the block ends; blocks close in the reverse order they open")
}

/// E0002: a quote that is never closed on its line.
pub fn unclosed_text(quote: Span) -> Diagnostic {
    Diagnostic::new(
        UNCLOSED,
        "this text is not closed",
        quote,
        "the text starts here",
    )
    .with_help("add a `\"` where the text ends; a text cannot run over several lines")
}

/// E0003: a date that is not in the calendar.
pub fn invalid_date(span: Span, raw: &str) -> Diagnostic {
    Diagnostic::new(
        INVALID_LITERAL,
        format!("`{raw}` is not a date in the calendar"),
        span,
        "no such day",
    )
    .with_help("write the date as `YYYY-MM-DD` with a day that exists in that month")
}

/// E0003: a time of day outside 00:00–23:59.
pub fn invalid_time_of_day(span: Span, raw: &str) -> Diagnostic {
    Diagnostic::new(
        INVALID_LITERAL,
        format!("`{raw}` is not a time of day"),
        span,
        "hours run from 00 to 23, minutes from 00 to 59",
    )
    .with_help("write the time as `HH:MM`, for example `08:00` or `21:30`")
}

/// E0003: a timestamp whose date or time does not exist.
pub fn invalid_timestamp(span: Span, raw: &str) -> Diagnostic {
    Diagnostic::new(
        INVALID_LITERAL,
        format!("`{raw}` is not a moment in time"),
        span,
        "no such date or time",
    )
    .with_help("write it as `2026-03-02T09:00:00Z` (or with an offset such as `+01:00`)")
}

fn join_or(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {}", init.join(", "), last),
    }
}
