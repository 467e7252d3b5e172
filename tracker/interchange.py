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
import os
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from tracker import formats, rules
from tracker.dates import When, format_when
from tracker.errors import ImportRejected, RowError, ValidationError
from tracker.importer import (
    ALL_FIELDS,
    CHUNK_ROWS,
    FORMULA_START,
    ClaimIn,
    ImportSummary,
    Incoming,
    OutcomeIn,
    SourceIn,
    apply_incoming,
)
from tracker.ledger import ClaimView, Ledger

EXAMPLE_FILE = Path(__file__).resolve().parent.parent / "seed" / "aleppo-2016-12.json"
CSV_REQUIRED = ("claim_ref", "claim", "source", "stance", "reported_at", "outcome", "outcome_at")
CSV_OPTIONAL = ("via", "url", "topic", "expected_by", "note", "quote", "evidence", "report_ref", "claim_version")
CSV_COLUMNS = CSV_REQUIRED + CSV_OPTIONAL
FORMATS = formats.INTERCHANGE
MAX_IMPORT_ENV = "TRACKER_MAX_IMPORT_MB"


# -- reading -------------------------------------------------------------------------------
def guess_format(path: str | Path, explicit: str | None = None) -> str:
    """The format to read or write `path` in: `explicit`, else from the file's extension."""
    if explicit:
        fmt = explicit.lower()
    else:
        fmt = Path(path).suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ValidationError(
            f"cannot tell the format of {str(path)!r}; name the file .csv or .json, or pass --format "
            "(csv or json; claimreview for fact-checks, .html and .jsonld; stix to export)"
        )
    return fmt


def _check_header(header: list[str]) -> None:
    if not header:
        raise ImportRejected([RowError("row 1", "the file is empty; the first row must be the header")])
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


def read_csv(stream: IO[str], chunk_rows: int = CHUNK_ROWS) -> Incoming:
    """The CSV contract as an Incoming (rows handed over in chunks); a bad header is rejected at once."""
    reader = csv.reader(stream)
    header = [h.strip() for h in next(reader, [])]
    _check_header(header)
    errors: list[RowError] = []
    return Incoming(chunks=_csv_chunks(reader, len(header), errors, chunk_rows), columns=tuple(header),
                    errors=errors)


def _csv_chunks(reader, width: int, errors: list[RowError], chunk_rows: int):
    numbers: list[int] = []
    rows: list[list[str]] = []
    for number, raw in enumerate(reader, start=2):
        if len(raw) != width:
            if any(cell.strip() for cell in raw):
                errors.append(RowError(f"row {number}", f"has {len(raw)} cells but the header has {width}"))
            continue
        if not any(raw) or not "".join(raw).strip():
            continue  # blank line
        numbers.append(number)
        rows.append(raw)
        if len(rows) >= chunk_rows:
            yield numbers, rows
            numbers, rows = [], []
    if rows:
        yield numbers, rows


