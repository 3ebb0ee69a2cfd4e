#!/usr/bin/env python3
"""maclc against DuckDB on R1: the same job, timed side by side, outputs compared.

Run through benches/duckdb/run.sh, which makes the venv with DuckDB first:

    bash benches/duckdb/run.sh            # self-checks, then the 1M-line file
    bash benches/duckdb/run.sh --quick    # self-checks only
    bash benches/duckdb/run.sh --profile  # r1.sql statement by statement, 1 thread

1. Self-checks: the small sample `examples/reference-r1/events.sample.jsonl` (DuckDB and maclc
   against `state.sample.jsonl`), and the edge cases written by make_edge.py (DuckDB against the
   independent Python reference `tests/reference/r1_reference.py`, summary included).
2. The run bench's file, `target/bench-run/events-25000c-1000000e.jsonl` (generated when
   missing, as benches/run.rs does): `maclc run examples/reference-r1 --events FILE --state-out
   …` three times, and `r1.sql` three times with 1 thread and three times with all cores, each
   as a child process (wall time and peak memory from the kernel, `wait4`).
3. The per-contact general_interest, medical_interest, fit and segments of every contact, and
   the summaries (lines, skipped per reason, contacts, as-of time, segment sizes), compared
   between DuckDB and maclc: OK, or the first differences and exit status 1.

It needs the duckdb Python package (run.sh installs it) and cargo for the release build.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SQL = HERE / "r1.sql"
PROJECT = ROOT / "examples" / "reference-r1"
CONTACTS, EVENTS = 25000, 1_000_000
RUNS = 3
SEGMENTS = ("mql", "undecided", "pricing_hot", "dormant")
REASONS = ("invalid_utf8", "too_long", "invalid_json", "not_object", "missing_timestamp",
           "bad_timestamp", "unknown_type", "missing_identity", "unknown_event",
           "wrong_property_type")


def sql_text(events: Path, state_out: Path, summary_out: Path) -> str:
    quote = lambda p: str(p).replace("'", "''")  # noqa: E731 — SQL string literal
    return (SQL.read_text(encoding="utf-8")
            .replace("{{events}}", quote(events))
            .replace("{{state_out}}", quote(state_out))
            .replace("{{summary_out}}", quote(summary_out)))


def duckdb_job(events: str, state_out: str, summary_out: str, threads: str) -> int:
    """The child: one run of r1.sql in a fresh in-memory database; prints its query time."""
    import duckdb

    con = duckdb.connect(config={"threads": int(threads)})
    start = time.perf_counter()
    con.execute(sql_text(Path(events), Path(state_out), Path(summary_out)))
    print(f"{time.perf_counter() - start:.6f}")
    return 0


def profile(events: Path, out_dir: Path) -> int:
    """`--profile`: r1.sql statement by statement on one thread, each statement's time."""
    import duckdb

    con = duckdb.connect(config={"threads": 1})
    text = sql_text(events, out_dir / "profile-state.jsonl", out_dir / "profile-summary.json")
    total = 0.0
    print("| statement (r1.sql, 1 thread) | time |\n|---|---|")
    for statement in duckdb.extract_statements(text):
        start = time.perf_counter()
        con.execute(statement)
        took = time.perf_counter() - start
        total += took
        if took >= 0.05:
            head = " ".join(statement.query.split())[:60]
            print(f"| `{head}…` | {took:.2f} s |")
    print(f"| all statements | {total:.2f} s |")
    return 0


