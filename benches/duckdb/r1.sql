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
-- than bad UTF-8 (counted as too_long or invalid_json by its length), `\r` before `\n`.

-- ---------------------------------------------------------------------------------------
-- §1 Which lines count
-- ---------------------------------------------------------------------------------------

-- Each line as one VARCHAR: no header, no quoting, no escaping, and a delimiter (U+0001) that a
-- valid JSON line cannot hold unescaped. Lines that are not UTF-8 are rejected by the reader
-- and land in `reject_errors` (error_type 'INVALID ENCODING'), which is how they are counted.
CREATE TEMP TABLE lines AS
SELECT line
FROM read_csv('{{events}}',
    columns = {'line': 'VARCHAR'}, header = false, auto_detect = false,
    delim = chr(1), quote = '', escape = '', new_line = '\n',
    ignore_errors = true, store_rejects = true, max_line_size = 8388608);

-- The JSON members R1 reads, by position in the lists `t` (json_type of each) and `s`
-- (json_extract_string of each), so that each line is parsed twice in all, not once per member.
--  1 type  2 timestamp  3 userId  4 anonymousId  5 previousId  6 event  7 messageId  8 name
--  9 properties  10 traits
--  properties: 11 category 12 product_id 13 webinar_id 14 topic 15 product_line 16 form
--   17 campaign 18 channel 19 cart_id 20 value 21 order_id 22 revenue 23 appointment_id
--   24 operation 25 path 26 url
--  traits: 27 email 28 first_name 29 country 30 timezone 31 consent 32 consent.email
--   33 consent.sms 34 unsubscribed 35 blocklisted 36 job_title 37 industry 38 company
--   39 company.id 40 company.name 41 company_size 42 budget 43 birthday 44 contract_end
CREATE TEMP MACRO r1_paths() AS [
    '$.type', '$.timestamp', '$.userId', '$.anonymousId', '$.previousId', '$.event',
    '$.messageId', '$.name', '$.properties', '$.traits',
    '$.properties.category', '$.properties.product_id', '$.properties.webinar_id',
    '$.properties.topic', '$.properties.product_line', '$.properties.form',
    '$.properties.campaign', '$.properties.channel', '$.properties.cart_id',
    '$.properties.value', '$.properties.order_id', '$.properties.revenue',
    '$.properties.appointment_id', '$.properties.operation', '$.properties.path',
    '$.properties.url',
    '$.traits.email', '$.traits.first_name', '$.traits.country', '$.traits.timezone',
    '$.traits.consent', '$.traits.consent.email', '$.traits.consent.sms',
    '$.traits.unsubscribed', '$.traits.blocklisted', '$.traits.job_title', '$.traits.industry',
    '$.traits.company', '$.traits.company.id', '$.traits.company.name',
    '$.traits.company_size', '$.traits.budget', '$.traits.birthday', '$.traits.contract_end'];

-- json_type names: VARCHAR, BIGINT, UBIGINT, DOUBLE, BOOLEAN, OBJECT, ARRAY, NULL; SQL NULL
-- when the member is absent.
CREATE TEMP MACRO is_str(ty) AS coalesce(ty = 'VARCHAR', false);
CREATE TEMP MACRO is_num(ty) AS coalesce(ty IN ('BIGINT', 'UBIGINT', 'DOUBLE'), false);
-- An integer is a JSON number written with no fraction and no exponent. DuckDB reads integers
-- beyond 64 bits as DOUBLE but keeps their text, which is checked instead.
CREATE TEMP MACRO is_int(ty, txt) AS coalesce(
    ty IN ('BIGINT', 'UBIGINT') OR (ty = 'DOUBLE' AND regexp_full_match(txt, '-?[0-9]+')), false);
CREATE TEMP MACRO absent_or_null(ty) AS coalesce(ty = 'NULL', true);
CREATE TEMP MACRO is_enum(ty, txt, allowed) AS is_str(ty) AND coalesce(list_contains(allowed, txt), false);
-- "An id is present only when it is a non-empty string."
CREATE TEMP MACRO present(ty, txt) AS is_str(ty) AND txt <> '';
CREATE TEMP MACRO is_leap(y) AS (y % 4 = 0 AND (y % 100 <> 0 OR y % 400 = 0));
CREATE TEMP MACRO days_in_month(y, m) AS CASE
    WHEN m = 2 THEN CASE WHEN is_leap(y) THEN 29 ELSE 28 END
    WHEN m IN (4, 6, 9, 11) THEN 30 ELSE 31 END;
