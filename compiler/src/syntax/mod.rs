//! Syntax: `.marketing` text to an untyped tree, with every syntax error found.

pub mod ast;
pub mod comments;
pub mod errors;
mod parser;
mod recovery;

pub use comments::{scan_comments, Comment};
pub use parser::parse_file;

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
