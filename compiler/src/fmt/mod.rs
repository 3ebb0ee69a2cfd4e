//! The canonical layout of `.marketing` files (placeholder until the formatter lands).

use crate::source::SourceFile;
use crate::syntax::ParsedFile;

/// Formats a file that parsed without errors; returns the text unchanged otherwise.
pub fn format_file(source: &SourceFile, _parsed: &ParsedFile) -> String {
    source.text.to_string()
}
