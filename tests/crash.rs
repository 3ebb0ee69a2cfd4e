//! A run stopped dead and started again writes the same bytes as a run never stopped.
//!
//! The project is `examples/reference-r1` plus `tests/crash/actions.marketing` (stages, an SLA
//! that sends or is suppressed, a round robin), so every output has lines: state, rejects,
//! actions. The stops are deterministic: the hidden `MACLC_TEST_CRASH_AT` makes `maclc run`
//! call `std::process::abort()` (no cleanup, like `kill -9`) right after checkpoint k, halfway
//! through the batch after checkpoint k (rejects of that batch already on disk), or after k
//! steps of writing the final outputs; then the same command runs again. One more test sends a
//! real SIGKILL to a child at whatever point it has reached: its assertion holds wherever that
//! is.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const EVENTS: &str = "examples/reference-r1/events.sample.jsonl";
const EVERY: u64 = 250;

/// The output files of one run, under `dir`.
struct Outputs {
    dir: PathBuf,
}

impl Outputs {
    fn new(dir: PathBuf) -> Outputs {
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        Outputs { dir }
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn args(&self, project: &Path, events: &Path, state: Option<&Path>) -> Vec<std::ffi::OsString> {
        let mut args: Vec<std::ffi::OsString> = vec![
            "run".into(),
            project.into(),
            "--events".into(),
            events.into(),
            "--state-out".into(),
            self.file("state.jsonl").into(),
            "--rejects".into(),
            self.file("rejects.jsonl").into(),
            "--actions".into(),
            self.file("actions.jsonl").into(),
        ];
        match state {
            Some(state) => args.extend([
                "--state".into(),
                state.into(),
                "--checkpoint-every".into(),
                EVERY.to_string().into(),
            ]),
            None => args.push("--no-state".into()),
        }
        args
    }

    /// The arguments of a run with neither `--state` nor `--no-state`: its progress goes to
    /// `.maclc/runs/` under the folder it runs in.
    fn default_args(&self, project: &Path, events: &Path) -> Vec<std::ffi::OsString> {
        let mut args = self.args(project, events, None);
        args.pop();
        args.extend(["--checkpoint-every".into(), EVERY.to_string().into()]);
        args
    }

    fn read(&self) -> [(String, Vec<u8>); 3] {
        ["state.jsonl", "rejects.jsonl", "actions.jsonl"].map(|name| {
            let bytes = std::fs::read(self.file(name))
                .unwrap_or_else(|e| panic!("{}: {e}", self.file(name).display()));
            (name.to_string(), bytes)
        })
    }
}

fn maclc(args: &[std::ffi::OsString], crash_at: Option<&str>) -> Output {
    maclc_in(&support::repo_root(), args, crash_at)
}

/// `maclc` run in the folder `cwd` (where a run without `--state` keeps its progress).
fn maclc_in(cwd: &Path, args: &[std::ffi::OsString], crash_at: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_maclc"));
    command.current_dir(cwd).args(args);
    command.env_remove("MACLC_TEST_CRASH_AT");
    if let Some(at) = crash_at {
        command.env("MACLC_TEST_CRASH_AT", at);
    }
    command
        .output()
        .unwrap_or_else(|e| panic!("maclc does not run: {e}"))
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A clean run without a store (`--no-state`): the outputs every other run must match.
fn clean(dir: &Path, project: &Path, events: &Path) -> [(String, Vec<u8>); 3] {
    let out = Outputs::new(dir.join("clean"));
    let output = maclc(&out.args(project, events, None), None);
    assert!(output.status.success(), "{}", stderr(&output));
    let files = out.read();
    for (name, bytes) in &files {
        assert!(
            !bytes.is_empty(),
            "the clean run wrote no {name}: the test would prove nothing"
        );
    }
    files
}

fn assert_same(expected: &[(String, Vec<u8>); 3], got: &[(String, Vec<u8>); 3], case: &str) {
    for ((name, want), (_, have)) in expected.iter().zip(got) {
        assert!(
            want == have,
            "{case}: {name} differs from the clean run ({} bytes, expected {})",
            have.len(),
            want.len()
        );
    }
}

/// Runs with `crashes` in turn (each must stop the process), then once more to the end;
/// returns the outputs and the last run's stderr.
fn crash_then_resume(
    dir: &Path,
    project: &Path,
    events: &Path,
    crashes: &[String],
) -> ([(String, Vec<u8>); 3], String) {
    let out = Outputs::new(dir.to_path_buf());
    let state = dir.join("state");
    let args = out.args(project, events, Some(&state));
    for at in crashes {
        let output = maclc(&args, Some(at));
        assert!(
            !output.status.success(),
            "MACLC_TEST_CRASH_AT={at} did not stop the run: {}",
            stderr(&output)
        );
    }
    let output = maclc(&args, None);
    let err = stderr(&output);
    assert!(
        output.status.success(),
        "resuming after {crashes:?} failed: {err}"
    );
    (out.read(), err)
}

#[test]
fn a_run_stopped_anywhere_resumes_to_the_same_bytes() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let project = support::r1_with_actions(tmp.path());
    let events = support::repo_root().join(EVENTS);
    let expected = clean(tmp.path(), &project, &events);
    let lines = std::fs::read(&events)
        .unwrap_or_else(|e| panic!("{e}"))
        .iter()
        .filter(|&&b| b == b'\n')
        .count() as u64;
    // One checkpoint per full batch, and one when the input ends.
    let checkpoints = lines.div_ceil(EVERY) + u64::from(lines.is_multiple_of(EVERY));
    let output_steps = expected
        .iter()
        .filter(|(name, _)| name != "rejects.jsonl")
        .map(|(_, b)| b.iter().filter(|&&c| c == b'\n').count() as u64 + 1)
        .sum::<u64>();

    let mut cases: Vec<Vec<String>> = Vec::new();
    for k in 1..=checkpoints {
        cases.push(vec![format!("checkpoint:{k}")]);
    }
    for k in 0..checkpoints - 1 {
        cases.push(vec![format!("batch:{k}")]);
    }
    for k in [
        1,
        2,
        output_steps / 2,
        output_steps - 3,
        output_steps - 1,
        output_steps,
    ] {
        cases.push(vec![format!("output:{k}")]);
    }
    // Stopped again while resuming.
    cases.push(vec![
        "batch:2".into(),
        "checkpoint:5".into(),
        "output:7".into(),
    ]);
    cases.push(vec!["checkpoint:1".into(), "batch:1".into()]);

    for (i, crashes) in cases.iter().enumerate() {
        let dir = tmp.path().join(format!("case-{i}"));
        let (got, err) = crash_then_resume(&dir, &project, &events, crashes);
        assert_same(&expected, &got, &format!("stopped at {crashes:?}"));
        // Stopped before the first checkpoint, there is nothing to resume from.
        if crashes != &["batch:0".to_string()] {
            assert!(
                err.contains("resumed after line"),
                "stopped at {crashes:?}, the second run did not resume: {err}"
            );
        }
    }
}

#[test]
fn a_store_run_matches_a_run_in_memory_and_a_finished_run_is_not_run_again() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let project = support::r1_with_actions(tmp.path());
    let events = support::repo_root().join(EVENTS);
    let expected = clean(tmp.path(), &project, &events);
    let out = Outputs::new(tmp.path().join("store"));
    let state = tmp.path().join("state");
    let args = out.args(&project, &events, Some(&state));
    let first = maclc(&args, None);
    assert!(first.status.success(), "{}", stderr(&first));
    assert_same(&expected, &out.read(), "uninterrupted run with a store");
    // The summary's facts about the run: 3,000 lines in batches of 250, then the end.
    let summary = stderr(&first);
    for fact in [
        "lines read: 3000\n",
        "records applied to contacts: ",
        "suppressed sends: ",
        "checkpoints: 13\n",
        "elapsed: ",
    ] {
        assert!(summary.contains(fact), "no `{fact}` in: {summary}");
    }
    assert!(!summary.contains("resumed"), "{summary}");
    // Not a terminal: no progress bar.
    assert!(!summary.contains('\r'), "{summary}");

