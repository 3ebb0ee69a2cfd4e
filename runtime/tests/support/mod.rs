//! Helpers shared by the runtime's integration tests.

#![allow(dead_code)]

use std::path::Path;

use maclc_compiler::source::Sources;

/// Checks the project in `dir` (relative to the repository root) and asserts it has no errors.
pub fn load_project(dir: &str) -> maclc_compiler::Analysis {
    load_project_with(dir, &[])
}

/// [`load_project`] with more sources (name, text) added after the project's files.
pub fn load_project_with(dir: &str, extra: &[(&str, &str)]) -> maclc_compiler::Analysis {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(dir);
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{e}"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "marketing"))
        .collect();
    names.sort();
    let mut sources = Sources::new();
    for path in names {
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
        sources.add(path.display().to_string(), text);
    }
    for (name, text) in extra {
        sources.add(name.to_string(), text.to_string());
    }
    let analysis = maclc_compiler::analyze(&sources);
    assert!(!analysis.has_errors(), "{:#?}", analysis.diagnostics);
    analysis
}

/// What a contact the test knows nothing about holds: every field missing, every score 0, in
/// no segment, consent unknown; [`BlankContact::scope`] evaluates conditions against it.
pub struct BlankContact {
    profile: Vec<maclc_runtime::eval::Val>,
    scores: Vec<f64>,
    segments: Vec<bool>,
    consent: Vec<maclc_compiler::check::ConsentState>,
}

impl BlankContact {
    pub fn new(ir: &maclc_compiler::ir::Ir) -> BlankContact {
        BlankContact {
            profile: ir
                .contact_slots
                .iter()
                .map(|_| maclc_runtime::eval::Val::Missing)
                .collect(),
            scores: vec![0.0; ir.scores.len()],
            segments: vec![false; ir.segments.len()],
            consent: vec![maclc_compiler::check::ConsentState::Unknown; ir.channels.len()],
        }
    }

    /// The contact `c` with no event, at time 0, outside any stage and journey.
    pub fn scope<'a>(&'a self, ir: &'a maclc_compiler::ir::Ir) -> maclc_runtime::eval::Scope<'a> {
        maclc_runtime::eval::Scope {
            ir,
            contact_id: "c",
            profile: &self.profile,
            account: &[],
            account_scores: &[],
            consent: &self.consent,
            scores: &self.scores,
            segments: &self.segments,
            history: &[],
            event: None,
            now: 0,
            stage: None,
            entry: None,
        }
    }
}
