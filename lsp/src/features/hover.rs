//! Hover: what a name is (type, doc comment, a score's rules, a segment's condition, a stage's
//! place in the lifecycle, a journey's trigger) and durations in words.

use std::fmt::Write as _;

use maclc_compiler::check::{RuleTrigger, Symbol};
use maclc_compiler::source::{FileId, Span};
use tower_lsp_server::ls_types::{Hover, HoverContents, MarkupContent, MarkupKind};

use super::describe::{
    decay_words, doc_above, duration_literal_words, event_source_text, field_type_text, kind_word,
    limit_words, name_of, number_text, type_text, value_text,
};
use super::diagnostics::span_range;
use crate::world::ProjectView;

/// The name under `offset`, declared or used there, with where it is written.
pub fn occurrence_at(view: &ProjectView, file: FileId, offset: usize) -> Option<(Span, Symbol)> {
    let program = &view.analysis.program;
    program
        .definitions
        .iter()
        .chain(program.references.iter())
        .filter(|(span, _)| span.file == file && span.contains(offset))
        .min_by_key(|(span, _)| span.len())
        .copied()
}

/// The word of letters, digits and `_` around `offset`, with its byte range.
pub fn word_at(text: &str, offset: usize) -> Option<(usize, usize)> {
    let offset = offset.min(text.len());
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let start = text[..offset]
        .char_indices()
        .rev()
        .take_while(|(_, c)| is_word(*c))
        .last()
        .map_or(offset, |(i, _)| i);
    let end = text[offset..]
        .char_indices()
        .find(|(_, c)| !is_word(*c))
        .map_or(text.len(), |(i, _)| offset + i);
    (start < end).then_some((start, end))
}

pub fn hover(view: &ProjectView, file: FileId, offset: usize) -> Option<Hover> {
    if let Some((span, symbol)) = occurrence_at(view, file, offset) {
        let text = describe_symbol(view, symbol)?;
        return Some(markdown(text, Some(span_range(view, span))));
    }
    let text = view.text(file);
    let (start, end) = word_at(text, offset)?;
    let words = duration_literal_words(&text[start..end])?;
    let span = Span::new(file, start, end);
    Some(markdown(
        format!("duration: **{words}**"),
        Some(span_range(view, span)),
    ))
}

fn markdown(value: String, range: Option<tower_lsp_server::ls_types::Range>) -> Hover {
    Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value,
        }),
        range,
    }
}

fn code(line: &str) -> String {
    format!("```marketing\n{line}\n```\n")
}

