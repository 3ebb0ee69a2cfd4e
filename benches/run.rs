//! How fast `maclc run examples/reference-r1` goes on 1,000,000 generated events, and how much
//! memory it holds per contact.
//!
//! `cargo bench --bench run` prints one table: the whole command (wall time, events/s, MB/s of
//! input, peak memory) as a child process, then decoding and evaluation timed separately in
//! process, then bytes per contact; the whole command runs with `--no-state` (in memory) on one
//! thread and on every core, then again as a user types it (every core, the run store in its
//! default folder `.maclc/runs/`: checkpoints, removed at the end) and with `--state DIR`
//! (checkpoints, final states stored), with the size of the store per contact; then the same
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

/// The allocator of the `maclc` binary, so that the in-process figures are those of the command.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
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

/// One run of the whole command.
struct Timed {
    wall: Duration,
    /// Peak resident memory in KB, when `/usr/bin/time` is there to report the child's maximum
    /// RSS (from the kernel's `wait4` rusage).
    rss: Option<u64>,
    /// CPU seconds (user + system) of the child: on a shared machine, what the run itself cost.
    cpu: Option<f64>,
}

fn run_command(
    binary: &Path,
    project: &Path,
    events: &Path,
    state_out: &Path,
    extra: &[&std::ffi::OsStr],
) -> Option<Timed> {
    let time = Path::new("/usr/bin/time");
    let rss_file = state_out.with_extension("rss");
    let mut command = if time.is_file() {
        let mut c = Command::new(time);
        c.arg("-f")
            .arg("%M %U %S")
            .arg("-o")
            .arg(&rss_file)
            .arg(binary);
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
    let report = std::fs::read_to_string(&rss_file).unwrap_or_default();
    let fields: Vec<&str> = report
        .trim()
        .lines()
        .last()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    let number = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
    Some(Timed {
        wall,
        rss: number(0).map(|kb| kb as u64),
        cpu: number(1).zip(number(2)).map(|(u, s)| u + s),
    })
}

/// The load average over the last minute (`/proc/loadavg`): the machine may be shared.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|t| t.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "unknown".to_string())
}

/// Runs of one command: the median wall time, the walls in the order they ran, the largest
/// peak memory (KB) and the median CPU time (s).
type Measured = (Duration, Vec<Duration>, Option<u64>, Option<f64>);

/// [`RUNS`] runs of the command.
fn measure(
    binary: &Path,
    project: &Path,
    events: &Path,
    state_out: &Path,
    extra: &[&std::ffi::OsStr],
) -> Option<Measured> {
    let mut walls = Vec::new();
    let mut peaks = Vec::new();
    let mut cpus = Vec::new();
    for _ in 0..RUNS {
        let t = run_command(binary, project, events, state_out, extra)?;
        walls.push(t.wall);
        peaks.extend(t.rss);
        cpus.extend(t.cpu);
    }
    let in_order = walls.clone();
    cpus.sort_by(f64::total_cmp);
    let cpu = cpus.get(cpus.len() / 2).copied();
    Some((
        median(&mut walls),
        in_order,
        peaks.iter().copied().max(),
        cpu,
    ))
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
    let bytes = input.metadata().map_or(0, |m| m.len());
    // As `maclc run --no-state` reads: no store, so no hash of the lines.
    let records: Vec<Record> = decode_lines(BufReader::with_capacity(1 << 20, input), &schema)
        .without_hash()
        .filter_map(Result::ok)
        .collect();
    let decode = start.elapsed();

    let count = records.len();
    let start = Instant::now();
    let mut engine = Engine::new(&ir, EventMap::new(&ir, track_map)).with_program_hash(hash);
    engine.expect_input_bytes(bytes);
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
    let load_before = load_average();
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let cores_text = cores.to_string();
    // The runs in the order they ran: a first run slower than the others shows a cold cache.
    let one = ["--no-state".as_ref(), "--threads".as_ref(), "1".as_ref()];
    let Some((wall, in_order, peak_kb, cpu)) =
        measure(&binary, &project, &events, &state_out, &one)
    else {
        return;
    };
    let all = [
        "--no-state".as_ref(),
        "--threads".as_ref(),
        cores_text.as_ref(),
    ];
    let Some((all_wall, all_in_order, all_peak_kb, all_cpu)) =
        measure(&binary, &project, &events, &state_out, &all)
    else {
        return;
    };
    // The command as a user types it: every core, the run store in its default folder.
    let Some((default_wall, default_in_order, _, _)) =
        measure(&binary, &project, &events, &state_out, &[])
    else {
        return;
    };
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
        let extra = [
            "--state".as_ref(),
            store_dir.as_os_str(),
            "--threads".as_ref(),
            "1".as_ref(),
        ];
        match run_command(&binary, &project, &events, &state_out, &extra) {
            Some(t) => {
                store_walls.push(t.wall);
                store_peaks.extend(t.rss);
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

    println!(
        "maclc run {PROJECT} on {} ({lines} lines, {:.1} MB), {RUNS} runs each; load average (1 min) {load_before} before, {} after",
        events.display(),
        bytes as f64 / 1e6,
        load_average()
    );
    println!("| measure | value |");
    println!("|---|---|");
    for (label, wall, in_order, peak_kb, cpu) in [
        ("1 thread", wall, &in_order, peak_kb, cpu),
        (
            &*format!("{cores} threads (all cores)"),
            all_wall,
            &all_in_order,
            all_peak_kb,
            all_cpu,
        ),
    ] {
        let secs = wall.as_secs_f64();
        println!(
            "| {label}: whole command, wall time (median of {RUNS}) | {secs:.2} s (runs: {}) |",
            in_order
                .iter()
                .map(|w| format!("{:.2}", w.as_secs_f64()))
                .collect::<Vec<_>>()
                .join(", ")
        );
        println!(
            "| {label}: events/s (input lines / wall time) | {:.0} |",
            lines as f64 / secs
        );
        println!(
            "| {label}: MB/s of input | {:.1} |",
            bytes as f64 / 1e6 / secs
        );
        if let Some(cpu) = cpu {
            println!(
                "| {label}: CPU time (user + system, median) | {cpu:.2} s ({:.0} events per CPU-second) |",
                lines as f64 / cpu.max(1e-9)
            );
        }
        match peak_kb {
            Some(kb) => println!(
                "| {label}: peak memory (max RSS, `/usr/bin/time -f %M`) | {:.0} MiB |",
                kb as f64 / 1024.0
            ),
            None => println!("| {label}: peak memory | not measured (no /usr/bin/time) |"),
        }
    }
    println!("| contacts in `--state-out` | {state_contacts} |");
    println!(
        "| by default ({cores} threads, store in `.maclc/runs/`, removed at the end): wall time (median of {RUNS}) | {:.2} s (runs: {}) |",
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
        "--threads".as_ref(),
        "1".as_ref(),
    ];
    let (wall, _, peak_kb, _) = measure(binary, &dir, events, state_out, &extra)?;
    let inproc = match in_process(&dir, events) {
        Ok(r) => Some(r),
        Err(e) => {
            println!("in-process timing with journeys skipped: {e}");
            None
        }
    };
    Some(WithJourneys {
        wall,
        peak_kb,
        actions: std::fs::read_to_string(&actions)
            .map(|t| t.lines().count())
            .unwrap_or(0),
        inproc,
    })
}
