//! Formatter unit tests: the layout of small pieces, and that formatting keeps the meaning
//! (the tree of the formatted text equals the tree of the input, spans aside).

use std::path::PathBuf;

use regex::Regex;

use crate::source::Sources;
use crate::syntax::{parse_file, ParsedFile};

fn parse(text: &str) -> (Sources, ParsedFile) {
    let mut sources = Sources::new();
    let id = sources.add("test.marketing", text);
    let parsed = match sources.get(id) {
        Some(file) => parse_file(file),
        None => panic!("the source was not added"),
    };
    assert!(
        parsed.diagnostics.is_empty(),
        "syntax errors in:\n{text}\n{:?}",
        parsed.diagnostics
    );
    (sources, parsed)
}

/// Formats `text`, which must parse without errors.
fn format_text(text: &str) -> String {
    let (sources, parsed) = parse(text);
    let formatted = sources
        .iter()
        .next()
        .map(|file| super::format_file(file, &parsed));
    formatted.unwrap_or_default()
}

/// The tree as text without spans and without the literals' `raw` spelling, which the layout
/// may change (`10EUR` → `10 EUR`): what the file means.
fn meaning(text: &str) -> String {
    let (_, parsed) = parse(text);
    let debug = format!("{:#?}", parsed.ast);
    let spans =
        Regex::new(r"Span \{\s*file: FileId\(\s*\d+,?\s*\),\s*start: \d+,\s*end: \d+,?\s*\}")
            .expect("valid regex");
    let raws = Regex::new(r#"raw: "(?:[^"\\]|\\.)*""#).expect("valid regex");
    raws.replace_all(&spans.replace_all(&debug, "_"), "raw: _")
        .into_owned()
}

#[track_caller]
fn assert_keeps_meaning(text: &str) {
    let formatted = format_text(text);
    assert_eq!(
        meaning(text),
        meaning(&formatted),
        "formatting changed the tree; output:\n{formatted}"
    );
    assert_eq!(
        format_text(&formatted),
        formatted,
        "formatting is not idempotent"
    );
}

/// Every `.marketing` file without syntax errors under `tests/` of the repository.
fn repository_cases() -> Vec<PathBuf> {
    fn walk(dir: &std::path::Path, found: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, found);
            } else if path.extension().is_some_and(|e| e == "marketing") {
                found.push(path);
            }
        }
    }
    let mut found = Vec::new();
    walk(
        &PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests")),
        &mut found,
    );
    found.sort();
    found
}

#[test]
fn formatting_keeps_the_meaning_of_every_test_file() {
    let mut checked = 0;
    for path in repository_cases() {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let mut sources = Sources::new();
        let id = sources.add("case.marketing", text.as_str());
        if sources
            .get(id)
            .is_none_or(|f| !parse_file(f).diagnostics.is_empty())
        {
            continue;
        }
        let formatted = format_text(&text);
        assert_eq!(
            meaning(&text),
            meaning(&formatted),
            "{}: formatting changed the tree",
            path.display()
        );
        checked += 1;
    }
    assert!(checked > 0, "no test file was checked");
}

#[test]
fn parentheses_the_tree_needs_are_kept() {
    for line in [
        "segment s = (a or b) and c",
        "segment s = a or b and c",
        "segment s = not (a and b)",
        "segment s = (not a) == b",
        "segment s = a - (b - c) * (d + 1) / -e",
        "segment s = a ?? (b ?? c)",
        "segment s = (count e where a > 1) >= 3",
        "segment s = x > (count e where a > 1) + 1",
        "segment s = count e where (a or b) in the last 7d > 2",
        "segment s = a and (b and c)",
        "segment s = (a == b) == c",
        "segment s = -(a + b) > 0",
    ] {
        let text = format!("{line}\n");
        assert_eq!(format_text(&text), text);
        assert_keeps_meaning(&text);
    }
}