/// The hover text of a symbol, in Markdown.
pub fn describe_symbol(view: &ProjectView, symbol: Symbol) -> Option<String> {
    let program = &view.analysis.program;
    let schema = &program.schema;
    let name = name_of(view, symbol)?;
    let mut out = String::new();
    match symbol {
        Symbol::ContactField(id) => {
            let f = schema.contact_field(id)?;
            out.push_str(&code(&format!(
                "contact.{}: {}",
                f.name,
                field_type_text(schema, &f.ty, f.optional)
            )));
            if f.builtin {
                out.push_str("\nbuilt in\n");
            } else if f.wire_name != f.name {
                let _ = writeln!(out, "\nread from `{}`", f.wire_name);
            }
        }
        Symbol::Event(id) => {
            let e = schema.event(id)?;
            out.push_str(&code(&format!(
                "event {} {}",
                e.name,
                event_source_text(&e.source)
            )));
            if !e.properties.is_empty() {
                out.push_str("\nproperties:\n");
                for p in &e.properties {
                    let _ = writeln!(
                        out,
                        "- `{}`: {}",
                        p.name,
                        field_type_text(schema, &p.ty, p.optional)
                    );
                }
            }
        }
        Symbol::EventProperty(e, i) => {
            let event = schema.event(e)?;
            let p = event.properties.get(i as usize)?;
            out.push_str(&code(&format!(
                "{}: {}",
                p.name,
                field_type_text(schema, &p.ty, p.optional)
            )));
            let _ = writeln!(out, "\nproperty of the event `{}`", event.name);
        }
        Symbol::AccountField(a, i) => {
            let account = schema.accounts.get(a.index())?;
            let f = account.fields.get(i as usize)?;
            out.push_str(&code(&format!(
                "{}: {}",
                f.name,
                field_type_text(schema, &f.ty, f.optional)
            )));
            let _ = writeln!(out, "\nfield of the account `{}`", account.name);
        }
        Symbol::Enum(id) => {
            let e = schema.enum_type(id)?;
            out.push_str(&code(&format!(
                "enum {} {{ {} }}",
                e.name,
                e.variants.join(", ")
            )));
        }
        Symbol::EnumVariant(e, _) => {
            let e = schema.enum_type(e)?;
            let _ = writeln!(out, "`{name}`: a value of `{}`", e.name);
            let _ = writeln!(out, "\nvalues: {}", e.variants.join(", "));
        }
        Symbol::Constant(id) => {
            let c = program.constants.get(id.index())?;
            let value = c
                .value
                .as_ref()
                .map(|v| value_text(program, v))
                .unwrap_or_else(|| "(has an error)".into());
            out.push_str(&code(&format!(
                "const {}: {}",
                c.name,
                type_text(schema, &c.ty)
            )));
            let _ = writeln!(out, "\nvalue: {value}");
        }
        Symbol::Score(id) => {
            let s = program.scores.get(id.index())?;
            let header = match &s.title {
                Some(t) => format!("score {} {t:?}", s.name),
                None => format!("score {}", s.name),
            };
            out.push_str(&code(&header));
            if !s.rules.is_empty() {
                let _ = writeln!(out, "\n{} rules:", s.rules.len());
                for rule in s.rules.iter().take(20) {
                    let source = view
                        .sources
                        .get(rule.span.file)
                        .map(|f| {
                            f.slice(rule.span)
                                .split_whitespace()
                                .collect::<Vec<_>>()
                                .join(" ")
                        })
                        .unwrap_or_default();
                    let kind = match rule.trigger {
                        RuleTrigger::Event { .. } => "",
                        RuleTrigger::Profile(_) => " (profile)",
                    };
                    let limit = rule
                        .limit
                        .as_ref()
                        .map(|l| format!(" — {}", limit_words(l)))
                        .unwrap_or_default();
                    let _ = writeln!(out, "- `{source}`{kind}{limit}");
                }
                if s.rules.len() > 20 {
                    let _ = writeln!(out, "- … and {} more", s.rules.len() - 20);
                }
            }
            let mut bounds = Vec::new();
            if let Some(low) = s.at_least {
                bounds.push(format!("at least {}", number_text(low)));
            }
            if let Some(high) = s.at_most {
                bounds.push(format!("at most {}", number_text(high)));
            }
            if !bounds.is_empty() {
                let _ = writeln!(out, "\nkept {}", bounds.join(" and "));
            }
            if let Some(decay) = &s.decay {
                let _ = writeln!(out, "\n{}", decay_words(decay));
            }
        }
        Symbol::Segment(id) => {
            let s = program.segments.get(id.index())?;
            let condition = view
                .sources
                .get(s.condition.span.file)
                .map(|f| f.slice(s.condition.span).to_string())
                .unwrap_or_default();
            let header = match &s.title {
                Some(t) => format!("segment {} {t:?} = {condition}", s.name),
                None => format!("segment {} = {condition}", s.name),
            };
            out.push_str(&code(&header));
        }
        Symbol::Stage(id) => {
            let lifecycle = program.lifecycle.as_ref()?;
            let names: Vec<&str> = lifecycle.stages.iter().map(|s| s.name.as_str()).collect();
            let _ = writeln!(
                out,
                "lifecycle stage `{name}`, {} of {}\n\n`{}`",
                id.index() + 1,
                names.len(),
                names.join(" > ")
            );
        }
        Symbol::Journey(id) => {
            let j = program.journeys.get(id.index())?;
            let header = match &j.title {
                Some(t) => format!("journey {} {t:?}", j.name),
                None => format!("journey {}", j.name),
            };
            out.push_str(&code(&header));
            if let Some(template) = j.template.and_then(|t| program.templates.get(t.index())) {
                let _ = writeln!(out, "\nmade from the template `{}`", template.name);
            }
            let _ = writeln!(out, "\n{} steps", count_steps(&j.steps));
        }
        Symbol::Channel(id) => {
            let c = schema.channels.get(id.index())?;
            let mode = match c.mode {
                maclc_compiler::syntax::ast::ConsentMode::OptIn => "opt_in",
                maclc_compiler::syntax::ast::ConsentMode::OptOut => "opt_out",
            };
            out.push_str(&code(&format!("channel {} {mode}", c.name)));
        }
        Symbol::Queue(id) => {
            let q = program.queues.get(id.index())?;
            out.push_str(&code(&format!("queue {}", q.name)));
            if !q.round_robin.is_empty() {
                let _ = writeln!(out, "\nround robin: {}", q.round_robin.join(", "));
            }
        }
        Symbol::TemplateParam(t, i) => {
            let p = program.templates.get(t.index())?.params.get(i as usize)?;
            out.push_str(&code(&format!("{}: {}", p.name, type_text(schema, &p.ty))));
            if let Some(default) = &p.default {
                let _ = writeln!(out, "\ndefault: {}", value_text(program, default));
            }
        }
        _ => {
            let _ = writeln!(out, "{} `{name}`", kind_word(symbol));
        }
    }
    if let Some(span) = program.definition_of(symbol) {
        if let Some(doc) = doc_above(view, span) {
            let _ = write!(out, "\n---\n{doc}\n");
        }
    }
    Some(out)
}

fn count_steps(steps: &[maclc_compiler::check::Step]) -> usize {
    use maclc_compiler::check::StepKind;
    steps
        .iter()
        .map(|s| {
            1 + match &s.kind {
                StepKind::If {
                    then, otherwise, ..
                } => count_steps(then) + count_steps(otherwise),
                StepKind::Split { arms } => arms.iter().map(|(_, s)| count_steps(s)).sum(),
                StepKind::RandomSplit { arms } => arms.iter().map(|(_, _, s)| count_steps(s)).sum(),
                StepKind::WaitForEvent { on_timeout, .. } => count_steps(on_timeout),
                _ => 0,
            }
        })
        .sum()
}