    // Outputs changed by hand stay as they are: a finished run writes nothing.
    std::fs::write(out.file("state.jsonl"), "edited\n").unwrap_or_else(|e| panic!("{e}"));
    let again = maclc(&args, None);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stderr(&again).contains("this run already finished"),
        "{}",
        stderr(&again)
    );
    assert_eq!(
        std::fs::read_to_string(out.file("state.jsonl")).unwrap_or_default(),
        "edited\n"
    );
    // `--explain` answers from the stored state.
    let mut explain = args.clone();
    explain.extend(["--explain".into(), "user-000001".into()]);
    let explained = maclc(&explain, None);
    assert!(explained.status.success(), "{}", stderr(&explained));
    let text = String::from_utf8_lossy(&explained.stdout);
    assert!(text.starts_with("user-000001\n"), "{text}");
    assert!(text.contains("general_interest = "), "{text}");

    // `--fresh` runs it again.
    let mut fresh = args.clone();
    fresh.push("--fresh".into());
    let rerun = maclc(&fresh, None);
    assert!(rerun.status.success(), "{}", stderr(&rerun));
    assert_same(&expected, &out.read(), "--fresh");
}

#[test]
fn a_store_of_another_run_is_refused_with_the_fix() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let project = support::r1_with_actions(tmp.path());
    let events = support::repo_root().join(EVENTS);
    let out = Outputs::new(tmp.path().join("out"));
    let state = tmp.path().join("state");
    let stopped = maclc(
        &out.args(&project, &events, Some(&state)),
        Some("checkpoint:2"),
    );
    assert!(!stopped.status.success());

    // Other events (the same lines but the last).
    let bytes = std::fs::read(&events).unwrap_or_else(|e| panic!("{e}"));
    let cut = bytes[..bytes.len() - 1]
        .iter()
        .rposition(|&b| b == b'\n')
        .unwrap_or(0);
    let other = tmp.path().join("other.jsonl");
    std::fs::write(&other, &bytes[..=cut]).unwrap_or_else(|e| panic!("{e}"));
    let refused = maclc(&out.args(&project, &other, Some(&state)), None);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    let err = stderr(&refused);
    assert!(err.contains("belongs to another run"), "{err}");
    assert!(err.contains("events was"), "{err}");
    assert!(err.contains("--fresh"), "{err}");

    // A file is no state folder.
    let file = tmp.path().join("a-file");
    std::fs::write(&file, "x").unwrap_or_else(|e| panic!("{e}"));
    let refused = maclc(&out.args(&project, &events, Some(&file)), None);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("is a file; it must be a folder"),
        "{}",
        stderr(&refused)
    );
    // A resumed run reads its events again: they must be a file, not a stream. (Some sandboxes
    // make `/dev/null` a regular empty file: then there is no stream to try.)
    if std::fs::metadata("/dev/null").is_ok_and(|m| !m.is_file()) {
        let streamed = maclc(
            &out.args(
                &project,
                Path::new("/dev/null"),
                Some(&tmp.path().join("s2")),
            ),
            None,
        );
        assert_eq!(streamed.status.code(), Some(2));
        assert!(
            stderr(&streamed).contains("is not a regular file"),
            "{}",
            stderr(&streamed)
        );
    }
    // `--fresh` needs a store to start over in.
    let mut fresh_in_memory = out.args(&project, &events, None);
    fresh_in_memory.push("--fresh".into());
    assert_eq!(maclc(&fresh_in_memory, None).status.code(), Some(2));

    // Another program.
    std::fs::write(project.join("extra.marketing"), "segment everyone = true\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let refused = maclc(&out.args(&project, &events, Some(&state)), None);
    let err = stderr(&refused);
    assert!(err.contains("program was"), "{err}");
}

