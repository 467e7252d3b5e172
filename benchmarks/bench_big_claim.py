"""One claim carried by very many reports: the claim page's script run, and the reads behind it.

Builds (or reuses) a store whose claim #1 has `--reports` reports (100,000 by default) from
`--sources` sources, then times, in one process: `Ledger.get_claim(1)`, the claim page run
through the dashboard's navigation with Streamlit's AppTest (cold, then the best of `--repeat`
warm runs). Run it under `/usr/bin/time -v` for whole-process figures:

    python benchmarks/bench_big_claim.py
    /usr/bin/time -v python benchmarks/bench_big_claim.py --repeat 1
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))


def build(db: Path, reports: int, sources: int) -> None:
    """A store with one claim carried by `reports` reports from `sources` sources (raw inserts, seconds)."""
    from tracker.ledger import Ledger

    ledger = Ledger.open(str(db))
    ledger.log_claim("The convoy left eastern Aleppo", reports=[
        {"source": "Source 0", "stance": "rumoured", "reported_at": "2016-12-13 08:00"}])
    ledger.engine.dispose()
    with sqlite3.connect(db) as connection:
        connection.executemany("INSERT INTO source (name, name_key, kind, created_at, version) "
                               "SELECT ?, ?, kind, created_at, 1 FROM source WHERE id = 1",
                               [(f"Source {n}", f"source {n}") for n in range(1, sources)])
        stances = ("rumoured", "confirmed", "denied")
        connection.executemany(
            "INSERT INTO report (claim_id, source_id, stance, reported_at, logged_at, version, ref) "
            "SELECT 1, ?, ?, datetime(reported_at, ?), logged_at, 1, ? FROM report WHERE id = 1",
            [(1 + n % sources, stances[n % 3], f"+{n} seconds", f"r-{n}") for n in range(1, reports)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=HERE / ".data" / "big-claim.db")
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--sources", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    if not args.db.exists():
        args.db.parent.mkdir(parents=True, exist_ok=True)
        build(args.db, args.reports, args.sources)
    os.environ["TRACKER_DATABASE_URL"] = f"sqlite:///{args.db}"
    os.chdir(REPO)

    from streamlit.testing.v1 import AppTest

    from tracker.ledger import Ledger

    started = time.perf_counter()
    view = Ledger.open(str(args.db)).get_claim(1)
    print(f"claim #1: {len(view.reports):,} reports; get_claim {time.perf_counter() - started:.2f} s")
    app = AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=600)
    times = []
    for _ in range(1 + args.repeat):
        app.switch_page("app_pages/claim.py")
        app.query_params.clear()
        app.query_params["claim"] = "1"
        started = time.perf_counter()
        app.run()
        times.append(time.perf_counter() - started)
        if app.exception:
            print("the page raised:", app.exception[0].message, *app.exception[0].stack_trace[-3:])
    print(f"claim page: cold {times[0]:.2f} s, warm {min(times[1:] or times):.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
