//! The reports of `maclc test`: failures located in the source (miette, as `maclc check` draws
//! diagnostics) with the contact's trace under them, the same facts as JSON, and JUnit XML.
//!
//! Everything here is a pure function of the outcomes and the sources, so two runs of the same
//! tests print the same bytes (no durations, no colours unless asked).

use std::fmt::{self, Write as _};

use crate::coverage::{Coverage, Kind};
use maclc_compiler::check::Program;
use maclc_compiler::ir::Ir;
use maclc_compiler::source::{SourceFile, Sources, Span};
use maclc_runtime::engine::BOUNDS_RULE;
use maclc_runtime::input::format_timestamp;
use maclc_runtime::output::format_number;
use maclc_runtime::testing::{Failure, Happened, TestOutcome, TraceEntry};
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};
use serde_json::{json, Value};

/// One project's tests, run, with what is needed to tell their story.
pub struct ProjectRun {
    pub name: String,
    pub sources: Sources,
    pub program: Program,
    pub ir: Ir,
    pub outcomes: Vec<TestOutcome>,
    /// What the tests exercised, with `--coverage`.
    pub coverage: Option<Coverage>,
}

impl fmt::Debug for ProjectRun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProjectRun")
            .field("name", &self.name)
            .finish()
    }
}

/// The human report: one line per test, each failure in full, then the summary line.
pub fn human(runs: &[ProjectRun], color: bool) -> String {
    let mut out = String::new();
    let several = runs.len() > 1;
    for run in runs {
        for outcome in &run.outcomes {
            let status = if outcome.passed() { "ok    " } else { "FAILED" };
            // With several projects, the project says which `name` this is.
            if several {
                let _ = writeln!(out, "{status}  {}: {}", run.name, outcome.name);
            } else {
                let _ = writeln!(out, "{status}  {}", outcome.name);
            }
        }
    }
    let mut failed = 0;
    let mut passed = 0;
    let mut skipped = 0;
    for run in runs {
        for outcome in &run.outcomes {
            skipped += outcome.skipped;
            if outcome.passed() {
                passed += 1;
                continue;
            }
            failed += 1;
            for failure in &outcome.failures {
                out.push('\n');
                out.push_str(&failure_text(run, outcome, failure, color));
            }
        }
    }
    for run in runs {
        if let Some(coverage) = &run.coverage {
            out.push('\n');
            out.push_str(&coverage_text(run, coverage));
        }
    }
    out.push('\n');
    if skipped > 0 {
        let _ = writeln!(
            out,
            "note: {skipped} expectations on account scores not checked (known only after a run)"
        );
    }
    // CI tools read this line: keep its shape.
    let _ = writeln!(out, "{passed} passed, {failed} failed");
    out
}

/// One failure: the located report, then the contact's trace.
pub fn failure_text(
    run: &ProjectRun,
    outcome: &TestOutcome,
    failure: &Failure,
    color: bool,
) -> String {
    let mut out = located(run, outcome, failure, color);
    out.push_str(&trace_text(run, failure));
    out
}

/// The expectation in the source, underlined, with the expected and actual values.
fn located(run: &ProjectRun, outcome: &TestOutcome, failure: &Failure, color: bool) -> String {
    // The test's name goes on its own line: in the headline it would make miette wrap it.
    let title = format!("test \"{}\"\n", outcome.name);
    let headline = format!("expected `{}`, got `{}`", failure.expected, failure.actual);
    let Some(file) = run.sources.get(failure.span.file) else {
        return format!("{title}FAILED {headline}\n");
    };
    let mut theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    theme.characters.error = "FAILED".to_string();
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_links(false);
    let report = Report {
        message: headline.clone(),
        help: format!(
            "checked at {}; the trace of {} below says why",
            time(failure.time),
            failure.contact
        ),
        source: NamedSource::new(file.name.clone(), file.text.to_string()),
        labels: vec![LabeledSpan::new_primary_with_span(
            Some(plain_words(failure)),
            expect_span(failure.span, file),
        )],
    };
    let mut out = title;
    if handler.render_report(&mut out, &report).is_err() {
        // A rendering failure must not hide the failure: one plain located line instead.
        let (line, column) = file.line_col(failure.span.start as usize);
        let _ = writeln!(out, "FAILED {headline} at {}:{line}:{column}", file.name);
    }
    out
}

