"""Where `tracker.forecast.DEFAULTS` come from: the median fit over held-out stores.

The defaults apply while a store's record is too small to fit (and the fit's weak pull leans toward
them), so they should be what a fit gives on a typical store rather than a hand's guess. This fits
`tracker.forecast` on stores the quality checks never score: every synthetic world type of
tests/synthetic.py at seeds 11-13 (the tests use seeds 1-3, `bench_worlds.py` 1 to `--seeds`), and the
PHEME rumours shipped in data/pheme/ at the three assumed lags of docs/pheme.md; prints each store's
fitted parameters and their median (strengths in the log, as the fit moves them).

    python benchmarks/fit_defaults.py
    python benchmarks/fit_defaults.py --claims 1000 --seeds 11,12
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.synthetic import WORLD_TYPES, make_world_type  # noqa: E402
from tracker import forecast  # noqa: E402
from tracker.evidence import load_evidence  # noqa: E402
from tracker.store import make_engine  # noqa: E402

PHEME = REPO / "data" / "pheme" / "pheme-dev.csv"
LAGS = {"1 minute": ["--settle-after-minutes", "1"], "1 day": ["--settle-after-days", "1"],
        "event end": ["--settle-at-event-end"]}


def pheme_evidence(folder: Path, lag: str):
    """The PHEME rumours imported into a new store with outcomes known after `lag`."""
    name = "pheme-" + lag.replace(" ", "-")
    csv, db = folder / f"{name}.csv", folder / f"{name}.db"
    subprocess.run([sys.executable, "-m", "tracker", "pheme-csv", str(PHEME), str(csv), *LAGS[lag]], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run([sys.executable, "-m", "tracker", "--db", str(db), "import", str(csv)], check=True,
                   stdout=subprocess.DEVNULL)
    return load_evidence(make_engine(f"sqlite:///{db}"))


def median_fit(fits: pd.DataFrame) -> pd.Series:
    """The median of each free parameter, strengths taken in the log."""
    values = fits[list(forecast._FREE)].copy()
    logged = sorted(forecast._LOG_SCALED)
    values[logged] = np.log(values[logged])
    median = values.median()
    median[logged] = np.exp(median[logged])
    return median


def main(argv=None) -> None:
    """Fit every held-out store and print the fits and their median beside the defaults in force."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--claims", type=int, default=2000)
    parser.add_argument("--seeds", default="11,12,13")
    args = parser.parse_args(argv)
    rows = {}
    for name in WORLD_TYPES:
        for seed in (int(s) for s in args.seeds.split(",")):
            rows[f"{name} {seed}"] = forecast.fit(make_world_type(name, seed, n_claims=args.claims).evidence()).params
    with tempfile.TemporaryDirectory() as folder:
        for lag in LAGS:
            rows[f"PHEME, {lag}"] = forecast.fit(pheme_evidence(Path(folder), lag)).params
    fits = pd.DataFrame({store: params.as_dict() for store, params in rows.items()}).T
    shown = list(forecast._FREE) + ["half_life_days", "fitted_on"]
    with pd.option_context("display.width", 250, "display.max_columns", 20):
        print(fits[shown].astype(float).round(3).to_string())
        print()
        print(pd.DataFrame({"median of the fits": median_fit(fits),
                            "DEFAULTS": pd.Series(forecast.DEFAULTS.as_dict())[list(forecast._FREE)]}).round(3))


if __name__ == "__main__":
    main()
