//! `maclc run`: evaluates a checked project over a JSON Lines file of events and writes each
//! contact's final state, the rejected lines and a summary.
//!
//! The run refuses a project with check errors (a program that checks cannot fail at run time
//! on well-formed data; one that does not check has no defined meaning). Outputs are
//! deterministic: the same program and input give byte-identical files whatever the line order.

use std::fs::File;
use std::io::{BufReader, BufWriter, IsTerminal, Write};
use std::path::PathBuf;

use maclc_compiler::diagnostics::{render_human, RenderOptions};
use maclc_runtime::engine::{Engine, EventMap};
use maclc_runtime::input::{decode_lines, time::parse_timestamp};
use maclc_runtime::lifecycle::fnv1a;
use maclc_runtime::output::{account_line, action_line, reject_line, state_line, summary_text};
use maclc_runtime::program_schema::input_schema;

use super::engine::{self, EngineChoice};
use super::{use_color, EXIT_FAILURE, EXIT_OK, EXIT_USAGE};
use crate::project;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The project: a folder of `.marketing` files (or files named one by one)
    #[arg(value_name = "PROJECT", required = true)]
    project: Vec<PathBuf>,
    /// The events: JSON Lines in the Segment shape (identify, track, page, alias)
    #[arg(long, value_name = "FILE")]
    events: PathBuf,
    /// Write every contact's final scores and segments here, one JSON line each, sorted by id
    #[arg(long, value_name = "FILE")]
    state_out: Option<PathBuf>,
    /// Write every account's account scores here, one JSON line each, sorted by key
    #[arg(long, value_name = "FILE")]
    accounts_out: Option<PathBuf>,
    /// Write every rejected line here, one JSON line each, with its reason
    #[arg(long, value_name = "FILE")]
    rejects: Option<PathBuf>,
    /// Write every action (sends, suppressed sends, routings, notifications) here, one JSON line each
    #[arg(long, value_name = "FILE")]
    actions: Option<PathBuf>,
    /// Print why a contact's scores, stage and segments are what they are (every change, with
    /// its rule and record)
    #[arg(long, value_name = "CONTACT")]
    explain: Option<String>,
    /// End the run at this time (`2026-06-30T00:00:00Z`); default: the latest valid timestamp
    #[arg(long, value_name = "TIME")]
    until: Option<String>,
    /// Reject as `too_late` a record older than the latest time seen so far minus this
    /// duration (`10m`, `2h`, `7d`); default: unbounded (any arrival order is accepted)
    #[arg(long, value_name = "DURATION")]
    max_out_of_order: Option<String>,
    /// Evaluate conditions as native code (`jit`) or with the reference interpreter (`interp`)
    #[arg(long, value_enum, default_value_t = EngineChoice::Jit)]
    engine: EngineChoice,
}

pub fn run(args: &Args) -> u8 {
    match run_inner(args) {
        Ok(code) => code,
        Err((code, message)) => {
            eprintln!("error: {message}");
            code
        }
    }
}

fn create(path: &PathBuf) -> Result<BufWriter<File>, (u8, String)> {
    File::create(path).map(BufWriter::new).map_err(|e| {
        (
            EXIT_USAGE,
            format!("cannot create `{}`: {e}", project::display_name(path)),
        )
    })
}

