//! The decoder follows whatever `InputSchema` it is given, not only R1's.

use maclc_runtime::input::{
    decode_line, EventSchema, Field, InputSchema, Kind, Presence, RecordType, RejectReason, Value,
};

fn schema() -> InputSchema {
    let nullable = Field {
        name: "seats".to_string(),
        kind: Kind::Integer,
        presence: Presence::NULLABLE,
    };
    InputSchema::new(
        vec![RecordType::Track, RecordType::Screen, RecordType::Group],
        vec![EventSchema {
            name: "Trial Started".to_string(),
            properties: vec![
                Field::required("ends", Kind::Date),
                Field::required("paid", Kind::Bool),
                nullable,
                Field::optional(
                    "plan",
                    Kind::Object(vec![Field::required(
                        "tier",
                        Kind::Enum(vec!["pro".into(), "team".into()]),
                    )]),
                ),
            ],
        }],
        vec![],
        vec![],
    )
}

fn track(properties: &str) -> String {
    format!(
        r#"{{"type":"track","event":"Trial Started","userId":"u1","properties":{properties},"timestamp":"2026-03-01T00:00:00Z"}}"#
    )
}

#[test]
fn a_custom_schema_types_and_checks_properties() {
    let schema = schema();
    let record = decode_line(
        1,
        track(r#"{"ends":"2026-03-31","paid":false,"seats":null,"plan":{"tier":"team"},"x":1.5}"#)
            .as_bytes(),
        &schema,
    )
    .expect("valid");
    assert!(
        matches!(record.properties.get("ends"), Some(Value::Date(d)) if d.days_since_epoch() == 20_543)
    );
    assert_eq!(record.properties.get("paid"), Some(&Value::Bool(false)));
    assert_eq!(record.properties.get("seats"), Some(&Value::Null));
    assert_eq!(record.properties.get("x"), Some(&Value::Number(1.5)));
    assert_eq!(record.message_id, None);

    let cases = [
        (r#"{"ends":"2026-03-31","paid":false}"#, "`properties.seats` of `Trial Started` is missing; it must be a whole number (such as `250`, with no fraction or exponent)"),
        (r#"{"ends":"2026-03-31","paid":"no","seats":1}"#, "`properties.paid` of `Trial Started` must be `true` or `false`, but it is the text `no`"),
        (r#"{"ends":"31.03.2026","paid":false,"seats":1}"#, "`properties.ends` of `Trial Started` is `31.03.2026`: it is not a date written `YYYY-MM-DD`, such as `2026-01-05`"),
        (r#"{"ends":"2026-03-31","paid":false,"seats":99999999999999999999}"#, "`properties.seats` of `Trial Started` is `99999999999999999999`, a whole number too large to handle (the limit is 9,223,372,036,854,775,807)"),
        (r#"{"ends":"2026-03-31","paid":false,"seats":1,"plan":{"tier":"Team"}}"#, "`properties.plan.tier` of `Trial Started` must be one of `pro`, `team`, but it is the text `Team`"),
        (r#"[]"#, "`properties` of `Trial Started` must be an object `{…}`, but it is a list `[…]`"),
    ];
    for (properties, detail) in cases {
        let reject = decode_line(1, track(properties).as_bytes(), &schema).expect_err(properties);
        assert_eq!(
            (reject.reason, reject.detail.as_str()),
            (RejectReason::WrongPropertyType, detail)
        );
    }

    // Types this schema accepts that R1's does not, and one it does not accept.
    let screen =
        r#"{"type":"screen","name":"Home","anonymousId":"a1","timestamp":"2026-03-01T00:00:00Z"}"#;
    assert_eq!(
        decode_line(1, screen.as_bytes(), &schema).map(|r| r.record_type),
        Ok(RecordType::Screen)
    );
    let group = r#"{"type":"group","groupId":"acc-1","userId":"u1","traits":{"name":"Acme"},"timestamp":"2026-03-01T00:00:00Z"}"#;
    let group = decode_line(1, group.as_bytes(), &schema).expect("valid group");
    assert_eq!(group.group_id.as_deref(), Some("acc-1"));
    assert_eq!(
        group.traits.get("name").and_then(Value::as_text),
        Some("Acme")
    );
    let page =
        r#"{"type":"page","anonymousId":"a1","properties":{},"timestamp":"2026-03-01T00:00:00Z"}"#;
    assert_eq!(
        decode_line(1, page.as_bytes(), &schema).map_err(|r| r.reason),
        Err(RejectReason::UnknownType)
    );
}
