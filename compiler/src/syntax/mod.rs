//! Syntax: `.marketing` text to an untyped tree, with every syntax error found.

pub mod ast;
pub mod comments;
pub mod errors;
mod parser;
mod recovery;

pub use comments::{scan_comments, Comment};
pub use parser::parse_file;

/// A duration written as in the language (`30m`, `48h`, `7d`, `2w`, `3mo`, `1y`, `500ms`,
/// `10s`), in milliseconds; `None` for anything else or an amount too large to hold. For
/// command-line options, so they read durations the way `.marketing` files do.
pub fn parse_duration(text: &str) -> Option<i64> {
    let digits_end = text.find(|c: char| !c.is_ascii_digit())?;
    let (digits, unit) = text.split_at(digits_end);
    if digits.is_empty() {
        return None;
    }
    let amount: i64 = digits.parse().ok()?;
    let unit: i64 = match unit {
        "ms" => 1,
        "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        "w" => 7 * 86_400_000,
        "mo" => 30 * 86_400_000,
        "y" => 365 * 86_400_000,
        _ => return None,
    };
    amount.checked_mul(unit)
}

use crate::diagnostics::Diagnostic;
use crate::source::FileId;

/// What parsing one file gives: the tree (partial when there were errors), the comments and
/// the syntax diagnostics. Parsing never stops at the first error.
#[derive(Debug, Clone)]
pub struct ParsedFile {
    pub file: FileId,
    pub ast: ast::File,
    pub comments: Vec<Comment>,
    pub diagnostics: Vec<Diagnostic>,
}

impl ParsedFile {
    /// The paths named by `import` items, as written.
    pub fn imports(&self) -> impl Iterator<Item = &ast::StrLit> {
        self.ast.items.iter().filter_map(|item| match &item.kind {
            ast::ItemKind::Import(import) => Some(&import.path),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::parse_duration;

    #[test]
    fn durations_as_in_the_language() {
        assert_eq!(parse_duration("10m"), Some(600_000));
        assert_eq!(parse_duration("2h"), Some(7_200_000));
        assert_eq!(parse_duration("7d"), Some(604_800_000));
        assert_eq!(parse_duration("500ms"), Some(500));
        assert_eq!(parse_duration("1mo"), Some(2_592_000_000));
        assert_eq!(parse_duration("0s"), Some(0));
        for bad in [
            "",
            "10",
            "m",
            "-1h",
            "1.5h",
            "1 h",
            "1H",
            "2x",
            "99999999999999999999d",
        ] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }
}
