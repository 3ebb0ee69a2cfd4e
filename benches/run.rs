//! How fast `maclc run examples/reference-r1` goes on 1,000,000 generated events, and how much
//! memory it holds per contact.
//!
//! `cargo bench --bench run` prints one table: the whole command (wall time, events/s, MB/s of
//! input, peak memory) as a child process, then decoding and evaluation timed separately in
//! process, then bytes per contact; the whole command runs with `--no-state` (in memory), then
//! again by default (the run store in `.maclc/runs/`: checkpoints, removed at the end) and with
//! `--state DIR` (checkpoints, final states stored), with the size of the store per contact;
//! then the same
//! program with three journeys added (`benches/journeys.marketing`: an abandoned cart keyed per
//! cart, a webinar follow-up waiting for attendance, an MQL hand-off), to show what journeys
//! cost in time and in state per contact. The events come
//! from `../shared/workload/gen_events.py` (`MACLC_WORKLOAD_DIR` overrides the folder) and are
//! generated once into `target/bench-run/`.
//! It measures and prints; it never asserts.

mod support;

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use maclc_compiler::check::ConsentState;
use maclc_runtime::engine::{ContactState, Engine, EventMap};
use maclc_runtime::eval::Val;
use maclc_runtime::input::{decode_lines, Record};
use maclc_runtime::lifecycle::fnv1a;
use maclc_runtime::program_schema::input_schema;
use support::{events_file, load_project, manifest_dir};

const RUNS: usize = 3;
const PROJECT: &str = "examples/reference-r1";

/// `CARGO_BIN_EXE_maclc` is only given to integration tests, so the binary is found beside the
/// bench's own executable: `<target>/release/deps/run-…` → `<target>/release/maclc`.
fn maclc_binary() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let release = exe.parent()?.parent()?;
    let binary = release.join("maclc");
    if !binary.is_file() {
        println!("building the release binary…");
        let built = Command::new(env!("CARGO"))
            .args(["build", "--release", "--bin", "maclc"])
            .current_dir(manifest_dir())
            .status()
            .ok()?;
        if !built.success() {
            return None;
        }
    }
    binary.is_file().then_some(binary)
}

