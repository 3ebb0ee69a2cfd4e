//! Lifecycle, SLA timers, routing with round robin and consent-checked actions, on event time.

use maclc_compiler::source::Sources;
use maclc_runtime::engine::{Engine, EventMap};
use maclc_runtime::input::{decode_lines, time::parse_timestamp};
use maclc_runtime::output::{action_line, state_line};
use maclc_runtime::program_schema::input_schema;

const PROGRAM: &str = r#"
default time_zone "UTC"
channel email opt_in
enum line { general, medical }
contact {
  email: text
  country: optional text
  unsubscribed: bool
  blocklisted: bool
}
event demo_requested from track "Demo Requested" {
  product_line: line
}
event lead_accepted from track "Lead Accepted" {
  by: text
}
score interest { +50 on demo_requested }
segment hot = interest >= 100

lifecycle {
  stages subscriber > lead > mql > sal
  move to lead from subscriber when interest >= 50
  move to mql from subscriber, lead when hot
  move to sal from mql on lead_accepted
  sla mql within 24h else send email "mql-waiting"
}

queue field "Field sales" round_robin [
  "ann@x.example",
  "bob@x.example",
]
queue partners "Partners"

route handoff on enters stage mql {
  when contact.country ?? "" == "JP" => queue partners
  otherwise => queue field
}
"#;

struct Outcome {
    states: Vec<String>,
    actions: Vec<String>,
}

fn run(lines: &[String], until: Option<&str>) -> Outcome {
    run_program(PROGRAM, lines, until)
}

fn run_program(program: &str, lines: &[String], until: Option<&str>) -> Outcome {
    let mut sources = Sources::new();
    sources.add("test.marketing".to_string(), program.to_string());
    let analysis = maclc_compiler::analyze(&sources);
    assert!(!analysis.has_errors(), "{:#?}", analysis.diagnostics);
    let ir = maclc_compiler::ir::lower(&analysis.program).unwrap_or_else(|e| panic!("{e}"));
    let (schema, track) = input_schema(&ir);
    let mut engine = Engine::new(&ir, EventMap::new(&ir, track)).with_program_hash(1);
    let input = lines.join("\n");
    for outcome in decode_lines(input.as_bytes(), &schema) {
        match outcome {
            Ok(r) => engine.push(r),
            Err(r) => panic!("line {} rejected: {}", r.line, r.detail),
        }
    }
    let until = until.map(|t| parse_timestamp(t).unwrap_or_else(|e| panic!("{e}")));
    let output = engine.finish(until);
    Outcome {
        states: output.contacts.iter().map(|c| state_line(&ir, c)).collect(),
        actions: output.actions.iter().map(action_line).collect(),
    }
}

fn demo(user: &str, ts: &str) -> String {
    format!(
        r#"{{"type":"track","event":"Demo Requested","userId":"{user}","properties":{{"product_line":"general"}},"timestamp":"{ts}","messageId":"{user}-{ts}"}}"#
    )
}

fn accepted(user: &str, ts: &str) -> String {
    format!(
        r#"{{"type":"track","event":"Lead Accepted","userId":"{user}","properties":{{"by":"ann"}},"timestamp":"{ts}","messageId":"{user}-{ts}"}}"#
    )
}

fn identify(user: &str, ts: &str, country: &str, consent: &str) -> String {
    format!(
        r#"{{"type":"identify","userId":"{user}","traits":{{"email":"{user}@y.example","country":"{country}","unsubscribed":false,"blocklisted":false,"consent":{{"email":"{consent}"}}}},"timestamp":"{ts}","messageId":"{user}-{ts}"}}"#
    )
}

/// The fields of an action line that tests compare (the key is checked apart).
fn without_key(line: &str) -> String {
    match line.find(",\"key\":") {
        Some(i) => format!("{}}}", &line[..i]),
        None => line.to_string(),
    }
}

#[test]
fn stages_move_forward_and_routing_runs_on_entering_a_stage() {
    let lines = [
        identify("a", "2026-03-01T00:00:00Z", "DE", "granted"),
        demo("a", "2026-03-01T10:00:00Z"),
        demo("a", "2026-03-01T11:00:00Z"),
        accepted("a", "2026-03-01T12:00:00Z"),
        identify("b", "2026-03-01T00:00:00Z", "JP", "granted"),
        demo("b", "2026-03-02T10:00:00Z"),
        demo("c", "2026-03-03T10:00:00Z"),
    ];
    let out = run(&lines, None);
    assert_eq!(
        out.states,
        [
            r#"{"contact":"a","interest":100,"stage":"sal","segments":["hot"]}"#,
            r#"{"contact":"b","interest":50,"stage":"lead","segments":[]}"#,
            r#"{"contact":"c","interest":50,"stage":"lead","segments":[]}"#,
        ]
    );
    assert_eq!(
        out.actions
            .iter()
            .map(|a| without_key(a))
            .collect::<Vec<_>>(),
        [
            r#"{"kind":"route","contact":"a","time":"2026-03-01T11:00:00.000Z","rule":"route handoff, rule 2","trigger":"a-2026-03-01T11:00:00Z","payload":{"queue":"field","assignee":"ann@x.example"}}"#
        ]
    );
}

