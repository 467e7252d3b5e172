"""The service layer: the only way to write to the store.

`Ledger` wraps an engine. Each public write (`add_source`, `log_claim`, `add_report`,
`record_outcome`, `rename_source`, `merge_sources`, ...) validates its input, raises a
`LedgerError` with a message a person can act on, and runs as one transaction: it either
happens whole or not at all. Imports (`tracker.interchange`) use the same checks through
`Ledger.transaction()` and the `Writer` it yields, so a file is one transaction too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from tracker import store
from tracker.dates import DateError, parse_when, utcnow
from tracker.errors import DuplicateError, LedgerError, NotFoundError, ValidationError
from tracker.models import (
    Claim,
    ClaimStatus,
    ClaimTopic,
    Outcome,
    Report,
    Source,
    SourceAlias,
    SourceKind,
    Stance,
    StoreRevision,
    Verdict,
)
from tracker.status import status_timeline

MAX_STATEMENT = 10_000
MAX_NAME = 300
# clocks differ a little between an analyst's machine and the server
FUTURE_TOLERANCE = timedelta(minutes=5)


def name_key(name: str) -> str:
    """The case- and space-insensitive key under which a source name or alias is unique."""
    return " ".join(name.split()).casefold()


def _clean(text: str | None) -> str | None:
    if text is None:
        return None
    text = " ".join(str(text).split())
    return text or None


def _choice(value, enum_type, what: str) -> str:
    raw = value.value if isinstance(value, enum_type) else str(value or "").strip().lower()
    allowed = [member.value for member in enum_type]
    if raw not in allowed:
        raise ValidationError(f"unknown {what} {value!r}; use one of: {', '.join(allowed)}")
    return raw


def _when(value, what: str) -> datetime:
    try:
        return parse_when(value)
    except DateError as exc:
        raise ValidationError(f"{what}: {exc}") from exc


def check_statement(statement: str | None) -> str:
    """A claim's statement as stored (white space folded), or a ValidationError saying what is wrong."""
    cleaned = _clean(statement)
    if not cleaned:
        raise ValidationError("the claim's statement is empty; write the checkable statement the sources made")
    if len(cleaned) > MAX_STATEMENT:
        raise ValidationError(f"the statement is longer than {MAX_STATEMENT} characters; shorten it to the claim itself")
    return cleaned


def check_not_future(moment: datetime, now: datetime, what: str) -> None:
    """Refuse a time later than `now` (beyond a few minutes of clock difference)."""
    if moment > now + FUTURE_TOLERANCE:
        raise ValidationError(
            f"{what} ({moment:%Y-%m-%d %H:%M} UTC) is in the future; check the date and its time zone"
        )


def check_outcome_time(when: datetime, first_reported_at: datetime, claim_label: str) -> None:
    """Refuse an outcome dated before its claim was first reported."""
    if when < first_reported_at:
        raise ValidationError(
            f"the outcome ({when:%Y-%m-%d %H:%M}) is dated before {claim_label} was first reported "
            f"({first_reported_at:%Y-%m-%d %H:%M}); an outcome becomes known after the claim"
        )


def check_expected_by(expected: datetime, first_reported_at: datetime) -> None:
    """Refuse an expected-by date before the claim was first reported."""
    if expected < first_reported_at:
        raise ValidationError(
            f"expected-by ({expected:%d %b %Y}) is before the claim was first reported "
            f"({first_reported_at:%d %b %Y})"
        )


def check_source_name(name: str | None, what: str = "source") -> str:
    """A source name or alias as stored, or a ValidationError when it is empty or too long."""
    cleaned = _clean(name)
    if not cleaned:
        raise ValidationError(f"the {what} name is empty; give the source a name")
    if len(cleaned) > MAX_NAME:
        raise ValidationError(f"the {what} name is longer than {MAX_NAME} characters")
    return cleaned


def normalise_topics(topics: Iterable[str] | str | None) -> list[str]:
    """Topic tags as stored: trimmed, lower-case, unique, in first-seen order (`;` splits a string)."""
    if topics is None:
        return []
    if isinstance(topics, str):
        topics = topics.split(";")
    seen: dict[str, None] = {}
    for topic in topics:
        cleaned = _clean(topic)
        if cleaned:
            if len(cleaned) > 200:
                raise ValidationError(f"topic {cleaned[:40]!r}... is longer than 200 characters")
            seen.setdefault(cleaned.lower(), None)
    return list(seen)


