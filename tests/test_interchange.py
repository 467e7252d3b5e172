"""The CSV and JSON interchange contract: import, export, round trips, all-or-nothing rejection."""

from __future__ import annotations

import csv
import hashlib
import io
import json

import pytest

from tests.conftest import NOW
from tracker.errors import DuplicateError, ImportRejected, ValidationError
from tracker.interchange import (
    CSV_COLUMNS,
    export_file,
    import_file,
    import_text,
    write_csv,
    write_json,
)
from tracker.ledger import Ledger

HEADER = "claim_ref,claim,source,stance,reported_at,outcome,outcome_at,via,url,topic,expected_by,note\n"
GOOD = HEADER + (
    "d1,Deal reached to evacuate eastern Aleppo,Rebel officials,confirmed,13 December 2016 15:00,partly_true,15 Dec 2016,,,aleppo;evacuation,,\n"
    "d1,Deal reached to evacuate eastern Aleppo,Western media,rumoured,2016-12-13T17:00Z,partly_true,15 Dec 2016,Rebel officials,https://example.org/a,Diplomacy,,via rebels\n"
    ",Buses fired on in eastern Aleppo,Reconciliation Centre,confirmed,Wed Dec 14 09:00:00 +0000 2016,,,,,aleppo,,\n"
    ",Buses fired on in eastern Aleppo,Rebel officials,denied,14/12/2016 11:00,,,,,,,\n"
)


def export_text(ledger: Ledger, fmt: str) -> str:
    """The store exported as text."""
    stream = io.StringIO()
    (write_csv if fmt == "csv" else write_json)(ledger, stream)
    return stream.getvalue()


def fresh(tmp_path, name: str) -> Ledger:
    """Another empty store beside the fixture's."""
    return Ledger.open(str(tmp_path / name / "tracker.db"), clock=lambda: NOW)


def file_digest(ledger: Ledger) -> str:
    """sha256 of the SQLite file after every connection is closed (WAL checkpointed)."""
    ledger.engine.dispose()
    path = ledger.engine.url.database
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def test_csv_import_groups_rows_into_claims(ledger):
    summary = import_text(ledger, GOOD, "csv")
    assert (summary.claims_created, summary.reports_added, summary.outcomes_added) == (2, 4, 1)
    deal, buses = ledger.claim_views()
    assert deal.claim.ref == "d1" and deal.topics == ["aleppo", "diplomacy", "evacuation"]
    assert [(s, r.stance, v) for r, s, v in deal.reports] == [
        ("Rebel officials", "confirmed", None), ("Western media", "rumoured", "Rebel officials")]
    assert deal.reports[1][0].note == "via rebels" and deal.reports[1][0].url == "https://example.org/a"
    assert deal.outcome.verdict == "partly_true"
    assert buses.claim.ref.startswith("c-") and buses.outcome is None and buses.status.value == "contested"
    assert buses.reports[0][0].reported_at.hour == 9  # Twitter's format
    assert buses.reports[1][0].reported_at.day == 14  # day-first by default


def test_reimporting_the_same_file_adds_nothing(ledger):
    import_text(ledger, GOOD, "csv")
    before, exported = ledger.counts(), export_text(ledger, "json")
    again = import_text(ledger, GOOD, "csv")
    assert (again.claims_created, again.reports_added, again.outcomes_added) == (0, 0, 0)
    assert again.claims_matched == 2 and again.reports_skipped == 4
    assert ledger.counts() == before and export_text(ledger, "json") == exported


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_export_then_import_into_an_empty_store_gives_the_same_export(seeded, tmp_path, fmt):
    path = tmp_path / f"out.{fmt}"
    export_file(seeded, path)
    other = fresh(tmp_path, "other")
    import_file(other, path)
    assert export_text(other, fmt) == path.read_text(encoding="utf-8")


def test_json_export_keeps_everything(seeded, tmp_path):
    seeded.record_outcome(11, "false", "2016-12-20", note="revised")
    seeded.record_outcome(11, "true", "2016-12-21", note="revised again")
    data = json.loads(export_text(seeded, "json"))
    claim = next(c for c in data["claims"] if c["claim_ref"] == "aleppo-11")
    assert [o["verdict"] for o in claim["outcomes"]] == ["false", "true"]
    lavrov = next(s for s in data["sources"] if s["name"] == "Sergei Lavrov")
    assert lavrov["parent"] == "Russian Foreign Ministry" and "Lavrov" in lavrov["aliases"]
    other = fresh(tmp_path, "copy")
    import_text(other, json.dumps(data), "json")
    copied = json.loads(export_text(other, "json"))
    for claims in (copied["claims"], data["claims"]):
        for claim in claims:  # each store counts its own versions
            claim.pop("claim_version")
    assert copied == data


