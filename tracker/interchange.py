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
Exported CSV cells that a spreadsheet would run as a formula are prefixed with `'`; the CSV
importer takes off exactly that prefix again (`tracker.safe_text`), and JSON is read verbatim. A
cell or a JSON document the readers cannot take (a cell longer than `rules.MAX_CELL`, JSON nested
deeper than Python's parser goes, an integer of thousands of digits, a list given as a number) is
refused by its row, like any bad value; a file is read with a bound, so a stream such as
`/dev/zero` stops at the import size limit.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from tracker import formats, rules, safe_text
from tracker.dates import When, format_when
from tracker.errors import ImportRejected, RowError, ValidationError
from tracker.importer import (
    ALL_FIELDS,
    CHUNK_ROWS,
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
    # the csv module's own limit is the file's (no cell is longer than its file): a cell over
    # rules.MAX_CELL is refused by its row below, and the rows after it are still checked
    csv.field_size_limit(max(csv.field_size_limit(), rules.MAX_CELL, max_import_bytes()))
    reader = csv.reader(stream)
    try:
        header = [h.strip() for h in next(reader, [])]
    except csv.Error as exc:
        raise ImportRejected([RowError("row 1 (header)", f"not readable as CSV: {exc}")]) from exc
    _check_header(header)
    errors: list[RowError] = []
    return Incoming(chunks=_csv_blocks(stream, header, errors, chunk_rows), columns=tuple(header),
                    errors=errors, guarded=True)


def _csv_blocks(stream: IO[str], header: list[str], errors: list[RowError], chunk_rows: int):
    """The rows after the header in chunks of about `chunk_rows` lines, each read by pandas' C reader
    when that reads it exactly as the csv module would (`_plain_block`), else by the csv module
    (`_csv_chunks`), the same rows, row numbers and messages either way (0.6-0.9 s less per
    222,000 rows: benchmarks/README.md, "Import speed", fifth pass)."""
    number = 1  # the row number of the last row read
    while True:
        lines = list(itertools.islice(stream, chunk_rows))
        if not lines:
            return
        frame = _plain_block(lines, len(header))
        if frame is not None:
            numbers = np.arange(number + 1, number + 1 + len(frame))
            number += len(frame)
            kept = _kept_rows(lines, frame, header, numbers, errors)
            if kept.any():
                yield numbers[kept].tolist(), frame[kept].reset_index(drop=True)
            continue
        feed = _Feed(lines, stream)
        for numbers, rows in _csv_chunks(feed.reader(), header, errors, chunk_rows, first=number + 1):
            yield numbers, rows
        if feed.broken:
            return
        number += feed.number


class _Feed:
    """A block's lines for the csv module, then the stream's lines only while a row is unfinished
    (a quoted cell across lines), so that the next block starts where a row starts."""

    def __init__(self, lines: list[str], stream: IO[str]) -> None:
        self.lines, self.stream, self.between, self.number, self.broken = iter(lines), stream, True, 0, False

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = next(self.lines, None)
        if line is None:
            if self.between:
                raise StopIteration
            line = self.stream.readline()
            if not line:
                raise StopIteration
        self.between = False
        return line

    def reader(self):
        """The csv module's rows of these lines, counted; each row read puts the feed between rows
        (`broken` when the csv module refused one: that ends the file, as `_csv_rows` says)."""
        try:
            for row in csv.reader(self):
                self.number += 1
                self.between = True
                yield row
        except csv.Error:
            self.broken = True
            raise


def _plain_block(lines: list[str], width: int):
    """The lines as a frame of text cells (Python strings, as the csv module's) by pandas' C reader,
    or None unless that is sure to be what the csv module reads: no quote, NUL or lone carriage
    return anywhere (so one line is one row and cells are split at every comma), and every line
    exactly `width` cells (a short, long or blank line goes to the csv module, which names it)."""
    text = "".join(lines)
    if '"' in text or "\x00" in text or text.count("\r") != text.count("\r\n"):
        return None
    if text.count(",") != (width - 1) * len(lines):
        return None
    try:
        frame = pd.read_csv(io.StringIO(text), header=None, index_col=False, dtype=object, keep_default_na=False,
                            skip_blank_lines=False, engine="c")
    except (ValueError, pd.errors.ParserError):
        return None
    if frame.shape != (len(lines), width):
        return None
    return frame


def _kept_rows(lines: list[str], frame, header: list[str], numbers, errors: list[RowError]):
    """Which rows of a block pandas read go on to be checked: not blank (nothing but commas and white
    space), no cell longer than any field may be (those are named, as `_csv_chunks` names them)."""
    kept = np.fromiter((bool(line.replace(",", "").strip()) for line in lines), dtype=bool, count=len(lines))
    for i in (i for i, line in enumerate(lines) if len(line) > rules.MAX_CELL and kept[i]):
        refused = _too_long(header, frame.iloc[i].tolist(), numbers[i])
        if refused:
            errors.append(refused)
            kept[i] = False
    return kept


def _too_long(header: list[str], cells: list[str], number: int) -> RowError | None:
    """The error naming a row's cells longer than any field may be, or None when none is."""
    names = [name for name, cell in zip(header, cells) if len(cell) > rules.MAX_CELL]
    if not names:
        return None
    return RowError(f"row {number}", f"the {', '.join(names)} cell(s) hold more than {rules.MAX_CELL:,} characters, "
                                     "more than any field may")


def _csv_rows(reader, errors: list[RowError], first: int = 2):
    """(row number, cells) as the csv module reads them (the first numbered `first`); a row it cannot
    read is refused and ends the file."""
    number = first - 1
    try:
        for number, raw in enumerate(reader, start=first):
            yield number, raw
    except csv.Error as exc:  # raised by the reader for the row after `number`
        errors.append(RowError(f"row {number + 1}", f"not readable as CSV ({exc}); nothing after it was read"))


def _csv_chunks(reader, header: list[str], errors: list[RowError], chunk_rows: int, first: int = 2):
    width = len(header)
    numbers: list[int] = []
    rows: list[list[str]] = []
    for number, raw in _csv_rows(reader, errors, first):
        if len(raw) != width:
            if any(cell.strip() for cell in raw):
                errors.append(RowError(f"row {number}", f"has {len(raw)} cells but the header has {width}"))
            continue
        if not any(raw) or not "".join(raw).strip():
            continue  # blank line
        # no cell can be too long when the whole row is not (the usual case: one sum, not a look per cell)
        refused = sum(map(len, raw)) > rules.MAX_CELL and _too_long(header, raw, number)
        if refused:
            errors.append(refused)
            continue
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
    except RecursionError as exc:
        raise ImportRejected([RowError("top level", "nested too deeply to read; the JSON contract is "
                                                    'claims inside {"claims": [...]}, a few levels deep')]) from exc
    except ValueError as exc:  # an integer over Python's digit limit
        raise ImportRejected([RowError("top level", f"not readable: {exc}")]) from exc
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
        if not _scalars(item, row, errors, ("name", "kind", "affiliation", "url", "notes", "parent"), aliases):
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
        if not _lists(item, row, errors) or not _scalars(item, row, errors, (
                "statement", "claim_ref", "expected_by", "first_reported_at"), item.get("topics")):
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
                        expected_by_date_only=bool(expected and expected.date_only),
                        first_reported_at=_check_date(item.get("first_reported_at"), rules.FIRST_REPORTED, errors, row))
        reports = item.get("reports") or []
        if not reports and claim.first_reported_at is None:
            errors.append(RowError(row, "a claim needs at least one report or a 'first_reported_at'"))
        for j, rep in enumerate(reports):
            if not isinstance(rep, dict):
                errors.append(RowError(f"{row}.reports[{j}]", "each report must be an object"))
                continue
            if not _scalars(rep, f"{row}.reports[{j}]", errors, REPORT_FIELDS):
                continue
            cells = {name: _text(rep.get(name)) or "" for name in REPORT_FIELDS}
            labels.append(f"{row}.reports[{j}]")
            rows.append((ref or "", statement, cells["source"], cells["stance"], cells["reported_at"], "", "",
                         cells["via"], cells["url"], "", "", cells["note"], cells["quote"], "", cells["report_ref"],
                         str(version or "")))
        for j, out in enumerate(item.get("outcomes") or []):
            orow = f"{row}.outcomes[{j}]"
            if not isinstance(out, dict):
                errors.append(RowError(orow, "each outcome must be an object"))
                continue
            if not _scalars(out, orow, errors, ("verdict", "decided_at", "evidence", "note", "reviewer")):
                continue
            bad = len(errors)
            try:
                verdict = rules.VERDICT.check(_text(out.get("verdict")))
                evidence = rules.EVIDENCE.check(_text(out.get("evidence")))
                reviewer = rules.REVIEWER.check(_text(out.get("reviewer")))
                note = rules.NOTE.check(_text(out.get("note")))
            except ValidationError as exc:
                errors.append(RowError(orow, str(exc)))
            when = _check_date(out.get("decided_at"), rules.DECIDED_AT, errors, orow)
            if len(errors) == bad:
                claim.outcomes.append(OutcomeIn(orow, verdict, when.at, evidence=evidence, date_only=when.date_only,
                                                note=note, reviewer=reviewer))
        incoming.claims.append(claim)
    incoming.chunks = [(labels, rows)] if rows else []
    return incoming


REPORT_FIELDS = ("source", "stance", "reported_at", "via", "url", "note", "quote", "report_ref")


def _lists(item: dict, row: str, errors: list[RowError]) -> bool:
    """False (and the claim refused) when its `reports`, `outcomes` or `topics` is not a list."""
    wrong = [name for name in ("reports", "outcomes", "topics") if item.get(name) is not None
             and not isinstance(item[name], list) and not (name == "topics" and isinstance(item[name], str))]
    for name in wrong:
        errors.append(RowError(row, f"'{name}' must be a list (got {type(item[name]).__name__}); "
                                    f"write \"{name}\": [...]"))
    return not wrong


def _scalars(item: dict, row: str, errors: list[RowError], fields: Iterable[str], values: list | None = None) -> bool:
    """False (and the item refused) when a field that holds text holds a list or an object instead,
    or a character no store can keep (checked here for every field, before any is looked up)."""
    fields = list(fields)
    wrong = [name for name in fields if isinstance(item.get(name), (dict, list))]
    listed = values if isinstance(values, list) else []
    if any(isinstance(v, (dict, list)) for v in listed):
        wrong.append("a value in its list")
    if wrong:
        errors.append(RowError(row, f"{', '.join(repr(w) for w in wrong)} must be text, not a list or an object"))
        return False
    texts = [(name, item.get(name)) for name in fields] + [("a value in its list", v) for v in listed]
    bad = [name for name, value in texts if isinstance(value, str) and rules.UNSTORABLE.search(value)]
    for name in dict.fromkeys(bad):
        errors.append(RowError(row, rules.unstorable(repr(name))))
    return not bad


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


class _Bounded(io.RawIOBase):
    """A binary file read through a byte count: past the import limit, reading stops with a ValidationError."""

    def __init__(self, raw: IO[bytes], what: str) -> None:
        super().__init__()
        self.raw, self.what, self.limit, self.count = raw, what, max_import_bytes(), 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        size = self.raw.readinto(buffer)
        self.count += size or 0
        if self.count > self.limit:
            raise ValidationError(
                f"{self.what} goes on past the import limit of {self.limit / 2**20:,.2f} MB (read until then); "
                f"import a smaller file or raise {MAX_IMPORT_ENV}"
            )
        return size


def import_file(ledger: Ledger, path: str | Path, fmt: str | None = None, *, dry_run: bool = False) -> ImportSummary:
    """Import a CSV or JSON file all-or-nothing (see the module doc); returns what it changed (or would)."""
    path = Path(path)
    fmt = guess_format(path, fmt)
    if path.is_file():
        _check_size(path.stat().st_size, repr(str(path)))
    try:
        # read as it goes (no copy in memory), and never past the limit: a pipe or a device has no size to check
        with open(path, "rb", buffering=0) as raw, \
                io.TextIOWrapper(io.BufferedReader(_Bounded(raw, repr(str(path)))), encoding="utf-8-sig",
                                 newline="") as stream:
            return apply_incoming(ledger, read_csv(stream) if fmt == "csv" else read_json(stream), label=path.name,
                                  dry_run=dry_run)
    except FileNotFoundError as exc:
        raise ValidationError(f"{str(path)!r} does not exist; check the path") from exc
    except UnicodeDecodeError as exc:
        raise ValidationError(f"{str(path)!r} is not UTF-8 text; save it as UTF-8 (CSV UTF-8 in spreadsheets)") from exc


def import_text(ledger: Ledger, text: str, fmt: str, label: str | None = None, *,
                dry_run: bool = False) -> ImportSummary:
    """Import CSV or JSON given as text (what an upload holds), all-or-nothing; `label` names it in history."""
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise ValidationError(f"the file is not valid Unicode text (at character {exc.start:,}); save it as "
                              "UTF-8 and import it again") from exc
    _check_size(size, "the file")
    stream = io.StringIO(text, newline="")
    incoming = read_csv(stream) if fmt == "csv" else read_json(stream)
    return apply_incoming(ledger, incoming, label=label, dry_run=dry_run)


# -- writing -------------------------------------------------------------------------------
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
                "expected_by": format_when(view.claim.expected_by, view.claim.expected_by_date_only),
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
        writer.writerow({k: safe_text.guard_cell(v) for k, v in row.items()})
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
            "expected_by": format_when(view.claim.expected_by, view.claim.expected_by_date_only) or None,
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
