"""The dashboard's pages, run with Streamlit's AppTest against a real SQLite store."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import REPO
from tracker import forecast, queries
from tracker.dashboard import cache, widgets
from tracker.dates import format_when
from tracker.evidence import load_evidence
from tracker.interchange import load_example, write_csv
from tracker.ledger import Ledger
from tracker.scoring import score_sources

PAGES = ["overview", "log_claim", "claims", "claim", "review", "sources", "source", "calibration", "import_export"]


@pytest.fixture
def store_env(db_path, monkeypatch):
    """Point the dashboard at a fresh store and forget any ledger cached by an earlier test."""
    monkeypatch.setenv("TRACKER_DATABASE_URL", f"sqlite:///{db_path}")
    monkeypatch.chdir(REPO)
    cache.ledger.clear()
    yield db_path
    cache.ledger.clear()


@pytest.fixture
def aleppo(store_env) -> Ledger:
    """The dashboard's store with the Aleppo example loaded (a ledger over it, for checking writes)."""
    opened = Ledger.open(f"sqlite:///{store_env}")
    load_example(opened)
    yield opened
    opened.engine.dispose()


def app(**query) -> AppTest:
    """The dashboard, run from its entry script (with query parameters, as a deep link would)."""
    at = AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=30)
    at.query_params.update({k: str(v) for k, v in query.items()})
    return at


def on(page: str, **query) -> AppTest:
    """The dashboard run once, then switched to one page (`claims` for app_pages/claims.py)."""
    at = app(**query).run()
    return at.switch_page(f"app_pages/{page}.py").run()


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def table(at: AppTest, column: str):
    """The first table on the page that has `column` (read-only tables carry no key in AppTest)."""
    return next(frame.value for frame in at.dataframe if column in frame.value.columns)


def fill_report(at: AppTest, row: int, source: str, stance: str, when: str) -> AppTest:
    """Fill report `row` of the Log a claim form: its source, stance and time (each a rerun)."""
    at.selectbox(key=f"log_r{row}_source").select(source).run()
    at.selectbox(key=f"log_r{row}_stance").select(stance).run()
    at.text_input(key=f"log_r{row}_when").input(when).run()
    return at


def texts(elements) -> str:
    """The elements' text as a person reads it (Markdown escapes removed)."""
    return re.sub(r"\\(.)", r"\1", " | ".join(str(e.value) for e in elements))


# -- every page -------------------------------------------------------------------------------
@pytest.mark.parametrize("loaded", [False, True], ids=["empty store", "Aleppo example"])
def test_every_page_renders(store_env, loaded):
    if loaded:
        load_example(cache.ledger())
    at = ok(app().run())
    for page in PAGES:
        ok(at.switch_page(f"app_pages/{page}.py").run())
        assert at.title, page


def test_empty_store_offers_the_example_on_the_overview_and_loads_it(store_env):
    at = ok(app().run())
    assert "empty" in at.info[0].value
    at.button(key="overview_load_example").click().run()
    ok(at)
    assert "Loaded the Aleppo example: 13 claim(s) created" in at.success[0].value
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["Claims"], metrics["Open"], metrics["Resolved"], metrics["Sources"]) == ("13", "2", "11", "16")
    assert "empty" not in texts(at.info)


def test_claims_page_offers_the_example_too(store_env):
    at = ok(on("claims"))
    at.button(key="claims_load_example").click().run()
    assert ok(at).dataframe[0].value.shape[0] == 13


# -- claims ---------------------------------------------------------------------------------
def test_claims_filters_call_the_service(aleppo):
    at = ok(on("claims"))
    at.selectbox(key="claims_outcome").select("open").run()
    assert set(ok(at).dataframe[0].value["ref"]) == {"aleppo-11", "aleppo-13"}
    at.selectbox(key="claims_outcome").select("any").run()
    at.selectbox(key="claims_status").select("contested").run()
    assert set(at.dataframe[0].value["id"]) == {1, 3, 6, 8, 11}
    at.selectbox(key="claims_status").select("any").run()
    at.selectbox(key="claims_source").select("Churkin").run()
    assert list(at.dataframe[0].value["ref"]) == ["aleppo-01"]
    at.selectbox(key="claims_source").select(None).run()
    at.text_input(key="claims_search").input("buses").run()
    assert set(at.dataframe[0].value["id"]) == {3, 10}


