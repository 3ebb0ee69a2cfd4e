//! The formatter's output buffer: indentation, blank lines, and putting comments back.
//!
//! The tree has no comments, so they are placed by source position: the layout code tells the
//! printer where each statement starts and where its first line ("head") ends, and every comment
//! before that point comes out on its own line first. A comment right after the end of a printed
//! line in the source stays at the end of that line. Comments are only ever moved forward, and
//! `finish` writes whatever is left, so none is lost.

use crate::source::Span;
use crate::syntax::Comment;

/// The line width a long condition is broken at.
pub(super) const WIDTH: usize = 100;
/// One level of indentation.
const INDENT: &str = "  ";
/// The extra indentation of a condition's continuation line (`and …`, `or …`).
pub(super) const CONTINUATION: &str = "    ";

#[derive(Debug)]
pub(super) struct Printer<'a> {
    src: &'a str,
    /// Sorted by start; `next` is the first one not yet written.
    comments: Vec<Comment>,
    next: usize,
    out: String,
    /// The line being built, without its indentation.
    line: String,
    indent: usize,
    /// Nothing written since the last `{` line: no blank line may follow.
    fresh_block: bool,
    /// The last line written was a `///` comment: its item must follow without a gap.
    after_doc: bool,
}

impl<'a> Printer<'a> {
    pub(super) fn new(src: &'a str, comments: &[Comment]) -> Printer<'a> {
        let mut comments = comments.to_vec();
        comments.sort_by_key(|c| c.span.start);
        Printer {
            src,
            comments,
            next: 0,
            out: String::new(),
            line: String::new(),
            indent: 0,
            fresh_block: false,
            after_doc: false,
        }
    }

    pub(super) fn write(&mut self, text: &str) {
        self.line.push_str(text);
    }

    /// The width the current line has so far, indentation included.
    pub(super) fn width(&self) -> usize {
        self.indent * INDENT.len() + self.line.chars().count()
    }

    /// Ends the current line; a comment right after source offset `pos` on its line stays there.
    pub(super) fn end_line(&mut self, pos: usize) {
        let mut text = std::mem::take(&mut self.line);
        if let Some(c) = self.comments.get(self.next) {
            let start = c.span.start as usize;
            // Only blanks (or the comma after a list entry) may separate them: a comment after
            // more code on its line (`if x { end } // c`) belongs to what ends that line.
            let same_line = start >= pos
                && self
                    .src
                    .get(pos..start)
                    .is_some_and(|gap| gap.chars().all(|c| c == ' ' || c == '\t' || c == ','));
            if !c.own_line && same_line {
                text.push(' ');
                text.push_str(&self.comment_text(self.next));
                self.next += 1;
            }
        }
        self.push_line(&text);
    }

    /// Ends the current line and starts a continuation line (`    and …`) of the same statement.
    pub(super) fn continuation(&mut self) {
        let text = std::mem::take(&mut self.line);
        self.push_line(&text);
        self.line.push_str(CONTINUATION);
    }

    fn push_line(&mut self, text: &str) {
        let text = text.trim_end();
        if !text.is_empty() {
            for _ in 0..self.indent {
                self.out.push_str(INDENT);
            }
            self.out.push_str(text);
        }
        self.out.push('\n');
        self.fresh_block = false;
        self.after_doc = false;
    }

    /// The lines after this one are one level deeper (the caller just ended a `{` line).
    pub(super) fn open(&mut self) {
        self.indent += 1;
        self.fresh_block = true;
    }

    pub(super) fn close(&mut self) {
        self.indent = self.indent.saturating_sub(1);
        self.fresh_block = false;
    }

    /// One empty line, unless there is one already, or at the top of a file or block.
    pub(super) fn blank(&mut self) {
        if !self.fresh_block && !self.out.is_empty() && !self.out.ends_with("\n\n") {
            self.out.push('\n');
        }
    }

    /// Where the output is now, to look back at or to put a blank line at later.
    pub(super) fn mark(&self) -> usize {
        self.out.len()
    }

    pub(super) fn text_since(&self, mark: usize) -> &str {
        self.out.get(mark..).unwrap_or("")
    }

    /// One empty line at `mark` (a line start), unless there is one already.
    pub(super) fn blank_at(&mut self, mark: usize) {
        let Some((before, after)) = self.out.split_at_checked(mark) else {
            return;
        };
        if !before.is_empty() && !before.ends_with("\n\n") && !after.starts_with('\n') {
            self.out.insert(mark, '\n');
        }
    }

    /// Writes, each on its own line, every comment that starts before `pos`; `keep_blanks`
    /// keeps one empty line where the user had one before a comment.
    pub(super) fn flush_before(&mut self, pos: usize, keep_blanks: bool) {
        while let Some(c) = self.comments.get(self.next) {
            let start = c.span.start as usize;
            if start >= pos {
                break;
            }
            let is_doc = c.is_doc;
            if keep_blanks && self.blank_line_before(start) {
                self.blank();
            }
            let text = self.comment_text(self.next);
            self.next += 1;
            if !self.line.is_empty() {
                // A comment cannot sit in the middle of a line: finish the line first.
                let line = std::mem::take(&mut self.line);
                self.push_line(&line);
            }
            self.push_line(&text);
            self.after_doc = is_doc;
        }
    }

    /// Starts a statement written at `start` whose first printed line covers the source up to
    /// `head_end`: comments before it, and comments inside that part, go above it.
    pub(super) fn begin_stmt(&mut self, start: usize, head_end: usize) {
        self.flush_before(start, true);
        if self.blank_line_before(start) && !self.after_doc {
            self.blank();
        }
        self.flush_before(head_end.max(start), false);
    }

    /// Is the source line before the one holding `pos` empty?
    fn blank_line_before(&self, pos: usize) -> bool {
        let Some(before) = self.src.get(..pos) else {
            return false;
        };
        let Some(newline) = before.rfind('\n') else {
            return false;
        };
        let prev = &before[..newline];
        let prev_start = prev.rfind('\n').map_or(0, |i| i + 1);
        // Only a line that has something before it counts (not the top of the file).
        prev_start > 0 && prev[prev_start..].trim().is_empty()
    }

    fn comment_text(&self, index: usize) -> String {
        let Some(c) = self.comments.get(index) else {
            return String::new();
        };
        match self.src.get(c.span.range()) {
            Some(raw) if raw.starts_with("//") => raw.trim_end().to_string(),
            _ => format!("{}{}", if c.is_doc { "///" } else { "//" }, c.text),
        }
    }

    /// Where a node's text really ends: spans may run over trailing blanks and comments.
    pub(super) fn content_end(&self, span: Span) -> usize {
        let start = span.start as usize;
        let mut end = (span.end as usize).min(self.src.len());
        loop {
            let Some(text) = self.src.get(start..end) else {
                return end;
            };
            end = start + text.trim_end().len();
            // The last comment starting before `end` is the only one that can reach it.
            let before_end = self
                .comments
                .partition_point(|c| (c.span.start as usize) < end);
            let inside = before_end
                .checked_sub(1)
                .and_then(|i| self.comments.get(i))
                .filter(|c| (c.span.start as usize) >= start && (c.span.end as usize) >= end);
            match inside {
                Some(c) => end = c.span.start as usize,
                None => return end,
            }
        }
    }

    /// Is there a comment starting in `from..to`?
    pub(super) fn has_comment_in(&self, from: usize, to: usize) -> bool {
        let first = self
            .comments
            .partition_point(|c| (c.span.start as usize) < from);
        self.comments
            .get(first.max(self.next))
            .is_some_and(|c| (c.span.start as usize) < to)
    }

    /// The text of the file: every line ends with a newline, no blank lines at the ends.
    pub(super) fn finish(mut self) -> String {
        self.indent = 0;
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            self.push_line(&line);
        }
        self.flush_before(usize::MAX, true);
        let text = self.out.trim_matches('\n');
        if text.is_empty() {
            String::new()
        } else {
            format!("{text}\n")
        }
    }
}
