"""The audit trail, retraction instead of deletion, and optimistic locking, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from tests.conftest import REPO
from tracker import audit
from tracker.cli import main
from tracker.errors import EditConflict, ValidationError
from tracker.evidence import load_evidence
from tracker.interchange import import_file, import_text
from tracker.models import AuditEvent, Claim, Report, Source
from tracker.queries import claim_rows, overview_counts
from tracker.scoring import score_sources

REPORTS = [{"source": "Western media", "stance": "rumoured", "reported_at": "13 Dec 2016 20:00"},
           {"source": "Lavrov", "stance": "denied", "reported_at": "14 Dec 2016"}]


def rows(ledger, model) -> int:
    with ledger.engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(model)).scalar_one()


def test_every_change_is_an_event_with_who_when_before_and_after(any_ledger):
    ledger = any_ledger
    claim = ledger.log_claim("Deal reached", topics="aleppo", reports=REPORTS)
    ledger.record_outcome(claim.id, "partly_true", "15 Dec 2016")
    ledger.record_outcome(claim.id, "true", "16 Dec 2016", note="revised")
    ledger.edit_claim(claim.id, version=None, statement="Evacuation deal reached", reason="clearer")
    ledger.rename_source("Western media", "Western press")
    changes = ledger.history()
    assert [c.action for c in reversed(changes)] == [
        "claim.create", "source.create", "report.create", "source.create", "report.create",
        "outcome.record", "outcome.record", "claim.edit", "source.rename"]
    assert all(c.actor == "local" and c.at == ledger.clock() for c in changes)
    revised = ledger.history(action="outcome")[0]
    # a verdict given as a date is recorded as that date (shown so in History), not as its midnight
    assert revised.before == {"verdict": "partly_true", "decided_at": "2016-12-15"}
    assert revised.after["verdict"] == "true" and revised.after["note"] == "revised"
    edit = ledger.history(action="claim.edit")[0]
    assert edit.changed_fields() == [("statement", "Deal reached", "Evacuation deal reached")]
    assert edit.reason == "clearer"
    assert len(ledger.history(claim_id=claim.id)) == 6  # the claim, its two reports, two verdicts, the edit
    western = ledger.history(source_id=changes[0].source_id)
    assert [c.action for c in western] == ["source.rename", "report.create", "source.create"]


def test_a_refused_write_leaves_no_event(any_ledger):
    claim = any_ledger.log_claim("Deal reached", reports=REPORTS)
    before = rows(any_ledger, AuditEvent)
    with pytest.raises(ValidationError):
        any_ledger.log_claim("Another", reports=[{"source": "X", "stance": "maybe", "reported_at": "2016-12-13"}])
    with pytest.raises(ValidationError):
        any_ledger.record_outcome(claim.id, "true", "1 Dec 2016")  # before the claim
    assert rows(any_ledger, AuditEvent) == before


def test_retracted_claims_and_reports_stay_but_leave_lists_and_scores(any_ledger):
    import_file(any_ledger, REPO / "seed" / "aleppo-2016-12.json")
    before_counts = any_ledger.counts()
    stored = rows(any_ledger, Claim), rows(any_ledger, Report)
    ceasefire = any_ledger.get_claim(4)
    any_ledger.retract_claim(4, "duplicate of #3, logged twice")
    report = any_ledger.get_claim(5).reports[0][0]
    any_ledger.retract_report(report.id, "the quote was from another day")
    assert (rows(any_ledger, Claim), rows(any_ledger, Report)) == stored  # nothing deleted
    view = any_ledger.get_claim(4)
    assert view.retracted and view.claim.retraction_reason == "duplicate of #3, logged twice"
    assert view.claim.retracted_by == "local"
    assert len(view.reports) == len(ceasefire.reports)
    assert [r.retracted_at is not None for r, _, _ in any_ledger.get_claim(5).reports][0]
    assert any_ledger.counts() == {**before_counts, "claims": before_counts["claims"] - 1,
                                   "reports": before_counts["reports"] - len(ceasefire.reports) - 1,
                                   "outcomes": before_counts["outcomes"] - (1 if ceasefire.outcome else 0)}
    listed = claim_rows(any_ledger, limit=100).rows
    assert 4 not in set(listed["id"]) and overview_counts(any_ledger)["claims"] == before_counts["claims"] - 1
    evidence = load_evidence(any_ledger.engine)
    assert 4 not in evidence.claims.index and len(evidence.reports) == any_ledger.counts()["reports"]
    assert not score_sources(evidence).empty
    with pytest.raises(ValidationError, match="was retracted"):
        any_ledger.add_report(4, "ICRC", "confirmed", "2016-12-20")
    with pytest.raises(ValidationError, match="reason is required"):
        any_ledger.retract_claim(5, "  ")
    [event] = any_ledger.history(claim_id=4, action="claim.retract")
    assert event.reason == "duplicate of #3, logged twice"


def test_an_import_is_one_file_event_plus_one_per_row_it_created(any_ledger):
    summary = import_file(any_ledger, REPO / "seed" / "aleppo-2016-12.json")
    [file_event] = any_ledger.history(action="import")
    assert file_event.after["file"] == "aleppo-2016-12.json"
    assert file_event.after["reports_added"] == summary.reports_added
    counted = {action: audit.count(any_ledger.engine, action=action)
               for action in ("claim.create", "report.create", "outcome.record", "source.create")}
    assert counted == {"claim.create": summary.claims_created, "report.create": summary.reports_added,
                       "outcome.record": summary.outcomes_added, "source.create": summary.sources_created}
    report_event = any_ledger.history(action="report.create", limit=1)[0]
    assert report_event.after["source"] and report_event.after["stance"] in ("rumoured", "confirmed", "denied")
    assert report_event.claim_id and report_event.source_id
    # the same file again adds nothing and says so
    again = import_file(any_ledger, REPO / "seed" / "aleppo-2016-12.json")
    assert again.reports_added == 0
    assert audit.count(any_ledger.engine, action="report.create") == summary.reports_added
    assert audit.count(any_ledger.engine, action="import") == 2


def test_an_import_that_adds_to_a_claim_moves_its_version(any_ledger):
    claim = any_ledger.log_claim("Deal reached", ref="d1", reports=REPORTS)
    version = any_ledger.get_claim(claim.id).claim.version
    import_text(any_ledger, "claim_ref,claim,source,stance,reported_at,outcome,outcome_at\n"
                            "d1,Deal reached,ICRC,confirmed,15 Dec 2016,,\n", "csv")
    with pytest.raises(EditConflict, match="ICRC"):
        any_ledger.record_outcome(claim.id, "true", "16 Dec 2016", version=version)


def test_a_stale_edit_is_refused_with_what_changed_and_saves_nothing(any_ledger):
    claim = any_ledger.log_claim("Deal reached", topics="aleppo", reports=REPORTS)
    seen = any_ledger.get_claim(claim.id).claim.version  # both reviewers open the claim
    any_ledger.edit_claim(claim.id, version=seen, statement="Evacuation deal reached")
    with pytest.raises(EditConflict) as conflict:
        any_ledger.edit_claim(claim.id, version=seen, statement="Deal reached in Ankara")
    message = str(conflict.value)
    assert f"you started from version {seen}" in message and "nothing was saved" in message
    assert "statement: 'Deal reached' -> 'Evacuation deal reached'" in message
    assert any_ledger.get_claim(claim.id).claim.statement == "Evacuation deal reached"
    with pytest.raises(EditConflict, match="edited claim"):
        any_ledger.record_outcome(claim.id, "true", "16 Dec 2016", version=seen)
    assert any_ledger.get_claim(claim.id).outcome is None
    fresh = any_ledger.get_claim(claim.id).claim.version
    any_ledger.record_outcome(claim.id, "true", "16 Dec 2016", version=fresh)
    with pytest.raises(ValidationError, match="changes nothing"):
        any_ledger.edit_claim(claim.id, version=None, statement="Evacuation deal reached")


def test_a_merge_keeps_the_duplicate_and_is_in_both_sources_history(any_ledger):
    any_ledger.log_claim("Deal reached", reports=REPORTS)
    any_ledger.add_source("Sergei Lavrov", kind="official")
    kept = any_ledger.merge_sources("Lavrov", "Sergei Lavrov")
    assert rows(any_ledger, Source) == 3 and any_ledger.counts()["sources"] == 2
    [merge] = any_ledger.history(action="source.merge")
    assert merge.source_id == kept.id and merge.before["name"] == "Lavrov"
    assert any_ledger.history(source_id=merge.entity_id)[0].action == "source.merge"
    assert any_ledger.history(source_id=kept.id)[0].action == "source.merge"
    assert "Lavrov" not in [s["name"] for s in any_ledger.list_sources()]
    # the old name still finds the kept source, and cannot be taken by a new one
    assert any_ledger.add_report(1, "LAVROV", "confirmed", "15 Dec 2016").source_id == kept.id


def test_history_from_the_command_line_filters_by_user_claim_and_source(seeded, db_path):
    seeded.record_outcome(1, "false", "2016-12-30")
    run = CliRunner()
    out = run.invoke(main, ["--db", str(db_path), "history", "--claim", "1", "--limit", "100"]).output
    assert "recorded outcome (outcome #" in out and "on claim #1" in out
    assert all("claim #1" in line for line in out.splitlines())
    out = run.invoke(main, ["--db", str(db_path), "history", "--source", "Lavrov", "--format", "json"]).output
    assert '"action": "report.create"' in out
    out = run.invoke(main, ["--db", str(db_path), "history", "--user", "nobody"]).output
    assert out.strip() == "no changes match"


def test_a_stale_source_edit_is_refused_naming_the_last_change(any_ledger):
    any_ledger.add_source("ICRC", kind="international_body")
    seen = next(s for s in any_ledger.list_sources() if s["name"] == "ICRC")["version"]
    any_ledger.update_source("ICRC", version=seen, url="https://www.icrc.org")
    with pytest.raises(EditConflict, match="local edited source"):
        any_ledger.update_source("ICRC", version=seen, affiliation="Red Cross movement")
    with pytest.raises(EditConflict):
        any_ledger.rename_source("ICRC", "Red Cross", version=seen)
    any_ledger.add_source("Red Cross")
    with pytest.raises(EditConflict):
        any_ledger.merge_sources("ICRC", "Red Cross", version=seen)
    any_ledger.merge_sources("ICRC", "Red Cross", version=seen + 1)
    assert [s["name"] for s in any_ledger.list_sources()] == ["Red Cross"]


def test_an_import_that_tags_or_moves_an_existing_claim_records_the_edit(any_ledger):
    claim = any_ledger.log_claim("Deal reached", ref="d1", topics="aleppo", reports=REPORTS)
    version = any_ledger.get_claim(claim.id).claim.version
    header = "claim_ref,claim,source,stance,reported_at,outcome,outcome_at,topic\n"
    import_text(any_ledger, header + "d1,Deal reached,Western media,rumoured,13 Dec 2016 20:00,,,aleppo;ceasefire\n",
                "csv", label="tags.csv")
    [edit] = any_ledger.history(claim_id=claim.id, action="claim.edit")
    assert edit.before == {"topics": ["aleppo"]} and edit.after == {"topics": ["aleppo", "ceasefire"]}
    assert edit.reason == "import of tags.csv"
    assert any_ledger.get_claim(claim.id).claim.version == version + 1
    import_text(any_ledger, header + "d1,Deal reached,ICRC,confirmed,12 Dec 2016 09:00,,,ceasefire\n", "csv")
    moved = any_ledger.history(claim_id=claim.id, action="claim.edit")[0]
    assert moved.changed_fields() == [("first_reported_at", "2016-12-13T20:00:00+00:00", "2016-12-12T09:00:00+00:00")]
