//! The pest parser, the translation of its errors into marketer's words, and the builder from
//! pest pairs to the untyped tree.

use pest::iterators::Pair;
use pest::Parser as _;
use pest_derive::Parser;

use super::ast::*;
use super::errors::{self, Found};
use super::recovery;
use super::{scan_comments, ParsedFile};
use crate::calendar;
use crate::diagnostics::Diagnostic;
use crate::source::{FileId, SourceFile, Span};

#[derive(Parser)]
#[grammar = "syntax/grammar.pest"]
pub(crate) struct MarketingParser;

/// How many errors one chunk may report before the rest of it is skipped.
const MAX_ERRORS_PER_CHUNK: usize = 32;

/// Parses one file into its tree, comments and syntax diagnostics; never stops at the first error.
pub fn parse_file(source: &SourceFile) -> ParsedFile {
    pest::set_error_detail(true);
    let mut diagnostics = Vec::new();
    let mut items = Vec::new();
    for chunk in recovery::chunks(&source.text) {
        parse_chunk(source, chunk, &mut items, &mut diagnostics);
    }
    ParsedFile {
        file: source.id,
        ast: File { items },
        comments: scan_comments(source.id, &source.text),
        diagnostics,
    }
}

fn parse_chunk(
    source: &SourceFile,
    chunk: std::ops::Range<usize>,
    items: &mut Vec<Item>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let original = &source.text[chunk.clone()];
    let mut text = original.to_string();
    let unclosed = recovery::unclosed_braces(&text);
    if let Some(&open) = unclosed.last() {
        let item = first_word(original).map_or("block", describe_item_keyword);
        diagnostics.push(errors::unclosed_brace(
            Span::new(source.id, chunk.start + open, chunk.start + open + 1),
            item,
        ));
        // Closing the blocks at the end keeps every offset of the chunk where it was.
        for _ in &unclosed {
            text.push_str("\n}");
        }
    }
    for _ in 0..MAX_ERRORS_PER_CHUNK {
        match MarketingParser::parse(Rule::file, &text) {
            Ok(mut pairs) => {
                let mut builder = Builder {
                    file: source.id,
                    offset: chunk.start,
                    diagnostics,
                };
                if let Some(file) = pairs.next() {
                    for pair in file.into_inner() {
                        if pair.as_rule() != Rule::EOI {
                            if let Some(item) = builder.item(pair) {
                                items.push(item);
                            }
                        }
                    }
                }
                return;
            }
            Err(error) => {
                let position = match error.location {
                    pest::error::InputLocation::Pos(p) => p,
                    pest::error::InputLocation::Span((p, _)) => p,
                }
                .min(original.len());
                // pest reports where the last rule started; the furthest literal it tried is
                // usually the real place (`job_title optional` wants a `:` after the name).
                let position = error
                    .parse_attempts()
                    .map_or(position, |a| a.max_position.clamp(position, original.len()));
                diagnostics.push(syntax_error(
                    source,
                    chunk.start,
                    original,
                    position,
                    &error,
                ));
                let range = recovery::statement_range(&text, position);
                if !recovery::blank(&mut text, range) {
                    return;
                }
            }
        }
    }
}

fn first_word(text: &str) -> Option<&str> {
    let trimmed = text.trim_start();
    let end = trimmed
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(trimmed.len());
    Some(&trimmed[..end]).filter(|w| !w.is_empty())
}

fn describe_item_keyword(word: &str) -> &'static str {
    match word {
        "score" => "score",
        "segment" => "segment",
        "journey" => "journey",
        "template" => "journey template",
        "contact" => "contact schema",
        "account" => "account",
        "event" => "event",
        "table" => "table",
        "lifecycle" => "lifecycle",
        "route" => "routing",
        "test" => "test",
        "enum" => "enum",
        _ => "block",
    }
}

// ------------------------------------------------------------------ errors in words

fn syntax_error(
    source: &SourceFile,
    chunk_start: usize,
    original: &str,
    position: usize,
    error: &pest::error::Error<Rule>,
) -> Diagnostic {
    if let Some(quote) = recovery::unterminated_quote(original, position) {
        return errors::unclosed_text(Span::new(
            source.id,
            chunk_start + quote,
            chunk_start + quote + 1,
        ));
    }
    let (found, length) = found_at(&source.text, chunk_start + position);
    let span = Span::new(
        source.id,
        chunk_start + position,
        chunk_start + position + length,
    );
    let mut expected: Vec<String> = Vec::new();
    let mut keywords: Vec<String> = Vec::new();
    let push = |text: String, expected: &mut Vec<String>| {
        if !expected.contains(&text) {
            expected.push(text);
        }
    };
    let rules_position = match error.location {
        pest::error::InputLocation::Pos(p) | pest::error::InputLocation::Span((p, _)) => p,
    };
    // The rules pest names were tried where the last rule started; when the furthest literal
    // lies beyond it (see `parse_chunk`), only the literals tried there describe the place.
    let positives = match &error.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } if rules_position >= position => {
            Some(positives)
        }
        _ => None,
    };
    if let Some(positives) = positives {
        let mut rules = positives.clone();
        rules.sort_by_key(|r| format!("{r:?}"));
        for rule in rules {
            let name = format!("{rule:?}");
            if let Some(word) = name.strip_prefix("k_") {
                keywords.push(word.to_string());
            }
            if let Some(text) = describe_rule(rule) {
                push(text, &mut expected);
            }
        }
    }
    if let Some(attempts) = error.parse_attempts() {
        for token in attempts.expected_tokens() {
            // The token type is not exported by pest; its display form is the literal itself.
            let token = token.to_string();
            if token == "BUILTIN_RULE"
                || token.contains("..")
                || matches!(token.as_str(), " " | "\t" | "//")
            {
                continue;
            }
            if let Some(text) = describe_token(&token) {
                push(text, &mut expected);
            }
            if token.chars().all(|c| c.is_ascii_alphabetic() || c == '_') {
                keywords.push(token);
            }
        }
    }
    // Inside a block the chunk's end is never what the writer meant.
    let depths = recovery::line_depths(original);
    if depths
        .before
        .iter()
        .zip(&depths.lines)
        .any(|(d, r)| *d > 0 && r.contains(&position))
    {
        expected.retain(|e| e != "the end of the file");
    }
    // Operators could always continue a value; listing them beside real alternatives is noise.
    if expected.len() > 1 {
        expected.retain(|e| e != OPERATOR);
    }
    // `_` can start a name; and every way a value can start is summed up by "a value or condition".
    expected.retain(|e| e != "`_`");
    if expected.iter().any(|e| e == VALUE) {
        expected.retain(|e| !VALUE_STARTS.contains(&e.as_str()));
    }
    // At the start of an item, the list of every item keyword says less than one example.
    let at_item_start = depths.lines.iter().zip(&depths.before).any(|(r, d)| {
        *d == 0 && r.contains(&position) && original[r.start..position].trim().is_empty()
    });
    if at_item_start && expected.len() > 4 {
        expected = vec!["a definition such as `score`, `segment`, `journey` or `test`".to_string()];
    }
    expected.sort_by_key(|e| (e.starts_with('`'), e.clone()));
    expected.truncate(8);
    let hint = context_hint(original, position);
    errors::unexpected(span, &found, &expected, &keywords, hint)
}

const OPERATOR: &str = "an operator";
const VALUE: &str = "a value or condition";
const VALUE_STARTS: &[&str] = &[
    "a text in quotes",
    "a number",
    "a percentage such as `10%`",
    "a duration such as `7d`",
    "an amount such as `500 EUR`",
    "a date such as `2026-03-02`",
    "a date and time such as `2026-03-02T09:00:00Z`",
    "a time of day such as `09:00`",
    "`true` or `false`",
    "a name",
    "`(`",
    "`[`",
    "`-`",
    "`not`",
    "`any`",
    "`average`",
    "`count`",
    "`last`",
    "`max`",
    "`min`",
    "`no`",
    "`sum`",
    "`true`",
    "`false`",
];

fn found_at(text: &str, position: usize) -> (Found, usize) {
    let rest = &text[position.min(text.len())..];
    let line = rest.split('\n').next().unwrap_or("");
    if rest.trim().is_empty() {
        return (Found::EndOfFile, 0);
    }
    if line.trim().is_empty() || line.trim_start().starts_with("//") {
        return (Found::EndOfLine, 0);
    }
    let word_length = line
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(line.len());
    let length = if word_length > 0 {
        word_length
    } else {
        line.chars().next().map_or(1, char::len_utf8)
    };
    let shown: String = line[..length].chars().take(40).collect();
    (Found::Text(shown), length)
}

