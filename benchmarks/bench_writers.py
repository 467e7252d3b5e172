"""Write load: sustained writes per second with 8 concurrent writers, beside a single writer's rate.

Each writer signs in as its own reviewer account and makes `--writes` writes (300 by default)
through the service layer, in a realistic mix: 40% `log_claim` with two reports, 40% `add_report`
to a claim already logged, 20% `record_outcome`. On SQLite (one file in WAL mode, the store's own
settings) and on PostgreSQL 15 (a throwaway server started the way the tests start theirs, with
fsync off), each in a fresh store:

- 1 writer;
- 8 writers as threads of one process sharing one engine (a dashboard server's case);
- 8 writers as separate processes, each opening the store itself (several people's CLIs or
  dashboards on one store).

For each it prints writes per second (all writes over the wall time from the moment every writer
is ready until the last one finishes), the median, 95th-percentile and slowest latency of one
write call (waiting for the write turn included), and the errors (there must be none). Writes
queue for the store's single write turn, so 8 writers are not expected to write 8 times faster
than one.

Floor, per backend, in the same run: the same number of one-row INSERT transactions (`BEGIN;
INSERT; COMMIT`) through one raw driver connection (sqlite3 with WAL and synchronous=NORMAL, like
the store; psycopg on the same server; best of 3): what a commit costs with no service layer at
all. `x floor` is a row's time per write over the floor's time per transaction.

    python benchmarks/bench_writers.py
    python benchmarks/bench_writers.py --writes 100 --backend sqlite
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))  # for tests.postgres, the throwaway server the tests use

from tests import postgres as pg  # after the path insert
from tracker.ledger import Ledger

PASSWORD = "a long password 1"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # a fixed clock, as in the tests
REPORTS_FROM = datetime(2016, 12, 1, tzinfo=UTC)
OUTCOMES_FROM = datetime(2020, 1, 1, tzinfo=UTC)
MIX = {"log_claim": 40, "add_report": 40, "record_outcome": 20}
SOURCES = [f"Wire {k}" for k in range(40)]
STANCES = ("rumoured", "confirmed", "denied")
VERDICTS = ("true", "false", "partly_true", "unverifiable")


def fixed_now() -> datetime:
    return NOW


@dataclass
class Result:
    """One writer's run: when it started and ended (time.monotonic, the same clock in every process)."""

    worker: int
    started: float = 0.0
    ended: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def write(ledger: Ledger, worker: int, writes: int, seed: int) -> Result:
    """Make `writes` writes in the mix as `ledger.actor`; time each call, keep (not raise) errors."""
    rng = random.Random(seed * 100 + worker)
    result = Result(worker, started=time.monotonic())
    mine: list[int] = []  # claims this writer logged: targets for its reports and outcomes
    ops, weights = list(MIX), list(MIX.values())
    for step in range(writes):
        op = rng.choices(ops, weights)[0] if mine else "log_claim"
        at = timedelta(minutes=worker * 100_000 + 2 * step)  # unique: no report is a duplicate
        started = time.perf_counter()
        try:
            if op == "log_claim":
                sources = rng.sample(SOURCES, 2)
                claim = ledger.log_claim(f"Claim {worker}.{step}: convoy {step} left the city", topics="aleppo",
                                         reports=[{"source": s, "stance": rng.choice(STANCES),
                                                   "reported_at": REPORTS_FROM + at + timedelta(minutes=i)}
                                                  for i, s in enumerate(sources)])
                mine.append(claim.id)
            elif op == "add_report":
                ledger.add_report(rng.choice(mine), rng.choice(SOURCES), rng.choice(STANCES), REPORTS_FROM + at)
            else:
                ledger.record_outcome(rng.choice(mine), rng.choice(VERDICTS), OUTCOMES_FROM + at)
        except Exception as exc:  # noqa: BLE001 - counted and printed; a benchmark must not stop here
            result.errors.append(f"{op}: {type(exc).__name__}: {exc}\n{traceback.format_exc()}")
            continue
        result.latencies.append(time.perf_counter() - started)
    result.ended = time.monotonic()
    return result


def _write_in_process(url: str, actor, worker: int, writes: int, seed: int, ready, results) -> None:
    try:
        ledger = Ledger.open(url, clock=fixed_now, actor=actor)
        ready.wait(timeout=300)
        result = write(ledger, worker, writes, seed)
        ledger.engine.dispose()
    except BaseException as exc:  # noqa: BLE001 - reported by the parent
        result = Result(worker, errors=[f"writer process failed: {exc!r}\n{traceback.format_exc()}"])
    results.put(result)


