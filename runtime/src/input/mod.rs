//! Input records: from one raw JSON Lines line to a typed [`Record`] or a [`Reject`].
//!
//! The checks and their order are those of R1 §1 (`shared/workload/R1.md`): the first check a
//! line fails names its [`RejectReason`], and the reject keeps the line number, plain words
//! about what is wrong and the raw bytes, so that nothing is dropped without a trace. Lines are
//! handled as bytes throughout: there is no lossy UTF-8 conversion anywhere.

mod fast;
pub mod json;
mod lines;
pub mod schema;
pub mod time;
pub mod value;

use std::collections::HashMap;
use std::io::BufRead;

use json::Json;
pub use lines::{DecodeLines, Position, Summary};
pub use schema::{
    EventId, EventSchema, EventSlots, Field, InputSchema, KeptMembers, Kind, Presence, RecordType,
};
pub use time::{format_timestamp, Date};
pub use value::{Fields, Value};

/// Segment's limit for one call is 32 KB; a longer line is `too_long`.
pub const MAX_LINE_BYTES: usize = 32_768;

/// One valid input record, decoded and typed against the [`InputSchema`].
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// 1-based line number in the input.
    pub line: u64,
    pub record_type: RecordType,
    /// Event time: milliseconds since 1970-01-01T00:00:00Z.
    pub timestamp: i64,
    /// `messageId` when it is a string (R1 does not require it; it breaks ties in time order).
    pub message_id: Option<String>,
    /// Ids are present only as non-empty strings; any other value counts as absent.
    pub user_id: Option<String>,
    pub anonymous_id: Option<String>,
    /// An alias's `previousId`.
    pub previous_id: Option<String>,
    /// A group's `groupId`.
    pub group_id: Option<String>,
    /// A track's event, as its position in the schema.
    pub event: Option<EventId>,
    /// A page's or screen's `name`, when it is a string.
    pub name: Option<String>,
    /// Track, page and screen `properties`; empty for other types.
    pub properties: Fields,
    /// Identify and group `traits`; empty for other types.
    pub traits: Fields,
    /// A track's (or a page's) properties as its program event's slot values, when the fast
    /// decoder filled them straight from the line ([`InputSchema::with_slots`]): `properties`
    /// is then empty. `None` otherwise. The slots follow the program whose engine gave the
    /// plan (`Engine::track_slots`/`page_slots`): such a record must go to that engine.
    pub slots: Option<Box<[crate::eval::Val]>>,
}

impl Record {
    /// A track's event name (as written: it is always a name of `schema`, the one the record
    /// was decoded with). Not kept in the record: the run never reads it.
    pub fn event_name<'s>(&self, schema: &'s InputSchema) -> Option<&'s str> {
        schema.event(self.event?).map(|e| e.name.as_str())
    }

    /// The key of R1's event-time order: `ts`, then `messageId` (byte order), then line.
    pub fn order_key(&self) -> (i64, &[u8], u64) {
        (
            self.timestamp,
            self.message_id.as_deref().unwrap_or("").as_bytes(),
            self.line,
        )
    }
}

/// Why a line was skipped. The order of the variants is the order of the checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RejectReason {
    InvalidUtf8,
    TooLong,
    InvalidJson,
    NotObject,
    MissingTimestamp,
    BadTimestamp,
    UnknownType,
    MissingIdentity,
    UnknownEvent,
    WrongPropertyType,
    /// Not one of R1's checks: only with a bounded reordering window (`--max-out-of-order`),
    /// for a valid record older than the window allows. It comes after R1's ten so that their
    /// order and numbering stay R1's.
    TooLate,
    /// Only in a contact snapshot (`--contacts`): a second line for a `userId` already given.
    DuplicateContact,
}

impl RejectReason {
    pub const ALL: [RejectReason; 12] = [
        RejectReason::InvalidUtf8,
        RejectReason::TooLong,
        RejectReason::InvalidJson,
        RejectReason::NotObject,
        RejectReason::MissingTimestamp,
        RejectReason::BadTimestamp,
        RejectReason::UnknownType,
        RejectReason::MissingIdentity,
        RejectReason::UnknownEvent,
        RejectReason::WrongPropertyType,
        RejectReason::TooLate,
        RejectReason::DuplicateContact,
    ];

