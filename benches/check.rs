//! How long `maclc check` takes on a generated project of about 1,000 rules.
//!
//! `cargo bench --bench check` prints a table of parse, check and total times (median and best of
//! the runs) and writes the project to `target/bench-check-project/` so the whole command can be
//! timed too: `time target/release/maclc check target/bench-check-project`.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use maclc_compiler::source::Sources;
use maclc_compiler::syntax::parse_file;

const SCORES: usize = 100;
const RULES_PER_SCORE: usize = 8;
const SEGMENTS: usize = 150;
const JOURNEYS: usize = 30;
const ROUTE_RULES: usize = 20;
const RUNS: usize = 15;

fn schema() -> String {
    let mut s = String::from(
        "channel email opt_in\nchannel sms opt_in\n\nenum product_line { general, medical }\n\n",
    );
    s.push_str("contact {\n  email: text\n  job_title: optional text\n  industry: optional text\n  company_size: optional number\n  country: text\n");
    for i in 0..15 {
        let _ = writeln!(s, "  attribute_{i}: optional number");
    }
    s.push_str("}\n\n");
    s.push_str("event page_view from page {\n  path: text\n  url: text\n}\n\n");
    for i in 0..15 {
        let _ = writeln!(
            s,
            "event action_{i} from track \"Action {i}\" {{\n  category: product_line\n  value: number\n  label: text\n}}\n"
        );
    }
    s
}

fn scores() -> String {
    let mut s = String::new();
    for i in 0..SCORES {
        let _ = writeln!(s, "score interest_{i} {{");
        for r in 0..RULES_PER_SCORE {
            let event = (i + r) % 15;
            match r % 4 {
                0 => {
                    let _ = writeln!(s, "  +5 on page_view where path starts_with \"/products/{i}/{r}\" limit 3 per day");
                }
                1 => {
                    let _ = writeln!(
                        s,
                        "  +25 on action_{event} where category == medical and value > {r}"
                    );
                }
                2 => {
                    let _ = writeln!(
                        s,
                        "  -10 on action_{event} where label == \"job-{r}\" limit 1 per week"
                    );
                }
                _ => {
                    let _ = writeln!(
                        s,
                        "  +15 when contact.attribute_{} is known and contact.attribute_{} >= {}",
                        r % 15,
                        r % 15,
                        i * 10 + r
                    );
                }
            }
        }
        s.push_str("  at least 0\n  decay half_life 60d\n}\n\n");
    }
    s
}

fn segments() -> String {
    let mut s = String::new();
    for i in 0..SEGMENTS {
        let a = i % SCORES;
        let b = (i * 7 + 3) % SCORES;
        let _ = writeln!(
            s,
            "segment hot_{i} = interest_{a} + interest_{b} >= {} and count page_view where path == \"/pricing\" in the last 7d >= 3",
            50 + i
        );
    }
    s
}

fn journeys_and_routing() -> String {
    let mut s = String::from(
        "queue field_sales\nqueue inside_sales\n\nroute handoff on enters segment hot_0 {\n",
    );
    for i in 0..ROUTE_RULES {
        let _ = writeln!(s, "  when interest_{i} > {} => queue field_sales", 100 + i);
    }
    s.push_str("  otherwise => queue inside_sales\n}\n\n");
    for i in 0..JOURNEYS {
        let _ = writeln!(
            s,
            "journey nurture_{i} {{\n  trigger enters hot_{i}\n  entry once\n  send email \"nurture-{i}-1\"\n  wait 2d\n  wait until action_{} within 7d else send email \"nurture-{i}-reminder\"\n  if interest_{i} >= 60 {{\n    notify queue inside_sales \"hot lead\"\n  }}\n  exit when leaves hot_{i}\n}}\n",
            i % 15
        );
    }
    s
}

fn project() -> Vec<(String, String)> {
    vec![
        ("schema.marketing".to_string(), schema()),
        ("scores.marketing".to_string(), scores()),
        ("segments.marketing".to_string(), segments()),
        ("journeys.marketing".to_string(), journeys_and_routing()),
    ]
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn main() {
    let files = project();
    let lines: usize = files.iter().map(|(_, t)| t.lines().count()).sum();
    let rules = SCORES * RULES_PER_SCORE + SEGMENTS + ROUTE_RULES + 1 + JOURNEYS * 6;
    let out_dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-check-project");
    let _ = std::fs::create_dir_all(&out_dir);
    for (name, text) in &files {
        let _ = std::fs::write(out_dir.join(name), text);
    }

    let mut parse_times = Vec::new();
    let mut total_times = Vec::new();
    let mut diagnostics = 0;
    for _ in 0..RUNS {
        let mut sources = Sources::new();
        for (name, text) in &files {
            sources.add(name.clone(), text.as_str());
        }
        let start = Instant::now();
        let parsed: Vec<_> = sources.iter().map(|f| parse_file(f)).collect();
        let parsed_at = Instant::now();
        let analysis = maclc_compiler::analyze_parsed(&sources, parsed);
        let done = Instant::now();
        diagnostics = analysis.diagnostics.len();
        parse_times.push(parsed_at - start);
        total_times.push(done - start);
    }
    let best_total = *total_times.iter().min().unwrap_or(&Duration::ZERO);
    let median_parse = median(&mut parse_times);
    let median_total = median(&mut total_times);
    let check_only = median_total.saturating_sub(median_parse);
    println!("maclc check on a generated project: {} files, {lines} lines, about {rules} rules ({diagnostics} diagnostics)", files.len());
    println!("| stage | median of {RUNS} runs | per rule |");
    println!("|---|---|---|");
    let per_rule = |d: Duration| format!("{:.1} µs", d.as_secs_f64() * 1e6 / rules as f64);
    println!(
        "| parse | {:.2} ms | {} |",
        median_parse.as_secs_f64() * 1e3,
        per_rule(median_parse)
    );
    println!(
        "| check | {:.2} ms | {} |",
        check_only.as_secs_f64() * 1e3,
        per_rule(check_only)
    );
    println!(
        "| parse + check | {:.2} ms (best {:.2} ms) | {} |",
        median_total.as_secs_f64() * 1e3,
        best_total.as_secs_f64() * 1e3,
        per_rule(median_total)
    );
    println!("project written to {}", out_dir.display());
}
