//! The decoder's fast path: one pass over a line's bytes straight to a [`Record`], no JSON tree.
//!
//! Nearly every line of a real stream is a valid record, and building a tree of every member
//! (then a map of every member) cost dozens of small allocations per line. This scanner
//! validates the whole line as JSON while it reads it, borrows keys and plain strings from
//! the line, checks every declared property and trait (R1 §1 rule 10), and allocates only for
//! what the record keeps. It gives up — returns `None` — on anything wrong or unusual (a reject,
//! an escape in a key, a duplicate member of a checked object, deep nesting, an object of
//! more than [`MAX_MEMBERS`] members): the tree decoder (`decode_text`) then decides, and words
//! the reject. So the fast path only ever returns what the tree decoder would return
//! (`tests/fast_decode.rs` checks it on generated, malformed and hand-written lines).

use std::borrow::Cow;

use super::schema::{EventSlots, Field, InputSchema, Kind, RecordType};
use super::value::{self, Fields, Value};
use super::{time, Record};
use crate::engine::{read_slot, read_slot_owned};
use crate::eval::Val;
use maclc_compiler::ir::Slot;

/// The most members of one checked object the fast path handles (records have at most 15).
const MAX_MEMBERS: usize = 24;

/// The deepest nesting the fast path handles; deeper lines go to the tree decoder.
const MAX_DEPTH: usize = 32;

/// A value as the scan saw it: scalars as written, containers as the span of their text.
#[derive(Debug, Clone, Copy)]
enum Raw<'a> {
    Null,
    Bool(bool),
    /// The number exactly as written (checked against the JSON grammar).
    Number(&'a str),
    /// The text between the quotes; `escaped` when it holds a `\` escape (checked valid).
    Str {
        body: &'a str,
        escaped: bool,
    },
    /// The offset of the `{` or `[`.
    Object(usize),
    Array(usize),
}

/// The members of one object, in the order written.
struct Members<'a> {
    items: [(&'a str, Raw<'a>); MAX_MEMBERS],
    len: usize,
}

impl<'a> Members<'a> {
    fn new() -> Self {
        Members {
            items: [("", Raw::Null); MAX_MEMBERS],
            len: 0,
        }
    }

    fn as_slice(&self) -> &[(&'a str, Raw<'a>)] {
        self.items.get(..self.len).unwrap_or_default()
    }

    /// Adds a member; `None` when the name came before (the tree decoder then keeps the
    /// last value, in the last one's place) or when there are too many.
    fn push(&mut self, name: &'a str, value: Raw<'a>) -> Option<()> {
        if self.as_slice().iter().any(|(k, _)| same(k, name)) {
            return None;
        }
        *self.items.get_mut(self.len)? = (name, value);
        self.len += 1;
        Some(())
    }
}

