//! Finds the comments of a file (pest skips them) so the formatter can keep them and the
//! editor can show `///` doc comments on hover.

use crate::source::{FileId, Span};

/// One `// …` or `/// …` comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub span: Span,
    /// The text after the slashes, trailing blanks removed.
    pub text: String,
    /// `///`: documentation for the item below it.
    pub is_doc: bool,
    /// Nothing but blanks before it on its line.
    pub own_line: bool,
}

/// Scans `text` for comments, skipping `//` inside quoted text (URLs in templates).
pub fn scan_comments(file: FileId, text: &str) -> Vec<Comment> {
    let bytes = text.as_bytes();
    let mut comments = Vec::new();
    let mut i = 0;
    let mut in_string = false;
    let mut line_start = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'\n' {
            in_string = false; // strings cannot span lines; recover at the line end
            line_start = i + 1;
            i += 1;
            continue;
        }
        if in_string {
            if b == b'\\' {
                i += 2;
                continue;
            }
            if b == b'"' {
                in_string = false;
            }
            i += 1;
            continue;
        }
        if b == b'"' {
            in_string = true;
            i += 1;
            continue;
        }
        if b == b'/' && bytes.get(i + 1) == Some(&b'/') {
            let end = text[i..].find('\n').map_or(text.len(), |n| i + n);
            let raw = &text[i..end];
            let is_doc = raw.starts_with("///") && !raw.starts_with("////");
            let body = raw.trim_start_matches('/');
            let own_line = text[line_start..i].trim().is_empty();
            comments.push(Comment {
                span: Span::new(file, i, end),
                text: body.trim_end().to_string(),
                is_doc,
                own_line,
            });
            i = end;
            continue;
        }
        i += 1;
    }
    comments
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_in_text_are_not_comments() {
        let c = scan_comments(
            FileId(0),
            "call webhook POST \"https://x.example/a\" // notify CRM\n/// doc\nscore a {}",
        );
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].text, " notify CRM");
        assert!(!c[0].own_line);
        assert!(c[1].is_doc && c[1].own_line);
    }
}
