//! Every reject reason of R1 §1 on a hand-written line: the reason, the words, the order of checks.

use maclc_runtime::input::{decode_line, decode_lines, InputSchema, Reject, RejectReason, Value};

const IDENTIFY: &str = r#"{"type":"identify","userId":"user-000042","anonymousId":"9b2f0c1e-0000-4000-8000-000000000001","traits":{"email":"jose@acme.example","first_name":"José","job_title":"Head of Procurement","industry":"Dental","company":{"id":"acc-00012","name":"Acme"},"company_size":1200,"budget":15000,"country":"ES","timezone":"Europe/Madrid","birthday":"1988-02-29","consent":{"email":"granted","sms":"unknown"},"unsubscribed":false,"blocklisted":false},"timestamp":"2026-01-05T09:31:12.345Z","messageId":"m-1"}"#;

const ORDER: &str = r#"{"type":"track","event":"Order Completed","userId":"user-000042","properties":{"order_id":"ord-0000001","cart_id":"cart-0123456789","revenue":12.5},"timestamp":"2026-01-05T10:31:12.345+01:00","messageId":"m-2"}"#;

const PAGE: &str = r#"{"type":"page","name":"Support – Warranty","anonymousId":"9b2f0c1e-0000-4000-8000-000000000001","properties":{"path":"/support/warranty","url":"https://printers.example/support/warranty"},"timestamp":"2026-01-05T09:40:00.000Z","messageId":"m-3"}"#;

fn reject(line: &[u8]) -> Reject {
    match decode_line(7, line, &InputSchema::reference_r1()) {
        Err(reject) => reject,
        Ok(record) => panic!("accepted {record:?}"),
    }
}

fn assert_reject(line: &str, reason: RejectReason, detail: &str) {
    let r = reject(line.as_bytes());
    assert_eq!(
        (r.reason, r.detail.as_str()),
        (reason, detail),
        "line: {line}"
    );
    assert_eq!(r.line, 7);
    assert_eq!(r.raw, line.as_bytes());
}

#[test]
fn valid_records_are_typed() {
    let schema = InputSchema::reference_r1();
    let identify = decode_line(1, IDENTIFY.as_bytes(), &schema).expect("valid identify");
    assert_eq!(identify.user_id.as_deref(), Some("user-000042"));
    assert_eq!(identify.timestamp, 1_767_605_472_345);
    assert_eq!(
        identify.traits.get("company_size"),
        Some(&Value::Integer(1200))
    );
    assert_eq!(
        identify.traits.get("first_name").and_then(Value::as_text),
        Some("José")
    );
    assert!(
        matches!(identify.traits.get("birthday"), Some(Value::Date(d)) if d.to_string() == "1988-02-29")
    );
    let Some(Value::Object(consent)) = identify.traits.get("consent") else {
        panic!("consent is an object")
    };
    assert_eq!(
        consent.get("email").and_then(Value::as_text),
        Some("granted")
    );

    let order = decode_line(2, ORDER.as_bytes(), &schema).expect("valid track");
    // The offset is converted: 10:31 at +01:00 is 09:31 UTC.
    assert_eq!(order.timestamp, identify.timestamp);
    assert_eq!(order.event_name(&schema), Some("Order Completed"));
    assert_eq!(
        order
            .event
            .and_then(|e| schema.event(e))
            .map(|e| e.name.as_str()),
        Some("Order Completed")
    );
    assert_eq!(order.properties.get("revenue"), Some(&Value::Number(12.5)));

    let page = decode_line(3, PAGE.as_bytes(), &schema).expect("valid page");
    assert_eq!(page.name.as_deref(), Some("Support – Warranty"));
    assert_eq!(page.user_id, None);
    assert_eq!(
        page.properties.get("path").and_then(Value::as_text),
        Some("/support/warranty")
    );

    let alias = r#"{"type":"alias","previousId":"crm-4821937","userId":"user-000042","timestamp":"2026-01-05T09:31:12Z","messageId":"m-4"}"#;
    let alias = decode_line(4, alias.as_bytes(), &schema).expect("valid alias");
    assert_eq!(alias.previous_id.as_deref(), Some("crm-4821937"));
}

#[test]
fn invalid_utf8() {
    // Windows-1252 `é` (0xE9) in the middle of a UTF-8 line.
    let line = IDENTIFY.replace("José", "Jos\u{0}").into_bytes();
    let line: Vec<u8> = line
        .into_iter()
        .map(|b| if b == 0 { 0xE9 } else { b })
        .collect();
    let r = reject(&line);
    assert_eq!(r.reason, RejectReason::InvalidUtf8);
    assert!(
        r.detail.ends_with(
            "(0xE9) is not UTF-8, right after `ample\",\"first_name\":\"Jos`: the text was probably saved as Windows-1252 or Latin-1"
        ),
        "{}",
        r.detail
    );
    assert!(r.detail.starts_with("byte 151 "), "{}", r.detail);
    assert_eq!(r.raw, line);
}

