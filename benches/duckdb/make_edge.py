#!/usr/bin/env python3
"""Write R1's edge cases as a JSON Lines file: `python3 make_edge.py OUT.jsonl`.

One line per trap of shared/workload/R1.md that the generator never writes, or rarely: alias
chains and a later alias of the same previousId, an anonymousId claimed by two userIds, caps
across a UTC day crossed by an offset and an ISO week, the "Headhunter" / "Vice-President"
titles, `ſ` folding to `s`, a 30-digit company size, timestamps cut below the millisecond, and
every reject reason with its near misses (NaN, a trailing comma, a lone surrogate, a byte order
mark, an empty line, 2026-02-29, hour 24, `12.0` where an integer is due, …).
bench.py runs r1.sql and tests/reference/r1_reference.py over it and requires the same output.
"""
import json
import sys
L=[]
def rec(**k): return json.dumps(k, ensure_ascii=False, separators=(',',':'))
tr=lambda **x: {"email":"a@b.example","first_name":"Łukasz","country":"DE","timezone":"Europe/Berlin","consent":{"email":"granted","sms":"unknown"},"unsubscribed":False,"blocklisted":False, **x}
ts=lambda d,h: f"2026-03-{d:02d}T{h:02d}:00:00.000Z"
# identities: alias chain crm-1 -> user-a -> user-b ; anon claimed by two users
L.append(rec(type="identify",userId="crm-1",traits=tr(job_title="Head of Procurement",company={"id":"acc-1","name":"X"},company_size=500),timestamp=ts(1,9),messageId="m01"))
L.append(rec(type="alias",previousId="crm-1",userId="user-a",timestamp=ts(1,10),messageId="m02"))
L.append(rec(type="alias",previousId="user-a",userId="user-b",timestamp=ts(1,11),messageId="m03"))
L.append(rec(type="alias",previousId="crm-1",userId="user-z",timestamp=ts(1,12),messageId="m04"))
L.append(rec(type="page",anonymousId="anon-1",name=None,properties={"path":"/products/general/x","url":"u"},timestamp=ts(2,8),messageId="m05"))
for h in range(9,14):
    L.append(rec(type="page",anonymousId="anon-1",properties={"path":"/products/general","url":"u"},timestamp=f"2026-03-02T{h:02d}:30:00+01:00",messageId=f"p{h}"))
L.append(rec(type="identify",userId="user-c",anonymousId="anon-1",traits=tr(job_title="Headhunter",email="x@competitor.example",budget=12),timestamp=ts(3,8),messageId="m06"))
L.append(rec(type="identify",userId="user-d",anonymousId="anon-1",traits=tr(job_title="Vice-President Sales"),timestamp=ts(4,8),messageId="m07"))
L.append(rec(type="identify",userId="user-c",traits=tr(job_title="VP ſales purchasing",company_size=10**30),timestamp="2026-03-05T08:00:00.123999-05:30",messageId="m08"))
for d in (2,3,8,9,10):  # jobs weekly cap: 2026-03-02 is Monday
    L.append(rec(type="page",userId="user-d",properties={"path":"/jobs/x","url":"u"},timestamp=ts(d,23),messageId=f"j{d}"))
for i,d in enumerate((20,21,22,22)):
    L.append(rec(type="track",event="Demo Requested",userId="user-b",properties={"product_line":"medical"},timestamp=ts(d,9+i),messageId=f"d{i}"))
    L.append(rec(type="page",userId="user-b",properties={"path":"/pricing","url":"u"},timestamp=ts(d,10+i),messageId=f"q{i}"))
