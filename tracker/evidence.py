"""Everything scoring needs, read from the store in bulk as pandas frames.

One query per table through SQLAlchemy Core, no ORM objects per row: this is what lets scoring
run over a million reports. Times come back as pandas UTC timestamps whatever the backend.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import select
from sqlalchemy.engine import Engine

from tracker.models import Claim, ClaimTopic, Outcome, Report, Source


@dataclass
class Evidence:
    """The store's sources, claims, reports and verdict history, as frames."""

    sources: pd.DataFrame  # index id; name, kind
    claims: pd.DataFrame  # index id; ref, statement, first_reported_at
    reports: pd.DataFrame  # claim_id, source_id, stance, reported_at, via_source_id (-1: none)
    outcomes: pd.DataFrame  # id, claim_id, verdict, decided_at (every revision)
    topics: pd.DataFrame  # claim_id, topic

    def for_topic(self, topic: str) -> Evidence:
        """The same evidence restricted to claims tagged `topic` (every source is kept)."""
        wanted = set(self.topics.loc[self.topics["topic"] == topic.strip().lower(), "claim_id"])
        return Evidence(
            self.sources,
            self.claims[self.claims.index.isin(wanted)],
            self.reports[self.reports["claim_id"].isin(wanted)].reset_index(drop=True),
            self.outcomes[self.outcomes["claim_id"].isin(wanted)].reset_index(drop=True),
            self.topics[self.topics["claim_id"].isin(wanted)].reset_index(drop=True),
        )


def _frame(engine: Engine, columns: list, names: list[str]) -> pd.DataFrame:
    # the raw driver cursor skips SQLAlchemy's per-value type processing (much faster in bulk)
    statement = select(*columns)
    with engine.connect() as connection:
        compiled = statement.compile(dialect=connection.dialect)
        rows = connection.exec_driver_sql(str(compiled)).fetchall()
    return pd.DataFrame.from_records(rows, columns=names)


def _times(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, utc=True, format="ISO8601")


def load_evidence(engine: Engine) -> Evidence:
    """Read every source, claim, report, verdict and topic from the store."""
    sources = _frame(engine, [Source.id, Source.name, Source.kind], ["id", "name", "kind"]).set_index("id")
    claims = _frame(engine, [Claim.id, Claim.ref, Claim.statement, Claim.first_reported_at],
                    ["id", "ref", "statement", "first_reported_at"]).set_index("id")
    claims["first_reported_at"] = _times(claims["first_reported_at"])
    reports = _frame(engine, [Report.claim_id, Report.source_id, Report.stance, Report.reported_at,
                              Report.via_source_id],
                     ["claim_id", "source_id", "stance", "reported_at", "via_source_id"])
    reports["reported_at"] = _times(reports["reported_at"])
    reports["via_source_id"] = reports["via_source_id"].fillna(-1).astype("int64")
    outcomes = _frame(engine, [Outcome.id, Outcome.claim_id, Outcome.verdict, Outcome.decided_at],
                      ["id", "claim_id", "verdict", "decided_at"])
    outcomes["decided_at"] = _times(outcomes["decided_at"])
    topics = _frame(engine, [ClaimTopic.claim_id, ClaimTopic.topic], ["claim_id", "topic"])
    return Evidence(sources, claims, reports, outcomes, topics)
