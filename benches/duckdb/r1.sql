-- R1 (shared/workload/R1.md) in DuckDB SQL: the same job as
-- `maclc run examples/reference-r1 --events FILE --state-out STATE`, done the way a data team
-- would do it without maclc. benches/duckdb/run.sh runs it and compares its output with maclc's.
--
-- Parameters, replaced as text before the script runs (run.sh / bench.py do it; by hand:
-- `sed -e "s|{{events}}|events.jsonl|" -e … r1.sql | duckdb`):
--   {{events}}       the JSON Lines file (R1 §1)
--   {{state_out}}    where to write one JSON object per contact, sorted by contact (R1 §5)
--   {{summary_out}}  where to write the summary: lines, valid records, skipped lines per
--                    reason, contacts, anonymous records left out, as-of time, segment sizes
-- The thread count is the caller's (`SET threads = …`), not the script's.
--
-- Where DuckDB cannot follow R1 exactly (none of these occur in files written by
-- gen_events.py), see "Against DuckDB" in docs/performance.md: duplicate keys in one object
-- (DuckDB's JSON reader keeps the first, R1's reference the last), a CSV line reject other
-- than bad UTF-8 (counted as too_long or invalid_json by its length), and a line holding `\r`,
-- which stops DuckDB's CSV reader (R1 reads it as JSON whitespace).

-- ---------------------------------------------------------------------------------------
-- §1 Which lines count
-- ---------------------------------------------------------------------------------------

-- Each line as one VARCHAR: no header, no quoting, no escaping, and a delimiter (U+0001) that a
-- valid JSON line cannot hold unescaped. Lines that are not UTF-8 are rejected by the reader
-- and land in `reject_errors` (error_type 'INVALID ENCODING'), which is how they are counted.
-- The reader gives an empty line as NULL; R1 reads it as the empty text (invalid_json).
CREATE TEMP TABLE lines AS
SELECT coalesce(line, '') AS line
FROM read_csv('{{events}}',
    columns = {'line': 'VARCHAR'}, header = false, auto_detect = false,
    delim = chr(1), quote = '', escape = '', new_line = '\n',
    ignore_errors = true, store_rejects = true, max_line_size = 8388608);

-- The JSON type of a member from its JSON text (as `from_json` gives it back): VARCHAR, OBJECT,
-- ARRAY, BOOLEAN, BIGINT (a number with no fraction and no exponent) or DOUBLE; SQL NULL when
-- the member is absent or `null` (R1 treats the two alike everywhere). Reading the first
-- character is much cheaper than asking json_type, which parses the text again.
CREATE TEMP MACRO jtype(x) AS CASE WHEN x IS NULL THEN NULL ELSE CASE left(x, 1)
    WHEN '"' THEN 'VARCHAR' WHEN '{' THEN 'OBJECT' WHEN '[' THEN 'ARRAY'
    WHEN 't' THEN 'BOOLEAN' WHEN 'f' THEN 'BOOLEAN' WHEN 'n' THEN 'NULL'
    ELSE CASE WHEN contains(x, '.') OR contains(x, 'e') OR contains(x, 'E') THEN 'DOUBLE'
              ELSE 'BIGINT' END END END;
