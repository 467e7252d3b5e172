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

The query makes two passes of GROUP BY and no window function (each window was a sort of every
report; at ten million reports several of them did not finish in 15 minutes on SQLite): one
GROUP BY (claim, source) over the stance rows picks each pair's latest stance as the greatest of
one key (rank, time, report id, the stance's code at the end) and each stance's first time by a
conditional min(), keeping the pairs of claims without a verdict as pending; one GROUP BY source
sums the credit, counts the pending pairs and takes the median lead as an aggregate
(`percentile_cont` on PostgreSQL, a registered `median()` on SQLite). Figures:
benchmarks/README.md, "Ten million reports".
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd
from sqlalchemy import (BigInteger, Float, Integer, Text, and_, case, cast, func, literal, literal_column, or_,
                        select, union_all)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, Engine

from tracker.models import Claim, ClaimTopic, Outcome, Report, Source
from tracker.vocabulary import Stance

_R, _O, _C, _T, _S = (m.__table__ for m in (Report, Outcome, Claim, ClaimTopic, Source))
STANCES = [stance.value for stance in Stance]
VALUES = {"true": 1.0, "false": 0.0, "partly_true": 0.5}  # unverifiable: no credit (scoring.VERDICT_VALUE)


@dataclass(frozen=True)
class Tallies:
    """Per source (index source_id) the sums scoring turns into reliability, and the store-wide
    sums its priors come from."""

    sources: pd.DataFrame  # index id: name, kind (live sources only)
    by_source: pd.DataFrame  # index source_id: see `_COLUMNS`
    totals: dict[str, float]  # earned and weight, overall and when asserting / denying


def _days(connection: Connection, later, earlier):
    """`later - earlier` in days as a float column, on either backend."""
    if connection.dialect.name == "sqlite":
        return func.julianday(later) - func.julianday(earlier)
    return func.extract("epoch", later - earlier) / 86400.0


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
    # claims left out: the retracted ones (a short list), and those off the topic. Not "claim_id IN
    # (live claims)": SQLite would answer that by probing the report index once per claim and
    # fetching each row from all over the file, where a scan of the table reads it in order
    def wanted(claim_id):
        kept = claim_id.not_in(select(_C.c.id).where(_C.c.retracted_at.is_not(None)))
        if topic:
            kept = and_(kept, claim_id.in_(select(_T.c.claim_id).where(_T.c.topic == topic.strip().lower())))
        return kept

    # the verdict in force per claim: its newest revision known by as_of
    newest = select(_O.c.claim_id, func.max(_O.c.id).label("id")).where(wanted(_O.c.claim_id))
    if as_of is not None:
        newest = newest.where(_O.c.decided_at <= as_of)
    newest = newest.group_by(_O.c.claim_id).subquery("newest")
    value = case(*((_O.c.verdict == verdict, literal(number, Float)) for verdict, number in VALUES.items()),
                 else_=None)
    # a subquery, not a CTE: PostgreSQL plans each use with the outcome table's statistics (a
    # materialized CTE has none, and keeps the scan of the reports from running in parallel)
    verdicts = (select(_O.c.claim_id, _O.c.decided_at, value.label("value"))
                .join(newest, _O.c.id == newest.c.id).subquery("verdicts"))

    # stance rows: each report speaks for its source (rank 2, or 1 when it relays another) and,
    # when it is a relay, for its origin too (rank 0). Kept: on a claim with a verdict of some
    # value, the reports made by the verdict's time (credit); on a claim without one, all (pending).
    # Each arm joins the verdicts itself: SQLite then looks them up by an index it builds on them
    def arm(speaker, direct, *only):
        live = and_(_R.c.retracted_at.is_(None), wanted(_R.c.claim_id), *only,
                    or_(verdicts.c.claim_id.is_(None),
                        and_(verdicts.c.value.is_not(None), _R.c.reported_at <= verdicts.c.decided_at)))
        if as_of is not None:
            live = and_(live, _R.c.reported_at <= as_of)
        return (select(_R.c.id, _R.c.claim_id, speaker.label("speaker"), direct.label("direct"), _R.c.stance,
                       _R.c.reported_at, verdicts.c.value, verdicts.c.decided_at)
                .select_from(_R.outerjoin(verdicts, verdicts.c.claim_id == _R.c.claim_id)).where(live))

    stances = union_all(
        arm(_R.c.source_id, case((_R.c.via_source_id.is_not(None), 1), else_=2)),
        arm(_R.c.via_source_id, literal(0), _R.c.via_source_id.is_not(None)),
    ).subquery("stances")

    # one GROUP BY per (claim, source), no sort of its own rows: the latest stance is the greatest of
    # one key (rank, time, report id, then the stance's code), and the first time of each stance is
    # a conditional min(), of which the final stance's is kept
    key, code_of = _latest_key(connection, stances)
    code = code_of(func.max(key))
    firsts = {name: func.min(case((stances.c.stance == name, stances.c.reported_at))) for name in STANCES}
    # the stance and its first time worked out here, once per (claim, source): the aggregates are
    # computed once, where every later use of a flattened subquery's column repeats its expression
    # (the verdict is the claim's, the same on every row of the pair: max() carries it through)
    said = select(
        stances.c.speaker, code.label("code"),
        case(*((code == number, firsts[name]) for number, name in enumerate(STANCES))).label("first_at"),
        func.max(stances.c.value).label("value"), func.max(stances.c.decided_at).label("decided_at"),
    ).group_by(stances.c.claim_id, stances.c.speaker).subquery("said")

    # credit on claims with a verdict; NULL credit and weight mark a pending (claim, source)
    rumoured, confirmed, denied = (STANCES.index(name) for name in ("rumoured", "confirmed", "denied"))
    correct = case((said.c.code == denied, 1.0 - said.c.value), else_=said.c.value)
    weight = case((said.c.value.is_(None), None), (said.c.code == rumoured, literal(rumour_weight, Float)),
                  else_=literal(1.0, Float))
    if half_life_days is not None:
        moment = now or datetime.now(UTC)
        age = _days(connection, literal(moment, _O.c.decided_at.type), said.c.decided_at)
        weight = weight * _power(connection)(0.5, case((age > 0, age), else_=0.0) / float(half_life_days))
    rows = select(said.c.speaker, said.c.code, correct.label("correct"), weight.label("weight"),
                  _days(connection, said.c.decided_at, said.c.first_at).label("lead_days")).subquery("rows")
    by_source = _sums(connection, rows)

    sources = pd.DataFrame(connection.execute(
        select(_S.c.id, _S.c.name, _S.c.kind).where(_S.c.merged_into_id.is_(None)).order_by(_S.c.id)).all(),
        columns=["id", "name", "kind"]).set_index("id")
    totals = {
        "earned": float(by_source["successes"].sum()), "weight": float(by_source["trials"].sum()),
        **{f"{part}_{what}": float(by_source[f"{part}_{letter}"].sum())
           for part in ("asserted", "denied") for what, letter in (("earned", "s"), ("weight", "w"))},
    }
    return Tallies(sources, by_source, totals)


def _latest_key(connection: Connection, stances):
    """Per stance row, a key that sorts as the rows compete to be a (claim, source)'s latest (the
    rank, the time, the report id) and ends with the stance's code (its place in `STANCES`); and
    how to read the code back from the greatest key.

    On SQLite, text: times are stored as fixed-width text (`YYYY-MM-DD HH:MM:SS.ffffff`, as
    SQLAlchemy and the importer write them), which sorts as the times do, compared byte by byte
    (one written without its fraction is padded to that width, and still sorts first).
    On PostgreSQL, an array of bigints, the time in microseconds (far cheaper than text there).

    Its constants are written into the SQL, not bound: SQLite numbers each bound value apart, so
    the same max(key) used twice would be two aggregates (each step of the key paid twice over).
    """
    code = case(*((stances.c.stance == literal_column(f"'{name}'"), literal_column(str(number)))
                  for number, name in enumerate(STANCES)))
    if connection.dialect.name == "sqlite":
        # a time written without its fraction is padded to the width (a space sorts before '.'),
        # and the code, one digit, is read from the end, wherever the time ended
        key = (cast(stances.c.direct, Text).concat(func.printf(literal_column("'%-26s'"), stances.c.reported_at))
               .concat(func.printf(literal_column("'%019d'"), stances.c.id)).concat(cast(code, Text)))
        return key, lambda latest: cast(func.substr(latest, literal_column("-1")), Integer)
    micros = func.round(func.date_part(literal_column("'epoch'"), stances.c.reported_at) * literal_column("1000000"))
    key = postgresql.array([cast(stances.c.direct, BigInteger), cast(micros, BigInteger),
                            cast(stances.c.id, BigInteger), cast(code, BigInteger)])
    return key, lambda latest: latest[literal_column("4")]


_COLUMNS = ["resolved", "successes", "trials", "asserted_n", "asserted_w", "asserted_s", "denied_n", "denied_w",
            "denied_s", "rumoured_n", "rumoured_right", "confirmed_n", "confirmed_right", "pending",
            "median_lead_days"]


def _sums(connection: Connection, rows) -> pd.DataFrame:
    """One GROUP BY over the (claim, source) rows: the per-source sums, the pending count, and the
    median lead of the right calls."""
    earned = rows.c.weight * rows.c.correct
    resolved = rows.c.weight.is_not(None)

    def where(condition, then):
        return func.sum(case((and_(resolved, condition), then), else_=0))

    def mean_where(condition, then):
        return func.avg(case((and_(resolved, condition), then), else_=None))

    denied = rows.c.code == STANCES.index("denied")
    query = select(
        rows.c.speaker, func.count(rows.c.weight), func.coalesce(func.sum(earned), 0.0),
        func.coalesce(func.sum(rows.c.weight), 0.0),
        where(~denied, 1), where(~denied, rows.c.weight), where(~denied, earned),
        where(denied, 1), where(denied, rows.c.weight), where(denied, earned),
        *(aggregate(rows.c.code == STANCES.index(name), then) for name in ("rumoured", "confirmed")
          for aggregate, then in ((where, 1), (mean_where, rows.c.correct))),
        func.sum(case((resolved, 0), else_=1)),
        _median(connection, rows.c.lead_days, and_(resolved, rows.c.correct >= 1.0, rows.c.lead_days.is_not(None))),
    ).group_by(rows.c.speaker)
    frame = pd.DataFrame(connection.execute(query).all(), columns=["source_id", *_COLUMNS]).set_index("source_id")
    counts = [c for c in _COLUMNS if c.endswith("_n") or c in ("resolved", "pending")]
    return frame.astype({c: "int64" for c in counts} | {c: float for c in _COLUMNS if c not in counts})


class _Median:
    """SQLite's median() aggregate: the middle value, or the mean of the middle two (NULLs skipped).
    Its GROUP BY feeds it one group at a time, so it holds one source's values at most."""

    def __init__(self) -> None:
        self.values: list[float] = []

    def step(self, value) -> None:
        """Take one row's value."""
        if value is not None:
            self.values.append(value)

    def finalize(self):
        """The median of the values taken, or NULL when there were none."""
        return statistics.median(self.values) if self.values else None


def _median(connection: Connection, column, condition):
    """The median of `column` over the rows where `condition` holds, as an aggregate: PostgreSQL's
    `percentile_cont(0.5)`; on SQLite, which has none, `_Median` registered on the connection."""
    if connection.dialect.name == "sqlite":
        connection.connection.driver_connection.create_aggregate("median", 1, _Median)
        return func.median(column).filter(condition)
    return func.percentile_cont(0.5).within_group(column).filter(condition)