struct Scan<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Scan<'a> {
    fn at(text: &'a str, pos: usize) -> Self {
        Scan {
            text,
            bytes: text.as_bytes(),
            pos,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek() == Some(byte)).then(|| self.pos += 1)
    }

    /// One value, validated to its end; containers are skipped (their members checked).
    fn value(&mut self, depth: usize) -> Option<Raw<'a>> {
        match self.peek()? {
            b'{' => {
                let start = self.pos;
                self.skip_object(depth + 1)?;
                Some(Raw::Object(start))
            }
            b'[' => {
                let start = self.pos;
                self.skip_array(depth + 1)?;
                Some(Raw::Array(start))
            }
            b'"' => {
                let (body, escaped) = self.string()?;
                Some(Raw::Str { body, escaped })
            }
            b't' => self.literal(b"true", Raw::Bool(true)),
            b'f' => self.literal(b"false", Raw::Bool(false)),
            b'n' => self.literal(b"null", Raw::Null),
            b'-' | b'0'..=b'9' => self.number().map(Raw::Number),
            _ => None,
        }
    }

    fn literal(&mut self, word: &[u8], value: Raw<'a>) -> Option<Raw<'a>> {
        let end = self.pos + word.len();
        (self.bytes.get(self.pos..end)? == word).then(|| {
            self.pos = end;
            value
        })
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        self.pos - start
    }

    /// A number, with the grammar of `json::Parser::number` (same glued-text rule).
    fn number(&mut self) -> Option<&'a str> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek()? {
            b'0' => self.pos += 1,
            b'1'..=b'9' => {
                self.digits();
            }
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return None;
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return None;
            }
        }
        if let Some(b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z' | b'.') = self.peek() {
            return None;
        }
        self.text.get(start..self.pos)
    }

    /// A string at the current `"`: its body, and whether it holds escapes (all checked).
    fn string(&mut self) -> Option<(&'a str, bool)> {
        self.pos += 1;
        let start = self.pos;
        let mut escaped = false;
        loop {
            self.skip_plain();
            match self.peek()? {
                b'"' => {
                    let body = self.text.get(start..self.pos)?;
                    self.pos += 1;
                    return Some((body, escaped));
                }
                b'\\' => {
                    escaped = true;
                    self.pos += 1;
                    match self.peek()? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.pos += 1,
                        b'u' => {
                            self.pos += 1;
                            self.unicode_escape()?;
                        }
                        _ => return None,
                    }
                }
                0x00..=0x1f => return None,
                _ => self.pos += 1,
            }
        }
    }

    /// Moves over string bytes that need no attention (not `"`, `\` or a control
    /// character), eight at a time.
    fn skip_plain(&mut self) {
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGHS: u64 = 0x8080_8080_8080_8080;
        while let Some(chunk) = self.bytes.get(self.pos..self.pos + 8) {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            let x = u64::from_le_bytes(word);
            let zero_in = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS;
            // A byte below 0x20, a `"`, a `\`: found bytewise below.
            let stop = (x.wrapping_sub(ONES * 0x20) & !x & HIGHS)
                | zero_in(x ^ (ONES * u64::from(b'"')))
                | zero_in(x ^ (ONES * u64::from(b'\\')));
            if stop != 0 {
                // The lowest flagged byte is a real one (a borrow only flags bytes above it).
                self.pos += (stop.trailing_zeros() / 8) as usize;
                break;
            }
            self.pos += 8;
        }
    }

    /// The four hex digits after `\u`, and the low half after a high surrogate.
    fn unicode_escape(&mut self) -> Option<char> {
        let high = self.hex4()?;
        let code = if (0xD800..0xDC00).contains(&high) {
            self.eat(b'\\')?;
            self.eat(b'u')?;
            let low = self.hex4()?;
            if !(0xDC00..0xE000).contains(&low) {
                return None;
            }
            0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
        } else {
            high
        };
        char::from_u32(code)
    }

    fn hex4(&mut self) -> Option<u32> {
        let mut value = 0u32;
        for _ in 0..4 {
            value = value * 16 + char::from(self.peek()?).to_digit(16)?;
            self.pos += 1;
        }
        Some(value)
    }

    /// A member name: a string without escapes (an escaped name goes to the tree decoder).
    fn key(&mut self) -> Option<&'a str> {
        self.skip_ws();
        if self.peek() != Some(b'"') {
            return None;
        }
        let (name, escaped) = self.string()?;
        if escaped {
            return None;
        }
        self.skip_ws();
        self.eat(b':')?;
        self.skip_ws();
        Some(name)
    }

    /// After a member or an item: `,` (more follow: `true`) or the closing byte (`false`).
    fn next_or_close(&mut self, close: u8) -> Option<bool> {
        self.skip_ws();
        match self.peek()? {
            b',' => {
                self.pos += 1;
                Some(true)
            }
            b if b == close => {
                self.pos += 1;
                Some(false)
            }
            _ => None,
        }
    }

    /// Calls `each` for every member of the object at the current `{`.
    fn object(
        &mut self,
        depth: usize,
        mut each: impl FnMut(&mut Self, &'a str) -> Option<()>,
    ) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.pos += 1;
        self.skip_ws();
        if self.eat(b'}').is_some() {
            return Some(());
        }
        loop {
            let name = self.key()?;
            each(self, name)?;
            if !self.next_or_close(b'}')? {
                return Some(());
            }
        }
    }

    fn skip_object(&mut self, depth: usize) -> Option<()> {
        self.object(depth, |scan, _| scan.value(depth).map(drop))
    }

    fn skip_array(&mut self, depth: usize) -> Option<()> {
        self.array(depth, |scan| scan.value(depth).map(drop))
    }

    fn array(&mut self, depth: usize, mut each: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.pos += 1;
        self.skip_ws();
        if self.eat(b']').is_some() {
            return Some(());
        }
        loop {
            self.skip_ws();
            each(self)?;
            if !self.next_or_close(b']')? {
                return Some(());
            }
        }
    }

    /// The members of the object at the current `{` (its values validated), into `out`
    /// (filled in place: the array is large, and moving it would cost more than reading it).
    fn members_into(&mut self, depth: usize, out: &mut Members<'a>) -> Option<()> {
        out.len = 0;
        self.object(depth, |scan, name| {
            let value = scan.value(depth)?;
            out.push(name, value)
        })
    }
}

