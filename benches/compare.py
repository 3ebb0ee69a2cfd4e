#!/usr/bin/env python3
"""Issue 7's one table: native code, `maclc run` and DuckDB side by side, against the targets.

Runs the three benchmarks that measure each part, keeps their whole output, and prints one
table of the figures the issue asks for, each with its target and whether it is met:

    python3 benches/compare.py           # runs the three benchmarks (about 10 minutes)
    python3 benches/compare.py --saved   # the table again from the last saved outputs

1. per-event cost, events decoded in memory: `cargo bench --bench jit`;
2. end to end over the JSON Lines file, one thread and every core: `cargo bench --bench run`;
3. DuckDB on the same job, outputs compared: `bash benches/duckdb/run.sh`;
4. Cranelift compile time (`--bench jit`) and bytes of state per contact (`--bench run`).

The outputs are saved in `target/bench-compare/`. Each benchmark explains its own figures; this
script only gathers them, and says which figure it could not find rather than guessing.
"""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAVED = ROOT / "target" / "bench-compare"
BENCHES = {
    "jit": ["cargo", "bench", "--bench", "jit"],
    "run": ["cargo", "bench", "--bench", "run"],
    "duckdb": ["bash", "benches/duckdb/run.sh"],
}


def run_benches() -> None:
    SAVED.mkdir(parents=True, exist_ok=True)
    for name, command in BENCHES.items():
        print(f"running `{' '.join(command)}`…", file=sys.stderr, flush=True)
        done = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        (SAVED / f"{name}.txt").write_text(done.stdout, encoding="utf-8")
        if done.returncode != 0:
            print(f"`{' '.join(command)}` failed (exit {done.returncode}); "
                  f"its output is in {SAVED / (name + '.txt')}", file=sys.stderr)


def rows(text: str) -> list[list[str]]:
    """The cells of every Markdown table row in a benchmark's output."""
    return [[c.strip() for c in line.strip().strip("|").split("|")]
            for line in text.splitlines() if line.startswith("| ")]


def cell(table: list[list[str]], label: str, column: int = 1) -> str | None:
    """The cell of the first row whose first cell starts with `label`."""
    for row in table:
        if row and row[0].startswith(label) and len(row) > column:
            return row[column]
    return None


def number(text: str | None, pattern: str = r"([\d,]+(?:\.\d+)?)") -> float | None:
    if text is None:
        return None
    m = re.search(pattern, text)
    return float(m.group(1).replace(",", "")) if m else None


def main() -> int:
    if "--saved" not in sys.argv[1:]:
        run_benches()
    texts = {}
    for name in BENCHES:
        path = SAVED / f"{name}.txt"
        texts[name] = path.read_text(encoding="utf-8") if path.exists() else ""
    jit, run, duck = rows(texts["jit"]), rows(texts["run"]), rows(texts["duckdb"])

    out: list[tuple[str, str, str, str]] = []
    missing: list[str] = []

    def add(measure: str, value: str | None, target: str = "", met: bool | None = None) -> None:
        if value is None:
            missing.append(measure)
            value, met = "not found", None
        out.append((measure, value, target, "" if met is None else ("met" if met else "missed")))

    interp = number(cell(jit, "rule kernel, interpreter"))
    native = number(cell(jit, "rule kernel, native"))
    hand = number(cell(jit, "rule kernel, hand-written"))
    add("1. per event, interpreter", interp and f"{interp:.1f} ns")
    add("1. per event, native code (Cranelift)", native and f"{native:.1f} ns")
    add("1. per event, hand-written Rust", hand and f"{hand:.1f} ns")
    if interp and native:
        add("1. interpreter / native", f"{interp / native:.2f}×", "≥ 8×", interp / native >= 8)
    if native and hand:
        add("1. native / hand-written", f"{native / hand:.2f}×", "≤ 1.2×", native / hand <= 1.2)
    same = cell(jit, "the three point totals are equal")
    add("1. the three point totals are equal", same and same.split(" ")[0])

    one = number(cell(run, "1 thread: events/s"))
    one_mb = number(cell(run, "1 thread: MB/s"))
    add("2. `maclc run --no-state`, 1 thread", one and f"{one:,.0f} events/s, {one_mb:.1f} MB/s",
        "≥ 1,000,000 events/s (aim 2M)", one is not None and one >= 1e6)
    one_cpu = cell(run, "1 thread: CPU time")
    add("2. the same, per CPU-second", one_cpu and one_cpu.split("(")[-1].rstrip(")"))
    all_label = next((r[0].split(":")[0] for r in run if "(all cores): events/s" in r[0]), None)
    every = number(cell(run, f"{all_label}: events/s")) if all_label else None
    every_mb = number(cell(run, f"{all_label}: MB/s")) if all_label else None
    add(f"2. `maclc run --no-state`, {all_label or 'all cores'}",
        every and f"{every:,.0f} events/s, {every_mb:.1f} MB/s")
    default = cell(run, "by default")
    add("2. `maclc run` as typed (every core, run store), wall", default and default.split(" (")[0])

    duck_rows = {r[0]: r for r in duck if r[0].startswith("DuckDB") or r[0].startswith("`maclc")}
    maclc_one = next((r for k, r in duck_rows.items() if k.startswith("`maclc run --threads 1")),
                     None)
    duck_one = next((r for k, r in duck_rows.items() if k.endswith("threads=1")), None)
    duck_all = next((r for k, r in duck_rows.items()
                     if k.startswith("DuckDB") and not k.endswith("threads=1")), None)
    for label, row in (("3. DuckDB `r1.sql`, 1 thread", duck_one),
                       ("3. DuckDB `r1.sql`, every core", duck_all)):
        add(label, row and f"{row[1].split(' (')[0]} wall, {row[4]} CPU, {row[5]} events/s")
    if maclc_one and duck_one:
        m_wall, d_wall = number(maclc_one[1]), number(duck_one[1])
        if m_wall and d_wall:
            add("3. DuckDB wall / `maclc run` wall, 1 thread each", f"{d_wall / m_wall:.2f}×",
                "> 1× (aim 2×)", d_wall / m_wall > 1)
    verdicts = re.findall(r"^1M lines: (DuckDB \(threads=\d+\)) vs maclc: (OK|DIFFERENT)",
                          texts["duckdb"], re.M)
    add("3. outputs compared (every contact and the summary, DuckDB vs maclc)",
        "; ".join(f"{who}: {verdict}" for who, verdict in verdicts) or None,
        "identical", bool(verdicts) and all(v == "OK" for _, v in verdicts))

    compile_each = cell(jit, "Cranelift compile time per condition")
    worst = number(compile_each, r"max ([\d,.]+)")
    add("4. Cranelift compile time per condition", compile_each, "< 200 µs per rule",
        worst is not None and worst < 200)
    add("4. Cranelift compile time, whole program",
        cell(jit, "Cranelift compile time, whole program"))
    add("4. state per contact, as stored", cell(run, "contact state as stored"))

    print("| measure | value | target | |")
    print("|---|---|---|---|")
    for measure, value, target, met in out:
        print(f"| {measure} | {value} | {target} | {met} |")
    if missing:
        print(f"\nnot found in the saved outputs ({SAVED}): " + "; ".join(missing))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