def read_json(stream: IO[str]) -> Incoming:
    """The JSON contract as an Incoming (bad items in `errors`); broken JSON is rejected at once."""
    try:
        data = json.load(stream)
    except json.JSONDecodeError as exc:
        raise ImportRejected([RowError(f"line {exc.lineno}", f"not valid JSON: {exc.msg}")]) from exc
    if not isinstance(data, dict) or not isinstance(data.get("claims", []), list) \
            or not isinstance(data.get("sources", []), list):
        raise ImportRejected([RowError("top level", 'expected an object {"claims": [...], "sources": [...]}')])
    errors: list[RowError] = []
    incoming = Incoming(chunks=[], columns=ALL_FIELDS, errors=errors)
    for i, item in enumerate(data.get("sources", [])):
        row = f"sources[{i}]"
        if not isinstance(item, dict) or not _text(item.get("name")):
            errors.append(RowError(row, "a source needs a 'name'"))
            continue
        aliases = item.get("aliases") or []
        if not isinstance(aliases, list):
            errors.append(RowError(row, "'aliases' must be a list of names"))
            continue
        incoming.sources.append(SourceIn(row, _text(item["name"]), kind=_text(item.get("kind")),
                                         affiliation=_text(item.get("affiliation")), url=_text(item.get("url")),
                                         notes=_text(item.get("notes")),
                                         aliases=[_text(a) for a in aliases if _text(a)],
                                         parent=_text(item.get("parent"))))
    seen_refs: dict[str, str] = {}
    labels: list[str] = []
    rows: list[tuple[str, ...]] = []
    for i, item in enumerate(data.get("claims", [])):
        row = f"claims[{i}]"
        if not isinstance(item, dict):
            errors.append(RowError(row, "each claim must be an object"))
            continue
        try:
            statement = rules.STATEMENT.check(_text(item.get("statement")))
            ref = rules.CLAIM_REF.check(_text(item.get("claim_ref")))
            topics = rules.topics(item.get("topics") or [])
        except ValidationError as exc:
            errors.append(RowError(row, str(exc)))
            continue
        if ref is not None:
            if ref in seen_refs:
                errors.append(RowError(row, f"claim_ref {ref!r} is used again (first at {seen_refs[ref]})"))
                continue
            seen_refs[ref] = row
        version = item.get("claim_version")
        if version is not None and (not isinstance(version, int) or isinstance(version, bool) or version < 1):
            errors.append(RowError(row, "'claim_version' is not a whole number; leave it as exported, or out"))
            continue
        expected = _check_date(item.get("expected_by"), rules.EXPECTED_BY, errors, row)
        claim = ClaimIn(row, ref, statement, topics=topics, version=version,
                        expected_by=expected.at if expected else None,
                        first_reported_at=_check_date(item.get("first_reported_at"), rules.FIRST_REPORTED, errors, row))
        reports = item.get("reports") or []
        if not reports and claim.first_reported_at is None:
            errors.append(RowError(row, "a claim needs at least one report or a 'first_reported_at'"))
        for j, rep in enumerate(reports):
            if not isinstance(rep, dict):
                errors.append(RowError(f"{row}.reports[{j}]", "each report must be an object"))
                continue
            cells = {name: _text(rep.get(name)) or "" for name in ("source", "stance", "reported_at", "via", "url",
                                                                  "note", "quote", "report_ref")}
            labels.append(f"{row}.reports[{j}]")
            rows.append((ref or "", statement, cells["source"], cells["stance"], cells["reported_at"], "", "",
                         cells["via"], cells["url"], "", "", cells["note"], cells["quote"], "", cells["report_ref"],
                         str(version or "")))
        for j, out in enumerate(item.get("outcomes") or []):
            orow = f"{row}.outcomes[{j}]"
            if not isinstance(out, dict):
                errors.append(RowError(orow, "each outcome must be an object"))
                continue
            bad = len(errors)
            try:
                verdict = rules.VERDICT.check(_text(out.get("verdict")))
                evidence = rules.EVIDENCE.check(_text(out.get("evidence")))
                reviewer = rules.REVIEWER.check(_text(out.get("reviewer")))
            except ValidationError as exc:
                errors.append(RowError(orow, str(exc)))
            when = _check_date(out.get("decided_at"), rules.DECIDED_AT, errors, orow)
            if len(errors) == bad:
                claim.outcomes.append(OutcomeIn(orow, verdict, when.at, evidence=evidence, date_only=when.date_only,
                                                note=_text(out.get("note")), reviewer=reviewer))
        incoming.claims.append(claim)
    incoming.chunks = [(labels, rows)] if rows else []
    return incoming


def _check_date(value: Any, rule: rules.Moment, errors: list[RowError], row: str) -> When | None:
    try:
        return rule.check_when(value if isinstance(value, str) or value is None else str(value))
    except ValidationError as exc:
        errors.append(RowError(row, str(exc)))
        return None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