/// A string value with its escapes decoded (borrowed when it has none).
fn text_of(body: &str, escaped: bool) -> Option<Cow<'_, str>> {
    if !escaped {
        return Some(Cow::Borrowed(body));
    }
    let mut out = String::with_capacity(body.len());
    let mut scan = Scan::at(body, 0);
    while let Some(b) = scan.peek() {
        if b == b'\\' {
            scan.pos += 1;
            let c = match scan.peek()? {
                b'"' => '"',
                b'\\' => '\\',
                b'/' => '/',
                b'b' => '\u{8}',
                b'f' => '\u{c}',
                b'n' => '\n',
                b'r' => '\r',
                b't' => '\t',
                b'u' => {
                    scan.pos += 1;
                    out.push(scan.unicode_escape()?);
                    continue;
                }
                _ => return None,
            };
            scan.pos += 1;
            out.push(c);
        } else {
            let c = body.get(scan.pos..)?.chars().next()?;
            out.push(c);
            scan.pos += c.len_utf8();
        }
    }
    Some(Cow::Owned(out))
}

fn as_text<'a>(raw: Raw<'a>) -> Option<Cow<'a, str>> {
    match raw {
        Raw::Str { body, escaped } => text_of(body, escaped),
        _ => None,
    }
}

/// An id is present only as a non-empty string.
fn id(raw: Option<Raw<'_>>) -> Option<String> {
    let text = as_text(raw?)?;
    (!text.is_empty()).then(|| text.into_owned())
}

/// The record members of the root object the decoder reads (the last one of a repeated name).
#[derive(Default)]
struct Root<'a> {
    record_type: Option<Raw<'a>>,
    timestamp: Option<Raw<'a>>,
    user_id: Option<Raw<'a>>,
    anonymous_id: Option<Raw<'a>>,
    previous_id: Option<Raw<'a>>,
    message_id: Option<Raw<'a>>,
    group_id: Option<Raw<'a>>,
    event: Option<Raw<'a>>,
    name: Option<Raw<'a>>,
    properties: Option<Raw<'a>>,
    traits: Option<Raw<'a>>,
}

