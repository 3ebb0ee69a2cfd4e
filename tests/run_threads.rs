//! `maclc run --threads N` writes the same bytes for any N: the state, the actions, the accounts,
//! the rejects and the summary, on programs with cross-contact parts (round-robin routing,
//! account scores, actions in time order) and on inputs of several decoding chunks, with and
//! without a reordering window, with and without the run store.

use std::path::Path;
use std::process::{Command, Output};

fn maclc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_maclc"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap_or_else(|e| panic!("maclc does not run: {e}"))
}

/// Every output of one run, and its summary without the elapsed-time line.
fn run(project: &str, events: &Path, threads: usize, extra: &[&str], dir: &Path) -> Vec<Vec<u8>> {
    let file = |name: &str| dir.join(format!("{threads}-{name}")).display().to_string();
    let names = ["state", "actions", "accounts", "rejects"];
    let paths: Vec<String> = names.iter().map(|n| file(n)).collect();
    let threads_text = threads.to_string();
    let mut args = vec![
        "run",
        project,
        "--events",
        events.to_str().unwrap_or_default(),
        "--state-out",
        &paths[0],
        "--actions",
        &paths[1],
        "--accounts-out",
        &paths[2],
        "--rejects",
        &paths[3],
        "--threads",
        &threads_text,
    ];
    args.extend_from_slice(extra);
    let out = maclc(&args);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        out.status.success(),
        "{project} --threads {threads}: {stderr}"
    );
    let summary: String = stderr
        .lines()
        .filter(|l| !l.starts_with("elapsed: "))
        .map(|l| format!("{l}\n"))
        .collect();
    let mut outputs: Vec<Vec<u8>> = paths
        .iter()
        .map(|p| std::fs::read(p).unwrap_or_else(|e| panic!("{p}: {e}")))
        .collect();
    outputs.push(summary.into_bytes());
    outputs.push(out.stdout);
    outputs
}

fn same_for_any_thread_count(project: &str, events: &Path, extra: &[&str]) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let one = run(project, events, 1, extra, dir.path());
    assert!(!one[0].is_empty(), "{project}: no state written");
    for threads in [2, 4] {
        let many = run(project, events, threads, extra, dir.path());
        for (k, name) in [
            "state", "actions", "accounts", "rejects", "summary", "stdout",
        ]
        .iter()
        .enumerate()
        {
            assert!(
                one.get(k) == many.get(k),
                "{project} {extra:?}: the {name} differs between --threads 1 and --threads {threads}"
            );
        }
    }
}

/// The R1 sample four times over (12,000 lines: several chunks of lines decoded ahead, the
/// later copies out of order) with a few bad lines among them.
fn long_input(dir: &Path) -> std::path::PathBuf {
    // Bytes: the sample has lines that are not UTF-8 on purpose.
    let sample = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/reference-r1/events.sample.jsonl"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut text = Vec::new();
    for copy in 0..4 {
        text.extend_from_slice(&sample);
        text.extend_from_slice(format!("{{\"type\":\"track\",\"cut short {copy}\n").as_bytes());
        text.extend_from_slice(b"[1, 2]\n");
    }
    let path = dir.join("long.jsonl");
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
    path
}

#[test]
fn every_example_run_is_the_same_on_1_2_and_4_threads() {
    let sample =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/reference-r1/events.sample.jsonl");
    for project in [
        "examples/reference-r1",
        "examples/printers",
        "examples/journeys",
    ] {
        same_for_any_thread_count(project, &sample, &[]);
    }
}

#[test]
fn a_long_input_is_the_same_on_1_2_and_4_threads_with_and_without_a_window() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let events = long_input(dir.path());
    for project in ["examples/reference-r1", "examples/printers"] {
        same_for_any_thread_count(project, &events, &[]);
        same_for_any_thread_count(project, &events, &["--max-out-of-order", "1d"]);
    }
}

#[test]
fn a_run_with_the_store_is_the_same_on_1_2_and_4_threads() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let events = long_input(dir.path());
    let store = dir.path().join("store").display().to_string();
    same_for_any_thread_count(
        "examples/printers",
        &events,
        &["--state", &store, "--fresh", "--checkpoint-every", "1000"],
    );
}