#[test]
fn round_robin_follows_event_time_across_contacts() {
    let mut lines = Vec::new();
    for (user, day, country) in [
        ("z", 1, "DE"),
        ("y", 2, "JP"),
        ("x", 3, "DE"),
        ("w", 4, "DE"),
    ] {
        lines.push(identify(user, "2026-03-01T00:00:00Z", country, "granted"));
        lines.push(demo(user, &format!("2026-03-0{day}T10:00:00Z")));
        lines.push(demo(user, &format!("2026-03-0{day}T11:00:00Z")));
        lines.push(accepted(user, &format!("2026-03-0{day}T12:00:00Z")));
    }
    let out = run(&lines, None);
    let owners: Vec<String> = out
        .actions
        .iter()
        .map(|a| {
            let contact = a
                .split("\"contact\":\"")
                .nth(1)
                .unwrap_or("")
                .chars()
                .next();
            let owner = a
                .split("\"assignee\":\"")
                .nth(1)
                .map_or("-", |s| s.split('"').next().unwrap_or(""));
            format!("{}:{owner}", contact.unwrap_or('?'))
        })
        .collect();
    assert_eq!(
        owners,
        [
            "z:ann@x.example",
            "y:-",
            "x:bob@x.example",
            "w:ann@x.example"
        ]
    );
    // The same input in another order gives the same actions, keys included.
    let mut reversed = lines.clone();
    reversed.reverse();
    assert_eq!(run(&reversed, None).actions, out.actions);
}

#[test]
fn an_sla_fires_on_event_time_and_a_send_without_consent_is_suppressed() {
    let lines = [
        identify("a", "2026-03-01T00:00:00Z", "DE", "granted"),
        demo("a", "2026-03-01T10:00:00Z"),
        demo("a", "2026-03-01T11:00:00Z"),
        identify("b", "2026-03-01T00:00:00Z", "DE", "unknown"),
        demo("b", "2026-03-01T10:00:00Z"),
        demo("b", "2026-03-01T11:00:00Z"),
        // c is accepted exactly at the deadline: within 24 h, no alert.
        identify("c", "2026-03-01T00:00:00Z", "DE", "granted"),
        demo("c", "2026-03-01T10:00:00Z"),
        demo("c", "2026-03-01T11:00:00Z"),
        accepted("c", "2026-03-02T11:00:00Z"),
    ];
    // Not yet due at the last record: only the routings.
    let early = run(&lines, Some("2026-03-02T10:59:59Z"));
    assert!(early
        .actions
        .iter()
        .all(|a| a.contains("\"kind\":\"route\"")));
    let out = run(&lines, Some("2026-03-03T00:00:00Z"));
    let slas: Vec<String> = out
        .actions
        .iter()
        .filter(|a| a.contains("\"rule\":\"sla mql\""))
        .map(|a| without_key(a))
        .collect();
    assert_eq!(
        slas,
        [
            r#"{"kind":"send","contact":"a","time":"2026-03-02T11:00:00.000Z","rule":"sla mql","trigger":"timer","payload":{"channel":"email","template":"mql-waiting"}}"#,
            r#"{"kind":"suppressed","contact":"b","time":"2026-03-02T11:00:00.000Z","rule":"sla mql","trigger":"timer","payload":{"channel":"email","template":"mql-waiting","reason":"email consent is unknown and email needs an opt-in"}}"#,
        ]
    );
    // Idempotency keys are stable and distinct.
    let keys: Vec<&str> = out
        .actions
        .iter()
        .filter_map(|a| a.split("\"key\":\"").nth(1))
        .collect();
    let mut unique = keys.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), keys.len());
    assert_eq!(
        run(&lines, Some("2026-03-03T00:00:00Z")).actions,
        out.actions
    );
}

#[test]
fn a_routing_runs_when_a_score_crosses_its_threshold() {
    let program = r#"
enum line { general, medical }
contact {
  email: text
}
event demo_requested from track "Demo Requested" {
  product_line: line
}
score interest {
  +50 on demo_requested where product_line == general
  -50 on demo_requested where product_line == medical
}
queue desk "Desk"
route hot on interest crosses above 65 {
  otherwise => queue desk
}
"#;
    let medical = |ts: &str| demo("a", ts).replace("general", "medical");
    let lines = [
        demo("a", "2026-03-01T10:00:00Z"), // 50
        demo("a", "2026-03-01T11:00:00Z"), // 100: crosses above 65
        demo("a", "2026-03-01T12:00:00Z"), // 150: already above
        medical("2026-03-01T13:00:00Z"),   // 100
        medical("2026-03-01T14:00:00Z"),   // 50: below again
        demo("a", "2026-03-01T15:00:00Z"), // 100: crosses above again
    ];
    let out = run_program(program, &lines, None);
    let times: Vec<&str> = out
        .actions
        .iter()
        .filter_map(|a| a.split("\"time\":\"").nth(1))
        .filter_map(|t| t.split('"').next())
        .collect();
    assert_eq!(
        times,
        ["2026-03-01T11:00:00.000Z", "2026-03-01T15:00:00.000Z"]
    );
}
