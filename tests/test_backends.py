"""The same store, service and import behaviour on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import inspect

from tests.conftest import REPO
from tracker import store
from tracker.errors import DuplicateError, ImportRejected, ValidationError
from tracker.evidence import load_evidence
from tracker.interchange import import_file, import_text, write_csv, write_json
from tracker.scoring import score_sources

GOOD = (
    "claim_ref,claim,source,stance,reported_at,outcome,outcome_at,via,topic\n"
    "d1,Deal reached to evacuate eastern Aleppo,Rebel officials,confirmed,13 December 2016 15:00,partly_true,"
    "15 Dec 2016,,aleppo;evacuation\n"
    "d1,Deal reached to evacuate eastern Aleppo,Western media,rumoured,2016-12-13T17:00Z,partly_true,"
    "15 Dec 2016,Rebel officials,aleppo\n"
    ",Buses fired on in eastern Aleppo,Reconciliation Centre,confirmed,Wed Dec 14 09:00:00 +0000 2016,,,,\n"
)


def exported(ledger, fmt: str) -> str:
    """The store as CSV or JSON text."""
    stream = io.StringIO()
    (write_csv if fmt == "csv" else write_json)(ledger, stream)
    return stream.getvalue()


def test_migrations_bring_an_empty_database_to_head(any_ledger):
    assert store.current_revision(any_ledger.engine) == store.head_revision()
    tables = set(inspect(any_ledger.engine).get_table_names())
    assert {"source", "source_alias", "claim", "claim_topic", "report", "outcome", "store_revision"} <= tables


def test_service_layer_writes_and_refuses_the_same_way(any_ledger):
    claim = any_ledger.log_claim("Deal reached", topics="aleppo", reports=[
        {"source": "Western media", "stance": "rumoured", "reported_at": "13 December 2016 20:00"},
        {"source": "Lavrov", "stance": "denied", "reported_at": "14 Dec 2016"}])
    any_ledger.record_outcome(claim.id, "partly_true", "15 Dec 2016")
    view = any_ledger.get_claim(claim.id)
    assert view.status.value == "contested" and view.outcome.verdict == "partly_true"
    assert view.claim.first_reported_at.isoformat() == "2016-12-13T20:00:00+00:00"
    before = any_ledger.counts()
    with pytest.raises(DuplicateError):
        any_ledger.add_report(claim.id, "lavrov", "denied", "14 Dec 2016")  # same report, alias in any case
    with pytest.raises(ValidationError):
        any_ledger.record_outcome(claim.id, "true", "1 Dec 2016")
    with pytest.raises(DuplicateError):
        any_ledger.add_source("WESTERN MEDIA")
    assert any_ledger.counts() == before
    any_ledger.merge_sources("Lavrov", "Western media")
    assert [s["name"] for s in any_ledger.list_sources()] == ["Western media"]


def test_import_is_idempotent_and_round_trips(any_ledger):
    first = import_text(any_ledger, GOOD, "csv")
    assert (first.claims_created, first.reports_added, first.outcomes_added) == (2, 3, 1)
    again = import_text(any_ledger, GOOD, "csv")
    assert (again.claims_created, again.reports_added, again.reports_skipped) == (0, 0, 3)
    csv_text = exported(any_ledger, "csv")
    assert "Wed Dec" not in csv_text and "2016-12-14T09:00Z" in csv_text


def test_a_bad_import_changes_nothing(any_ledger):
    import_text(any_ledger, GOOD, "csv")
    before = exported(any_ledger, "json")
    bad = GOOD + "d2,Another,Kremlin,maybe,14 December 2016,,,,\nd3,Third,Kremlin,confirmed,someday,,,,\n"
    with pytest.raises(ImportRejected) as caught:
        import_text(any_ledger, bad, "csv")
    assert [e.row for e in caught.value.errors] == ["row 5", "row 6"]
    assert exported(any_ledger, "json") == before


def test_the_example_scores_the_same_on_both(any_ledger, tmp_path):
    import_file(any_ledger, REPO / "seed" / "aleppo-2016-12.json")
    table = score_sources(load_evidence(any_ledger.engine)).set_index("source")
    assert len(table) == 16
    # the figures the SQLite store gives (see README): identical on PostgreSQL
    assert table.loc["The Duran", "grade"] == "D"
    assert table.loc["The Duran", "resolved"] == 6 and table.loc["The Duran", "pending"] == 2
    assert round(table.loc["The Duran", "reliability"], 2) == 0.62
