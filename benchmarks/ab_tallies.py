"""The scores aggregated on the database by this checkout's `tracker/tallies.py` against another
commit's, in turn, each in a fresh process.

    python benchmarks/ab_tallies.py --against 8488501 --db sqlite:///benchmarks/.data/bench.db --pairs 2
    python benchmarks/ab_tallies.py --against 8488501 --db postgresql+psycopg://postgres@127.0.0.1:5499/bench

Each run is `scoring.score_sources_in_store(engine, on_database=True)` (what `tracker scores` runs
on PostgreSQL) in a process of its own, the other commit's `tallies.py` (read with `git show`)
standing in for this one's. It prints, per run, the load, the wall seconds, the CPU seconds of the
Python process (on SQLite, the query's too) and, on PostgreSQL, of the server process serving the
connection (parallel workers not counted), the process's peak memory, and whether both sides
answered the same table.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

RUN = """
import importlib.util, os, resource, sys, time
url, module_path, out = sys.argv[1], sys.argv[2], sys.argv[3]
if module_path:
    spec = importlib.util.spec_from_file_location("tracker.tallies", module_path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["tracker.tallies"] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
from tracker.scoring import score_sources_in_store
from tracker.store import make_engine

engine = make_engine(url)
server = None
if engine.dialect.name == "postgresql":
    with engine.connect() as connection:  # the pool hands the same connection back for the scores
        server = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()

def server_cpu():
    if server is None:
        return 0.0
    fields = open(f"/proc/{server}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

load, started, cpu, served = os.getloadavg()[0], time.perf_counter(), time.process_time(), server_cpu()
table = score_sources_in_store(engine, on_database=True)
print(f"{load:.2f} {time.perf_counter() - started:.2f} {time.process_time() - cpu:.2f} "
      f"{server_cpu() - served:.2f} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")
table.to_pickle(out)
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", required=True, help="the commit whose tracker/tallies.py to compare with")
    parser.add_argument("--db", required=True, help="store URL")
    parser.add_argument("--pairs", type=int, default=1)
    args = parser.parse_args(argv)

    import pandas as pd

    with tempfile.TemporaryDirectory() as folder:
        other = Path(folder) / "tallies.py"
        other.write_text(subprocess.run(["git", "show", f"{args.against}:tracker/tallies.py"], cwd=HERE.parent,
                                        check=True, capture_output=True, text=True).stdout)
        print(f"{'side':<10}{'load':>7}{'wall s':>9}{'CPU s':>8}{'server CPU s':>14}{'peak MiB':>10}  same table")
        for _ in range(args.pairs):
            tables = {}
            for side, module in ((args.against, str(other)), ("this", "")):
                out = Path(folder) / f"{side}.pkl"
                done = subprocess.run([sys.executable, "-c", RUN, args.db, module, str(out)], cwd=HERE.parent,
                                      capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(HERE.parent)})
                if done.returncode != 0:
                    print(f"{side}: failed: {done.stderr.strip().splitlines()[-1]}")
                    return 1
                load, wall, cpu, server, peak = done.stdout.split()
                tables[side] = pd.read_pickle(out)
                same = ""
                if len(tables) == 2:
                    first, second = tables.values()
                    try:
                        pd.testing.assert_frame_equal(first, second, check_exact=False, rtol=1e-9, atol=1e-7)
                        same = "yes"
                    except AssertionError:
                        same = "NO"
                print(f"{side:<10}{load:>7}{wall:>9}{cpu:>8}{server:>14}{peak:>10}  {same}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