#[test]
fn an_edited_input_is_found_on_resume() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let project = support::r1_with_actions(tmp.path());
    let events = tmp.path().join("events.jsonl");
    let text = std::fs::read(support::repo_root().join(EVENTS)).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(&events, &text).unwrap_or_else(|e| panic!("{e}"));
    let out = Outputs::new(tmp.path().join("out"));
    let state = tmp.path().join("state");
    let args = out.args(&project, &events, Some(&state));
    assert!(!maclc(&args, Some("checkpoint:3")).status.success());
    // Same length, one byte changed early on: the size matches, a batch hash does not.
    let mut edited = text.clone();
    let at = edited
        .windows(9)
        .position(|w| w == b"user-0000")
        .unwrap_or_else(|| panic!("no user id in the sample"));
    edited[at + 5] = b'9';
    std::fs::write(&events, &edited).unwrap_or_else(|e| panic!("{e}"));
    let refused = maclc(&args, None);
    let err = stderr(&refused);
    assert!(!refused.status.success(), "{err}");
    assert!(
        err.contains("not the ones the interrupted run read"),
        "{err}"
    );
    assert!(err.contains("--fresh"), "{err}");
}

/// A real SIGKILL, at whatever point the child has reached after a short while: while the store
/// is made (this found a store left half-made, now made under another name and renamed), before
/// the first checkpoint, in the middle, while writing outputs or after the end. Resuming gives the
/// clean run's bytes in every case.
#[test]
fn a_real_kill_then_resume_gives_the_clean_bytes() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let project = support::r1_with_actions(tmp.path());
    // A longer input (the sample ten times), so that the kill usually lands mid-run.
    let text = std::fs::read(support::repo_root().join(EVENTS)).unwrap_or_else(|e| panic!("{e}"));
    let events = tmp.path().join("events.jsonl");
    std::fs::write(&events, text.repeat(10)).unwrap_or_else(|e| panic!("{e}"));
    let expected = clean(tmp.path(), &project, &events);
    for (i, wait_ms) in [2u64, 10, 30, 150, 400].into_iter().enumerate() {
        let out = Outputs::new(tmp.path().join(format!("kill-{i}")));
        let state = tmp.path().join(format!("state-{i}"));
        let args = out.args(&project, &events, Some(&state));
        let mut child = Command::new(env!("CARGO_BIN_EXE_maclc"))
            .current_dir(support::repo_root())
            .args(&args)
            .env_remove("MACLC_TEST_CRASH_AT")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{e}"));
        std::thread::sleep(std::time::Duration::from_millis(wait_ms));
        // SIGKILL on Unix; an error only means the child had already finished.
        let _ = child.kill();
        let _ = child.wait();
        let resumed = maclc(&args, None);
        assert!(resumed.status.success(), "{}", stderr(&resumed));
        assert_same(
            &expected,
            &out.read(),
            &format!("killed after {wait_ms} ms"),
        );
    }
}

