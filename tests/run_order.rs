//! End to end: `maclc run --max-out-of-order`, the bounded reordering window.
//!
//! A hand-written input with one record far out of order shows the `too_late` reject and that
//! the other records still give the state of the sorted file; a generous window (or none) gives
//! the sorted run's output. A file shuffled by `gen_events.py --shuffle-window 1000` gives the
//! unshuffled file's state under `--max-out-of-order 7d`, once the test has checked on the data
//! that the shuffle moves no record 7 days behind a later one. Without the generator or
//! `python3` that last test prints SKIPPED and passes.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use maclc_runtime::input::time::parse_timestamp;

fn maclc(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_maclc"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("maclc does not run: {e}"))
}

/// Runs the R1 example over `events` (with `extra` options); returns the state, the rejects
/// and the summary.
fn run_r1(dir: &Path, events: &Path, extra: &[&str]) -> (String, String, String) {
    let (state, rejects) = (dir.join("state"), dir.join("rejects"));
    let mut args: Vec<&std::ffi::OsStr> = vec![
        "run".as_ref(),
        "examples/reference-r1".as_ref(),
        "--events".as_ref(),
        events.as_os_str(),
        "--state-out".as_ref(),
        state.as_os_str(),
        "--rejects".as_ref(),
        rejects.as_os_str(),
    ];
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    let output = maclc(&args);
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(output.status.success(), "maclc run failed: {stderr}");
    // The elapsed time is the one line of the summary that may differ between runs.
    let summary: String = stderr
        .lines()
        .filter(|l| !l.starts_with("elapsed: "))
        .map(|l| format!("{l}\n"))
        .collect();
    (read(&state), read(&rejects), summary)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn write(dir: &Path, name: &str, lines: &[String]) -> PathBuf {
    let path = dir.join(name);
    let mut text = lines.join("\n");
    text.push('\n');
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    path
}

const IDENTIFY: &str = r#"{"type":"identify","userId":"user-1","traits":{"email":"lea.thomas@zephyr.example","first_name":"Léa","country":"FR","timezone":"Europe/Paris","consent":{"email":"granted","sms":"unknown"},"unsubscribed":false,"blocklisted":false},"timestamp":"2026-03-02T08:00:00.000Z","messageId":"m0"}"#;

fn page(path: &str, time: &str, id: &str) -> String {
    format!(
        r#"{{"type":"page","userId":"user-1","properties":{{"path":"{path}","url":"https://printers.example{path}"}},"timestamp":"2026-03-02T{time}:00.000Z","messageId":"{id}"}}"#
    )
}

/// In file order; line 5 is 6 hours behind line 4, line 6 half an hour behind it.
fn out_of_order() -> Vec<String> {
    vec![
        IDENTIFY.to_string(),
        page("/products/general", "09:00", "m1"),
        page("/products/general", "10:00", "m2"),
        page("/medical", "12:00", "m3"),
        page("/products/general", "06:00", "m4"),
        page("/medical", "11:30", "m5"),
    ]
}

fn sorted_by_time(mut lines: Vec<String>) -> Vec<String> {
    lines.sort_by_key(|l| {
        let v: serde_json::Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}"));
        v["timestamp"].as_str().unwrap_or_default().to_string()
    });
    lines
}

#[test]
fn a_record_beyond_the_window_is_too_late() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let events = write(dir.path(), "events.jsonl", &out_of_order());
    let (state, rejects, summary) = run_r1(dir.path(), &events, &["--max-out-of-order", "1h"]);

    // Line 5 only: line 6 is 30 minutes late, within the hour.
    let rejects: Vec<serde_json::Value> = rejects
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}")))
        .collect();
    assert_eq!(rejects.len(), 1, "{rejects:?}");
    assert_eq!(rejects[0]["line"], 5);
    assert_eq!(rejects[0]["reason"], "too_late");
    assert_eq!(rejects[0]["raw"].as_str(), Some(out_of_order()[4].as_str()));
    let detail = rejects[0]["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("6h before") && detail.contains("1h"),
        "{detail}"
    );
    assert!(summary.contains("valid records: 5\n"), "{summary}");
    assert!(summary.contains("rejected lines: 1\n"), "{summary}");
    assert!(summary.contains("  too_late: 1 ("), "{summary}");

    // Two general pages (the third was too late) and two medical pages, in time order.
    let v: serde_json::Value = serde_json::from_str(state.trim()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v["contact"], "user-1");
    assert_eq!(v["general_interest"], 10);
    assert_eq!(v["medical_interest"], 10);

    // The same as the sorted file without the late record.
    let mut without = out_of_order();
    without.remove(4);
    let sorted = write(dir.path(), "without.jsonl", &sorted_by_time(without));
    let (sorted_state, sorted_rejects, _) = run_r1(dir.path(), &sorted, &[]);
    assert_eq!(state, sorted_state);
    assert_eq!(sorted_rejects, "");
}

