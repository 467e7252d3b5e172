"""Random CSV and JSON documents thrown at the importer (issue 11): every outcome is an import or a
clean refusal (a LedgerError with a message), never a traceback, and a refusal changes nothing.

One store per backend serves every example (imports that succeed simply add to it); the store is
dumped table by table before and after each refused import."""

from __future__ import annotations

import csv
import io
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlmodel import SQLModel

from tracker.errors import LedgerError
from tracker.rules import MAX_CELL
from tracker.interchange import CSV_COLUMNS, import_text
from tracker.ledger import Ledger

FUZZ = settings(max_examples=50, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# values the importer gives meaning to, so that random documents reach past the first checks
MEANINGFUL = ["deal", "gone", "Deal reached", "Buses fired on", "TASS", "tass", "Reuters", "confirmed", "rumoured",
              "denied", "true", "false", "partly_true", "2016-12-13", "2016-12-14T09:00Z", "13 Dec 2016 18:00 GMT+2",
              "2030-01-01", "1", "2", "aleppo;evacuation", "'+972 Magazine", "=1+1", "r-0000000000000001", ""]
TEXT = st.one_of(st.sampled_from(MEANINGFUL), st.text(max_size=12),
                 st.text(alphabet=st.sampled_from("\x00\x1b\ud800\n\r\t\",;'= +-@x"), max_size=6))


@pytest.fixture
def store(any_ledger) -> Ledger:
    """A store with a claim (`deal`), a retracted claim (`gone`) and a source with an alias."""
    any_ledger.add_source("TASS", aliases=["Russian news agency"])
    any_ledger.log_claim("Deal reached", ref="deal", topics=["aleppo"], reports=[
        {"source": "TASS", "stance": "confirmed", "reported_at": "2016-12-13T12:00Z"}])
    gone = any_ledger.log_claim("Buses fired on", ref="gone", reports=[
        {"source": "Reuters", "stance": "rumoured", "reported_at": "2016-12-14T12:00Z"}])
    any_ledger.retract_claim(gone.id, "a test")
    return any_ledger


def dump(ledger: Ledger) -> list:
    """Every row of every table, in order: what a refused import must leave as it was."""
    with ledger.engine.connect() as connection:
        return [(table.name, connection.execute(select(table).order_by(*table.primary_key.columns)).all())
                for table in SQLModel.metadata.sorted_tables]


def outcome_is_clean(ledger: Ledger, text: str, fmt: str) -> None:
    """Import `text`: it is taken, or refused with a message and nothing changed."""
    before = dump(ledger)
    try:
        import_text(ledger, text, fmt)
    except LedgerError as exc:
        assert str(exc).strip()
        assert dump(ledger) == before


@st.composite
def csv_documents(draw) -> str:
    """A CSV file: the contract's header (some columns left out, an odd one in), rows of odd or meaningful cells."""
    header = draw(st.lists(st.sampled_from(CSV_COLUMNS + ("junk",)), min_size=1, max_size=len(CSV_COLUMNS) + 1))
    required = list(CSV_COLUMNS[:7]) if draw(st.booleans()) else []
    header = required + [h for h in header if h not in required]
    rows = draw(st.lists(st.lists(TEXT, min_size=len(header) - 1, max_size=len(header) + 1), max_size=6))
    stream = io.StringIO()
    writer = csv.writer(stream, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
    writer.writerow(header)
    writer.writerows(rows)
    return stream.getvalue()


JSON_VALUE = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
                          lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
                          max_leaves=8)


WRONG = st.integers(min_value=1) | JSON_VALUE  # where a list belongs: a number (the classic), or anything


def fields(names: list[str]):
    """A JSON object with some of these fields, each a meaningful value or any JSON value."""
    return st.dictionaries(st.sampled_from(names), st.one_of(TEXT, WRONG), max_size=len(names))


REPORT = fields(["source", "stance", "reported_at", "via", "url", "note", "quote", "report_ref"])
OUTCOME = fields(["verdict", "decided_at", "evidence", "note", "reviewer"])
CLAIM = st.builds(lambda statement, own, reports, outcomes: {"statement": statement, **own, **reports, **outcomes},
                  TEXT, fields(["claim_ref", "topics", "expected_by", "first_reported_at", "claim_version"]),
                  st.dictionaries(st.just("reports"), st.lists(REPORT, max_size=3) | WRONG, max_size=1),
                  st.dictionaries(st.just("outcomes"), st.lists(OUTCOME, max_size=2) | WRONG, max_size=1))
SOURCE = fields(["name", "kind", "affiliation", "url", "notes", "aliases", "parent"])
JSON_DOCUMENTS = st.one_of(
    st.builds(lambda claims, sources: json.dumps({"claims": claims, "sources": sources}),
              st.lists(CLAIM, max_size=4), st.lists(SOURCE, max_size=2)),
    JSON_VALUE.map(json.dumps),
)


@FUZZ
@given(text=csv_documents())
def test_a_random_csv_file_is_imported_or_refused_cleanly(store, text):
    outcome_is_clean(store, text, "csv")


@FUZZ
@given(text=JSON_DOCUMENTS)
def test_a_random_json_file_is_imported_or_refused_cleanly(store, text):
    outcome_is_clean(store, text, "json")



# lines a CSV may hold: good rows, short and long ones, blank and white-space lines, quoted cells
# (with commas, doubled quotes and line breaks), a lone carriage return, a NUL, an unclosed quote
CELL = st.one_of(st.sampled_from(["deal", "TASS", "confirmed", "2016-12-13", "", " ", "x y"]),
                 st.text(alphabet=st.sampled_from("ab ,\"\r\n\x00'"), max_size=4))
ROW = st.lists(CELL, min_size=7, max_size=7).map(",".join)  # as wide as the header
LINE = st.one_of(ROW, ROW, st.lists(CELL, min_size=6, max_size=8).map(",".join),
                 st.sampled_from(["a,b,c,d,e,f,g", "a,b,c,d,e,f", "a,b,c,d,e,f,g,h", "", "   ", ",,,,,,",
                                  '"a,b",c,d,e,f,g', '"x\ny",b,c,d,e,f,g', '"a""b",c,d,e,f,g', "a,b,c,d,e,f,g\r",
                                  '"open,b,c,d,e,f,g', "a,b\x00,c,d,e,f,g", "a," + "q" * (MAX_CELL + 1) + ",c,d,e,f,g"]))


def _read(text: str, chunk_rows: int, *, csv_only: bool) -> tuple[list, list]:
    """Every (row number, cells) and every refusal the CSV reader hands over, chunks flattened."""
    from tracker import interchange

    stream = io.StringIO(text, newline="")
    if csv_only:  # the csv module alone, as before pandas read any block
        reader = csv.reader(stream)
        header = [h.strip() for h in next(reader)]
        errors: list = []
        chunks = interchange._csv_chunks(reader, header, errors, chunk_rows)
    else:
        incoming = interchange.read_csv(stream, chunk_rows)
        chunks, errors = incoming.chunks, incoming.errors
    rows = []
    for numbers, cells in chunks:
        cells = cells.to_numpy(dtype=object).tolist() if hasattr(cells, "to_numpy") else cells
        rows += [(n, list(c)) for n, c in zip(numbers, cells)]
    return rows, [(e.row, e.reason) for e in errors]


@FUZZ
@given(lines=st.lists(LINE, max_size=14), ending=st.sampled_from(["\n", "\r\n"]), chunk_rows=st.integers(1, 5))
def test_the_csv_reader_hands_over_what_the_csv_module_reads(lines, ending, chunk_rows):
    """Blocks read by pandas' C reader give the same rows, row numbers and refusals as the csv
    module alone (blocks it cannot be sure of go to the csv module, a quoted cell across lines too)."""
    text = ",".join(CSV_COLUMNS[:7]) + ending + ending.join(lines) + (ending if lines else "")
    assert _read(text, chunk_rows, csv_only=False) == _read(text, chunk_rows, csv_only=True)


def test_blocks_without_quotes_are_read_by_pandas():
    """The common file (no quotes, every row whole) goes through pandas' reader, not the csv module's."""
    from tracker import interchange

    text = ",".join(CSV_COLUMNS[:7]) + "\n" + "".join(f"c{n},Claim {n},Source {n % 3},,,,\n" for n in range(7))
    chunks = list(interchange.read_csv(io.StringIO(text, newline=""), 3).chunks)
    assert [type(rows).__name__ for _, rows in chunks] == ["DataFrame"] * 3
    assert [numbers for numbers, _ in chunks] == [[2, 3, 4], [5, 6, 7], [8]]
