//! The catalogue of every diagnostic code: what it means, an example, and the fix.
//!
//! `maclc explain CODE` prints an entry and `docs/diagnostics.md` is generated from this list
//! (a test keeps the two in step). Codes are stable: never reuse or renumber one.
//! Ranges: `E00xx` syntax, `E01xx` names, `E02xx` types, `E03xx` rules and logic,
//! `E04xx` journeys, `E05xx` tests, `W0xxx` warnings.

use super::Code;

/// One catalogue entry.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    pub code: Code,
    /// The message's gist, lowercase, as in the diagnostics themselves.
    pub title: &'static str,
    /// What it means, for a marketer, in a sentence or two.
    pub explanation: &'static str,
    /// A small `.marketing` excerpt that triggers it.
    pub example: &'static str,
    /// The same excerpt fixed.
    pub fix: &'static str,
}

macro_rules! entries {
    ($( $name:ident = $code:literal, $title:literal, $explanation:literal, $example:literal, $fix:literal; )*) => {
        $( pub const $name: Code = Code($code); )*
        /// Every entry, in code order.
        pub const ENTRIES: &[Entry] = &[
            $( Entry { code: $name, title: $title, explanation: $explanation, example: $example, fix: $fix }, )*
        ];
    };
}

entries! {
    SYNTAX = "E0001", "the rules cannot be read here",
        "The file is not written in the shape the language expects at this point: a word is missing, misspelled or in the wrong place. The message says what was expected instead.",
        "score fit {\n  +15 wehn contact.job_title matches \"(?i)purchas\"\n}",
        "score fit {\n  +15 when contact.job_title matches \"(?i)purchas\"\n}";
    UNCLOSED = "E0002", "a block or text is not closed",
        "A `{`, `(`, `[` or `\"` was opened and never closed, so everything after it would be read as part of it.",
        "score fit {\n  +15 when contact.company_size >= 500\n",
        "score fit {\n  +15 when contact.company_size >= 500\n}";
    INVALID_LITERAL = "E0003", "this date or time does not exist",
        "A date must exist in the calendar (2026 has no 29 February) and a time of day runs from 00:00 to 23:59.",
        "quiet hours sms 21:00 to 25:00",
        "quiet hours sms 21:00 to 08:00";
    UNKNOWN_CONTACT_FIELD = "E0101", "this is not a contact field",
        "A rule reads a contact field that the contact schema does not declare, often a typo.",
        "contact {\n  job_title: optional text\n}\nsegment buyers = contact.job_tilte == \"buyer\"",
        "contact {\n  job_title: optional text\n}\nsegment buyers = contact.job_title is known and contact.job_title == \"buyer\"";
    UNKNOWN_ACCOUNT_FIELD = "E0102", "this is not a field of the account",
        "A rule reads an account field that the account declaration does not have.",
        "account company {\n  size: number\n}\ncontact {\n  company: optional company\n}\nsegment big = (account.sise ?? 0) >= 500",
        "account company {\n  size: number\n}\ncontact {\n  company: optional company\n}\nsegment big = (account.size ?? 0) >= 500";
    NO_ACCOUNT_LINK = "E0103", "contacts are not linked to an account",
        "`account.FIELD` reads the contact's company, but no contact field links contacts to an account.",
        "account company {\n  size: number\n}\nsegment big = (account.size ?? 0) >= 500",
        "account company {\n  size: number\n}\ncontact {\n  company: optional company\n}\nsegment big = (account.size ?? 0) >= 500";
    UNKNOWN_EVENT = "E0104", "this is not an event",
        "A rule reacts to an event type that is not declared.",
        "event download\nscore interest {\n  +10 on downlaod\n}",
        "event download\nscore interest {\n  +10 on download\n}";
    UNKNOWN_EVENT_PROPERTY = "E0105", "this is not a property of the event",
        "A condition reads a property the event does not declare.",
        "event page_view {\n  url: text\n}\nscore interest {\n  +5 on page_view where path starts_with \"/pricing\"\n}",
        "event page_view {\n  url: text\n}\nscore interest {\n  +5 on page_view where url starts_with \"/pricing\"\n}";
    UNKNOWN_NAME = "E0106", "this name is not defined",
        "A name in a condition is not a score, a segment, a constant or (inside `on EVENT where`) a property of the event. Contact fields are written `contact.FIELD`.",
        "contact {\n  budget: number\n}\nsegment rich = budget > 1000",
        "contact {\n  budget: number\n}\nsegment rich = contact.budget > 1000";
    UNKNOWN_CHANNEL = "E0107", "this is not a channel",
        "A rule names a channel that is not declared with `channel NAME opt_in|opt_out`.",
        "channel email opt_in\nsegment reachable = consent.emial == granted",
        "channel email opt_in\nsegment reachable = consent.email == granted";
    UNKNOWN_SCORE = "E0108", "this is not a score",
        "A rule, journey or test names a score that is not declared.",
        "score fit {\n  +10 when contact.unsubscribed == false\n}\njourney hot {\n  trigger fti crosses above 50\n  end\n}",
        "score fit {\n  +10 when contact.unsubscribed == false\n}\njourney hot {\n  trigger fit crosses above 50\n  end\n}";
    UNKNOWN_SEGMENT = "E0109", "this is not a segment",
        "A journey, test or rule names a segment that is not declared.",
        "segment hot = contact.unsubscribed == false\njourney welcome {\n  trigger enters hto\n  end\n}",
        "segment hot = contact.unsubscribed == false\njourney welcome {\n  trigger enters hot\n  end\n}";
    UNKNOWN_STAGE = "E0110", "this is not a lifecycle stage",
        "A rule names a stage that is not listed in `stages` of the lifecycle.",
        "lifecycle {\n  stages lead > mql\n}\nsegment qualified = stage == sql",
        "lifecycle {\n  stages lead > mql > sql\n}\nsegment qualified = stage == sql";
    UNKNOWN_QUEUE = "E0111", "this is not a queue",
        "A routing rule or step sends a lead to a queue that is not declared.",
        "event signup\nqueue inside_sales \"Inside sales\"\njourney handoff {\n  trigger on signup\n  route to queue insde_sales\n}",
        "event signup\nqueue inside_sales \"Inside sales\"\njourney handoff {\n  trigger on signup\n  route to queue inside_sales\n}";
    UNKNOWN_TYPE = "E0112", "this is not a type",
        "A field is declared with a type that does not exist: use a built-in type, an enum or an account.",
        "contact {\n  budget: optional numbr\n}",
        "contact {\n  budget: optional number\n}";
    UNKNOWN_ENUM_VALUE = "E0113", "this is not a value of the enum",
        "A value compared with an enum field is not one of the enum's values.",
        "enum line { general, medical }\nevent download {\n  category: line\n}\nscore medical {\n  +25 on download where category == medicall\n}",
        "enum line { general, medical }\nevent download {\n  category: line\n}\nscore medical {\n  +25 on download where category == medical\n}";
    UNKNOWN_FUNCTION = "E0114", "this is not a function",
        "Only the built-in functions `abs`, `min`, `max`, `round`, `lower`, `upper`, `length`, `days_since` and `days_until` exist.",
        "score fit {\n  +10 when contact.unsubscribed == false\n}\nsegment close = ab(fit - 10) < 5",
        "score fit {\n  +10 when contact.unsubscribed == false\n}\nsegment close = abs(fit - 10) < 5";
    UNKNOWN_TABLE = "E0115", "this is not a table or a column",
        "A lookup names a reference table or a column that is not declared.",
        "table products key sku {\n  sku: text\n  line: text\n  row \"MK1\", \"general\"\n}\nsegment x = (prodcts[\"MK1\"].line ?? \"\") == \"general\"",
        "table products key sku {\n  sku: text\n  line: text\n  row \"MK1\", \"general\"\n}\nsegment x = (products[\"MK1\"].line ?? \"\") == \"general\"";
    UNKNOWN_TEMPLATE = "E0116", "this is not a journey template",
        "A journey is made from a template that is not declared.",
        "event webinar_attended\ntemplate followup(webinar: text) {\n  trigger on webinar_attended\n  end\n}\njourney jan = folowup(\"wbn-1\")",
        "event webinar_attended\ntemplate followup(webinar: text) {\n  trigger on webinar_attended\n  end\n}\njourney jan = followup(\"wbn-1\")";
    UNKNOWN_JOURNEY = "E0117", "this is not a journey",
        "A test expectation names a journey that is not declared.",
        "channel email opt_in\nevent signup\njourney welcome {\n  trigger on signup\n  reminder: send email \"r\"\n}\ntest \"t\" {\n  expect journey welcme at reminder\n}",
        "channel email opt_in\nevent signup\njourney welcome {\n  trigger on signup\n  reminder: send email \"r\"\n}\ntest \"t\" {\n  expect journey welcome at reminder\n}";
    UNKNOWN_ROUTE = "E0118", "this is not a routing",
        "`route with NAME` names a routing that is not declared.",
        "lifecycle {\n  stages lead > mql\n}\nqueue sales \"Sales\"\nroute handoff on enters stage mql {\n  otherwise => queue sales\n}\njourney j {\n  trigger enters stage mql\n  route with hndoff\n}",
        "lifecycle {\n  stages lead > mql\n}\nqueue sales \"Sales\"\nroute handoff on enters stage mql {\n  otherwise => queue sales\n}\njourney j {\n  trigger enters stage mql\n  route with handoff\n}";
    DUPLICATE_DEFINITION = "E0119", "this name is defined twice",
        "All the files of a project share one set of names: two scores, segments, events … cannot have the same name, and a record cannot declare a field twice.",
        "score fit {\n  +10 when contact.unsubscribed == false\n}\nscore fit {\n  +5 when contact.blocklisted == false\n}",
        "score fit {\n  +10 when contact.unsubscribed == false\n}\nscore reachability {\n  +5 when contact.blocklisted == false\n}";
    IMPORT_NOT_FOUND = "E0120", "the imported file was not found",
        "`import` names a file, relative to the importing file, that is not part of the project.",
        "import \"./shcema\"",
        "import \"./schema\"";
    IMPORT_NAME_MISSING = "E0121", "the imported name is not defined in that file",
        "`import { a } from \"file\"` names something that the file does not define.",
        "import { download } from \"./schema\"",
        "import { downloaded } from \"./schema\"";
    ENTRY_WITHOUT_EVENT = "E0122", "`entry` needs a journey started by an event",
        "`entry.PROPERTY` reads the event that started the journey, so the journey must start with `trigger on EVENT`.",
        "channel email opt_in\nevent page_view from page {\n  url: text\n}\nsegment hot = count page_view in the last 7d >= 3\njourney j {\n  trigger enters segment hot\n  if entry.url == \"/\" { send email \"home\" }\n}",
        "channel email opt_in\nevent page_view from page {\n  url: text\n}\nsegment hot = count page_view in the last 7d >= 3\njourney j {\n  trigger on page_view\n  if entry.url == \"/\" { send email \"home\" }\n}";
    NO_LIFECYCLE = "E0123", "there is no lifecycle",
        "A rule uses stages, but the project declares no lifecycle.",
        "segment leads = stage == lead",
        "lifecycle {\n  stages lead > mql\n}\nsegment leads = stage == lead";
    AMBIGUOUS_ACCOUNT = "E0124", "`account` could mean more than one account",
        "`account.FIELD` reads the contact's account through the contact field of an account type. When contacts link to several accounts, name the link instead.",
        "account company {\n  size: number\n}\ncontact {\n  employer: optional company\n  reseller: optional company\n}\nsegment big = (account.size ?? 0) > 500",
        "account company {\n  size: number\n}\ncontact {\n  employer: optional company\n  reseller: optional company\n}\nsegment big = (contact.employer.size ?? 0) > 500";
    IMPORT_CYCLE = "E0125", "files import each other",
        "Imports go one way, from a file to what it builds on (a brand's rules import the shared schema). Two files that import each other, even through others, cannot be understood or reused one without the other.",
        "// scoring.marketing\nimport \"./segments\"\n// segments.marketing\nimport \"./scoring\"",
        "// scoring.marketing\nimport \"./schema\"\n// segments.marketing\nimport \"./schema\"\nimport { fit } from \"./scoring\"";
    TYPE_MISMATCH = "E0201", "these values cannot be compared",
        "Both sides of a comparison must be the same kind of value: text with text, a number with a number, money with money.",
        "contact {\n  budget: money\n}\nsegment big = contact.budget >= 500",
        "contact {\n  budget: money\n}\nsegment big = contact.budget >= 500 EUR";
    NOT_A_CONDITION = "E0202", "this is not a yes/no condition",
        "A segment, a `when` or an `if` needs a condition that is true or false, not a number or a text.",
        "score fit {\n  +10 when contact.unsubscribed == false\n}\nsegment engaged = fit",
        "score fit {\n  +10 when contact.unsubscribed == false\n}\nsegment engaged = fit >= 50";
    MAY_BE_MISSING = "E0203", "this value may be missing",
        "An optional field (or `account.*`, `last …`, a table lookup) may have no value for some contacts. Say what happens then: check it `is known` first, or give a default with `??`.",
        "contact {\n  company_size: optional number\n}\nsegment big = contact.company_size >= 500",
        "contact {\n  company_size: optional number\n}\nsegment big = contact.company_size is known and contact.company_size >= 500";
    INVALID_PATTERN = "E0204", "this is not a valid pattern",
        "`matches` takes a regular expression written as text; this one cannot be read.",
        "contact {\n  job_title: text\n}\nsegment buyers = contact.job_title matches \"(?i)purchas(\"",
        "contact {\n  job_title: text\n}\nsegment buyers = contact.job_title matches \"(?i)purchas\"";
    WRONG_ARGUMENT_COUNT = "E0205", "wrong number of values for this function",
        "Each function takes a set number of values: `abs` one, `min` and `max` two or more.",
        "score fit {\n  +10 when contact.unsubscribed == false\n}\nsegment close = abs(fit, 10) < 5",
        "score fit {\n  +10 when contact.unsubscribed == false\n}\nsegment close = abs(fit - 10) < 5";
    WRONG_ARGUMENT_TYPE = "E0206", "wrong kind of value for this function",
        "A function was given a kind of value it cannot work on, such as `days_since` of a text.",
        "contact {\n  email: text\n  signed_up: date\n}\nsegment stale = days_since(contact.email) > 30",
        "contact {\n  email: text\n  signed_up: date\n}\nsegment stale = days_since(contact.signed_up) > 30";
    BAD_OPERAND = "E0207", "this operator does not work on these values",
        "`<`, `+`, `starts_with` … only work on some kinds of values: text has no order, money only adds to money.",
        "contact {\n  email: text\n}\nsegment late = contact.email > \"m\"",
        "contact {\n  email: text\n}\nsegment late = contact.email starts_with \"m\"";
    WRONG_VALUE_TYPE = "E0208", "this value is of the wrong kind",
        "A value does not fit where it is written: a field, a constant, a column or a step needs another kind of value.",
        "channel email opt_in\nevent signup\nconst reminder: duration = 3\njourney j {\n  trigger on signup\n  wait reminder\n  send email \"hello\"\n}",
        "channel email opt_in\nevent signup\nconst reminder: duration = 3d\njourney j {\n  trigger on signup\n  wait reminder\n  send email \"hello\"\n}";
    NOT_CONSTANT = "E0209", "this must be a fixed value",
        "Constants, template arguments, table rows and test data are fixed when the rules are written: they cannot read contacts or events.",
        "score fit {\n  +10 when contact.unsubscribed == false\n}\nconst threshold = fit + 10",
        "const threshold = 60";
    AGGREGATE_PROPERTY = "E0210", "this aggregate needs a number property",
        "`sum`, `average`, `min` and `max` work on a property holding numbers or money.",
        "event purchase {\n  amount: money\n}\nsegment big_buyers = sum purchase > 1000 EUR",
        "event purchase {\n  amount: money\n}\nsegment big_buyers = sum purchase.amount > 1000 EUR";
    DUPLICATE_RULE = "E0301", "this rule is written twice",
        "Two rules of a score have the same trigger and the same condition, so they would count the same thing twice.",
        "event page_view from page {\n  url: text\n}\nscore interest {\n  +5 on page_view where url starts_with \"/pricing\"\n  +5 on page_view where url starts_with \"/pricing\"\n}",
        "event page_view from page {\n  url: text\n}\nscore interest {\n  +10 on page_view where url starts_with \"/pricing\"\n}";
    ZERO_LIMIT = "E0302", "a limit of 0 never gives points",
        "`limit 0 per day` means the rule never counts.",
        "event page_view from page {\n  url: text\n}\nscore interest {\n  +5 on page_view limit 0 per day\n}",
        "event page_view from page {\n  url: text\n}\nscore interest {\n  +5 on page_view limit 3 per day\n}";
    BAD_DECAY = "E0303", "this decay or period is not valid",
        "A decay removes a share between 0% and 100% of the score each period; periods and half-lives must be longer than 0.",
        "event page_view from page {\n  url: text\n}\nscore interest {\n  +5 on page_view\n  decay 150% every 30d\n}",
        "event page_view from page {\n  url: text\n}\nscore interest {\n  +5 on page_view\n  decay 15% every 30d\n}";
    BOUNDS_CROSSED = "E0304", "the lower bound is above the upper bound",
        "`at least` must not be higher than `at most`, or no score could satisfy both.",
        "score fit {\n  +10 when contact.unsubscribed == false\n  at least 100\n  at most 50\n}",
        "score fit {\n  +10 when contact.unsubscribed == false\n  at least -50\n  at most 100\n}";
    NEVER_TRUE = "E0305", "this condition can never be true",
        "Two parts of an `and` ask for values that cannot both hold, so the whole condition is always false. Often `or` was meant.",
        "contact {\n  company_size: number\n}\nsegment odd = contact.company_size < 10 and contact.company_size > 500",
        "contact {\n  company_size: number\n}\nsegment odd = contact.company_size < 10 or contact.company_size > 500";
    MISSING_OTHERWISE = "E0306", "routing has no `otherwise`",
        "A routing needs a last `otherwise` rule so that a lead matching no rule still reaches someone.",
        "score fit {\n  +10 when contact.unsubscribed == false\n}\nlifecycle {\n  stages lead > mql\n}\nqueue field_sales \"Field sales\"\nqueue inside_sales \"Inside sales\"\nroute handoff on enters stage mql {\n  when fit > 50 => queue field_sales\n}",
        "score fit {\n  +10 when contact.unsubscribed == false\n}\nlifecycle {\n  stages lead > mql\n}\nqueue field_sales \"Field sales\"\nqueue inside_sales \"Inside sales\"\nroute handoff on enters stage mql {\n  when fit > 50 => queue field_sales\n  otherwise => queue inside_sales\n}";
    RULE_CYCLE = "E0307", "scores or segments depend on each other",
        "A segment or score uses itself, directly or through other segments and scores, so its value could never be decided.",
        "score fit {\n  +10 when contact.unsubscribed == false\n}\nsegment a = b and fit > 10\nsegment b = a",
        "score fit {\n  +10 when contact.unsubscribed == false\n}\nsegment a = fit > 10\nsegment b = a";
    NO_STAGES = "E0308", "the lifecycle has no stages",
        "A lifecycle must list its stages in order with `stages a > b > c`.",
        "score fit {\n  +10 when contact.unsubscribed == false\n}\nlifecycle {\n  move to mql when fit > 50\n}",
        "score fit {\n  +10 when contact.unsubscribed == false\n}\nlifecycle {\n  stages lead > mql\n  move to mql when fit > 50\n}";
    DUPLICATE_STAGE = "E0309", "a stage is listed twice",
        "Each stage appears once in `stages`, in lifecycle order.",
        "lifecycle {\n  stages lead > mql > lead\n}",
        "lifecycle {\n  stages lead > mql\n}";
    BAD_QUIET_HOURS = "E0310", "these quiet hours are empty",
        "Quiet hours need a start and an end that differ.",
        "quiet hours 21:00 to 21:00",
        "quiet hours 21:00 to 08:00";
    BAD_CAP = "E0311", "a cap of 0 blocks every message",
        "A frequency cap of 0 would stop every message on the channel.",
        "channel email opt_in\ncap email 0 per 7d",
        "channel email opt_in\ncap email 2 per 7d";
    BAD_TABLE = "E0312", "this table is not well formed",
        "A table's key must be one of its columns and each row gives one value per column.",
        "table products key sku {\n  sku: text\n  line: text\n  row \"MK1\"\n}",
        "table products key sku {\n  sku: text\n  line: text\n  row \"MK1\", \"general\"\n}";
    BACKWARD_MOVE = "E0313", "this transition goes back in the lifecycle",
        "Moving to an earlier stage must be said explicitly with `move back to`.",
        "score fit {\n  +10 when contact.unsubscribed == false\n}\nlifecycle {\n  stages lead > mql\n  move to lead from mql when fit < 10\n}",
        "score fit {\n  +10 when contact.unsubscribed == false\n}\nlifecycle {\n  stages lead > mql\n  move back to lead from mql when fit < 10\n}";
    SAME_EVENT_SOURCE = "E0314", "two events read the same records",
        "Each incoming record must belong to one event type: two events cannot both be `from page`, `from screen` or `from track` with the same name.",
        "event pricing_view from page {\n  url: text\n}\nevent page_view from page {\n  url: text\n}",
        "event page_view from page {\n  url: text\n}";
    NO_TRIGGER = "E0401", "the journey has no trigger",
        "Every journey says what starts it with one `trigger`.",
        "channel email opt_in\nevent signup\njourney welcome {\n  send email \"welcome\"\n}",
        "channel email opt_in\nevent signup\njourney welcome {\n  trigger on signup\n  send email \"welcome\"\n}";
    TWO_TRIGGERS = "E0402", "the journey has two triggers",
        "A journey has exactly one `trigger`.",
        "channel email opt_in\nevent signup\nevent download\njourney welcome {\n  trigger on signup\n  trigger on download\n  send email \"welcome\"\n}",
        "channel email opt_in\nevent signup\nevent download\njourney welcome {\n  trigger on signup\n  send email \"welcome\"\n}";
    BACKWARD_GOTO = "E0403", "`go to` jumps back",
        "`go to` only jumps forward, so every journey ends.",
        "channel email opt_in\nevent signup\njourney j {\n  trigger on signup\n  start: send email \"hello\"\n  go to start\n}",
        "channel email opt_in\nevent signup\njourney j {\n  trigger on signup\n  if contact.unsubscribed { go to later }\n  send email \"hello\"\n  later: send email \"bye\"\n}";
    UNKNOWN_STEP = "E0404", "this is not a step label",
        "`go to` or a test names a step label that no step has.",
        "channel email opt_in\nevent signup\njourney j {\n  trigger on signup\n  if contact.unsubscribed { go to remindr }\n  send email \"hello\"\n  reminder: send email \"r\"\n}",
        "channel email opt_in\nevent signup\njourney j {\n  trigger on signup\n  if contact.unsubscribed { go to reminder }\n  send email \"hello\"\n  reminder: send email \"r\"\n}";
    DUPLICATE_LABEL = "E0405", "a step label is used twice",
        "Each labelled step of a journey needs its own label.",
        "channel email opt_in\nevent signup\njourney j {\n  trigger on signup\n  a: send email \"x\"\n  a: send email \"y\"\n}",
        "channel email opt_in\nevent signup\njourney j {\n  trigger on signup\n  a: send email \"x\"\n  b: send email \"y\"\n}";
    WAIT_NEVER_ENDS = "E0406", "this wait can never end",
        "The journey waits for an event whose condition can never be true, so contacts would stay stuck.",
        "enum line { general, medical }\nevent download {\n  category: line\n}\njourney j {\n  trigger on download\n  wait until download where category == general and category == medical within 7d\n}",
        "enum line { general, medical }\nevent download {\n  category: line\n}\njourney j {\n  trigger on download\n  wait until download where category == general or category == medical within 7d\n}";
    SEND_UNDECLARED_CHANNEL = "E0407", "this channel has no consent declared",
        "Sending needs a declared channel so consent can be checked: `channel sms opt_in` (needs a yes) or `opt_out` (allowed unless refused).",
        "event signup\njourney j {\n  trigger on signup\n  send sms \"hello\"\n}",
        "channel sms opt_in\nevent signup\njourney j {\n  trigger on signup\n  send sms \"hello\"\n}";
    SPLIT_NOT_100 = "E0408", "the random split does not add up to 100%",
        "The shares of a random split must cover every contact exactly once.",
        "channel email opt_in\nevent signup\njourney ab {\n  trigger on signup\n  random split {\n    50% a => send email \"a\"\n    40% b => send email \"b\"\n  }\n}",
        "channel email opt_in\nevent signup\njourney ab {\n  trigger on signup\n  random split {\n    50% a => send email \"a\"\n    50% b => send email \"b\"\n  }\n}";
    MISSING_ARGUMENT = "E0409", "a template argument is missing",
        "A journey made from a template gives a value for every parameter without a default.",
        "channel email opt_in\nevent signup\ntemplate followup(webinar: text, reminder: duration = 2d) {\n  trigger on signup\n  wait reminder\n}\njourney jan = followup(reminder: 1d)",
        "channel email opt_in\nevent signup\ntemplate followup(webinar: text, reminder: duration = 2d) {\n  trigger on signup\n  wait reminder\n}\njourney jan = followup(\"wbn-1\", reminder: 1d)";
    UNKNOWN_ARGUMENT = "E0410", "the template has no such parameter",
        "A named argument does not match any parameter of the template.",
        "channel email opt_in\nevent signup\ntemplate followup(webinar: text, reminder: duration = 2d) {\n  trigger on signup\n  wait reminder\n}\njourney jan = followup(\"wbn-1\", remindr: 1d)",
        "channel email opt_in\nevent signup\ntemplate followup(webinar: text, reminder: duration = 2d) {\n  trigger on signup\n  wait reminder\n}\njourney jan = followup(\"wbn-1\", reminder: 1d)";
    TOO_MANY_ARGUMENTS = "E0411", "too many template arguments",
        "More values are given than the template has parameters, or one parameter is given twice.",
        "channel email opt_in\nevent signup\ntemplate followup(webinar: text, reminder: duration = 2d) {\n  trigger on signup\n  wait reminder\n}\njourney jan = followup(\"wbn-1\", 1d, 2d)",
        "channel email opt_in\nevent signup\ntemplate followup(webinar: text, reminder: duration = 2d) {\n  trigger on signup\n  wait reminder\n}\njourney jan = followup(\"wbn-1\", 1d)";
    ARGUMENT_TYPE = "E0412", "a template argument is of the wrong kind",
        "Each argument must be the kind of value its parameter declares.",
        "channel email opt_in\nevent signup\ntemplate followup(webinar: text, reminder: duration = 2d) {\n  trigger on signup\n  wait reminder\n}\njourney jan = followup(\"wbn-1\", reminder: 2)",
        "channel email opt_in\nevent signup\ntemplate followup(webinar: text, reminder: duration = 2d) {\n  trigger on signup\n  wait reminder\n}\njourney jan = followup(\"wbn-1\", reminder: 2d)";
    ENTRY_KEY = "E0413", "`entry per` needs a property of the trigger event",
        "`entry per KEY` runs the journey once per value of a property of the event that starts it.",
        "channel email opt_in\nevent order_placed {\n  order_id: text\n}\nsegment buyers = any order_placed\njourney j {\n  trigger enters segment buyers\n  entry per order_id\n  send email \"thanks\"\n}",
        "channel email opt_in\nevent order_placed {\n  order_id: text\n}\njourney j {\n  trigger on order_placed\n  entry per order_id\n  send email \"thanks\"\n}";
    TEST_TIME_ORDER = "E0501", "test times go back",
        "The events of a test are written in time order; an absolute time cannot be before the previous one.",
        "contact {\n  email: text\n}\nevent signup\nevent download\ntest \"t\" {\n  at 2026-01-02T09:00Z signup\n  at 2026-01-01T09:00Z download\n}",
        "contact {\n  email: text\n}\nevent signup\nevent download\ntest \"t\" {\n  at 2026-01-01T09:00Z signup\n  at 2026-01-02T09:00Z download\n}";
    UNKNOWN_TEST_CONTACT = "E0502", "this is not a contact of the test",
        "An event or expectation names a test contact that the test does not declare.",
        "contact {\n  email: text\n}\nevent signup\nevent download\ntest \"t\" {\n  contact ana { email: \"a@x.example\" }\n  at 2026-01-01T09:00Z anna: signup\n}",
        "contact {\n  email: text\n}\nevent signup\nevent download\ntest \"t\" {\n  contact ana { email: \"a@x.example\" }\n  at 2026-01-01T09:00Z ana: signup\n}";
    TEST_MISSING_PROPERTY = "E0503", "a test event misses a required property",
        "A test event must give every property the event declares as required.",
        "event download {\n  asset: text\n}\ntest \"t\" {\n  at 2026-01-01T09:00Z download\n}",
        "event download {\n  asset: text\n}\ntest \"t\" {\n  at 2026-01-01T09:00Z download { asset: \"guide\" }\n}";
    NEVER_SENT = "E0504", "no journey sends this message",
        "A test expects a message (sent or suppressed) that no journey or service level ever sends, often a typo in the template name.",
        "channel email opt_in\nevent signup\njourney welcome {\n  trigger on signup\n  send email \"welcome\"\n}\ntest \"t\" {\n  at 2026-01-01T09:00Z signup\n  expect sent email \"welcom\"\n}",
        "channel email opt_in\nevent signup\njourney welcome {\n  trigger on signup\n  send email \"welcome\"\n}\ntest \"t\" {\n  at 2026-01-01T09:00Z signup\n  expect sent email \"welcome\"\n}";
    TEST_CONTACT_INCOMPLETE = "E0505", "a test contact misses a required field",
        "A contact without a required field would be rejected before any rule runs, so a test contact gives every field the schema requires.",
        "contact {\n  email: text\n  country: text\n}\ntest \"t\" {\n  contact { email: \"ana@example.com\" }\n}",
        "contact {\n  email: text\n  country: text\n}\ntest \"t\" {\n  contact { email: \"ana@example.com\", country: \"FR\" }\n}";
    NEVER_DONE = "E0506", "no journey or route does this",
        "A test expects a notification to an address, or a list change, that no journey, service level or route ever makes, often a typo in the address or list name.",
        "event signup\njourney welcome {\n  trigger on signup\n  add to list \"newsletter\"\n}\ntest \"t\" {\n  at 2026-01-01T09:00Z signup\n  expect added to list \"newsleter\"\n}",
        "event signup\njourney welcome {\n  trigger on signup\n  add to list \"newsletter\"\n}\ntest \"t\" {\n  at 2026-01-01T09:00Z signup\n  expect added to list \"newsletter\"\n}";
    UNUSED_IMPORT = "W0101", "an imported name is not used",
        "`import { a, b } from \"file\"` lists the names a file uses from another one; a name nothing in the file uses is probably left over from an edit.",
        "import { fit, MQL_THRESHOLD } from \"../shared/scoring\"\nsegment mql = fit >= 100",
        "import { fit, MQL_THRESHOLD } from \"../shared/scoring\"\nsegment mql = fit >= MQL_THRESHOLD";
    ALWAYS_KNOWN = "W0201", "this value is always known",
        "`is known`, `is unknown` and `??` are for optional values; this one is required, so the check does nothing.",
        "contact {\n  email: text\n}\nsegment reachable = contact.email is known",
        "contact {\n  email: optional text\n}\nsegment reachable = contact.email is known";
    AFTER_OTHERWISE = "W0301", "this rule comes after `otherwise`",
        "Rules are tried in order and `otherwise` takes everything left, so a rule after it is never used.",
        "score fit {\n  +10 when contact.unsubscribed == false\n}\nlifecycle {\n  stages lead > mql\n}\nqueue field_sales \"Field sales\"\nqueue inside_sales \"Inside sales\"\nroute r on enters stage mql {\n  otherwise => queue inside_sales\n  when fit > 50 => queue field_sales\n}",
        "score fit {\n  +10 when contact.unsubscribed == false\n}\nlifecycle {\n  stages lead > mql\n}\nqueue field_sales \"Field sales\"\nqueue inside_sales \"Inside sales\"\nroute r on enters stage mql {\n  when fit > 50 => queue field_sales\n  otherwise => queue inside_sales\n}";
    SHADOWED_RULE = "W0302", "this rule is hidden by an earlier one",
        "An earlier rule already matches every lead this rule would match, so this rule is never used.",
        "score fit {\n  +10 when contact.unsubscribed == false\n}\nlifecycle {\n  stages lead > mql\n}\nqueue field_sales \"Field sales\"\nqueue inside_sales \"Inside sales\"\nroute r on enters stage mql {\n  when fit > 10 => queue inside_sales\n  when fit > 50 => queue field_sales\n  otherwise => queue inside_sales\n}",
        "score fit {\n  +10 when contact.unsubscribed == false\n}\nlifecycle {\n  stages lead > mql\n}\nqueue field_sales \"Field sales\"\nqueue inside_sales \"Inside sales\"\nroute r on enters stage mql {\n  when fit > 50 => queue field_sales\n  when fit > 10 => queue inside_sales\n  otherwise => queue inside_sales\n}";
    SAME_SEGMENT = "W0303", "two segments have the same condition",
        "Two segments with the same condition always have the same members; one is probably a copy.",
        "score fit {\n  +10 when contact.unsubscribed == false\n}\nsegment hot = fit > 50\nsegment warm = fit > 50",
        "score fit {\n  +10 when contact.unsubscribed == false\n}\nsegment hot = fit > 50\nsegment warm = fit > 20";
    UNREACHABLE_STEP = "W0401", "this step is never reached",
        "The step comes after `end` or `go to` in the same block, so no contact gets there.",
        "channel email opt_in\nevent signup\njourney j {\n  trigger on signup\n  end\n  send email \"lost\"\n}",
        "channel email opt_in\nevent signup\njourney j {\n  trigger on signup\n  send email \"lost\"\n  end\n}";
    WAIT_FOREVER = "W0402", "this wait may never end",
        "Waiting for an event without a time limit keeps contacts who never do it in the journey forever.",
        "channel email opt_in\nevent signup\nevent download\njourney j {\n  trigger on signup\n  wait until download\n  send email \"thanks\"\n}",
        "channel email opt_in\nevent signup\nevent download\njourney j {\n  trigger on signup\n  wait until download within 7d else send email \"reminder\"\n  send email \"thanks\"\n}";
    ZERO_WAIT = "W0403", "this wait does nothing",
        "Waiting 0 days goes on at once.",
        "channel email opt_in\nevent signup\nevent download\njourney j {\n  trigger on signup\n  wait 0d\n  send email \"hello\"\n}",
        "channel email opt_in\nevent signup\nevent download\njourney j {\n  trigger on signup\n  wait 1d\n  send email \"hello\"\n}";
    STEP_REMOVED = "W0420", "a step contacts may be waiting in was removed",
        "Only with `maclc check --against OLD_FOLDER`: compared with the previous version, a step where contacts can be waiting (a wait, or a send held by quiet hours or a cap) is gone. A contact's place in a journey is kept by the step's name (its label, or a name made from what it does), so contacts waiting in a removed step end their run when the new version runs and get nothing more from the journey.",
        "// before: reminder: wait until download within 7d else send email \"reminder\"\nchannel email opt_in\nevent signup\nevent download\njourney j {\n  trigger on signup\n  send email \"hello\"\n}",
        "channel email opt_in\nevent signup\nevent download\njourney j {\n  trigger on signup\n  send email \"hello\"\n  reminder: wait until download within 7d else send email \"reminder\"\n}";
}