/// The failure in a sentence, under the underline.
fn plain_words(failure: &Failure) -> String {
    let actual = &failure.actual;
    if let Some(segment) = failure.expected.strip_prefix("not in ") {
        format!("the contact is in `{segment}`")
    } else if let Some(segment) = failure.expected.strip_prefix("in ") {
        format!("the contact is not in `{segment}`")
    } else if let Some(queue) = failure.expected.strip_prefix("routed to ") {
        match actual.strip_prefix("routed to ") {
            Some(other) => format!("the contact went to `{other}` instead of `{queue}`"),
            None => "the contact was not routed".to_string(),
        }
    } else if failure.expected.starts_with("stage ") {
        format!("the contact is at stage `{actual}`")
    } else if failure.expected.starts_with("not sent ") {
        "it was sent".to_string()
    } else if failure.expected.starts_with("not notified ") {
        "it was notified".to_string()
    } else if [
        "sent ",
        "suppressed ",
        "notified ",
        "added to list ",
        "removed from list ",
    ]
    .iter()
    .any(|p| failure.expected.starts_with(p))
    {
        format!("instead: {actual}")
    } else if failure.expected == "no actions" {
        format!("there were: {actual}")
    } else if failure.expected.starts_with("journey ") {
        match actual
            .strip_prefix("journey ")
            .and_then(|a| a.split_once(" at "))
        {
            Some((_, steps)) => format!("the run is at `{steps}`"),
            None => format!("the contact is {actual}"),
        }
    } else {
        let score = failure.expected.split(' ').next().unwrap_or_default();
        format!("`{score}` is {actual}")
    }
}

/// The statement's span from its `expect` (an `at +7d` before it is not the expectation).
fn expect_span(span: Span, file: &SourceFile) -> SourceSpan {
    let start = (span.start as usize).min(file.text.len());
    let end = (span.end as usize).min(file.text.len()).max(start);
    let text = file.text.get(start..end).unwrap_or_default();
    let from = text.find("expect").map_or(start, |i| start + i);
    SourceSpan::new(from.into(), end - from)
}

/// A time as a marketer reads it: milliseconds only when there are some.
fn time(ms: i64) -> String {
    format_timestamp(ms).replace(".000Z", "Z")
}

/// `file:line` of a span.
fn place(sources: &Sources, span: Span) -> String {
    match sources.get(span.file) {
        Some(file) => {
            let (line, _) = file.line_col(span.start as usize);
            format!("{}:{line}", file.name)
        }
        None => String::new(),
    }
}

