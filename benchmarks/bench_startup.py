"""Start-up: how long `tracker --help`, a command's help and the lists take, beside their floors.

    python benchmarks/bench_startup.py               # on benchmarks/.data/example.db (the Aleppo example)
    python benchmarks/bench_startup.py --runs 9

Each figure is a fresh process under `/usr/bin/time -v`, run `--runs` times in turn with its floor
(A B A B ..., so both see the same machine): the median wall seconds and peak memory of each, and
the median of the run-by-run ratios and differences (on a busy machine everything slows
alike: read the ratio; the targets are differences on an idle one). The floors: `python -c "import click"` for the help
(target: within 0.3 s of it), `python -c "import sqlalchemy, click"` for listing and showing
claims and sources (target: within 0.6 s).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_scale import timed  # after the path insert
from make_store import DATA

CLICK = ["-c", "import click"]
SQLALCHEMY = ["-c", "import sqlalchemy, click"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=DATA / "example.db")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    python = sys.executable
    if not args.db.exists():
        args.db.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([python, "-m", "tracker", "--db", str(args.db), "demo"], check=True, capture_output=True)
    tracker = [python, "-m", "tracker", "--db", str(args.db)]
    cases = [
        ("tracker --help", [*tracker, "--help"], CLICK, 0.3),
        ("tracker claims --help", [*tracker, "claims", "--help"], CLICK, 0.3),
        ("tracker scores --help", [*tracker, "scores", "--help"], CLICK, 0.3),
        ("tracker claims", tracker + ["claims"], SQLALCHEMY, 0.6),
        ("tracker claims --status open", tracker + ["claims", "--status", "open"], SQLALCHEMY, 0.6),
        ("tracker claims show 1", tracker + ["claims", "show", "1"], SQLALCHEMY, 0.6),
        ("tracker sources", tracker + ["sources"], SQLALCHEMY, 0.6),
    ]
    load = os.getloadavg()
    print(f"start-up ({time.strftime('%Y-%m-%d %H:%M')}; load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; "
          f"median of {args.runs} runs each, in turn with the floor)")
    print(f"{'command':<32}{'wall s':>8}{'floor s':>9}{'× floor':>9}{'minus floor':>13}{'target':>8}{'peak MiB':>10}"
          f"{'floor MiB':>11}  floor")
    for label, command, floor, target in cases:
        walls, floors, peaks, floor_peaks = [], [], [], []
        timed(command, 60)  # warm the page cache
        for _ in range(args.runs):
            wall, _cpu, peak, _ = timed(command, 60)
            base, _cpu, base_peak, _ = timed([python, *floor], 60)
            walls.append(float(wall))
            floors.append(float(base))
            peaks.append(float(peak))
            floor_peaks.append(float(base_peak))
        gap = statistics.median(w - f for w, f in zip(walls, floors))
        ratio = statistics.median(w / f for w, f in zip(walls, floors))
        print(f"{label:<32}{statistics.median(walls):>8.2f}{statistics.median(floors):>9.2f}{ratio:>9.2f}{gap:>13.2f}"
              f"{target:>8.1f}{statistics.median(peaks):>10.0f}{statistics.median(floor_peaks):>11.0f}"
              f"  python {' '.join(floor)!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
