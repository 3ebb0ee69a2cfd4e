//! Completion that knows where it is, read from the text before the cursor (so it works while
//! the file has errors) and answered from the checked program of the project (the last good
//! names are kept by the checker's recovery): contact fields after `contact.`, events after
//! `on`, an event's properties in its condition, enum values after `==`, names of scores,
//! segments, stages, queues, channels, templates, journeys and constants, and keywords and
//! snippets for blocks and statements.

use maclc_compiler::check::{Program, Type};
use maclc_compiler::source::FileId;
use tower_lsp_server::ls_types::{
    CompletionItem, CompletionItemKind, Documentation, InsertTextFormat, MarkupContent, MarkupKind,
};

use super::describe::{event_source_text, field_type_text, type_text, value_text};
use crate::world::ProjectView;

/// What a completion item is, for its icon and its place in the list.
#[derive(Debug, Clone, Copy)]
enum Rank {
    /// Asked for by the place (the fields after `contact.`).
    Context,
    /// A name that fits anywhere in a condition.
    Name,
    Keyword,
}

struct Items {
    list: Vec<CompletionItem>,
    prefix: String,
}

impl Items {
    fn push(&mut self, label: &str, kind: CompletionItemKind, detail: String, rank: Rank) {
        self.push_item(
            CompletionItem {
                label: label.to_string(),
                kind: Some(kind),
                detail: (!detail.is_empty()).then_some(detail),
                ..CompletionItem::default()
            },
            rank,
        );
    }

    fn push_item(&mut self, mut item: CompletionItem, rank: Rank) {
        if !matches_prefix(&item.label, &self.prefix) {
            return;
        }
        if self.list.iter().any(|i| i.label == item.label) {
            return;
        }
        let rank = match rank {
            Rank::Context => 0,
            Rank::Name => 1,
            Rank::Keyword => 2,
        };
        item.sort_text = Some(format!("{rank}_{}", item.label));
        self.list.push(item);
    }

    fn snippet(&mut self, label: &str, body: &str, detail: &str) {
        self.push_item(
            CompletionItem {
                label: label.to_string(),
                kind: Some(CompletionItemKind::SNIPPET),
                detail: Some(detail.to_string()),
                insert_text: Some(body.to_string()),
                insert_text_format: Some(InsertTextFormat::SNIPPET),
                ..CompletionItem::default()
            },
            Rank::Keyword,
        );
    }

    fn keywords(&mut self, words: &[&str]) {
        for w in words {
            self.push(w, CompletionItemKind::KEYWORD, String::new(), Rank::Keyword);
        }
    }
}

/// Letters of `prefix` appear in `label` in order (what editors call fuzzy matching).
fn matches_prefix(label: &str, prefix: &str) -> bool {
    let mut label = label.chars().map(|c| c.to_ascii_lowercase());
    prefix
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .all(|p| label.any(|l| l == p))
}