/// The source text of a span on one line (a rule written over two lines reads as one).
fn written(sources: &Sources, span: Span) -> String {
    sources
        .get(span.file)
        .and_then(|f| f.text.get(span.start as usize..span.end as usize))
        .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// One trace entry in words, and where it comes from (`file:line`, when it has a source).
pub fn describe(run: &ProjectRun, entry: &TraceEntry) -> (String, Option<String>) {
    let ir = &run.ir;
    match &entry.what {
        Happened::Event { event, span } => {
            let name = ir
                .events
                .get(*event as usize)
                .map_or("?", |e| e.name.as_str());
            (format!("event `{name}`"), Some(place(&run.sources, *span)))
        }
        Happened::Identify { span } => {
            // The statement from its `identify` (its `at +1d` and contact name are said by the
            // trace line's time and heading).
            let text = written(&run.sources, *span);
            let from = text.find("identify").unwrap_or(0);
            let text = text.get(from..).unwrap_or_default();
            (format!("`{text}`"), Some(place(&run.sources, *span)))
        }
        Happened::Points {
            score,
            rule,
            delta,
            value,
        } => {
            let name = ir
                .scores
                .get(*score as usize)
                .map_or("?", |s| s.name.as_str());
            // Decay makes a change `after - before` in floating point (+20.000000000000004):
            // shown to a millionth, which is finer than any rule's points are written in.
            let delta = &((delta * 1e6).round() / 1e6);
            let sign = if *delta >= 0.0 { "+" } else { "" };
            let now = value.map_or(String::new(), |v| format!(" (now {})", format_number(v)));
            if *rule == BOUNDS_RULE {
                return (
                    format!(
                        "{name} {sign}{}{now}: kept within the score's bounds",
                        format_number(*delta)
                    ),
                    None,
                );
            }
            let span = run
                .program
                .scores
                .get(*score as usize)
                .and_then(|s| s.rules.get(*rule as usize))
                .map(|r| r.span);
            match span {
                Some(span) => (
                    format!(
                        "{name} {sign}{}{now} by `{}`",
                        format_number(*delta),
                        written(&run.sources, span)
                    ),
                    Some(place(&run.sources, span)),
                ),
                None => (format!("{name} {sign}{}{now}", format_number(*delta)), None),
            }
        }
        Happened::Stage { from, to } => {
            let stages = ir.lifecycle.as_ref().map(|l| &l.stages);
            let name = |s: u32| {
                stages
                    .and_then(|n| n.get(s as usize))
                    .map_or("?", String::as_str)
            };
            (format!("stage {} -> {}", name(*from), name(*to)), None)
        }
        Happened::Transition { transition } => {
            let span = run
                .program
                .lifecycle
                .as_ref()
                .and_then(|l| l.transitions.get(*transition as usize))
                .map(|t| t.span);
            match span {
                Some(span) => (
                    format!("by `{}`", written(&run.sources, span)),
                    Some(place(&run.sources, span)),
                ),
                None => ("by a lifecycle transition".to_string(), None),
            }
        }
        Happened::Route { route, rule } => {
            let route = run.program.routes.get(*route as usize);
            let name = route.map_or("?", |r| r.name.as_str());
            let span = route
                .and_then(|r| r.rules.get(*rule as usize))
                .map(|r| r.span);
            match span {
                Some(span) => (
                    format!("routing `{name}` chose `{}`", written(&run.sources, span)),
                    Some(place(&run.sources, span)),
                ),
                None => (format!("routing `{name}` chose rule {}", rule + 1), None),
            }
        }
        Happened::JourneyStep { journey, step } => {
            let journey = run.program.journeys.get(*journey as usize);
            let name = journey.map_or("?", |j| j.name.as_str());
            let span = journey
                .and_then(|j| find_step(&j.steps, *step))
                .map(|s| s.span);
            match span {
                Some(span) => (
                    format!("journey `{name}` runs `{}`", first_line(&run.sources, span)),
                    Some(place(&run.sources, span)),
                ),
                None => (format!("journey `{name}` runs step {step}"), None),
            }
        }
        Happened::Segment { segment, entered } => {
            let name = ir
                .segments
                .get(*segment as usize)
                .map_or("?", |s| s.name.as_str());
            let span = run.program.segments.get(*segment as usize).map(|s| s.span);
            (
                format!(
                    "{} segment `{name}`",
                    if *entered { "enters" } else { "leaves" }
                ),
                span.map(|s| place(&run.sources, s)),
            )
        }
        Happened::JourneyEnded { journey, outcome } => {
            let name = ir
                .journeys
                .journeys
                .get(*journey as usize)
                .map_or("?", |j| j.name.as_str());
            (
                format!(
                    "journey `{name}` {}",
                    maclc_runtime::testing::outcome_words(*outcome)
                ),
                None,
            )
        }
        Happened::Action { kind, payload } => {
            let action = maclc_runtime::lifecycle::Action {
                kind,
                contact: String::new(),
                time: entry.time,
                rule: String::new(),
                trigger: String::new(),
                payload: payload.clone(),
                seq: 0,
                key: String::new(),
            };
            (maclc_runtime::testing::action_words(&action), None)
        }
    }
}

/// The contact's trace, one line per entry: time, what happened, where it is written.
pub fn trace_text(run: &ProjectRun, failure: &Failure) -> String {
    let mut out = format!("  trace of {}:\n", failure.contact);
    if failure.trace.is_empty() {
        out.push_str("    nothing happened to the contact\n");
    }
    for (i, entry) in failure.trace.iter().enumerate() {
        // A transition is told on the line of the stage change it made.
        if matches!(entry.what, Happened::Transition { .. }) {
            continue;
        }
        let (mut what, mut place) = describe(run, entry);
        if let (Happened::Stage { .. }, Some(next)) = (&entry.what, failure.trace.get(i + 1)) {
            if matches!(next.what, Happened::Transition { .. }) {
                let (by, by_place) = describe(run, next);
                what = format!("{what} {by}");
                place = by_place;
            }
        }
        // An event no rule gave points for is part of the story too (a limit reached, a
        // condition that did not hold): the entries it caused follow it at its time.
        if matches!(entry.what, Happened::Event { .. })
            && !run.ir.scores.is_empty()
            && !failure.trace.get(i + 1).is_some_and(|next| {
                next.time == entry.time && matches!(next.what, Happened::Points { .. })
            })
        {
            what.push_str(", no points");
        }
        let place = place.map_or(String::new(), |p| format!("  ({p})"));
        let _ = writeln!(out, "    {}  {what}{place}", time(entry.time));
    }
    out
}

/// The tests of one project as JSON values.
pub fn json_tests(run: &ProjectRun) -> Vec<Value> {
    run.outcomes
        .iter()
        .map(|outcome| {
            let (file, line, column) = location(&run.sources, outcome.span);
            let failures: Vec<Value> = outcome
                .failures
                .iter()
                .map(|failure| {
                    let (file, line, column) = location(&run.sources, failure.span);
                    let trace: Vec<Value> = failure
                        .trace
                        .iter()
                        .map(|entry| trace_json(run, entry))
                        .collect();
                    json!({
                        "file": file,
                        "line": line,
                        "column": column,
                        "contact": failure.contact,
                        "time": time(failure.time),
                        "expected": failure.expected,
                        "actual": failure.actual,
                        "message": failure.message,
                        "trace": trace,
                    })
                })
                .collect();
            json!({
                "project": run.name,
                "name": outcome.name,
                "file": file,
                "line": line,
                "column": column,
                "status": if outcome.passed() { "passed" } else { "failed" },
                "expectations_not_checked": outcome.skipped,
                "failures": failures,
            })
        })
        .collect()
}

fn trace_json(run: &ProjectRun, entry: &TraceEntry) -> Value {
    let (text, place) = describe(run, entry);
    let kind = match entry.what {
        Happened::Event { .. } => "event",
        Happened::Identify { .. } => "identify",
        Happened::Points { .. } => "points",
        Happened::Stage { .. } => "stage",
        Happened::Segment { .. } => "segment",
        Happened::Transition { .. } => "transition",
        Happened::Route { .. } => "route",
        Happened::JourneyStep { .. } => "journey_step",
        Happened::JourneyEnded { .. } => "journey_ended",
        Happened::Action { .. } => "action",
    };
    let mut value = json!({ "time": time(entry.time), "kind": kind, "text": text });
    if let (Some(place), Value::Object(map)) = (place, &mut value) {
        map.insert("source".to_string(), Value::String(place));
    }
    if let (Happened::Points { delta, .. }, Value::Object(map)) = (&entry.what, &mut value) {
        map.insert("delta".to_string(), json!(delta));
    }
    value
}

/// (file, line, column) of a span, 1-based.
fn location(sources: &Sources, span: Span) -> (String, usize, usize) {
    match sources.get(span.file) {
        Some(file) => {
            let (line, column) = file.line_col(span.start as usize);
            (file.name.clone(), line, column)
        }
        None => (String::new(), 0, 0),
    }
}

/// JUnit XML: one testsuite per project, one testcase per test, each failure's report (without
/// colour) as the failure's text.
pub fn junit(runs: &[ProjectRun]) -> String {
    let total: usize = runs.iter().map(|r| r.outcomes.len()).sum();
    let failed: usize = runs
        .iter()
        .map(|r| r.outcomes.iter().filter(|o| !o.passed()).count())
        .sum();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"maclc test\" tests=\"{total}\" failures=\"{failed}\" errors=\"0\">"
    );
    for run in runs {
        let failed = run.outcomes.iter().filter(|o| !o.passed()).count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failed}\" errors=\"0\" skipped=\"0\">",
            xml(&run.name),
            run.outcomes.len()
        );
        for outcome in &run.outcomes {
            let (file, line, _) = location(&run.sources, outcome.span);
            let _ = write!(
                out,
                "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\" line=\"{line}\"",
                xml(&outcome.name),
                xml(&run.name),
                xml(&file)
            );
            if outcome.passed() {
                out.push_str("/>\n");
                continue;
            }
            out.push_str(">\n");
            let message: Vec<String> = outcome
                .failures
                .iter()
                .map(|f| format!("expected `{}`, got `{}`", f.expected, f.actual))
                .collect();
            let text: String = outcome
                .failures
                .iter()
                .map(|f| failure_text(run, outcome, f, false))
                .collect::<Vec<_>>()
                .join("\n");
            let _ = writeln!(
                out,
                "      <failure type=\"expectation\" message=\"{}\">{}</failure>",
                xml(&message.join("; ")),
                xml(&text)
            );
            out.push_str("    </testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// Text escaped for XML attributes and content; characters XML 1.0 forbids are dropped.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\t' | '\r' => out.push(c),
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out
}

/// A failure as miette wants it.
struct Report {
    message: String,
    help: String,
    source: NamedSource<String>,
    labels: Vec<LabeledSpan>,
}

impl fmt::Debug for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Report")
            .field("message", &self.message)
            .finish()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Report {}

impl miette::Diagnostic for Report {
    fn severity(&self) -> Option<miette::Severity> {
        Some(miette::Severity::Error)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(&self.help))
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }
}

