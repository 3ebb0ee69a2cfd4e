//! `maclc test`: runs the `test` blocks of a project through the runtime's engine and says
//! which expectations do not hold.

use std::path::PathBuf;

use super::{EXIT_FAILURE, EXIT_OK, EXIT_USAGE};
use crate::project;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The project: a folder of `.marketing` files (or files named one by one); default: here
    #[arg(value_name = "PROJECT")]
    project: Vec<PathBuf>,
}

pub fn run(args: &Args) -> u8 {
    let paths = if args.project.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.project.clone()
    };
    let files = match project::find_files(&paths) {
        Ok(files) if !files.is_empty() => files,
        Ok(_) => {
            eprintln!("error: no `.marketing` files found");
            return EXIT_USAGE;
        }
        Err(e) => {
            eprintln!("error: {}", e.0);
            return EXIT_USAGE;
        }
    };
    let loaded = match project::load(&files) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {}", e.0);
            return EXIT_USAGE;
        }
    };
    let analysis = maclc_compiler::analyze_parsed(&loaded.sources, loaded.parsed);
    if analysis.has_errors() {
        eprintln!("error: the project has errors; run `maclc check` to see them");
        return EXIT_FAILURE;
    }
    let ir =
        match maclc_compiler::ir::lower_with(&analysis.program, &maclc_runtime::zone::load_zone) {
            Ok(ir) => ir,
            Err(e) => {
                eprintln!("error: cannot run the tests of this project: {e}");
                return EXIT_FAILURE;
            }
        };
    let outcomes = maclc_runtime::testing::run_tests(&analysis.program, &ir);
    let mut failed = 0;
    let mut skipped = 0;
    for outcome in &outcomes {
        skipped += outcome.skipped;
        if outcome.failures.is_empty() {
            println!("ok      {}", outcome.name);
        } else {
            failed += 1;
            println!("FAILED  {}", outcome.name);
            for why in &outcome.failures {
                println!("          {why}");
            }
        }
    }
    if !analysis.program.journeys.is_empty() {
        println!(
            "note: journeys do not run yet, so tests that rely on what a journey does (a stage \
             it moves to, points it adds) fail for that reason"
        );
    }
    let note = if skipped > 0 {
        format!(", {skipped} expectations about journeys or sends not checked yet")
    } else {
        String::new()
    };
    println!(
        "{} tests: {} passed, {failed} failed{note}",
        outcomes.len(),
        outcomes.len() - failed
    );
    if failed > 0 {
        EXIT_FAILURE
    } else {
        EXIT_OK
    }
}
