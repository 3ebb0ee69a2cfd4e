//! The checker: the untyped trees of a project to one checked, typed [`Program`].
//!
//! Checking runs in passes so that declaration order never matters: `scope` gives every
//! top-level name its id first, then the schema, constants and lifecycle are read, then every
//! rule body is typed against them. After an error the checker keeps going with an `Error`
//! type that never produces a second message, so one mistake gives one diagnostic.

mod errors;
mod expr;
mod journeys;
mod logic;
pub mod program;
mod rules;
mod schema;
mod scope;
mod testing;

use std::collections::HashMap;

pub use program::*;

use crate::diagnostics::Diagnostic;
use crate::source::{Sources, Span};
use crate::syntax::ast;
use crate::syntax::ParsedFile;

/// What checking gives: the program (partial on errors) and the diagnostics.
#[derive(Debug, Default)]
pub struct CheckResult {
    pub program: Program,
    pub diagnostics: Vec<Diagnostic>,
}

/// Checks every parsed file of `sources` as one project with one namespace.
pub fn check(sources: &Sources, parsed: &[ParsedFile]) -> CheckResult {
    let mut checker = Checker::new(sources, parsed);
    checker.run();
    CheckResult {
        program: checker.program,
        diagnostics: checker.diagnostics,
    }
}

/// What a top-level name stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Global {
    Const(ConstId),
    Enum(EnumId),
    Channel(ChannelId),
    Account(AccountId),
    Event(EventId),
    Table(TableId),
    Score(ScoreId),
    AccountScore(AccountScoreId),
    Segment(SegmentId),
    Queue(QueueId),
    Route(RouteId),
    Journey(JourneyId),
    Template(TemplateId),
}

impl Global {
    fn describe(self) -> &'static str {
        match self {
            Global::Const(_) => "constant",
            Global::Enum(_) => "enum",
            Global::Channel(_) => "channel",
            Global::Account(_) => "account",
            Global::Event(_) => "event",
            Global::Table(_) => "table",
            Global::Score(_) => "score",
            Global::AccountScore(_) => "account score",
            Global::Segment(_) => "segment",
            Global::Queue(_) => "queue",
            Global::Route(_) => "routing",
            Global::Journey(_) => "journey",
            Global::Template(_) => "journey template",
        }
    }
}

/// Evaluation state of a constant: constants may use constants declared later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ConstState {
    Pending,
    InProgress,
    Done,
}

/// The template whose body is being checked, and its arguments once instantiated.
#[derive(Debug, Clone)]
pub(crate) struct ParamScope {
    template: TemplateId,
    /// Name, type and (when instantiating) the bound value.
    params: Vec<(String, Type, Option<Value>)>,
}

pub(crate) struct Checker<'a> {
    sources: &'a Sources,
    parsed: &'a [ParsedFile],
    program: Program,
    diagnostics: Vec<Diagnostic>,
    /// While > 0, diagnostics and symbols are dropped (parts whose messages were given once).
    muted: u32,
    /// What each template's body reported when checked with its parameters unbound, by
    /// template id: an instance reports only what its own arguments add.
    template_reports: Vec<Vec<Diagnostic>>,
    globals: HashMap<String, (Global, Span)>,
    contact_fields: HashMap<String, FieldId>,
    stages: HashMap<String, StageId>,
    consts: Vec<(&'a ast::ConstDecl, ConstState)>,
    params: Option<ParamScope>,
    /// Scores and segments read by the rule being checked, as graph nodes (scores first, then
    /// segments), to find loops.
    uses: Option<Vec<(usize, Span)>>,
    /// What each score's rules read, for the same loop detection.
    score_uses: Vec<Vec<(usize, Span)>>,
    /// Each score's `at least` / `at most`, once read, so conditions beyond them are caught.
    score_bounds: Vec<logic::Range>,
}

impl std::fmt::Debug for Checker<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checker")
            .field("diagnostics", &self.diagnostics.len())
            .finish()
    }
}

