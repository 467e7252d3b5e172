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
    python benchmarks/bench_import.py --cli --url postgresql+psycopg://postgres@127.0.0.1:5499/postgres ...

With `--url`, the floor is `psql`'s `\\copy` of the same file into a new table of text columns.
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


def run_child(command: list[str], env: dict | None = None, stdout=subprocess.DEVNULL) -> tuple[float, float, float]:
    """Run `command` to its end (it must succeed); (wall seconds, CPU seconds, its peak memory in MiB),
    its own (`os.wait4`: where `RUSAGE_CHILDREN`'s peak is the largest of every child so far)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=stdout, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed (exit {os.waitstatus_to_exitcode(status)})")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def postgres_cpu() -> float:
    """CPU seconds of every postgres process on this machine (user + system, with the children each
    has waited for, so a backend that ended counts in the server's own); 0 where /proc is absent."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # the process ended meanwhile
            continue
        name, fields = text[text.index("(") + 1:text.rindex(")")], text[text.rindex(")") + 2:].split()
        if name == "postgres":
            total += sum(int(value) for value in fields[11:15])
    return total / os.sysconf("SC_CLK_TCK")


def fresh(db: Path) -> Path:
    """`db` with no file (nor its WAL files) left from a previous run."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    return db


def postgres_database(url: str, name: str) -> str:
    """A new, empty database `name` on the server of `url` (dropped first if there); returns its URL."""
    import psycopg
    from sqlalchemy.engine import make_url

    server = make_url(url)
    with psycopg.connect(host=server.host, port=server.port or 5432, user=server.username,
                         password=server.password, dbname=server.database or "postgres",
                         autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    return server.set(database=name).render_as_string(hide_password=False)


def psql_copy_command(url: str, csv_path: Path, width: int) -> list[str]:
    """psql \\copy of the CSV into a new table of `width` text columns in the database of `url`."""
    from sqlalchemy.engine import make_url

    target = make_url(url)
    psql = shutil.which("psql") or "/usr/lib/postgresql/15/bin/psql"
    columns = ", ".join(f"c{n} text" for n in range(width))
    return [psql, "-q", "-h", target.host, "-p", str(target.port or 5432), "-U", target.username or "postgres",
            "-d", target.database, "-c", f"CREATE TABLE report_csv ({columns})",
            "-c", f"\\copy report_csv FROM '{csv_path}' WITH (FORMAT csv, HEADER true)"]


def cli_figures(csv_path: Path, scratch: Path, reports: int, runs: int, url: str | None = None,
                leave_out: str = "") -> None:
    """`tracker import` in a fresh process beside its floor (sqlite3's `.import`, or `psql \\copy` with
    `url`), alternating, each into a new store; medians. `leave_out`: parts of the import left out
    (`import_without.py`), to measure what they cost."""
    tracker = [str(Path(sys.executable).with_name("tracker"))]
    if leave_out:
        tracker = [sys.executable, str(Path(__file__).with_name("import_without.py")), leave_out]
    if url is None:
        floor_name = "sqlite3 .import (floor)"
        script = scratch / "floor.sql"
        script.write_text(f".mode csv\n.import {csv_path} report_csv\n")
        floor = lambda: [shutil.which("sqlite3"), str(fresh(scratch / "floor.db")), f".read {script}"]  # noqa: E731
        target = lambda: str(fresh(scratch / "cli.db"))  # noqa: E731
    else:
        floor_name = "psql \\copy (floor)"
        width = len(csv_path.open(encoding="utf-8").readline().split(","))
        floor = lambda: psql_copy_command(postgres_database(url, "bench_import_floor"), csv_path, width)  # noqa: E731
        target = lambda: postgres_database(url, "bench_import_tracker")  # noqa: E731
    load_before = os.getloadavg()
    times: dict[str, list[float]] = {"tracker": [], "floor": []}
    cpu: dict[str, list[float]] = {"tracker": [], "floor": []}
    server: dict[str, list[float]] = {"tracker": [], "floor": []}  # with --url: the postgres processes' CPU
    peaks = []
    for _ in range(runs):
        command = floor()
        before = postgres_cpu()
        seconds, used, _ = run_child(command)
        server["floor"].append(postgres_cpu() - before)
        times["floor"].append(seconds)
        cpu["floor"].append(used)
        command = [*tracker, "--db", target(), "import", str(csv_path)]
        before = postgres_cpu()
        seconds, used, peak = run_child(command)
        server["tracker"].append(postgres_cpu() - before)
        times["tracker"].append(seconds)
        cpu["tracker"].append(used)
        peaks.append(peak)
    load_after = os.getloadavg()
    floor_s, tracker_s = statistics.median(times["floor"]), statistics.median(times["tracker"])
    floor_cpu, tracker_cpu = statistics.median(cpu["floor"]), statistics.median(cpu["tracker"])
    print(f"tracker import through the CLI, {runs} run(s) each, alternating; medians "
          f"(load average {load_before[0]:.2f} before, {load_after[0]:.2f} after)")
    print(f"{'command':<36}{'seconds':>9}{'reports/s':>12}{'x floor':>9}{'CPU s':>8}")
    print(f"{floor_name:<36}{floor_s:>9.2f}{reports / floor_s:>12,.0f}{1:>9.1f}{floor_cpu:>8.2f}")
    name = f"tracker import without {leave_out}" if leave_out else "tracker --db NEW import FILE"
    print(f"{name:<36}{tracker_s:>9.2f}{reports / tracker_s:>12,.0f}"
          f"{tracker_s / floor_s:>9.1f}{tracker_cpu:>8.2f}")
    print(f"  tracker runs: {', '.join(f'{t:.2f}' for t in times['tracker'])} s; peak memory {max(peaks):,.0f} MiB"
          f"{' (the client; the server is not counted)' if url else ''}; CPU s is the client process's own")
    if url and any(server["tracker"]):
        print(f"  server CPU s (every postgres process on this machine, medians): floor "
              f"{statistics.median(server['floor']):.2f}, tracker {statistics.median(server['tracker']):.2f} "
              f"(runs: {', '.join(f'{t:.2f}' for t in server['tracker'])})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, default=5_000)
    parser.add_argument("--claims", type=int, default=200_000)
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2016)
    parser.add_argument("--cli", action="store_true", help="time `tracker import` in a fresh process, start-up "
                                                           "included, beside the sqlite3 CLI's .import")
    parser.add_argument("--runs", type=int, default=3, help="with --cli: runs of each command (median)")
    parser.add_argument("--url", help="with --cli: a PostgreSQL server's URL (postgresql+psycopg://USER@HOST:PORT/"
                                      "postgres); the import and its psql \\copy floor each go into a new database")
    parser.add_argument("--leave-out", default="", metavar="PARTS",
                        help="with --cli: leave out parts of the import to measure what they cost "
                             "(history, pairs, or history,pairs; see import_without.py)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="tracker-bench-") as tmp:
        scratch = Path(tmp)
        csv_path = scratch / "reports.csv"
        world = make_store.make_world(args.sources, args.claims, args.reports, args.seed)
        make_store.write_csv(world, csv_path)
        reports = len(world.report_claim)
        del world
        if args.cli:
            cli_figures(csv_path, scratch, reports, args.runs, args.url, args.leave_out)
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
