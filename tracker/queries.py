"""Read queries for the dashboard: one screen's worth of rows, filtered, counted and paged in SQL.

The service layer (`tracker.ledger`) reads whole claims as ORM objects, which suits one claim or
an export; a page that lists claims must not load the store to show twenty-five of them. Each
function here runs a few SQLAlchemy Core queries (the same on SQLite and PostgreSQL) and returns
plain rows or a small DataFrame. A claim's reported status is derived in SQL exactly as
`tracker.status` derives it (each source's latest report counts; a denial beside an assertion is
contested), and read with its live report count from what the store keeps (`tracker.summaries`).
`fingerprint` is a cheap summary of the store that changes with every write, used as
the key of cached scores. Nothing here writes.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import and_, case, exists, func, literal_column, or_, select
from sqlalchemy.sql import Select

from tracker import store, summaries
from tracker.dates import end_of_day
from tracker.errors import NotFoundError, ValidationError
from tracker.ledger import Ledger, name_key
from tracker.models import (
    Claim,
    ClaimStatus,
    ClaimTopic,
    Outcome,
    Report,
    Source,
    SourceAlias,
    Verdict,
)

if TYPE_CHECKING:
    import pandas as pd

# pandas loads in the functions that build frames (the dashboard's), not for the command line's
# lists, which read ids and rows only

_CLAIM, _REPORT, _OUTCOME, _TOPIC, _S, _A = (m.__table__ for m in (Claim, Report, Outcome, ClaimTopic, Source, SourceAlias))
# what pages show: the live ledger (`tracker.summaries` defines it for the reports). Retracted claims
# (with their reports, verdicts and topics) and retracted reports stay in the store and its history
# but not here; merged sources are left out of lists (`_S` itself keeps them, so an old report
# still has its source's name).
_RETRACTED = summaries.RETRACTED_CLAIMS
_C = select(_CLAIM).where(_CLAIM.c.id.not_in(_RETRACTED)).subquery("live_claim")
_R = summaries.LIVE_REPORTS
_O = select(_OUTCOME).where(_OUTCOME.c.claim_id.not_in(_RETRACTED)).subquery("live_outcome")
_T = select(_TOPIC).where(_TOPIC.c.claim_id.not_in(_RETRACTED)).subquery("live_topic")
_LIVE_S = select(_S).where(_S.c.merged_into_id.is_(None)).subquery("live_source")

# the outcome filter: open (no verdict yet), overdue (open past its expected-by), resolved, or one verdict
OUTCOME_FILTERS = ("any", "open", "overdue", "resolved") + tuple(v.value for v in Verdict)
STATUS_FILTERS = ("any",) + tuple(s.value for s in ClaimStatus)
ORDERS = {
    "newest first": "newest", "oldest first": "oldest", "most reports": "reports", "expected by": "expected",
}
CLAIM_COLUMNS = ["id", "ref", "statement", "status", "outcome", "reports", "sources", "topics",
                 "first_reported_at", "expected_by", "overdue", "first_reported_date_only", "expected_by_date_only"]
# words too common to suggest that two statements are the same claim
_STOPWORDS = frozenset((
    "about", "above", "after", "again", "against", "also", "been", "before", "being", "below", "between",
    "both", "could", "does", "doing", "down", "during", "each", "from", "further", "have", "having", "here",
    "into", "itself", "just", "more", "most", "only", "other", "over", "same", "should", "some", "such",
    "than", "that", "their", "them", "then", "there", "these", "they", "this", "those", "through", "under",
    "until", "very", "were", "what", "when", "where", "which", "while", "will", "with", "would", "your",
    "said", "says", "reports", "reported",
))
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


@dataclass
class Page:
    """One page of rows and how many rows the filter matches in all."""

    rows: pd.DataFrame
    total: int
    offset: int
    limit: int

    @property
    def pages(self) -> int:
        """How many pages the filter's rows fill (at least one)."""
        return max(1, -(-self.total // self.limit)) if self.limit else 1


def _utc(moment):
    """A time read through Core as an aware UTC datetime (drivers may return naive UTC)."""
    if moment is None or (isinstance(moment, float) and moment != moment):  # NaN
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _now(ledger: Ledger, now: datetime | None) -> datetime:
    return _utc(now) if now is not None else _utc(ledger.clock())


def _overdue(now: datetime):
    """The SQL twin of `is_overdue` (without the verdict): the claim's expected-by has passed at `now`."""
    return and_(_C.c.expected_by.is_not(None), or_(
        and_(~_C.c.expected_by_date_only, _C.c.expected_by < now),
        and_(_C.c.expected_by_date_only, _C.c.expected_by < now - timedelta(days=1))))


def is_overdue(expected_by: datetime | None, date_only: bool, now: datetime) -> bool:
    """Whether an open claim expected by `expected_by` is overdue at `now`.

    An expected-by time passes at that time; an expected-by date (`date_only`) at the end of its day:
    a claim expected by 20 December 2016 is overdue from 21 December 00:00 UTC, not on the 20th.
    """
    return expected_by is not None and end_of_day(_utc(expected_by), bool(date_only)) < now


def _escape_like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# -- building blocks -----------------------------------------------------------------------
def _verdict_of(claim_id):
    """The verdict in force on the claim `claim_id` (a column), or NULL while it is open.

    A correlated subquery: one probe of the (claim_id, id) index per claim. (A join with the
    newest outcome ids, `id IN (SELECT max(id) ... GROUP BY claim_id)`, makes SQLite try every id
    in that list for every claim.)
    """
    newest = _OUTCOME.alias("newest")
    return (select(newest.c.verdict).where(newest.c.claim_id == claim_id)
            .order_by(newest.c.id.desc()).limit(1).scalar_subquery())


def _folded(column, dialect: str):
    """`column` as `ILIKE` compares it, for `.like(func.lower(pattern))`: lowered on PostgreSQL (its
    ILIKE lowers both sides in UTF-8), as it is on SQLite, whose LIKE folds case as its lower() does
    (ASCII letters only), so no statement is lowered at all (SQLAlchemy's ILIKE there lowers it)."""
    return column if dialect == "sqlite" else func.lower(column)


def _text_filter(query: Select, text: str | None, dialect: str) -> Select:
    """Claims whose statement holds every word of `text` (any case), or claim `#id` / `id`."""
    text = (text or "").strip()
    if not text:
        return query
    as_id = text.lstrip("#")
    if as_id.isdigit():
        return query.where(_C.c.id == int(as_id))
    for word in text.split():
        query = query.where(_folded(_C.c.statement, dialect).like(func.lower(f"%{_escape_like(word)}%"), escape="\\"))
    return query


def _names(connection, ids) -> dict[int, str]:
    import pandas as pd

    ids = sorted({int(i) for i in ids if i is not None and not pd.isna(i)})
    if not ids:
        return {}
    return dict(connection.execute(select(_S.c.id, _S.c.name).where(_S.c.id.in_(ids))).all())


def source_names(ledger: Ledger, ids) -> dict[int, str]:
    """Source names by id (merged sources included, since history and old reports name them)."""
    with ledger.engine.connect() as connection:
        return _names(connection, ids)


def _page_details(connection, kept, ids: list[int]) -> tuple[dict, dict, dict, dict]:
    """Report counts, source names, topics and status of the claims on one page (any number of them)."""
    details: tuple[dict, dict, dict, dict] = ({}, {}, {}, {})
    for chunk in store.id_chunks(list(ids)):  # a page may be every claim (the CLI's list)
        for whole, part in zip(details, _chunk_details(connection, kept, chunk), strict=True):
            whole.update(part)
    return details


def _chunk_details(connection, kept, ids: list[int]) -> tuple[dict, dict, dict, dict]:
    if not ids:
        return {}, {}, {}, {}
    counts, reported = _counts_and_statuses(connection, kept, ids)
    sources: dict[int, list[str]] = {}
    rows = connection.execute(
        select(_R.c.claim_id, _S.c.name).join(_S, _S.c.id == _R.c.source_id).where(_R.c.claim_id.in_(ids))
        .order_by(_R.c.claim_id, _R.c.reported_at, _R.c.id))
    for claim_id, name in rows:
        names = sources.setdefault(claim_id, [])
        if name not in names:
            names.append(name)
    topics: dict[int, list[str]] = {}
    for claim_id, topic in connection.execute(
            select(_T.c.claim_id, _T.c.topic).where(_T.c.claim_id.in_(ids)).order_by(_T.c.topic)):
        topics.setdefault(claim_id, []).append(topic)
    return counts, sources, topics, reported


def _counts_and_statuses(connection, kept, ids: list[int]) -> tuple[dict, dict]:
    """The live report count and the reported status of each of these claims (those with reports),
    from `kept` (`summaries.current`, read once by the caller for all its slices of ids)."""
    rows = connection.execute(select(kept.c.claim_id, kept.c.reports, kept.c.status).where(kept.c.claim_id.in_(ids)))
    counts, reported = {}, {}
    for claim_id, reports, status in rows:
        counts[claim_id], reported[claim_id] = reports, status
    return counts, reported


# -- the store at a glance -----------------------------------------------------------------
def fingerprint(ledger: Ledger) -> tuple:
    """What cached scores key on: the store and its revision, which every write transaction raises
    (from the dashboard, the command line or another process), edits in place included."""
    return (ledger.engine.url.render_as_string(hide_password=True), ledger.revision())


def overview_counts(ledger: Ledger, now: datetime | None = None) -> dict[str, int]:
    """How many claims (open, overdue, resolved), sources, reports and outcomes the store holds."""
    now = _now(ledger, now)
    resolved = exists().where(_OUTCOME.c.claim_id == _C.c.id)
    with ledger.engine.connect() as connection:
        # three counts, not one pass with a verdict probe per claim (2.5 s at two million claims on
        # PostgreSQL, 0.4 s this way): the resolved ones are the distinct claims of the live verdicts,
        # and only claims past their expected-by are probed for a verdict
        claims, done, late = connection.execute(select(
            select(func.count()).select_from(_C).scalar_subquery(),
            select(func.count(func.distinct(_O.c.claim_id))).scalar_subquery(),
            select(func.count()).select_from(_C).where(_overdue(now), ~resolved).scalar_subquery(),
        )).one()
        kept = summaries.current(connection)  # the live reports: each claim's kept count, summed
        sources, reports, outcomes = connection.execute(select(
            select(func.count()).select_from(_LIVE_S).scalar_subquery(),
            select(func.coalesce(func.sum(kept.c.reports), 0)).scalar_subquery(),
            select(func.count()).select_from(_OUTCOME).scalar_subquery()
            - select(func.count()).select_from(_OUTCOME).where(_OUTCOME.c.claim_id.in_(_RETRACTED)).scalar_subquery(),
        )).one()
    return {"claims": claims, "open": claims - done, "overdue": late, "resolved": done,
            "sources": sources, "reports": reports, "outcomes": outcomes}


def topics(ledger: Ledger) -> list[tuple[str, int]]:
    """Every topic tag with how many claims carry it, most used first."""
    with ledger.engine.connect() as connection:
        rows = connection.execute(select(_T.c.topic, func.count()).group_by(_T.c.topic)
                                  .order_by(func.count().desc(), _T.c.topic))
        return [(topic, n) for topic, n in rows]


def source_choices(ledger: Ledger) -> dict[str, str | None]:
    """Every name a source can be picked by, alphabetically: {name or alias: the source it is an alias of, or None}."""
    with ledger.engine.connect() as connection:
        names = [(name, None) for name in connection.execute(select(_LIVE_S.c.name)).scalars()]
        aliases = list(connection.execute(select(_A.c.alias, _LIVE_S.c.name)
                                          .join(_LIVE_S, _LIVE_S.c.id == _A.c.source_id)).all())
    return dict(sorted(names + [(alias, of) for alias, of in aliases], key=lambda pair: pair[0].casefold()))


def host(url: str | None) -> str:
    """A link's host as sources are matched by it: lower case, without `www.` or a port ("" for none)."""
    match = re.match(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//([^/?#:@\s]+@)?([^/?#:\s]+)", url or "", re.IGNORECASE)
    return match.group(2).lower().removeprefix("www.") if match else ""


def source_for_link(ledger: Ledger, url: str | None) -> str | None:
    """The source whose website is on the same host as `url` (the one with most reports when several are), or None."""
    wanted = host(url)
    if not wanted:
        return None
    reports = select(_R.c.source_id, func.count().label("n")).group_by(_R.c.source_id).subquery("source_reports")
    with ledger.engine.connect() as connection:
        rows = connection.execute(
            select(_LIVE_S.c.name, _LIVE_S.c.url).outerjoin(reports, reports.c.source_id == _LIVE_S.c.id)
            .where(_LIVE_S.c.url.is_not(None)).order_by(func.coalesce(reports.c.n, 0).desc(), _LIVE_S.c.name)).all()
    return next((name for name, site in rows if host(site) == wanted), None)


def recent_choices(ledger: Ledger, limit: int = 6) -> tuple[list[str], list[str]]:
    """The sources of the latest reports and the topics of the latest claims, newest first, each once."""
    with ledger.engine.connect() as connection:
        sources = connection.execute(select(_LIVE_S.c.name).join(_R, _R.c.source_id == _LIVE_S.c.id)
                                     .order_by(_R.c.id.desc()).limit(limit * 20)).scalars().all()
        topics = connection.execute(select(_T.c.topic).order_by(_T.c.claim_id.desc()).limit(limit * 20)).scalars().all()
    return list(dict.fromkeys(sources))[:limit], list(dict.fromkeys(topics))[:limit]


def near_names(typed: str | None, names: Iterable[str], *, limit: int = 5, min_score: float = 0.6) -> list[str]:
    """The names (or aliases) most like `typed`, best first: spelling (difflib) or the same words in any order."""
    mine = " ".join((typed or "").split()).casefold()
    if not mine:
        return []
    my_words = set(mine.split())
    scored = []
    for name in names:
        theirs = " ".join(name.split()).casefold()
        words = set(theirs.split())
        score = max(difflib.SequenceMatcher(None, mine, theirs).ratio(), len(my_words & words) / len(my_words | words),
                    1.0 if len(mine) >= 3 and (mine in theirs or theirs in mine) else 0.0)
        if score >= min_score and theirs != mine:
            scored.append((-score, name.casefold(), name))
    return [name for *_, name in sorted(scored)[:limit]]


def source_kinds(ledger: Ledger) -> list[str]:
    """The kinds that sources in the store have."""
    with ledger.engine.connect() as connection:
        return list(connection.execute(select(_LIVE_S.c.kind).distinct().order_by(_LIVE_S.c.kind)).scalars())


def find_source(ledger: Ledger, name: str | None) -> dict | None:
    """The source a name or alias (any case) points to: {id, name, alias}, or None."""
    key = name_key(name or "")
    if not key:
        return None
    with ledger.engine.connect() as connection:
        row = connection.execute(select(_S.c.id, _S.c.name).where(_S.c.name_key == key)).first()
        if row is not None:
            return {"id": row.id, "name": row.name, "alias": None}
        row = connection.execute(select(_S.c.id, _S.c.name, _A.c.alias).join(_A, _A.c.source_id == _S.c.id)
                                 .where(_A.c.alias_key == key)).first()
        return None if row is None else {"id": row.id, "name": row.name, "alias": row.alias}


# -- claims --------------------------------------------------------------------------------
def claim_ids(ledger: Ledger, *, text: str | None = None, status: str | None = None, outcome: str | None = None,
              topic: str | None = None, source: str | None = None, order: str = "newest") -> list[int]:
    """The ids of every claim matching `claim_rows`'s filters, in its order (no frame: the command line's list)."""
    with ledger.engine.connect() as connection:
        query = _claims_query(ledger, summaries.current(connection), text=text, status=status, outcome=outcome,
                              topic=topic, source=source, order=order, now=_now(ledger, None))
        return [row.id for row in connection.execute(query)]


def claim_list(ledger: Ledger, *, status: str | None = None, outcome: str | None = None, topic: str | None = None,
               source: str | None = None) -> list[tuple]:
    """Every claim matching `claim_rows`'s filters, by id, as the command line's list shows it:
    (id, ref, statement, status, verdict or None, live reports, first reported at, date only).

    Set-based: the claims in one statement, then their report counts and statuses a slice of ids
    at a time (one ORM object per claim and per report took minutes at ten million reports)."""
    with ledger.engine.connect() as connection:
        kept = summaries.current(connection)
        query = _claims_query(ledger, kept, text=None, status=status, outcome=outcome, topic=topic,
                              source=source, order="oldest", now=_now(ledger, None)).order_by(None).order_by(_C.c.id)
        rows = connection.execute(query).all()
        counts: dict[int, int] = {}
        reported: dict[int, str] = {}
        for chunk in store.id_chunks([row.id for row in rows]):
            chunk_counts, chunk_statuses = _counts_and_statuses(connection, kept, chunk)
            counts.update(chunk_counts)
            reported.update(chunk_statuses)
    return [(row.id, row.ref, row.statement, reported.get(row.id, ClaimStatus.unreported.value), row.verdict,
             counts.get(row.id, 0), row.first_reported_at, bool(row.first_reported_date_only)) for row in rows]


def _claims_query(ledger: Ledger, kept, *, text, status, outcome, topic, source, order, now) -> Select:
    """The claims matching `claim_rows`'s filters, in its order: id, ref, statement, times and verdict.
    `kept` (`summaries.current`) gives the status filter and the order by reports: an index read,
    where grouping every report took seconds."""
    verdict = _verdict_of(_C.c.id)
    resolved = exists().where(_OUTCOME.c.claim_id == _C.c.id)
    query = select(_C.c.id, _C.c.ref, _C.c.statement, _C.c.first_reported_at, _C.c.expected_by,
                   verdict.label("verdict"), _C.c.first_reported_date_only, _C.c.expected_by_date_only)
    query = _text_filter(query, text, ledger.engine.dialect.name)
    if outcome and outcome != "any":
        if outcome not in OUTCOME_FILTERS:
            raise ValidationError(f"unknown outcome filter {outcome!r}; use one of: {', '.join(OUTCOME_FILTERS)}")
        if outcome == "open":
            query = query.where(~resolved)
        elif outcome == "overdue":
            query = query.where(~resolved, _overdue(now))
        elif outcome == "resolved":
            query = query.where(resolved)
        else:
            query = query.where(verdict == outcome)
    if status and status != "any":
        if status not in STATUS_FILTERS:
            raise ValidationError(f"unknown status {status!r}; use one of: {', '.join(STATUS_FILTERS[1:])}")
        if status == ClaimStatus.unreported.value:  # no live report: no row (NOT EXISTS: an anti-join on both backends)
            query = query.where(~exists().where(kept.c.claim_id == _C.c.id))
        else:
            query = query.where(_C.c.id.in_(select(kept.c.claim_id).where(kept.c.status == status)))
    if topic:
        query = query.where(_C.c.id.in_(select(_T.c.claim_id).where(_T.c.topic == topic.strip().lower())))
    if source:
        found = find_source(ledger, source)
        if found is None:
            raise NotFoundError(f"no source is called {source!r}; check the spelling, or list the sources (`tracker sources`, or the Sources page)")
        query = query.where(_C.c.id.in_(select(_R.c.claim_id).where(
            or_(_R.c.source_id == found["id"], _R.c.via_source_id == found["id"]))))
    if order == "reports":
        query = query.outerjoin(kept, kept.c.claim_id == _C.c.id).order_by(
            func.coalesce(kept.c.reports, 0).desc(), _C.c.id.desc())
    elif order == "oldest":
        query = query.order_by(_C.c.first_reported_at, _C.c.id)
    elif order == "expected":
        query = query.order_by(_C.c.expected_by.is_(None), _C.c.expected_by, _C.c.id)
    else:
        query = query.order_by(_C.c.first_reported_at.desc(), _C.c.id.desc())
    return query


def claim_rows(ledger: Ledger, *, text: str | None = None, status: str | None = None,
               outcome: str | None = None, topic: str | None = None, source: str | None = None,
               order: str = "newest", offset: int = 0, limit: int = 25, now: datetime | None = None) -> Page:
    """One page of claims matching the filters, with status, outcome, report count, sources, topics.

    `text`: words the statement holds (or `#id`); `status`: a reported status; `outcome`: one of
    OUTCOME_FILTERS; `source`: a name or alias (its own reports and those relaying it).
    """
    import pandas as pd

    now = _now(ledger, now)
    with ledger.engine.connect() as connection:
        kept = summaries.current(connection)
        query = _claims_query(ledger, kept, text=text, status=status, outcome=outcome, topic=topic,
                              source=source, order=order, now=now)
        total = connection.execute(select(func.count()).select_from(query.order_by(None).subquery())).scalar_one()
        rows = connection.execute(query.offset(max(offset, 0)).limit(limit)).all()
        ids = [r.id for r in rows]
        counts, sources, tags, reported = _page_details(connection, kept, ids)
    frame = pd.DataFrame([{
        "id": r.id, "ref": r.ref or "", "statement": r.statement,
        "status": reported.get(r.id, ClaimStatus.unreported.value),
        "outcome": r.verdict or "open", "reports": counts.get(r.id, 0),
        "sources": ", ".join(sources.get(r.id, [])), "topics": ", ".join(tags.get(r.id, [])),
        "first_reported_at": _utc(r.first_reported_at), "expected_by": _utc(r.expected_by),
        "overdue": r.verdict is None and is_overdue(r.expected_by, r.expected_by_date_only, now),
        "first_reported_date_only": bool(r.first_reported_date_only), "expected_by_date_only": bool(r.expected_by_date_only),
    } for r in rows], columns=CLAIM_COLUMNS)
    return Page(frame, total, offset, limit)


def review_queue(ledger: Ledger, *, offset: int = 0, limit: int = 25, now: datetime | None = None) -> Page:
    """Open claims to settle: overdue first (past expected-by), then those with most reports."""
    import pandas as pd

    now = _now(ledger, now)
    overdue = case((_overdue(now), 1), else_=0).label("overdue")
    with ledger.engine.connect() as connection:
        # each open claim's kept report count (one row per claim), where counting its reports
        # through the report index took 3.8 s at ten million reports on PostgreSQL (benchmarks/README.md)
        kept = summaries.current(connection)
        n = func.coalesce(kept.c.reports, 0).label("reports")
        query = (select(_C.c.id, _C.c.ref, _C.c.statement, _C.c.first_reported_at, _C.c.expected_by,
                        n, overdue, _C.c.first_reported_date_only, _C.c.expected_by_date_only)
                 .select_from(_C.outerjoin(kept, kept.c.claim_id == _C.c.id))
                 .where(~exists().where(_OUTCOME.c.claim_id == _C.c.id))
                 .order_by(overdue.desc(), n.desc(), _C.c.expected_by.is_(None), _C.c.expected_by,
                           _C.c.first_reported_at, _C.c.id))
        total = connection.execute(select(func.count()).select_from(_C)
                                   .where(~exists().where(_OUTCOME.c.claim_id == _C.c.id))).scalar_one()
        rows = connection.execute(query.offset(max(offset, 0)).limit(limit)).all()
        ids = [r.id for r in rows]
        _counts, sources, tags, reported = _page_details(connection, kept, ids)
    frame = pd.DataFrame([{
        "id": r.id, "ref": r.ref or "", "statement": r.statement,
        "status": reported.get(r.id, ClaimStatus.unreported.value), "outcome": "open",
        "reports": r.reports, "sources": ", ".join(sources.get(r.id, [])), "topics": ", ".join(tags.get(r.id, [])),
        "first_reported_at": _utc(r.first_reported_at), "expected_by": _utc(r.expected_by),
        "overdue": bool(r.overdue),
        "first_reported_date_only": bool(r.first_reported_date_only), "expected_by_date_only": bool(r.expected_by_date_only),
    } for r in rows], columns=CLAIM_COLUMNS)
    return Page(frame, total, offset, limit)


def _words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.casefold()) if len(w) >= 4 and w not in _STOPWORDS]


LIKELY = 0.75  # how alike two statements must be to be offered as one claim logged twice


def likely_duplicate_pairs(ledger: Ledger, claims: dict[int, str], min_score: float = LIKELY) -> list[tuple]:
    """Pairs (older id, newer id, similarity) of claims that read alike, one of each pair among
    `claims` (id -> statement) and the other anywhere in the store; the most alike first."""
    pairs = set()
    for claim_id, statement in claims.items():
        alike = similar_claims(ledger, statement, limit=3, min_score=min_score)
        pairs |= {(min(claim_id, int(other)), max(claim_id, int(other)), score)
                  for other, score in zip(alike["id"], alike["similarity"]) if int(other) != claim_id}
    return sorted(pairs, key=lambda pair: -pair[2])


def _sharing_words(ledger: Ledger, words: list[str], candidates: int) -> list:
    """(id, statement) of up to `candidates` claims holding any of `words` (any case, anywhere in
    the statement), those holding the most first, then the newest: `ILIKE` per word, for less."""
    # `ILIKE` lowers the statement again for every word, and a flattened subquery repeats the count
    # of shared words in the WHERE and the ORDER BY. Here each statement is folded once (`_folded`)
    # and counted once; OFFSET 0 keeps a subquery from being flattened into the next. At two million
    # claims: 4.9 s on SQLite and 6.7 s on PostgreSQL before, 1.1-1.3 and 1.7 s this way.
    folded = (select(_C.c.id, _C.c.statement, _folded(_C.c.statement, ledger.engine.dialect.name).label("folded"))
              .offset(0).subquery("folded"))
    hits = [case((folded.c.folded.like(func.lower(f"%{_escape_like(w)}%"), escape="\\"), 1), else_=0) for w in words]
    scored = select(folded.c.id, folded.c.statement, sum(hits[1:], hits[0]).label("shared")).offset(0).subquery("scored")
    query = (select(scored.c.id, scored.c.statement).where(scored.c.shared > 0)
             .order_by(scored.c.shared.desc(), scored.c.id.desc()).limit(candidates))
    with ledger.engine.connect() as connection:
        return connection.execute(query).all()


def similar_claims(ledger: Ledger, statement: str, *, limit: int = 5, min_score: float = 0.5,
                   candidates: int = 200) -> pd.DataFrame:
    """Claims whose statement looks like `statement` (likely duplicates), most similar first.

    SQL finds candidates sharing its longer words (LIKE, any case); difflib and word overlap rank them.
    """
    import pandas as pd

    columns = ["id", "statement", "similarity"]
    words = sorted(set(_words(statement or "")), key=len, reverse=True)[:8]
    if not words:
        return pd.DataFrame(columns=columns)
    rows = _sharing_words(ledger, words, candidates)
    mine = " ".join(statement.split()).casefold()
    my_words = set(_words(statement))
    scored = []
    for claim_id, text in rows:
        theirs = " ".join(text.split()).casefold()
        their_words = set(_words(text))
        overlap = len(my_words & their_words) / len(my_words | their_words) if my_words | their_words else 0.0
        ratio = difflib.SequenceMatcher(None, mine, theirs).ratio()
        score = max(ratio, overlap)
        if score >= min_score:
            scored.append((claim_id, text, round(score, 2)))
    scored.sort(key=lambda row: (-row[2], -row[0]))
    return pd.DataFrame(scored[:limit], columns=columns)


def find_claims(ledger: Ledger, text: str | None, *, limit: int = 20) -> list[tuple[int, str]]:
    """(id, statement) of claims matching `text` (`#id`, or words), newest first; none for no text."""
    if not (text or "").strip():
        return []
    query = _text_filter(select(_C.c.id, _C.c.statement), text, ledger.engine.dialect.name).order_by(_C.c.first_reported_at.desc(),
                                                                       _C.c.id.desc()).limit(limit)
    with ledger.engine.connect() as connection:
        return [(r.id, r.statement) for r in connection.execute(query)]


AFTER_LIMIT = 50  # how many claims an import created are looked at for likely duplicates


def newest_claim_id(ledger: Ledger) -> int:
    """The id of the newest claim (0 in an empty store): claims with a higher id came later."""
    with ledger.engine.connect() as connection:
        return connection.execute(select(func.coalesce(func.max(_CLAIM.c.id), 0))).scalar_one()


def claims_after(ledger: Ledger, claim_id: int, *, limit: int = AFTER_LIMIT) -> dict[int, str]:
    """{id: statement} of the first live claims logged after claim `claim_id` (those an import created)."""
    with ledger.engine.connect() as connection:
        rows = connection.execute(select(_C.c.id, _C.c.statement).where(_C.c.id > claim_id)
                                  .order_by(_C.c.id).limit(limit))
        return {r.id: r.statement for r in rows}


def claim_labels(ledger: Ledger, ids, width: int = 80) -> dict[int, str]:
    """Claims named as people know them, by id: the statement (shortened to `width`) and its ref,
    retracted and merged claims too (the history names them)."""
    wanted = sorted({int(i) for i in ids if i is not None})
    if not wanted:
        return {}
    with ledger.engine.connect() as connection:
        rows = connection.execute(select(_CLAIM.c.id, _CLAIM.c.statement, _CLAIM.c.ref)
                                  .where(_CLAIM.c.id.in_(wanted))).all()
    short = {r.id: r.statement if len(r.statement) <= width else r.statement[: width - 1] + "…" for r in rows}
    return {r.id: f"{short[r.id]} ({r.ref})" if r.ref else short[r.id] for r in rows}


def claim_statement(ledger: Ledger, claim_id: int) -> str | None:
    """A claim's statement, or None when the store has no such claim."""
    with ledger.engine.connect() as connection:
        return connection.execute(select(_C.c.statement).where(_C.c.id == claim_id)).scalar_one_or_none()


def recent_activity(ledger: Ledger, limit: int = 10) -> pd.DataFrame:
    """The latest reports and outcomes logged, newest first: when, what, claim, source, stance or verdict."""
    import pandas as pd

    with ledger.engine.connect() as connection:
        reports = connection.execute(
            select(_R.c.id, _R.c.logged_at, _R.c.claim_id, _S.c.name, _R.c.stance, _R.c.reported_at,
                   _R.c.reported_date_only)
            .join(_S, _S.c.id == _R.c.source_id).order_by(_R.c.id.desc()).limit(limit)).all()
        outcomes = connection.execute(
            select(_O.c.id, _O.c.recorded_at, _O.c.claim_id, _O.c.verdict, _O.c.decided_at, _O.c.decided_date_only)
            .order_by(_O.c.id.desc()).limit(limit)).all()
        events = [{"logged_at": _utc(r.logged_at), "what": "report", "claim_id": r.claim_id, "source": r.name,
                   "stance or verdict": r.stance, "as of": _utc(r.reported_at),
                   "as_of_date_only": bool(r.reported_date_only), "_order": (0, r.id)} for r in reports]
        events += [{"logged_at": _utc(o.recorded_at), "what": "outcome", "claim_id": o.claim_id, "source": "",
                    "stance or verdict": o.verdict, "as of": _utc(o.decided_at),
                    "as_of_date_only": bool(o.decided_date_only), "_order": (1, o.id)}
                   for o in outcomes]
        events.sort(key=lambda e: (e["logged_at"], e["_order"]), reverse=True)
        events = events[:limit]
        ids = sorted({e["claim_id"] for e in events})
        statements = {}
        if ids:
            statements = dict(connection.execute(select(_C.c.id, _C.c.statement).where(_C.c.id.in_(ids))).all())
    columns = ["logged_at", "what", "claim_id", "claim", "source", "stance or verdict", "as of", "as_of_date_only"]
    return pd.DataFrame([{**e, "claim": statements.get(e["claim_id"], "")} for e in events], columns=columns)


# -- sources -------------------------------------------------------------------------------
def source_detail(ledger: Ledger, source_id: int) -> dict:
    """A source's details: name, kind, affiliation, url, notes, parent, aliases, claims, reports."""
    with ledger.engine.connect() as connection:
        row = connection.execute(select(_S).where(_S.c.id == source_id)).first()
        if row is None:
            raise NotFoundError(f"there is no source #{source_id}; pick one on the Sources page")
        parent = None
        if row.parent_id is not None:
            parent = connection.execute(select(_S.c.name).where(_S.c.id == row.parent_id)).scalar_one_or_none()
        aliases = list(connection.execute(select(_A.c.alias).where(_A.c.source_id == source_id)
                                          .order_by(_A.c.alias)).scalars())
        reports, claims = connection.execute(
            select(func.count(), func.count(func.distinct(_R.c.claim_id))).where(_R.c.source_id == source_id)).one()
        relayed = connection.execute(select(func.count()).select_from(_R)
                                     .where(_R.c.via_source_id == source_id)).scalar_one()
        merged_into = None
        if row.merged_into_id is not None:
            merged_into = connection.execute(select(_S.c.id, _S.c.name).where(_S.c.id == row.merged_into_id)).first()
    return {"id": row.id, "name": row.name, "kind": row.kind, "affiliation": row.affiliation, "url": row.url,
            "notes": row.notes, "parent": parent, "aliases": aliases, "reports": reports, "claims": claims,
            "relayed": relayed, "version": row.version,
            "merged_into": None if merged_into is None else {"id": merged_into.id, "name": merged_into.name}}


def source_id_by_name(ledger: Ledger) -> dict[str, int]:
    """Every source's id by its name."""
    with ledger.engine.connect() as connection:
        return dict(connection.execute(select(_LIVE_S.c.name, _LIVE_S.c.id)).all())


def _source_stances(source_id: int):
    """Per claim, the latest report in which the source speaks (its own, or relayed by another)."""
    ranked = select(
        _R.c.claim_id, _R.c.stance, _R.c.reported_at, _R.c.reported_date_only, _R.c.source_id, _R.c.via_source_id,
        func.row_number().over(partition_by=_R.c.claim_id,
                               order_by=(case((_R.c.source_id == source_id, 1), else_=0).desc(),
                                         _R.c.reported_at.desc(), _R.c.id.desc())).label("rn"),
    ).where(or_(_R.c.source_id == source_id, _R.c.via_source_id == source_id)).subquery("source_reports")
    return select(ranked).where(ranked.c.rn == 1).subquery("source_stance")


def source_claims(ledger: Ledger, source_id: int, *, offset: int = 0, limit: int = 25) -> Page:
    """One page of the claims a source made or that were relayed from it, newest report first.

    Per claim: the source's latest stance (its own reports win over relays of it) and the verdict.
    """
    import pandas as pd

    stance = _source_stances(source_id)
    query = (select(stance.c.claim_id, _C.c.statement, stance.c.stance, stance.c.reported_at, stance.c.reported_date_only,
                    stance.c.source_id, stance.c.via_source_id, _verdict_of(stance.c.claim_id).label("verdict"))
             .join(_C, _C.c.id == stance.c.claim_id)
             .order_by(stance.c.reported_at.desc(), stance.c.claim_id.desc()))
    with ledger.engine.connect() as connection:
        total = connection.execute(select(func.count()).select_from(stance)).scalar_one()
        rows = connection.execute(query.offset(max(offset, 0)).limit(limit)).all()
        names = _names(connection, [r.source_id for r in rows] + [r.via_source_id for r in rows])
    frame = pd.DataFrame([{
        "id": r.claim_id, "statement": r.statement, "stance": r.stance, "reported_at": _utc(r.reported_at),
        "how": (f"relayed from {names.get(r.via_source_id, '?')}" if r.source_id == source_id and r.via_source_id
                else "own report" if r.source_id == source_id else f"relayed by {names.get(r.source_id, '?')}"),
        "outcome": r.verdict or "open", "reported_date_only": bool(r.reported_date_only),
    } for r in rows], columns=["id", "statement", "stance", "reported_at", "how", "outcome", "reported_date_only"])
    return Page(frame, total, offset, limit)


def source_record(ledger: Ledger, source_id: int) -> pd.DataFrame:
    """A source's record by stance: per stance, claims, how many were true / false / partly true /
    unverifiable / open, and the truth rate of the resolved ones (partly true counts half)."""
    import pandas as pd

    stance = _source_stances(source_id)
    judged = select(stance.c.stance, func.coalesce(_verdict_of(stance.c.claim_id), literal_column("'open'"))
                    .label("verdict")).subquery("judged")
    query = select(judged.c.stance, judged.c.verdict, func.count()).group_by(judged.c.stance, judged.c.verdict)
    with ledger.engine.connect() as connection:
        rows = connection.execute(query).all()
    verdicts = [v.value for v in Verdict] + ["open"]
    table = pd.DataFrame(0, index=pd.Index(["rumoured", "confirmed", "denied"], name="stance"), columns=verdicts)
    for stance_value, verdict_value, n in rows:
        table.loc[stance_value, verdict_value] = n
    table = table[table.sum(axis=1) > 0]
    judged = table["true"] + table["false"] + table["partly_true"]
    table.insert(0, "claims", table.sum(axis=1))
    table["truth_rate"] = ((table["true"] + 0.5 * table["partly_true"]) / judged.where(judged > 0)).astype(float)
    table["resolved"] = judged
    return table.reset_index()


def source_settle_times(ledger: Ledger, source_id: int, limit: int = 40) -> list[datetime]:
    """The moments a source's record changed: its first report, then each time an outcome on one
    of its claims became known; oldest first, thinned evenly to at most `limit` (ends kept)."""
    speaks = or_(_R.c.source_id == source_id, _R.c.via_source_id == source_id)
    with ledger.engine.connect() as connection:
        first = connection.execute(select(func.min(_R.c.reported_at)).where(speaks)).scalar_one_or_none()
        settled = connection.execute(select(_O.c.decided_at).where(
            _O.c.claim_id.in_(select(_R.c.claim_id).where(speaks))).distinct()).scalars()
        times = sorted({_utc(t) for t in settled} | ({_utc(first)} if first is not None else set()))
    if len(times) > limit:
        step = (len(times) - 1) / (limit - 1)
        times = [times[round(i * step)] for i in range(limit)]
    return times