fn describe_rule(rule: Rule) -> Option<String> {
    let name = format!("{rule:?}");
    if let Some(word) = name.strip_prefix("k_") {
        return Some(format!("`{word}`"));
    }
    let text = match rule {
        Rule::EOI => "the end of the file",
        Rule::ident | Rule::path | Rule::event_ref | Rule::contact_field => "a name",
        Rule::number | Rule::integer | Rule::signed_number | Rule::number_raw => "a number",
        Rule::percent => "a percentage such as `10%`",
        Rule::duration => "a duration such as `7d`",
        Rule::offset | Rule::time_point => "a time such as `+2h` or `2026-03-02T09:00:00Z`",
        Rule::money | Rule::currency => "an amount such as `500 EUR`",
        Rule::date => "a date such as `2026-03-02`",
        Rule::timestamp => "a date and time such as `2026-03-02T09:00:00Z`",
        Rule::time_of_day => "a time of day such as `09:00`",
        Rule::string | Rule::string_inner => "a text in quotes",
        Rule::boolean => "`true` or `false`",
        Rule::expr
        | Rule::or_expr
        | Rule::and_expr
        | Rule::not_expr
        | Rule::cmp_expr
        | Rule::coalesce
        | Rule::sum_expr
        | Rule::prod_expr
        | Rule::unary
        | Rule::neg
        | Rule::call
        | Rule::list
        | Rule::lookup
        | Rule::aggregate
        | Rule::agg_kind => VALUE,
        Rule::cmp_op => "a comparison such as `==` or `>=`",
        Rule::text_op | Rule::is_known | Rule::in_list | Rule::not_in_list | Rule::between => {
            "a comparison"
        }
        Rule::add_op | Rule::mul_op => OPERATOR,
        Rule::points => "points such as `+5` or `-10`",
        Rule::points_rule => "a score rule such as `+5 on page_view`",
        Rule::bound_stmt => "`at least` or `at most`",
        Rule::decay_stmt => "`decay`",
        Rule::score_tz => "`time_zone`",
        Rule::weekday | Rule::weekdays => "a day such as `monday` or `weekdays`",
        Rule::http_method => "`GET`, `POST`, `PUT`, `PATCH` or `DELETE`",
        Rule::consent_mode => "`opt_in` or `opt_out`",
        Rule::field_decl => "a field such as `job_title: optional text`",
        Rule::type_ref => "a type such as `text` or `number`",
        Rule::step => "a journey step such as `send`, `wait` or `if`",
        Rule::window => "`in the last`",
        Rule::table_row => "`row`",
        Rule::named_value => "a `name: value` pair",
        Rule::arg | Rule::param => "a parameter",
        Rule::route_rule => "a routing rule such as `when … => queue …`",
        Rule::route_target => "`queue` or `notify`",
        Rule::expectation
        | Rule::exp_sent
        | Rule::exp_not_sent
        | Rule::exp_notified
        | Rule::exp_list
        | Rule::exp_suppressed
        | Rule::exp_routed
        | Rule::exp_stage
        | Rule::exp_journey
        | Rule::exp_membership
        | Rule::exp_no_actions
        | Rule::exp_score => "an expectation",
        Rule::test_event => "an event",
        Rule::test_identify => "an identify",
        Rule::stages_stmt | Rule::transition_stmt | Rule::sla_stmt => "`stages`, `move` or `sla`",
        Rule::trig_segment
        | Rule::trig_stage
        | Rule::trig_changes
        | Rule::trig_crosses
        | Rule::trig_date
        | Rule::trig_event
        | Rule::date_offset => "a trigger",
        Rule::import_decl
        | Rule::const_decl
        | Rule::enum_decl
        | Rule::channel_decl
        | Rule::contact_decl
        | Rule::account_decl
        | Rule::account_score_decl
        | Rule::event_decl
        | Rule::table_decl
        | Rule::score_decl
        | Rule::segment_decl
        | Rule::lifecycle_decl
        | Rule::queue_decl
        | Rule::route_decl
        | Rule::journey_decl
        | Rule::journey_instance
        | Rule::template_decl
        | Rule::quiet_decl
        | Rule::cap_decl
        | Rule::timezone_decl
        | Rule::test_decl => "a definition such as `score`, `segment` or `journey`",
        _ => return None,
    };
    Some(text.to_string())
}

fn describe_token(token: &str) -> Option<String> {
    match token {
        "+" | "-" | "*" | "/" | "??" => Some(OPERATOR.to_string()),
        "==" | "!=" | "<" | "<=" | ">" | ">=" => {
            Some("a comparison such as `==` or `>=`".to_string())
        }
        "\r\n" | "\n" | "\r" => Some("the end of the line".to_string()),
        "\"" => Some("a text in quotes".to_string()),
        t if t.chars().all(|c| c.is_ascii_digit()) => Some("a number".to_string()),
        t => Some(format!("`{t}`")),
    }
}

/// How lines of the enclosing block read, for the `help` of a syntax error.
fn context_hint(chunk: &str, position: usize) -> Option<&'static str> {
    let item = first_word(chunk)?;
    let depths = recovery::line_depths(chunk);
    let line = depths
        .lines
        .iter()
        .position(|r| r.contains(&position))
        .unwrap_or(0);
    let inside_block = depths.before.get(line).copied().unwrap_or(0) > 0;
    let hint = match (item, inside_block) {
        ("score", true) => "score rules read `+5 on EVENT where CONDITION` or `+15 when CONDITION`, optionally followed by `limit 3 per day`; a score may also say `at least 0`, `at most 200` or `decay half_life 60d`",
        ("segment", _) => "a segment reads `segment NAME = CONDITION`, for example `segment hot = general_interest >= 60`",
        ("journey" | "template", true) => "journey lines are `trigger …`, `entry …`, `goal …`, `exit …` or steps such as `send email \"template\"`, `wait 2d`, `wait until EVENT within 7d` or `if CONDITION { … }`",
        ("contact" | "account" | "event", true) => "fields read `NAME: TYPE` or `NAME: optional TYPE`, for example `job_title: optional text`",
        ("lifecycle", true) => "lifecycle lines are `stages a > b > c`, `move to STAGE when CONDITION`, `move to STAGE on EVENT` or `sla STAGE within 48h else notify …`",
        ("route", true) => "routing rules read `when CONDITION => queue NAME`, ending with `otherwise => queue NAME`",
        ("test", true) => "test lines are `contact { … }`, `at TIME EVENT { … }`, `expect …` or `at TIME expect …`",
        ("table", true) => "table lines are columns `NAME: TYPE` or rows `row VALUE, VALUE`",
        ("enum", _) => "an enum reads `enum NAME { first, second }`",
        ("const", _) => "a constant reads `const NAME = VALUE`, for example `const mql_threshold = 100`",
        ("channel", _) => "a channel reads `channel email opt_in` or `channel push opt_out`",
        _ => "each file is a list of definitions: `contact`, `event`, `score`, `segment`, `lifecycle`, `route`, `journey`, `test` …",
    };
    Some(hint)
}

// ------------------------------------------------------------------ tree builder

struct Builder<'d> {
    file: FileId,
    offset: usize,
    diagnostics: &'d mut Vec<Diagnostic>,
}

