//! The `maclc` command as a user runs it: exit codes, output formats, `explain`, `fmt`.

mod support;

use std::process::{Command, Output};

use serde_json::Value;

fn maclc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_maclc"))
        .args(args)
        .current_dir(support::repo_root())
        .env("NO_COLOR", "1")
        .output()
        .expect("the maclc binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_clean_file_checks_with_exit_0() {
    let output = maclc(&["check", "tests/cli/clean.marketing"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert_eq!(stdout(&output).trim(), "checked 1 file: no problems found");
}

#[test]
fn errors_exit_1_and_are_located() {
    let output = maclc(&["check", "tests/cli/broken.marketing"]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(text.contains("error[E0001]: unexpected `wehn`"), "{text}");
    assert!(text.contains("tests/cli/broken.marketing:6:7"), "{text}");
    assert!(text.contains("did you mean `when`?"), "{text}");
    assert!(
        !text.contains('\u{1b}'),
        "no colour when NO_COLOR is set or not a terminal"
    );
}

#[test]
fn usage_errors_exit_2() {
    let missing = maclc(&["check", "tests/cli/no-such-file.marketing"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("`tests/cli/no-such-file.marketing` does not exist"));
    let bad_flag = maclc(&["check", "--format", "xml", "tests/cli/clean.marketing"]);
    assert_eq!(bad_flag.status.code(), Some(2));
    let empty = std::env::temp_dir().join(format!("maclc-empty-{}", std::process::id()));
    std::fs::create_dir_all(&empty).expect("temp dir");
    let nothing = maclc(&["check", &empty.to_string_lossy()]);
    let _ = std::fs::remove_dir_all(&empty);
    assert_eq!(nothing.status.code(), Some(2));
    assert!(stderr(&nothing).contains("no `.marketing` files found"));
}

#[test]
fn json_output_is_a_document_for_ci() {
    let output = maclc(&[
        "check",
        "--format",
        "json",
        "tests/cli/broken.marketing",
        "tests/cli/clean.marketing",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let document: Value = serde_json::from_str(&stdout(&output)).expect("valid JSON");
    assert_eq!(document["version"], 1);
    assert_eq!(document["summary"]["errors"], 1);
    let first = &document["diagnostics"][0];
    assert_eq!(first["code"], "E0001");
    assert_eq!(first["severity"], "error");
    assert_eq!(first["location"]["file"], "tests/cli/broken.marketing");
    assert_eq!(first["location"]["line"], 6);
    assert_eq!(first["location"]["column"], 7);
    assert_eq!(first["fix"]["replacement"], "when");
}

#[test]
fn sarif_output_follows_the_2_1_0_shape() {
    let output = maclc(&["check", "--format", "sarif", "tests/cli/broken.marketing"]);
    assert_eq!(output.status.code(), Some(1));
    let document: Value = serde_json::from_str(&stdout(&output)).expect("valid JSON");
    assert_eq!(document["version"], "2.1.0");
    let run = &document["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "maclc");
    assert_eq!(run["tool"]["driver"]["rules"][0]["id"], "E0001");
    let result = &run["results"][0];
    assert_eq!(result["ruleId"], "E0001");
    assert_eq!(result["level"], "error");
    let region = &result["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["startLine"], 6);
    assert_eq!(region["startColumn"], 7);
    assert_eq!(
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "tests/cli/broken.marketing"
    );
}

#[test]
fn explain_prints_the_catalogue_entry() {
    let output = maclc(&["explain", "E0001"]);
    assert_eq!(output.status.code(), Some(0));
    assert!(stdout(&output).starts_with("## E0001: the rules cannot be read here"));
    let short = maclc(&["explain", "e1"]);
    assert_eq!(stdout(&short), stdout(&output));
    let unknown = maclc(&["explain", "E9999"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains("`E9999` is not a maclc diagnostic code"));
}

#[test]
fn the_diagnostics_catalogue_document_is_up_to_date() {
    let output = maclc(&["explain", "--all"]);
    let on_disk = std::fs::read_to_string(support::repo_root().join("docs/diagnostics.md"))
        .unwrap_or_default();
    assert!(
        on_disk == stdout(&output),
        "docs/diagnostics.md is stale: run `cargo run -- explain --all > docs/diagnostics.md`"
    );
}

#[test]
fn fmt_check_names_files_that_would_change_and_changes_nothing() {
    let dir = std::env::temp_dir().join(format!("maclc-fmt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let messy = dir.join("messy.marketing");
    let text = "segment   hot =   general_interest>=60\nscore general_interest {\n+5 on page_view\n}\nevent page_view from page {\npath: text\n}\n";
    std::fs::write(&messy, text).expect("write");
    let check = maclc(&["fmt", "--check", &messy.to_string_lossy()]);
    assert_eq!(check.status.code(), Some(1), "{}", stdout(&check));
    assert!(
        stdout(&check).contains("would reformat"),
        "{}",
        stdout(&check)
    );
    assert_eq!(
        std::fs::read_to_string(&messy).expect("read"),
        text,
        "--check changes nothing"
    );
    let write = maclc(&["fmt", &messy.to_string_lossy()]);
    assert_eq!(write.status.code(), Some(0), "{}", stderr(&write));
    let again = maclc(&["fmt", "--check", &messy.to_string_lossy()]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        again.status.code(),
        Some(0),
        "formatting is idempotent: {}",
        stdout(&again)
    );
}

#[test]
fn fmt_refuses_files_with_syntax_errors() {
    let output = maclc(&["fmt", "--check", "tests/cli/broken.marketing"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("has syntax errors and was not formatted"));
}

#[test]
fn a_folder_of_projects_checks_each_project_on_its_own() {
    // Both projects define `general_interest`: no clash, since they are separate projects.
    let output = maclc(&["check", "tests/cli/projects"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert_eq!(
        stdout(&output).trim(),
        "checked 2 files in 2 projects: no problems found"
    );
}

#[test]
fn warnings_pass_unless_denied() {
    let lenient = maclc(&["check", "tests/cli/warning"]);
    assert_eq!(lenient.status.code(), Some(0), "{}", stdout(&lenient));
    assert!(
        stdout(&lenient).contains("warning[W0303]"),
        "{}",
        stdout(&lenient)
    );
    assert!(
        stdout(&lenient)
            .trim_end()
            .ends_with("checked 1 file: 1 warning"),
        "{}",
        stdout(&lenient)
    );
    let strict = maclc(&["check", "--deny-warnings", "tests/cli/warning"]);
    assert_eq!(strict.status.code(), Some(1));
}

#[test]
fn accounts_out_writes_one_line_per_account_sorted_by_key() {
    let dir = std::env::temp_dir().join(format!("maclc-accounts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let program = dir.join("p.marketing");
    std::fs::write(
        &program,
        "account company key id {\n  id: text\n}\ncontact {\n  email: text\n  company: optional company from \"company.id\"\n}\nevent page_view from page {\n  path: text\n}\nscore s { +10 on page_view }\naccount score total = sum of s\n",
    )
    .expect("write");
    let identify = |user: &str, company: &str, ts: &str| {
        format!(
            r#"{{"type":"identify","userId":"{user}","traits":{{"email":"{user}@x.example","company":{{"id":"{company}"}}}},"timestamp":"{ts}"}}"#
        )
    };
    let page = |user: &str, ts: &str| {
        format!(
            r#"{{"type":"page","userId":"{user}","properties":{{"path":"/"}},"timestamp":"{ts}"}}"#
        )
    };
    let events = dir.join("e.jsonl");
    let lines = [
        identify("b", "acc-2", "2026-03-01T00:00:00Z"),
        identify("a", "acc-1", "2026-03-01T00:00:00Z"),
        identify("c", "acc-1", "2026-03-01T00:00:00Z"),
        page("a", "2026-03-02T00:00:00Z"),
        page("c", "2026-03-02T00:00:00Z"),
        page("c", "2026-03-03T00:00:00Z"),
    ];
    std::fs::write(&events, lines.join("\n") + "\n").expect("write");
    let out = dir.join("accounts.jsonl");
    let run = maclc(&[
        "run",
        &program.to_string_lossy(),
        "--events",
        &events.to_string_lossy(),
        "--accounts-out",
        &out.to_string_lossy(),
    ]);
    let written = std::fs::read_to_string(&out).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    assert_eq!(
        written,
        "{\"account\":\"acc-1\",\"contacts\":2,\"total\":30}\n{\"account\":\"acc-2\",\"contacts\":1,\"total\":0}\n"
    );
}
