"""Import and export: the public CSV and JSON formats.

CSV has one row per report. The header must hold `claim_ref, claim, source, stance, reported_at,
outcome, outcome_at` and may add `via, url, topic, expected_by, note` (and this tracker's own
`quote, evidence`). `claim_ref` groups rows into one claim; rows without it group by identical
statement. An empty `outcome` leaves the claim open; `outcome_at` is required with an `outcome`;
`topic` is `;`-separated. JSON is `{"claims": [{"claim_ref", "statement", "topics", "expected_by",
"reports": [{"source", "stance", "reported_at", "via", "url"}], "outcomes": [{"verdict",
"decided_at", "evidence", "note"}]}], "sources": [...]}` and keeps everything, including the
history of verdicts and the sources' details.

An import is all-or-nothing: every row is checked, every bad row is reported with its number and
reason, and a file with any bad row changes nothing. Importing the same file twice adds nothing.
Exported CSV cells that a spreadsheet would run as a formula are prefixed with `'`; the importer
strips that prefix again.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from sqlalchemy import func, select

from tracker.dates import DateError, format_when, parse_when
from tracker.errors import ImportRejected, LedgerError, RowError, ValidationError
from tracker.ledger import ClaimView, Ledger, Writer, normalise_topics
from tracker.models import Source, Stance, Verdict

EXAMPLE_FILE = Path(__file__).resolve().parent.parent / "seed" / "aleppo-2016-12.json"
CSV_REQUIRED = ("claim_ref", "claim", "source", "stance", "reported_at", "outcome", "outcome_at")
CSV_OPTIONAL = ("via", "url", "topic", "expected_by", "note", "quote", "evidence")
CSV_COLUMNS = CSV_REQUIRED + CSV_OPTIONAL
FORMATS = ("csv", "json")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class ReportIn:
    """A report as read from a file, with where it came from."""

    row: str
    source: str
    stance: str
    reported_at: Any
    via: str | None = None
    url: str | None = None
    quote: str | None = None
    note: str | None = None


@dataclass
class OutcomeIn:
    """A verdict as read from a file."""

    row: str
    verdict: str
    decided_at: Any
    evidence: str | None = None
    note: str | None = None
    reviewer: str | None = None


@dataclass
class ClaimIn:
    """A claim as read from a file, with its reports and verdicts."""

    row: str
    ref: str | None
    statement: str
    topics: list[str] = field(default_factory=list)
    expected_by: Any = None
    first_reported_at: Any = None
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


# -- reading -------------------------------------------------------------------------------
def guess_format(path: str | Path, explicit: str | None = None) -> str:
    """The format to read or write `path` in: `explicit`, else from the file's extension."""
    if explicit:
        fmt = explicit.lower()
    else:
        fmt = Path(path).suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ValidationError(
            f"cannot tell the format of {str(path)!r}; name the file .csv or .json, or pass --format csv|json"
        )
    return fmt


def _uncell(value: str | None) -> str | None:
    """A CSV cell as data: trimmed, None when empty, the formula guard removed."""
    if value is None:
        return None
    value = value.strip()
    if len(value) > 1 and value[0] == "'" and value[1] in _FORMULA_START:
        value = value[1:]
    return value or None


def _check_choice(value: str | None, enum_type, what: str, errors: list[RowError], row: str) -> str | None:
    if value is None:
        return None
    allowed = [m.value for m in enum_type]
    if value.strip().lower() not in allowed:
        errors.append(RowError(row, f"unknown {what} {value!r}; use one of: {', '.join(allowed)}"))
        return None
    return value.strip().lower()


def _check_date(value: Any, what: str, errors: list[RowError], row: str) -> Any:
    if value in (None, ""):
        return None
    try:
        return parse_when(value)
    except DateError as exc:
        errors.append(RowError(row, f"{what}: {exc}"))
        return None