#[test]
fn a_generous_window_or_none_gives_the_sorted_run() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let events = write(dir.path(), "events.jsonl", &out_of_order());
    let sorted = write(dir.path(), "sorted.jsonl", &sorted_by_time(out_of_order()));
    let (expected, no_rejects, _) = run_r1(dir.path(), &sorted, &[]);
    assert_eq!(no_rejects, "");
    let v: serde_json::Value =
        serde_json::from_str(expected.trim()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v["general_interest"], 15);
    for extra in [
        &[][..],
        &["--max-out-of-order", "6h"],
        &["--max-out-of-order", "7d"],
    ] {
        let (state, rejects, summary) = run_r1(dir.path(), &events, extra);
        assert_eq!(state, expected, "{extra:?}");
        assert_eq!(rejects, "", "{extra:?}");
        assert!(!summary.contains("too_late"), "{summary}");
    }
}

#[test]
fn a_bad_duration_is_a_usage_error() {
    for bad in ["10", "ten minutes", "5x", "-1h", "99999999999999999999d"] {
        // `=`: so that `-1h` is the option's value, not an option of its own.
        let option = format!("--max-out-of-order={bad}");
        let output = maclc(&[
            "run".as_ref(),
            "examples/reference-r1".as_ref(),
            "--events".as_ref(),
            "examples/reference-r1/events.sample.jsonl".as_ref(),
            option.as_ref(),
        ]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{bad}: {stderr}");
        assert!(
            stderr.contains("--max-out-of-order") && stderr.contains("not a duration"),
            "{bad}: {stderr}"
        );
    }
}

/// How far, at most, a record's time falls behind the latest time of the lines before it
/// (over every line whose timestamp parses: an upper bound of what the run measures).
fn largest_lag(path: &Path) -> i64 {
    // Bytes: the generator writes some lines that are not UTF-8 on purpose.
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut latest = i64::MIN;
    let mut lag = 0i64;
    for line in bytes.split(|&b| b == b'\n') {
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(line) else {
            continue;
        };
        let Some(Ok(ts)) = v["timestamp"].as_str().map(parse_timestamp) else {
            continue;
        };
        if latest > ts {
            lag = lag.max(latest - ts);
        }
        latest = latest.max(ts);
    }
    lag
}

/// Generates the same contacts and events over `days` days, sorted and shuffled by
/// `--shuffle-window 1000`.
fn generate_pair(script: &Path, dir: &Path, days: &str) -> (PathBuf, PathBuf) {
    let sorted = support::generate(
        script,
        dir,
        &format!("events-{days}.jsonl"),
        &["--days", days],
    );
    let shuffled = support::generate(
        script,
        dir,
        &format!("shuffled-{days}.jsonl"),
        &["--days", days, "--shuffle-window", "1000"],
    );
    (sorted, shuffled)
}

const DAY: i64 = 86_400_000;

#[test]
fn a_shuffled_generated_file_within_7_days_gives_the_sorted_state() {
    let Some(script) = support::generator() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));

    // "1000 lines is far less than 7 days" depends on the density of the file: 12,000 lines
    // over 30 days put 1000 lines at about 2.5 days, and the shuffle's largest lag is measured
    // here rather than assumed.
    let (sorted, shuffled) = generate_pair(&script, dir.path(), "30");
    let lag = largest_lag(&shuffled);
    eprintln!("over 30 days, the largest lag in the shuffled file: {lag} ms");
    assert!(lag > 0, "the shuffle did not reorder anything");
    assert!(lag < 7 * DAY, "a record is {lag} ms late");

    let (expected, expected_rejects, expected_summary) = run_r1(dir.path(), &sorted, &[]);
    let (state, rejects, summary) = run_r1(dir.path(), &shuffled, &["--max-out-of-order", "7d"]);
    assert!(
        state == expected,
        "the shuffled file under 7d changed the state"
    );
    assert!(!rejects.contains("too_late"));
    assert_eq!(rejects.lines().count(), expected_rejects.lines().count());
    assert_eq!(summary, expected_summary);

    // A window smaller than the shuffle's lag does bite.
    let (_, rejects, summary) = run_r1(dir.path(), &shuffled, &["--max-out-of-order", "1s"]);
    assert!(rejects.contains(r#""reason":"too_late""#));
    assert!(summary.contains("  too_late: "), "{summary}");
}

#[test]
fn over_the_default_180_days_the_shuffle_is_more_than_7_days_late() {
    let Some(script) = support::generator() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    // The same 12,000 lines over the generator's default 180 days: 1000 lines are about 15
    // days, so a 7-day window rejects records, and a window of the measured lag does not.
    let (sorted, shuffled) = generate_pair(&script, dir.path(), "180");
    let lag = largest_lag(&shuffled);
    eprintln!("over 180 days, the largest lag in the shuffled file: {lag} ms");
    assert!(lag > 7 * DAY, "the shuffle's lag is only {lag} ms");

    let (_, rejects, _) = run_r1(dir.path(), &shuffled, &["--max-out-of-order", "7d"]);
    assert!(rejects.contains(r#""reason":"too_late""#));

    let (expected, _, expected_summary) = run_r1(dir.path(), &sorted, &[]);
    let window = format!("{}ms", lag);
    let (state, rejects, summary) = run_r1(dir.path(), &shuffled, &["--max-out-of-order", &window]);
    assert!(
        state == expected,
        "the shuffled file under {window} changed the state"
    );
    assert!(!rejects.contains("too_late"));
    assert_eq!(summary, expected_summary);
}

/// Actions too: R1's rules plus `tests/crash/actions.marketing` (stages, SLA sends and
/// suppressed sends, a round robin) over the sample, once in file order and once shuffled in
/// blocks of 16 lines (a fixed-seed shuffle, so the test is the same every time). State and
/// actions — owners and idempotency keys included — are byte-identical, with no window and
/// with a window of exactly the shuffle's largest lag.
#[test]
fn a_shuffle_within_the_window_gives_the_same_actions() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let project = support::r1_with_actions(dir.path());

    let sample = std::fs::read(root.join("examples/reference-r1/events.sample.jsonl"))
        .unwrap_or_else(|e| panic!("{e}"));
    let lines: Vec<&[u8]> = sample
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let mut shuffled = lines.clone();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for block in shuffled.chunks_mut(16) {
        for i in (1..block.len()).rev() {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            block.swap(i, (seed % (i as u64 + 1)) as usize);
        }
    }
    assert_ne!(shuffled, lines, "the shuffle moved nothing");
    let time = |l: &[u8]| -> Option<i64> {
        let v: serde_json::Value = serde_json::from_slice(l).ok()?;
        parse_timestamp(v.get("timestamp")?.as_str()?).ok()
    };
    let mut latest = i64::MIN;
    let mut lag = 0;
    for t in shuffled.iter().filter_map(|l| time(l)) {
        lag = lag.max(latest.saturating_sub(t));
        latest = latest.max(t);
    }
    assert!(lag > 0, "no record is out of order");

    let join = |ls: &[&[u8]]| -> Vec<u8> {
        ls.iter()
            .flat_map(|l| l.iter().chain(b"\n"))
            .copied()
            .collect()
    };
    let run = |name: &str, input: &[u8], extra: &[String]| -> (Vec<u8>, Vec<u8>) {
        let events = dir.path().join(format!("{name}.jsonl"));
        std::fs::write(&events, input).unwrap_or_else(|e| panic!("{e}"));
        let (state, actions) = (dir.path().join("state"), dir.path().join("actions"));
        let mut args: Vec<std::ffi::OsString> = vec![
            "run".into(),
            project.clone().into(),
            "--events".into(),
            events.into(),
            "--state-out".into(),
            state.clone().into(),
            "--actions".into(),
            actions.clone().into(),
        ];
        args.extend(extra.iter().map(Into::into));
        let refs: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
        let output = maclc(&refs);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let read = |p: &Path| std::fs::read(p).unwrap_or_else(|e| panic!("{e}"));
        (read(&state), read(&actions))
    };
    let (state, actions) = run("sorted", &join(&lines), &[]);
    assert!(
        actions.iter().filter(|&&b| b == b'\n').count() > 20,
        "too few actions for the test to mean much"
    );
    for extra in [
        vec![],
        vec!["--max-out-of-order".into(), format!("{lag}ms")],
    ] {
        let (s, a) = run("shuffled", &join(&shuffled), &extra);
        assert!(
            s == state,
            "the shuffled file ({extra:?}) changed the state"
        );
        assert!(
            a == actions,
            "the shuffled file ({extra:?}) changed the actions"
        );
    }
}