def test_claims_are_paginated(aleppo):
    for n in range(20):
        aleppo.log_claim(f"Filler claim number {n}", reports=[{"source": "ICRC", "stance": "rumoured",
                                                               "reported_at": f"{n + 1} January 2017"}])
    at = ok(on("claims"))
    assert len(at.dataframe[0].value) == 25
    assert "1-25 of 33 claims (page 1 of 2)" in texts(at.caption)
    at.number_input(key="claims_page").set_value(2).run()
    assert len(ok(at).dataframe[0].value) == 8
    assert "26-33 of 33 claims (page 2 of 2)" in texts(at.caption)
    at.text_input(key="claims_search").input("filler").run()  # a new filter starts again at page 1
    assert at.number_input(key="claims_page").value == 1 and len(at.dataframe[0].value) == 20


def test_open_a_claim_from_the_claims_page(aleppo):
    at = ok(on("claims"))
    at.selectbox(key="claims_open").select(11).run()
    at.button(key="claims_open_button").click().run()
    assert ok(at).subheader[0].value.startswith("#11: The evacuation deal broke down")


# -- log a claim ----------------------------------------------------------------------------
def test_logging_a_claim_writes_it_to_the_store(aleppo):
    at = ok(on("log_claim"))
    at.text_area(key="log_statement").input("The last convoy has left eastern Aleppo").run()
    at.text_input(key="log_topics").input("aleppo; evacuation").run()
    fill_report(at, 0, "ICRC", "confirmed", "Thursday 22nd December 2016 15:00")
    assert "Read as 2016-12-22T15:00Z" in texts(at.caption)
    at.button(key="log_add_row").click().run()
    at.selectbox(key="log_r1_source").select("Lavrov").run()  # an alias picks its source
    assert "Lavrov is an alias of Sergei Lavrov" in texts(at.caption)
    at.selectbox(key="log_r1_stance").select("rumoured").run()
    at.text_input(key="log_r1_when").input("22 Dec 2016 18:00").run()
    at.text_input(key="log_r1_quote").input("The operation is *complete*").run()
    at.button(key="log_submit").click().run()
    ok(at)
    assert not at.error and "Logged claim #14." in at.success[0].value
    view = aleppo.get_claim(14)
    assert view.claim.statement == "The last convoy has left eastern Aleppo" and view.topics == ["aleppo", "evacuation"]
    assert [(s, r.stance) for r, s, _ in view.reports] == [("ICRC", "confirmed"), ("Sergei Lavrov", "rumoured")]
    assert view.reports[1][0].quote == "The operation is *complete*"
    assert at.text_area(key="log_statement").value == ""  # the form is cleared for the next claim


def test_the_source_picker_offers_what_exists_and_a_new_source_is_an_explicit_choice(aleppo):
    at = ok(on("log_claim"))
    picker = at.selectbox(key="log_r0_source")
    # no free text: what is typed narrows the known names and aliases, and Enter takes the best of them
    assert not picker.proto.accept_new_options
    assert {"Sergei Lavrov", "Lavrov (alias of Sergei Lavrov)"} <= set(picker.options)
    at.checkbox(key="log_r0_source_new").check().run()
    at.text_input(key="log_r0_source_name").input("Lavrov Sergei").run()
    assert "Known names close to it:" in texts(ok(at).caption)
    at.button(key="log_r0_source_near0").click().run()
    assert ok(at).selectbox(key="log_r0_source").value == "Sergei Lavrov"  # the near match, picked
    at.checkbox(key="log_r0_via_new").check().run()
    at.text_input(key="log_r0_via_name").input("E2E Wire").run()
    assert "New source: E2E Wire will be created" in texts(ok(at).caption)
    at.text_area(key="log_statement").input("The last convoy has left eastern Aleppo").run()
    at.selectbox(key="log_r0_stance").select("confirmed").run()
    at.text_input(key="log_r0_when").input("22 Dec 2016 18:00").run()
    at.button(key="log_submit").click().run()
    assert "Logged claim #14." in ok(at).success[0].value
    assert [(s, v) for _, s, v in aleppo.get_claim(14).reports] == [("Sergei Lavrov", "E2E Wire")]
    assert not at.checkbox(key="log_r0_via_new").value  # cleared for the next claim


