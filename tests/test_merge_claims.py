"""Merging a claim that was logged twice: reports move (identical ones collapse), topics join, the
duplicate's ref keeps finding the kept claim, history shows the merge, scores count the claim once,
and differing verdicts are refused with both shown."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from tests.conftest import store_json
from tracker import cli
from tracker.accounts import PermissionDenied
from tracker.errors import DuplicateError, EditConflict, ValidationError
from tracker.evidence import load_evidence
from tracker.interchange import import_text
from tracker.ledger import Ledger
from tracker.scoring import score_sources

DEAL = "Russia and Turkey agreed a deal for fighters to leave eastern Aleppo"
AT = "2016-12-13T12:00Z"


@pytest.fixture
def twice(any_ledger) -> tuple[Ledger, int, int]:
    """One claim logged twice (once by hand, once by import under a ref), both judged true."""
    by_hand = any_ledger.log_claim(DEAL, topics="aleppo", reports=[
        {"source": "Lavrov", "stance": "denied", "reported_at": AT},
        {"source": "Rebel officials", "stance": "confirmed", "reported_at": "2016-12-13T10:00Z"}])
    any_ledger.record_outcome(by_hand.id, "true", "2016-12-15")
    import_text(any_ledger, "claim_ref,claim,source,stance,reported_at,outcome,outcome_at,topic,expected_by\n"
                f"deal-1,{DEAL} (as imported),Lavrov,denied,{AT},true,2016-12-15,evacuation,2016-12-17\n"
                f"deal-1,{DEAL} (as imported),Western media,rumoured,2016-12-13T15:00Z,true,2016-12-15,,2016-12-17\n",
                "csv")
    return any_ledger, by_hand.id, by_hand.id + 1


def test_merge_moves_reports_joins_topics_and_counts_the_claim_once(twice):
    ledger, keep, gone = twice
    scores = score_sources(load_evidence(ledger.engine)).set_index("source")
    assert scores.loc["Lavrov", "resolved"] == 2  # counted twice before the merge
    kept = ledger.merge_claims(str(keep), "deal-1")
    assert kept.id == keep
    view = ledger.get_claim(keep)
    assert sorted(s for _, s, _ in view.live_reports) == ["Lavrov", "Rebel officials", "Western media"]
    assert view.topics == ["aleppo", "evacuation"] and view.claim.expected_by.day == 17
    assert ledger.counts()["claims"] == 1
    duplicate = ledger.get_claim(gone)
    assert duplicate.retracted and duplicate.claim.merged_into_id == keep
    assert f"merged into claim #{keep}" in duplicate.claim.retraction_reason
    collapsed = [r for r, s, _ in duplicate.reports if s == "Lavrov"]
    assert collapsed and "duplicate of report" in collapsed[0].retraction_reason
    scores = score_sources(load_evidence(ledger.engine)).set_index("source")
    assert scores.loc["Lavrov", "resolved"] == 1
    assert [c.action for c in ledger.history(claim_id=keep)][0] == "claim.merge"
    assert [c.action for c in ledger.history(claim_id=gone)][0] == "claim.merge"


def test_the_duplicates_ref_keeps_finding_the_kept_claim(twice):
    ledger, keep, gone = twice
    ledger.merge_claims(keep, gone)
    summary = import_text(ledger, "claim_ref,claim,source,stance,reported_at,outcome,outcome_at\n"
                                  f"deal-1,{DEAL} (as imported),ICRC,confirmed,2016-12-15T09:00Z,,\n", "csv")
    assert (summary.claims_created, summary.claims_updated, summary.reports_added) == (0, 0, 1)
    view = ledger.get_claim(keep)
    assert "ICRC" in [s for _, s, _ in view.reports] and view.claim.statement == DEAL  # joined, not renamed
    with pytest.raises(DuplicateError):
        ledger.log_claim("Something else", ref="deal-1")  # a ref is never reused


def test_differing_verdicts_are_refused_with_both_shown(twice):
    ledger, keep, gone = twice
    ledger.record_outcome(gone, "false", "2016-12-16")
    before = store_json(ledger)
    with pytest.raises(ValidationError) as caught:
        ledger.merge_claims(keep, gone)
    message = str(caught.value)
    assert f"claim #{keep} is 'true'" in message and f"claim #{gone} is 'false'" in message
    assert store_json(ledger) == before


def test_the_duplicates_verdicts_move_when_the_kept_claim_has_none(any_ledger):
    keep = any_ledger.log_claim("Buses fired on", first_reported_at=AT)
    gone = any_ledger.log_claim("Buses were fired on", first_reported_at=AT)
    any_ledger.record_outcome(gone.id, "unverifiable", "2016-12-20")
    any_ledger.merge_claims(keep.ref, gone.ref)
    assert any_ledger.get_claim(keep.id).outcome.verdict == "unverifiable"


def test_merging_needs_a_reviewer_and_the_version_seen(twice):
    ledger, keep, gone = twice
    ledger.add_account("Ada", "admin", "admin passphrase 1")
    admin = ledger.acting_as(ledger.authenticate("Ada", "admin passphrase 1"))
    admin.add_account("Andy", "analyst", "analyst passphrase 7")
    analyst = ledger.acting_as(ledger.authenticate("Andy", "analyst passphrase 7"))
    with pytest.raises(PermissionDenied, match="may not merge claims"):
        analyst.merge_claims(keep, gone)
    admin.edit_claim(gone, version=1, topics="evacuation;deal")  # while someone else looked at version 1
    with pytest.raises(EditConflict, match="topics"):
        admin.merge_claims(keep, gone, version=1)
    with pytest.raises(ValidationError, match="cannot be merged into itself"):
        admin.merge_claims(keep, str(keep))


def test_claims_merge_on_the_command_line(ledger):
    keep = ledger.log_claim("Deal reached", first_reported_at=AT)
    gone = ledger.log_claim("Deal was reached", ref="d-2", first_reported_at=AT)
    url = str(ledger.engine.url)
    result = CliRunner().invoke(cli.main, ["--db", url, "claims", "merge", keep.ref, "d-2"])
    assert result.exit_code == 0, result.output
    assert f"merged claim d-2 into claim #{keep.id}" in result.output
    assert ledger.get_claim(gone.id).claim.merged_into_id == keep.id
    result = CliRunner().invoke(cli.main, ["--db", url, "claims", "merge", str(keep.id), "nope"])
    assert result.exit_code == 1 and "no claim has the id or claim_ref 'nope'" in result.output
