"""Scoring at scale: `tracker scores` and `tracker predict` on a store of millions of reports, on
SQLite and PostgreSQL, with time and peak memory beside floors measured in the same run.

    python benchmarks/make_store.py --db benchmarks/.data/bench10m.db --claims 2000000 --reports 10000000
    python benchmarks/bench_scale.py --db sqlite:///benchmarks/.data/bench10m.db
    python benchmarks/bench_scale.py --db postgresql+psycopg://postgres@127.0.0.1:5499/bench

Every figure is one whole process under `/usr/bin/time -v` (wall seconds and maximum resident
set), so it includes the interpreter's start-up and imports, as a person running the command
pays them:

- floors: `python -c "import sqlalchemy, click"`; one `GROUP BY source_id` over the report table
  (`count(*)` and a sum; `NOT INDEXED` on SQLite), run through SQLAlchemy in a fresh process;
- `tracker scores --format csv`: the command as shipped (aggregated on the database from the
  pairs kept on write, `tracker.tallies` and `tracker.pairs`, see `scoring.score_sources_in_store`);
- the scores aggregated on the database whatever the backend (`score_sources_in_store(...,
  on_database=True)`);
- the in-memory scores: `load_evidence` + `scoring.score_sources`, what `scores` did before and
  what `tracker scores --as-of` does on SQLite;
- `tracker predict --format csv`, and the same steps split (`load_evidence`, `forecast.predict`)
  with each step's seconds and the process's peak memory after it.

A process that runs past `--timeout` seconds (default 900) is stopped and shown as such.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

# on SQLite NOT INDEXED: its planner otherwise walks ix_report_source_id and looks every row up,
# which took 327 s at ten million reports where the table scan takes a fraction of that
GROUP_BY = "SELECT source_id, count(*), sum(CASE WHEN stance = 'denied' THEN 1 ELSE 0 END) FROM report{} GROUP BY source_id"
IN_MEMORY = """
import sys
from tracker.store import make_engine
from tracker.evidence import load_evidence
from tracker.scoring import score_sources
score_sources(load_evidence(make_engine(sys.argv[1]))).to_csv(sys.stdout, index=False)
"""
ON_DATABASE = """
import sys
from tracker.store import make_engine
from tracker.scoring import score_sources_in_store
score_sources_in_store(make_engine(sys.argv[1]), on_database=True).to_csv(sys.stdout, index=False)
"""
FLOOR_GROUP_BY = """
import sys
from sqlalchemy import text
from tracker.store import make_engine
with make_engine(sys.argv[1]).connect() as connection:
    connection.execute(text(sys.argv[2])).all()
"""
PREDICT_STEPS = """
import resource, sys, time
from tracker.store import make_engine
from tracker.evidence import load_evidence
from tracker import forecast

def peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

started = time.perf_counter()
evidence = load_evidence(make_engine(sys.argv[1]), claim_texts="open")  # as `tracker predict` reads it
print(f"  load_evidence      {time.perf_counter() - started:8.1f} s   peak {peak():8.0f} MiB")
started = time.perf_counter()
model = forecast.fit(evidence)
print(f"  forecast.fit       {time.perf_counter() - started:8.1f} s   peak {peak():8.0f} MiB   (the replay and {len(model.fits) - 1} refits)")
started = time.perf_counter()
table = forecast.predict(evidence, model=model)
print(f"  forecast.predict   {time.perf_counter() - started:8.1f} s   peak {peak():8.0f} MiB   ({len(table):,} open claims, model given)")
"""


def timed(command: list[str], timeout: float) -> tuple[str, str, str, str]:
    """(wall seconds, CPU seconds, peak MiB, stdout) of one process under /usr/bin/time -v; 'over' past
    the timeout."""
    # its own process group, so that a timeout stops the command and not only /usr/bin/time
    process = subprocess.Popen(["/usr/bin/time", "-v", *command], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, cwd=REPO, start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        return f"over {timeout:.0f}", "-", "-", ""
    done = subprocess.CompletedProcess(command, process.returncode, stdout, stderr)
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", done.stderr)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    if done.returncode != 0 or not wall or not rss:
        tail = done.stderr.strip().splitlines()[-3:]
        return "failed", "-", "-", " | ".join(tail)
    hours, minutes, seconds = int(wall.group(1) or 0), int(wall.group(2)), float(wall.group(3))
    cpu = sum(float(m) for m in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", done.stderr))
    return f"{hours * 3600 + minutes * 60 + seconds:.2f}", f"{cpu:.2f}", f"{int(rss.group(1)) / 1024:.0f}", done.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", action="append", required=True, help="store URL (repeatable)")
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--skip-in-memory", action="store_true", help="leave out the in-memory scores")
    parser.add_argument("--predict-only", action="store_true", help="leave out `scores` (both ways): the floors and predict")
    parser.add_argument("--scores-only", action="store_true",
                        help="leave out predict (and the in-memory scores): the floors and the scores on the database")
    args = parser.parse_args(argv)

    python = sys.executable
    tracker = [python, "-m", "tracker"]
    print(f"scoring at scale ({time.strftime('%Y-%m-%d %H:%M')}; load {os.getloadavg()[0]:.2f} "
          f"{os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}; {os.cpu_count()} cores)")
    for url in args.db:
        from sqlalchemy import text

        from tracker.store import make_engine

        with make_engine(url).connect() as connection:
            counts = {t: connection.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                      for t in ("source", "claim", "report", "outcome")}
        print(f"\n{url}: " + ", ".join(f"{n:,} {t}s" for t, n in counts.items()))
        print(f"{'what':<44}{'wall s':>10}{'CPU s':>10}{'peak MiB':>10}  load (1 min, at the end)")
        rows = [
            ("floor: python -c 'import sqlalchemy, click'", [python, "-c", "import sqlalchemy, click"]),
            ("floor: one GROUP BY source_id over reports",
             [python, "-c", FLOOR_GROUP_BY, url, GROUP_BY.format(" NOT INDEXED" if url.startswith("sqlite") else "")]),
        ]
        if not args.predict_only:
            rows.append(("tracker scores", [*tracker, "--db", url, "scores", "--format", "csv"]))
            rows.append(("scores aggregated on the database", [python, "-c", ON_DATABASE, url]))
        if not (args.skip_in_memory or args.predict_only or args.scores_only):
            rows.append(("scores in memory (load_evidence + score_sources)", [python, "-c", IN_MEMORY, url]))
        if not args.scores_only:
            rows.append(("tracker predict", [*tracker, "--db", url, "predict", "--format", "csv"]))
        for label, command in rows:
            wall, cpu, peak, _out = timed(command, args.timeout)
            print(f"{label:<44}{wall:>10}{cpu:>10}{peak:>10}  {os.getloadavg()[0]:.2f}", flush=True)
        if args.scores_only:
            continue
        wall, cpu, peak, out = timed([python, "-c", PREDICT_STEPS, url], args.timeout)
        print(f"{'predict, step by step':<44}{wall:>10}{cpu:>10}{peak:>10}  {os.getloadavg()[0]:.2f}")
        print(out.rstrip(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
