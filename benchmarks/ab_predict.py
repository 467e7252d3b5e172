"""Cold `predict` of this checkout's model against another checkout's, in turn, in one process.

    git worktree add /tmp/before <commit>
    python benchmarks/ab_predict.py --against /tmp/before --pairs 4

Both read the same evidence (`load_evidence` of the store, once); each pair runs the other
checkout's `tracker/forecast.py` and this one's, one after the other, each fitting from nothing and
forecasting the open claims (what `tracker predict` computes after reading the store). It prints
each side's CPU and wall seconds per run and the ratio of CPU seconds pair by pair: pairs keep the
ratio meaningful on a machine whose speed drifts with other work. The other checkout's
`forecast.py` is loaded under another name beside this checkout's package, so it must read the
evidence this one loads (the same `Evidence` frames).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from make_store import DEFAULT_DB  # noqa: E402  (after the path insert)


def _other_forecast(checkout: Path):
    """The other checkout's `tracker/forecast.py`, as a module of its own."""
    spec = importlib.util.spec_from_file_location("other_forecast", checkout / "tracker" / "forecast.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["other_forecast"] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", type=Path, required=True, help="the other checkout (its root folder)")
    parser.add_argument("--pairs", type=int, default=4)
    parser.add_argument("--db", type=Path, default=DEFAULT_DB, help=f"the store [{DEFAULT_DB}]")
    args = parser.parse_args(argv)

    import numpy as np

    from tracker import forecast
    from tracker.evidence import load_evidence
    from tracker.store import make_engine

    other = _other_forecast(args.against)
    evidence = load_evidence(make_engine(f"sqlite:///{args.db}"))
    sides = {"other": other, "this": forecast}
    for module in sides.values():  # warm: imports, first allocations
        module.predict(evidence, explain=False)
    times = {name: [] for name in sides}
    for _ in range(args.pairs):
        for name, module in sides.items():
            cpu, wall = time.process_time(), time.perf_counter()
            module.predict(evidence, explain=False)
            times[name].append((time.process_time() - cpu, time.perf_counter() - wall))
    for name, runs in times.items():
        print(f"{name:>5} ({args.against if name == 'other' else 'this checkout'}): cold predict CPU "
              + " ".join(f"{c:.2f}" for c, _ in runs) + " s; wall " + " ".join(f"{w:.2f}" for _, w in runs) + " s")
    ratios = np.array([c for c, _ in times["this"]]) / np.array([c for c, _ in times["other"]])
    print("CPU this / other, pair by pair: " + " ".join(f"{r:.3f}" for r in ratios)
          + f"; median {np.median(ratios):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