def test_a_bad_date_shows_an_error_and_writes_nothing(aleppo):
    before = queries.fingerprint(aleppo)
    at = ok(on("log_claim"))
    at.text_area(key="log_statement").input("The ceasefire holds").run()
    fill_report(at, 0, "Kremlin", "confirmed", "someday soon")
    assert "is not a date this tracker can read" in texts(at.caption)
    at.button(key="log_submit").click().run()
    assert "report 1: the report's time: 'someday soon' is not a date" in texts(ok(at).error)
    assert queries.fingerprint(aleppo) == before
    assert at.text_area(key="log_statement").value == "The ceasefire holds"  # nothing typed is lost


def test_a_second_bad_report_writes_nothing_of_the_first(aleppo):
    before = queries.fingerprint(aleppo)
    at = ok(on("log_claim"))
    at.text_area(key="log_statement").input("The ceasefire holds").run()
    fill_report(at, 0, "Kremlin", "confirmed", "20 December 2016")
    at.button(key="log_add_row").click().run()
    at.button(key="log_submit").click().run()
    assert "report 2" in texts(ok(at).error)
    assert queries.fingerprint(aleppo) == before


def test_similar_claims_are_offered_and_a_report_goes_to_the_existing_one(aleppo):
    at = ok(on("log_claim"))
    at.text_area(key="log_statement").input("The evacuation of eastern Aleppo is back on track").run()
    assert "Possibly logged already" in at.warning[0].value
    at.button(key="log_use_8").click().run()
    assert ok(at).radio(key="log_mode").value.startswith("A report on")
    assert at.selectbox(key="log_claim_pick").value == 8
    at.selectbox(key="log_rep_source").select("Kremlin").run()
    at.selectbox(key="log_rep_stance").select("confirmed").run()
    at.text_input(key="log_rep_when").input("15 December 2016 10:00").run()
    at.button(key="log_add_report").click().run()
    assert "Added the report to claim #8." in ok(at).success[0].value
    assert ("Kremlin", "confirmed") in [(s, r.stance) for r, s, _ in aleppo.get_claim(8).reports]


def test_the_claim_pages_link_opens_the_report_form_on_that_claim(aleppo):
    at = ok(on("log_claim", claim=13))
    assert at.radio(key="log_mode").value.startswith("A report on")
    assert at.selectbox(key="log_claim_pick").value == 13
    at.text_input(key="log_find").input("buses").run()
    assert "#3 Rebel fighters fired on the buses sent to evacuate eastern Aleppo on 14 December" in set(
        ok(at).selectbox(key="log_claim_pick").options)


# -- review and outcomes --------------------------------------------------------------------
def test_marking_an_outcome_changes_the_sources_score(aleppo):
    at = ok(on("sources"))
    before = at.dataframe[0].value.set_index("source").loc["The Duran"]
    at.switch_page("app_pages/review.py").run()
    assert list(ok(at).dataframe[0].value["id"]) == [11, 13]
    at.selectbox(key="review_claim").select(13).run()
    at.selectbox(key="review_verdict").select("true").run()
    at.text_input(key="review_when").input("20 December 2016").run()
    at.text_input(key="review_evidence").input("https://example.org/trials").run()
    at.button(key="review_record").click().run()
    assert "Claim #13 is now true" in ok(at).success[0].value
    assert list(at.dataframe[0].value["id"]) == [11]
    at.switch_page("app_pages/sources.py").run()
    after = ok(at).dataframe[0].value.set_index("source").loc["The Duran"]
    assert (after["resolved"], after["pending"]) == (before["resolved"] + 1, before["pending"] - 1)
    assert after["reliability"] != before["reliability"]
    assert aleppo.get_claim(13).outcome.evidence_url == "https://example.org/trials"


