//! `maclc run`: evaluates a checked project over a JSON Lines file of events and writes each
//! contact's final state, the rejected lines and a summary.
//!
//! The run refuses a project with check errors (a program that checks cannot fail at run time
//! on well-formed data; one that does not check has no defined meaning). Outputs are
//! deterministic: the same program and input give byte-identical files whatever the line order.

use std::fs::File;
use std::io::{BufReader, BufWriter, IsTerminal, Seek, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use maclc_runtime::engine::{Engine, EventMap};
use maclc_runtime::input::Summary;
use maclc_runtime::input::{decode_contact_lines, decode_lines, time::parse_timestamp};
use maclc_runtime::output::{account_line, action_line, reject_line, state_line, summary_text};
use maclc_runtime::program_schema::input_schema;
use maclc_runtime::store::{Batch, Checkpoint, RunStore, Status};

use super::engine::{self, EngineChoice};
use super::{EXIT_FAILURE, EXIT_OK, EXIT_USAGE};
use crate::project;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The project: a folder of `.marketing` files (or files named one by one)
    #[arg(value_name = "PROJECT", required_unless_present = "program")]
    project: Vec<PathBuf>,
    /// Run a compiled program (written by `maclc compile`) instead of a project's sources
    #[arg(long, value_name = "FILE", conflicts_with = "project")]
    program: Option<PathBuf>,
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
    /// A contact snapshot (a CRM export), read before the events: one JSON object a line,
    /// `{"userId": "…", "traits": {…}}`, traits shaped as an identify's; identify traits in the
    /// events later replace the fields they give
    #[arg(long, value_name = "FILE")]
    contacts: Option<PathBuf>,
    /// Keep the run's progress in this folder, and keep it after the run (default: in
    /// `.maclc/runs/<key>/`, removed when the run ends)
    ///
    /// Either way a run stopped at any point and started again with the same arguments resumes
    /// from its last checkpoint and writes the same outputs. The folder is created if needed.
    /// With `--state`, a finished run started again does nothing (`--fresh` runs it again);
    /// without it, the same command runs in full each time.
    #[arg(long, value_name = "DIR")]
    state: Option<PathBuf>,
    /// Keep the run's progress in memory only: nothing is written under `.maclc/`, and a
    /// stopped run starts over
    ///
    /// For a read-only folder or a short run. Events from a pipe always run in memory.
    #[arg(long, conflicts_with = "state")]
    no_state: bool,
    /// Start over: forget what an earlier run left in `--state DIR` or in `.maclc/runs/`
    #[arg(long, conflicts_with = "no_state")]
    fresh: bool,
    /// Commit a checkpoint of the run's progress every N input lines [default: 10000 with
    /// `--state`, 100000 in `.maclc/runs/`]
    #[arg(long, value_name = "N")]
    checkpoint_every: Option<u64>,
    /// Evaluate conditions as native code (`jit`) or with the reference interpreter (`interp`)
    #[arg(long, value_enum, default_value_t = EngineChoice::Jit)]
    engine: EngineChoice,
    /// Decode the events and replay contacts on N threads; default: every core (`1`: all on
    /// one thread). The outputs are the same for any N
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
}

