"""One home per input rule (tracker.rules): the service layer and the bulk importer refuse the same
bad value with the same message, on SQLite and PostgreSQL, and write nothing."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from tests.conftest import NOW, csv_of, store_json
from tracker import rules
from tracker.errors import ImportRejected, LedgerError, ValidationError
from tracker.interchange import import_text
from tracker.ledger import Ledger

LATE = (NOW + rules.FUTURE_TOLERANCE + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%MZ")
SOON = (NOW + rules.FUTURE_TOLERANCE - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%MZ")
AT = "2016-12-14T09:00Z"
NEW = {"claim_ref": "", "claim": "A new claim"}

# (case, the service layer's call on (ledger, id of the claim `base`), the import row's cells)
CASES = [
    ("empty statement", lambda l, c: l.log_claim("  ", first_reported_at=AT), {"claim_ref": "", "claim": " "}),
    ("long statement", lambda l, c: l.log_claim("x" * 10_001, first_reported_at=AT),
     {"claim_ref": "", "claim": "x" * 10_001}),
    ("long claim_ref", lambda l, c: l.log_claim("A new claim", ref="r" * 250, first_reported_at=AT),
     {"claim_ref": "r" * 250, "claim": "A new claim"}),
    ("long topic", lambda l, c: l.log_claim("A new claim", topics="ok;" + "t" * 201, first_reported_at=AT),
     {**NEW, "topic": "ok;" + "t" * 201}),
    ("empty source", lambda l, c: l.add_report(c, "", "confirmed", AT), {"source": ""}),
    ("long source", lambda l, c: l.add_report(c, "s" * 301, "confirmed", AT), {"source": "s" * 301}),
    ("long via", lambda l, c: l.add_report(c, "TASS", "confirmed", AT, via="v" * 301), {"via": "v" * 301}),
    ("long url", lambda l, c: l.add_report(c, "TASS", "confirmed", AT, url="h" * 2001), {"url": "h" * 2001}),
    ("long quote", lambda l, c: l.add_report(c, "TASS", "confirmed", AT, quote="q" * 20_001), {"quote": "q" * 20_001}),
    ("long note", lambda l, c: l.add_report(c, "TASS", "confirmed", AT, note="n" * 10_001), {"note": "n" * 10_001}),
    ("NUL in a statement", lambda l, c: l.log_claim("A new\x00claim", first_reported_at=AT),
     {**NEW, "claim": "A new\x00claim"}),
    ("NUL in a quote", lambda l, c: l.add_report(c, "TASS", "confirmed", AT, quote="a\x00b"), {"quote": "a\x00b"}),
    ("too many topics", lambda l, c: l.log_claim("A new claim", topics=[f"t{n}" for n in range(101)],
                                                 first_reported_at=AT),
     {**NEW, "topic": ";".join(f"t{n}" for n in range(101))}),
    ("unknown stance", lambda l, c: l.add_report(c, "TASS", "maybe", AT), {"stance": "maybe"}),
    ("empty stance", lambda l, c: l.add_report(c, "TASS", "", AT), {"stance": ""}),
    ("unreadable time", lambda l, c: l.add_report(c, "TASS", "confirmed", "the day before"), {"reported_at": "the day before"}),
    ("empty time", lambda l, c: l.add_report(c, "TASS", "confirmed", ""), {"reported_at": ""}),
    ("future time", lambda l, c: l.add_report(c, "TASS", "confirmed", LATE), {"reported_at": LATE}),
    ("self relay", lambda l, c: l.add_report(c, "TASS", "confirmed", AT, via="tass"), {"via": "tass"}),
    ("self relay through an alias", lambda l, c: l.add_report(c, "Sergei Lavrov", "confirmed", AT, via="Lavrov"),
     {"source": "Sergei Lavrov", "via": "Lavrov"}),
    ("unknown verdict", lambda l, c: l.record_outcome(c, "mostly", "2016-12-15"),
     {"outcome": "mostly", "outcome_at": "2016-12-15"}),
    ("unreadable outcome time", lambda l, c: l.record_outcome(c, "true", "soonish"),
     {"outcome": "true", "outcome_at": "soonish"}),
    ("empty outcome time", lambda l, c: l.record_outcome(c, "true", ""), {"outcome": "true", "outcome_at": ""}),
    ("future outcome", lambda l, c: l.record_outcome(c, "true", LATE), {"outcome": "true", "outcome_at": LATE}),
    ("outcome before the claim", lambda l, c: l.record_outcome(c, "true", "2016-12-01"),
     {"outcome": "true", "outcome_at": "2016-12-01"}),
    ("long evidence", lambda l, c: l.record_outcome(c, "true", "2016-12-15", evidence_url="e" * 2001),
     {"outcome": "true", "outcome_at": "2016-12-15", "evidence": "e" * 2001}),
    ("unreadable expected-by", lambda l, c: l.log_claim("A new claim", first_reported_at=AT, expected_by="soon"),
     {**NEW, "expected_by": "soon"}),
    ("expected-by before the claim",
     lambda l, c: l.log_claim("A new claim", first_reported_at=AT, expected_by="2016-12-01"),
     {**NEW, "expected_by": "2016-12-01"}),
]


def csv_text(**cells) -> str:
    """A CSV file with one report row: a good row of the claim `base`, with `cells` changed."""
    return csv_of([{"claim_ref": "base", "claim": "Deal reached", "source": "TASS", "stance": "confirmed",
                    "reported_at": AT, **cells}])


@pytest.fixture
def base(any_ledger) -> tuple[Ledger, int]:
    """A store with one claim (ref `base`) and a source with an alias, on SQLite then PostgreSQL."""
    any_ledger.add_source("Sergei Lavrov", aliases=["Lavrov"])
    claim = any_ledger.log_claim("Deal reached", ref="base", reports=[
        {"source": "Kremlin", "stance": "confirmed", "reported_at": "2016-12-13T12:00Z"}])
    return any_ledger, claim.id


def test_every_bad_case_is_refused_the_same_way_by_the_ledger_and_by_an_import(base):
    ledger, claim_id = base
    before = store_json(ledger)
    for case, call, cells in CASES:
        with pytest.raises(ValidationError) as by_service:
            call(ledger, claim_id)
        with pytest.raises(ImportRejected) as by_import:
            import_text(ledger, csv_text(**cells), "csv")
        errors = by_import.value.errors
        assert [(e.row, e.reason) for e in errors] == [("row 2", str(by_service.value))], case
        assert store_json(ledger) == before, case


def test_values_at_the_limits_are_taken_by_both(base):
    ledger, claim_id = base
    ledger.add_report(claim_id, "TASS", "confirmed", SOON, url="h" * 2000, via="v" * 300)
    summary = import_text(ledger, csv_text(source="Interfax", reported_at=SOON, url="h" * 2000, via="v" * 300,
                                           topic="t" * 200), "csv")
    assert summary.reports_added == 1
    ledger.log_claim("x" * 10_000, ref="r" * 200, topics="t" * 200, first_reported_at=AT)
    assert import_text(ledger, csv_text(claim_ref="q" * 200, claim="y" * 10_000), "csv").claims_created == 1


def test_a_value_the_store_would_refuse_is_a_named_row_not_a_database_error(base):
    """The 250-character claim_ref that SQLite took and PostgreSQL failed on with a DataError."""
    ledger, _ = base
    good = {"source": "TASS", "stance": "confirmed", "reported_at": AT}
    text = csv_of([{**good, "claim_ref": "r" * 250, "claim": "Another"}, {**good, "claim_ref": "ok", "claim": "Fine"},
                   {**good, "claim": "Third", "topic": "t" * 201}, {**good, "claim": "Fourth", "report_ref": "q" * 201}])
    with pytest.raises(ImportRejected) as caught:
        import_text(ledger, text, "csv")
    assert [(e.row, e.reason) for e in caught.value.errors] == [  # every bad row, named
        ("row 2", rules.CLAIM_REF.too_long()), ("row 4", rules.TOPIC.too_long()), ("row 5", rules.REPORT_REF.too_long())]


def test_the_store_refusing_a_value_says_so_in_one_line(any_ledger, monkeypatch):
    """Should a rule ever miss a limit of the schema, the database's refusal is a LedgerError, not a traceback."""
    monkeypatch.setattr(rules, "URL", rules.Text("the url", 10**6))  # a rule gone missing
    claim = any_ledger.log_claim("Deal", first_reported_at=AT)
    if any_ledger.engine.dialect.name == "sqlite":
        pytest.skip("SQLite does not enforce text lengths")
    with pytest.raises(LedgerError, match="the store refused the change"):
        any_ledger.add_report(claim.id, "TASS", "confirmed", AT, url="h" * 2001)


@pytest.mark.parametrize("rule", [rules.STATEMENT, rules.SOURCE, rules.CLAIM_REF, rules.URL])
def test_a_text_rule_folds_white_space_before_measuring(rule):
    text = "a" + " \n " * rule.limit + "b"
    assert rule.check(text) == "a b"
    assert rule.column(pd.Series([text])).tolist() == [""]