/// With a contact snapshot (one good row, one bad): its rejects come first in the rejects file
/// and count in the checkpointed length, so a resumed run neither loses nor repeats them.
#[test]
fn a_run_with_a_contact_snapshot_resumes_to_the_same_bytes() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let project = support::r1_with_actions(tmp.path());
    let events = support::repo_root().join(EVENTS);
    let contacts = tmp.path().join("contacts.jsonl");
    std::fs::write(
        &contacts,
        concat!(
            r#"{"userId":"user-000001","traits":{"email":"a@x.example","first_name":"Ana","country":"DE","timezone":"Europe/Berlin","job_title":"Head of Purchasing","consent":{"email":"granted","sms":"unknown"},"unsubscribed":false,"blocklisted":false}}"#,
            "\n",
            r#"{"traits":{}}"#,
            "\n"
        ),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let with_contacts = |out: &Outputs, state: Option<&Path>| {
        let mut args = out.args(&project, &events, state);
        args.extend(["--contacts".into(), contacts.clone().into()]);
        args
    };
    let clean_out = Outputs::new(tmp.path().join("clean"));
    let output = maclc(&with_contacts(&clean_out, None), None);
    assert!(output.status.success(), "{}", stderr(&output));
    let expected = clean_out.read();
    assert!(
        String::from_utf8_lossy(&expected[1].1).starts_with(r#"{"source":"contacts","line":2,"#),
        "the snapshot's reject is not first"
    );
    for at in ["batch:0", "checkpoint:1", "batch:4", "output:3"] {
        stop_once_then_resume(tmp.path(), at, &with_contacts, &expected, "with contacts");
    }
}

/// Stops the run of `args` (with a `--state` folder) at `at`, runs it again and compares its
/// outputs with `expected`.
fn stop_once_then_resume(
    dir: &Path,
    at: &str,
    args: &dyn Fn(&Outputs, Option<&Path>) -> Vec<std::ffi::OsString>,
    expected: &[(String, Vec<u8>); 3],
    case: &str,
) {
    let out = Outputs::new(dir.join(at.replace(':', "-")));
    let state = out.file("state");
    let args = args(&out, Some(&state));
    assert!(
        !maclc(&args, Some(at)).status.success(),
        "{at} did not stop"
    );
    let resumed = maclc(&args, None);
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    assert_same(expected, &out.read(), &format!("{case}, stopped at {at}"));
}

/// With a reordering window, whether a record is `too_late` depends on the latest time seen
/// before it: the checkpoint keeps that edge, so a resumed run rejects exactly the same lines.
#[test]
fn a_run_with_a_reordering_window_resumes_to_the_same_bytes() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let project = support::r1_with_actions(tmp.path());
    // The sample with each block of 8 lines reversed: many records arrive after later ones.
    let sample = std::fs::read(support::repo_root().join(EVENTS)).unwrap_or_else(|e| panic!("{e}"));
    let mut lines: Vec<&[u8]> = sample
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    for block in lines.chunks_mut(8) {
        block.reverse();
    }
    let events = tmp.path().join("reordered.jsonl");
    let bytes: Vec<u8> = lines
        .iter()
        .flat_map(|l| l.iter().chain(b"\n"))
        .copied()
        .collect();
    std::fs::write(&events, bytes).unwrap_or_else(|e| panic!("{e}"));
    let window = |out: &Outputs, state: Option<&Path>| {
        let mut args = out.args(&project, &events, state);
        args.extend(["--max-out-of-order".into(), "1h".into()]);
        args
    };
    let clean_out = Outputs::new(tmp.path().join("clean"));
    let output = maclc(&window(&clean_out, None), None);
    assert!(output.status.success(), "{}", stderr(&output));
    let expected = clean_out.read();
    let too_late = String::from_utf8_lossy(&expected[1].1)
        .matches(r#""reason":"too_late""#)
        .count();
    assert!(
        too_late > 100,
        "only {too_late} too_late rejects: the test would prove little"
    );
    for at in ["checkpoint:3", "batch:5", "checkpoint:9"] {
        stop_once_then_resume(tmp.path(), at, &window, &expected, "with a window");
    }
}

/// The folders a run without `--state` left under `cwd/.maclc/runs/` (none when `.maclc/` is
/// not there at all).
fn run_folders(cwd: &Path) -> Vec<PathBuf> {
    match std::fs::read_dir(cwd.join(".maclc/runs")) {
        Err(_) => Vec::new(),
        Ok(entries) => entries.flatten().map(|e| e.path()).collect(),
    }
}

/// Without `--state`, a run keeps its progress in `.maclc/runs/<key>/`: stopped anywhere, the
/// same command resumes from there, says so, writes the clean run's bytes and removes the
/// folder (and `.maclc/`, then empty).
#[test]
fn a_default_run_stopped_anywhere_resumes_and_leaves_no_folder() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let project = support::r1_with_actions(tmp.path());
    let events = support::repo_root().join(EVENTS);
    let expected = clean(tmp.path(), &project, &events);
    let cases: [&[&str]; 5] = [
        &["checkpoint:1"],
        &["batch:4"],
        &["checkpoint:13"],
        &["output:5"],
        &["checkpoint:2", "batch:6", "output:3"],
    ];
    for (i, crashes) in cases.iter().enumerate() {
        let cwd = tmp.path().join(format!("default-{i}"));
        let out = Outputs::new(cwd.join("out"));
        let args = out.default_args(&project, &events);
        for at in *crashes {
            let stopped = maclc_in(&cwd, &args, Some(at));
            assert!(!stopped.status.success(), "{at} did not stop the run");
            let folders = run_folders(&cwd);
            assert_eq!(folders.len(), 1, "stopped at {at}: {folders:?}");
            assert!(
                folders[0].join("maclc-state.redb").is_file(),
                "stopped at {at}: no store in {folders:?}"
            );
        }
        let folder = run_folders(&cwd).remove(0);
        let key = folder.file_name().map(|n| n.to_string_lossy().into_owned());
        let resumed = maclc_in(&cwd, &args, None);
        let err = stderr(&resumed);
        assert!(resumed.status.success(), "{err}");
        assert_same(
            &expected,
            &out.read(),
            &format!("default folder, {crashes:?}"),
        );
        let line = err
            .lines()
            .find(|l| l.starts_with("resuming an interrupted run from line "))
            .unwrap_or_else(|| panic!("{crashes:?}: no resume line in {err}"));
        assert!(
            line.contains(&format!(
                "(its progress is in `.maclc/runs/{}`; `--fresh` starts over)",
                key.unwrap_or_default()
            )),
            "{line}"
        );
        assert!(err.contains("resumed after line"), "{err}");
        assert!(!err.contains("checkpoints:"), "{err}");
        assert!(
            !cwd.join(".maclc").exists(),
            "{crashes:?}: a finished run left {:?}",
            run_folders(&cwd)
        );
    }
}