def test_bad_file_changes_nothing_and_names_every_bad_row(seeded, tmp_path):
    bad = HEADER + (
        "n1,A new claim,Kremlin,confirmed,14 December 2016,,,,,,,\n"          # row 2: fine
        "n2,Another claim,Kremlin,maybe,14 December 2016,,,,,,,\n"            # row 3: stance
        "n3,Third claim,Kremlin,confirmed,the day after,,,,,,,\n"             # row 4: date
        "n4,Fourth claim,Kremlin,confirmed,14 December 2016,true,,,,,,\n"     # row 5: outcome_at
        "n5,Fifth claim,Kremlin,confirmed,14 December 2016,true,1 Dec 2016,,,,,\n"  # row 6: outcome first
        "n6,Sixth claim,Kremlin,confirmed,1 January 2099,,,,,,,\n"            # row 7: future
        "n7,,Kremlin,confirmed,14 December 2016,,,,,,,\n"                     # row 8: no claim
        "n8,Eighth claim,Kremlin,denied,14 December 2016,wrong,15 Dec 2016,,,,,\n"  # row 9: verdict
        "n9,Ninth claim,Kremlin,denied,14 December 2016,,,Kremlin,,,,\n"      # row 10: self relay
        "n1,A new claim,Kremlin,denied,15 December 2016,,,,,,,\n"             # row 11: fine
    )
    path = tmp_path / "bad.csv"
    path.write_text(bad, encoding="utf-8")
    before = file_digest(seeded)
    with pytest.raises(ImportRejected) as caught:
        import_file(seeded, path)
    rows = [e.row for e in caught.value.errors]
    assert rows == [f"row {n}" for n in (3, 4, 5, 6, 7, 8, 9, 10)]
    reasons = " | ".join(e.reason for e in caught.value.errors)
    for fragment in ("unknown stance 'maybe'", "not a date", "outcome's time is empty", "before claim",
                     "in the future", "statement is empty", "unknown verdict 'wrong'", "via"):
        assert fragment in reasons
    assert "nothing was changed" in str(caught.value)
    assert file_digest(seeded) == before


def test_bad_header_is_rejected_with_the_missing_columns(ledger):
    with pytest.raises(ImportRejected) as caught:
        import_text(ledger, "claim,source,stance,reported_at,colour\nx,y,confirmed,2016-12-13,red\n", "csv")
    (error,) = caught.value.errors
    assert error.row == "row 1 (header)"
    assert "claim_ref" in error.reason and "outcome_at" in error.reason and "colour" in error.reason
    assert ledger.counts()["claims"] == 0


@pytest.mark.parametrize("rows, reason", [
    ("r,One,A,confirmed,2016-12-13,true,2016-12-14,,,,,\nr,Two,B,confirmed,2016-12-13,,,,,,,\n",
     "different claim text"),
    ("r,One,A,confirmed,2016-12-13,true,2016-12-14,,,,,\nr,One,B,confirmed,2016-12-13,false,2016-12-14,,,,,\n",
     "outcome differs"),
    ("r,One,A,confirmed,2016-12-13,,,,,,2016-12-20,\nr,One,B,confirmed,2016-12-13,,,,,,2016-12-21,\n",
     "expected_by differs"),
    ("r,One,A,confirmed,2016-12-13,,,,,,,,extra\n", "has 13 cells"),
])
def test_rows_of_one_claim_must_agree(ledger, rows, reason):
    with pytest.raises(ImportRejected) as caught:
        import_text(ledger, HEADER + rows, "csv")
    assert caught.value.errors[-1].row.startswith("row ")
    assert reason in caught.value.errors[-1].reason
    assert ledger.counts() == {"sources": 0, "claims": 0, "reports": 0, "outcomes": 0}


def test_rows_without_ref_match_an_existing_claim_by_statement(seeded):
    statement = seeded.get_claim(13).claim.statement
    import_text(seeded, HEADER + f",{statement},ICRC,denied,20 December 2016,,,,,,,\n", "csv")
    assert seeded.counts()["claims"] == 13
    assert [s for _, s, _ in seeded.get_claim(13).reports] == ["The Duran", "ICRC"]


def test_sources_are_matched_by_alias_case_insensitively(seeded):
    import_text(seeded, HEADER + "z1,Lavrov spoke,lavrov,confirmed,15 December 2016,,,,,,,\n", "csv")
    assert seeded.counts()["sources"] == 16
    assert seeded.claim_views([14])[0].reports[0][1] == "Sergei Lavrov"


def test_exported_csv_cells_cannot_run_as_formulas(ledger, tmp_path):
    ledger.log_claim('=HYPERLINK("http://evil.example","click")', reports=[
        {"source": "@handle", "stance": "rumoured", "reported_at": "2016-12-13", "note": "+1 more"}])
    path = tmp_path / "out.csv"
    export_file(ledger, path)
    row = next(csv.DictReader(path.open(encoding="utf-8")))
    assert row["claim"].startswith("'=") and row["source"] == "'@handle" and row["note"] == "'+1 more"
    other = fresh(tmp_path, "other")
    import_file(other, path)
    view = other.claim_views()[0]
    assert view.claim.statement.startswith("=HYPERLINK") and view.reports[0][1] == "@handle"


