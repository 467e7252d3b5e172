"""Writing an imported file to the store: every rule checked per row, every write in bulk.

`tracker.interchange` parses CSV or JSON into a `Bundle`; `apply_bundle` checks each claim, report
and outcome against the same rules as the service layer (`tracker.ledger`'s `check_*` functions),
collects every bad row, and only then writes, in one transaction, with a handful of bulk
statements (SQLAlchemy Core `insert(...)` with many rows) instead of one ORM object per row. A
bundle with any bad row changes nothing. What the store already holds is skipped, so importing the
same file twice adds nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.engine import Connection

from tracker.errors import ImportRejected, LedgerError, RowError, ValidationError
from tracker.ledger import (
    MAX_STATEMENT,
    Ledger,
    Writer,
    check_expected_by,
    check_not_future,
    check_outcome_time,
    check_source_name,
    check_statement,
    name_key,
)
from tracker.models import Claim, ClaimTopic, Outcome, Report, Source, SourceAlias, SourceKind

CHUNK = 500  # values per IN (...) list: well under every backend's limit on bound parameters


@dataclass(slots=True)
class ReportIn:
    """A report as read from a file, with where it came from."""

    row: str
    source: str
    stance: str
    reported_at: datetime
    via: str | None = None
    url: str | None = None
    quote: str | None = None
    note: str | None = None


@dataclass(slots=True)
class OutcomeIn:
    """A verdict as read from a file."""

    row: str
    verdict: str
    decided_at: datetime
    evidence: str | None = None
    note: str | None = None
    reviewer: str | None = None


@dataclass(slots=True)
class ClaimIn:
    """A claim as read from a file, with its reports and verdicts."""

    row: str
    ref: str | None
    statement: str
    topics: list[str] = field(default_factory=list)
    expected_by: datetime | None = None
    first_reported_at: datetime | None = None
    reports: list[ReportIn] = field(default_factory=list)
    outcomes: list[OutcomeIn] = field(default_factory=list)


@dataclass
class SourceIn:
    """A source's details as read from a file."""

    row: str
    name: str
    kind: str | None = None
    affiliation: str | None = None
    url: str | None = None
    notes: str | None = None
    aliases: list[str] = field(default_factory=list)
    parent: str | None = None


@dataclass
class Bundle:
    """What a file holds, parsed but not yet checked against the store."""

    claims: list[ClaimIn] = field(default_factory=list)
    sources: list[SourceIn] = field(default_factory=list)
    # rows already found bad while parsing; the rest are still checked against the store so
    # that one rejection lists every bad row
    errors: list[RowError] = field(default_factory=list)


@dataclass
class ImportSummary:
    """What an import changed."""

    claims_created: int = 0
    claims_matched: int = 0
    reports_added: int = 0
    reports_skipped: int = 0
    outcomes_added: int = 0
    sources_created: int = 0

    def __str__(self) -> str:
        return (
            f"{self.claims_created} claim(s) created, {self.claims_matched} matched existing; "
            f"{self.reports_added} report(s) added, {self.reports_skipped} already present; "
            f"{self.outcomes_added} outcome(s) added; {self.sources_created} source(s) created"
        )


@dataclass(slots=True)
class _Existing:
    id: int
    statement: str
    first_reported_at: datetime
    expected_by: datetime | None


@dataclass(slots=True)
class _Plan:
    """One claim of the bundle, checked: what to write for it."""

    item: ClaimIn
    statement: str
    existing: _Existing | None
    first_reported_at: datetime
    expected_by: datetime | None
    reports: list[tuple] = field(default_factory=list)  # (source_id, stance, at, via_id, url, quote, note)
    outcomes: list[OutcomeIn] = field(default_factory=list)
    claim_id: int | None = None


def _chunks(values: list, size: int = CHUNK) -> Iterator[list]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def apply_bundle(ledger: Ledger, bundle: Bundle) -> ImportSummary:
    """Write a Bundle in one transaction; on any bad row, roll back and raise ImportRejected."""
    summary = ImportSummary()
    errors: list[RowError] = list(bundle.errors)
    with ledger.transaction() as w:
        connection = w.session.connection()
        sources_before = connection.execute(select(func.count()).select_from(Source)).scalar_one()
        _apply_sources(w, bundle.sources, errors)
        w.session.flush()
        source_ids = _resolve_sources(connection, bundle.claims, w.now, errors)
        plans = _plan(connection, bundle.claims, source_ids, w.now, errors)
        if errors:
            raise ImportRejected(sorted(errors, key=_row_order))
        _write(connection, plans, w, summary)
        summary.sources_created = connection.execute(select(func.count()).select_from(Source)).scalar_one() - sources_before
    return summary


