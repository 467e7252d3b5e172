"""Hardening of the import (issue 11): roles checked as the command line and pages check them,
hostile documents refused by their row instead of a traceback, formula guards for CSV only, and
one refusal that lists every problem by row. On SQLite and PostgreSQL where the store is touched."""

from __future__ import annotations

import json
import os
import threading

import pytest
from click.testing import CliRunner

from tests.conftest import NOW, csv_of, store_json
from tracker import rules
from tracker.accounts import PermissionDenied
from tracker.cli import main
from tracker.errors import ImportRejected, ValidationError
from tracker.interchange import import_file, import_text, write_csv, write_json
from tracker.ledger import Ledger

ADMIN_PW, REVIEWER_PW, ANALYST_PW = "admin passphrase 1", "reviewer passphrase 3", "analyst passphrase 7"
DEAL = {"claim_ref": "deal", "claim": "Deal reached", "source": "TASS", "stance": "confirmed",
        "reported_at": "2016-12-13T12:00:00Z"}


@pytest.fixture
def team(any_ledger) -> dict[str, Ledger]:
    """A store with claim `deal` (a topic, no expected-by) and the retracted claim `buses`, and three accounts."""
    local = any_ledger
    local.log_claim("Deal reached", ref="deal", topics=["aleppo"],
                    reports=[{"source": "TASS", "stance": "confirmed", "reported_at": "2016-12-13T12:00Z"}])
    buses = local.log_claim("Buses fired on", ref="buses",
                            reports=[{"source": "SANA", "stance": "confirmed", "reported_at": "2016-12-16T10:00Z"}])
    local.retract_claim(buses.id, "logged against the wrong event")
    local.add_account("Ada", "admin", ADMIN_PW)
    admin = local.acting_as(local.authenticate("Ada", ADMIN_PW))
    admin.add_account("Rita", "reviewer", REVIEWER_PW)
    admin.add_account("Andy", "analyst", ANALYST_PW)
    return {"admin": admin, "reviewer": local.acting_as(local.authenticate("Rita", REVIEWER_PW)),
            "analyst": local.acting_as(local.authenticate("Andy", ANALYST_PW))}


def refused(ledger: Ledger, text: str, fmt: str) -> list[tuple[str, str]]:
    """The (row, reason) pairs of an import that must be refused; the store must be as it was."""
    before = store_json(ledger)
    with pytest.raises(ImportRejected) as caught:
        import_text(ledger, text, fmt)
    assert store_json(ledger) == before
    return [(e.row, e.reason) for e in caught.value.errors]


def json_claim(**fields) -> str:
    """A JSON file naming the claim `deal` with these fields (its first report as stored, unless given)."""
    return json.dumps({"claims": [{"claim_ref": "deal", "statement": "Deal reached",
                                   "first_reported_at": "2016-12-13T12:00Z", **fields}]})


# -- item 3: roles -----------------------------------------------------------------------------
@pytest.mark.parametrize("fmt, text", [
    ("csv", csv_of([{**DEAL, "expected_by": "2016-12-24"}])),  # gives it an expected-by date
    ("csv", csv_of([{**DEAL, "topic": "aleppo;evacuation"}])),  # adds a topic
    ("json", json_claim(first_reported_at="2016-12-12T08:00Z")),  # moves the first report earlier
], ids=["expected_by", "topics", "first_reported_at"])
def test_an_analysts_import_cannot_make_the_edits_claims_edit_refuses_them(team, fmt, text):
    analyst, reviewer = team["analyst"], team["reviewer"]
    with pytest.raises(PermissionDenied):
        analyst.edit_claim(1, version=None, expected_by="2016-12-24")  # what the command line and pages refuse
    [(row, reason)] = refused(analyst, text, fmt)
    assert row in ("row 2", "claims[0]")
    assert reason.startswith("Andy is an analyst and may not edit a claim")
    assert "claim #1" in reason
    assert import_text(reviewer, text, fmt).claims_updated == 1  # a reviewer may


def test_an_analyst_still_adds_reports_to_existing_claims_by_import(team):
    summary = import_text(team["analyst"], csv_of([{**DEAL, "source": "Reuters", "topic": "aleppo"}]), "csv")
    assert (summary.reports_added, summary.claims_updated) == (1, 0)


