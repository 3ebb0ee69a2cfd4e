//! The parser must answer any text, as an editor sends it while a marketer types: every prefix
//! of every `.marketing` file in the repository parses (and, for a sample, checks) without a
//! panic, and recovery reports
//! each error once, where it is.

mod support;

use maclc_compiler::source::Sources;
use maclc_compiler::syntax::parse_file;

#[test]
fn every_prefix_of_every_file_parses_without_panic() {
    let files = support::marketing_files(&support::repo_root());
    assert!(!files.is_empty());
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        // A stride keeps the test quick in debug builds while still cutting inside every kind of
        // construct; every fourth prefix also goes through the checker, as the editor would.
        let stride = (text.len() / 80).max(1);
        let mut count = 0;
        let mut cut = 0;
        while cut <= text.len() {
            if text.is_char_boundary(cut) {
                let mut sources = Sources::new();
                let id = sources.add(support::relative(&path), &text[..cut]);
                if let Some(file) = sources.get(id) {
                    let parsed = parse_file(file);
                    for d in &parsed.diagnostics {
                        assert!(
                            d.span().end as usize <= cut + 1,
                            "span past the text in {}",
                            support::relative(&path)
                        );
                    }
                }
                if count % 4 == 0 {
                    let analysis = maclc_compiler::analyze(&sources);
                    for d in &analysis.diagnostics {
                        assert!(
                            d.span().end as usize <= cut + 1,
                            "span past the text in {}",
                            support::relative(&path)
                        );
                    }
                }
                count += 1;
            }
            cut += stride;
        }
    }
}

#[test]
fn three_slips_give_three_errors_on_their_lines() {
    let text = "event page_view from page {\n  path: text\n}\n\nscore s {\n  +5 on page_view limt 3 per day\n  at leest 0\n  +1 on page_view\n}\n\nsegment a = s >\nsegment b = s > 1\n";
    let mut sources = Sources::new();
    let id = sources.add("slips.marketing", text);
    let file = sources.get(id).expect("added");
    let parsed = parse_file(file);
    let lines: Vec<usize> = parsed
        .diagnostics
        .iter()
        .map(|d| file.line_col(d.span().start as usize).0)
        .collect();
    assert_eq!(lines, vec![6, 7, 11], "{:?}", parsed.diagnostics);
    // What could be read is still there for the checker: the event, the score with its
    // remaining rule, and the good segment.
    assert_eq!(
        parsed.ast.items.len(),
        3,
        "{:#?}",
        parsed
            .ast
            .items
            .iter()
            .map(|i| i.kind.describe())
            .collect::<Vec<_>>()
    );
}
