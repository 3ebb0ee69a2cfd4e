//! Compiled programs as a user meets them: `maclc compile` gives the same bytes for the same
//! sources wherever they are checked out, `run --program` gives the same output as running the
//! sources, and a damaged or foreign file is refused with a clear message and exit code 2.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use maclc_compiler::artefact::{self, FORMAT_VERSION};

fn maclc_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_maclc"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("the maclc binary runs")
}

fn maclc(args: &[&str]) -> Output {
    maclc_in(&support::repo_root(), args)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn path_arg(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// Compiles `project` (relative to the repository) into `out` and returns the file's bytes.
fn compile(project: &str, out: &Path) -> Vec<u8> {
    let output = maclc(&["compile", project, "-o", &path_arg(out)]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    std::fs::read(out).expect("the compiled program was written")
}

/// The files a run writes, and what it prints, for comparing two runs byte for byte.
fn run_outputs(program: &[&str], events: &str, dir: &Path) -> Vec<(String, Vec<u8>)> {
    let state = dir.join("state.jsonl");
    let rejects = dir.join("rejects.jsonl");
    let actions = dir.join("actions.jsonl");
    let mut args: Vec<String> = vec!["run".into()];
    args.extend(program.iter().map(|s| s.to_string()));
    args.extend([
        "--events".into(),
        events.into(),
        "--state-out".into(),
        path_arg(&state),
        "--rejects".into(),
        path_arg(&rejects),
        "--actions".into(),
        path_arg(&actions),
    ]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = maclc(&refs);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    vec![
        (
            "state".into(),
            std::fs::read(&state).expect("state written"),
        ),
        (
            "rejects".into(),
            std::fs::read(&rejects).expect("rejects written"),
        ),
        (
            "actions".into(),
            std::fs::read(&actions).expect("actions written"),
        ),
        ("stdout".into(), output.stdout),
        // The elapsed time is the one line of the summary that differs between runs.
        (
            "stderr".into(),
            text(&output.stderr)
                .lines()
                .filter(|l| !l.starts_with("elapsed: "))
                .flat_map(|l| format!("{l}\n").into_bytes())
                .collect(),
        ),
    ]
}

#[test]
fn a_compiled_program_runs_exactly_like_its_sources() {
    for (project, events) in [
        (
            "examples/reference-r1",
            "examples/reference-r1/events.sample.jsonl",
        ),
        ("examples/brands/acme", "examples/brands/events.jsonl"),
    ] {
        let dir = tempfile::tempdir().expect("temp dir");
        let program = dir.path().join("program.maclc");
        compile(project, &program);
        let from_sources_dir = dir.path().join("sources");
        let compiled_dir = dir.path().join("compiled");
        std::fs::create_dir_all(&from_sources_dir).expect("dir");
        std::fs::create_dir_all(&compiled_dir).expect("dir");
        let from_sources = run_outputs(&[project], events, &from_sources_dir);
        let compiled = run_outputs(&["--program", &path_arg(&program)], events, &compiled_dir);
        assert!(
            !from_sources[0].1.is_empty(),
            "{project}: the run wrote no state"
        );
        for ((what, expected), (_, actual)) in from_sources.iter().zip(&compiled) {
            assert!(
                expected == actual,
                "{project}: `{what}` differs between the sources and the compiled program:\n\
                 --- sources\n{}\n--- compiled\n{}",
                text(expected),
                text(actual)
            );
        }
    }
}

#[test]
fn explain_works_on_a_compiled_program() {
    let dir = tempfile::tempdir().expect("temp dir");
    let program = dir.path().join("acme.maclc");
    compile("examples/brands/acme", &program);
    let args = |program: &[&str]| {
        let mut args = vec!["run"];
        args.extend_from_slice(program);
        args.extend([
            "--events",
            "examples/brands/events.jsonl",
            "--explain",
            "u-lena",
        ]);
        maclc(&args)
    };
    let from_sources = args(&["examples/brands/acme"]);
    let compiled = args(&["--program", &path_arg(&program)]);
    assert_eq!(
        compiled.status.code(),
        Some(0),
        "{}",
        text(&compiled.stderr)
    );
    assert!(text(&compiled.stdout).contains("+80 on demo_requested where brand == \"acme\""));
    assert_eq!(text(&from_sources.stdout), text(&compiled.stdout));
}

#[test]
fn compiling_twice_or_elsewhere_gives_the_same_bytes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let first = compile("examples/reference-r1", &dir.path().join("a.maclc"));
    let second = compile("examples/reference-r1", &dir.path().join("b.maclc"));
    assert!(first == second, "two compilations differ");

    // The same project (with its imports) copied to another place: names inside the program
    // are relative to the project, so the bytes do not change.
    let here = compile("examples/brands/acme", &dir.path().join("here.maclc"));
    let copy = dir.path().join("elsewhere/deeper/brands");
    copy_dir(&support::repo_root().join("examples/brands"), &copy);
    let output = maclc_in(
        &copy,
        &[
            "compile",
            "acme",
            "-o",
            &path_arg(&dir.path().join("there.maclc")),
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let there = std::fs::read(dir.path().join("there.maclc")).expect("written");
    assert!(here == there, "the copy compiles to different bytes");
    let decoded = artefact::decode(&here).expect("decodes");
    let names: Vec<&str> = decoded.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "acme/brand.marketing",
            "acme/tests.marketing",
            "shared/schema.marketing",
            "shared/scoring.marketing"
        ]
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create the copy");
    for entry in std::fs::read_dir(from).expect("read the example").flatten() {
        let path = entry.path();
        let target = to.join(entry.file_name());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("copy a file");
        }
    }
}

#[test]
fn the_tests_of_a_compiled_program_run() {
    let dir = tempfile::tempdir().expect("temp dir");
    let program = dir.path().join("acme.maclc");
    compile("examples/brands/acme", &program);
    let output = maclc(&["test", "--program", &path_arg(&program)]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stdout));
    let out = text(&output.stdout);
    assert!(out.contains("8 passed, 0 failed"), "{out}");
    assert!(
        out.contains("the autumn webinar, made from the same template"),
        "{out}"
    );
}

#[test]
fn inspect_shows_what_a_compiled_program_holds() {
    let dir = tempfile::tempdir().expect("temp dir");
    compile("examples/brands/acme", &dir.path().join("acme.maclc"));
    let output = maclc_in(dir.path(), &["inspect", "acme.maclc"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    // Size and hash change with every edit of the example or the IR: shown, not snapshotted.
    let shown: Vec<String> = text(&output.stdout)
        .lines()
        .map(|line| {
            let trimmed = line.trim_start();
            if trimmed.starts_with("size") {
                "  size          …".to_string()
            } else if trimmed.starts_with("content hash") {
                "  content hash  sha256:…".to_string()
            } else if trimmed.starts_with("compiled by") {
                "  compiled by   maclc (this version)".to_string()
            } else {
                line.to_string()
            }
        })
        .collect();
    insta::assert_snapshot!(shown.join("\n"));
}

/// Every way a compiled program can be unusable, as `run`, `test` and `inspect` report it.
#[test]
fn damaged_or_foreign_programs_are_refused_clearly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let good = compile("examples/brands/acme", &dir.path().join("good.maclc"));
    let write = |name: &str, bytes: &[u8]| -> PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).expect("write a case");
        path
    };
    write("not-a-program.maclc", b"segment mql = fit >= 100\n");
    write("truncated.maclc", &good[..good.len() * 2 / 3]);
    let mut damaged = good.clone();
    let middle = damaged.len() / 2;
    damaged[middle] ^= 0x01;
    write("damaged.maclc", &damaged);
    let mut future = good.clone();
    future[8..12].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
    write("future-format.maclc", &future);
    let mut old = good.clone();
    old[8..12].copy_from_slice(&0u32.to_le_bytes());
    write("old-format.maclc", &old);
    let mut newer = artefact::decode(&good).expect("decodes");
    newer.compiler_version = "99.0.0".into();
    write(
        "newer-compiler.maclc",
        &artefact::encode(&newer).expect("encodes"),
    );

    let mut report = String::new();
    for case in [
        "missing.maclc",
        "not-a-program.maclc",
        "truncated.maclc",
        "damaged.maclc",
        "future-format.maclc",
        "old-format.maclc",
        "newer-compiler.maclc",
    ] {
        for command in [
            vec!["run", "--program", case, "--events", "events.jsonl"],
            vec!["test", "--program", case],
            vec!["inspect", case],
        ] {
            let output = maclc_in(dir.path(), &command);
            assert_eq!(
                output.status.code(),
                Some(2),
                "`maclc {}` should exit 2",
                command.join(" ")
            );
            let stderr = text(&output.stderr);
            assert!(!stderr.contains("panicked"), "{stderr}");
            report.push_str(&format!("$ maclc {}\n{stderr}", command.join(" ")));
        }
        report.push('\n');
    }
    let version = env!("CARGO_PKG_VERSION");
    // Byte counts change whenever the IR does: the sentence is what is checked.
    let report: String = report
        .lines()
        .map(
            |line| match (line.find("should have "), line.find("; copy")) {
                (Some(start), Some(end)) if start < end => format!(
                    "{}should have N bytes but has M{}\n",
                    &line[..start],
                    &line[end..]
                ),
                _ => format!("{line}\n"),
            },
        )
        .collect();
    insta::assert_snapshot!(report.replace(version, "<this version>"));
}

#[test]
fn compile_refuses_a_project_with_errors_or_several_projects() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("broken.maclc");
    let broken = maclc(&[
        "compile",
        "tests/cli/broken.marketing",
        "-o",
        &path_arg(&out),
    ]);
    assert_eq!(broken.status.code(), Some(1));
    assert!(text(&broken.stderr).contains("nothing was compiled"));
    assert!(
        !out.exists(),
        "no file is written for a project with errors"
    );
    let several = maclc(&["compile", "examples", "-o", &path_arg(&out)]);
    assert_eq!(several.status.code(), Some(2));
    assert!(
        text(&several.stderr).contains("compile one of them at a time"),
        "{}",
        text(&several.stderr)
    );
}
