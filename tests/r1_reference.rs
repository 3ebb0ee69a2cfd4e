//! `maclc run examples/reference-r1` against the independent Python reference of R1
//! (`tests/reference/r1_reference.py`, see `tests/reference/README.md`).
//!
//! Each test generates a workload file with `gen_events.py`, scores it with the reference
//! and with `maclc run`, and requires byte-identical per-contact state files.
//!
//! The generator is found at `CARGO_MANIFEST_DIR/../shared/workload/gen_events.py`, or in
//! the folder named by the environment variable `MACLC_WORKLOAD_DIR`. The test prints
//! `SKIPPED: …` and passes when `python3` or the generator is missing, or when this build
//! of `maclc` has no `run` subcommand yet.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{SystemTime, UNIX_EPOCH};

/// The seed-3 workload of the reference self-checks.
const GEN_ARGS: &[&str] = &[
    "--contacts",
    "300",
    "--events",
    "12000",
    "--seed",
    "3",
    "--malformed-rate",
    "0.01",
];

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn workload_dir() -> PathBuf {
    match std::env::var_os("MACLC_WORKLOAD_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => repo_root().join("..").join("shared").join("workload"),
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn describe(what: &str, output: &Output) -> String {
    format!(
        "{what} failed ({}):\n--- stdout ---\n{}\n--- stderr ---\n{}",
        output.status,
        text(&output.stdout),
        text(&output.stderr)
    )
}

/// A fresh directory under the system temp dir, removed on drop unless the test failed.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let dir = std::env::temp_dir().join(format!(
            "maclc-r1-reference-{tag}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).expect("create a temp dir");
        TempDir(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("kept the files of the failed test in {}", self.0.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn python_available() -> bool {
    Command::new("python3")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

fn run_python(args: &[&std::ffi::OsStr], what: &str) {
    let output = Command::new("python3")
        .args(args)
        .current_dir(repo_root())
        .output()
        .expect("python3 runs");
    assert!(output.status.success(), "{}", describe(what, &output));
}

/// Lines where the two files differ, for the failure message.
fn first_differences(expected: &[u8], actual: &[u8], limit: usize) -> String {
    let expected: Vec<&[u8]> = expected.split(|&b| b == b'\n').collect();
    let actual: Vec<&[u8]> = actual.split(|&b| b == b'\n').collect();
    let mut report = format!(
        "reference: {} lines, maclc run: {} lines (counting a final empty piece after the last newline)\n",
        expected.len(),
        actual.len()
    );
    let mut shown = 0;
    for i in 0..expected.len().max(actual.len()) {
        let e = expected.get(i).copied();
        let a = actual.get(i).copied();
        if e != a {
            report.push_str(&format!(
                "line {}:\n  reference: {}\n  maclc run: {}\n",
                i + 1,
                e.map(text).unwrap_or_else(|| "<no line>".into()),
                a.map(text).unwrap_or_else(|| "<no line>".into()),
            ));
            shown += 1;
            if shown == limit {
                report.push_str("  …\n");
                break;
            }
        }
    }
    report
}

fn compare_with_reference(tag: &str, extra_gen_args: &[&str]) {
    if !python_available() {
        println!("SKIPPED: python3 is not available, so the R1 reference cannot run");
        return;
    }
    let generator = workload_dir().join("gen_events.py");
    if !generator.is_file() {
        println!(
            "SKIPPED: no workload generator at {} (set MACLC_WORKLOAD_DIR to the folder of gen_events.py)",
            generator.display()
        );
        return;
    }
    let reference = repo_root().join("tests/reference/r1_reference.py");
    let tmp = TempDir::new(tag);
    let events = tmp.path("events.jsonl");
    let manifest = tmp.path("manifest.json");
    let expected_state = tmp.path("reference.state.jsonl");
    let summary = tmp.path("reference.summary.json");
    let actual_state = tmp.path("maclc.state.jsonl");

    let mut gen_args: Vec<&std::ffi::OsStr> = vec![generator.as_os_str()];
    gen_args.extend(
        GEN_ARGS
            .iter()
            .chain(extra_gen_args)
            .map(std::ffi::OsStr::new),
    );
    gen_args.extend([
        "--out".as_ref(),
        events.as_os_str(),
        "--manifest".as_ref(),
        manifest.as_os_str(),
    ]);
    run_python(&gen_args, "gen_events.py");

    run_python(
        &[
            reference.as_os_str(),
            events.as_os_str(),
            "--out".as_ref(),
            expected_state.as_os_str(),
            "--summary".as_ref(),
            summary.as_os_str(),
        ],
        "the R1 reference",
    );

    let output = Command::new(env!("CARGO_BIN_EXE_maclc"))
        .arg("run")
        .arg("examples/reference-r1")
        .arg("--events")
        .arg(&events)
        .arg("--state-out")
        .arg(&actual_state)
        .current_dir(repo_root())
        .env("NO_COLOR", "1")
        .output()
        .expect("the maclc binary runs");
    if !output.status.success() {
        let stderr = text(&output.stderr);
        if stderr.contains("unrecognized subcommand") {
            println!(
                "SKIPPED: this build of maclc has no `run` subcommand yet ({})",
                stderr.lines().next().unwrap_or_default()
            );
            return;
        }
        panic!("{}", describe("maclc run examples/reference-r1", &output));
    }

    let expected = std::fs::read(&expected_state).expect("read the reference state");
    let actual = std::fs::read(&actual_state).expect("read the state written by maclc run");
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&summary).expect("read the reference summary"))
            .expect("the reference summary is JSON");
    assert!(
        expected == actual,
        "`maclc run` and the R1 reference disagree on {tag} ({}):\n{}\nreference summary: {summary}",
        events.display(),
        first_differences(&expected, &actual, 10)
    );
    println!(
        "{tag}: {} contacts identical to the reference (valid records {}, as of {})",
        summary["contacts"], summary["valid_records"], summary["as_of"]
    );
}

#[test]
fn run_matches_the_r1_reference_on_a_sorted_file() {
    compare_with_reference("sorted", &[]);
}

#[test]
fn run_matches_the_r1_reference_on_a_shuffled_file() {
    compare_with_reference("shuffled", &["--shuffle-window", "1000"]);
}

/// The reference is the oracle: its own hand-computed cases (caps, merges, window edges, every
/// reject reason) run with the rest of the suite.
#[test]
fn the_reference_passes_its_own_tests() {
    if !python_available() {
        println!("SKIPPED: python3 is not available, so the R1 reference cannot run");
        return;
    }
    let output = Command::new("python3")
        .args(["-m", "unittest", "test_r1_reference.py"])
        .current_dir(repo_root().join("tests/reference"))
        .env("MACLC_WORKLOAD_DIR", workload_dir())
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "{}",
        describe("the reference's unit tests", &output)
    );
}
