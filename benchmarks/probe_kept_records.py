"""What would running records kept on write cost to read? A measurement of a design before building it.

    python benchmarks/probe_kept_records.py --db /path/to/store.db

The design named in benchmarks/README.md ("`predict` at ten million reports in 3.1 GiB, from 5.7"):
keep, on write, each level's running record by verdict time (source, parent group, kind, store:
cumulative right and wrong calls per stance after each verdict that moves it), so that a cold
`predict` looks each of its fit's sample votes up instead of replaying every report. This script
builds those rows once from today's replay (`forecast._walk`), writes them to a scratch SQLite file
beside nothing of the store (`--scratch`), and times what a cold `predict` would then read:

- the fit's lookups: for every vote of the claims the fit reads (captured from `forecast.fit` itself)
  and every level, the entity's last row before the vote's step, by one SQL statement over a
  temporary table of the votes (checked equal to the replay's `_RunningSums.before`);
- the open claims' records: each entity's last row (5,000 sources and their groups and kinds).

It prints each figure with the replay's own cost in the same process (reading the reports and
replaying them, `load_evidence` + `_walk`) as the floor it would replace. It does not measure the
writes that keep the rows (see the README's section on this probe for what they would cost).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine  # noqa: E402  (after the path insert)

from tracker import forecast  # noqa: E402
from tracker.evidence import load_evidence  # noqa: E402


def _timed(what: str, work):
    """Run `work`, print its wall and CPU seconds, return its result."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    print(f"{what}: {time.perf_counter() - wall:.2f} s wall, {time.process_time() - cpu:.2f} s CPU")
    return result


def _sample_queries(evidence):
    """The queries the fit reads its features for (the first `_features` call of `forecast.fit`)."""
    seen = []
    plain = forecast._features

    def capture(*args, **kwargs):
        seen.append(args[3])
        return plain(*args, **kwargs)

    forecast._features = capture
    try:
        forecast.fit(evidence)
    finally:
        forecast._features = plain
    return seen[0]


def main() -> None:
    """Build the rows, time the reads, check the lookups against the replay."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="a SQLite store (read only)")
    parser.add_argument("--scratch", default=None, help="where the kept rows are written (a temporary file)")
    args = parser.parse_args()
    evidence = _timed("floor: load_evidence (every report)", lambda: load_evidence(
        create_engine(f"sqlite:///{args.db}"), claim_texts=False))
    pairs = forecast._claim_topics(evidence)
    walk = _timed("floor: the replay (_walk)", lambda: forecast._walk(evidence, pairs))
    queries = _sample_queries(evidence)
    feats = _timed("the fit's sample features from the replay (_features)",
                   lambda: forecast._features(evidence, walk, pairs, queries, 0.9))
    print(f"the fit reads {len(queries):,} claims, {len(feats.vote_query):,} votes")

    scratch = args.scratch or os.path.join(tempfile.mkdtemp(), "kept_records.db")
    connection = sqlite3.connect(scratch)
    connection.execute("CREATE TABLE record (level INT, entity INT, step INT, c0 INT, c1 INT, c2 INT, c3 INT, "
                       "c4 INT, c5 INT, PRIMARY KEY (level, entity, step)) WITHOUT ROWID")
    rows = 0
    for number, name in enumerate(forecast.LEVELS):
        sums = walk.levels[name]
        entity, step = sums.key // sums.width, sums.key % sums.width
        # each row's entity's record after it: the level's running sum there less the one where the
        # entity's rows start, as numbers of halves (exact: every count is a sum of halves)
        running = np.asarray(sums.sums, dtype=float) * (1.0 if sums.halves else 2.0)
        after = np.rint(running[1:] - running[sums.entity_start]).astype(np.int64)
        block = np.c_[np.full(len(entity), number), entity, step, after]
        connection.executemany("INSERT INTO record VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", block.tolist())
        rows += len(block)
    connection.commit()
    print(f"kept rows: {rows:,} ({os.path.getsize(scratch) / 2**20:.0f} MiB)")

    votes, expected = [], []
    for number, name in enumerate(forecast.LEVELS):
        entity = forecast._codes_of(walk.entity_of[name], feats.vote_source)
        keep = entity >= 0
        votes.append(np.c_[np.full(keep.sum(), number), entity[keep], feats.vote_seen[keep]])
        expected.append(walk.levels[name].before(entity[keep], feats.vote_seen[keep]).sum(axis=1))
    votes = np.concatenate(votes)
    connection.execute("CREATE TEMP TABLE vote (n INTEGER PRIMARY KEY, level INT, entity INT, seen INT)")
    connection.executemany("INSERT INTO vote (level, entity, seen) VALUES (?, ?, ?)", votes.tolist())
    found = _timed(f"the fit's lookups ({len(votes):,}: votes x levels)", lambda: connection.execute(
        "SELECT (SELECT c0 + c1 + c2 + c3 + c4 + c5 FROM record r WHERE r.level = v.level AND r.entity = v.entity"
        " AND r.step < v.seen ORDER BY r.step DESC LIMIT 1) FROM vote v ORDER BY v.n").fetchall())
    got = np.array([0 if value is None else value for (value,) in found], dtype=float)
    print("lookups equal to the replay's:", bool(np.array_equal(got / 2.0, np.concatenate(expected))))
    latest = _timed("each entity's last row (the open claims' records)", lambda: connection.execute(
        "SELECT level, entity, max(step) FROM record GROUP BY level, entity").fetchall())
    print(f"entities: {len(latest):,}")
    connection.close()
    if args.scratch is None:
        os.remove(scratch)


if __name__ == "__main__":
    main()