/// R1 with actions run in the default folder (no `--state`) from `cwd`, with what the run
/// writes when nothing stops it.
struct DefaultRun {
    /// Keeps the folder of everything alive while the test runs.
    _tmp: tempfile::TempDir,
    project: PathBuf,
    events: PathBuf,
    expected: [(String, Vec<u8>); 3],
    /// Where the run is started: its folder is `cwd/.maclc/runs/<key>/`.
    cwd: PathBuf,
    out: Outputs,
    args: Vec<std::ffi::OsString>,
}

fn default_run() -> DefaultRun {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let project = support::r1_with_actions(tmp.path());
    let events = support::repo_root().join(EVENTS);
    let expected = clean(tmp.path(), &project, &events);
    let cwd = tmp.path().join("cwd");
    let out = Outputs::new(cwd.join("out"));
    let args = out.default_args(&project, &events);
    DefaultRun {
        _tmp: tmp,
        project,
        events,
        expected,
        cwd,
        out,
        args,
    }
}

impl DefaultRun {
    /// Stops the run at its second checkpoint; the folder it leaves.
    fn stopped(&self) -> PathBuf {
        let stopped = maclc_in(&self.cwd, &self.args, Some("checkpoint:2"));
        assert!(!stopped.status.success(), "{}", stderr(&stopped));
        run_folders(&self.cwd).remove(0)
    }
}