@dataclass
class ClaimView:
    """A claim with everything shown about it: topics, reports, outcome history, status."""

    claim: Claim
    topics: list[str]
    reports: list[tuple[Report, str, str | None]]  # report, source name, relayed-from name
    outcomes: list[Outcome]  # oldest first; the last one is in force
    timeline: list[tuple[datetime, ClaimStatus]] = field(default_factory=list)

    @property
    def outcome(self) -> Outcome | None:
        """The verdict in force, if any."""
        return self.outcomes[-1] if self.outcomes else None

    @property
    def status(self) -> ClaimStatus:
        """The reported status now."""
        return self.timeline[-1][1] if self.timeline else ClaimStatus.unreported


class Writer:
    """The write operations inside one open transaction (see `Ledger.transaction`)."""

    def __init__(self, session: Session, now: datetime, user: str | None) -> None:
        self.session = session
        self.now = now
        self.user = user
        self._sources: dict[str, Source] = {}

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
        cleaned = self._check_name_free(name)
        source = Source(
            name=cleaned, name_key=name_key(cleaned),
            kind=_choice(kind or SourceKind.other, SourceKind, "source kind"),
            affiliation=_clean(affiliation), url=_clean(url), notes=(notes or "").strip() or None,
            created_at=self.now,
        )
        if parent:
            source.parent_id = self.source(parent, create=False).id
        self.session.add(source)
        self.session.flush()
        self._sources[source.name_key] = source
        for alias in aliases:
            self.add_alias(source, alias)
        return source

    def update_source(self, source: Source, *, kind=None, affiliation: str | None = None,
                      url: str | None = None, notes: str | None = None, aliases: Iterable[str] = (),
                      parent: str | None = None) -> Source:
        """Fill in or change a source's details; aliases are added, never removed here."""
        if kind:
            source.kind = _choice(kind, SourceKind, "source kind")
        if affiliation:
            source.affiliation = _clean(affiliation)
        if url:
            source.url = _clean(url)
        if notes:
            source.notes = notes.strip()
        if parent:
            self._set_parent(source, self.source(parent, create=False))
        existing = {name_key(source.name)} | {
            a.alias_key for a in self.session.exec(select(SourceAlias).where(SourceAlias.source_id == source.id))
        }
        for alias in aliases:
            if name_key(alias) not in existing:
                self.add_alias(source, alias)
        self.session.add(source)
        self.session.flush()
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
        """Give `source` another name; the alias must not name any other source."""
        cleaned = self._check_name_free(alias, "alias")
        row = SourceAlias(source_id=source.id, alias=cleaned, alias_key=name_key(cleaned))
        self.session.add(row)
        self.session.flush()
        self._sources[row.alias_key] = source
        return row

    def rename_source(self, old: str, new: str) -> Source:
        """Rename a source; the old name stays as an alias so older files still match it."""
        source = self.source(old, create=False)
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
            old_name = source.name
            source.name, source.name_key = cleaned, name_key(cleaned)
            self.session.add(source)
            self.session.flush()
            self.forget_cached_sources()
            self.add_alias(source, old_name)
        self.session.add(source)
        self.session.flush()
        return source

    def merge_sources(self, duplicate: str, into: str) -> Source:
        """Fold the source `duplicate` into `into`: its reports, aliases and children move over."""
        gone = self.source(duplicate, create=False)
        kept = self.source(into, create=False)
        if gone.id == kept.id:
            raise ValidationError(f"{duplicate!r} and {into!r} are the same source; nothing to merge")
        kept_keys = {
            (r.claim_id, r.stance, r.reported_at)
            for r in self.session.exec(select(Report).where(Report.source_id == kept.id))
        }
        for report in self.session.exec(select(Report).where(Report.source_id == gone.id)).all():
            if (report.claim_id, report.stance, report.reported_at) in kept_keys:
                self.session.delete(report)  # the same report was logged under both names
                continue
            report.source_id = kept.id
            if report.via_source_id == kept.id:
                report.via_source_id = None
            self.session.add(report)
        for report in self.session.exec(select(Report).where(Report.via_source_id == gone.id)).all():
            report.via_source_id = None if report.source_id == kept.id else kept.id
            self.session.add(report)
        for alias in self.session.exec(select(SourceAlias).where(SourceAlias.source_id == gone.id)).all():
            alias.source_id = kept.id
            self.session.add(alias)
        for child in self.session.exec(select(Source).where(Source.parent_id == gone.id)).all():
            # `kept` itself may be a child of `gone`: it takes over `gone`'s parent
            child.parent_id = gone.parent_id if child.id == kept.id else kept.id
            self.session.add(child)
        if kept.parent_id == gone.id:
            kept.parent_id = gone.parent_id
        for name, value in (("affiliation", gone.affiliation), ("url", gone.url), ("notes", gone.notes)):
            if getattr(kept, name) is None and value is not None:
                setattr(kept, name, value)
        self.session.flush()
        gone_name = gone.name
        self.session.delete(gone)
        self.session.flush()
        self.forget_cached_sources()
        self.session.add(SourceAlias(source_id=kept.id, alias=gone_name, alias_key=name_key(gone_name)))
        self.session.flush()
        return kept

    # -- claims ----------------------------------------------------------------------------
    def claim(self, claim_id: int) -> Claim:
        """The claim with this id, or a NotFoundError."""
        claim = self.session.get(Claim, claim_id)
        if claim is None:
            raise NotFoundError(f"there is no claim #{claim_id}; list claims with `tracker claims`")
        return claim

    def claim_by_ref(self, ref: str) -> Claim | None:
        """The claim imported under `ref`, if any."""
        return self.session.exec(select(Claim).where(Claim.ref == ref)).first()

    def claims_by_statement(self, statement: str) -> list[Claim]:
        """Claims whose statement is exactly `statement` (after folding white space)."""
        cleaned = _clean(statement) or ""
        return list(self.session.exec(select(Claim).where(Claim.statement == cleaned)).all())

    def log_claim(self, statement: str, *, first_reported_at=None, topics=None, expected_by=None,
                  ref: str | None = None, allow_same_statement: bool = False) -> Claim:
        """Create a claim (without reports); see `Ledger.log_claim` for the rules."""
        cleaned = check_statement(statement)
        ref = _clean(ref)
        if ref is not None:
            if len(ref) > 200:
                raise ValidationError("the claim reference is longer than 200 characters")
            if self.claim_by_ref(ref) is not None:
                raise DuplicateError(f"a claim with reference {ref!r} already exists; add reports to it instead")
        elif not allow_same_statement:
            same = self.claims_by_statement(cleaned)
            if same:
                raise DuplicateError(
                    f"claim #{same[0].id} already says exactly this; add a report to it instead"
                )
        first = _when(first_reported_at, "first reported") if first_reported_at is not None else self.now
        self._not_future(first, "the first-reported time")
        expected = _when(expected_by, "expected by") if expected_by else None
        if expected is not None:
            check_expected_by(expected, first)
        claim = Claim(ref=ref, statement=cleaned, first_reported_at=first, expected_by=expected,
                      logged_by=self.user, logged_at=self.now)
        self.session.add(claim)
        self.session.flush()
        self.set_topics(claim, normalise_topics(topics))
        return claim

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

    def _not_future(self, moment: datetime, what: str) -> None:
        check_not_future(moment, self.now, what)

    # -- reports ---------------------------------------------------------------------------
    def find_report(self, claim: Claim, source: Source, stance: str, reported_at: datetime) -> Report | None:
        """The report with exactly this identity, if the store holds it."""
        return self.session.exec(
            select(Report).where(Report.claim_id == claim.id, Report.source_id == source.id,
                                 Report.stance == stance, Report.reported_at == reported_at)
        ).first()

    def prepare_report(self, source: str, stance, reported_at, via: str | None = None,
                       *, create_sources: bool = True) -> tuple[Source, str, datetime, Source | None]:
        """Check a report's fields and resolve its sources, before anything is written."""
        stance = _choice(stance, Stance, "stance")
        when = _when(reported_at, "reported at")
        self._not_future(when, "the report's time")
        if not _clean(source):
            raise ValidationError("the report has no source; name who made or carried the claim")
        src = self.source(source, create=create_sources)
        via_src = None
        if _clean(via):
            via_src = self.source(via, create=create_sources)
            if via_src.id == src.id:
                raise ValidationError(f"{src.name!r} cannot relay itself; leave 'via' empty or name the origin")
        return src, stance, when, via_src

    def add_report(self, claim: Claim, source: str, stance, reported_at, *, via: str | None = None,
                   url: str | None = None, quote: str | None = None, note: str | None = None,
                   create_sources: bool = True, skip_duplicate: bool = False) -> Report | None:
        """Add one source's stance on `claim`; a duplicate is an error (or skipped on import)."""
        src, stance, when, via_src = self.prepare_report(source, stance, reported_at, via,
                                                         create_sources=create_sources)
        if self.find_report(claim, src, stance, when) is not None:
            if skip_duplicate:
                return None
            raise DuplicateError(
                f"{src.name} already has a '{stance}' report on claim #{claim.id} at {when:%Y-%m-%d %H:%M}"
            )
        report = Report(claim_id=claim.id, source_id=src.id, stance=stance, reported_at=when,
                        via_source_id=via_src.id if via_src else None, url=_clean(url),
                        quote=(quote or "").strip() or None, note=(note or "").strip() or None,
                        logged_by=self.user, logged_at=self.now)
        self.session.add(report)
        if when < claim.first_reported_at:
            claim.first_reported_at = when
            self.session.add(claim)
        self.session.flush()
        return report

    # -- outcomes --------------------------------------------------------------------------
    def outcomes(self, claim: Claim) -> list[Outcome]:
        """A claim's verdicts, oldest first (the last is in force)."""
        return list(self.session.exec(
            select(Outcome).where(Outcome.claim_id == claim.id).order_by(col(Outcome.id))
        ).all())

    def record_outcome(self, claim: Claim, verdict, decided_at, *, evidence_url: str | None = None,
                       note: str | None = None, reviewer: str | None = None,
                       skip_duplicate: bool = False) -> Outcome | None:
        """Record (or revise) the verdict on `claim`; earlier verdicts stay in its history."""
        verdict = _choice(verdict, Verdict, "verdict")
        when = _when(decided_at, "outcome known at")
        self._not_future(when, "the outcome's time")
        check_outcome_time(when, claim.first_reported_at, f"claim #{claim.id}")
        history = self.outcomes(claim)
        if skip_duplicate and any(o.verdict == verdict and o.decided_at == when for o in history):
            return None
        if history and history[-1].verdict == verdict and history[-1].decided_at == when:
            raise DuplicateError(
                f"claim #{claim.id} already has the verdict '{verdict}' as of {when:%Y-%m-%d}; "
                "change the verdict or its date to revise it"
            )
        outcome = Outcome(claim_id=claim.id, verdict=verdict, decided_at=when, evidence_url=_clean(evidence_url),
                          note=(note or "").strip() or None, reviewer=_clean(reviewer) or self.user,
                          recorded_at=self.now)
        self.session.add(outcome)
        self.session.flush()
        return outcome