def test_an_import_adds_no_report_or_verdict_to_a_retracted_claim(team):
    local = team["admin"]
    buses = {"claim_ref": "buses", "claim": "Buses fired on", "stance": "confirmed"}
    problems = refused(local, csv_of([
        {**buses, "source": "SANA", "reported_at": "2016-12-16T10:00:00Z"},  # the report it holds: fine
        {**buses, "source": "Reuters", "reported_at": "2016-12-16T11:00:00Z"},
        {**DEAL, "outcome": "true", "outcome_at": "2016-12-22"},
    ]), "csv")
    assert problems == [("row 3", "claim #2 was retracted (logged against the wrong event); it takes no more reports, "
                                  "verdicts or edits. Log a new claim if it is being made again")]
    problems = refused(local, json.dumps({"claims": [{
        "claim_ref": "buses", "statement": "Buses fired on", "first_reported_at": "2016-12-16T10:00Z",
        "outcomes": [{"verdict": "false", "decided_at": "2016-12-20"}]}]}), "json")
    assert [row for row, _ in problems] == ["claims[0].outcomes[0]"] and "was retracted" in problems[0][1]
    with pytest.raises(ValidationError, match="was retracted"):  # the same words as the service layer's
        local.add_report(2, "Reuters", "confirmed", "2016-12-16T11:00Z")


def test_a_verdict_is_credited_to_who_records_it_unless_an_admin_names_someone(team, any_url, monkeypatch):
    reviewer, admin = team["reviewer"], team["admin"]
    verdict = {"verdict": "true", "decided_at": "2016-12-22", "reviewer": "Ada"}
    [(row, reason)] = refused(reviewer, json_claim(outcomes=[verdict]), "json")
    assert row == "claims[0].outcomes[0]"
    assert reason.startswith("Rita is a reviewer and may not credit a verdict to someone else")
    with pytest.raises(PermissionDenied, match="credit a verdict"):
        reviewer.record_outcome(1, "true", "2016-12-22", reviewer="Ada")
    monkeypatch.setenv("TRACKER_PASSWORD", REVIEWER_PW)
    result = CliRunner().invoke(main, ["--db", any_url, "--as", "Rita", "claims", "outcome", "1", "true",
                                       "--at", "2016-12-22", "--reviewer", "ada"])
    assert result.exit_code == 1 and "may not credit a verdict" in result.output
    import_text(reviewer, json_claim(outcomes=[{**verdict, "reviewer": "rita"}]), "json")  # naming yourself is fine
    assert [o.reviewer for o in reviewer.get_claim(1).outcomes] == ["Rita"]
    admin.record_outcome(1, "partly_true", "2016-12-23", reviewer="Ann Other")  # an admin restoring history may
    assert reviewer.get_claim(1).outcomes[-1].reviewer == "Ann Other"


# -- item 5: documents that used to raise tracebacks --------------------------------------------
HOSTILE_JSON = {
    "nested 100k deep": "[" * 100_000 + "]" * 100_000,
    "an integer of 5,000 digits": '{"claims": [{"statement": "x", "claim_version": ' + "9" * 5000 + "}]}",
    "reports as a number": json_claim(reports=5),
    "outcomes as a number": json_claim(outcomes=5, first_reported_at="2016-12-13"),
    "topics as a number": json_claim(topics=5, first_reported_at="2016-12-13"),
    "a statement as an object": json.dumps({"claims": [{"statement": {"a": 1}, "first_reported_at": "2016-12-13"}]}),
    "a report's source as a list": json_claim(reports=[{"source": ["a"], "stance": "confirmed",
                                                        "reported_at": "2016-12-13"}]),
    "a source's aliases holding objects": json.dumps({"sources": [{"name": "TASS", "aliases": [{}]}]}),
}


@pytest.mark.parametrize("text", HOSTILE_JSON.values(), ids=HOSTILE_JSON.keys())
def test_a_hostile_json_document_is_refused_by_its_row_not_a_traceback(ledger, text):
    ledger.log_claim("Deal reached", ref="deal", reports=[{"source": "TASS", "stance": "confirmed",
                                                         "reported_at": "2016-12-13T12:00Z"}])
    problems = refused(ledger, text, "json")
    assert problems and all(row and reason for row, reason in problems)


def test_a_csv_cell_over_the_cell_limit_is_refused_by_its_row_and_the_longest_values_round_trip(ledger, tmp_path):
    longest = {"quote": "q" * rules.MAX_QUOTE, "note": "n" * rules.MAX_NOTE, "claim": "s" * rules.MAX_STATEMENT,
               "topic": ";".join(f"t{n:03d}" + "x" * (rules.MAX_TOPIC - 4) for n in range(rules.MAX_TOPICS))}
    ledger.log_claim(longest["claim"], ref="long", topics=longest["topic"], reports=[
        {"source": "TASS", "stance": "confirmed", "reported_at": "2016-12-13", "quote": longest["quote"],
         "note": longest["note"]}])
    for fmt, write in (("csv", write_csv), ("json", write_json)):
        path = tmp_path / f"store.{fmt}"
        with open(path, "w", encoding="utf-8", newline="") as stream:
            write(ledger, stream)
        other = Ledger.open(str(tmp_path / f"other-{fmt}.db"), clock=lambda: NOW)
        import_file(other, path)  # the store's own export imports, into another store and into itself
        assert other.counts() == ledger.counts()
        assert not import_file(ledger, path).changed
    problems = refused(ledger, csv_of([{**DEAL, "quote": "q" * 200_000}, {**DEAL, "stance": "maybe"}]), "csv")
    assert [row for row, _ in problems] == ["row 2", "row 3"]
    assert "more than" in problems[0][1] and "unknown stance" in problems[1][1]