def test_an_outcome_before_the_claim_is_refused_in_the_form(aleppo):
    before = queries.fingerprint(aleppo)
    at = ok(on("review"))
    at.selectbox(key="review_verdict").select("false").run()
    at.text_input(key="review_when").input("1 January 2010").run()
    at.button(key="review_record").click().run()
    assert "before claim #11 was first reported" in texts(ok(at).error)
    assert queries.fingerprint(aleppo) == before


def test_revising_an_outcome_on_the_claim_page_keeps_its_history(aleppo):
    at = ok(app(claim=8).run())
    at.selectbox(key="claim_outcome_verdict").select("partly_true").run()
    at.text_input(key="claim_outcome_when").input("16 December 2016").run()
    at.button(key="claim_outcome_record").click().run()
    ok(at)
    history = table(at, "in force")
    assert list(history["verdict"]) == ["true", "partly_true"] and list(history["in force"]) == [False, True]
    assert [o.verdict for o in aleppo.get_claim(8).outcomes] == ["true", "partly_true"]


# -- claim and source pages -----------------------------------------------------------------
def test_deep_links_open_the_claim_and_source_pages(aleppo):
    at = ok(app(claim=8).run())
    assert at.subheader[0].value == "#8: The evacuation of eastern Aleppo is back on track and will happen shortly"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Reported status"] == "contested" and metrics["Outcome"] == "true"
    # resolved: what the tracker said before the verdict, never a value computed with hindsight
    said = forecast.predict(load_evidence(aleppo.engine), claim_ids=[8])
    assert metrics["p_true before the verdict"] == f"{said['p_true'].iloc[0]:.2f}"
    assert "Likely true (p_true)" not in metrics
    words = " ".join(m.value for m in at.markdown)
    for source in ("Russian Defence Ministry", "ICRC", "The Duran", "Jihadi sources"):
        assert source in words
    assert "Prior: topic aleppo" in words
    assert len(table(at, "via")) == 5

    at = ok(app(source=16).run())
    assert at.subheader[0].value == "The Duran"
    assert {m.label: m.value for m in at.metric}["Grade"] == "D"
    assert len(table(at, "how")) == 11
    record = table(at, "truth_rate").set_index("stance")
    assert record.loc["confirmed", "true"] == 4


def test_deep_links_to_missing_claims_and_sources_say_so(aleppo):
    assert "there is no claim #999" in texts(ok(app(claim=999).run()).error)
    assert "not a claim number" in texts(ok(app(claim="abc").run()).error)
    assert "there is no source #999" in texts(ok(app(source=999).run()).error)


def test_sources_filters(aleppo):
    at = ok(on("sources"))
    assert len(at.dataframe[0].value) == 16
    at.selectbox(key="sources_kind").select("official").run()
    assert set(ok(at).dataframe[0].value["source"]) == {"Sergei Lavrov", "Vitaly Churkin"}
    at.selectbox(key="sources_kind").select("any").run()
    at.toggle(key="sources_min_record").set_value(True).run()
    assert list(ok(at).dataframe[0].value["source"]) == ["The Duran"]
    at.toggle(key="sources_min_record").set_value(False).run()
    at.selectbox(key="sources_topic").select("military").run()
    shown = ok(at).dataframe[0].value.set_index("source")["resolved"]
    expected = score_sources(load_evidence(aleppo.engine).for_topic("military")).set_index("source")["resolved"]
    assert shown.to_dict() == expected.to_dict() and shown.sum() < 30