class Ledger:
    """The claim ledger over one store; every public write is one transaction."""

    def __init__(self, engine: Engine, *, clock: Callable[[], datetime] = utcnow, user: str | None = None) -> None:
        self.engine = engine
        self.clock = clock
        self.user = user

    @classmethod
    def open(cls, url: str | None = None, **kwargs) -> Ledger:
        """Open the store at `url` (see `tracker.store.database_url`), upgrading its schema."""
        engine = store.make_engine(url)
        store.ensure_schema(engine)
        return cls(engine, **kwargs)

    @contextmanager
    def transaction(self) -> Iterator[Writer]:
        """One transaction: commits if the block finishes, rolls everything back if it raises."""
        with Session(store.for_writing(self.engine), expire_on_commit=False) as session:
            writer = Writer(session, self.clock(), self.user)
            try:
                yield writer
                # every write raises the store's revision, in the same transaction (caches key on it)
                session.execute(update(StoreRevision).values(revision=StoreRevision.revision + 1))
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def revision(self) -> int:
        """The store's revision: raised by every write transaction, from any process."""
        with self.engine.connect() as connection:
            return connection.execute(select(StoreRevision.revision)).scalar_one()

    def session(self) -> Session:
        """A session for reading."""
        return Session(self.engine, expire_on_commit=False)

    # -- writes ----------------------------------------------------------------------------
    def add_source(self, name: str, **details) -> Source:
        """Create a source (kind, affiliation, url, notes, aliases, parent); names are unique."""
        with self.transaction() as w:
            return w.add_source(name, **details)

    def add_alias(self, name: str, alias: str) -> SourceAlias:
        """Give the source `name` another name."""
        with self.transaction() as w:
            return w.add_alias(w.source(name, create=False), alias)

    def rename_source(self, old: str, new: str) -> Source:
        """Rename a source, keeping the old name as an alias."""
        with self.transaction() as w:
            return w.rename_source(old, new)

    def merge_sources(self, duplicate: str, into: str) -> Source:
        """Fold one source into another (reports, aliases and children move; the name becomes an alias)."""
        with self.transaction() as w:
            return w.merge_sources(duplicate, into)

    def log_claim(self, statement: str, *, reports: Iterable[dict] = (), topics=None, expected_by=None,
                  ref: str | None = None, first_reported_at=None, create_sources: bool = True) -> Claim:
        """Log a claim with its reports (dicts of source, stance, reported_at, via, url, quote, note).

        The claim is first reported at its earliest report (or `first_reported_at`, or now).
        """
        reports = list(reports)
        with self.transaction() as w:
            if first_reported_at is None and reports:
                times = [_when(r.get("reported_at"), f"report {i}: reported at") for i, r in enumerate(reports, 1)]
                first_reported_at = min(times)
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
        with self.transaction() as w:
            return w.add_report(w.claim(claim_id), source, stance, reported_at, via=via, url=url,
                                quote=quote, note=note, create_sources=create_sources)

    def record_outcome(self, claim_id: int, verdict, decided_at, *, evidence_url: str | None = None,
                       note: str | None = None, reviewer: str | None = None) -> Outcome:
        """Record or revise a claim's verdict; the history of verdicts is kept."""
        with self.transaction() as w:
            return w.record_outcome(w.claim(claim_id), verdict, decided_at, evidence_url=evidence_url,
                                    note=note, reviewer=reviewer)

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
        timeline = status_timeline((r.reported_at, r.source_id, r.stance) for r in reports)
        return ClaimView(claim, topics, rows, outcomes, timeline)

    def claim_views(self, claim_ids: Iterable[int] | None = None) -> list[ClaimView]:
        """ClaimViews for the given claims (all when None), ordered by id, read in bulk."""
        with self.session() as s:
            query = select(Claim).order_by(col(Claim.id))
            ids = None if claim_ids is None else list(claim_ids)
            if ids is not None:
                query = query.where(col(Claim.id).in_(ids))
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
                    status_timeline((r.reported_at, r.source_id, r.stance) for r in rs),
                ))
            return views

    def list_sources(self) -> list[dict]:
        """Every source with its aliases, parent and report counts, by name."""
        with self.session() as s:
            sources = list(s.exec(select(Source).order_by(func.lower(Source.name))).all())
            names = {src.id: src.name for src in sources}
            aliases: dict[int, list[str]] = {}
            for a in s.exec(select(SourceAlias).order_by(SourceAlias.alias)):
                aliases.setdefault(a.source_id, []).append(a.alias)
            counts = dict(s.exec(select(Report.source_id, func.count()).group_by(Report.source_id)).all())
            claims = dict(s.exec(select(Report.source_id, func.count(func.distinct(Report.claim_id)))
                                 .group_by(Report.source_id)).all())
            return [
                {
                    "id": src.id, "name": src.name, "kind": src.kind, "affiliation": src.affiliation,
                    "url": src.url, "notes": src.notes, "aliases": aliases.get(src.id, []),
                    "parent": names.get(src.parent_id), "reports": counts.get(src.id, 0),
                    "claims": claims.get(src.id, 0),
                }
                for src in sources
            ]

    def counts(self) -> dict[str, int]:
        """How many sources, claims, reports and outcomes the store holds."""
        with self.session() as s:
            return {
                name: s.exec(select(func.count()).select_from(model)).one()
                for name, model in (("sources", Source), ("claims", Claim), ("reports", Report),
                                    ("outcomes", Outcome))
            }


def _source_names(s: Session) -> dict[int, str]:
    return dict(s.exec(select(Source.id, Source.name)).all())
