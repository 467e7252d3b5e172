"""The service layer: the only way to write to the store.

`Ledger` wraps an engine and acts for one person (an `Actor`: an account, or the local operator
of a store without accounts). Each public write (`add_source`, `log_claim`, `add_report`,
`record_outcome`, `edit_claim`, `retract_claim`, `merge_sources`, `add_account`, ...) validates
its input, checks the actor's role, raises a `LedgerError` with a message a person can act on, and
runs as one transaction that also appends its audit events: it happens whole, with its history,
or not at all. The input rules themselves live in `tracker.rules`, which the bulk importer uses too, in
their column form. Imports (`tracker.interchange`) use the same checks through `Ledger.transaction()`
and the `Writer` it yields, so a file is one transaction too.

Write transactions queue rather than race: on SQLite each one takes the write lock when it begins
(BEGIN IMMEDIATE; a longer wait than the busy timeout is retried, then reported as a busy store);
on PostgreSQL each one first raises the store revision, whose row lock makes writers take turns.
Edits name the version of the row they started from (optimistic locking): a stale edit is refused
with an `EditConflict` that lists what changed meanwhile, and nothing is saved.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlmodel import Session, col, select

from tracker import accounts, audit, pairs, rules, store
from tracker.accounts import LOCAL_OPERATOR, Actor, LoginFailed, LoginRequired
from tracker.dates import When, as_written, utcnow
from tracker.errors import (
    DuplicateError,
    EditConflict,
    LedgerError,
    NotFoundError,
    StoreBusy,
    ValidationError,
)
from tracker.models import (
    Account,
    AuditEvent,
    Claim,
    ClaimStatus,
    ClaimTopic,
    LoginSession,
    Outcome,
    Report,
    Role,
    Source,
    SourceAlias,
    SourceKind,
    StoreRevision,
    new_ref,
)
from tracker.rules import (  # noqa: F401  (also imported from here by the formats' modules)
    FUTURE_TOLERANCE,
    MAX_NAME,
    MAX_STATEMENT,
    check_expected_by,
    check_outcome_time,
    fold,
    name_key,
)
from tracker.status import status_timeline

# how long a write waits for SQLite's lock in all (each try waits the busy timeout) before saying so
BUSY_SECONDS = 120
# how long a sign-in waits for the write turn before saying the store is busy (not minutes behind an import)
SIGN_IN_WAIT_MS = 3_000
MAX_REASON = 2000
_clean = fold
normalise_topics = rules.topics


@functools.cache
def _dummy_hash() -> str:
    """A hash to check unknown names' passwords against, made on first use (not at import)."""
    return accounts.hash_password("not a real password, for timing")


def check_statement(statement: str | None) -> str:
    """A claim's statement as stored (white space folded), or a ValidationError saying what is wrong."""
    return rules.STATEMENT.check(statement)


def check_not_future(moment: datetime, now: datetime, what: str) -> None:
    """Refuse a time later than `now` (beyond a few minutes of clock difference)."""
    rules.Moment(what).check_not_future(moment, now)


def check_source_name(name: str | None, what: str = "source") -> str:
    """A source name or alias as stored, or a ValidationError when it is empty or too long."""
    return (rules.ALIAS if what == "alias" else rules.SOURCE).check(name)


@dataclass
class ClaimView:
    """A claim with everything shown about it: topics, reports, outcome history, status."""

    claim: Claim
    topics: list[str]
    reports: list[tuple[Report, str, str | None]]  # report, source name, relayed-from name
    outcomes: list[Outcome]  # oldest first; the last one is in force
    timeline: list[tuple[datetime, ClaimStatus]] = field(default_factory=list)

    @property
    def retracted(self) -> bool:
        """True when the claim was retracted (it stays in the store and its history)."""
        return self.claim.retracted_at is not None

    @property
    def live_reports(self) -> list[tuple[Report, str, str | None]]:
        """The reports that count: those not retracted."""
        return [row for row in self.reports if row[0].retracted_at is None]

    @property
    def outcome(self) -> Outcome | None:
        """The verdict in force, if any."""
        return self.outcomes[-1] if self.outcomes else None

    @property
    def status(self) -> ClaimStatus:
        """The reported status now."""
        return self.timeline[-1][1] if self.timeline else ClaimStatus.unreported

    def date_only_at(self, at: datetime) -> bool:
        """Whether a time on the timeline is a date (the report that made it gave only a date)."""
        return any(r.reported_date_only and r.reported_at == at for r, _s, _v in self.reports)