def _row_order(error: RowError) -> tuple:
    """Sort key putting `row 10` after `row 9` and `claims[2].reports[10]` after `...[9]`."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", error.row))


def _apply_sources(w: Writer, sources: list[SourceIn], errors: list[RowError]) -> None:
    """Sources with details (JSON only; few): through the service layer, parents in a second pass."""
    for src in sources:
        try:
            existing = w.find_source(src.name)
            details = dict(kind=src.kind, affiliation=src.affiliation, url=src.url, notes=src.notes,
                           aliases=src.aliases)
            if existing is None:
                w.add_source(src.name, **details)
            else:
                w.update_source(existing, **details)
        except LedgerError as exc:
            errors.append(RowError(src.row, str(exc)))
    for src in sources:
        if src.parent:
            try:
                w.update_source(w.source(src.name, create=False), parent=src.parent)
            except LedgerError as exc:
                errors.append(RowError(src.row, f"parent: {exc}"))


def _resolve_sources(connection: Connection, claims: list[ClaimIn], now: datetime,
                     errors: list[RowError]) -> dict[str, int]:
    """Source id for every name a report or relay uses (as written), creating unknown sources."""
    raw_names = {r.source for c in claims for r in c.reports} | {r.via for c in claims for r in c.reports if r.via}
    keys: dict[str, str] = {}  # raw name -> name key
    wanted: dict[str, str] = {}  # name key -> display name of a source to create
    refused: dict[str, str] = {}
    for raw in raw_names:
        try:
            cleaned = check_source_name(raw)
        except LedgerError as exc:
            refused[raw] = str(exc)
            continue
        keys[raw] = name_key(cleaned)
        wanted.setdefault(keys[raw], cleaned)
    if refused:
        for claim in claims:
            for report in claim.reports:
                for name in (report.source, report.via):
                    if name in refused:
                        errors.append(RowError(report.row, refused[name]))
    known = dict(connection.execute(select(Source.name_key, Source.id)).all())
    known.update(connection.execute(select(SourceAlias.alias_key, SourceAlias.source_id)).all())
    missing = [key for key in wanted if key not in known]
    if missing:
        _insert_rows(connection, Source.__table__, ("name", "name_key"), [(wanted[k], k) for k in missing],
                     {"kind": SourceKind.other.value, "created_at": now})
        for chunk in _chunks(missing):
            known.update(connection.execute(
                select(Source.name_key, Source.id).where(Source.name_key.in_(chunk))).all())
    return {raw: known[key] for raw, key in keys.items()}


def _insert_rows(connection: Connection, table, columns: tuple[str, ...], rows: list[tuple],
                 constants: dict[str, Any]) -> None:
    """INSERT many rows of `columns` (plus the same `constants` on each) as fast as the backend allows.

    On SQLite the values are converted once per column with the column types' own bind processors
    and handed to the driver's executemany, which skips SQLAlchemy's per-row parameter handling
    (the bulk of an import's time); elsewhere it is an ordinary Core executemany.
    """
    if not rows:
        return
    names = list(columns) + list(constants)
    if connection.dialect.name != "sqlite":
        connection.execute(insert(table), [dict(zip(names, row), **constants) for row in rows])
        return
    dialect = connection.dialect

    def processor(name: str):
        # dialect_impl: the processor SQLAlchemy itself uses on this backend, so the stored text
        # is the same whichever path wrote a row
        return table.c[name].type.dialect_impl(dialect).bind_processor(dialect)

    tail = [[(processor(name) or (lambda v: v))(value)] * len(rows) for name, value in constants.items()]
    by_column = list(zip(*rows))
    for index, name in enumerate(columns):
        convert = processor(name)
        if convert is not None:
            by_column[index] = [None if v is None else convert(v) for v in by_column[index]]
    rows = list(zip(*by_column, *tail))
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    connection.exec_driver_sql(sql, rows)


def _existing_claims(connection: Connection, claims: list[ClaimIn]) -> tuple[dict, dict]:
    """The stored claims the bundle may mean: by ref, and by statement (for rows without a ref)."""
    by_ref: dict[str, _Existing] = {}
    by_statement: dict[str, list[_Existing]] = {}
    if connection.execute(select(Claim.id).limit(1)).first() is None:
        return by_ref, by_statement  # an empty store: nothing to match
    columns = (Claim.id, Claim.statement, Claim.first_reported_at, Claim.expected_by)
    refs = list({c.ref for c in claims if c.ref})
    for chunk in _chunks(refs):
        for ref, *row in connection.execute(select(Claim.ref, *columns).where(Claim.ref.in_(chunk))):
            by_ref[ref] = _Existing(*row)
    statements = list({c.statement for c in claims if not c.ref and c.statement})
    for chunk in _chunks(statements):
        for row in connection.execute(select(*columns).where(Claim.statement.in_(chunk))):
            by_statement.setdefault(row[1], []).append(_Existing(*row))
    return by_ref, by_statement


def _plan(connection: Connection, claims: list[ClaimIn], source_ids: dict[str, int], now: datetime,
          errors: list[RowError]) -> list[_Plan]:
    """Check every claim, report and outcome against the rules; what passes becomes a plan."""
    by_ref, by_statement = _existing_claims(connection, claims)
    plans = []
    for item in claims:
        try:
            # parsing folded the white space already: only emptiness and length are left to check
            statement = item.statement if 0 < len(item.statement) <= MAX_STATEMENT else check_statement(item.statement)
            existing = _match(item, statement, by_ref, by_statement)
        except LedgerError as exc:
            errors.append(RowError(item.row, str(exc)))
            continue
        reports = []
        for report in item.reports:
            if report.source not in source_ids or (report.via and report.via not in source_ids):
                continue  # a source name that was refused: its row is listed already
            try:
                reports.append(_check_report(report, source_ids, now))
            except LedgerError as exc:
                errors.append(RowError(report.row, str(exc)))
        times = [r[2] for r in reports]
        if item.first_reported_at is not None:
            times.append(item.first_reported_at)
        if existing is not None:
            times.append(existing.first_reported_at)
        if not times:
            continue  # every report of this claim was bad, and those rows are listed already
        first = min(times)
        expected = item.expected_by if item.expected_by is not None else (existing and existing.expected_by)
        try:
            check_not_future(first, now, "the first-reported time")
            if item.expected_by is not None:
                check_expected_by(item.expected_by, first)
        except LedgerError as exc:
            errors.append(RowError(item.row, str(exc)))
            continue
        label = f"claim #{existing.id}" if existing else f"claim {item.ref or item.statement[:40]!r}"
        outcomes = []
        for outcome in item.outcomes:
            try:
                check_not_future(outcome.decided_at, now, "the outcome's time")
                check_outcome_time(outcome.decided_at, first, label)
                outcomes.append(outcome)
            except LedgerError as exc:
                errors.append(RowError(outcome.row, str(exc)))
        plans.append(_Plan(item, statement, existing, first, expected or None, reports, outcomes))
    return plans


def _match(item: ClaimIn, statement: str, by_ref: dict, by_statement: dict) -> _Existing | None:
    if item.ref is not None:
        existing = by_ref.get(item.ref)
        if existing is not None and existing.statement != statement:
            raise ValidationError(
                f"claim_ref {item.ref!r} is already claim #{existing.id} with a different statement "
                f"({existing.statement[:60]!r}); use another claim_ref or the same text"
            )
        return existing
    same = by_statement.get(statement, [])
    if len(same) > 1:
        raise ValidationError(
            f"{len(same)} claims already have this statement (#{', #'.join(str(c.id) for c in same)}); "
            "give the row a claim_ref to say which one"
        )
    return same[0] if same else None


def _check_report(report: ReportIn, source_ids: dict[str, int], now: datetime) -> tuple:
    check_not_future(report.reported_at, now, "the report's time")
    source_id = source_ids[report.source]
    via_id = source_ids[report.via] if report.via else None
    if via_id == source_id:
        raise ValidationError(f"{report.source!r} cannot relay itself; leave 'via' empty or name the origin")
    return (source_id, report.stance, report.reported_at, via_id, report.url, report.quote, report.note)


def _write(connection: Connection, plans: list[_Plan], w: Writer, summary: ImportSummary) -> None:
    """Insert the new claims, topics, reports and outcomes in bulk; skip what the store holds."""
    new = [p for p in plans if p.existing is None]
    old = [p for p in plans if p.existing is not None]
    summary.claims_created, summary.claims_matched = len(new), len(old)
    for plan, claim_id in zip(new, _insert_claims(connection, new, w)):
        plan.claim_id = claim_id
    for plan in old:
        plan.claim_id = plan.existing.id
    changed = [{"cid": p.claim_id, "first": p.first_reported_at, "expected": p.expected_by} for p in old
               if p.first_reported_at != p.existing.first_reported_at or p.expected_by != p.existing.expected_by]
    if changed:
        connection.execute(
            update(Claim).where(Claim.id == bindparam("cid"))
            .values(first_reported_at=bindparam("first"), expected_by=bindparam("expected")),
            changed,
        )
    old_ids = [p.claim_id for p in old]
    _insert_topics(connection, plans, _stored(connection, ClaimTopic, (ClaimTopic.claim_id, ClaimTopic.topic), old_ids))
    stored_reports = _stored(connection, Report, (Report.claim_id, Report.source_id, Report.stance, Report.reported_at),
                             old_ids)
    report_rows = []
    for plan in plans:
        for source_id, stance, at, via_id, url, quote, note in plan.reports:
            key = (plan.claim_id, source_id, stance, at)
            if key in stored_reports:
                summary.reports_skipped += 1
                continue
            stored_reports.add(key)
            report_rows.append((plan.claim_id, source_id, stance, at, via_id, url, quote, note))
    _insert_rows(connection, Report.__table__,
                 ("claim_id", "source_id", "stance", "reported_at", "via_source_id", "url", "quote", "note"),
                 report_rows, {"logged_by": w.user, "logged_at": w.now})
    summary.reports_added = len(report_rows)
    stored_outcomes = _stored(connection, Outcome, (Outcome.claim_id, Outcome.verdict, Outcome.decided_at), old_ids)
    outcome_rows = []
    for plan in plans:
        for outcome in plan.outcomes:
            key = (plan.claim_id, outcome.verdict, outcome.decided_at)
            if key in stored_outcomes:
                continue
            stored_outcomes.add(key)
            outcome_rows.append((plan.claim_id, outcome.verdict, outcome.decided_at, outcome.evidence,
                                 outcome.note, outcome.reviewer or w.user))
    # in file order: the last revision of a claim is the one in force
    _insert_rows(connection, Outcome.__table__,
                 ("claim_id", "verdict", "decided_at", "evidence_url", "note", "reviewer"),
                 outcome_rows, {"recorded_at": w.now})
    summary.outcomes_added = len(outcome_rows)


def _insert_claims(connection: Connection, new: list[_Plan], w: Writer) -> list[int]:
    """Insert the new claims; their ids, in order."""
    if not new:
        return []
    columns = ("ref", "statement", "first_reported_at", "expected_by")
    rows = [(p.item.ref, p.statement, p.first_reported_at, p.expected_by) for p in new]
    constants = {"logged_by": w.user, "logged_at": w.now}
    if connection.dialect.name != "sqlite":
        result = connection.execute(insert(Claim).returning(Claim.id, sort_by_parameter_order=True),
                                    [dict(zip(columns, row), **constants) for row in rows])
        return [claim_id for (claim_id,) in result.all()]
    # SQLite gives a rowid table's new rows max(rowid)+1, +2, ... and this transaction holds the
    # write lock (BEGIN IMMEDIATE), so the ids are known without a RETURNING round trip per row
    before = connection.execute(select(func.coalesce(func.max(Claim.id), 0))).scalar_one()
    _insert_rows(connection, Claim.__table__, columns, rows, constants)
    after = connection.execute(select(func.max(Claim.id), func.count()).where(Claim.id > before)).one()
    if tuple(after) != (before + len(rows), len(rows)):
        raise RuntimeError("claim ids were not assigned in sequence; the import was rolled back")
    return list(range(before + 1, before + len(rows) + 1))


def _stored(connection: Connection, table, columns: tuple, claim_ids: list[int]) -> set[tuple]:
    """The identity tuples the store already holds for these claims."""
    found: set[tuple] = set()
    for chunk in _chunks(claim_ids):
        found.update(tuple(row) for row in connection.execute(select(*columns).where(columns[0].in_(chunk))))
    return found


def _insert_topics(connection: Connection, plans: list[_Plan], stored: set[tuple]) -> None:
    rows = []
    for plan in plans:
        for topic in plan.item.topics:
            if (plan.claim_id, topic) not in stored:
                stored.add((plan.claim_id, topic))
                rows.append((plan.claim_id, topic))
    _insert_rows(connection, ClaimTopic.__table__, ("claim_id", "topic"), rows, {})

