//! Every diagnostic the checker reports, one constructor each, so wording stays consistent.

use crate::diagnostics::catalogue as c;
use crate::diagnostics::Diagnostic;
use crate::source::Span;
use crate::syntax::ast::Ident;

/// Adds "did you mean `x`?" and the matching quick-fix, or a fallback help.
fn suggest(
    d: Diagnostic,
    span: Span,
    suggestion: Option<&str>,
    fallback: impl Into<String>,
) -> Diagnostic {
    match suggestion {
        Some(s) => d.with_help(format!("did you mean `{s}`?")).with_fix(
            format!("change to `{s}`"),
            span,
            s,
        ),
        None => d.with_help(fallback),
    }
}

// ------------------------------------------------------------------ names (E01xx)

pub fn unknown_contact_field(name: &Ident, suggestion: Option<&str>) -> Diagnostic {
    let d = Diagnostic::new(
        c::UNKNOWN_CONTACT_FIELD,
        format!("`{}` is not a contact field", name.name),
        name.span,
        "not in the contact schema",
    );
    suggest(
        d,
        name.span,
        suggestion,
        format!(
            "declare it in `contact {{ … }}`, e.g. `{}: optional text`",
            name.name
        ),
    )
}

/// `identify { stage: … }`: a profile update carries fields, not the lifecycle stage.
pub fn identify_sets_stage(name: &Ident) -> Diagnostic {
    Diagnostic::new(
        c::UNKNOWN_CONTACT_FIELD,
        "an identify changes contact fields, not the stage",
        name.span,
        "not a contact field",
    )
    .with_help(
        "give the starting stage in the test's `contact { stage: … }`, or send the events that move the contact",
    )
}

pub fn unknown_account_field(name: &Ident, account: &str, suggestion: Option<&str>) -> Diagnostic {
    let d = Diagnostic::new(
        c::UNKNOWN_ACCOUNT_FIELD,
        format!("`{}` is not a field of `{account}`", name.name),
        name.span,
        format!("not declared in `account {account}`"),
    );
    suggest(
        d,
        name.span,
        suggestion,
        format!("declare it in `account {account} {{ … }}`"),
    )
}

pub fn no_account_link(span: Span) -> Diagnostic {
    Diagnostic::new(c::NO_ACCOUNT_LINK, "contacts are not linked to an account", span, "no contact field links to an account")
        .with_help("declare an account and a contact field of that type, e.g. `account company { … }` and `company: optional company` in `contact { … }`")
}

pub fn ambiguous_account(span: Span, first: &str, second: &str, field: &str) -> Diagnostic {
    Diagnostic::new(
        c::AMBIGUOUS_ACCOUNT,
        "`account` could mean more than one account",
        span,
        format!("contacts link to accounts through `{first}` and `{second}`"),
    )
    .with_help(format!("name the link: `contact.{first}.{field}`"))
    .with_fix(
        format!("change to `contact.{first}`"),
        span,
        format!("contact.{first}"),
    )
}

pub fn builtin_timestamp(name: &Ident) -> Diagnostic {
    Diagnostic::new(
        c::DUPLICATE_DEFINITION,
        "`timestamp` is already a property of every event",
        name.span,
        "the time of the event is built in",
    )
    .with_help("rename this property, e.g. `sent_at`; `event.timestamp` is the time of the event")
}

pub fn unknown_event(name: &Ident, suggestion: Option<&str>) -> Diagnostic {
    let d = Diagnostic::new(
        c::UNKNOWN_EVENT,
        format!("`{}` is not an event", name.name),
        name.span,
        "no event with this name",
    );
    let fallback = if name.name == "event" {
        "name one declared event here; only aggregates read any event (`count event in the last 7d`)"
            .to_string()
    } else {
        format!("declare it with `event {} {{ … }}`", name.name)
    };
    suggest(d, name.span, suggestion, fallback)
}

pub fn unknown_event_property(name: &Ident, event: &str, suggestion: Option<&str>) -> Diagnostic {
    let d = Diagnostic::new(
        c::UNKNOWN_EVENT_PROPERTY,
        format!("`{}` is not a property of `{event}`", name.name),
        name.span,
        format!("`{event}` has no such property"),
    );
    suggest(
        d,
        name.span,
        suggestion,
        format!("declare it in `event {event} {{ … }}`"),
    )
}

/// A bare name inside `on EVENT where …`: most often a misspelled property of the event.
pub fn unknown_bare_property(name: &Ident, event: &str, suggestion: Option<&str>) -> Diagnostic {
    let d = Diagnostic::new(
        c::UNKNOWN_EVENT_PROPERTY,
        format!("`{}` is not a property of `{event}`", name.name),
        name.span,
        format!("`{event}` has no such property"),
    );
    let fallback = format!(
        "it is not a score, a segment or a constant either; declare it in `event {event} {{ … }}` if the event carries it"
    );
    suggest(d, name.span, suggestion, fallback)
}