    /// The stable name used in summaries and reject files (as in R1.md).
    pub fn name(self) -> &'static str {
        match self {
            RejectReason::InvalidUtf8 => "invalid_utf8",
            RejectReason::TooLong => "too_long",
            RejectReason::InvalidJson => "invalid_json",
            RejectReason::NotObject => "not_object",
            RejectReason::MissingTimestamp => "missing_timestamp",
            RejectReason::BadTimestamp => "bad_timestamp",
            RejectReason::UnknownType => "unknown_type",
            RejectReason::MissingIdentity => "missing_identity",
            RejectReason::UnknownEvent => "unknown_event",
            RejectReason::WrongPropertyType => "wrong_property_type",
            RejectReason::TooLate => "too_late",
            RejectReason::DuplicateContact => "duplicate_contact",
        }
    }

    pub fn from_name(name: &str) -> Option<RejectReason> {
        RejectReason::ALL.into_iter().find(|r| r.name() == name)
    }

    /// What the reason means, for a marketer or a data person.
    pub fn description(self) -> &'static str {
        match self {
            RejectReason::InvalidUtf8 => {
                "the line is not UTF-8 text (often text saved as Windows-1252 or Latin-1 slipped into the stream)"
            }
            RejectReason::TooLong => "the line is longer than 32,768 bytes, Segment's limit for one record",
            RejectReason::InvalidJson => "the line is not one JSON value (for example, it was cut short)",
            RejectReason::NotObject => "the line is JSON, but not a record object (a list, a text, `null`, …)",
            RejectReason::MissingTimestamp => "the record has no `timestamp`, so we cannot tell when it happened",
            RejectReason::BadTimestamp => {
                "the `timestamp` is not a real date and time written like `2026-01-05T09:31:12.345Z`"
            }
            RejectReason::UnknownType => "the record's `type` is not one this program reads",
            RejectReason::MissingIdentity => "the record does not say who it is about (no `userId` or `anonymousId`)",
            RejectReason::UnknownEvent => "the track event's name is not one of the events this program knows",
            RejectReason::WrongPropertyType => "a property or trait is missing or holds the wrong kind of value",
            RejectReason::TooLate => {
                "the record arrived more than the reordering window (`--max-out-of-order`) after later records: it is older than the window allows"
            }
            RejectReason::DuplicateContact => {
                "the contact snapshot (`--contacts`) has an earlier line for the same `userId`; the first one is kept"
            }
        }
    }
}

impl std::fmt::Display for RejectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A skipped line: where, why, and the line itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    /// 1-based line number.
    pub line: u64,
    pub reason: RejectReason,
    /// Plain words about what is wrong with this line.
    pub detail: String,
    /// The line's bytes, without the `\n`. Only a line longer than `KEEP_BYTES` is cut
    /// (see `length`), so that one endless line cannot exhaust memory.
    pub raw: Vec<u8>,
    /// The line's full length in bytes.
    pub length: u64,
}

/// Reads `\n`-separated lines from `reader` and decodes each against `schema`.
/// The iterator keeps a [`Summary`]; an I/O error ends it and is kept for [`DecodeLines::io_error`].
pub fn decode_lines<R: BufRead>(reader: R, schema: &InputSchema) -> DecodeLines<'_, R> {
    DecodeLines::new(reader, schema)
}

/// Reads the lines of a contact snapshot ([`decode_contact_line`]); a second line for the same
/// `userId` is a `duplicate_contact` reject (the first is kept).
pub fn decode_contact_lines<R: BufRead>(reader: R, schema: &InputSchema) -> DecodeLines<'_, R> {
    DecodeLines::new(reader, schema).for_contacts()
}