/// The step numbered `id` among `steps` and the steps nested in them.
fn find_step(
    steps: &[maclc_compiler::check::Step],
    id: u32,
) -> Option<&maclc_compiler::check::Step> {
    use maclc_compiler::check::StepKind;
    for step in steps {
        if step.id.0 == id {
            return Some(step);
        }
        let nested: Vec<&[maclc_compiler::check::Step]> = match &step.kind {
            StepKind::WaitForEvent { on_timeout, .. } => vec![on_timeout],
            StepKind::If {
                then, otherwise, ..
            } => vec![then, otherwise],
            StepKind::Split { arms } => arms.iter().map(|(_, a)| a.as_slice()).collect(),
            StepKind::RandomSplit { arms } => arms.iter().map(|(_, _, a)| a.as_slice()).collect(),
            _ => Vec::new(),
        };
        if let Some(found) = nested.into_iter().find_map(|n| find_step(n, id)) {
            return Some(found);
        }
    }
    None
}

/// How an item reads in a report: a statement on one line; a block (`if … {`) by its first
/// line; at most 90 characters.
fn first_line(sources: &Sources, span: Span) -> String {
    let text = sources
        .get(span.file)
        .and_then(|f| f.text.get(span.start as usize..span.end as usize))
        .unwrap_or_default();
    let mut lines = text.lines();
    let first = lines.next().unwrap_or_default().trim();
    let line = if first.ends_with('{') && lines.next().is_some() {
        format!("{first} … }}")
    } else {
        written(sources, span)
    };
    if line.chars().count() > 90 {
        let cut: String = line.chars().take(89).collect();
        format!("{}…", cut.trim_end())
    } else {
        line
    }
}

