//! Renders diagnostics for people through miette's graphical report (no I/O: returns a string).

use std::fmt;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};

use super::{Diagnostic, Severity};
use crate::source::{SourceFile, Sources};

/// How to draw diagnostics: colour only when the caller knows it writes to a terminal.
#[derive(Debug, Clone, Copy)]
pub struct RenderOptions {
    pub color: bool,
    pub width: usize,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            color: false,
            width: 100,
        }
    }
}

/// Renders each diagnostic with its source excerpt, labels and help, separated by blank lines.
pub fn render_human(
    diagnostics: &[Diagnostic],
    sources: &Sources,
    options: RenderOptions,
) -> String {
    let mut out = String::new();
    for diagnostic in diagnostics {
        let Some(file) = sources.get(diagnostic.span().file) else {
            continue;
        };
        // The code goes into the severity marker so the first line reads `error[E0102]: …`.
        let mut theme = if options.color {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        let code = diagnostic.code().as_str();
        theme.characters.error = format!("error[{code}]:");
        theme.characters.warning = format!("warning[{code}]:");
        theme.characters.advice = "note:".to_string();
        let handler = GraphicalReportHandler::new_themed(theme)
            .with_width(options.width)
            .with_links(false);
        let report = Report::new(diagnostic, file, sources);
        if handler.render_report(&mut out, &report).is_err() {
            // A rendering failure must not hide the problem: fall back to one plain line.
            let (line, column) = file.line_col(diagnostic.span().start as usize);
            out.push_str(&format!(
                "{}[{}]: {} at {}:{line}:{column}\n",
                diagnostic.severity().as_str(),
                diagnostic.code().as_str(),
                diagnostic.message(),
                file.name
            ));
        }
        out.push('\n');
    }
    out
}

/// A diagnostic together with the file it points into, as miette wants it.
struct Report {
    code: &'static str,
    message: String,
    severity: Severity,
    help: Option<String>,
    source: NamedSource<String>,
    labels: Vec<LabeledSpan>,
    related: Vec<Report>,
}

impl Report {
    fn new(diagnostic: &Diagnostic, file: &SourceFile, sources: &Sources) -> Report {
        let mut labels = vec![LabeledSpan::new_primary_with_span(
            Some(diagnostic.primary().message.clone()).filter(|m| !m.is_empty()),
            source_span(diagnostic.span(), file),
        )];
        let mut related = Vec::new();
        for label in diagnostic.secondary() {
            if label.span.file == file.id {
                labels.push(LabeledSpan::new_with_span(
                    Some(label.message.clone()),
                    source_span(label.span, file),
                ));
            } else if let Some(other) = sources.get(label.span.file) {
                related.push(Report {
                    code: "",
                    message: label.message.clone(),
                    severity: Severity::Warning,
                    help: None,
                    source: NamedSource::new(other.name.clone(), other.text.to_string()),
                    labels: vec![LabeledSpan::new_primary_with_span(
                        None,
                        source_span(label.span, other),
                    )],
                    related: Vec::new(),
                });
            }
        }
        Report {
            code: diagnostic.code().as_str(),
            message: diagnostic.message().to_string(),
            severity: diagnostic.severity(),
            help: diagnostic.help().map(str::to_string),
            source: NamedSource::new(file.name.clone(), file.text.to_string()),
            labels,
            related,
        }
    }
}

fn source_span(span: crate::source::Span, file: &SourceFile) -> SourceSpan {
    let start = (span.start as usize).min(file.text.len());
    let end = (span.end as usize).min(file.text.len()).max(start);
    SourceSpan::new(start.into(), end - start)
}

impl fmt::Debug for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Report")
            .field("code", &self.code)
            .field("message", &self.message)
            .finish()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Report {}

impl miette::Diagnostic for Report {
    // The code is drawn by the severity marker (see `render_human`), not as a header line.
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        None
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning if self.code.is_empty() => miette::Severity::Advice,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.related.is_empty() {
            None
        } else {
            Some(Box::new(
                self.related.iter().map(|r| r as &dyn miette::Diagnostic),
            ))
        }
    }
}
