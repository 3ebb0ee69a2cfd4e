//! Whole-document requests: formatting (the `maclc fmt` layout), the outline (document
//! symbols), folding ranges, and code actions (a diagnostic's fix as a quick fix).

use std::collections::HashMap;

use maclc_compiler::source::{FileId, Span};
use maclc_compiler::syntax::ast::{Item, ItemKind};
use tower_lsp_server::ls_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, DocumentSymbol, FoldingRange,
    FoldingRangeKind, Range, SymbolKind, TextEdit, WorkspaceEdit,
};

use super::diagnostics::{convert, span_range};
use crate::position::range_of;
use crate::world::ProjectView;

/// Why a document cannot be formatted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatRefused(pub String);

/// The edits that give `file` the canonical layout; none when it already has it. A file with
/// syntax errors is left alone (the tree has holes where the errors were).
pub fn format(view: &ProjectView, file: FileId) -> Result<Vec<TextEdit>, FormatRefused> {
    let (Some(source), Some(parsed)) = (view.sources.get(file), view.parsed(file)) else {
        return Ok(Vec::new());
    };
    if !parsed.diagnostics.is_empty() {
        return Err(FormatRefused(
            "this file has syntax errors: fix them, then format".into(),
        ));
    }
    let formatted = maclc_compiler::fmt::format_file(source, parsed);
    if formatted == *source.text {
        return Ok(Vec::new());
    }
    Ok(vec![TextEdit::new(
        range_of(&source.text, 0, source.text.len()),
        formatted,
    )])
}

fn item_name(item: &Item) -> (String, SymbolKind) {
    let name = |i: &maclc_compiler::syntax::ast::Ident| i.name.clone();
    match &item.kind {
        ItemKind::Import(i) => (format!("import {:?}", i.path.value), SymbolKind::FILE),
        ItemKind::Const(c) => (name(&c.name), SymbolKind::CONSTANT),
        ItemKind::Enum(e) => (name(&e.name), SymbolKind::ENUM),
        ItemKind::Channel(c) => (name(&c.name), SymbolKind::INTERFACE),
        ItemKind::DefaultTimeZone(_) => ("default time zone".into(), SymbolKind::PROPERTY),
        ItemKind::Contact(_) => ("contact".into(), SymbolKind::STRUCT),
        ItemKind::Account(a) => (name(&a.name), SymbolKind::STRUCT),
        ItemKind::Event(e) => (name(&e.name), SymbolKind::EVENT),
        ItemKind::Table(t) => (name(&t.name), SymbolKind::STRUCT),
        ItemKind::Score(s) => (name(&s.name), SymbolKind::VARIABLE),
        ItemKind::AccountScore(s) => (name(&s.name), SymbolKind::VARIABLE),
        ItemKind::Segment(s) => (name(&s.name), SymbolKind::CLASS),
        ItemKind::Lifecycle(_) => ("lifecycle".into(), SymbolKind::ENUM),
        ItemKind::Queue(q) => (name(&q.name), SymbolKind::MODULE),
        ItemKind::Route(r) => (name(&r.name), SymbolKind::MODULE),
        ItemKind::Journey(j) => (name(&j.name), SymbolKind::FUNCTION),
        ItemKind::Template(t) => (name(&t.name), SymbolKind::FUNCTION),
        ItemKind::JourneyInstance(j) => (name(&j.name), SymbolKind::FUNCTION),
        ItemKind::QuietHours(_) => ("quiet hours".into(), SymbolKind::PROPERTY),
        ItemKind::Cap(c) => (format!("cap {}", c.channel.name), SymbolKind::PROPERTY),
        ItemKind::Test(t) => (t.name.value.clone(), SymbolKind::METHOD),
    }
}

fn selection(item: &Item) -> Span {
    match &item.kind {
        ItemKind::Const(c) => c.name.span,
        ItemKind::Enum(e) => e.name.span,
        ItemKind::Channel(c) => c.name.span,
        ItemKind::Account(a) => a.name.span,
        ItemKind::Event(e) => e.name.span,
        ItemKind::Table(t) => t.name.span,
        ItemKind::Score(s) => s.name.span,
        ItemKind::AccountScore(s) => s.name.span,
        ItemKind::Segment(s) => s.name.span,
        ItemKind::Queue(q) => q.name.span,
        ItemKind::Route(r) => r.name.span,
        ItemKind::Journey(j) => j.name.span,
        ItemKind::Template(t) => t.name.span,
        ItemKind::JourneyInstance(j) => j.name.span,
        ItemKind::Test(t) => t.name.span,
        _ => item.span,
    }
}

