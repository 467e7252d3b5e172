"""The tables and vocabularies of the claim ledger.

A *source* carries *claims*; each *report* is one source's stance on one claim at one time; an
*outcome* is a reviewer's verdict on a claim (revisions are kept, the latest one is in force).
Accounts, login sessions and the append-only audit trail live here too. Rows that people edit
carry a `version` (optimistic locking: an edit names the version it started from); claims and
reports are never deleted, only retracted with a reason; a merged source stays, pointing at the
source it was merged into.
Times are aware UTC datetimes (SQLite keeps them as UTC text); `tracker.dates` converts at the edges. A time
written as a date only is 00:00 UTC of that day with its `*_date_only` flag set. Enumerations are
stored as plain strings so the same schema works on SQLite and PostgreSQL; the service layer
(`tracker.ledger`) checks every value against the enums (`tracker.vocabulary`, re-exported here) before it writes.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint, false, text
from sqlmodel import Field, SQLModel

from tracker.vocabulary import ClaimStatus, Role, SourceKind, Stance, Verdict  # noqa: F401  (imported from here too)


def new_ref(kind: str) -> str:
    """A fresh reference for a claim (`c-...`) or report (`r-...`): random, so refs from two stores never meet."""
    return f"{kind}-{secrets.token_hex(8)}"


class Source(SQLModel, table=True):
    """Who made or carried a claim."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=300)
    # casefolded name: uniqueness of names is case-insensitive on every backend
    name_key: str = Field(max_length=300, sa_column_kwargs={"unique": True})
    kind: str = Field(default=SourceKind.other.value, max_length=40)
    affiliation: str | None = Field(default=None, max_length=300)
    url: str | None = Field(default=None, max_length=2000)
    notes: str | None = Field(default=None, sa_column=Column(Text))
    parent_id: int | None = Field(default=None, foreign_key="source.id", index=True)
    created_at: datetime
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    # set when this source was merged into another: it keeps its history, lists skip it
    merged_into_id: int | None = Field(default=None, foreign_key="source.id")


class SourceAlias(SQLModel, table=True):
    """Another name a source goes by (`Lavrov` for Sergei Lavrov)."""

    __tablename__ = "source_alias"

    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="source.id", index=True)
    alias: str = Field(max_length=300)
    alias_key: str = Field(max_length=300, sa_column_kwargs={"unique": True})


# the few retracted claims (and reports), for "leave them out": `id NOT IN (retracted ids)` reads
# this small partial index and leaves the others free (a full index on retracted_at would be taken
# for "retracted_at IS NULL" over every row, losing the order of first_reported_at and the
# covering indexes that count reports per claim)
_RETRACTED_ONLY = "retracted_at IS NOT NULL"


class Claim(SQLModel, table=True):
    """One checkable statement about the world."""

    __table_args__ = (Index("ix_claim_retracted", "id", sqlite_where=text(_RETRACTED_ONLY),
                            postgresql_where=text(_RETRACTED_ONLY)),)

    id: int | None = Field(default=None, primary_key=True)
    # `claim_ref`: given on import or generated (new_ref); stable, unique, never reused
    ref: str | None = Field(default=None, max_length=200, sa_column_kwargs={"unique": True})
    statement: str = Field(sa_column=Column(Text, nullable=False))
    first_reported_at: datetime = Field(index=True)
    expected_by: datetime | None = None
    logged_by: str | None = Field(default=None, max_length=200)
    logged_at: datetime
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    retracted_at: datetime | None = None
    retracted_by: str | None = Field(default=None, max_length=200)
    retraction_reason: str | None = Field(default=None, sa_column=Column(Text))
    # set when this claim was merged into another: it stays (retracted, its ref still found), pointing there
    merged_into_id: int | None = Field(default=None, foreign_key="claim.id")
    # the *_date_only flags: the time was given as a date without a time (then it is 00:00 UTC of that day)
    first_reported_date_only: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    expected_by_date_only: bool = Field(default=False, sa_column_kwargs={"server_default": false()})  # schema 0008


class ClaimTopic(SQLModel, table=True):
    """A topic tag on a claim."""

    __tablename__ = "claim_topic"

    claim_id: int = Field(foreign_key="claim.id", primary_key=True)
    topic: str = Field(max_length=200, primary_key=True, index=True)


class Report(SQLModel, table=True):
    """One source's stance on one claim at one time."""

    __table_args__ = (
        UniqueConstraint("claim_id", "source_id", "stance", "reported_at", name="uq_report_identity"),
        Index("ix_report_retracted", "id", sqlite_where=text(_RETRACTED_ONLY), postgresql_where=text(_RETRACTED_ONLY)),
        Index("ix_report_ref", "ref", unique=True),
    )

    # columns in the order the migrations left them (note, version, ... and ref were added later), so
    # that a new store made from these models has the migrated schema exactly (see store.upgrade)
    id: int | None = Field(default=None, primary_key=True)
    # no index of its own: uq_report_identity starts with claim_id
    claim_id: int = Field(foreign_key="claim.id")
    source_id: int = Field(foreign_key="source.id", index=True)
    stance: str = Field(max_length=20)
    reported_at: datetime
    via_source_id: int | None = Field(default=None, foreign_key="source.id", index=True)
    url: str | None = Field(default=None, max_length=2000)
    quote: str | None = Field(default=None, sa_column=Column(Text))
    logged_by: str | None = Field(default=None, max_length=200)
    logged_at: datetime
    note: str | None = Field(default=None, sa_column=Column(Text))
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    retracted_at: datetime | None = None
    retracted_by: str | None = Field(default=None, max_length=200)
    retraction_reason: str | None = Field(default=None, sa_column=Column(Text))
    # `report_ref`: given on import or generated (new_ref); stable, unique, never reused
    ref: str | None = Field(default=None, max_length=200)
    reported_date_only: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


