"""Writing an import to the store: every row checked, every write in bulk, all or nothing.

`tracker.interchange` reads a CSV or JSON file into an `Incoming`: report rows in chunks (one
tuple of text cells per report, in `ROW_FIELDS` order, with the row's label), plus, for JSON, the
claims' own fields, their verdict history and the sources' details. `apply_incoming` works chunk by
chunk, with pandas over whole columns rather than Python per row: it parses the dates, checks each
row with the column form of the service layer's rules (`tracker.rules`: the same rule and message), groups rows into claims, and writes
claims, topics and reports set-based, all inside one transaction: each table's new rows are staged
in bulk into a temporary table (SQLite: the driver's executemany on plain tuples; PostgreSQL: COPY)
and written with one INSERT ... SELECT, which also makes new report refs and NULLs in SQL.
Claim-level rules that need every row of a claim (the claim's first report, its outcome's date,
its expected-by date) are checked at the end. Any bad row anywhere rolls the whole transaction
back and raises `ImportRejected` naming every bad row, so a bad file changes nothing.

Identity makes imports idempotent: a report is the same report when claim, source, stance and time
match (the database's own unique constraint skips it), a verdict when claim, verdict and time
match, a claim when its `claim_ref` (or, without one, its exact statement) matches.

An import runs as the ledger's acting user: it needs the analyst role, and a file that would add
verdicts needs a reviewer (each such row is named otherwise). Its history is written in bulk too:
one `import` event for the file, and one event per claim, report, verdict and source it created
(an INSERT ... SELECT over the new rows), plus an edit event per existing claim whose dates moved.
"""

from __future__ import annotations

import gc
import re
import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import bindparam, case, func, insert, select, update
from sqlalchemy import text as sql_text
from sqlalchemy.engine import Connection

from tracker import audit, rules, safe_text
from tracker.accounts import PermissionDenied
from tracker.dates import When, as_written, read_when
from tracker.errors import ImportRejected, LedgerError, RowError, count_problems
from tracker.ledger import Ledger, Writer, describe_change
from tracker.rules import MAX_NAME, check_expected_by, check_outcome_time, name_key
from tracker.models import (
    AuditEvent,
    Claim,
    ClaimTopic,
    Outcome,
    Report,
    Source,
    SourceAlias,
    SourceKind,
    new_ref,
)

# the cells of one report row, as every reader hands them over (text, "" when absent)
ROW_FIELDS = ("claim_ref", "claim", "source", "stance", "reported_at", "outcome", "outcome_at", "via", "url",
              "topic", "expected_by", "note", "quote", "evidence")
# cells a reader may add after those (this tracker's own stable identities; see the README)
EXTRA_FIELDS = ("report_ref", "claim_version")
ALL_FIELDS = ROW_FIELDS + EXTRA_FIELDS
CHUNK_ROWS = 100_000
IN_LIST = 500  # values per IN (...) list: well under every backend's limit on bound parameters
_NO_CLAIM = -1


@dataclass
class OutcomeIn:
    """A verdict as read from a file (JSON keeps a claim's whole history)."""

    row: str
    verdict: str
    decided_at: object
    evidence: str | None = None
    date_only: bool = False  # decided_at was given as a date without a time
    note: str | None = None
    reviewer: str | None = None


@dataclass
class ClaimIn:
    """A claim's own fields as read from a JSON file (CSV rows carry them on every row)."""

    row: str
    ref: str | None
    statement: str
    topics: list[str] = field(default_factory=list)
    expected_by: object = None
    expected_by_date_only: bool = False  # expected_by was given as a date without a time
    first_reported_at: object = None
    outcomes: list[OutcomeIn] = field(default_factory=list)
    version: int | None = None  # `claim_version` as exported: an older one than the store's is a conflict


@dataclass
class SourceIn:
    """A source's details as read from a JSON file."""

    row: str
    name: str
    kind: str | None = None
    affiliation: str | None = None
    url: str | None = None
    notes: str | None = None
    aliases: list[str] = field(default_factory=list)
    parent: str | None = None


@dataclass
class Incoming:
    """An import as the importer consumes it: report rows in chunks, plus JSON's extras."""

    chunks: Iterable[tuple[list, list]]  # (labels or row numbers, rows of cells named by `columns`)
    columns: tuple[str, ...] = ROW_FIELDS
    claims: list[ClaimIn] = field(default_factory=list)
    sources: list[SourceIn] = field(default_factory=list)
    # rows already found bad while reading; the rest are still checked so that one rejection
    # lists every bad row
    errors: list[RowError] = field(default_factory=list)
    # cells carry the CSV formula guard (`tracker.safe_text`), taken off as they are read; JSON is verbatim
    guarded: bool = False


@dataclass
class ImportSummary:
    """What an import changed (or, for a dry run, would change and which rows it would refuse)."""

    claims_created: int = 0
    claims_matched: int = 0
    reports_added: int = 0
    reports_skipped: int = 0
    outcomes_added: int = 0
    sources_created: int = 0
    claims_updated: int = 0
    reports_updated: int = 0
    dry_run: bool = False
    refused: list[RowError] = field(default_factory=list)  # a dry run's bad rows (a real import raises)

    @property
    def changed(self) -> bool:
        """True when the import writes anything."""
        return bool(self.claims_created or self.claims_updated or self.reports_added or self.reports_updated
                    or self.outcomes_added or self.sources_created)

    def __str__(self) -> str:
        text = (
            f"{self.claims_created} claim(s) created, {self.claims_updated} updated, "
            f"{self.claims_matched - self.claims_updated} unchanged; "
            f"{self.reports_added} report(s) added, {self.reports_updated} updated, "
            f"{self.reports_skipped} unchanged; "
            f"{self.outcomes_added} outcome(s) added; {self.sources_created} source(s) created"
        )
        if self.dry_run:
            refused = count_problems(self.refused) if self.refused else "no row"
            text = f"dry run, nothing written: would have {text}; {refused} refused"
        return text


@dataclass(slots=True)
class _Claim:
    """What the import knows of one claim while it runs."""

    row: str  # where the claim first appears
    ref: str | None
    statement: str
    id: int | None = None
    existing: bool = False
    by_ref: bool = False  # matched through its claim_ref: the file may edit it
    stored_statement: str | None = None
    stored_version: int | None = None
    file_version: int | None = None  # claim_version as the file gives it
    version_checked: bool = False
    stored_first: datetime | None = None  # first_reported_at as stored (None: not yet written)
    first: datetime | None = None  # the earliest time seen, in the store or the file
    first_day: bool = False  # whether `first`, when it came from the file, was a date without a time
    declared_first: datetime | None = None
    expected_by: datetime | None = None
    expected_day: bool = False  # whether `expected_by`, from the file, was a date without a time
    expected_row: str | None = None
    stored_expected: datetime | None = None
    outcomes: list[OutcomeIn] = field(default_factory=list)
    outcome_rows: str | None = None  # CSV: the row that set the outcome
    topics: set[str] = field(default_factory=set)
    retracted: str | None = None  # why the store's claim takes nothing more (the service layer's message)

    def see_first(self, at: datetime, date_only: bool) -> None:
        """Take `at` as the claim's first-report time if it is the earliest yet."""
        if self.first is None or at < self.first:
            self.first, self.first_day = at, date_only


