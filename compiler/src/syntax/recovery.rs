//! Error recovery around pest, which stops at the first error.
//!
//! A file is cut into chunks at lines that start a top-level item in column 0, so a broken item
//! cannot hide the items after it. Inside a chunk, after each error the statement that holds it
//! is blanked out (replaced by spaces, so every byte offset stays put) and the chunk is parsed
//! again: each error is reported once and the rest of the block still reaches the checker.

use std::ops::Range;

/// Words that start a top-level item; a line starting with one in column 0 starts a chunk.
const ITEM_KEYWORDS: &[&str] = &[
    "import",
    "const",
    "enum",
    "channel",
    "default",
    "contact",
    "account",
    "event",
    "table",
    "score",
    "segment",
    "lifecycle",
    "queue",
    "route",
    "journey",
    "template",
    "quiet",
    "cap",
    "test",
];

/// Words that may also start a line inside a block (a test's `contact { … }`, a journey's
/// `route to queue …`, `cap …`, `quiet hours …`): they start a chunk only at brace depth 0.
const ALSO_IN_BLOCKS: &[&str] = &["contact", "route", "cap", "quiet"];

/// Byte ranges of the chunks of `text`, in order, covering all of it. A chunk starts at a line
/// whose first word, in column 0, starts an item; inside an unclosed block this still starts a
/// new chunk (the block was most likely left open by mistake), except for words that blocks use.
pub(crate) fn chunks(text: &str) -> Vec<Range<usize>> {
    let mut starts = vec![0];
    let mut offset = 0;
    let mut depth = 0;
    for line in text.split_inclusive('\n') {
        if offset > 0 {
            if let Some(word) = item_keyword(line) {
                if depth <= 0 || !ALSO_IN_BLOCKS.contains(&word) {
                    starts.push(offset);
                    depth = 0;
                }
            }
        }
        for (_, c) in code_chars(line) {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                _ => {}
            }
        }
        offset += line.len();
    }
    let mut ranges = Vec::with_capacity(starts.len());
    for (i, &start) in starts.iter().enumerate() {
        let end = starts.get(i + 1).copied().unwrap_or(text.len());
        ranges.push(start..end);
    }
    ranges
}

fn item_keyword(line: &str) -> Option<&'static str> {
    let end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(line.len());
    let word = &line[..end];
    ITEM_KEYWORDS.iter().copied().find(|k| *k == word)
}

/// Brace depth before and after each line, ignoring braces inside quotes and comments.
pub(crate) struct LineDepths {
    pub lines: Vec<Range<usize>>,
    pub before: Vec<i32>,
    pub after: Vec<i32>,
}

pub(crate) fn line_depths(text: &str) -> LineDepths {
    let mut lines = Vec::new();
    let mut before = Vec::new();
    let mut after = Vec::new();
    let mut depth = 0;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        before.push(depth);
        for (_, c) in code_chars(line) {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                _ => {}
            }
        }
        after.push(depth);
        lines.push(offset..offset + line.len());
        offset += line.len();
    }
    if lines.is_empty() {
        lines.push(0..0);
        before.push(0);
        after.push(0);
    }
    LineDepths {
        lines,
        before,
        after,
    }
}

/// The characters of one line that are code: not inside quotes, not in a `//` comment.
pub(crate) fn code_chars(line: &str) -> Vec<(usize, char)> {
    let mut out = Vec::new();
    let mut in_string = false;
    let mut escaped = false;
    let mut previous_slash = false;
    for (i, c) in line.char_indices() {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        if c == '/' && previous_slash {
            out.pop();
            break;
        }
        previous_slash = c == '/';
        if c == '"' {
            in_string = true;
            continue;
        }
        out.push((i, c));
    }
    out
}

/// Where an unterminated quote starts on the line holding `offset`, if it has one.
pub(crate) fn unterminated_quote(text: &str, offset: usize) -> Option<usize> {
    let depths = line_depths(text);
    let line = depths
        .lines
        .iter()
        .find(|r| r.contains(&offset))
        .or(depths.lines.last())?;
    let content = &text[line.clone()];
    let mut in_string = None;
    let mut escaped = false;
    let mut previous_slash = false;
    for (i, c) in content.char_indices() {
        match in_string {
            Some(_) if escaped => escaped = false,
            Some(_) if c == '\\' => escaped = true,
            Some(_) if c == '"' => in_string = None,
            Some(_) => {}
            None if c == '/' && previous_slash => return None,
            None if c == '"' => in_string = Some(i),
            None => previous_slash = c == '/',
        }
    }
    in_string.map(|i| line.start + i)
}

