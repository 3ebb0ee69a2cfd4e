//! Both engines on every example: `maclc run` and `maclc test` give byte-identical output
//! with `--engine jit` and `--engine interp`, and the JIT compiles every condition of them
//! (no fallback note on stderr).

use std::path::Path;
use std::process::{Command, Output};

fn maclc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_maclc"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("maclc runs")
}

fn examples() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut dirs: Vec<String> = std::fs::read_dir(root)
        .expect("examples/ is readable")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| format!("examples/{}", e.file_name().to_string_lossy()))
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn reference_run_is_identical_under_both_engines() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut outputs = Vec::new();
    for engine in ["jit", "interp"] {
        let file = |name: &str| {
            dir.path()
                .join(format!("{engine}-{name}"))
                .display()
                .to_string()
        };
        let (state, actions, rejects) = (file("state"), file("actions"), file("rejects"));
        let out = maclc(&[
            "run",
            "examples/reference-r1",
            "--events",
            "examples/reference-r1/events.sample.jsonl",
            "--state-out",
            &state,
            "--actions",
            &actions,
            "--rejects",
            &rejects,
            "--engine",
            engine,
        ]);
        assert!(out.status.success(), "{out:?}");
        assert!(
            !String::from_utf8_lossy(&out.stderr).contains("runs in the interpreter"),
            "{out:?}"
        );
        let read = |p: &str| std::fs::read(p).expect("an output file");
        outputs.push((out.stdout, read(&state), read(&actions), read(&rejects)));
    }
    assert!(!outputs[0].1.is_empty());
    assert!(outputs[0] == outputs[1], "the engines disagree");
}

#[test]
fn every_example_test_block_gives_the_same_report_under_both_engines() {
    for example in examples() {
        let jit = maclc(&["test", &example, "--format", "json", "--engine", "jit"]);
        let interp = maclc(&["test", &example, "--format", "json", "--engine", "interp"]);
        assert_eq!(jit.status.code(), interp.status.code(), "{example}");
        assert_eq!(
            String::from_utf8_lossy(&jit.stdout),
            String::from_utf8_lossy(&interp.stdout),
            "{example}"
        );
        assert!(
            !String::from_utf8_lossy(&jit.stderr).contains("runs in the interpreter"),
            "{example}: {}",
            String::from_utf8_lossy(&jit.stderr)
        );
    }
}

#[test]
fn engine_option_rejects_unknown_engines_in_plain_words() {
    let out = maclc(&["test", "examples/reference-r1", "--engine", "fast"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("jit") && stderr.contains("interp"),
        "{stderr}"
    );
}

/// A condition the JIT cannot compile yet (`matches` on `lower(…)`) runs in the interpreter, is named once on
/// stderr in plain words, and the run's output is still the interpreter's; table lookups (read
/// through the interpreter's own code from native code) compile and agree.
#[test]
fn an_uncompiled_condition_falls_back_alone_and_says_so() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/reference-r1");
    for name in ["schema.marketing", "scores.marketing", "segments.marketing"] {
        std::fs::copy(root.join(name), dir.path().join(name)).expect("a copy");
    }
    std::fs::write(
        dir.path().join("extra.marketing"),
        "/// Contacts in Germany, however the country is written.\n\
         segment german \"German\" = lower(contact.country) == \"de\"\n\
         \n\
         /// The same, through a regular expression.\n\
         segment german_too \"German too\" = lower(contact.country) matches \"^de$\"\n\
         \n\
         /// Their last page was the pricing page.\n\
         segment last_on_pricing \"Last on pricing\" = (last page_view.path ?? \"\") == \"/pricing\"\n\
         \n\
         /// The product line of some product ids.\n\
         table products key product_id {\n\
         \x20 product_id: text\n\
         \x20 line: product_line\n\
         \x20 row \"MED-DTF\", medical\n\
         \x20 row \"GEN-MKP\", general\n\
         }\n\
         \n\
         score catalogue \"Interest from the catalogue\" {\n\
         \x20 +7 on datasheet_downloaded where products[product_id].line is known\n\
         \x20     and products[product_id].line == medical\n\
         \x20 +3 on datasheet_downloaded where products[product_id].line is unknown\n\
         }\n",
    )
    .expect("a file");
    let project = dir.path().display().to_string();
    let mut states = Vec::new();
    for engine in ["jit", "interp"] {
        let state = dir.path().join(format!("{engine}.jsonl"));
        let out = maclc(&[
            "run",
            &project,
            "--events",
            "examples/reference-r1/events.sample.jsonl",
            "--state-out",
            &state.display().to_string(),
            "--engine",
            engine,
        ]);
        assert!(out.status.success(), "{out:?}");
        let notes: Vec<String> = String::from_utf8_lossy(&out.stderr)
            .lines()
            .filter(|l| l.starts_with("note:") && l.contains("interpreter"))
            .map(str::to_string)
            .collect();
        if engine == "jit" {
            assert_eq!(
                notes,
                ["note: segment `last_on_pricing` runs in the interpreter: an aggregate of text is not compiled to native code yet"]
            );
        } else {
            assert!(notes.is_empty(), "{notes:?}");
        }
        states.push(std::fs::read(&state).expect("the state file"));
    }
    let state = String::from_utf8_lossy(&states[0]);
    assert!(state.contains("german"));
    // Both lookup rules earned points somewhere (the lookup found rows and missed some).
    assert!(state.contains("\"catalogue\":7") || state.contains("\"catalogue\":10"));
    assert!(state.contains("\"catalogue\":3"));
    assert!(states[0] == states[1], "the engines disagree");
}
