//! Semantics tests of the engine: a small program, a few JSON lines, the exact state lines.
//!
//! Each test states one rule of the semantics (caps, windows, decay, bounds, identity merges,
//! determinism) with the smallest input that shows it, so that a failure names the rule.

use maclc_compiler::source::Sources;
use maclc_runtime::engine::{Engine, EventMap, RunOutput};
use maclc_runtime::input::{decode_lines, time::parse_timestamp};
use maclc_runtime::output::state_line;
use maclc_runtime::program_schema::input_schema;

/// The schema shared by the tests; each test adds its scores and segments.
const SCHEMA: &str = r#"
default time_zone "UTC"
channel email opt_in
enum line { general, medical }
contact {
  email: text
  job_title: optional text
  company_size: optional number
}
event page_view from page {
  path: text
  url: text
}
event demo_requested from track "Demo Requested" {
  product_line: line
}
event checkout from track "Checkout Started" {
  value: money
}
"#;

fn run_full(program: &str, lines: &[String], until: Option<&str>) -> (Vec<String>, RunOutput) {
    run_schema(SCHEMA, program, lines, until)
}

/// As `run_full`, with a schema of the test's own (accounts, tables).
fn run_schema(
    schema: &str,
    program: &str,
    lines: &[String],
    until: Option<&str>,
) -> (Vec<String>, RunOutput) {
    let mut sources = Sources::new();
    sources.add("test.marketing".to_string(), format!("{schema}\n{program}"));
    let analysis = maclc_compiler::analyze(&sources);
    assert!(
        !analysis.has_errors(),
        "the test program has errors: {:#?}",
        analysis.diagnostics
    );
    let ir = match maclc_compiler::ir::lower(&analysis.program) {
        Ok(ir) => ir,
        Err(e) => panic!("cannot lower: {e}"),
    };
    let (schema, track) = input_schema(&ir);
    let input = lines.join("\n");
    let mut engine = Engine::new(&ir, EventMap::new(&ir, track));
    let mut decoded = decode_lines(input.as_bytes(), &schema);
    for outcome in decoded.by_ref() {
        match outcome {
            Ok(record) => engine.push(record),
            Err(reject) => panic!("line {} rejected: {}", reject.line, reject.detail),
        }
    }
    let until = until.map(|t| parse_timestamp(t).unwrap_or_else(|e| panic!("{e}")));
    let output = engine.finish(until);
    let states = output.contacts.iter().map(|c| state_line(&ir, c)).collect();
    (states, output)
}

fn run(program: &str, lines: &[String], until: Option<&str>) -> Vec<String> {
    run_full(program, lines, until).0
}

