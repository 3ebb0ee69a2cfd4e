//! A small strict JSON parser (RFC 8259) for one input line, written for the record decoder.
//!
//! Why not `serde_json::Value`: R1 needs the *lexical* form of numbers (an integer trait is "a
//! JSON number with no fraction and no exponent", whatever its size), rejects need error places
//! in plain words, and strings without escapes can borrow from the line instead of being copied.
//! The parser never panics: every index is checked, and nesting is limited so that a hostile
//! line cannot exhaust the stack.

use std::borrow::Cow;

/// How deep arrays and objects may nest. The records we read nest three levels; 128 is what
/// `serde_json` allows too, and keeps the recursion far from any stack limit.
pub const MAX_DEPTH: usize = 128;

/// One parsed JSON value, borrowing from the line where it can.
#[derive(Debug, Clone, PartialEq)]
pub enum Json<'a> {
    Null,
    Bool(bool),
    /// The number exactly as written (already checked against the JSON number grammar).
    Number(&'a str),
    String(Cow<'a, str>),
    Array(Vec<Json<'a>>),
    /// Members in the order written. Duplicate names are kept; lookups take the last one,
    /// as JavaScript, Python and `serde_json` do.
    Object(Vec<(Cow<'a, str>, Json<'a>)>),
}

impl<'a> Json<'a> {
    /// The value of member `name` of an object (the last one if the name is repeated).
    pub fn get(&self, name: &str) -> Option<&Json<'a>> {
        match self {
            Json::Object(members) => members
                .iter()
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }
}

/// What went wrong, and where (byte offset into the line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    pub offset: usize,
    pub kind: JsonErrorKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonErrorKind {
    /// The line holds nothing but white space.
    Empty,
    /// The text ends in the middle of a value: typically a line cut short.
    CutShort,
    /// A character that cannot stand here.
    Unexpected(char),
    /// Something follows a complete value.
    TrailingText,
    BadEscape,
    /// A `\uD800`-style escape that is half of a character.
    LoneSurrogate,
    /// A raw control character (such as a tab) inside a string.
    ControlInString,
    BadNumber,
    TooDeep,
}

impl JsonError {
    /// Plain words for a data person; `text` is the line, to turn the byte offset into a
    /// character position (what an editor shows).
    pub fn describe(&self, text: &str) -> String {
        let at = text
            .get(..self.offset)
            .map(|prefix| prefix.chars().count() + 1)
            .unwrap_or(self.offset + 1);
        match &self.kind {
            JsonErrorKind::Empty => "the line is empty".to_string(),
            JsonErrorKind::CutShort => format!(
                "the line ends in the middle of the record (after {} characters): it looks cut short",
                at - 1
            ),
            JsonErrorKind::Unexpected(c) => {
                // Control characters are shown escaped, everything else as typed.
                let shown = if c.is_control() { c.escape_debug().to_string() } else { c.to_string() };
                format!("unexpected `{shown}` at character {at}: this is not valid JSON")
            }
            JsonErrorKind::TrailingText => {
                format!("the record is complete at character {at}, but more text follows it")
            }
            JsonErrorKind::BadEscape => format!("a text value has a broken `\\` escape at character {at}"),
            JsonErrorKind::LoneSurrogate => {
                format!("a text value has a `\\u` escape at character {at} that is only half of a character")
            }
            JsonErrorKind::ControlInString => format!(
                "a text value has a raw control character (such as a tab) at character {at}; JSON needs it escaped"
            ),
            JsonErrorKind::BadNumber => format!("the number at character {at} is not written as JSON allows"),
            JsonErrorKind::TooDeep => format!("values are nested more than {MAX_DEPTH} levels deep at character {at}"),
        }
    }
}

/// Parses exactly one JSON value, with optional white space around it.
pub fn parse(text: &str) -> Result<Json<'_>, JsonError> {
    let mut p = Parser {
        text,
        bytes: text.as_bytes(),
        pos: 0,
    };
    p.skip_ws();
    if p.pos >= p.bytes.len() {
        return Err(JsonError {
            offset: p.pos,
            kind: JsonErrorKind::Empty,
        });
    }
    let value = p.value(0)?;
    p.skip_ws();
    if p.pos < p.bytes.len() {
        return Err(JsonError {
            offset: p.pos,
            kind: JsonErrorKind::TrailingText,
        });
    }
    Ok(value)
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Parser<'a> {
    fn err(&self, kind: JsonErrorKind) -> JsonError {
        JsonError {
            offset: self.pos,
            kind,
        }
    }

    /// The error for the byte at the current position: the end of the text, or that character.
    fn unexpected(&self) -> JsonError {
        match self
            .text
            .get(self.pos..)
            .and_then(|rest| rest.chars().next())
        {
            Some(c) => self.err(JsonErrorKind::Unexpected(c)),
            None => self.err(JsonErrorKind::CutShort),
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

    fn value(&mut self, depth: usize) -> Result<Json<'a>, JsonError> {
        match self.peek() {
            None => Err(self.err(JsonErrorKind::CutShort)),
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => Ok(Json::String(self.string()?)),
            Some(b't') => self.literal("true", Json::Bool(true)),
            Some(b'f') => self.literal("false", Json::Bool(false)),
            Some(b'n') => self.literal("null", Json::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.unexpected()),
        }
    }

    fn literal(&mut self, word: &str, value: Json<'a>) -> Result<Json<'a>, JsonError> {
        for expected in word.bytes() {
            match self.peek() {
                Some(b) if b == expected => self.pos += 1,
                _ => return Err(self.unexpected()),
            }
        }
        Ok(value)
    }

    fn object(&mut self, depth: usize) -> Result<Json<'a>, JsonError> {
        if depth > MAX_DEPTH {
            return Err(self.err(JsonErrorKind::TooDeep));
        }
        self.pos += 1; // `{`
        let mut members = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Json::Object(members));
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.unexpected());
            }
            let name = self.string()?;
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.unexpected());
            }
            self.pos += 1;
            self.skip_ws();
            let value = self.value(depth)?;
            members.push((name, value));
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Json::Object(members));
                }
                _ => return Err(self.unexpected()),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Json<'a>, JsonError> {
        if depth > MAX_DEPTH {
            return Err(self.err(JsonErrorKind::TooDeep));
        }
        self.pos += 1; // `[`
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Json::Array(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value(depth)?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Json::Array(items));
                }
                _ => return Err(self.unexpected()),
            }
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Result<Json<'a>, JsonError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            None => return Err(self.err(JsonErrorKind::CutShort)),
            Some(_) => {
                return Err(JsonError {
                    offset: start,
                    kind: JsonErrorKind::BadNumber,
                })
            }
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(self.number_error(start));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self.number_error(start));
            }
        }
        // A number glued to letters or digits (`012`, `1x`) is not a JSON number.
        if let Some(b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z' | b'.') = self.peek() {
            return Err(JsonError {
                offset: start,
                kind: JsonErrorKind::BadNumber,
            });
        }
        match self.text.get(start..self.pos) {
            Some(lexeme) => Ok(Json::Number(lexeme)),
            None => Err(JsonError {
                offset: start,
                kind: JsonErrorKind::BadNumber,
            }),
        }
    }

    fn number_error(&self, start: usize) -> JsonError {
        if self.pos >= self.bytes.len() {
            self.err(JsonErrorKind::CutShort)
        } else {
            JsonError {
                offset: start,
                kind: JsonErrorKind::BadNumber,
            }
        }
    }

    fn string(&mut self) -> Result<Cow<'a, str>, JsonError> {
        self.pos += 1; // opening quote
        let start = self.pos;
        // Fast path: no escapes, borrow the text as it is (it is valid UTF-8 already).
        loop {
            match self.peek() {
                None => return Err(self.err(JsonErrorKind::CutShort)),
                Some(b'"') => {
                    let s = self
                        .text
                        .get(start..self.pos)
                        .ok_or_else(|| self.err(JsonErrorKind::CutShort))?;
                    self.pos += 1;
                    return Ok(Cow::Borrowed(s));
                }
                Some(b'\\') => break,
                Some(0x00..=0x1f) => return Err(self.err(JsonErrorKind::ControlInString)),
                Some(_) => self.pos += 1,
            }
        }
        let mut out = String::from(self.text.get(start..self.pos).unwrap_or_default());
        loop {
            match self.peek() {
                None => return Err(self.err(JsonErrorKind::CutShort)),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(Cow::Owned(out));
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let c = match self.peek() {
                        None => return Err(self.err(JsonErrorKind::CutShort)),
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.pos += 1;
                            let c = self.unicode_escape()?;
                            out.push(c);
                            continue;
                        }
                        Some(_) => return Err(self.err(JsonErrorKind::BadEscape)),
                    };
                    self.pos += 1;
                    out.push(c);
                }
                Some(0x00..=0x1f) => return Err(self.err(JsonErrorKind::ControlInString)),
                Some(_) => {
                    // Copy one whole character (the text is valid UTF-8, so this finds one).
                    let rest = self.text.get(self.pos..).unwrap_or_default();
                    match rest.chars().next() {
                        Some(c) => {
                            out.push(c);
                            self.pos += c.len_utf8();
                        }
                        None => return Err(self.err(JsonErrorKind::CutShort)),
                    }
                }
            }
        }
    }

    /// Reads the four hex digits after `\u` (the position is just after the `u`), and a
    /// second escape when the first is the high half of a surrogate pair.
    fn unicode_escape(&mut self) -> Result<char, JsonError> {
        let escape_at = self.pos.saturating_sub(2);
        let high = self.hex4()?;
        let code = if (0xD800..0xDC00).contains(&high) {
            if self.bytes.get(self.pos) != Some(&b'\\')
                || self.bytes.get(self.pos + 1) != Some(&b'u')
            {
                if self.pos + 2 > self.bytes.len() {
                    return Err(self.err(JsonErrorKind::CutShort));
                }
                return Err(JsonError {
                    offset: escape_at,
                    kind: JsonErrorKind::LoneSurrogate,
                });
            }
            self.pos += 2;
            let low = self.hex4()?;
            if !(0xDC00..0xE000).contains(&low) {
                return Err(JsonError {
                    offset: escape_at,
                    kind: JsonErrorKind::LoneSurrogate,
                });
            }
            0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
        } else if (0xDC00..0xE000).contains(&high) {
            return Err(JsonError {
                offset: escape_at,
                kind: JsonErrorKind::LoneSurrogate,
            });
        } else {
            high
        };
        char::from_u32(code).ok_or(JsonError {
            offset: escape_at,
            kind: JsonErrorKind::LoneSurrogate,
        })
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let mut value = 0u32;
        for _ in 0..4 {
            let digit = match self.peek() {
                None => return Err(self.err(JsonErrorKind::CutShort)),
                Some(b) => match (b as char).to_digit(16) {
                    Some(d) => d,
                    None => return Err(self.err(JsonErrorKind::BadEscape)),
                },
            };
            value = value * 16 + digit;
            self.pos += 1;
        }
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(text: &str) -> JsonErrorKind {
        match parse(text) {
            Err(e) => e.kind,
            Ok(v) => panic!("parsed {text:?} as {v:?}"),
        }
    }

    #[test]
    fn parses_records() {
        let v =
            parse(r#" {"a":[1,-2.5e3,true,false,null],"b":"x\u00e9\ud83d\ude00\n","b":"last"} "#);
        let v = v.unwrap_or(Json::Null);
        assert_eq!(v.get("b").and_then(Json::as_str), Some("last"));
        assert_eq!(
            v.get("a"),
            Some(&Json::Array(vec![
                Json::Number("1"),
                Json::Number("-2.5e3"),
                Json::Bool(true),
                Json::Bool(false),
                Json::Null
            ]))
        );
        let s = parse(r#""x\u00e9\ud83d\ude00\n""#);
        assert_eq!(s, Ok(Json::String(Cow::Owned("xé😀\n".to_string()))));
    }

    #[test]
    fn rejects_what_json_does_not_allow() {
        assert_eq!(kind(""), JsonErrorKind::Empty);
        assert_eq!(kind("   "), JsonErrorKind::Empty);
        assert_eq!(kind(r#"{"a":"#), JsonErrorKind::CutShort);
        assert_eq!(kind(r#"{"a":"bc"#), JsonErrorKind::CutShort);
        assert_eq!(kind(r#"{"a":1"#), JsonErrorKind::CutShort);
        assert_eq!(kind(r#"{"a":1}}"#), JsonErrorKind::TrailingText);
        assert_eq!(kind(r#"{"a":01}"#), JsonErrorKind::BadNumber);
        assert_eq!(kind(r#"{"a":1.}"#), JsonErrorKind::BadNumber);
        assert_eq!(kind(r#"{"a":.5}"#), JsonErrorKind::Unexpected('.'));
        assert_eq!(kind(r#"{"a":NaN}"#), JsonErrorKind::Unexpected('N'));
        assert_eq!(kind(r#"{"a":"\x"}"#), JsonErrorKind::BadEscape);
        assert_eq!(kind(r#"{"a":"\ud800"}"#), JsonErrorKind::LoneSurrogate);
        assert_eq!(kind("{\"a\":\"\t\"}"), JsonErrorKind::ControlInString);
        assert_eq!(kind(r#"{'a':1}"#), JsonErrorKind::Unexpected('\''));
        assert_eq!(kind(r#"[1,]"#), JsonErrorKind::Unexpected(']'));
        assert_eq!(kind(&"[".repeat(10_000)), JsonErrorKind::TooDeep);
    }

    #[test]
    fn every_prefix_of_a_record_fails_without_panicking() {
        let line = r#"{"type":"page","name":"Support – Warranty","properties":{"path":"/support","n":-1.5e-3},"ok":[true,null,"\u00e9\ud83d\ude00"]}"#;
        assert!(parse(line).is_ok());
        for end in 0..line.len() {
            if let Some(prefix) = line.get(..end) {
                assert!(parse(prefix).is_err(), "prefix {prefix:?} parsed");
            }
        }
    }
}