/// The coverage report of one project: covered/total per kind, then each item no test
/// exercised, where it is written and why it counts as not exercised.
pub fn coverage_text(run: &ProjectRun, coverage: &Coverage) -> String {
    let mut out = format!("coverage of {}:\n", run.name);
    for kind in Kind::ALL {
        let (covered, total) = coverage.count(kind);
        if total > 0 {
            let _ = writeln!(out, "  {:<28}{covered:>4}/{total}", kind.label());
        }
    }
    let missing: Vec<_> = coverage.items.iter().filter(|i| !i.covered).collect();
    if missing.is_empty() {
        out.push_str("  every item was exercised by a test\n");
        return out;
    }
    out.push_str("  not exercised:\n");
    for item in missing {
        let _ = writeln!(
            out,
            "    {}  {}: `{}` {}",
            place(&run.sources, item.span),
            item.owner,
            first_line(&run.sources, item.text),
            item.missing
        );
    }
    out
}

/// The coverage of every run as LCOV: one record per file, a `DA` line per line holding an
/// item, with its hit count (0 when an item on that line was not exercised).
pub fn lcov(runs: &[ProjectRun]) -> String {
    let mut out = String::new();
    for run in runs {
        let Some(coverage) = &run.coverage else {
            continue;
        };
        for file in run.sources.iter() {
            // (line, hits, all exercised) per line, in line order.
            let mut lines: std::collections::BTreeMap<usize, (u64, bool)> = Default::default();
            for item in coverage.items.iter().filter(|i| i.span.file == file.id) {
                let (line, _) = file.line_col(item.span.start as usize);
                let entry = lines.entry(line).or_insert((0, true));
                entry.0 += item.hits;
                entry.1 &= item.covered;
            }
            if lines.is_empty() {
                continue;
            }
            let _ = writeln!(out, "TN:\nSF:{}", file.name);
            let mut hit = 0;
            for (line, (hits, covered)) in &lines {
                let hits = if *covered { *hits } else { 0 };
                hit += usize::from(hits > 0);
                let _ = writeln!(out, "DA:{line},{hits}");
            }
            let _ = writeln!(out, "LF:{}\nLH:{hit}\nend_of_record", lines.len());
        }
    }
    out
}

/// The coverage of one run as JSON: covered/total per kind and every item.
pub fn coverage_json(run: &ProjectRun, coverage: &Coverage) -> Value {
    let mut summary = serde_json::Map::new();
    for kind in Kind::ALL {
        let (covered, total) = coverage.count(kind);
        summary.insert(
            kind.key().to_string(),
            json!({ "covered": covered, "total": total }),
        );
    }
    let items: Vec<Value> = coverage
        .items
        .iter()
        .map(|item| {
            let (file, line, column) = location(&run.sources, item.span);
            let mut value = json!({
                "kind": item.kind.key(),
                "file": file,
                "line": line,
                "column": column,
                "owner": item.owner,
                "text": first_line(&run.sources, item.text),
                "hits": item.hits,
                "covered": item.covered,
            });
            if let (false, Value::Object(map)) = (item.covered, &mut value) {
                map.insert("why".to_string(), Value::String(item.missing.clone()));
            }
            value
        })
        .collect();
    json!({ "project": run.name, "summary": summary, "items": items })
}
