//! The checker: untyped trees of a project to a checked program (placeholder until the checker lands).

use crate::diagnostics::Diagnostic;
use crate::source::Sources;
use crate::syntax::ParsedFile;

/// The checked program.
#[derive(Debug, Default)]
pub struct Program {}

/// What checking gives: the program (partial on errors) and the diagnostics.
#[derive(Debug, Default)]
pub struct CheckResult {
    pub program: Program,
    pub diagnostics: Vec<Diagnostic>,
}

pub fn check(_sources: &Sources, _parsed: &[ParsedFile]) -> CheckResult {
    CheckResult::default()
}