-- The text of a string member (escapes decoded: parsed again only when it has one), or the
-- JSON text of a number.
CREATE TEMP MACRO jtext(x) AS CASE
    WHEN left(x, 1) = '"' AND NOT contains(x, '\') THEN x[2:-2]
    ELSE json_extract_string(x, '$') END;
CREATE TEMP MACRO is_str(ty) AS coalesce(ty = 'VARCHAR', false);
CREATE TEMP MACRO is_num(ty) AS coalesce(ty IN ('BIGINT', 'UBIGINT', 'DOUBLE'), false);
-- An integer is a JSON number written with no fraction and no exponent (jtype's BIGINT; the
-- reader gives integers beyond 64 bits back as their text, fractions with a `.`).
CREATE TEMP MACRO is_int(ty) AS coalesce(ty = 'BIGINT', false);
CREATE TEMP MACRO absent_or_null(ty) AS coalesce(ty = 'NULL', true);
CREATE TEMP MACRO is_enum(ty, txt, allowed) AS
    is_str(ty) AND coalesce(list_contains(allowed, txt), false);
-- "An id is present only when it is a non-empty string."
CREATE TEMP MACRO present(ty, txt) AS is_str(ty) AND txt <> '';
CREATE TEMP MACRO is_leap(y) AS (y % 4 = 0 AND (y % 100 <> 0 OR y % 400 = 0));
CREATE TEMP MACRO days_in_month(y, m) AS CASE
    WHEN m = 2 THEN CASE WHEN is_leap(y) THEN 29 ELSE 28 END
    WHEN m IN (4, 6, 9, 11) THEN 30 ELSE 31 END;
CREATE TEMP MACRO is_real_date(y, m, d) AS
    (m BETWEEN 1 AND 12 AND d BETWEEN 1 AND days_in_month(y, m));
-- `YYYY-MM-DD` naming a real date (birthday, contract_end), ASCII digits only.
CREATE TEMP MACRO is_date_text(ty, txt) AS is_str(ty) AND coalesce(
    regexp_full_match(txt, '[0-9]{4}-[0-9]{2}-[0-9]{2}')
    AND is_real_date(TRY_CAST(substr(txt, 1, 4) AS INT), TRY_CAST(substr(txt, 6, 2) AS INT),
                     TRY_CAST(substr(txt, 9, 2) AS INT)), false);
-- Floor division, exact for negative numbers too (DuckDB's `//` truncates toward zero).
CREATE TEMP MACRO floor_div(a, b) AS (a - ((a % b) + b) % b) // b;
-- JSON whitespace, for trimming a line
CREATE TEMP MACRO json_ws() AS ' ' || chr(9) || chr(13) || chr(10);

-- Days since 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's days_from_civil),
-- plain arithmetic so that it cannot fail on a row the surrounding CASE has not selected.
CREATE TEMP MACRO civil_year(y, m) AS y - CASE WHEN m <= 2 THEN 1 ELSE 0 END;
CREATE TEMP MACRO civil_era(y, m) AS floor_div(civil_year(y, m), 400);
CREATE TEMP MACRO days_from_civil(y, m, d) AS
    civil_era(y, m) * 146097
    + (civil_year(y, m) - civil_era(y, m) * 400) * 365
    + (civil_year(y, m) - civil_era(y, m) * 400) // 4
    - (civil_year(y, m) - civil_era(y, m) * 400) // 100
    + (153 * ((m + 9) % 12) + 2) // 5 + d - 1
    - 719468;

CREATE TEMP TABLE parsed AS
SELECT
    line_too_long,
    -- "One JSON value": DuckDB's reader also takes NaN, Infinity and trailing commas, which
    -- JSON does not; lines where those could occur are checked again with the strings removed.
    CASE
        WHEN line_too_long THEN false
        WHEN NOT json_valid(line) THEN false
        -- (a cheap superset first: a letter or a closing bracket right after `:`, `[` or `,`,
        -- or a top-level value that does not start like a JSON value)
        WHEN regexp_matches(line, '[:\[,][ \t\r\n]*(?:[-+]?[nNiI]|[}\]])')
            OR left(ltrim(line, json_ws()), 1) IN ('n', 'N', 'i', 'I', '+', '-')
            THEN NOT regexp_matches(
                regexp_replace(line, '"(?:[^"\\]|\\.)*"', '""', 'g'),
                '(?:^|[:\[,])[ \t\r\n]*[-+]?(?i:nan|inf)|,[ \t\r\n]*[}\]]')
        ELSE true
    END AS is_json,
    CASE WHEN is_json THEN ltrim(line, json_ws())[1] = '{' END AS is_object,
    -- One parse of the line: every member R1 reads, each as its JSON text (SQL NULL when absent
    -- or `null`). A nested object that is not an object comes back with all its members NULL,
    -- like `{}`: R1 requires at least one member of each (properties, traits, consent,
    -- company), so both fail rule 10 alike and the difference never shows.
    CASE WHEN is_object THEN from_json(line, '{"type": "JSON", "timestamp": "JSON",
        "userId": "JSON", "anonymousId": "JSON", "previousId": "JSON", "event": "JSON",
        "messageId": "JSON", "name": "JSON",
        "properties": {"category": "JSON", "product_id": "JSON", "webinar_id": "JSON",
            "topic": "JSON", "product_line": "JSON", "form": "JSON", "campaign": "JSON",
            "channel": "JSON", "cart_id": "JSON", "value": "JSON", "order_id": "JSON",
            "revenue": "JSON", "appointment_id": "JSON", "operation": "JSON", "path": "JSON",
            "url": "JSON"},
        "traits": {"email": "JSON", "first_name": "JSON", "country": "JSON",
            "timezone": "JSON", "consent": {"email": "JSON", "sms": "JSON"},
            "unsubscribed": "JSON", "blocklisted": "JSON", "job_title": "JSON",
            "industry": "JSON", "company": {"id": "JSON", "name": "JSON"},
            "company_size": "JSON", "budget": "JSON", "birthday": "JSON",
            "contract_end": "JSON"}}') END AS r
FROM (SELECT line, strlen(line) > 32768 AS line_too_long FROM lines);

CREATE TEMP TABLE checked AS
WITH members AS (
    -- t_N: the JSON type of member N, s_N: its text (for 9, 10, 31, 38: 'OBJECT' when present,
    -- see above). N, as numbered here:
    --  1 type  2 timestamp  3 userId  4 anonymousId  5 previousId  6 event  7 messageId  8 name
    --  9 properties  10 traits
    --  properties: 11 category 12 product_id 13 webinar_id 14 topic 15 product_line 16 form
    --   17 campaign 18 channel 19 cart_id 20 value 21 order_id 22 revenue 23 appointment_id
    --   24 operation 25 path 26 url
    --  traits: 27 email 28 first_name 29 country 30 timezone 31 consent 32 consent.email
    --   33 consent.sms 34 unsubscribed 35 blocklisted 36 job_title 37 industry 38 company
    --   39 company.id 40 company.name 41 company_size 42 budget 43 birthday 44 contract_end
    SELECT line_too_long, is_json, is_object,
        jtype(r.type) AS t_1, jtext(r.type) AS s_1,
        jtype(r.timestamp) AS t_2, jtext(r.timestamp) AS s_2,
        jtype(r.userId) AS t_3, jtext(r.userId) AS s_3,
        jtype(r.anonymousId) AS t_4, jtext(r.anonymousId) AS s_4,
        jtype(r.previousId) AS t_5, jtext(r.previousId) AS s_5,
        jtype(r.event) AS t_6, jtext(r.event) AS s_6,
        jtype(r.messageId) AS t_7, jtext(r.messageId) AS s_7,
        jtype(r.name) AS t_8, jtext(r.name) AS s_8,
        CASE WHEN r.properties IS NOT NULL THEN 'OBJECT' END AS t_9,
        CASE WHEN r.traits IS NOT NULL THEN 'OBJECT' END AS t_10,
        jtype(r.properties.category) AS t_11, jtext(r.properties.category) AS s_11,
        jtype(r.properties.product_id) AS t_12, jtext(r.properties.product_id) AS s_12,
        jtype(r.properties.webinar_id) AS t_13, jtext(r.properties.webinar_id) AS s_13,
        jtype(r.properties.topic) AS t_14, jtext(r.properties.topic) AS s_14,
        jtype(r.properties.product_line) AS t_15, jtext(r.properties.product_line) AS s_15,
        jtype(r.properties.form) AS t_16, jtext(r.properties.form) AS s_16,
        jtype(r.properties.campaign) AS t_17, jtext(r.properties.campaign) AS s_17,
        jtype(r.properties.channel) AS t_18, jtext(r.properties.channel) AS s_18,
        jtype(r.properties.cart_id) AS t_19, jtext(r.properties.cart_id) AS s_19,
        jtype(r.properties.value) AS t_20, jtext(r.properties.value) AS s_20,
        jtype(r.properties.order_id) AS t_21, jtext(r.properties.order_id) AS s_21,
        jtype(r.properties.revenue) AS t_22, jtext(r.properties.revenue) AS s_22,
        jtype(r.properties.appointment_id) AS t_23, jtext(r.properties.appointment_id) AS s_23,
        jtype(r.properties.operation) AS t_24, jtext(r.properties.operation) AS s_24,
        jtype(r.properties.path) AS t_25, jtext(r.properties.path) AS s_25,
        jtype(r.properties.url) AS t_26, jtext(r.properties.url) AS s_26,
        jtype(r.traits.email) AS t_27, jtext(r.traits.email) AS s_27,
        jtype(r.traits.first_name) AS t_28, jtext(r.traits.first_name) AS s_28,
        jtype(r.traits.country) AS t_29, jtext(r.traits.country) AS s_29,
        jtype(r.traits.timezone) AS t_30, jtext(r.traits.timezone) AS s_30,
        CASE WHEN r.traits.consent IS NOT NULL THEN 'OBJECT' END AS t_31,
        jtype(r.traits.consent.email) AS t_32, jtext(r.traits.consent.email) AS s_32,
        jtype(r.traits.consent.sms) AS t_33, jtext(r.traits.consent.sms) AS s_33,
        jtype(r.traits.unsubscribed) AS t_34, jtext(r.traits.unsubscribed) AS s_34,
        jtype(r.traits.blocklisted) AS t_35, jtext(r.traits.blocklisted) AS s_35,
        jtype(r.traits.job_title) AS t_36, jtext(r.traits.job_title) AS s_36,
        jtype(r.traits.industry) AS t_37, jtext(r.traits.industry) AS s_37,
        CASE WHEN r.traits.company IS NOT NULL THEN 'OBJECT' END AS t_38,
        jtype(r.traits.company.id) AS t_39, jtext(r.traits.company.id) AS s_39,
        jtype(r.traits.company.name) AS t_40, jtext(r.traits.company.name) AS s_40,
        jtype(r.traits.company_size) AS t_41, jtext(r.traits.company_size) AS s_41,
        jtype(r.traits.budget) AS t_42, jtext(r.traits.budget) AS s_42,
        jtype(r.traits.birthday) AS t_43, jtext(r.traits.birthday) AS s_43,
        jtype(r.traits.contract_end) AS t_44, jtext(r.traits.contract_end) AS s_44
    FROM parsed
), stamped AS (
    SELECT *,
        -- `YYYY-MM-DDTHH:MM:SS[.fraction](Z or ±HH:MM)`, ASCII digits; all parts '' on no match.
        CASE WHEN is_object AND is_str(t_2) THEN regexp_extract(s_2,
            '^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?(Z|([+-])([0-9]{2}):([0-9]{2}))$',
            ['y', 'mo', 'd', 'h', 'mi', 'se', 'frac', 'zone', 'sign', 'oh', 'om']) END AS tsp
    FROM members
), numbered AS (
    -- the numeric parts (NULL when the text did not match)
    SELECT *,
        {'y': TRY_CAST(tsp.y AS BIGINT), 'mo': TRY_CAST(tsp.mo AS BIGINT),
         'd': TRY_CAST(tsp.d AS BIGINT), 'h': TRY_CAST(tsp.h AS BIGINT),
         'mi': TRY_CAST(tsp.mi AS BIGINT), 'se': TRY_CAST(tsp.se AS BIGINT),
         'oh': TRY_CAST(tsp.oh AS BIGINT), 'om': TRY_CAST(tsp.om AS BIGINT)} AS tsi
    FROM stamped
), timed AS (
    SELECT *,
        CASE WHEN coalesce(
                is_real_date(tsi.y, tsi.mo, tsi.d) AND tsi.h <= 23 AND tsi.mi <= 59 AND tsi.se <= 59
                AND (tsp.zone = 'Z' OR (tsi.oh <= 23 AND tsi.om <= 59)), false)
        THEN
            days_from_civil(tsi.y, tsi.mo, tsi.d) * 86400000
            + tsi.h * 3600000 + tsi.mi * 60000 + tsi.se * 1000
            -- read to the millisecond, further digits dropped
            + TRY_CAST(rpad(left(tsp.frac, 3), 3, '0') AS BIGINT)
            - CASE WHEN tsp.zone = 'Z' THEN 0
                   ELSE (CASE WHEN tsp.sign = '-' THEN -1 ELSE 1 END) * (tsi.oh * 60 + tsi.om) * 60000
              END
        END AS ts
    FROM numbered
)
SELECT
    CASE
        WHEN line_too_long THEN 'too_long'
        WHEN NOT is_json THEN 'invalid_json'
        WHEN NOT is_object THEN 'not_object'
        WHEN absent_or_null(t_2) THEN 'missing_timestamp'
        WHEN ts IS NULL THEN 'bad_timestamp'
        WHEN NOT is_enum(t_1, s_1, ['identify', 'track', 'page', 'alias']) THEN 'unknown_type'
        WHEN s_1 = 'alias' AND NOT (present(t_5, s_5) AND present(t_3, s_3)) THEN 'missing_identity'
        WHEN s_1 <> 'alias' AND NOT (present(t_3, s_3) OR present(t_4, s_4)) THEN 'missing_identity'
        WHEN s_1 = 'track' AND NOT is_enum(t_6, s_6, [
            'Datasheet Downloaded', 'Webinar Registered', 'Webinar Attended', 'Demo Requested',
            'Form Submitted', 'Email Opened', 'Email Clicked', 'Unsubscribed', 'Checkout Started',
            'Order Completed', 'Appointment Updated']) THEN 'unknown_event'
        WHEN s_1 = 'track' AND NOT (coalesce(t_9 = 'OBJECT', false) AND CASE s_6
            WHEN 'Datasheet Downloaded' THEN is_enum(t_11, s_11, ['general', 'medical']) AND is_str(t_12)
            WHEN 'Webinar Registered' THEN is_str(t_13) AND is_str(t_14)
            WHEN 'Webinar Attended' THEN is_str(t_13) AND is_str(t_14)
            WHEN 'Demo Requested' THEN is_enum(t_15, s_15, ['general', 'medical'])
            WHEN 'Form Submitted' THEN is_enum(t_16, s_16,
                ['contact_sales', 'newsletter', 'keyring_request', 'job_application'])
            WHEN 'Email Opened' THEN is_str(t_17)
            WHEN 'Email Clicked' THEN is_str(t_17)
            WHEN 'Unsubscribed' THEN is_enum(t_18, s_18, ['email', 'sms'])
            WHEN 'Checkout Started' THEN is_str(t_19) AND is_num(t_20)
            WHEN 'Order Completed' THEN is_str(t_21) AND is_str(t_19) AND is_num(t_22)
            WHEN 'Appointment Updated' THEN is_str(t_23) AND is_enum(t_24, s_24, ['CREATED', 'CANCELLED'])
            END) THEN 'wrong_property_type'
        WHEN s_1 = 'page' AND NOT (coalesce(t_9 = 'OBJECT', false)
            AND is_str(t_25) AND starts_with(s_25, '/') AND is_str(t_26)
            -- the page title is the record's own `name` member
            AND (absent_or_null(t_8) OR is_str(t_8))) THEN 'wrong_property_type'
        WHEN s_1 = 'identify' AND NOT (coalesce(t_10 = 'OBJECT', false)
            AND is_str(t_27) AND is_str(t_28) AND is_str(t_29) AND is_str(t_30)
            AND coalesce(t_31 = 'OBJECT', false)
            AND is_enum(t_32, s_32, ['granted', 'denied', 'unknown'])
            AND is_enum(t_33, s_33, ['granted', 'denied', 'unknown'])
            AND coalesce(t_34 = 'BOOLEAN', false) AND coalesce(t_35 = 'BOOLEAN', false)
            AND (absent_or_null(t_36) OR is_str(t_36))
            AND (absent_or_null(t_37) OR is_str(t_37))
            AND (absent_or_null(t_38) OR (t_38 = 'OBJECT' AND is_str(t_39) AND is_str(t_40)))
            AND (absent_or_null(t_41) OR is_int(t_41))
            AND (absent_or_null(t_42) OR is_int(t_42))
            AND (absent_or_null(t_43) OR is_date_text(t_43, s_43))
            AND (absent_or_null(t_44) OR is_date_text(t_44, s_44))) THEN 'wrong_property_type'
    END AS reason,
    ts,
    s_1 AS type,
    -- order: by ts, then messageId (byte order); a messageId that is not a string sorts as ''
    CASE WHEN is_str(t_7) THEN s_7 ELSE '' END AS message_id,
    CASE WHEN present(t_3, s_3) THEN s_3 END AS user_id,
    CASE WHEN present(t_4, s_4) THEN s_4 END AS anonymous_id,
    CASE WHEN present(t_5, s_5) THEN s_5 END AS previous_id,
    s_6 AS event,
    s_11 AS category,
    s_15 AS product_line,
    s_25 AS path,
    s_27 AS email,
    s_32 AS consent_email,
    CASE WHEN t_36 = 'VARCHAR' THEN s_36 END AS job_title,
    CASE WHEN is_int(t_41) THEN s_41 END AS company_size
FROM timed;

-- Lines the reader itself rejected: not UTF-8 (rule 1), or (never in generated files) too big
-- for the reader or holding the U+0001 delimiter.
CREATE TEMP TABLE reader_rejects AS
SELECT CASE
        WHEN bool_or(error_type = 'INVALID ENCODING') THEN 'invalid_utf8'
        WHEN bool_or(error_type = 'LINE SIZE OVER MAXIMUM') OR max(strlen(csv_line)) > 32768 THEN 'too_long'
        ELSE 'invalid_json'
    END AS reason
FROM reject_errors
GROUP BY file_id, line;

CREATE TEMP TABLE rec AS
SELECT * EXCLUDE (reason) FROM checked WHERE reason IS NULL;

-- ---------------------------------------------------------------------------------------
-- §2 Who a record belongs to
-- ---------------------------------------------------------------------------------------

-- 2.1 the target of a previousId: the userId of its earliest valid alias
CREATE TEMP TABLE alias_target AS
SELECT previous_id AS id, arg_min(user_id, (ts, message_id)) AS target
FROM rec WHERE type = 'alias'
GROUP BY previous_id;

-- resolve(x): follow targets to an id with no target; on a cycle (never generated), stop at the
-- last id before one would be visited again.
CREATE TEMP TABLE resolved AS
WITH RECURSIVE walk(id, cur, path, steps) AS (
    SELECT id, target, [id, target], 1 FROM alias_target WHERE target <> id
    UNION ALL
    SELECT w.id, a.target, list_append(w.path, a.target), w.steps + 1
    FROM walk w JOIN alias_target a ON a.id = w.cur
    WHERE NOT list_contains(w.path, a.target)
)
SELECT id, arg_max(cur, steps) AS contact FROM walk GROUP BY id;

-- 2.2 the owner of an anonymousId: the userId of its earliest claim
CREATE TEMP TABLE owner AS
SELECT claimed, arg_min(user_id, (ts, message_id)) AS owner
FROM (
    SELECT anonymous_id AS claimed, user_id, ts, message_id FROM rec
    WHERE type = 'identify' AND user_id IS NOT NULL AND anonymous_id IS NOT NULL
    UNION ALL
    SELECT previous_id, user_id, ts, message_id FROM rec WHERE type = 'alias'
)
GROUP BY claimed;

-- 2.3 the record's contact (NULL: anonymous, left out of the per-contact results)
CREATE TEMP TABLE attributed AS
SELECT r.*,
    CASE WHEN r.user_id IS NOT NULL THEN coalesce(ru.contact, r.user_id)
         WHEN o.owner IS NOT NULL THEN coalesce(ro.contact, o.owner) END AS contact
FROM rec r
LEFT JOIN resolved ru ON ru.id = r.user_id
LEFT JOIN owner o ON r.user_id IS NULL AND o.claimed = r.anonymous_id
LEFT JOIN resolved ro ON ro.id = o.owner;

-- ---------------------------------------------------------------------------------------
-- §3 Scores
-- ---------------------------------------------------------------------------------------

-- Each record earns points under at most one row of R1's tables (the paths, events and
-- property values of the rows exclude each other).
CREATE TEMP TABLE earned AS
WITH ruled AS (
    SELECT contact, ts, message_id,
        CASE
            WHEN type = 'page' AND starts_with(path, '/products/general') THEN 'g_page'
            WHEN type = 'track' AND event = 'Datasheet Downloaded' AND category = 'general' THEN 'g_datasheet'
            WHEN type = 'track' AND event = 'Webinar Attended' THEN 'g_webinar'
            WHEN type = 'track' AND event = 'Demo Requested' AND product_line = 'general' THEN 'g_demo'
            WHEN type = 'page' AND starts_with(path, '/jobs') THEN 'g_jobs'
            WHEN type = 'track' AND event = 'Unsubscribed' THEN 'g_unsubscribed'
            WHEN type = 'page' AND starts_with(path, '/medical') THEN 'm_page'
            WHEN type = 'track' AND event = 'Datasheet Downloaded' AND category = 'medical' THEN 'm_datasheet'
            WHEN type = 'track' AND event = 'Demo Requested' AND product_line = 'medical' THEN 'm_demo'
        END AS rule
    FROM attributed
    WHERE contact IS NOT NULL
), rules(rule, score, points, cap, per_week) AS (
    VALUES
        ('g_page', 'general_interest', 5, 3, false),
        ('g_datasheet', 'general_interest', 25, NULL, false),
        ('g_webinar', 'general_interest', 15, NULL, false),
        ('g_demo', 'general_interest', 90, 1, false),
        ('g_jobs', 'general_interest', -10, 1, true),
        ('g_unsubscribed', 'general_interest', -25, NULL, false),
        ('m_page', 'medical_interest', 5, 3, false),
        ('m_datasheet', 'medical_interest', 25, NULL, false),
        ('m_demo', 'medical_interest', 90, 1, false)
), periods AS (
    -- a day is floor(ts / 86,400,000) in UTC; an ISO week is floor((day + 3) / 7)
    SELECT q.contact, q.ts, q.message_id, r.*,
        CASE WHEN r.per_week THEN floor_div(floor_div(q.ts, 86400000) + 3, 7)
             ELSE floor_div(q.ts, 86400000) END AS period
    FROM ruled q JOIN rules r USING (rule)
)
-- a cap keeps the earliest qualifying records of the contact in each period
SELECT contact, score, points
FROM periods
WHERE cap IS NULL
UNION ALL
SELECT contact, score, points
FROM periods
WHERE cap IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY contact, rule, period ORDER BY ts, message_id) <= cap;