/// Decodes one line (its bytes without the `\n`, and its 1-based number).
/// Valid lines take the one-pass fast path (`fast.rs`); a line it does not take is decoded
/// through a JSON tree, which words the reject.
pub fn decode_line(line: u64, raw: &[u8], schema: &InputSchema) -> Result<Record, Reject> {
    let text = line_text(line, raw)?;
    if let Some(record) = fast::decode(line, text, schema) {
        return Ok(record);
    }
    decode_text(line, text, schema)
        .map_err(|(reason, detail)| line_reject(line, raw, reason, detail))
}

/// The fast path alone: `None` where [`decode_line`] would fall back to the JSON tree (or
/// reject the line before decoding), for the tests that compare the two.
#[doc(hidden)]
pub fn decode_line_fast(line: u64, raw: &[u8], schema: &InputSchema) -> Option<Record> {
    fast::decode(line, line_text(line, raw).ok()?, schema)
}

/// [`decode_line`] through the JSON tree only, never the fast path: the reference the tests
/// compare the fast path with.
#[doc(hidden)]
pub fn decode_line_by_tree(line: u64, raw: &[u8], schema: &InputSchema) -> Result<Record, Reject> {
    let text = line_text(line, raw)?;
    decode_text(line, text, schema)
        .map_err(|(reason, detail)| line_reject(line, raw, reason, detail))
}

/// A reject of line `line` (its bytes `raw`).
fn line_reject(line: u64, raw: &[u8], reason: RejectReason, detail: String) -> Reject {
    Reject {
        line,
        reason,
        detail,
        raw: raw.to_vec(),
        length: raw.len() as u64,
    }
}

/// The text of a line, checked the same way for events and for a contact snapshot: valid
/// UTF-8, then not longer than [`MAX_LINE_BYTES`].
fn line_text(line: u64, raw: &[u8]) -> Result<&str, Reject> {
    let text = std::str::from_utf8(raw).map_err(|e| {
        line_reject(
            line,
            raw,
            RejectReason::InvalidUtf8,
            utf8_detail(raw, e.valid_up_to()),
        )
    })?;
    if raw.len() > MAX_LINE_BYTES {
        return Err(line_reject(
            line,
            raw,
            RejectReason::TooLong,
            too_long_detail(raw.len() as u64),
        ));
    }
    Ok(text)
}

/// Decodes one line of a contact snapshot (`--contacts`, a CRM export): an object with a
/// `userId` (a non-empty text) and `traits` shaped as an identify's, checked against the same
/// schema. It becomes an identify [`Record`] at time 0 (the time is not used: the snapshot
/// comes before every event). Rejects use the events' reasons: `missing_identity` without a
/// `userId`, `wrong_property_type` for `traits`.
pub fn decode_contact_line(line: u64, raw: &[u8], schema: &InputSchema) -> Result<Record, Reject> {
    let reject = |reason, detail: String| line_reject(line, raw, reason, detail);
    let text = line_text(line, raw)?;
    let root =
        json::parse(text).map_err(|e| reject(RejectReason::InvalidJson, e.describe(text)))?;
    if !matches!(root, Json::Object(_)) {
        return Err(reject(
            RejectReason::NotObject,
            format!(
                "the line holds {}, not a contact object `{{\"userId\": …, \"traits\": {{…}}}}`",
                describe(&root)
            ),
        ));
    }
    let Some(user_id) = id(&root, "userId") else {
        return Err(reject(
            RejectReason::MissingIdentity,
            format!(
                "a contact line needs the contact's `userId`, but `userId` {}",
                id_state(&root, "userId")
            ),
        ));
    };
    let traits = required_object(&root, "traits", &schema.identify_traits, Label(None))
        .map_err(|detail| reject(RejectReason::WrongPropertyType, detail))?;
    Ok(Record {
        line,
        record_type: RecordType::Identify,
        timestamp: 0,
        message_id: None,
        user_id: Some(user_id),
        anonymous_id: None,
        previous_id: None,
        group_id: None,
        event: None,
        name: None,
        properties: Fields::default(),
        traits,
        slots: None,
    })
}

