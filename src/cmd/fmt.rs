//! `maclc fmt`: rewrites files in the canonical layout, or with `--check` lists those that differ.

use std::path::PathBuf;

use super::{EXIT_FAILURE, EXIT_OK, EXIT_USAGE};
use crate::project;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Files or folders of `.marketing` files; default: this folder
    #[arg(value_name = "PATHS")]
    paths: Vec<PathBuf>,
    /// Change nothing; exit 1 and name the files that are not in the canonical layout
    #[arg(long)]
    check: bool,
}

pub fn run(args: &Args) -> u8 {
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let files = match project::find_files(&paths) {
        Ok(files) => files,
        Err(error) => {
            eprintln!("error: {}", error.0);
            return EXIT_USAGE;
        }
    };
    // Each file is formatted on its own: imports need not be followed to lay a file out.
    let mut failed = false;
    let mut would_change = Vec::new();
    for path in &files {
        let project = match project::load_one(path) {
            Ok(project) => project,
            Err(error) => {
                eprintln!("error: {}", error.0);
                failed = true;
                continue;
            }
        };
        let (Some(source), Some(parsed)) = (project.sources.iter().next(), project.parsed.first())
        else {
            continue;
        };
        if !parsed.diagnostics.is_empty() {
            super::eprint_diagnostics(&parsed.diagnostics, &project.sources);
            eprintln!(
                "error: `{}` has syntax errors and was not formatted",
                source.name
            );
            failed = true;
            continue;
        }
        let formatted = maclc_compiler::fmt::format_file(source, parsed);
        if formatted == *source.text {
            continue;
        }
        if args.check {
            would_change.push(source.name.clone());
        } else if let Err(error) = std::fs::write(path, formatted) {
            eprintln!("error: cannot write `{}`: {error}", source.name);
            failed = true;
        } else {
            println!("formatted {}", source.name);
        }
    }
    for name in &would_change {
        println!("would reformat {name}");
    }
    if failed || !would_change.is_empty() {
        EXIT_FAILURE
    } else {
        EXIT_OK
    }
}