class Writer:
    """The write operations inside one open transaction (see `Ledger.transaction`)."""

    def __init__(self, session: Session, now: datetime, actor: Actor = LOCAL_OPERATOR) -> None:
        self.session = session
        self.now = now
        self.actor = actor
        self.user = actor.name
        self.events = 0  # audit events written in this transaction
        self._sources: dict[str, Source] = {}

    # -- permissions, history, versions ----------------------------------------------------
    def require(self, action: str) -> None:
        """Refuse with PermissionDenied unless the acting user's role allows `action`."""
        accounts.require(self.actor, action)

    def credited(self, reviewer: str | None) -> str:
        """Who a new verdict is credited to: the acting user, unless an admin names someone else.

        Naming the acting user (or nobody) needs nothing more; naming another person is
        `outcome.credit` in the role table (admins, and the local operator of a store without
        accounts), so a reviewer cannot put a verdict in a colleague's name.
        """
        named = rules.REVIEWER.check(reviewer)
        if named is None or named.casefold() == self.user.casefold():
            return self.user
        self.require("outcome.credit")
        return named

    def audit(self, action: str, entity: str, entity_id: int | None = None, *, claim: Claim | None = None,
              claim_id: int | None = None, source_id: int | None = None, before: dict | None = None,
              after: dict | None = None, reason: str | None = None) -> AuditEvent:
        """Append one audit event for a change made in this transaction."""
        event = AuditEvent(
            at=self.now, actor=self.actor.name, account_id=self.actor.account_id, action=action, entity=entity,
            entity_id=entity_id, claim_id=claim.id if claim is not None else claim_id, source_id=source_id,
            claim_version=claim.version if claim is not None else None,
            before=audit.encode(before), after=audit.encode(after), reason=reason,
        )
        self.session.add(event)
        self.events += 1
        return event

    def bump(self, row) -> None:
        """Raise a row's version: every change to a claim (or its reports and verdicts) does."""
        row.version = (row.version or 1) + 1
        self.session.add(row)

    def check_claim_version(self, claim: Claim, version: int | None) -> None:
        """Refuse (EditConflict, listing what changed) when `claim` moved on from `version`."""
        if version is None or int(version) == claim.version:
            return
        changes = audit.claim_changes_since(self.session, claim.id, int(version))
        lines = [f"  - {describe_change(c)}" for c in changes] or ["  - (changes made before history was kept)"]
        raise EditConflict(
            f"claim #{claim.id} was changed by someone else after you opened it (you started from version "
            f"{version}, it is now at version {claim.version}); nothing was saved. What changed meanwhile:\n"
            + "\n".join(lines) + "\nReload the claim, check these changes, then make your change again.",
            changes,
        )

    def check_source_version(self, source: Source, version: int | None) -> None:
        """Refuse (EditConflict) when `source` moved on from `version`."""
        if version is None or int(version) == source.version:
            return
        last = audit.latest_source_change(self.session, source.id)
        who = f" (last change: {describe_change(last)})" if last else ""
        raise EditConflict(
            f"the source {source.name!r} was changed by someone else after you opened it (version {version}, "
            f"now {source.version}){who}; nothing was saved. Reload it and make your change again.",
            [last] if last else [],
        )

    def _reason(self, reason: str | None, what: str) -> str:
        cleaned = " ".join(str(reason or "").split())
        if not cleaned:
            raise ValidationError(f"say why the {what} is retracted: a reason is required and stays in the history")
        if len(cleaned) > MAX_REASON:
            raise ValidationError(f"the reason is longer than {MAX_REASON} characters")
        return cleaned

    def forget_cached_sources(self) -> None:
        """Drop the name lookup cache (after a savepoint rollback or a rename)."""
        self._sources.clear()

    # -- sources ---------------------------------------------------------------------------
    def find_source(self, name: str) -> Source | None:
        """The source whose name or alias matches `name` (case-insensitive), if any."""
        key = name_key(name or "")
        if key in self._sources:
            return self._sources[key]
        source = self.session.exec(select(Source).where(Source.name_key == key)).first()
        if source is None:
            source = self.session.exec(
                select(Source).join(SourceAlias, col(SourceAlias.source_id) == col(Source.id))
                .where(SourceAlias.alias_key == key)
            ).first()
        if source is not None:
            self._sources[key] = source
        return source

    def source(self, name: str, *, create: bool = True) -> Source:
        """The source called `name`; created (kind `other`) if missing and `create` is set."""
        source = self.find_source(name)
        if source is None:
            if not create:
                raise NotFoundError(f"no source is called {name!r}; add it first (tracker sources) or check the spelling")
            source = self.add_source(name)
        return source

    def _check_name_free(self, name: str, what: str = "source") -> str:
        cleaned = check_source_name(name, what)
        existing = self.find_source(cleaned)
        if existing is not None:
            raise DuplicateError(f"{cleaned!r} is already used by the source {existing.name!r}")
        return cleaned

    def add_source(self, name: str, *, kind=None, affiliation: str | None = None, url: str | None = None,
                   notes: str | None = None, aliases: Iterable[str] = (), parent: str | None = None) -> Source:
        """Create a source; its name and aliases must not name any other source."""
        self.require("source.create")
        cleaned = self._check_name_free(name)
        source = Source(
            name=cleaned, name_key=name_key(cleaned),
            kind=rules.SOURCE_KIND.check(kind or SourceKind.other),
            affiliation=rules.AFFILIATION.check(affiliation), url=rules.SOURCE_URL.check(url), notes=rules.SOURCE_NOTES.check(notes),
            created_at=self.now,
        )
        if parent:
            source.parent_id = self.source(parent, create=False).id
        self.session.add(source)
        self.session.flush()
        self._sources[source.name_key] = source
        added = [self._add_alias(source, alias).alias for alias in aliases]
        self.audit("source.create", "source", source.id, source_id=source.id, after={
            "name": source.name, "kind": source.kind, "affiliation": source.affiliation, "url": source.url,
            "notes": source.notes, "parent_id": source.parent_id, "aliases": added or None,
        })
        return source

    def update_source(self, source: Source, *, kind=None, affiliation: str | None = None,
                      url: str | None = None, notes: str | None = None, aliases: Iterable[str] = (),
                      parent: str | None = None, version: int | None = None) -> Source:
        """Fill in or change a source's details (admins); aliases are added, never removed here.

        Details equal to what the store holds change nothing and need no permission (an import of
        an export of this store is a no-op for any role).
        """
        fields = ("kind", "affiliation", "url", "notes", "parent_id")
        before = {name: getattr(source, name) for name in fields}
        wanted = dict(before)
        if kind:
            wanted["kind"] = rules.SOURCE_KIND.check(kind)
        if affiliation:
            wanted["affiliation"] = rules.AFFILIATION.check(affiliation)
        if url:
            wanted["url"] = rules.SOURCE_URL.check(url)
        if notes:
            wanted["notes"] = rules.SOURCE_NOTES.check(notes)
        parent_source = self.source(parent, create=False) if parent else None
        if parent_source is not None:
            wanted["parent_id"] = parent_source.id
        existing = {name_key(source.name)} | {
            a.alias_key for a in self.session.exec(select(SourceAlias).where(SourceAlias.source_id == source.id))
        }
        new_aliases = list(dict.fromkeys(_clean(a) for a in aliases if _clean(a) and name_key(a) not in existing))
        if wanted == before and not new_aliases:
            return source
        self.require("source.edit")
        self.check_source_version(source, version)
        for name in ("kind", "affiliation", "url", "notes"):
            setattr(source, name, wanted[name])
        if parent_source is not None:
            self._set_parent(source, parent_source)
        for alias in new_aliases:
            self._add_alias(source, alias)
        self.bump(source)
        self.session.flush()
        changed = [name for name in fields if before[name] != getattr(source, name)]
        after = {name: getattr(source, name) for name in changed}
        if new_aliases:
            after["aliases_added"] = new_aliases
        self.audit("source.edit", "source", source.id, source_id=source.id,
                   before={name: before[name] for name in changed}, after=after)
        return source

    def _set_parent(self, source: Source, parent: Source) -> None:
        ancestor: Source | None = parent
        while ancestor is not None:
            if ancestor.id == source.id:
                raise ValidationError(
                    f"{parent.name!r} cannot be the parent of {source.name!r}: that would make a loop"
                )
            ancestor = self.session.get(Source, ancestor.parent_id) if ancestor.parent_id else None
        source.parent_id = parent.id

    def add_alias(self, source: Source, alias: str) -> SourceAlias:
        """Give `source` another name (admins); the alias must not name any other source."""
        self.require("source.alias")
        row = self._add_alias(source, alias)
        self.bump(source)
        self.audit("source.alias", "source", source.id, source_id=source.id, after={"alias": row.alias})
        return row

    def _add_alias(self, source: Source, alias: str) -> SourceAlias:
        cleaned = self._check_name_free(alias, "alias")
        row = SourceAlias(source_id=source.id, alias=cleaned, alias_key=name_key(cleaned))
        self.session.add(row)
        self.session.flush()
        self._sources[row.alias_key] = source
        return row

    def rename_source(self, old: str, new: str, *, version: int | None = None) -> Source:
        """Rename a source (admins); the old name stays as an alias so older files still match it."""
        self.require("source.rename")
        source = self.source(old, create=False)
        self.check_source_version(source, version)
        old_name = source.name
        cleaned = _clean(new)
        if cleaned and name_key(cleaned) == source.name_key:
            source.name = cleaned  # a change of case or spacing only
        else:
            taken_by = self.find_source(cleaned) if cleaned else None
            if taken_by is not None and taken_by.id == source.id:
                # promoting one of the source's own aliases to its name: the alias makes way
                for alias in self.session.exec(select(SourceAlias).where(
                        SourceAlias.source_id == source.id, SourceAlias.alias_key == name_key(cleaned))).all():
                    self.session.delete(alias)
                self.session.flush()
                self.forget_cached_sources()
            cleaned = self._check_name_free(new)
            source.name, source.name_key = cleaned, name_key(cleaned)
            self.session.add(source)
            self.session.flush()
            self.forget_cached_sources()
            self._add_alias(source, old_name)
        self.bump(source)
        self.session.flush()
        self.audit("source.rename", "source", source.id, source_id=source.id, before={"name": old_name},
                   after={"name": source.name})
        return source

    def merge_sources(self, duplicate: str, into: str, *, version: int | None = None) -> Source:
        """Fold the source `duplicate` into `into` (admins): its reports, aliases and children move over.

        Nothing is deleted: the duplicate stays in the store (lists skip it) pointing at `into`,
        its name becomes a name of `into`, and a report logged under both names stays with the
        duplicate, retracted as a duplicate of the kept one.
        """
        self.require("source.merge")
        gone = self.source(duplicate, create=False)
        kept = self.source(into, create=False)
        if gone.id == kept.id:
            raise ValidationError(f"{duplicate!r} and {into!r} are the same source; nothing to merge")
        self.check_source_version(gone, version)  # `version`: the duplicate's, as the merging admin saw it
        kept_reports = {
            (r.claim_id, r.stance, r.reported_at): r.id
            for r in self.session.exec(select(Report).where(Report.source_id == kept.id))
        }
        moved, retracted = [], []
        touched_claims: set[int] = set()
        for report in self.session.exec(select(Report).where(Report.source_id == gone.id)).all():
            twin = kept_reports.get((report.claim_id, report.stance, report.reported_at))
            if twin is not None:  # the same report was logged under both names
                if report.retracted_at is None:
                    report.retracted_at, report.retracted_by = self.now, self.user
                    report.retraction_reason = f"duplicate of report #{twin} after merging {gone.name!r} into {kept.name!r}"
                    self.bump(report)
                    retracted.append(report.id)
                    touched_claims.add(report.claim_id)
                continue
            report.source_id = kept.id
            if report.via_source_id == kept.id:
                report.via_source_id = None
            self.bump(report)
            moved.append(report.id)
            touched_claims.add(report.claim_id)
        for report in self.session.exec(select(Report).where(Report.via_source_id == gone.id)).all():
            report.via_source_id = None if report.source_id == kept.id else kept.id
            self.bump(report)
            touched_claims.add(report.claim_id)
        for alias in self.session.exec(select(SourceAlias).where(SourceAlias.source_id == gone.id)).all():
            alias.source_id = kept.id
            self.session.add(alias)
        for child in self.session.exec(select(Source).where(Source.parent_id == gone.id)).all():
            # `kept` itself may be a child of `gone`: it takes over `gone`'s parent
            child.parent_id = gone.parent_id if child.id == kept.id else kept.id
            self.session.add(child)
        if kept.parent_id == gone.id:
            kept.parent_id = gone.parent_id
        filled = {}
        for name, value in (("affiliation", gone.affiliation), ("url", gone.url), ("notes", gone.notes)):
            if getattr(kept, name) is None and value is not None:
                setattr(kept, name, value)
                filled[name] = value
        for claim_id in touched_claims:
            self.bump(self.session.get(Claim, claim_id))
        # the duplicate keeps its row and name; its name key makes way for an alias of `kept`
        gone_name = gone.name
        gone.name_key = f"#merged{gone.id}#{gone.name_key}"[:MAX_NAME]
        gone.merged_into_id = kept.id
        self.bump(gone)
        self.bump(kept)
        for earlier in self.session.exec(select(Source).where(Source.merged_into_id == gone.id)).all():
            earlier.merged_into_id = kept.id  # sources merged into `gone` before now point at `kept`
            self.session.add(earlier)
        self.session.flush()
        self.forget_cached_sources()
        self.session.add(SourceAlias(source_id=kept.id, alias=gone_name, alias_key=name_key(gone_name)))
        self.session.flush()
        self.audit("source.merge", "source", gone.id, source_id=kept.id,
                   before={"name": gone_name, "kind": gone.kind, "affiliation": gone.affiliation, "url": gone.url},
                   after={"merged_into": kept.name, "merged_into_id": kept.id, "reports_moved": moved or None,
                          "reports_retracted_as_duplicates": retracted or None, "details_filled": filled or None})
        return kept

    # -- claims ----------------------------------------------------------------------------
    def claim(self, claim_id: int) -> Claim:
        """The claim with this id, or a NotFoundError."""
        claim = self.session.get(Claim, claim_id)
        if claim is None:
            raise NotFoundError(f"there is no claim #{claim_id}; list claims with `tracker claims`")
        return claim

    def claim_by_ref(self, ref: str) -> Claim | None:
        """The claim with this `claim_ref`, if any (a merged claim's ref finds the claim it joined)."""
        claim = self.session.exec(select(Claim).where(Claim.ref == ref)).first()
        while claim is not None and claim.merged_into_id is not None:
            claim = self.session.get(Claim, claim.merged_into_id)
        return claim

    def unused_ref(self, kind: str) -> str:
        """A new claim (`c`) or report (`r`) ref that nothing in the store uses."""
        model = Claim if kind == "c" else Report
        while True:
            ref = new_ref(kind)
            if self.session.exec(select(model.id).where(model.ref == ref)).first() is None:
                return ref

    def claims_by_statement(self, statement: str) -> list[Claim]:
        """Live (not retracted) claims whose statement is exactly `statement` (white space folded)."""
        cleaned = _clean(statement) or ""
        return list(self.session.exec(select(Claim).where(Claim.statement == cleaned,
                                                          col(Claim.retracted_at).is_(None))).all())

    @staticmethod
    def retracted_message(claim: Claim) -> str:
        """Why a retracted claim takes nothing more (the same words for the CLI, pages and imports)."""
        return (f"claim #{claim.id} was retracted ({claim.retraction_reason}); it takes no more reports, "
                "verdicts or edits. Log a new claim if it is being made again")

    def _not_retracted(self, claim: Claim) -> None:
        if claim.retracted_at is not None:
            raise ValidationError(self.retracted_message(claim))

    def log_claim(self, statement: str, *, first_reported_at=None, topics=None, expected_by=None,
                  ref: str | None = None, allow_same_statement: bool = False) -> Claim:
        """Create a claim (without reports); see `Ledger.log_claim` for the rules."""
        self.require("claim.create")
        cleaned = check_statement(statement)
        ref = rules.CLAIM_REF.check(ref)
        if ref is not None:
            if self.claim_by_ref(ref) is not None:
                raise DuplicateError(f"a claim with reference {ref!r} already exists; add reports to it instead")
        elif not allow_same_statement:
            same = self.claims_by_statement(cleaned)
            if same:
                raise DuplicateError(
                    f"claim #{same[0].id} already says exactly this; add a report to it instead"
                )
        first = (rules.FIRST_REPORTED.check_when(first_reported_at, self.now) if first_reported_at is not None
                 else When(self.now))
        expected = rules.EXPECTED_BY.check_when(expected_by) or When(None)
        if expected.at is not None:
            check_expected_by(expected.at, first.at, expected.date_only)
        claim = Claim(ref=ref or self.unused_ref("c"), statement=cleaned, first_reported_at=first.at,
                      expected_by=expected.at, expected_by_date_only=expected.date_only,
                      logged_by=self.user, logged_at=self.now, first_reported_date_only=first.date_only)
        self.session.add(claim)
        self.session.flush()
        wanted = normalise_topics(topics)
        self.set_topics(claim, wanted)
        self.audit("claim.create", "claim", claim.id, claim=claim, after={
            "statement": claim.statement, "ref": claim.ref,
            "first_reported_at": as_written(claim.first_reported_at, claim.first_reported_date_only),
            "expected_by": as_written(claim.expected_by, claim.expected_by_date_only), "topics": wanted or None,
        })
        return claim

    def topics_of(self, claim: Claim) -> list[str]:
        """A claim's topic tags, alphabetically."""
        return sorted(self.session.exec(select(ClaimTopic.topic).where(ClaimTopic.claim_id == claim.id)).all())

    def edit_claim(self, claim: Claim, *, version: int | None, statement: str | None = None,
                   expected_by=None, topics=None, clear_expected_by: bool = False, reason: str | None = None) -> Claim:
        """Change a claim's statement, expected-by date or topics (reviewers), from `version`.

        Fields left as None stay as they are; an unchanged edit is refused as saying nothing.
        """
        self.require("claim.edit")
        self._not_retracted(claim)
        self.check_claim_version(claim, version)
        before: dict = {}
        after: dict = {}
        if statement is not None:
            cleaned = check_statement(statement)
            if cleaned != claim.statement:
                if claim.ref is None and any(c.id != claim.id for c in self.claims_by_statement(cleaned)):
                    raise DuplicateError("another claim already says exactly this; edit that one, or retract this one")
                before["statement"], after["statement"] = claim.statement, cleaned
        if clear_expected_by or expected_by is not None:
            expected = (None if clear_expected_by else rules.EXPECTED_BY.check_when(expected_by)) or When(None)
            if expected.at is not None:
                check_expected_by(expected.at, claim.first_reported_at, expected.date_only)
            if (expected.at, expected.date_only) != (claim.expected_by, claim.expected_by_date_only):
                before["expected_by"] = as_written(claim.expected_by, claim.expected_by_date_only)
                after["expected_by"], stored_expected = as_written(*expected), expected
        if topics is not None:
            old, new = self.topics_of(claim), sorted(normalise_topics(topics))
            if old != new:
                before["topics"], after["topics"] = old or None, new or None
        if not after:
            raise ValidationError(f"the edit changes nothing on claim #{claim.id}; change a field or cancel")
        if "statement" in after:
            claim.statement = after["statement"]
        if "expected_by" in after:
            claim.expected_by, claim.expected_by_date_only = stored_expected
        if "topics" in after:
            self.set_topics(claim, after["topics"] or [], replace=True)
        self.bump(claim)
        self.session.flush()
        self.audit("claim.edit", "claim", claim.id, claim=claim, before=before, after=after,
                   reason=" ".join(str(reason).split()) if reason else None)
        return claim

    def retract_claim(self, claim: Claim, reason: str, *, version: int | None = None) -> Claim:
        """Retract a claim (reviewers) with a reason: it leaves lists and scores, stays in history."""
        self.require("claim.retract")
        self.check_claim_version(claim, version)
        if claim.retracted_at is not None:
            raise ValidationError(f"claim #{claim.id} is already retracted ({claim.retraction_reason})")
        cleaned = self._reason(reason, "claim")
        claim.retracted_at, claim.retracted_by, claim.retraction_reason = self.now, self.user, cleaned
        self.bump(claim)
        self.session.flush()
        self.audit("claim.retract", "claim", claim.id, claim=claim, before={"retracted": False},
                   after={"retracted": True}, reason=cleaned)
        return claim
    def claim_named(self, name: int | str) -> Claim:
        """The claim a person names by id (`42`, `#42`) or claim_ref (a merged claim's ref names the kept one)."""
        text = str(name).strip()
        claim = self.claim_by_ref(text)
        if claim is None and text.lstrip("#").isdigit():
            claim = self.session.get(Claim, int(text.lstrip("#")))
        if claim is None:
            raise NotFoundError(f"no claim has the id or claim_ref {text!r}; list claims with `tracker claims`")
        return claim

    def merge_claims(self, keep: Claim, duplicate: Claim, *, version: int | None = None) -> Claim:
        """Fold the claim `duplicate` into `keep` (reviewers): one claim that was logged twice.

        The duplicate's live reports move to `keep` (one identical to a report of `keep` stays
        behind, retracted as its duplicate), its topics join, an expected-by date `keep` lacks is
        taken, and its verdicts move over when `keep` has none. Verdicts in force that differ are
        refused, both shown. The duplicate stays in the store and its history, retracted as merged
        and pointing at `keep`; its claim_ref still finds `keep` (later imports match it).
        `version` is the duplicate's, as the person merging saw it.
        """
        self.require("claim.merge")
        if keep.id == duplicate.id:
            raise ValidationError(f"claim #{keep.id} cannot be merged into itself; name two different claims")
        if duplicate.merged_into_id is not None:
            raise ValidationError(f"claim #{duplicate.id} was merged into claim #{duplicate.merged_into_id} already")
        for claim in (keep, duplicate):
            self._not_retracted(claim)
        self.check_claim_version(duplicate, version)
        kept_outcomes, gone_outcomes = self.outcomes(keep), self.outcomes(duplicate)
        if kept_outcomes and gone_outcomes and kept_outcomes[-1].verdict != gone_outcomes[-1].verdict:
            a, b = kept_outcomes[-1], gone_outcomes[-1]
            raise ValidationError(
                f"the verdicts disagree: claim #{keep.id} is '{a.verdict}' (as of {a.decided_at:%Y-%m-%d}) and claim "
                f"#{duplicate.id} is '{b.verdict}' (as of {b.decided_at:%Y-%m-%d}); record the right verdict on both "
                "(or decide they are not the same claim), then merge"
            )
        held = {(r.source_id, r.stance, r.reported_at): r.id
                for r in self.session.exec(select(Report).where(Report.claim_id == keep.id))}
        moved, collapsed = [], []
        for report in self.session.exec(select(Report).where(Report.claim_id == duplicate.id,
                                                             col(Report.retracted_at).is_(None))).all():
            twin = held.get((report.source_id, report.stance, report.reported_at))
            if twin is not None:
                report.retracted_at, report.retracted_by = self.now, self.user
                report.retraction_reason = f"duplicate of report #{twin} after merging claim #{duplicate.id} into #{keep.id}"
                collapsed.append(report.id)
            else:
                report.claim_id = keep.id
                moved.append(report.id)
            self.bump(report)
        moved_outcomes = []
        if not kept_outcomes:
            for outcome in gone_outcomes:
                outcome.claim_id = keep.id
                self.session.add(outcome)
                moved_outcomes.append(outcome.id)
        before_topics = self.topics_of(keep)
        topics = sorted(set(before_topics) | set(self.topics_of(duplicate)))
        self.set_topics(keep, topics)
        before = {"first_reported_at": keep.first_reported_at, "expected_by": keep.expected_by,
                  "topics": before_topics or None}
        if duplicate.first_reported_at < keep.first_reported_at:
            keep.first_reported_at = duplicate.first_reported_at
            keep.first_reported_date_only = duplicate.first_reported_date_only
        if keep.expected_by is None and duplicate.expected_by is not None:
            keep.expected_by, keep.expected_by_date_only = duplicate.expected_by, duplicate.expected_by_date_only
        for earlier in self.session.exec(select(Claim).where(Claim.merged_into_id == duplicate.id)).all():
            earlier.merged_into_id = keep.id  # claims merged into the duplicate before now point at `keep`
            self.session.add(earlier)
        duplicate.merged_into_id = keep.id
        duplicate.retracted_at, duplicate.retracted_by = self.now, self.user
        duplicate.retraction_reason = f"merged into claim #{keep.id} ({keep.ref})"
        self.bump(duplicate)
        self.bump(keep)
        self.session.flush()
        after = {"merged_into": keep.id, "merged_into_ref": keep.ref, "reports_moved": moved or None,
                 "reports_retracted_as_duplicates": collapsed or None, "outcomes_moved": moved_outcomes or None}
        self.audit("claim.merge", "claim", duplicate.id, claim=duplicate,
                   before={"statement": duplicate.statement, "ref": duplicate.ref, "retracted": False}, after=after)
        changed = {k: v for k, v in (("first_reported_at", keep.first_reported_at), ("expected_by", keep.expected_by),
                                     ("topics", topics or None)) if before[k] != v}
        self.audit("claim.merge", "claim", keep.id, claim=keep, before={k: before[k] for k in changed},
                   after={**changed, "merged_from": duplicate.id, "merged_from_ref": duplicate.ref,
                          "reports_moved": moved or None})
        return keep

    def set_topics(self, claim: Claim, topics: Iterable[str], *, replace: bool = False) -> None:
        """Add topic tags to a claim (or replace them all)."""
        current = {t.topic: t for t in self.session.exec(select(ClaimTopic).where(ClaimTopic.claim_id == claim.id))}
        wanted = normalise_topics(list(topics))
        if replace:
            for topic, row in current.items():
                if topic not in wanted:
                    self.session.delete(row)
        for topic in wanted:
            if topic not in current:
                self.session.add(ClaimTopic(claim_id=claim.id, topic=topic))
        self.session.flush()

    # -- reports ---------------------------------------------------------------------------
    def report(self, report_id: int) -> Report:
        """The report with this id, or a NotFoundError."""
        report = self.session.get(Report, report_id)
        if report is None:
            raise NotFoundError(f"there is no report #{report_id}; `tracker claims show ID` lists a claim's reports")
        return report

    def find_report(self, claim: Claim, source: Source, stance: str, reported_at: datetime) -> Report | None:
        """The report with exactly this identity, if the store holds it."""
        return self.session.exec(
            select(Report).where(Report.claim_id == claim.id, Report.source_id == source.id,
                                 Report.stance == stance, Report.reported_at == reported_at)
        ).first()

    def prepare_report(self, source: str, stance, reported_at, via: str | None = None,
                       *, create_sources: bool = True) -> tuple[Source, str, When, Source | None]:
        """Check a report's fields and resolve its sources, before anything is written."""
        stance = rules.STANCE.check(stance)
        when = rules.REPORTED_AT.check_when(reported_at, self.now)
        written = rules.SOURCE.check(source)
        via = rules.VIA.check(via)
        src = self.source(written, create=create_sources)
        via_src = None
        if via:
            via_src = self.source(via, create=create_sources)
            rules.check_relay(written, src.id, via_src.id)
        return src, stance, when, via_src

    def add_report(self, claim: Claim, source: str, stance, reported_at, *, via: str | None = None,
                   url: str | None = None, quote: str | None = None, note: str | None = None,
                   create_sources: bool = True, skip_duplicate: bool = False) -> Report | None:
        """Add one source's stance on `claim`; a duplicate is an error (or skipped on import)."""
        self.require("report.create")
        self._not_retracted(claim)
        src, stance, read, via_src = self.prepare_report(source, stance, reported_at, via,
                                                         create_sources=create_sources)
        when = read.at
        if self.find_report(claim, src, stance, when) is not None:
            if skip_duplicate:
                return None
            raise DuplicateError(
                f"{src.name} already has a '{stance}' report on claim #{claim.id} at {when:%Y-%m-%d %H:%M}"
                + (" (retracted)" if self.find_report(claim, src, stance, when).retracted_at else "")
            )
        report = Report(ref=self.unused_ref("r"), claim_id=claim.id, source_id=src.id, stance=stance, reported_at=when,
                        reported_date_only=read.date_only, via_source_id=via_src.id if via_src else None,
                        url=rules.URL.check(url), quote=rules.QUOTE.check(quote), note=rules.NOTE.check(note),
                        logged_by=self.user, logged_at=self.now)
        self.session.add(report)
        moved_first = when < claim.first_reported_at
        if moved_first:
            claim.first_reported_at, claim.first_reported_date_only = when, read.date_only
        self.bump(claim)
        self.session.flush()
        after = {"source": src.name, "stance": stance, "reported_at": as_written(when, read.date_only),
                 "via": via_src.name if via_src else None, "url": report.url, "quote": report.quote,
                 "note": report.note}
        if moved_first:
            after["claim_first_reported_at"] = as_written(when, read.date_only)
        self.audit("report.create", "report", report.id, claim=claim, source_id=src.id, after=after)
        return report

    def edit_report(self, report: Report, *, source: str, stance, reported_at, via: str | None = None,
                    url: str | None = None, note: str | None = None, quote: str | None = None,
                    version: int | None = None, reason: str | None = None) -> bool:
        """Correct a report in place (reviewers): its source, stance, time, relay, url, note and quote.

        Returns False (and needs no permission) when the values are what the store holds already;
        `version` is its claim's version as the editor saw it (a stale edit is refused).
        """
        claim = self.claim(report.claim_id)
        src, stance, read, via_src = self.prepare_report(source, stance, reported_at, via)
        when = read.at
        wanted = {"source_id": src.id, "stance": stance, "reported_at": when, "reported_date_only": read.date_only,
                  "via_source_id": via_src.id if via_src else None, "url": rules.URL.check(url),
                  "note": rules.NOTE.check(note), "quote": rules.QUOTE.check(quote)}
        changed = [name for name, value in wanted.items() if getattr(report, name) != value]
        if not changed:
            return False
        self.require("report.edit")
        self._not_retracted(claim)
        if report.retracted_at is not None:
            raise ValidationError(f"report #{report.id} was retracted ({report.retraction_reason}); log a new report instead")
        self.check_claim_version(claim, version)
        twin = self.find_report(claim, src, stance, when)
        if twin is not None and twin.id != report.id:
            raise DuplicateError(f"{src.name} already has a '{stance}' report on claim #{claim.id} at "
                                 f"{when:%Y-%m-%d %H:%M} (report #{twin.id}); retract one of the two instead")
        names = _source_names(self.session)

        def shown(name: str, value, values):
            if name == "reported_at":
                return as_written(value, values["reported_date_only"])
            return names.get(value) if name in ("source_id", "via_source_id") else value

        label = {"source_id": "source", "via_source_id": "via"}
        held = {name: getattr(report, name) for name in wanted}
        before = {label.get(n, n): shown(n, held[n], held) for n in changed}
        for name in changed:
            setattr(report, name, wanted[name])
        after = {label.get(n, n): shown(n, wanted[n], wanted) for n in changed}
        if when < claim.first_reported_at:
            claim.first_reported_at, claim.first_reported_date_only = when, read.date_only
        self.bump(report)
        self.bump(claim)
        self.session.flush()
        self.audit("report.edit", "report", report.id, claim=claim, source_id=src.id, before=before, after=after,
                   reason=" ".join(str(reason).split()) if reason else None)
        return True

    def retract_report(self, report_id: int, reason: str, *, version: int | None = None) -> Report:
        """Retract one report (reviewers) with a reason; `version` is its claim's version, if known."""
        self.require("report.retract")
        report = self.report(report_id)
        claim = self.claim(report.claim_id)
        self.check_claim_version(claim, version)
        if report.retracted_at is not None:
            raise ValidationError(f"report #{report_id} is already retracted ({report.retraction_reason})")
        cleaned = self._reason(reason, "report")
        report.retracted_at, report.retracted_by, report.retraction_reason = self.now, self.user, cleaned
        self.bump(report)
        self.bump(claim)
        self.session.flush()
        self.audit("report.retract", "report", report.id, claim=claim, source_id=report.source_id,
                   before={"retracted": False}, after={"retracted": True}, reason=cleaned)
        return report
    # -- outcomes --------------------------------------------------------------------------
    def outcomes(self, claim: Claim) -> list[Outcome]:
        """A claim's verdicts, oldest first (the last is in force)."""
        return list(self.session.exec(
            select(Outcome).where(Outcome.claim_id == claim.id).order_by(col(Outcome.id))
        ).all())

    def record_outcome(self, claim: Claim, verdict, decided_at, *, evidence_url: str | None = None,
                       note: str | None = None, reviewer: str | None = None,
                       skip_duplicate: bool = False, version: int | None = None) -> Outcome | None:
        """Record (or revise) the verdict on `claim` (reviewers); earlier verdicts stay in its history."""
        self.require("outcome.record")
        self._not_retracted(claim)
        self.check_claim_version(claim, version)
        verdict = rules.VERDICT.check(verdict)
        read = rules.DECIDED_AT.check_when(decided_at, self.now)
        when = read.at
        check_outcome_time(when, claim.first_reported_at, f"claim #{claim.id}", read.date_only)
        history = self.outcomes(claim)
        if skip_duplicate and any(o.verdict == verdict and o.decided_at == when for o in history):
            return None
        if history and history[-1].verdict == verdict and history[-1].decided_at == when:
            raise DuplicateError(
                f"claim #{claim.id} already has the verdict '{verdict}' as of {when:%Y-%m-%d}; "
                "change the verdict or its date to revise it"
            )
        outcome = Outcome(claim_id=claim.id, verdict=verdict, decided_at=when, decided_date_only=read.date_only,
                          evidence_url=rules.EVIDENCE.check(evidence_url),
                          note=rules.NOTE.check(note), reviewer=self.credited(reviewer),
                          recorded_at=self.now)
        self.session.add(outcome)
        self.bump(claim)
        self.session.flush()
        previous = history[-1] if history else None
        self.audit("outcome.record", "outcome", outcome.id, claim=claim,
                   before={"verdict": previous.verdict,
                           "decided_at": as_written(previous.decided_at, previous.decided_date_only)} if previous else None,
                   after={"verdict": verdict, "decided_at": as_written(when, read.date_only),
                          "evidence_url": outcome.evidence_url,
                          "note": outcome.note, "reviewer": outcome.reviewer})
        return outcome

    # -- accounts --------------------------------------------------------------------------
    def account_count(self) -> int:
        """How many accounts the store holds (disabled ones included)."""
        return self.session.exec(select(func.count()).select_from(Account)).one()

    def account(self, name: str) -> Account:
        """The account called `name` (any case), or a NotFoundError."""
        account = self.session.exec(select(Account).where(Account.name_key == name_key(name or ""))).first()
        if account is None:
            raise NotFoundError(f"there is no account called {name!r}; `tracker user list` shows them")
        return account

    def _enabled_admins(self) -> int:
        return self.session.exec(select(func.count()).select_from(Account).where(
            Account.role == Role.admin.value, col(Account.disabled_at).is_(None))).one()

    def add_account(self, name: str, role, password: str) -> Account:
        """Create an account (admins; or the local operator's first account, which must be an admin)."""
        cleaned = accounts.check_account_name(name)
        role = accounts.check_role(role)
        if self.account_count() == 0:
            if not self.actor.is_local:
                raise LoginRequired("the store has no accounts; the first one is created by the local operator")
            if role != Role.admin:
                raise ValidationError(
                    "the first account must be an admin (it is the one that manages the others): "
                    f"use --role admin for {cleaned!r}, then add analysts and reviewers as that admin"
                )
        else:
            self.require("account.manage")
        accounts.check_password(password, cleaned)
        key = name_key(cleaned)
        if self.session.exec(select(Account).where(Account.name_key == key)).first() is not None:
            raise DuplicateError(f"there is already an account called {cleaned!r}")
        account = Account(name=cleaned, name_key=key, role=role.value, password_hash=accounts.hash_password(password),
                          created_at=self.now)
        self.session.add(account)
        self.session.flush()
        self.audit("account.create", "account", account.id, after={"name": cleaned, "role": role.value})
        return account

    def set_role(self, name: str, role, *, version: int | None = None) -> Account:
        """Change an account's role (admins); the last enabled admin cannot stop being one."""
        self.require("account.manage")
        account = self.account(name)
        role = accounts.check_role(role)
        if version is not None and int(version) != account.version:
            raise EditConflict(f"the account {account.name!r} was changed by someone else after you opened it; "
                               "nothing was saved. Reload and try again")
        if role.value == account.role:
            raise ValidationError(f"{account.name} is already {role.value}")
        if account.role == Role.admin.value and account.disabled_at is None and self._enabled_admins() <= 1:
            raise ValidationError(f"{account.name} is the only admin; make another admin first")
        before = account.role
        account.role = role.value
        self.bump(account)
        self.session.flush()
        self.audit("account.role", "account", account.id, before={"role": before}, after={"role": role.value})
        return account

    def set_password(self, name: str, new_password: str, *, current_password: str | None = None) -> Account:
        """Change a password: your own (with the current one, admins too), or anyone's as an admin; ends their sessions."""
        account = self.account(name)
        if self.actor.account_id == account.id:
            if current_password is None:
                raise LoginFailed("changing your own password needs your current password: use \"Change your "
                                  "password\" in the dashboard's sidebar, or `tracker --as NAME user password NAME`")
            if not accounts.verify_password(account.password_hash, current_password):
                raise LoginFailed("the current password is wrong; nothing was changed")
        else:
            self.require("account.manage")
        accounts.check_password(new_password, account.name)
        account.password_hash = accounts.hash_password(new_password)
        account.failed_logins, account.locked_until = 0, None
        self.bump(account)
        self._end_sessions(account)
        self.session.flush()
        self.audit("account.password", "account", account.id, after={"password": "changed"})
        return account

    def set_disabled(self, name: str, disabled: bool) -> Account:
        """Disable an account (it can no longer sign in; its sessions end) or enable it again (admins)."""
        self.require("account.manage")
        account = self.account(name)
        if disabled == (account.disabled_at is not None):
            raise ValidationError(f"{account.name} is already {'disabled' if disabled else 'enabled'}")
        if disabled and account.role == Role.admin.value and self._enabled_admins() <= 1:
            raise ValidationError(f"{account.name} is the only enabled admin; make another admin first")
        account.disabled_at = self.now if disabled else None
        self.bump(account)
        if disabled:
            self._end_sessions(account)
        self.session.flush()
        self.audit("account.disable" if disabled else "account.enable", "account", account.id,
                   before={"disabled": not disabled}, after={"disabled": disabled})
        return account

    def _end_sessions(self, account: Account) -> None:
        self.session.execute(update(LoginSession).where(
            LoginSession.account_id == account.id, col(LoginSession.ended_at).is_(None)).values(ended_at=self.now))


