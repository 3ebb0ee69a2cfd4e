//! Source files held in memory and the spans that point into them.
//!
//! The compiler never reads files: callers (the CLI, the language server, tests) hand it the
//! text, and every span names the file it belongs to so any diagnostic can be rendered alone.

use std::sync::Arc;

/// Index of a file in [`Sources`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct FileId(pub u32);

/// A byte range in one source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(file: FileId, start: usize, end: usize) -> Span {
        Span {
            file,
            start: to_u32(start),
            end: to_u32(end.max(start)),
        }
    }

    /// The smallest span covering both (same file assumed; `self`'s file is kept).
    pub fn to(self, other: Span) -> Span {
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    pub fn len(self) -> usize {
        (self.end - self.start) as usize
    }

    pub fn is_empty(self) -> bool {
        self.end == self.start
    }

    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }

    pub fn contains(self, offset: usize) -> bool {
        (self.start as usize) <= offset && offset <= (self.end as usize)
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// One `.marketing` file: its display name (the path as the user gave it) and its text.
#[derive(Debug)]
pub struct SourceFile {
    pub id: FileId,
    pub name: String,
    pub text: Arc<str>,
    line_starts: Vec<usize>,
}

impl SourceFile {
    /// `(line, column)`, both counted from 1, column in characters.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line];
        let column = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (line + 1, column + 1)
    }

    /// Byte offset of a zero-based `(line, character)` position (characters as UTF-16 units
    /// are the editor's business; here they are Unicode scalar values).
    pub fn offset_of(&self, line: usize, column: usize) -> usize {
        let Some(&start) = self.line_starts.get(line) else {
            return self.text.len();
        };
        let end = self
            .line_starts
            .get(line + 1)
            .copied()
            .unwrap_or(self.text.len());
        let line_text = &self.text[start..end];
        line_text
            .char_indices()
            .nth(column)
            .map_or(end, |(i, _)| start + i)
    }

    pub fn slice(&self, span: Span) -> &str {
        self.text.get(span.range()).unwrap_or("")
    }
}

/// Every file of one compilation, in the order they were added.
#[derive(Debug, Default, Clone)]
pub struct Sources {
    files: Vec<Arc<SourceFile>>,
}

impl Sources {
    pub fn new() -> Sources {
        Sources::default()
    }

    pub fn add(&mut self, name: impl Into<String>, text: impl Into<Arc<str>>) -> FileId {
        let id = FileId(to_u32(self.files.len()));
        let text: Arc<str> = text.into();
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        self.files.push(Arc::new(SourceFile {
            id,
            name: name.into(),
            text,
            line_starts,
        }));
        id
    }

    pub fn get(&self, id: FileId) -> Option<&Arc<SourceFile>> {
        self.files.get(id.0 as usize)
    }

    pub fn by_name(&self, name: &str) -> Option<&Arc<SourceFile>> {
        self.files.iter().find(|f| f.name == name)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<SourceFile>> {
        self.files.iter()
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

/// The source name an `import "path"` written in `importer` refers to: relative to the importing
/// file's folder, `./` and `../` resolved, `.marketing` added when the path has no extension.
pub fn resolve_import_path(importer: &str, path: &str) -> String {
    let mut parts: Vec<&str> = importer.split('/').collect();
    parts.pop();
    if path.starts_with('/') {
        parts.clear();
        parts.push("");
    }
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| !p.is_empty() && *p != "..") {
                    parts.pop();
                } else {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    let mut joined = parts.join("/");
    if !joined.ends_with(".marketing") {
        joined.push_str(".marketing");
    }
    joined
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_paths_resolve_relative_to_the_importer() {
        assert_eq!(
            resolve_import_path("examples/p/scores.marketing", "schema"),
            "examples/p/schema.marketing"
        );
        assert_eq!(
            resolve_import_path("examples/p/scores.marketing", "../shared/fit.marketing"),
            "examples/shared/fit.marketing"
        );
        assert_eq!(
            resolve_import_path("scores.marketing", "./lib/common"),
            "lib/common.marketing"
        );
    }

    #[test]
    fn line_and_column_count_characters() {
        let mut sources = Sources::new();
        let id = sources.add("a", "ab\nçd\n");
        let file = sources.get(id).map(|f| f.line_col(5));
        assert_eq!(file, Some((2, 2)));
    }
}