def test_calibration_page_scores_the_predictions(aleppo):
    at = ok(on("calibration"))
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Claims scored"] == "9" and float(metrics["Brier score"]) < 0.25
    assert float(metrics["Log loss"]) > 0
    compared = table(at, "forecaster").set_index("forecaster")
    assert list(compared.index) == ["tracker", "previous scorer", "running base rate", "majority vote", "constant 0.5"]
    assert (compared["claims"] == 9).all() and compared.loc["constant 0.5", "brier"] == pytest.approx(8 * 0.25 / 9)  # one claim is partly true
    assert table(at, "truth_rate")["claims"].sum() >= 9  # by topic
    assert "defaults (a fit needs 30 resolved claims)" in " ".join(c.value for c in at.caption)


# -- import and export ----------------------------------------------------------------------
BAD_CSV = (
    "claim_ref,claim,source,stance,reported_at,outcome,outcome_at\n"
    "x-1,The bridge is open,Kremlin,confirmed,13 December 2016,,\n"
    "x-2,The bridge is closed,Kremlin,probably,13 December 2016,,\n"
    "x-3,,ICRC,denied,someday,,\n"
)


def test_import_of_a_bad_file_shows_its_bad_rows_and_writes_nothing(aleppo):
    before = queries.fingerprint(aleppo)
    at = ok(on("import_export"))
    at.file_uploader(key="import_file").upload("bad.csv", BAD_CSV.encode(), "text/csv").run()
    assert "3 problems in 2 rows would be refused" in ok(at).error[0].value  # the preview, before the button
    at.button(key="import_button").click().run()
    assert "3 problems in 2 rows; nothing was changed" in texts(ok(at).error)
    said = [e.value for e in at.error] + [block.label for block in at.get("status")]
    assert any("bad.csv" in text for text in said[1:]), said  # the status block is seen
    assert sum("not imported" in text for text in said) == 1  # announced once
    bad = table(at, "problem")
    assert list(bad["row"]) == ["row 3", "row 4", "row 4"]
    assert "unknown stance 'probably'" in bad["problem"].iloc[0]
    assert queries.fingerprint(aleppo) == before


def test_import_of_a_good_file(store_env):
    good = {"claims": [{"claim_ref": "c-1", "statement": "The bridge is open", "topics": ["roads"],
                        "reports": [{"source": "Roads agency", "stance": "confirmed",
                                     "reported_at": "2020-01-02T10:00Z"}],
                        "outcomes": [{"verdict": "true", "decided_at": "2020-01-03T10:00Z"}]}]}
    at = ok(on("import_export"))
    at.file_uploader(key="import_file").upload("good.json", json.dumps(good).encode(), "application/json").run()
    at.button(key="import_button").click().run()
    assert "Imported good.json: 1 claim(s) created" in texts(ok(at).success)
    assert queries.overview_counts(cache.ledger())["claims"] == 1
    assert not at.download_button(key="export_csv").disabled and not at.download_button(key="export_json").disabled


