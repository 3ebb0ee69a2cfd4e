"""Self-checks of the R1 reference (r1_reference.py beside this file).

    python3 -m unittest tests/reference/test_r1_reference.py

Tiny hand-written inputs with hand-computed results, then the seed-3 workload file
against the generator's manifest, and the same file shuffled.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import r1_reference as r1  # noqa: E402

REPO_ROOT = HERE.parent.parent


def workload_dir() -> Path:
    env = os.environ.get("MACLC_WORKLOAD_DIR")
    if env:
        return Path(env)
    return REPO_ROOT.parent / "shared" / "workload"


def line(**members) -> bytes:
    return json.dumps(members, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def traits(**overrides):
    t = {
        "email": "someone@acme.example",
        "first_name": "Łukasz",
        "industry": "Dental",
        "country": "DE",
        "timezone": "Europe/Berlin",
        "consent": {"email": "granted", "sms": "unknown"},
        "unsubscribed": False,
        "blocklisted": False,
    }
    t.update(overrides)
    return {k: v for k, v in t.items() if v is not ...}  # `...` removes a trait


_counter = [0]


def mid() -> str:
    _counter[0] += 1
    return f"00000000-0000-4000-8000-{_counter[0]:012d}"


def identify(ts, user=None, anon=None, **trait_overrides) -> bytes:
    rec = {"type": "identify"}
    if user is not None:
        rec["userId"] = user
    if anon is not None:
        rec["anonymousId"] = anon
    rec["traits"] = traits(**trait_overrides)
    rec["timestamp"] = ts
    rec["messageId"] = mid()
    return line(**rec)


def page(ts, path, user=None, anon=None) -> bytes:
    rec = {"type": "page", "name": "Page – ü"}
    if user is not None:
        rec["userId"] = user
    if anon is not None:
        rec["anonymousId"] = anon
    rec["properties"] = {"path": path, "url": "https://printers.example" + path}
    rec["timestamp"] = ts
    rec["messageId"] = mid()
    return line(**rec)


def track(ts, event, props, user=None, anon=None) -> bytes:
    rec = {"type": "track", "event": event}
    if user is not None:
        rec["userId"] = user
    if anon is not None:
        rec["anonymousId"] = anon
    rec["properties"] = props
    rec["timestamp"] = ts
    rec["messageId"] = mid()
    return line(**rec)


def alias(ts, previous, user) -> bytes:
    return line(type="alias", previousId=previous, userId=user, timestamp=ts, messageId=mid())


def run_lines(lines: list[bytes]):
    state, summary = r1.run(b"".join(l + b"\n" for l in lines))
    rows = [json.loads(l) for l in state.decode("utf-8").splitlines()]
    return {row["contact"]: row for row in rows}, state, summary


def row(contact, gi, mi, fit, segments):
    return {"contact": contact, "general_interest": gi, "medical_interest": mi, "fit": fit,
            "segments": segments}


class Caps(unittest.TestCase):
    def test_caps_per_day_and_per_week(self):
        # 2026-01-05 is a Monday; 2026-01-11 a Sunday of the same ISO week.
        u = "user-000001"
        lines = [
            identify("2026-01-05T08:00:00.000Z", u, job_title="Head of Procurement",
                     company={"id": "acc-1", "name": "Acme"}, company_size=700),
            # /products/general: 4 on 2026-01-05 UTC (the last via a +01:00 offset), 2 the next day
            page("2026-01-05T09:00:00.000Z", "/products/general", u),
            page("2026-01-05T10:00:00.000Z", "/products/general/gen-mk1", u),
            page("2026-01-05T11:00:00.000Z", "/products/general/gen-mk1/specs", u),
            page("2026-01-06T00:30:00.000+01:00", "/products/general", u),  # 2026-01-05T23:30Z
            page("2026-01-06T10:00:00.9999Z", "/products/general", u),
            page("2026-01-06T11:00:00.000Z", "/products/general", u),
            page("2026-01-06T12:00:00.000Z", "/Products/general", u),  # case-sensitive: no
            # Demo Requested general: twice on the 5th (double submit), once on the 6th
            track("2026-01-05T12:00:00.000Z", "Demo Requested", {"product_line": "general"}, u),
            track("2026-01-05T12:05:00.000Z", "Demo Requested", {"product_line": "general"}, u),
            track("2026-01-06T12:00:00.000Z", "Demo Requested", {"product_line": "general"}, u),
            # /jobs: three in the ISO week of Mon 5th..Sun 11th, one on Monday the 12th
            page("2026-01-05T13:00:00.000Z", "/jobs", u),
            page("2026-01-05T14:00:00.000Z", "/jobs/engineer", u),
            page("2026-01-11T23:59:59.999Z", "/jobs", u),
            page("2026-01-12T00:00:00.000Z", "/jobs", u),
            # /medical: four on the 7th (3 kept), a blog post about medicine (no points)
            page("2026-01-07T09:00:00.000Z", "/medical", u),
            page("2026-01-07T09:01:00.000Z", "/medical/bioprint-x", u),
            page("2026-01-07T09:02:00.000Z", "/medicalfoo", u),  # a plain prefix
            page("2026-01-07T09:03:00.000Z", "/medical/compliance", u),
            page("2026-01-07T09:04:00.000Z", "/blog/medical-3d-printing", u),
        ]
        # general: pages 15 + 10, demos 90 + 90, jobs -10 -10 = 185; medical: 15
        # fit: purchasing 15 + seniority 50 + size 20 = 85; 185 + 15 + 85 >= 100, consent granted
        expected = row(u, 185, 15, 85, ["mql"])
        for order in (lines, list(reversed(lines))):
            contacts, _, summary = run_lines(order)
            self.assertEqual(contacts, {u: expected})
            self.assertEqual(summary["as_of"], "2026-01-12T00:00:00.000Z")

    def test_caps_keep_the_earliest_by_event_time_not_file_order(self):
        # The -10 of /jobs is taken once a week whichever line comes first in the file,
        # and the daily cap of 3 picks the three earliest pages, by timestamp.
        u = "user-000002"
        lines = [
            page("2026-01-08T10:00:00.000Z", "/products/general", u),
            page("2026-01-08T09:00:00.000Z", "/products/general", u),
            page("2026-01-08T08:00:00.000Z", "/products/general", u),
            page("2026-01-08T07:00:00.000Z", "/products/general", u),
        ]
        contacts, _, _ = run_lines(lines)
        self.assertEqual(contacts, {u: row(u, 15, 0, 0, [])})


class Identity(unittest.TestCase):
    def test_merge_through_alias_chains(self):
        lines = [
            # an anonymous page before any claim; anon-a is claimed later by crm-1
            page("2026-01-01T09:00:00.000Z", "/products/general", anon="anon-a"),
            identify("2026-01-01T10:00:00.000Z", "crm-1234567", job_title="Engineer"),
            identify("2026-01-01T11:00:00.000Z", "crm-1234567", "anon-a", job_title="Engineer"),
            # an app's anonymousId merged by alias; its page comes before the alias
            page("2026-01-02T09:00:00.000Z", "/medical", anon="anon-b"),
            alias("2026-01-02T10:00:00.000Z", "crm-1234567", "user-000002"),
            alias("2026-01-03T10:00:00.000Z", "user-000002", "user-000003"),
            alias("2026-01-03T11:00:00.000Z", "anon-b", "user-000003"),
            # a later alias of the same previousId does not move it; it only makes user-000009
            alias("2026-01-04T10:00:00.000Z", "crm-1234567", "user-000009"),
            track("2026-01-05T10:00:00.000Z", "Datasheet Downloaded",
                  {"category": "medical", "product_id": "MED-BPX"}, user="user-000002"),
            identify("2026-01-06T10:00:00.000Z", "user-000003", job_title="Engineer"),
            # the latest identify with a userId that resolves to user-000003 wins, old id or not
            identify("2026-01-07T10:00:00.000Z", "crm-1234567", job_title="CEO",
                     consent={"email": "denied", "sms": "denied"}),
        ]
        contacts, _, summary = run_lines(lines)
        self.assertEqual(contacts, {
            "user-000003": row("user-000003", 5, 30, 50, []),
            "user-000009": row("user-000009", 0, 0, 0, []),
        })
        self.assertEqual(summary["contacts"], 2)
        self.assertEqual(summary["anonymous_records_left_out"], 0)

    def test_shared_computer_and_a_page_before_the_claiming_identify(self):
        a, b = "user-000010", "user-000011"
        lines = [
            # in file order the colleague's identify comes first; by time it is second
            identify("2026-01-02T10:00:00.000Z", b, "anon-s", job_title="VP Sales"),
            page("2026-01-01T08:00:00.000Z", "/medical", anon="anon-s"),  # before any claim
            identify("2026-01-01T10:00:00.000Z", a, "anon-s", job_title="Buyer"),
            page("2026-01-03T08:00:00.000Z", "/medical", anon="anon-s"),  # owner: a
            page("2026-01-02T11:00:00.000Z", "/medical", user=b, anon="anon-s"),  # userId decides
            page("2026-01-03T09:00:00.000Z", "/", anon="anon-never"),  # stays anonymous
        ]
        contacts, _, summary = run_lines(lines)
        self.assertEqual(contacts, {
            a: row(a, 0, 10, 0, []),
            b: row(b, 0, 5, 50, []),
        })
        self.assertEqual(summary["anonymous_records_left_out"], 1)
        self.assertEqual(summary["as_of"], "2026-01-03T09:00:00.000Z")


class Fit(unittest.TestCase):
    def test_fit_conditions(self):
        cases = [
            ("Headhunter", {}, 0),
            ("Vice-President Sales", {}, 0),
            ("Vice President Operations", {}, 50),
            ("Head of Procurement", {}, 65),
            ("Director of Purchasing", {}, 65),
            ("vp engineering", {}, 50),
            ("CTO", {}, 50),
            ("Chief of Staff", {}, 50),
            ("Art Director", {}, 50),
            ("Directors", {}, 0),  # \b after director fails
            ("head_of_lab", {}, 0),  # _ is a word character
            ("PURCHASING", {}, 15),
            # RE2 / Rust regex case folding: U+017F folds to s; dotless i does not fold to i
            ("Vice Pre\u017fident", {}, 50),
            ("Purcha\u017fing", {}, 15),
            ("D\u0131rector", {}, 0),
            ("Engineer", {"company": {"id": "a", "name": "A"}, "company_size": 500}, 20),
            ("Engineer", {"company": {"id": "a", "name": "A"}, "company_size": 499}, 0),
            ("Engineer", {"email": "x@competitor.example"}, -100),
            ("Engineer", {"email": "x@Competitor.example"}, 0),
            (None, {}, 0),
            (..., {"email": "x@competitor.example"}, -100),
        ]
        lines = []
        expected = {}
        for i, (title, extra, fit) in enumerate(cases):
            u = f"user-{i:06d}"
            lines.append(identify(f"2026-01-01T10:{i:02d}:00.000Z", u, job_title=title, **extra))
            expected[u] = fit
        contacts, _, _ = run_lines(lines)
        self.assertEqual({c: r["fit"] for c, r in contacts.items()}, expected)

    def test_no_identify_means_fit_0_and_no_mql(self):
        u = "user-000050"
        lines = [track(f"2026-01-0{d}T10:00:00.000Z", "Demo Requested",
                       {"product_line": "general"}, user=u) for d in (1, 2)]
        contacts, _, _ = run_lines(lines)
        self.assertEqual(contacts, {u: row(u, 180, 0, 0, [])})


class Segments(unittest.TestCase):
    def test_windows_and_thresholds(self):
        T = "2026-06-30T00:00:00.000Z"
        lines = [
            page(T, "/", anon="anon-t"),  # anonymous, still sets T
            # pricing_hot: 3 in (T-168h, T]
            page("2026-06-23T00:00:00.001Z", "/pricing", user="user-000020"),
            page("2026-06-29T23:00:00.000Z", "/pricing", user="user-000020"),
            page("2026-06-29T23:59:59.999Z", "/pricing", user="user-000020"),
            # not: one at exactly T-168h, one on /pricing/ (not exact)
            page("2026-06-23T00:00:00.000Z", "/pricing", user="user-000021"),
            page("2026-06-29T23:00:00.000Z", "/pricing", user="user-000021"),
            page("2026-06-29T23:30:00.000Z", "/pricing/", user="user-000021"),
            page("2026-06-29T23:59:00.000Z", "/pricing", user="user-000021"),
            # dormant: last record at exactly T-90d; not dormant: 1 ms later
            page("2026-04-01T00:00:00.000Z", "/", user="user-000022"),
            page("2026-04-01T00:00:00.001Z", "/", user="user-000023"),
            # undecided: 30 and 30
            track("2026-06-01T10:00:00.000Z", "Webinar Attended",
                  {"webinar_id": "wbn-1", "topic": "t"}, user="user-000024"),
            track("2026-06-02T10:00:00.000Z", "Webinar Attended",
                  {"webinar_id": "wbn-2", "topic": "t"}, user="user-000024"),
            track("2026-06-03T10:00:00.000Z", "Datasheet Downloaded",
                  {"category": "medical", "product_id": "MED-BPX"}, user="user-000024"),
            page("2026-06-03T11:00:00.000Z", "/medical", user="user-000024"),
            # not undecided: 40 and 30 differ by 10
            track("2026-06-01T10:00:00.000Z", "Webinar Attended",
                  {"webinar_id": "wbn-1", "topic": "t"}, user="user-000025"),
            track("2026-06-02T10:00:00.000Z", "Datasheet Downloaded",
                  {"category": "general", "product_id": "GEN-MK1"}, user="user-000025"),
            track("2026-06-03T10:00:00.000Z", "Datasheet Downloaded",
                  {"category": "medical", "product_id": "MED-BPX"}, user="user-000025"),
            page("2026-06-03T11:00:00.000Z", "/medical", user="user-000025"),
            # a negative score; old enough to be dormant
            track("2026-02-01T10:00:00.000Z", "Unsubscribed", {"channel": "sms"},
                  user="user-000026"),
        ]
        contacts, state, summary = run_lines(lines)
        self.assertEqual(state.decode().splitlines(), [
            '{"contact":"user-000020","general_interest":0,"medical_interest":0,"fit":0,"segments":["pricing_hot"]}',
            '{"contact":"user-000021","general_interest":0,"medical_interest":0,"fit":0,"segments":[]}',
            '{"contact":"user-000022","general_interest":0,"medical_interest":0,"fit":0,"segments":["dormant"]}',
            '{"contact":"user-000023","general_interest":0,"medical_interest":0,"fit":0,"segments":[]}',
            '{"contact":"user-000024","general_interest":30,"medical_interest":30,"fit":0,"segments":["undecided"]}',
            '{"contact":"user-000025","general_interest":40,"medical_interest":30,"fit":0,"segments":[]}',
            '{"contact":"user-000026","general_interest":-25,"medical_interest":0,"fit":0,"segments":["dormant"]}',
        ])
        self.assertEqual(summary["segments"],
                         {"dormant": 2, "mql": 0, "pricing_hot": 1, "undecided": 1})
        self.assertEqual(summary["anonymous_records_left_out"], 1)

    def test_segment_names_sorted(self):
        u = "user-000030"
        lines = [identify("2026-01-01T10:00:00.000Z", u, job_title="CEO",
                          company={"id": "a", "name": "A"}, company_size=1000)]
        lines += [page(f"2026-01-0{d}T10:00:00.000Z", "/pricing", u) for d in (2, 3, 4)]
        lines += [track(f"2026-01-0{d}T11:00:00.000Z", "Demo Requested",
                        {"product_line": line_}, user=u)
                  for d, line_ in ((2, "general"), (3, "medical"))]
        lines.append(page("2026-05-01T00:00:00.000Z", "/", anon="anon-late"))
        _, state, _ = run_lines(lines)
        self.assertEqual(
            state,
            b'{"contact":"user-000030","general_interest":90,"medical_interest":90,"fit":70,'
            b'"segments":["dormant","mql","undecided"]}\n')


class LineChecks(unittest.TestCase):
    def reason(self, raw: bytes):
        reason, _ = r1.check_line(raw)
        return reason

    def test_each_reason(self):
        ok_page = json.loads(page("2026-01-01T00:00:00.000Z", "/", anon="a"))

        def with_(**changes):
            rec = dict(ok_page)
            for k, v in changes.items():
                if v is ...:
                    rec.pop(k, None)
                else:
                    rec[k] = v
            return json.dumps(rec, ensure_ascii=False).encode()

        self.assertIsNone(self.reason(with_()))
        self.assertEqual(self.reason(b'{"type":"page","name":"Jos\xe9"}'), "invalid_utf8")
        self.assertEqual(self.reason(b'{"x":"' + b"\xff" * 40000 + b'"}'), "invalid_utf8")
        self.assertEqual(self.reason(with_(name="x" * 40000)), "too_long")
        self.assertEqual(self.reason(with_()[:-5]), "invalid_json")
        self.assertEqual(self.reason(b""), "invalid_json")
        self.assertEqual(self.reason(b"NaN"), "invalid_json")
        self.assertEqual(self.reason(b'{"a":1}{"b":2}'), "invalid_json")
        self.assertEqual(self.reason(b'{"a":"\\ud800"}'), "invalid_json")
        self.assertEqual(self.reason(b"\xef\xbb\xbf" + with_()), "invalid_json")  # a BOM
        self.assertEqual(self.reason(b"   "), "invalid_json")
        self.assertIsNone(self.reason(b" \t" + with_() + b"\r"))  # JSON whitespace around
        self.assertEqual(self.reason(b"[" + with_() + b"]"), "not_object")
        self.assertEqual(self.reason(json.dumps(with_().decode()).encode()), "not_object")
        self.assertEqual(self.reason(b"null"), "not_object")
        self.assertEqual(self.reason(with_(timestamp=...)), "missing_timestamp")
        self.assertEqual(self.reason(with_(timestamp=None)), "missing_timestamp")
        for bad in ("2026-02-29T10:00:00.000Z", "2026-02-30T10:00:00.000Z",
                    "2026-04-31T10:00:00Z", "2026-01-01T25:00:00.000Z",
                    "2026-01-01T24:00:00.000Z", "2026-01-01T10:60:00Z",
                    "2026-01-01T10:00:60Z", "2026-01-01T10:00:00.000+24:00",
                    "2026-01-01T10:00:00.000+05:60", "2026-01-01T10:00:00.000",
                    "2026-01-01T10:00:00.000z", "2026-01-01 10:00:00.000Z",
                    "2026-01-01T10:00:00.Z", "2026-01-01T10:00:00.000+0100",
                    "2026-13-01T10:00:00Z", "2026-00-10T10:00:00Z",
                    "2026-01-00T10:00:00Z", "not-a-timestamp", "", "05/01/2026 09:31:12",
                    "2026-01-01T10:00:00.000Z\n"):
            self.assertEqual(self.reason(with_(timestamp=bad)), "bad_timestamp", bad)
        self.assertEqual(self.reason(with_(timestamp=1767225600000)), "bad_timestamp")
        for good in ("2024-02-29T10:00:00.000Z", "2000-02-29T00:00:00Z",
                     "2026-01-01T23:59:59.123456789-23:59", "2026-01-01T00:00:00+00:00"):
            self.assertIsNone(self.reason(with_(timestamp=good)), good)
        self.assertEqual(self.reason(with_(type="screen")), "unknown_type")
        self.assertEqual(self.reason(with_(type=...)), "unknown_type")
        self.assertEqual(self.reason(with_(type="Page")), "unknown_type")
        self.assertEqual(self.reason(with_(anonymousId="")), "missing_identity")
        self.assertEqual(self.reason(with_(anonymousId=5)), "missing_identity")
        self.assertIsNone(self.reason(with_(anonymousId=5, userId="u")))
        self.assertEqual(self.reason(line(type="alias", previousId="p", timestamp="2026-01-01T00:00:00Z")),
                         "missing_identity")
        self.assertEqual(self.reason(line(type="alias", userId="u", previousId="",
                                          timestamp="2026-01-01T00:00:00Z")), "missing_identity")
        self.assertIsNone(self.reason(line(type="alias", userId="u", previousId="p",
                                           timestamp="2026-01-01T00:00:00Z")))
        ts = "2026-01-01T00:00:00Z"
        for event in ("Datasheet Download", "datasheet downloaded", "Coupon Redeemed", None):
            self.assertEqual(self.reason(line(type="track", event=event, userId="u",
                                              properties={}, timestamp=ts)), "unknown_event")

    def test_property_types(self):
        ts = "2026-01-01T00:00:00Z"

        def t(event, props):
            return self_reason(line(type="track", event=event, userId="u", properties=props,
                                    timestamp=ts))

        self_reason = self.reason
        self.assertIsNone(t("Checkout Started", {"cart_id": "c", "value": 12}))
        self.assertIsNone(t("Checkout Started", {"cart_id": "c", "value": 12.5, "extra": [1]}))
        self.assertEqual(t("Order Completed", {"order_id": "o", "cart_id": "c",
                                               "revenue": "12,50"}), "wrong_property_type")
        self.assertEqual(t("Webinar Registered", {"webinar_id": 20260114, "topic": "x"}),
                         "wrong_property_type")
        self.assertEqual(t("Datasheet Downloaded", {"category": "Medical", "product_id": "x"}),
                         "wrong_property_type")
        self.assertEqual(t("Demo Requested", {}), "wrong_property_type")
        self.assertEqual(t("Demo Requested", {"product_line": None}), "wrong_property_type")
        self.assertEqual(self.reason(line(type="track", event="Demo Requested", userId="u",
                                          timestamp=ts)), "wrong_property_type")

        def p(props, **extra):
            return self_reason(line(type="page", anonymousId="a", properties=props,
                                    timestamp=ts, **extra))

        self.assertIsNone(p({"path": "/x", "url": "u"}))
        self.assertIsNone(p({"path": "/x", "url": "u"}, name=None))
        self.assertEqual(p({"path": "x", "url": "u"}), "wrong_property_type")
        self.assertEqual(p({"path": "/x"}), "wrong_property_type")
        self.assertEqual(p({"path": "/x", "url": "u"}, name=3), "wrong_property_type")

        def i(**overrides):
            return self_reason(identify(ts, "u", **overrides))

        self.assertIsNone(i())
        self.assertIsNone(i(job_title=None, company=None, company_size=None, budget=None,
                            birthday="2024-02-29", contract_end="2020-01-31"))
        self.assertEqual(i(birthday="2026-02-29"), "wrong_property_type")
        self.assertEqual(i(birthday="2026-2-1"), "wrong_property_type")
        self.assertEqual(i(company_size="1,200+"), "wrong_property_type")
        self.assertEqual(i(budget="15k €"), "wrong_property_type")
        self.assertEqual(i(budget=True), "wrong_property_type")
        self.assertEqual(i(email=...), "wrong_property_type")
        self.assertEqual(i(timezone=None), "wrong_property_type")
        self.assertEqual(i(consent={"email": "granted"}), "wrong_property_type")
        self.assertEqual(i(consent={"email": "yes", "sms": "unknown"}), "wrong_property_type")
        self.assertEqual(i(unsubscribed="false"), "wrong_property_type")
        self.assertEqual(i(company={"id": "a"}), "wrong_property_type")
        self.assertEqual(i(industry=7), "wrong_property_type")
        # integers are JSON numbers written without fraction or exponent
        base = identify(ts, "u", company={"id": "a", "name": "A"}, company_size=1200)
        self.assertIsNone(self.reason(base))
        for text in (b"1200.0", b"1.2e3", b"12E2", b"1200.5"):
            self.assertEqual(self.reason(base.replace(b"1200", text)), "wrong_property_type", text)
        self.assertIsNone(self.reason(base.replace(b"1200", b"-0")))

    def test_line_splitting(self):
        one = page("2026-01-01T00:00:00.000Z", "/", anon="a")
        for data, lines_read in ((one + b"\n", 1), (one, 1), (one + b"\n\n", 2),
                                 (b"", 0), (one + b"\r\n", 1)):
            _, summary = r1.run(data)
            self.assertEqual(summary["lines_read"], lines_read, data[-4:])
        _, summary = r1.run(one + b"\n\n")
        self.assertEqual(summary["skipped"]["invalid_json"], 1)

    def test_exactly_32768_bytes_is_not_too_long(self):
        rec = json.loads(page("2026-01-01T00:00:00.000Z", "/", anon="a"))
        rec["name"] = ""
        base = len(json.dumps(rec, separators=(",", ":")).encode())
        rec["name"] = "é" * ((32768 - base) // 2) + "x" * ((32768 - base) % 2)
        raw = json.dumps(rec, ensure_ascii=False, separators=(",", ":")).encode()
        self.assertEqual(len(raw), 32768)
        self.assertIsNone(self.reason(raw))
        self.assertEqual(self.reason(raw.replace(b'"name":"', b'"name":"x')), "too_long")


class Timestamps(unittest.TestCase):
    def test_conversion_to_utc_milliseconds(self):
        self.assertEqual(r1.parse_timestamp("1970-01-01T00:00:00Z"), 0)
        self.assertEqual(r1.parse_timestamp("1970-01-01T01:00:00.5+01:00"), 500)
        self.assertEqual(r1.parse_timestamp("1969-12-31T23:59:59.9999Z"), -1)
        self.assertEqual(r1.parse_timestamp("2026-01-01T00:00:00.000Z"), 1767225600000)
        self.assertEqual(r1.parse_timestamp("2025-12-31T19:00:00.000-05:00"), 1767225600000)
        self.assertEqual(r1.format_ts(1767225600000), "2026-01-01T00:00:00.000Z")

    def test_iso_weeks_start_on_monday(self):
        monday = r1.parse_timestamp("2026-01-05T00:00:00Z")
        self.assertEqual(r1.week_of(monday - 1) + 1, r1.week_of(monday))
        self.assertEqual(r1.week_of(monday), r1.week_of(monday + 7 * r1.MS_PER_DAY - 1))


class Workload(unittest.TestCase):
    """The seed-3 file against the generator's manifest, sorted and shuffled."""

    ARGS = ["--contacts", "300", "--events", "12000", "--seed", "3", "--malformed-rate", "0.01"]

    @classmethod
    def setUpClass(cls):
        gen = workload_dir() / "gen_events.py"
        if not gen.is_file():
            raise unittest.SkipTest(f"no workload generator at {gen} (set MACLC_WORKLOAD_DIR)")
        cls.tmp = tempfile.TemporaryDirectory()
        tmp = Path(cls.tmp.name)
        cls.results = {}
        for name, extra in (("sorted", []), ("shuffled", ["--shuffle-window", "1000"])):
            events, manifest = tmp / f"{name}.jsonl", tmp / f"{name}.json"
            subprocess.run([sys.executable, str(gen), *cls.ARGS, *extra, "--out", str(events),
                            "--manifest", str(manifest)], check=True)
            state, summary = r1.run(events.read_bytes())
            cls.results[name] = (json.loads(manifest.read_text()), state, summary, events)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_counts_match_the_manifest(self):
        for name, (manifest, state, summary, _) in self.results.items():
            with self.subTest(name):
                expected = {("invalid_json" if k == "truncated_json" else k): v
                            for k, v in manifest["malformed_by_kind"].items()}
                got = {k: v for k, v in summary["skipped"].items()}
                for reason in r1.REASONS:
                    expected.setdefault(reason, 0)
                self.assertEqual(got, expected)
                self.assertEqual(summary["lines_read"], manifest["lines_total"])
                self.assertEqual(summary["valid_records"], manifest["lines_valid"])
                self.assertEqual(summary["contacts"], manifest["contacts"])
                self.assertEqual(summary["contacts"], manifest["contacts_in_valid_lines"])
                self.assertEqual(summary["anonymous_records_left_out"],
                                 manifest["anonymous_only_records"]["never_attributable"])
                self.assertEqual(summary["as_of"], manifest["last_timestamp"])
                self.assertEqual(len(state.splitlines()), manifest["contacts"])

    def test_shuffled_file_gives_byte_identical_output(self):
        _, sorted_state, sorted_summary, sorted_events = self.results["sorted"]
        _, shuffled_state, shuffled_summary, shuffled_events = self.results["shuffled"]
        self.assertNotEqual(sorted_events.read_bytes(), shuffled_events.read_bytes())
        self.assertEqual(sorted_state, shuffled_state)
        self.assertEqual(sorted_summary, shuffled_summary)

    def test_command_line(self):
        _, state, summary, events = self.results["sorted"]
        out = Path(self.tmp.name) / "cli.state"
        summ = Path(self.tmp.name) / "cli.summary.json"
        subprocess.run([sys.executable, str(HERE / "r1_reference.py"), str(events),
                        "--out", str(out), "--summary", str(summ)], check=True)
        self.assertEqual(out.read_bytes(), state)
        self.assertEqual(json.loads(summ.read_text()), summary)

    def test_output_shape(self):
        _, state, _, _ = self.results["sorted"]
        lines = state.decode("utf-8").splitlines()
        self.assertEqual(lines, sorted(lines, key=lambda l: json.loads(l)["contact"].encode()))
        for l in lines:
            rec = json.loads(l)
            self.assertEqual(list(rec), ["contact", "general_interest", "medical_interest",
                                         "fit", "segments"])
            self.assertEqual(rec["segments"], sorted(rec["segments"]))
            self.assertEqual(l, json.dumps(rec, ensure_ascii=False, separators=(",", ":")))


if __name__ == "__main__":
    unittest.main()
