"""Import speed: `tracker import` of a large CSV beside the floors measured in the same run.

Writes the synthetic world of `make_store.py` as interchange CSV (1,000,000 reports over 200,000
claims and 5,000 sources by default), then times, each in this one process after start-up:

- `tracker.interchange.import_file` into an empty SQLite store (the whole import: reading,
  parsing dates, checking every row, writing in one transaction);
- the same file imported again (nothing to add: every report is found already present);
- the store's own export imported again (every row names its report by `report_ref`, and is
  compared with it field by field: nothing changes);
- floors: sqlite3's own `.import` of the same CSV into an empty table (no checks, no indexes),
  and Python's csv module reading the file (no checks, no writes).

Prints reports per second and the ratio to each floor, and the process's peak memory.

    python benchmarks/bench_import.py                 # the full size (about a minute)
    python benchmarks/bench_import.py --reports 100000 --claims 20000 --sources 1000
"""

from __future__ import annotations

import argparse
import csv
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import make_store

from tracker.interchange import export_file, import_file
from tracker.ledger import Ledger


def timed(step) -> tuple[float, object]:
    """Run `step()`; return (seconds, result)."""
    started = time.perf_counter()
    result = step()
    return time.perf_counter() - started, result


def sqlite_import_floor(csv_path: Path, scratch: Path) -> float | None:
    """Seconds for the sqlite3 CLI to `.import` the CSV into an empty table (None without the CLI)."""
    cli = shutil.which("sqlite3")
    if cli is None:
        return None
    db = scratch / "floor.db"
    script = f".mode csv\n.import {csv_path} report_csv\n"
    started = time.perf_counter()
    subprocess.run([cli, str(db)], input=script, text=True, check=True, capture_output=True)
    return time.perf_counter() - started


def csv_read_floor(csv_path: Path) -> float:
    """Seconds for Python's csv module to read every row of the file."""
    started = time.perf_counter()
    with open(csv_path, newline="", encoding="utf-8") as stream:
        for _ in csv.reader(stream):
            pass
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, default=5_000)
    parser.add_argument("--claims", type=int, default=200_000)
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2016)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="tracker-bench-") as tmp:
        scratch = Path(tmp)
        csv_path = scratch / "reports.csv"
        world = make_store.make_world(args.sources, args.claims, args.reports, args.seed)
        make_store.write_csv(world, csv_path)
        reports = len(world.report_claim)
        del world
        ledger = Ledger.open(str(scratch / "store" / "tracker.db"))

        floor_sqlite = sqlite_import_floor(csv_path, scratch)
        floor_csv = csv_read_floor(csv_path)
        first, summary = timed(lambda: import_file(ledger, csv_path))
        again, repeat = timed(lambda: import_file(ledger, csv_path))
        export_path = scratch / "export.csv"
        export_file(ledger, export_path)
        own, own_summary = timed(lambda: import_file(ledger, export_path))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux

    print(f"import benchmark: {reports:,} reports, {args.claims:,} claims, {args.sources:,} sources "
          f"({csv_path.name}, {time.strftime('%Y-%m-%d')})")
    print(f"  first import:  {summary}")
    print(f"  import again:  {repeat}")
    print(f"  own export:    {own_summary}")
    print(f"{'step':<34}{'seconds':>9}{'reports/s':>12}{'x sqlite3 .import':>19}{'x csv read':>12}")
    rows = [("sqlite3 .import (floor)", floor_sqlite), ("python csv read (floor)", floor_csv),
            ("tracker import, empty store", first), ("tracker import, same file again", again),
            ("tracker import, its own export", own)]
    for name, seconds in rows:
        if seconds is None:
            print(f"{name:<34}{'(no sqlite3 CLI: apt-get install sqlite3)':>40}")
            continue
        vs_sqlite = f"{seconds / floor_sqlite:.1f}" if floor_sqlite else "-"
        print(f"{name:<34}{seconds:>9.2f}{reports / seconds:>12,.0f}{vs_sqlite:>19}{seconds / floor_csv:>12.1f}")
    print(f"peak memory: {peak:,.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