/// The completion items at byte `offset` of `file`.
pub fn complete(view: &ProjectView, file: FileId, offset: usize) -> Vec<CompletionItem> {
    let text = view.text(file);
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before_all = &text[..offset];
    let word_start = before_all
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_alphanumeric() || *c == '_')
        .last()
        .map_or(offset, |(i, _)| i);
    let prefix = &text[word_start..offset];
    let before = &text[..word_start];
    let mut items = Items {
        list: Vec::new(),
        prefix: prefix.to_string(),
    };
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line_before = &before[line_start..];
    if in_comment_or_string(line_before) {
        return Vec::new();
    }
    let program = &view.analysis.program;
    let block = enclosing_block(before);
    let statement = statement_before(before);
    let words: Vec<&str> = line_before
        .split(|c: char| c.is_whitespace())
        .filter(|w| !w.is_empty())
        .collect();
    let last = words.last().copied().unwrap_or("");
    let last2 = if words.len() >= 2 {
        words[words.len() - 2]
    } else {
        ""
    };

    // `contact.`, `consent.`, `entry.`, `EVENT.`, `table[…].`, `contact.LINK.`
    if let Some(path) = before.strip_suffix('.') {
        after_dot(program, path, &block, &mut items);
        return items.list;
    }

    // A statement starts here: keywords and snippets for the block we are in.
    if line_before.trim().is_empty() {
        statement_start(&block, &mut items);
        return items.list;
    }

    if block.kind == BlockKind::Fields && last.ends_with(':') {
        types(program, &mut items);
        return items.list;
    }

    match (last2, last) {
        (_, "on") if !is_weekday_context(&words) => {
            events(program, &mut items, Rank::Context);
            if block.kind == BlockKind::TopLevel && words.first() == Some(&"route") {
                items.keywords(&["enters", "leaves"]);
            }
            return items.list;
        }
        ("wait", "until") | ("trigger", "on") | ("goal", "on") | ("exit", "on") => {
            events(program, &mut items, Rank::Context);
            return items.list;
        }
        (_, "count" | "any" | "no" | "sum" | "min" | "max" | "average" | "last")
            if !matches!(last2, "at" | "in") =>
        {
            events(program, &mut items, Rank::Context);
            items.keywords(&["event"]);
            return items.list;
        }
        (_, "stage") | ("move" | "back", "to") | (_, "sla") | ("stages", _) => {
            if last == "stage" && last2 == "expect" {
                items.keywords(&["=="]);
                return items.list;
            }
            stages(program, &mut items);
            return items.list;
        }
        (_, "from") if block.kind == BlockKind::Lifecycle => {
            stages(program, &mut items);
            return items.list;
        }
        (_, "enters" | "leaves") => {
            segments(program, &mut items, Rank::Context);
            items.keywords(&["stage", "segment"]);
            return items.list;
        }
        (_, "segment") | ("expect" | "not", "in") => {
            segments(program, &mut items, Rank::Context);
            return items.list;
        }
        (_, "queue") | ("routed", "to") => {
            queues(program, &mut items);
            return items.list;
        }
        ("route", "with") => {
            for r in &program.routes {
                items.push(
                    &r.name,
                    CompletionItemKind::MODULE,
                    "routing".into(),
                    Rank::Context,
                );
            }
            return items.list;
        }
        (_, "send" | "cap" | "sent" | "suppressed") | ("quiet", "hours") => {
            channels(program, &mut items);
            return items.list;
        }
        ("expect", "journey") => {
            journeys(program, &mut items);
            return items.list;
        }
        ("points", "to" | "from") => {
            scores(program, &mut items, Rank::Context);
            return items.list;
        }
        _ => {}
    }
    if words.first() == Some(&"journey") && words.len() == 3 && last == "=" {
        for t in &program.templates {
            items.push(
                &t.name,
                CompletionItemKind::CLASS,
                "journey template".into(),
                Rank::Context,
            );
        }
        return items.list;
    }
    if block.kind == BlockKind::Test && words.first() == Some(&"expect") && words.len() == 1 {
        items.keywords(&[
            "sent",
            "suppressed",
            "routed to",
            "stage ==",
            "journey",
            "in",
            "not in",
            "no actions",
        ]);
        scores(program, &mut items, Rank::Name);
        return items.list;
    }

    // Enum values after `==`, `!=` or inside `in [`.
    if let Some(lhs) = compared_operand(before) {
        if lhs == "stage" {
            stages(program, &mut items);
            return items.list;
        }
        if let Some(Type::Enum(id)) = operand_type(program, &lhs, &statement) {
            if let Some(e) = program.schema.enum_type(id) {
                for v in &e.variants {
                    items.push(
                        v,
                        CompletionItemKind::ENUM_MEMBER,
                        format!("value of {}", e.name),
                        Rank::Context,
                    );
                }
                return items.list;
            }
        }
    }

    // A condition: the event's properties first, then every name a condition can use.
    if let Some(event) = event_in_condition(program, &statement) {
        if let Some(e) = program.schema.event(event) {
            for p in &e.properties {
                items.push(
                    &p.name,
                    CompletionItemKind::PROPERTY,
                    format!(
                        "{}: {}",
                        e.name,
                        field_type_text(&program.schema, &p.ty, p.optional)
                    ),
                    Rank::Context,
                );
            }
        }
    }
    expression_names(program, &mut items);
    items.list
}

fn in_comment_or_string(line_before: &str) -> bool {
    let mut in_string = false;
    let mut chars = line_before.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if in_string => {
                chars.next();
            }
            '"' => in_string = !in_string,
            '/' if !in_string && chars.peek() == Some(&'/') => return true,
            _ => {}
        }
    }
    in_string
}

fn is_weekday_context(words: &[&str]) -> bool {
    words.contains(&"until") && words.iter().any(|w| w.contains(':'))
}

