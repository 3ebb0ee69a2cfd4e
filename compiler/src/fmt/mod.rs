//! `maclc fmt`: the one canonical layout of `.marketing` files.
//!
//! The formatter re-prints the untyped tree ([`crate::syntax::ast`]) and puts every comment
//! back by source position, so formatting never changes what a file means and never drops a
//! comment; formatting twice gives the same text as formatting once.
//!
//! The layout, in short: two-space indentation, `{` on the header line, one statement a line,
//! single spaces around operators and after commas, one blank line between top-level items
//! (one-line items of the same kind stay together), at most one blank line kept between
//! statements, literals as written, and a condition too long for 100 columns broken before each
//! top-level `and`/`or` with a four-space continuation.

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
