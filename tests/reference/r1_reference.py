#!/usr/bin/env python3
"""Independent reference implementation of R1 (shared/workload/R1.md).

    python3 r1_reference.py EVENTS.jsonl --out STATE.jsonl [--summary SUMMARY.json]

Standard library only, Python 3.11. Written to be read next to R1.md, section by
section, and to be obviously correct rather than fast. The places where R1.md had to
be interpreted are listed in README.md beside this file.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass

# ---------------------------------------------------------------------------
# Constants from R1.md
# ---------------------------------------------------------------------------

MAX_LINE_BYTES = 32768
MS_PER_DAY = 86_400_000
PRICING_WINDOW_MS = 168 * 3_600_000  # 604,800,000
DORMANT_WINDOW_MS = 90 * MS_PER_DAY  # 7,776,000,000

REASONS = [
    "invalid_utf8",
    "too_long",
    "invalid_json",
    "not_object",
    "missing_timestamp",
    "bad_timestamp",
    "unknown_type",
    "missing_identity",
    "unknown_event",
    "wrong_property_type",
]

RECORD_TYPES = ("identify", "track", "page", "alias")

# The eleven track events of the workload README and their listed properties.
# A property type is "string", "number", or a tuple of allowed strings (an enum).
TRACK_EVENTS: dict[str, dict[str, object]] = {
    "Datasheet Downloaded": {"category": ("general", "medical"), "product_id": "string"},
    "Webinar Registered": {"webinar_id": "string", "topic": "string"},
    "Webinar Attended": {"webinar_id": "string", "topic": "string"},
    "Demo Requested": {"product_line": ("general", "medical")},
    "Form Submitted": {
        "form": ("contact_sales", "newsletter", "keyring_request", "job_application")
    },
    "Email Opened": {"campaign": "string"},
    "Email Clicked": {"campaign": "string"},
    "Unsubscribed": {"channel": ("email", "sms")},
    "Checkout Started": {"cart_id": "string", "value": "number"},
    "Order Completed": {"order_id": "string", "cart_id": "string", "revenue": "number"},
    "Appointment Updated": {"appointment_id": "string", "operation": ("CREATED", "CANCELLED")},
}

CONSENT_VALUES = ("granted", "denied", "unknown")

SEGMENT_NAMES = ("dormant", "mql", "pricing_hot", "undecided")

# ---------------------------------------------------------------------------
# JSON with the raw text of numbers kept
# ---------------------------------------------------------------------------


class JsonNumber:
    """A JSON number, kept as the text it was written with.

    `is_integer` is true when the text has no fraction and no exponent, which is
    exactly when the json module calls `parse_int` rather than `parse_float`.
    """

    __slots__ = ("text", "is_integer")

    def __init__(self, text: str, is_integer: bool):
        self.text = text
        self.is_integer = is_integer

    def __repr__(self) -> str:
        return f"JsonNumber({self.text!r})"


class InvalidJson(Exception):
    pass


def _reject_constant(name: str):
    # Python's json accepts NaN, Infinity and -Infinity; JSON does not.
    raise InvalidJson(f"not JSON: {name}")


_SURROGATE = re.compile("[\ud800-\udfff]")


def _check_strings(value) -> None:
    """Reject text with lone surrogates (from \\uD800-style escapes): not Unicode text."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            if _SURROGATE.search(v):
                raise InvalidJson("lone surrogate")
        elif isinstance(v, dict):
            for k, item in v.items():
                if _SURROGATE.search(k):
                    raise InvalidJson("lone surrogate")
                stack.append(item)
        elif isinstance(v, list):
            stack.extend(v)


def parse_json(text: str):
    """Parse one JSON value (surrounding JSON whitespace allowed) or raise InvalidJson."""
    try:
        value = json.loads(
            text,
            parse_int=lambda s: JsonNumber(s, True),
            parse_float=lambda s: JsonNumber(s, False),
            parse_constant=_reject_constant,
        )
    except (ValueError, RecursionError) as e:  # JSONDecodeError is a ValueError
        raise InvalidJson(str(e)) from None
    _check_strings(value)
    return value


# ---------------------------------------------------------------------------
# Dates and timestamps
# ---------------------------------------------------------------------------