#[test]
fn needless_parentheses_and_spaces_go() {
    assert_eq!(
        format_text("segment s = ((a))   and(b)\n"),
        "segment s = a and b\n"
    );
    assert_eq!(
        format_text("segment s = (a + b) + c\n"),
        "segment s = a + b + c\n"
    );
    // `??` beside a comparison keeps (or gets) its parentheses: the form the checker's help
    // recommends, and the one that reads unambiguously.
    assert_eq!(
        format_text("segment s = (a ?? 0) >= 5\n"),
        "segment s = (a ?? 0) >= 5\n"
    );
    assert_eq!(
        format_text("segment s = a ?? 0 >= 5\n"),
        "segment s = (a ?? 0) >= 5\n"
    );
    assert_eq!(format_text("const x = [ 1 ,2, ]\n"), "const x = [1, 2]\n");
}

#[test]
fn literals_keep_their_spelling() {
    let text = "segment s = a > 1_000.50 and b < 10 EUR and c == 12.5% and d < 2026-02-01 and e > 09:30 and f == \"\\\"q\\\"\"\n";
    let formatted = format_text(text);
    assert!(
        formatted.contains("1_000.50")
            && formatted.contains("12.5%")
            && formatted.contains(r#""\"q\"""#),
        "{formatted}"
    );
    assert_eq!(
        format_text("segment s = b < 10EUR\n"),
        "segment s = b < 10 EUR\n"
    );
}

#[test]
fn names_and_titles_are_requoted() {
    let text = "score s \"Say \\\"hi\\\" \\\\ there\" {\n  +1 on e\n}\n";
    assert_eq!(format_text(text), text);
    assert_keeps_meaning(text);
}

#[test]
fn long_conditions_break_before_top_level_operators() {
    let long = format!(
        "segment s = {} > 1 and {} < 2 or c == 3\n",
        "a".repeat(40),
        "b".repeat(40)
    );
    let formatted = format_text(&long);
    assert_eq!(
        formatted,
        format!(
            "segment s = {} > 1 and {} < 2\n    or c == 3\n",
            "a".repeat(40),
            "b".repeat(40)
        )
    );
    assert_keeps_meaning(&long);
    // Short conditions written over several lines are joined.
    assert_eq!(
        format_text("segment s = a\n  and b\n"),
        "segment s = a and b\n"
    );
}

#[test]
fn long_conditions_break_inside_blocks_too() {
    let cond = format!("{} > 1 and {} < 2", "a".repeat(50), "b".repeat(50));
    let text = format!("journey j {{\n  if {cond} {{\n    end\n  }}\n}}\n");
    let formatted = format_text(&text);
    assert!(
        formatted.contains(&format!(
            "  if {} > 1\n      and {} < 2 {{\n",
            "a".repeat(50),
            "b".repeat(50)
        )),
        "{formatted}"
    );
    assert_keeps_meaning(&text);
}

#[test]
fn comments_stay_where_they_belong() {
    let text = "// header\n\n/// doc\nscore s { // brace\n  // own line\n  +1 on e // trailing\n\n\n  // last\n} // after\n";
    let formatted = format_text(text);
    assert_eq!(formatted, "// header\n\n/// doc\nscore s { // brace\n  // own line\n  +1 on e // trailing\n\n  // last\n} // after\n");
}

#[test]
fn comments_inside_a_multi_line_expression_move_above_it() {
    let text = "segment s = a // first\n  and b // second\n";
    assert_eq!(
        format_text(text),
        "// first\nsegment s = a and b // second\n"
    );
}

#[test]
fn doc_comments_stay_attached() {
    assert_eq!(
        format_text("/// doc\n\nsegment s = a\n"),
        "/// doc\nsegment s = a\n"
    );
}

#[test]
fn one_line_items_of_a_kind_stay_together() {
    let text = "channel a opt_in\nchannel b opt_out\nconst x = 1\nconst y = 2\nsegment s = x\nsegment t = y\n";
    assert_eq!(
        format_text(text),
        "channel a opt_in\nchannel b opt_out\n\nconst x = 1\nconst y = 2\n\nsegment s = x\n\nsegment t = y\n"
    );
}

#[test]
fn blank_lines_inside_blocks_are_kept_once() {
    let text = "journey j {\n\n  trigger on e\n\n\n\n  wait 1d\n  end\n\n}\n";
    assert_eq!(
        format_text(text),
        "journey j {\n  trigger on e\n\n  wait 1d\n  end\n}\n"
    );
}

#[test]
fn branches_keep_their_shape() {
    let text = "journey j {\n  split {\n    when a => end\n    when b => {\n      end\n    }\n    otherwise => if c {\n      end\n    }\n  }\n  wait until e within 1d else {\n    end\n  }\n  if a {\n    end\n  } else {\n    if b {\n      end\n    }\n  }\n}\n";
    assert_eq!(format_text(text), text);
    assert_keeps_meaning(text);
}

#[test]
fn empty_text_formats_to_empty_text() {
    assert_eq!(format_text(""), "");
    assert_eq!(
        format_text("\n\n// only a comment\n\n"),
        "// only a comment\n"
    );
}

#[test]
fn meaning_sees_the_tree_but_not_the_spans() {
    assert_ne!(
        meaning("segment s = (a or b) and c\n"),
        meaning("segment s = a or b and c\n")
    );
    assert_eq!(
        meaning("segment s = (a or b) and c\n"),
        meaning("\n\nsegment   s =  (a or b)\n    and c\n")
    );
    assert!(!meaning("segment s = a\n").contains("start:"));
}

/// Every test file again with a comment at the end of each line and a comment line before
/// each line: every comment must survive, in the same tree, and the result must be stable.
#[test]
fn comments_everywhere_survive() {
    let mut checked = 0;
    for path in repository_cases() {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let mut noisy = String::new();
        for (n, line) in text.lines().enumerate() {
            let indent: String = line.chars().take_while(|c| c.is_whitespace()).collect();
            noisy.push_str(&format!("{indent}// own {n}\n"));
            if line.trim().is_empty() {
                noisy.push_str(line);
            } else {
                noisy.push_str(&format!("{line} // end {n}"));
            }
            noisy.push('\n');
        }
        let mut sources = Sources::new();
        let id = sources.add("case.marketing", noisy.as_str());
        if sources
            .get(id)
            .is_none_or(|f| !parse_file(f).diagnostics.is_empty())
        {
            continue;
        }
        let formatted = format_text(&noisy);
        let (_, parsed) = parse(&noisy);
        for comment in &parsed.comments {
            let raw = noisy
                .get(comment.span.range())
                .unwrap_or_default()
                .trim_end();
            assert!(
                formatted.contains(raw),
                "{}: `{raw}` is lost:\n{formatted}",
                path.display()
            );
        }
        assert_eq!(
            meaning(&noisy),
            meaning(&formatted),
            "{}: the tree changed:\n{formatted}",
            path.display()
        );
        assert_eq!(
            format_text(&formatted),
            formatted,
            "{}: not idempotent:\n{formatted}",
            path.display()
        );
        checked += 1;
    }
    assert!(checked > 0, "no file was checked");
}

#[test]
fn windows_line_endings_give_the_same_layout() {
    let unix = "// c\nscore s {\n  +1 on e // t\n\n  at most 5\n}\n";
    assert_eq!(format_text(&unix.replace('\n', "\r\n")), format_text(unix));
}

#[test]
fn comments_in_a_broken_block_header_move_above_it() {
    let text = "journey j {\n  if a // one\n    or b { // two\n    end\n  }\n}\n";
    assert_eq!(
        format_text(text),
        "journey j {\n  // one\n  if a or b { // two\n    end\n  }\n}\n"
    );
}

#[test]
fn waiting_for_an_event_named_like_a_day_keeps_its_on() {
    let text = "journey j {\n  wait until on monday within 2d\n  wait until on signed_up\n  wait until monday\n  wait until weekdays at 09:00\n}\n";
    let formatted = format_text(text);
    assert_eq!(
        formatted,
        "journey j {\n  wait until on monday within 2d\n  wait until signed_up\n  wait until monday\n  wait until 09:00 on weekdays\n}\n"
    );
    assert_keeps_meaning(text);
}

#[test]
fn event_sources_are_kept() {
    let text = "event a from page\nevent b from screen\nevent c from track \"C\"\n\nevent d from page {\n  path: text\n}\n";
    assert_eq!(format_text(text), text);
}