fn after_dot(program: &Program, before_dot: &str, block: &Block, items: &mut Items) {
    let schema = &program.schema;
    let tail: String = before_dot
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.' || *c == ']')
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let parts: Vec<&str> = tail.split('.').collect();
    match parts.as_slice() {
        ["contact"] => {
            for f in &schema.contact_fields {
                let mut detail = field_type_text(schema, &f.ty, f.optional);
                if f.builtin {
                    detail.push_str(" (built in)");
                }
                items.push(&f.name, CompletionItemKind::FIELD, detail, Rank::Context);
            }
        }
        ["contact", link] => {
            let account = schema
                .contact_fields
                .iter()
                .find(|f| f.name == *link)
                .and_then(|f| match f.ty {
                    Type::Account(a) => schema.accounts.get(a.index()),
                    _ => None,
                });
            if let Some(account) = account {
                for f in &account.fields {
                    let detail = field_type_text(schema, &f.ty, f.optional);
                    items.push(&f.name, CompletionItemKind::FIELD, detail, Rank::Context);
                }
            }
        }
        ["consent"] => {
            for c in &schema.channels {
                items.push(
                    &c.name,
                    CompletionItemKind::FIELD,
                    "consent".into(),
                    Rank::Context,
                );
            }
        }
        ["entry"] => {
            let event = block
                .header_text
                .as_deref()
                .and_then(|text| trigger_event(program, text));
            for e in schema.events.iter().filter(|e| match event {
                Some(id) => e.name == id,
                None => true,
            }) {
                for p in &e.properties {
                    let detail =
                        format!("{}: {}", e.name, field_type_text(schema, &p.ty, p.optional));
                    items.push(&p.name, CompletionItemKind::PROPERTY, detail, Rank::Context);
                }
            }
        }
        [.., last] if last.ends_with(']') => {
            let table = last.split('[').next().unwrap_or("");
            if let Some(t) = schema.tables.iter().find(|t| t.name == table) {
                for c in &t.columns {
                    let detail = field_type_text(schema, &c.ty, c.optional);
                    items.push(&c.name, CompletionItemKind::FIELD, detail, Rank::Context);
                }
            }
        }
        [.., event] => {
            if let Some(e) = schema.events.iter().find(|e| e.name == *event) {
                for p in &e.properties {
                    let detail = field_type_text(schema, &p.ty, p.optional);
                    items.push(&p.name, CompletionItemKind::PROPERTY, detail, Rank::Context);
                }
                items.push(
                    "timestamp",
                    CompletionItemKind::PROPERTY,
                    "timestamp".into(),
                    Rank::Context,
                );
            }
        }
        _ => {}
    }
}

/// The event of `trigger on EVENT` in a journey's text.
fn trigger_event<'a>(program: &Program, journey_text: &'a str) -> Option<&'a str> {
    journey_text.lines().find_map(|line| {
        let mut words = line.split_whitespace();
        (words.next()? == "trigger" && words.next()? == "on")
            .then(|| words.next())
            .flatten()
            .filter(|name| program.event_named(name).is_some())
    })
}

