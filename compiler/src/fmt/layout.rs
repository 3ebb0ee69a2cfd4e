//! Items and statements in the canonical layout (expressions are in `expr.rs`).
//!
//! Each statement tells the printer where it starts and where its first printed line ends in
//! the source, so comments land above it or at the end of its line. Blocks have no span of their
//! own in the tree, so their braces are found in the source text, skipping blanks and comments.

use super::expr::{
    self, break_points, duration, duration_ref, expr_at, number, raw, str_lit, time_of_day, OPERAND,
};
use super::printer::{Printer, WIDTH};
use crate::source::Span;
use crate::syntax::ast::*;
use crate::syntax::Comment;

#[derive(Debug)]
pub(super) struct Formatter<'a> {
    p: Printer<'a>,
    src: &'a str,
}

/// How an arm or `else` continues: a `{ … }` block (at this brace) or one step on the line.
enum Branch {
    Block(usize),
    Inline,
}

impl<'a> Formatter<'a> {
    pub(super) fn new(src: &'a str, comments: &[Comment]) -> Formatter<'a> {
        Formatter {
            p: Printer::new(src, comments),
            src,
        }
    }

    pub(super) fn finish(self) -> String {
        self.p.finish()
    }

    // ------------------------------------------------------------ source helpers

    fn end(&self, span: Span) -> usize {
        self.p.content_end(span)
    }

    /// The first offset at or after `from` that is not blank, newline or comment.
    fn skip_trivia(&self, from: usize) -> usize {
        let bytes = self.src.as_bytes();
        let mut i = from.min(bytes.len());
        while i < bytes.len() {
            match bytes[i] {
                b' ' | b'\t' | b'\r' | b'\n' => i += 1,
                b'/' if bytes.get(i + 1) == Some(&b'/') => {
                    while i < bytes.len() && bytes[i] != b'\n' {
                        i += 1;
                    }
                }
                _ => break,
            }
        }
        i
    }

    /// Where `token` next appears at or after `from`, outside quoted text and comments.
    fn find(&self, from: usize, token: &str) -> usize {
        let bytes = self.src.as_bytes();
        let mut i = self.skip_trivia(from);
        while i < bytes.len() {
            if self
                .src
                .get(i..)
                .is_some_and(|rest| rest.starts_with(token))
            {
                return i;
            }
            match bytes[i] {
                b'"' => {
                    i += 1;
                    while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                        i += if bytes[i] == b'\\' { 2 } else { 1 };
                    }
                    i += 1;
                }
                b'/' if bytes.get(i + 1) == Some(&b'/') => i = self.skip_trivia(i),
                _ => i += 1,
            }
        }
        bytes.len()
    }

    fn starts_with_at(&self, at: usize, token: &str) -> bool {
        self.src
            .get(at..)
            .is_some_and(|rest| rest.starts_with(token))
    }

    fn e(&self, e: &Expr) -> String {
        expr::expr(self.src, e)
    }

    fn dur(&self, d: &DurationRef) -> String {
        duration_ref(self.src, d)
    }

    // ------------------------------------------------------------ statement shapes

    /// A statement printed on one line.
    fn simple(&mut self, span: Span, text: &str) {
        let end = self.end(span);
        self.p.begin_stmt(span.start as usize, end);
        self.p.write(text);
        self.p.end_line(end);
    }

    /// A one-statement line ending in a condition: broken before each top-level `and`/`or`
    /// with a continuation indent when it would pass the line width.
    fn simple_cond(&mut self, span: Span, prefix: &str, cond: &Expr, suffix: &str) {
        let end = self.end(span);
        self.p.begin_stmt(span.start as usize, end);
        self.p.write(prefix);
        self.write_cond(cond, suffix, 0);
        self.p.end_line(end);
    }

    /// Writes `cond` then `suffix` on the current line, breaking the condition if too long.
    /// `rest` is the width of what will follow `suffix` on the line.
    fn write_cond(&mut self, cond: &Expr, suffix: &str, rest: usize) {
        let pieces = break_points(self.src, cond);
        let one_line = pieces.join(" ");
        let width = self.p.width() + one_line.chars().count() + suffix.chars().count() + rest;
        if pieces.len() < 2 || width <= WIDTH {
            self.p.write(&one_line);
        } else {
            for (i, piece) in pieces.iter().enumerate() {
                if i > 0 {
                    self.p.continuation();
                }
                self.p.write(piece);
            }
        }
        self.p.write(suffix);
    }

    /// The rest of a block whose `{` (at source offset `brace`) ends the current line: its
    /// statements, comments left before its `}`, and the `}` line. `body` prints the
    /// statements and returns where the last one ends in the source.
    fn block_body(&mut self, brace: usize, empty: bool, body: impl FnOnce(&mut Self) -> usize) {
        if empty {
            let close = self.find(brace + 1, "}");
            if !self.p.has_comment_in(brace + 1, close) {
                self.p.write("}");
                self.p.end_line(close + 1);
                return;
            }
        }
        self.p.end_line(brace + 1);
        self.p.open();
        let last = body(self).max(brace + 1);
        let close = self.find(last, "}");
        self.p.flush_before(close, true);
        self.p.close();
        self.p.write("}");
        self.p.end_line(close + 1);
    }

    /// A statement with a `{ … }` block: `header {`, the block, `}`. The `{` is looked for from
    /// `brace_from`.
    fn block_stmt(
        &mut self,
        start: usize,
        header: &str,
        brace_from: usize,
        empty: bool,
        body: impl FnOnce(&mut Self) -> usize,
    ) {
        let brace = self.find(brace_from, "{");
        self.p.begin_stmt(start, brace);
        self.p.write(header);
        self.p.write(" {");
        self.block_body(brace, empty, body);
    }

