//! Response times of `maclc lsp` on a generated project of about 5,000 lines.
//!
//! `cargo bench -p maclc-lsp --bench lsp` writes the project to a temporary folder, starts the
//! server in process over in-memory pipes (the same framing and JSON as over stdio, through the
//! test client of `tests/support`) and times, over several runs each: opening a file (the whole
//! project parsed and checked, every file's diagnostics published), an edit of a rule file and of
//! the schema file until every file's diagnostics are in, completion after `contact.` and in a
//! condition (on the cached analysis, and right after an edit), and hover. Figures go in
//! `docs/performance.md`.

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use serde_json::json;
use support::{uri_of, TestClient};

const SCORES: usize = 250;
const RULES_PER_SCORE: usize = 8;
const SEGMENTS: usize = 500;
const JOURNEYS: usize = 60;
const RUNS: usize = 15;

fn schema() -> String {
    let mut s = String::from(
        "channel email opt_in\nchannel sms opt_in\n\nenum product_line { general, medical }\n\n",
    );
    s.push_str("contact {\n  email: text\n  job_title: optional text\n  company_size: optional number\n  country: text\n");
    for i in 0..40 {
        let _ = writeln!(s, "  attribute_{i}: optional number");
    }
    s.push_str("}\n\nevent page_view from page {\n  path: text\n  url: text\n}\n\n");
    for i in 0..30 {
        let _ = writeln!(
            s,
            "event action_{i} from track \"Action {i}\" {{\n  category: product_line\n  value: number\n  label: text\n}}\n"
        );
    }
    s.push_str("lifecycle {\n  stages subscriber > lead > mql > customer\n  move to lead when interest_0 >= 30\n}\n\nqueue field_sales\nqueue inside_sales\n");
    s
}

fn scores() -> String {
    let mut s = String::new();
    for i in 0..SCORES {
        let _ = writeln!(s, "/// Interest number {i}.\nscore interest_{i} {{");
        for r in 0..RULES_PER_SCORE {
            let event = (i + r) % 30;
            let _ = match r % 4 {
                0 => writeln!(s, "  +5 on page_view where path starts_with \"/products/{i}/{r}\" limit 3 per day"),
                1 => writeln!(s, "  +25 on action_{event} where category == medical and value > {r}"),
                2 => writeln!(s, "  -10 on action_{event} where label == \"job-{r}\" limit 1 per week"),
                _ => writeln!(s, "  +15 when contact.attribute_{} is known and contact.attribute_{} >= {}", r % 40, r % 40, i * 10 + r),
            };
        }
        s.push_str("  at least 0\n  decay half_life 60d\n}\n\n");
    }
    s
}

fn segments() -> String {
    let mut s = String::new();
    for i in 0..SEGMENTS {
        let _ = writeln!(
            s,
            "segment hot_{i} = interest_{} + interest_{} >= {} and count page_view where path == \"/pricing\" in the last 7d >= 3",
            i % SCORES,
            (i * 7 + 3) % SCORES,
            50 + i
        );
    }
    s
}