/// Decodes a line that is UTF-8 and short enough, or `None` to let the tree decoder decide.
pub(super) fn decode(line: u64, text: &str, schema: &InputSchema) -> Option<Record> {
    let mut scan = Scan::at(text, 0);
    scan.skip_ws();
    if scan.peek() != Some(b'{') {
        return None;
    }
    let mut root = Root::default();
    // The members of `properties` and `traits` are gathered as the line is scanned, so that
    // the bulk of a record is read once. Each buffer is made when its member comes (a track
    // has no traits): filling a large array costs as much as a short line's scan.
    let mut gathered_properties = None;
    let mut gathered_traits = None;
    let mut properties_members = None;
    let mut traits_members = None;
    scan.object(1, |scan, name| {
        let gathered = match name {
            "properties" => Some((
                &mut root.properties,
                &mut properties_members,
                &mut gathered_properties,
            )),
            "traits" => Some((&mut root.traits, &mut traits_members, &mut gathered_traits)),
            _ => None,
        };
        if let Some((raw, members, buffer)) = gathered {
            *members = None;
            if scan.peek() == Some(b'{') {
                *raw = Some(Raw::Object(scan.pos));
                scan.members_into(2, buffer.get_or_insert_with(Members::new))?;
                *members = Some(());
                return Some(());
            }
        }
        let value = scan.value(1)?;
        let slot = match name {
            "type" => &mut root.record_type,
            "timestamp" => &mut root.timestamp,
            "userId" => &mut root.user_id,
            "anonymousId" => &mut root.anonymous_id,
            "previousId" => &mut root.previous_id,
            "messageId" => &mut root.message_id,
            "groupId" => &mut root.group_id,
            "event" => &mut root.event,
            "name" => &mut root.name,
            "properties" => &mut root.properties,
            "traits" => &mut root.traits,
            _ => return Some(()),
        };
        *slot = Some(value);
        Some(())
    })?;
    scan.skip_ws();
    if scan.pos != text.len() {
        return None;
    }

    let timestamp = time::parse_timestamp(&as_text(root.timestamp?)?).ok()?;
    let record_type =
        RecordType::from_wire(&as_text(root.record_type?)?).filter(|t| schema.accepts(*t))?;
    let user_id = id(root.user_id);
    let anonymous_id = id(root.anonymous_id);
    let previous_id = id(root.previous_id);
    let identified = if record_type == RecordType::Alias {
        previous_id.is_some() && user_id.is_some()
    } else {
        user_id.is_some() || anonymous_id.is_some()
    };
    if !identified {
        return None;
    }

    let mut event = None;
    let mut properties = Fields::default();
    let mut traits = Fields::default();
    let mut name = None;
    let mut slots = None;
    let kept_properties = schema.kept.as_ref().map(|k| k.properties.as_slice());
    let kept_traits = schema.kept.as_ref().map(|k| k.traits.as_slice());
    match record_type {
        RecordType::Track => {
            let wire = as_text(root.event?)?;
            let found = schema.event_id(&wire)?;
            let fields = schema.event(found)?.properties.as_slice();
            let members = properties_members.and(gathered_properties.as_ref())?;
            match schema.track_slots.get(found.0 as usize) {
                Some(Some(plan)) => slots = Some(slots_of(text, members, fields, plan, None)?),
                _ => properties = fields_of(text, members, fields, kept_properties)?,
            }
            event = Some(found);
        }
        RecordType::Page | RecordType::Screen => {
            name = match root.name {
                None | Some(Raw::Null) => None,
                Some(raw) => Some(as_text(raw)?.into_owned()),
            };
            let properties_members = properties_members.and(gathered_properties.as_ref());
            properties = match (record_type, root.properties, properties_members) {
                (RecordType::Page, _, Some(members)) if schema.page_slots.is_some() => {
                    let plan = schema.page_slots.as_ref()?;
                    let fields = &schema.page_properties;
                    slots = Some(slots_of(text, members, fields, plan, name.as_deref())?);
                    Fields::default()
                }
                (RecordType::Page, _, Some(members)) => {
                    fields_of(text, members, &schema.page_properties, kept_properties)?
                }
                (RecordType::Page, _, None) => return None,
                (_, None | Some(Raw::Null), _) => Fields::default(),
                (_, Some(_), Some(members)) => fields_of(text, members, &[], kept_properties)?,
                (_, Some(_), None) => return None,
            };
        }
        RecordType::Identify => {
            traits = fields_of(
                text,
                traits_members.and(gathered_traits.as_ref())?,
                &schema.identify_traits,
                kept_traits,
            )?;
        }
        RecordType::Group => {
            traits = match (root.traits, traits_members.and(gathered_traits.as_ref())) {
                (None | Some(Raw::Null), _) => Fields::default(),
                (Some(_), Some(members)) => fields_of(text, members, &[], kept_traits)?,
                (Some(_), None) => return None,
            };
        }
        RecordType::Alias => {}
    }

    let message_id = match root.message_id {
        Some(raw @ Raw::Str { .. }) => Some(as_text(raw)?.into_owned()),
        _ => None,
    };
    Some(Record {
        line,
        record_type,
        timestamp,
        message_id,
        user_id,
        anonymous_id,
        previous_id: if record_type == RecordType::Alias {
            previous_id
        } else {
            None
        },
        group_id: if record_type == RecordType::Group {
            id(root.group_id)
        } else {
            None
        },
        event,
        name,
        properties,
        traits,
        slots,
    })
}