def test_the_import_preview_says_what_would_change_and_writes_nothing(aleppo):
    rows = list(csv.DictReader(io.StringIO(export_csv(aleppo))))
    rows[0]["source"] = "Reuters"  # corrected in a spreadsheet, by its report_ref
    rows.append({**rows[1], "report_ref": "", "source": "ICRC", "stance": "confirmed"})
    stream = io.StringIO()
    writer = csv.DictWriter(stream, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    before = queries.fingerprint(aleppo)
    at = ok(on("import_export"))
    at.file_uploader(key="import_file").upload("edited.csv", stream.getvalue().encode(), "text/csv").run()
    counts = table(ok(at), "updated").set_index("")
    assert (counts.loc["reports", "created"], counts.loc["reports", "updated"]) == (1, 1)
    assert counts.loc["reports", "unchanged"] == len(rows) - 2
    assert queries.fingerprint(aleppo) == before  # a preview writes nothing
    at.button(key="import_button").click().run()
    assert "1 report(s) added, 1 updated" in ok(at).success[0].value
    assert "Reuters" in [s for _, s, _ in aleppo.get_claim(1).reports]


def export_csv(ledger: Ledger) -> str:
    """The store as CSV text."""
    stream = io.StringIO()
    write_csv(ledger, stream)
    return stream.getvalue()


def test_a_claim_logged_twice_is_merged_from_its_page(aleppo):
    copy = aleppo.log_claim("The evacuation of eastern Aleppo is back on track again", reports=[
        {"source": "ICRC", "stance": "confirmed", "reported_at": "2016-12-15T08:00Z"}])
    at = ok(on("claim", claim=8))
    at.selectbox(key="claim_merge_pick").select(str(copy.id))  # a form: its fields are sent with the button
    at.checkbox(key="claim_merge_sure").check()
    at.button(key="claim_merge_submit").click().run()
    assert f"Merged claim {copy.id} into claim #8." in ok(at).success[0].value
    assert aleppo.get_claim(copy.id).claim.merged_into_id == 8
    assert "ICRC" in [s for _, s, _ in aleppo.get_claim(8).reports]


def test_claims_logged_twice_are_found_and_merged_from_the_claims_page(aleppo):
    copy = aleppo.log_claim("The evacuation of eastern Aleppo is back on track!", first_reported_at="2016-12-15")
    at = ok(on("claims"))
    at.button(key="claims_duplicates_look").click().run()
    assert any(f"**#8** and **#{copy.id}**" in m.value for m in ok(at).markdown)
    at.button(key=f"claims_duplicates_8_{copy.id}").click().run()
    assert f"Merged claim #{copy.id} into claim #8." in ok(at).success[0].value
    assert aleppo.get_claim(copy.id).claim.merged_into_id == 8


def test_claims_an_import_logged_twice_are_offered_for_merging(aleppo):
    text = ("claim_ref,claim,source,stance,reported_at,outcome,outcome_at\n"
            "n-1,The evacuation of eastern Aleppo is back on track now,ICRC,confirmed,2016-12-15,,\n")
    at = ok(on("import_export"))
    at.file_uploader(key="import_file").upload("new.csv", text.encode(), "text/csv").run()
    at.button(key="import_button").click().run()
    at.button(key="import_duplicates_look").click().run()
    assert any("**#8** and **#14**" in m.value for m in ok(at).markdown)
    at.button(key="import_duplicates_8_14").click().run()
    assert "Merged claim #14 into claim #8." in ok(at).success[0].value
    assert aleppo.get_claim(14).claim.merged_into_id == 8


# -- times typed live, each entry in its own zone ------------------------------------------
def test_log_a_claim_reads_times_in_the_entrys_zone_and_previews_utc(aleppo, monkeypatch):
    monkeypatch.setenv("TRACKER_TIMEZONE", "Europe/London")
    at = ok(on("log_claim"))
    assert at.selectbox(key="log_zone").value == "Europe/London"  # starts at the user's setting
    at.selectbox(key="log_zone").select("Asia/Damascus").run()
    at.text_area(key="log_statement").input("Convoys left eastern Aleppo at dusk").run()
    fill_report(at, 0, "ICRC", "confirmed", "15 December 2016 18:00")
    assert "Read as 2016-12-15T16:00Z" in texts(ok(at).caption)
    at.button(key="log_add_row").click().run()
    fill_report(at, 1, "Kremlin", "rumoured", "15 December 2016 10:00 EET")  # its own zone wins
    at.text_input(key="log_expected").input("17 December 2016").run()
    assert "Read as the date 2016-12-17" in texts(ok(at).caption)
    at.button(key="log_submit").click().run()
    assert "Logged claim #14." in ok(at).success[0].value
    view = aleppo.get_claim(14)
    assert [format_when(r.reported_at) for r, _, _ in view.reports] == ["2016-12-15T08:00Z", "2016-12-15T16:00Z"]
    assert format_when(view.claim.expected_by) == "2016-12-17T00:00Z"


def test_a_time_at_a_dst_change_in_the_picked_zone_is_refused_in_the_form(aleppo):
    before = queries.fingerprint(aleppo)
    at = ok(on("log_claim"))
    at.selectbox(key="log_zone").select("Europe/Berlin").run()
    at.text_area(key="log_statement").input("Clocks went back").run()
    fill_report(at, 0, "Kremlin", "confirmed", "2016-10-30 02:30")
    assert "happened twice in Europe/Berlin" in texts(ok(at).caption)
    at.button(key="log_submit").click().run()
    assert "happened twice in Europe/Berlin" in ok(at).error[0].value
    assert queries.fingerprint(aleppo) == before


def test_an_outcome_given_as_a_date_is_kept_and_shown_as_a_date(aleppo):
    at = ok(app(claim=8).run())
    at.selectbox(key="claim_outcome_verdict").select("partly_true").run()
    at.selectbox(key="claim_outcome_zone").select("Pacific/Kiritimati").run()  # +14:00: the date must not move
    at.text_input(key="claim_outcome_when").input("16 December 2016").run()
    at.button(key="claim_outcome_record").click().run()
    assert list(table(ok(at), "in force")["decided_at"])[-1] == "2016-12-16"
    outcome = aleppo.get_claim(8).outcome
    assert outcome.decided_date_only and format_when(outcome.decided_at, True) == "2016-12-16"


def test_an_expected_by_time_is_read_in_the_edit_forms_zone(aleppo):
    at = ok(app(claim=8).run())
    at.text_input(key="claim_edit_expected").set_value("17 December 2016 23:30")
    at.selectbox(key="claim_edit_zone").select("Asia/Tokyo")
    at.button(key="claim_edit_save").click().run()
    assert not ok(at).error
    assert format_when(aleppo.get_claim(8).claim.expected_by) == "2016-12-17T14:30Z"


def test_the_first_page_loads_no_self_assessment():
    """What dashboard.py and the Overview import (the first page after the server starts pays every
    import) leaves out the self-assessment and SciPy's optimisers it needs (about 0.4 s): only the
    Calibration page and a calibration glance load them."""
    from tests.test_cli import _loaded_after

    code = ("import tracker.dashboard.access, tracker.dashboard.forms, tracker.dashboard.widgets, "
            "tracker.dashboard.pages, tracker.queries, tracker.scoring")
    assert _loaded_after(code, ("tracker.selfscore", "tracker.evaluation", "scipy.optimize")) == []


def test_the_server_warms_up_the_first_page_as_it_starts(aleppo):
    """`streamlit run dashboard.py` serves dashboard.py's `st.App`, whose start (`startup.warm`, in a
    thread) imports what the pages draw with and computes the Overview's figures: the sources'
    scores, and on a small store the calibration glance, kept beside the store for its state."""
    from streamlit.web.server.app_discovery import discover_asgi_app

    from tests.test_cli import _loaded_after
    from tracker import fitcache

    assert discover_asgi_app(REPO / "dashboard.py").import_string == "dashboard:app"
    state = fitcache.state(aleppo.engine)
    assert fitcache.read(aleppo.engine, state, "glance") is None and fitcache.read(aleppo.engine, state, "scores") is None
    warm = "from tracker.dashboard import startup\nstartup.warm()"
    assert _loaded_after(warm, ("pandas", "scipy.special", "altair")) == ["pandas", "scipy.special", "altair"]
    assert fitcache.read(aleppo.engine, state, "glance") is not None and fitcache.read(aleppo.engine, state, "scores") is not None
    # a restart over the same store: the scores and the glance are read, not computed, so no SciPy
    # (its import is 0.4-0.7 s of the first page)
    assert _loaded_after(warm, ("pandas", "scipy.special", "altair")) == ["pandas", "altair"]


def test_pages_draw_charts_without_altairs_check_and_each_chart_drawn_is_valid(aleppo, monkeypatch):
    """Altair checks a chart's whole spec against the Vega-Lite schema each time Streamlit draws it
    (0.05-0.2 s a chart, most of a warm page's script); the pages skip that check (`widgets.chart`),
    so every chart they draw is checked here instead."""
    import altair as alt
    from altair.vegalite.v6.api import TopLevelMixin

    drawn = []

    def spy(cls):
        original = cls.to_dict

        def to_dict(self, validate=True, **options):
            if options.get("context") is None:  # the whole chart, as Streamlit asks for it (not a layer of it)
                drawn.append((self, validate, original))
            return original(self, validate=validate, **options)
        monkeypatch.setattr(cls, "to_dict", to_dict)

    spy(TopLevelMixin)
    spy(alt.Chart)
    widgets._leaderboard.clear()  # a leaderboard kept from an earlier test is converted no more
    for page, query in [("overview", {}), ("sources", {}), ("calibration", {}), ("claim", {"claim": 1}),
                        ("source", {"source": 1})]:
        ok(on(page, **query))
    titles = {str(chart.title) for chart, _, _ in drawn}
    assert len(titles) >= 10, titles  # the leaderboards, the claim's and source's charts, the calibration's
    assert [validate for _, validate, _ in drawn] == [False] * len(drawn)
    for chart, _, original in drawn:
        original(chart, validate=True)  # raises on a spec the schema refuses


def test_a_leaderboard_is_turned_into_its_spec_once_and_drawn_the_same_every_time(aleppo, monkeypatch):
    """The Overview's and Sources' leaderboards are built once per rows shown and turned into their
    Vega-Lite spec at their first draw only (Altair's conversion was 0.1-0.3 s of each warm page);
    every later draw sends the same spec and rows."""
    from altair.vegalite.v6.api import TopLevelMixin

    converted = []
    original = TopLevelMixin.to_dict
    monkeypatch.setattr(TopLevelMixin, "to_dict", lambda self, *a, **k: converted.append(k.get("context"))
                        or original(self, *a, **k))
    widgets._leaderboard.clear()

    def drawn(at):
        return [(json.loads(c.proto.spec), [bytes(d.data.data) for d in c.proto.datasets])
                for c in at.get("vega_lite_chart")]

    first = ok(on("overview"))
    assert converted.count(None) == 2 and len(drawn(first)) == 2
    again = ok(on("overview"))
    assert converted.count(None) == 2  # not converted again
    assert drawn(again) == drawn(first) and drawn(first)[0][1][0]  # the same spec, with its rows


def test_the_topics_are_read_once_per_store_state(aleppo, monkeypatch):
    """The Claims and Sources pages' topic lists are read once per store state, not on every rerun
    (a scan of every claim's topics: 1.1 s at two million claims); a new topic shows at once."""
    read = []
    original = queries.topics
    monkeypatch.setattr(queries, "topics", lambda *a, **k: read.append(1) or original(*a, **k))
    cache.topics.clear()
    at = ok(on("claims"))
    ok(at.run())
    ok(at.switch_page("app_pages/sources.py").run())
    assert len(read) == 1
    aleppo.log_claim("A claim on a new topic", topics=["convoys"],
                     reports=[{"source": "X", "stance": "rumoured", "reported_at": "2016-12-20"}])
    at = ok(at.switch_page("app_pages/claims.py").run())
    assert len(read) == 2 and "convoys (1)" in at.selectbox(key="claims_topic").options


def test_counts_and_the_review_queue_are_read_once_per_store_state(aleppo, monkeypatch):
    """The pages' counts and the review queue are read once per store state (and minute, for claims
    falling overdue with time), not on every rerun; a write shows at once."""
    read = []
    for name in ("overview_counts", "review_queue"):
        original = getattr(queries, name)
        monkeypatch.setattr(queries, name, lambda *a, _original=original, _name=name, **k: read.append(_name)
                            or _original(*a, **k))
    cache.counts.clear()
    cache.review_queue.clear()
    at = ok(on("review"))
    opened = at.metric[0].value
    ok(at.run())
    ok(at.switch_page("app_pages/overview.py").run())
    assert sorted(read) == ["overview_counts", "review_queue", "review_queue"]  # the Overview shows its first 5
    aleppo.log_claim("A new claim to review", reports=[{"source": "X", "stance": "rumoured", "reported_at": "2016-12-20"}])
    at = ok(at.switch_page("app_pages/review.py").run())
    assert int(at.metric[0].value) == int(opened) + 1
