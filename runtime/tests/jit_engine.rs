//! Whole runs under both engines: random event streams over the reference program, replayed
//! by the engine with the interpreter and with native code, give identical contact states
//! (scores bit for bit, limits, history, segments) and identical state lines.

mod support;

use maclc_compiler::check::{EventId, ScoreId};
use maclc_compiler::ir::{
    AggregateId, AggregateIr, CmpOp, Const, EventRule, Expr, Ir, Node, TextId, ValType,
};
use maclc_compiler::syntax::ast::AggregateKind;
use maclc_runtime::engine::{Engine, EventMap, RunOutput};
use maclc_runtime::input::decode_lines;
use maclc_runtime::jit::Jit;
use maclc_runtime::output::state_line;
use maclc_runtime::program_schema::input_schema;
use proptest::prelude::*;

const TITLES: &[&str] = &[
    "null",
    "\"VP Sales\"",
    "\"Head of Procurement\"",
    "\"purchasing lead\"",
    "\"Engineer\"",
    "\"Chief Vice President\"",
];
const EMAILS: &[&str] = &["a@example.com", "spy@competitor.example", "b@shop.example"];
const SIZES: &[&str] = &["null", "100", "500", "1200"];
const CONSENTS: &[&str] = &["granted", "denied", "unknown"];
const PATHS: &[&str] = &[
    "/pricing",
    "/products/general/printer-x",
    "/medical/dtf",
    "/jobs/42",
    "/",
    "/products/generalist",
];
const LINES: &[&str] = &["general", "medical"];