def _enabled_actor(account: Account) -> Actor:
    """The Actor for an account, or LoginFailed when it is disabled."""
    if account.disabled_at is not None:
        raise LoginFailed(f"the account {account.name!r} is disabled; ask an admin")
    return Actor(account.name, Role(account.role), account.id)


def _start_session(session: Session, account: Account, now: datetime) -> tuple[str, Actor]:
    """Commit a new login session for `account` in `session`: its token (the store keeps the hash) and Actor."""
    token = accounts.new_token()
    session.add(LoginSession(token_hash=accounts.token_hash(token), account_id=account.id, created_at=now,
                             expires_at=now + accounts.session_length()))
    session.commit()
    return token, _enabled_actor(account)


def describe_change(change: audit.Change) -> str:
    """One line for a change: when, who, what, and the fields it changed."""
    parts = [f"{change.at:%Y-%m-%d %H:%M} UTC {change.actor} {change.summary}"]
    if change.before is None and change.after:  # a creation: what it was created with
        parts += [f"{key}={_short(value)}" for key, value in sorted(change.after.items()) if value is not None]
    else:
        parts += [f"{key}: {_short(old)} -> {_short(new)}" for key, old, new in change.changed_fields()]
    if change.reason:
        parts.append(f"reason: {_short(change.reason)}")
    return "; ".join(parts)


