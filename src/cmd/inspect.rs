//! `maclc inspect`: what a compiled program file holds (versions, content hash, files, and the
//! scores, segments, journeys and tests in it), read without running anything.

use std::path::PathBuf;

use maclc_compiler::artefact::FORMAT_VERSION;

use super::compile::read_program;
use super::{EXIT_OK, EXIT_USAGE};
use crate::project;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A compiled program, written by `maclc compile`
    #[arg(value_name = "FILE")]
    file: PathBuf,
}

pub fn run(args: &Args) -> u8 {
    let artefact = match read_program(&args.file) {
        Ok(artefact) => artefact,
        Err(message) => {
            eprintln!("error: {message}");
            return EXIT_USAGE;
        }
    };
    let size = std::fs::metadata(&args.file).map_or(0, |m| m.len());
    let manifest = &artefact.manifest;
    let ir = &artefact.ir;
    let mut out = String::new();
    out.push_str(&format!(
        "{} — a compiled maclc program\n",
        project::display_name(&args.file)
    ));
    out.push_str(&format!(
        "  size          {size} bytes\n  format        {FORMAT_VERSION}\n"
    ));
    out.push_str(&format!(
        "  compiled by   maclc {}\n",
        artefact.compiler_version
    ));
    out.push_str(&format!(
        "  content hash  sha256:{}\n",
        artefact.content_hash_hex()
    ));
    out.push_str(&format!("\nfiles ({})\n", artefact.files.len()));
    let width = artefact
        .files
        .iter()
        .map(|f| f.name.len())
        .max()
        .unwrap_or(0);
    for file in &artefact.files {
        out.push_str(&format!(
            "  {:width$}  {} lines\n",
            file.name,
            file.text.lines().count()
        ));
    }
    let events: Vec<String> = ir.events.iter().map(|e| e.name.clone()).collect();
    let tests: Vec<String> = manifest.tests.iter().map(|t| format!("\"{t}\"")).collect();
    for (what, names) in [
        ("events", &events),
        ("scores", &manifest.scores),
        ("segments", &manifest.segments),
        ("journeys", &manifest.journeys),
        ("tests", &tests),
    ] {
        out.push_str(&format!("\n{what} ({})\n", names.len()));
        for name in names {
            out.push_str(&format!("  {name}\n"));
        }
    }
    print!("{out}");
    EXIT_OK
}