#[test]
fn too_long() {
    let url = "x".repeat(40_000);
    let line = PAGE.replace("https://printers.example/support/warranty", &url);
    assert_reject(
        &line,
        RejectReason::TooLong,
        &format!(
            "the line is {} bytes long; a record may be at most 32,768 bytes",
            fmt_thousands(line.len())
        ),
    );
    // Exactly at the limit is fine as far as length goes.
    let pad = 32_768 - PAGE.len();
    let at_limit = PAGE.replace(
        "/support/warranty\"}",
        &format!("/support/warranty{}\"}}", "y".repeat(pad)),
    );
    assert_eq!(at_limit.len(), 32_768);
    assert!(decode_line(1, at_limit.as_bytes(), &InputSchema::reference_r1()).is_ok());
}

fn fmt_thousands(n: usize) -> String {
    let s = n.to_string();
    let (head, tail) = s.split_at(s.len() - 3);
    format!("{head},{tail}")
}

#[test]
fn invalid_json() {
    let cut = &ORDER[..100];
    assert_reject(
        cut,
        RejectReason::InvalidJson,
        "the line ends in the middle of the record (after 100 characters): it looks cut short",
    );
    assert_reject("", RejectReason::InvalidJson, "the line is empty");
    assert_reject(
        "{\"type\":'track'}",
        RejectReason::InvalidJson,
        "unexpected `'` at character 9: this is not valid JSON",
    );
}

#[test]
fn not_object() {
    assert_reject(
        &format!("[{ORDER}]"),
        RejectReason::NotObject,
        "the line holds a list `[…]`, not a record object `{…}`",
    );
    assert_reject(
        "null",
        RejectReason::NotObject,
        "the line holds `null`, not a record object `{…}`",
    );
    let as_string = format!("\"{}\"", ORDER.replace('"', "\\\""));
    let r = reject(as_string.as_bytes());
    assert_eq!(r.reason, RejectReason::NotObject);
    assert!(
        r.detail
            .starts_with("the line holds the text `{\"type\":\"track\""),
        "{}",
        r.detail
    );
}