/// The entry for a code, accepting `E0001`, `e1` or `1` (the letter defaults to `E`).
pub fn lookup(code: &str) -> Option<&'static Entry> {
    let wanted = code.trim().to_ascii_uppercase();
    let (letter, digits) = match wanted.strip_prefix(['E', 'W']) {
        Some(rest) => (wanted.chars().next(), rest),
        None => (Some('E'), wanted.as_str()),
    };
    let number: u32 = digits.parse().ok()?;
    ENTRIES.iter().find(|e| {
        let text = e.code.as_str();
        text.chars().next() == letter && text[1..].parse::<u32>().ok() == Some(number)
    })
}

/// The catalogue as Markdown, the content of `docs/diagnostics.md`.
pub fn to_markdown() -> String {
    let mut out = String::from(
        "# Diagnostics\n\nEvery message `maclc check` can print, with an example and its fix. \
         `maclc explain CODE` prints one entry. Codes starting with `E` are errors (the program \
         will not run); codes starting with `W` are warnings (`--deny-warnings` makes them fail CI).\n\n\
         This file is generated from `compiler/src/diagnostics/catalogue.rs`: run \
         `maclc explain --all > docs/diagnostics.md` after changing it.\n",
    );
    for entry in ENTRIES {
        out.push_str(&entry_markdown(entry));
    }
    out
}

/// One entry as Markdown (also what `maclc explain` prints).
pub fn entry_markdown(entry: &Entry) -> String {
    format!(
        "\n## {code}: {title}\n\n{explanation}\n\nFor example:\n\n```\n{example}\n```\n\nFixed:\n\n```\n{fix}\n```\n",
        code = entry.code.as_str(),
        title = entry.title,
        explanation = entry.explanation,
        example = entry.example,
        fix = entry.fix,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_ordered() {
        for pair in ENTRIES.windows(2) {
            assert!(
                pair[0].code.as_str() < pair[1].code.as_str(),
                "{} then {}",
                pair[0].code.as_str(),
                pair[1].code.as_str()
            );
        }
    }

    #[test]
    fn lookup_accepts_short_forms() {
        assert_eq!(lookup("e0001").map(|e| e.code), Some(SYNTAX));
        assert_eq!(lookup("1").map(|e| e.code), Some(SYNTAX));
        assert!(lookup("E9999").is_none());
    }
}
