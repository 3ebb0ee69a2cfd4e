//! The project namespace: every top-level name gets its id before any body is checked, and
//! imports are resolved against the files of the project.

use super::errors;
use super::program::*;
use super::{Checker, ConstState, Global};
use crate::source::{FileId, Span};
use crate::syntax::ast::{self, ItemKind};

/// The name an item declares in the project namespace, if any.
/// An `import` as written in a file of the project, and what it names.
struct WrittenImport<'a> {
    importer: FileId,
    import: &'a ast::Import,
    /// The imported file's name, resolved against the importer's folder.
    target_path: String,
    /// That file, when it is part of the project.
    target: Option<FileId>,
}

pub(crate) fn item_name(kind: &ItemKind) -> Option<&ast::Ident> {
    match kind {
        ItemKind::Const(d) => Some(&d.name),
        ItemKind::Enum(d) => Some(&d.name),
        ItemKind::Channel(d) => Some(&d.name),
        ItemKind::Account(d) => Some(&d.name),
        ItemKind::Event(d) => Some(&d.name),
        ItemKind::Table(d) => Some(&d.name),
        ItemKind::Score(d) => Some(&d.name),
        ItemKind::AccountScore(d) => Some(&d.name),
        ItemKind::Segment(d) => Some(&d.name),
        ItemKind::Queue(d) => Some(&d.name),
        ItemKind::Route(d) => Some(&d.name),
        ItemKind::Journey(d) => Some(&d.name),
        ItemKind::Template(d) => Some(&d.name),
        ItemKind::JourneyInstance(d) => Some(&d.name),
        ItemKind::Import(_)
        | ItemKind::DefaultTimeZone(_)
        | ItemKind::Contact(_)
        | ItemKind::Lifecycle(_)
        | ItemKind::QuietHours(_)
        | ItemKind::Cap(_)
        | ItemKind::Test(_) => None,
    }
}

