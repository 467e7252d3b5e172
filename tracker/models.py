"""The tables and vocabularies of the claim ledger.

A *source* carries *claims*; each *report* is one source's stance on one claim at one time; an
*outcome* is a reviewer's verdict on a claim (revisions are kept, the latest one is in force).
Times are aware UTC datetimes (SQLite keeps them as UTC text); `tracker.dates` converts at the edges. Enumerations are
stored as plain strings so the same schema works on SQLite and PostgreSQL; the service layer
(`tracker.ledger`) checks every value against the enums below before it writes.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class Stance(str, enum.Enum):
    """A source's stance on a claim in one report."""

    rumoured = "rumoured"
    confirmed = "confirmed"
    denied = "denied"


class Verdict(str, enum.Enum):
    """A reviewer's verdict on what actually happened."""

    true = "true"
    false = "false"
    partly_true = "partly_true"
    unverifiable = "unverifiable"


class SourceKind(str, enum.Enum):
    """What kind of body a source is."""

    government = "government"
    official = "official"
    military = "military"
    news_outlet = "news_outlet"
    wire_agency = "wire_agency"
    international_body = "international_body"
    ngo = "ngo"
    commentator = "commentator"
    unnamed_group = "unnamed_group"
    social_account = "social_account"
    other = "other"


class ClaimStatus(str, enum.Enum):
    """A claim's reported status, derived from its reports (not from its outcome)."""

    unreported = "unreported"
    rumoured = "rumoured"
    confirmed = "confirmed"
    denied = "denied"
    contested = "contested"


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


class SourceAlias(SQLModel, table=True):
    """Another name a source goes by (`Lavrov` for Sergei Lavrov)."""

    __tablename__ = "source_alias"

    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="source.id", index=True)
    alias: str = Field(max_length=300)
    alias_key: str = Field(max_length=300, sa_column_kwargs={"unique": True})


class Claim(SQLModel, table=True):
    """One checkable statement about the world."""

    id: int | None = Field(default=None, primary_key=True)
    # the reference given on import (`claim_ref`); unique when present
    ref: str | None = Field(default=None, max_length=200, sa_column_kwargs={"unique": True})
    statement: str = Field(sa_column=Column(Text, nullable=False))
    first_reported_at: datetime = Field(index=True)
    expected_by: datetime | None = None
    logged_by: str | None = Field(default=None, max_length=200)
    logged_at: datetime


class ClaimTopic(SQLModel, table=True):
    """A topic tag on a claim."""

    __tablename__ = "claim_topic"

    claim_id: int = Field(foreign_key="claim.id", primary_key=True)
    topic: str = Field(max_length=200, primary_key=True, index=True)


class Report(SQLModel, table=True):
    """One source's stance on one claim at one time."""

    __table_args__ = (
        UniqueConstraint("claim_id", "source_id", "stance", "reported_at", name="uq_report_identity"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # no index of its own: uq_report_identity starts with claim_id
    claim_id: int = Field(foreign_key="claim.id")
    source_id: int = Field(foreign_key="source.id", index=True)
    stance: str = Field(max_length=20)
    reported_at: datetime
    via_source_id: int | None = Field(default=None, foreign_key="source.id", index=True)
    url: str | None = Field(default=None, max_length=2000)
    quote: str | None = Field(default=None, sa_column=Column(Text))
    note: str | None = Field(default=None, sa_column=Column(Text))
    logged_by: str | None = Field(default=None, max_length=200)
    logged_at: datetime


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


class StoreRevision(SQLModel, table=True):
    """One row: a number every write transaction raises (what caches key on)."""

    __tablename__ = "store_revision"

    id: int | None = Field(default=None, primary_key=True)
    revision: int = 0