# -- importing -----------------------------------------------------------------------------
def max_import_bytes() -> int:
    """The largest file an import accepts: `TRACKER_MAX_IMPORT_MB` megabytes (default 1024)."""
    raw = os.environ.get(MAX_IMPORT_ENV, "").strip()
    try:
        megabytes = float(raw) if raw else 1024.0
    except ValueError as exc:
        raise ValidationError(f"{MAX_IMPORT_ENV}={raw!r} is not a number of megabytes") from exc
    return int(megabytes * 1024 * 1024)


def _check_size(size: int, what: str) -> None:
    limit = max_import_bytes()
    if size > limit:
        raise ValidationError(
            f"{what} is {size / 2**20:,.1f} MB, over the import limit of {limit / 2**20:,.0f} MB; split it into "
            f"smaller files or raise {MAX_IMPORT_ENV}"
        )


def import_file(ledger: Ledger, path: str | Path, fmt: str | None = None, *, dry_run: bool = False) -> ImportSummary:
    """Import a CSV or JSON file all-or-nothing (see the module doc); returns what it changed (or would)."""
    path = Path(path)
    fmt = guess_format(path, fmt)
    if path.is_file():
        _check_size(path.stat().st_size, repr(str(path)))
    try:
        with open(path, encoding="utf-8-sig", newline="") as stream:  # read as it goes: no copy in memory
            return apply_incoming(ledger, read_csv(stream) if fmt == "csv" else read_json(stream), label=path.name,
                                  dry_run=dry_run)
    except FileNotFoundError as exc:
        raise ValidationError(f"{str(path)!r} does not exist; check the path") from exc
    except UnicodeDecodeError as exc:
        raise ValidationError(f"{str(path)!r} is not UTF-8 text; save it as UTF-8 (CSV UTF-8 in spreadsheets)") from exc


def import_text(ledger: Ledger, text: str, fmt: str, label: str | None = None, *,
                dry_run: bool = False) -> ImportSummary:
    """Import CSV or JSON given as text (what an upload holds), all-or-nothing; `label` names it in history."""
    _check_size(len(text.encode("utf-8")), "the file")
    stream = io.StringIO(text, newline="")
    incoming = read_csv(stream) if fmt == "csv" else read_json(stream)
    return apply_incoming(ledger, incoming, label=label, dry_run=dry_run)


# -- writing -------------------------------------------------------------------------------
def guard_formula(value: Any) -> str:
    """A value as a CSV cell that no spreadsheet runs as a formula (a leading `'` where needed)."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_START):
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
                "reported_at": format_when(report.reported_at, report.reported_date_only),
                "outcome": outcome.verdict if outcome else "",
                "outcome_at": format_when(outcome.decided_at, outcome.decided_date_only) if outcome else "",
                "via": via or "",
                "url": report.url or "",
                "topic": ";".join(view.topics),
                "expected_by": format_when(view.claim.expected_by),
                "note": report.note or "",
                "quote": report.quote or "",
                "evidence": (outcome.evidence_url or "") if outcome else "",
                "report_ref": report.ref or "",
                "claim_version": str(view.claim.version),
            }


def write_csv(ledger: Ledger, stream: IO[str]) -> int:
    """Write every report as CSV (formula-guarded); returns the number of rows."""
    writer = csv.DictWriter(stream, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    count = 0
    for row in csv_rows(ledger.claim_views()):
        writer.writerow({k: guard_formula(v) for k, v in row.items()})
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
            "claim_version": view.claim.version,
            "statement": view.claim.statement,
            "topics": view.topics,
            "first_reported_at": format_when(view.claim.first_reported_at, view.claim.first_reported_date_only),
            "expected_by": format_when(view.claim.expected_by) or None,
            "reports": [
                {"report_ref": r.ref, "source": source, "stance": r.stance, "reported_at": format_when(r.reported_at, r.reported_date_only),
                 "via": via, "url": r.url, "quote": r.quote, "note": r.note}
                for r, source, via in view.reports
            ],
            "outcomes": [
                {"verdict": o.verdict, "decided_at": format_when(o.decided_at, o.decided_date_only), "evidence": o.evidence_url,
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