def is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def days_in_month(year: int, month: int) -> int:
    if month == 2:
        return 29 if is_leap(year) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's algorithm)."""
    y = year - 1 if month <= 2 else year
    era = y // 400
    yoe = y - era * 400
    mp = (month + 9) % 12  # March = 0
    doy = (153 * mp + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def civil_from_days(z: int) -> tuple[int, int, int]:
    z += 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return (y + 1 if m <= 2 else y, m, d)


# ASCII digits only ([0-9], not \d, which also matches other Unicode digits).
TIMESTAMP_RE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]+))?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})"
)
DATE_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")


def is_real_date(year: int, month: int, day: int) -> bool:
    return 1 <= month <= 12 and 1 <= day <= days_in_month(year, month)


def parse_timestamp(value) -> int | None:
    """Milliseconds since the epoch (UTC), or None when the value breaks rule 6."""
    if not isinstance(value, str):
        return None
    m = TIMESTAMP_RE.fullmatch(value)
    if m is None:
        return None
    year, month, day, hour, minute, second = (int(m.group(i)) for i in range(1, 7))
    fraction = m.group(7) or ""
    zone = m.group(8)
    if not is_real_date(year, month, day):
        return None
    if hour > 23 or minute > 59 or second > 59:
        return None
    offset_minutes = 0
    if zone != "Z":
        oh, om = int(zone[1:3]), int(zone[4:6])
        if oh > 23 or om > 59:
            return None
        offset_minutes = oh * 60 + om
        if zone[0] == "-":
            offset_minutes = -offset_minutes
    millis = int((fraction + "000")[:3])  # read to the millisecond, further digits dropped
    local_ms = (
        days_from_civil(year, month, day) * MS_PER_DAY
        + hour * 3_600_000
        + minute * 60_000
        + second * 1000
        + millis
    )
    return local_ms - offset_minutes * 60_000  # local time minus offset = UTC


def format_ts(ts: int) -> str:
    day, rest = divmod(ts, MS_PER_DAY)
    y, mo, d = civil_from_days(day)
    h, rest = divmod(rest, 3_600_000)
    mi, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}.{ms:03d}Z"


def is_date_string(value) -> bool:
    if not isinstance(value, str):
        return False
    m = DATE_RE.fullmatch(value)
    if m is None:
        return False
    return is_real_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))


# ---------------------------------------------------------------------------
# Section 1: which lines count
# ---------------------------------------------------------------------------


def present(value) -> bool:
    """An id is present only when it is a non-empty string."""
    return isinstance(value, str) and value != ""


def is_number(value) -> bool:
    return isinstance(value, JsonNumber)


def is_integer(value) -> bool:
    return isinstance(value, JsonNumber) and value.is_integer


def absent_or_null(obj: dict, key: str) -> bool:
    return key not in obj or obj[key] is None


def has_type(value, kind) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "number":
        return is_number(value)
    assert isinstance(kind, tuple)  # an enum
    return isinstance(value, str) and value in kind


def track_types_ok(record: dict) -> bool:
    props = record.get("properties")
    if not isinstance(props, dict):
        return False
    for name, kind in TRACK_EVENTS[record["event"]].items():
        if name not in props or not has_type(props[name], kind):
            return False
    return True


def page_types_ok(record: dict) -> bool:
    props = record.get("properties")
    if not isinstance(props, dict):
        return False
    path = props.get("path")
    if not (isinstance(path, str) and path.startswith("/")):
        return False
    if not isinstance(props.get("url"), str):
        return False
    # `name` is the page record's top-level member (README "Record shapes").
    if not absent_or_null(record, "name") and not isinstance(record["name"], str):
        return False
    return True


def identify_types_ok(record: dict) -> bool:
    traits = record.get("traits")
    if not isinstance(traits, dict):
        return False
    for key in ("email", "first_name", "country", "timezone"):
        if not isinstance(traits.get(key), str):
            return False
    consent = traits.get("consent")
    if not isinstance(consent, dict):
        return False
    for channel in ("email", "sms"):
        value = consent.get(channel)
        if not isinstance(value, str) or value not in CONSENT_VALUES:
            return False
    for key in ("unsubscribed", "blocklisted"):
        if not isinstance(traits.get(key), bool):
            return False
    # Optional traits: checked only when present and not null.
    for key in ("job_title", "industry"):
        if not absent_or_null(traits, key) and not isinstance(traits[key], str):
            return False
    if not absent_or_null(traits, "company"):
        company = traits["company"]
        if not isinstance(company, dict):
            return False
        if not isinstance(company.get("id"), str) or not isinstance(company.get("name"), str):
            return False
    for key in ("company_size", "budget"):
        if not absent_or_null(traits, key) and not is_integer(traits[key]):
            return False
    for key in ("birthday", "contract_end"):
        if not absent_or_null(traits, key) and not is_date_string(traits[key]):
            return False
    return True


