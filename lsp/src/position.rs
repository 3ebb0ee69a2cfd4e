//! Byte offsets (the compiler's spans) to LSP positions (line, UTF-16 code unit) and back.
//!
//! The compiler counts bytes; editors count UTF-16 units by default. Getting this wrong shifts
//! every squiggle after an `é` or an emoji, so both directions go through these two functions.

use tower_lsp_server::ls_types::{Position, Range};

/// The position of byte `offset` in `text` (clamped to the text, and back to a character
/// boundary when it falls inside one).
pub fn position_of(text: &str, offset: usize) -> Position {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = before.matches('\n').count();
    let character: usize = before[line_start..].chars().map(char::len_utf16).sum();
    Position::new(to_u32(line), to_u32(character))
}

/// The byte offset of `position` in `text`: past the end of a line is its end, past the last
/// line is the end of the text, inside a surrogate pair is the start of that character.
pub fn offset_of(text: &str, position: Position) -> usize {
    let mut line_start = 0;
    for _ in 0..position.line {
        match text[line_start..].find('\n') {
            Some(i) => line_start += i + 1,
            None => return text.len(),
        }
    }
    let line_end = text[line_start..]
        .find('\n')
        .map_or(text.len(), |i| line_start + i);
    let mut units = 0usize;
    for (i, c) in text[line_start..line_end].char_indices() {
        let next = units + c.len_utf16();
        if next > position.character as usize {
            return line_start + i;
        }
        units = next;
    }
    line_end
}

/// The range of bytes `start..end` of `text`.
pub fn range_of(text: &str, start: usize, end: usize) -> Range {
    Range::new(position_of(text, start), position_of(text, end.max(start)))
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_ascii_text_counts_utf16_units() {
        // `é` is 2 bytes and 1 unit; `🎯` is 4 bytes and 2 units: `x` is at unit 6.
        let text = "a\n\"é🎯\" x\n";
        let x = text.find('x').unwrap_or(0);
        assert_eq!(position_of(text, x), Position::new(1, 6));
        assert_eq!(offset_of(text, Position::new(1, 6)), x);
        // Inside the surrogate pair: the start of the emoji.
        let emoji = text.find('🎯').unwrap_or(0);
        assert_eq!(offset_of(text, Position::new(1, 3)), emoji);
        // A byte inside `é` goes back to its start.
        let e = text.find('é').unwrap_or(0);
        assert_eq!(position_of(text, e + 1), Position::new(1, 1));
    }

    #[test]
    fn out_of_range_positions_are_clamped() {
        let text = "ab\ncd";
        assert_eq!(offset_of(text, Position::new(0, 99)), 2);
        assert_eq!(offset_of(text, Position::new(9, 0)), text.len());
        assert_eq!(position_of(text, 999), Position::new(1, 2));
        for offset in 0..=text.len() {
            assert_eq!(offset_of(text, position_of(text, offset)), offset);
        }
    }
}
