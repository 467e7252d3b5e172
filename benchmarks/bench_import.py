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

With `--cli` it times instead what a person waits for: `tracker --db NEW.db import FILE` in a fresh
process, start-up included, each run into a new store, beside the sqlite3 CLI's `.import` of the
same file run the same way (alternating, `--runs` of each, median), with the tracker process's
peak memory and the machine's load average before and after.

    python benchmarks/bench_import.py                 # the full size (about a minute)
    python benchmarks/bench_import.py --reports 100000 --claims 20000 --sources 1000
    python benchmarks/bench_import.py --cli --reports 222000 --claims 100000 --sources 2000
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import statistics
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


def run_child(command: list[str]) -> tuple[float, float]:
    """Run `command` to its end (it must succeed); (wall seconds, its peak memory in MiB)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed (exit {os.waitstatus_to_exitcode(status)})")
    return seconds, usage.ru_maxrss / 1024


def fresh(db: Path) -> Path:
    """`db` with no file (nor its WAL files) left from a previous run."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    return db


def cli_figures(csv_path: Path, scratch: Path, reports: int, runs: int) -> None:
    """`tracker import` in a fresh process beside the sqlite3 CLI's `.import`, alternating; medians."""
    tracker = Path(sys.executable).with_name("tracker")
    sqlite3_cli = shutil.which("sqlite3")
    script = scratch / "floor.sql"
    script.write_text(f".mode csv\n.import {csv_path} report_csv\n")
    load_before = os.getloadavg()
    times: dict[str, list[float]] = {"tracker": [], "floor": []}
    peaks = []
    for _ in range(runs):
        if sqlite3_cli:
            seconds, _ = run_child([sqlite3_cli, str(fresh(scratch / "floor.db")), f".read {script}"])
            times["floor"].append(seconds)
        seconds, peak = run_child([str(tracker), "--db", str(fresh(scratch / "cli.db")), "import", str(csv_path)])
        times["tracker"].append(seconds)
        peaks.append(peak)
    load_after = os.getloadavg()
    tracker_s = statistics.median(times["tracker"])
    print(f"tracker import through the CLI, {runs} run(s) each, alternating; medians "
          f"(load average {load_before[0]:.2f} before, {load_after[0]:.2f} after)")
    print(f"{'command':<44}{'seconds':>9}{'reports/s':>12}{'x floor':>9}")
    if times["floor"]:
        floor_s = statistics.median(times["floor"])
        print(f"{'sqlite3 .import (floor)':<44}{floor_s:>9.2f}{reports / floor_s:>12,.0f}{1:>9.1f}")
    vs = f"{tracker_s / floor_s:.1f}" if times["floor"] else "-"
    print(f"{'tracker --db NEW.db import FILE':<44}{tracker_s:>9.2f}{reports / tracker_s:>12,.0f}{vs:>9}")
    print(f"  runs: {', '.join(f'{t:.2f}' for t in times['tracker'])}; peak memory {max(peaks):,.0f} MiB")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, default=5_000)
    parser.add_argument("--claims", type=int, default=200_000)
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2016)
    parser.add_argument("--cli", action="store_true", help="time `tracker import` in a fresh process, start-up "
                                                           "included, beside the sqlite3 CLI's .import")
    parser.add_argument("--runs", type=int, default=3, help="with --cli: runs of each command (median)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="tracker-bench-") as tmp:
        scratch = Path(tmp)
        csv_path = scratch / "reports.csv"
        world = make_store.make_world(args.sources, args.claims, args.reports, args.seed)
        make_store.write_csv(world, csv_path)
        reports = len(world.report_claim)
        del world
        if args.cli:
            cli_figures(csv_path, scratch, reports, args.runs)
            return 0
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