def timed_child(argv: list[str], stderr_to: Path | None = None) -> tuple[float, float, int, str]:
    """Run a child; return wall seconds, CPU seconds (user + system) and max RSS in KiB, all
    from the kernel's wait4, and its stdout."""
    err = open(stderr_to, "wb") if stderr_to else subprocess.DEVNULL
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err, cwd=ROOT)
    out = proc.stdout.read() if proc.stdout else b""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if stderr_to:
        err.close()
    if proc.returncode != 0:
        detail = stderr_to.read_text(errors="replace")[-2000:] if stderr_to else ""
        sys.exit(f"failed ({proc.returncode}): {' '.join(argv)}\n{detail}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, out.decode()


def run_duckdb(events: Path, out_dir: Path, threads: int) -> tuple[float, float, int, float, Path, Path]:
    state, summary = out_dir / f"duckdb-state-{threads}t.jsonl", out_dir / f"duckdb-summary-{threads}t.json"
    wall, cpu, rss, out = timed_child([sys.executable, str(Path(__file__).resolve()), "--duckdb-job",
                                  str(events), str(state), str(summary), str(threads)],
                                 stderr_to=out_dir / "duckdb.stderr")
    return wall, cpu, rss, float(out.strip().splitlines()[-1]), state, summary


def run_maclc(binary: Path, events: Path, out_dir: Path,
              threads: int | None = None) -> tuple[float, float, int, Path, Path]:
    """`maclc run` as a user types it (the run store in its default folder), on `threads`."""
    state, stderr = out_dir / "maclc-state.jsonl", out_dir / "maclc.stderr"
    extra = ["--threads", str(threads)] if threads else []
    wall, cpu, rss, _ = timed_child([str(binary), "run", str(PROJECT), "--events", str(events),
                                "--state-out", str(state), *extra], stderr_to=stderr)
    return wall, cpu, rss, state, stderr


def maclc_summary(stderr: Path) -> dict:
    """The numbers of `maclc run`'s summary on stderr, under R1's names."""
    text = stderr.read_text(encoding="utf-8", errors="replace")
    summary: dict = {reason: 0 for reason in REASONS}
    patterns = {
        "lines_read": r"^lines read: (\d+)", "valid_records": r"^valid records: (\d+)",
        "contacts": r"^contacts: (\d+)",
        "anonymous_records_left_out": r"^anonymous records left out[^:]*: (\d+)",
    }
    for key, pattern in patterns.items():
        m = re.search(pattern, text, re.M)
        summary[key] = int(m.group(1)) if m else None
    m = re.search(r"^as of: (\S+)", text, re.M)
    summary["as_of"] = m.group(1) if m else None
    for reason in REASONS:
        m = re.search(rf"^  {reason}: (\d+)", text, re.M)
        if m:
            summary[reason] = int(m.group(1))
    sizes = text.split("segment sizes:", 1)[-1]
    for seg in SEGMENTS:
        m = re.search(rf"^  {seg}: (\d+)", sizes, re.M)
        summary[seg] = int(m.group(1)) if m else None
    return summary


def reference_summary(path: Path) -> dict:
    """The Python reference's summary JSON, flattened to the DuckDB summary's keys."""
    ref = json.loads(path.read_text(encoding="utf-8"))
    flat = {k: ref[k] for k in ("lines_read", "valid_records", "contacts",
                                "anonymous_records_left_out", "as_of")}
    flat.update(ref["skipped"])
    flat.update(ref["segments"])
    return flat


def read_state(path: Path) -> dict[str, tuple]:
    state = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        state[row["contact"]] = (row["general_interest"], row["medical_interest"], row["fit"],
                                 tuple(row["segments"]))
    return state


def compare(label: str, a_name: str, a_state: Path, a_summary: dict,
            b_name: str, b_state: Path, b_summary: dict) -> bool:
    """Every contact's scores and segments, and the summaries; prints OK or the differences."""
    a, b = read_state(a_state), read_state(b_state)
    problems = []
    for contact in sorted(set(a) | set(b)):
        if a.get(contact) != b.get(contact):
            problems.append(f"contact {contact}: {a_name} {a.get(contact)} / {b_name} {b.get(contact)}")
    for key in sorted(set(a_summary) | set(b_summary)):
        if a_summary.get(key) != b_summary.get(key):
            problems.append(f"summary {key}: {a_name} {a_summary.get(key)} / {b_name} {b_summary.get(key)}")
    if problems:
        print(f"{label}: DIFFERENT ({len(problems)} differences; the first ones:)")
        for p in problems[:10]:
            print("   ", p)
        return False
    said = f"{label}: OK, {len(a):,} contacts with identical scores, fit and segments"
    if a_summary:
        sizes = ", ".join(f"{s} {a_summary[s]:,}" for s in SEGMENTS)
        said += f"; identical summaries (segment sizes: {sizes})"
    print(said)
    return True


def events_file() -> Path | None:
    """The run bench's file (benches/support/mod.rs), generated once when missing."""
    out_dir = ROOT / "target" / "bench-run"
    file = out_dir / f"events-{CONTACTS}c-{EVENTS}e.jsonl"
    if file.is_file():
        return file
    workload = Path(os.environ.get("MACLC_WORKLOAD_DIR", ROOT.parent / "shared" / "workload"))
    generator = workload / "gen_events.py"
    if not generator.is_file():
        print(f"skipped: no generator at {generator} (set MACLC_WORKLOAD_DIR)")
        return None
    out_dir.mkdir(parents=True, exist_ok=True)
    partial = out_dir / "events.partial"
    print(f"generating {file} (once)…", flush=True)
    subprocess.run(["python3", str(generator), "--contacts", str(CONTACTS), "--events",
                    str(EVENTS), "--out", str(partial)], check=True)
    partial.rename(file)
    return file


def maclc_binary() -> Path:
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    if not target.is_absolute():
        target = ROOT / target
    print("building maclc (release)…", flush=True)
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "maclc"], cwd=ROOT, check=True)
    return target / "release" / "maclc"