CREATE TEMP MACRO is_real_date(y, m, d) AS (m BETWEEN 1 AND 12 AND d BETWEEN 1 AND days_in_month(y, m));
-- `YYYY-MM-DD` naming a real date (birthday, contract_end), ASCII digits only.
CREATE TEMP MACRO is_date_text(ty, txt) AS is_str(ty) AND coalesce(
    regexp_full_match(txt, '[0-9]{4}-[0-9]{2}-[0-9]{2}')
    AND is_real_date(TRY_CAST(substr(txt, 1, 4) AS INT), TRY_CAST(substr(txt, 6, 2) AS INT),
                     TRY_CAST(substr(txt, 9, 2) AS INT)), false);
-- Floor division, exact for negative numbers too (DuckDB's `//` truncates toward zero).
CREATE TEMP MACRO floor_div(a, b) AS (a - ((a % b) + b) % b) // b;

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
        WHEN regexp_matches(line, '(?:^|[:\[,])[ \t\r\n]*[-+]?(?i:nan|inf)|,[ \t\r\n]*[}\]]')
            THEN NOT regexp_matches(
                regexp_replace(line, '"(?:[^"\\]|\\.)*"', '""', 'g'),
                '(?:^|[:\[,])[ \t\r\n]*[-+]?(?i:nan|inf)|,[ \t\r\n]*[}\]]')
        ELSE true
    END AS is_json,
    CASE WHEN is_json THEN ltrim(line, ' ' || chr(9) || chr(13) || chr(10))[1] = '{' END AS is_object,
    CASE WHEN is_object THEN json_type(line, r1_paths()) END AS t,
    CASE WHEN is_object THEN json_extract_string(line, r1_paths()) END AS s
FROM (SELECT line, strlen(line) > 32768 AS line_too_long FROM lines);

CREATE TEMP TABLE checked AS
WITH stamped AS (
    SELECT *,
        -- `YYYY-MM-DDTHH:MM:SS[.fraction](Z or ±HH:MM)`, ASCII digits; all parts '' on no match.
        CASE WHEN is_object AND is_str(t[2]) THEN regexp_extract(s[2],
            '^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?(Z|([+-])([0-9]{2}):([0-9]{2}))$',
            ['y', 'mo', 'd', 'h', 'mi', 'se', 'frac', 'zone', 'sign', 'oh', 'om']) END AS tsp
    FROM parsed
), timed AS (
    SELECT *,
        CASE WHEN coalesce(
                is_real_date(TRY_CAST(tsp.y AS INT), TRY_CAST(tsp.mo AS INT), TRY_CAST(tsp.d AS INT))
                AND TRY_CAST(tsp.h AS INT) <= 23 AND TRY_CAST(tsp.mi AS INT) <= 59
                AND TRY_CAST(tsp.se AS INT) <= 59
                AND (tsp.zone = 'Z' OR (TRY_CAST(tsp.oh AS INT) <= 23 AND TRY_CAST(tsp.om AS INT) <= 59)),
                false)
        THEN
            days_from_civil(TRY_CAST(tsp.y AS BIGINT), TRY_CAST(tsp.mo AS BIGINT), TRY_CAST(tsp.d AS BIGINT)) * 86400000
            + TRY_CAST(tsp.h AS BIGINT) * 3600000 + TRY_CAST(tsp.mi AS BIGINT) * 60000 + TRY_CAST(tsp.se AS BIGINT) * 1000
            -- read to the millisecond, further digits dropped
            + TRY_CAST(rpad(left(tsp.frac, 3), 3, '0') AS BIGINT)
            - CASE WHEN tsp.zone = 'Z' THEN 0
                   ELSE (CASE WHEN tsp.sign = '-' THEN -1 ELSE 1 END)
                        * (TRY_CAST(tsp.oh AS BIGINT) * 60 + TRY_CAST(tsp.om AS BIGINT)) * 60000 END
        END AS ts
    FROM stamped
)
SELECT
    CASE
        WHEN line_too_long THEN 'too_long'
        WHEN NOT is_json THEN 'invalid_json'
        WHEN NOT is_object THEN 'not_object'
        WHEN absent_or_null(t[2]) THEN 'missing_timestamp'
        WHEN ts IS NULL THEN 'bad_timestamp'
        WHEN NOT is_enum(t[1], s[1], ['identify', 'track', 'page', 'alias']) THEN 'unknown_type'
        WHEN s[1] = 'alias' AND NOT (present(t[5], s[5]) AND present(t[3], s[3])) THEN 'missing_identity'
        WHEN s[1] <> 'alias' AND NOT (present(t[3], s[3]) OR present(t[4], s[4])) THEN 'missing_identity'
        WHEN s[1] = 'track' AND NOT is_enum(t[6], s[6], [
            'Datasheet Downloaded', 'Webinar Registered', 'Webinar Attended', 'Demo Requested',
            'Form Submitted', 'Email Opened', 'Email Clicked', 'Unsubscribed', 'Checkout Started',
            'Order Completed', 'Appointment Updated']) THEN 'unknown_event'
        WHEN s[1] = 'track' AND NOT (coalesce(t[9] = 'OBJECT', false) AND CASE s[6]
            WHEN 'Datasheet Downloaded' THEN is_enum(t[11], s[11], ['general', 'medical']) AND is_str(t[12])
            WHEN 'Webinar Registered' THEN is_str(t[13]) AND is_str(t[14])
            WHEN 'Webinar Attended' THEN is_str(t[13]) AND is_str(t[14])
            WHEN 'Demo Requested' THEN is_enum(t[15], s[15], ['general', 'medical'])
            WHEN 'Form Submitted' THEN is_enum(t[16], s[16],
                ['contact_sales', 'newsletter', 'keyring_request', 'job_application'])
            WHEN 'Email Opened' THEN is_str(t[17])
            WHEN 'Email Clicked' THEN is_str(t[17])
            WHEN 'Unsubscribed' THEN is_enum(t[18], s[18], ['email', 'sms'])
            WHEN 'Checkout Started' THEN is_str(t[19]) AND is_num(t[20])
            WHEN 'Order Completed' THEN is_str(t[21]) AND is_str(t[19]) AND is_num(t[22])
            WHEN 'Appointment Updated' THEN is_str(t[23]) AND is_enum(t[24], s[24], ['CREATED', 'CANCELLED'])
            END) THEN 'wrong_property_type'
        WHEN s[1] = 'page' AND NOT (coalesce(t[9] = 'OBJECT', false)
            AND is_str(t[25]) AND starts_with(s[25], '/') AND is_str(t[26])
            -- the page title is the record's own `name` member
            AND (absent_or_null(t[8]) OR is_str(t[8]))) THEN 'wrong_property_type'
        WHEN s[1] = 'identify' AND NOT (coalesce(t[10] = 'OBJECT', false)
            AND is_str(t[27]) AND is_str(t[28]) AND is_str(t[29]) AND is_str(t[30])
            AND coalesce(t[31] = 'OBJECT', false)
            AND is_enum(t[32], s[32], ['granted', 'denied', 'unknown'])
            AND is_enum(t[33], s[33], ['granted', 'denied', 'unknown'])
            AND coalesce(t[34] = 'BOOLEAN', false) AND coalesce(t[35] = 'BOOLEAN', false)
            AND (absent_or_null(t[36]) OR is_str(t[36]))
            AND (absent_or_null(t[37]) OR is_str(t[37]))
            AND (absent_or_null(t[38]) OR (t[38] = 'OBJECT' AND is_str(t[39]) AND is_str(t[40])))
            AND (absent_or_null(t[41]) OR is_int(t[41], s[41]))
            AND (absent_or_null(t[42]) OR is_int(t[42], s[42]))
            AND (absent_or_null(t[43]) OR is_date_text(t[43], s[43]))
            AND (absent_or_null(t[44]) OR is_date_text(t[44], s[44]))) THEN 'wrong_property_type'
    END AS reason,
    ts,
    s[1] AS type,
    -- order: by ts, then messageId (byte order); a messageId that is not a string sorts as ''
    CASE WHEN is_str(t[7]) THEN s[7] ELSE '' END AS message_id,
    CASE WHEN present(t[3], s[3]) THEN s[3] END AS user_id,
    CASE WHEN present(t[4], s[4]) THEN s[4] END AS anonymous_id,
    CASE WHEN present(t[5], s[5]) THEN s[5] END AS previous_id,
    s[6] AS event,
    s[11] AS category,
    s[15] AS product_line,
    s[25] AS path,
    s[27] AS email,
    s[32] AS consent_email,
    CASE WHEN t[36] = 'VARCHAR' THEN s[36] END AS job_title,
    CASE WHEN is_int(t[41], s[41]) THEN s[41] END AS company_size
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