impl<'a> Checker<'a> {
    fn new(sources: &'a Sources, parsed: &'a [ParsedFile]) -> Self {
        Checker {
            sources,
            parsed,
            program: Program::default(),
            diagnostics: Vec::new(),
            muted: 0,
            template_reports: Vec::new(),
            globals: HashMap::new(),
            contact_fields: HashMap::new(),
            stages: HashMap::new(),
            consts: Vec::new(),
            params: None,
            uses: None,
            score_uses: Vec::new(),
            score_bounds: Vec::new(),
        }
    }

    fn run(&mut self) {
        self.declare_globals();
        self.check_imports();
        self.check_schema();
        self.check_constants();
        self.check_lifecycle_stages();
        self.check_scores();
        self.check_segments();
        self.check_lifecycle_rules();
        self.check_routing();
        self.check_journeys();
        self.check_tests();
        self.check_top_level_delivery();
        self.check_unused_imports();
    }

    /// Every item of every file, in file then source order.
    fn items(&self) -> impl Iterator<Item = &'a ast::Item> + 'a {
        let parsed: &'a [ParsedFile] = self.parsed;
        parsed.iter().flat_map(|p| p.ast.items.iter())
    }

    fn report(&mut self, diagnostic: Diagnostic) {
        if self.muted == 0 {
            self.diagnostics.push(diagnostic);
        }
    }

    fn define(&mut self, span: Span, symbol: Symbol) {
        if self.muted == 0 {
            self.program.definitions.push((span, symbol));
        }
    }

    fn refer(&mut self, span: Span, symbol: Symbol) {
        if self.muted == 0 {
            self.program.references.push((span, symbol));
        }
    }

    /// "`hot` is a segment, not an event": when a name exists but is of another kind, saying so
    /// helps more than a "declare it" hint.
    fn kind_hint(
        &self,
        d: Diagnostic,
        name: &ast::Ident,
        no_suggestion: bool,
        wanted: &str,
    ) -> Diagnostic {
        if !no_suggestion {
            return d;
        }
        match self.globals.get(&name.name) {
            Some((global, _)) => {
                let kind = global.describe();
                let article = if kind.starts_with(['a', 'e', 'i', 'o', 'u']) {
                    "an"
                } else {
                    "a"
                };
                d.with_help(format!("`{}` is {article} {kind}, not {wanted}", name.name))
            }
            None => d,
        }
    }

    /// The source text of a span, for quoting the user's own words back to them.
    fn text(&self, span: Span) -> String {
        self.sources
            .get(span.file)
            .map(|f| f.slice(span).trim().to_string())
            .unwrap_or_default()
    }

    fn global(&self, name: &str) -> Option<Global> {
        self.globals.get(name).map(|(g, _)| *g)
    }