pub(crate) fn utf8_detail(raw: &[u8], at: usize) -> String {
    let bad = raw.get(at).copied().unwrap_or(0);
    let before = std::str::from_utf8(raw.get(..at).unwrap_or_default()).unwrap_or_default();
    let context: String = {
        let chars: Vec<char> = before.chars().rev().take(24).collect();
        chars.into_iter().rev().collect()
    };
    format!(
        "byte {} (0x{bad:02X}) is not UTF-8, right after `{context}`: the text was probably saved as Windows-1252 or Latin-1",
        at + 1
    )
}

pub(crate) fn too_long_detail(length: u64) -> String {
    format!(
        "the line is {} bytes long; a record may be at most {} bytes",
        group_digits(length),
        group_digits(MAX_LINE_BYTES as u64)
    )
}

/// `1234567` as `1,234,567`, as the summary writes counts.
pub fn group_digits(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    // Digits before the first comma: 1 to 3.
    let mut until_comma = match digits.len() % 3 {
        0 => 3,
        r => r,
    };
    for c in digits.chars() {
        if until_comma == 0 {
            out.push(',');
            until_comma = 3;
        }
        out.push(c);
        until_comma -= 1;
    }
    out
}

type Failure = (RejectReason, String);

/// Checks 3 to 10 on a line that is UTF-8 and short enough.
fn decode_text(line: u64, text: &str, schema: &InputSchema) -> Result<Record, Failure> {
    let root = json::parse(text).map_err(|e| (RejectReason::InvalidJson, e.describe(text)))?;
    if !matches!(root, Json::Object(_)) {
        return Err((
            RejectReason::NotObject,
            format!(
                "the line holds {}, not a record object `{{…}}`",
                describe(&root)
            ),
        ));
    }

    // Rules 5 and 6: the timestamp.
    let timestamp = match root.get("timestamp") {
        None => {
            return Err((
                RejectReason::MissingTimestamp,
                "the record has no `timestamp`".to_string(),
            ))
        }
        Some(Json::Null) => {
            return Err((
                RejectReason::MissingTimestamp,
                "`timestamp` is `null`".to_string(),
            ))
        }
        Some(Json::String(s)) => time::parse_timestamp(s).map_err(|why| {
            (
                RejectReason::BadTimestamp,
                format!("`timestamp` is `{}`: {why}", shorten(s)),
            )
        })?,
        Some(other) => {
            return Err((
                RejectReason::BadTimestamp,
                format!(
                    "`timestamp` is {}; it must be a text such as `2026-01-05T09:31:12.345Z`",
                    describe(other)
                ),
            ))
        }
    };

    // Rule 7: the type.
    let record_type = match root.get("type") {
        Some(Json::String(s)) => match RecordType::from_wire(s).filter(|t| schema.accepts(*t)) {
            Some(t) => t,
            None => {
                return Err((
                    RejectReason::UnknownType,
                    format!(
                        "`type` is `{}`, which this program does not read (it reads {})",
                        shorten(s),
                        accepted_types(schema)
                    ),
                ))
            }
        },
        None => {
            return Err((
                RejectReason::UnknownType,
                format!(
                    "the record has no `type` (this program reads {})",
                    accepted_types(schema)
                ),
            ))
        }
        Some(other) => {
            return Err((
                RejectReason::UnknownType,
                format!(
                    "`type` is {}; it must be one of {}",
                    describe(other),
                    accepted_types(schema)
                ),
            ))
        }
    };

    // Rule 8: who the record is about.
    let user_id = id(&root, "userId");
    let anonymous_id = id(&root, "anonymousId");
    let previous_id = id(&root, "previousId");
    if record_type == RecordType::Alias {
        if previous_id.is_none() || user_id.is_none() {
            let mut missing = Vec::new();
            for name in ["previousId", "userId"] {
                if id(&root, name).is_none() {
                    missing.push(format!("`{name}` {}", id_state(&root, name)));
                }
            }
            return Err((
                RejectReason::MissingIdentity,
                format!(
                    "an alias needs both `previousId` and `userId`, but {}",
                    missing.join(" and ")
                ),
            ));
        }
    } else if user_id.is_none() && anonymous_id.is_none() {
        return Err((
            RejectReason::MissingIdentity,
            format!(
                "the record does not say who it is about: `userId` {} and `anonymousId` {}",
                id_state(&root, "userId"),
                id_state(&root, "anonymousId")
            ),
        ));
    }

    // Rule 9: the event of a track.
    let mut event = None;
    if record_type == RecordType::Track {
        match root.get("event") {
            Some(Json::String(name)) => match schema.event_id(name) {
                Some(found) => {
                    event = Some(found);
                }
                None => {
                    let mut detail =
                        format!("`{}` is not an event this program knows", shorten(name));
                    if let Some(near) = did_you_mean(name, schema) {
                        detail.push_str(&format!("; did you mean `{near}`?"));
                    }
                    return Err((RejectReason::UnknownEvent, detail));
                }
            },
            None => {
                return Err((
                    RejectReason::UnknownEvent,
                    "the track record has no `event` name".to_string(),
                ))
            }
            Some(other) => {
                return Err((
                    RejectReason::UnknownEvent,
                    format!(
                        "`event` is {}; it must be the name of an event, as a text",
                        describe(other)
                    ),
                ))
            }
        }
    }

    // Rule 10: properties and traits.
    let wrong = |detail: String| (RejectReason::WrongPropertyType, detail);
    let mut properties = Fields::default();
    let mut traits = Fields::default();
    let mut name = None;
    match record_type {
        RecordType::Track => {
            let schema_event = event.and_then(|id| schema.event(id));
            let (fields, label) = match schema_event {
                Some(e) => (e.properties.as_slice(), Label(Some(e.name.as_str()))),
                None => (&[][..], Label(None)),
            };
            properties = required_object(&root, "properties", fields, label).map_err(wrong)?;
        }
        RecordType::Page | RecordType::Screen => {
            name = match root.get("name") {
                None | Some(Json::Null) => None,
                Some(Json::String(s)) => Some(s.to_string()),
                Some(other) => {
                    return Err(wrong(format!(
                        "`name` must be a text (the page title), but it is {}",
                        describe(other)
                    )))
                }
            };
            properties = if record_type == RecordType::Page {
                required_object(&root, "properties", &schema.page_properties, Label(None))
            } else {
                optional_object(&root, "properties")
            }
            .map_err(wrong)?;
        }
        RecordType::Identify => {
            traits = required_object(&root, "traits", &schema.identify_traits, Label(None))
                .map_err(wrong)?;
        }
        RecordType::Group => {
            traits = optional_object(&root, "traits").map_err(wrong)?;
        }
        RecordType::Alias => {}
    }
    // A run keeps only the members it reads (`InputSchema::kept`): the others were checked.
    if let Some(kept) = &schema.kept {
        properties
            .0
            .retain(|(k, _)| kept.properties.iter().any(|n| n == k));
        traits.0.retain(|(k, _)| kept.traits.iter().any(|n| n == k));
    }

    Ok(Record {
        line,
        record_type,
        timestamp,
        message_id: root
            .get("messageId")
            .and_then(Json::as_str)
            .map(str::to_string),
        user_id,
        anonymous_id,
        previous_id: if record_type == RecordType::Alias {
            previous_id
        } else {
            None
        },
        group_id: if record_type == RecordType::Group {
            id(&root, "groupId")
        } else {
            None
        },
        event,
        name,
        properties,
        traits,
        slots: None,
    })
}

