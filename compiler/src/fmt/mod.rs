//! `maclc fmt`: the one canonical layout of `.marketing` files.
//!
//! The formatter re-prints the untyped tree ([`crate::syntax::ast`]) and puts every comment
//! back by source position, so formatting never changes what a file means and never drops a
//! comment; formatting twice gives the same text as formatting once.
//!
//! The layout:
//! - two-space indentation, `{` on the header line, `}` alone on its line (`{}` when empty),
//!   one statement a line; single spaces around operators, `=>` and `=`, one after commas;
//! - one blank line between top-level items, except that consecutive one-line items of one kind
//!   (`import`, `const`, `channel`, `queue`, `event` without fields, `account score`, `cap`,
//!   `quiet hours`, template uses) stay together; inside blocks, at most one blank line where
//!   the user had one, none at the top or bottom of a block;
//! - literals as written (`1_000`, `12.5%`, `2026-01-01`), money spaced as `10 EUR`, names and
//!   titles re-quoted; parentheses only where the tree needs them, plus around an `and`/`or`
//!   condition after an aggregate's `where`;
//! - a condition that would pass 100 columns breaks before each top-level `and`/`or`, with a
//!   four-space continuation; `{ … }` value lists, enums, lists of `const`/`queue` and template
//!   parameters go one entry a line when too long or when they hold comments;
//! - the user's choices that the tree does not record are read back from the source: a branch
//!   written as a block stays a block, `else if` stays `else if`;
//! - comments: on their own line before the statement that follows them, at the end of the line
//!   they ended, `///` kept right above its item; a comment inside a statement printed on one
//!   line (a condition that was spread over lines) moves above that statement.
//!
//! Optional words are normalised: `enters segment x`, `defer` (the default) left out, a date
//! trigger without `on`, `wait until EVENT` without `on` (unless the event is named like a day).

mod expr;
mod layout;
mod printer;
#[cfg(test)]
mod tests;

use crate::source::SourceFile;
use crate::syntax::ParsedFile;

/// Formats a file that parsed without syntax errors (the caller checks; a tree with error
/// recovery holes would print with pieces missing).
pub fn format_file(source: &SourceFile, parsed: &ParsedFile) -> String {
    let mut formatter = layout::Formatter::new(&source.text, &parsed.comments);
    formatter.file(&parsed.ast);
    formatter.finish()
}