def median(xs: list[float]) -> float:
    return sorted(xs)[len(xs) // 2]


def self_checks(binary: Path, out_dir: Path) -> bool:
    ok = True
    # The sample, against the state file committed beside it.
    sample = PROJECT / "events.sample.jsonl"
    *_, d_state, d_summary = run_duckdb(sample, out_dir, 1)
    *_, m_state, m_stderr = run_maclc(binary, sample, out_dir)
    d_sum = json.loads(d_summary.read_text(encoding="utf-8"))
    ok &= compare("sample: DuckDB vs state.sample.jsonl", "duckdb", d_state, {},
                  "expected", PROJECT / "state.sample.jsonl", {})
    ok &= compare("sample: DuckDB vs maclc", "duckdb", d_state, d_sum,
                  "maclc", m_state, maclc_summary(m_stderr))
    # Hand-made edge cases, against the independent Python reference of R1.
    edge = out_dir / "edge.jsonl"
    subprocess.run([sys.executable, str(HERE / "make_edge.py"), str(edge)], check=True)
    ref_state, ref_summary = out_dir / "reference-edge-state.jsonl", out_dir / "reference-edge-summary.json"
    subprocess.run(["python3", str(ROOT / "tests" / "reference" / "r1_reference.py"), str(edge),
                    "--out", str(ref_state), "--summary", str(ref_summary)], check=True)
    *_, d_state, d_summary = run_duckdb(edge, out_dir, 1)
    ok &= compare("edge cases: DuckDB vs tests/reference/r1_reference.py", "duckdb", d_state,
                  json.loads(d_summary.read_text(encoding="utf-8")),
                  "reference", ref_state, reference_summary(ref_summary))
    return ok


def main(argv: list[str]) -> int:
    if argv[:1] == ["--duckdb-job"]:
        return duckdb_job(*argv[1:5])
    if argv[:1] == ["--profile"]:
        events = events_file()
        return profile(events, ROOT / "target" / "bench-duckdb") if events else 0
    quick = "--quick" in argv
    out_dir = ROOT / "target" / "bench-duckdb"
    out_dir.mkdir(parents=True, exist_ok=True)
    import duckdb

    binary = maclc_binary()
    print(f"duckdb {duckdb.__version__}, python {sys.version.split()[0]}, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}", flush=True)
    if not self_checks(binary, out_dir):
        return 1
    if quick:
        return 0
    events = events_file()
    if events is None:
        return 0
    lines = sum(1 for _ in open(events, "rb"))
    size = events.stat().st_size
    cores = os.cpu_count() or 1
    print(f"input: {events.relative_to(ROOT)}, {lines:,} lines, {size / 1e6:.1f} MB", flush=True)

    rows = []
    for threads in (1, cores):
        m_walls, m_cpus, m_rss = [], [], []
        for _ in range(RUNS):
            wall, cpu, rss, m_state, m_stderr = run_maclc(binary, events, out_dir, threads)
            m_walls.append(wall)
            m_cpus.append(cpu)
            m_rss.append(rss)
        rows.append((f"`maclc run --threads {threads}`", m_walls, m_cpus, None, max(m_rss)))
    d_outputs = {}
    for threads in (1, cores):
        walls, cpus, queries, rss_all = [], [], [], []
        for _ in range(RUNS):
            wall, cpu, rss, query, d_state, d_summary = run_duckdb(events, out_dir, threads)
            walls.append(wall)
            cpus.append(cpu)
            queries.append(query)
            rss_all.append(rss)
        d_outputs[threads] = (d_state, d_summary)
        rows.append((f"DuckDB `r1.sql`, threads={threads}", walls, cpus, queries, max(rss_all)))
    print(f"load average after: {os.getloadavg()[0]:.2f}")

    print()
    print("| run | wall, median of 3 (runs) | best | SQL only, median | CPU time, median | "
          "events/s (median) | MB/s (median) | peak memory |")
    print("|---|---|---|---|---|---|---|---|")
    for name, walls, cpus, queries, rss in rows:
        w = median(walls)
        runs = ", ".join(f"{x:.2f}" for x in walls)
        q = f"{median(queries):.2f} s" if queries else "—"
        print(f"| {name} | {w:.2f} s ({runs}) | {min(walls):.2f} s | {q} | {median(cpus):.2f} s | "
              f"{lines / w:,.0f} | {size / 1e6 / w:.1f} | {rss / 1024:,.0f} MiB |")
    print()
    m_sum = maclc_summary(m_stderr)
    ok = True
    for threads, (d_state, d_summary) in d_outputs.items():
        ok &= compare(f"1M lines: DuckDB (threads={threads}) vs maclc", "duckdb", d_state,
                      json.loads(d_summary.read_text(encoding="utf-8")), "maclc", m_state, m_sum)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