pub fn unknown_name(name: &Ident, suggestion: Option<&str>, context: &str) -> Diagnostic {
    let d = Diagnostic::new(
        c::UNKNOWN_NAME,
        format!("`{}` is not defined", name.name),
        name.span,
        "unknown name",
    );
    suggest(d, name.span, suggestion, context.to_string())
}

pub fn unknown_channel(name: &Ident, suggestion: Option<&str>) -> Diagnostic {
    let d = Diagnostic::new(
        c::UNKNOWN_CHANNEL,
        format!("`{}` is not a channel", name.name),
        name.span,
        "no channel with this name",
    );
    suggest(
        d,
        name.span,
        suggestion,
        format!("declare it with `channel {} opt_in`", name.name),
    )
}

pub fn unknown_score(name: &Ident, suggestion: Option<&str>) -> Diagnostic {
    let d = Diagnostic::new(
        c::UNKNOWN_SCORE,
        format!("`{}` is not a score", name.name),
        name.span,
        "no score with this name",
    );
    suggest(
        d,
        name.span,
        suggestion,
        format!("declare it with `score {} {{ … }}`", name.name),
    )
}

pub fn unknown_segment(name: &Ident, suggestion: Option<&str>) -> Diagnostic {
    let d = Diagnostic::new(
        c::UNKNOWN_SEGMENT,
        format!("`{}` is not a segment", name.name),
        name.span,
        "no segment with this name",
    );
    suggest(
        d,
        name.span,
        suggestion,
        format!("declare it with `segment {} = …`", name.name),
    )
}

pub fn unknown_stage(name: &Ident, suggestion: Option<&str>) -> Diagnostic {
    let d = Diagnostic::new(
        c::UNKNOWN_STAGE,
        format!("`{}` is not a lifecycle stage", name.name),
        name.span,
        "not in `stages`",
    );
    suggest(
        d,
        name.span,
        suggestion,
        "add it to `stages … > …` in the lifecycle",
    )
}

pub fn unknown_queue(name: &Ident, suggestion: Option<&str>) -> Diagnostic {
    let d = Diagnostic::new(
        c::UNKNOWN_QUEUE,
        format!("`{}` is not a queue", name.name),
        name.span,
        "no queue with this name",
    );
    suggest(
        d,
        name.span,
        suggestion,
        format!("declare it with `queue {} \"…\"`", name.name),
    )
}

pub fn unknown_type(name: &Ident, suggestion: Option<&str>) -> Diagnostic {
    let d = Diagnostic::new(
        c::UNKNOWN_TYPE,
        format!("`{}` is not a type", name.name),
        name.span,
        "unknown type",
    );
    suggest(
        d,
        name.span,
        suggestion,
        "use `text`, `number`, `bool`, `date`, `timestamp`, `duration`, `time`, `money`, `percent`, an enum or an account",
    )
}

pub fn unknown_enum_value(
    name: &Ident,
    enum_name: &str,
    suggestion: Option<&str>,
    variants: &[String],
) -> Diagnostic {
    let d = Diagnostic::new(
        c::UNKNOWN_ENUM_VALUE,
        format!("`{}` is not a value of `{enum_name}`", name.name),
        name.span,
        format!("`{enum_name}` has no such value"),
    );
    let list = variants
        .iter()
        .map(|v| format!("`{v}`"))
        .collect::<Vec<_>>()
        .join(", ");
    suggest(
        d,
        name.span,
        suggestion,
        format!("the values of `{enum_name}` are {list}"),
    )
}

pub fn unknown_function(name: &Ident, suggestion: Option<&str>) -> Diagnostic {
    let d = Diagnostic::new(
        c::UNKNOWN_FUNCTION,
        format!("`{}` is not a function", name.name),
        name.span,
        "unknown function",
    );
    suggest(
        d,
        name.span,
        suggestion,
        "the functions are `abs`, `min`, `max`, `round`, `lower`, `upper`, `length`, `days_since` and `days_until`",
    )
}

pub fn unknown_table(name: &Ident, suggestion: Option<&str>) -> Diagnostic {
    let d = Diagnostic::new(
        c::UNKNOWN_TABLE,
        format!("`{}` is not a table", name.name),
        name.span,
        "no table with this name",
    );
    suggest(
        d,
        name.span,
        suggestion,
        format!("declare it with `table {} key … {{ … }}`", name.name),
    )
}

pub fn unknown_column(name: &Ident, table: &str, suggestion: Option<&str>) -> Diagnostic {
    let d = Diagnostic::new(
        c::UNKNOWN_TABLE,
        format!("`{}` is not a column of `{table}`", name.name),
        name.span,
        format!("`{table}` has no such column"),
    );
    suggest(
        d,
        name.span,
        suggestion,
        format!("declare it in `table {table} … {{ … }}`"),
    )
}

pub fn unknown_template(name: &Ident, suggestion: Option<&str>) -> Diagnostic {
    let d = Diagnostic::new(
        c::UNKNOWN_TEMPLATE,
        format!("`{}` is not a journey template", name.name),
        name.span,
        "no template with this name",
    );
    suggest(
        d,
        name.span,
        suggestion,
        format!("declare it with `template {}(…) {{ … }}`", name.name),
    )
}

