#!/usr/bin/env bash
# maclc against DuckDB on R1 (docs/performance.md, "Against DuckDB"): makes a venv under
# target/ with DuckDB from PyPI, then runs bench.py (self-checks, then the 1M-line file).
#   bash benches/duckdb/run.sh [--quick]
# DUCKDB_VERSION picks another DuckDB release (default: the one the figures were made with).
# Without python3, venv, pip or network it says so and exits 0: DuckDB is not needed to build.
set -euo pipefail
cd "$(dirname "$0")/../.."
version="${DUCKDB_VERSION:-2.0.0}"
venv=target/duckdb-venv
skip() { echo "skipped: $*"; exit 0; }
command -v python3 >/dev/null || skip "no python3"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" 2>/dev/null || { rm -rf "$venv"; skip "python3 cannot make a venv (install python3-venv)"; }
fi
if ! "$venv/bin/python" -c "import duckdb, sys; sys.exit(duckdb.__version__ != '$version')" 2>/dev/null; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "duckdb==$version" \
        || skip "cannot install duckdb==$version from PyPI (no pip or no network)"
fi
exec "$venv/bin/python" benches/duckdb/bench.py "$@"
