//! `maclc test`: runs the `test` blocks of each project through the runtime's engine and says
//! which expectations do not hold, why (the contact's trace), for people, JSON or JUnit, and
//! with `--coverage` what no test exercised. Tests run on `--jobs` threads; the report is put
//! together in the order the tests are written, so it never depends on the threads.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use maclc_compiler::check::Program;
use maclc_compiler::ir::Ir;
use maclc_compiler::source::Sources;
use maclc_runtime::testing::TestOutcome;

use serde_json::{json, Value};

use super::engine::{self, EngineChoice};
use super::{use_color, EXIT_FAILURE, EXIT_OK, EXIT_USAGE};
use crate::coverage;
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
    /// Run the tests of a compiled program (written by `maclc compile`) instead of sources
    #[arg(long, value_name = "FILE", conflicts_with = "paths")]
    program: Option<PathBuf>,
    /// Also report which score rules, segments, lifecycle transitions, routing branches and
    /// journey steps no test exercised
    #[arg(long)]
    coverage: bool,
    /// Write the coverage as LCOV here (implies `--coverage`)
    #[arg(long, value_name = "FILE")]
    coverage_lcov: Option<PathBuf>,
    /// How many tests run at once (default: one per core); the output is the same for any number
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    jobs: Option<u16>,
    /// Evaluate conditions as native code (`jit`) or with the reference interpreter (`interp`)
    #[arg(long, value_enum, default_value_t = EngineChoice::Jit)]
    engine: EngineChoice,
}

/// A project whose tests are ready to run.
struct Prepared {
    name: String,
    sources: Sources,
    program: Program,
    ir: Ir,
    /// The tests `--filter` keeps, by index in `program.tests`.
    selected: Vec<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
}

