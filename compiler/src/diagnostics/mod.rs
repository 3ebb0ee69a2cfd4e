//! Diagnostics: what the compiler tells a marketer about their rules.
//!
//! Every diagnostic has a stable code from [`catalogue`], a short lowercase message with user
//! text in backticks, a primary label on the exact span, optional secondary labels, and a `help`
//! that says how to fix it. A suggested replacement ([`Fix`]) becomes an editor quick-fix.
//! Constructors live next to the stage that reports them (`syntax::errors`, `check::errors`):
//! one constructor per diagnostic.

pub mod catalogue;
mod render;

pub use render::{render_human, RenderOptions};

use crate::source::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// A stable diagnostic code such as `E0102`; see [`catalogue::lookup`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Code(pub &'static str);

impl Code {
    pub fn as_str(self) -> &'static str {
        self.0
    }

    pub fn severity(self) -> Severity {
        if self.0.starts_with('W') {
            Severity::Warning
        } else {
            Severity::Error
        }
    }
}

/// A span with an explanation, shown under the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

/// A replacement that fixes the problem (the "did you mean" of `help`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    /// Short imperative title for an editor menu: "change to `job_title`".
    pub title: String,
    pub span: Span,
    pub replacement: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    code: Code,
    message: String,
    primary: Label,
    secondary: Vec<Label>,
    help: Option<String>,
    fix: Option<Fix>,
}

impl Diagnostic {
    /// Starts a diagnostic; constructors in the stages add labels, help and fixes.
    pub fn new(
        code: Code,
        message: impl Into<String>,
        span: Span,
        label: impl Into<String>,
    ) -> Self {
        Diagnostic {
            code,
            message: message.into(),
            primary: Label {
                span,
                message: label.into(),
            },
            secondary: Vec::new(),
            help: None,
            fix: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_label(mut self, span: Span, message: impl Into<String>) -> Self {
        self.secondary.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    pub fn with_fix(
        mut self,
        title: impl Into<String>,
        span: Span,
        replacement: impl Into<String>,
    ) -> Self {
        self.fix = Some(Fix {
            title: title.into(),
            span,
            replacement: replacement.into(),
        });
        self
    }

    pub fn code(&self) -> Code {
        self.code
    }

    pub fn severity(&self) -> Severity {
        self.code.severity()
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn span(&self) -> Span {
        self.primary.span
    }

    pub fn primary(&self) -> &Label {
        &self.primary
    }

    pub fn secondary(&self) -> &[Label] {
        &self.secondary
    }

    pub fn help(&self) -> Option<&str> {
        self.help.as_deref()
    }

    pub fn fix(&self) -> Option<&Fix> {
        self.fix.as_ref()
    }
}

/// Sorts diagnostics by file, position and code so output never depends on checking order.
pub fn sort_diagnostics(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| {
        (
            a.span().file,
            a.span().start,
            a.span().end,
            a.code,
            &a.message,
        )
            .cmp(&(
                b.span().file,
                b.span().start,
                b.span().end,
                b.code,
                &b.message,
            ))
    });
}

/// "did you mean `job_title`?": the closest candidate within a small edit distance.
pub fn closest_name<'a>(
    wanted: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let wanted_lower = wanted.to_lowercase();
    let limit = (wanted.chars().count() / 3).clamp(1, 3);
    candidates
        .into_iter()
        .filter(|c| *c != wanted)
        .map(|c| (edit_distance(&wanted_lower, &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)))
        .map(|(_, c)| c)
}

/// Damerau–Levenshtein (optimal string alignment) distance, so `job_tilte` is one edit away.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut previous_previous: Vec<usize> = vec![0; b.len() + 1];
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut current = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            current[j] = (previous[j] + 1)
                .min(current[j - 1] + 1)
                .min(previous[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                current[j] = current[j].min(previous_previous[j - 2] + 1);
            }
        }
        previous_previous = std::mem::replace(&mut previous, current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transposition_is_one_edit() {
        assert_eq!(edit_distance("job_tilte", "job_title"), 1);
        assert_eq!(
            closest_name("job_tilte", ["email", "job_title", "budget"]),
            Some("job_title")
        );
        assert_eq!(closest_name("zzz", ["email", "job_title"]), None);
    }
}