@dataclass
class Record:
    line_no: int  # 1-based, only as a last-resort tie-break (see README)
    ts: int
    type: str
    message_id: bytes
    user_id: str | None
    anonymous_id: str | None
    previous_id: str | None
    data: dict

    def order_key(self):
        return (self.ts, self.message_id, self.line_no)


def check_line(raw: bytes):
    """Return (reason, None) for a skipped line, or (None, (ts, object)) for a valid one."""
    # 1. invalid_utf8
    try:
        text = raw.decode("utf-8", errors="strict")
    except UnicodeDecodeError:
        return "invalid_utf8", None
    # 2. too_long
    if len(raw) > MAX_LINE_BYTES:
        return "too_long", None
    # 3. invalid_json
    try:
        value = parse_json(text)
    except InvalidJson:
        return "invalid_json", None
    # 4. not_object
    if not isinstance(value, dict):
        return "not_object", None
    obj = value
    # 5. missing_timestamp
    if obj.get("timestamp") is None:
        return "missing_timestamp", None
    # 6. bad_timestamp
    ts = parse_timestamp(obj["timestamp"])
    if ts is None:
        return "bad_timestamp", None
    # 7. unknown_type
    rtype = obj.get("type")
    if not isinstance(rtype, str) or rtype not in RECORD_TYPES:
        return "unknown_type", None
    # 8. missing_identity
    if rtype == "alias":
        if not (present(obj.get("previousId")) and present(obj.get("userId"))):
            return "missing_identity", None
    else:
        if not (present(obj.get("userId")) or present(obj.get("anonymousId"))):
            return "missing_identity", None
    # 9. unknown_event
    if rtype == "track":
        event = obj.get("event")
        if not isinstance(event, str) or event not in TRACK_EVENTS:
            return "unknown_event", None
    # 10. wrong_property_type
    if rtype == "track" and not track_types_ok(obj):
        return "wrong_property_type", None
    if rtype == "page" and not page_types_ok(obj):
        return "wrong_property_type", None
    if rtype == "identify" and not identify_types_ok(obj):
        return "wrong_property_type", None
    return None, (ts, obj)


def read_records(data: bytes):
    """Split into lines on b"\\n" and check each. Returns (lines_read, skipped, records)."""
    pieces = data.split(b"\n")
    if pieces and pieces[-1] == b"":
        # The final "\n" ends the last line; it does not start an empty one.
        pieces.pop()
    skipped = {reason: 0 for reason in REASONS}
    records: list[Record] = []
    for i, raw in enumerate(pieces, start=1):
        reason, result = check_line(raw)
        if reason is not None:
            skipped[reason] += 1
            continue
        ts, obj = result
        mid = obj.get("messageId")
        records.append(
            Record(
                line_no=i,
                ts=ts,
                type=obj["type"],
                message_id=mid.encode("utf-8") if isinstance(mid, str) else b"",
                user_id=obj["userId"] if present(obj.get("userId")) else None,
                anonymous_id=obj["anonymousId"] if present(obj.get("anonymousId")) else None,
                previous_id=obj["previousId"] if present(obj.get("previousId")) else None,
                data=obj,
            )
        )
    return len(pieces), skipped, records


# ---------------------------------------------------------------------------
# Section 2: who a record belongs to
# ---------------------------------------------------------------------------