#[test]
fn missing_timestamp() {
    assert_reject(
        &ORDER.replace(r#""timestamp":"2026-01-05T10:31:12.345+01:00","#, ""),
        RejectReason::MissingTimestamp,
        "the record has no `timestamp`",
    );
    assert_reject(
        &ORDER.replace(r#""2026-01-05T10:31:12.345+01:00""#, "null"),
        RejectReason::MissingTimestamp,
        "`timestamp` is `null`",
    );
}

#[test]
fn bad_timestamp() {
    let with = |ts: &str| ORDER.replace("2026-01-05T10:31:12.345+01:00", ts);
    assert_reject(
        &with("2026-02-30T10:00:00Z"),
        RejectReason::BadTimestamp,
        "`timestamp` is `2026-02-30T10:00:00Z`: February 2026 has 28 days, so day 30 does not exist",
    );
    assert_reject(
        &with("2026-02-29T10:00:00.000Z"),
        RejectReason::BadTimestamp,
        "`timestamp` is `2026-02-29T10:00:00.000Z`: February 2026 has 28 days, so day 29 does not exist",
    );
    assert_reject(
        &with("2026-01-05T25:61:12.345Z"),
        RejectReason::BadTimestamp,
        "`timestamp` is `2026-01-05T25:61:12.345Z`: hour 25 does not exist (hours go from 00 to 23)",
    );
    assert_reject(
        &with("2026-01-05T10:00:00+01:75"),
        RejectReason::BadTimestamp,
        "`timestamp` is `2026-01-05T10:00:00+01:75`: the offset from UTC is +01:75, which is not a time of day (hours 00 to 23, minutes 00 to 59)",
    );
    let r = reject(with("05/01/2026 09:31:12").as_bytes());
    assert_eq!(r.reason, RejectReason::BadTimestamp);
    assert!(
        r.detail
            .starts_with("`timestamp` is `05/01/2026 09:31:12`: it is not a date and time written"),
        "{}",
        r.detail
    );
    let r = reject(
        ORDER
            .replace(r#""2026-01-05T10:31:12.345+01:00""#, "1767605472345")
            .as_bytes(),
    );
    assert_eq!(
        (r.reason, r.detail.as_str()),
        (
            RejectReason::BadTimestamp,
            "`timestamp` is the number `1767605472345`; it must be a text such as `2026-01-05T09:31:12.345Z`"
        )
    );
}

#[test]
fn unknown_type() {
    assert_reject(
        &PAGE.replace(r#""type":"page""#, r#""type":"screen""#),
        RejectReason::UnknownType,
        "`type` is `screen`, which this program does not read (it reads `identify`, `track`, `page`, `alias`)",
    );
    assert_reject(
        &PAGE.replace(r#""type":"page","#, ""),
        RejectReason::UnknownType,
        "the record has no `type` (this program reads `identify`, `track`, `page`, `alias`)",
    );
}

#[test]
fn missing_identity() {
    assert_reject(
        &PAGE.replace(
            r#""anonymousId":"9b2f0c1e-0000-4000-8000-000000000001","#,
            r#""userId":"","#,
        ),
        RejectReason::MissingIdentity,
        "the record does not say who it is about: `userId` is empty and `anonymousId` is missing",
    );
    assert_reject(
        r#"{"type":"alias","previousId":42,"userId":"user-000042","timestamp":"2026-01-05T09:31:12Z"}"#,
        RejectReason::MissingIdentity,
        "an alias needs both `previousId` and `userId`, but `previousId` is the number `42`, not a text",
    );
}

#[test]
fn unknown_event() {
    assert_reject(
        &ORDER.replace("Order Completed", "order completed"),
        RejectReason::UnknownEvent,
        "`order completed` is not an event this program knows; did you mean `Order Completed`?",
    );
    assert_reject(
        &ORDER.replace("Order Completed", "Coupon Redeemed"),
        RejectReason::UnknownEvent,
        "`Coupon Redeemed` is not an event this program knows",
    );
    assert_reject(
        &ORDER.replace("Order Completed", "Datasheet Download"),
        RejectReason::UnknownEvent,
        "`Datasheet Download` is not an event this program knows; did you mean `Datasheet Downloaded`?",
    );
}

#[test]
fn wrong_property_type() {
    assert_reject(
        &ORDER.replace("12.5", "\"12,50\""),
        RejectReason::WrongPropertyType,
        "`properties.revenue` of `Order Completed` must be a number (such as `12.5`), but it is the text `12,50`",
    );
    assert_reject(
        &IDENTIFY.replace("1200", "\"1,200+\""),
        RejectReason::WrongPropertyType,
        "`traits.company_size` must be a whole number (such as `250`, with no fraction or exponent), but it is the text `1,200+`",
    );
    assert_reject(
        &IDENTIFY.replace("15000", "1.5e4"),
        RejectReason::WrongPropertyType,
        "`traits.budget` must be a whole number (such as `250`, with no fraction or exponent), but it is the number `1.5e4`",
    );
    assert_reject(
        &IDENTIFY.replace(r#""email":"granted""#, r#""email":true"#),
        RejectReason::WrongPropertyType,
        "`traits.consent.email` must be one of `granted`, `denied`, `unknown`, but it is `true`",
    );
    assert_reject(
        &IDENTIFY.replace("1988-02-29", "1987-02-29"),
        RejectReason::WrongPropertyType,
        "`traits.birthday` is `1987-02-29`: February 1987 has 28 days, so day 29 does not exist",
    );
    assert_reject(
        &ORDER.replace(r#""revenue":12.5"#, r#""rev":12.5"#),
        RejectReason::WrongPropertyType,
        "`properties.revenue` of `Order Completed` is missing; it must be a number (such as `12.5`)",
    );
    assert_reject(
        &PAGE.replace(r#""path":"/support/warranty""#, r#""path":"support""#),
        RejectReason::WrongPropertyType,
        "`properties.path` must be a text starting with `/`, but it is the text `support`",
    );
    // Optional traits may be absent or null; extra properties are allowed.
    let schema = InputSchema::reference_r1();
    let relaxed = IDENTIFY
        .replace(r#""job_title":"Head of Procurement","#, "")
        .replace("15000", "null");
    let record = decode_line(1, relaxed.as_bytes(), &schema).expect("optional traits");
    assert_eq!(record.traits.get("job_title"), None);
    assert_eq!(record.traits.get("budget"), Some(&Value::Null));
    let extra = ORDER.replace(r#""revenue":12.5"#, r#""revenue":12.5,"coupon":"X""#);
    assert!(decode_line(1, extra.as_bytes(), &schema).is_ok());
}

#[test]
fn the_first_failing_check_names_the_reason() {
    // Bad UTF-8 in an overlong line: invalid_utf8 comes first.
    let mut line = PAGE
        .replace(
            "/support/warranty\"}",
            &format!("/support/warranty{}\"}}", "y".repeat(40_000)),
        )
        .into_bytes();
    line.insert(30, 0xFF);
    assert_eq!(reject(&line).reason, RejectReason::InvalidUtf8);
    // Bad timestamp and unknown type: the timestamp is checked first.
    let both = PAGE
        .replace("2026-01-05T09:40:00.000Z", "2026-02-30T09:40:00Z")
        .replace(r#""type":"page""#, r#""type":"screen""#);
    assert_eq!(reject(both.as_bytes()).reason, RejectReason::BadTimestamp);
    // No identity and an unknown event: identity first.
    let both = ORDER
        .replace(r#""userId":"user-000042","#, "")
        .replace("Order Completed", "Nope");
    assert_eq!(
        reject(both.as_bytes()).reason,
        RejectReason::MissingIdentity
    );
    // Unknown event and a wrong property: the event first.
    let both = ORDER
        .replace("Order Completed", "Nope")
        .replace("12.5", "\"x\"");
    assert_eq!(reject(both.as_bytes()).reason, RejectReason::UnknownEvent);
}

#[test]
fn reasons_have_stable_names_and_descriptions() {
    let names: Vec<&str> = RejectReason::ALL.iter().map(|r| r.name()).collect();
    assert_eq!(
        names,
        [
            "invalid_utf8",
            "too_long",
            "invalid_json",
            "not_object",
            "missing_timestamp",
            "bad_timestamp",
            "unknown_type",
            "missing_identity",
            "unknown_event",
            "wrong_property_type",
            "too_late",
            "duplicate_contact"
        ]
    );
    for r in RejectReason::ALL {
        assert_eq!(RejectReason::from_name(r.name()), Some(r));
        assert!(!r.description().is_empty() && !r.description().contains("Json"));
    }
}

#[test]
fn decode_lines_reads_bytes_and_counts() {
    let schema = InputSchema::reference_r1();
    let mut input = Vec::new();
    input.extend_from_slice(IDENTIFY.as_bytes());
    input.extend_from_slice(b"\n\n"); // an empty line is a line, and not JSON
    input.extend_from_slice(ORDER.as_bytes());
    input.extend_from_slice(b"\r\n"); // a CR before the LF is JSON white space
    input.extend_from_slice(b"{\"type\":\"page\",\"name\":\"\xe9\"}\n");
    // A line of 3 MiB: longer than what is kept in memory.
    input.extend_from_slice(&vec![b'a'; 3 << 20]);
    input.push(b'\n');
    // Bad UTF-8 far beyond what is kept, split across reads.
    let mut far = vec![b'b'; 2 << 20];
    far.push(0xC3);
    far.push(b'(');
    input.extend_from_slice(&far);
    input.push(b'\n');
    input.extend_from_slice(PAGE.as_bytes()); // a last line without `\n`
    let reader = std::io::BufReader::with_capacity(4096, input.as_slice());
    let mut lines = decode_lines(reader, &schema);
    let outcomes: Vec<_> = lines.by_ref().collect();
    let reasons: Vec<Option<RejectReason>> = outcomes
        .iter()
        .map(|o| o.as_ref().err().map(|r| r.reason))
        .collect();
    assert_eq!(
        reasons,
        [
            None,
            Some(RejectReason::InvalidJson),
            None,
            Some(RejectReason::InvalidUtf8),
            Some(RejectReason::TooLong),
            Some(RejectReason::InvalidUtf8),
            None
        ]
    );
    let line_numbers: Vec<u64> = outcomes
        .iter()
        .map(|o| match o {
            Ok(r) => r.line,
            Err(r) => r.line,
        })
        .collect();
    assert_eq!(line_numbers, [1, 2, 3, 4, 5, 6, 7]);
    let Some(Err(long)) = outcomes.get(4) else {
        panic!("line 5 is rejected")
    };
    assert_eq!(long.length, 3 << 20);
    assert_eq!(long.raw.len(), 1 << 20);
    assert_eq!(
        long.detail,
        "the line is 3,145,728 bytes long; a record may be at most 32,768 bytes"
    );
    let Some(Err(far_bad)) = outcomes.get(5) else {
        panic!("line 6 is rejected")
    };
    assert_eq!(
        far_bad.detail,
        format!(
            "byte {} is not UTF-8: the text was probably saved as Windows-1252 or Latin-1",
            (2 << 20) + 1
        )
    );
    let summary = lines.summary();
    assert_eq!(
        (summary.lines_read, summary.valid, summary.rejected_total()),
        (7, 3, 4)
    );
    assert_eq!(summary.rejected(RejectReason::InvalidUtf8), 2);
    assert_eq!(
        summary.to_string(),
        "7 lines read: 3 valid, 4 skipped (invalid_utf8 2, too_long 1, invalid_json 1)"
    );
    assert!(lines.io_error().is_none());
    // Nothing after a final newline, and an empty input has no lines.
    assert_eq!(decode_lines(&b"null\n"[..], &schema).count(), 1);
    assert_eq!(decode_lines(&b""[..], &schema).count(), 0);
}

#[test]
fn a_repeated_member_keeps_its_last_value() {
    let schema = InputSchema::reference_r1();
    let twice = ORDER.replace(
        r#""revenue":12.5"#,
        r#""revenue":"12,50","note":1,"revenue":12.5"#,
    );
    let record = decode_line(1, twice.as_bytes(), &schema).expect("the last revenue is a number");
    assert_eq!(record.properties.get("revenue"), Some(&Value::Number(12.5)));
    assert_eq!(record.properties.len(), 4); // order_id, cart_id, revenue, note
                                            // The same in an object with many members (another code path).
    let many: String = (0..40).map(|i| format!(r#""k{i}":{i},"#)).collect();
    let big = ORDER.replace(
        r#""revenue":12.5"#,
        &format!(r#""revenue":"x",{many}"revenue":12.5,"k3":"three""#),
    );
    let record = decode_line(1, big.as_bytes(), &schema).expect("valid");
    assert_eq!(record.properties.get("revenue"), Some(&Value::Number(12.5)));
    assert_eq!(
        record.properties.get("k3").and_then(Value::as_text),
        Some("three")
    );
    assert_eq!(record.properties.len(), 3 + 40);
    // A repeated `userId` at the top: the last one counts.
    let ids = ORDER.replace(
        r#""userId":"user-000042""#,
        r#""userId":"user-1","userId":"""#,
    );
    assert_eq!(reject(ids.as_bytes()).reason, RejectReason::MissingIdentity);
}

/// `too_late`: only with a window, for a valid record more than the window behind the latest
/// accepted time; a record exactly the window behind is kept, and a bad line moves nothing.
#[test]
fn the_reordering_window() {
    let schema = InputSchema::reference_r1();
    // PAGE is at 09:40:00.000Z; IDENTIFY and ORDER at 09:31:12.345Z, 527,655 ms earlier.
    let input = format!("{PAGE}\n{{\"type\":\"page\",\"timestamp\":\"2026-12-31T00:00:00Z\"}}\n{IDENTIFY}\n{ORDER}\n");
    let run = |window: Option<i64>| {
        let mut lines = decode_lines(input.as_bytes(), &schema).with_max_out_of_order(window);
        let outcomes: Vec<Result<u64, (u64, RejectReason)>> = lines
            .by_ref()
            .map(|o| o.map(|r| r.line).map_err(|r| (r.line, r.reason)))
            .collect();
        (outcomes, lines.summary().clone())
    };
    let missing = Err((2, RejectReason::MissingIdentity));
    for window in [None, Some(527_655), Some(3_600_000)] {
        let (outcomes, summary) = run(window);
        assert_eq!(outcomes, [Ok(1), missing, Ok(3), Ok(4)], "{window:?}");
        assert_eq!(summary.rejected(RejectReason::TooLate), 0);
    }
    let (outcomes, summary) = run(Some(527_654));
    let late = |line| Err((line, RejectReason::TooLate));
    assert_eq!(outcomes, [Ok(1), missing, late(3), late(4)]);
    assert_eq!(summary.valid, 1);
    assert_eq!(summary.rejected(RejectReason::TooLate), 2);
    assert_eq!(summary.rejected_total(), 3);
    assert!(
        summary
            .to_string()
            .ends_with("(missing_identity 1, too_late 2)"),
        "{summary}"
    );

    let reject = decode_lines(input.as_bytes(), &schema)
        .with_max_out_of_order(Some(60_000))
        .nth(2)
        .and_then(Result::err)
        .expect("line 3 is too late");
    assert_eq!(reject.raw, IDENTIFY.as_bytes());
    assert_eq!(
        reject.detail,
        "the record's time 2026-01-05T09:31:12.345Z is 8m 47.655s before the latest time seen so \
         far (2026-01-05T09:40:00.000Z), more than the reordering window of 1m"
    );
}