fn journeys() -> String {
    let mut s = String::from("route handoff on enters segment hot_0 {\n");
    for i in 0..20 {
        let _ = writeln!(s, "  when interest_{i} > {} => queue field_sales", 100 + i);
    }
    s.push_str("  otherwise => queue inside_sales\n}\n\n");
    for i in 0..JOURNEYS {
        let _ = writeln!(
            s,
            "journey nurture_{i} {{\n  trigger enters hot_{i}\n  entry once\n  send email \"nurture-{i}-1\"\n  wait 2d\n  wait until action_{} within 7d else send email \"nurture-{i}-reminder\"\n  if interest_{i} >= 60 {{\n    notify queue inside_sales \"hot lead\"\n  }}\n  exit when leaves hot_{i}\n}}\n",
            i % 30
        );
    }
    s
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let files = [
        ("schema.marketing", schema()),
        ("scores.marketing", scores()),
        ("segments.marketing", segments()),
        ("journeys.marketing", journeys()),
    ];
    let mut lines = 0;
    for (name, text) in &files {
        std::fs::write(dir.path().join(name), text).expect("writing the project");
        lines += text.lines().count();
    }
    let uris: BTreeSet<String> = files
        .iter()
        .map(|(n, _)| uri_of(&dir.path().join(n)))
        .collect();
    let scores_uri = uri_of(&dir.path().join("scores.marketing"));
    let schema_uri = uri_of(&dir.path().join("schema.marketing"));
    let scores_text = &files[1].1;
    let schema_text = &files[0].1;

    let mut open_times = Vec::new();
    let mut edit_rules = Vec::new();
    let mut edit_schema = Vec::new();
    let mut complete_cached = Vec::new();
    let mut complete_field = Vec::new();
    let mut complete_after_edit = Vec::new();
    let mut hover_times = Vec::new();
    let mut diagnostics = 0;
    for run in 0..RUNS {
        let mut client = TestClient::start().await;
        let start = Instant::now();
        client.open(&scores_uri, scores_text).await;
        client.wait_for_diagnostics(&uris).await;
        open_times.push(start.elapsed());
        client.open(&schema_uri, schema_text).await;
        client.wait_for_diagnostics(&uris).await;
        diagnostics = client
            .diagnostics
            .values()
            .map(|d| d.as_array().map_or(0, Vec::len))
            .sum();

        // An edit in a rule file: one more rule at the end of the first score.
        let edited = scores_text.replacen(
            "  at least 0\n",
            &format!(
                "  +{} when contact.email ends_with \"@x.example\"\n  at least 0\n",
                run + 1
            ),
            1,
        );
        let start = Instant::now();
        client.change(&scores_uri, 2, &edited).await;
        client.wait_for_diagnostics(&uris).await;
        edit_rules.push(start.elapsed());

        // An edit in the schema: every rule file is re-checked.
        let edited_schema = schema_text.replacen(
            "  country: text\n",
            "  country: text\n  region: optional text\n",
            1,
        );
        let start = Instant::now();
        client.change(&schema_uri, 2, &edited_schema).await;
        client.wait_for_diagnostics(&uris).await;
        edit_schema.push(start.elapsed());

        // Completion after `contact.` on the first rule line (line 2, after `+15 when `).
        let line_3 = scores_text.lines().nth(5).unwrap_or_default();
        let at = line_3.find("contact.").map_or(0, |i| i + "contact.".len());
        let start = Instant::now();
        let answer = client
            .request(
                "textDocument/completion",
                json!({ "textDocument": { "uri": scores_uri }, "position": { "line": 5, "character": at } }),
            )
            .await;
        complete_cached.push(start.elapsed());
        assert!(
            answer["result"].as_array().is_some_and(|a| a.len() > 40),
            "{answer}"
        );

        // Completion in a condition (every name), on the cached analysis.
        let start = Instant::now();
        let _ = client
            .request(
                "textDocument/completion",
                json!({ "textDocument": { "uri": scores_uri }, "position": { "line": 3, "character": 30 } }),
            )
            .await;
        complete_field.push(start.elapsed());

        // What typing feels like: an edit, then completion, until its answer.
        let typed = edited.replacen("  at least 0\n", "  +1 when contact.\n  at least 0\n", 1);
        let typed_line = typed
            .lines()
            .position(|l| l == "  +1 when contact.")
            .unwrap_or(0);
        let start = Instant::now();
        client.change(&scores_uri, 3, &typed).await;
        let answer = client
            .request(
                "textDocument/completion",
                json!({ "textDocument": { "uri": scores_uri }, "position": { "line": typed_line, "character": 18 } }),
            )
            .await;
        complete_after_edit.push(start.elapsed());
        assert!(
            answer["result"].as_array().is_some_and(|a| a.len() > 40),
            "{answer}"
        );
        client.wait_for_diagnostics(&uris).await;

        let start = Instant::now();
        let _ = client
            .request(
                "textDocument/hover",
                json!({ "textDocument": { "uri": scores_uri }, "position": { "line": 1, "character": 8 } }),
            )
            .await;
        hover_times.push(start.elapsed());
        client.shutdown().await;
    }
    println!(
        "maclc lsp on a generated project: {} files, {lines} lines, {} rules, {diagnostics} diagnostics",
        files.len(),
        SCORES * RULES_PER_SCORE + SEGMENTS + 21 + JOURNEYS * 6
    );
    println!("| request | median of {RUNS} runs | best |");
    println!("|---|---|---|");
    for (name, times) in [
        (
            "open a file: whole project parsed, checked, diagnostics of 4 files published",
            &mut open_times,
        ),
        (
            "edit a rule file → diagnostics of every file",
            &mut edit_rules,
        ),
        (
            "edit the schema → diagnostics of every file",
            &mut edit_schema,
        ),
        (
            "completion after `contact.` (analysis cached)",
            &mut complete_cached,
        ),
        (
            "completion in a condition, every name (cached)",
            &mut complete_field,
        ),
        (
            "edit + completion after `contact.` (re-check included)",
            &mut complete_after_edit,
        ),
        ("hover on a score (cached)", &mut hover_times),
    ] {
        let best = times.iter().min().copied().unwrap_or_default();
        println!("| {name} | {} | {} |", ms(median(times)), ms(best));
    }
}
