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

With `--parts`, each side also reports the CPU seconds of the parts of the work (the replay, the
L-BFGS fits, the half-lives' records, the features read, the forecasts), each part's outermost
calls timed, as the median over its runs.

With `--fresh`, each run is a fresh Python process instead, the way a person runs the command:
per pair, each checkout runs the whole `tracker predict --format csv` (its own package first on
`PYTHONPATH`, on a copy of the store with no fitted parameters kept beside it, so it fits from
nothing), then, in another fresh process, the same steps timed one by one (imports, reading the
evidence, the fit, the forecasts, the CSV). It prints each run's CPU seconds (user + system, the
child's own), its peak resident set, and whether the two checkouts' CSVs are byte for byte the same.
`--steps-off` leaves out the runs step by step (at ten million reports each costs a minute).

    python benchmarks/ab_predict.py --against /tmp/before --fresh --pairs 3
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from bench_import import run_child  # noqa: E402  (after the path insert)
from make_store import DEFAULT_DB  # noqa: E402

# the parts of the work timed with --parts: functions of forecast.py (a part's own outermost calls)
PARTS = {"replay": "_walk", "fit, all": "_fit", "L-BFGS fits": "fit_params", "half-lives' records": "_with_half_life",
         "features": "_features", "forecasts": "_forecast"}


def _other_forecast(checkout: Path):
    """The other checkout's `tracker/forecast.py`, as a module of its own."""
    spec = importlib.util.spec_from_file_location("other_forecast", checkout / "tracker" / "forecast.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["other_forecast"] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


def _timed(module, totals: dict) -> None:
    """Wrap the functions of `PARTS` in `module` so that each adds its CPU seconds to `totals`
    (nested calls of the same function counted once)."""
    for part, name in PARTS.items():
        function, inside = getattr(module, name), [False]

        def timed(*args, _function=function, _part=part, _inside=inside, **kwargs):
            if _inside[0]:
                return _function(*args, **kwargs)
            _inside[0], started = True, time.process_time()
            try:
                return _function(*args, **kwargs)
            finally:
                _inside[0] = False
                totals[_part] = totals.get(_part, 0.0) + time.process_time() - started

        setattr(module, name, timed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", type=Path, required=True, help="the other checkout (its root folder)")
    parser.add_argument("--pairs", type=int, default=4)
    parser.add_argument("--db", type=Path, default=DEFAULT_DB, help=f"the store [{DEFAULT_DB}]")
    parser.add_argument("--parts", action="store_true", help="also time the parts of the work (see PARTS)")
    parser.add_argument("--fresh", action="store_true",
                        help="time the whole command and its steps in fresh processes instead (see this file's docstring)")
    parser.add_argument("--steps-off", action="store_true", help="with --fresh: the whole command only, no runs step by step")
    args = parser.parse_args(argv)
    if args.fresh:
        return _fresh(args)

    import numpy as np

    from tracker import forecast
    from tracker.evidence import load_evidence
    from tracker.store import make_engine

    other = _other_forecast(args.against)
    evidence = load_evidence(make_engine(f"sqlite:///{args.db}"))
    sides = {"other": other, "this": forecast}
    totals = {name: {} for name in sides}
    if args.parts:
        for name, module in sides.items():
            _timed(module, totals[name])
    for module in sides.values():  # warm: imports, first allocations
        module.predict(evidence, explain=False)
    times = {name: [] for name in sides}
    parts = {name: [] for name in sides}
    for _ in range(args.pairs):
        for name, module in sides.items():
            totals[name].clear()
            cpu, wall = time.process_time(), time.perf_counter()
            module.predict(evidence, explain=False)
            times[name].append((time.process_time() - cpu, time.perf_counter() - wall))
            parts[name].append(dict(totals[name]))
    for name, runs in times.items():
        print(f"{name:>5} ({args.against if name == 'other' else 'this checkout'}): cold predict CPU "
              + " ".join(f"{c:.2f}" for c, _ in runs) + " s; wall " + " ".join(f"{w:.2f}" for _, w in runs) + " s")
    ratios = np.array([c for c, _ in times["this"]]) / np.array([c for c, _ in times["other"]])
    print("CPU this / other, pair by pair: " + " ".join(f"{r:.3f}" for r in ratios)
          + f"; median {np.median(ratios):.3f}")
    if args.parts:
        print("parts, median CPU s over the runs (other -> this):")
        for part in PARTS:
            medians = [np.median([run.get(part, 0.0) for run in parts[name]]) for name in sides]
            print(f"  {part:<20} {medians[0]:.2f} -> {medians[1]:.2f}")
    return 0


# the steps of `tracker predict --format csv` with a cold cache, each timed in CPU seconds
STEPS = """
import json, sys, time
from tracker.cli import main  # the command line's own start
t = [time.process_time()]
from tracker import forecast, safe_text
from tracker.evidence import load_evidence
from tracker.store import make_engine
t.append(time.process_time())
evidence = load_evidence(make_engine(sys.argv[1]), claim_texts="open")  # as the command reads it
t.append(time.process_time())
model = forecast.fit(evidence)
t.append(time.process_time())
table = forecast.predict(evidence, model=model, explain=False)
t.append(time.process_time())
safe_text.guarded_csv(table)
t.append(time.process_time())
names = ("command line", "imports", "load", "fit", "predict", "csv")
print(json.dumps(dict(zip(names, [t[0]] + [b - a for a, b in zip(t, t[1:])]))))
"""


def _fresh(args) -> int:
    """The whole command and its steps in fresh processes, the checkouts in turn (see module doc)."""
    sides = {"other": args.against.resolve(), "this": HERE.parent}
    with tempfile.TemporaryDirectory() as scratch:
        db = Path(scratch) / "store.db"
        shutil.copy(args.db, db)  # the command keeps its fit beside the store: never beside the original
        url = f"sqlite:///{db}"
        whole = {name: [] for name in sides}
        steps = {name: [] for name in sides}
        print(f"load average before: {os.getloadavg()[0]:.2f}")
        for pair in range(args.pairs):
            outputs = {}
            for name, checkout in sides.items():
                env = dict(os.environ, PYTHONPATH=str(checkout))
                for kept in Path(scratch).glob("*-fits.json"):
                    kept.unlink()
                outputs[name] = Path(scratch) / f"{name}.csv"
                with open(outputs[name], "wb") as out:
                    _wall, cpu, peak = run_child([sys.executable, "-m", "tracker", "--db", url, "predict",
                                                  "--format", "csv"], env, out)
                    whole[name].append((cpu, peak))
                if not args.steps_off:
                    done = subprocess.run([sys.executable, "-c", STEPS, url], env=env, capture_output=True,
                                          text=True, check=True)
                    steps[name].append(json.loads(done.stdout.splitlines()[-1]))
            same = outputs["other"].read_bytes() == outputs["this"].read_bytes()
            (cpu_other, peak_other), (cpu_this, peak_this) = whole["other"][-1], whole["this"][-1]
            print(f"pair {pair + 1}: whole command CPU other {cpu_other:.2f} s, this {cpu_this:.2f} s; "
                  f"peak other {peak_other:,.0f} MiB, this {peak_this:,.0f} MiB; CSVs "
                  f"{'identical' if same else 'DIFFER'}; load average {os.getloadavg()[0]:.2f}")
            if not same:
                return 1
        print(f"load average after: {os.getloadavg()[0]:.2f}")
        for name in sides if steps["this"] else ():
            print(f"{name:>5} ({sides[name]}): steps, CPU s per run")
            for step in steps[name][0]:
                print(f"  {step:<13} " + " ".join(f"{run[step]:.2f}" for run in steps[name]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
