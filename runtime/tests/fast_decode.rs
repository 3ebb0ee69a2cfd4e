//! The decoder's one-pass fast path gives exactly what the JSON-tree decoder gives: the same
//! record on every line it takes, and it takes every valid line of the generator. Checked on
//! hand-written edge cases, on the generator's lines (malformed ones included), and on random
//! mutations of valid lines; with every member kept and with a run's projection. With a run's
//! track slots, a track's slot values filled from the line are what the engine decodes from the
//! tree decoder's record.

mod support;

use maclc_runtime::engine::{decode_events, Engine, EventMap};
use maclc_runtime::input::{
    decode_line, decode_line_by_tree, decode_line_fast, InputSchema, KeptMembers, RejectReason,
};
use maclc_runtime::program_schema::input_schema;
use proptest::prelude::*;

const IDENTIFY: &str = r#"{"type":"identify","userId":"user-000042","anonymousId":"9b2f0c1e-0000-4000-8000-000000000001","traits":{"email":"jose@acme.example","first_name":"José","job_title":"Head of Procurement","industry":"Dental","company":{"id":"acc-00012","name":"Acme"},"company_size":1200,"budget":15000,"country":"ES","timezone":"Europe/Madrid","birthday":"1988-02-29","consent":{"email":"granted","sms":"unknown"},"unsubscribed":false,"blocklisted":false,"extra":[1,{"a":null,"a":2.5e3}]},"timestamp":"2026-01-05T09:31:12.345Z","messageId":"m-1"}"#;
const ORDER: &str = r#"{"type":"track","event":"Order Completed","userId":"user-000042","properties":{"order_id":"ord-0000001","cart_id":"cart-0123456789","revenue":12.5},"timestamp":"2026-01-05T10:31:12.345+01:00","messageId":"m-2"}"#;
const PAGE: &str = r#"{"type":"page","name":"Support – Warranty","anonymousId":"9b2f0c1e-0000-4000-8000-000000000001","properties":{"path":"/support/warranty","url":"https://printers.example/support/warranty"},"timestamp":"2026-01-05T09:40:00.000Z","messageId":"m-3"}"#;
const ALIAS: &str = r#"{"type":"alias","previousId":"crm-1","userId":"user-a","timestamp":"2026-03-01T10:00:00.000Z"}"#;

