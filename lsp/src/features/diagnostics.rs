//! The compiler's diagnostics as LSP diagnostics: same code, message and help as `maclc check`,
//! secondary labels as related locations.

use maclc_compiler::diagnostics::{Diagnostic, Severity};
use maclc_compiler::source::{FileId, Span};
use tower_lsp_server::ls_types::{
    self as lsp, DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString,
};

use crate::position::range_of;
use crate::world::ProjectView;

/// The LSP range of a span of the project.
pub fn span_range(view: &ProjectView, span: Span) -> lsp::Range {
    range_of(view.text(span.file), span.start as usize, span.end as usize)
}

pub fn span_location(view: &ProjectView, span: Span) -> Option<Location> {
    Some(Location::new(
        view.uri(span.file)?.clone(),
        span_range(view, span),
    ))
}

/// Every diagnostic of the project whose primary label is in `file`, converted.
pub fn for_file(view: &ProjectView, file: FileId) -> Vec<lsp::Diagnostic> {
    view.analysis
        .diagnostics
        .iter()
        .filter(|d| d.span().file == file)
        .map(|d| convert(view, d))
        .collect()
}

pub fn convert(view: &ProjectView, d: &Diagnostic) -> lsp::Diagnostic {
    let mut message = d.message().to_string();
    if !d.primary().message.is_empty() {
        message.push_str(&format!("\n{}", d.primary().message));
    }
    if let Some(help) = d.help() {
        message.push_str(&format!("\nhelp: {help}"));
    }
    let related: Vec<DiagnosticRelatedInformation> = d
        .secondary()
        .iter()
        .filter_map(|label| {
            Some(DiagnosticRelatedInformation {
                location: span_location(view, label.span)?,
                message: label.message.clone(),
            })
        })
        .collect();
    lsp::Diagnostic {
        range: span_range(view, d.span()),
        severity: Some(match d.severity() {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
        }),
        code: Some(NumberOrString::String(d.code().as_str().to_string())),
        source: Some("maclc".to_string()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        ..lsp::Diagnostic::default()
    }
}