/// The opening braces of `text` that are never closed, outermost first.
pub(crate) fn unclosed_braces(text: &str) -> Vec<usize> {
    let mut open = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        for (i, c) in code_chars(line) {
            match c {
                '{' => open.push(offset + i),
                '}' => {
                    open.pop();
                }
                _ => {}
            }
        }
        offset += line.len();
    }
    open
}

/// The range to blank out after an error at `offset`: the statement holding it, from its line
/// to the line where the braces it opened are closed again. At the top level (the error is in an
/// item's header) the rest of the chunk goes.
pub(crate) fn statement_range(text: &str, offset: usize) -> Range<usize> {
    let depths = line_depths(text);
    let mut line = depths
        .lines
        .iter()
        .position(|r| r.contains(&offset))
        .unwrap_or(depths.lines.len() - 1);
    // An error at the very end points past the last line: step back to the last line with code.
    while line > 0 && text[depths.lines[line].clone()].trim().is_empty() {
        line -= 1;
    }
    let start = depths.lines[line].start;
    let start_depth = depths.before[line];
    if start_depth <= 0 {
        return start..text.len();
    }
    let mut last = line;
    while last + 1 < depths.lines.len() && depths.after[last] > start_depth {
        last += 1;
    }
    start..depths.lines[last].end
}

/// Replaces the code in `range` with spaces, keeping newlines and every `}` that closes a brace
/// opened before the range, so the block around the statement stays balanced.
/// Returns false when there was nothing left to blank.
pub(crate) fn blank(text: &mut String, range: Range<usize>) -> bool {
    let mut bytes = std::mem::take(text).into_bytes();
    let mut changed = false;
    let mut local_depth = 0;
    let mut in_string = false;
    let mut escaped = false;
    let end = range.end.min(bytes.len());
    for byte in bytes.iter_mut().take(end).skip(range.start) {
        let b = *byte;
        if b == b'\n' {
            in_string = false;
            continue;
        }
        if !in_string {
            match b {
                b'"' => in_string = true,
                b'{' => local_depth += 1,
                b'}' if local_depth == 0 => continue,
                b'}' => local_depth -= 1,
                _ => {}
            }
        } else if escaped {
            escaped = false;
        } else if b == b'\\' {
            escaped = true;
        } else if b == b'"' {
            in_string = false;
        }
        if b != b' ' {
            *byte = b' ';
            changed = true;
        }
    }
    // Only ASCII spaces replaced whole bytes (also inside multi-byte characters), so the text
    // is still UTF-8; the fallback keeps the function total without a panic.
    *text = String::from_utf8(bytes).unwrap_or_default();
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_start_at_item_keywords_in_column_zero() {
        let text = "score a {\n  +5 on x\n}\n// c\nsegment b = a > 1\n  and a < 3\n";
        let c = chunks(text);
        assert_eq!(c.len(), 2);
        assert!(text[c[1].clone()].starts_with("segment"));
    }

    #[test]
    fn block_words_in_column_zero_stay_in_their_block() {
        let text = "test \"t\" {\ncontact { email: \"a\" }\n}\nscore s {\n";
        let c = chunks(text);
        assert_eq!(c.len(), 2);
        assert!(text[c[1].clone()].starts_with("score"));
    }

    #[test]
    fn blanking_keeps_closing_braces_of_the_block() {
        let mut text = String::from("journey j {\n  if x { send email \"a\" }\n  }\n");
        let range = statement_range(&text, 16);
        assert!(blank(&mut text, range));
        assert_eq!(text.matches('}').count(), text.matches('{').count());
    }

    #[test]
    fn finds_unterminated_quote() {
        assert_eq!(unterminated_quote("send email \"abc\n", 3), Some(11));
        assert_eq!(unterminated_quote("send email \"a\" // \"x\n", 3), None);
    }
}
