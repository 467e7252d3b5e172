"""`tracker import` and `tracker export` in the ecosystem's formats: ClaimReview, Fact Check Tools, STIX."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from tests.conftest import FIXTURES
from tracker.cli import main

HERE = FIXTURES / "claimreview"


@pytest.fixture
def run(db_path):
    """Run `tracker --db <fresh file> ARGS...` in-process; returns the click Result."""
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(main, ["--db", str(db_path), *args])

    return invoke


@pytest.mark.parametrize("name", ["fact-check-page.html", "reviews-list.jsonld", "reviews-graph.json",
                                  "factcheck-page-1.json"])
def test_claimreview_files_are_recognised_without_format(run, name):
    result = run("import", str(HERE / name))
    assert result.exit_code == 0, result.output
    assert "2 claim(s) created" in result.output


def test_fact_check_pages_with_the_summary_notes(run, tmp_path):
    pages = tmp_path / "pages.txt"
    pages.write_text((HERE / "factcheck-page-1.json").read_text() + (HERE / "factcheck-page-2.json").read_text())
    result = run("import", str(pages), "--format", "claimreview")
    assert result.exit_code == 0, result.output
    assert "4 claim(s) created" in result.output and "6 outcome(s) added" in result.output
    assert "note: 1 claim(s) reviewed with different verdicts" in result.output
    assert "note: 1 claimant report(s) had no claim date" in result.output
    again = run("import", str(pages), "--format", "claimreview")
    assert "0 claim(s) created, 0 updated, 4 unchanged; 0 report(s) added" in again.output


def test_unknown_ratings_refused_then_mapped_or_taken_as_unverifiable(run, tmp_path):
    path = tmp_path / "odd.jsonld"
    path.write_text(json.dumps({"@context": "https://schema.org", "@type": "ClaimReview",
                                "url": "https://check.example.org/1", "claimReviewed": "The convoy left",
                                "datePublished": "2016-12-20", "reviewRating": {"alternateName": "Sorta"}}))
    refused = run("import", str(path))
    assert refused.exit_code == 1 and "ClaimReview 1 (https://check.example.org/1): rating 'Sorta'" in refused.output
    assert "Traceback" not in refused.output
    bad = run("import", str(path), "--rating", "Sorta=maybe")
    assert bad.exit_code == 1 and "unknown verdict 'maybe'" in bad.output
    mapping = tmp_path / "ratings.json"
    mapping.write_text(json.dumps({"sorta": "partly_true"}))
    assert run("import", str(path), "--ratings", str(mapping)).exit_code == 0
    claims = json.loads(run("claims", "--format", "json").output)
    assert [c["outcome"] for c in claims] == ["partly_true"]


def test_unknown_ratings_as_unverifiable(run, tmp_path):
    path = tmp_path / "odd.jsonld"
    path.write_text(json.dumps({"@type": "ClaimReview", "url": "https://check.example.org/1",
                                "claimReviewed": "The convoy left", "datePublished": "2016-12-20",
                                "reviewRating": {"alternateName": "Sorta"}}))
    result = run("import", str(path), "--unknown-ratings", "unverifiable")
    assert result.exit_code == 0 and "imported as unverifiable: 'Sorta'" in result.output


def test_export_claimreview_and_import_it_elsewhere(run, tmp_path):
    run("demo")
    out = tmp_path / "reviews.jsonld"
    refused = run("export", str(out), "--format", "claimreview")
    assert refused.exit_code == 1 and "--publisher" in refused.output and not out.exists()
    result = run("export", str(out), "--format", "claimreview", "--publisher", "Aleppo Desk",
                 "--review-url", "https://desk.example.org/checks/{ref}")
    assert result.exit_code == 0 and "exported 11 resolved claims" in result.output
    other = CliRunner().invoke(main, ["--db", str(tmp_path / "other.db"), "import", str(out)])
    assert other.exit_code == 0 and "11 claim(s) created" in other.output


def test_export_claimreview_options_from_the_environment(run, monkeypatch):
    run("demo")
    monkeypatch.setenv("TRACKER_PUBLISHER", "Env Desk")
    monkeypatch.setenv("TRACKER_REVIEW_URL", "https://env.example.org/{id}")
    result = run("export", "-", "--format", "claimreview")
    reviews = json.loads(result.output)
    assert reviews[0]["author"]["name"] == "Env Desk" and reviews[0]["url"] == "https://env.example.org/1"


def test_export_stix(run, tmp_path):
    run("demo")
    out = tmp_path / "aleppo.stix.json"
    result = run("export", str(out), "--format", "stix", "--publisher", "Aleppo Desk")
    assert result.exit_code == 0 and "exported 13 claims" in result.output
    bundle = json.loads(out.read_text())
    assert bundle["type"] == "bundle"
    assert {o["name"] for o in bundle["objects"] if o["type"] == "identity"} >= {"Aleppo Desk", "The Duran"}


def test_rating_options_are_refused_for_other_formats(run, tmp_path):
    path = tmp_path / "claims.csv"
    path.write_text("claim_ref,claim,source,stance,reported_at,outcome,outcome_at\n")
    result = run("import", str(path), "--rating", "Sorta=true")
    assert result.exit_code == 2 and "add --format claimreview" in result.output