/// An id is present only as a non-empty string.
fn id(root: &Json<'_>, name: &str) -> Option<String> {
    match root.get(name) {
        Some(Json::String(s)) if !s.is_empty() => Some(s.to_string()),
        _ => None,
    }
}

fn id_state(root: &Json<'_>, name: &str) -> String {
    match root.get(name) {
        None => "is missing".to_string(),
        Some(Json::String(_)) => "is empty".to_string(),
        Some(other) => format!("is {}, not a text", describe(other)),
    }
}

fn accepted_types(schema: &InputSchema) -> String {
    let names: Vec<String> = schema
        .record_types
        .iter()
        .map(|t| format!("`{}`", t.wire_name()))
        .collect();
    names.join(", ")
}

/// A value as a message shows it: "the text `12,50`", "the number `4123`", "a list", ...
fn describe(json: &Json<'_>) -> String {
    match json {
        Json::Null => "`null`".to_string(),
        Json::Bool(b) => format!("`{b}`"),
        Json::Number(n) => format!("the number `{}`", shorten(n)),
        Json::String(s) if s.is_empty() => "an empty text".to_string(),
        Json::String(s) => format!("the text `{}`", shorten(s)),
        Json::Array(_) => "a list `[…]`".to_string(),
        Json::Object(_) => "an object `{…}`".to_string(),
    }
}

