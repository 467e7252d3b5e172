"""Each source's record as `tracker.scoring` counts it, aggregated on the database.

`tracker.scoring.score_sources` reads every report into memory; at millions of reports that is
gigabytes. `source_tallies` asks the database instead, with window functions and GROUP BY (which
PostgreSQL can run in parallel), so the memory it takes grows with the number of sources, not
with reports. It counts exactly what the in-memory path counts (see `tracker.scoring`'s
docstring, and the parity test): per (claim, source) the latest stance reported by the time the
claim's verdict in force became known, a relay speaking for its origin too, the source's own
report winning over relays (its own, then its relay of another, then another's relay of it),
later reports winning over earlier ones, ties by report id; the first time the source took that
stance; merged sources, retracted claims and retracted reports left out. The same columns as
`tracker.scoring.tallies_from_rows` returns, for `tracker.scoring.table_from_tallies`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd
from sqlalchemy import Float, and_, case, func, literal, select, union_all
from sqlalchemy.engine import Connection, Engine

from tracker.models import Claim, ClaimTopic, Outcome, Report, Source

_R, _O, _C, _T, _S = (m.__table__ for m in (Report, Outcome, Claim, ClaimTopic, Source))
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
    verdicts = (select(_O.c.claim_id, _O.c.decided_at, value.label("value"))
                .join(newest, _O.c.id == newest.c.id).subquery("verdicts"))

    # stance rows: each report speaks for its source (rank 2, or 1 when it relays another) and,
    # when it is a relay, for its origin too (rank 0)
    live = and_(_R.c.retracted_at.is_(None), wanted(_R.c.claim_id))
    if as_of is not None:
        live = and_(live, _R.c.reported_at <= as_of)
    own = select(_R.c.id, _R.c.claim_id, _R.c.source_id.label("speaker"),
                 case((_R.c.via_source_id.is_not(None), 1), else_=2).label("direct"),
                 _R.c.stance, _R.c.reported_at).where(live)
    implied = select(_R.c.id, _R.c.claim_id, _R.c.via_source_id.label("speaker"), literal(0).label("direct"),
                     _R.c.stance, _R.c.reported_at).where(live, _R.c.via_source_id.is_not(None))
    stances = union_all(own, implied).subquery("stances")

    # credit: the latest stance per (claim, source) among reports made by the verdict's time
    said = (select(stances, verdicts.c.value, verdicts.c.decided_at)
            .join(verdicts, verdicts.c.claim_id == stances.c.claim_id)
            .where(verdicts.c.value.is_not(None), stances.c.reported_at <= verdicts.c.decided_at).subquery("said"))
    group = (said.c.claim_id, said.c.speaker)
    ranked = select(
        said.c.speaker, said.c.stance, said.c.value, said.c.decided_at,
        func.row_number().over(partition_by=group,
                               order_by=(said.c.direct.desc(), said.c.reported_at.desc(), said.c.id.desc())).label("rn"),
        func.min(said.c.reported_at).over(partition_by=(*group, said.c.stance)).label("first_at"),
    ).subquery("ranked")
    asserted = ranked.c.stance != "denied"
    correct = case((asserted, ranked.c.value), else_=1.0 - ranked.c.value)
    weight = case((ranked.c.stance == "rumoured", literal(rumour_weight, Float)), else_=literal(1.0, Float))
    if half_life_days is not None:
        moment = now or datetime.now(UTC)
        age = _days(connection, literal(moment, _O.c.decided_at.type), ranked.c.decided_at)
        weight = weight * _power(connection)(0.5, case((age > 0, age), else_=0.0) / float(half_life_days))
    rows = select(ranked.c.speaker, ranked.c.stance, correct.label("correct"),
                  weight.label("weight"),
                  _days(connection, ranked.c.decided_at, ranked.c.first_at).label("lead_days"),
                  ).where(ranked.c.rn == 1).subquery("rows")
    by_source = _sums(connection, rows)

    # pending: one per (claim, source) on claims without any verdict known yet
    open_pairs = (select(stances.c.claim_id, stances.c.speaker)
                  .where(stances.c.claim_id.not_in(select(verdicts.c.claim_id))).distinct().subquery("open_pairs"))
    pending = dict(connection.execute(
        select(open_pairs.c.speaker, func.count()).group_by(open_pairs.c.speaker)).all())
    pending = pd.Series(pending, dtype="int64")
    by_source = by_source.reindex(by_source.index.union(pending.index))
    by_source["pending"] = pending

    sources = pd.DataFrame(connection.execute(
        select(_S.c.id, _S.c.name, _S.c.kind).where(_S.c.merged_into_id.is_(None)).order_by(_S.c.id)).all(),
        columns=["id", "name", "kind"]).set_index("id")
    totals = {
        "earned": float(by_source["successes"].sum()), "weight": float(by_source["trials"].sum()),
        **{f"{part}_{what}": float(by_source[f"{part}_{letter}"].sum())
           for part in ("asserted", "denied") for what, letter in (("earned", "s"), ("weight", "w"))},
    }
    return Tallies(sources, by_source, totals)


_COLUMNS = ["resolved", "successes", "trials", "asserted_n", "asserted_w", "asserted_s", "denied_n", "denied_w",
            "denied_s", "rumoured_n", "rumoured_right", "confirmed_n", "confirmed_right", "median_lead_days"]


def _sums(connection: Connection, rows) -> pd.DataFrame:
    """One GROUP BY over the credit rows: the per-source sums, and the median lead of the right calls.

    The median by window functions, as both backends have them: among a source's right calls
    ranked by lead, the middle one, or the mean of the middle two.
    """
    right = (rows.c.correct >= 1.0) & rows.c.lead_days.is_not(None)
    calls = select(
        rows, right.label("right"),
        func.row_number().over(partition_by=(rows.c.speaker, right), order_by=rows.c.lead_days).label("k"),
        func.count().over(partition_by=(rows.c.speaker, right)).label("n"),
    ).subquery("calls")
    earned = calls.c.weight * calls.c.correct

    def where(condition, then):
        return func.sum(case((condition, then), else_=0))

    def mean_where(condition, then):
        return func.avg(case((condition, then), else_=None))

    denied = calls.c.stance == "denied"
    middle = calls.c.right & ((calls.c.k == (calls.c.n + 1) // 2) | (calls.c.k == (calls.c.n + 2) // 2))
    query = select(
        calls.c.speaker, func.count(), func.sum(earned), func.sum(calls.c.weight),
        where(~denied, 1), where(~denied, calls.c.weight), where(~denied, earned),
        where(denied, 1), where(denied, calls.c.weight), where(denied, earned),
        where(calls.c.stance == "rumoured", 1), mean_where(calls.c.stance == "rumoured", calls.c.correct),
        where(calls.c.stance == "confirmed", 1), mean_where(calls.c.stance == "confirmed", calls.c.correct),
        mean_where(middle, calls.c.lead_days),
    ).group_by(calls.c.speaker)
    frame = pd.DataFrame(connection.execute(query).all(), columns=["source_id", *_COLUMNS]).set_index("source_id")
    return frame.astype({c: "int64" for c in _COLUMNS if c.endswith("_n") or c == "resolved"} |
                        {c: float for c in _COLUMNS if not (c.endswith("_n") or c == "resolved")})
