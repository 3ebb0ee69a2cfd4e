//! The input schema built from `examples/reference-r1/schema.marketing` checks what R1 §1 says:
//! it is compared with the hand-written oracle `InputSchema::reference_r1()`.

mod support;

use maclc_runtime::input::{decode_line, Field, InputSchema, Kind};
use maclc_runtime::program_schema::input_schema;

fn r1_schema() -> InputSchema {
    let analysis = support::load_project("examples/reference-r1");
    let ir = maclc_compiler::ir::lower(&analysis.program).unwrap_or_else(|e| panic!("{e}"));
    input_schema(&ir).0
}

/// Fields sorted by name, with the one known difference taken out: the language has no
/// integer type, so the program's `number` traits accept any number where R1 wants integers.
fn normalised(fields: &[Field]) -> Vec<Field> {
    let mut out: Vec<Field> = fields
        .iter()
        .map(|f| Field {
            kind: match &f.kind {
                Kind::Integer => Kind::Number,
                Kind::Object(inner) => Kind::Object(normalised(inner)),
                other => other.clone(),
            },
            ..f.clone()
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

#[test]
fn the_r1_program_schema_matches_the_oracle() {
    let program = r1_schema();
    let oracle = InputSchema::reference_r1();
    assert_eq!(program.record_types, oracle.record_types);
    assert_eq!(program.events.len(), oracle.events.len());
    for expected in &oracle.events {
        let id = program
            .event_id(&expected.name)
            .unwrap_or_else(|| panic!("no event `{}`", expected.name));
        let got = program.event(id).unwrap_or_else(|| panic!("no event"));
        assert_eq!(
            normalised(&got.properties),
            normalised(&expected.properties),
            "{}",
            expected.name
        );
    }
    assert_eq!(
        normalised(&program.identify_traits),
        normalised(&oracle.identify_traits)
    );
    assert_eq!(
        normalised(&program.page_properties),
        normalised(&oracle.page_properties)
    );
}

#[test]
fn both_schemas_give_the_same_verdicts() {
    let program = r1_schema();
    let oracle = InputSchema::reference_r1();
    let traits = r#""email":"a@b.example","first_name":"Łukasz","country":"PL","timezone":"Europe/Warsaw","consent":{"email":"granted","sms":"unknown"},"unsubscribed":false,"blocklisted":false"#;
    let lines = [
        format!(r#"{{"type":"identify","userId":"u","traits":{{{traits}}},"timestamp":"2026-01-01T00:00:00Z"}}"#),
        format!(r#"{{"type":"identify","userId":"u","traits":{{{traits},"company":{{"id":"acc-1"}}}},"timestamp":"2026-01-01T00:00:00Z"}}"#),
        format!(r#"{{"type":"identify","userId":"u","traits":{{{traits},"company":null,"budget":"15k €"}},"timestamp":"2026-01-01T00:00:00Z"}}"#),
        format!(r#"{{"type":"identify","userId":"u","traits":{{{traits},"birthday":"2026-02-29"}},"timestamp":"2026-01-01T00:00:00Z"}}"#),
        r#"{"type":"identify","userId":"u","traits":{"email":"a@b.example"},"timestamp":"2026-01-01T00:00:00Z"}"#.to_string(),
        r#"{"type":"track","event":"Order Completed","userId":"u","properties":{"order_id":"o","cart_id":"c","revenue":"12,50"},"timestamp":"2026-01-01T00:00:00Z"}"#.to_string(),
        r#"{"type":"track","event":"Demo Requested","userId":"u","properties":{"product_line":"dental"},"timestamp":"2026-01-01T00:00:00Z"}"#.to_string(),
        r#"{"type":"track","event":"Demo Requested","userId":"u","properties":{"product_line":"general"},"timestamp":"2026-01-01T00:00:00Z"}"#.to_string(),
        r#"{"type":"track","event":"Datasheet Download","userId":"u","properties":{},"timestamp":"2026-01-01T00:00:00Z"}"#.to_string(),
        r#"{"type":"page","anonymousId":"a","properties":{"path":"pricing","url":"x"},"timestamp":"2026-01-01T00:00:00Z"}"#.to_string(),
        r#"{"type":"page","anonymousId":"a","name":"Støre","properties":{"path":"/pricing","url":"x"},"timestamp":"2026-01-01T00:00:00Z"}"#.to_string(),
        r#"{"type":"screen","anonymousId":"a","properties":{},"timestamp":"2026-01-01T00:00:00Z"}"#.to_string(),
        r#"{"type":"alias","previousId":"p","userId":"u","timestamp":"2026-01-01T00:00:00Z"}"#.to_string(),
    ];
    for (i, line) in lines.iter().enumerate() {
        let a = decode_line(i as u64 + 1, line.as_bytes(), &program).map_err(|r| r.reason);
        let b = decode_line(i as u64 + 1, line.as_bytes(), &oracle).map_err(|r| r.reason);
        assert_eq!(a.is_ok(), b.is_ok(), "{line}");
        assert_eq!(a.err(), b.err(), "{line}");
    }
}