/// `dir/./a/../b` → `dir/b`, with `/` separators.
pub(crate) fn normalise_path(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => {
                if matches!(parts.last(), Some(p) if *p != "..") {
                    parts.pop();
                } else {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    if path.starts_with('/') {
        format!("/{joined}")
    } else {
        joined
    }
}

/// The project path an `import` in `importer` names.
pub(crate) fn resolve_import(importer: &str, written: &str) -> String {
    let normalised_importer = normalise_path(importer);
    let dir = match normalised_importer.rfind('/') {
        Some(i) => normalised_importer.get(..i).unwrap_or(""),
        None => "",
    };
    let mut target = if written.starts_with('/') || dir.is_empty() {
        written.to_string()
    } else {
        format!("{dir}/{written}")
    };
    if !target.ends_with(".marketing") {
        target.push_str(".marketing");
    }
    normalise_path(&target)
}

impl<'a> Checker<'a> {
    /// Gives every top-level name an id and a placeholder, reporting names defined twice.
    pub(crate) fn declare_globals(&mut self) {
        let mut lifecycle_span: Option<Span> = None;
        for item in self.items() {
            if let ItemKind::Lifecycle(_) = &item.kind {
                if let Some(first) = lifecycle_span {
                    let name = ast::Ident {
                        name: "lifecycle".into(),
                        span: Span {
                            end: item.span.start.saturating_add(9).min(item.span.end),
                            ..item.span
                        },
                    };
                    self.report(errors::duplicate_definition(
                        &name,
                        "lifecycle",
                        first,
                        "lifecycle",
                    ));
                } else {
                    lifecycle_span = Some(Span {
                        end: item.span.start.saturating_add(9).min(item.span.end),
                        ..item.span
                    });
                }
                continue;
            }
            let Some(name) = item_name(&item.kind) else {
                continue;
            };
            let global = self.placeholder(&item.kind, name.span);
            let Some(global) = global else { continue };
            if let Some((first, first_span)) = self.globals.get(&name.name).copied() {
                self.report(errors::duplicate_definition(
                    name,
                    item.kind.describe(),
                    first_span,
                    first.describe(),
                ));
                continue;
            }
            self.globals.insert(name.name.clone(), (global, name.span));
            if let Some(symbol) = global_symbol(global) {
                self.define(name.span, symbol);
            }
        }
    }

    /// Pushes an empty entry for the item so its id exists; bodies are filled in later.
    fn placeholder(&mut self, kind: &'a ItemKind, span: Span) -> Option<Global> {
        let p = &mut self.program;
        let id = |len: usize| len as u32;
        Some(match kind {
            ItemKind::Const(d) => {
                let g = Global::Const(ConstId(id(p.constants.len())));
                p.constants.push(Constant {
                    name: d.name.name.clone(),
                    ty: Type::Error,
                    value: None,
                    span,
                });
                self.consts.push((d, ConstState::Pending));
                g
            }
            ItemKind::Enum(d) => {
                let g = Global::Enum(EnumId(id(p.schema.enums.len())));
                p.schema.enums.push(EnumType {
                    name: d.name.name.clone(),
                    variants: d.variants.iter().map(|v| v.name.clone()).collect(),
                    span,
                });
                g
            }
            ItemKind::Channel(d) => {
                let g = Global::Channel(ChannelId(id(p.schema.channels.len())));
                p.schema.channels.push(Channel {
                    name: d.name.name.clone(),
                    mode: d.mode,
                    span,
                });
                g
            }
            ItemKind::Account(d) => {
                let g = Global::Account(AccountId(id(p.schema.accounts.len())));
                p.schema.accounts.push(AccountType {
                    name: d.name.name.clone(),
                    key: d.key.as_ref().map(|k| k.name.clone()),
                    fields: Vec::new(),
                    span,
                });
                g
            }
            ItemKind::Event(d) => {
                let g = Global::Event(EventId(id(p.schema.events.len())));
                let source = match &d.source {
                    Some(ast::EventSource::Page) => EventSourceKind::Page,
                    Some(ast::EventSource::Screen) => EventSourceKind::Screen,
                    Some(ast::EventSource::Track(s)) => EventSourceKind::Track(s.value.clone()),
                    None => EventSourceKind::Track(d.name.name.clone()),
                };
                p.schema.events.push(EventType {
                    name: d.name.name.clone(),
                    source,
                    properties: Vec::new(),
                    span,
                });
                g
            }
            ItemKind::Table(d) => {
                let g = Global::Table(TableId(id(p.schema.tables.len())));
                p.schema.tables.push(Table {
                    name: d.name.name.clone(),
                    key: None,
                    columns: Vec::new(),
                    rows: Vec::new(),
                    span,
                });
                g
            }
            ItemKind::Score(d) => {
                let g = Global::Score(ScoreId(id(p.scores.len())));
                p.scores.push(Score {
                    name: d.name.name.clone(),
                    title: d.title.as_ref().map(|t| t.value.clone()),
                    rules: Vec::new(),
                    at_least: None,
                    at_most: None,
                    decay: None,
                    time_zone: None,
                    span,
                });
                g
            }
            ItemKind::AccountScore(d) => {
                let g = Global::AccountScore(AccountScoreId(id(p.account_scores.len())));
                p.account_scores.push(AccountScore {
                    name: d.name.name.clone(),
                    aggregate: d.aggregate,
                    of_score: None,
                    span,
                });
                g
            }
            ItemKind::Segment(d) => {
                let g = Global::Segment(SegmentId(id(p.segments.len())));
                p.segments.push(Segment {
                    name: d.name.name.clone(),
                    title: d.title.as_ref().map(|t| t.value.clone()),
                    condition: TypedExpr::error(d.condition.span),
                    depends_on: Vec::new(),
                    span,
                });
                g
            }
            ItemKind::Queue(d) => {
                let g = Global::Queue(QueueId(id(p.queues.len())));
                p.queues.push(Queue {
                    name: d.name.name.clone(),
                    title: d.title.as_ref().map(|t| t.value.clone()),
                    round_robin: Vec::new(),
                    span,
                });
                g
            }
            ItemKind::Route(d) => {
                let g = Global::Route(RouteId(id(p.routes.len())));
                p.routes.push(Route {
                    name: d.name.name.clone(),
                    trigger: None,
                    rules: Vec::new(),
                    span,
                });
                g
            }
            ItemKind::Journey(d) => {
                let g = Global::Journey(JourneyId(id(p.journeys.len())));
                p.journeys.push(empty_journey(
                    &d.name.name,
                    d.title.as_ref().map(|t| t.value.clone()),
                    span,
                ));
                g
            }
            ItemKind::JourneyInstance(d) => {
                let g = Global::Journey(JourneyId(id(p.journeys.len())));
                p.journeys.push(empty_journey(&d.name.name, None, span));
                g
            }
            ItemKind::Template(d) => {
                let g = Global::Template(TemplateId(id(p.templates.len())));
                p.templates.push(Template {
                    name: d.name.name.clone(),
                    params: Vec::new(),
                    span,
                });
                g
            }
            _ => return None,
        })
    }

    /// Checks that every imported file exists and defines the names imported from it, and
    /// that no files import each other.
    pub(crate) fn check_imports(&mut self) {
        // File → the files it imports, with where each import is written.
        let mut imports: Vec<Vec<(usize, Span)>> = vec![Vec::new(); self.sources.len()];
        for written in self.project_imports() {
            let import = written.import;
            let Some(file) = written.target else {
                self.report(errors::import_not_found(
                    import.path.span,
                    &import.path.value,
                    &written.target_path,
                ));
                continue;
            };
            if let Some(edges) = imports.get_mut(written.importer.0 as usize) {
                edges.push((file.0 as usize, import.path.span));
            }
            let defined = self.names_defined_in(file);
            for name in &import.names {
                if defined.contains(&name.name) {
                    if let Some((global, _)) = self.globals.get(&name.name).copied() {
                        if let Some(symbol) = global_symbol(global) {
                            self.refer(name.span, symbol);
                        }
                    }
                    continue;
                }
                let suggestion = self.closest(&name.name, defined.iter().map(String::as_str));
                self.report(errors::import_name_missing(
                    name,
                    &import.path.value,
                    suggestion.as_deref(),
                ));
            }
        }
        self.report_import_cycles(&imports);
    }

    /// Every `import` written in the project, with the file it names when that file is part
    /// of the project.
    fn project_imports(&self) -> Vec<WrittenImport<'a>> {
        let sources = self.sources;
        let mut out = Vec::new();
        for parsed in self.parsed {
            let Some(importer) = sources.get(parsed.file) else {
                continue;
            };
            for item in &parsed.ast.items {
                let ItemKind::Import(import) = &item.kind else {
                    continue;
                };
                let target_path = resolve_import(&importer.name, &import.path.value);
                let target = sources
                    .iter()
                    .find(|f| normalise_path(&f.name) == target_path)
                    .map(|f| f.id);
                out.push(WrittenImport {
                    importer: parsed.file,
                    import,
                    target_path,
                    target,
                });
            }
        }
        out
    }

    /// Files that import each other, even through others: imports go one way, from a file
    /// to what it builds on, so each file can be understood (and reused) with what it imports.
    fn report_import_cycles(&mut self, imports: &[Vec<(usize, Span)>]) {
        let name = |file: usize| {
            self.sources
                .get(FileId(file as u32))
                .map_or_else(String::new, |f| f.name.clone())
        };
        for (files, span) in super::logic::cycles(imports) {
            // Named from the folder they all are in, so the loop reads short.
            let names: Vec<String> = files.iter().map(|f| name(*f)).collect();
            let common = common_folder(&names);
            let mut path: Vec<String> = names
                .iter()
                .map(|n| format!("`{}`", n.get(common..).unwrap_or(n)))
                .collect();
            if let Some(first) = path.first().cloned() {
                path.push(first);
            }
            // The other imports of the loop, each where it is written.
            let mut others = Vec::new();
            for (i, from) in files.iter().enumerate().skip(1) {
                let to = files.get(i + 1).or(files.first()).copied().unwrap_or(*from);
                let written = imports
                    .get(*from)
                    .and_then(|edges| edges.iter().find(|(t, _)| *t == to))
                    .map(|(_, s)| *s);
                if let Some(written) = written {
                    let target = name(to);
                    others.push((written, target.get(common..).unwrap_or(&target).to_string()));
                }
            }
            self.report(errors::import_cycle(span, &path.join(" → "), &others));
        }
    }

    /// `import { a } from "…"` where the importing file never uses `a` (warned once all the
    /// bodies are checked). Whole-file imports are not warned: they also bring their file into
    /// the project for the other files of the folder.
    pub(crate) fn check_unused_imports(&mut self) {
        let mut unused = Vec::new();
        for written in self.project_imports() {
            // Names the file does not define were reported already (E0121).
            let defined = written
                .target
                .map(|f| self.names_defined_in(f))
                .unwrap_or_default();
            let names = written.import.names.iter();
            for name in names.filter(|n| defined.contains(&n.name)) {
                let Some((global, _)) = self.globals.get(&name.name).copied() else {
                    continue;
                };
                let Some(symbol) = global_symbol(global) else {
                    continue;
                };
                let used = self.program.references.iter().any(|(span, s)| {
                    *s == symbol && span.file == written.importer && *span != name.span
                });
                if !used {
                    unused.push(errors::unused_import(name));
                }
            }
        }
        for d in unused {
            self.report(d);
        }
    }

    fn names_defined_in(&self, file: FileId) -> Vec<String> {
        self.parsed
            .iter()
            .filter(|p| p.file == file)
            .flat_map(|p| p.ast.items.iter())
            .filter_map(|item| item_name(&item.kind))
            .map(|n| n.name.clone())
            .collect()
    }
}

/// The length of the folder prefix (with its `/`) that every name starts with.
fn common_folder(names: &[String]) -> usize {
    let Some(first) = names.first() else {
        return 0;
    };
    let mut len = first.rfind('/').map_or(0, |i| i + 1);
    for name in names {
        while len > 0 && !(name.len() > len && name.get(..len) == first.get(..len)) {
            len = first
                .get(..len - 1)
                .and_then(|p| p.rfind('/'))
                .map_or(0, |i| i + 1);
        }
    }
    len
}

fn empty_journey(name: &str, title: Option<String>, span: Span) -> Journey {
    Journey {
        name: name.to_string(),
        title,
        template: None,
        trigger: None,
        entry: Vec::new(),
        goals: Vec::new(),
        exits: Vec::new(),
        quiet_hours: Vec::new(),
        caps: Vec::new(),
        steps: Vec::new(),
        labels: Vec::new(),
        span,
    }
}

pub(crate) fn global_symbol(global: Global) -> Option<Symbol> {
    Some(match global {
        Global::Const(id) => Symbol::Constant(id),
        Global::Enum(id) => Symbol::Enum(id),
        Global::Channel(id) => Symbol::Channel(id),
        Global::Account(id) => Symbol::Account(id),
        Global::Event(id) => Symbol::Event(id),
        Global::Table(id) => Symbol::Table(id),
        Global::Score(id) => Symbol::Score(id),
        Global::AccountScore(id) => Symbol::AccountScore(id),
        Global::Segment(id) => Symbol::Segment(id),
        Global::Queue(id) => Symbol::Queue(id),
        Global::Route(id) => Symbol::Route(id),
        Global::Journey(id) => Symbol::Journey(id),
        Global::Template(id) => Symbol::Template(id),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_paths_resolve_relative_to_the_importer() {
        assert_eq!(
            resolve_import("rules/scores.marketing", "../schema"),
            "schema.marketing"
        );
        assert_eq!(
            resolve_import("rules/scores.marketing", "./common.marketing"),
            "rules/common.marketing"
        );
        assert_eq!(
            resolve_import("main.marketing", "schema"),
            "schema.marketing"
        );
        assert_eq!(normalise_path("./a/./b/../c"), "a/c");
    }

    #[test]
    fn loops_are_named_from_their_common_folder() {
        let names = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            common_folder(&names(&["p/brand/a.marketing", "p/brand/b.marketing"])),
            "p/brand/".len()
        );
        assert_eq!(
            common_folder(&names(&["p/brand/a.marketing", "p/shared/b.marketing"])),
            "p/".len()
        );
        assert_eq!(common_folder(&names(&["a.marketing", "b.marketing"])), 0);
        assert_eq!(common_folder(&names(&["p/a.marketing"])), "p/".len());
    }
}