def writers(url: str, count: int, writes: int, seed: int, *, processes: bool) -> list[Result]:
    """Run `count` writers on a fresh store at `url`, as threads or as processes, all started together."""
    ledger = Ledger.open(url, clock=fixed_now)
    try:
        ledger.add_account("admin", "admin", PASSWORD)
        admin = ledger.authenticate("admin", PASSWORD)
        for n in range(count):
            ledger.acting_as(admin).add_account(f"reviewer{n}", "reviewer", PASSWORD)
        actors = [ledger.authenticate(f"reviewer{n}", PASSWORD) for n in range(count)]
        if processes:
            context = multiprocessing.get_context("forkserver")  # no engine crosses a fork
            context.set_forkserver_preload(["tracker.ledger"])
            ready, queue = context.Barrier(count), context.Queue()
            started = [context.Process(target=_write_in_process, args=(url, actor, n, writes, seed, ready, queue))
                       for n, actor in enumerate(actors)]
            for process in started:
                process.start()
            results = [queue.get(timeout=3600) for _ in started]
            for process in started:
                process.join()
            return results
        ready = threading.Barrier(count)
        results: list[Result] = [None] * count

        def one(n: int) -> None:
            mine = ledger.acting_as(actors[n])
            ready.wait()
            results[n] = write(mine, n, writes, seed)

        threads = [threading.Thread(target=one, args=(n,)) for n in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return results
    finally:
        ledger.engine.dispose()


def sqlite_floor(path: Path, transactions: int, repeat: int) -> float:
    """Best seconds of `repeat` runs of `transactions` one-row INSERT transactions through one raw sqlite3 connection."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute("CREATE TABLE floor (id INTEGER PRIMARY KEY, statement TEXT, at TEXT)")
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        for n in range(transactions):
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("INSERT INTO floor (statement, at) VALUES (?, ?)", (f"claim {n}", NOW.isoformat()))
            connection.execute("COMMIT")
        best = min(best, time.perf_counter() - started)
    connection.close()
    return best


def postgres_floor(server: pg.Server, transactions: int, repeat: int) -> float:
    """Best seconds of `repeat` runs of `transactions` one-row INSERT transactions through one raw psycopg connection."""
    import psycopg

    server.create("floor")
    best = float("inf")
    with psycopg.connect(f"host=127.0.0.1 port={server.port} user=postgres dbname=floor") as connection:
        connection.execute("CREATE TABLE floor (id serial PRIMARY KEY, statement text, at timestamptz)")
        connection.commit()
        for _ in range(repeat):
            started = time.perf_counter()
            for n in range(transactions):
                connection.execute("INSERT INTO floor (statement, at) VALUES (%s, %s)", (f"claim {n}", NOW))
                connection.commit()
            best = min(best, time.perf_counter() - started)
    return best


def machine() -> str:
    cpu = platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load = ", load average {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()) if hasattr(os, "getloadavg") else ""
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs ({cpu}){load}"


def row(backend: str, setup: str, writes: int, seconds: float, latencies: list[float], floor: float | None,
        errors: int | None) -> str:
    rate = writes / seconds
    if len(latencies) >= 2:
        cuts = statistics.quantiles(latencies, n=20)  # cuts[9] is the median, cuts[18] the 95th percentile
        p50, p95, worst = f"{cuts[9] * 1000:.1f}", f"{cuts[18] * 1000:.1f}", f"{max(latencies) * 1000:.0f}"
    else:
        p50 = p95 = worst = "-"
    ratio = f"{floor / rate:.1f}" if floor else "1.0"
    return (f"{backend:<11}{setup:<26}{writes:>7}{seconds:>9.2f}{rate:>10.0f}{p50:>8}{p95:>8}{worst:>8}{ratio:>9}"
            f"{'-' if errors is None else errors:>8}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writes", type=int, default=300, help="writes per writer [300]")
    parser.add_argument("--writers", type=int, default=8, help="concurrent writers [8]")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--no-processes", action="store_true", help="skip the runs with writer processes")
    parser.add_argument("--floor-repeat", type=int, default=3, help="runs of the floor; the best is reported [3]")
    parser.add_argument("--seed", type=int, default=2016)
    args = parser.parse_args(argv)

    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    setups = [(1, False), (args.writers, False)] + ([] if args.no_processes else [(args.writers, True)])
    import sqlalchemy

    print(f"writers benchmark: {args.writes} writes per writer; mix "
          + ", ".join(f"{share}% {op}" for op, share in MIX.items()) + " (log_claim with 2 reports)")
    print(f"date:    {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    print(f"machine: {machine()}")
    print(f"python {platform.python_version()}, SQLAlchemy {sqlalchemy.__version__}, "
          f"SQLite {sqlite3.sqlite_version}\n")
    header = (f"{'backend':<11}{'writers':<26}{'writes':>7}{'seconds':>9}{'writes/s':>10}{'p50 ms':>8}"
              f"{'p95 ms':>8}{'max ms':>8}{'x floor':>9}{'errors':>8}")
    print(header)
    print("-" * len(header))
    failed = []
    with tempfile.TemporaryDirectory(prefix="tracker-writers-") as tmp:
        scratch = Path(tmp)
        for backend in backends:
            server = None
            if backend == "postgresql":
                if not pg.available():
                    print(f"{backend:<11}(PostgreSQL server binaries not found in {pg.BIN}; set POSTGRES_BIN)")
                    continue
                server = pg.Server()
            try:
                floor_writes = args.writes * args.writers
                if server is None:
                    floor_seconds = sqlite_floor(scratch / "floor.db", floor_writes, args.floor_repeat)
                else:
                    floor_seconds = postgres_floor(server, floor_writes, args.floor_repeat)
                floor_rate = floor_writes / floor_seconds
                print(row(backend, "floor: raw 1-row INSERTs", floor_writes, floor_seconds, [], None, None))
                for n, (count, processes) in enumerate(setups):
                    name = f"w{n}"
                    url = f"sqlite:///{scratch / name}.db" if server is None else server.create(name)
                    results = writers(url, count, args.writes, args.seed, processes=processes)
                    latencies = [latency for r in results for latency in r.latencies]
                    errors = [error for r in results for error in r.errors]
                    seconds = max(r.ended for r in results) - min(r.started for r in results)
                    setup = "1" if count == 1 else f"{count} {'processes' if processes else 'threads'}"
                    print(row(backend, setup, len(latencies), seconds, latencies, floor_rate, len(errors)))
                    failed += errors
            finally:
                if server is not None:
                    server.stop()
    if failed:
        print(f"\n{len(failed)} write(s) failed; the first:\n{failed[0]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