def _short(value, width: int = 80) -> str:
    if value is None:
        return "-"
    text = str(value)
    return repr(text if len(text) <= width else text[: width - 3] + "...")


class Ledger:
    """The claim ledger over one store, acting for one person; every public write is one transaction."""

    def __init__(self, engine: Engine, *, clock: Callable[[], datetime] = utcnow, actor: Actor | None = None) -> None:
        self.engine = engine
        self.clock = clock
        self.actor = actor or LOCAL_OPERATOR

    @classmethod
    def open(cls, url: str | None = None, *, create: bool = True, **kwargs) -> Ledger:
        """Open the store at `url` (see `tracker.store.database_url`), upgrading its schema.

        With `create=False` a SQLite path with no store is refused (StoreError) instead of created.
        """
        if not create:
            store.require_existing(url)
        engine = store.make_engine(url)
        store.ensure_schema(engine)
        return cls(engine, **kwargs)

    def acting_as(self, actor: Actor | None) -> Ledger:
        """The same ledger (same engine and clock) acting for `actor` (None: the local operator)."""
        return Ledger(self.engine, clock=self.clock, actor=actor)

    # -- transactions ----------------------------------------------------------------------
    def _begin(self, bump: bool) -> Session:
        """A session holding the store's write turn: SQLite's lock, PostgreSQL's revision row lock."""
        deadline = time.monotonic() + BUSY_SECONDS
        pause = 0.05
        while True:
            session = Session(store.for_writing(self.engine), expire_on_commit=False)
            try:
                if bump:
                    # every write raises the store's revision (caches key on it); as the first
                    # statement it also makes writers take turns on PostgreSQL
                    session.execute(update(StoreRevision).values(revision=StoreRevision.revision + 1))
                else:
                    session.connection()  # SQLite: BEGIN IMMEDIATE takes the write lock here
                return session
            except OperationalError as exc:
                session.close()
                message = str(exc.orig).lower()
                if ("locked" not in message and "busy" not in message) or time.monotonic() > deadline:
                    if "locked" in message or "busy" in message:
                        raise StoreBusy(
                            f"the store stayed busy with other writers for over {BUSY_SECONDS} s; nothing was "
                            "saved. Try again in a moment (a long import may be running)"
                        ) from exc
                    raise
                time.sleep(pause)
                pause = min(pause * 2, 1.0)

    def _actor_in(self, session: Session, *, bootstrap: bool = False) -> Actor:
        """The acting user as the store knows them now (role changes and disabling take effect at once)."""
        actor = self.actor
        if actor.is_local:
            has_accounts = session.exec(select(Account.id).limit(1)).first() is not None
            if has_accounts:
                raise LoginRequired(
                    "this store has accounts, so every change needs a signed-in user: sign in on the "
                    "dashboard, or give the CLI `--as NAME` (see `tracker user --help`)"
                )
            if accounts.require_login_forced() and not bootstrap:
                raise LoginRequired(
                    f"{accounts.REQUIRE_LOGIN_ENV} is set, so local mode is off and this store has no accounts "
                    "yet: create the first admin with `tracker user add NAME --role admin`"
                )
            return actor
        account = session.get(Account, actor.account_id)
        if account is None:
            raise LoginFailed(f"the account {actor.name!r} is gone; ask an admin")
        return _enabled_actor(account)

    @contextmanager
    def transaction(self, *, bump: bool = True, bootstrap: bool = False) -> Iterator[Writer]:
        """One write transaction as the acting user: commits if the block finishes, else rolls back."""
        session = self._begin(bump)
        try:
            writer = Writer(session, self.clock(), self._actor_in(session, bootstrap=bootstrap))
            yield writer
            session.flush()
            pairs.refresh(session.connection())  # the touched claims' kept stances, in the same commit
            session.commit()
        except (DataError, IntegrityError) as exc:
            # every rule is checked before writing (tracker.rules); should the store still refuse a
            # value, say so in one line rather than as a database traceback
            session.rollback()
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
            raise ValidationError(f"the store refused the change ({reason}); nothing was saved. "
                                  "Check the lengths and values of what you entered") from exc
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def revision(self) -> int:
        """The store's revision: raised by every write transaction, from any process."""
        with self.engine.connect() as connection:
            return connection.execute(select(StoreRevision.revision)).scalar_one()

    def session(self) -> Session:
        """A session for reading."""
        return Session(self.engine, expire_on_commit=False)

    # -- who may act -----------------------------------------------------------------------
    def has_accounts(self) -> bool:
        """True once the store has an account (it then requires a signed-in user for good)."""
        with self.session() as s:
            return s.exec(select(Account.id).limit(1)).first() is not None

    def local_mode(self) -> bool:
        """True when the store runs without login: no accounts and TRACKER_REQUIRE_LOGIN unset."""
        return not self.has_accounts() and not accounts.require_login_forced()

    def list_accounts(self) -> list[dict]:
        """Every account: name, role, created, disabled, whether locked (never a password hash)."""
        now = self.clock()
        with self.session() as s:
            return [
                {"id": a.id, "name": a.name, "role": a.role, "created_at": a.created_at,
                 "disabled": a.disabled_at is not None, "version": a.version,
                 "locked": a.locked_until is not None and a.locked_until > now}
                for a in s.exec(select(Account).order_by(func.lower(Account.name))).all()
            ]

    def add_account(self, name: str, role, password: str) -> Account:
        """Create an account; the first one (an admin, by the local operator) ends local mode."""
        with self.transaction(bootstrap=True) as w:
            return w.add_account(name, role, password)

    def set_role(self, name: str, role, *, version: int | None = None) -> Account:
        """Change an account's role (admins)."""
        with self.transaction() as w:
            return w.set_role(name, role, version=version)

    def set_password(self, name: str, new_password: str, *, current_password: str | None = None) -> Account:
        """Change a password (your own with the current one, anyone's as an admin)."""
        with self.transaction() as w:
            return w.set_password(name, new_password, current_password=current_password)

    def set_disabled(self, name: str, disabled: bool = True) -> Account:
        """Disable (or enable) an account (admins)."""
        with self.transaction() as w:
            return w.set_disabled(name, disabled)

    def _sign_in_turn(self) -> Session:
        """A write session for a sign-in: it waits SIGN_IN_WAIT_MS at most for the write turn, then says why.

        A sign-in writes (the attempt count, the login session), and on SQLite a long import holds
        the one write lock for its whole transaction: a sign-in refuses quickly instead of waiting
        behind it.
        """
        engine = store.for_writing(self.engine).execution_options(**{store.WAIT_OPTION: SIGN_IN_WAIT_MS})
        session = Session(engine, expire_on_commit=False)
        try:
            session.connection()
            return session
        except OperationalError as exc:
            session.close()
            message = str(exc.orig).lower()
            if "locked" in message or "busy" in message:
                raise StoreBusy("the store is busy with a long change (an import, perhaps) and cannot record a "
                                "sign-in just now; nothing was changed. Sign in again in a minute") from exc
            raise

    def _count_attempt(self, account_id: int, now: datetime) -> bool:
        """Count a password attempt before its password is checked (see `tracker.accounts`); False while paused."""
        session = self._sign_in_turn()
        try:
            # the write turn (SQLite) or the row lock (PostgreSQL) makes read-count-pause one step
            account = session.exec(select(Account).where(Account.id == account_id).with_for_update()).one()
            if account.locked_until is not None and account.locked_until > now:
                return False
            account.failed_logins += 1
            pause = accounts.pause_after(account.failed_logins)
            account.locked_until = now + pause if pause is not None else None
            session.add(account)
            session.commit()
            return True
        finally:
            session.close()

    def _check_login(self, name: str, password: str, now: datetime, *, throttle: bool) -> Account:
        """The account if `password` is right, else LoginFailed with one message for every refusal.

        With `throttle` (the dashboard) the attempt is counted before the password is checked, and
        refused unchecked while the account's sign-ins are paused. The password is checked (argon2
        takes a while) outside the write turn. Only the right password learns that an account is
        disabled.
        """
        refused = LoginFailed(accounts.SIGN_IN_REFUSED)
        with self.session() as s:
            account = s.exec(select(Account).where(Account.name_key == name_key(name or ""))).first()
        if account is None or (throttle and not self._count_attempt(account.id, now)):
            accounts.verify_password(_dummy_hash(), password or "")  # the same time as a real check
            raise refused
        if not accounts.verify_password(account.password_hash, password or ""):
            raise refused
        _enabled_actor(account)
        return account

    def _signed_in(self, session: Session, account: Account, password: str) -> None:
        """In `session`, a success: the attempt count cleared and an outdated hash replaced."""
        values = {"failed_logins": 0, "locked_until": None}
        if accounts.needs_rehash(account.password_hash):
            values["password_hash"] = accounts.hash_password(password)
        session.execute(update(Account).where(Account.id == account.id).values(**values))

    def authenticate(self, name: str, password: str) -> Actor:
        """The Actor for `name` if `password` is right (the CLI's --as, not throttled), else LoginFailed.

        It writes only when there is something to clear (an attempt count, an outdated hash), so a
        command's sign-in does not wait for the write turn.
        """
        account = self._check_login(name, password, self.clock(), throttle=False)
        if account.failed_logins or account.locked_until is not None or accounts.needs_rehash(account.password_hash):
            session = self._sign_in_turn()
            try:
                self._signed_in(session, account, password)
                session.commit()
            finally:
                session.close()
        return _enabled_actor(account)

    def login(self, name: str, password: str) -> tuple[str, Actor]:
        """Sign in (the dashboard, throttled): a new session token (keep it secret) and the Actor, or LoginFailed."""
        now = self.clock()
        account = self._check_login(name, password, now, throttle=True)
        session = self._sign_in_turn()
        try:
            self._signed_in(session, account, password)
            return _start_session(session, account, now)
        finally:
            session.close()

    def login_verified(self, name: str, *, email_verified: bool) -> tuple[str, Actor]:
        """Sign in an account whose owner an identity provider has just vouched for (no password).

        Only for a caller that checked the identity itself: the dashboard, after Streamlit's
        `st.login` (OpenID Connect) with a verified e-mail address. The account must exist and be
        enabled: single sign-on admits people to accounts an admin made (named by their e-mail
        address); it creates none.
        """
        if email_verified is not True:  # the ID token's own claim: absent or "false" is not a yes
            raise LoginFailed(f"your identity provider has not verified the e-mail address {name}, so single sign-on "
                              "cannot admit you to the account of that name; verify it with the provider, or sign in "
                              "with your password")
        now = self.clock()
        session = self._sign_in_turn()
        try:
            account = session.exec(select(Account).where(Account.name_key == name_key(name or ""))).first()
            if account is None:
                raise LoginFailed(f"{name} signed in with single sign-on, but this tracker has no account called "
                                  f"{name!r}; ask an admin to add one with that name")
            _enabled_actor(account)
            return _start_session(session, account, now)
        finally:
            session.close()

    def session_actor(self, token: str | None) -> Actor:
        """The Actor a session token stands for, or LoginFailed when it ended, expired or is unknown."""
        if not token:
            raise LoginFailed("not signed in")
        now = self.clock()
        with self.session() as s:
            row = s.exec(select(LoginSession, Account).join(Account, col(Account.id) == col(LoginSession.account_id))
                         .where(LoginSession.token_hash == accounts.token_hash(token))).first()
            if row is None:
                raise LoginFailed("this session is not known; sign in again")
            login_session, account = row
            actor = _enabled_actor(account)  # "disabled" says more than "ended", which disabling also does
            if login_session.ended_at is not None:
                raise LoginFailed("this session has ended (signed out, or the password changed); sign in again")
            if login_session.expires_at <= now:
                raise LoginFailed(f"your session expired at {login_session.expires_at:%Y-%m-%d %H:%M} UTC; "
                                  "sign in again")
            return actor

    def logout(self, token: str | None) -> None:
        """End a session (signing out); an unknown or ended token is left alone."""
        if not token:
            return
        session = self._begin(bump=False)
        try:
            session.execute(update(LoginSession).where(
                LoginSession.token_hash == accounts.token_hash(token), col(LoginSession.ended_at).is_(None))
                .values(ended_at=self.clock()))
            session.commit()
        finally:
            session.close()

    # -- writes ----------------------------------------------------------------------------
    def add_source(self, name: str, **details) -> Source:
        """Create a source (kind, affiliation, url, notes, aliases, parent); names are unique."""
        with self.transaction() as w:
            return w.add_source(name, **details)

    def update_source(self, name: str, *, version: int | None = None, **details) -> Source:
        """Change a source's kind, affiliation, url, notes, parent or aliases (admins)."""
        with self.transaction() as w:
            return w.update_source(w.source(name, create=False), version=version, **details)

    def add_alias(self, name: str, alias: str) -> SourceAlias:
        """Give the source `name` another name (admins)."""
        with self.transaction() as w:
            return w.add_alias(w.source(name, create=False), alias)

    def rename_source(self, old: str, new: str, *, version: int | None = None) -> Source:
        """Rename a source, keeping the old name as an alias (admins)."""
        with self.transaction() as w:
            return w.rename_source(old, new, version=version)

    def merge_sources(self, duplicate: str, into: str, *, version: int | None = None) -> Source:
        """Fold one source into another (admins; reports, aliases and children move; nothing is deleted)."""
        with self.transaction() as w:
            return w.merge_sources(duplicate, into, version=version)

    def log_claim(self, statement: str, *, reports: Iterable[dict] = (), topics=None, expected_by=None,
                  ref: str | None = None, first_reported_at=None, create_sources: bool = True) -> Claim:
        """Log a claim with its reports (dicts of source, stance, reported_at, via, url, quote, note).

        The claim is first reported at its earliest report (or `first_reported_at`, or now).
        """
        reports = list(reports)
        rules.refuse_all(rules.claim_problems(statement, topics_=topics, expected_by=expected_by, reports=reports,
                                              now=self.clock()), "the claim")
        with self.transaction() as w:
            if first_reported_at is None and reports:
                times = []
                for i, r in enumerate(reports, 1):
                    try:
                        times.append(rules.REPORTED_AT.check_when(r.get("reported_at"), w.now))
                    except LedgerError as exc:
                        raise type(exc)(f"report {i}: {exc}") from exc
                first_reported_at = min(times, key=lambda read: read.at)
            claim = w.log_claim(statement, first_reported_at=first_reported_at, topics=topics,
                                expected_by=expected_by, ref=ref)
            for i, r in enumerate(reports, 1):
                try:
                    w.add_report(claim, r.get("source"), r.get("stance"), r.get("reported_at"),
                                 via=r.get("via"), url=r.get("url"), quote=r.get("quote"), note=r.get("note"),
                                 create_sources=create_sources)
                except LedgerError as exc:
                    raise type(exc)(f"report {i}: {exc}") from exc
            return claim

    def add_report(self, claim_id: int, source: str, stance, reported_at, *, via: str | None = None,
                   url: str | None = None, quote: str | None = None, note: str | None = None,
                   create_sources: bool = True) -> Report:
        """Add one source's stance on a claim at a time; the same report twice is refused."""
        rules.refuse_all(rules.problems(rules.report_checks(
            {"source": source, "stance": stance, "reported_at": reported_at, "via": via, "url": url},
            "report", self.clock())), "the report")
        with self.transaction() as w:
            return w.add_report(w.claim(claim_id), source, stance, reported_at, via=via, url=url,
                                quote=quote, note=note, create_sources=create_sources)

    def record_outcome(self, claim_id: int, verdict, decided_at, *, evidence_url: str | None = None,
                       note: str | None = None, reviewer: str | None = None, version: int | None = None) -> Outcome:
        """Record or revise a claim's verdict (reviewers); `version` refuses a stale save."""
        with self.transaction() as w:
            return w.record_outcome(w.claim(claim_id), verdict, decided_at, evidence_url=evidence_url,
                                    note=note, reviewer=reviewer, version=version)

    def edit_claim(self, claim_id: int, *, version: int | None, statement: str | None = None, expected_by=None,
                   topics=None, clear_expected_by: bool = False, reason: str | None = None) -> Claim:
        """Edit a claim's statement, expected-by date or topics (reviewers), from the version you saw."""
        with self.transaction() as w:
            return w.edit_claim(w.claim(claim_id), version=version, statement=statement, expected_by=expected_by,
                                topics=topics, clear_expected_by=clear_expected_by, reason=reason)

    def merge_claims(self, keep: int | str, duplicate: int | str, *, version: int | None = None) -> Claim:
        """Fold the claim `duplicate` into `keep` (ids or claim_refs; reviewers); see `Writer.merge_claims`."""
        with self.transaction() as w:
            return w.merge_claims(w.claim_named(keep), w.claim_named(duplicate), version=version)

    def retract_claim(self, claim_id: int, reason: str, *, version: int | None = None) -> Claim:
        """Retract a claim with a reason (reviewers); it stays in the store and its history."""
        with self.transaction() as w:
            return w.retract_claim(w.claim(claim_id), reason, version=version)

    def retract_report(self, report_id: int, reason: str, *, version: int | None = None) -> Report:
        """Retract a report with a reason (reviewers); `version` is its claim's version, if known."""
        with self.transaction() as w:
            return w.retract_report(report_id, reason, version=version)

    def edit_report(self, report_id: int, *, version: int | None = None, reason: str | None = None,
                    **values) -> Report:
        """Correct a report's source, stance, reported_at, via, url, note or quote (reviewers); others stay."""
        with self.transaction() as w:
            report = w.report(report_id)
            names = _source_names(w.session)
            current = {"source": names[report.source_id], "stance": report.stance, "reported_at": report.reported_at,
                       "via": names.get(report.via_source_id), "url": report.url, "note": report.note,
                       "quote": report.quote}
            if not w.edit_report(report, **{**current, **values}, version=version, reason=reason):
                raise ValidationError(f"the edit changes nothing on report #{report_id}; change a field or cancel")
            return report

    def history(self, **filters) -> list[audit.Change]:
        """The audit trail, newest first (see `tracker.audit.history` for the filters)."""
        return audit.history(self.engine, **filters)

    # -- reads -----------------------------------------------------------------------------
    def get_claim(self, claim_id: int) -> ClaimView:
        """A claim with its topics, reports, outcome history and status timeline."""
        with self.session() as s:
            claim = s.get(Claim, claim_id)
            if claim is None:
                raise NotFoundError(f"there is no claim #{claim_id}; list claims with `tracker claims`")
            return self._view(s, claim)

    def _view(self, s: Session, claim: Claim) -> ClaimView:
        names = _source_names(s)
        topics = list(s.exec(select(ClaimTopic.topic).where(ClaimTopic.claim_id == claim.id)
                             .order_by(ClaimTopic.topic)).all())
        reports = list(s.exec(select(Report).where(Report.claim_id == claim.id)
                              .order_by(col(Report.reported_at), col(Report.id))).all())
        outcomes = list(s.exec(select(Outcome).where(Outcome.claim_id == claim.id).order_by(col(Outcome.id))).all())
        rows = [(r, names[r.source_id], names.get(r.via_source_id)) for r in reports]
        timeline = status_timeline((r.reported_at, r.source_id, r.stance) for r in reports if r.retracted_at is None)
        return ClaimView(claim, topics, rows, outcomes, timeline)

    def claim_views(self, claim_ids: Iterable[int] | None = None, *, include_retracted: bool = False) -> list[ClaimView]:
        """ClaimViews for the given claims (all live ones when None), ordered by id, read in bulk.

        Retracted claims and reports are left out unless `include_retracted` (an export carries
        the live ledger; history keeps the rest). Many ids are read a slice at a time
        (`store.id_chunks`): no backend takes hundreds of thousands of bound ids at once.
        """
        if claim_ids is None:
            return self._claim_views(None, include_retracted)
        ids = sorted(set(claim_ids))
        return [view for chunk in store.id_chunks(ids) for view in self._claim_views(chunk, include_retracted)]

    def _claim_views(self, ids: list[int] | None, include_retracted: bool) -> list[ClaimView]:
        with self.session() as s:
            query = select(Claim).order_by(col(Claim.id))
            if ids is not None:
                query = query.where(col(Claim.id).in_(ids))
            if not include_retracted:
                query = query.where(col(Claim.retracted_at).is_(None))
            claims = list(s.exec(query).all())
            wanted = [c.id for c in claims]
            names = _source_names(s)
            topics: dict[int, list[str]] = {}
            reports: dict[int, list[Report]] = {}
            outcomes: dict[int, list[Outcome]] = {}
            topic_q = select(ClaimTopic).order_by(ClaimTopic.topic)
            report_q = select(Report).order_by(col(Report.reported_at), col(Report.id))
            outcome_q = select(Outcome).order_by(col(Outcome.id))
            if ids is not None:
                topic_q = topic_q.where(col(ClaimTopic.claim_id).in_(wanted))
                report_q = report_q.where(col(Report.claim_id).in_(wanted))
                outcome_q = outcome_q.where(col(Outcome.claim_id).in_(wanted))
            for t in s.exec(topic_q):
                topics.setdefault(t.claim_id, []).append(t.topic)
            if not include_retracted:
                report_q = report_q.where(col(Report.retracted_at).is_(None))
            for r in s.exec(report_q):
                reports.setdefault(r.claim_id, []).append(r)
            for o in s.exec(outcome_q):
                outcomes.setdefault(o.claim_id, []).append(o)
            views = []
            for c in claims:
                rs = reports.get(c.id, [])
                views.append(ClaimView(
                    c, topics.get(c.id, []),
                    [(r, names[r.source_id], names.get(r.via_source_id)) for r in rs],
                    outcomes.get(c.id, []),
                    status_timeline((r.reported_at, r.source_id, r.stance) for r in rs if r.retracted_at is None),
                ))
            return views

    def list_sources(self) -> list[dict]:
        """Every source (merged ones left out) with its aliases, parent and live report counts, by name."""
        with self.session() as s:
            sources = list(s.exec(select(Source).where(col(Source.merged_into_id).is_(None))
                                  .order_by(func.lower(Source.name))).all())
            names = {src.id: src.name for src in sources}
            aliases: dict[int, list[str]] = {}
            for a in s.exec(select(SourceAlias).order_by(SourceAlias.alias)):
                aliases.setdefault(a.source_id, []).append(a.alias)
            counts, claims = {}, {}
            backend = "sqlite" if self.engine.dialect.name == "sqlite" else "postgresql"  # (standard SQL)
            for source_id, reports, claimed in s.connection().execute(_REPORTS_AND_CLAIMS[backend]):
                counts[source_id], claims[source_id] = int(reports), claimed
            return [
                {
                    "id": src.id, "name": src.name, "kind": src.kind, "affiliation": src.affiliation,
                    "url": src.url, "notes": src.notes, "aliases": aliases.get(src.id, []),
                    "parent": names.get(src.parent_id), "reports": counts.get(src.id, 0),
                    "claims": claims.get(src.id, 0), "version": src.version,
                }
                for src in sources
            ]

    def counts(self) -> dict[str, int]:
        """How many live sources, claims, reports and outcomes the store holds (merged and retracted rows aside)."""
        retracted_claims = select(Claim.id).where(col(Claim.retracted_at).is_not(None))
        with self.session() as s:
            def count(model, *where) -> int:
                return s.exec(select(func.count()).select_from(model).where(*where)).one()
            return {
                "sources": count(Source, col(Source.merged_into_id).is_(None)),
                "claims": count(Claim, col(Claim.retracted_at).is_(None)),
                "reports": count(Report, col(Report.retracted_at).is_(None),
                                 col(Report.claim_id).not_in(retracted_claims)),
                "outcomes": count(Outcome, col(Outcome.claim_id).not_in(retracted_claims)),
            }


# each source's live reports and the claims they are on, in one pass over the reports: SQLite
# scans the table into one temp b-tree, PostgreSQL groups by (source, claim), then by source (a
# count and a DISTINCT count in two statements walked the source index row by row on SQLite and
# sorted every report on PostgreSQL: at ten million reports 47 s of CPU -> 10 s, and 31 s -> 10 s)
_LIVE_REPORT = "retracted_at IS NULL AND claim_id NOT IN (SELECT id FROM claim WHERE retracted_at IS NOT NULL)"
_REPORTS_AND_CLAIMS = {
    "sqlite": text(f"SELECT source_id, count(*), count(DISTINCT claim_id) FROM report NOT INDEXED "
                   f"WHERE {_LIVE_REPORT} GROUP BY source_id"),
    "postgresql": text(f"SELECT source_id, sum(n), count(*) FROM (SELECT source_id, count(*) AS n FROM report "
                       f"WHERE {_LIVE_REPORT} GROUP BY source_id, claim_id) AS pairs GROUP BY source_id"),
}


def _source_names(s: Session) -> dict[int, str]:
    return dict(s.exec(select(Source.id, Source.name)).all())