fn statement_start(block: &Block, items: &mut Items) {
    match block.kind {
        BlockKind::TopLevel => {
            items.snippet(
                "score",
                "score ${1:name} \"${2:Title}\" {\n  +${3:10} on ${4:event}\n}",
                "a score and its rules",
            );
            items.snippet(
                "segment",
                "segment ${1:name} = ${2:condition}",
                "a segment of contacts",
            );
            items.snippet(
                "journey",
                "journey ${1:name} \"${2:Title}\" {\n  trigger on ${3:event}\n  entry once\n  send ${4:email} \"${5:template}\"\n}",
                "a journey",
            );
            items.snippet(
                "route",
                "route ${1:name} on enters stage ${2:stage} {\n  when ${3:condition} => queue ${4:queue}\n  otherwise => queue ${5:queue}\n}",
                "a routing of leads to queues",
            );
            items.snippet(
                "test",
                "test \"${1:what it shows}\" {\n  contact { ${2:field}: ${3:value} }\n  at 2026-01-01T09:00:00Z ${4:event}\n  expect ${5:score} >= ${6:10}\n}",
                "a test of the rules",
            );
            items.snippet(
                "event",
                "event ${1:name} from track \"${2:Wire Name}\" {\n  ${3:property}: ${4:text}\n}",
                "an event type",
            );
            items.snippet(
                "contact",
                "contact {\n  ${1:field}: ${2:text}\n}",
                "the contact's fields",
            );
            items.snippet(
                "enum",
                "enum ${1:name} { ${2:a}, ${3:b} }",
                "a list of values",
            );
            items.snippet("const", "const ${1:NAME} = ${2:value}", "a constant");
            items.snippet("lifecycle", "lifecycle {\n  stages ${1:subscriber} > ${2:lead}\n  move to ${2:lead} when ${3:condition}\n}", "the lifecycle stages");
            items.snippet(
                "queue",
                "queue ${1:name} \"${2:Title}\"",
                "a queue of leads",
            );
            items.snippet(
                "channel",
                "channel ${1:email} ${2|opt_in,opt_out|}",
                "a channel and its consent",
            );
            items.snippet(
                "template",
                "template ${1:name}(${2:param}: ${3:text}) {\n  $0\n}",
                "a journey template",
            );
            items.keywords(&[
                "import",
                "account",
                "table",
                "quiet hours",
                "cap",
                "default time_zone",
                "account score",
            ]);
        }
        BlockKind::Score => {
            items.snippet(
                "+ on",
                "+${1:10} on ${2:event}",
                "points each time an event happens",
            );
            items.snippet(
                "+ when",
                "+${1:10} when ${2:condition}",
                "points while the profile matches",
            );
            items.snippet(
                "decay half_life",
                "decay half_life ${1:60d}",
                "points halve over time",
            );
            items.snippet(
                "decay every",
                "decay ${1:10}% every ${2:30d} of inactivity",
                "points fade without activity",
            );
            items.keywords(&["at least", "at most", "time_zone"]);
        }
        BlockKind::Journey => {
            items.snippet(
                "if",
                "if ${1:condition} {\n  $0\n}",
                "steps for some contacts",
            );
            items.snippet(
                "send",
                "send ${1:email} \"${2:template}\"",
                "send a message",
            );
            items.keywords(&[
                "trigger",
                "entry",
                "goal",
                "exit",
                "quiet hours",
                "cap",
                "send",
                "wait",
                "wait until",
                "if",
                "split",
                "random split",
                "set",
                "add",
                "remove",
                "move to stage",
                "route to queue",
                "route with",
                "notify",
                "call webhook",
                "go to",
                "end",
            ]);
        }
        BlockKind::Route => {
            items.snippet(
                "when",
                "when ${1:condition} => queue ${2:queue}",
                "a routing rule",
            );
            items.snippet(
                "otherwise",
                "otherwise => queue ${1:queue}",
                "the fallback rule",
            );
        }
        BlockKind::Lifecycle => {
            items.keywords(&["stages", "move to", "move back to", "sla"]);
        }
        BlockKind::Test => {
            items.snippet(
                "contact",
                "contact { ${1:field}: ${2:value} }",
                "the test contact",
            );
            items.snippet("at", "at ${1:+1h} ${2:event}", "an event at a time");
            items.keywords(&["expect"]);
        }
        BlockKind::Split => {
            items.snippet(
                "when",
                "when ${1:condition} => ${2:step}",
                "an arm of the split",
            );
            items.snippet("otherwise", "otherwise => ${1:step}", "the last arm");
        }
        BlockKind::Fields | BlockKind::Other => {}
    }
}

fn types(program: &Program, items: &mut Items) {
    for t in [
        "text",
        "number",
        "bool",
        "date",
        "timestamp",
        "duration",
        "time",
        "money",
        "percent",
    ] {
        items.push(
            t,
            CompletionItemKind::TYPE_PARAMETER,
            "type".into(),
            Rank::Context,
        );
    }
    items.keywords(&["optional", "list of"]);
    for e in &program.schema.enums {
        items.push(
            &e.name,
            CompletionItemKind::ENUM,
            format!("enum {{ {} }}", e.variants.join(", ")),
            Rank::Context,
        );
    }
    for a in &program.schema.accounts {
        items.push(
            &a.name,
            CompletionItemKind::STRUCT,
            "account".into(),
            Rank::Context,
        );
    }
}

fn events(program: &Program, items: &mut Items, rank: Rank) {
    for e in &program.schema.events {
        items.push(
            &e.name,
            CompletionItemKind::EVENT,
            format!("event {}", event_source_text(&e.source)),
            rank,
        );
    }
}

fn stages(program: &Program, items: &mut Items) {
    if let Some(l) = &program.lifecycle {
        for (i, s) in l.stages.iter().enumerate() {
            items.push(
                &s.name,
                CompletionItemKind::ENUM_MEMBER,
                format!("stage {} of {}", i + 1, l.stages.len()),
                Rank::Context,
            );
        }
    }
}