pub fn run(args: &Args) -> u8 {
    let mut default_folder = None;
    let outcome = run_inner(args, &mut default_folder);
    // A run that ends, even on an error, has no use for its default folder (its store is
    // closed by now): only a run stopped dead leaves one, to resume from.
    if let Some(folder) = default_folder {
        remove_run_folder(&folder);
    }
    match outcome {
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

/// Runs the command; `default_folder` is set to the run's folder under `.maclc/runs/` once it
/// is opened, for `run` to remove when this returns.
fn run_inner(args: &Args, default_folder: &mut Option<PathBuf>) -> Result<u8, (u8, String)> {
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
    let Loaded {
        ir,
        program_hash,
        checked,
    } = match &args.program {
        Some(path) => from_compiled(path, args.explain.is_some())?,
        None => from_sources(&args.project)?,
    };
    let (schema, track_map) = input_schema(&ir);

    let started = Instant::now();
    let store = open_store(args, program_hash)?;
    default_folder.clone_from(&store.as_ref().and_then(|s| s.temporary.clone()));
    if let Some(OpenStore {
        store,
        status: Status::Finished { summary },
        ..
    }) = &store
    {
        return finished_already(args, store, summary, &ir, checked.as_ref());
    }
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
        .max(1);
    let mut engine =
        Engine::new(&ir, EventMap::new(&ir, track_map)).with_program_hash(program_hash);
    // Records keep only what the engine reads (every member is still checked).
    let schema = schema
        .keeping_only(engine.members_read())
        .with_slots(engine.track_slots(), engine.page_slots());
    let read = read_events(
        args,
        &schema,
        &mut engine,
        store.as_ref(),
        (max_out_of_order, threads),
    )?;
    // Each worker thread compiles the conditions for itself (a few milliseconds): native code
    // is served per thread.
    let in_worker = |work: &mut dyn FnMut()| match engine::compile(args.engine, &ir) {
        Some(jit) => jit.run(work),
        None => work(),
    };
    let output = engine::run_with(args.engine, &ir, || {
        engine.finish_on(until, threads, &in_worker)
    });
    Progress::done();
    write_outputs(args, &ir, &output)?;
    let summary = summary_text(&ir, &read.summary, &output);
    let kept_store = store.as_ref().is_some_and(|s| s.temporary.is_none());
    // A kept store (`--state DIR`) records the run's end. A default folder has done its job
    // once the outputs are in place: `run` removes it when this returns and the store is closed
    // (a stop before then resumes from the last checkpoint and writes the same outputs again).
    if let Some(OpenStore {
        store,
        temporary: None,
        ..
    }) = store
    {
        store
            .finish(
                &output.contacts,
                &round_robin_cursors(&ir, &output),
                &summary,
            )
            .map_err(|e| (EXIT_FAILURE, e.to_string()))?;
    }
    eprint!("{summary}");
    eprint!(
        "{}",
        run_facts(&read, &output, started.elapsed(), kept_store)
    );
    if let Some(id) = &args.explain {
        match output.contacts.iter().find(|c| &c.id == id) {
            Some(contact) => {
                if let Some((program, sources)) = &checked {
                    print!("{}", explain(&ir, program, sources, contact));
                }
            }
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

/// The program a run evaluates, from a project's sources or from a compiled program.
struct Loaded {
    ir: maclc_compiler::ir::Ir,
    /// The program version in idempotency keys ([`project::program_hash`]).
    program_hash: u64,
    /// The checked program and its sources, for `--explain` (which quotes rules as written).
    checked: Option<(
        maclc_compiler::check::Program,
        maclc_compiler::source::Sources,
    )>,
}

fn from_sources(paths: &[PathBuf]) -> Result<Loaded, (u8, String)> {
    let files = project::find_files(paths).map_err(|e| (EXIT_USAGE, e.0))?;
    if files.is_empty() {
        return Err((
            EXIT_USAGE,
            "no `.marketing` files found in the project".into(),
        ));
    }
    let loaded = project::load(&files).map_err(|e| (EXIT_USAGE, e.0))?;
    let analysis = maclc_compiler::analyze_parsed(&loaded.sources, loaded.parsed);
    if analysis.has_errors() {
        super::eprint_diagnostics(&analysis.diagnostics, &loaded.sources);
        return Err((
            EXIT_FAILURE,
            "the project has errors (above); fix them before running it".into(),
        ));
    }
    let ir = maclc_compiler::ir::lower_with(&analysis.program, &maclc_runtime::zone::load_zone)
        .map_err(|e| (EXIT_FAILURE, format!("cannot run this project: {e}")))?;
    let texts = project::source_texts(&loaded.sources).map_err(|e| (EXIT_USAGE, e.0))?;
    Ok(Loaded {
        ir,
        program_hash: project::program_hash(&texts),
        checked: Some((analysis.program, loaded.sources)),
    })
}

/// A compiled program: its IR as written; its sources are checked again only for `--explain`.
fn from_compiled(path: &std::path::Path, explain: bool) -> Result<Loaded, (u8, String)> {
    let artefact = super::compile::read_program(path).map_err(|e| (EXIT_USAGE, e))?;
    let checked = if explain {
        let (sources, analysis) = super::compile::recheck(&artefact, &project::display_name(path))
            .map_err(|e| (EXIT_USAGE, e))?;
        Some((analysis.program, sources))
    } else {
        None
    };
    Ok(Loaded {
        program_hash: project::program_hash(&artefact.files),
        ir: artefact.ir,
        checked,
    })
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

/// Where a test makes the run stop dead (`std::process::abort`: no destructor, no flush, as a
/// `kill -9` would), to prove that a resumed run writes the same bytes. Read from the hidden
/// variable `MACLC_TEST_CRASH_AT`: `checkpoint:K` (right after checkpoint K is committed),
/// `batch:K` (halfway through the batch after checkpoint K, with rejects of that batch already
/// flushed to the file) or `output:K` (after K steps of writing the final outputs, a step
/// being one line or one rename).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CrashAt {
    Never,
    Checkpoint(u64),
    Batch(u64),
    Output(u64),
}

impl CrashAt {
    fn from_env() -> CrashAt {
        let Ok(text) = std::env::var("MACLC_TEST_CRASH_AT") else {
            return CrashAt::Never;
        };
        let (kind, n) = text.split_once(':').unwrap_or((&text, ""));
        match (kind, n.parse::<u64>()) {
            ("checkpoint", Ok(k)) => CrashAt::Checkpoint(k),
            ("batch", Ok(k)) => CrashAt::Batch(k),
            ("output", Ok(k)) => CrashAt::Output(k),
            _ => CrashAt::Never,
        }
    }

    fn now() -> ! {
        std::process::abort()
    }
}

/// What the options that shape the outputs say, one `name: value` per line: a store keeps it,
/// and a store of another run (another program, input or option) is refused.
fn fingerprint(args: &Args, program_hash: u64) -> Result<String, (u8, String)> {
    let describe = |path: &PathBuf, what: &str| -> Result<String, (u8, String)> {
        let meta = std::fs::metadata(path).map_err(|e| {
            (
                EXIT_USAGE,
                format!(
                    "cannot read the {what} `{}`: {e}",
                    project::display_name(path)
                ),
            )
        })?;
        let full = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
        Ok(format!("{} ({} bytes)", full.display(), meta.len()))
    };
    let option = |value: &Option<String>| value.clone().unwrap_or_else(|| "none".into());
    let path = |value: &Option<PathBuf>| {
        value
            .as_ref()
            .map_or_else(|| "none".into(), |p| project::display_name(p))
    };
    let contacts = match &args.contacts {
        None => "none".to_string(),
        Some(path) => {
            let bytes = std::fs::read(path).map_err(|e| {
                (
                    EXIT_USAGE,
                    format!(
                        "cannot read the contacts `{}`: {e}",
                        project::display_name(path)
                    ),
                )
            })?;
            format!(
                "{} {:016x}",
                describe(path, "contacts")?,
                maclc_runtime::lifecycle::fnv1a(&[&bytes], 0)
            )
        }
    };
    Ok(format!(
        "program: {program_hash:016x}\ncontacts: {contacts}\nevents: {}\nuntil: {}\nmax-out-of-order: {}\nrejects: {}\n",
        describe(&args.events, "events")?,
        option(&args.until),
        option(&args.max_out_of_order),
        path(&args.rejects),
    ))
}

/// The store a run keeps its progress in, and what it holds for this run.
#[derive(Debug)]
struct OpenStore {
    store: RunStore,
    status: Status,
    /// The default folder (`.maclc/runs/<key>`) when the run did not name one with `--state`:
    /// it only exists so that a stopped run can resume, and is removed when the run ends.
    temporary: Option<PathBuf>,
}

/// Input lines between two checkpoints in a `--state` folder (ten times more in the default
/// folder), unless `--checkpoint-every` says otherwise.
const DEFAULT_CHECKPOINT_EVERY: u64 = 10_000;

/// Where runs without `--state` keep their progress, under the current folder.
const DEFAULT_RUNS_FOLDER: &str = ".maclc/runs";

/// Opens the run's store: `--state DIR`, or without it a folder of its own under
/// `.maclc/runs/`; none with `--no-state`, or without `--state` when the events are not a file
/// (a pipe cannot be read again to resume) or the default folder cannot be used: the run then
/// keeps everything in memory and starts over if it is stopped.
fn open_store(args: &Args, program_hash: u64) -> Result<Option<OpenStore>, (u8, String)> {
    if args.no_state {
        return Ok(None);
    }
    let Some(dir) = &args.state else {
        if !std::fs::metadata(&args.events).is_ok_and(|m| m.is_file()) {
            return Ok(None);
        }
        let fingerprint = fingerprint(args, program_hash)?;
        return Ok(open_default_store(args, &fingerprint));
    };
    let fingerprint = fingerprint(args, program_hash)?;
    if !std::fs::metadata(&args.events).is_ok_and(|m| m.is_file()) {
        return Err((
            EXIT_USAGE,
            format!(
                "`--state` needs the events in a file (a resumed run reads them again from the start), but `{}` is not a regular file; save the stream to a file first, or run without `--state`",
                project::display_name(&args.events)
            ),
        ));
    }
    let store = RunStore::open(dir, args.fresh).map_err(|e| (EXIT_FAILURE, e.to_string()))?;
    let status = store
        .begin(&fingerprint)
        .map_err(|e| (EXIT_USAGE, e.to_string()))?;
    Ok(Some(OpenStore {
        store,
        status,
        temporary: None,
    }))
}

/// The store of a run without `--state`: `.maclc/runs/<key>`, where the key is a short hash of
/// the run's fingerprint and its output paths, so that the same command finds the progress it
/// left and two different runs never share a folder. Whatever stands in the way (a read-only
/// folder, the same run going on in another process, a store that cannot be read) costs the
/// run its resumability, with one warning line, never the run itself.
fn open_default_store(args: &Args, fingerprint: &str) -> Option<OpenStore> {
    let path = |value: &Option<PathBuf>| {
        value
            .as_ref()
            .map_or_else(|| "none".into(), |p| project::display_name(p))
    };
    let fingerprint = format!(
        "{fingerprint}state-out: {}\naccounts-out: {}\nactions: {}\n",
        path(&args.state_out),
        path(&args.accounts_out),
        path(&args.actions),
    );
    let hash = maclc_runtime::lifecycle::fnv1a(&[fingerprint.as_bytes()], 0);
    let key = format!("{:08x}", (hash ^ (hash >> 32)) as u32);
    let folder = std::path::Path::new(DEFAULT_RUNS_FOLDER).join(key);
    let in_memory = |why: String| {
        eprintln!(
            "warning: {why}; this run keeps its progress in memory and starts over if it is stopped (`--no-state` runs in memory without this warning)"
        );
        None
    };
    if let Err(e) = create_run_folder(&folder) {
        return in_memory(format!(
            "cannot create `{}` for this run's progress: {e}",
            folder.display()
        ));
    }
    let mut fresh = args.fresh;
    loop {
        let opened = RunStore::open_unless_busy(&folder, fresh).and_then(|store| match store {
            None => Ok(None),
            Some(store) => {
                let status = store.begin(&fingerprint)?;
                Ok(Some((store, status)))
            }
        });
        match opened {
            Ok(Some((store, status))) => {
                return Some(OpenStore {
                    store,
                    status,
                    temporary: Some(folder),
                })
            }
            Ok(None) => {
                return in_memory(format!(
                    "`{}` is in use by another `maclc run` with the same arguments",
                    folder.display()
                ))
            }
            // The progress left there cannot be used (damaged, or kept by another version of
            // maclc): it is only a head start, so the run starts over in the same folder.
            Err(e) if !fresh => {
                eprintln!("warning: {}; this run starts over", e.problem());
                fresh = true;
            }
            Err(e) => return in_memory(e.to_string()),
        }
    }
}

/// Creates the default folder of a run. Another run that ends removes `.maclc/runs/` when it
/// is empty: if it vanishes between two steps here, this tries again.
fn create_run_folder(folder: &std::path::Path) -> std::io::Result<()> {
    let mut tries = 0;
    loop {
        match std::fs::create_dir_all(folder) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && tries < 3 => tries += 1,
            done => return done,
        }
    }
}

/// Removes the default folder of a finished run, then `.maclc/runs/` and `.maclc/` when
/// nothing else is left in them (another run's folder, or the user's own files, stay).
fn remove_run_folder(folder: &std::path::Path) {
    if let Err(e) = std::fs::remove_dir_all(folder) {
        eprintln!(
            "warning: cannot remove `{}`, which kept this run's progress: {e}; it is no longer needed and can be deleted",
            folder.display()
        );
        return;
    }
    for parent in folder.ancestors().skip(1).take(2) {
        if std::fs::remove_dir(parent).is_err() {
            break;
        }
    }
}

/// A finished run started again: its outputs are in place, so nothing is written; `--explain`
/// still answers, from the state the run stored.
fn finished_already(
    args: &Args,
    store: &RunStore,
    summary: &str,
    ir: &maclc_compiler::ir::Ir,
    checked: Option<&(
        maclc_compiler::check::Program,
        maclc_compiler::source::Sources,
    )>,
) -> Result<u8, (u8, String)> {
    eprint!("{summary}");
    eprintln!(
        "this run already finished (its state is in `{}`): its outputs were written then and are left as they are; add `--fresh` to run it again",
        args.state
            .as_ref()
            .map_or_else(String::new, |p| project::display_name(p))
    );
    if let Some(id) = &args.explain {
        match store
            .contact(id)
            .map_err(|e| (EXIT_FAILURE, e.to_string()))?
        {
            Some(contact) => {
                if let Some((program, sources)) = checked {
                    print!("{}", explain(ir, program, sources, &contact));
                }
            }
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

/// What reading the events gave, and how.
#[derive(Debug)]
struct Read {
    summary: Summary,
    /// What reading `--contacts` gave.
    snapshot: Option<Summary>,
    /// The line the run resumed after, when it resumed from a checkpoint.
    resumed_after: Option<u64>,
    checkpoints: u64,
}

/// Reads the events into the engine, rejects to `--rejects`, with a checkpoint every
/// `--checkpoint-every` lines when there is a store (after re-reading, on a resume, the lines
/// the checkpoints already cover).
fn read_events(
    args: &Args,
    schema: &maclc_runtime::input::InputSchema,
    engine: &mut Engine<'_>,
    store: Option<&OpenStore>,
    (max_out_of_order, threads): (Option<i64>, usize),
) -> Result<Read, (u8, String)> {
    let crash = CrashAt::from_env();
    // A resumed run re-reads and decodes again every line before its checkpoint, so a finer
    // interval saves little work on a resume; each checkpoint costs two fsyncs (rejects, store).
    // The default folder, whose only use is resuming, commits ten times less often.
    let every = match (args.checkpoint_every, store) {
        (Some(n), _) => n,
        (
            None,
            Some(OpenStore {
                temporary: Some(_), ..
            }),
        ) => DEFAULT_CHECKPOINT_EVERY * 10,
        (None, _) => DEFAULT_CHECKPOINT_EVERY,
    }
    .max(1);
    let input = File::open(&args.events).map_err(|e| {
        (
            EXIT_USAGE,
            format!(
                "cannot read the events `{}`: {e}",
                project::display_name(&args.events)
            ),
        )
    })?;
    let total_bytes = input.metadata().map_or(0, |m| m.len());
    let mut lines = decode_lines(BufReader::with_capacity(1 << 20, input), schema)
        .with_max_out_of_order(max_out_of_order)
        .with_threads(threads);
    if store.is_none() {
        // Only a checkpoint keeps the hash of the lines read.
        lines = lines.without_hash();
    }
    engine.expect_input_bytes(total_bytes);
    let write_error = |e: std::io::Error| (EXIT_FAILURE, format!("cannot write an output: {e}"));
    let changed = |why: String| {
        (
            EXIT_USAGE,
            format!(
                "the events `{}` are not the ones the interrupted run read ({why}); add `--fresh` to start this run over",
                project::display_name(&args.events)
            ),
        )
    };

    let mut checkpoint = Checkpoint::default();
    if let Some(OpenStore {
        store,
        status: Status::Resume(at),
        temporary,
    }) = store
    {
        match temporary {
            None => eprintln!(
                "resuming an interrupted run from its checkpoint after line {} (re-reading the lines before it)",
                at.position.line
            ),
            Some(folder) => eprintln!(
                "resuming an interrupted run from line {} (its progress is in `{}`; `--fresh` starts over)",
                maclc_runtime::input::group_digits(at.position.line),
                folder.display()
            ),
        }
        for batch in store.batches().map_err(|e| (EXIT_FAILURE, e.to_string()))? {
            for line in batch.first_line..batch.first_line + batch.lines {
                match lines.reread(batch.is_accepted(line)).map_err(changed)? {
                    Some(Some(record)) => engine.push(record),
                    Some(None) => {}
                    None => return Err(changed("the file is shorter".into())),
                }
            }
            if lines.take_hash() != batch.hash {
                return Err(changed(format!(
                    "lines {} to {} differ",
                    batch.first_line,
                    batch.first_line + batch.lines.saturating_sub(1)
                )));
            }
        }
        let reached = lines.input_position();
        if (reached.offset, reached.line) != (at.position.offset, at.position.line) {
            return Err(changed("the lines read so far do not match".into()));
        }
        lines.resume(at.summary.clone(), at.position.latest);
        checkpoint = at.clone();
    }
    let mut rejects = match &args.rejects {
        None => None,
        Some(path) => Some(rejects_output(
            path,
            checkpoint.rejects_len,
            checkpoint.batches > 0,
        )?),
    };
    let resumed_after = (checkpoint.batches > 0).then_some(checkpoint.position.line);
    // The snapshot's rejects come first in the file; a resumed run reads it again without
    // writing them (they are within the checkpointed length).
    let snapshot = match &args.contacts {
        None => None,
        Some(path) => {
            let fresh = if resumed_after.is_some() {
                None
            } else {
                rejects.as_mut()
            };
            let (summary, written) = read_contacts(path, schema, engine, fresh)?;
            checkpoint.rejects_len += written;
            Some(summary)
        }
    };
    let mut progress = Progress::new(total_bytes);
    let mut batch = Batch::starting_at(checkpoint.position.line + 1);
    let resumed_batches = checkpoint.batches;
    if !checkpoint.input_done {
        while let Some(outcome) = lines.next() {
            match outcome {
                Ok(record) => {
                    engine.push(record);
                    batch.push(true);
                }
                Err(reject) => {
                    if let Some(out) = rejects.as_mut() {
                        let line = reject_line(&reject);
                        writeln!(out, "{line}").map_err(write_error)?;
                        checkpoint.rejects_len += line.len() as u64 + 1;
                    }
                    batch.push(false);
                }
            }
            progress.tick(&lines);
            if let Some(OpenStore { store, .. }) = store {
                if crash == CrashAt::Batch(checkpoint.batches) && batch.lines == every.div_ceil(2) {
                    if let Some(out) = rejects.as_mut() {
                        out.flush().map_err(write_error)?;
                    }
                    CrashAt::now();
                }
                if batch.lines >= every {
                    commit(
                        store,
                        &mut checkpoint,
                        &mut batch,
                        &mut lines,
                        rejects.as_mut(),
                        false,
                    )?;
                }
            }
        }
        progress.clear();
        if let Some(e) = lines.io_error() {
            return Err((
                EXIT_FAILURE,
                format!("the events could not be read to their end: {e}"),
            ));
        }
        if let Some(OpenStore { store, .. }) = store {
            commit(
                store,
                &mut checkpoint,
                &mut batch,
                &mut lines,
                rejects.as_mut(),
                true,
            )?;
        }
    }
    if let Some(out) = rejects.as_mut() {
        out.flush().map_err(write_error)?;
    }
    Ok(Read {
        summary: lines.summary().clone(),
        snapshot,
        resumed_after,
        checkpoints: checkpoint.batches - resumed_batches,
    })
}

/// Reads the contact snapshot into the engine; its rejects go to `rejects` (when given) with
/// `"source":"contacts"` first. Returns the counts and the bytes of rejects written.
fn read_contacts(
    path: &PathBuf,
    schema: &maclc_runtime::input::InputSchema,
    engine: &mut Engine<'_>,
    mut rejects: Option<&mut BufWriter<File>>,
) -> Result<(Summary, u64), (u8, String)> {
    let input = File::open(path).map_err(|e| {
        (
            EXIT_USAGE,
            format!(
                "cannot read the contacts `{}`: {e}",
                project::display_name(path)
            ),
        )
    })?;
    let mut written = 0u64;
    let mut lines = decode_contact_lines(BufReader::new(input), schema);
    for outcome in lines.by_ref() {
        match outcome {
            Ok(row) => engine.push_contact(row),
            Err(reject) => {
                if let Some(out) = rejects.as_mut() {
                    let line = reject_line(&reject);
                    let line = format!("{{\"source\":\"contacts\",{}", line.get(1..).unwrap_or(""));
                    writeln!(out, "{line}")
                        .map_err(|e| (EXIT_FAILURE, format!("cannot write the rejects: {e}")))?;
                    written += line.len() as u64 + 1;
                }
            }
        }
    }
    if let Some(e) = lines.io_error() {
        return Err((
            EXIT_FAILURE,
            format!(
                "the contacts `{}` could not be read to their end: {e}",
                project::display_name(path)
            ),
        ));
    }
    Ok((lines.summary().clone(), written))
}

/// The rejects file: created empty by a new run; cut back to the length the checkpoint knows
/// by a resumed one (lines written after it are written again).
fn rejects_output(
    path: &PathBuf,
    keep: u64,
    resumed: bool,
) -> Result<BufWriter<File>, (u8, String)> {
    // A device or a pipe cannot be cut back: what went out went out.
    if !resumed || is_special_file(path) {
        return create(path);
    }
    let cannot = |e: std::io::Error| {
        (
            EXIT_FAILURE,
            format!(
                "cannot take up the rejects `{}` where the interrupted run left them: {e}; add `--fresh` to start this run over",
                project::display_name(path)
            ),
        )
    };
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(cannot)?;
    let length = file.metadata().map_err(cannot)?.len();
    if length < keep {
        return Err(cannot(std::io::Error::other(format!(
            "it has {length} bytes, the checkpoint counted {keep}"
        ))));
    }
    file.set_len(keep).map_err(cannot)?;
    let mut out = BufWriter::new(file);
    out.seek(std::io::SeekFrom::Start(keep)).map_err(cannot)?;
    Ok(out)
}

/// One checkpoint: the rejects written so far reach the disk first, then the position, counts
/// and batch are committed together. (The crash tests' `checkpoint:K` stops the run right
/// after checkpoint K.)
fn commit<R: std::io::BufRead>(
    store: &RunStore,
    checkpoint: &mut Checkpoint,
    batch: &mut Batch,
    lines: &mut maclc_runtime::input::DecodeLines<'_, R>,
    rejects: Option<&mut BufWriter<File>>,
    input_done: bool,
) -> Result<(), (u8, String)> {
    if let Some(out) = rejects {
        out.flush()
            .and_then(|()| sync_data(out.get_ref()))
            .map_err(|e| (EXIT_FAILURE, format!("cannot write the rejects: {e}")))?;
    }
    batch.hash = lines.take_hash();
    checkpoint.position = lines.input_position();
    checkpoint.summary = lines.summary().clone();
    checkpoint.batches += 1;
    checkpoint.input_done = input_done;
    store
        .checkpoint(checkpoint, batch)
        .map_err(|e| (EXIT_FAILURE, e.to_string()))?;
    if CrashAt::from_env() == CrashAt::Checkpoint(checkpoint.batches) {
        CrashAt::now();
    }
    *batch = Batch::starting_at(checkpoint.position.line + 1);
    Ok(())
}

/// Flushes a file's data to the disk; a device or a pipe (`--rejects /dev/null`), which the
/// kernel cannot sync (`EINVAL`), has nothing to flush and is not an error.
fn sync_data(file: &File) -> std::io::Result<()> {
    match file.sync_data() {
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => Ok(()),
        done => done,
    }
}

/// Whether `path` exists and is neither a regular file nor a folder: a device or a pipe.
fn is_special_file(path: &std::path::Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir())
}

/// Writes the outputs made at the end (state, accounts, actions) each to a temporary file
/// beside it, then renames them into place: a run stopped while writing leaves the previous
/// files or none, never a half-written one.
fn write_outputs(
    args: &Args,
    ir: &maclc_compiler::ir::Ir,
    output: &maclc_runtime::engine::RunOutput,
) -> Result<(), (u8, String)> {
    let crash = CrashAt::from_env();
    let mut steps = 0u64;
    let mut step = || {
        steps += 1;
        if crash == CrashAt::Output(steps) {
            CrashAt::now();
        }
    };
    let outputs: [(&Option<PathBuf>, Vec<String>); 3] = [
        (
            &args.state_out,
            output.contacts.iter().map(|c| state_line(ir, c)).collect(),
        ),
        (
            &args.accounts_out,
            output
                .accounts
                .iter()
                .map(|a| account_line(ir, a))
                .collect(),
        ),
        (
            &args.actions,
            output.actions.iter().map(action_line).collect(),
        ),
    ];
    let mut written = Vec::new();
    for (path, lines) in outputs {
        let Some(path) = path else { continue };
        let error = |e: std::io::Error| {
            (
                EXIT_FAILURE,
                format!("cannot write `{}`: {e}", project::display_name(path)),
            )
        };
        // A device or a pipe (`/dev/null`, `/dev/stdout`, a FIFO) is written in place: renaming
        // a file over it would replace the device itself, and it cannot be half-written anyway.
        let in_place = is_special_file(path);
        let target = if in_place {
            path.clone()
        } else {
            let mut name = path.clone().into_os_string();
            name.push(".maclc-tmp");
            PathBuf::from(name)
        };
        let mut out = create(&target)?;
        for line in lines {
            writeln!(out, "{line}").map_err(error)?;
            step();
        }
        out.flush().map_err(error)?;
        if !in_place {
            sync_data(out.get_ref()).map_err(error)?;
            written.push((target, path));
        }
    }
    for (temporary, path) in written {
        std::fs::rename(&temporary, path).map_err(|e| {
            (
                EXIT_FAILURE,
                format!("cannot write `{}`: {e}", project::display_name(path)),
            )
        })?;
        if let Some(folder) = path.parent() {
            let folder = if folder.as_os_str().is_empty() {
                std::path::Path::new(".")
            } else {
                folder
            };
            maclc_runtime::store::sync_folder(folder);
        }
        step();
    }
    Ok(())
}

/// Where each round robin stands at the end: how many routings and notifications each queue
/// took (the next one goes to member `count % members`).
fn round_robin_cursors(
    ir: &maclc_compiler::ir::Ir,
    output: &maclc_runtime::engine::RunOutput,
) -> Vec<u64> {
    ir.queues
        .iter()
        .map(|q| {
            output
                .actions
                .iter()
                .filter(|a| a.kind == "route" || a.kind == "notify")
                .filter(|a| a.payload.iter().any(|(k, v)| k == "queue" && *v == q.name))
                .count() as u64
        })
        .collect()
}

/// The lines of the summary that are about this process rather than the data (how the run
/// went, how long it took): on stderr only, so that every output file stays deterministic.
fn run_facts(
    read: &Read,
    output: &maclc_runtime::engine::RunOutput,
    elapsed: Duration,
    kept_store: bool,
) -> String {
    use std::fmt::Write as _;
    let mut text = String::new();
    let applied = read
        .summary
        .valid
        .saturating_sub(output.anonymous_left_out + output.after_until);
    if let Some(snapshot) = &read.snapshot {
        let _ = writeln!(text, "contact snapshot: {snapshot}");
        if output.snapshot_rows_merged_away > 0 {
            let _ = writeln!(
                text,
                "  snapshot rows not applied (merged by an alias into a contact with its own row): {}",
                output.snapshot_rows_merged_away
            );
        }
    }
    let _ = writeln!(text, "records applied to contacts: {applied}");
    let suppressed = output
        .actions
        .iter()
        .filter(|a| a.kind == "suppressed")
        .count();
    if suppressed > 0 {
        let _ = writeln!(text, "suppressed sends: {suppressed}");
    }
    if let Some(line) = read.resumed_after {
        let _ = writeln!(text, "resumed after line {line}, from the last checkpoint");
    }
    // Only a kept `--state` folder's checkpoints are news: the default folder's are a detail.
    if kept_store && read.checkpoints > 0 {
        let _ = writeln!(text, "checkpoints: {}", read.checkpoints);
    }
    let secs = elapsed.as_secs_f64();
    let rate = if secs > 0.0 {
        format!(", {:.0} lines/s", read.summary.lines_read as f64 / secs)
    } else {
        String::new()
    };
    let _ = writeln!(text, "elapsed: {secs:.2} s{rate}");
    text
}

/// A one-line progress bar on stderr, only when stderr is a terminal (a pipe or a log file
/// gets the summary alone), redrawn at most five times a second.
#[derive(Debug)]
struct Progress {
    enabled: bool,
    total_bytes: u64,
    started: Instant,
    drawn: Option<Instant>,
}

impl Progress {
    fn new(total_bytes: u64) -> Progress {
        Progress {
            enabled: std::io::stderr().is_terminal(),
            total_bytes,
            started: Instant::now(),
            drawn: None,
        }
    }

    fn tick<R: std::io::BufRead>(&mut self, lines: &maclc_runtime::input::DecodeLines<'_, R>) {
        if !self.enabled || !lines.summary().lines_read.is_multiple_of(1024) {
            return;
        }
        let now = Instant::now();
        if self
            .drawn
            .is_some_and(|t| now.duration_since(t) < Duration::from_millis(200))
        {
            return;
        }
        self.drawn = Some(now);
        let at = lines.input_position();
        let fraction = at.offset as f64 / self.total_bytes.max(1) as f64;
        const WIDTH: usize = 30;
        let filled = ((fraction * WIDTH as f64) as usize).min(WIDTH);
        let secs = now.duration_since(self.started).as_secs_f64().max(1e-3);
        eprint!(
            "\r[{}{}] {:>3.0}%  {} lines  {:.0} lines/s ",
            "#".repeat(filled),
            " ".repeat(WIDTH - filled),
            fraction * 100.0,
            at.line,
            at.line as f64 / secs
        );
    }

    /// The input is read: the bar gives way to a note while the contacts are evaluated (which
    /// [`Progress::done`] clears).
    fn clear(&mut self) {
        if self.enabled && self.drawn.is_some() {
            eprint!(
                "\r{:<80}",
                "all lines read; evaluating every contact in event time…"
            );
        }
    }

    /// Clears the line the bar used, before the summary.
    fn done() {
        if std::io::stderr().is_terminal() {
            eprint!("\r{}\r", " ".repeat(80));
        }
    }
}