def _chunks(values: list, size: int = IN_LIST) -> Iterator[list]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _row_order(error: RowError) -> tuple:
    """Sort key putting `row 10` after `row 9` and `claims[2].reports[10]` after `...[9]`."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", error.row))


class _Run:
    """One import in progress, inside one transaction."""

    def __init__(self, writer: Writer) -> None:
        self.w = writer
        self.connection: Connection = writer.session.connection()
        self.sqlite = self.connection.dialect.name == "sqlite"
        self.now = pd.Timestamp(writer.now)
        self.errors: list[RowError] = []
        self.summary = ImportSummary()
        self.edited: list[tuple[_Claim, dict]] = []  # existing claims whose dates the file moved
        self.topics_added: dict[int, tuple[list[str], list[str]]] = {}  # existing claim: (topics before, added)
        # the newest id of each table before the import: rows above it are the import's own
        # (writers take turns, see tracker.ledger)
        self.marks = {table: self.connection.execute(select(func.coalesce(func.max(table.id), 0))).scalar_one()
                      for table in (Claim, Report, Outcome, Source)}
        self.claims: dict[str, _Claim] = {}
        self.report_refs: dict[str, str] = {}  # report_ref -> the row that names it
        self.report_edits: list[tuple[str, int, dict]] = []  # (row, report id, values) to correct in place
        self.claims_edited: set[int] = set()
        self.claims_retracted: set[int] = set()
        self.dry_run = False  # a preview: keep going past bad rows (it is all rolled back)
        self.source_ids: dict[str, int] = {}  # name as written -> id
        self.known_keys: dict[str, int] | None = None  # name key -> id
        # into an empty store every claim is new: no need to look any up
        self.store_was_empty = self.connection.execute(select(Claim.id).limit(1)).first() is None
        self.born_after = 0  # claims above this id were made by the last write_new_claims

    def fail(self, row: str, reason: str) -> None:
        self.errors.append(RowError(row, reason))

    # -- sources ---------------------------------------------------------------------------
    def apply_sources(self, sources: list[SourceIn]) -> None:
        """Sources with details (JSON only; few): through the service layer, parents in a second pass."""
        for src in sources:
            try:
                existing = self.w.find_source(src.name)
                details = dict(kind=src.kind, affiliation=src.affiliation, url=src.url, notes=src.notes,
                               aliases=src.aliases)
                if existing is None:
                    self.w.add_source(src.name, **details)
                else:
                    self.w.update_source(existing, **details)
            except LedgerError as exc:
                self.fail(src.row, str(exc))
        for src in sources:
            if src.parent:
                try:
                    self.w.update_source(self.w.source(src.name, create=False), parent=src.parent)
                except LedgerError as exc:
                    self.fail(src.row, f"parent: {exc}")
        self.w.session.flush()

    def resolve_sources(self, names: pd.Series) -> pd.Series:
        """Source ids for names as written (creating unknown sources); NaN where a name was refused."""
        if self.known_keys is None:
            self.known_keys = dict(self.connection.execute(select(Source.name_key, Source.id)).all())
            self.known_keys.update(self.connection.execute(select(SourceAlias.alias_key, SourceAlias.source_id)).all())
        new_names = [n for n in pd.unique(names) if isinstance(n, str) and n and n not in self.source_ids]
        missing: dict[str, str] = {}
        for raw in new_names:
            cleaned = " ".join(raw.split())
            if len(cleaned) > MAX_NAME:
                continue  # reported per row by the caller
            key = name_key(cleaned)
            if key in self.known_keys:
                self.source_ids[raw] = self.known_keys[key]
            else:
                missing.setdefault(key, cleaned)
        if missing:
            self.insert_rows(Source.__table__, ("name", "name_key"),
                             rows=[(name, key) for key, name in missing.items()],
                             constants={"kind": SourceKind.other.value, "created_at": self.w.now})
            for chunk in _chunks(list(missing)):
                self.known_keys.update(self.connection.execute(
                    select(Source.name_key, Source.id).where(Source.name_key.in_(chunk))).all())
            for raw in new_names:
                if raw not in self.source_ids and len(" ".join(raw.split())) <= MAX_NAME:
                    self.source_ids[raw] = self.known_keys[name_key(raw)]
        codes, distinct = pd.factorize(names)
        if (codes < 0).any():  # a missing name (none come from a file's cells): row by row
            return names.map(self.source_ids)
        # each distinct name looked up once, then spread by its code (a fifth of mapping every row's text)
        return pd.Series(pd.Series(distinct).map(self.source_ids).to_numpy()[codes], index=names.index)

    # -- claims ----------------------------------------------------------------------------
    def register(self, keys: list[str], rows: list[str], refs: list, statements: list[str]) -> None:
        """Meet claims for the first time: match them to the store, or create them later."""
        fresh = [(k, r, ref, st) for k, r, ref, st in zip(keys, rows, refs, statements) if k not in self.claims]
        for key, row, ref, statement in fresh:
            self.claims[key] = _Claim(row, ref or None, statement)
        if not fresh or self.store_was_empty:
            return
        columns = (Claim.id, Claim.statement, Claim.first_reported_at, Claim.expected_by, Claim.version,
                   Claim.merged_into_id)
        by_ref = [c for c in (self.claims[k] for k, *_ in fresh) if c.ref]
        for chunk in _chunks(by_ref):
            wanted = {c.ref: c for c in chunk}
            for ref, *row in self.connection.execute(select(Claim.ref, *columns).where(Claim.ref.in_(list(wanted)))):
                self._matched(wanted[ref], *self._kept(row))
                # the ref of a claim merged into another finds that one, but edits nothing with its old text
                wanted[ref].by_ref = row[5] is None
        by_text = [c for c in (self.claims[k] for k, *_ in fresh) if not c.ref]
        for chunk in _chunks(by_text):
            # the same claim when the text is the same once white space and case are set aside
            # (SQL's lower() narrows the search; statement_key decides)
            found: dict[str, list] = {}
            for row in self.connection.execute(
                    select(*columns).where(func.lower(Claim.statement).in_([c.statement.lower() for c in chunk]),
                                           Claim.retracted_at.is_(None))):
                found.setdefault(rules.statement_key(row[1]), []).append(row)
            for claim in chunk:
                same = found.get(rules.statement_key(claim.statement), [])
                if len(same) > 1:
                    self.fail(claim.row, f"{len(same)} claims already have this statement "
                                         f"(#{', #'.join(str(s[0]) for s in same)}); give the row a claim_ref "
                                         "to say which one")
                elif same:
                    self._matched(claim, *same[0][:5])
        self._note_retracted([self.claims[k] for k, *_ in fresh])

    def _note_retracted(self, claims: list[_Claim]) -> None:
        """Mark the matched claims that were retracted: the file may add nothing to them."""
        ids = {c.id: c for c in claims if c.existing}
        for chunk in _chunks(list(ids)):
            for cid in self.connection.execute(select(Claim.id).where(Claim.id.in_(chunk),
                                                                     Claim.retracted_at.is_not(None))).scalars():
                self.claims_retracted.add(cid)
                ids[cid].retracted = Writer.retracted_message(self.w.claim(cid))

    def _kept(self, row) -> tuple:
        """A claim row as (id, statement, first, expected, version), following merges to the claim that was kept."""
        while row[5] is not None:
            row = self.connection.execute(select(Claim.id, Claim.statement, Claim.first_reported_at,
                                                 Claim.expected_by, Claim.version, Claim.merged_into_id)
                                          .where(Claim.id == row[5])).one()
        return tuple(row[:5])

    @staticmethod
    def _matched(claim: _Claim, cid: int, statement: str, first: datetime, expected: datetime | None,
                 version: int) -> None:
        claim.id, claim.existing, claim.stored_first, claim.first = cid, True, first, first
        claim.stored_expected, claim.stored_statement, claim.stored_version = expected, statement, version

    def write_new_claims(self) -> None:
        """Insert the claims met so far that the store does not hold yet (their first time as known)."""
        # the claims made now get ids above every id the store holds: no report or topic has them yet
        self.born_after = self.connection.execute(select(func.coalesce(func.max(Claim.id), 0))).scalar_one()
        new = [c for c in self.claims.values() if c.id is None and c.first is not None]
        if not new:
            return
        columns = ("ref", "statement", "first_reported_at", "expected_by", "first_reported_date_only",
                   "expected_by_date_only")
        for claim in new:
            claim.ref = claim.ref or new_ref("c")
        rows = [(c.ref, c.statement, c.first, c.expected_by, c.first_day, c.expected_day) for c in new]
        constants = {"logged_by": self.w.user, "logged_at": self.w.now}
        if self.sqlite:
            # a rowid table's new rows get max(rowid)+1, +2, ... and this transaction holds the
            # write lock (BEGIN IMMEDIATE): the ids are known without RETURNING each row
            before = self.born_after
            self.insert_rows(Claim.__table__, columns, rows=rows, constants=constants)
            check = self.connection.execute(select(func.max(Claim.id), func.count()).where(Claim.id > before)).one()
            if tuple(check) != (before + len(rows), len(rows)):
                raise RuntimeError("claim ids were not assigned in sequence; the import was rolled back")
            ids = range(before + 1, before + len(rows) + 1)
        else:
            added = self.insert_rows(Claim.__table__, columns, rows=rows, constants=constants, returning="id, ref")
            ids_of = {ref: cid for cid, ref in added}
            ids = [ids_of[c.ref] for c in new]
        for claim, cid in zip(new, ids):
            claim.id, claim.stored_first, claim.stored_expected = cid, claim.first, claim.expected_by
        self.summary.claims_created += len(new)

    # -- report rows -----------------------------------------------------------------------
    def take_chunk(self, labels: list, rows: list, columns: tuple[str, ...] = ROW_FIELDS, *,
                   unguard: bool = False) -> None:
        """Check one chunk of report rows, register its claims, and write its reports and topics.

        `rows` hold cells named by `columns` (a CSV's own header); `labels` name the rows in
        messages (CSV gives row numbers).
        """
        frame = _cells(rows, columns, unguard=unguard)
        frame.insert(0, "row", [f"row {n}" for n in labels] if labels and isinstance(labels[0], int) else labels)
        bad = np.zeros(len(frame), dtype=bool)

        def refuse(mask, reason) -> None:
            """Refuse the rows in `mask`: `reason` is a text, or a function of those rows giving texts."""
            nonlocal bad
            mask = np.asarray(mask, dtype=bool)
            if not mask.any():
                return
            picked = frame[mask]
            reasons = reason(picked) if callable(reason) else [reason] * len(picked)
            for label, text in zip(picked["row"], reasons):
                self.fail(label, text)
            bad |= mask

        def check(messages: pd.Series) -> None:
            """Refuse the rows whose message (from a rule's column form) is not empty."""
            refuse((messages != "").to_numpy(), lambda p: messages[p.index].tolist())

        for rule, name in ((rules.STATEMENT, "claim"), (rules.SOURCE, "source"), (rules.VIA, "via"),
                           (rules.CLAIM_REF, "claim_ref"), (rules.REPORT_REF, "report_ref"), (rules.URL, "url"),
                           (rules.EVIDENCE, "evidence"), (rules.QUOTE, "quote"), (rules.NOTE, "note")):
            check(rule.column(frame[name]))
        version = pd.to_numeric(frame["claim_version"].where(frame["claim_version"] != ""), errors="coerce")
        refuse((frame["claim_version"] != "") & (version.isna() | (version < 1) | (version % 1 != 0)),
               "'claim_version' is not a whole number; leave it as exported, or empty")
        check(rules.topics_column(frame["topic"]))
        stance, messages = rules.STANCE.column(frame["stance"])
        check(messages)
        verdict, messages = rules.VERDICT.column(frame["outcome"], optional=True)
        check(messages)
        refuse((frame["outcome_at"] != "") & (frame["outcome"] == ""), "'outcome_at' is set but 'outcome' is empty")
        times, days = {}, {}
        for name, rule in (("reported_at", rules.REPORTED_AT), ("expected_by", rules.EXPECTED_BY),
                           ("outcome_at", rules.DECIDED_AT)):
            times[name], days[name], messages = rule.column_when(frame[name], None if name == "expected_by" else self.w.now)
            if name == "outcome_at":
                messages = messages.where(frame["outcome"] != "", "")  # an empty outcome is refused above
            check(messages)

        # white space folded once per distinct text, and only the texts it changes replaced
        # (iterating pandas' Arrow strings costs several times a plain list's)
        folding = {t: " ".join(t.split()) for t in pd.unique(frame["claim"]).tolist()}
        folded = frame["claim"].replace({t: f for t, f in folding.items() if t != f})
        key = np.where(frame["claim_ref"] != "", "ref\x00" + frame["claim_ref"], "text\x00" + folded)
        # each row's claim as a number (`claim_keys[key_code]` is its key): looking claims up per distinct
        # key and spreading by these codes costs a fifth of mapping every row's key text
        key_code, claim_keys = pd.factorize(key)
        claim_keys = claim_keys.tolist()
        frame = frame.assign(key=key, key_code=key_code, statement=folded, stance=stance, verdict=verdict,
                             version=version, at=times["reported_at"], expected=times["expected_by"],
                             decided=times["outcome_at"], at_day=days["reported_at"], decided_day=days["outcome_at"],
                             expected_day=days["expected_by"])
        good = frame[~bad]
        # (sorting, filtering and dropping repeats copy every column taken: only the ones used are taken)
        firsts = good[["key", "row", "claim_ref", "statement"]].drop_duplicates("key")
        self.register(firsts["key"].tolist(), firsts["row"].tolist(), firsts["claim_ref"].tolist(),
                      firsts["statement"].tolist())
        good = good[self._consistent(good, claim_keys)]
        if good.empty:
            return
        source_id = self.resolve_sources(good["source"])
        via_id = self.resolve_sources(good["via"])  # "" (no relay) maps to no id
        relays = rules.relay_column(good["source"], source_id, via_id)
        self_relay = (relays != "").to_numpy()
        if self_relay.any():
            for label, message in zip(good["row"][self_relay], relays[self_relay]):
                self.fail(label, message)
            good, source_id, via_id = good[~self_relay], source_id[~self_relay], via_id[~self_relay]
        versioned = good[["key", "version"]][good["version"].notna()].drop_duplicates("key")
        for key_, number in zip(versioned["key"], versioned["version"]):
            claim = self.claims[key_]
            claim.file_version = int(number) if claim.file_version is None else claim.file_version
        earliest = good[["key", "at", "at_day"]].sort_values("at", kind="stable").drop_duplicates("key")
        earliest = earliest.set_index("key")
        keys = earliest.index.tolist()
        for key_, at, day in zip(keys, earliest["at"].dt.to_pydatetime(), earliest["at_day"].tolist()):
            self.claims[key_].see_first(at, bool(day))
        known = self._known_reports(good, source_id, via_id)
        if self.claims_retracted:
            known |= self._onto_retracted(good, source_id, known)
        if self.errors and not self.dry_run:
            return  # the import is lost already: keep checking, stop writing
        self.write_new_claims()
        codes = good["key_code"].to_numpy()
        ids = np.zeros(len(claim_keys), dtype="int64")
        held = np.unique(codes)
        ids[held] = [self.claims[claim_keys[code]].id for code in held.tolist()]
        claim_id = pd.Series(ids[codes], index=good.index)
        self._write_reports(good[~known], claim_id[~known], source_id[~known], via_id[~known])
        self._write_topics(good, claim_id)

    def _known_reports(self, good: pd.DataFrame, source_id: pd.Series, via_id: pd.Series) -> np.ndarray:
        """Rows naming a report the store holds (by report_ref): compared, and kept for correcting in place
        where they differ (`report_edits`). Returns which rows those are (and rows refused for their ref).

        The comparison runs over whole columns: re-importing an export compares every row, and only
        the few that differ are looked at one by one.
        """
        refs, labels = good["report_ref"], good["row"]
        named = (refs != "").to_numpy()
        known = np.zeros(len(good), dtype=bool)
        if not named.any():
            return known
        repeated = named & (refs.duplicated() | refs.isin(list(self.report_refs))).to_numpy()
        for i in np.flatnonzero(repeated):
            first = self.report_refs.get(refs.iat[i]) or labels[(refs == refs.iat[i]).to_numpy()].iat[0]
            self.fail(labels.iat[i], f"report_ref {refs.iat[i]!r} is used again (first at {first}); one row per report")
        known |= repeated
        firsts = named & ~repeated
        self.report_refs.update(zip(refs[firsts], labels[firsts]))
        columns = ("ref", "rid", "cid", "sid", "stance", "at", "vid", "url", "note", "quote", "day")
        stored = pd.DataFrame([tuple(row) for chunk in _chunks(refs[firsts].tolist()) for row in self.connection.execute(
            select(Report.ref, Report.id, Report.claim_id, Report.source_id, Report.stance, Report.reported_at,
                   Report.via_source_id, Report.url, Report.note, Report.quote, Report.reported_date_only)
            .where(Report.ref.in_(chunk)))],
            columns=list(columns)).set_index("ref")
        held_rows = firsts & refs.isin(stored.index).to_numpy()  # the rest are new reports, keeping their refs
        if not held_rows.any():
            return known
        known |= held_rows
        rows, held = good[held_rows], stored.loc[refs[held_rows].to_numpy()]
        ids = {key: self.claims[key].id for key in pd.unique(rows["key"])}

        def text(values) -> np.ndarray:
            return pd.Series(values).fillna("").astype(str).to_numpy()

        same = ((rows["key"].map(ids).to_numpy() == held["cid"].to_numpy())
                & (source_id[held_rows].to_numpy() == held["sid"].to_numpy())
                & (rows["stance"].to_numpy() == held["stance"].to_numpy())
                & (rows["at"].to_numpy() == pd.to_datetime(held["at"], utc=True).to_numpy())
                & (rows["at_day"].to_numpy() == held["day"].astype(bool).to_numpy())
                & (via_id[held_rows].fillna(-1).to_numpy() == held["vid"].fillna(-1).to_numpy())
                & (text(rows["url"].str.replace(r"\s+", " ", regex=True)) == text(held["url"]))
                & (text(rows["note"]) == text(held["note"])) & (text(rows["quote"]) == text(held["quote"])))
        self.summary.reports_skipped += int(same.sum())
        for i in np.flatnonzero(~same):
            ref, label, (rid, cid) = rows["report_ref"].iat[i], rows["row"].iat[i], held[["rid", "cid"]].iloc[i]
            claim = self.claims[rows["key"].iat[i]]
            if claim.id != cid:
                self.fail(label, f"report_ref {ref!r} is report #{rid} of claim #{cid}, not of this row's claim; "
                                 "give the row that claim's claim_ref, or leave report_ref empty for a new report")
                continue
            if self._version_ok(claim, label):
                try:
                    self.w.require("report.edit")
                except PermissionDenied as exc:
                    self.fail(label, f"{exc}; or import the file without changing this report")
                    continue
                self.report_edits.append((label, int(rid), {
                    "source": rows["source"].iat[i], "stance": rows["stance"].iat[i],
                    "reported_at": When(rows["at"].iat[i].to_pydatetime(), bool(rows["at_day"].iat[i])),
                    "via": rows["via"].iat[i] or None,
                    "url": rules.fold(rows["url"].iat[i]), "note": rows["note"].iat[i] or None,
                    "quote": rows["quote"].iat[i] or None}))
        return known

    def _onto_retracted(self, good: pd.DataFrame, source_id: pd.Series, known: np.ndarray) -> np.ndarray:
        """Rows of retracted claims (not written): those that are not a report the store holds are refused."""
        retracted = good["key"].map(lambda key: self.claims[key].retracted is not None).to_numpy(dtype=bool) & ~known
        if not retracted.any():
            return retracted
        rows, sources = good[retracted], source_id[retracted]
        ids = [self.claims[key].id for key in pd.unique(rows["key"])]
        held = set()
        for chunk in _chunks(ids):
            for cid, sid, stance, at in self.connection.execute(
                    select(Report.claim_id, Report.source_id, Report.stance, Report.reported_at)
                    .where(Report.claim_id.in_(chunk))):
                held.add((cid, sid, stance, pd.Timestamp(at).tz_localize("UTC") if at.tzinfo is None
                          else pd.Timestamp(at).tz_convert("UTC")))
        for key, sid, stance, at, label in zip(rows["key"], sources, rows["stance"], rows["at"], rows["row"]):
            claim = self.claims[key]
            if (claim.id, sid, stance, at) not in held:
                self.fail(label, claim.retracted)
        return retracted

    def _version_ok(self, claim: _Claim, label: str) -> bool:
        """False (and the row refused, once per claim) when the file's claim_version is older than the store's."""
        if claim.file_version is None or claim.stored_version is None or claim.file_version >= claim.stored_version:
            return True
        if not claim.version_checked:
            claim.version_checked = True
            changes = audit.claim_changes_since(self.w.session, claim.id, claim.file_version)
            lines = "; ".join(describe_change(c) for c in changes) or "(changes made before history was kept)"
            self.fail(label, f"claim #{claim.id} was changed by someone else after this file was exported (the file "
                             f"has claim_version {claim.file_version}, the store is at version {claim.stored_version}): "
                             f"{lines}. Export again and make your changes on the new file")
        return False

    def _consistent(self, good: pd.DataFrame, claim_keys: list[str]) -> np.ndarray:
        """Rows that agree with their claim's other rows (text, expected-by, outcome); flags the rest.
        (`claim_keys`: the chunk's claim keys, as numbered by the rows' `key_code`.)"""
        keep = np.ones(len(good), dtype=bool)
        codes = good["key_code"].to_numpy()
        held = np.unique(codes).tolist()
        known = {claim_keys[code]: self.claims[claim_keys[code]] for code in held}
        statements = np.empty(len(claim_keys), dtype=object)
        statements[held] = [known[claim_keys[code]].statement for code in held]
        differs = good["statement"].to_numpy(dtype=object) != statements[codes]
        for i in np.flatnonzero(differs):
            claim = known[good["key"].iat[i]]
            keep[i] = False
            self.fail(good["row"].iat[i], f"claim_ref {claim.ref!r} has a different claim text than "
                                          f"{claim.row}; one reference must mean one claim")
        conflicts: set[tuple] = set()
        dated = good[["key", "expected", "row", "expected_day"]][keep & good["expected"].notna().to_numpy()]
        dated = dated.drop_duplicates(["key", "expected"])
        for key, expected, label, day in zip(dated["key"].tolist(), _moments(dated["expected"]), dated["row"].tolist(),
                                             dated["expected_day"].tolist()):
            claim = known[key]
            if claim.expected_row is None:
                claim.expected_by, claim.expected_day, claim.expected_row = expected, bool(day), label
            elif claim.expected_by != expected:
                conflicts.add(("expected", key, expected))
        judged = good[["key", "verdict", "decided", "row", "evidence", "decided_day"]][
            keep & (good["verdict"] != "").to_numpy()].drop_duplicates(["key", "verdict", "decided"])
        for key, verdict, decided, label, evidence, day in zip(
                *(judged[name].tolist() for name in ("key", "verdict")), _moments(judged["decided"]),
                *(judged[name].tolist() for name in ("row", "evidence", "decided_day"))):
            claim = known[key]
            if claim.outcome_rows is None:
                claim.outcome_rows = label
                claim.outcomes = [OutcomeIn(label, verdict, decided, evidence=evidence or None, date_only=bool(day))]
            elif (claim.outcomes[0].verdict, claim.outcomes[0].decided_at) != (verdict, decided):
                conflicts.add(("outcome", key, verdict, decided))
        if conflicts:
            for i, (label, key, expected, verdict, decided) in enumerate(zip(
                    good["row"], good["key"], good["expected"], good["verdict"], good["decided"])):
                claim = known[key]
                if keep[i] and not pd.isna(expected) and ("expected", key, expected.to_pydatetime()) in conflicts:
                    self.fail(label, f"expected_by differs from {claim.expected_row} for the same claim")
                    keep[i] = False
                elif keep[i] and verdict and ("outcome", key, verdict, decided.to_pydatetime()) in conflicts:
                    self.fail(label, f"outcome differs from {claim.outcome_rows} for the same claim; "
                                     "a CSV row carries the claim's one current outcome")
                    keep[i] = False
        return keep

    def _write_reports(self, good: pd.DataFrame, claim_id: pd.Series, source_id: pd.Series, via_id: pd.Series) -> None:
        if good.empty:
            return
        columns = ("ref", "claim_id", "source_id", "stance", "reported_at", "via_source_id", "url", "quote", "note",
                   "reported_date_only")
        added = self._stage_reports(good, claim_id, source_id, via_id, columns)
        self.summary.reports_added += added
        self.summary.reports_skipped += len(good) - added

    def _stage_reports(self, good: pd.DataFrame, claim_id: pd.Series, source_id: pd.Series, via_id: pd.Series,
                       columns: tuple[str, ...]) -> int:
        """The chunk's reports staged in bulk in a temporary table, then written with one INSERT ... SELECT
        that fills in new refs, empty cells as NULL and the constants; returns the rows added.

        A report the store holds already (same claim, source, stance and time) is skipped: on SQLite by
        INSERT OR IGNORE; on PostgreSQL, whose ON CONFLICT DO NOTHING probes every unique index before
        each row (2-4 s of the server's CPU per 222,000 reports, measured), by dropping the chunk's own
        repeats here and looking up only the rows of claims older than the chunk (see `_unless_held`).
        """
        where = ""
        if self.sqlite:
            times, day = _sqlite_times(good["at"]), good["at_day"].to_numpy(dtype=bool).astype(int).tolist()
            fresh_ref = f"'r-' || printf('%016x', {self._ref_base(good['report_ref'])} + rowid)"
        else:
            repeats = pd.DataFrame({"claim": claim_id.to_numpy(), "source": source_id.to_numpy(),
                                    "stance": good["stance"].to_numpy(),
                                    "at": good["at"].dt.floor("us").to_numpy()}).duplicated().to_numpy()
            if repeats.any():  # the first of them is written (or found in the store), the rest are skipped
                kept = ~repeats
                good, claim_id, source_id, via_id = good[kept], claim_id[kept], source_id[kept], via_id[kept]
            times, day = good["at"].dt.to_pydatetime().tolist(), good["at_day"].to_numpy(dtype=bool).tolist()
            fresh_ref = (f"'r-' || lpad(to_hex({self._ref_base(good['report_ref'])}::bigint "
                         "+ row_number() OVER (ORDER BY s.ctid)), 16, '0')")
            where = self._unless_held("report", ("claim_id", "source_id", "stance", "reported_at"))
        values = [good["report_ref"].tolist(), claim_id.to_numpy(dtype="int64").tolist(),
                  source_id.to_numpy(dtype="int64").tolist(), good["stance"].tolist(), times,
                  via_id.astype("Int64").astype(object).where(via_id.notna(), None).tolist()]
        values += [good[name].tolist() for name in ("url", "quote", "note")]
        values.append(day)
        return self._stage(Report.__table__, columns, values, select=[
            f"coalesce(nullif(ref, ''), {fresh_ref})", "claim_id", "source_id", "stance", "reported_at",
            "via_source_id", "nullif(url, '')", "nullif(quote, '')", "nullif(note, '')", "reported_date_only"],
            constants={"logged_by": self.w.user, "logged_at": self.w.now}, skip_existing=self.sqlite, where=where)

    def _ref_base(self, given: pd.Series) -> int:
        """Where the refs of a chunk's new reports start: `r-` and 16 hex digits, counting up from a random
        number (the first row's is base + 1). Refs in sequence go into the unique ref index at one place
        rather than all over it (0.3-0.4 s less of SQLite's CPU per 222,000 reports, measured), and two
        stores' refs meet less often than fully random ones would; a start whose range holds a ref of the
        store or of the chunk is drawn again."""
        count = len(given) + 1
        while True:
            base = secrets.randbelow(2**63 - count)
            low, high = f"r-{base:016x}", f"r-{base + count:016x}"
            if not given.between(low, high).any() and self.connection.execute(
                    select(Report.id).where(Report.ref.between(low, high)).limit(1)).first() is None:
                return base

    def _unless_held(self, table: str, identity: tuple[str, ...]) -> str:
        """A WHERE clause over staged rows (`s`) leaving out those `table` holds already (same `identity`);
        rows of claims the last `write_new_claims` created are not looked up: nothing holds them yet."""
        same = " AND ".join(f"t.{name} = s.{name}" for name in identity)
        return f" WHERE s.claim_id > {int(self.born_after)} OR NOT EXISTS (SELECT 1 FROM {table} t WHERE {same})"

    def _stage(self, table, columns: tuple[str, ...], values: list[list], *, select: list[str],
               constants: dict, skip_existing: bool = False, returning: str | None = None,
               where: str = "") -> int | list:
        """`values` (one plain list per column) into a temporary table in bulk (SQLite: the driver's
        executemany; PostgreSQL: COPY), then into `table` with one INSERT ... SELECT of the `select`
        expressions and the constants from the staged rows (`where`: a WHERE clause over them, as `s`);
        returns the rows added (`skip_existing`: the store's own unique constraints leave out rows it
        holds already), or with `returning` those rows' values of its columns."""
        stage = f"import_{table.name}"
        self.connection.exec_driver_sql(f"DROP TABLE IF EXISTS {stage}")
        listed = ", ".join(columns)
        if self.sqlite:  # untyped columns: values stay exactly as handed over
            self.connection.exec_driver_sql(f"CREATE TEMP TABLE {stage} ({listed})")
            self.connection.connection.driver_connection.executemany(
                f"INSERT INTO {stage} VALUES ({', '.join('?' * len(columns))})", zip(*values))
        else:
            self.connection.exec_driver_sql(f"CREATE TEMP TABLE {stage} AS SELECT {listed} FROM {table.name} "
                                            "WITH NO DATA")
            with self.connection.connection.driver_connection.cursor() as cursor, \
                    cursor.copy(f"COPY {stage} ({listed}) FROM STDIN") as copy:
                for row in zip(*values):
                    copy.write_row(row)
        head = "INSERT OR IGNORE" if skip_existing and self.sqlite else "INSERT"
        tail = " ON CONFLICT DO NOTHING" if skip_existing and not self.sqlite else ""
        statement = sql_text(f"{head} INTO {table.name} ({', '.join(columns + tuple(constants))}) "
                             f"SELECT {', '.join(select + [':' + name for name in constants])} FROM {stage} AS s"
                             f"{where} ORDER BY {'rowid' if self.sqlite else 'ctid'}{tail}"
                             f"{' RETURNING ' + returning if returning else ''}")
        statement = statement.bindparams(*(bindparam(name, type_=table.c[name].type) for name in constants))
        result = self.connection.execute(statement, constants)
        added = [tuple(row) for row in result] if returning else result.rowcount
        self.connection.exec_driver_sql(f"DROP TABLE {stage}")
        return added

    def _write_topics(self, good: pd.DataFrame, claim_id: pd.Series) -> None:
        with_topic = good["topic"] != ""
        pairs = pd.DataFrame({"claim_id": claim_id[with_topic], "raw": good["topic"][with_topic]}).drop_duplicates()
        split = {raw: rules.topics(raw) for raw in pd.unique(pairs["raw"])}  # once per distinct cell
        tags = pd.DataFrame({"claim_id": pairs["claim_id"].to_numpy(dtype="int64"),
                             "topic": pairs["raw"].map(split).to_numpy(dtype=object)})
        tags = tags.explode("topic").dropna().drop_duplicates()
        self.write_topics(zip(tags["claim_id"].tolist(), tags["topic"].tolist()))

    def write_topics(self, rows: Iterable[tuple[int, str]]) -> None:
        """Tag claims with topics (pairs the store holds already are skipped; new tags on claims the
        store held before the import are kept in `topics_added`, for their history)."""
        rows = list(rows)
        older = sorted({cid for cid, _ in rows if cid <= self.marks[Claim]})
        if older:  # claims the store held (only those can be named by claim_ref)
            named = {c.id: c for c in self.claims.values() if c.by_ref}
            for cid, topic in rows:
                if cid in named:
                    named[cid].topics.add(topic)  # the file says what the claim's topics are (see finish)
            held: dict[int, set[str]] = {cid: set() for cid in older}
            for chunk in _chunks(older):
                for cid, topic in self.connection.execute(
                        select(ClaimTopic.claim_id, ClaimTopic.topic).where(ClaimTopic.claim_id.in_(chunk))):
                    held[cid].add(topic)
            for cid, topic in rows:
                if cid in held and topic not in held[cid]:
                    added = self.topics_added.setdefault(cid, (sorted(held[cid]), []))[1]
                    if topic not in added:
                        added.append(topic)
        if rows:
            # PostgreSQL: an anti-join rather than ON CONFLICT (see _stage_reports), so no pair twice
            where = "" if self.sqlite else self._unless_held("claim_topic", ("claim_id", "topic"))
            self.insert_rows(ClaimTopic.__table__, ("claim_id", "topic"), rows=list(dict.fromkeys(rows)),
                             skip_existing=self.sqlite, where=where)

    # -- writing ---------------------------------------------------------------------------
    def insert_rows(self, table, columns: tuple[str, ...], *, rows: list[tuple] | None = None,
                    by_column: list | None = None, constants: dict | None = None,
                    skip_existing: bool = False, returning: str | None = None, where: str = "") -> int | list:
        """INSERT many rows (as `rows`, or as one sequence per column in `by_column`) through a staging
        table (`_stage`); returns the rows added (with `returning`, the added rows' values of those columns).

        On SQLite each column is converted once, with the column type's own bind processor (so the
        stored text is what SQLAlchemy itself writes), and handed to the driver's executemany; that
        skips SQLAlchemy's per-row parameter handling, which would be most of an import's time.
        `skip_existing` leaves out rows that a unique constraint says the store holds already; `where`
        filters the staged rows (see `_stage`).
        """
        constants = constants or {}
        if by_column is None:
            if not rows:
                return [] if returning else 0
            by_column = [list(col) for col in zip(*rows)]
        if len(by_column[0]) == 0:
            return [] if returning else 0
        if not self.sqlite:
            converted = [_plain(c) for c in by_column]
        else:
            dialect = self.connection.dialect
            converted = []
            for name, column in zip(columns, by_column):
                convert = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
                if isinstance(column, pd.Series) and isinstance(column.dtype, pd.DatetimeTZDtype):
                    converted.append(_sqlite_times(column))
                elif convert is not None:
                    converted.append(_in_bulk(_plain(column), convert))
                else:
                    converted.append(_plain(column))
        return self._stage(table, columns, converted, select=list(columns), constants=constants,
                           skip_existing=skip_existing, returning=returning, where=where)

    # -- the end ---------------------------------------------------------------------------
    def finish(self) -> None:
        """Claim-level rules over all rows, then outcomes, first-report times and expected-by dates."""
        for claim in self.claims.values():
            if claim.first is None:
                continue
            if claim.declared_first is not None:
                try:
                    rules.FIRST_REPORTED.check_not_future(claim.declared_first, self.w.now)
                except LedgerError as exc:
                    self.fail(claim.row, str(exc))
            if claim.expected_by is not None:
                try:
                    check_expected_by(claim.expected_by, claim.first, claim.expected_day)
                except LedgerError as exc:
                    self.fail(claim.expected_row or claim.row, str(exc))
            if claim.outcomes:  # named only in their messages
                label = f"claim #{claim.id}" if claim.existing else f"claim {claim.ref or claim.statement[:40]!r}"
            for outcome in claim.outcomes:
                try:
                    rules.DECIDED_AT.check_not_future(outcome.decided_at, self.w.now)
                    check_outcome_time(outcome.decided_at, claim.first, label, outcome.date_only)
                except LedgerError as exc:
                    self.fail(outcome.row, str(exc))
        claim_edits = self._claim_edits()
        if self.errors and not self.dry_run:
            return
        self._apply_edits(claim_edits)
        if self.errors and not self.dry_run:
            return
        changed = [{"cid": c.id, "first": c.first, "day": c.first_day, "expected": c.expected_by or c.stored_expected,
                    "expected_day": c.expected_day, "keep_day": c.expected_by is None}
                   for c in self.claims.values() if c.id is not None and
                   (c.first != c.stored_first or (c.expected_by is not None and c.expected_by != c.stored_expected))]
        if changed:
            self.connection.execute(
                update(Claim).where(Claim.id == bindparam("cid"))
                .values(first_reported_at=bindparam("first"), expected_by=bindparam("expected"),
                        first_reported_date_only=bindparam("day"),  # an expected-by the file leaves out keeps its flag
                        expected_by_date_only=case((bindparam("keep_day"), Claim.expected_by_date_only),
                                                   else_=bindparam("expected_day"))),
                changed,
            )
            self.edited = [(c, {"first_reported_at": c.stored_first, "expected_by": c.stored_expected})
                           for c in self.claims.values() if c.existing and c.id is not None and
                           (c.first != c.stored_first or
                            (c.expected_by is not None and c.expected_by != c.stored_expected))]
        self._write_outcomes()
        self.summary.claims_matched = sum(1 for c in self.claims.values() if c.existing and c.first is not None)

    def _claim_edits(self) -> list[tuple[_Claim, dict]]:
        """The edits the file makes to claims it names by claim_ref (statement, topics) and to expected-by
        dates the store holds: checked for the claim_version and the editor's role, not yet made."""
        named = [c for c in self.claims.values() if c.existing and c.by_ref and c.topics]
        held: dict[int, set[str]] = {c.id: set() for c in named}
        for chunk in _chunks(list(held)):
            for cid, topic in self.connection.execute(
                    select(ClaimTopic.claim_id, ClaimTopic.topic).where(ClaimTopic.claim_id.in_(chunk))):
                held[cid].add(topic)
        edits = []
        for claim in self.claims.values():
            if not claim.existing or claim.id is None:
                continue
            change: dict = {}
            if claim.by_ref and claim.statement != claim.stored_statement:
                change["statement"] = claim.statement
            if claim.id in held and held[claim.id] != claim.topics:
                change["topics"] = sorted(claim.topics)  # additions are written already; this takes the rest away
            # a reviewer's edit however the file makes it: a new or moved expected-by date, topics
            # added, or a declared first-report time earlier than the store's
            moves_expected = claim.expected_by is not None and claim.expected_by != claim.stored_expected
            moves_first = claim.declared_first is not None and claim.stored_first is not None \
                and claim.declared_first < claim.stored_first
            if not change and not moves_expected and not moves_first and claim.id not in self.topics_added:
                continue
            label = claim.row if change or moves_first else claim.expected_row or claim.row
            if claim.retracted is not None:
                self.fail(label, claim.retracted)
                continue
            if not self._version_ok(claim, label):
                continue
            try:
                self.w.require("claim.edit")
            except PermissionDenied as exc:
                what = [name for name, moved in (("its statement", "statement" in change),
                                                 ("its expected-by date", moves_expected),
                                                 ("its first-reported time", moves_first),
                                                 ("its topics", "topics" in change or claim.id in self.topics_added))
                        if moved]
                self.fail(label, f"{exc}; or import the file without changing {' or '.join(what)} "
                                 f"(claim #{claim.id})")
                continue
            if change:
                edits.append((claim, change))
        return edits

    def _apply_edits(self, claim_edits: list[tuple[_Claim, dict]]) -> None:
        """Correct the reports and claims the file changes, through the service layer (audited, versioned)."""
        reason = "import"
        for label, report_id, values in self.report_edits:
            try:
                if self.w.edit_report(self.w.report(report_id), **values, reason=reason):
                    self.summary.reports_updated += 1
            except LedgerError as exc:
                self.fail(label, str(exc))
        for claim, change in claim_edits:
            try:
                self.w.edit_claim(self.w.claim(claim.id), version=None, reason=reason, **change)
                self.claims_edited.add(claim.id)
            except LedgerError as exc:
                self.fail(claim.row, str(exc))
        self.w.session.flush()

    def _write_outcomes(self) -> None:
        existing = [c.id for c in self.claims.values() if c.existing and c.outcomes]
        stored: set[tuple] = set()
        for chunk in _chunks(existing):
            stored.update(tuple(r) for r in self.connection.execute(
                select(Outcome.claim_id, Outcome.verdict, Outcome.decided_at).where(Outcome.claim_id.in_(chunk))))
        rows = []
        try:
            self.w.require("outcome.record")
            refused = None
        except PermissionDenied as exc:
            refused = f"{exc}; or import the file without its outcome columns"
        credits: dict[str | None, str | PermissionDenied] = {}  # reviewer as written: who is credited, or why not
        for claim in self.claims.values():
            for outcome in claim.outcomes:
                key = (claim.id, outcome.verdict, outcome.decided_at)
                if key not in stored:
                    stored.add(key)
                    if claim.retracted is not None:
                        self.fail(outcome.row, claim.retracted)
                        continue
                    if refused is not None:
                        self.fail(outcome.row, refused)
                        continue
                    if outcome.reviewer not in credits:
                        try:
                            credits[outcome.reviewer] = self.w.credited(outcome.reviewer)
                        except PermissionDenied as exc:
                            credits[outcome.reviewer] = exc
                    reviewer = credits[outcome.reviewer]
                    if isinstance(reviewer, PermissionDenied):
                        self.fail(outcome.row, f"{reviewer}; the verdict is credited to whoever imports it")
                        continue
                    rows.append((claim.id, outcome.verdict, outcome.decided_at, outcome.evidence, outcome.note,
                                 reviewer, outcome.date_only))
        if self.errors and not self.dry_run:
            return
        # in file order: the last revision of a claim is the one in force
        self.insert_rows(Outcome.__table__, ("claim_id", "verdict", "decided_at", "evidence_url", "note", "reviewer",
                                             "decided_date_only"),
                         rows=rows, constants={"recorded_at": self.w.now})
        self.summary.outcomes_added = len(rows)

    # -- JSON claims -----------------------------------------------------------------------
    def declare(self, claims: list[ClaimIn]) -> dict[str, ClaimIn]:
        """Register JSON claims with their own fields (first-report time, expected-by, history)."""
        declared = {}
        for item in claims:
            key = f"ref\x00{item.ref}" if item.ref else f"text\x00{item.statement}"
            declared[key] = item
        self.register(list(declared), [c.row for c in declared.values()], [c.ref for c in declared.values()],
                      [c.statement for c in declared.values()])
        for key, item in declared.items():
            claim = self.claims[key]
            claim.outcomes = list(item.outcomes)
            claim.file_version = item.version
            if item.expected_by is not None:
                claim.expected_by, claim.expected_day = item.expected_by, item.expected_by_date_only
                claim.expected_row = item.row
            if item.first_reported_at is not None:
                declared_first = read_when(item.first_reported_at)
                claim.declared_first = declared_first.at
                claim.see_first(*declared_first)
        return declared

    def write_declared(self, declared: dict[str, ClaimIn]) -> None:
        """Claims that had no (good) report row still get created, with their topics."""
        if self.errors and not self.dry_run:
            return
        self.write_new_claims()
        self.write_topics((self.claims[k].id, t) for k, item in declared.items() for t in item.topics
                          if self.claims[k].id is not None)


def _cells(rows: list, columns: tuple[str, ...], *, unguard: bool = False) -> pd.DataFrame:
    """Report rows (lists of cells, or a frame of them) as a frame of ALL_FIELDS: cells trimmed, absent
    columns empty (CSV: formula guards removed)."""
    raw = rows.set_axis(list(columns), axis=1) if isinstance(rows, pd.DataFrame) \
        else pd.DataFrame.from_records(rows, columns=list(columns))
    frame = pd.DataFrame(index=raw.index)
    for name in ALL_FIELDS:
        if name not in raw:
            frame[name] = ""
            continue
        column = raw[name].fillna("").astype(str).str.strip()
        if unguard:  # the CSV exporter's guard against spreadsheet formulas, taken off exactly
            quoted = column.str.startswith("'")
            if quoted.any():  # the pattern runs on the few cells that start with the guard's `'`
                quoted[quoted] = column[quoted].str.match(safe_text.GUARDED_CELL)
                column = column.where(~quoted, column.str.slice(1))
        frame[name] = column
    return frame


def _moments(column: pd.Series) -> list:
    """A column of times as a list of Python datetimes (NaT for missing), converted in one go."""
    return list(column.dt.to_pydatetime()) if len(column) else []


def _plain(column) -> list:
    """A column as a list of plain Python values (None for missing)."""
    if isinstance(column, pd.Series):
        if isinstance(column.dtype, pd.DatetimeTZDtype):
            return [None if pd.isna(v) else v.to_pydatetime() for v in column]
        return column.astype(object).where(column.notna(), None).tolist()
    return list(column)


def _in_bulk(values: list, convert) -> list:
    """`values` as a column's SQLite bind processor `convert` gives them, whole columns at once where
    that gives the same text: aware datetimes (as UTC text) and booleans without gaps (as 0 and 1)."""
    first = next((v for v in values if v is not None), None)
    if isinstance(first, datetime):
        times = pd.Series(values, dtype=None if first.tzinfo is not None else object)
        if isinstance(times.dtype, pd.DatetimeTZDtype):  # every value aware (naive or mixed ones: one by one)
            return _sqlite_times(times)
    elif isinstance(first, bool) and all(type(v) is bool for v in values):
        return np.asarray(values, dtype=bool).astype(int).tolist()
    return [None if v is None else convert(v) for v in values]


def _sqlite_times(column: pd.Series) -> list:
    """UTC timestamps as SQLAlchemy's SQLite DateTime stores them: `YYYY-MM-DD HH:MM:SS.ffffff`."""
    moments = column.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()
    text = np.datetime_as_string(moments, unit="us")
    # `T` to a space in place, character 11 of each fixed-width UTF-32 text (0.21-0.23 s per 300,000
    # times against 0.29-0.38 s by np.strings.replace); a column of NaT alone is "NaT" texts, made None below
    if len(text) and text.dtype.itemsize > 40:
        text.view(np.uint32).reshape(len(text), -1)[:, 10] = ord(" ")
    text = text.astype(object)
    text[np.isnat(moments)] = None
    return text.tolist()


def _json_object(connection: Connection, pairs: list[tuple[str, str]]) -> str:
    """SQL building a JSON object text from (key, column) pairs, on SQLite or PostgreSQL."""
    args = ", ".join(f"'{key}', {column}" for key, column in pairs)
    if connection.dialect.name == "postgresql":
        return f"json_build_object({args})::text"
    return f"json_object({args})"


def _as_written_sql(connection: Connection, column: str, flag: str) -> str:
    """SQL for a time as the audit trail keeps it (`dates.as_written`): the date alone when `flag` says
    it was given without a time."""
    if connection.dialect.name == "postgresql":
        return (f"CASE WHEN {flag} THEN to_jsonb(to_char({column}, 'YYYY-MM-DD')) "
                f"ELSE to_jsonb({column}) END")
    return f"CASE WHEN {flag} THEN substr({column}, 1, 10) ELSE {column} END"


def _write_history(run: _Run, label: str | None) -> None:
    """The import's audit events: the file, then each claim, report, verdict and source it created."""
    w, connection, marks = run.w, run.connection, run.marks
    w.session.flush()  # events of sources the service layer created (a JSON file's sources) first
    params = {"at": w.now, "actor": w.actor.name, "account_id": w.actor.account_id,
              "claim_mark": marks[Claim], "report_mark": marks[Report], "outcome_mark": marks[Outcome],
              "source_mark": marks[Source]}
    # every existing claim that gained a report or a verdict moves to a new version (none into an empty store)
    if marks[Claim]:
        connection.execute(
            update(Claim).where(Claim.id <= marks[Claim], Claim.id.in_(
                select(Report.claim_id).where(Report.id > marks[Report])
                .union(select(Outcome.claim_id).where(Outcome.id > marks[Outcome]))))
            .values(version=Claim.version + 1))
    edits: dict[int, tuple[dict, dict]] = {}  # existing claim id: (before, after) of what the file changed
    for claim, before in run.edited:
        after = {"first_reported_at": claim.first, "expected_by": claim.expected_by or claim.stored_expected}
        changed = [k for k in after if after[k] != before[k]]
        # recorded as written: a date given without a time as the date
        written = {"first_reported_at": as_written(claim.first, claim.first_day),
                   "expected_by": as_written(claim.expected_by, claim.expected_day) if claim.expected_by
                   else claim.stored_expected}
        if changed:
            edits[claim.id] = ({k: before[k] for k in changed}, {k: written[k] for k in changed})
    for cid, (held, added) in run.topics_added.items():
        old, new = edits.setdefault(cid, ({}, {}))
        old["topics"], new["topics"] = held or None, sorted(set(held) | set(added))
    for cid, (old, new) in sorted(edits.items()):
        connection.execute(update(Claim).where(Claim.id == cid).values(version=Claim.version + 1))
        version = connection.execute(select(Claim.version).where(Claim.id == cid)).scalar_one()
        connection.execute(insert(AuditEvent).values(
            at=w.now, actor=w.actor.name, account_id=w.actor.account_id, action="claim.edit", entity="claim",
            entity_id=cid, claim_id=cid, claim_version=version, before=audit.encode(old), after=audit.encode(new),
            reason=f"import of {label}" if label else "import"))
    head = ("INSERT INTO audit_event (at, actor, account_id, action, entity, entity_id, claim_id, source_id, "
            "claim_version, after) SELECT :at, :actor, :account_id, ")
    obj = lambda pairs: _json_object(connection, pairs)
    day = lambda column, flag: _as_written_sql(connection, column, flag)
    statements = [
        head + "'source.create', 'source', id, NULL, id, NULL, "
        + obj([("name", "name"), ("kind", "kind")]) + " FROM source WHERE id > :source_mark AND NOT EXISTS "
        "(SELECT 1 FROM audit_event e WHERE e.entity = 'source' AND e.entity_id = source.id)",  # JSON's own
        head + "'claim.create', 'claim', id, id, NULL, version, "
        + obj([("statement", "statement"), ("ref", "ref"),
               ("first_reported_at", day("first_reported_at", "first_reported_date_only")),
               ("expected_by", day("expected_by", "expected_by_date_only"))]) + " FROM claim WHERE id > :claim_mark",
        head + "'report.create', 'report', r.id, r.claim_id, r.source_id, c.version, "
        + obj([("source", "s.name"), ("stance", "r.stance"),
               ("reported_at", day("r.reported_at", "r.reported_date_only")), ("via", "v.name"),
               ("url", "r.url"), ("quote", "r.quote"), ("note", "r.note")])
        + " FROM report r JOIN claim c ON c.id = r.claim_id JOIN source s ON s.id = r.source_id"
          " LEFT JOIN source v ON v.id = r.via_source_id WHERE r.id > :report_mark",
        head + "'outcome.record', 'outcome', o.id, o.claim_id, NULL, c.version, "
        + obj([("verdict", "o.verdict"), ("decided_at", day("o.decided_at", "o.decided_date_only")),
               ("evidence_url", "o.evidence_url"),
               ("note", "o.note"), ("reviewer", "o.reviewer")])
        + " FROM outcome o JOIN claim c ON c.id = o.claim_id WHERE o.id > :outcome_mark",
    ]
    for sql in statements:
        connection.execute(sql_text(sql).bindparams(
            bindparam("at", type_=AuditEvent.__table__.c.at.type)), params)
    summary = run.summary
    w.audit("import", "import", after={
        "file": label, "claims_created": summary.claims_created, "claims_matched": summary.claims_matched,
        "reports_added": summary.reports_added, "reports_already_present": summary.reports_skipped,
        "outcomes_added": summary.outcomes_added, "sources_created": summary.sources_created,
    })


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Python's cyclic garbage collector paused for the block: an import makes millions of objects that
    die by reference counting, and each full collection walks them all (measured: about 2 s of CPU in
    a 222,000-report file, for a few hundred objects found); it runs again, as before, at the end."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class _Preview(Exception):
    """Raised at the end of a dry run to roll its transaction back, carrying what it found."""

    def __init__(self, summary: ImportSummary) -> None:
        super().__init__("dry run")
        self.summary = summary


def apply_incoming(ledger: Ledger, incoming: Incoming, label: str | None = None, *,
                   dry_run: bool = False) -> ImportSummary:
    """Write an import in one transaction as the ledger's user; on any bad row, roll back and raise ImportRejected.

    With `dry_run`, do everything but keep nothing: the summary says what would be created, updated
    and left unchanged, and `refused` lists the rows that would be refused (nothing is raised for them).
    """
    try:
        with _no_cycle_collection(), ledger.transaction() as writer:
            writer.require("import")
            run = _Run(writer)
            run.dry_run = dry_run
            sources_before = run.connection.execute(select(func.count()).select_from(Source)).scalar_one()
            run.apply_sources(incoming.sources)
            declared = run.declare(incoming.claims) if incoming.claims else {}
            for labels, rows in incoming.chunks:
                run.take_chunk(labels, rows, incoming.columns, unguard=incoming.guarded)
            if declared:
                run.write_declared(declared)
            run.finish()
            errors = sorted(run.errors + incoming.errors, key=_row_order)  # the reader adds what it finds too
            if errors and not dry_run:
                raise ImportRejected(errors)
            summary = run.summary
            summary.sources_created = run.connection.execute(
                select(func.count()).select_from(Source)).scalar_one() - sources_before
            summary.claims_updated = len(run.claims_edited | {c.id for c, _ in run.edited} | set(run.topics_added))
            if dry_run:
                summary.dry_run, summary.refused = True, errors
                raise _Preview(summary)
            _write_history(run, label)
            return summary
    except _Preview as preview:
        return preview.summary
