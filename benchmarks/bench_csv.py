"""`guarded_csv` alone on `tracker predict`'s frame: the column-by-column writer beside pandas' own.

    python benchmarks/bench_csv.py --db /tmp/csv_1m.db            # reads the store, keeps the frame
    python benchmarks/bench_csv.py --frame benchmarks/.data/predict_frame.pkl --repeat 7
    python benchmarks/bench_csv.py --against /tmp/before            # beside another checkout's

With `--db`, the frame `tracker predict --format csv` writes is made once (the store's evidence, the
model as the command fits or reads it, the open claims' forecasts) and pickled to `--frame`;
later runs load the pickle. In turn, `--repeat` times each, in one process, it times (CPU
seconds, the best and the median):

- `guarded_csv(frame)`: the guards, then the column-by-column writer (what the command runs);
- `_pandas_csv(frame)`: the same guards, then `frame.to_csv(index=False)` (what it ran before);
- the parts: the guards alone, the column-by-column writer alone and pandas' writer alone on the
  guarded frame, and `astype(str)` of the float columns (pandas' own call for them, which the
  writer makes too: the floor of this way of writing them).

With `--against DIR`, another checkout's `tracker/safe_text.py` (loaded under another name) runs
its `guarded_csv` in turn with the rest: this checkout's against that one's, guards included.

It checks that the CSVs are the same, byte for byte, and prints the ratios of the medians.
`--rows N` repeats the frame's rows up to N rows (`--rows 600000`: the size of ten million reports).
"""

from __future__ import annotations

import argparse
import importlib.util
import pickle
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tracker import safe_text  # noqa: E402


def predict_frame(db: str):
    """The frame `tracker predict --format csv` writes for the store at `db` (a path or URL)."""
    from tracker import fitcache, forecast
    from tracker.ledger import Ledger

    url = db if "://" in db else f"sqlite:///{Path(db).resolve()}"
    evidence, model = fitcache.load_and_fit(Ledger.open(url), claim_texts="open")
    return forecast.predict(evidence, model=model, explain=False)


def timed(function, repeat: int) -> list[float]:
    """CPU seconds of each of `repeat` calls of `function`."""
    times = []
    for _ in range(repeat):
        start = time.process_time()
        function()
        times.append(time.process_time() - start)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="the store to make predict's frame from (else --frame is read)")
    parser.add_argument("--frame", default=str(HERE / ".data" / "predict_frame.pkl"), help="the pickled frame")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rows", type=int, help="repeat the frame's rows up to this many")
    parser.add_argument("--against", help="another checkout, whose guarded_csv runs in turn with this one's")
    args = parser.parse_args(argv)
    if args.db:
        frame = predict_frame(args.db)
        Path(args.frame).parent.mkdir(parents=True, exist_ok=True)
        Path(args.frame).write_bytes(pickle.dumps(frame))
    frame = pickle.loads(Path(args.frame).read_bytes())
    if args.rows:
        import numpy as np

        frame = frame.iloc[np.arange(args.rows) % len(frame)].reset_index(drop=True)
    print(f"{len(frame):,} rows x {len(frame.columns)} columns: "
          + ", ".join(f"{name} {dtype}" for name, dtype in frame.dtypes.items()))
    same = safe_text.guarded_csv(frame) == safe_text._pandas_csv(frame)
    guarded = safe_text._guarded(frame)
    floats = [guarded[name].to_numpy() for name in guarded.columns if guarded[name].dtype.kind == "f"]
    runs = {
        "guarded_csv (guards + by column)": lambda: safe_text.guarded_csv(frame),
        "_pandas_csv (guards + pandas)": lambda: safe_text._pandas_csv(frame),
        "  guards alone": lambda: safe_text._guarded(frame),
        "  by-column writer alone": lambda: safe_text._csv_by_column(guarded),
        "  pandas' writer alone": lambda: guarded.to_csv(index=False),
        "  floats' astype(str) (floor)": lambda: [values.astype(str) for values in floats],
    }
    if args.against:
        spec = importlib.util.spec_from_file_location("other_safe_text", Path(args.against) / "tracker" / "safe_text.py")
        other = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(other)
        same = same and other.guarded_csv(frame) == safe_text.guarded_csv(frame)
        runs[f"{args.against}'s guarded_csv"] = lambda: other.guarded_csv(frame)
    times = {name: [] for name in runs}
    for _ in range(args.repeat):  # in turn, so that a drift in the machine's speed falls on every one
        for name, function in runs.items():
            times[name] += timed(function, 1)
    for name, spent in times.items():
        print(f"{name:34s} best {min(spent):.3f} s, median {statistics.median(spent):.3f} s (CPU)")
    ratio = statistics.median(times["guarded_csv (guards + by column)"]) / statistics.median(
        times["_pandas_csv (guards + pandas)"])
    print(f"guarded_csv / _pandas_csv, medians: {ratio:.3f}; the same bytes: {same}")
    if args.against:
        ratio = statistics.median(times["guarded_csv (guards + by column)"]) / statistics.median(
            times[f"{args.against}'s guarded_csv"])
        print(f"guarded_csv / {args.against}'s, medians: {ratio:.3f}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