fn segments(program: &Program, items: &mut Items, rank: Rank) {
    for s in &program.segments {
        items.push(
            &s.name,
            CompletionItemKind::CLASS,
            s.title.clone().unwrap_or_else(|| "segment".into()),
            rank,
        );
    }
}

fn scores(program: &Program, items: &mut Items, rank: Rank) {
    for s in &program.scores {
        items.push(
            &s.name,
            CompletionItemKind::VARIABLE,
            s.title.clone().unwrap_or_else(|| "score".into()),
            rank,
        );
    }
}

fn queues(program: &Program, items: &mut Items) {
    for q in &program.queues {
        items.push(
            &q.name,
            CompletionItemKind::MODULE,
            q.title.clone().unwrap_or_else(|| "queue".into()),
            Rank::Context,
        );
    }
}

fn channels(program: &Program, items: &mut Items) {
    for c in &program.schema.channels {
        items.push(
            &c.name,
            CompletionItemKind::INTERFACE,
            "channel".into(),
            Rank::Context,
        );
    }
}

fn journeys(program: &Program, items: &mut Items) {
    for j in &program.journeys {
        items.push(
            &j.name,
            CompletionItemKind::MODULE,
            j.title.clone().unwrap_or_else(|| "journey".into()),
            Rank::Context,
        );
    }
}

/// Every name a condition can use.
fn expression_names(program: &Program, items: &mut Items) {
    let schema = &program.schema;
    items.push(
        "contact",
        CompletionItemKind::MODULE,
        "the contact's fields: `contact.`".into(),
        Rank::Name,
    );
    if !schema.channels.is_empty() {
        items.push(
            "consent",
            CompletionItemKind::MODULE,
            "consent per channel: `consent.`".into(),
            Rank::Name,
        );
    }
    scores(program, items, Rank::Name);
    for s in &program.account_scores {
        items.push(
            &s.name,
            CompletionItemKind::VARIABLE,
            "account score".into(),
            Rank::Name,
        );
    }
    segments(program, items, Rank::Name);
    for c in &program.constants {
        let value = c
            .value
            .as_ref()
            .map(|v| value_text(program, v))
            .unwrap_or_default();
        let mut item = CompletionItem {
            label: c.name.clone(),
            kind: Some(CompletionItemKind::CONSTANT),
            detail: Some(format!("const: {}", type_text(schema, &c.ty))),
            ..CompletionItem::default()
        };
        if !value.is_empty() {
            item.documentation = Some(Documentation::MarkupContent(MarkupContent {
                kind: MarkupKind::Markdown,
                value: format!("`{value}`"),
            }));
        }
        items.push_item(item, Rank::Name);
    }
    for t in &schema.tables {
        items.push(
            &t.name,
            CompletionItemKind::STRUCT,
            "table: `name[key].column`".into(),
            Rank::Name,
        );
    }
    if program.lifecycle.is_some() {
        items.push(
            "stage",
            CompletionItemKind::KEYWORD,
            "the contact's lifecycle stage".into(),
            Rank::Name,
        );
    }
    for f in [
        "days_since",
        "days_until",
        "lower",
        "upper",
        "length",
        "abs",
        "min",
        "max",
        "round",
    ] {
        items.push(
            f,
            CompletionItemKind::FUNCTION,
            "function".into(),
            Rank::Keyword,
        );
    }
    items.keywords(&[
        "and",
        "or",
        "not",
        "is known",
        "is unknown",
        "in",
        "between",
        "starts_with",
        "ends_with",
        "contains",
        "matches",
        "count",
        "any",
        "no",
        "sum",
        "average",
        "last",
        "now",
        "true",
        "false",
    ]);
}

/// The operand before a trailing `==` / `!=` / `in [a, b, `: its text.
fn compared_operand(before: &str) -> Option<String> {
    let trimmed = before.trim_end();
    let rest = if let Some(r) = trimmed
        .strip_suffix("==")
        .or_else(|| trimmed.strip_suffix("!="))
    {
        r
    } else {
        // `x in [a, b, ` or `x in [`
        let open = trimmed.rfind('[')?;
        if trimmed[open..].contains(']') {
            return None;
        }
        let head = trimmed[..open].trim_end();
        let head = head.strip_suffix("in")?;
        head.trim_end().strip_suffix("not").unwrap_or(head)
    };
    let rest = rest.trim_end();
    let operand: String = rest
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    (!operand.is_empty()).then_some(operand)
}