/// An object checked against `fields` as `check_fields` does (every field), keeping the
/// members `kept` names (all when `None`; `kept` is sorted): listed ones typed, others untyped.
fn fields_of(
    text: &str,
    members: &Members<'_>,
    fields: &[Field],
    kept: Option<&[String]>,
) -> Option<Fields> {
    let mut out = Vec::with_capacity(kept.map_or(members.len, |k| k.len().min(members.len)));
    checked_members(
        text,
        members,
        fields,
        |name| kept.is_none_or(|k| k.binary_search_by(|n| n.as_str().cmp(name)).is_ok()),
        |name, value| out.push((name.to_string(), value)),
    )?;
    Some(Fields(out))
}

/// A track's or a page's `properties` checked as [`fields_of`] checks them, straight into the
/// program event's slot values (`plan`): no member names nor `Fields` are built, and a text
/// read by one slot moves into it. A slot's value is what the engine's `read_slot` gives for
/// the member's decoded value (and, for a page without a `name` property, its `page_name`, as
/// the engine's `decode_slot`), so the result is the one decoding into `properties` would give.
fn slots_of(
    text: &str,
    members: &Members<'_>,
    fields: &[Field],
    plan: &EventSlots,
    page_name: Option<&str>,
) -> Option<Box<[Val]>> {
    let mut name_member = false;
    let mut out = vec![Val::Missing; plan.len];
    fn reads<'p>(plan: &'p EventSlots, name: &'p str) -> impl Iterator<Item = &'p (usize, Slot)> {
        plan.read
            .iter()
            .filter(move |(_, slot)| slot.wire.first().is_some_and(|m| same(m, name)))
    }
    checked_members(
        text,
        members,
        fields,
        |name| reads(plan, name).next().is_some(),
        |name, value| {
            name_member |= name == "name";
            let mut value = Some(value);
            let mut slots = reads(plan, name).peekable();
            while let Some((i, slot)) = slots.next() {
                let val = match (slots.peek(), value.take()) {
                    // The last slot reading the member takes the value; any before copy it.
                    (None, Some(v)) => read_slot_owned(slot, v),
                    (Some(_), Some(v)) => {
                        let val = read_slot(slot, Some(&v));
                        value = Some(v);
                        val
                    }
                    (_, None) => Val::Missing,
                };
                if let Some(place) = out.get_mut(*i) {
                    *place = val;
                }
            }
        },
    )?;
    if let (false, Some(page_name)) = (name_member, page_name) {
        for (i, _) in reads(plan, "name") {
            if let Some(place) = out.get_mut(*i) {
                *place = Val::Text(page_name.into());
            }
        }
    }
    Some(out.into_boxed_slice())
}