/// Long user text is cut in messages, so that a reject stays one readable line.
fn shorten(text: &str) -> String {
    const MAX: usize = 60;
    if text.chars().count() <= MAX {
        text.to_string()
    } else {
        let head: String = text.chars().take(MAX).collect();
        format!("{head}…")
    }
}

fn did_you_mean<'s>(name: &str, schema: &'s InputSchema) -> Option<&'s str> {
    let lower = name.to_lowercase();
    let mut best: Option<(usize, &str)> = None;
    for e in &schema.events {
        let d = if e.name.to_lowercase() == lower {
            0
        } else {
            edit_distance(&lower, &e.name.to_lowercase())
        };
        let better = match best {
            None => true,
            Some((b, _)) => d < b,
        };
        if d <= 3.max(e.name.chars().count() / 4) && better {
            best = Some((d, e.name.as_str()));
        }
    }
    best.map(|(_, n)| n)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row.first().copied().unwrap_or(0);
        if let Some(first) = row.first_mut() {
            *first = i + 1;
        }
        for (j, cb) in b.iter().enumerate() {
            let above = row.get(j + 1).copied().unwrap_or(usize::MAX);
            let left = row.get(j).copied().unwrap_or(usize::MAX);
            let cost = prev + usize::from(ca != *cb);
            prev = above;
            if let Some(cell) = row.get_mut(j + 1) {
                *cell = cost
                    .min(above.saturating_add(1))
                    .min(left.saturating_add(1));
            }
        }
    }
    row.last().copied().unwrap_or(0)
}

/// `properties` / `traits` that the schema requires to be an object, checked field by field.
fn required_object(
    root: &Json<'_>,
    member: &str,
    fields: &[Field],
    label: Label<'_>,
) -> Result<Fields, String> {
    match root.get(member) {
        Some(Json::Object(members)) => check_fields(
            members,
            fields,
            Place {
                parent: None,
                name: member,
            },
            label,
        ),
        None => Err(format!(
            "the record has no `{member}`{label}; it must be an object `{{…}}`"
        )),
        Some(other) => Err(format!(
            "`{member}`{label} must be an object `{{…}}`, but it is {}",
            describe(other)
        )),
    }
}

/// `properties` / `traits` of types the schema does not describe: an object when present.
fn optional_object(root: &Json<'_>, member: &str) -> Result<Fields, String> {
    match root.get(member) {
        None | Some(Json::Null) => Ok(Fields::default()),
        Some(Json::Object(members)) => check_fields(
            members,
            &[],
            Place {
                parent: None,
                name: member,
            },
            Label(None),
        ),
        Some(other) => Err(format!(
            "`{member}` must be an object `{{…}}`, but it is {}",
            describe(other)
        )),
    }
}

type Members<'a> = [(std::borrow::Cow<'a, str>, Json<'a>)];

/// Where a field is (`traits.company.id`), written out only when a message needs it: a valid
/// line, the common case, formats nothing.
#[derive(Debug, Clone, Copy)]
struct Place<'a> {
    parent: Option<&'a Place<'a>>,
    name: &'a str,
}

impl std::fmt::Display for Place<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(parent) = self.parent {
            write!(f, "{parent}.")?;
        }
        f.write_str(self.name)
    }
}

/// The event a track's property belongs to, for messages: `` of `demo_requested` ``.
#[derive(Debug, Clone, Copy)]
struct Label<'a>(Option<&'a str>);

