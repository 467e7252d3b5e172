"""The Import and export page with the ecosystem's formats: preview and rating mapping first, then import."""

from __future__ import annotations

import json

from tests.conftest import FIXTURES
from tests.test_dashboard import aleppo, ok, on, store_env, table  # noqa: F401 (fixtures)
from tracker import queries
from tracker.dashboard import cache

HERE = FIXTURES / "claimreview"
ODD = json.dumps({"@context": "https://schema.org", "@type": "ClaimReview", "url": "https://check.example.org/1",
                  "claimReviewed": "The convoy left", "datePublished": "2016-12-20",
                  "reviewRating": {"alternateName": "Sorta"}})


def upload(at, name: str, data: str):
    """Upload a file to the import form and rerun."""
    return at.file_uploader(key="import_file").upload(name, data.encode(), "application/json").run()


def test_fact_check_results_are_previewed_with_the_mapping_then_imported(store_env):  # noqa: F811
    at = ok(on("import_export"))
    ok(upload(at, "search.json", (HERE / "factcheck-page-1.json").read_text()))
    preview = table(at, "review date")
    assert list(preview["verdict"]) == ["true", "true", "partly_true", "unverifiable"]
    assert list(preview["rating"]) == ["True", "Verdadero", "Irreführend", "Unproven"]
    mapping = table(at, "rating text")
    assert ("Pants on Fire", "false") in set(zip(mapping["rating text"], mapping["verdict"]))
    assert queries.overview_counts(cache.ledger())["claims"] == 0  # a preview writes nothing
    at.button(key="import_button").click().run()
    message = ok(at).success[0].value.replace("\\", "")  # the notes quote claims: shown escaped
    assert "Imported search.json: 2 claim(s) created" in message and "different verdicts" in message
    assert queries.overview_counts(cache.ledger())["outcomes"] == 4


def test_an_unknown_rating_is_shown_then_mapped_by_the_user(store_env):  # noqa: F811
    at = ok(on("import_export"))
    ok(upload(at, "odd.jsonld", ODD))
    assert "not in the rating mapping" in table(at, "problem")["problem"].iloc[0]
    at.button(key="import_button").click().run()
    assert "1 bad row(s); nothing was changed" in ok(at).error[0].value
    at.text_area(key="import_ratings").input("Sorta=partly_true").run()
    assert list(table(at, "review date")["verdict"]) == ["partly_true"]
    at.button(key="import_button").click().run()
    assert "1 claim(s) created" in ok(at).success[0].value.replace("\\", "")


def test_unknown_ratings_as_unverifiable_from_the_page(store_env):  # noqa: F811
    at = ok(on("import_export"))
    ok(upload(at, "odd.jsonld", ODD))
    at.radio(key="import_unknown").set_value("import as unverifiable").run()
    assert list(table(at, "review date")["verdict"]) == ["unverifiable"]


def test_exports_for_other_tools(aleppo):  # noqa: F811
    at = ok(on("import_export"))
    assert at.download_button(key="export_claimreview").disabled and not at.download_button(key="export_stix").disabled
    at.text_input(key="export_publisher").input("Aleppo Desk").run()
    at.text_input(key="export_review_url").input("https://desk.example.org/{nope}").run()
    assert "not usable" in ok(at).error[0].value and at.download_button(key="export_claimreview").disabled
    at.text_input(key="export_review_url").input("https://desk.example.org/{ref}").run()
    assert not ok(at).download_button(key="export_claimreview").disabled
