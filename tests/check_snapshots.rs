//! Runs `maclc check` over every case in `tests/check/` and snapshots each case's source together
//! with the rendered diagnostics (`tests/check/snapshots/`). One runner for the whole folder:
//! add a `.marketing` file (or a `*.project` folder) and run
//! `INSTA_UPDATE=always cargo test --test check_snapshots`, then read the new snapshot.

mod support;

use std::collections::BTreeSet;

use maclc_compiler::diagnostics::catalogue;

#[test]
fn every_case_matches_its_snapshot() {
    let root = support::repo_root().join("tests/check");
    let cases = support::cases(&root);
    assert!(!cases.is_empty(), "no cases found in {}", root.display());
    let mut failures = Vec::new();
    for case in &cases {
        let (sources, analysis) = support::check_case(case);
        let mut content = String::new();
        for file in sources.iter() {
            content.push_str(&format!("── {}\n{}", file.name, file.text));
            if !file.text.ends_with('\n') {
                content.push('\n');
            }
        }
        content.push_str("── maclc check\n");
        content.push_str(&support::render(&analysis, &sources));
        let name = support::relative(case)
            .trim_start_matches("tests/check/")
            .trim_end_matches(".marketing")
            .trim_end_matches(".against")
            .replace('/', "__");
        let outcome = std::panic::catch_unwind(|| {
            insta::with_settings!({
                snapshot_path => root.join("snapshots"),
                prepend_module_to_snapshot => false,
                omit_expression => true,
            }, {
                insta::assert_snapshot!(name.clone(), content);
            });
        });
        if outcome.is_err() {
            failures.push(name);
        }
    }
    assert!(failures.is_empty(), "snapshots differ for: {failures:?}");
}

/// Each case file is named after the code it shows (`E0102-…`); that code must be reported,
/// and every code in the catalogue must have a case.
#[test]
fn every_code_has_a_case_that_reports_it() {
    let root = support::repo_root().join("tests/check");
    let mut covered = BTreeSet::new();
    for case in support::cases(&root) {
        let name = case
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let code: String = name.chars().take(5).collect();
        if !(code.starts_with('E') || code.starts_with('W'))
            || !code[1..].chars().all(|c| c.is_ascii_digit())
        {
            continue;
        }
        let (_, analysis) = support::check_case(&case);
        assert!(
            analysis
                .diagnostics
                .iter()
                .any(|d| d.code().as_str() == code),
            "{} is named after {code} but does not report it",
            support::relative(&case)
        );
        covered.insert(code);
    }
    let missing: Vec<&str> = catalogue::ENTRIES
        .iter()
        .map(|e| e.code.as_str())
        .filter(|c| !covered.contains(*c))
        .collect();
    assert!(
        missing.is_empty(),
        "codes without a case in tests/check: {missing:?}"
    );
}

/// No message, label or help may show a Rust type or a grammar rule name.
#[test]
fn messages_use_the_marketers_words() {
    let grammar =
        std::fs::read_to_string(support::repo_root().join("compiler/src/syntax/grammar.pest"))
            .unwrap_or_default();
    let mut forbidden: Vec<String> = grammar
        .lines()
        .filter_map(|l| l.split_once('=').map(|(name, _)| name.trim().to_string()))
        .filter(|name| {
            name.contains('_') && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
        .filter(|name| !name.starts_with("k_"))
        .collect();
    forbidden.extend(
        [
            "EOI", "SOI", "Rule::", "Option<", "Some(", "None", "String", "Vec<", "f64", "i64",
            "u32", "usize", "unwrap", "panicked",
        ]
        .map(String::from),
    );
    // Keywords are named by their word (`when`), never by their rule (`k_when`).
    forbidden.push("k_".to_string());
    let mut roots = vec![
        support::repo_root().join("tests/check"),
        support::repo_root().join("examples"),
    ];
    roots.retain(|r| r.exists());
    for root in roots {
        for case in support::cases(&root) {
            let sources = support::load_case(&case);
            let analysis = support::check(&sources);
            for d in &analysis.diagnostics {
                let mut texts = vec![d.message().to_string(), d.primary().message.clone()];
                texts.extend(d.secondary().iter().map(|l| l.message.clone()));
                texts.extend(d.help().map(str::to_string));
                for text in texts {
                    for word in &forbidden {
                        let hit = if word == "k_" {
                            text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                                .any(|w| w.starts_with("k_"))
                        } else if word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                            text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                                .any(|w| w == word)
                        } else {
                            text.contains(word.as_str())
                        };
                        assert!(
                            !hit,
                            "{}: `{text}` shows `{word}`",
                            support::relative(&case)
                        );
                    }
                }
            }
        }
    }
}
