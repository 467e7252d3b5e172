"""Dashboard speed: each page's script run on a store of 50,000 claims, cold and warm.

Builds (or reuses) a synthetic store with `make_store.py` (50,000 claims, 250,000 reports, 2,000
sources by default), points the dashboard at it, and runs every page with Streamlit's AppTest:
once cold (first run in this process: caches empty) and then warm (best of `--repeat` further
runs, caches filled), which is what a user clicking around pays. Prints seconds per page beside a
floor measured in the same run: `SELECT count(*) FROM report` on the same store.

    python benchmarks/bench_dashboard.py
    python benchmarks/bench_dashboard.py --claims 10000 --reports 50000 --sources 500
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
sys.path.insert(0, str(HERE))

import make_store

PAGES = {  # page file -> query parameters it is opened with
    "overview.py": {}, "log_claim.py": {}, "claims.py": {}, "review.py": {}, "sources.py": {},
    "calibration.py": {}, "import_export.py": {}, "claim.py": {"claim": "1"}, "source.py": {"source": "1"},
}


def run_page(app, name: str, params: dict) -> tuple[float, bool]:
    """Seconds for one run of the page (through the dashboard's navigation), and whether it raised."""
    app.switch_page(f"app_pages/{name}")
    app.query_params.clear()
    for key, value in params.items():
        app.query_params[key] = value
    started = time.perf_counter()
    app.run()
    return time.perf_counter() - started, bool(app.exception)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=make_store.DATA / "dashboard.db")
    parser.add_argument("--sources", type=int, default=2_000)
    parser.add_argument("--claims", type=int, default=50_000)
    parser.add_argument("--reports", type=int, default=250_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    if not args.db.exists():
        args.db.parent.mkdir(parents=True, exist_ok=True)
        make_store.write_store(make_store.make_world(args.sources, args.claims, args.reports), args.db)
    os.environ["TRACKER_DATABASE_URL"] = f"sqlite:///{args.db}"
    os.chdir(REPO)

    with sqlite3.connect(args.db) as connection:
        started = time.perf_counter()
        connection.execute("SELECT count(*) FROM report").fetchone()
        floor = time.perf_counter() - started
        claims = connection.execute("SELECT count(*) FROM claim").fetchone()[0]

    print(f"dashboard benchmark: {claims:,} claims in {args.db.name} ({time.strftime('%Y-%m-%d')}); "
          f"floor: count(*) of reports {floor * 1000:.1f} ms")
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=120)
    started = time.perf_counter()
    app.run()
    print(f"first run of the dashboard (opens the store): {time.perf_counter() - started:.2f} s")
    print(f"{'page':<18}{'cold s':>9}{'warm s':>9}{'warm x floor':>14}")
    for name, params in PAGES.items():
        cold, failed = run_page(app, name, params)
        warm = min(run_page(app, name, params)[0] for _ in range(args.repeat))
        flag = "  (raised!)" if failed else ""
        print(f"{name:<18}{cold:>9.2f}{warm:>9.2f}{warm / floor:>14.0f}{flag}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