class Identities:
    def __init__(self, records_in_order: list[Record]):
        # 2.1 alias targets: the userId of the earliest valid alias per previousId.
        self.target: dict[str, str] = {}
        for r in records_in_order:
            if r.type == "alias" and r.previous_id not in self.target:
                self.target[r.previous_id] = r.user_id
        # 2.2 owners of anonymousIds: the userId of the earliest claim.
        self.owner: dict[str, str] = {}
        for r in records_in_order:
            if r.type == "identify" and r.user_id is not None and r.anonymous_id is not None:
                claimed, by = r.anonymous_id, r.user_id
            elif r.type == "alias":
                claimed, by = r.previous_id, r.user_id
            else:
                continue
            if claimed not in self.owner:
                self.owner[claimed] = by

    def resolve(self, x: str) -> str:
        """Follow alias targets from x until an id with no target.

        R1 says the generator writes no cycles; should one occur, we stop at the
        last id before one would be visited a second time.
        """
        seen = {x}
        while x in self.target:
            nxt = self.target[x]
            if nxt in seen:
                break
            seen.add(nxt)
            x = nxt
        return x

    def contact_of(self, r: Record) -> str | None:
        # 2.3: the userId decides; otherwise the owner of the anonymousId.
        if r.user_id is not None:
            return self.resolve(r.user_id)
        if r.anonymous_id is not None and r.anonymous_id in self.owner:
            return self.resolve(self.owner[r.anonymous_id])
        return None


# ---------------------------------------------------------------------------
# Section 3: scores
# ---------------------------------------------------------------------------


def day_of(ts: int) -> int:
    return ts // MS_PER_DAY  # floor division, also right before 1970


def week_of(ts: int) -> int:
    return (day_of(ts) + 3) // 7


def page_path(r: Record) -> str:
    return r.data["properties"]["path"]


def prop(r: Record, name: str):
    return r.data["properties"][name]


# Each rule: (score, points, predicate, cap) with cap None or (limit, "day" | "week").
RULES = [
    ("general_interest", +5,
     lambda r: r.type == "page" and page_path(r).startswith("/products/general"), (3, "day")),
    ("general_interest", +25,
     lambda r: r.type == "track" and r.data["event"] == "Datasheet Downloaded"
     and prop(r, "category") == "general", None),
    ("general_interest", +15,
     lambda r: r.type == "track" and r.data["event"] == "Webinar Attended", None),
    ("general_interest", +90,
     lambda r: r.type == "track" and r.data["event"] == "Demo Requested"
     and prop(r, "product_line") == "general", (1, "day")),
    ("general_interest", -10,
     lambda r: r.type == "page" and page_path(r).startswith("/jobs"), (1, "week")),
    ("general_interest", -25,
     lambda r: r.type == "track" and r.data["event"] == "Unsubscribed", None),
    ("medical_interest", +5,
     lambda r: r.type == "page" and page_path(r).startswith("/medical"), (3, "day")),
    ("medical_interest", +25,
     lambda r: r.type == "track" and r.data["event"] == "Datasheet Downloaded"
     and prop(r, "category") == "medical", None),
    ("medical_interest", +90,
     lambda r: r.type == "track" and r.data["event"] == "Demo Requested"
     and prop(r, "product_line") == "medical", (1, "day")),
]


def interest_scores(records_of_contact: list[Record]) -> dict[str, int]:
    """records_of_contact must be in (ts, messageId) order: caps keep the earliest."""
    scores = {"general_interest": 0, "medical_interest": 0}
    for score, points, qualifies, cap in RULES:
        used: dict[int, int] = {}  # period -> qualifying records kept so far
        for r in records_of_contact:
            if not qualifies(r):
                continue
            if cap is not None:
                limit, unit = cap
                period = day_of(r.ts) if unit == "day" else week_of(r.ts)
                if used.get(period, 0) >= limit:
                    continue
                used[period] = used.get(period, 0) + 1
            scores[score] += points
    return scores


def ci_class(ch: str) -> str:
    """A character class matching ch ignoring case, as RE2 and Rust's regex do it
    (Unicode simple case folding): for ASCII letters that is upper and lower case,
    plus U+017F LATIN SMALL LETTER LONG S for s and U+212A KELVIN SIGN for k."""
    if not ch.isascii() or not ch.isalpha():
        return re.escape(ch)
    extra = {"s": "\u017f", "k": "\u212a"}.get(ch.lower(), "")
    return "[" + ch.lower() + ch.upper() + extra + "]"


def ci(pattern_words: str) -> str:
    return "".join(ci_class(c) for c in pattern_words)


# re.ASCII makes \b an ASCII word boundary ([0-9A-Za-z_] are the word characters).
PURCHASING_RE = re.compile(ci("purchas") + "|" + ci("procurement"), re.ASCII)
SENIORITY_RE = re.compile(
    r"\b(" + "|".join(ci(w) for w in
                      ("vp", "vice president", "director", "head", "chief", "cto", "ceo", "cfo"))
    + r")\b",
    re.ASCII,
)