/// The children of a pair that carry meaning (keywords dropped).
fn parts(pair: Pair<'_, Rule>) -> Vec<Pair<'_, Rule>> {
    pair.into_inner()
        .filter(|p| !is_keyword(p.as_rule()))
        .collect()
}

fn is_keyword(rule: Rule) -> bool {
    format!("{rule:?}").starts_with("k_")
}

fn has_keyword(pair: &Pair<'_, Rule>, keyword: Rule) -> bool {
    pair.clone().into_inner().any(|p| p.as_rule() == keyword)
}

impl Builder<'_> {
    /// The pair's span without the blanks and comment pest skips after a rule's last token
    /// (`path` in `last page_view where …` would otherwise end in a space).
    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let s = pair.as_span();
        let length = code_length(pair.as_str());
        Span::new(
            self.file,
            self.offset + s.start(),
            self.offset + s.start() + length,
        )
    }

    fn ident(&self, pair: &Pair<'_, Rule>) -> Ident {
        Ident {
            name: pair.as_str().to_string(),
            span: self.span(pair),
        }
    }

    fn string(&self, pair: &Pair<'_, Rule>) -> StrLit {
        let raw = pair.as_str();
        let inner = raw
            .strip_prefix('"')
            .and_then(|r| r.strip_suffix('"'))
            .unwrap_or(raw);
        StrLit {
            value: unescape(inner),
            span: self.span(pair),
        }
    }

    fn item(&mut self, pair: Pair<'_, Rule>) -> Option<Item> {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let kind = match rule {
            Rule::import_decl => {
                let mut names = Vec::new();
                let mut path = None;
                for p in parts(pair) {
                    match p.as_rule() {
                        Rule::ident => names.push(self.ident(&p)),
                        Rule::string => path = Some(self.string(&p)),
                        _ => {}
                    }
                }
                ItemKind::Import(Import { names, path: path? })
            }
            Rule::const_decl => {
                let mut name = None;
                let mut declared_type = None;
                let mut value = None;
                for p in parts(pair) {
                    match p.as_rule() {
                        Rule::ident => name = Some(self.ident(&p)),
                        Rule::type_ref => declared_type = Some(self.type_ref(p)),
                        Rule::expr => value = Some(self.expr(p)),
                        _ => {}
                    }
                }
                ItemKind::Const(ConstDecl {
                    name: name?,
                    declared_type,
                    value: value?,
                })
            }
            Rule::enum_decl => {
                let idents: Vec<Ident> = parts(pair).iter().map(|p| self.ident(p)).collect();
                let (name, variants) = idents.split_first()?;
                ItemKind::Enum(EnumDecl {
                    name: name.clone(),
                    variants: variants.to_vec(),
                })
            }
            Rule::channel_decl => {
                let ps = parts(pair);
                let mode_pair = ps.get(1)?;
                let mode = if mode_pair.as_str() == "opt_in" {
                    ConsentMode::OptIn
                } else {
                    ConsentMode::OptOut
                };
                ItemKind::Channel(ChannelDecl {
                    name: self.ident(ps.first()?),
                    mode,
                    mode_span: self.span(mode_pair),
                })
            }
            Rule::timezone_decl => ItemKind::DefaultTimeZone(self.string(parts(pair).first()?)),
            Rule::contact_decl => {
                let fields = parts(pair).into_iter().map(|p| self.field(p)).collect();
                ItemKind::Contact(RecordDecl { fields })
            }
            Rule::account_decl => {
                let mut idents = Vec::new();
                let mut fields = Vec::new();
                for p in parts(pair) {
                    match p.as_rule() {
                        Rule::ident => idents.push(self.ident(&p)),
                        Rule::field_decl => fields.push(self.field(p)),
                        _ => {}
                    }
                }
                let mut idents = idents.into_iter();
                ItemKind::Account(AccountDecl {
                    name: idents.next()?,
                    key: idents.next(),
                    fields,
                })
            }
            Rule::event_decl => {
                let mut name = None;
                let mut source = None;
                let mut properties = Vec::new();
                for p in parts(pair) {
                    match p.as_rule() {
                        Rule::ident => name = Some(self.ident(&p)),
                        Rule::event_source => {
                            let inner: Vec<Pair<'_, Rule>> = p.into_inner().collect();
                            let has = |rule: Rule| inner.iter().any(|q| q.as_rule() == rule);
                            source = if has(Rule::k_page) {
                                Some(EventSource::Page)
                            } else if has(Rule::k_screen) {
                                Some(EventSource::Screen)
                            } else {
                                inner
                                    .iter()
                                    .find(|q| q.as_rule() == Rule::string)
                                    .map(|q| EventSource::Track(self.string(q)))
                            };
                        }
                        Rule::field_decl => properties.push(self.field(p)),
                        _ => {}
                    }
                }
                ItemKind::Event(EventDecl {
                    name: name?,
                    source,
                    properties,
                })
            }
            Rule::table_decl => {
                let mut idents = Vec::new();
                let mut columns = Vec::new();
                let mut rows = Vec::new();
                for p in parts(pair) {
                    match p.as_rule() {
                        Rule::ident => idents.push(self.ident(&p)),
                        Rule::field_decl => columns.push(self.field(p)),
                        Rule::table_row => {
                            let row_span = self.span(&p);
                            let values = parts(p).into_iter().map(|e| self.expr(e)).collect();
                            rows.push(TableRow {
                                values,
                                span: row_span,
                            });
                        }
                        _ => {}
                    }
                }
                let mut idents = idents.into_iter();
                ItemKind::Table(TableDecl {
                    name: idents.next()?,
                    key: idents.next()?,
                    columns,
                    rows,
                })
            }
            Rule::score_decl => {
                let mut name = None;
                let mut title = None;
                let mut stmts = Vec::new();
                for p in parts(pair) {
                    match p.as_rule() {
                        Rule::ident => name = Some(self.ident(&p)),
                        Rule::string => title = Some(self.string(&p)),
                        _ => stmts.extend(self.score_stmt(p)),
                    }
                }
                ItemKind::Score(ScoreDecl {
                    name: name?,
                    title,
                    stmts,
                })
            }
            Rule::account_score_decl => {
                let ps = parts(pair);
                let agg = ps.get(1)?;
                let aggregate = match agg.clone().into_inner().next().map(|p| p.as_rule()) {
                    Some(Rule::k_max) => AccountAggregate::Max,
                    Some(Rule::k_min) => AccountAggregate::Min,
                    Some(Rule::k_average) => AccountAggregate::Average,
                    _ => AccountAggregate::Sum,
                };
                ItemKind::AccountScore(AccountScoreDecl {
                    name: self.ident(ps.first()?),
                    aggregate,
                    aggregate_span: self.span(agg),
                    of_score: self.ident(ps.get(2)?),
                })
            }
            Rule::segment_decl => {
                let mut name = None;
                let mut title = None;
                let mut condition = None;
                for p in parts(pair) {
                    match p.as_rule() {
                        Rule::ident => name = Some(self.ident(&p)),
                        Rule::string => title = Some(self.string(&p)),
                        Rule::expr => condition = Some(self.expr(p)),
                        _ => {}
                    }
                }
                ItemKind::Segment(SegmentDecl {
                    name: name?,
                    title,
                    condition: condition?,
                })
            }
            Rule::lifecycle_decl => {
                let stmts = parts(pair)
                    .into_iter()
                    .filter_map(|p| self.lifecycle_stmt(p))
                    .collect();
                ItemKind::Lifecycle(LifecycleDecl { stmts })
            }
            Rule::queue_decl => {
                let mut name = None;
                let mut title = None;
                let mut round_robin = None;
                for p in parts(pair) {
                    match p.as_rule() {
                        Rule::ident => name = Some(self.ident(&p)),
                        Rule::string => title = Some(self.string(&p)),
                        Rule::list => round_robin = Some(self.expr(p)),
                        _ => {}
                    }
                }
                ItemKind::Queue(QueueDecl {
                    name: name?,
                    title,
                    round_robin,
                })
            }
            Rule::route_decl => {
                let mut name = None;
                let mut trigger = None;
                let mut rules = Vec::new();
                for p in parts(pair) {
                    match p.as_rule() {
                        Rule::ident => name = Some(self.ident(&p)),
                        Rule::route_rule => rules.extend(self.route_rule(p)),
                        _ => trigger = trigger.or_else(|| self.trigger(p)),
                    }
                }
                ItemKind::Route(RouteDecl {
                    name: name?,
                    trigger: trigger?,
                    rules,
                })
            }
            Rule::journey_decl => {
                let mut name = None;
                let mut title = None;
                let mut body = None;
                for p in parts(pair) {
                    match p.as_rule() {
                        Rule::ident => name = Some(self.ident(&p)),
                        Rule::string => title = Some(self.string(&p)),
                        Rule::journey_body => body = Some(self.journey_body(p)),
                        _ => {}
                    }
                }
                ItemKind::Journey(JourneyDecl {
                    name: name?,
                    title,
                    body: body?,
                })
            }
            Rule::template_decl => {
                let mut name = None;
                let mut params = Vec::new();
                let mut body = None;
                for p in parts(pair) {
                    match p.as_rule() {
                        Rule::ident => name = Some(self.ident(&p)),
                        Rule::param => params.extend(self.param(p)),
                        Rule::journey_body => body = Some(self.journey_body(p)),
                        _ => {}
                    }
                }
                ItemKind::Template(TemplateDecl {
                    name: name?,
                    params,
                    body: body?,
                })
            }
            Rule::journey_instance => {
                let mut idents = Vec::new();
                let mut args = Vec::new();
                for p in parts(pair) {
                    match p.as_rule() {
                        Rule::ident => idents.push(self.ident(&p)),
                        Rule::arg => args.extend(self.arg(p)),
                        _ => {}
                    }
                }
                let mut idents = idents.into_iter();
                ItemKind::JourneyInstance(JourneyInstance {
                    name: idents.next()?,
                    template: idents.next()?,
                    args,
                })
            }
            Rule::quiet_decl => ItemKind::QuietHours(self.quiet_hours(pair)?),
            Rule::cap_decl => ItemKind::Cap(self.cap(pair)?),
            Rule::test_decl => {
                let mut name = None;
                let mut stmts = Vec::new();
                for p in parts(pair) {
                    match p.as_rule() {
                        Rule::string => name = Some(self.string(&p)),
                        _ => stmts.extend(self.test_stmt(p)),
                    }
                }
                ItemKind::Test(TestDecl { name: name?, stmts })
            }
            _ => return None,
        };
        Some(Item { kind, span })
    }

    fn field(&mut self, pair: Pair<'_, Rule>) -> FieldDecl {
        let span = self.span(&pair);
        let optional = has_keyword(&pair, Rule::k_optional);
        let mut name = None;
        let mut ty = None;
        let mut wire_name = None;
        for p in parts(pair) {
            match p.as_rule() {
                Rule::ident => name = Some(self.ident(&p)),
                Rule::type_ref => ty = Some(self.type_ref(p)),
                Rule::string => wire_name = Some(self.string(&p)),
                _ => {}
            }
        }
        let name = name.unwrap_or_else(|| Ident {
            name: String::new(),
            span,
        });
        let ty = ty.unwrap_or_else(|| TypeRef {
            name: Ident {
                name: String::new(),
                span,
            },
            is_list: false,
            span,
        });
        FieldDecl {
            name,
            optional,
            ty,
            wire_name,
            span,
        }
    }

    fn type_ref(&mut self, pair: Pair<'_, Rule>) -> TypeRef {
        let span = self.span(&pair);
        let is_list = has_keyword(&pair, Rule::k_list);
        let name = parts(pair).first().map_or(
            Ident {
                name: String::new(),
                span,
            },
            |p| self.ident(p),
        );
        TypeRef {
            name,
            is_list,
            span,
        }
    }

    // -------------------------------------------------------------- scores

    fn score_stmt(&mut self, pair: Pair<'_, Rule>) -> Option<ScoreStmt> {
        let span = self.span(&pair);
        let kind = match pair.as_rule() {
            Rule::points_rule => {
                let mut points = None;
                let mut trigger = None;
                let mut limit = None;
                for p in parts(pair) {
                    match p.as_rule() {
                        Rule::points => points = Some(self.points(p)),
                        Rule::event_trigger => {
                            trigger = Some(PointsTrigger::Event(self.event_match(p)?))
                        }
                        Rule::profile_trigger => {
                            trigger = Some(PointsTrigger::Profile(
                                self.expr(parts(p).into_iter().next()?),
                            ))
                        }
                        Rule::limit_clause => limit = self.limit(p),
                        _ => {}
                    }
                }
                ScoreStmtKind::Points(PointsRule {
                    points: points?,
                    trigger: trigger?,
                    limit,
                })
            }
            Rule::bound_stmt => {
                let is_upper = has_keyword(&pair, Rule::k_most);
                let value_pair = parts(pair).into_iter().next()?;
                let value = parse_number(value_pair.as_str());
                ScoreStmtKind::Bound {
                    is_upper,
                    value,
                    value_span: self.span(&value_pair),
                }
            }
            Rule::decay_stmt => {
                let half_life = has_keyword(&pair, Rule::k_half_life);
                let inactivity = has_keyword(&pair, Rule::k_inactivity);
                let ps = parts(pair);
                if half_life {
                    ScoreStmtKind::Decay(Decay::HalfLife(self.duration_ref(ps.first()?)))
                } else {
                    let percent = ps.first()?;
                    ScoreStmtKind::Decay(Decay::Step {
                        percent: parse_number(percent.as_str().trim_end_matches('%')),
                        percent_span: self.span(percent),
                        every: self.duration_ref(ps.get(1)?),
                        only_when_inactive: inactivity,
                    })
                }
            }
            Rule::score_tz => ScoreStmtKind::TimeZone(self.string(parts(pair).first()?)),
            _ => return None,
        };
        Some(ScoreStmt { kind, span })
    }

    fn points(&mut self, pair: Pair<'_, Rule>) -> Points {
        let span = self.span(&pair);
        let text = pair.as_str();
        let negative = text.starts_with('-');
        let amount = match pair.into_inner().next() {
            Some(p) if p.as_rule() == Rule::ident => PointsAmount::Constant(self.ident(&p)),
            Some(p) => PointsAmount::Number {
                value: parse_number(p.as_str()),
                raw: p.as_str().to_string(),
            },
            None => PointsAmount::Number {
                value: 0.0,
                raw: "0".to_string(),
            },
        };
        Points {
            negative,
            amount,
            span,
        }
    }

    fn limit(&mut self, pair: Pair<'_, Rule>) -> Option<Limit> {
        let span = self.span(&pair);
        if has_keyword(&pair, Rule::k_once) {
            return Some(Limit {
                kind: LimitKind::Once,
                span,
            });
        }
        let is_day = has_keyword(&pair, Rule::k_day);
        let is_week = has_keyword(&pair, Rule::k_week);
        let ps = parts(pair);
        let count = ps.first()?.as_str().parse::<u32>().unwrap_or(u32::MAX);
        let period = if is_day {
            LimitPeriod::Day
        } else if is_week {
            LimitPeriod::Week
        } else {
            LimitPeriod::Rolling(self.duration(ps.get(1)?))
        };
        Some(Limit {
            kind: LimitKind::Per { count, period },
            span,
        })
    }

    fn event_match(&mut self, pair: Pair<'_, Rule>) -> Option<EventMatch> {
        let span = self.span(&pair);
        let mut event = None;
        let mut condition = None;
        for p in parts(pair) {
            match p.as_rule() {
                Rule::ident => event = Some(self.ident(&p)),
                Rule::expr => condition = Some(self.expr(p)),
                _ => {}
            }
        }
        Some(EventMatch {
            event: event?,
            condition,
            span,
        })
    }

    // -------------------------------------------------------------- lifecycle and routing

    fn lifecycle_stmt(&mut self, pair: Pair<'_, Rule>) -> Option<LifecycleStmt> {
        let span = self.span(&pair);
        let kind = match pair.as_rule() {
            Rule::stages_stmt => {
                LifecycleStmtKind::Stages(parts(pair).iter().map(|p| self.ident(p)).collect())
            }
            Rule::transition_stmt => {
                let back = has_keyword(&pair, Rule::k_back);
                let mut stages = Vec::new();
                let mut condition = None;
                for p in parts(pair) {
                    match p.as_rule() {
                        Rule::ident => stages.push(self.ident(&p)),
                        Rule::transition_cond => {
                            let inner = parts(p).into_iter().next()?;
                            condition = Some(match inner.as_rule() {
                                Rule::event_trigger => {
                                    TransitionCondition::On(self.event_match(inner)?)
                                }
                                _ => TransitionCondition::When(self.expr(inner)),
                            });
                        }
                        _ => {}
                    }
                }
                let mut stages = stages.into_iter();
                let to = stages.next()?;
                LifecycleStmtKind::Transition(Transition {
                    back,
                    to,
                    from: stages.collect(),
                    condition: condition?,
                })
            }
            Rule::sla_stmt => {
                let ps = parts(pair);
                let stage = self.ident(ps.first()?);
                let within = self.duration_ref(ps.get(1)?);
                let action = self.step_from_body(ps.get(2)?.clone())?;
                LifecycleStmtKind::Sla {
                    stage,
                    within,
                    action: Box::new(action),
                }
            }
            _ => return None,
        };
        Some(LifecycleStmt { kind, span })
    }

    fn route_rule(&mut self, pair: Pair<'_, Rule>) -> Option<RouteRule> {
        let span = self.span(&pair);
        let mut condition = None;
        let mut target = None;
        for p in parts(pair) {
            match p.as_rule() {
                Rule::expr => condition = Some(self.expr(p)),
                Rule::route_target => {
                    let is_queue = has_keyword(&p, Rule::k_queue);
                    let inner = parts(p).into_iter().next()?;
                    target = Some(if is_queue {
                        RouteTarget::Queue(self.ident(&inner))
                    } else {
                        RouteTarget::Notify(self.string(&inner))
                    });
                }
                _ => {}
            }
        }
        Some(RouteRule {
            condition,
            target: target?,
            span,
        })
    }

    // -------------------------------------------------------------- journeys

    fn journey_body(&mut self, pair: Pair<'_, Rule>) -> JourneyBody {
        let span = self.span(&pair);
        let stmts = parts(pair)
            .into_iter()
            .filter_map(|p| self.journey_stmt(p))
            .collect();
        JourneyBody { stmts, span }
    }

    fn journey_stmt(&mut self, pair: Pair<'_, Rule>) -> Option<JourneyStmt> {
        let span = self.span(&pair);
        let kind = match pair.as_rule() {
            Rule::trigger_stmt => {
                JourneyStmtKind::Trigger(self.trigger(parts(pair).into_iter().next()?)?)
            }
            Rule::entry_stmt => {
                let once = has_keyword(&pair, Rule::k_once);
                let again = has_keyword(&pair, Rule::k_again);
                let one = has_keyword(&pair, Rule::k_one);
                let ps = parts(pair);
                let kind = if once {
                    EntryRuleKind::Once
                } else if again {
                    EntryRuleKind::AgainAfter(self.duration_ref(ps.first()?))
                } else if one {
                    EntryRuleKind::OneAtATime
                } else {
                    EntryRuleKind::PerKey(self.ident(ps.first()?))
                };
                JourneyStmtKind::Entry(EntryRule { kind, span })
            }
            Rule::goal_stmt => {
                JourneyStmtKind::Goal(self.condition(parts(pair).into_iter().next()?)?)
            }
            Rule::exit_stmt => {
                JourneyStmtKind::Exit(self.condition(parts(pair).into_iter().next()?)?)
            }
            Rule::quiet_decl => JourneyStmtKind::QuietHours(self.quiet_hours(pair)?),
            Rule::cap_decl => JourneyStmtKind::Cap(self.cap(pair)?),
            Rule::step => JourneyStmtKind::Step(self.step(pair)?),
            _ => return None,
        };
        Some(JourneyStmt { kind, span })
    }

    fn trigger(&mut self, pair: Pair<'_, Rule>) -> Option<Trigger> {
        let span = self.span(&pair);
        let kind = match pair.as_rule() {
            Rule::trig_event | Rule::route_event => TriggerKind::Event(self.event_match(pair)?),
            Rule::trig_segment => {
                let enters = has_keyword(&pair, Rule::k_enters);
                TriggerKind::Segment {
                    enters,
                    segment: self.ident(parts(pair).first()?),
                }
            }
            Rule::trig_stage => {
                let enters = has_keyword(&pair, Rule::k_enters);
                TriggerKind::Stage {
                    enters,
                    stage: self.ident(parts(pair).first()?),
                }
            }
            Rule::trig_changes => {
                let mut field = None;
                let mut from = None;
                let mut to = None;
                let mut after_from = false;
                let mut after_to = false;
                for p in pair.into_inner() {
                    match p.as_rule() {
                        Rule::path => field = Some(self.path(p)),
                        Rule::k_from => after_from = true,
                        Rule::k_to => after_to = true,
                        Rule::coalesce if after_to => to = Some(self.expr(p)),
                        Rule::coalesce if after_from => from = Some(self.expr(p)),
                        _ => {}
                    }
                }
                TriggerKind::FieldChanges {
                    field: field?,
                    from,
                    to,
                }
            }
            Rule::trig_crosses => {
                let upward = has_keyword(&pair, Rule::k_above);
                let ps = parts(pair);
                TriggerKind::ScoreCrosses {
                    score: self.ident(ps.first()?),
                    upward,
                    threshold: self.expr(ps.get(1)?.clone()),
                }
            }
            Rule::trig_date => {
                let yearly = has_keyword(&pair, Rule::k_yearly);
                let mut offset = DateOffset::On;
                let mut field = None;
                let mut at = None;
                for p in parts(pair) {
                    match p.as_rule() {
                        Rule::date_offset => {
                            let before = has_keyword(&p, Rule::k_before);
                            let after = has_keyword(&p, Rule::k_after);
                            if let Some(d) = parts(p).first() {
                                let d = self.duration_ref(d);
                                offset = if before {
                                    DateOffset::Before(d)
                                } else if after {
                                    DateOffset::After(d)
                                } else {
                                    DateOffset::On
                                };
                            }
                        }
                        Rule::contact_field => field = parts(p).first().map(|f| self.ident(f)),
                        Rule::time_of_day => at = Some(self.time_of_day(&p)),
                        _ => {}
                    }
                }
                TriggerKind::Date {
                    offset,
                    field: field?,
                    yearly,
                    at,
                }
            }
            _ => return None,
        };
        Some(Trigger { kind, span })
    }

    fn condition(&mut self, pair: Pair<'_, Rule>) -> Option<Condition> {
        let inner = parts(pair).into_iter().next()?;
        Some(match inner.as_rule() {
            Rule::cond_segment => {
                let enters = has_keyword(&inner, Rule::k_enters);
                Condition::Segment {
                    enters,
                    segment: self.ident(parts(inner).first()?),
                }
            }
            Rule::trig_event => Condition::Event(self.event_match(inner)?),
            _ => Condition::When(self.expr(inner)),
        })
    }

    fn quiet_hours(&mut self, pair: Pair<'_, Rule>) -> Option<QuietHours> {
        let policy = if has_keyword(&pair, Rule::k_skip) {
            CapPolicy::Skip
        } else {
            CapPolicy::Defer
        };
        let mut channel = None;
        let mut times = Vec::new();
        for p in parts(pair) {
            match p.as_rule() {
                Rule::ident => channel = Some(self.ident(&p)),
                Rule::time_of_day => times.push(self.time_of_day(&p)),
                _ => {}
            }
        }
        Some(QuietHours {
            channel,
            from: *times.first()?,
            to: *times.get(1)?,
            policy,
        })
    }

    fn cap(&mut self, pair: Pair<'_, Rule>) -> Option<FrequencyCap> {
        let policy = if has_keyword(&pair, Rule::k_skip) {
            CapPolicy::Skip
        } else {
            CapPolicy::Defer
        };
        let ps = parts(pair);
        let count_pair = ps.get(1)?;
        Some(FrequencyCap {
            channel: self.ident(ps.first()?),
            count: count_pair.as_str().parse().unwrap_or(u32::MAX),
            count_span: self.span(count_pair),
            per: self.duration_ref(ps.get(2)?),
            policy,
        })
    }

    fn step(&mut self, pair: Pair<'_, Rule>) -> Option<Step> {
        let span = self.span(&pair);
        let mut label = None;
        let mut body = None;
        for p in parts(pair) {
            if p.as_rule() == Rule::ident && body.is_none() && label.is_none() {
                label = Some(self.ident(&p));
            } else {
                body = Some(p);
            }
        }
        let mut step = self.step_from_body(body?)?;
        step.label = label;
        step.span = span;
        Some(step)
    }

    fn steps(&mut self, pair: Pair<'_, Rule>) -> Vec<Step> {
        match pair.as_rule() {
            Rule::step_block => parts(pair)
                .into_iter()
                .filter_map(|p| self.step(p))
                .collect(),
            Rule::step => self.step(pair).into_iter().collect(),
            _ => self.step_from_body(pair).into_iter().collect(),
        }
    }

    fn step_from_body(&mut self, pair: Pair<'_, Rule>) -> Option<Step> {
        if pair.as_rule() == Rule::step {
            return self.step(pair);
        }
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let kind = match rule {
            Rule::send_step => {
                let ps = parts(pair);
                let params = ps
                    .iter()
                    .skip(2)
                    .filter_map(|p| self.named_value(p.clone()))
                    .collect();
                StepKind::Send {
                    channel: self.ident(ps.first()?),
                    template: self.string(ps.get(1)?),
                    params,
                }
            }
            Rule::wait_step => StepKind::Wait(self.duration_ref(parts(pair).first()?)),
            Rule::wait_event_step => {
                let mut event = None;
                let mut condition = None;
                let mut timeout = None;
                let mut on_timeout = Vec::new();
                let event_span = span;
                for p in parts(pair) {
                    match p.as_rule() {
                        Rule::ident if event.is_none() => event = Some(self.ident(&p)),
                        Rule::ident | Rule::duration => timeout = Some(self.duration_ref(&p)),
                        Rule::expr => condition = Some(self.expr(p)),
                        Rule::step_block | Rule::step => on_timeout = self.steps(p),
                        _ => {}
                    }
                }
                StepKind::WaitForEvent {
                    event: EventMatch {
                        event: event?,
                        condition,
                        span: event_span,
                    },
                    timeout,
                    on_timeout,
                }
            }
            Rule::wait_time_step => {
                let mut time = None;
                let mut days = Vec::new();
                let mut zone = None;
                for p in parts(pair) {
                    match p.as_rule() {
                        Rule::time_of_day => time = Some(self.time_of_day(&p)),
                        Rule::weekdays => days = p.into_inner().map(|d| self.ident(&d)).collect(),
                        Rule::string => zone = Some(self.string(&p)),
                        _ => {}
                    }
                }
                StepKind::WaitForTime { time, days, zone }
            }
            Rule::if_step => {
                let mut condition = None;
                let mut branches: Vec<Vec<Step>> = Vec::new();
                for p in parts(pair) {
                    match p.as_rule() {
                        Rule::expr => condition = Some(self.expr(p)),
                        // `else if …` is an `if` step alone in the else branch.
                        _ => branches.push(self.steps(p)),
                    }
                }
                let mut branches = branches.into_iter();
                let then = branches.next().unwrap_or_default();
                StepKind::If {
                    condition: condition?,
                    then,
                    otherwise: branches.next(),
                }
            }
            Rule::split_step => {
                let mut arms = Vec::new();
                for arm in parts(pair) {
                    let arm_span = self.span(&arm);
                    let mut condition = None;
                    let mut steps = Vec::new();
                    for p in parts(arm) {
                        match p.as_rule() {
                            Rule::expr => condition = Some(self.expr(p)),
                            _ => steps = self.steps(p),
                        }
                    }
                    arms.push(SplitArm {
                        condition,
                        steps,
                        span: arm_span,
                    });
                }
                StepKind::Split { arms }
            }
            Rule::random_split_step => {
                let mut arms = Vec::new();
                for arm in parts(pair) {
                    let arm_span = self.span(&arm);
                    let mut percent = None;
                    let mut label = None;
                    let mut steps = Vec::new();
                    for p in parts(arm) {
                        match p.as_rule() {
                            Rule::percent => {
                                percent = Some((
                                    parse_number(p.as_str().trim_end_matches('%')),
                                    self.span(&p),
                                ))
                            }
                            Rule::ident => label = Some(self.ident(&p)),
                            _ => steps = self.steps(p),
                        }
                    }
                    let (percent, percent_span) = percent?;
                    arms.push(RandomArm {
                        percent,
                        percent_span,
                        label,
                        steps,
                        span: arm_span,
                    });
                }
                StepKind::RandomSplit { arms }
            }
            Rule::set_step => {
                let ps = parts(pair);
                let field = parts(ps.first()?.clone()).first().map(|f| self.ident(f))?;
                StepKind::SetField {
                    field,
                    value: self.expr(ps.get(1)?.clone()),
                }
            }
            Rule::points_step => {
                let add = has_keyword(&pair, Rule::k_add);
                let ps = parts(pair);
                let amount_pair = ps.first()?;
                let amount = match amount_pair.as_rule() {
                    Rule::ident => PointsAmount::Constant(self.ident(amount_pair)),
                    _ => PointsAmount::Number {
                        value: parse_number(amount_pair.as_str()),
                        raw: amount_pair.as_str().to_string(),
                    },
                };
                StepKind::Points {
                    add,
                    amount,
                    amount_span: self.span(amount_pair),
                    score: self.ident(ps.get(1)?),
                }
            }
            Rule::list_step => {
                let add = has_keyword(&pair, Rule::k_add);
                StepKind::List {
                    add,
                    list: self.string(parts(pair).first()?),
                }
            }
            Rule::stage_step => StepKind::MoveToStage(self.ident(parts(pair).first()?)),
            Rule::route_step => {
                let with = has_keyword(&pair, Rule::k_with);
                let name = self.ident(parts(pair).first()?);
                if with {
                    StepKind::RouteWith(name)
                } else {
                    StepKind::RouteToQueue(name)
                }
            }
            Rule::notify_step => {
                let ps = parts(pair);
                let mut queue = None;
                let mut strings = Vec::new();
                for p in &ps {
                    match p.as_rule() {
                        Rule::ident => queue = Some(self.ident(p)),
                        _ => strings.push(self.string(p)),
                    }
                }
                let message = strings.pop()?;
                StepKind::Notify {
                    queue,
                    recipient: strings.pop(),
                    message,
                }
            }
            Rule::webhook_step => {
                let ps = parts(pair);
                StepKind::Webhook {
                    method: ps.first()?.as_str().to_string(),
                    url: self.string(ps.get(1)?),
                    body: ps.get(2).map(|b| self.string(b)),
                }
            }
            Rule::goto_step => StepKind::GoTo(self.ident(parts(pair).first()?)),
            Rule::end_step => StepKind::End,
            _ => return None,
        };
        Some(Step {
            label: None,
            kind,
            span,
        })
    }

    fn named_value(&mut self, pair: Pair<'_, Rule>) -> Option<NamedValue> {
        let span = self.span(&pair);
        let ps = parts(pair);
        let key = ps
            .first()?
            .clone()
            .into_inner()
            .map(|p| self.ident(&p))
            .collect();
        Some(NamedValue {
            key,
            value: self.expr(ps.get(1)?.clone()),
            span,
        })
    }

    fn param(&mut self, pair: Pair<'_, Rule>) -> Option<Param> {
        let span = self.span(&pair);
        let ps = parts(pair);
        Some(Param {
            name: self.ident(ps.first()?),
            ty: self.type_ref(ps.get(1)?.clone()),
            default: ps.get(2).map(|e| self.expr(e.clone())),
            span,
        })
    }

    fn arg(&mut self, pair: Pair<'_, Rule>) -> Option<Arg> {
        let span = self.span(&pair);
        let mut name = None;
        let mut value = None;
        for p in parts(pair) {
            match p.as_rule() {
                Rule::ident => name = Some(self.ident(&p)),
                _ => value = Some(self.expr(p)),
            }
        }
        Some(Arg {
            name,
            value: value?,
            span,
        })
    }

    // -------------------------------------------------------------- tests

    fn test_stmt(&mut self, pair: Pair<'_, Rule>) -> Option<TestStmt> {
        let span = self.span(&pair);
        let kind = match pair.as_rule() {
            Rule::test_contact => {
                let mut name = None;
                let mut fields = Vec::new();
                for p in parts(pair) {
                    match p.as_rule() {
                        Rule::ident => name = Some(self.ident(&p)),
                        _ => fields.extend(self.named_value(p)),
                    }
                }
                TestStmtKind::Contact { name, fields }
            }
            Rule::test_at => {
                let ps = parts(pair);
                let at = self.time_point(ps.first()?.clone());
                let body = ps.get(1)?.clone();
                match body.as_rule() {
                    Rule::test_expect => {
                        let (contact, expectation) = self.expectation(body)?;
                        TestStmtKind::Expect {
                            at: Some(at),
                            contact,
                            expectation,
                        }
                    }
                    Rule::test_identify => {
                        let keyword = body
                            .clone()
                            .into_inner()
                            .find(|p| p.as_rule() == Rule::k_identify)
                            .map_or(span, |k| self.span(&k));
                        let mut contact = None;
                        let mut fields = Vec::new();
                        for p in parts(body) {
                            match p.as_rule() {
                                Rule::ident => contact = Some(self.ident(&p)),
                                _ => fields.extend(self.named_value(p)),
                            }
                        }
                        TestStmtKind::Identify {
                            at,
                            contact,
                            fields,
                            keyword,
                        }
                    }
                    _ => {
                        let mut idents = Vec::new();
                        let mut properties = Vec::new();
                        for p in parts(body) {
                            match p.as_rule() {
                                Rule::ident => idents.push(self.ident(&p)),
                                _ => properties.extend(self.named_value(p)),
                            }
                        }
                        let event = idents.pop()?;
                        TestStmtKind::Event {
                            at,
                            contact: idents.pop(),
                            event,
                            properties,
                        }
                    }
                }
            }
            Rule::test_expect => {
                let (contact, expectation) = self.expectation(pair)?;
                TestStmtKind::Expect {
                    at: None,
                    contact,
                    expectation,
                }
            }
            _ => return None,
        };
        Some(TestStmt { kind, span })
    }

    fn time_point(&mut self, pair: Pair<'_, Rule>) -> TimePoint {
        let span = self.span(&pair);
        let inner = pair.into_inner().next();
        match inner {
            Some(p) if p.as_rule() == Rule::offset => {
                let text = p.as_str().trim_start_matches('+');
                let millis = duration_millis(text);
                TimePoint::Offset {
                    duration: DurationLit { millis, span },
                }
            }
            Some(p) => {
                let raw = p.as_str().to_string();
                if parse_timestamp(&raw).is_none() {
                    self.diagnostics.push(errors::invalid_timestamp(span, &raw));
                }
                TimePoint::Absolute { raw, span }
            }
            None => TimePoint::Offset {
                duration: DurationLit { millis: 0, span },
            },
        }
    }

    fn expectation(&mut self, pair: Pair<'_, Rule>) -> Option<(Option<Ident>, Expectation)> {
        let mut contact = None;
        let mut expectation = None;
        for p in parts(pair) {
            match p.as_rule() {
                Rule::ident => contact = Some(self.ident(&p)),
                _ => expectation = self.expectation_kind(p),
            }
        }
        Some((contact, expectation?))
    }

    fn expectation_kind(&mut self, pair: Pair<'_, Rule>) -> Option<Expectation> {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let negated = has_keyword(&pair, Rule::k_not);
        let between = has_keyword(&pair, Rule::k_between);
        let added = has_keyword(&pair, Rule::k_added);
        let ps = parts(pair);
        let kind = match rule {
            Rule::exp_sent => ExpectationKind::Sent {
                channel: self.ident(ps.first()?),
                template: self.string(ps.get(1)?),
            },
            Rule::exp_suppressed => ExpectationKind::Suppressed {
                channel: self.ident(ps.first()?),
                template: self.string(ps.get(1)?),
            },
            Rule::exp_not_sent => ExpectationKind::NotSent {
                channel: self.ident(ps.first()?),
                template: self.string(ps.get(1)?),
            },
            Rule::exp_notified => {
                let target = ps.first()?;
                ExpectationKind::Notified {
                    target: match target.as_rule() {
                        Rule::ident => NotifyTarget::Queue(self.ident(target)),
                        _ => NotifyTarget::Address(self.string(target)),
                    },
                    negated,
                }
            }
            Rule::exp_list => ExpectationKind::Listed {
                added,
                list: self.string(ps.first()?),
            },
            Rule::exp_routed => ExpectationKind::RoutedTo(self.ident(ps.first()?)),
            Rule::exp_stage => ExpectationKind::Stage(self.ident(ps.first()?)),
            Rule::exp_journey => ExpectationKind::JourneyAt {
                journey: self.ident(ps.first()?),
                step: self.ident(ps.get(1)?),
            },
            Rule::exp_membership => ExpectationKind::InSegment {
                segment: self.ident(ps.first()?),
                negated,
            },
            Rule::exp_no_actions => ExpectationKind::NoActions,
            Rule::exp_score => {
                let score = self.ident(ps.first()?);
                let check = if between {
                    ScoreCheck::Between {
                        low: parse_number(ps.get(1)?.as_str()),
                        high: parse_number(ps.get(2)?.as_str()),
                    }
                } else {
                    ScoreCheck::Compare {
                        op: compare_op(ps.get(1)?.as_str()),
                        value: parse_number(ps.get(2)?.as_str()),
                    }
                };
                ExpectationKind::Score { score, check }
            }
            _ => return None,
        };
        Some(Expectation { kind, span })
    }

    // -------------------------------------------------------------- expressions

    fn expr(&mut self, pair: Pair<'_, Rule>) -> Expr {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        match rule {
            Rule::expr => match pair.into_inner().next() {
                Some(inner) => self.expr(inner),
                None => Expr {
                    kind: ExprKind::Missing,
                    span,
                },
            },
            Rule::or_expr | Rule::and_expr => {
                let op = if rule == Rule::or_expr {
                    BinaryOp::Or
                } else {
                    BinaryOp::And
                };
                let mut operands = Vec::new();
                let mut op_spans = Vec::new();
                for p in pair.into_inner() {
                    if is_keyword(p.as_rule()) {
                        op_spans.push(self.span(&p));
                    } else {
                        operands.push(self.expr(p));
                    }
                }
                self.fold_left(operands, op, &op_spans, span)
            }
            Rule::not_expr => {
                let negated = has_keyword(&pair, Rule::k_not);
                let operand = match parts(pair).into_iter().next() {
                    Some(p) => self.expr(p),
                    None => Expr {
                        kind: ExprKind::Missing,
                        span,
                    },
                };
                if negated {
                    Expr {
                        kind: ExprKind::Not(Box::new(operand)),
                        span,
                    }
                } else {
                    operand
                }
            }
            Rule::cmp_expr => {
                let mut ps: Vec<Pair<'_, Rule>> = pair.into_inner().collect();
                if ps.is_empty() {
                    return Expr {
                        kind: ExprKind::Missing,
                        span,
                    };
                }
                let lhs = self.expr(ps.remove(0));
                if ps.is_empty() {
                    return lhs;
                }
                let head = ps.remove(0);
                match head.as_rule() {
                    Rule::cmp_op | Rule::text_op => {
                        let op_span = self.span(&head);
                        let op = match head.as_str() {
                            "starts_with" => BinaryOp::StartsWith,
                            "ends_with" => BinaryOp::EndsWith,
                            "contains" => BinaryOp::Contains,
                            "matches" => BinaryOp::Matches,
                            other => BinaryOp::Compare(compare_op(other)),
                        };
                        let rhs = match ps.into_iter().next() {
                            Some(p) => self.expr(p),
                            None => Expr {
                                kind: ExprKind::Missing,
                                span: op_span,
                            },
                        };
                        Expr {
                            kind: ExprKind::Binary {
                                op,
                                op_span,
                                lhs: Box::new(lhs),
                                rhs: Box::new(rhs),
                            },
                            span,
                        }
                    }
                    Rule::is_known => {
                        let known = has_keyword(&head, Rule::k_known);
                        Expr {
                            kind: ExprKind::IsKnown {
                                operand: Box::new(lhs),
                                known,
                            },
                            span,
                        }
                    }
                    Rule::in_list | Rule::not_in_list => {
                        let negated = head.as_rule() == Rule::not_in_list;
                        let list = match parts(head).into_iter().next() {
                            Some(p) => self.expr(p),
                            None => Expr {
                                kind: ExprKind::Missing,
                                span,
                            },
                        };
                        Expr {
                            kind: ExprKind::InList {
                                operand: Box::new(lhs),
                                list: Box::new(list),
                                negated,
                            },
                            span,
                        }
                    }
                    Rule::between => {
                        let mut bounds = parts(head).into_iter().map(|p| self.expr(p));
                        let low = bounds.next().unwrap_or(Expr {
                            kind: ExprKind::Missing,
                            span,
                        });
                        let high = bounds.next().unwrap_or(Expr {
                            kind: ExprKind::Missing,
                            span,
                        });
                        Expr {
                            kind: ExprKind::Between {
                                operand: Box::new(lhs),
                                low: Box::new(low),
                                high: Box::new(high),
                            },
                            span,
                        }
                    }
                    _ => lhs,
                }
            }
            Rule::coalesce | Rule::sum_expr | Rule::prod_expr => {
                let mut operands = Vec::new();
                let mut ops = Vec::new();
                for p in pair.into_inner() {
                    match p.as_rule() {
                        Rule::add_op | Rule::mul_op => {
                            ops.push((p.as_str().to_string(), self.span(&p)))
                        }
                        _ => operands.push(self.expr(p)),
                    }
                }
                let mut operands = operands.into_iter();
                let Some(mut acc) = operands.next() else {
                    return Expr {
                        kind: ExprKind::Missing,
                        span,
                    };
                };
                for (i, rhs) in operands.enumerate() {
                    let (op, op_span) = match ops.get(i) {
                        Some((text, s)) => (
                            match text.as_str() {
                                "+" => BinaryOp::Add,
                                "-" => BinaryOp::Subtract,
                                "*" => BinaryOp::Multiply,
                                _ => BinaryOp::Divide,
                            },
                            *s,
                        ),
                        // `??` is a literal in the grammar: find its place between the operands.
                        None => (
                            BinaryOp::Default,
                            Span::new(self.file, acc.span.end as usize, rhs.span.start as usize),
                        ),
                    };
                    let whole = acc.span.to(rhs.span);
                    acc = Expr {
                        kind: ExprKind::Binary {
                            op,
                            op_span,
                            lhs: Box::new(acc),
                            rhs: Box::new(rhs),
                        },
                        span: whole,
                    };
                }
                acc
            }
            Rule::unary => {
                let mut ps: Vec<Pair<'_, Rule>> = pair.into_inner().collect();
                if ps.len() == 2 && ps[0].as_rule() == Rule::neg {
                    let operand = self.expr(ps.remove(1));
                    return Expr {
                        kind: ExprKind::Negate(Box::new(operand)),
                        span,
                    };
                }
                match ps.into_iter().next() {
                    Some(p) => self.expr(p),
                    None => Expr {
                        kind: ExprKind::Missing,
                        span,
                    },
                }
            }
            Rule::path => self.path(pair),
            Rule::call => {
                let mut ps = pair.into_inner();
                let Some(function) = ps.next().map(|p| self.ident(&p)) else {
                    return Expr {
                        kind: ExprKind::Missing,
                        span,
                    };
                };
                let args = ps.map(|p| self.expr(p)).collect();
                Expr {
                    kind: ExprKind::Call { function, args },
                    span,
                }
            }
            Rule::list => Expr {
                kind: ExprKind::List(pair.into_inner().map(|p| self.expr(p)).collect()),
                span,
            },
            Rule::lookup => {
                let ps: Vec<Pair<'_, Rule>> = pair.into_inner().collect();
                match (ps.first(), ps.get(1), ps.get(2)) {
                    (Some(table), Some(key), Some(column)) => Expr {
                        kind: ExprKind::Lookup {
                            table: self.ident(table),
                            key: Box::new(self.expr(key.clone())),
                            column: self.ident(column),
                        },
                        span,
                    },
                    _ => Expr {
                        kind: ExprKind::Missing,
                        span,
                    },
                }
            }
            Rule::aggregate => self.aggregate(pair),
            _ => self.literal(pair),
        }
    }

    fn fold_left(
        &mut self,
        operands: Vec<Expr>,
        op: BinaryOp,
        op_spans: &[Span],
        span: Span,
    ) -> Expr {
        let mut operands = operands.into_iter();
        let Some(mut acc) = operands.next() else {
            return Expr {
                kind: ExprKind::Missing,
                span,
            };
        };
        for (i, rhs) in operands.enumerate() {
            let op_span = op_spans.get(i).copied().unwrap_or(span);
            let whole = acc.span.to(rhs.span);
            acc = Expr {
                kind: ExprKind::Binary {
                    op,
                    op_span,
                    lhs: Box::new(acc),
                    rhs: Box::new(rhs),
                },
                span: whole,
            };
        }
        acc
    }

    fn aggregate(&mut self, pair: Pair<'_, Rule>) -> Expr {
        let span = self.span(&pair);
        let mut kind = AggregateKind::Count;
        let mut kind_span = span;
        let mut event = None;
        let mut event_span = span;
        let mut property = None;
        let mut condition = None;
        let mut window = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::agg_kind => {
                    kind_span = self.span(&p);
                    kind = match p.as_str() {
                        "any" => AggregateKind::Any,
                        "no" => AggregateKind::No,
                        "sum" => AggregateKind::Sum,
                        "min" => AggregateKind::Min,
                        "max" => AggregateKind::Max,
                        "average" => AggregateKind::Average,
                        "last" => AggregateKind::Last,
                        _ => AggregateKind::Count,
                    };
                }
                Rule::event_ref => {
                    event_span = self.span(&p);
                    event = p
                        .into_inner()
                        .find(|q| q.as_rule() == Rule::ident)
                        .map(|q| self.ident(&q));
                }
                Rule::ident => property = Some(self.ident(&p)),
                Rule::expr => condition = Some(self.expr(p)),
                Rule::window => window = parts(p).first().map(|d| self.duration_ref(d)),
                _ => {}
            }
        }
        let aggregate = Aggregate {
            kind,
            kind_span,
            event,
            event_span,
            property,
            condition,
            window,
        };
        Expr {
            kind: ExprKind::Aggregate(Box::new(aggregate)),
            span,
        }
    }

    fn literal(&mut self, pair: Pair<'_, Rule>) -> Expr {
        let span = self.span(&pair);
        let raw = pair.as_str().to_string();
        let value = match pair.as_rule() {
            Rule::number => LiteralValue::Number(parse_number(&raw)),
            Rule::string => LiteralValue::Text(self.string(&pair).value),
            Rule::boolean => LiteralValue::Bool(raw == "true"),
            Rule::duration => LiteralValue::Duration(self.duration(&pair)),
            Rule::percent => LiteralValue::Percent(parse_number(raw.trim_end_matches('%'))),
            Rule::money => {
                let currency = raw
                    .chars()
                    .filter(char::is_ascii_uppercase)
                    .collect::<String>();
                let amount = parse_number(
                    raw.trim_end_matches(|c: char| c.is_ascii_uppercase())
                        .trim(),
                );
                LiteralValue::Money { amount, currency }
            }
            Rule::date => {
                let days = parse_date(&raw);
                if days.is_none() {
                    self.diagnostics.push(errors::invalid_date(span, &raw));
                }
                LiteralValue::Date(days)
            }
            Rule::timestamp => {
                let millis = parse_timestamp(&raw);
                if millis.is_none() {
                    self.diagnostics.push(errors::invalid_timestamp(span, &raw));
                }
                LiteralValue::Timestamp(millis)
            }
            Rule::time_of_day => LiteralValue::TimeOfDay(self.time_of_day(&pair)),
            _ => {
                return Expr {
                    kind: ExprKind::Missing,
                    span,
                }
            }
        };
        Expr {
            kind: ExprKind::Literal(Literal { value, raw }),
            span,
        }
    }

    fn duration(&mut self, pair: &Pair<'_, Rule>) -> DurationLit {
        DurationLit {
            millis: duration_millis(pair.as_str()),
            span: self.span(pair),
        }
    }

    fn duration_ref(&mut self, pair: &Pair<'_, Rule>) -> DurationRef {
        match pair.as_rule() {
            Rule::ident => DurationRef::Constant(self.ident(pair)),
            _ => DurationRef::Literal(self.duration(pair)),
        }
    }

    fn time_of_day(&mut self, pair: &Pair<'_, Rule>) -> TimeOfDayLit {
        let span = self.span(pair);
        let raw = pair.as_str();
        let minutes = parse_time_of_day(raw);
        if minutes.is_none() {
            self.diagnostics
                .push(errors::invalid_time_of_day(span, raw));
        }
        TimeOfDayLit { minutes, span }
    }

    fn path(&mut self, pair: Pair<'_, Rule>) -> Expr {
        let span = self.span(&pair);
        Expr {
            kind: ExprKind::Path(pair.into_inner().map(|p| self.ident(&p)).collect()),
            span,
        }
    }
}