pub fn unknown_journey(name: &Ident, suggestion: Option<&str>) -> Diagnostic {
    let d = Diagnostic::new(
        c::UNKNOWN_JOURNEY,
        format!("`{}` is not a journey", name.name),
        name.span,
        "no journey with this name",
    );
    suggest(
        d,
        name.span,
        suggestion,
        format!("declare it with `journey {} {{ … }}`", name.name),
    )
}

pub fn unknown_route(name: &Ident, suggestion: Option<&str>) -> Diagnostic {
    let d = Diagnostic::new(
        c::UNKNOWN_ROUTE,
        format!("`{}` is not a routing", name.name),
        name.span,
        "no routing with this name",
    );
    suggest(
        d,
        name.span,
        suggestion,
        format!("declare it with `route {} on … {{ … }}`", name.name),
    )
}

pub fn duplicate_definition(name: &Ident, kind: &str, first: Span, first_kind: &str) -> Diagnostic {
    Diagnostic::new(
        c::DUPLICATE_DEFINITION,
        format!("`{}` is defined twice", name.name),
        name.span,
        format!("this {kind} reuses the name"),
    )
    .with_label(
        first,
        format!(
            "`{}` is first defined here, as {}",
            name.name,
            with_article(first_kind)
        ),
    )
    .with_help("every name in a project must be different: rename one of them")
}

/// "an enum", "a score".
fn with_article(word: &str) -> String {
    let article = if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {word}")
}

pub fn import_not_found(path: Span, written: &str, resolved: &str) -> Diagnostic {
    Diagnostic::new(c::IMPORT_NOT_FOUND, format!("`{written}` was not found"), path, format!("no file `{resolved}` in the project"))
        .with_help("the path is relative to this file; check the spelling and that the file is part of the project")
}

pub fn import_cycle(span: Span, cycle: &str, others: &[(Span, String)]) -> Diagnostic {
    let mut d = Diagnostic::new(
        c::IMPORT_CYCLE,
        format!("these files import each other: {cycle}"),
        span,
        "this import closes the loop",
    );
    for (other, target) in others {
        d = d.with_label(*other, format!("imports `{target}`"));
    }
    d.with_help(
        "imports go one way, from a file to what it builds on: move what these files share into \
         a file of its own that they import, and remove the import that closes the loop",
    )
}

pub fn unused_import(name: &Ident) -> Diagnostic {
    Diagnostic::new(
        c::UNUSED_IMPORT,
        format!("`{}` is imported but not used", name.name),
        name.span,
        "nothing in this file uses it",
    )
    .with_help(format!(
        "remove `{}` from the list, or use it in this file",
        name.name
    ))
}

pub fn import_name_missing(name: &Ident, file: &str, suggestion: Option<&str>) -> Diagnostic {
    let d = Diagnostic::new(
        c::IMPORT_NAME_MISSING,
        format!("`{}` is not defined in `{file}`", name.name),
        name.span,
        "not found in the imported file",
    );
    suggest(
        d,
        name.span,
        suggestion,
        format!("check the names defined in `{file}`"),
    )
}

pub fn entry_without_event(span: Span) -> Diagnostic {
    Diagnostic::new(
        c::ENTRY_WITHOUT_EVENT,
        "`entry` needs a journey started by an event",
        span,
        "this journey is not started by an event",
    )
    .with_help("use `entry.PROPERTY` only in journeys with `trigger on EVENT`")
}

pub fn event_outside_match(span: Span) -> Diagnostic {
    Diagnostic::new(c::UNKNOWN_NAME, "`event` is only known inside `on EVENT where …`", span, "no event is being matched here")
        .with_help("use `event.PROPERTY` in the `where` of `on EVENT`, or an aggregate such as `last EVENT.PROPERTY`")
}

pub fn no_lifecycle(span: Span) -> Diagnostic {
    Diagnostic::new(
        c::NO_LIFECYCLE,
        "there is no lifecycle",
        span,
        "stages are not declared",
    )
    .with_help("declare the stages with `lifecycle { stages subscriber > lead > mql }`")
}

// ------------------------------------------------------------------ types (E02xx)

pub fn type_mismatch(
    span: Span,
    left: &str,
    right: &str,
    other: Span,
    help: Option<String>,
) -> Diagnostic {
    Diagnostic::new(
        c::TYPE_MISMATCH,
        format!("cannot compare {left} with {right}"),
        span,
        format!("this is {right}"),
    )
    .with_label(other, format!("this is {left}"))
    .with_help(help.unwrap_or_else(|| "compare values of the same kind".to_string()))
}

pub fn not_a_condition(span: Span, text: &str, ty: &str, suggestion: &str) -> Diagnostic {
    Diagnostic::new(
        c::NOT_A_CONDITION,
        format!("`{text}` is not a yes/no condition"),
        span,
        format!("this is {ty}"),
    )
    .with_help(format!("compare it with a value, e.g. `{suggestion}`"))
}