/// A finished run without `--state` keeps nothing: the same command runs again in full and
/// writes its outputs again (never a silent no-op); `--fresh` forgets an interrupted run.
#[test]
fn a_default_run_twice_writes_its_outputs_twice() {
    let DefaultRun {
        _tmp,
        project,
        events,
        expected,
        cwd,
        out,
        args,
    } = default_run();
    for run in ["first", "second"] {
        std::fs::write(out.file("state.jsonl"), "edited\n").unwrap_or_else(|e| panic!("{e}"));
        let output = maclc_in(&cwd, &args, None);
        let err = stderr(&output);
        assert!(output.status.success(), "{err}");
        assert!(!err.contains("already finished"), "{run}: {err}");
        assert!(!err.contains("resum"), "{run}: {err}");
        assert!(!err.contains("warning"), "{run}: {err}");
        assert_same(&expected, &out.read(), &format!("{run} default run"));
        assert!(!cwd.join(".maclc").exists(), "{run} run left .maclc/");
    }
    // Stopped, then started over with `--fresh`: no resume, same bytes, nothing left.
    assert!(!maclc_in(&cwd, &args, Some("checkpoint:3")).status.success());
    let mut fresh = args.clone();
    fresh.push("--fresh".into());
    let output = maclc_in(&cwd, &fresh, None);
    let err = stderr(&output);
    assert!(output.status.success(), "{err}");
    assert!(!err.contains("resum"), "{err}");
    assert_same(&expected, &out.read(), "--fresh after a stop");
    assert!(!cwd.join(".maclc").exists());
    // Other outputs are another run: a stopped run does not hand its progress to it.
    assert!(!maclc_in(&cwd, &args, Some("checkpoint:3")).status.success());
    let other = Outputs::new(cwd.join("other"));
    let output = maclc_in(&cwd, &other.default_args(&project, &events), None);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(!stderr(&output).contains("resum"), "{}", stderr(&output));
    assert_same(&expected, &other.read(), "other outputs");
    assert_eq!(
        run_folders(&cwd).len(),
        1,
        "the stopped run's folder is kept"
    );
    // A run that ends on an error (an output it cannot write) has no use for its folder either:
    // only a run stopped dead leaves one.
    let mut unwritable = args.clone();
    unwritable.extend([
        "--accounts-out".into(),
        cwd.join("no/such/folder.jsonl").into(),
    ]);
    let failed = maclc_in(&cwd, &unwritable, None);
    assert!(!failed.status.success(), "{}", stderr(&failed));
    assert!(
        stderr(&failed).contains("error: cannot create"),
        "{}",
        stderr(&failed)
    );
    assert_eq!(run_folders(&cwd).len(), 1, "a failed run left its folder");
}

