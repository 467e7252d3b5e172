"""The tracker's closed vocabularies: stances, verdicts, kinds of source, reported statuses, roles
and the actions the audit trail records.

They live apart from the tables (`tracker.models`, which re-exports the enums) and load nothing
but the standard library, so the command line can name its choices without loading SQLAlchemy.
"""

from __future__ import annotations

import enum


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


class Role(str, enum.Enum):
    """What an account may do; each role may do everything the ones before it may."""

    analyst = "analyst"  # log claims and reports
    reviewer = "reviewer"  # also record and revise outcomes, edit and retract claims and reports
    admin = "admin"  # also manage accounts and sources (rename, merge, edit)


# the actions a History page can filter on, with the words it shows for them
ACTIONS = {
    "source.create": "created source",
    "source.edit": "edited source",
    "source.rename": "renamed source",
    "source.alias": "added an alias",
    "source.merge": "merged source",
    "claim.create": "logged claim",
    "claim.edit": "edited claim",
    "claim.retract": "retracted claim",
    "claim.merge": "merged claims",
    "report.create": "added report",
    "report.edit": "changed report",
    "report.retract": "retracted report",
    "outcome.record": "recorded outcome",
    "import": "imported a file",
    "account.create": "created account",
    "account.role": "changed role",
    "account.password": "changed password",
    "account.disable": "disabled account",
    "account.enable": "enabled account",
}