class Outcome(SQLModel, table=True):
    """A reviewer's verdict on a claim; the newest row per claim is the one in force."""

    __table_args__ = (Index("ix_outcome_claim_latest", "claim_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="claim.id")
    verdict: str = Field(max_length=20)
    decided_at: datetime
    evidence_url: str | None = Field(default=None, max_length=2000)
    note: str | None = Field(default=None, sa_column=Column(Text))
    reviewer: str | None = Field(default=None, max_length=200)
    recorded_at: datetime
    decided_date_only: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


class StancePair(SQLModel, table=True):
    """Kept on write (schema 0009, `tracker.pairs`): one (claim, source)'s final stance as scoring
    counts it, so that `tracker scores` sums these rows instead of grouping every report.

    Derived from the reports and verdicts alone, and rebuilt for a claim whenever its reports, its
    verdicts or its retraction change (triggers mark it in `stale_claim`); no foreign keys, so a
    rebuild pays no checks. A claim with a verdict of no value (unverifiable) or a retracted claim
    has no rows; a claim without a verdict has its pending rows (verdict_value and decided_at NULL).
    On SQLite the rows are stored in the order of the primary key (source, stance, claim), so the
    scores' GROUP BY reads each source's rows together without sorting them.
    """

    __tablename__ = "stance_pair"
    __table_args__ = (Index("ix_stance_pair_claim", "claim_id", "source_id", unique=True),
                      {"sqlite_with_rowid": False})

    source_id: int = Field(primary_key=True)  # who spoke: the reporting source, or a relay's origin
    stance: str = Field(max_length=20, primary_key=True)  # the latest stance by the verdict's time
    claim_id: int = Field(primary_key=True)
    verdict_value: float | None = None  # 1 true, 0 false, 0.5 partly true; NULL while pending
    decided_at: datetime | None = None  # the verdict in force's time; NULL while pending
    lead_days: float | None = None  # days from the source first taking this stance to the verdict


class StaleClaim(SQLModel, table=True):
    """Claims whose `stance_pair` rows are out of date: marked by triggers on every change to their
    reports, verdicts or retraction, emptied by `tracker.pairs.refresh` before the writer commits."""

    __tablename__ = "stale_claim"

    claim_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})


class StancePairState(SQLModel, table=True):
    """One row: the newest report and verdict ids `stance_pair` has taken in. A claim with a report
    or verdict past them (a new row, which no trigger marks) is out of date too."""

    __tablename__ = "stance_pair_state"

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = 0
    outcome_id: int = 0


class ClaimSummary(SQLModel, table=True):
    """Kept on write (schema 0010, `tracker.summaries`): each claim's reported status and number of
    live reports, so that the Claims page filtered by a status or sorted by reports reads one row
    per claim instead of grouping every report.

    Derived from the live reports alone and rebuilt with the kept pairs (`tracker.pairs.refresh`) for
    the claims out of date; a claim without live reports (unreported) or retracted has no row.
    """

    __tablename__ = "claim_summary"
    __table_args__ = (Index("ix_claim_summary_status", "status", "claim_id"),)

    claim_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    status: str = Field(max_length=20)
    reports: int  # live reports


class StoreRevision(SQLModel, table=True):
    """One row: a number every write transaction raises (what caches key on)."""

    __tablename__ = "store_revision"

    id: int | None = Field(default=None, primary_key=True)
    revision: int = 0


class Account(SQLModel, table=True):
    """A person who signs in: a name, a role and an argon2id password hash (never the password)."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    name_key: str = Field(max_length=200, sa_column_kwargs={"unique": True})
    role: str = Field(max_length=20)
    password_hash: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime
    disabled_at: datetime | None = None
    failed_logins: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    locked_until: datetime | None = None
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})


class LoginSession(SQLModel, table=True):
    """One signed-in session; the browser holds the token, the store only its SHA-256."""

    __tablename__ = "login_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    account_id: int = Field(foreign_key="account.id", index=True)
    created_at: datetime
    expires_at: datetime
    ended_at: datetime | None = None


class AuditEvent(SQLModel, table=True):
    """One change to the store: who, when, what, and the values before and after (JSON)."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(index=True)
    actor: str = Field(max_length=200, index=True)
    account_id: int | None = Field(default=None, foreign_key="account.id")
    action: str = Field(max_length=40)
    entity: str = Field(max_length=20)
    entity_id: int | None = None
    claim_id: int | None = Field(default=None, index=True)
    source_id: int | None = Field(default=None, index=True)
    # the claim's version after this change, for changes to a claim or its reports and outcomes
    claim_version: int | None = None
    before: str | None = Field(default=None, sa_column=Column(Text))
    after: str | None = Field(default=None, sa_column=Column(Text))
    reason: str | None = Field(default=None, sa_column=Column(Text))