    /// `{ a: 1, b: 2 }`-like lists (send parameters, test values, enum variants) as one-line
    /// text, or `None` when they are too long for the current line (plus `extra` columns) or
    /// hold comments: then they go one entry a line ([`Self::entry_lines`]).
    fn inline_entries(
        &self,
        brace: usize,
        end: usize,
        entries: &[(Span, String)],
        extra: usize,
    ) -> Option<String> {
        if self.p.has_comment_in(brace, end) {
            return None;
        }
        let text = if entries.is_empty() {
            "{}".to_string()
        } else {
            format!(
                "{{ {} }}",
                entries
                    .iter()
                    .map(|(_, t)| t.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        (self.p.width() + extra + text.chars().count() <= WIDTH).then_some(text)
    }

    /// Writes the entries one per line; the current line ends with `{` at source offset `brace`.
    fn entry_lines(&mut self, brace: usize, entries: &[(Span, String)]) {
        if entries.is_empty() {
            self.block_body(brace, true, |_| brace + 1);
            return;
        }
        let close = self.entry_lines_open(brace, entries, "}", true);
        self.p.end_line(close + 1);
    }

    /// Writes the entries one per line after the opening token at `open`, which ends the
    /// current line, then the closing token; the line stays open after it (for ` {` of a
    /// template). Only `{ … }` and `[ … ]` lists take a comma after the last entry.
    /// Returns where the closing token is in the source.
    fn entry_lines_open(
        &mut self,
        open: usize,
        entries: &[(Span, String)],
        close_token: &str,
        last_comma: bool,
    ) -> usize {
        self.p.end_line(open + 1);
        self.p.open();
        let mut last = open + 1;
        for (i, (span, text)) in entries.iter().enumerate() {
            let comma = if last_comma || i + 1 < entries.len() {
                ","
            } else {
                ""
            };
            self.simple(*span, &format!("{text}{comma}"));
            last = self.end(*span);
        }
        let close = self.find(last, close_token);
        self.p.flush_before(close, true);
        self.p.close();
        self.p.write(close_token);
        close
    }

    /// `name(a, b)` of templates and their uses: on one line when it fits with `tail` and
    /// has no comments inside, else one entry a line. `open_from` is where to look for `(`.
    /// Returns where `)` is when the entries went on their own lines.
    fn paren_entries(
        &mut self,
        start: usize,
        head: &str,
        open_from: usize,
        entries: &[(Span, String)],
        tail: &str,
    ) -> Option<usize> {
        let open = self.find(open_from, "(");
        let close = self.find(entries.last().map_or(open + 1, |(s, _)| self.end(*s)), ")");
        let one_line = format!(
            "{head}({})",
            entries
                .iter()
                .map(|(_, t)| t.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        if entries.is_empty()
            || (!self.p.has_comment_in(open, close)
                && self.p.width() + one_line.chars().count() + tail.len() <= WIDTH)
        {
            self.p.begin_stmt(start, close);
            self.p.write(&one_line);
            return None;
        }
        self.p.begin_stmt(start, open);
        self.p.write(head);
        self.p.write("(");
        Some(self.entry_lines_open(open, entries, ")", false))
    }

    /// `head [a, b]` as a statement with the list one element a line, when `value` is a list
    /// too long for the line or with comments inside. Returns false (writing nothing) otherwise.
    fn list_lines(&mut self, span: Span, head: &str, value: &Expr) -> bool {
        let ExprKind::List(items) = &value.kind else {
            return false;
        };
        let open = self.find(value.span.start as usize, "[");
        let end = self.end(span);
        let one_line = head.chars().count() + self.e(value).chars().count();
        if items.is_empty()
            || (!self.p.has_comment_in(open, end) && self.p.width() + one_line <= WIDTH)
        {
            return false;
        }
        let entries: Vec<(Span, String)> = items.iter().map(|e| (e.span, self.e(e))).collect();
        self.p.begin_stmt(span.start as usize, open);
        self.p.write(head);
        self.p.write("[");
        let close = self.entry_lines_open(open, &entries, "]", true);
        self.p.end_line(close + 1);
        true
    }

    // ------------------------------------------------------------ file and items

    pub(super) fn file(&mut self, file: &File) {
        // The group of the previous item when it was a one-line item of a groupable kind.
        let mut previous: Option<Option<&'static str>> = None;
        for item in &file.items {
            let mark = self.p.mark();
            self.item(item);
            let group = one_line_group(item).filter(|_| is_one_line(self.p.text_since(mark)));
            if let Some(prev) = previous {
                if group.is_none() || group != prev {
                    // Before the item's leading comments, which belong to it.
                    self.p.blank_at(mark);
                }
            }
            previous = Some(group);
        }
    }

    fn item(&mut self, item: &Item) {
        let span = item.span;
        let start = span.start as usize;
        match &item.kind {
            ItemKind::Import(import) => {
                let text = if import.names.is_empty() {
                    format!("import {}", str_lit(&import.path))
                } else {
                    let names: Vec<&str> = import.names.iter().map(|n| n.name.as_str()).collect();
                    format!(
                        "import {{ {} }} from {}",
                        names.join(", "),
                        str_lit(&import.path)
                    )
                };
                self.simple(span, &text);
            }
            ItemKind::Const(c) => {
                let ty = c
                    .declared_type
                    .as_ref()
                    .map(|t| format!(": {}", type_ref(t)))
                    .unwrap_or_default();
                let head = format!("const {}{ty} = ", c.name.name);
                if !self.list_lines(span, &head, &c.value) {
                    self.simple_cond(span, &head, &c.value, "");
                }
            }
            ItemKind::Enum(e) => {
                let entries: Vec<(Span, String)> = e
                    .variants
                    .iter()
                    .map(|v| (v.span, v.name.clone()))
                    .collect();
                let brace = self.find(e.name.span.end as usize, "{");
                let end = self.end(span);
                let header = format!("enum {} ", e.name.name);
                match self.inline_entries(brace, end, &entries, header.len()) {
                    Some(list) => self.simple(span, &format!("{header}{list}")),
                    None => {
                        self.p.begin_stmt(start, brace);
                        self.p.write(&header);
                        self.p.write("{");
                        self.entry_lines(brace, &entries);
                    }
                }
            }
            ItemKind::Channel(c) => {
                let mode = match c.mode {
                    ConsentMode::OptIn => "opt_in",
                    ConsentMode::OptOut => "opt_out",
                };
                self.simple(span, &format!("channel {} {mode}", c.name.name));
            }
            ItemKind::DefaultTimeZone(zone) => {
                self.simple(span, &format!("default time_zone {}", str_lit(zone)))
            }
            ItemKind::Contact(record) => {
                self.fields_block(start, "contact".to_string(), start, &record.fields);
            }
            ItemKind::Account(a) => {
                let key = a
                    .key
                    .as_ref()
                    .map(|k| format!(" key {}", k.name))
                    .unwrap_or_default();
                let from = a.key.as_ref().unwrap_or(&a.name).span.end as usize;
                self.fields_block(
                    start,
                    format!("account {}{key}", a.name.name),
                    from,
                    &a.fields,
                );
            }
            ItemKind::Event(e) => {
                let source = match &e.source {
                    None => String::new(),
                    Some(EventSource::Page) => " from page".to_string(),
                    Some(EventSource::Screen) => " from screen".to_string(),
                    Some(EventSource::Track(name)) => format!(" from track {}", str_lit(name)),
                };
                let header = format!("event {}{source}", e.name.name);
                if e.properties.is_empty() {
                    self.simple(span, &header);
                } else {
                    let from = match &e.source {
                        Some(EventSource::Track(name)) => name.span.end as usize,
                        _ => e.name.span.end as usize,
                    };
                    self.fields_block(start, header, from, &e.properties);
                }
            }
            ItemKind::Table(t) => self.table(start, t),
            ItemKind::Score(s) => {
                let title = s
                    .title
                    .as_ref()
                    .map(|t| format!(" {}", str_lit(t)))
                    .unwrap_or_default();
                let from = s.title.as_ref().map_or(s.name.span.end, |t| t.span.end) as usize;
                self.block_stmt(
                    start,
                    &format!("score {}{title}", s.name.name),
                    from,
                    s.stmts.is_empty(),
                    |f| {
                        let mut last = 0;
                        for stmt in &s.stmts {
                            f.score_stmt(stmt);
                            last = f.end(stmt.span);
                        }
                        last
                    },
                );
            }
            ItemKind::AccountScore(a) => {
                let agg = match a.aggregate {
                    AccountAggregate::Sum => "sum",
                    AccountAggregate::Max => "max",
                    AccountAggregate::Min => "min",
                    AccountAggregate::Average => "average",
                };
                self.simple(
                    span,
                    &format!(
                        "account score {} = {agg} of {}",
                        a.name.name, a.of_score.name
                    ),
                );
            }
            ItemKind::Segment(s) => {
                let title = s
                    .title
                    .as_ref()
                    .map(|t| format!(" {}", str_lit(t)))
                    .unwrap_or_default();
                self.simple_cond(
                    span,
                    &format!("segment {}{title} = ", s.name.name),
                    &s.condition,
                    "",
                );
            }
            ItemKind::Lifecycle(l) => {
                self.block_stmt(start, "lifecycle", start, l.stmts.is_empty(), |f| {
                    let mut last = 0;
                    for stmt in &l.stmts {
                        f.lifecycle_stmt(stmt);
                        last = f.end(stmt.span);
                    }
                    last
                });
            }
            ItemKind::Queue(q) => {
                let mut text = format!("queue {}", q.name.name);
                if let Some(title) = &q.title {
                    text.push(' ');
                    text.push_str(&str_lit(title));
                }
                match &q.round_robin {
                    Some(agents) => {
                        text.push_str(" round_robin ");
                        if !self.list_lines(span, &text, agents) {
                            text.push_str(&self.e(agents));
                            self.simple(span, &text);
                        }
                    }
                    None => self.simple(span, &text),
                }
            }
            ItemKind::Route(r) => {
                // `route x on EVENT`: the route's own `on` already introduces an event trigger.
                let trigger = match &r.trigger.kind {
                    TriggerKind::Event(m) => self.event_match(m),
                    _ => self.trigger(&r.trigger),
                };
                let header = format!("route {} on {}", r.name.name, trigger);
                let from = self.end(r.trigger.span);
                self.block_stmt(start, &header, from, r.rules.is_empty(), |f| {
                    let mut last = 0;
                    for rule in &r.rules {
                        f.route_rule(rule);
                        last = f.end(rule.span);
                    }
                    last
                });
            }
            ItemKind::Journey(j) => {
                let title = j
                    .title
                    .as_ref()
                    .map(|t| format!(" {}", str_lit(t)))
                    .unwrap_or_default();
                self.journey_body(start, &format!("journey {}{title}", j.name.name), &j.body);
            }
            ItemKind::Template(t) => {
                let params: Vec<(Span, String)> =
                    t.params.iter().map(|p| (p.span, self.param(p))).collect();
                let head = format!("template {}", t.name.name);
                self.paren_entries(start, &head, t.name.span.end as usize, &params, " {");
                let brace = self.find(t.body.span.start as usize, "{");
                self.p.flush_before(brace, false);
                self.p.write(" {");
                self.journey_block(brace, &t.body);
            }
            ItemKind::JourneyInstance(j) => {
                let args: Vec<String> = j
                    .args
                    .iter()
                    .map(|a| match &a.name {
                        Some(name) => format!("{}: {}", name.name, self.e(&a.value)),
                        None => self.e(&a.value),
                    })
                    .collect();
                let args: Vec<(Span, String)> = j
                    .args
                    .iter()
                    .zip(args)
                    .map(|(a, text)| (a.span, text))
                    .collect();
                let head = format!("journey {} = {}", j.name.name, j.template.name);
                let end = self.end(span);
                match self.paren_entries(start, &head, j.template.span.end as usize, &args, "") {
                    Some(close) => self.p.end_line(close + 1),
                    None => self.p.end_line(end),
                }
            }
            ItemKind::QuietHours(q) => {
                let text = self.quiet_hours(q);
                self.simple(span, &text);
            }
            ItemKind::Cap(c) => {
                let text = self.cap(c);
                self.simple(span, &text);
            }
            ItemKind::Test(t) => {
                self.block_stmt(
                    start,
                    &format!("test {}", str_lit(&t.name)),
                    t.name.span.end as usize,
                    t.stmts.is_empty(),
                    |f| {
                        let mut last = 0;
                        for stmt in &t.stmts {
                            f.test_stmt(stmt);
                            last = f.end(stmt.span);
                        }
                        last
                    },
                );
            }
        }
    }

    fn fields_block(
        &mut self,
        start: usize,
        header: String,
        brace_from: usize,
        fields: &[FieldDecl],
    ) {
        self.block_stmt(start, &header, brace_from, fields.is_empty(), |f| {
            let mut last = 0;
            for field in fields {
                f.simple(field.span, &field_decl(field));
                last = f.end(field.span);
            }
            last
        });
    }

    fn table(&mut self, start: usize, t: &TableDecl) {
        // Columns and rows are kept apart in the tree; print them in source order.
        enum Line<'t> {
            Column(&'t FieldDecl),
            Row(&'t TableRow),
        }
        let mut lines: Vec<(Span, Line)> = t
            .columns
            .iter()
            .map(|c| (c.span, Line::Column(c)))
            .collect();
        lines.extend(t.rows.iter().map(|r| (r.span, Line::Row(r))));
        lines.sort_by_key(|(span, _)| span.start);
        let header = format!("table {} key {}", t.name.name, t.key.name);
        self.block_stmt(
            start,
            &header,
            t.key.span.end as usize,
            lines.is_empty(),
            |f| {
                let mut last = 0;
                for (span, line) in &lines {
                    let text = match line {
                        Line::Column(c) => field_decl(c),
                        Line::Row(r) => {
                            let values: Vec<String> = r.values.iter().map(|v| f.e(v)).collect();
                            format!("row {}", values.join(", "))
                        }
                    };
                    f.simple(*span, &text);
                    last = f.end(*span);
                }
                last
            },
        );
    }

    fn param(&self, p: &Param) -> String {
        match &p.default {
            Some(default) => format!("{}: {} = {}", p.name.name, type_ref(&p.ty), self.e(default)),
            None => format!("{}: {}", p.name.name, type_ref(&p.ty)),
        }
    }

    // ------------------------------------------------------------ scores, lifecycle, routes

    fn score_stmt(&mut self, stmt: &ScoreStmt) {
        let span = stmt.span;
        match &stmt.kind {
            ScoreStmtKind::Points(rule) => {
                let sign = if rule.points.negative { '-' } else { '+' };
                let amount = points_amount(&rule.points.amount);
                let limit = rule
                    .limit
                    .as_ref()
                    .map(|l| self.limit(l))
                    .unwrap_or_default();
                match &rule.trigger {
                    PointsTrigger::Event(m) => match &m.condition {
                        Some(cond) => {
                            let prefix = format!("{sign}{amount} on {} where ", m.event.name);
                            self.simple_cond(span, &prefix, cond, &limit);
                        }
                        None => {
                            self.simple(span, &format!("{sign}{amount} on {}{limit}", m.event.name))
                        }
                    },
                    PointsTrigger::Profile(cond) => {
                        self.simple_cond(span, &format!("{sign}{amount} when "), cond, &limit);
                    }
                }
            }
            ScoreStmtKind::Bound {
                is_upper,
                value,
                value_span,
            } => {
                let word = if *is_upper { "most" } else { "least" };
                let value =
                    raw(self.src, *value_span).map_or_else(|| number(*value), str::to_string);
                self.simple(span, &format!("at {word} {value}"));
            }
            ScoreStmtKind::Decay(Decay::HalfLife(d)) => {
                let text = format!("decay half_life {}", self.dur(d));
                self.simple(span, &text);
            }
            ScoreStmtKind::Decay(Decay::Step {
                percent,
                every,
                only_when_inactive,
                percent_span,
            }) => {
                let percent = raw(self.src, *percent_span)
                    .map_or_else(|| format!("{}%", number(*percent)), str::to_string);
                let inactive = if *only_when_inactive {
                    " of inactivity"
                } else {
                    ""
                };
                let text = format!("decay {percent} every {}{inactive}", self.dur(every));
                self.simple(span, &text);
            }
            ScoreStmtKind::TimeZone(zone) => {
                self.simple(span, &format!("time_zone {}", str_lit(zone)))
            }
        }
    }

    fn limit(&self, limit: &Limit) -> String {
        match &limit.kind {
            LimitKind::Once => " once".to_string(),
            LimitKind::Per { count, period } => {
                let period = match period {
                    LimitPeriod::Day => "day".to_string(),
                    LimitPeriod::Week => "week".to_string(),
                    LimitPeriod::Rolling(d) => duration(self.src, d),
                };
                format!(" limit {count} per {period}")
            }
        }
    }

    fn lifecycle_stmt(&mut self, stmt: &LifecycleStmt) {
        let span = stmt.span;
        match &stmt.kind {
            LifecycleStmtKind::Stages(stages) => {
                let names: Vec<&str> = stages.iter().map(|s| s.name.as_str()).collect();
                self.simple(span, &format!("stages {}", names.join(" > ")));
            }
            LifecycleStmtKind::Transition(t) => {
                let mut prefix =
                    format!("move {}to {}", if t.back { "back " } else { "" }, t.to.name);
                if !t.from.is_empty() {
                    let from: Vec<&str> = t.from.iter().map(|s| s.name.as_str()).collect();
                    prefix.push_str(" from ");
                    prefix.push_str(&from.join(", "));
                }
                match &t.condition {
                    TransitionCondition::When(cond) => {
                        self.simple_cond(span, &format!("{prefix} when "), cond, "")
                    }
                    TransitionCondition::On(m) => match &m.condition {
                        Some(cond) => self.simple_cond(
                            span,
                            &format!("{prefix} on {} where ", m.event.name),
                            cond,
                            "",
                        ),
                        None => self.simple(span, &format!("{prefix} on {}", m.event.name)),
                    },
                }
            }
            LifecycleStmtKind::Sla {
                stage,
                within,
                action,
            } => {
                let head = self.step_head_end(action);
                self.p.begin_stmt(span.start as usize, head);
                let text = format!("sla {} within {} else ", stage.name, self.dur(within));
                self.p.write(&text);
                self.step_inline(action);
            }
        }
    }

    fn route_rule(&mut self, rule: &RouteRule) {
        let target = match &rule.target {
            RouteTarget::Queue(q) => format!(" => queue {}", q.name),
            RouteTarget::Notify(who) => format!(" => notify {}", str_lit(who)),
        };
        match &rule.condition {
            Some(cond) => self.simple_cond(rule.span, "when ", cond, &target),
            None => self.simple(rule.span, &format!("otherwise{target}")),
        }
    }

    fn trigger(&self, t: &Trigger) -> String {
        match &t.kind {
            TriggerKind::Event(m) => format!("on {}", self.event_match(m)),
            TriggerKind::Segment { enters, segment } => {
                format!("{} segment {}", enters_word(*enters), segment.name)
            }
            TriggerKind::Stage { enters, stage } => {
                format!("{} stage {}", enters_word(*enters), stage.name)
            }
            TriggerKind::FieldChanges { field, from, to } => {
                let mut text = format!("{} changes", self.e(field));
                if let Some(from) = from {
                    text.push_str(" from ");
                    text.push_str(&expr_at(self.src, from, OPERAND));
                }
                if let Some(to) = to {
                    text.push_str(" to ");
                    text.push_str(&expr_at(self.src, to, OPERAND));
                }
                text
            }
            TriggerKind::ScoreCrosses {
                score,
                upward,
                threshold,
            } => format!(
                "{} crosses {} {}",
                score.name,
                if *upward { "above" } else { "below" },
                expr_at(self.src, threshold, OPERAND)
            ),
            TriggerKind::Date {
                offset,
                field,
                yearly,
                at,
            } => {
                // `on contact.x` and plain `contact.x` mean the same; the plain form also reads
                // well after `route … on`.
                let mut text = match offset {
                    DateOffset::On => String::new(),
                    DateOffset::Before(d) => format!("{} before ", self.dur(d)),
                    DateOffset::After(d) => format!("{} after ", self.dur(d)),
                };
                text.push_str("contact.");
                text.push_str(&field.name);
                if *yearly {
                    text.push_str(" yearly");
                }
                if let Some(at) = at {
                    text.push_str(" at ");
                    text.push_str(&time_of_day(self.src, at));
                }
                text
            }
        }
    }

    fn event_match(&self, m: &EventMatch) -> String {
        match &m.condition {
            Some(cond) => format!("{} where {}", m.event.name, self.e(cond)),
            None => m.event.name.clone(),
        }
    }

    fn quiet_hours(&self, q: &QuietHours) -> String {
        let channel = q
            .channel
            .as_ref()
            .map(|c| format!(" {}", c.name))
            .unwrap_or_default();
        format!(
            "quiet hours{channel} {} to {}{}",
            time_of_day(self.src, &q.from),
            time_of_day(self.src, &q.to),
            policy(q.policy)
        )
    }

    fn cap(&self, c: &FrequencyCap) -> String {
        format!(
            "cap {} {} per {}{}",
            c.channel.name,
            c.count,
            self.dur(&c.per),
            policy(c.policy)
        )
    }

    // ------------------------------------------------------------ journeys

    fn journey_body(&mut self, start: usize, header: &str, body: &JourneyBody) {
        let brace = self.find(body.span.start as usize, "{");
        self.p.begin_stmt(start, brace);
        self.p.write(header);
        self.p.write(" {");
        self.journey_block(brace, body);
    }

    /// The statements of a journey or template after its `{` (at `brace`).
    fn journey_block(&mut self, brace: usize, body: &JourneyBody) {
        self.block_body(brace, body.stmts.is_empty(), |f| {
            let mut last = 0;
            for stmt in &body.stmts {
                f.journey_stmt(stmt);
                last = f.end(stmt.span);
            }
            last
        });
    }

    fn journey_stmt(&mut self, stmt: &JourneyStmt) {
        let span = stmt.span;
        match &stmt.kind {
            JourneyStmtKind::Trigger(t) => {
                let text = format!("trigger {}", self.trigger(t));
                self.simple(span, &text);
            }
            JourneyStmtKind::Entry(e) => {
                let text = match &e.kind {
                    EntryRuleKind::Once => "entry once".to_string(),
                    EntryRuleKind::AgainAfter(d) => format!("entry again after {}", self.dur(d)),
                    EntryRuleKind::OneAtATime => "entry one at a time".to_string(),
                    EntryRuleKind::PerKey(key) => format!("entry per {}", key.name),
                };
                self.simple(span, &text);
            }
            JourneyStmtKind::Goal(c) => self.condition(span, "goal", c),
            JourneyStmtKind::Exit(c) => self.condition(span, "exit", c),
            JourneyStmtKind::QuietHours(q) => {
                let text = self.quiet_hours(q);
                self.simple(span, &text);
            }
            JourneyStmtKind::Cap(c) => {
                let text = self.cap(c);
                self.simple(span, &text);
            }
            JourneyStmtKind::Step(step) => self.step_stmt(step),
        }
    }

    fn condition(&mut self, span: Span, word: &str, c: &Condition) {
        match c {
            Condition::Segment { enters, segment } => {
                self.simple(
                    span,
                    &format!(
                        "{word} when {} segment {}",
                        enters_word(*enters),
                        segment.name
                    ),
                );
            }
            Condition::Event(m) => match &m.condition {
                Some(cond) => self.simple_cond(
                    span,
                    &format!("{word} on {} where ", m.event.name),
                    cond,
                    "",
                ),
                None => self.simple(span, &format!("{word} on {}", m.event.name)),
            },
            Condition::When(cond) => self.simple_cond(span, &format!("{word} when "), cond, ""),
        }
    }

    /// A step as a statement of a block.
    fn step_stmt(&mut self, step: &Step) {
        let head = self.step_head_end(step);
        self.p.begin_stmt(step.span.start as usize, head);
        self.step_inline(step);
    }

    /// Where the first printed line of a step ends in the source: its `{` for steps with a
    /// block, else its end.
    fn step_head_end(&self, step: &Step) -> usize {
        match &step.kind {
            StepKind::If { condition, .. } => self.find(self.end(condition.span), "{"),
            StepKind::Split { .. } | StepKind::RandomSplit { .. } => {
                self.find(step.span.start as usize, "{")
            }
            StepKind::WaitForEvent { on_timeout, .. } if !on_timeout.is_empty() => {
                match self.wait_else(step, on_timeout) {
                    (_, Branch::Block(brace)) => brace,
                    (_, Branch::Inline) => on_timeout
                        .first()
                        .map_or(self.end(step.span), |s| self.step_head_end(s)),
                }
            }
            StepKind::Send { params, .. } if !params.is_empty() => match self.send_entries(step) {
                Some((brace, entries)) => {
                    let extra = self.send_header(step).len()
                        + " with ".len()
                        + step.label.as_ref().map_or(0, |l| l.name.len() + 2);
                    if self
                        .inline_entries(brace, self.end(step.span), &entries, extra)
                        .is_some()
                    {
                        self.end(step.span)
                    } else {
                        brace
                    }
                }
                None => self.end(step.span),
            },
            _ => self.end(step.span),
        }
    }

    /// How wide the first line of a step is when printed alone (without comments).
    fn first_line_width(&self, step: &Step) -> usize {
        let mut alone = Formatter::new(self.src, &[]);
        alone.step_inline(step);
        let text = alone.finish();
        text.lines().next().map_or(0, |line| line.chars().count())
    }

    /// The `else` of `wait until … else …`: where the keyword is and how the branch goes on.
    fn wait_else(&self, step: &Step, on_timeout: &[Step]) -> (usize, Branch) {
        let from = match &step.kind {
            StepKind::WaitForEvent { event, timeout, .. } => {
                let mut from = self.end(event.event.span);
                if let Some(c) = &event.condition {
                    from = from.max(self.end(c.span));
                }
                if let Some(t) = timeout {
                    from = from.max(self.end(t.span()));
                }
                from
            }
            _ => step.span.start as usize,
        };
        let else_at = self.find(from, "else");
        (
            else_at,
            self.branch_kind(else_at + "else".len(), on_timeout),
        )
    }

    /// Whether the branch after `from` (just past `=>` or `else`) is a block or one step.
    fn branch_kind(&self, from: usize, steps: &[Step]) -> Branch {
        let at = self.skip_trivia(from);
        if steps.len() == 1 && !self.starts_with_at(at, "{") {
            Branch::Inline
        } else {
            Branch::Block(self.find(from, "{"))
        }
    }

    fn branch(&mut self, branch: Branch, steps: &[Step]) {
        match (branch, steps.first()) {
            (Branch::Inline, Some(step)) => self.step_inline(step),
            (Branch::Block(brace), _) => {
                self.p.write("{");
                self.steps_block(brace, steps);
            }
            // `branch_kind` never gives this; an empty block is the safe text.
            (Branch::Inline, None) => self.p.write("{}"),
        }
    }

    /// The steps of a block whose `{` (at `brace`) has just been written.
    fn steps_block(&mut self, brace: usize, steps: &[Step]) {
        self.block_body(brace, steps.is_empty(), |f| {
            let mut last = 0;
            for step in steps {
                f.step_stmt(step);
                last = f.end(step.span);
            }
            last
        });
    }

    fn send_header(&self, step: &Step) -> String {
        match &step.kind {
            StepKind::Send {
                channel, template, ..
            } => format!("send {} {}", channel.name, str_lit(template)),
            _ => String::new(),
        }
    }

    /// The `with { … }` parameters of a send step and the position of its `{`.
    fn send_entries(&self, step: &Step) -> Option<(usize, Vec<(Span, String)>)> {
        let StepKind::Send {
            template, params, ..
        } = &step.kind
        else {
            return None;
        };
        if params.is_empty() {
            return None;
        }
        let brace = self.find(template.span.end as usize, "{");
        Some((
            brace,
            params
                .iter()
                .map(|nv| (nv.span, self.named_value(nv)))
                .collect(),
        ))
    }

    fn named_value(&self, nv: &NamedValue) -> String {
        format!(
            "{}: {}",
            expr::path(nv.key.iter().map(|k| k.name.as_str())),
            self.e(&nv.value)
        )
    }

    /// Writes a step (label included) from the current position of the line and ends its
    /// last line.
    fn step_inline(&mut self, step: &Step) {
        if let Some(label) = &step.label {
            self.p.write(&format!("{}: ", label.name));
        }
        let end = self.end(step.span);
        let text = match &step.kind {
            StepKind::Send { params, .. } if !params.is_empty() => {
                let header = format!("{} with ", self.send_header(step));
                self.p.write(&header);
                if let Some((brace, entries)) = self.send_entries(step) {
                    match self.inline_entries(brace, end, &entries, 0) {
                        Some(list) => self.p.write(&list),
                        None => {
                            self.p.write("{");
                            self.entry_lines(brace, &entries);
                            return;
                        }
                    }
                }
                String::new()
            }
            StepKind::Send { .. } => self.send_header(step),
            StepKind::Wait(d) => format!("wait {}", self.dur(d)),
            StepKind::WaitForEvent {
                event,
                timeout,
                on_timeout,
            } => {
                // `on` may be left out, except before an event named like a day, which would
                // read as `wait until monday` (a time).
                let on = if WEEKDAYS.contains(&event.event.name.as_str()) {
                    "on "
                } else {
                    ""
                };
                let mut text = format!("wait until {on}{}", self.event_match(event));
                if let Some(t) = timeout {
                    text.push_str(" within ");
                    text.push_str(&self.dur(t));
                }
                if !on_timeout.is_empty() {
                    let (_, branch) = self.wait_else(step, on_timeout);
                    self.p.write(&text);
                    self.p.write(" else ");
                    self.branch(branch, on_timeout);
                    return;
                }
                text
            }
            StepKind::WaitForTime { time, days, zone } => {
                let mut text = "wait until".to_string();
                let days: Vec<&str> = days.iter().map(|d| d.name.as_str()).collect();
                match time {
                    Some(t) => {
                        text.push(' ');
                        text.push_str(&time_of_day(self.src, t));
                        if !days.is_empty() {
                            text.push_str(" on ");
                            text.push_str(&days.join(", "));
                        }
                    }
                    None => {
                        text.push(' ');
                        text.push_str(&days.join(", "));
                    }
                }
                if let Some(zone) = zone {
                    text.push_str(" in ");
                    text.push_str(&str_lit(zone));
                }
                text
            }
            StepKind::If {
                condition,
                then,
                otherwise,
            } => {
                self.if_chain(condition, then, otherwise.as_deref());
                return;
            }
            StepKind::Split { arms } => {
                self.arms_block(step.span, "split {", arms, |a| a.span, Self::split_arm);
                return;
            }
            StepKind::RandomSplit { arms } => {
                self.arms_block(
                    step.span,
                    "random split {",
                    arms,
                    |a| a.span,
                    Self::random_arm,
                );
                return;
            }
            StepKind::SetField { field, value } => {
                format!("set contact.{} = {}", field.name, self.e(value))
            }
            StepKind::Points {
                add, amount, score, ..
            } => {
                let (verb, prep) = if *add {
                    ("add", "to")
                } else {
                    ("remove", "from")
                };
                format!(
                    "{verb} {} points {prep} {}",
                    points_amount(amount),
                    score.name
                )
            }
            StepKind::List { add, list } => {
                let verb = if *add { "add to" } else { "remove from" };
                format!("{verb} list {}", str_lit(list))
            }
            StepKind::MoveToStage(stage) => format!("move to stage {}", stage.name),
            StepKind::RouteToQueue(queue) => format!("route to queue {}", queue.name),
            StepKind::RouteWith(route) => format!("route with {}", route.name),
            StepKind::Notify {
                queue,
                recipient,
                message,
            } => match (queue, recipient) {
                (Some(q), _) => format!("notify queue {} {}", q.name, str_lit(message)),
                (None, Some(r)) => format!("notify {} {}", str_lit(r), str_lit(message)),
                (None, None) => format!("notify {}", str_lit(message)),
            },
            StepKind::Webhook { method, url, body } => {
                let body = body
                    .as_ref()
                    .map(|b| format!(" with body {}", str_lit(b)))
                    .unwrap_or_default();
                format!("call webhook {method} {}{body}", str_lit(url))
            }
            StepKind::GoTo(label) => format!("go to {}", label.name),
            StepKind::End => "end".to_string(),
        };
        self.p.write(&text);
        self.p.end_line(end);
    }

    /// `if C { … } else if C { … } else { … }`, from the current position of the line.
    fn if_chain(&mut self, condition: &Expr, then: &[Step], otherwise: Option<&[Step]>) {
        let brace = self.find(self.end(condition.span), "{");
        self.p.write("if ");
        self.write_cond(condition, " {", 0);
        let Some(otherwise) = otherwise else {
            self.steps_block(brace, then);
            return;
        };
        // The `else` follows the then-block's `}` on the same line.
        self.p.end_line(brace + 1);
        self.p.open();
        let mut last = brace + 1;
        for step in then {
            self.step_stmt(step);
            last = self.end(step.span);
        }
        let close = self.find(last, "}");
        self.p.flush_before(close, true);
        self.p.close();
        let else_at = self.find(close + 1, "else");
        let after = self.skip_trivia(else_at + "else".len());
        match otherwise {
            [Step {
                label: None,
                kind:
                    StepKind::If {
                        condition,
                        then,
                        otherwise,
                    },
                ..
            }] if self.starts_with_at(after, "if") => {
                self.p.write("} else ");
                self.if_chain(condition, then, otherwise.as_deref());
            }
            steps => {
                let else_brace = self.find(after, "{");
                self.p.write("} else {");
                self.steps_block(else_brace, steps);
            }
        }
    }

    /// `split { … }` and `random split { … }`: the header, then one arm a line.
    fn arms_block<A>(
        &mut self,
        step: Span,
        header: &str,
        arms: &[A],
        span_of: fn(&A) -> Span,
        print_arm: fn(&mut Self, &A),
    ) {
        let brace = self.find(step.start as usize, "{");
        self.p.write(header);
        self.block_body(brace, arms.is_empty(), |f| {
            let mut last = 0;
            for arm in arms {
                print_arm(f, arm);
                last = f.end(span_of(arm));
            }
            last
        });
    }

    fn split_arm(&mut self, arm: &SplitArm) {
        let after = match &arm.condition {
            Some(c) => self.end(c.span),
            None => arm.span.start as usize,
        };
        let arrow = self.find(after, "=>");
        let branch = self.branch_kind(arrow + 2, &arm.steps);
        let head = match (&branch, arm.steps.first()) {
            (Branch::Inline, Some(step)) => self.step_head_end(step),
            (Branch::Block(brace), _) => *brace,
            (Branch::Inline, None) => self.end(arm.span),
        };
        self.p.begin_stmt(arm.span.start as usize, head);
        match &arm.condition {
            Some(cond) => {
                let rest = match (&branch, arm.steps.first()) {
                    (Branch::Inline, Some(step)) => self.first_line_width(step),
                    _ => 1,
                };
                self.p.write("when ");
                self.write_cond(cond, " => ", rest);
            }
            None => self.p.write("otherwise => "),
        }
        self.branch(branch, &arm.steps);
    }

    fn random_arm(&mut self, arm: &RandomArm) {
        let percent = raw(self.src, arm.percent_span)
            .map_or_else(|| format!("{}%", number(arm.percent)), str::to_string);
        let after = arm
            .label
            .as_ref()
            .map_or(arm.percent_span.end, |l| l.span.end) as usize;
        let arrow = self.find(after, "=>");
        let branch = self.branch_kind(arrow + 2, &arm.steps);
        let head = match (&branch, arm.steps.first()) {
            (Branch::Inline, Some(step)) => self.step_head_end(step),
            (Branch::Block(brace), _) => *brace,
            (Branch::Inline, None) => self.end(arm.span),
        };
        self.p.begin_stmt(arm.span.start as usize, head);
        self.p.write(&percent);
        if let Some(label) = &arm.label {
            self.p.write(" ");
            self.p.write(&label.name);
        }
        self.p.write(" => ");
        self.branch(branch, &arm.steps);
    }

    // ------------------------------------------------------------ tests

    fn test_stmt(&mut self, stmt: &TestStmt) {
        let span = stmt.span;
        match &stmt.kind {
            TestStmtKind::Contact { name, fields } => {
                let header = match name {
                    Some(n) => format!("contact {} ", n.name),
                    None => "contact ".to_string(),
                };
                let from = name.as_ref().map_or(span.start, |n| n.span.end) as usize;
                self.values_stmt(span, header, from, fields);
            }
            TestStmtKind::Event {
                at,
                contact,
                event,
                properties,
            } => {
                let who = contact
                    .as_ref()
                    .map(|c| format!("{}: ", c.name))
                    .unwrap_or_default();
                let header = format!("at {} {who}{}", self.time_point(at), event.name);
                if properties.is_empty() {
                    self.simple(span, &header);
                } else {
                    self.values_stmt(
                        span,
                        format!("{header} "),
                        event.span.end as usize,
                        properties,
                    );
                }
            }
            TestStmtKind::Identify {
                at,
                contact,
                fields,
                keyword,
            } => {
                let who = contact
                    .as_ref()
                    .map(|c| format!("{}: ", c.name))
                    .unwrap_or_default();
                let header = format!("at {} {who}identify ", self.time_point(at));
                self.values_stmt(span, header, keyword.end as usize, fields);
            }
            TestStmtKind::Expect {
                at,
                contact,
                expectation,
            } => {
                let mut text = String::new();
                if let Some(at) = at {
                    text.push_str(&format!("at {} ", self.time_point(at)));
                }
                text.push_str("expect ");
                if let Some(c) = contact {
                    text.push_str(&format!("{}: ", c.name));
                }
                text.push_str(&self.expectation(expectation));
                self.simple(span, &text);
            }
        }
    }

    /// `contact ana { … }`, `at +1h page_view { … }`: one line when short, else one value a line.
    fn values_stmt(
        &mut self,
        span: Span,
        header: String,
        brace_from: usize,
        values: &[NamedValue],
    ) {
        let brace = self.find(brace_from, "{");
        let entries: Vec<(Span, String)> = values
            .iter()
            .map(|nv| (nv.span, self.named_value(nv)))
            .collect();
        let end = self.end(span);
        match self.inline_entries(brace, end, &entries, header.len()) {
            Some(list) => self.simple(span, &format!("{header}{list}")),
            None => {
                self.p.begin_stmt(span.start as usize, brace);
                self.p.write(&header);
                self.p.write("{");
                self.entry_lines(brace, &entries);
            }
        }
    }

    fn time_point(&self, t: &TimePoint) -> String {
        match t {
            TimePoint::Absolute { raw: text, .. } => text.clone(),
            TimePoint::Offset { duration: d } => {
                let text = duration(self.src, d);
                if text.starts_with('+') {
                    text
                } else {
                    format!("+{text}")
                }
            }
        }
    }

    fn expectation(&self, e: &Expectation) -> String {
        match &e.kind {
            ExpectationKind::Score { score, check } => match check {
                ScoreCheck::Compare { op, value } => {
                    format!("{} {} {}", score.name, op.symbol(), number(*value))
                }
                ScoreCheck::Between { low, high } => {
                    format!(
                        "{} between {} and {}",
                        score.name,
                        number(*low),
                        number(*high)
                    )
                }
            },
            ExpectationKind::Stage(stage) => format!("stage == {}", stage.name),
            ExpectationKind::InSegment { segment, negated } => {
                format!("{}in {}", if *negated { "not " } else { "" }, segment.name)
            }
            ExpectationKind::Sent { channel, template } => {
                format!("sent {} {}", channel.name, str_lit(template))
            }
            ExpectationKind::Suppressed { channel, template } => {
                format!("suppressed {} {}", channel.name, str_lit(template))
            }
            ExpectationKind::NotSent { channel, template } => {
                format!("not sent {} {}", channel.name, str_lit(template))
            }
            ExpectationKind::Notified { target, negated } => {
                let not = if *negated { "not " } else { "" };
                match target {
                    NotifyTarget::Queue(queue) => format!("{not}notified queue {}", queue.name),
                    NotifyTarget::Address(address) => {
                        format!("{not}notified {}", str_lit(address))
                    }
                }
            }
            ExpectationKind::Listed { added, list } => format!(
                "{} list {}",
                if *added { "added to" } else { "removed from" },
                str_lit(list)
            ),
            ExpectationKind::RoutedTo(queue) => format!("routed to {}", queue.name),
            ExpectationKind::JourneyAt { journey, step } => {
                format!("journey {} at {}", journey.name, step.name)
            }
            ExpectationKind::NoActions => "no actions".to_string(),
        }
    }
}

/// The words `wait until` reads as days, not events.
const WEEKDAYS: [&str; 9] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "weekdays",
    "weekends",
];

/// Did an item print as one line (comments above it aside)?
fn is_one_line(printed: &str) -> bool {
    let code = printed.lines().filter(|l| {
        let l = l.trim_start();
        !l.is_empty() && !l.starts_with("//")
    });
    code.count() == 1
}

/// Items that are one line and of one kind stay together without blank lines.
fn one_line_group(item: &Item) -> Option<&'static str> {
    match &item.kind {
        ItemKind::Import(_) => Some("import"),
        ItemKind::Const(_) => Some("const"),
        ItemKind::Channel(_) => Some("channel"),
        ItemKind::Queue(_) => Some("queue"),
        ItemKind::Event(e) if e.properties.is_empty() => Some("event"),
        ItemKind::JourneyInstance(_) => Some("journey instance"),
        ItemKind::AccountScore(_) => Some("account score"),
        ItemKind::Cap(_) => Some("cap"),
        ItemKind::QuietHours(_) => Some("quiet hours"),
        _ => None,
    }
}

fn type_ref(t: &TypeRef) -> String {
    if t.is_list {
        format!("list of {}", t.name.name)
    } else {
        t.name.name.clone()
    }
}

fn field_decl(f: &FieldDecl) -> String {
    let optional = if f.optional { "optional " } else { "" };
    let wire = f
        .wire_name
        .as_ref()
        .map(|w| format!(" from {}", str_lit(w)))
        .unwrap_or_default();
    format!("{}: {optional}{}{wire}", f.name.name, type_ref(&f.ty))
}

fn points_amount(amount: &PointsAmount) -> String {
    match amount {
        PointsAmount::Number { value, raw } => {
            if raw.trim().is_empty() {
                number(*value)
            } else {
                raw.trim().to_string()
            }
        }
        PointsAmount::Constant(name) => name.name.clone(),
    }
}

fn enters_word(enters: bool) -> &'static str {
    if enters {
        "enters"
    } else {
        "leaves"
    }
}

fn policy(p: CapPolicy) -> &'static str {
    match p {
        CapPolicy::Defer => "",
        CapPolicy::Skip => " skip",
    }
}