def fit_score(traits: dict | None) -> int:
    if traits is None:
        return 0
    fit = 0
    job_title = traits.get("job_title")
    if isinstance(job_title, str):
        if PURCHASING_RE.search(job_title):
            fit += 15
        if SENIORITY_RE.search(job_title):
            fit += 50
    email = traits.get("email")
    if isinstance(email, str) and email.endswith("@competitor.example"):
        fit -= 100
    size = traits.get("company_size")
    if is_integer(size) and int(size.text) >= 500:
        fit += 20
    return fit


def email_consent(traits: dict | None) -> str:
    if traits is None:
        return "unknown"
    return traits["consent"]["email"]


# ---------------------------------------------------------------------------
# Sections 4 and 5: segments and output
# ---------------------------------------------------------------------------


def json_string(s: str) -> str:
    # As serde_json writes strings: non-ASCII as is; ", \ and control characters escaped.
    return json.dumps(s, ensure_ascii=False)


def run(data: bytes):
    lines_read, skipped, records = read_records(data)
    records.sort(key=Record.order_key)  # event time, never file order
    ids = Identities(records)

    T = max((r.ts for r in records), default=None)

    by_contact: dict[str, list[Record]] = {}
    anonymous_left_out = 0
    for r in records:
        contact = ids.contact_of(r)
        if contact is None:
            anonymous_left_out += 1
            continue
        by_contact.setdefault(contact, []).append(r)  # stays in (ts, messageId) order

    out_lines = []
    segment_sizes = {name: 0 for name in SEGMENT_NAMES}
    for contact in sorted(by_contact, key=lambda c: c.encode("utf-8")):
        rs = by_contact[contact]
        scores = interest_scores(rs)
        gi, mi = scores["general_interest"], scores["medical_interest"]

        # Latest traits: the latest valid identify carrying a userId that resolves here.
        latest_identify = None
        for r in rs:
            if r.type == "identify" and r.user_id is not None:
                latest_identify = r  # rs is sorted, so the last one wins
        traits = latest_identify.data["traits"] if latest_identify is not None else None
        fit = fit_score(traits)

        segments = []
        if gi + mi + fit >= 100 and email_consent(traits) == "granted":
            segments.append("mql")
        if gi + mi >= 60 and abs(mi - gi) < 10:
            segments.append("undecided")
        pricing_views = sum(
            1 for r in rs
            if r.type == "page" and page_path(r) == "/pricing"
            and T - PRICING_WINDOW_MS < r.ts <= T
        )
        if pricing_views >= 3:
            segments.append("pricing_hot")
        if not any(T - DORMANT_WINDOW_MS < r.ts <= T for r in rs):
            segments.append("dormant")
        segments.sort()
        for s in segments:
            segment_sizes[s] += 1

        out_lines.append(
            '{"contact":' + json_string(contact)
            + ',"general_interest":' + str(gi)
            + ',"medical_interest":' + str(mi)
            + ',"fit":' + str(fit)
            + ',"segments":[' + ",".join(json_string(s) for s in segments) + "]}"
        )

    summary = {
        "lines_read": lines_read,
        "valid_records": len(records),
        "skipped": skipped,
        "skipped_total": sum(skipped.values()),
        "contacts": len(by_contact),
        "anonymous_records_left_out": anonymous_left_out,
        "as_of_ms": T,
        "as_of": format_ts(T) if T is not None else None,
        "segments": segment_sizes,
    }
    state = "".join(line + "\n" for line in out_lines).encode("utf-8")
    return state, summary


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="R1 reference scoring (shared/workload/R1.md)")
    parser.add_argument("events", help="JSON Lines file written by gen_events.py")
    parser.add_argument("--out", required=True, help="per-contact state, JSON Lines")
    parser.add_argument("--summary", help="also write a summary JSON here")
    args = parser.parse_args(argv)

    with open(args.events, "rb") as f:
        data = f.read()
    state, summary = run(data)
    with open(args.out, "wb") as f:
        f.write(state)
    if args.summary:
        with open(args.summary, "w", encoding="utf-8") as f:
            json.dump(summary, f, indent=2)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