def read_csv(stream: IO[str]) -> Bundle:
    """Parse the CSV contract into a Bundle (bad rows in `errors`); a bad header is rejected at once."""
    reader = csv.DictReader(stream)
    header = [h.strip() for h in (reader.fieldnames or [])]
    if not header:
        raise ImportRejected([RowError("row 1", "the file is empty; the first row must be the header")])
    reader.fieldnames = header
    problems = []
    missing = [c for c in CSV_REQUIRED if c not in header]
    if missing:
        problems.append(f"missing column(s): {', '.join(missing)}")
    unknown = [c for c in header if c and c not in CSV_COLUMNS]
    if unknown:
        problems.append(f"unknown column(s): {', '.join(unknown)} (allowed: {', '.join(CSV_COLUMNS)})")
    repeated = sorted({c for c in header if header.count(c) > 1})
    if repeated:
        problems.append(f"repeated column(s): {', '.join(repeated)}")
    if problems:
        raise ImportRejected([RowError("row 1 (header)", "; ".join(problems))])

    errors: list[RowError] = []
    claims: dict[tuple[str, str], ClaimIn] = {}
    verdict_rows: dict[tuple[str, str], tuple[str, str, Any, str]] = {}
    for number, raw in enumerate(reader, start=2):
        row = f"row {number}"
        if None in raw:
            errors.append(RowError(row, f"has {len(header) + len(raw[None])} cells but the header has {len(header)}"))
            continue
        cells = {k: _uncell(v) for k, v in raw.items()}
        if not any(cells.values()):
            continue  # blank line
        bad_before = len(errors)
        for name in ("claim", "source", "stance", "reported_at"):
            if not cells.get(name):
                errors.append(RowError(row, f"'{name}' is empty"))
        stance = _check_choice(cells.get("stance"), Stance, "stance", errors, row)
        reported_at = _check_date(cells.get("reported_at"), "reported_at", errors, row)
        expected_by = _check_date(cells.get("expected_by"), "expected_by", errors, row)
        verdict = _check_choice(cells.get("outcome"), Verdict, "outcome", errors, row)
        outcome_at = _check_date(cells.get("outcome_at"), "outcome_at", errors, row)
        if cells.get("outcome") and not cells.get("outcome_at"):
            errors.append(RowError(row, "'outcome' is set but 'outcome_at' is empty; give the date the outcome became known"))
        if cells.get("outcome_at") and not cells.get("outcome"):
            errors.append(RowError(row, "'outcome_at' is set but 'outcome' is empty"))
        if cells.get("via") and cells.get("source") and cells["via"].casefold() == cells["source"].casefold():
            errors.append(RowError(row, "'via' names the same source as 'source'; leave it empty or name the origin"))
        if len(errors) > bad_before:
            continue
        statement = " ".join(cells["claim"].split())
        key = ("ref", cells["claim_ref"]) if cells.get("claim_ref") else ("statement", statement)
        claim = claims.get(key)
        if claim is None:
            claim = claims[key] = ClaimIn(row=row, ref=cells.get("claim_ref"), statement=statement)
        elif claim.statement != statement:
            errors.append(RowError(row, f"claim_ref {claim.ref!r} has a different claim text than {claim.row}; "
                                        "one reference must mean one claim"))
            continue
        claim.topics = normalise_topics(claim.topics + normalise_topics(cells.get("topic")))
        if expected_by is not None:
            if claim.expected_by is not None and claim.expected_by != expected_by:
                errors.append(RowError(row, f"expected_by differs from {claim.row} for the same claim"))
                continue
            claim.expected_by = expected_by
        if verdict is not None:
            earlier = verdict_rows.get(key)
            if earlier is None:
                verdict_rows[key] = (row, verdict, outcome_at, cells.get("evidence"))
                claim.outcomes = [OutcomeIn(row, verdict, outcome_at, evidence=cells.get("evidence"))]
            elif (earlier[1], earlier[2]) != (verdict, outcome_at):
                errors.append(RowError(row, f"outcome differs from {earlier[0]} for the same claim; "
                                            "a CSV row carries the claim's one current outcome"))
                continue
        claim.reports.append(ReportIn(row, cells["source"], stance, reported_at, via=cells.get("via"),
                                      url=cells.get("url"), quote=cells.get("quote"), note=cells.get("note")))
    return Bundle(claims=list(claims.values()), errors=errors)


