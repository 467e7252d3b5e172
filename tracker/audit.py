"""The audit trail: one append-only event per change, with who, when, what, before and after.

The service layer writes an event in the same transaction as the change it records, so a change
and its event commit together or not at all. Nothing here updates or deletes an event. `before`
and `after` hold JSON objects of the fields that changed (the whole row for a creation); a
password never appears in them, nor does its hash. `history` reads the trail back, newest first,
filtered by user, claim or source.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum

from sqlalchemy import func, or_
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from tracker.models import AuditEvent
from tracker.vocabulary import ACTIONS  # noqa: F401  (imported from here too)


def _plain(value):
    if isinstance(value, date):  # a datetime, or a date given without a time (tracker.dates.as_written)
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def encode(values: dict | None) -> str | None:
    """A JSON text of `values` (datetimes and dates as ISO 8601), or None for no values."""
    if values is None:
        return None
    return json.dumps({key: _plain(value) for key, value in values.items()}, ensure_ascii=False, sort_keys=True)


def decode(text: str | None) -> dict | None:
    """The values an event's `before` or `after` holds."""
    return None if text is None else json.loads(text)


@dataclass(frozen=True)
class Change:
    """One event as History shows it."""

    id: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: int | None
    claim_id: int | None
    source_id: int | None
    claim_version: int | None
    before: dict | None
    after: dict | None
    reason: str | None

    @property
    def about_source(self) -> int | None:
        """The source this change is filed under: the one it touched, or the source it changed."""
        if self.source_id is not None:
            return self.source_id
        return self.entity_id if self.entity == "source" else None

    @property
    def summary(self) -> str:
        """A short sentence: what was done to what."""
        what = ACTIONS.get(self.action, self.action)
        target = f"{self.entity} #{self.entity_id}" if self.entity_id is not None else self.entity
        if self.claim_id is not None and self.entity != "claim":
            target += f" on claim #{self.claim_id}"
        return f"{what} ({target})"

    def changed_fields(self) -> list[tuple[str, object, object]]:
        """(field, before, after) for every field the event names, in name order."""
        before, after = self.before or {}, self.after or {}
        return [(key, before.get(key), after.get(key)) for key in sorted(set(before) | set(after))
                if before.get(key) != after.get(key)]


def _change(event: AuditEvent) -> Change:
    return Change(event.id, event.at, event.actor, event.action, event.entity, event.entity_id, event.claim_id,
                  event.source_id, event.claim_version, decode(event.before), decode(event.after), event.reason)


def _filtered(query, *, user: str | None, claim_id: int | None, source_id: int | None, action: str | None):
    if user:
        query = query.where(func.lower(AuditEvent.actor) == user.strip().lower())
    if claim_id is not None:
        query = query.where(AuditEvent.claim_id == claim_id)
    if source_id is not None:
        query = query.where(or_(AuditEvent.source_id == source_id,
                                (col(AuditEvent.entity) == "source") & (AuditEvent.entity_id == source_id)))
    if action:
        query = query.where(or_(AuditEvent.action == action, col(AuditEvent.action).startswith(f"{action}.")))
    return query


def history(engine: Engine, *, user: str | None = None, claim_id: int | None = None, source_id: int | None = None,
            action: str | None = None, limit: int | None = 100, offset: int = 0) -> list[Change]:
    """Events newest first, filtered by the acting user's name, a claim, a source or an action."""
    query = _filtered(select(AuditEvent), user=user, claim_id=claim_id, source_id=source_id, action=action)
    query = query.order_by(col(AuditEvent.id).desc()).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    with Session(engine) as session:
        return [_change(event) for event in session.exec(query).all()]


def count(engine: Engine, *, user: str | None = None, claim_id: int | None = None, source_id: int | None = None,
          action: str | None = None) -> int:
    """How many events match the same filters as `history`."""
    query = _filtered(select(func.count()).select_from(AuditEvent), user=user, claim_id=claim_id,
                      source_id=source_id, action=action)
    with Session(engine) as session:
        return session.exec(query).one()


def actors(engine: Engine) -> list[str]:
    """Every name that has made a change, alphabetically."""
    with Session(engine) as session:
        return sorted(session.exec(select(AuditEvent.actor).distinct()).all(), key=str.lower)


def latest_source_change(session: Session, source_id: int) -> Change | None:
    """The newest change to a source, read in `session` (inside a write transaction)."""
    query = _filtered(select(AuditEvent), user=None, claim_id=None, source_id=source_id, action=None)
    event = session.exec(query.order_by(col(AuditEvent.id).desc()).limit(1)).first()
    return None if event is None else _change(event)


def claim_changes_since(session: Session, claim_id: int, version: int) -> list[Change]:
    """Changes to a claim (its reports and outcomes included) after it was at `version`, oldest first."""
    query = (select(AuditEvent).where(AuditEvent.claim_id == claim_id, col(AuditEvent.claim_version) > version)
             .order_by(col(AuditEvent.id)))
    return [_change(event) for event in session.exec(query).all()]
