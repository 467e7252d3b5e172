"""Save every number the forecasting model puts out for a store, or compare them with a saved set.

    python benchmarks/check_forecasts.py --save before.npz              # on benchmarks/.data/bench.db
    python benchmarks/check_forecasts.py --against before.npz           # after a change: differences
    python benchmarks/check_forecasts.py --world drift --save w.npz     # a synthetic world of the tests

What is compared: the fitted parameters (current fit and every checkpoint's), `predict` of the open
claims (p_true, p_true_at_first_report, credibility, independent sources), `predict` of a sample of
resolved claims, every claim's at-report-time forecast (`history`), and, with `--drivers`, each
driver's term. Values must agree to within `--tolerance` (1e-9 by default); the script prints the
largest difference of each and exits 1 when one is past it. A check for speed work: the model's
numbers must not move when only the way they are computed does.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from make_store import DEFAULT_DB  # after the path insert


def evidence_of(args):
    """The evidence to check: the bench store, or one of the tests' synthetic world types."""
    if args.world:
        from synthetic import make_world_type

        return make_world_type(args.world, args.seed, n_claims=args.claims).evidence()
    from tracker.evidence import load_evidence
    from tracker.store import make_engine

    return load_evidence(make_engine(f"sqlite:///{args.db}"))


def numbers(evidence, drivers: bool) -> dict:
    """Every figure the model puts out for this evidence, as arrays keyed by name."""
    from tracker import forecast

    started = time.process_time()
    model = forecast.fit(evidence)
    fitted = time.process_time()
    out = {}
    for k, params in enumerate([model.params, *model.fits]):
        for name, value in params.as_dict().items():
            out[f"params{k}.{name}"] = np.array([np.nan if value is None else value], dtype=float)
    table = forecast.predict(evidence, model=model, explain=drivers).sort_values("claim_id")
    predicted = time.process_time()
    for column in ("claim_id", "p_true", "p_true_at_first_report", "credibility", "independent_sources"):
        out[f"open.{column}"] = table[column].to_numpy(dtype=float)
    if drivers:
        d = table.attrs["drivers"].sort_values(["claim_id", "source_id"], kind="stable")
        out["drivers.llr"] = d["llr"].to_numpy(dtype=float)
    resolved = model.history.loc[~np.isnan(model.history["outcome"]), "claim_id"].to_numpy()[::97]
    closed = forecast.predict(evidence, claim_ids=resolved, model=model, explain=False).sort_values("claim_id")
    for column in ("claim_id", "p_true", "p_true_at_first_report"):
        out[f"resolved.{column}"] = closed[column].to_numpy(dtype=float)
    history = model.history.sort_values("claim_id")
    for column in ("claim_id", "p_true", "base_rate", "credibility", "fitted_on"):
        out[f"history.{column}"] = history[column].to_numpy(dtype=float)
    print(f"fit {fitted - started:.2f} CPU s, predict {predicted - fitted:.2f} CPU s", file=sys.stderr)
    return out


def compare(now: dict, saved: dict, tolerance: float) -> bool:
    """Print the largest difference of each figure; True when all are within `tolerance`."""
    ok = True
    for name in sorted(set(now) | set(saved)):
        if name not in now or name not in saved:
            print(f"{name}: only in {'the saved set' if name in saved else 'this run'}")
            ok = False
            continue
        a, b = now[name], saved[name]
        if a.shape != b.shape:
            print(f"{name}: {a.shape} values against {b.shape}")
            ok = False
            continue
        same_nan = np.isnan(a) == np.isnan(b)
        diff = np.nanmax(np.abs(a - b)) if len(a) and not np.isnan(a - b).all() else 0.0
        good = bool(same_nan.all()) and diff <= tolerance
        ok &= good
        if not good or name.startswith(("open.p_true", "history.p_true", "params0.")):
            print(f"{name}: largest difference {diff:.3g}{'' if same_nan.all() else ', NaN in other places'}"
                  f"{'' if good else '  <-- past the tolerance'}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, default=DEFAULT_DB)
    parser.add_argument("--world", help="a synthetic world type of tests/synthetic.py instead of the store")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--claims", type=int, default=1200)
    parser.add_argument("--drivers", action="store_true", help="compare every driver's term too")
    parser.add_argument("--save", type=Path)
    parser.add_argument("--against", type=Path)
    parser.add_argument("--tolerance", type=float, default=1e-9)
    args = parser.parse_args()
    now = numbers(evidence_of(args), args.drivers)
    if args.save:
        np.savez_compressed(args.save, **now)
    if args.against:
        with np.load(args.against) as saved:
            ok = compare(now, dict(saved), args.tolerance)
        print("identical within the tolerance" if ok else "DIFFERENT")
        return 0 if ok else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