/// The outline: one symbol per item, with the fields of records and the stages of the
/// lifecycle under them.
#[allow(deprecated)] // `DocumentSymbol::deprecated` must be written out; it is `None`
pub fn symbols(view: &ProjectView, file: FileId) -> Vec<DocumentSymbol> {
    let Some(parsed) = view.parsed(file) else {
        return Vec::new();
    };
    let symbol = |name: String, kind: SymbolKind, detail: Option<String>, span: Span, sel: Span| {
        let range = span_range(view, span);
        let mut selection_range = span_range(view, sel);
        if selection_range.start < range.start || selection_range.end > range.end {
            selection_range = range;
        }
        DocumentSymbol {
            name: if name.is_empty() {
                "(unnamed)".into()
            } else {
                name
            },
            detail,
            kind,
            tags: None,
            deprecated: None,
            range,
            selection_range,
            children: None,
        }
    };
    parsed
        .ast
        .items
        .iter()
        .map(|item| {
            let (name, kind) = item_name(item);
            let mut s = symbol(
                name,
                kind,
                Some(item.kind.describe().to_string()),
                item.span,
                selection(item),
            );
            let fields = match &item.kind {
                ItemKind::Contact(r) => Some(&r.fields),
                ItemKind::Account(a) => Some(&a.fields),
                ItemKind::Event(e) => Some(&e.properties),
                ItemKind::Table(t) => Some(&t.columns),
                _ => None,
            };
            if let Some(fields) = fields {
                let children: Vec<DocumentSymbol> = fields
                    .iter()
                    .map(|f| {
                        let ty = format!(
                            "{}{}{}",
                            if f.optional { "optional " } else { "" },
                            if f.ty.is_list { "list of " } else { "" },
                            f.ty.name.name
                        );
                        symbol(
                            f.name.name.clone(),
                            SymbolKind::FIELD,
                            Some(ty),
                            f.span,
                            f.name.span,
                        )
                    })
                    .collect();
                if !children.is_empty() {
                    s.children = Some(children);
                }
            }
            s
        })
        .collect()
}

/// Folding: every item spread over lines, and runs of whole-line comments.
pub fn folding(view: &ProjectView, file: FileId) -> Vec<FoldingRange> {
    let Some(parsed) = view.parsed(file) else {
        return Vec::new();
    };
    let text = view.text(file);
    let mut ranges = Vec::new();
    for item in &parsed.ast.items {
        let r = range_of(text, item.span.start as usize, item.span.end as usize);
        if r.end.line > r.start.line {
            ranges.push(FoldingRange {
                start_line: r.start.line,
                end_line: r.end.line,
                ..FoldingRange::default()
            });
        }
    }
    let mut run: Option<(u32, u32)> = None;
    for comment in parsed.comments.iter().filter(|c| c.own_line) {
        let line = range_of(
            text,
            comment.span.start as usize,
            comment.span.start as usize,
        )
        .start
        .line;
        run = match run {
            Some((first, last)) if last + 1 == line => Some((first, line)),
            Some((first, last)) => {
                push_comment_fold(&mut ranges, first, last);
                Some((line, line))
            }
            None => Some((line, line)),
        };
    }
    if let Some((first, last)) = run {
        push_comment_fold(&mut ranges, first, last);
    }
    ranges.sort_by_key(|r| (r.start_line, r.end_line));
    ranges
}

fn push_comment_fold(ranges: &mut Vec<FoldingRange>, first: u32, last: u32) {
    if last > first {
        ranges.push(FoldingRange {
            start_line: first,
            end_line: last,
            kind: Some(FoldingRangeKind::Comment),
            ..FoldingRange::default()
        });
    }
}

/// Quick fixes: every diagnostic of `file` on the lines of `range` that carries a fix (the
/// did-you-mean of an unknown name, "add an `otherwise` rule" for a routing without a fallback).
/// Lines rather than exact ranges, so the fix is offered wherever the cursor is on that line.
pub fn code_actions(view: &ProjectView, file: FileId, range: Range) -> Vec<CodeActionOrCommand> {
    let mut actions = Vec::new();
    for d in view
        .analysis
        .diagnostics
        .iter()
        .filter(|d| d.span().file == file)
    {
        let Some(fix) = d.fix() else {
            continue;
        };
        let diagnostic = convert(view, d);
        let touches = diagnostic.range.start.line <= range.end.line
            && range.start.line <= diagnostic.range.end.line;
        if !touches {
            continue;
        }
        let Some(uri) = view.uri(fix.span.file) else {
            continue;
        };
        let edit = TextEdit::new(span_range(view, fix.span), fix.replacement.clone());
        let mut changes = HashMap::new();
        changes.insert(uri.clone(), vec![edit]);
        actions.push(CodeActionOrCommand::CodeAction(CodeAction {
            title: fix.title.clone(),
            kind: Some(CodeActionKind::QUICKFIX),
            diagnostics: Some(vec![diagnostic]),
            edit: Some(WorkspaceEdit::new(changes)),
            is_preferred: Some(true),
            ..CodeAction::default()
        }));
    }
    actions
}