-- fit and email consent from the latest traits: the contact's latest valid identify with a userId
CREATE TEMP TABLE latest_traits AS
SELECT contact, arg_max({'job_title': job_title, 'email': email, 'company_size': company_size,
                         'consent_email': consent_email}, (ts, message_id)) AS traits
FROM attributed
WHERE contact IS NOT NULL AND type = 'identify' AND user_id IS NOT NULL
GROUP BY contact;

-- ---------------------------------------------------------------------------------------
-- §4 Segments and §5 output
-- ---------------------------------------------------------------------------------------

CREATE TEMP TABLE as_of AS SELECT max(ts) AS t FROM rec;

CREATE TEMP TABLE state AS
WITH contacts AS (
    SELECT contact,
        count(*) FILTER (WHERE type = 'page' AND path = '/pricing'
            AND ts > (SELECT t FROM as_of) - 604800000 AND ts <= (SELECT t FROM as_of)) AS pricing_views,
        count(*) FILTER (WHERE ts > (SELECT t FROM as_of) - 7776000000 AND ts <= (SELECT t FROM as_of)) AS recent
    FROM attributed
    WHERE contact IS NOT NULL
    GROUP BY contact
), interest AS (
    SELECT contact,
        sum(points) FILTER (WHERE score = 'general_interest') AS general_interest,
        sum(points) FILTER (WHERE score = 'medical_interest') AS medical_interest
    FROM earned
    GROUP BY contact
), scored AS (
    SELECT c.contact, c.pricing_views, c.recent,
        coalesce(i.general_interest, 0)::BIGINT AS general_interest,
        coalesce(i.medical_interest, 0)::BIGINT AS medical_interest,
        (CASE WHEN regexp_matches(l.traits.job_title, '(?i)purchas|procurement') THEN 15 ELSE 0 END
         -- RE2: `\b` is an ASCII word boundary, as R1 asks
         + CASE WHEN regexp_matches(l.traits.job_title,
                '(?i)\b(vp|vice president|director|head|chief|cto|ceo|cfo)\b') THEN 50 ELSE 0 END
         + CASE WHEN ends_with(l.traits.email, '@competitor.example') THEN -100 ELSE 0 END
         + CASE WHEN l.traits.company_size::DOUBLE >= 500 THEN 20 ELSE 0 END)::BIGINT AS fit,
        coalesce(l.traits.consent_email, 'unknown') AS consent_email
    FROM contacts c
    LEFT JOIN interest i USING (contact)
    LEFT JOIN latest_traits l USING (contact)
)
SELECT contact, general_interest, medical_interest, fit,
    -- segment names in sorted order
    list_filter(['dormant', 'mql', 'pricing_hot', 'undecided'], lambda name, i:
        [recent = 0,
         general_interest + medical_interest + fit >= 100 AND consent_email = 'granted',
         pricing_views >= 3,
         general_interest + medical_interest >= 60 AND abs(medical_interest - general_interest) < 10][i]
    ) AS segments
