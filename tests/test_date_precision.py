"""A date without a time is kept as a date: stored with its flag, shown and exported as a date, round-tripped."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from tracker.cli import main
from tracker.evidence import load_evidence
from tracker.interchange import import_text, to_json, write_csv
from tracker.ledger import Ledger
from tracker.scoring import score_sources
from tests.conftest import NOW


def logged(ledger: Ledger):
    """A claim with a date-only report, a timed one, and a date-only verdict."""
    return ledger.log_claim("The evacuation of eastern Aleppo has begun", reports=[
        {"source": "Russian Defence Ministry", "stance": "confirmed", "reported_at": "15 December 2016"},
        {"source": "ICRC", "stance": "confirmed", "reported_at": "2016-12-15T11:00+02:00"},
    ])


def test_date_without_a_time_is_stored_as_that_date_in_any_zone(any_ledger, monkeypatch):
    monkeypatch.setenv("TRACKER_TIMEZONE", "America/Los_Angeles")
    claim = logged(any_ledger)
    any_ledger.record_outcome(claim.id, "true", "16 December 2016")
    view = any_ledger.get_claim(claim.id)
    (dated, _, _), (timed, _, _) = view.reports
    assert (dated.reported_at, dated.reported_date_only) == (datetime(2016, 12, 15, tzinfo=UTC), True)
    assert (timed.reported_at, timed.reported_date_only) == (datetime(2016, 12, 15, 9, tzinfo=UTC), False)
    assert (view.claim.first_reported_at, view.claim.first_reported_date_only) == (dated.reported_at, True)
    assert view.outcome.decided_date_only and view.outcome.decided_at == datetime(2016, 12, 16, tzinfo=UTC)
    exported = to_json(any_ledger)["claims"][0]
    assert exported["first_reported_at"] == "2016-12-15"
    assert [r["reported_at"] for r in exported["reports"]] == ["2016-12-15", "2016-12-15T09:00Z"]
    assert exported["outcomes"][0]["decided_at"] == "2016-12-16"


def test_an_earlier_timed_report_takes_the_first_report_and_its_precision(ledger):
    claim = logged(ledger)
    ledger.add_report(claim.id, "SANA", "rumoured", "14 December 2016 22:00")
    first = ledger.get_claim(claim.id).claim
    assert (first.first_reported_at, first.first_reported_date_only) == (datetime(2016, 12, 14, 22, tzinfo=UTC), False)


def test_dashboard_style_entry_with_its_own_zone_keeps_date_and_time(ledger):
    from tracker.dates import Typed
    claim = ledger.log_claim("Convoys reached western Aleppo", reports=[
        {"source": "SARC", "stance": "confirmed", "reported_at": Typed("15 December 2016 18:00", "Asia/Damascus")},
        {"source": "ICRC", "stance": "confirmed", "reported_at": Typed("yesterday", "Asia/Tokyo")},
    ])
    reports = [r for r, _, _ in ledger.get_claim(claim.id).reports]
    assert (reports[0].reported_at, reports[0].reported_date_only) == (datetime(2016, 12, 15, 16, tzinfo=UTC), False)
    # the ledger's clock is 25 November 2026 12:00 UTC, 21:00 in Tokyo: yesterday there was the 24th
    assert (reports[1].reported_at, reports[1].reported_date_only) == (datetime(2026, 11, 24, tzinfo=UTC), True)


def test_cli_shows_a_date_as_a_date(db_path):
    runner = CliRunner()
    db = ["--db", str(db_path)]
    assert runner.invoke(main, db + ["claims", "log", "Buses were fired on", "--source", "SANA",
                                     "--stance", "rumoured", "--at", "16 December 2016"]).exit_code == 0
    shown = runner.invoke(main, db + ["claims", "show", "1"])
    assert "first reported: 2016-12-16 " in shown.output and "2016-12-16T00:00Z" not in shown.output
    as_json = json.loads(runner.invoke(main, db + ["claims", "show", "1", "--format", "json"]).output)
    assert as_json["reports"][0]["reported_at"] == as_json["first_reported_at"] == "2016-12-16"


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_export_and_import_keep_dates_as_dates(ledger, any_ledger, fmt):
    claim = logged(ledger)
    ledger.record_outcome(claim.id, "true", "16 December 2016")
    ledger.log_claim("A claim known only by its date", first_reported_at="2016-12-13")
    text = _export(ledger, fmt)  # claim_version left out: an import takes a file without it
    import_text(any_ledger, text, fmt)
    assert _export(any_ledger, fmt) == text
    again = import_text(any_ledger, text, fmt)  # the same file again: nothing to add or correct
    assert (again.reports_added, again.outcomes_added) == (0, 0)
    assert _export(any_ledger, fmt) == text
    assert [r.reported_date_only for r, _, _ in any_ledger.get_claim(1).reports] == [True, False]


def _export(ledger: Ledger, fmt: str) -> str:
    """The store as the format writes it, without claim_version (a store's own edit count)."""
    if fmt == "json":
        data = to_json(ledger)
        for claim in data["claims"]:
            claim.pop("claim_version")
        return json.dumps(data, sort_keys=True)
    stream = io.StringIO()
    write_csv(ledger, stream)
    return "\n".join(line.rsplit(",", 1)[0] for line in stream.getvalue().splitlines())


def test_import_corrects_a_report_given_as_a_date_by_its_ref(ledger):
    logged(ledger)
    data = to_json(ledger)
    data["claims"][0]["reports"][1]["reported_at"] = "2016-12-15"
    import_text(ledger, json.dumps(data), "json")
    reports = [r for r, _, _ in ledger.get_claim(1).reports]
    assert [r.reported_date_only for r in reports] == [True, True]


def test_scoring_puts_a_date_at_the_start_of_its_day(ledger, monkeypatch):
    # a zone far from UTC: a date must still name its own day, not the zone's midnight
    monkeypatch.setenv("TRACKER_TIMEZONE", "America/Los_Angeles")
    early = ledger.log_claim("Evacuation deal reached", reports=[
        {"source": "Dated source", "stance": "confirmed", "reported_at": "15 December 2016"}])
    ledger.record_outcome(early.id, "true", "2016-12-15T01:00Z")  # known at 01:00 UTC that day
    late = ledger.log_claim("Evacuation suspended", reports=[
        {"source": "Timed source", "stance": "confirmed", "reported_at": "2016-12-16T09:00Z"}])
    ledger.record_outcome(late.id, "true", "16 December 2016")  # known that day, time not given
    table = score_sources(load_evidence(ledger.engine), NOW).set_index("source")
    # the date-only report stands before the verdict timed later that day: it counts
    assert table.loc["Dated source", "resolved"] == 1
    # a report timed on the day of a date-only verdict came after it (the date is the day's start): it does not
    assert table.loc["Timed source", "resolved"] == 0


# -- expected-by (schema 0008) --------------------------------------------------------------------
def _expected_by_a_date(ledger: Ledger):
    """A claim first reported 13 December 2016 18:00 UTC, expected to be settled by 20 December (a date)."""
    return ledger.log_claim("Lavrov expects eastern Aleppo resolved within days", expected_by="20 Dec 2016",
                            reports=[{"source": "Sergei Lavrov", "stance": "confirmed",
                                      "reported_at": "2016-12-13T18:00Z"}])


def test_an_expected_by_date_is_kept_as_a_date(any_ledger):
    claim = _expected_by_a_date(any_ledger)
    stored = any_ledger.get_claim(claim.id).claim
    assert (stored.expected_by, stored.expected_by_date_only) == (datetime(2016, 12, 20, tzinfo=UTC), True)
    exported = to_json(any_ledger)["claims"][0]
    assert exported["expected_by"] == "2016-12-20"
    edited = any_ledger.edit_claim(claim.id, version=stored.version, expected_by="2016-12-21T09:00Z")
    assert (edited.expected_by, edited.expected_by_date_only) == (datetime(2016, 12, 21, 9, tzinfo=UTC), False)


def test_an_expected_by_date_on_the_first_reported_day_is_not_before_it(ledger):
    claim = ledger.log_claim("Fighting resumed", expected_by="13 December 2016", reports=[
        {"source": "SANA", "stance": "confirmed", "reported_at": "2016-12-13T18:00Z"}])
    assert ledger.get_claim(claim.id).claim.expected_by_date_only


def test_edit_to_the_same_day_as_a_date_is_a_change_of_precision(ledger):
    claim = ledger.log_claim("Convoys left", expected_by="2016-12-20T00:00Z", reports=[
        {"source": "ICRC", "stance": "confirmed", "reported_at": "2016-12-15T10:00Z"}])
    edited = ledger.edit_claim(claim.id, version=claim.version, expected_by="20 December 2016")
    assert edited.expected_by_date_only
    from tracker import audit
    change = audit.history(ledger.engine, claim_id=claim.id, limit=1)[0]
    assert change.changed_fields() == [("expected_by", "2016-12-20T00:00:00+00:00", "2016-12-20")]


@pytest.mark.parametrize("now, overdue", [
    (datetime(2016, 12, 20, 23, 59, tzinfo=UTC), False),  # the expected-by day itself: not yet
    (datetime(2016, 12, 21, 0, 1, tzinfo=UTC), True),     # the day has ended
])
def test_an_expected_by_date_is_overdue_only_after_its_day(any_ledger, now, overdue):
    from tracker import queries
    ledger = any_ledger
    _expected_by_a_date(ledger)
    timed = ledger.log_claim("A deadline at a time", expected_by="2016-12-20T12:00Z", reports=[
        {"source": "SANA", "stance": "confirmed", "reported_at": "2016-12-13T18:00Z"}])
    rows = queries.claim_rows(ledger, now=now).rows.set_index("id")
    assert bool(rows.loc[1, "overdue"]) is overdue and bool(rows.loc[timed.id, "overdue"])  # a time passes at once
    assert queries.overview_counts(ledger, now)["overdue"] == 1 + overdue
    assert bool(queries.review_queue(ledger, now=now).rows.set_index("id").loc[1, "overdue"]) is overdue
    assert (1 in queries.claim_ids(ledger, outcome="overdue")) is True  # the store's clock is 2026
    assert queries.is_overdue(datetime(2016, 12, 20, tzinfo=UTC), True, now) is overdue


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_export_and_import_keep_an_expected_by_date(ledger, any_ledger, fmt):
    _expected_by_a_date(ledger)
    ledger.log_claim("A timed deadline", expected_by="2016-12-22T12:00Z", reports=[
        {"source": "SANA", "stance": "confirmed", "reported_at": "2016-12-13T18:00Z"}])
    text = _export(ledger, fmt)
    assert "2016-12-20" in text and "2016-12-20T00:00Z" not in text
    import_text(any_ledger, text, fmt)
    assert [any_ledger.get_claim(i).claim.expected_by_date_only for i in (1, 2)] == [True, False]
    assert _export(any_ledger, fmt) == text


def test_cli_logs_shows_and_edits_an_expected_by_date(db_path):
    runner = CliRunner()
    db = ["--db", str(db_path)]
    assert runner.invoke(main, db + ["claims", "log", "Buses were fired on", "--source", "SANA", "--stance",
                                     "rumoured", "--at", "2016-12-16T10:00Z", "--expected-by", "20 Dec 2016"]
                         ).exit_code == 0
    assert "expected by: 2016-12-20 " in runner.invoke(main, db + ["claims", "show", "1"]).output
    assert runner.invoke(main, db + ["claims", "edit", "1", "--expected-by", "21 Dec 2016"]).exit_code == 0
    as_json = json.loads(runner.invoke(main, db + ["claims", "show", "1", "--format", "json"]).output)
    assert as_json["expected_by"] == "2016-12-21"
    history = runner.invoke(main, db + ["history", "--claim", "1"]).output
    assert "expected_by: '2016-12-20' -> '2016-12-21'" in history


def test_an_import_records_dates_given_without_a_time_as_dates_in_the_history(ledger, any_ledger):
    _expected_by_a_date(ledger)
    ledger.record_outcome(1, "true", "21 December 2016")
    ledger.add_report(1, "ICRC", "confirmed", "14 December 2016")
    import_text(any_ledger, _export(ledger, "csv"), "csv")
    from tracker import audit

    after = {e.action: e.after for e in audit.history(any_ledger.engine, claim_id=1, limit=20)}
    assert after["claim.create"]["expected_by"] == "2016-12-20"
    assert after["claim.create"]["first_reported_at"].startswith("2016-12-13")  # a time: kept as a time
    assert after["outcome.record"]["decided_at"] == "2016-12-21"
    dated = [e.after["reported_at"] for e in audit.history(any_ledger.engine, claim_id=1, limit=20)
             if e.action == "report.create"]
    assert "2016-12-14" in dated and any(d.startswith("2016-12-13") and len(d) > 10 for d in dated)