    /// Names of globals that satisfy `keep`, for "did you mean".
    fn global_names(&self, keep: impl Fn(Global) -> bool) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .globals
            .iter()
            .filter(|(_, (g, _))| keep(*g))
            .map(|(n, _)| n.as_str())
            .collect();
        names.sort_unstable();
        names
    }

    fn closest<'n>(
        &self,
        wanted: &str,
        names: impl IntoIterator<Item = &'n str>,
    ) -> Option<String> {
        crate::diagnostics::closest_name(wanted, names).map(str::to_string)
    }

    // ------------------------------------------------------------ name lookups used everywhere

    /// Resolves a name that must be a global of one kind (`kind` picks it out of [`Global`]); when
    /// it is not, reports `unknown` with a did-you-mean among the names of that kind.
    fn lookup_global<Id: Copy>(
        &mut self,
        name: &ast::Ident,
        kind: fn(Global) -> Option<Id>,
        symbol: fn(Id) -> Symbol,
        unknown: fn(&ast::Ident, Option<&str>) -> Diagnostic,
        wanted: &str,
    ) -> Option<Id> {
        if let Some(id) = self.global(&name.name).and_then(kind) {
            self.refer(name.span, symbol(id));
            return Some(id);
        }
        let d = self.unknown_name(
            name,
            self.global_names(|g| kind(g).is_some()),
            unknown,
            wanted,
        );
        self.report(d);
        None
    }

    /// The diagnostic for an unknown name: the closest of `names` as "did you mean", or, when
    /// none is close, what the name is instead ("`hot` is a segment, not an event").
    fn unknown_name(
        &self,
        name: &ast::Ident,
        names: Vec<&str>,
        unknown: fn(&ast::Ident, Option<&str>) -> Diagnostic,
        wanted: &str,
    ) -> Diagnostic {
        let suggestion = self.closest(&name.name, names);
        self.kind_hint(
            unknown(name, suggestion.as_deref()),
            name,
            suggestion.is_none(),
            wanted,
        )
    }

    fn lookup_event(&mut self, name: &ast::Ident) -> Option<EventId> {
        let kind = |g| {
            if let Global::Event(id) = g {
                Some(id)
            } else {
                None
            }
        };
        self.lookup_global(name, kind, Symbol::Event, errors::unknown_event, "an event")
    }

    fn lookup_channel(&mut self, name: &ast::Ident) -> Option<ChannelId> {
        let kind = |g| {
            if let Global::Channel(id) = g {
                Some(id)
            } else {
                None
            }
        };
        self.lookup_global(
            name,
            kind,
            Symbol::Channel,
            errors::unknown_channel,
            "a channel",
        )
    }

    fn lookup_score(&mut self, name: &ast::Ident) -> Option<ScoreId> {
        let kind = |g| {
            if let Global::Score(id) = g {
                Some(id)
            } else {
                None
            }
        };
        self.lookup_global(name, kind, Symbol::Score, errors::unknown_score, "a score")
    }

    /// A contact score or an account score (thresholds and test expectations accept both).
    fn lookup_any_score(&mut self, name: &ast::Ident) -> Option<ScoreRef> {
        let kind = |g| match g {
            Global::Score(id) => Some(ScoreRef::Contact(id)),
            Global::AccountScore(id) => Some(ScoreRef::Account(id)),
            _ => None,
        };
        let symbol = |r| match r {
            ScoreRef::Contact(id) => Symbol::Score(id),
            ScoreRef::Account(id) => Symbol::AccountScore(id),
        };
        self.lookup_global(name, kind, symbol, errors::unknown_score, "a score")
    }

    fn lookup_segment(&mut self, name: &ast::Ident) -> Option<SegmentId> {
        let kind = |g| {
            if let Global::Segment(id) = g {
                Some(id)
            } else {
                None
            }
        };
        let id = self.lookup_global(
            name,
            kind,
            Symbol::Segment,
            errors::unknown_segment,
            "a segment",
        )?;
        // Segment uses feed the cycle check (scores come first in its graph).
        let node = self.program.scores.len() + id.index();
        if let Some(uses) = self.uses.as_mut() {
            uses.push((node, name.span));
        }
        Some(id)
    }

    fn lookup_queue(&mut self, name: &ast::Ident) -> Option<QueueId> {
        let kind = |g| {
            if let Global::Queue(id) = g {
                Some(id)
            } else {
                None
            }
        };
        self.lookup_global(name, kind, Symbol::Queue, errors::unknown_queue, "a queue")
    }

    fn lookup_stage(&mut self, name: &ast::Ident) -> Option<StageId> {
        if self.program.lifecycle.is_none() {
            self.report(errors::no_lifecycle(name.span));
            return None;
        }
        if let Some(&id) = self.stages.get(&name.name) {
            self.refer(name.span, Symbol::Stage(id));
            return Some(id);
        }
        let names = self.stages.keys().map(String::as_str).collect();
        let d = self.unknown_name(name, names, errors::unknown_stage, "a lifecycle stage");
        self.report(d);
        None
    }

    fn lookup_contact_field(&mut self, name: &ast::Ident) -> Option<FieldId> {
        if let Some(&id) = self.contact_fields.get(&name.name) {
            self.refer(name.span, Symbol::ContactField(id));
            return Some(id);
        }
        let names = self.contact_fields.keys().map(String::as_str).collect();
        let d = self.unknown_name(
            name,
            names,
            errors::unknown_contact_field,
            "a contact field",
        );
        self.report(d);
        None
    }

    fn lookup_event_property(&mut self, event: EventId, name: &ast::Ident) -> Option<u32> {
        let ev = self.program.schema.event(event)?;
        if let Some(i) = ev.properties.iter().position(|p| p.name == name.name) {
            let i = i as u32;
            self.refer(name.span, Symbol::EventProperty(event, i));
            return Some(i);
        }
        let event_name = ev.name.clone();
        let names: Vec<&str> = ev
            .properties
            .iter()
            .map(|p| p.name.as_str())
            .chain(["timestamp"])
            .collect();
        let suggestion = crate::diagnostics::closest_name(&name.name, names).map(str::to_string);
        self.report(errors::unknown_event_property(
            name,
            &event_name,
            suggestion.as_deref(),
        ));
        None
    }

    /// A duration written as a literal, a constant or a template parameter, in milliseconds.
    fn duration_ref(&mut self, duration: &ast::DurationRef) -> Option<i64> {
        match duration {
            ast::DurationRef::Literal(d) => Some(d.millis),
            ast::DurationRef::Constant(name) => {
                let value = self.named_value(name, &Type::Duration, "this duration")?;
                match value {
                    Value::Duration(ms) => Some(ms),
                    _ => None,
                }
            }
        }
    }

    /// A fixed number written as a literal or a constant's name.
    fn points_amount(&mut self, amount: &ast::PointsAmount) -> Option<f64> {
        match amount {
            ast::PointsAmount::Number { value, .. } => Some(*value),
            ast::PointsAmount::Constant(name) => {
                match self.named_value(name, &Type::Number, "points")? {
                    Value::Number(n) => Some(n),
                    _ => None,
                }
            }
        }
    }

    /// The value of a constant or bound template parameter named where a fixed value is needed.
    fn named_value(&mut self, name: &ast::Ident, expected: &Type, what: &str) -> Option<Value> {
        let (ty, value) = if let Some((index, ty, value)) = self.param(&name.name) {
            if let Some(template) = self.params.as_ref().map(|p| p.template) {
                self.refer(name.span, Symbol::TemplateParam(template, index));
            }
            (ty, value)
        } else if let Some(Global::Const(id)) = self.global(&name.name) {
            self.refer(name.span, Symbol::Constant(id));
            let value = self.const_value(id)?;
            (
                self.program
                    .constants
                    .get(id.index())
                    .map_or(Type::Error, |c| c.ty.clone()),
                Some(value),
            )
        } else {
            let names = self.global_names(|g| matches!(g, Global::Const(_)));
            let suggestion = self.closest(&name.name, names);
            self.report(errors::unknown_name(
                &name.clone(),
                suggestion.as_deref(),
                "declare it with `const NAME = …`",
            ));
            return None;
        };
        if ty != *expected && !ty.is_error() {
            let found = self.type_name(&ty);
            let expected_name = self.type_name(expected);
            self.report(errors::wrong_value_type(
                name.span,
                what,
                &expected_name,
                &found,
            ));
            return None;
        }
        // A template parameter has no value while the template itself is checked.
        value.or(match expected {
            Type::Duration => Some(Value::Duration(1)),
            Type::Number => Some(Value::Number(1.0)),
            _ => None,
        })
    }

    /// A template parameter in scope: its index, type and bound value.
    fn param(&self, name: &str) -> Option<(u32, Type, Option<Value>)> {
        let scope = self.params.as_ref()?;
        scope
            .params
            .iter()
            .enumerate()
            .find(|(_, (n, _, _))| n == name)
            .map(|(i, (_, ty, value))| (i as u32, ty.clone(), value.clone()))
    }

    /// A value of the type as it would be written, for examples in help.
    fn example_of(&self, ty: &Type) -> Option<String> {
        Some(match ty {
            Type::Text => "\"medical\"".into(),
            Type::Number => "500".into(),
            Type::Bool => "true".into(),
            Type::Date => "2026-01-31".into(),
            Type::Timestamp => "2026-01-31T09:00:00Z".into(),
            Type::Duration => "7d".into(),
            Type::Time => "09:00".into(),
            Type::Money => "500 EUR".into(),
            Type::Percent => "10%".into(),
            Type::Enum(id) => self
                .program
                .schema
                .enum_type(*id)?
                .variants
                .first()?
                .clone(),
            Type::Stage => self
                .program
                .lifecycle
                .as_ref()?
                .stages
                .first()?
                .name
                .clone(),
            Type::Consent => "granted".into(),
            Type::Account(_) | Type::List(_) | Type::Error => return None,
        })
    }

    /// A type as a marketer reads it, with its article: "a number", "`product_line`".
    fn type_name(&self, ty: &Type) -> String {
        match ty {
            Type::Text => "a text".into(),
            Type::Number => "a number".into(),
            Type::Bool => "a yes/no value".into(),
            Type::Date => "a date".into(),
            Type::Timestamp => "a date and time".into(),
            Type::Duration => "a duration".into(),
            Type::Time => "a time of day".into(),
            Type::Money => "an amount of money".into(),
            Type::Percent => "a percentage".into(),
            Type::Enum(id) => match self.program.schema.enum_type(*id) {
                Some(e) => format!("a `{}`", e.name),
                None => "a value".into(),
            },
            Type::Account(id) => match self.program.schema.accounts.get(id.index()) {
                Some(a) => format!("a link to a `{}`", a.name),
                None => "an account".into(),
            },
            Type::List(inner) => {
                let inner = self.type_name(inner);
                let bare = inner.trim_start_matches("an ").trim_start_matches("a ");
                format!("a list of {bare}")
            }
            Type::Consent => "a consent state".into(),
            Type::Stage => "a lifecycle stage".into(),
            Type::Error => "a value".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Sources;

    const SCHEMA: &str = "channel email opt_in\ncontact {\n  size: optional number\n  email: text\n}\nevent buy {\n  amount: money\n}\n";

    fn codes(rules: &str) -> Vec<&'static str> {
        let mut sources = Sources::new();
        sources.add("test.marketing", format!("{SCHEMA}{rules}\n"));
        let analysis = crate::analyze(&sources);
        analysis
            .diagnostics
            .iter()
            .map(|d| d.code().as_str())
            .collect()
    }

    fn program(rules: &str) -> Program {
        let mut sources = Sources::new();
        sources.add("test.marketing", format!("{SCHEMA}{rules}\n"));
        crate::analyze(&sources).program
    }

    #[test]
    fn is_known_narrows_the_right_of_and() {
        assert!(codes("segment big = contact.size is known and contact.size >= 500").is_empty());
        assert_eq!(codes("segment big = contact.size >= 500"), vec!["E0203"]);
        assert_eq!(
            codes("segment big = contact.size >= 500 and contact.size is known"),
            vec!["E0203"]
        );
    }

    #[test]
    fn is_unknown_narrows_the_right_of_or_and_defaults_remove_optionality() {
        assert!(codes("segment small = contact.size is unknown or contact.size < 10").is_empty());
        assert!(codes("segment big = (contact.size ?? 0) >= 500").is_empty());
        assert_eq!(codes("segment x = contact.email is known"), vec!["W0201"]);
    }

    #[test]
    fn if_narrows_its_branches() {
        let journey = "journey j {\n  trigger on buy\n  if contact.size is known {\n    if contact.size > 5 { send email \"a\" }\n  } else {\n    send email \"b\"\n  }\n}";
        assert!(codes(journey).is_empty(), "{:?}", codes(journey));
        let inverted = "journey j {\n  trigger on buy\n  if contact.size is unknown { end } else {\n    if contact.size > 5 { send email \"a\" }\n  }\n}";
        assert!(codes(inverted).is_empty(), "{:?}", codes(inverted));
        let outside = "journey j {\n  trigger on buy\n  if contact.size is known { end }\n  if contact.size > 5 { end }\n}";
        assert_eq!(codes(outside), vec!["E0203"]);
    }

    #[test]
    fn impossible_ranges_are_reported_once() {
        assert_eq!(
            codes("segment odd = (contact.size ?? 0) < 10 and (contact.size ?? 0) > 500"),
            vec!["E0305"]
        );
        assert!(
            codes("segment ok = (contact.size ?? 0) > 10 and (contact.size ?? 0) < 500").is_empty()
        );
        assert_eq!(
            codes("segment s = count buy where amount > 10 EUR and amount < 5 EUR >= 1"),
            vec!["E0305"]
        );
    }

    #[test]
    fn segment_cycles_name_the_loop() {
        let mut sources = Sources::new();
        sources.add(
            "test.marketing",
            format!("{SCHEMA}segment a = b\nsegment b = c and true\nsegment c = a or false\nsegment d = a\n"),
        );
        let analysis = crate::analyze(&sources);
        let cycles: Vec<&str> = analysis
            .diagnostics
            .iter()
            .filter(|d| d.code().as_str() == "E0307")
            .map(|d| d.message())
            .collect();
        assert_eq!(
            cycles,
            vec!["segments depend on each other: `a` → `b` → `c` → `a`"]
        );
    }

    #[test]
    fn names_resolve_to_ids_and_constants_are_inlined() {
        let p = program("const limit = 500\nsegment big = (contact.size ?? 0) >= limit");
        let segment = p.segments.first().map(|s| s.condition.clone());
        let Some(TypedExpr {
            kind: ExprKind::Binary { lhs, rhs, .. },
            ty: Type::Bool,
            ..
        }) = segment
        else {
            panic!("not a comparison: {segment:?}");
        };
        assert!(matches!(rhs.kind, ExprKind::Value(Value::Number(n)) if n == 500.0));
        let ExprKind::Binary { lhs: field, .. } = &lhs.kind else {
            panic!("not a default: {lhs:?}")
        };
        assert_eq!(field.kind, ExprKind::ContactField(FieldId(0)));
        assert!(p
            .references
            .iter()
            .any(|(_, s)| *s == Symbol::ContactField(FieldId(0))));
        assert!(p
            .definitions
            .iter()
            .any(|(_, s)| *s == Symbol::Segment(SegmentId(0))));
    }

    #[test]
    fn references_lead_back_to_definitions() {
        let text = format!("{SCHEMA}score fit {{\n  +5 on buy\n}}\nsegment hot = fit > 5\n");
        let use_at = text.rfind("fit >").unwrap_or(0);
        let defined_at = text.find("fit {").unwrap_or(0);
        let mut sources = Sources::new();
        let file = sources.add("test.marketing", text);
        let p = crate::analyze(&sources).program;
        let symbol = p.symbol_at(file, use_at + 1);
        assert_eq!(symbol, Some(Symbol::Score(ScoreId(0))));
        let definition = symbol
            .and_then(|s| p.definition_of(s))
            .map(|s| s.start as usize);
        assert_eq!(definition, Some(defined_at));
        assert_eq!(p.references_to(Symbol::Score(ScoreId(0))).count(), 1);
        assert_eq!(p.score_named("fit"), Some(ScoreId(0)));
    }

    /// The catalogue is the documentation: its examples must show their code and its fixes
    /// must check clean (imports need several files, so they are shown by the snapshot cases).
    #[test]
    fn catalogue_examples_report_their_code_and_fixes_are_clean() {
        use crate::diagnostics::catalogue::ENTRIES;
        let single_file = |text: &str| {
            let mut sources = Sources::new();
            sources.add("example.marketing", text);
            crate::analyze(&sources).diagnostics
        };
        for entry in ENTRIES {
            let code = entry.code.as_str();
            // W0420 compares two versions of a project (`check --against`): its snapshot case
            // shows it.
            if code.starts_with("E00")
                || ["E0120", "E0121", "E0125", "W0101", "W0420"].contains(&code)
            {
                continue;
            }
            let reported: Vec<&str> = single_file(entry.example)
                .iter()
                .map(|d| d.code().as_str())
                .collect();
            assert!(
                reported.contains(&code),
                "{code}: the example reports {reported:?}"
            );
            let after_fix: Vec<String> = single_file(entry.fix)
                .iter()
                .map(|d| d.message().to_string())
                .collect();
            assert!(
                after_fix.is_empty(),
                "{code}: the fix still reports {after_fix:?}"
            );
        }
    }

    #[test]
    fn template_instances_bind_their_arguments() {
        let p = program(
            "template t(delay: duration = 2d) {\n  trigger on buy\n  wait delay\n}\njourney quick = t(delay: 1d)\njourney slow = t()",
        );
        let waits: Vec<i64> = p
            .journeys
            .iter()
            .flat_map(|j| j.steps.iter())
            .filter_map(|s| match s.kind {
                StepKind::Wait { millis } => Some(millis),
                _ => None,
            })
            .collect();
        assert_eq!(waits, vec![86_400_000, 172_800_000]);
    }
}