FROM scored;

COPY (SELECT contact, general_interest, medical_interest, fit, segments FROM state ORDER BY contact)
TO '{{state_out}}' (FORMAT json);

COPY (
    WITH reasons AS (
        SELECT reason FROM checked WHERE reason IS NOT NULL
        UNION ALL
        SELECT reason FROM reader_rejects
    )
    SELECT
        (SELECT count(*) FROM lines) + (SELECT count(*) FROM reader_rejects) AS lines_read,
        (SELECT count(*) FROM rec) AS valid_records,
        (SELECT count(*) FROM reasons WHERE reason = 'invalid_utf8') AS invalid_utf8,
        (SELECT count(*) FROM reasons WHERE reason = 'too_long') AS too_long,
        (SELECT count(*) FROM reasons WHERE reason = 'invalid_json') AS invalid_json,
        (SELECT count(*) FROM reasons WHERE reason = 'not_object') AS not_object,
        (SELECT count(*) FROM reasons WHERE reason = 'missing_timestamp') AS missing_timestamp,
        (SELECT count(*) FROM reasons WHERE reason = 'bad_timestamp') AS bad_timestamp,
        (SELECT count(*) FROM reasons WHERE reason = 'unknown_type') AS unknown_type,
        (SELECT count(*) FROM reasons WHERE reason = 'missing_identity') AS missing_identity,
        (SELECT count(*) FROM reasons WHERE reason = 'unknown_event') AS unknown_event,
        (SELECT count(*) FROM reasons WHERE reason = 'wrong_property_type') AS wrong_property_type,
        (SELECT count(*) FROM state) AS contacts,
        (SELECT count(*) FROM attributed WHERE contact IS NULL) AS anonymous_records_left_out,
        (SELECT strftime(epoch_ms(t), '%Y-%m-%dT%H:%M:%S.%gZ') FROM as_of) AS as_of,
        (SELECT count(*) FROM state WHERE list_contains(segments, 'mql')) AS mql,
        (SELECT count(*) FROM state WHERE list_contains(segments, 'undecided')) AS undecided,
        (SELECT count(*) FROM state WHERE list_contains(segments, 'pricing_hot')) AS pricing_hot,
        (SELECT count(*) FROM state WHERE list_contains(segments, 'dormant')) AS dormant
) TO '{{summary_out}}' (FORMAT json);