/// One random record as a JSON line (R1's workload shape).
fn line(choice: &[usize]) -> String {
    let pick = |xs: &[&'static str], i: usize| xs[choice[i] % xs.len()];
    let user = format!("user-{}", choice[0] % 4);
    let day = 1 + choice[1] % 28;
    let month = 1 + choice[2] % 3;
    let ts = format!(
        "2026-{month:02}-{day:02}T{:02}:{:02}:00.000Z",
        choice[3] % 24,
        choice[4] % 60
    );
    let body = match choice[5] % 7 {
        0 => format!(
            r#""type":"identify","traits":{{"email":"{}","first_name":"A","job_title":{},"company_size":{},"country":"DE","timezone":"UTC","consent":{{"email":"{}","sms":"unknown"}},"unsubscribed":false,"blocklisted":false}}"#,
            pick(EMAILS, 6),
            pick(TITLES, 7),
            pick(SIZES, 8),
            pick(CONSENTS, 9)
        ),
        1 | 2 => format!(
            r#""type":"page","properties":{{"path":"{}","url":"https://x.example"}}"#,
            pick(PATHS, 6)
        ),
        3 => format!(
            r#""type":"track","event":"Datasheet Downloaded","properties":{{"category":"{}","product_id":"P"}}"#,
            pick(LINES, 6)
        ),
        4 => format!(
            r#""type":"track","event":"Demo Requested","properties":{{"product_line":"{}"}}"#,
            pick(LINES, 6)
        ),
        5 => r#""type":"track","event":"Webinar Attended","properties":{"webinar_id":"w","topic":"t"}"#
            .to_string(),
        _ => r#""type":"track","event":"Unsubscribed","properties":{"channel":"email"}"#.to_string(),
    };
    format!(r#"{{{body},"userId":"{user}","timestamp":"{ts}"}}"#)
}

fn run(ir: &Ir, text: &str, jit: Option<&Jit<'_>>) -> RunOutput {
    let (schema, track_map) = input_schema(ir);
    let mut engine = Engine::new(ir, EventMap::new(ir, track_map));
    for record in decode_lines(text.as_bytes(), &schema).flatten() {
        engine.push(record);
    }
    match jit {
        Some(j) => j.run(|| engine.finish(None)),
        None => engine.finish(None),
    }
}

fn engines_agree(ir: &Ir, records: &[Vec<usize>], fallbacks: usize) -> Result<(), TestCaseError> {
    let jit = Jit::compile(ir).expect("the JIT starts");
    prop_assert_eq!(jit.fallbacks().count(), fallbacks);
    let text: String = records.iter().map(|c| line(c) + "\n").collect();
    let interpreted = run(ir, &text, None);
    let native = run(ir, &text, Some(&jit));
    prop_assert!(!interpreted.contacts.is_empty());
    let lines =
        |o: &RunOutput| -> Vec<String> { o.contacts.iter().map(|c| state_line(ir, c)).collect() };
    prop_assert_eq!(lines(&interpreted), lines(&native));
    for (a, b) in interpreted.contacts.iter().zip(&native.contacts) {
        let bits = |c: &maclc_runtime::engine::ContactState| -> Vec<u64> {
            c.scores.iter().map(|s| s.value().to_bits()).collect()
        };
        prop_assert_eq!(bits(a), bits(b));
    }
    prop_assert!(interpreted.contacts == native.contacts);
    Ok(())
}

fn r1() -> Ir {
    let analysis = support::load_project("examples/reference-r1");
    maclc_compiler::ir::lower(&analysis.program).expect("R1 lowers")
}

/// R1's `page_view` event, by position.
fn r1_page_view(ir: &Ir) -> usize {
    ir.events
        .iter()
        .position(|e| e.name == "page_view")
        .expect("R1 has page_view")
}

/// R1 with two more `page_view` rules that read `general_interest`, one before and one after
/// the rule that adds to it: a rule reading a score sees the points of the rules before it in
/// the same event, so native code, which answers an event's rules in one call, must leave
/// these to the engine.
fn r1_with_rules_reading_scores() -> Ir {
    let mut ir = r1();
    let page_view = r1_page_view(&ir);
    let general = ir
        .scores
        .iter()
        .position(|s| s.name == "general_interest")
        .expect("R1 has general_interest");
    let medical = ir
        .scores
        .iter()
        .position(|s| s.name == "medical_interest")
        .expect("R1 has medical_interest");
    let reads_general = |at_least: f64| {
        Some(Expr {
            ty: ValType::Bool,
            node: Node::Cmp(
                CmpOp::Ge,
                Box::new(Expr {
                    ty: ValType::Num,
                    node: Node::Score(ScoreId(general as u32)),
                }),
                Box::new(Expr {
                    ty: ValType::Num,
                    node: Node::Const(Const::Num(at_least)),
                }),
            ),
        })
    };
    let rule = |condition| EventRule {
        score: ScoreId(medical as u32),
        rule: 0,
        points: 1.0,
        condition,
        cap: None,
    };
    let first = rule(reads_general(5.0).map(|e| ir.add_condition(e)));
    let last = rule(reads_general(5.0).map(|e| ir.add_condition(e)));
    let rules = &mut ir.rules_by_event[page_view];
    rules.insert(0, first);
    rules.push(last);
    ir
}

/// R1 with one more `page_view` rule the backend does not compile (`last page_view.path ==
/// "/pricing"`: an aggregate of a text), between rules it does: the event's function is built
/// from the others and this one runs in the interpreter.
fn r1_with_a_rule_native_code_cannot_run() -> Ir {
    let mut ir = r1();
    let page_view = r1_page_view(&ir);
    let path = ir.events[page_view]
        .properties
        .iter()
        .position(|p| p.name == "path")
        .expect("page_view has a path");
    let last_path = AggregateId(ir.aggregates.len() as u32);
    ir.aggregates.push(AggregateIr {
        kind: AggregateKind::Last,
        event: Some(EventId(page_view as u32)),
        property: Some(path as u32),
        condition: None,
        window_millis: None,
    });
    ir.history_events[page_view] = true;
    ir.texts.push("/pricing".into());
    let pricing = TextId((ir.texts.len() - 1) as u32);
    let condition = Expr {
        ty: ValType::Bool,
        node: Node::Cmp(
            CmpOp::Eq,
            Box::new(Expr {
                ty: ValType::Text,
                node: Node::Aggregate(last_path),
            }),
            Box::new(Expr {
                ty: ValType::Text,
                node: Node::Const(Const::Text(pricing)),
            }),
        ),
    };
    let condition = ir.add_condition(condition);
    ir.rules_by_event[page_view].insert(
        1,
        EventRule {
            score: ScoreId(0),
            rule: 0,
            points: 2.0,
            condition: Some(condition),
            cap: None,
        },
    );
    ir
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn engines_agree_on_random_streams(
        records in proptest::collection::vec(proptest::collection::vec(0usize..1000, 10), 1..120)
    ) {
        engines_agree(&r1(), &records, 0)?;
    }

    #[test]
    fn engines_agree_when_rules_read_scores_their_event_changes(
        records in proptest::collection::vec(proptest::collection::vec(0usize..1000, 10), 1..120)
    ) {
        engines_agree(&r1_with_rules_reading_scores(), &records, 0)?;
    }

    #[test]
    fn engines_agree_when_one_rule_of_an_event_falls_back(
        records in proptest::collection::vec(proptest::collection::vec(0usize..1000, 10), 1..120)
    ) {
        engines_agree(&r1_with_a_rule_native_code_cannot_run(), &records, 1)?;
    }
}
