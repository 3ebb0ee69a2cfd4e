//! The pest parser and the builder from pest pairs to the untyped tree.

use pest_derive::Parser;

use super::ParsedFile;
use crate::source::SourceFile;

#[derive(Parser)]
#[grammar = "syntax/grammar.pest"]
pub(crate) struct MarketingParser;

pub fn parse_file(source: &SourceFile) -> ParsedFile {
    ParsedFile {
        file: source.id,
        ast: Default::default(),
        comments: super::scan_comments(source.id, &source.text),
        diagnostics: Vec::new(),
    }
}