pub fn run(args: &Args) -> u8 {
    let projects = match (&args.program, project::projects_named(&args.paths)) {
        (Some(_), _) => Vec::new(),
        (None, Ok(projects)) => projects,
        (None, Err(error)) => {
            eprintln!("error: {}", error.0);
            return EXIT_USAGE;
        }
    };
    let color = use_color(std::io::stdout().is_terminal());
    let mut prepared = Vec::new();
    if let Some(path) = &args.program {
        match compiled_run(path, args.filter.as_deref()) {
            Ok(run) => prepared.push(run),
            Err(message) => {
                eprintln!("error: {message}");
                return EXIT_USAGE;
            }
        }
    }
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
        let has_tests = loaded.parsed.iter().any(|p| {
            p.ast
                .items
                .iter()
                .any(|i| matches!(i.kind, maclc_compiler::syntax::ast::ItemKind::Test(_)))
        });
        if !has_tests && projects.len() > 1 {
            // One of several projects under a folder (`maclc test examples/`) with nothing to
            // run: `maclc check` is the command that reports its mistakes.
            eprintln!("note: `{name}` has no tests, skipped");
            continue;
        }
        let analysis = maclc_compiler::analyze_parsed(&loaded.sources, loaded.parsed);
        if analysis.has_errors() {
            // Only errors: warnings do not stop tests and `maclc check` shows them.
            let errors: Vec<_> = analysis
                .diagnostics
                .iter()
                .filter(|d| d.severity() == maclc_compiler::diagnostics::Severity::Error)
                .cloned()
                .collect();
            super::eprint_diagnostics(&errors, &loaded.sources);
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
        let selected = (analysis.program.tests.iter().enumerate())
            .filter(|(_, t)| args.filter.as_ref().is_none_or(|f| t.name.contains(f)))
            .map(|(i, _)| i)
            .collect();
        prepared.push(Prepared {
            name,
            sources: loaded.sources,
            program: analysis.program,
            ir,
            selected,
        });
    }
    let jobs = args.jobs.map_or_else(
        || std::thread::available_parallelism().map_or(1, usize::from),
        usize::from,
    );
    // Said once per project, not once per test or per thread.
    for p in &prepared {
        engine::announce(args.engine, &p.ir);
    }
    let mut outcomes = run_all(&prepared, jobs, args.engine).into_iter().peekable();
    let with_coverage = args.coverage || args.coverage_lcov.is_some();
    let runs: Vec<ProjectRun> = prepared
        .into_iter()
        .enumerate()
        .map(|(n, p)| {
            let mut mine = Vec::new();
            while let Some((_, outcome)) = outcomes.next_if(|(of, _)| *of == n) {
                mine.push(outcome);
            }
            let outcomes = mine;
            let coverage = with_coverage.then(|| coverage::measure(&p.program, &outcomes));
            ProjectRun {
                name: p.name,
                sources: p.sources,
                program: p.program,
                ir: p.ir,
                outcomes,
                coverage,
            }
        })
        .collect();
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
    if let Some(path) = &args.coverage_lcov {
        if let Err(e) = std::fs::write(path, test_report::lcov(&runs)) {
            eprintln!(
                "error: cannot write the LCOV report `{}`: {e}",
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

/// Runs every selected test of every project on `jobs` threads, each taking the next test
/// from a shared queue; the outcomes (with their project's index) come back in the order the
/// tests are written.
fn run_all(projects: &[Prepared], jobs: usize, choice: EngineChoice) -> Vec<(usize, TestOutcome)> {
    let work: Vec<(usize, &Prepared, usize)> = (projects.iter().enumerate())
        .flat_map(|(n, p)| p.selected.iter().map(move |&t| (n, p, t)))
        .collect();
    // Native code is made current per thread, so each worker compiles each project it meets
    // once (a few milliseconds) and runs that project's tests under it.
    let worker = |items: &mut dyn Iterator<Item = (usize, &(usize, &Prepared, usize))>| {
        let mut compiled: Vec<Option<Option<maclc_runtime::jit::Jit<'_>>>> =
            projects.iter().map(|_| None).collect();
        let mut mine = Vec::new();
        for (i, &(n, p, t)) in items {
            let Some(test) = p.program.tests.get(t) else {
                continue;
            };
            let jit = compiled.get_mut(n).and_then(|slot| {
                slot.get_or_insert_with(|| engine::compile(choice, &p.ir))
                    .as_ref()
            });
            let outcome = match jit {
                Some(jit) => jit.run(|| maclc_runtime::testing::run_test(&p.ir, test)),
                None => maclc_runtime::testing::run_test(&p.ir, test),
            };
            mine.push((i, (n, outcome)));
        }
        mine
    };
    if jobs <= 1 || work.len() <= 1 {
        let mut all = work.iter().enumerate();
        return worker(&mut all).into_iter().map(|(_, o)| o).collect();
    }
    let next = AtomicUsize::new(0);
    let mut done: Vec<(usize, (usize, TestOutcome))> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..jobs.min(work.len()))
            .map(|_| {
                scope.spawn(|| {
                    let mut queue = std::iter::from_fn(|| {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        work.get(i).map(|item| (i, item))
                    });
                    worker(&mut queue)
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| match w.join() {
                Ok(mine) => mine,
                // A bug in the runtime: let it surface as it would have without threads.
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    });
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, outcome)| outcome).collect()
}

/// The tests of a compiled program: read again from the sources it carries, run against the IR
/// it was compiled to (what runs in production is what is tested).
fn compiled_run(path: &std::path::Path, filter: Option<&str>) -> Result<Prepared, String> {
    let artefact = super::compile::read_program(path)?;
    let name = project::display_name(path);
    let (sources, analysis) = super::compile::recheck(&artefact, &name)?;
    let selected = (analysis.program.tests.iter().enumerate())
        .filter(|(_, t)| filter.is_none_or(|f| t.name.contains(f)))
        .map(|(i, _)| i)
        .collect();
    Ok(Prepared {
        name,
        sources,
        program: analysis.program,
        ir: artefact.ir,
        selected,
    })
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
    let coverage: Vec<Value> = runs
        .iter()
        .filter_map(|r| {
            r.coverage
                .as_ref()
                .map(|c| test_report::coverage_json(r, c))
        })
        .collect();
    let mut doc = json!({
        "version": 1,
        "tests": tests,
        "summary": {
            "passed": total - failed,
            "failed": failed,
            "expectations_not_checked": skipped,
        },
    });
    if let (false, Value::Object(map)) = (coverage.is_empty(), &mut doc) {
        map.insert("coverage".to_string(), Value::Array(coverage));
    }
    doc
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}