/// One run of the whole command: wall time, and peak resident memory in KB when `/usr/bin/time`
/// is there to report the child's maximum RSS (from the kernel's `wait4` rusage).
fn run_command(
    binary: &Path,
    project: &Path,
    events: &Path,
    state_out: &Path,
    extra: &[&std::ffi::OsStr],
) -> Option<(Duration, Option<u64>)> {
    let time = Path::new("/usr/bin/time");
    let rss_file = state_out.with_extension("rss");
    let mut command = if time.is_file() {
        let mut c = Command::new(time);
        c.arg("-f").arg("%M").arg("-o").arg(&rss_file).arg(binary);
        c
    } else {
        Command::new(binary)
    };
    command
        .arg("run")
        .arg(project)
        .arg("--events")
        .arg(events)
        .arg("--state-out")
        .arg(state_out)
        .args(extra)
        // Every path is absolute: the default store goes to `.maclc/runs/` beside the events.
        .current_dir(events.parent().unwrap_or(Path::new(".")))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let start = Instant::now();
    let status = command.status().ok()?;
    let wall = start.elapsed();
    if !status.success() {
        println!("`maclc run` failed: {status}");
        return None;
    }
    let rss = std::fs::read_to_string(&rss_file)
        .ok()
        .and_then(|t| t.trim().lines().last()?.trim().parse().ok());
    Some((wall, rss))
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// The heap and inline bytes of one contact's final state, from its public fields: vectors
/// counted by capacity, texts by length. Small allocations inside (timers, actions) are counted
/// by their inline size only, so this is a lower bound of what the allocator holds.
fn state_bytes(c: &ContactState) -> usize {
    use std::mem::size_of;
    fn vals(v: &[Val]) -> usize {
        v.iter()
            .map(|x| match x {
                Val::Text(t) => t.len(),
                _ => 0,
            })
            .sum()
    }
    let vec = |cap: usize, each: usize| cap * each;
    size_of::<ContactState>()
        + c.id.len()
        + vec(c.profile.capacity(), size_of::<Val>())
        + vals(&c.profile)
        + vec(c.account.capacity(), size_of::<Val>())
        + vals(&c.account)
        + vec(c.account_scores.capacity(), size_of::<Option<f64>>())
        + vec(c.consent.capacity(), size_of::<ConsentState>())
        + c.scores
            .iter()
            .map(|s| size_of_val(s) + s.profile_held.capacity() + s.profile_true.capacity())
            .sum::<usize>()
        + c.caps.iter().map(size_of_val).sum::<usize>()
        + c.history
            .iter()
            .map(|h| size_of_val(h) + h.properties.len() * size_of::<Val>() + vals(&h.properties))
            .sum::<usize>()
        + vec(
            c.changes.capacity(),
            size_of::<maclc_runtime::engine::Change>(),
        )
        + vec(c.segments.capacity(), 1)
        + vec(c.stage_changes.capacity(), size_of::<(i64, u32, u32)>())
        + c.timers.iter().map(size_of_val).sum::<usize>()
        + c.actions.iter().map(size_of_val).sum::<usize>()
        + vec(c.scores_checked.capacity(), size_of::<f64>())
}

struct InProcess {
    decode: Duration,
    evaluate: Duration,
    records: usize,
    contacts: usize,
    state_bytes: usize,
    /// Bytes of every contact's state as the run store keeps it (`store::encode_contact`).
    stored_bytes: usize,
    history_entries: usize,
    changes: usize,
}

/// Decoding and evaluation timed apart, in this process, the way `src/cmd/run.rs` drives them
/// (decode every line, push every valid record, then `finish`).
fn in_process(dir: &Path, events: &Path) -> Result<InProcess, String> {
    let (sources, ir) = load_project(dir)?;
    let (schema, track_map) = input_schema(&ir);
    let hash = sources.iter().fold(0u64, |h, f| {
        fnv1a(&[f.name.as_bytes(), f.text.as_bytes()], h)
    });

    let input = File::open(events).map_err(|e| format!("cannot open the events: {e}"))?;
    let start = Instant::now();
    let records: Vec<Record> = decode_lines(BufReader::with_capacity(1 << 20, input), &schema)
        .filter_map(Result::ok)
        .collect();
    let decode = start.elapsed();

    let count = records.len();
    let start = Instant::now();
    let mut engine = Engine::new(&ir, EventMap::new(&ir, track_map)).with_program_hash(hash);
    for record in records {
        engine.push(record);
    }
    let output = engine.finish(None);
    let evaluate = start.elapsed();

    Ok(InProcess {
        decode,
        evaluate,
        records: count,
        contacts: output.contacts.len(),
        state_bytes: output.contacts.iter().map(state_bytes).sum(),
        stored_bytes: output
            .contacts
            .iter()
            .map(|c| maclc_runtime::store::encode_contact(c).len())
            .sum(),
        history_entries: output.contacts.iter().map(|c| c.history.len()).sum(),
        changes: output.contacts.iter().map(|c| c.changes.len()).sum(),
    })
}

fn main() {
    let Some(events) = events_file() else {
        return;
    };
    let Some(binary) = maclc_binary() else {
        println!("skipped: no release binary `maclc` and `cargo build --release` failed");
        return;
    };
    let bytes = std::fs::metadata(&events).map(|m| m.len()).unwrap_or(0);
    let lines = std::fs::read(&events)
        .map(|b| b.iter().filter(|&&c| c == b'\n').count())
        .unwrap_or(0);
    let state_out = events.with_file_name("state.jsonl");

    let project = manifest_dir().join(PROJECT);
    let mut walls = Vec::new();
    let mut peaks = Vec::new();
    for _ in 0..RUNS {
        match run_command(
            &binary,
            &project,
            &events,
            &state_out,
            &["--no-state".as_ref()],
        ) {
            Some((wall, rss)) => {
                walls.push(wall);
                peaks.extend(rss);
            }
            None => return,
        }
    }
    // The command as a user types it: the run store in its default folder, removed at the end.
    let mut default_walls = Vec::new();
    for _ in 0..RUNS {
        match run_command(&binary, &project, &events, &state_out, &[]) {
            Some((wall, _)) => default_walls.push(wall),
            None => return,
        }
    }
    let default_in_order = default_walls.clone();
    let default_wall = median(&mut default_walls);
    // The runs in the order they ran: a first run slower than the others shows a cold cache.
    let in_order = walls.clone();
    let wall = median(&mut walls);
    let peak_kb = peaks.iter().copied().max();
    let state_contacts = std::fs::read_to_string(&state_out)
        .map(|t| t.lines().count())
        .unwrap_or(0);

    // The same command with the run store: a fresh `--state` folder each run, checkpoints at
    // the default interval, the final contact states written to the store at the end.
    let store_dir = events.with_file_name("state-store");
    let mut store_walls = Vec::new();
    let mut store_peaks = Vec::new();
    for _ in 0..RUNS {
        let _ = std::fs::remove_dir_all(&store_dir);
        let extra = ["--state".as_ref(), store_dir.as_os_str()];
        match run_command(&binary, &project, &events, &state_out, &extra) {
            Some((wall, rss)) => {
                store_walls.push(wall);
                store_peaks.extend(rss);
            }
            None => return,
        }
    }
    let store_in_order = store_walls.clone();
    let store_wall = median(&mut store_walls);
    let store_peak_kb = store_peaks.iter().copied().max();
    let store_file = std::fs::metadata(store_dir.join(maclc_runtime::store::STORE_FILE))
        .map(|m| m.len())
        .unwrap_or(0);

    let inproc = match in_process(&project, &events) {
        Ok(r) => Some(r),
        Err(e) => {
            println!("in-process timing skipped: {e}");
            None
        }
    };
    let journeys = with_journeys(&binary, &events, &state_out);

    let secs = wall.as_secs_f64();
    println!(
        "maclc run {PROJECT} on {} ({lines} lines, {:.1} MB), {RUNS} runs",
        events.display(),
        bytes as f64 / 1e6
    );
    println!("| measure | value |");
    println!("|---|---|");
    println!(
        "| whole command with `--no-state`, wall time (median of {RUNS}) | {secs:.2} s (runs: {}) |",
        in_order
            .iter()
            .map(|w| format!("{:.2}", w.as_secs_f64()))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "| events/s (input lines / wall time) | {:.0} |",
        lines as f64 / secs
    );
    println!("| MB/s of input | {:.1} |", bytes as f64 / 1e6 / secs);
    match peak_kb {
        Some(kb) => println!(
            "| peak memory (max RSS, `/usr/bin/time -f %M`) | {:.0} MiB |",
            kb as f64 / 1024.0
        ),
        None => println!("| peak memory | not measured (no /usr/bin/time) |"),
    }
    println!("| contacts in `--state-out` | {state_contacts} |");
    println!(
        "| by default (store in `.maclc/runs/`, removed at the end): wall time (median of {RUNS}) | {:.2} s (runs: {}) |",
        default_wall.as_secs_f64(),
        default_in_order
            .iter()
            .map(|w| format!("{:.2}", w.as_secs_f64()))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let store_secs = store_wall.as_secs_f64();
    println!(
        "| with `--state DIR`: wall time (median of {RUNS}) | {store_secs:.2} s (runs: {}) |",
        store_in_order
            .iter()
            .map(|w| format!("{:.2}", w.as_secs_f64()))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "| with `--state DIR`: events/s | {:.0} |",
        lines as f64 / store_secs
    );
    if let Some(kb) = store_peak_kb {
        println!(
            "| with `--state DIR`: peak memory (max RSS) | {:.0} MiB |",
            kb as f64 / 1024.0
        );
    }
    println!(
        "| with `--state DIR`: store file at the end | {:.1} MB ({:.0} B per contact) |",
        store_file as f64 / 1e6,
        store_file as f64 / state_contacts.max(1) as f64
    );
    if let Some(r) = &inproc {
        let per = |d: Duration| d.as_secs_f64() * 1e9 / lines.max(1) as f64;
        println!(
            "| in process: decode {lines} lines to {} records | {:.2} s ({:.0} ns/line) |",
            r.records,
            r.decode.as_secs_f64(),
            per(r.decode)
        );
        println!(
            "| in process: evaluate (push + finish: identity, sort, replay) | {:.2} s ({:.0} ns/line) |",
            r.evaluate.as_secs_f64(),
            per(r.evaluate)
        );
        println!(
            "| contact state as stored (`store::encode_contact`), per contact | {:.0} B |",
            r.stored_bytes as f64 / r.contacts.max(1) as f64
        );
        println!(
            "| final state per contact (field walk, lower bound) | {:.0} B ({} history entries, {} changes in all) |",
            r.state_bytes as f64 / r.contacts.max(1) as f64,
            r.history_entries,
            r.changes
        );
    }
    if let (Some(kb), true) = (peak_kb, state_contacts > 0) {
        println!(
            "| peak memory / contacts (upper bound, includes every kept record) | {:.1} KiB |",
            kb as f64 / state_contacts as f64
        );
    }
    if let Some(j) = &journeys {
        println!();
        println!(
            "with the 3 journeys of `benches/journeys.marketing` added to {PROJECT}, same input"
        );
        println!("| measure | value |");
        println!("|---|---|");
        let secs = j.wall.as_secs_f64();
        println!(
            "| whole command, wall time (median of {RUNS}) | {secs:.2} s (without journeys: {:.2} s) |",
            wall.as_secs_f64()
        );
        println!(
            "| events/s (input lines / wall time) | {:.0} |",
            lines as f64 / secs
        );
        if let Some(kb) = j.peak_kb {
            println!("| peak memory (max RSS) | {:.0} MiB |", kb as f64 / 1024.0);
        }
        println!("| actions written | {} |", j.actions);
        if let Some(r) = &j.inproc {
            println!(
                "| in process: evaluate (push + finish) | {:.2} s |",
                r.evaluate.as_secs_f64()
            );
            println!(
                "| contact state as stored (`store::encode_contact`), per contact | {:.0} B |",
                r.stored_bytes as f64 / r.contacts.max(1) as f64
            );
        }
    }
}

struct WithJourneys {
    wall: Duration,
    peak_kb: Option<u64>,
    actions: usize,
    inproc: Option<InProcess>,
}

/// R1 with three journeys: the project is copied next to the events with
/// `benches/journeys.marketing` added, then run like the plain one (with `--actions`).
fn with_journeys(binary: &Path, events: &Path, state_out: &Path) -> Option<WithJourneys> {
    let dir = events.with_file_name("r1-with-journeys");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).ok()?;
    let r1 = manifest_dir().join(PROJECT);
    for entry in std::fs::read_dir(&r1).ok()?.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|x| x == "marketing") {
            std::fs::copy(&path, dir.join(entry.file_name())).ok()?;
        }
    }
    std::fs::copy(
        manifest_dir().join("benches/journeys.marketing"),
        dir.join("journeys.marketing"),
    )
    .ok()?;
    let actions = events.with_file_name("actions-journeys.jsonl");
    let extra = [
        "--actions".as_ref(),
        actions.as_os_str(),
        "--no-state".as_ref(),
    ];
    let mut walls = Vec::new();
    let mut peaks = Vec::new();
    for _ in 0..RUNS {
        let (wall, rss) = run_command(binary, &dir, events, state_out, &extra)?;
        walls.push(wall);
        peaks.extend(rss);
    }
    let inproc = match in_process(&dir, events) {
        Ok(r) => Some(r),
        Err(e) => {
            println!("in-process timing with journeys skipped: {e}");
            None
        }
    };
    Some(WithJourneys {
        wall: median(&mut walls),
        peak_kb: peaks.iter().copied().max(),
        actions: std::fs::read_to_string(&actions)
            .map(|t| t.lines().count())
            .unwrap_or(0),
        inproc,
    })
}