def read_json(stream: IO[str]) -> Bundle:
    """Parse the JSON contract into a Bundle (bad items in `errors`); broken JSON is rejected at once."""
    try:
        data = json.load(stream)
    except json.JSONDecodeError as exc:
        raise ImportRejected([RowError(f"line {exc.lineno}", f"not valid JSON: {exc.msg}")]) from exc
    if not isinstance(data, dict) or not isinstance(data.get("claims", []), list) \
            or not isinstance(data.get("sources", []), list):
        raise ImportRejected([RowError("top level", 'expected an object {"claims": [...], "sources": [...]}')])
    errors: list[RowError] = []
    bundle = Bundle()
    for i, item in enumerate(data.get("sources", [])):
        row = f"sources[{i}]"
        if not isinstance(item, dict) or not _text(item.get("name")):
            errors.append(RowError(row, "a source needs a 'name'"))
            continue
        aliases = item.get("aliases") or []
        if not isinstance(aliases, list):
            errors.append(RowError(row, "'aliases' must be a list of names"))
            continue
        bundle.sources.append(SourceIn(row, _text(item["name"]), kind=_text(item.get("kind")),
                                       affiliation=_text(item.get("affiliation")), url=_text(item.get("url")),
                                       notes=_text(item.get("notes")), aliases=[_text(a) for a in aliases if _text(a)],
                                       parent=_text(item.get("parent"))))
    seen_refs: dict[str, str] = {}
    for i, item in enumerate(data.get("claims", [])):
        row = f"claims[{i}]"
        if not isinstance(item, dict):
            errors.append(RowError(row, "each claim must be an object"))
            continue
        statement = " ".join((_text(item.get("statement")) or "").split())
        if not statement:
            errors.append(RowError(row, "'statement' is empty"))
        ref = _text(item.get("claim_ref"))
        if ref is not None:
            if ref in seen_refs:
                errors.append(RowError(row, f"claim_ref {ref!r} is used again (first at {seen_refs[ref]})"))
            seen_refs[ref] = row
        topics = item.get("topics") or []
        if isinstance(topics, str):
            topics = topics.split(";")
        claim = ClaimIn(row, ref, statement, topics=normalise_topics(topics),
                        expected_by=_check_date(item.get("expected_by"), "expected_by", errors, row),
                        first_reported_at=_check_date(item.get("first_reported_at"), "first_reported_at", errors, row))
        for j, rep in enumerate(item.get("reports") or []):
            rrow = f"{row}.reports[{j}]"
            if not isinstance(rep, dict):
                errors.append(RowError(rrow, "each report must be an object"))
                continue
            bad = len(errors)
            if not _text(rep.get("source")):
                errors.append(RowError(rrow, "'source' is empty"))
            if not _text(rep.get("stance")):
                errors.append(RowError(rrow, "'stance' is empty"))
            stance = _check_choice(_text(rep.get("stance")), Stance, "stance", errors, rrow)
            if not rep.get("reported_at"):
                errors.append(RowError(rrow, "'reported_at' is empty"))
            when = _check_date(rep.get("reported_at"), "reported_at", errors, rrow)
            if len(errors) == bad:
                claim.reports.append(ReportIn(rrow, _text(rep["source"]), stance, when, via=_text(rep.get("via")),
                                              url=_text(rep.get("url")), quote=_text(rep.get("quote")),
                                              note=_text(rep.get("note"))))
        for j, out in enumerate(item.get("outcomes") or []):
            orow = f"{row}.outcomes[{j}]"
            if not isinstance(out, dict):
                errors.append(RowError(orow, "each outcome must be an object"))
                continue
            bad = len(errors)
            if not _text(out.get("verdict")):
                errors.append(RowError(orow, "'verdict' is empty"))
            verdict = _check_choice(_text(out.get("verdict")), Verdict, "verdict", errors, orow)
            if not out.get("decided_at"):
                errors.append(RowError(orow, "'decided_at' is empty; give the date the outcome became known"))
            when = _check_date(out.get("decided_at"), "decided_at", errors, orow)
            if len(errors) == bad:
                claim.outcomes.append(OutcomeIn(orow, verdict, when, evidence=_text(out.get("evidence")),
                                                note=_text(out.get("note")), reviewer=_text(out.get("reviewer"))))
        if not item.get("reports") and claim.first_reported_at is None and statement:
            errors.append(RowError(row, "a claim needs at least one report or a 'first_reported_at'"))
        if statement:
            bundle.claims.append(claim)
    bundle.errors = errors
    return bundle


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