fn run_inner(args: &Args) -> Result<u8, (u8, String)> {
    let until = match &args.until {
        None => None,
        Some(text) => Some(parse_timestamp(text).map_err(|e| {
            (
                EXIT_USAGE,
                format!("`--until {text}` is not a time such as 2026-06-30T00:00:00Z: {e}"),
            )
        })?),
    };
    let max_out_of_order = match &args.max_out_of_order {
        None => None,
        Some(text) => Some(maclc_compiler::syntax::parse_duration(text).ok_or_else(|| {
            (
                EXIT_USAGE,
                format!(
                    "`--max-out-of-order {text}` is not a duration such as 10m, 2h or 7d \
                     (a whole number then one of ms, s, m, h, d, w, mo, y)"
                ),
            )
        })?),
    };
    let files = project::find_files(&args.project).map_err(|e| (EXIT_USAGE, e.0))?;
    if files.is_empty() {
        return Err((
            EXIT_USAGE,
            "no `.marketing` files found in the project".into(),
        ));
    }
    let loaded = project::load(&files).map_err(|e| (EXIT_USAGE, e.0))?;
    let analysis = maclc_compiler::analyze_parsed(&loaded.sources, loaded.parsed);
    if analysis.has_errors() {
        eprint!(
            "{}",
            render_human(
                &analysis.diagnostics,
                &loaded.sources,
                RenderOptions {
                    color: use_color(std::io::stderr().is_terminal()),
                    ..RenderOptions::default()
                },
            )
        );
        return Err((
            EXIT_FAILURE,
            "the project has errors (above); fix them before running it".into(),
        ));
    }
    let ir = maclc_compiler::ir::lower_with(&analysis.program, &maclc_runtime::zone::load_zone)
        .map_err(|e| (EXIT_FAILURE, format!("cannot run this project: {e}")))?;
    let (schema, track_map) = input_schema(&ir);
    if !analysis.program.journeys.is_empty() {
        // Said up front, so nobody mistakes an empty actions file for journeys that did nothing.
        eprintln!(
            "note: this project has {} journeys; `maclc run` does not run journeys yet, so they \
             send nothing in this run",
            analysis.program.journeys.len()
        );
    }

    let input = File::open(&args.events).map_err(|e| {
        (
            EXIT_USAGE,
            format!(
                "cannot read the events `{}`: {e}",
                project::display_name(&args.events)
            ),
        )
    })?;
    let mut rejects = match &args.rejects {
        Some(path) => Some(create(path)?),
        None => None,
    };
    let mut state_out = match &args.state_out {
        Some(path) => Some(create(path)?),
        None => None,
    };
    let mut accounts_out = match &args.accounts_out {
        Some(path) => Some(create(path)?),
        None => None,
    };
    let write_error = |e: std::io::Error| (EXIT_FAILURE, format!("cannot write an output: {e}"));

    let mut actions_out = match &args.actions {
        Some(path) => Some(create(path)?),
        None => None,
    };
    // The program version in idempotency keys: the files' names and text, in sorted order.
    let program_hash = loaded.sources.iter().fold(0u64, |h, f| {
        fnv1a(&[f.name.as_bytes(), f.text.as_bytes()], h)
    });
    let mut engine =
        Engine::new(&ir, EventMap::new(&ir, track_map)).with_program_hash(program_hash);
    let mut lines = decode_lines(BufReader::with_capacity(1 << 20, input), &schema)
        .with_max_out_of_order(max_out_of_order);
    for outcome in lines.by_ref() {
        match outcome {
            Ok(record) => engine.push(record),
            Err(reject) => {
                if let Some(out) = rejects.as_mut() {
                    writeln!(out, "{}", reject_line(&reject)).map_err(write_error)?;
                }
            }
        }
    }
    if let Some(e) = lines.io_error() {
        return Err((
            EXIT_FAILURE,
            format!("the events could not be read to their end: {e}"),
        ));
    }
    let summary = lines.summary().clone();
    let output = engine::run_with(args.engine, &ir, || engine.finish(until));
    if let Some(out) = state_out.as_mut() {
        for contact in &output.contacts {
            writeln!(out, "{}", state_line(&ir, contact)).map_err(write_error)?;
        }
        out.flush().map_err(write_error)?;
    }
    if let Some(out) = accounts_out.as_mut() {
        for account in &output.accounts {
            writeln!(out, "{}", account_line(&ir, account)).map_err(write_error)?;
        }
        out.flush().map_err(write_error)?;
    }
    if let Some(out) = actions_out.as_mut() {
        for action in &output.actions {
            writeln!(out, "{}", action_line(action)).map_err(write_error)?;
        }
        out.flush().map_err(write_error)?;
    }
    if let Some(out) = rejects.as_mut() {
        out.flush().map_err(write_error)?;
    }
    eprint!("{}", summary_text(&ir, &summary, &output));
    if let Some(id) = &args.explain {
        match output.contacts.iter().find(|c| &c.id == id) {
            Some(contact) => print!(
                "{}",
                explain(&ir, &analysis.program, &loaded.sources, contact)
            ),
            None => {
                return Err((
                    EXIT_FAILURE,
                    format!("`{id}` is not a contact of this run (see --state-out for the ids)"),
                ))
            }
        }
    }
    Ok(EXIT_OK)
}

/// Every change of every score of one contact, with the rule as written and the record that
/// caused it, then its stage changes and segments: the provenance the engine keeps.
fn explain(
    ir: &maclc_compiler::ir::Ir,
    program: &maclc_compiler::check::Program,
    sources: &maclc_compiler::source::Sources,
    contact: &maclc_runtime::engine::ContactState,
) -> String {
    use maclc_runtime::input::format_timestamp;
    use maclc_runtime::output::format_number;
    use std::fmt::Write as _;
    let rule_text = |score: usize, rule: usize| -> String {
        let span = program
            .scores
            .get(score)
            .and_then(|s| s.rules.get(rule))
            .map(|r| r.span);
        span.and_then(|span| {
            let file = sources.get(span.file)?;
            let text = file.text.get(span.start as usize..span.end as usize)?;
            Some(text.split_whitespace().collect::<Vec<_>>().join(" "))
        })
        .unwrap_or_default()
    };
    let mut out = String::new();
    let _ = writeln!(out, "{}", contact.id);
    for (i, (score, state)) in ir.scores.iter().zip(&contact.scores).enumerate() {
        let _ = writeln!(out, "  {} = {}", score.name, format_number(state.value()));
        for change in contact.changes.iter().filter(|c| c.score as usize == i) {
            let delta = format_number(change.delta);
            let sign = if change.delta >= 0.0 { "+" } else { "" };
            let source = if change.line == 0 {
                "at the end of the run".to_string()
            } else {
                format!("line {}", change.line)
            };
            let why = if change.rule == maclc_runtime::engine::BOUNDS_RULE {
                "(kept within the score's bounds)".to_string()
            } else {
                rule_text(i, change.rule as usize)
            };
            let _ = writeln!(
                out,
                "    {}  {sign}{delta}  ({source})  {why}",
                format_timestamp(change.ts)
            );
        }
        if score.decay.is_some() {
            let _ = writeln!(out, "    (decay applies between changes, on event time)");
        }
    }
    if let Some(lifecycle) = &ir.lifecycle {
        let name = |s: u32| lifecycle.stages.get(s as usize).map_or("?", String::as_str);
        let _ = writeln!(out, "  stage = {}", name(contact.stage));
        for (ts, from, to) in &contact.stage_changes {
            let _ = writeln!(
                out,
                "    {}  {} -> {}",
                format_timestamp(*ts),
                name(*from),
                name(*to)
            );
        }
    }
    let mut segments: Vec<&str> = ir
        .segments
        .iter()
        .zip(&contact.segments)
        .filter(|(_, m)| **m)
        .map(|(s, _)| s.name.as_str())
        .collect();
    segments.sort_unstable();
    if segments.is_empty() {
        let _ = writeln!(out, "  segments: none");
    } else {
        let _ = writeln!(out, "  segments: {}", segments.join(", "));
    }
    out
}