pub fn may_be_missing(
    span: Span,
    text: &str,
    why: &str,
    whole: &str,
    default: Option<&str>,
) -> Diagnostic {
    let mut help = format!("write `{text} is known and {whole}`");
    if let Some(default) = default {
        let replaced = if whole == text {
            format!("{text} ?? {default}")
        } else {
            whole.replacen(text, &format!("({text} ?? {default})"), 1)
        };
        help.push_str(&format!(" or `{replaced}`"));
    }
    Diagnostic::new(
        c::MAY_BE_MISSING,
        format!("`{text}` may be missing"),
        span,
        why.to_string(),
    )
    .with_help(help)
}

pub fn invalid_regex(span: Span, pattern: &str, reason: &str) -> Diagnostic {
    Diagnostic::new(c::INVALID_PATTERN, format!("`{pattern}` is not a valid pattern"), span, reason.to_string())
        .with_help("`matches` takes a regular expression, e.g. `\"(?i)purchas|procurement\"`; escape special characters with `\\\\`")
}

pub fn pattern_not_fixed(span: Span) -> Diagnostic {
    Diagnostic::new(
        c::INVALID_PATTERN,
        "the pattern of `matches` must be written out",
        span,
        "not a fixed text",
    )
    .with_help("write the pattern as text, e.g. `matches \"(?i)purchas\"`, or use a constant")
}

pub fn wrong_argument_count(
    span: Span,
    function: &str,
    expected: &str,
    found: usize,
) -> Diagnostic {
    Diagnostic::new(
        c::WRONG_ARGUMENT_COUNT,
        format!("`{function}` takes {expected}"),
        span,
        format!("{found} given"),
    )
    .with_help(format!("give `{function}` {expected}"))
}

pub fn wrong_argument_type(span: Span, function: &str, expected: &str, found: &str) -> Diagnostic {
    Diagnostic::new(
        c::WRONG_ARGUMENT_TYPE,
        format!("`{function}` needs {expected} here"),
        span,
        format!("this is {found}"),
    )
    .with_help(format!("give `{function}` {expected}"))
}

pub fn bad_operand(span: Span, op: &str, found: &str, help: &str) -> Diagnostic {
    Diagnostic::new(
        c::BAD_OPERAND,
        format!("`{op}` does not work on {found}"),
        span,
        format!("this is {found}"),
    )
    .with_help(help.to_string())
}

pub fn wrong_value_type(span: Span, what: &str, expected: &str, found: &str) -> Diagnostic {
    Diagnostic::new(
        c::WRONG_VALUE_TYPE,
        format!("{what} must be {expected}"),
        span,
        format!("this is {found}"),
    )
    .with_help(format!("write {expected} here"))
}