/// Edge cases: each must give the same outcome through both paths.
fn edge_cases() -> Vec<Vec<u8>> {
    let mut lines: Vec<String> = vec![
        IDENTIFY.into(),
        ORDER.into(),
        PAGE.into(),
        ALIAS.into(),
        String::new(),
        "  ".into(),
        "\u{feff}{\"a\":1}".into(),
        "null".into(),
        "Infinity".into(),
        "\"just a string\"".into(),
        r#"[{"type":"page"}]"#.into(),
        r#"{"a":"\ud800"}"#.into(),
        r#"{"type":"page","userId":"u","properties":{"path":"/x","url":"u"},"timestamp":"2026-03-01T00:00:00Z","v":NaN}"#.into(),
        r#"{"type":"page","userId":"u","properties":{"path":"/x","url":"u",},"timestamp":"2026-03-01T00:00:00Z"}"#.into(),
        r#"{"type":"page","userId":"u","properties":{"path":"/x, ]","url":"NaN"},"timestamp":"2026-03-01T00:00:01Z","messageId":"ok"}"#.into(),
        r#"{"type":"page","userId":"u","properties":{"path":"\/x\u00e9\ud83d\ude00\n","url":"a\"b\\c"},"timestamp":"2026-03-01T00:00:01Z","messageId":"\u0041"}"#.into(),
        r#"{"type":"page","userId":"u","properties":{"path":"/x","url":"u"},"timestamp":"2026-03-01T00:00:01Z","messageId":"a","messageId":"b","type":"page"}"#.into(),
        r#"{"type":"page","userId":"u","properties":{"path":"/x","url":"u","path":"/y"},"timestamp":"2026-03-01T00:00:01Z"}"#.into(),
        r#"{"typ\u0065":"page","userId":"u","properties":{"path":"/x","url":"u"},"timestamp":"2026-03-01T00:00:01Z"}"#.into(),
        r#"{"type":"page","userId":"u","properties":{"p\u0061th":"/x","url":"u"},"timestamp":"2026-03-01T00:00:01Z"}"#.into(),
        r#" { "type" : "page" , "userId" : "u" , "properties" : { "path" : "/x" , "url" : "u" } , "timestamp" : "2026-03-01T00:00:01Z" } "#.into(),
        r#"{"type":"page","userId":"u","properties":{"path":"/x","url":"u"},"timestamp":"2026-03-01T00:00:01Z"} x"#.into(),
        r#"{"type":"page","userId":"u","properties":{"path":"/x","url":"u"},"timestamp":"2026-03-01T00:00:01Z""#.into(),
        r#"{"type":"page","userId":"u","properties":{"path":"/x","url":"u","n":[01]},"timestamp":"2026-03-01T00:00:01Z"}"#.into(),
        r#"{"type":"page","userId":"u","properties":{"path":"/x","url":"u","n":[1e400,-0,0.5E-3,{}],"o":{"a":{"b":[]}}},"timestamp":"2026-03-01T00:00:01Z"}"#.into(),
        r#"{"type":"page","userId":"u","name":null,"properties":{"path":"/x","url":"u"},"timestamp":"2026-03-01T00:00:01Z"}"#.into(),
        r#"{"type":"page","userId":"u","name":5,"properties":{"path":"/x","url":"u"},"timestamp":"2026-03-01T00:00:01Z"}"#.into(),
        r#"{"type":"page","userId":"","anonymousId":7,"properties":{"path":"/x","url":"u"},"timestamp":"2026-03-01T00:00:01Z"}"#.into(),
        r#"{"type":"screen","userId":"u","timestamp":"2026-03-01T00:00:01Z"}"#.into(),
        r#"{"type":"group","userId":"u","groupId":"g","traits":{"a":1},"timestamp":"2026-03-01T00:00:01Z"}"#.into(),
        r#"{"type":"alias","previousId":"p","timestamp":"2026-03-01T00:00:01Z"}"#.into(),
        r#"{"type":"track","event":"demo requested","userId":"u","properties":{},"timestamp":"2026-03-01T00:00:01Z"}"#.into(),
        r#"{"type":"track","event":"Demo Requested","userId":"u","properties":{"product_line":"General"},"timestamp":"2026-03-01T00:00:01Z"}"#.into(),
        r#"{"type":"track","event":"Order Completed","userId":"u","properties":{"order_id":"o","cart_id":"c","revenue":"12,50"},"timestamp":"2026-03-01T00:00:01Z"}"#.into(),
        r#"{"type":"track","event":"Demo Requested","userId":"u","properties":{"product_line":"Gen\u00e9ral \"x\"","n":null},"timestamp":"2026-03-01T00:00:01Z"}"#.into(),
        r#"{"type":"track","event":"Order Completed","userId":"u","properties":{"revenue":7,"cart_id":"c\/1","order_id":"o"},"timestamp":"2026-03-01T00:00:01Z"}"#.into(),
        r#"{"type":"track","event":"Checkout Started","userId":"u","properties":{"cart_id":"c","value":1e3,"extra":[1]},"timestamp":"2026-03-01T00:00:01Z"}"#.into(),
        r#"{"type":"track","event":"Checkout Started","userId":"u","properties":{"cart_id":"c","value":1e999},"timestamp":"2026-03-01T00:00:01Z"}"#.into(),
        r#"{"type":"track","event":"Webinar Attended","userId":"u","properties":[],"timestamp":"2026-03-01T00:00:01Z"}"#.into(),
        format!("{{\"a\":{}1{}}}", "[".repeat(40), "]".repeat(40)),
        format!("{{\"a\":{}1{}}}", "[".repeat(200), "]".repeat(200)),
    ];
    for bad in [
        r#""2026-02-29T00:00:00Z""#,
        r#""2026-03-01T24:00:00Z""#,
        r#""2026-03-01T00:00:00+24:00""#,
        r#""2026-03-01T00:00:00""#,
        r#""2026-03-01T00:00:00.Z""#,
        r#""2026-03-05T08:00:00.123999-05:30""#,
        r#""2024-02-29T23:59:59.9Z""#,
        "20260301",
        "null",
    ] {
        lines.push(format!(
            r#"{{"type":"page","userId":"u","properties":{{"path":"/x","url":"u"}},"timestamp":{bad}}}"#
        ));
    }
    let trait_cases = [
        r#""company_size":12.0"#,
        r#""company_size":1e3"#,
        r#""budget":-0"#,
        r#""company_size":1000000000000000000000000000000"#,
        r#""birthday":"2026-02-29""#,
        r#""birthday":"2024-02-29","job_title":null,"company":null"#,
        r#""company":{"id":"a"}"#,
        r#""company":{}"#,
        r#""company":5"#,
        r#""job_title":"VP ſales purchasing""#,
    ];
    // On an identify with only the required traits, so that no case repeats a member.
    for case in trait_cases {
        lines.push(format!(
            r#"{{"type":"identify","userId":"u","traits":{{"email":"a@b.example","first_name":"Łukasz","country":"DE","timezone":"Europe/Berlin","consent":{{"email":"granted","sms":"unknown"}},"unsubscribed":false,"blocklisted":false,{case}}},"timestamp":"2026-03-01T00:00:01Z"}}"#
        ));
    }
    lines.push(IDENTIFY.replace(r#""email":"granted""#, r#""email":"yes""#));
    lines.push(IDENTIFY.replace(r#""consent":{"#, r#""consent":{"sms":"denied","#));
    lines.push(IDENTIFY.replace(r#""unsubscribed":false,"#, ""));
    let mut bytes: Vec<Vec<u8>> = lines.into_iter().map(String::into_bytes).collect();
    bytes.push(PAGE.replace("Support", "Supp\u{1}ort").into_bytes());
    bytes.push(
        br#"{"type":"page","userId":"u","name":"Jos\xe9","properties":{"path":"/x","url":"u"},"timestamp":"2026-03-01T00:00:00Z"}"#
            .to_vec(),
    );
    let mut long = PAGE.to_string();
    long.insert_str(
        long.len() - 1,
        &format!(",\"pad\":\"{}\"", "y".repeat(33_000)),
    );
    bytes.push(long.into_bytes());
    bytes
}

/// The schemas compared under: R1's oracle, the program's, and the program's with the
/// projection a run uses (only the members the engine reads are kept).
fn schemas() -> Vec<InputSchema> {
    let analysis = support::load_project("examples/reference-r1");
    let ir = maclc_compiler::ir::lower(&analysis.program).unwrap_or_else(|e| panic!("{e}"));
    let (program, track) = input_schema(&ir);
    let engine =
        maclc_runtime::engine::Engine::new(&ir, maclc_runtime::engine::EventMap::new(&ir, track));
    let kept = engine.members_read();
    assert!(kept.traits.iter().any(|t| t == "consent"), "{kept:?}");
    let projected = program.clone().keeping_only(kept);
    let r1_projected = InputSchema::reference_r1().keeping_only(KeptMembers {
        properties: vec!["path".into(), "revenue".into()],
        traits: vec!["company".into(), "job_title".into(), "budget".into()],
    });
    vec![
        InputSchema::reference_r1(),
        r1_projected,
        program,
        projected,
    ]
}

/// Both paths agree on `raw`; returns whether the fast path took it.
fn agree(n: u64, raw: &[u8], schema: &InputSchema) -> bool {
    let tree = decode_line_by_tree(n, raw, schema);
    let fast = decode_line_fast(n, raw, schema);
    if let Some(record) = &fast {
        assert_eq!(
            Ok(record),
            tree.as_ref(),
            "line {}",
            String::from_utf8_lossy(raw)
        );
    }
    assert_eq!(
        decode_line(n, raw, schema),
        tree,
        "line {}",
        String::from_utf8_lossy(raw)
    );
    fast.is_some()
}

#[test]
fn edge_cases_agree() {
    for schema in schemas() {
        let mut taken = 0;
        for (i, line) in edge_cases().iter().enumerate() {
            taken += usize::from(agree(i as u64 + 1, line, &schema));
        }
        // The valid ones at least: the four records above and the plain page variants.
        assert!(taken >= 8, "the fast path took only {taken} lines");
    }
}

#[test]
fn integers_with_a_fraction_are_rejected() {
    let line = IDENTIFY.replace(r#""company_size":1200"#, r#""company_size":12.0"#);
    let schema = InputSchema::reference_r1();
    let reject = decode_line(3, line.as_bytes(), &schema).expect_err("12.0 is not an integer");
    assert_eq!(reject.reason, RejectReason::WrongPropertyType);
    assert_eq!(decode_line_fast(3, line.as_bytes(), &schema), None);
}

/// The program's schema as a run sets it up (projection and track slots), with the program
/// and its event map to decode a tree record's slot values as the engine does.
struct WithSlots {
    ir: maclc_compiler::ir::Ir,
    events: EventMap,
    schema: InputSchema,
}

/// `extra`: a source added to R1's program (to read a page's `name`, which R1 does not).
fn with_slots(extra: &[(&str, &str)]) -> WithSlots {
    let analysis = support::load_project_with("examples/reference-r1", extra);
    let ir = maclc_compiler::ir::lower(&analysis.program).unwrap_or_else(|e| panic!("{e}"));
    let (program, track) = input_schema(&ir);
    let engine = Engine::new(&ir, EventMap::new(&ir, track.clone()));
    let schema = program
        .keeping_only(engine.members_read())
        .with_slots(engine.track_slots(), engine.page_slots());
    assert!(schema.track_slots.iter().any(Option::is_some));
    assert!(schema.page_slots.is_some());
    drop(engine);
    let events = EventMap::new(&ir, track);
    WithSlots { ir, events, schema }
}

/// Both paths agree on `raw` under a schema with track slots: the same outcome, and where the
/// fast path filled slot values, they are the engine's decoding of the tree's properties.
/// Returns whether the fast path filled slot values.
fn agree_with_slots(n: u64, raw: &[u8], case: &WithSlots) -> bool {
    let tree = decode_line_by_tree(n, raw, &case.schema);
    let line = String::from_utf8_lossy(raw);
    let Some(mut fast) = decode_line_fast(n, raw, &case.schema) else {
        assert_eq!(decode_line(n, raw, &case.schema), tree, "line {line}");
        return false;
    };
    let tree = tree.unwrap_or_else(|r| panic!("fast took a reject {r:?}: line {line}"));
    let Some(slots) = fast.slots.take() else {
        assert_eq!(fast, tree, "line {line}");
        return false;
    };
    // The engine's decoding of the tree's record: its one program event with those slots.
    let decoded = decode_events(&case.ir, &case.events, &tree);
    let event = decoded.first().map(|(e, _)| *e);
    assert_eq!(
        decoded,
        event.map(|e| (e, slots)).into_iter().collect::<Vec<_>>(),
        "line {line}"
    );
    assert_eq!(
        fast,
        maclc_runtime::input::Record {
            properties: Default::default(),
            ..tree
        },
        "line {line}"
    );
    true
}

/// A segment reading a page's `name`: the property when given, else the record's `name`.
const READS_PAGE_NAME: (&str, &str) = (
    "page_name.marketing",
    "segment on_pricing \"On pricing\" = count page_view where (name ?? \"\") == \"Pricing\" in the last 7d >= 1\n",
);

#[test]
fn slots_from_the_line_are_the_engines_decoding() {
    for extra in [&[][..], &[READS_PAGE_NAME][..]] {
        let case = with_slots(extra);
        let mut filled = 0;
        for (i, line) in edge_cases().iter().enumerate() {
            filled += usize::from(agree_with_slots(i as u64 + 1, line, &case));
        }
        assert!(filled >= 8, "slots filled on {filled} lines");
        let Some(lines) = generated_lines() else {
            continue;
        };
        let mut filled = 0;
        for (i, line) in lines.split(|b| *b == b'\n').enumerate() {
            filled += usize::from(agree_with_slots(i as u64 + 1, line, &case));
        }
        assert!(filled > 4000, "slots filled on {filled} generated lines");
    }
}

#[test]
fn a_page_name_is_the_name_property_or_the_records_name() {
    let case = with_slots(&[READS_PAGE_NAME]);
    let page = |members: &str| {
        format!(
            r#"{{"type":"page","userId":"u","name":"Pricing","properties":{{"path":"/pricing","url":"u"{members}}},"timestamp":"2026-03-01T00:00:01Z"}}"#
        )
    };
    for line in [
        page(""),
        page(r#","name":"Other""#),
        page(r#","name":null"#),
    ] {
        assert!(agree_with_slots(1, line.as_bytes(), &case), "{line}");
    }
}

/// The generator's lines (5 % malformed), or `None` without the generator.
fn generated_lines() -> Option<Vec<u8>> {
    let script = generator()?;
    let out = std::process::Command::new("python3")
        .arg(script)
        .args([
            "--contacts",
            "300",
            "--events",
            "6000",
            "--malformed-rate",
            "0.05",
            "--seed",
            "7",
        ])
        .output()
        .expect("run the generator");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(out.stdout)
}

#[test]
fn generated_lines_agree_and_every_valid_one_is_fast() {
    let Some(stdout) = generated_lines() else {
        return;
    };
    for schema in schemas() {
        let (mut valid, mut fast) = (0, 0);
        for (i, line) in stdout.split(|b| *b == b'\n').enumerate() {
            if line.is_empty() && i > 0 {
                continue;
            }
            fast += usize::from(agree(i as u64 + 1, line, &schema));
            valid += usize::from(decode_line_by_tree(i as u64 + 1, line, &schema).is_ok());
        }
        assert!(valid > 5000, "{valid} valid lines");
        assert_eq!(fast, valid, "the fast path should take every valid line");
    }
}

/// `gen_events.py` beside the repository (or in `MACLC_WORKLOAD_DIR`); `None`, said on
/// stderr, without it or without `python3`: the other tests still compare both paths.
fn generator() -> Option<std::path::PathBuf> {
    let dir = match std::env::var_os("MACLC_WORKLOAD_DIR") {
        Some(dir) => std::path::PathBuf::from(dir),
        None => std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/workload"),
    };
    let script = dir.join("gen_events.py");
    let python = std::process::Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !script.is_file() || !python {
        eprintln!(
            "SKIPPED: no generator at {} or no `python3`",
            script.display()
        );
        return None;
    }
    Some(script)
}

/// Bytes that matter to JSON, for mutations.
const ALPHABET: &[u8] = b"\"\\{}[],:.-+eE0123456789 \tnulltruefalse/u\x01\xc3\xa9";

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]
    #[test]
    fn mutated_lines_agree(
        base in 0usize..4,
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..3, any::<prop::sample::Index>()), 1..4),
    ) {
        let mut line = [IDENTIFY, ORDER, PAGE, ALIAS][base].as_bytes().to_vec();
        for (at, op, pick) in edits {
            let i = at.index(line.len() + 1);
            let b = ALPHABET[pick.index(ALPHABET.len())];
            match op {
                0 => line.insert(i, b),
                1 if i < line.len() => { line.remove(i); }
                _ if i < line.len() => line[i] = b,
                _ => line.push(b),
            }
        }
        let projected = InputSchema::reference_r1().keeping_only(KeptMembers {
            properties: vec!["path".into(), "revenue".into()],
            traits: vec!["company".into(), "budget".into()],
        });
        for schema in [InputSchema::reference_r1(), projected] {
            agree(1, &line, &schema);
        }
    }
}