fn ids(user: Option<&str>, anonymous: Option<&str>) -> String {
    let mut s = String::new();
    if let Some(u) = user {
        s.push_str(&format!(r#""userId":"{u}","#));
    }
    if let Some(a) = anonymous {
        s.push_str(&format!(r#""anonymousId":"{a}","#));
    }
    s
}

fn page(user: Option<&str>, anonymous: Option<&str>, ts: &str, path: &str) -> String {
    format!(
        r#"{{"type":"page",{}"properties":{{"path":"{path}","url":"https://x.example{path}"}},"timestamp":"{ts}","messageId":"m-{ts}"}}"#,
        ids(user, anonymous)
    )
}

fn demo(user: &str, ts: &str, line: &str) -> String {
    format!(
        r#"{{"type":"track","event":"Demo Requested","userId":"{user}","properties":{{"product_line":"{line}"}},"timestamp":"{ts}","messageId":"m-{ts}"}}"#
    )
}

fn identify(user: &str, anonymous: Option<&str>, ts: &str, traits: &str) -> String {
    format!(
        r#"{{"type":"identify",{}"traits":{{{traits}}},"timestamp":"{ts}","messageId":"m-{ts}"}}"#,
        ids(Some(user), anonymous)
    )
}

fn alias(previous: &str, user: &str, ts: &str) -> String {
    format!(
        r#"{{"type":"alias","previousId":"{previous}","userId":"{user}","timestamp":"{ts}","messageId":"m-{ts}"}}"#
    )
}

const TRAITS_GRANTED: &str = r#""email":"a@b.example","job_title":"Head of Procurement","company_size":800,"consent":{"email":"granted"}"#;

#[test]
fn a_day_cap_keeps_the_earliest_records_of_each_utc_day() {
    let program = r#"score s { +5 on page_view where path starts_with "/p" limit 2 per day }"#;
    let lines = [
        page(Some("u"), None, "2026-03-02T09:00:00Z", "/p"),
        page(Some("u"), None, "2026-03-02T10:00:00Z", "/p/a"),
        page(Some("u"), None, "2026-03-02T11:00:00Z", "/p/b"),
        page(Some("u"), None, "2026-03-02T23:59:59.999Z", "/p"),
        page(Some("u"), None, "2026-03-03T00:00:00Z", "/p"),
        page(Some("u"), None, "2026-03-03T00:00:01Z", "/other"),
    ];
    assert_eq!(
        run(program, &lines, None),
        [r#"{"contact":"u","s":15,"segments":[]}"#]
    );
}

#[test]
fn a_day_cap_follows_the_score_time_zone() {
    // 23:30 UTC on the 2nd is already the 3rd at +02:00: a new day there.
    let program = r#"score s { time_zone "+02:00"
      +5 on page_view limit 1 per day }"#;
    let lines = [
        page(Some("u"), None, "2026-03-02T20:00:00Z", "/"),
        page(Some("u"), None, "2026-03-02T21:30:00Z", "/"),
        page(Some("u"), None, "2026-03-02T22:30:00Z", "/"),
    ];
    assert_eq!(
        run(program, &lines, None),
        [r#"{"contact":"u","s":10,"segments":[]}"#]
    );
}

#[test]
fn a_week_cap_runs_monday_to_monday() {
    let program = r#"score s { -10 on page_view where path starts_with "/jobs" limit 1 per week }"#;
    let lines = [
        // 2026-03-02 is a Monday; the 8th a Sunday.
        page(Some("u"), None, "2026-03-02T00:00:00Z", "/jobs"),
        page(Some("u"), None, "2026-03-08T23:59:59Z", "/jobs/x"),
        page(Some("u"), None, "2026-03-09T00:00:00Z", "/jobs"),
        page(Some("u"), None, "2026-03-01T23:59:59Z", "/jobs"),
    ];
    assert_eq!(
        run(program, &lines, None),
        [r#"{"contact":"u","s":-30,"segments":[]}"#]
    );
}

#[test]
fn a_rolling_cap_counts_kept_records_in_the_window() {
    let program = r#"score s { +1 on page_view limit 2 per 12h }"#;
    let lines = [
        page(Some("u"), None, "2026-03-02T00:00:00Z", "/"),
        page(Some("u"), None, "2026-03-02T01:00:00Z", "/"),
        page(Some("u"), None, "2026-03-02T11:00:00Z", "/"), // dropped: 2 kept in 12 h
        page(Some("u"), None, "2026-03-02T12:00:00Z", "/"), // the first left the window
        page(Some("u"), None, "2026-03-02T12:30:00Z", "/"), // dropped
        page(Some("u"), None, "2026-03-02T13:00:00Z", "/"), // the second left
    ];
    assert_eq!(
        run(program, &lines, None),
        [r#"{"contact":"u","s":4,"segments":[]}"#]
    );
}

#[test]
fn a_once_limit_counts_once_ever() {
    let program = r#"score s { +7 on demo_requested once }"#;
    let lines = [
        demo("u", "2026-03-02T00:00:00Z", "general"),
        demo("u", "2026-04-02T00:00:00Z", "medical"),
    ];
    assert_eq!(
        run(program, &lines, None),
        [r#"{"contact":"u","s":7,"segments":[]}"#]
    );
}

#[test]
fn bounds_apply_at_each_change() {
    // Capped at 20 then lowered: 20 - 10 = 10, not 25 - 10.
    let program = r#"score s {
      +25 on demo_requested where product_line == general
      -10 on demo_requested where product_line == medical
      at most 20
      at least 0
    }"#;
    let lines = [
        demo("u", "2026-03-02T00:00:00Z", "general"),
        demo("u", "2026-03-03T00:00:00Z", "medical"),
        demo("v", "2026-03-03T00:00:00Z", "medical"),
    ];
    assert_eq!(
        run(program, &lines, None),
        [
            r#"{"contact":"u","s":10,"segments":[]}"#,
            r#"{"contact":"v","s":0,"segments":[]}"#
        ]
    );
}

#[test]
fn half_life_decay_runs_on_event_time_up_to_until() {
    let program = r#"score s { +80 on demo_requested
      decay half_life 10d }"#;
    let lines = [demo("u", "2026-03-01T00:00:00Z", "general")];
    assert_eq!(
        run(program, &lines, Some("2026-03-21T00:00:00Z")),
        [r#"{"contact":"u","s":20,"segments":[]}"#]
    );
    // Without --until the run ends at the last record: no time has passed.
    assert_eq!(
        run(program, &lines, None),
        [r#"{"contact":"u","s":80,"segments":[]}"#]
    );
}

#[test]
fn step_decay_counts_whole_periods_of_inactivity() {
    let program = r#"score s { +100 on demo_requested
      decay 50% every 7d of inactivity }"#;
    let lines = [
        demo("u", "2026-03-01T00:00:00Z", "general"),
        // 8 days later: one period of inactivity, 50; then +100.
        demo("u", "2026-03-09T00:00:00Z", "general"),
    ];
    // 13 days after the last record: one whole period: (50 + 100) / 2.
    assert_eq!(
        run(program, &lines, Some("2026-03-22T00:00:00Z")),
        [r#"{"contact":"u","s":75,"segments":[]}"#]
    );
}

#[test]
fn profile_points_come_from_the_latest_traits() {
    let program = r#"score fit {
      +15 when contact.job_title is known and contact.job_title matches "(?i)purchas|procurement"
      +50 when contact.job_title is known and contact.job_title matches "(?i)\\b(head|cto)\\b"
      +20 when contact.company_size ?? 0 >= 500
      -100 when contact.email ends_with "@competitor.example"
    }
    segment mql = fit >= 80 and consent.email == granted"#;
    let lines = [
        identify("u", None, "2026-03-01T00:00:00Z", TRAITS_GRANTED),
        identify(
            "v",
            None,
            "2026-03-01T00:00:00Z",
            r#""email":"x@competitor.example","job_title":"Headhunter","consent":{"email":"granted"}"#,
        ),
        identify("v", None, "2026-02-01T00:00:00Z", TRAITS_GRANTED),
    ];
    assert_eq!(
        run(program, &lines, None),
        [
            r#"{"contact":"u","fit":85,"segments":["mql"]}"#,
            r#"{"contact":"v","fit":-100,"segments":[]}"#
        ]
    );
}

#[test]
fn a_windowed_count_expires_when_time_passes() {
    let program = r#"segment hot = count page_view where path == "/pricing" in the last 7d >= 2
    segment dormant = no event in the last 10d"#;
    let lines = [
        page(Some("u"), None, "2026-03-01T12:00:00Z", "/pricing"),
        page(Some("u"), None, "2026-03-02T12:00:00Z", "/pricing"),
        page(Some("u"), None, "2026-03-03T12:00:00Z", "/pricing/"),
    ];
    let at = |t| run(program, &lines, Some(t));
    assert_eq!(
        at("2026-03-08T11:59:59Z"),
        [r#"{"contact":"u","segments":["hot"]}"#]
    );
    // Exactly 7 days after the first view, it is out of the window (T - 7d < ts).
    assert_eq!(
        at("2026-03-08T12:00:00Z"),
        [r#"{"contact":"u","segments":[]}"#]
    );
    // Ten days after the last record nothing is left in the window: `no event` holds.
    assert_eq!(
        at("2026-03-13T11:59:59Z"),
        [r#"{"contact":"u","segments":[]}"#]
    );
    assert_eq!(
        at("2026-03-13T12:00:00Z"),
        [r#"{"contact":"u","segments":["dormant"]}"#]
    );
}

#[test]
fn records_after_until_are_not_applied() {
    let program = r#"score s { +1 on page_view }"#;
    let lines = [
        page(Some("u"), None, "2026-03-01T00:00:00Z", "/"),
        page(Some("u"), None, "2026-03-05T00:00:00Z", "/"),
        page(Some("w"), None, "2026-03-06T00:00:00Z", "/"),
    ];
    let (states, output) = run_full(program, &lines, Some("2026-03-02T00:00:00Z"));
    assert_eq!(states, [r#"{"contact":"u","s":1,"segments":[]}"#]);
    assert_eq!(output.after_until, 2);
}

#[test]
fn points_earned_while_anonymous_carry_over_and_share_the_cap() {
    let program = r#"score s { +5 on page_view where path starts_with "/p" limit 3 per day }
    segment dormant = no event in the last 1d"#;
    let lines = [
        page(None, Some("anon-1"), "2026-03-02T09:00:00Z", "/p"),
        page(None, Some("anon-1"), "2026-03-02T09:01:00Z", "/p"),
        // The claim: from here on anon-1 is u.
        identify("u", Some("anon-1"), "2026-03-02T09:02:00Z", TRAITS_GRANTED),
        page(Some("u"), None, "2026-03-02T09:03:00Z", "/p"),
        page(Some("u"), None, "2026-03-02T09:04:00Z", "/p"), // 4th of the day: capped
        page(None, Some("anon-2"), "2026-03-02T09:05:00Z", "/p"), // never claimed
    ];
    let (states, output) = run_full(program, &lines, None);
    assert_eq!(states, [r#"{"contact":"u","s":15,"segments":[]}"#]);
    assert_eq!(output.anonymous_left_out, 1);
}

#[test]
fn a_merge_replays_both_histories_in_event_time() {
    // The legacy id earned points the same day as the new one: after the alias they are one
    // contact, and the cap keeps the earliest 2 of the day, whichever id they came under.
    let program = r#"score s { +1 on page_view limit 2 per day }"#;
    let lines = [
        page(Some("crm-1"), None, "2026-03-02T09:00:00Z", "/"),
        page(Some("user-1"), None, "2026-03-02T08:00:00Z", "/"),
        page(Some("crm-1"), None, "2026-03-02T10:00:00Z", "/"),
        alias("crm-1", "user-1", "2026-03-03T00:00:00Z"),
        page(Some("crm-1"), None, "2026-03-03T09:00:00Z", "/"),
    ];
    assert_eq!(
        run(program, &lines, None),
        [r#"{"contact":"user-1","s":3,"segments":[]}"#]
    );
}

#[test]
fn a_shared_computer_stays_with_its_first_claim() {
    let program = r#"score s { +1 on page_view }"#;
    let lines = [
        page(None, Some("a"), "2026-03-01T00:00:00Z", "/"),
        identify("first", Some("a"), "2026-03-02T00:00:00Z", TRAITS_GRANTED),
        identify("second", Some("a"), "2026-03-03T00:00:00Z", TRAITS_GRANTED),
        page(None, Some("a"), "2026-03-04T00:00:00Z", "/"),
    ];
    assert_eq!(
        run(program, &lines, None),
        [
            r#"{"contact":"first","s":2,"segments":[]}"#,
            r#"{"contact":"second","s":0,"segments":[]}"#
        ]
    );
}

#[test]
fn event_conditions_read_properties_and_nested_segments() {
    let program = r#"score big { +1 on checkout where value >= 100 EUR }
    segment buyer = big >= 2
    segment vip = buyer and sum checkout.value in the last 30d > 500 EUR"#;
    let checkout = |ts: &str, value: &str| {
        format!(
            r#"{{"type":"track","event":"Checkout Started","userId":"u","properties":{{"value":{value}}},"timestamp":"{ts}","messageId":"m-{ts}"}}"#
        )
    };
    let lines = [
        checkout("2026-03-01T00:00:00Z", "99.99"),
        checkout("2026-03-02T00:00:00Z", "100"),
        checkout("2026-03-03T00:00:00Z", "450.5"),
    ];
    assert_eq!(
        run(program, &lines, None),
        [r#"{"contact":"u","big":2,"segments":["buyer","vip"]}"#]
    );
}

#[test]
fn the_order_of_lines_does_not_matter() {
    let program = r#"score s { +5 on page_view where path starts_with "/p" limit 2 per day
      decay half_life 3d }
    segment hot = count page_view in the last 2d >= 3"#;
    let mut lines = Vec::new();
    for day in 1..=9 {
        for hour in [8, 9, 10, 11] {
            let ts = format!("2026-03-0{day}T{hour:02}:00:00Z");
            let user = if day % 2 == 0 { "u" } else { "v" };
            lines.push(page(Some(user), None, &ts, "/p"));
        }
    }
    lines.push(identify(
        "u",
        Some("anon"),
        "2026-03-05T00:00:00Z",
        TRAITS_GRANTED,
    ));
    lines.push(page(None, Some("anon"), "2026-03-04T07:00:00Z", "/p"));
    let sorted = run(program, &lines, Some("2026-03-10T00:00:00Z"));
    // A deterministic shuffle (a linear congruential generator), several times.
    let mut seed: u64 = 7;
    for _ in 0..5 {
        let mut shuffled = lines.clone();
        for i in (1..shuffled.len()).rev() {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            shuffled.swap(i, (seed >> 33) as usize % (i + 1));
        }
        assert_eq!(
            run(program, &shuffled, Some("2026-03-10T00:00:00Z")),
            sorted
        );
    }
}

#[test]
fn a_day_cap_follows_a_named_zone_across_daylight_saving_time() {
    let Some(berlin) = maclc_runtime::zone::load_zone("Europe/Berlin") else {
        eprintln!("SKIPPED: no time-zone database (set TZDIR)");
        return;
    };
    let at = |t: &str| berlin.offset_at(parse_timestamp(t).unwrap_or_else(|e| panic!("{e}")));
    assert_eq!(at("2026-03-29T00:59:59Z"), 3_600_000);
    assert_eq!(at("2026-03-29T01:00:00Z"), 7_200_000);
    assert_eq!(at("2026-10-25T00:59:59Z"), 7_200_000);
    assert_eq!(at("2026-10-25T01:00:00Z"), 3_600_000);

    let program = r#"score s { time_zone "Europe/Berlin"
      +1 on page_view limit 1 per day }"#;
    let mut sources = Sources::new();
    sources.add("t.marketing".to_string(), format!("{SCHEMA}\n{program}"));
    let analysis = maclc_compiler::analyze(&sources);
    assert!(!analysis.has_errors(), "{:#?}", analysis.diagnostics);
    // Without a database the zone is a typed error, not a panic.
    assert!(maclc_compiler::ir::lower(&analysis.program).is_err());
    let ir = maclc_compiler::ir::lower_with(&analysis.program, &maclc_runtime::zone::load_zone)
        .unwrap_or_else(|e| panic!("{e}"));
    let (schema, track) = input_schema(&ir);
    let lines = [
        // Winter: the Berlin day starts at 23:00 UTC.
        page(Some("u"), None, "2026-03-02T22:30:00Z", "/"),
        page(Some("u"), None, "2026-03-02T23:30:00Z", "/"),
        // Summer: at 22:00 UTC.
        page(Some("u"), None, "2026-06-02T21:30:00Z", "/"),
        page(Some("u"), None, "2026-06-02T22:30:00Z", "/"),
        page(Some("u"), None, "2026-06-02T23:30:00Z", "/"),
    ];
    let input = lines.join("\n");
    let mut engine = Engine::new(&ir, EventMap::new(&ir, track));
    for outcome in decode_lines(input.as_bytes(), &schema) {
        engine.push(outcome.unwrap_or_else(|r| panic!("{}", r.detail)));
    }
    let output = engine.finish(None);
    let states: Vec<String> = output.contacts.iter().map(|c| state_line(&ir, c)).collect();
    assert_eq!(states, [r#"{"contact":"u","s":4,"segments":[]}"#]);
}

#[test]
fn expressions_functions_lists_and_missing_values() {
    // Each segment is one fact about contact `u` (job title "Head of Sales", size 800) or
    // contact `v` (no job title, no size: optional values are missing).
    let program = r#"score s { +30 on demo_requested where product_line == general
      -70 on demo_requested where product_line == medical }
    segment abs_ok = abs(s) == 40
    segment min_max = min(s, 0) == -40 and max(s, 5) == 5
    segment lowered = contact.job_title is known and lower(contact.job_title) == "head of sales"
    segment long_title = length(contact.job_title ?? "") > 10
    segment unknown_title = contact.job_title is unknown
    segment big = (contact.company_size ?? 0) between 500 and 1000
    segment listed = contact.email in ["u@x.example", "w@x.example"]
    segment not_listed = contact.email not in ["u@x.example"]
    segment contains = contact.email contains "@x."
    segment guarded = not (contact.company_size is known and contact.company_size > 1)"#;
    let lines = [
        identify(
            "u",
            None,
            "2026-03-01T00:00:00Z",
            r#""email":"u@x.example","job_title":"Head of Sales","company_size":800,"consent":{"email":"denied"}"#,
        ),
        demo("u", "2026-03-02T00:00:00Z", "general"),
        demo("u", "2026-03-03T00:00:00Z", "medical"),
        identify(
            "v",
            None,
            "2026-03-01T00:00:00Z",
            r#""email":"v@y.example","consent":{"email":"unknown"}"#,
        ),
    ];
    assert_eq!(
        run(program, &lines, None),
        [
            r#"{"contact":"u","s":-40,"segments":["abs_ok","big","contains","listed","long_title","lowered","min_max"]}"#,
            r#"{"contact":"v","s":0,"segments":["guarded","not_listed","unknown_title"]}"#,
        ]
    );
}

#[test]
fn a_rule_that_reads_a_segment_sees_it_as_of_each_record() {
    // The bonus counts only when the contact is already hot before this record.
    let program = r#"score a { +10 on demo_requested }
    segment hot = a >= 20
    score bonus { +1 on demo_requested where hot }"#;
    let lines = [
        demo("u", "2026-03-01T00:00:00Z", "general"),
        demo("u", "2026-03-02T00:00:00Z", "general"),
        demo("u", "2026-03-03T00:00:00Z", "general"),
    ];
    // a: 10, 20, 30; hot from the second record on, so only the third earns the bonus.
    assert_eq!(
        run(program, &lines, None),
        [r#"{"contact":"u","a":30,"bonus":1,"segments":["hot"]}"#]
    );
}

/// A schema with an account type linked from the contact, as the printers example declares it.
const ACCOUNT_SCHEMA: &str = r#"
default time_zone "UTC"
account company key id {
  id: text
  name: optional text
  target_account: optional bool
}
contact {
  email: text
  company: optional company from "company.id"
}
event page_view from page {
  path: text
  url: text
}
"#;

#[test]
fn account_fields_come_from_the_account_object_of_the_latest_traits() {
    let program = r#"score s {
      +10 on page_view where account.target_account ?? false
      +1 on page_view where account.id is known and account.id == "acc-1"
      +100 when account.name is known and account.name starts_with "Acme"
    }
    segment no_account = account.id is unknown"#;
    let lines = [
        // `a` works for a named account: both event rules and the profile rule hold.
        identify(
            "a",
            None,
            "2026-03-01T00:00:00Z",
            r#""email":"a@x.example","company":{"id":"acc-1","name":"Acme","target_account":true}"#,
        ),
        page(Some("a"), None, "2026-03-02T00:00:00Z", "/p"),
        // `b` has no company: every `account.*` is missing (an account object without its key
        // is rejected by the input schema, `traits.company.id` is missing).
        identify(
            "b",
            None,
            "2026-03-01T00:00:00Z",
            r#""email":"b@x.example""#,
        ),
        page(Some("b"), None, "2026-03-02T00:00:00Z", "/p"),
        // `c` leaves its account: the latest traits have none, so the profile points go and
        // later events see no account.
        identify(
            "c",
            None,
            "2026-03-01T00:00:00Z",
            r#""email":"c@x.example","company":{"id":"acc-1","name":"Acme","target_account":true}"#,
        ),
        page(Some("c"), None, "2026-03-02T00:00:00Z", "/p"),
        identify(
            "c",
            None,
            "2026-03-03T00:00:00Z",
            r#""email":"c@x.example""#,
        ),
        page(Some("c"), None, "2026-03-04T00:00:00Z", "/p"),
    ];
    let (states, _) = run_schema(ACCOUNT_SCHEMA, program, &lines, None);
    assert_eq!(
        states,
        [
            r#"{"contact":"a","s":111,"segments":[]}"#,
            r#"{"contact":"b","s":0,"segments":["no_account"]}"#,
            r#"{"contact":"c","s":11,"segments":["no_account"]}"#,
        ]
    );
}

#[test]
fn account_scores_roll_up_the_contacts_of_each_account_at_the_end() {
    let program = r#"score s { +10 on page_view }
    account score total = sum of s
    account score best = max of s
    account score worst = min of s
    account score mean = average of s
    segment busy_account = (total ?? 0) >= 30"#;
    let company = |id: &str| format!(r#""email":"x@x.example","company":{{"id":"{id}"}}"#);
    let lines = [
        identify("a", None, "2026-03-01T00:00:00Z", &company("acc-1")),
        page(Some("a"), None, "2026-03-02T00:00:00Z", "/p"),
        page(Some("a"), None, "2026-03-02T01:00:00Z", "/p"),
        identify("b", None, "2026-03-01T00:00:00Z", &company("acc-1")),
        page(Some("b"), None, "2026-03-02T02:00:00Z", "/p"),
        // `c` moved from acc-1 to acc-2: its latest traits decide its account.
        identify("c", None, "2026-03-01T00:00:00Z", &company("acc-1")),
        identify("c", None, "2026-03-01T05:00:00Z", &company("acc-2")),
        // `d` has no account: no account scores, not in the segment.
        identify(
            "d",
            None,
            "2026-03-01T00:00:00Z",
            r#""email":"d@x.example""#,
        ),
        page(Some("d"), None, "2026-03-02T03:00:00Z", "/p"),
        page(Some("d"), None, "2026-03-02T04:00:00Z", "/p"),
        page(Some("d"), None, "2026-03-02T05:00:00Z", "/p"),
    ];
    let (states, output) = run_schema(ACCOUNT_SCHEMA, program, &lines, None);
    assert_eq!(
        states,
        [
            r#"{"contact":"a","s":20,"segments":["busy_account"]}"#,
            r#"{"contact":"b","s":10,"segments":["busy_account"]}"#,
            r#"{"contact":"c","s":0,"segments":[]}"#,
            r#"{"contact":"d","s":30,"segments":[]}"#,
        ]
    );
    let ir = lowered(ACCOUNT_SCHEMA, program);
    let accounts: Vec<String> = output
        .accounts
        .iter()
        .map(|a| maclc_runtime::output::account_line(&ir, a))
        .collect();
    assert_eq!(
        accounts,
        [
            r#"{"account":"acc-1","contacts":2,"total":30,"best":20,"worst":10,"mean":15}"#,
            r#"{"account":"acc-2","contacts":1,"total":0,"best":0,"worst":0,"mean":0}"#,
        ]
    );
}

#[test]
fn an_account_score_cannot_be_read_while_contacts_still_run() {
    let mut sources = Sources::new();
    sources.add(
        "test.marketing".to_string(),
        format!(
            "{ACCOUNT_SCHEMA}\nscore s {{ +10 on page_view }}
account score total = sum of s
score t {{ +1 when (total ?? 0) > 5 }}"
        ),
    );
    let analysis = maclc_compiler::analyze(&sources);
    assert!(!analysis.has_errors(), "{:#?}", analysis.diagnostics);
    let error = maclc_compiler::ir::lower(&analysis.program).err();
    assert_eq!(
        error.map(|e| e.to_string()),
        Some(
            "score `t`, rule 1 uses an account score outside a segment evaluated at the end \
             of the run, which `maclc run` does not evaluate yet"
                .to_string()
        )
    );
}

fn lowered(schema: &str, program: &str) -> maclc_compiler::ir::Ir {
    let mut sources = Sources::new();
    sources.add("test.marketing".to_string(), format!("{schema}\n{program}"));
    let analysis = maclc_compiler::analyze(&sources);
    match maclc_compiler::ir::lower(&analysis.program) {
        Ok(ir) => ir,
        Err(e) => panic!("cannot lower: {e}"),
    }
}

/// A schema with a table keyed by text, as the printers' product catalogue.
const TABLE_SCHEMA: &str = r#"
default time_zone "UTC"
enum line { general, medical }
contact {
  email: text
}
table products key product_id {
  product_id: text
  name: text
  line: line
  price: number
  row "GEN-MK1", "Maker One", general, 900
  row "MED-BPX", "BioPrint X", medical, 25000
}
event datasheet from track "Datasheet Downloaded" {
  product_id: text
}
"#;

fn datasheet(user: &str, ts: &str, product: &str) -> String {
    format!(
        r#"{{"type":"track","event":"Datasheet Downloaded","userId":"{user}","properties":{{"product_id":"{product}"}},"timestamp":"{ts}","messageId":"m-{ts}"}}"#
    )
}

#[test]
fn a_table_lookup_finds_the_row_of_the_key_or_nothing() {
    let program = r#"score medical {
      +25 on datasheet where products[product_id].line is known and products[product_id].line == medical
      +1 on datasheet where (products[product_id].price ?? 0) > 1000
      +100 on datasheet where products[product_id].name is unknown
      +1000 on datasheet where (products["MED-BPX"].line ?? general) == general
    }"#;
    let lines = [
        datasheet("a", "2026-03-01T00:00:00Z", "MED-BPX"),
        datasheet("b", "2026-03-01T00:00:00Z", "GEN-MK1"),
        // Not in the table: every column is missing (keys compare exactly, case included).
        datasheet("c", "2026-03-01T00:00:00Z", "med-bpx"),
    ];
    let (states, _) = run_schema(TABLE_SCHEMA, program, &lines, None);
    assert_eq!(
        states,
        [
            r#"{"contact":"a","medical":26,"segments":[]}"#,
            r#"{"contact":"b","medical":0,"segments":[]}"#,
            r#"{"contact":"c","medical":100,"segments":[]}"#,
        ]
    );
    // The literal lookup was folded to a constant at lowering; the others index the key.
    let ir = lowered(TABLE_SCHEMA, program);
    let table = ir.tables.first();
    assert_eq!(table.and_then(|t| t.row_of_text("MED-BPX")), Some(1));
    assert_eq!(table.and_then(|t| t.row_of_text("med-bpx")), None);
}

#[test]
fn a_limit_on_profile_points_counts_each_time_the_condition_starts_holding() {
    let program = r#"score fit {
      +50 when (contact.job_title ?? "") contains "Head" once
      -5 when contact.email ends_with "@gmail.com" limit 1 per week
    }"#;
    let who = |email: &str, title: &str| {
        format!(r#""email":"{email}","job_title":"{title}","consent":{{"email":"granted"}}"#)
    };
    let lines = [
        // `u`: the title earns 50 once; lost with the title, not earned again when it returns.
        identify(
            "u",
            None,
            "2026-03-02T09:00:00Z",
            &who("u@corp.example", "Head of IT"),
        ),
        identify(
            "u",
            None,
            "2026-03-03T09:00:00Z",
            &who("u@corp.example", "Engineer"),
        ),
        identify(
            "u",
            None,
            "2026-03-04T09:00:00Z",
            &who("u@corp.example", "Head of IT"),
        ),
        // `v`: keeps its title, keeps its points through later identifies.
        identify(
            "v",
            None,
            "2026-03-02T09:00:00Z",
            &who("v@corp.example", "Head of IT"),
        ),
        identify(
            "v",
            None,
            "2026-03-20T09:00:00Z",
            &who("v@corp.example", "Head of IT"),
        ),
        // `w`: a free-mail address costs 5 once per ISO week, counted when it starts holding.
        identify(
            "w",
            None,
            "2026-03-02T09:00:00Z",
            &who("w@gmail.com", "Engineer"),
        ),
        identify(
            "w",
            None,
            "2026-03-03T09:00:00Z",
            &who("w@corp.example", "Engineer"),
        ),
        // Starts again the same week: refused, and not counted later while it keeps holding.
        identify(
            "w",
            None,
            "2026-03-04T09:00:00Z",
            &who("w@gmail.com", "Engineer"),
        ),
        identify(
            "w",
            None,
            "2026-03-09T09:00:00Z",
            &who("w@gmail.com", "Engineer"),
        ),
        // Stops and starts again in a new week: counted.
        identify(
            "w",
            None,
            "2026-03-10T09:00:00Z",
            &who("w@corp.example", "Engineer"),
        ),
        identify(
            "w",
            None,
            "2026-03-11T09:00:00Z",
            &who("w@gmail.com", "Engineer"),
        ),
    ];
    assert_eq!(
        run(program, &lines, Some("2026-03-09T12:00:00Z")),
        [
            r#"{"contact":"u","fit":0,"segments":[]}"#,
            r#"{"contact":"v","fit":50,"segments":[]}"#,
            r#"{"contact":"w","fit":0,"segments":[]}"#,
        ]
    );
    assert_eq!(
        run(program, &lines, None),
        [
            r#"{"contact":"u","fit":0,"segments":[]}"#,
            r#"{"contact":"v","fit":50,"segments":[]}"#,
            r#"{"contact":"w","fit":-5,"segments":[]}"#,
        ]
    );
}