/// A date trigger (`trigger 7d before contact.X`) on a field that is not a date: `date_fields`
/// are the contact's date fields, offered instead.
pub fn date_trigger_not_a_date(span: Span, found: &str, date_fields: &[String]) -> Diagnostic {
    let help = match date_fields {
        [] => "a date trigger counts from a date of the contact: declare one in `contact { … }`, \
               such as `contract_end: optional date`"
            .to_string(),
        [one] => format!(
            "a date trigger counts from a date of the contact: did you mean `contact.{one}`?"
        ),
        many => format!(
            "a date trigger counts from a date of the contact: {}",
            many.iter()
                .map(|f| format!("`contact.{f}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    Diagnostic::new(
        c::WRONG_VALUE_TYPE,
        "a date trigger's field must be a date",
        span,
        format!("this is {found}"),
    )
    .with_help(help)
}

pub fn not_constant(span: Span, what: &str) -> Diagnostic {
    Diagnostic::new(
        c::NOT_CONSTANT,
        format!("{what} must be a fixed value"),
        span,
        "this depends on the contact or on events",
    )
    .with_help(
        "write a value such as `500`, `\"medical\"`, `7d` or `500 EUR`, or the name of a constant",
    )
}

pub fn constant_cycle(name: &Ident) -> Diagnostic {
    Diagnostic::new(
        c::NOT_CONSTANT,
        format!("`{}` is defined in terms of itself", name.name),
        name.span,
        "this constant depends on itself",
    )
    .with_help("give the constant a value that does not use its own name")
}

pub fn aggregate_needs_number(span: Span, kind: &str, found: &str) -> Diagnostic {
    Diagnostic::new(
        c::AGGREGATE_PROPERTY,
        format!("`{kind}` needs a number or money property"),
        span,
        format!("this is {found}"),
    )
    .with_help(format!(
        "write `{kind} EVENT.PROPERTY` with a number or money property, or use `count`"
    ))
}

pub fn aggregate_needs_property(span: Span, kind: &str) -> Diagnostic {
    Diagnostic::new(
        c::AGGREGATE_PROPERTY,
        format!("`{kind}` needs a property"),
        span,
        "which property?",
    )
    .with_help(format!(
        "write `{kind} EVENT.PROPERTY`, e.g. `{kind} purchase.amount`"
    ))
}

pub fn always_known(span: Span, text: &str) -> Diagnostic {
    Diagnostic::new(
        c::ALWAYS_KNOWN,
        format!("`{text}` is always known"),
        span,
        "this value is required, so it is never missing",
    )
    .with_help("remove the check, or declare the field `optional` if it can be missing")
}

// ------------------------------------------------------------------ rules and logic (E03xx)

pub fn duplicate_rule(span: Span, first: Span) -> Diagnostic {
    Diagnostic::new(
        c::DUPLICATE_RULE,
        "this rule is written twice",
        span,
        "same trigger and same condition",
    )
    .with_label(first, "first written here")
    .with_help("remove one of the two, or merge their points")
}

pub fn duplicate_transition(span: Span, first: Span) -> Diagnostic {
    Diagnostic::new(
        c::DUPLICATE_RULE,
        "this move is written twice",
        span,
        "same stages and same condition",
    )
    .with_label(first, "first written here")
    .with_help("remove one of the two")
}

pub fn duplicate_bound(span: Span, first: Span) -> Diagnostic {
    Diagnostic::new(
        c::DUPLICATE_RULE,
        "this bound is written twice",
        span,
        "a second bound of the same kind",
    )
    .with_label(first, "first written here")
    .with_help("keep one `at least` and one `at most`")
}

pub fn zero_limit(span: Span) -> Diagnostic {
    Diagnostic::new(
        c::ZERO_LIMIT,
        "a limit of 0 never gives points",
        span,
        "0 times",
    )
    .with_help("remove the rule, or allow at least 1, e.g. `limit 1 per day`")
}

pub fn decay_out_of_range(span: Span, value: f64) -> Diagnostic {
    Diagnostic::new(
        c::BAD_DECAY,
        format!("a decay of `{value}%` is not between 0% and 100%"),
        span,
        "not a valid share",
    )
    .with_help("write a share of the score to remove each period, e.g. `decay 10% every 30d`")
}

pub fn zero_duration(span: Span, what: &str) -> Diagnostic {
    Diagnostic::new(
        c::BAD_DECAY,
        format!("{what} must be longer than 0"),
        span,
        "no time at all",
    )
    .with_help("write a duration such as `30d`")
}

pub fn bounds_crossed(span: Span, low: f64, high: f64, other: Span) -> Diagnostic {
    Diagnostic::new(
        c::BOUNDS_CROSSED,
        format!("`at least {low}` is above `at most {high}`"),
        span,
        "the lower bound is higher",
    )
    .with_label(other, "the upper bound")
    .with_help("swap the two bounds")
}

pub fn never_true(span: Span, path: &str, earlier: Span) -> Diagnostic {
    Diagnostic::new(
        c::NEVER_TRUE,
        "this condition can never be true",
        span,
        format!("`{path}` cannot also be this"),
    )
    .with_label(earlier, "because of this")
    .with_help(format!(
        "no value of `{path}` meets both; did you mean `or`?"
    ))
}

pub fn empty_range(span: Span, path: &str) -> Diagnostic {
    Diagnostic::new(
        c::NEVER_TRUE,
        "this condition can never be true",
        span,
        format!("no value of `{path}` is in this range"),
    )
    .with_help("write the smaller value first: `between LOW and HIGH`")
}

pub fn beyond_bound(span: Span, path: &str, bound: Span, bound_text: &str) -> Diagnostic {
    Diagnostic::new(
        c::NEVER_TRUE,
        "this condition can never be true",
        span,
        format!("`{path}` never gets there"),
    )
    .with_label(bound, format!("`{path}` is held by `{bound_text}`"))
    .with_help(format!(
        "change the threshold, or the bound `{bound_text}` of `{path}`"
    ))
}

pub fn expected_beyond_bound(span: Span, score: &str, bound: Span, bound_text: &str) -> Diagnostic {
    Diagnostic::new(
        c::NEVER_TRUE,
        "this expectation can never hold",
        span,
        format!("`{score}` never gets there"),
    )
    .with_label(bound, format!("`{score}` is held by `{bound_text}`"))
    .with_help(format!(
        "expect a value `{bound_text}` allows, or change the bound"
    ))
}

pub fn missing_otherwise(name: &Ident, insert_at: Span, replacement: &str) -> Diagnostic {
    Diagnostic::new(
        c::MISSING_OTHERWISE,
        format!("routing `{}` has no `otherwise`", name.name),
        name.span,
        "a lead that matches no rule would go nowhere",
    )
    .with_help(format!(
        "add a fallback as the last rule: `{}`",
        replacement.trim()
    ))
    .with_fix("add an `otherwise` rule", insert_at, replacement)
}

pub fn rule_cycle(span: Span, what: &str, cycle: &str) -> Diagnostic {
    Diagnostic::new(
        c::RULE_CYCLE,
        format!("{what} depend on each other: {cycle}"),
        span,
        "this makes a loop",
    )
    .with_help("a score or segment cannot use itself, even through others: rewrite one condition without the others")
}

pub fn no_stages(span: Span) -> Diagnostic {
    Diagnostic::new(
        c::NO_STAGES,
        "the lifecycle has no `stages`",
        span,
        "stages are not listed",
    )
    .with_help("list the stages in order, e.g. `stages subscriber > lead > mql > customer`")
}

pub fn duplicate_stage(name: &Ident, first: Span) -> Diagnostic {
    Diagnostic::new(
        c::DUPLICATE_STAGE,
        format!("stage `{}` is listed twice", name.name),
        name.span,
        "listed again",
    )
    .with_label(first, "first listed here")
    .with_help("list each stage once, in order")
}

pub fn bad_quiet_hours(span: Span) -> Diagnostic {
    Diagnostic::new(
        c::BAD_QUIET_HOURS,
        "quiet hours start and end at the same time",
        span,
        "this leaves no quiet time",
    )
    .with_help("write a range such as `quiet hours 21:00 to 08:00`")
}

pub fn zero_cap(span: Span) -> Diagnostic {
    Diagnostic::new(
        c::BAD_CAP,
        "a cap of 0 blocks every message",
        span,
        "0 messages",
    )
    .with_help("allow at least 1 message, e.g. `cap email 2 per 7d`")
}

pub fn table_row_width(span: Span, expected: usize, found: usize) -> Diagnostic {
    Diagnostic::new(
        c::BAD_TABLE,
        format!(
            "this row has {found} {} but the table has {expected} columns",
            if found == 1 { "value" } else { "values" }
        ),
        span,
        "wrong number of values",
    )
    .with_help("give one value per column, in the order the columns are declared")
}

pub fn table_key_twice(span: Span, first: Span, key: &str) -> Diagnostic {
    Diagnostic::new(
        c::BAD_TABLE,
        format!("two rows have the same `{key}`"),
        span,
        "same key again",
    )
    .with_label(first, "first row with this key")
    .with_help(format!(
        "each row needs its own `{key}`: remove or change one of them"
    ))
}

pub fn same_event_source(name: &Ident, first: &str, first_span: Span) -> Diagnostic {
    Diagnostic::new(
        c::SAME_EVENT_SOURCE,
        format!("`{}` reads the same records as `{first}`", name.name),
        name.span,
        "same source",
    )
    .with_label(first_span, format!("`{first}` already reads them"))
    .with_help("give each event its own source (`from track \"…\"`), or keep only one of them")
}

pub fn table_key_unknown(name: &Ident, table: &str) -> Diagnostic {
    Diagnostic::new(
        c::BAD_TABLE,
        format!("`{}` is not a column of `{table}`", name.name),
        name.span,
        "the key must be a column",
    )
    .with_help("declare the key column in the table, e.g. `product_id: text`")
}

pub fn rule_after_otherwise(span: Span, otherwise: Span) -> Diagnostic {
    Diagnostic::new(
        c::AFTER_OTHERWISE,
        "this rule is never used",
        span,
        "comes after `otherwise`",
    )
    .with_label(otherwise, "`otherwise` already takes everyone left")
    .with_help("move this rule above `otherwise`")
}

pub fn rule_shadowed(span: Span, earlier: Span) -> Diagnostic {
    Diagnostic::new(
        c::SHADOWED_RULE,
        "this rule is never used",
        span,
        "an earlier rule already matches every case",
    )
    .with_label(earlier, "this rule matches first")
    .with_help("rules are tried in order: move the narrower rule first, or remove it")
}

pub fn same_segment(name: &Ident, other: &str, other_span: Span) -> Diagnostic {
    Diagnostic::new(
        c::SAME_SEGMENT,
        format!("segment `{}` is the same as `{other}`", name.name),
        name.span,
        "same condition",
    )
    .with_label(other_span, format!("`{other}` has the same condition"))
    .with_help(format!(
        "use `{other}` instead, or change one of the conditions"
    ))
}

pub fn backward_stage_move(span: Span, to: &str) -> Diagnostic {
    Diagnostic::new(
        c::BACKWARD_MOVE,
        format!("moving to `{to}` goes back in the lifecycle"),
        span,
        "an earlier stage",
    )
    .with_help(format!(
        "write `move back to {to}` to say that this is intended"
    ))
}

// ------------------------------------------------------------------ journeys (E04xx)

pub fn no_trigger(name: &Ident) -> Diagnostic {
    Diagnostic::new(
        c::NO_TRIGGER,
        format!("journey `{}` has no `trigger`", name.name),
        name.span,
        "nothing starts this journey",
    )
    .with_help(
        "add a trigger, e.g. `trigger on form_submitted` or `trigger enters segment hot_leads`",
    )
}

pub fn two_triggers(span: Span, first: Span) -> Diagnostic {
    Diagnostic::new(c::TWO_TRIGGERS, "a journey has one `trigger`", span, "second trigger")
        .with_label(first, "first trigger")
        .with_help("make two journeys, or combine the conditions into a segment and use `trigger enters segment …`")
}

pub fn backward_goto(span: Span, label: &str, target: Span) -> Diagnostic {
    Diagnostic::new(
        c::BACKWARD_GOTO,
        format!("`go to {label}` jumps back"),
        span,
        "goes to an earlier step",
    )
    .with_label(target, "this step comes before")
    .with_help("`go to` only jumps forward so every journey ends; to repeat, make another journey")
}

pub fn unknown_step(name: &Ident, suggestion: Option<&str>) -> Diagnostic {
    let d = Diagnostic::new(
        c::UNKNOWN_STEP,
        format!("`{}` is not a step label", name.name),
        name.span,
        "no step has this label",
    );
    suggest(
        d,
        name.span,
        suggestion,
        format!("label a step with `{}: …`", name.name),
    )
}

pub fn duplicate_label(name: &Ident, first: Span) -> Diagnostic {
    Diagnostic::new(
        c::DUPLICATE_LABEL,
        format!("label `{}` is used twice", name.name),
        name.span,
        "used again",
    )
    .with_label(first, "first used here")
    .with_help("give every labelled step its own label")
}

pub fn wait_never_ends(span: Span, condition: Span) -> Diagnostic {
    Diagnostic::new(
        c::WAIT_NEVER_ENDS,
        "this wait can never end",
        span,
        "waits for an event that can never match",
    )
    .with_label(condition, "this condition can never be true")
    .with_help("fix the condition (did you mean `or`?)")
}

pub fn send_without_consent(name: &Ident, suggestion: Option<&str>) -> Diagnostic {
    let d = Diagnostic::new(
        c::SEND_UNDECLARED_CHANNEL,
        format!(
            "cannot send on `{}`: its consent is not declared",
            name.name
        ),
        name.span,
        "no `channel` declaration",
    );
    suggest(
        d,
        name.span,
        suggestion,
        format!(
            "declare the channel and how consent works, e.g. `channel {} opt_in`",
            name.name
        ),
    )
}

pub fn split_not_100(span: Span, total: f64) -> Diagnostic {
    Diagnostic::new(
        c::SPLIT_NOT_100,
        format!("the shares add up to {total}%, not 100%"),
        span,
        "shares of this split",
    )
    .with_help("make the percentages add up to exactly 100%")
}

pub fn missing_argument(span: Span, param: &str, template: &str, param_span: Span) -> Diagnostic {
    Diagnostic::new(
        c::MISSING_ARGUMENT,
        format!("`{param}` is missing"),
        span,
        format!("`{template}` needs `{param}`"),
    )
    .with_label(param_span, "declared here without a default")
    .with_help(format!("add `{param}: …` to the arguments"))
}

pub fn unknown_argument(name: &Ident, template: &str, suggestion: Option<&str>) -> Diagnostic {
    let d = Diagnostic::new(
        c::UNKNOWN_ARGUMENT,
        format!("`{template}` has no parameter `{}`", name.name),
        name.span,
        "unknown parameter",
    );
    suggest(
        d,
        name.span,
        suggestion,
        format!("see the parameters of `template {template}(…)`"),
    )
}

pub fn too_many_arguments(span: Span, template: &str, count: usize) -> Diagnostic {
    Diagnostic::new(
        c::TOO_MANY_ARGUMENTS,
        format!("`{template}` takes {count} arguments"),
        span,
        "one too many",
    )
    .with_help("remove this argument")
}

pub fn argument_type(span: Span, param: &str, expected: &str, found: &str) -> Diagnostic {
    Diagnostic::new(
        c::ARGUMENT_TYPE,
        format!("`{param}` must be {expected}"),
        span,
        format!("this is {found}"),
    )
    .with_help(format!("give {expected} for `{param}`"))
}

pub fn argument_twice(span: Span, param: &str) -> Diagnostic {
    Diagnostic::new(
        c::TOO_MANY_ARGUMENTS,
        format!("`{param}` is given twice"),
        span,
        "given again",
    )
    .with_help("give each parameter once")
}

pub fn entry_key_unknown(name: &Ident) -> Diagnostic {
    Diagnostic::new(
        c::ENTRY_KEY,
        format!(
            "`entry per {}` needs a property of the trigger event",
            name.name
        ),
        name.span,
        "not a property of the trigger event",
    )
    .with_help("use `entry per PROPERTY` with `trigger on EVENT`, naming one of its properties")
}

pub fn set_builtin(name: &Ident) -> Diagnostic {
    Diagnostic::new(
        c::WRONG_VALUE_TYPE,
        format!("`contact.{}` cannot be changed", name.name),
        name.span,
        "set by the platform",
    )
    .with_help("set a field you declared in `contact { … }`")
}

pub fn unreachable_step(span: Span, cause: Span) -> Diagnostic {
    Diagnostic::new(
        c::UNREACHABLE_STEP,
        "this step is never reached",
        span,
        "never reached",
    )
    .with_label(cause, "the journey always leaves here")
    .with_help("remove the step, move it before, or label it and `go to` it")
}

pub fn may_wait_forever(span: Span, event: &str) -> Diagnostic {
    Diagnostic::new(
        c::WAIT_FOREVER,
        format!("this may wait forever for `{event}`"),
        span,
        "no time limit",
    )
    .with_help(format!(
        "add a time limit: `wait until {event} within 7d else …`"
    ))
}

/// A message about a template's body that only this instance's arguments cause (a `wait` of an
/// argument that is `0d`): said at the argument, with the place in the template beside it.
pub fn in_template_instance(
    inner: &Diagnostic,
    instance: &Ident,
    instance_span: Span,
    template: &str,
    argument: Option<(&str, Span)>,
) -> Diagnostic {
    let message = format!("{} in `{}`", inner.message(), instance.name);
    let what = &inner.primary().message;
    let d = match argument {
        Some((param, span)) => Diagnostic::new(
            inner.code(),
            message,
            span,
            format!("`{param}` is this value here, so the template {what}"),
        ),
        None => Diagnostic::new(
            inner.code(),
            message,
            instance_span,
            format!("with the arguments given here, the template {what}"),
        ),
    };
    let mut d = d.with_label(inner.span(), format!("in the template `{template}`"));
    for label in inner.secondary() {
        d = d.with_label(label.span, label.message.clone());
    }
    let help = inner.help().unwrap_or("change the argument");
    d.with_help(format!(
        "{help} (the value comes from `{}`: change it there, not in the template that every \
         journey made from it shares)",
        instance.name
    ))
}

pub fn zero_wait(span: Span) -> Diagnostic {
    Diagnostic::new(
        c::ZERO_WAIT,
        "this wait does nothing",
        span,
        "waits for no time",
    )
    .with_help("remove it, or wait a real duration such as `1d`")
}

// ------------------------------------------------------------------ tests (E05xx)

pub fn times_out_of_order(span: Span, previous: Span) -> Diagnostic {
    Diagnostic::new(
        c::TEST_TIME_ORDER,
        "this time is before the previous one",
        span,
        "goes back in time",
    )
    .with_label(previous, "previous time")
    .with_help("write the events of a test in time order")
}

pub fn unknown_test_contact(name: &Ident, suggestion: Option<&str>) -> Diagnostic {
    let d = Diagnostic::new(
        c::UNKNOWN_TEST_CONTACT,
        format!("`{}` is not a contact of this test", name.name),
        name.span,
        "no such test contact",
    );
    suggest(
        d,
        name.span,
        suggestion,
        format!(
            "declare it with `contact {} {{ … }}` in the test",
            name.name
        ),
    )
}

pub fn never_sent(
    template: &crate::syntax::ast::StrLit,
    channel: &str,
    suggestion: Option<&str>,
) -> Diagnostic {
    let d = Diagnostic::new(
        c::NEVER_SENT,
        format!("no journey sends `{}` on `{channel}`", template.value),
        template.span,
        "this message is never sent",
    );
    match suggestion {
        Some(s) => d.with_help(format!("did you mean `{s}`?")).with_fix(
            format!("change to `{s}`"),
            template.span,
            format!("\"{s}\""),
        ),
        None => d.with_help(format!(
            "expect a message that a journey sends, e.g. `send {channel} \"…\"`"
        )),
    }
}

/// A test expects a notify or list change that nothing in the program makes.
pub fn never_done(
    name: &crate::syntax::ast::StrLit,
    message: &str,
    label: &str,
    help: &str,
    suggestion: Option<&str>,
) -> Diagnostic {
    let d = Diagnostic::new(c::NEVER_DONE, message.to_string(), name.span, label);
    match suggestion {
        Some(s) => d.with_help(format!("did you mean `{s}`?")).with_fix(
            format!("change to `{s}`"),
            name.span,
            format!("\"{s}\""),
        ),
        None => d.with_help(help.to_string()),
    }
}

pub fn test_contact_incomplete(span: Span, missing: &[String]) -> Diagnostic {
    let list = missing
        .iter()
        .map(|m| format!("`{m}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let first = missing.first().map_or("email", String::as_str);
    Diagnostic::new(
        c::TEST_CONTACT_INCOMPLETE,
        format!("this test contact has no {list}"),
        span,
        if missing.len() == 1 {
            "a required contact field is missing"
        } else {
            "required contact fields are missing"
        },
    )
    .with_help(format!(
        "give it `{first}: …`, or make the field `optional` in the schema"
    ))
}

pub fn missing_property(span: Span, event: &str, property: &str) -> Diagnostic {
    Diagnostic::new(
        c::TEST_MISSING_PROPERTY,
        format!("`{event}` needs `{property}`"),
        span,
        format!("`{property}` is not given"),
    )
    .with_help(format!(
        "add `{property}: …`, or declare it `optional` in `event {event}`"
    ))
}
