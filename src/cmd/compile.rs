//! `maclc compile`: checks a project and writes it as one compiled program file (its IR, its
//! sources and their content hash; `maclc_compiler::artefact` has the format), which
//! `maclc run --program`, `maclc test --program` and `maclc inspect` read.

use std::path::{Path, PathBuf};

use maclc_compiler::artefact::{self, Artefact, Manifest};
use maclc_compiler::source::Sources;
use maclc_compiler::Analysis;

use super::{EXIT_FAILURE, EXIT_OK, EXIT_USAGE};
use crate::project;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The project: a folder of `.marketing` files (default: this folder)
    #[arg(value_name = "PROJECT")]
    project: Option<PathBuf>,
    /// Where to write the compiled program (for example `acme.maclc`)
    #[arg(short = 'o', long = "output", value_name = "FILE", required = true)]
    output: PathBuf,
}

pub fn run(args: &Args) -> u8 {
    match compile(args) {
        Ok(()) => EXIT_OK,
        Err((code, message)) => {
            eprintln!("error: {message}");
            code
        }
    }
}

fn compile(args: &Args) -> Result<(), (u8, String)> {
    let named: Vec<PathBuf> = args.project.iter().cloned().collect();
    let projects = project::projects_named(&named).map_err(|e| (EXIT_USAGE, e.0))?;
    let files = match projects.as_slice() {
        [one] => one,
        many => {
            let place = args
                .project
                .as_deref()
                .map_or(".".to_string(), project::display_name);
            return Err((
                EXIT_USAGE,
                format!(
                    "`{place}` holds {} projects (its subfolders); compile one of them at a time",
                    many.len()
                ),
            ));
        }
    };
    let loaded = project::load(files).map_err(|e| (EXIT_USAGE, e.0))?;
    let texts = project::source_texts(&loaded.sources).map_err(|e| (EXIT_USAGE, e.0))?;
    let analysis = maclc_compiler::analyze_parsed(&loaded.sources, loaded.parsed);
    if !analysis.diagnostics.is_empty() {
        // Warnings are shown but do not stop the compilation, as for `maclc check`.
        super::eprint_diagnostics(&analysis.diagnostics, &loaded.sources);
    }
    if analysis.has_errors() {
        return Err((
            EXIT_FAILURE,
            "the project has errors (above); nothing was compiled".into(),
        ));
    }
    let ir = maclc_compiler::ir::lower_with(&analysis.program, &maclc_runtime::zone::load_zone)
        .map_err(|e| (EXIT_FAILURE, format!("cannot compile this project: {e}")))?;
    let artefact = Artefact::new(texts, manifest(&analysis), ir);
    let bytes = artefact::encode(&artefact).map_err(|e| (EXIT_FAILURE, e.to_string()))?;
    std::fs::write(&args.output, &bytes).map_err(|e| {
        (
            EXIT_USAGE,
            format!(
                "cannot write `{}`: {e}",
                project::display_name(&args.output)
            ),
        )
    })?;
    println!(
        "compiled {} files into `{}` ({} bytes, content hash {})",
        artefact.files.len(),
        project::display_name(&args.output),
        bytes.len(),
        short_hash(&artefact)
    );
    Ok(())
}

/// The names `maclc inspect` lists.
fn manifest(analysis: &Analysis) -> Manifest {
    let program = &analysis.program;
    Manifest {
        scores: program.scores.iter().map(|s| s.name.clone()).collect(),
        segments: program.segments.iter().map(|s| s.name.clone()).collect(),
        journeys: program.journeys.iter().map(|j| j.name.clone()).collect(),
        tests: program.tests.iter().map(|t| t.name.clone()).collect(),
    }
}

/// The first 12 hexadecimal digits of the content hash: enough to tell programs apart by eye.
pub fn short_hash(artefact: &Artefact) -> String {
    let full = artefact.content_hash_hex();
    full.get(..12).unwrap_or(&full).to_string()
}

/// Reads and decodes a compiled program file; the error is a sentence for the user.
pub fn read_program(path: &Path) -> Result<Artefact, String> {
    let name = project::display_name(path);
    let bytes = std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => format!("`{name}` does not exist"),
        _ => format!("cannot read `{name}`: {e}"),
    })?;
    artefact::decode(&bytes).map_err(|e| format!("`{name}`: {e}"))
}

/// The sources a compiled program carries, checked again (for its tests, and for `--explain`,
/// which quote the rules as written). They checked when compiled; if this maclc finds errors
/// in them, they are shown and the program is refused.
pub fn recheck(artefact: &Artefact, name: &str) -> Result<(Sources, Analysis), String> {
    let mut sources = Sources::new();
    for file in &artefact.files {
        sources.add(file.name.clone(), file.text.clone());
    }
    let analysis = maclc_compiler::analyze(&sources);
    if analysis.has_errors() {
        super::eprint_diagnostics(&analysis.diagnostics, &sources);
        return Err(format!(
            "the sources inside `{name}` do not check with this maclc (above); compile them \
             again with `maclc compile`"
        ));
    }
    Ok((sources, analysis))
}
