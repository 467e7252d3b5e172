"""Each source's record as `tracker.scoring` counts it, aggregated on the database.

`tracker.scoring.score_sources` reads every report into memory; at millions of reports that is
gigabytes. `source_tallies` asks the database instead, so the memory it takes grows with the
number of sources, not with reports. It counts exactly what the in-memory path counts (see
`tracker.scoring`'s docstring, and the parity test): per (claim, source) the latest stance
reported by the time the claim's verdict in force became known, a relay speaking for its origin
too, the source's own report winning over relays (its own, then its relay of another, then
another's relay of it), later reports winning over earlier ones, ties by report id; the first
time the source took that stance; merged sources, retracted claims and retracted reports left
out. The same columns as `tracker.scoring.tallies_from_rows` returns, for
`tracker.scoring.table_from_tallies`.

Each (claim, source)'s final stance comes from `tracker.pairs`: for the store as it is now, the
`stance_pair` table kept on write (one row per pair, no grouping of the reports at read time); as
of an earlier date, one GROUP BY (claim, source) over the reports (`pairs.said`). One GROUP BY
source then sums the credit, counts the pending pairs and takes the median lead as an aggregate
(`percentile_cont` on PostgreSQL, a registered `median()` on SQLite). Figures:
benchmarks/README.md, "Ten million reports".
"""

from __future__ import annotations

import math
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from sqlalchemy import Text, and_, case, cast, func, literal, literal_column, select
from sqlalchemy.engine import Connection, Engine

from tracker import pairs
from tracker.models import Outcome, Source

_O, _S = Outcome.__table__, Source.__table__


@dataclass(frozen=True)
class Tallies:
    """Per source (index source_id) the sums scoring turns into reliability, and the store-wide
    sums its priors come from."""

    sources: pd.DataFrame  # index id: name, kind (live sources only)
    by_source: pd.DataFrame  # index source_id: see `_COLUMNS`
    totals: dict[str, float]  # earned and weight, overall and when asserting / denying


def _power(connection: Connection):
    """`power(x, y)`: PostgreSQL has it; SQLite only when built with its math functions, so register it."""
    if connection.dialect.name == "sqlite":
        connection.connection.driver_connection.create_function("power", 2, math.pow, deterministic=True)
    return func.power


def source_tallies(engine: Engine, as_of: datetime | None = None, *, rumour_weight: float = 0.5,
                   half_life_days: float | None = None, now: datetime | None = None,
                   topic: str | None = None) -> Tallies:
    """Every live source's tallies as of `as_of` (None: everything), optionally on one topic's claims only.

    `now` is where the half-life's ages are measured from (default `as_of`, else the present);
    times are aware datetimes, as the ledger takes them.
    """
    with engine.connect() as connection, connection.begin():  # one read transaction: the sums agree
        return _tallies(connection, as_of, rumour_weight, half_life_days, now or as_of, topic)


def _tallies(connection: Connection, as_of, rumour_weight, half_life_days, now, topic) -> Tallies:
    # each (claim, source)'s final stance: kept on write for the store as it is now, else grouped
    # from the reports as of the date
    said = pairs.current(connection, topic=topic) if as_of is None else pairs.said(connection, as_of=as_of, topic=topic)

    decay = None
    if half_life_days is not None:  # each pair's weight halves every half-life after its verdict
        moment = now or datetime.now(UTC)
        age = pairs.days(connection, literal(moment, _O.c.decided_at.type), said.c.decided_at)
        decay = _power(connection)(0.5, case((age > 0, age), else_=0.0) / float(half_life_days))
    by_source = _sums(connection, said, rumour_weight, decay, kept=as_of is None)

    sources = pd.DataFrame([tuple(row) for row in connection.execute(
        select(_S.c.id, _S.c.name, _S.c.kind).where(_S.c.merged_into_id.is_(None)).order_by(_S.c.id))],
        columns=["id", "name", "kind"]).set_index("id")
    totals = {
        "earned": float(by_source["successes"].sum()), "weight": float(by_source["trials"].sum()),
        **{f"{part}_{what}": float(by_source[f"{part}_{letter}"].sum())
           for part in ("asserted", "denied") for what, letter in (("earned", "s"), ("weight", "w"))},
    }
    return Tallies(sources, by_source, totals)


_COLUMNS = ["resolved", "successes", "trials", "asserted_n", "asserted_w", "asserted_s", "denied_n", "denied_w",
            "denied_s", "rumoured_n", "rumoured_right", "confirmed_n", "confirmed_right", "pending",
            "median_lead_days"]