L.append(rec(type="track",event="Unsubscribed",userId="user-e",properties={"channel":"sms"},timestamp="2024-02-29T23:59:59.9Z",messageId="m09"))
L.append(rec(type="track",event="Checkout Started",userId="user-e",properties={"cart_id":"c","value":1e3,"extra":[1]},timestamp=ts(6,1),messageId="m10"))
# rejects
L.append('{"type":"page","userId":"u","properties":{"path":"/x","url":"u"},"timestamp":"2026-03-01T00:00:00Z","messageId":"x","v":NaN}')
L.append('{"type":"page","userId":"u","properties":{"path":"/x","url":"u",},"timestamp":"2026-03-01T00:00:00Z","messageId":"x"}')
L.append('{"type":"page","userId":"u","properties":{"path":"/x, ]","url":"NaN"},"timestamp":"2026-03-01T00:00:01Z","messageId":"ok-with-tricky-strings"}')
L.append('{"a":"\\ud800"}')
L.append('\ufeff{"a":1}')
L.append('')
L.append('  ')
L.append('Infinity')
L.append('"just a string"')
L.append('[{"type":"page"}]')
L.append('null')
L.append(rec(type="page",userId="u",properties={"path":"/x","url":"u"},timestamp=None,messageId="x"))
for bad in ["2026-02-29T00:00:00Z","2026-03-01T24:00:00Z","2026-03-01T00:60:00Z","2026-03-01T00:00:00+24:00","2026-03-01T00:00:00","2026-03-01 00:00:00Z","2026-03-01T00:00:00.Z","２026-03-01T00:00:00Z",20260301]:
    L.append(rec(type="page",userId="u",properties={"path":"/x","url":"u"},timestamp=bad,messageId="x"))
L.append(rec(type="screen",userId="u",timestamp=ts(1,1),messageId="x"))
L.append(rec(type=1,userId="u",timestamp=ts(1,1),messageId="x"))
L.append(rec(type="page",userId="",anonymousId=7,properties={"path":"/x","url":"u"},timestamp=ts(1,1),messageId="x"))
L.append(rec(type="alias",previousId="p",timestamp=ts(1,1),messageId="x"))
L.append(rec(type="track",event="demo requested",userId="u",properties={},timestamp=ts(1,1),messageId="x"))
L.append(rec(type="track",event="Demo Requested",userId="u",properties={"product_line":"General"},timestamp=ts(1,1),messageId="x"))
L.append(rec(type="track",event="Order Completed",userId="u",properties={"order_id":"o","cart_id":"c","revenue":"12,50"},timestamp=ts(1,1),messageId="x"))
L.append(rec(type="page",userId="u",properties={"path":"x","url":"u"},timestamp=ts(1,1),messageId="x"))
L.append(rec(type="page",userId="u",name=5,properties={"path":"/x","url":"u"},timestamp=ts(1,1),messageId="x"))
L.append(rec(type="identify",userId="u",traits=tr(company_size=12.0),timestamp=ts(1,1),messageId="x"))
L.append(rec(type="identify",userId="u",traits=tr(budget=1e3),timestamp=ts(1,1),messageId="x"))
L.append(rec(type="identify",userId="u",traits=tr(birthday="2026-02-29"),timestamp=ts(1,1),messageId="x"))
L.append(rec(type="identify",userId="u",traits=tr(company={"id":"a"}),timestamp=ts(1,1),messageId="x"))
L.append(rec(type="identify",userId="u",traits=dict(tr(),consent={"email":"yes","sms":"unknown"}),timestamp=ts(1,1),messageId="x"))
L.append(rec(type="identify",userId="u2",traits=tr(birthday="2024-02-29",job_title=None,company=None),timestamp=ts(1,2),messageId="x"))
# nested members that are not objects, and empty objects
L.append(rec(type="page",userId="u",properties=["/x"],timestamp=ts(1,1),messageId="x"))
L.append(rec(type="track",event="Webinar Attended",userId="u",properties={},timestamp=ts(1,1),messageId="x"))
L.append(rec(type="identify",userId="u",traits="x",timestamp=ts(1,1),messageId="x"))
L.append(rec(type="identify",userId="u",traits=dict(tr(),consent=["granted"]),timestamp=ts(1,1),messageId="x"))
L.append(rec(type="identify",userId="u",traits=tr(company=5),timestamp=ts(1,1),messageId="x"))
L.append(rec(type="identify",userId="u",traits=tr(company={}),timestamp=ts(1,1),messageId="x"))
L.append(rec(type="page",userId="u3",properties={"path":"/medical","url":"u","name":3},timestamp=ts(1,1),messageId="x"+"y"*33000))
data="\n".join(L).encode()+b"\n"
data+=b'{"type":"page","userId":"u","name":"Jos\xe9","properties":{"path":"/x","url":"u"},"timestamp":"2026-03-01T00:00:00Z","messageId":"x"}\n'
with open(sys.argv[1], "wb") as out:
    out.write(data)