/// The length of `text` without trailing blanks, newlines and `//` comments.
fn code_length(text: &str) -> usize {
    let mut end = text.trim_end().len();
    while end > 0 {
        let line_start = text[..end].rfind('\n').map_or(0, |i| i + 1);
        match comment_start(&text[line_start..end]) {
            // The line ends in a comment (or is one): drop it and look again.
            Some(at) => end = text[..line_start + at].trim_end().len(),
            None => return end,
        }
    }
    0
}

/// Where a `//` comment starts on one line, outside quotes.
fn comment_start(line: &str) -> Option<usize> {
    let mut in_string = false;
    let mut escaped = false;
    let mut previous_slash = false;
    for (i, c) in line.char_indices() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        if c == '/' && previous_slash {
            return Some(i - 1);
        }
        previous_slash = c == '/';
        in_string = c == '"';
    }
    None
}

// ------------------------------------------------------------------ literal values

fn parse_number(text: &str) -> f64 {
    text.replace('_', "").parse().unwrap_or(0.0)
}

fn compare_op(text: &str) -> CompareOp {
    match text {
        "!=" => CompareOp::Ne,
        "<" => CompareOp::Lt,
        "<=" => CompareOp::Le,
        ">" => CompareOp::Gt,
        ">=" => CompareOp::Ge,
        _ => CompareOp::Eq,
    }
}