/// Progress in the default folder that cannot be read (damaged, or kept by another version of
/// maclc) is only a head start: the run says so once and starts over by itself, so the warning
/// does not tell the user to add `--fresh`, which would do what the run already does.
#[test]
fn a_damaged_default_store_starts_over_without_asking_for_fresh() {
    let run = default_run();
    let folder = run.stopped();
    std::fs::write(folder.join("maclc-state.redb"), b"not a store at all")
        .unwrap_or_else(|e| panic!("{e}"));
    let output = maclc_in(&run.cwd, &run.args, None);
    let err = stderr(&output);
    assert!(output.status.success(), "{err}");
    let warnings: Vec<&str> = err.lines().filter(|l| l.starts_with("warning")).collect();
    assert_eq!(warnings.len(), 1, "{err}");
    assert!(warnings[0].ends_with("; this run starts over"), "{err}");
    assert!(warnings[0].contains("maclc-state.redb"), "{err}");
    assert!(!err.contains("--fresh"), "{err}");
    assert!(!err.contains("resum"), "{err}");
    assert_same(&run.expected, &run.out.read(), "after a damaged store");
    assert!(
        !run.cwd.join(".maclc").exists(),
        "{:?}",
        run_folders(&run.cwd)
    );
}

/// `--no-state` writes nothing but the outputs (there is no checkpoint to stop at), and
/// events from a pipe run in memory without a word.
#[test]
fn no_state_and_a_pipe_keep_nothing_on_disk() {
    let DefaultRun {
        _tmp,
        project,
        events,
        expected,
        cwd,
        out,
        ..
    } = default_run();
    let output = maclc_in(
        &cwd,
        &out.args(&project, &events, None),
        Some("checkpoint:1"),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_same(&expected, &out.read(), "--no-state");
    let entries: Vec<_> = std::fs::read_dir(&cwd)
        .unwrap_or_else(|e| panic!("{e}"))
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(entries, ["out"], "--no-state left more than its outputs");

    if Path::new("/dev/stdin").exists() {
        use std::io::Write as _;
        let piped = Outputs::new(cwd.join("piped"));
        let bytes = std::fs::read(&events).unwrap_or_else(|e| panic!("{e}"));
        let mut child = Command::new(env!("CARGO_BIN_EXE_maclc"))
            .current_dir(&cwd)
            .args(piped.default_args(&project, Path::new("/dev/stdin")))
            .env("MACLC_TEST_CRASH_AT", "checkpoint:1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{e}"));
        let mut stdin = child.stdin.take().unwrap_or_else(|| panic!("no stdin"));
        let writer = std::thread::spawn(move || stdin.write_all(&bytes));
        let output = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
        writer
            .join()
            .unwrap_or_else(|_| panic!("the writer stopped"))
            .unwrap_or_else(|e| panic!("{e}"));
        let err = stderr(&output);
        assert!(output.status.success(), "{err}");
        assert!(!err.contains("warning"), "{err}");
        assert_same(&expected, &piped.read(), "events from a pipe");
        assert!(!cwd.join(".maclc").exists());
    }
}

/// Where `.maclc/runs/` cannot be made the run goes on in memory, with one warning line: a
/// read-only folder (skipped as root, for whom no folder is read-only), and a file named
/// `.maclc` in the way (which stops root too).
#[test]
fn a_folder_that_cannot_hold_maclc_runs_in_memory_with_one_warning() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let project = support::r1_with_actions(tmp.path());
    let events = support::repo_root().join(EVENTS);
    let expected = clean(tmp.path(), &project, &events);
    let out = Outputs::new(tmp.path().join("out"));
    let args = out.default_args(&project, &events);
    let in_memory = |cwd: &Path, case: &str| {
        let output = maclc_in(cwd, &args, None);
        let err = stderr(&output);
        assert!(output.status.success(), "{case}: {err}");
        let warnings: Vec<&str> = err.lines().filter(|l| l.starts_with("warning")).collect();
        assert_eq!(warnings.len(), 1, "{case}: {err}");
        assert!(
            warnings[0].starts_with("warning: cannot create `.maclc/runs/")
                && warnings[0].contains("keeps its progress in memory"),
            "{case}: {err}"
        );
        assert_same(&expected, &out.read(), case);
    };

    let blocked = tmp.path().join("blocked");
    std::fs::create_dir_all(&blocked).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(blocked.join(".maclc"), "not a folder\n").unwrap_or_else(|e| panic!("{e}"));
    in_memory(&blocked, "a file named .maclc");
    assert!(blocked.join(".maclc").is_file());

    let cwd = tmp.path().join("read-only");
    std::fs::create_dir_all(&cwd).unwrap_or_else(|e| panic!("{e}"));
    let set_mode = |mode: u32| {
        std::fs::set_permissions(&cwd, std::fs::Permissions::from_mode(mode))
            .unwrap_or_else(|e| panic!("{e}"))
    };
    set_mode(0o555);
    if std::fs::create_dir(cwd.join("probe")).is_ok() {
        set_mode(0o755);
        eprintln!("read-only case skipped: this user can write in a read-only folder (root)");
        return;
    }
    in_memory(&cwd, "read-only folder");
    set_mode(0o755);
    assert!(!cwd.join(".maclc").exists());
}