# -- applying ------------------------------------------------------------------------------
def apply_bundle(ledger: Ledger, bundle: Bundle) -> ImportSummary:
    """Write a Bundle in one transaction; on any bad row, roll back and raise ImportRejected."""
    summary = ImportSummary()
    errors: list[RowError] = list(bundle.errors)
    with ledger.transaction() as w:
        before = _count_sources(w)
        _apply_sources(w, bundle.sources, errors)
        for claim in bundle.claims:
            savepoint = w.session.begin_nested()
            try:
                _apply_claim(w, claim, summary, errors)
                savepoint.commit()
            except _RowsFailed:  # its bad rows are listed already
                savepoint.rollback()
                w.forget_cached_sources()
            except LedgerError as exc:  # a rule broken by the claim as a whole
                savepoint.rollback()
                w.forget_cached_sources()
                errors.append(RowError(claim.row, str(exc)))
        if errors:
            raise ImportRejected(sorted(errors, key=_row_order))
        summary.sources_created = _count_sources(w) - before
    return summary


def _row_order(error: RowError) -> tuple:
    """Sort key putting `row 10` after `row 9` and `claims[2].reports[10]` after `...[9]`."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", error.row))


def _count_sources(w: Writer) -> int:
    return w.session.execute(select(func.count()).select_from(Source)).scalar_one()


def _apply_sources(w: Writer, sources: list[SourceIn], errors: list[RowError]) -> None:
    for src in sources:  # parents may come later in the list: set them in a second pass
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


def _apply_claim(w: Writer, item: ClaimIn, summary: ImportSummary, errors: list[RowError]) -> None:
    if item.ref is not None:
        claim = w.claim_by_ref(item.ref)
        if claim is not None and claim.statement != item.statement:
            raise ValidationError(
                f"claim_ref {item.ref!r} is already claim #{claim.id} with a different statement "
                f"({claim.statement[:60]!r}); use another claim_ref or the same text"
            )
    else:
        same = w.claims_by_statement(item.statement)
        if len(same) > 1:
            raise ValidationError(
                f"{len(same)} claims already have this statement (#{', #'.join(str(c.id) for c in same)}); "
                "give the row a claim_ref to say which one"
            )
        claim = same[0] if same else None
    times = [r.reported_at for r in item.reports]
    if item.first_reported_at is not None:
        times.append(item.first_reported_at)
    if claim is None and not times:
        return  # every report of this claim was bad, and those rows are listed already
    if claim is None:
        claim = w.log_claim(item.statement, first_reported_at=min(times), topics=item.topics,
                            ref=item.ref, allow_same_statement=item.ref is not None,
                            expected_by=item.expected_by)
        summary.claims_created += 1
    else:
        summary.claims_matched += 1
        w.set_topics(claim, item.topics)
        if item.expected_by is not None and item.expected_by != claim.expected_by:
            w.set_expected_by(claim, item.expected_by)
    bad = len(errors)
    for rep in item.reports:
        try:
            added = w.add_report(claim, rep.source, rep.stance, rep.reported_at, via=rep.via, url=rep.url,
                                 quote=rep.quote, note=rep.note, skip_duplicate=True)
        except LedgerError as exc:
            errors.append(RowError(rep.row, str(exc)))
            continue
        if added is None:
            summary.reports_skipped += 1
        else:
            summary.reports_added += 1
    for out in item.outcomes:
        try:
            added = w.record_outcome(claim, out.verdict, out.decided_at, evidence_url=out.evidence,
                                     note=out.note, reviewer=out.reviewer, skip_duplicate=True)
        except LedgerError as exc:
            errors.append(RowError(out.row, str(exc)))
            continue
        summary.outcomes_added += added is not None
    if len(errors) > bad:
        raise _RowsFailed()


class _RowsFailed(LedgerError):
    """Internal: some rows of a claim failed and were already listed; roll the claim back."""


def import_file(ledger: Ledger, path: str | Path, fmt: str | None = None) -> ImportSummary:
    """Import a CSV or JSON file all-or-nothing (see the module doc); returns what it changed."""
    path = Path(path)
    fmt = guess_format(path, fmt)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError as exc:
        raise ValidationError(f"{str(path)!r} does not exist; check the path") from exc
    except UnicodeDecodeError as exc:
        raise ValidationError(f"{str(path)!r} is not UTF-8 text; save it as UTF-8 (CSV UTF-8 in spreadsheets)") from exc
    return import_text(ledger, text, fmt)


def import_text(ledger: Ledger, text: str, fmt: str) -> ImportSummary:
    """Import CSV or JSON given as text (what an upload holds), all-or-nothing."""
    stream = io.StringIO(text, newline="")
    bundle = read_csv(stream) if fmt == "csv" else read_json(stream)
    return apply_bundle(ledger, bundle)


# -- writing -------------------------------------------------------------------------------
def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def csv_rows(views: Iterable[ClaimView]) -> Iterable[dict[str, str]]:
    """The CSV rows (one per report) for these claims; claims with no report have no row."""
    for view in views:
        outcome = view.outcome
        for report, source, via in view.reports:
            yield {
                "claim_ref": view.claim.ref or "",
                "claim": view.claim.statement,
                "source": source,
                "stance": report.stance,
                "reported_at": format_when(report.reported_at),
                "outcome": outcome.verdict if outcome else "",
                "outcome_at": format_when(outcome.decided_at) if outcome else "",
                "via": via or "",
                "url": report.url or "",
                "topic": ";".join(view.topics),
                "expected_by": format_when(view.claim.expected_by),
                "note": report.note or "",
                "quote": report.quote or "",
                "evidence": (outcome.evidence_url or "") if outcome else "",
            }


def write_csv(ledger: Ledger, stream: IO[str]) -> int:
    """Write every report as CSV (formula-guarded); returns the number of rows."""
    writer = csv.DictWriter(stream, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    count = 0
    for row in csv_rows(ledger.claim_views()):
        writer.writerow({k: _cell(v) for k, v in row.items()})
        count += 1
    return count


def to_json(ledger: Ledger) -> dict:
    """Everything in the store as the JSON contract (sources, claims, reports, verdict history)."""
    fields = ("name", "kind", "affiliation", "url", "notes", "aliases", "parent")
    sources = [{k: s[k] for k in fields} for s in ledger.list_sources()]
    claims = []
    for view in ledger.claim_views():
        claims.append({
            "claim_ref": view.claim.ref,
            "statement": view.claim.statement,
            "topics": view.topics,
            "first_reported_at": format_when(view.claim.first_reported_at),
            "expected_by": format_when(view.claim.expected_by) or None,
            "reports": [
                {"source": source, "stance": r.stance, "reported_at": format_when(r.reported_at), "via": via,
                 "url": r.url, "quote": r.quote, "note": r.note}
                for r, source, via in view.reports
            ],
            "outcomes": [
                {"verdict": o.verdict, "decided_at": format_when(o.decided_at), "evidence": o.evidence_url,
                 "note": o.note, "reviewer": o.reviewer}
                for o in view.outcomes
            ],
        })
    return {"sources": sources, "claims": claims}


def write_json(ledger: Ledger, stream: IO[str]) -> int:
    """Write the whole store as JSON; returns the number of claims."""
    data = to_json(ledger)
    json.dump(data, stream, ensure_ascii=False, indent=2)
    stream.write("\n")
    return len(data["claims"])


def export_file(ledger: Ledger, path: str | Path, fmt: str | None = None) -> int:
    """Export the store to `path` as CSV or JSON; returns rows (CSV) or claims (JSON) written."""
    fmt = guess_format(path, fmt)
    with open(path, "w", encoding="utf-8", newline="") as stream:
        return write_csv(ledger, stream) if fmt == "csv" else write_json(ledger, stream)


def load_example(ledger: Ledger) -> ImportSummary:
    """Load the Aleppo 2016 example from `seed/` (idempotent, like any import)."""
    if not EXAMPLE_FILE.exists():
        raise ValidationError(f"the example data is missing ({EXAMPLE_FILE}); reinstall from a full checkout")
    return import_file(ledger, EXAMPLE_FILE)