/// Checks every member of an object against `fields` (types, required members), giving the
/// members `keep` names to `sink` with their values (declared ones typed, others untyped).
fn checked_members<'a>(
    text: &str,
    members: &Members<'a>,
    fields: &[Field],
    keep: impl Fn(&str) -> bool,
    mut sink: impl FnMut(&'a str, Value),
) -> Option<()> {
    if fields.len() > 64 {
        return None;
    }
    // The declared fields met, as bits (a repeated member went to the tree decoder already).
    let mut seen = 0u64;
    for (name, raw) in members.as_slice() {
        let keep = keep(name);
        let declared = fields.iter().enumerate().find(|(_, f)| same(&f.name, name));
        let value = match declared {
            Some((i, field)) => {
                seen |= 1 << i;
                match raw {
                    Raw::Null if field.presence.may_be_null => keep.then_some(Value::Null),
                    Raw::Null => return None,
                    _ => typed_value(text, &field.kind, *raw, keep)?,
                }
            }
            None if keep => Some(untyped(text, *raw)?),
            None => None,
        };
        if let Some(value) = value {
            sink(name, value);
        }
    }
    for (i, field) in fields.iter().enumerate() {
        if seen & (1 << i) == 0 && !field.presence.may_be_absent {
            return None;
        }
    }
    Some(())
}

/// Two names are the same: the lengths first, since names of a record mostly differ there.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.as_bytes() == b.as_bytes()
}

/// A declared member's value checked against its kind; the value itself only when `keep`
/// (`Some(None)`: checked, not kept).
fn typed_value(text: &str, kind: &Kind, raw: Raw<'_>, keep: bool) -> Option<Option<Value>> {
    let value = match (kind, raw) {
        (Kind::Text, Raw::Str { body, escaped }) => {
            if !keep {
                return Some(None);
            }
            Value::Text(text_of(body, escaped)?.into_owned())
        }
        (Kind::Path, Raw::Str { body, escaped }) => {
            let s = text_of(body, escaped)?;
            if !s.starts_with('/') {
                return None;
            }
            Value::Text(s.into_owned())
        }
        (Kind::Bool, Raw::Bool(b)) => Value::Bool(b),
        (Kind::Enum(values), Raw::Str { body, escaped }) => {
            let s = text_of(body, escaped)?;
            if !values.iter().any(|v| *v == *s) {
                return None;
            }
            Value::Text(s.into_owned())
        }
        (Kind::Integer, Raw::Number(n)) if value::is_integer_lexeme(n) => {
            Value::Integer(n.parse::<i64>().ok()?)
        }
        (Kind::Number, Raw::Number(n)) => {
            let x = n.parse::<f64>().ok()?;
            if !x.is_finite() {
                return None;
            }
            Value::Number(x)
        }
        (Kind::Date, Raw::Str { body, escaped }) => {
            Value::Date(time::parse_date(&text_of(body, escaped)?).ok()?)
        }
        (Kind::Object(fields), Raw::Object(start)) => {
            let mut members = Members::new();
            Scan::at(text, start).members_into(1, &mut members)?;
            Value::Object(fields_of(text, &members, fields, None)?)
        }
        _ => return None,
    };
    Some(keep.then_some(value))
}

/// A member the schema does not describe, as `Value::untyped` gives it.
fn untyped(text: &str, raw: Raw<'_>) -> Option<Value> {
    Some(match raw {
        Raw::Null => Value::Null,
        Raw::Bool(b) => Value::Bool(b),
        Raw::Number(n) => value::number_value(n),
        Raw::Str { body, escaped } => Value::Text(text_of(body, escaped)?.into_owned()),
        Raw::Array(start) => {
            let mut items = Vec::new();
            Scan::at(text, start).array(1, |scan| {
                items.push(untyped(text, scan.value(1)?)?);
                Some(())
            })?;
            Value::List(items)
        }
        Raw::Object(start) => {
            // Every member, repeated names included, as the tree keeps them.
            let mut members = Vec::new();
            Scan::at(text, start).object(1, |scan, name| {
                members.push((name.to_string(), untyped(text, scan.value(1)?)?));
                Some(())
            })?;
            Value::Object(Fields(members))
        }
    })
}