/// The same run going on in another process holds the default folder: this one runs in memory
/// with one warning, and leaves the other's folder alone.
#[test]
fn a_default_folder_in_use_runs_in_memory_with_one_warning() {
    let run = default_run();
    let folder = run.stopped();
    let held =
        maclc_runtime::store::RunStore::open(&folder, false).unwrap_or_else(|e| panic!("{e}"));
    let output = maclc_in(&run.cwd, &run.args, None);
    let err = stderr(&output);
    assert!(output.status.success(), "{err}");
    assert!(err.contains("is in use by another `maclc run`"), "{err}");
    assert_eq!(err.matches("warning:").count(), 1, "{err}");
    assert!(!err.contains("resum"), "{err}");
    assert_same(&run.expected, &run.out.read(), "folder in use");
    drop(held);
    assert!(folder.is_dir(), "the folder in use was removed");
    // Once free, the same command resumes from it.
    let output = maclc_in(&run.cwd, &run.args, None);
    assert!(
        stderr(&output).contains("resumed after line 500"),
        "{}",
        stderr(&output)
    );
    assert!(!run.cwd.join(".maclc").exists());
}

/// Outputs that are pipes (a FIFO, like `/dev/stdout` or `/dev/null` are devices) are written
/// in place, with the run store on: renaming a file over one would replace it, and the kernel
/// cannot sync one. The pipe must still be a pipe after the run and carry the whole output.
#[test]
fn outputs_that_are_pipes_are_written_in_place() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let events = support::repo_root().join(EVENTS);
    let project = support::repo_root().join("examples/reference-r1");
    let state = tmp.path().join("state.fifo");
    let rejects = tmp.path().join("rejects.fifo");
    for fifo in [&state, &rejects] {
        let made = Command::new("mkfifo").arg(fifo).status();
        if !made.is_ok_and(|s| s.success()) {
            eprintln!("skipped: `mkfifo` is not available");
            return;
        }
    }
    let read_all = |path: std::path::PathBuf| {
        std::thread::spawn(move || std::fs::read(path).unwrap_or_else(|e| panic!("{e}")))
    };
    let (state_reader, rejects_reader) = (read_all(state.clone()), read_all(rejects.clone()));
    let args: Vec<std::ffi::OsString> = vec![
        "run".into(),
        project.clone().into(),
        "--events".into(),
        events.clone().into(),
        "--state-out".into(),
        state.clone().into(),
        "--rejects".into(),
        rejects.clone().into(),
        "--checkpoint-every".into(),
        "100".into(),
    ];
    let output = maclc_in(tmp.path(), &args, None);
    assert!(output.status.success(), "{}", stderr(&output));
    let got = state_reader.join().unwrap_or_else(|_| panic!("reader"));
    let expected =
        std::fs::read(project.join("state.sample.jsonl")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(&expected)
    );
    let rejected = rejects_reader.join().unwrap_or_else(|_| panic!("reader"));
    assert!(!rejected.is_empty(), "the sample has rejected lines");
    use std::os::unix::fs::FileTypeExt;
    for fifo in [&state, &rejects] {
        let kind = std::fs::metadata(fifo)
            .unwrap_or_else(|e| panic!("{e}"))
            .file_type();
        assert!(kind.is_fifo(), "{} was replaced by a file", fifo.display());
    }
    assert!(!tmp.path().join(".maclc").exists());
}