fn unescape(inner: &str) -> String {
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        // Only `\"`, `\\`, `\n` and `\t` are escapes; any other backslash stays, so a regular
        // expression written `"\b(vp|head)\b"` keeps its word boundaries.
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some(quoted @ ('"' | '\\')) => out.push(quoted),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// `30m`, `48h`, `7d`, `2w`, `3mo` (30 days each), `1y` (365 days), `500ms`, `10s`.
pub(crate) fn duration_millis(text: &str) -> i64 {
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let amount: i64 = text[..digits_end].parse().unwrap_or(i64::MAX / DAY / 365);
    let unit = match &text[digits_end..] {
        "ms" => 1,
        "s" => 1000,
        "m" => MINUTE,
        "h" => HOUR,
        "d" => DAY,
        "w" => 7 * DAY,
        "mo" => 30 * DAY,
        "y" => 365 * DAY,
        _ => 0,
    };
    amount.saturating_mul(unit)
}

fn parse_time_of_day(text: &str) -> Option<u16> {
    let (h, m) = text.split_once(':')?;
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

/// Days since 1970-01-01 of a real calendar date `YYYY-MM-DD`.
pub(crate) fn parse_date(text: &str) -> Option<i64> {
    let mut it = text.splitn(3, '-');
    let year: i64 = it.next()?.parse().ok()?;
    let month: u32 = it.next()?.parse().ok()?;
    let day: u32 = it.next()?.parse().ok()?;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    Some(calendar::days_from_civil(
        year,
        i64::from(month),
        i64::from(day),
    ))
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if calendar::is_leap(year) => 29,
        _ => 28,
    }
}

/// Milliseconds since the epoch of `YYYY-MM-DDTHH:MM[:SS[.fff]](Z|±HH:MM)`.
pub(crate) fn parse_timestamp(text: &str) -> Option<i64> {
    let (date, rest) = text.split_once('T')?;
    let days = parse_date(date)?;
    let (clock, offset_minutes) = if let Some(clock) = rest.strip_suffix('Z') {
        (clock, 0)
    } else {
        let split = rest.rfind(['+', '-'])?;
        let (clock, offset) = rest.split_at(split);
        let sign = if offset.starts_with('-') { -1 } else { 1 };
        let minutes = i64::from(parse_time_of_day(&offset[1..])?);
        (clock, sign * minutes)
    };
    let mut parts = clock.splitn(3, ':');
    let hours: i64 = parts.next()?.parse().ok()?;
    let minutes: i64 = parts.next()?.parse().ok()?;
    let (seconds, millis) = match parts.next() {
        Some(s) => {
            let (whole, fraction) = s.split_once('.').unwrap_or((s, ""));
            let millis: String = fraction.chars().chain("000".chars()).take(3).collect();
            (whole.parse::<i64>().ok()?, millis.parse::<i64>().ok()?)
        }
        None => (0, 0),
    };
    if hours > 23 || minutes > 59 || seconds > 59 {
        return None;
    }
    Some(
        days * DAY + hours * HOUR + minutes * MINUTE + seconds * 1000 + millis
            - offset_minutes * MINUTE,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_times() {
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("2024-02-29"), Some(19_782));
        assert_eq!(parse_date("2026-02-29"), None);
        assert_eq!(parse_timestamp("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(
            parse_timestamp("2026-01-01T00:00:00.123Z"),
            Some(1_767_225_600_123)
        );
        assert_eq!(parse_time_of_day("25:00"), None);
        assert_eq!(duration_millis("2w"), 14 * DAY);
    }

    #[test]
    fn spans_end_at_the_last_code() {
        assert_eq!(code_length("a.b   "), 3);
        assert_eq!(code_length("count x // why\n  "), 7);
        assert_eq!(code_length("x == \"//not a comment\" "), 22);
    }

    #[test]
    fn unknown_escapes_keep_their_backslash() {
        assert_eq!(unescape(r#"\b(vp|head)\b"#), r"\b(vp|head)\b");
        assert_eq!(unescape(r#"say \"hi\" \\ \n"#), "say \"hi\" \\ \n");
    }
}