fn operand_type(program: &Program, operand: &str, statement: &str) -> Option<Type> {
    let schema = &program.schema;
    let parts: Vec<&str> = operand.split('.').collect();
    match parts.as_slice() {
        ["contact", field] => schema
            .contact_fields
            .iter()
            .find(|f| f.name == *field)
            .map(|f| f.ty.clone()),
        ["contact", link, field] => {
            let account = schema.contact_fields.iter().find(|f| f.name == *link)?;
            let Type::Account(a) = account.ty else {
                return None;
            };
            schema
                .accounts
                .get(a.index())?
                .fields
                .iter()
                .find(|f| f.name == *field)
                .map(|f| f.ty.clone())
        }
        [name] => {
            if let Some(event) = event_in_condition(program, statement) {
                if let Some(p) = schema
                    .event(event)
                    .and_then(|e| e.properties.iter().find(|p| p.name == *name))
                {
                    return Some(p.ty.clone());
                }
            }
            program
                .constants
                .iter()
                .find(|c| c.name == *name)
                .map(|c| c.ty.clone())
        }
        [_, property] => {
            // `entry.prop` or `EVENT.prop`: the first event that has it.
            schema
                .events
                .iter()
                .flat_map(|e| e.properties.iter())
                .find(|p| p.name == *property)
                .map(|p| p.ty.clone())
        }
        _ => None,
    }
}

/// The event whose `where` condition the statement is in: `on EVENT where …`,
/// `wait until [on] EVENT where …`, `count EVENT where …`.
fn event_in_condition(
    program: &Program,
    statement: &str,
) -> Option<maclc_compiler::check::EventId> {
    let words: Vec<&str> = statement
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .collect();
    let where_at = words.iter().rposition(|w| *w == "where")?;
    let event = words.get(where_at.checked_sub(1)?)?;
    program.event_named(event)
}

/// The current statement up to the cursor: this line, plus the lines above it that it
/// continues (a condition broken before `and` / `or`).
fn statement_before(before: &str) -> String {
    let lines: Vec<&str> = before.split('\n').collect();
    let mut first = lines.len().saturating_sub(1);
    while first > 0 {
        let this = lines[first].trim_start();
        let above = lines[first - 1].trim_end();
        let continues = this.starts_with("and ")
            || this.starts_with("or ")
            || this.starts_with(')')
            || above.ends_with(" and")
            || above.ends_with(" or")
            || above.ends_with('(');
        if !continues {
            break;
        }
        first -= 1;
    }
    lines[first..].join("\n")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BlockKind {
    TopLevel,
    Score,
    Journey,
    Route,
    Lifecycle,
    Test,
    Split,
    /// `contact`, `event`, `account`, `table`: field declarations.
    Fields,
    Other,
}

#[derive(Debug)]
struct Block {
    kind: BlockKind,
    /// The text of the outermost open block from its header to the cursor.
    header_text: Option<String>,
}

/// The innermost block the cursor is in that says what may be written there, found by
/// counting braces outside strings and comments (so it works in a file that does not parse).
fn enclosing_block(before: &str) -> Block {
    let mut stack: Vec<(usize, &str)> = Vec::new();
    let bytes = before.as_bytes();
    let mut i = 0;
    let mut line_start = 0;
    let mut in_string = false;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => {
                in_string = false;
                line_start = i + 1;
            }
            b'\\' if in_string => i += 1,
            b'"' => in_string = !in_string,
            b'/' if !in_string && bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'{' if !in_string => stack.push((line_start, before[line_start..i].trim())),
            b'}' if !in_string => {
                stack.pop();
            }
            _ => {}
        }
        i += 1;
    }
    let header_text = stack.first().map(|(start, _)| before[*start..].to_string());
    for (_, header) in stack.iter().rev() {
        let first = header.split_whitespace().next().unwrap_or("");
        let kind = match first {
            "score" => BlockKind::Score,
            "journey" | "template" => BlockKind::Journey,
            "route" => BlockKind::Route,
            "lifecycle" => BlockKind::Lifecycle,
            "test" => BlockKind::Test,
            "contact" | "event" | "account" | "table" => {
                if stack.len() == 1 {
                    BlockKind::Fields
                } else {
                    BlockKind::Other
                }
            }
            "split" => BlockKind::Split,
            "random" => BlockKind::Other,
            // `if … {`, `} else {`, a split arm `when … => {`: steps, look further out.
            _ => continue,
        };
        return Block { kind, header_text };
    }
    Block {
        kind: if stack.is_empty() {
            BlockKind::TopLevel
        } else {
            BlockKind::Other
        },
        header_text,
    }
}