def test_csv_header_is_the_public_contract():
    assert CSV_COLUMNS[:7] == ("claim_ref", "claim", "source", "stance", "reported_at", "outcome", "outcome_at")
    assert set(CSV_COLUMNS[7:12]) == {"via", "url", "topic", "expected_by", "note"}
    assert CSV_COLUMNS[12:] == ("quote", "evidence", "report_ref", "claim_version")  # added, in this order


def test_excel_bom_is_accepted_and_non_utf8_is_refused(ledger, tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD.encode())
    assert import_file(ledger, path).claims_created == 2
    latin = tmp_path / "latin.csv"
    latin.write_bytes((HEADER + "x,Caf\xe9 claim,A,confirmed,2016-12-13,,,,,,,\n").encode("latin-1"))
    with pytest.raises(ValidationError, match="UTF-8"):
        import_file(ledger, latin)


def test_unknown_extension_needs_a_format(ledger, tmp_path):
    path = tmp_path / "data.txt"
    path.write_text(GOOD)
    with pytest.raises(ValidationError, match="--format"):
        import_file(ledger, path)
    assert import_file(ledger, path, "csv").claims_created == 2


def test_json_import_lists_every_bad_item(ledger):
    data = {"sources": [{"name": ""}], "claims": [
        {"claim_ref": "a", "statement": " ", "reports": [{"source": "X", "stance": "confirmed", "reported_at": "2016-12-13"}]},
        {"claim_ref": "b", "statement": "B", "reports": [{"source": "X", "stance": "sure", "reported_at": "2016-12-13"}]},
        {"claim_ref": "c", "statement": "C", "reports": [{"source": "X", "stance": "denied", "reported_at": "2016-12-13"}],
         "outcomes": [{"verdict": "true"}]},
        {"claim_ref": "d", "statement": "D"},
        {"claim_ref": "e", "statement": "E", "reports": [{"source": "X", "stance": "denied", "reported_at": "2016-12-13"}]},
    ]}
    with pytest.raises(ImportRejected) as caught:
        import_text(ledger, json.dumps(data), "json")
    assert [e.row for e in caught.value.errors] == [
        "claims[0]", "claims[1].reports[0]", "claims[2].outcomes[0]", "claims[3]", "sources[0]"]
    assert ledger.counts()["claims"] == 0


def test_broken_json_names_the_line(ledger):
    with pytest.raises(ImportRejected, match="line 2"):
        import_text(ledger, '{"claims": [\n  {,]}', "json")


def test_json_claim_without_reports_keeps_its_first_reported_time(ledger):
    data = {"claims": [{"claim_ref": "q", "statement": "Quiet claim", "first_reported_at": "2016-12-13T10:00Z"}]}
    import_text(ledger, json.dumps(data), "json")
    assert ledger.get_claim(1).claim.first_reported_at.isoformat() == "2016-12-13T10:00:00+00:00"


def test_bulk_imported_rows_are_stored_exactly_as_the_service_layer_stores_them(ledger):
    import_text(ledger, GOOD, "csv")
    report = ledger.get_claim(1).reports[0][0]
    with pytest.raises(DuplicateError):
        ledger.add_report(1, "Rebel officials", "confirmed", report.reported_at)
    ledger.log_claim("Logged by hand", reports=[{"source": "Kremlin", "stance": "denied", "reported_at": "2016-12-14"}])
    with ledger.engine.connect() as connection:
        stored = connection.exec_driver_sql("SELECT reported_at, logged_at FROM report ORDER BY id").all()
        outcome = connection.exec_driver_sql("SELECT decided_at, recorded_at FROM outcome").one()
    shapes = {tuple(len(value) for value in row) for row in stored}
    assert len(shapes) == 1, stored  # one text format for every stored time, whichever path wrote it
    assert len(outcome[0]) == len(stored[0][0])


@pytest.mark.parametrize("good", [True, False], ids=["imported", "refused"])
def test_an_import_pauses_the_cycle_collector_and_gives_it_back(ledger, good):
    import gc

    from tracker.importer import Incoming, apply_incoming
    seen = []

    def chunks():
        seen.append(gc.isenabled())  # read inside the import, as a CSV's rows are
        yield [2], [("c1", "Deal reached", "TASS", "confirmed" if good else "maybe", "2016-12-13", "", "", "", "",
                     "", "", "", "", "")]

    assert gc.isenabled()
    if good:
        apply_incoming(ledger, Incoming(chunks=chunks()))
    else:
        with pytest.raises(ImportRejected):
            apply_incoming(ledger, Incoming(chunks=chunks()))
    assert seen == [False] and gc.isenabled()
