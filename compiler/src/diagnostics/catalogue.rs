//! The catalogue of every diagnostic code: what it means, an example, and the fix.
//!
//! `maclc explain CODE` prints an entry and `docs/diagnostics.md` is generated from this list
//! (a test keeps the two in step). Codes are stable: never reuse or renumber one.
//! Ranges: `E00xx` syntax, `E01xx` names, `E02xx` types, `E03xx` rules and logic,
//! `E04xx` journeys, `E05xx` tests, `W0xxx` warnings.

use super::Code;

/// One catalogue entry.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    pub code: Code,
    /// The message's gist, lowercase, as in the diagnostics themselves.
    pub title: &'static str,
    /// What it means, for a marketer, in a sentence or two.
    pub explanation: &'static str,
    /// A small `.marketing` excerpt that triggers it.
    pub example: &'static str,
    /// The same excerpt fixed.
    pub fix: &'static str,
}

macro_rules! entries {
    ($( $name:ident = $code:literal, $title:literal, $explanation:literal, $example:literal, $fix:literal; )*) => {
        $( pub const $name: Code = Code($code); )*
        /// Every entry, in code order.
        pub const ENTRIES: &[Entry] = &[
            $( Entry { code: $name, title: $title, explanation: $explanation, example: $example, fix: $fix }, )*
        ];
    };
}

entries! {
    SYNTAX = "E0001", "the rules cannot be read here",
        "The file is not written in the shape the language expects at this point: a word is missing, misspelled or in the wrong place. The message says what was expected instead.",
        "score fit {\n  +15 wehn contact.job_title matches \"(?i)purchas\"\n}",
        "score fit {\n  +15 when contact.job_title matches \"(?i)purchas\"\n}";
    UNCLOSED = "E0002", "a block or text is not closed",
        "A `{`, `(`, `[` or `\"` was opened and never closed, so everything after it would be read as part of it.",
        "score fit {\n  +15 when contact.company_size >= 500\n",
        "score fit {\n  +15 when contact.company_size >= 500\n}";
    INVALID_LITERAL = "E0003", "this date or time does not exist",
        "A date must exist in the calendar (2026 has no 29 February) and a time of day runs from 00:00 to 23:59.",
        "quiet hours sms 21:00 to 25:00",
        "quiet hours sms 21:00 to 08:00";
}

/// The entry for a code, accepting `E0001`, `e1` or `1` (the letter defaults to `E`).
pub fn lookup(code: &str) -> Option<&'static Entry> {
    let wanted = code.trim().to_ascii_uppercase();
    let (letter, digits) = match wanted.strip_prefix(['E', 'W']) {
        Some(rest) => (wanted.chars().next(), rest),
        None => (Some('E'), wanted.as_str()),
    };
    let number: u32 = digits.parse().ok()?;
    ENTRIES.iter().find(|e| {
        let text = e.code.as_str();
        text.chars().next() == letter && text[1..].parse::<u32>().ok() == Some(number)
    })
}

/// The catalogue as Markdown, the content of `docs/diagnostics.md`.
pub fn to_markdown() -> String {
    let mut out = String::from(
        "# Diagnostics\n\nEvery message `maclc check` can print, with an example and its fix. \
         `maclc explain CODE` prints one entry. Codes starting with `E` are errors (the program \
         will not run); codes starting with `W` are warnings (`--deny-warnings` makes them fail CI).\n\n\
         This file is generated from `compiler/src/diagnostics/catalogue.rs`: run \
         `maclc explain --all > docs/diagnostics.md` after changing it.\n",
    );
    for entry in ENTRIES {
        out.push_str(&entry_markdown(entry));
    }
    out
}

/// One entry as Markdown (also what `maclc explain` prints).
pub fn entry_markdown(entry: &Entry) -> String {
    format!(
        "\n## {code}: {title}\n\n{explanation}\n\nFor example:\n\n```\n{example}\n```\n\nFixed:\n\n```\n{fix}\n```\n",
        code = entry.code.as_str(),
        title = entry.title,
        explanation = entry.explanation,
        example = entry.example,
        fix = entry.fix,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_ordered() {
        for pair in ENTRIES.windows(2) {
            assert!(
                pair[0].code.as_str() < pair[1].code.as_str(),
                "{} then {}",
                pair[0].code.as_str(),
                pair[1].code.as_str()
            );
        }
    }

    #[test]
    fn lookup_accepts_short_forms() {
        assert_eq!(lookup("e0001").map(|e| e.code), Some(SYNTAX));
        assert_eq!(lookup("1").map(|e| e.code), Some(SYNTAX));
        assert!(lookup("E9999").is_none());
    }
}
