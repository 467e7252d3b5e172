"""Edits that round-trip: export, change rows in a spreadsheet, import again. Rows naming a
report_ref or claim_ref update that report or claim in place (audited, versioned, a stale
claim_version is a conflict); the same file twice changes nothing; a dry run writes nothing."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from tests.conftest import NOW, REPO, csv_of, store_json
from tracker import cli
from tracker.errors import ImportRejected
from tracker.evidence import load_evidence
from tracker.interchange import import_file, import_text, write_csv
from tracker.ledger import Ledger
from tracker.scoring import score_sources

DEAL = "aleppo-01"
NEW_STATEMENT = "Russia and Turkey agreed that fighters and civilians may leave eastern Aleppo"


def export_rows(ledger: Ledger) -> list[dict]:
    """The store as CSV rows (dicts)."""
    stream = io.StringIO()
    write_csv(ledger, stream)
    return list(csv.DictReader(io.StringIO(stream.getvalue())))


@pytest.fixture
def aleppo(any_ledger) -> Ledger:
    """The Aleppo example on SQLite, then PostgreSQL."""
    import_file(any_ledger, REPO / "seed" / "aleppo-2016-12.json")
    return any_ledger


def spreadsheet_edits(rows: list[dict]) -> tuple[str, str]:
    """Correct one report's source (by report_ref) and one claim's statement (by claim_ref, every row of it)."""
    fixed = next(r for r in rows if r["claim_ref"] == DEAL and r["source"] == "Western media")
    fixed["source"] = "Reuters"
    for row in rows:
        if row["claim_ref"] == DEAL:
            row["claim"] = NEW_STATEMENT
    return fixed["report_ref"], csv_of(rows)


def test_export_edit_import_changes_in_place_and_again_changes_nothing(aleppo):
    counts = aleppo.counts()
    rows = export_rows(aleppo)
    assert all(r["claim_ref"] and r["report_ref"] and r["claim_version"] for r in rows)
    report_ref, edited = spreadsheet_edits(rows)
    summary = import_text(aleppo, edited, "csv", label="edited.csv")
    assert (summary.claims_created, summary.claims_updated, summary.reports_added, summary.reports_updated) == (0, 1, 0, 1)
    after = aleppo.counts()
    assert (after["claims"], after["reports"], after["outcomes"]) == (counts["claims"], counts["reports"],
                                                                      counts["outcomes"])
    deal = next(v for v in aleppo.claim_views() if v.claim.ref == DEAL)
    assert deal.claim.statement == NEW_STATEMENT
    changed = next((r, s) for r, s, _ in deal.reports if r.ref == report_ref)
    assert changed[1] == "Reuters" and "Western media" not in [s for _, s, _ in deal.reports]
    history = aleppo.history(claim_id=deal.claim.id)
    assert {"report.edit", "claim.edit"} <= {c.action for c in history}
    report_edit = next(c for c in history if c.action == "report.edit")
    assert (report_edit.before, report_edit.after) == ({"source": "Western media"}, {"source": "Reuters"})
    stored = store_json(aleppo)
    again = import_text(aleppo, edited, "csv")
    assert not again.changed and again.reports_skipped == len(rows)
    assert store_json(aleppo) == stored


def test_a_claim_logged_without_a_ref_gets_one_and_reimporting_its_export_adds_no_copy(any_ledger):
    claim = any_ledger.log_claim("Lavrov expects it resolved within 2 or 3 days", reports=[
        {"source": "Sergei Lavrov", "stance": "confirmed", "reported_at": "2016-12-14T10:00Z"}])
    any_ledger.record_outcome(claim.id, "false", "2016-12-22")
    assert claim.ref.startswith("c-")
    rows = export_rows(any_ledger)
    assert rows[0]["claim_ref"] == claim.ref and rows[0]["report_ref"].startswith("r-")
    before = score_sources(load_evidence(any_ledger.engine)).set_index("source")
    import_text(any_ledger, csv_of(rows), "csv")
    assert any_ledger.counts()["claims"] == 1  # no second copy: its sources are not counted twice
    after = score_sources(load_evidence(any_ledger.engine)).set_index("source")
    assert after.loc["Sergei Lavrov", "resolved"] == before.loc["Sergei Lavrov", "resolved"] == 1


def test_a_file_older_than_the_claim_is_a_conflict_naming_who_changed_what(aleppo):
    rows = export_rows(aleppo)
    _, edited = spreadsheet_edits(rows)
    deal = next(v for v in aleppo.claim_views() if v.claim.ref == DEAL)
    aleppo.edit_claim(deal.claim.id, version=deal.claim.version, expected_by="2016-12-23", reason="Lavrov's 2-3 days")
    before = store_json(aleppo)
    with pytest.raises(ImportRejected) as caught:
        import_text(aleppo, edited, "csv")
    [error] = caught.value.errors
    changing = 2 + next(i for i, r in enumerate(rows) if r["source"] == "Reuters")  # the first row that changes it
    assert error.row == f"row {changing}"
    assert f"claim #{deal.claim.id} was changed by someone else after this file was exported" in error.reason
    assert "local edited claim" in error.reason and "expected_by" in error.reason
    assert store_json(aleppo) == before


def test_an_unchanged_row_of_an_older_export_is_no_conflict(aleppo):
    rows = export_rows(aleppo)
    deal = next(v for v in aleppo.claim_views() if v.claim.ref == DEAL)
    aleppo.edit_claim(deal.claim.id, version=deal.claim.version, topics="aleppo;deal")
    summary = import_text(aleppo, csv_of([r for r in rows if r["claim_ref"] == DEAL and r.update(topic="")
                                          is None]), "csv")
    assert not summary.changed


def test_a_row_without_refs_joins_the_claim_with_the_same_statement_whatever_its_case_and_spacing(aleppo):
    deal = next(v for v in aleppo.claim_views() if v.claim.ref == DEAL)
    shouted = "  " + "   ".join(deal.claim.statement.upper().split()) + " "
    summary = import_text(aleppo, csv_of([{"claim": shouted, "source": "ICRC", "stance": "confirmed",
                                           "reported_at": "2016-12-15T12:00Z"}]), "csv")
    assert (summary.claims_created, summary.claims_matched, summary.reports_added) == (0, 1, 1)
    assert "ICRC" in [s for _, s, _ in aleppo.get_claim(deal.claim.id).reports]


def test_changing_a_report_or_a_claim_by_import_needs_the_role_the_edit_needs(seeded):
    seeded.add_account("Ada", "admin", "admin passphrase 1")
    admin = seeded.acting_as(seeded.authenticate("Ada", "admin passphrase 1"))
    admin.add_account("Andy", "analyst", "analyst passphrase 7")
    admin.add_account("Rita", "reviewer", "reviewer passphrase 3")
    analyst = seeded.acting_as(seeded.authenticate("Andy", "analyst passphrase 7"))
    reviewer = seeded.acting_as(seeded.authenticate("Rita", "reviewer passphrase 3"))
    rows = export_rows(seeded)
    _, edited = spreadsheet_edits([{**r, "outcome": "", "outcome_at": "", "evidence": ""} for r in rows])
    with pytest.raises(ImportRejected) as caught:
        import_text(analyst, edited, "csv")
    assert {e.reason.split(":")[0] for e in caught.value.errors} >= {"Andy is an analyst and may not change a report",
                                                                    "Andy is an analyst and may not edit a claim"}
    summary = import_text(reviewer, edited, "csv")
    assert (summary.claims_updated, summary.reports_updated) == (1, 1)
    assert seeded.history(claim_id=1)[0].actor == "Rita"


def test_report_refs_name_one_report_of_the_rows_claim(aleppo):
    rows = export_rows(aleppo)
    other = next(r for r in rows if r["claim_ref"] != DEAL)
    deal_rows = [r for r in rows if r["claim_ref"] == DEAL]
    deal_rows[0]["report_ref"] = other["report_ref"]
    deal_rows[1]["report_ref"] = deal_rows[2]["report_ref"]
    with pytest.raises(ImportRejected) as caught:
        import_text(aleppo, csv_of(deal_rows), "csv")
    reasons = [e.reason for e in caught.value.errors]
    assert any("not of this row's claim" in reason for reason in reasons)
    assert any("is used again (first at row 3)" in reason for reason in reasons)


def test_a_new_report_ref_from_another_tool_is_kept(any_ledger):
    import_text(any_ledger, csv_of([{"claim_ref": "x1", "claim": "Convoy left", "source": "ICRC", "stance": "confirmed",
                                     "reported_at": "2016-12-15T12:00Z", "report_ref": "icrc-15-dec"}]), "csv")
    assert export_rows(any_ledger)[0]["report_ref"] == "icrc-15-dec"


def test_json_carries_report_refs_and_versions_and_updates_in_place(aleppo):
    data = json.loads(store_json(aleppo))
    claim = next(c for c in data["claims"] if c["claim_ref"] == DEAL)
    assert claim["claim_version"] >= 1 and all(r["report_ref"] for r in claim["reports"])
    claim["reports"][0]["note"] = "corrected after checking the original"
    summary = import_text(aleppo, json.dumps(data), "json")
    assert (summary.reports_updated, summary.reports_added) == (1, 0)
    ref = claim["reports"][0]["report_ref"]
    deal = next(v for v in aleppo.claim_views() if v.claim.ref == DEAL)
    assert next(r for r, _, _ in deal.reports if r.ref == ref).note == "corrected after checking the original"


def test_a_dry_run_says_what_would_change_and_writes_nothing(aleppo):
    rows = export_rows(aleppo)
    _, edited = spreadsheet_edits(rows)
    extra = csv_of([{"claim": "A new claim", "source": "ICRC", "stance": "confirmed", "reported_at": "2016-12-15"},
                    {"claim": "Bad", "source": "ICRC", "stance": "maybe", "reported_at": "2016-12-15"}])
    text = edited + extra.split("\n", 1)[1]
    before, revision = store_json(aleppo), aleppo.revision()
    preview = import_text(aleppo, text, "csv", dry_run=True)
    assert (preview.claims_created, preview.claims_updated, preview.reports_added, preview.reports_updated) == (1, 1, 1, 1)
    assert preview.reports_skipped == len(rows) - 1
    assert [(e.row, e.reason.split(";")[0]) for e in preview.refused] == [(f"row {len(rows) + 3}", "unknown stance 'maybe'")]
    assert str(preview).startswith("dry run, nothing written: would have 1 claim(s) created, 1 updated")
    assert store_json(aleppo) == before and aleppo.revision() == revision


def test_import_dry_run_on_the_command_line(seeded, tmp_path):
    path = tmp_path / "edited.csv"
    path.write_text(spreadsheet_edits(export_rows(seeded))[1], encoding="utf-8")
    url = str(seeded.engine.url)
    before = store_json(seeded)
    result = CliRunner().invoke(cli.main, ["--db", url, "import", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "dry run, nothing written: would have 0 claim(s) created, 1 updated" in result.output
    assert "1 report(s) updated" not in result.output and "0 report(s) added, 1 updated" in result.output
    assert store_json(seeded) == before
    result = CliRunner().invoke(cli.main, ["--db", url, "import", str(path)])
    assert result.exit_code == 0 and "1 updated" in result.output
    assert NOW.year == 2026  # the store's clock is the fixture's, the CLI's is real: dates stay in the past