def test_nul_characters_are_refused_by_their_row_on_both_backends(any_ledger):
    with pytest.raises(ValidationError, match="NUL"):
        any_ledger.log_claim("Deal\x00 reached", first_reported_at="2016-12-13")
    problems = refused(any_ledger, csv_of([{**DEAL, "claim": "Deal\x00 reached"}, {**DEAL, "quote": "a\x00b"},
                                           {**DEAL, "source": "TA\x00SS"}]), "csv")
    assert [row for row, _ in problems] == ["row 2", "row 3", "row 4"]
    assert all("NUL" in reason for _, reason in problems)
    claims = [{"statement": "Deal reached", "topics": ["ok", "\ud800"], "first_reported_at": "2016-12-13"},
              {"statement": "Other", "reports": [{**DEAL, "note": "\x00"}]}]
    problems = refused(any_ledger, json.dumps({"claims": claims}), "json")
    assert problems == [("claims[0]", rules.unstorable("'a value in its list'")),
                        ("claims[1].reports[0]", rules.unstorable("'note'"))]


# -- item 6: round trips and bounded reading ------------------------------------------------------
GUARDED_LOOKING = ["'+972 Magazine", "+972 Magazine", "=1+1", "''=x", "'Tis the season", "-5 degrees", "@handle"]


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_text_that_looks_like_a_formula_or_its_guard_round_trips_exactly(any_ledger, tmp_path, fmt):
    for n, text in enumerate(GUARDED_LOOKING):
        any_ledger.log_claim(f"{text} reports claim {n}", ref=f"c{n}", reports=[
            {"source": text, "stance": "rumoured", "reported_at": "2016-12-13", "quote": text, "note": text}])
    path = tmp_path / f"store.{fmt}"
    with open(path, "w", encoding="utf-8", newline="") as stream:
        (write_csv if fmt == "csv" else write_json)(any_ledger, stream)
    if fmt == "csv":
        assert "'''+972 Magazine" not in path.read_text() and "''+972 Magazine" in path.read_text()
    assert not import_file(any_ledger, path).changed  # the store's own export, back: nothing changes
    other = Ledger.open(str(tmp_path / "other.db"), clock=lambda: NOW)
    import_file(other, path)
    assert sorted(s["name"] for s in other.list_sources()) == sorted(GUARDED_LOOKING)
    assert [r.quote for v in other.claim_views() for r, _, _ in v.reports] == GUARDED_LOOKING


def test_reading_a_stream_stops_at_the_size_limit(ledger, tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKER_MAX_IMPORT_MB", "0.05")  # about 50 KB
    fifo = tmp_path / "feed.csv"
    os.mkfifo(fifo)
    rows = [{**DEAL, "claim_ref": f"c{n}", "claim": f"Claim {n}"} for n in range(2_000)]  # about 150 KB

    def feed():
        try:
            with open(fifo, "w", encoding="utf-8") as stream:
                stream.write(csv_of(rows))
        except BrokenPipeError:
            pass  # the reader stopped, as it should

    writer = threading.Thread(target=feed)
    writer.start()
    with pytest.raises(ValidationError, match="past the import limit"):
        import_file(ledger, fifo)
    writer.join()
    assert ledger.counts()["claims"] == 0


# -- issue 12: every problem at once ---------------------------------------------------------------
def test_a_refused_import_counts_problems_and_rows_and_lists_them_by_row_once(seeded, db_path, tmp_path):
    text = csv_of([{**DEAL, "claim": "Fine"}, {**DEAL, "claim_ref": "x2", "stance": "maybe"},
                   {**DEAL, "claim_ref": "x3", "claim": "", "reported_at": "someday"}])
    with pytest.raises(ImportRejected) as caught:
        import_text(seeded, text, "csv")
    message = str(caught.value)
    assert "3 problems in 2 rows" in message and "bad row" not in message
    assert "\n  row 3: unknown stance 'maybe'" in message
    assert "\n  row 4:\n    - " in message and message.count("\n    - ") == 2
    path = tmp_path / "bad.csv"
    path.write_text(text)
    result = CliRunner().invoke(main, ["--db", str(db_path), "import", str(path)])
    assert result.exit_code == 1 and result.output.count("3 problems in 2 rows") == 1
    result = CliRunner().invoke(main, ["--db", str(db_path), "import", str(path), "--dry-run"])
    assert "3 problems in 2 rows refused" in result.output
    assert "refused:\n  row 3: unknown stance" in result.output and result.output.count("\n  row 4:\n    - ") == 1
