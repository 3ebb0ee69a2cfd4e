//! The maclc compiler: `.marketing` sources to a checked program, as a pure library.
//!
//! Stages, each visible in the types: [`syntax`] (text → untyped [`syntax::ast`] plus syntax
//! diagnostics), [`check`] (untyped trees of a project → a checked [`check::Program`] plus
//! diagnostics, partial when there are errors), and [`fmt`] (the canonical layout).
//! **Architecture invariant:** this crate does no file, network or terminal I/O; callers hand it
//! [`source::Sources`] and print what it returns.

pub mod artefact;
pub mod calendar;
pub mod check;
pub mod codegen;
pub mod diagnostics;
pub mod fmt;
pub mod ir;
pub mod source;
pub mod syntax;

use diagnostics::Diagnostic;
use source::Sources;
use syntax::ParsedFile;

/// Everything known about a project after checking: one parsed file per source, the checked
/// program (partial if there were errors) and every diagnostic, sorted by place.
#[derive(Debug)]
pub struct Analysis {
    pub parsed: Vec<ParsedFile>,
    pub program: check::Program,
    pub diagnostics: Vec<Diagnostic>,
}

impl Analysis {
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity() == diagnostics::Severity::Error)
    }
}

/// Parses and checks every file in `sources` as one project.
pub fn analyze(sources: &Sources) -> Analysis {
    let parsed: Vec<ParsedFile> = sources
        .iter()
        .map(|file| syntax::parse_file(file))
        .collect();
    analyze_parsed(sources, parsed)
}

/// Checks files already parsed (one per source, in the same order), e.g. by a loader that had to
/// parse them to find their imports.
pub fn analyze_parsed(sources: &Sources, parsed: Vec<ParsedFile>) -> Analysis {
    let checked = check::check(sources, &parsed);
    let mut all: Vec<Diagnostic> = parsed
        .iter()
        .flat_map(|p| p.diagnostics.iter().cloned())
        .collect();
    all.extend(checked.diagnostics);
    diagnostics::sort_diagnostics(&mut all);
    Analysis {
        parsed,
        program: checked.program,
        diagnostics: all,
    }
}