def _sums(connection: Connection, said, rumour_weight: float, decay, kept: bool = False) -> pd.DataFrame:
    """The per-source sums, the pending count and the median lead of the right calls.

    The database groups the pairs by (source, stance), which on SQLite is the kept table's own
    order (no sort): per verdict value a count (and the decayed weight when a half-life applies),
    and the leads of the right calls as text. The credit is then worked out once per group here,
    rather than by a dozen conditional sums over every pair. The `kept` pairs (the store now) are
    grouped with no index scan on PostgreSQL (`_grouped_by_hash`); pairs grouped from the reports
    as of a date are left to the planner (at ten million reports 10% slower without index scans).
    """
    value = said.c.verdict_value
    right = case((said.c.stance == literal_column("'denied'"), value <= 0.0), else_=value >= 1.0)
    if connection.dialect.name == "sqlite":  # as text of 15 significant digits (a lead's error: under 1e-13 days)
        leads = func.group_concat(said.c.lead_days)
    else:  # PostgreSQL writes the shortest text that reads back exactly
        leads = func.string_agg(cast(said.c.lead_days, Text), literal_column("','"))
    numbers = list(dict.fromkeys(pairs.VALUES.values()))  # 1, 0 and 0.5: a count (and weight) of each
    counted = [func.sum(case((value == literal_column(repr(number)), 1), else_=0)) for number in numbers]
    weighed = [func.sum(case((value == literal_column(repr(number)), decay))) for number in numbers] if decay is not None else []
    query = select(said.c.source_id, said.c.stance, func.count(), leads.filter(and_(right, said.c.lead_days.is_not(None))),
                   *counted, *weighed).group_by(said.c.source_id, said.c.stance)
    n_of, w_of = [f"n{i}" for i in range(len(numbers))], [f"w{i}" for i in range(len(weighed))]
    # plain tuples: pandas probes a Row's attributes, each probe a caught exception in SQLAlchemy
    with _grouped_by_hash(connection) if kept else nullcontext():
        found = pd.DataFrame([tuple(row) for row in connection.execute(query)],
                             columns=["source_id", "stance", "all", "leads", *n_of, *w_of])
    keys = found[["source_id", "stance"]]
    pending = keys.assign(value=np.nan, n=found["all"] - found[n_of].sum(axis=1), w=0.0)
    groups = pd.concat([pending, *(keys.assign(value=number, n=found[n_of[i]],
                                               w=found[w_of[i]].fillna(0.0) if w_of else found[n_of[i]])
                                   for i, number in enumerate(numbers))], ignore_index=True)
    return _per_source(groups, found.dropna(subset=["leads"])[["source_id", "leads"]], rumour_weight)


@contextmanager
def _grouped_by_hash(connection: Connection):
    """On PostgreSQL, no index scan for the statements run inside; the setting is put back after.

    Grouping the kept pairs by (source, stance) with the leads joined as text: when the leads'
    hash table does not fit `work_mem` (the default 4 MB, at ten million reports), PostgreSQL
    prefers reading the pairs in the primary key's order, by (source, stance), which visits the
    table's pages in random order (30 s at ten million reports, against 3 s for a scan and a hash
    that spills to disk). SQLite's kept table is stored in that order already."""
    if connection.dialect.name != "postgresql":
        yield
        return
    before = connection.exec_driver_sql("SELECT current_setting('enable_indexscan')").scalar()
    connection.exec_driver_sql("SELECT set_config('enable_indexscan', 'off', true)")  # (this transaction's)
    yield  # (a statement that fails ends the transaction, and the setting with it)
    connection.exec_driver_sql(f"SELECT set_config('enable_indexscan', '{before}', true)")


def _per_source(groups: pd.DataFrame, leads: pd.DataFrame, rumour_weight: float) -> pd.DataFrame:
    """`_COLUMNS` per source from (source, stance, verdict value or NaN for pending) groups with their
    count `n` and weight `w`, and the leads of right calls (source_id, comma-separated text)."""
    ids = pd.Index(sorted(groups["source_id"].unique()), name="source_id")
    source = groups["source_id"].to_numpy()
    value = groups["value"].to_numpy(dtype=float)
    stance = groups["stance"].to_numpy()
    resolved, denied = ~np.isnan(value), stance == "denied"
    n = groups["n"].to_numpy(dtype="int64")
    correct = np.where(denied, 1.0 - value, value)
    weight = np.where(stance == "rumoured", rumour_weight, 1.0) * groups["w"].to_numpy(dtype=float)
    earned = weight * correct

    def total(values, keep=True):
        kept = np.where(keep & resolved, values, 0)
        return pd.Series(kept, index=source).groupby(level=0).sum().reindex(ids, fill_value=0)

    def share_right(name):
        count = total(n, stance == name)
        return total(n * np.nan_to_num(correct), stance == name) / count.where(count > 0)

    frame = pd.DataFrame({
        "resolved": total(n), "successes": total(earned), "trials": total(weight),
        "asserted_n": total(n, ~denied), "asserted_w": total(weight, ~denied), "asserted_s": total(earned, ~denied),
        "denied_n": total(n, denied), "denied_w": total(weight, denied), "denied_s": total(earned, denied),
        "rumoured_n": total(n, stance == "rumoured"), "rumoured_right": share_right("rumoured"),
        "confirmed_n": total(n, stance == "confirmed"), "confirmed_right": share_right("confirmed"),
        "pending": pd.Series(np.where(resolved, 0, n), index=source).groupby(level=0).sum().reindex(ids, fill_value=0),
    }, index=ids)
    frame["median_lead_days"] = _medians(leads).reindex(ids)
    counts = [c for c in _COLUMNS if c.endswith("_n") or c in ("resolved", "pending")]
    return frame[_COLUMNS].astype({c: "int64" for c in counts} | {c: float for c in _COLUMNS if c not in counts})


def _medians(leads: pd.DataFrame) -> pd.Series:
    """Each source's median lead from rows of (source_id, comma-separated leads): the middle value,
    or the mean of the middle two, as `np.median` gives, for every source at once."""
    texts = leads["leads"].tolist()
    values = np.fromstring(",".join(texts), dtype=float, sep=",") if texts else np.zeros(0)
    source = np.repeat(leads["source_id"].to_numpy(dtype="int64"), [text.count(",") + 1 for text in texts])
    order = np.lexsort((values, source))
    values, source = values[order], source[order]
    ids, start, count = np.unique(source, return_index=True, return_counts=True)
    middle = (values[start + (count - 1) // 2] + values[start + count // 2]) / 2
    return pd.Series(middle, index=pd.Index(ids, name="source_id"), dtype=float)