impl std::fmt::Display for Label<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(event) => write!(f, " of `{event}`"),
            None => Ok(()),
        }
    }
}

/// Checks the listed fields in the schema's order (so the first problem reported is stable),
/// then keeps every member: listed ones typed, others untyped.
fn check_fields(
    members: &Members<'_>,
    fields: &[Field],
    path: Place<'_>,
    label: Label<'_>,
) -> Result<Fields, String> {
    let lookup = |name: &str| {
        members
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    };
    let mut typed = Vec::with_capacity(fields.len());
    for field in fields {
        let here = Place {
            parent: Some(&path),
            name: &field.name,
        };
        match (lookup(&field.name), field.presence) {
            (None, p) if !p.may_be_absent => {
                return Err(format!(
                    "`{here}`{label} is missing; it must be {}",
                    field.kind.describe()
                ))
            }
            (None, _) => {}
            (Some(Json::Null), p) if !p.may_be_null => {
                return Err(format!(
                    "`{here}`{label} is `null`; it must be {}",
                    field.kind.describe()
                ))
            }
            (Some(Json::Null), _) => typed.push((field.name.as_str(), Value::Null)),
            (Some(json), _) => typed.push((
                field.name.as_str(),
                typed_value(&field.kind, json, here, label)?,
            )),
        }
    }
    // The last position of each name: a repeated name keeps only its last value, as lookups
    // do. Small objects (all real records) compare directly; big ones use a map, so that a
    // hostile line of thousands of members stays linear.
    let last_of: Option<HashMap<&str, usize>> = (members.len() > 16).then(|| {
        members
            .iter()
            .enumerate()
            .map(|(i, (k, _))| (k.as_ref(), i))
            .collect()
    });
    let mut out = Vec::with_capacity(members.len());
    for (i, (name, json)) in members.iter().enumerate() {
        let repeated_later = match &last_of {
            Some(map) => map.get(name.as_ref()).is_some_and(|&last| last != i),
            None => members
                .get(i + 1..)
                .unwrap_or_default()
                .iter()
                .any(|(k, _)| k == name),
        };
        if repeated_later {
            continue;
        }
        let value = match typed.iter().position(|(k, _)| k == name) {
            Some(at) => typed.swap_remove(at).1,
            None => Value::untyped(json),
        };
        out.push((name.to_string(), value));
    }
    Ok(Fields(out))
}

fn typed_value(
    kind: &Kind,
    json: &Json<'_>,
    here: Place<'_>,
    label: Label<'_>,
) -> Result<Value, String> {
    let mismatch = || {
        format!(
            "`{here}`{label} must be {}, but it is {}",
            kind.describe(),
            describe(json)
        )
    };
    match (kind, json) {
        (Kind::Text, Json::String(s)) => Ok(Value::Text(s.to_string())),
        (Kind::Path, Json::String(s)) if s.starts_with('/') => Ok(Value::Text(s.to_string())),
        (Kind::Bool, Json::Bool(b)) => Ok(Value::Bool(*b)),
        (Kind::Enum(values), Json::String(s)) if values.iter().any(|v| v == s) => Ok(Value::Text(s.to_string())),
        (Kind::Integer, Json::Number(text)) if value::is_integer_lexeme(text) => match text.parse::<i64>() {
            Ok(n) => Ok(Value::Integer(n)),
            Err(_) => Err(format!("`{here}`{label} is `{}`, a whole number too large to handle (the limit is 9,223,372,036,854,775,807)", shorten(text))),
        },
        (Kind::Number, Json::Number(text)) => match text.parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(Value::Number(x)),
            _ => Err(format!("`{here}`{label} is `{}`, a number too large to handle", shorten(text))),
        },
        (Kind::Date, Json::String(s)) => {
            time::parse_date(s).map(Value::Date).map_err(|why| format!("`{here}`{label} is `{}`: {why}", shorten(s)))
        }
        (Kind::Object(fields), Json::Object(members)) => check_fields(members, fields, here, label).map(Value::Object),
        _ => Err(mismatch()),
    }
}
