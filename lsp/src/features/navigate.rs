//! Go to definition, find references and rename across the files of a project.

use std::collections::HashMap;

use maclc_compiler::check::Symbol;
use maclc_compiler::source::{FileId, Span};
use tower_lsp_server::ls_types::{Location, Range, TextEdit, Uri, WorkspaceEdit};

use super::describe::{kind_word, name_of, namespace};
use super::diagnostics::{span_location, span_range};
use super::hover::occurrence_at;
use crate::world::ProjectView;

pub fn definition(view: &ProjectView, file: FileId, offset: usize) -> Option<Location> {
    let (_, symbol) = occurrence_at(view, file, offset)?;
    let span = view.analysis.program.definition_of(symbol)?;
    span_location(view, span)
}

/// Every place the symbol under `offset` is written, its declaration first when asked.
pub fn references(
    view: &ProjectView,
    file: FileId,
    offset: usize,
    include_declaration: bool,
) -> Vec<Location> {
    let Some((_, symbol)) = occurrence_at(view, file, offset) else {
        return Vec::new();
    };
    occurrences(view, symbol, include_declaration)
        .into_iter()
        .filter_map(|span| span_location(view, span))
        .collect()
}

fn occurrences(view: &ProjectView, symbol: Symbol, include_declaration: bool) -> Vec<Span> {
    let program = &view.analysis.program;
    let mut spans: Vec<Span> = Vec::new();
    if include_declaration {
        spans.extend(program.definition_of(symbol));
    }
    spans.extend(program.references_to(symbol));
    spans.sort_by_key(|s| (s.file, s.start, s.end));
    spans.dedup();
    spans
}

/// Why a rename cannot be done, in the marketer's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenameRefused(pub String);

/// The range of the name that would be renamed at `offset`.
pub fn prepare_rename(
    view: &ProjectView,
    file: FileId,
    offset: usize,
) -> Result<Range, RenameRefused> {
    let (span, symbol) = occurrence_at(view, file, offset)
        .ok_or_else(|| RenameRefused("there is no name here to rename".into()))?;
    if view.analysis.program.definition_of(symbol).is_none() {
        let name = view
            .sources
            .get(span.file)
            .map(|f| f.slice(span))
            .unwrap_or("");
        return Err(RenameRefused(format!(
            "`{name}` is built in and cannot be renamed"
        )));
    }
    Ok(span_range(view, span))
}

const RESERVED: [&str; 11] = [
    "and",
    "or",
    "not",
    "true",
    "false",
    "is",
    "known",
    "unknown",
    "in",
    "otherwise",
    "else",
];

pub fn rename(
    view: &ProjectView,
    file: FileId,
    offset: usize,
    new_name: &str,
) -> Result<WorkspaceEdit, RenameRefused> {
    prepare_rename(view, file, offset)?;
    let (_, symbol) = occurrence_at(view, file, offset)
        .ok_or_else(|| RenameRefused("there is no name here to rename".into()))?;
    let valid = new_name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && new_name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(RenameRefused(format!(
            "`{new_name}` is not a name: use letters, digits and `_`, starting with a letter"
        )));
    }
    if RESERVED.contains(&new_name) {
        return Err(RenameRefused(format!(
            "`{new_name}` is a word of the language and cannot be a name"
        )));
    }
    let program = &view.analysis.program;
    let space = namespace(symbol);
    let clash = program.definitions.iter().find(|(span, other)| {
        *other != symbol
            && namespace(*other) == space
            && view.sources.get(span.file).map(|f| f.slice(*span)) == Some(new_name)
    });
    if let Some((span, other)) = clash {
        let (line, _) = view
            .sources
            .get(span.file)
            .map_or((0, 0), |f| f.line_col(span.start as usize));
        let file_name = view
            .paths
            .get(span.file.0 as usize)
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        return Err(RenameRefused(format!(
            "`{new_name}` is already the name of a {} ({file_name}, line {line}): choose another name",
            kind_word(*other)
        )));
    }
    if name_of(view, symbol).as_deref() == Some(new_name) {
        return Ok(WorkspaceEdit::default());
    }
    let mut changes: HashMap<Uri, Vec<TextEdit>> = HashMap::new();
    if let Some((at, old)) = keep_wire_name(view, symbol) {
        if let Some(uri) = view.uri(at.file) {
            changes.entry(uri.clone()).or_default().push(TextEdit::new(
                span_range(view, at),
                format!(" from {old:?}"),
            ));
        }
    }
    for span in occurrences(view, symbol, true) {
        let Some(uri) = view.uri(span.file) else {
            continue;
        };
        changes
            .entry(uri.clone())
            .or_default()
            .push(TextEdit::new(span_range(view, span), new_name.to_string()));
    }
    Ok(WorkspaceEdit::new(changes))
}

/// A field read from incoming records under its own name (no `from`) would be read under the
/// new name after a rename, silently changing what the rules see: the rename writes
/// `from "old_name"` after the type so the field keeps reading the same data.
fn keep_wire_name(view: &ProjectView, symbol: Symbol) -> Option<(Span, String)> {
    use maclc_compiler::syntax::ast::ItemKind;
    if !matches!(
        symbol,
        Symbol::ContactField(_) | Symbol::EventProperty(..) | Symbol::AccountField(..)
    ) {
        return None;
    }
    let definition = view.analysis.program.definition_of(symbol)?;
    let parsed = view.parsed(definition.file)?;
    let decl = parsed.ast.items.iter().find_map(|item| {
        let fields = match &item.kind {
            ItemKind::Contact(r) => &r.fields,
            ItemKind::Account(a) => &a.fields,
            ItemKind::Event(e) => &e.properties,
            _ => return None,
        };
        fields.iter().find(|f| f.name.span == definition)
    })?;
    if decl.wire_name.is_some() {
        return None;
    }
    let end = decl.ty.span.end as usize;
    Some((Span::new(definition.file, end, end), decl.name.name.clone()))
}
