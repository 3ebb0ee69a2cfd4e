//! Formatter unit tests: the layout of small pieces, and that formatting keeps the meaning.

use crate::source::Sources;
use crate::syntax::parse_file;

/// Formats `text`, which must parse without errors.
pub(crate) fn format_text(text: &str) -> String {
    let mut sources = Sources::new();
    let id = sources.add("test.marketing", text);
    let Some(file) = sources.get(id) else { return String::new() };
    let parsed = parse_file(file);
    assert!(parsed.diagnostics.is_empty(), "syntax errors in the input: {:?}", parsed.diagnostics);
    super::format_file(file, &parsed)
}

#[test]
fn dev_print() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/check/syntax/every-construct.marketing")).unwrap_or_default();
    println!("{}", format_text(&text));
}
