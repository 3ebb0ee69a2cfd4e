//! `maclc test`: runs the `test` blocks of each project through the runtime's engine and says
//! which expectations do not hold, why (the contact's trace), for people, JSON or JUnit.

use std::io::IsTerminal;
use std::path::PathBuf;

use maclc_compiler::diagnostics::{render_human, RenderOptions};
use serde_json::{json, Value};

use super::engine::{self, EngineChoice};
use super::{use_color, EXIT_FAILURE, EXIT_OK, EXIT_USAGE};
use crate::project;
use crate::test_report::{self, ProjectRun};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Files or folders of `.marketing` files (a folder is one project); default: this folder
    #[arg(value_name = "PATHS")]
    paths: Vec<PathBuf>,
    /// Run only the tests whose name contains this text
    #[arg(long, value_name = "TEXT")]
    filter: Option<String>,
    /// Output for people, or one JSON document for CI (`json`)
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Also write a JUnit XML report here (one testcase per test)
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Evaluate conditions as native code (`jit`) or with the reference interpreter (`interp`)
    #[arg(long, value_enum, default_value_t = EngineChoice::Jit)]
    engine: EngineChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
}

pub fn run(args: &Args) -> u8 {
    let projects = match project::projects_named(&args.paths) {
        Ok(projects) => projects,
        Err(error) => {
            eprintln!("error: {}", error.0);
            return EXIT_USAGE;
        }
    };
    let color = use_color(std::io::stdout().is_terminal());
    let mut runs = Vec::new();
    let mut broken = 0;
    for files in &projects {
        let loaded = match project::load(files) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("error: {}", e.0);
                return EXIT_USAGE;
            }
        };
        let name = project_name(files);
        let analysis = maclc_compiler::analyze_parsed(&loaded.sources, loaded.parsed);
        if analysis.has_errors() {
            // Only errors: warnings do not stop tests and `maclc check` shows them.
            let errors: Vec<_> = analysis
                .diagnostics
                .iter()
                .filter(|d| d.severity() == maclc_compiler::diagnostics::Severity::Error)
                .cloned()
                .collect();
            eprint!(
                "{}",
                render_human(
                    &errors,
                    &loaded.sources,
                    RenderOptions {
                        color: use_color(std::io::stderr().is_terminal()),
                        ..RenderOptions::default()
                    },
                )
            );
            eprintln!("error: `{name}` has errors (above); its tests did not run");
            broken += 1;
            continue;
        }
        let ir = match maclc_compiler::ir::lower_with(
            &analysis.program,
            &maclc_runtime::zone::load_zone,
        ) {
            Ok(ir) => ir,
            Err(e) => {
                eprintln!("error: cannot run the tests of `{name}`: {e}");
                broken += 1;
                continue;
            }
        };
        let outcomes: Vec<_> = engine::run_with(args.engine, &ir, || {
            analysis
                .program
                .tests
                .iter()
                .filter(|t| args.filter.as_ref().is_none_or(|f| t.name.contains(f)))
                .map(|t| maclc_runtime::testing::run_test(&ir, t))
                .collect()
        });
        runs.push(ProjectRun {
            name,
            has_journeys: !analysis.program.journeys.is_empty(),
            sources: loaded.sources,
            program: analysis.program,
            ir,
            outcomes,
        });
    }
    let failed: usize = runs
        .iter()
        .map(|r| r.outcomes.iter().filter(|o| !o.passed()).count())
        .sum();
    let total: usize = runs.iter().map(|r| r.outcomes.len()).sum();
    match args.format {
        Format::Human => print!("{}", test_report::human(&runs, color)),
        Format::Json => println!("{}", pretty(&json_report(&runs, total, failed))),
    }
    if let Some(path) = &args.junit {
        if let Err(e) = std::fs::write(path, test_report::junit(&runs)) {
            eprintln!(
                "error: cannot write the JUnit report `{}`: {e}",
                project::display_name(path)
            );
            return EXIT_USAGE;
        }
    }
    if let (Some(filter), 0) = (&args.filter, total) {
        eprintln!("note: no test name contains `{filter}`");
    }
    if failed > 0 || broken > 0 {
        EXIT_FAILURE
    } else {
        EXIT_OK
    }
}

/// The name a project is reported under: its folder, or its single file.
fn project_name(files: &[PathBuf]) -> String {
    let names: Vec<String> = files.iter().map(|f| project::display_name(f)).collect();
    match names.as_slice() {
        [one] => one.clone(),
        _ => {
            // The longest common folder of the files (they are sorted, so first and last do).
            let first = names.first().map_or("", String::as_str);
            let last = names.last().map_or("", String::as_str);
            let common: Vec<&str> = first
                .split('/')
                .zip(last.split('/'))
                .take_while(|(a, b)| a == b)
                .map(|(a, _)| a)
                .collect();
            let folder = common.join("/");
            if folder.is_empty() || common.len() == first.split('/').count() {
                ".".to_string()
            } else {
                folder
            }
        }
    }
}

fn json_report(runs: &[ProjectRun], total: usize, failed: usize) -> Value {
    let tests: Vec<Value> = runs.iter().flat_map(test_report::json_tests).collect();
    let skipped: usize = runs
        .iter()
        .flat_map(|r| &r.outcomes)
        .map(|o| o.skipped)
        .sum();
    json!({
        "version": 1,
        "tests": tests,
        "summary": {
            "passed": total - failed,
            "failed": failed,
            "expectations_not_checked": skipped,
        },
    })
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}
