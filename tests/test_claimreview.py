"""ClaimReview and Fact Check Tools in: every shape of input, the rating mapping, and the import's guarantees."""

from __future__ import annotations

import io
import json

import pytest

from tests.conftest import FIXTURES, NOW
from tracker import claimreview
from tracker.claimreview import import_file, import_text, looks_like, preview, read_reviews, write_claimreview
from tracker.errors import ImportRejected, ValidationError
from tracker.ledger import Ledger
from tracker.ratings import RATINGS, RatingMap, parse_overrides, rating_key, scale_verdict

HERE = FIXTURES / "claimreview"
PAGES = (HERE / "factcheck-page-1.json").read_text() + (HERE / "factcheck-page-2.json").read_text()
DEAL = "Russia and Turkey agreed a deal for fighters to leave eastern Aleppo"
KILLINGS = "Government forces killed civilians in their homes in eastern Aleppo"


def verdicts(ledger: Ledger) -> dict[str, list[tuple[str, str]]]:
    """Each claim's outcome history as (verdict, evidence), oldest first."""
    return {v.claim.statement: [(o.verdict, o.evidence_url) for o in v.outcomes] for v in ledger.claim_views()}


def review(text="The convoy left", rating="False", url="https://check.example.org/1", **extra) -> dict:
    """One ClaimReview object with the fields a fact-checker fills in."""
    item = {"@context": "https://schema.org", "@type": "ClaimReview", "url": url, "claimReviewed": text,
            "datePublished": "2016-12-20", "author": {"@type": "Organization", "name": "Desk Check"},
            "reviewRating": {"@type": "Rating", "alternateName": rating},
            "itemReviewed": {"@type": "Claim", "author": {"@type": "Person", "name": "A. Claimant"},
                             "datePublished": "2016-12-14"}}
    item.update(extra)
    return item


# -- shapes of input -----------------------------------------------------------------------
def test_fact_check_tools_pages_saved_one_after_another(ledger):
    result = import_text(ledger, PAGES, label="pages.json")
    assert (result.summary.claims_created, result.summary.reports_added, result.summary.outcomes_added) == (4, 4, 6)
    got = verdicts(ledger)
    assert got["The evacuation of eastern Aleppo has begun"] == [
        ("true", "https://deskcheck.example.org/2016/12/aleppo-evacuation-begun"),
        ("true", "https://verificanorte.example.org/alepo-evacuacion")]  # page 2 repeats a review: read once
    assert got["All civilians have now left eastern Aleppo"] == [
        ("false", "https://verif-express.example.org/alep-civils")]
    view = next(v for v in ledger.claim_views() if v.claim.statement.startswith("The Security Council"))
    assert [(src, r.stance) for r, src, _ in view.reports] == [("UN News", "confirmed")]
    assert view.outcome.note == ("Checagem Sul rated it 'Verdadeiro'; language: pt; "
                                 "title: Conselho de Segurança aprova monitores em Alepo")


def test_fact_check_tools_pages_as_a_json_list(ledger, tmp_path):
    pages = [json.loads((HERE / f"factcheck-page-{n}.json").read_text()) for n in (1, 2)]
    path = tmp_path / "search.json"
    path.write_text(json.dumps(pages))
    assert looks_like(path)
    assert import_file(ledger, path).summary.outcomes_added == 6


@pytest.mark.parametrize("name", ["reviews-list.jsonld", "reviews-graph.json", "fact-check-page.html"])
def test_json_ld_list_graph_and_html_page_read_alike(ledger, name):
    result = import_file(ledger, HERE / name)
    assert result.summary.claims_created == 2
    assert verdicts(ledger) == {
        DEAL: [("partly_true", "https://deskcheck.example.org/2016/12/deal-agreed")],
        KILLINGS: [("unverifiable", "https://deskcheck.example.org/2016/12/summary-killings")]}
    deal = next(v for v in ledger.claim_views() if v.claim.statement == DEAL)
    (report, source, _), = deal.reports
    assert (source, report.stance, report.url) == ("Turkish military intelligence", "confirmed",
                                                   "https://news.example.net/turkey-aleppo-deal")
    assert report.note == "also appeared at: https://wire.example.com/aleppo-deal-reported"
    assert deal.outcome.note.startswith("Desk Check rated it 'Half true'; language: en")


def test_a_claim_without_a_claimant_is_still_a_claim(ledger):
    item = review()
    del item["itemReviewed"]
    import_text(ledger, json.dumps(item))
    (view,) = ledger.claim_views()
    assert view.reports == [] and view.outcome.verdict == "false"
    assert view.claim.first_reported_at == view.outcome.decided_at


def test_a_page_without_json_ld_is_refused(ledger):
    with pytest.raises(ImportRejected, match="no <script"):
        import_text(ledger, "<html><body><p>no markup here</p></body></html>")


def test_a_remote_context_is_never_fetched(ledger):
    item = review()
    item["@context"] = "https://attacker.example.net/context.jsonld"
    with pytest.raises(ImportRejected, match="reads schema.org only"):
        import_text(ledger, json.dumps(item))
    assert ledger.counts()["claims"] == 0


def test_format_is_detected_only_where_unambiguous(tmp_path, seeded):
    from tracker.interchange import export_file

    ours = tmp_path / "ours.json"
    export_file(seeded, ours)
    assert not looks_like(ours)
    assert looks_like(HERE / "reviews-graph.json") and looks_like(HERE / "fact-check-page.html")
    assert looks_like(HERE / "factcheck-page-1.json")
    both = tmp_path / "both.json"
    both.write_text(json.dumps({"claims": [{"statement": "x", "claimReview": []}]}))
    with pytest.raises(ValidationError, match="--format json or --format claimreview"):
        looks_like(both)
    assert looks_like(both, "claimreview") and not looks_like(HERE / "reviews-graph.json", "json")


# -- ratings -------------------------------------------------------------------------------
@pytest.mark.parametrize("text,verdict", RatingMap().table())
def test_every_rating_in_the_mapping(text, verdict):
    assert RatingMap().verdict(text) == (verdict, "text")
    assert RatingMap().verdict(f"  {text.upper()}!! ") == (verdict, "text")  # case and punctuation insensitive


def test_every_rating_in_the_mapping_imports_as_its_verdict(ledger):
    pairs = RatingMap().table()
    items = [review(f"claim {i}", text, f"https://check.example.org/{i}") for i, (text, _) in enumerate(pairs)]
    import_text(ledger, json.dumps(items))
    got = {v.claim.statement: v.outcome.verdict for v in ledger.claim_views()}
    assert got == {f"claim {i}": verdict for i, (_, verdict) in enumerate(pairs)}


def test_ratings_ignore_accents_and_cover_five_languages():
    for text, verdict in [("Pants on Fire!", "false"), ("ENGANOSO", "partly_true"), ("plutot vrai", "true"),
                          ("Grossteils falsch", None), ("GRÖSSTENTEILS FALSCH", "false"), ("Meia-verdade", "partly_true"),
                          ("Sátira", "unverifiable"), ("Mostly True", "true"), ("Half True", "partly_true")]:
        assert RATINGS.get(rating_key(text)) == verdict, text


@pytest.mark.parametrize("value,worst,best,verdict", [
    (1, 1, 5, "false"), (2, 1, 5, "false"), (3, 1, 5, "partly_true"), (4, 1, 5, "true"), (5, None, None, "true"),
    (0.9, 0, 1, "true"), ("8", "10", "0", "false"), (6, 1, 5, None), ("n/a", 1, 5, None), (3, 3, 3, None)])
def test_numeric_rating_by_its_place_on_the_scale(value, worst, best, verdict):
    assert scale_verdict(value, worst, best) == verdict


def test_numeric_rating_decides_only_when_the_text_is_unknown(ledger):
    known = review("known", "False", "https://check.example.org/a",
                   reviewRating={"@type": "Rating", "alternateName": "False", "ratingValue": 5})
    scaled = review("scaled", "Sorta", "https://check.example.org/b",
                    reviewRating={"@type": "Rating", "alternateName": "Sorta", "ratingValue": 4, "bestRating": 5,
                                  "worstRating": 1})
    result = import_text(ledger, json.dumps([known, scaled]))
    assert {v.claim.statement: v.outcome.verdict for v in ledger.claim_views()} == {"known": "false", "scaled": "true"}
    assert any("numeric ratingValue" in n for n in result.notes)


def test_unknown_ratings_are_refused_with_the_row_named(ledger):
    items = [review("fine", "True", "https://check.example.org/1"), review("odd", "Sorta", "https://check.example.org/2"),
             review("odder", "Meh", "https://check.example.org/3")]
    with pytest.raises(ImportRejected) as caught:
        import_text(ledger, json.dumps(items))
    rows = {e.row: e.reason for e in caught.value.errors}
    assert set(rows) == {"ClaimReview 2 (https://check.example.org/2)", "ClaimReview 3 (https://check.example.org/3)"}
    assert "'Sorta' is not in the rating mapping" in rows["ClaimReview 2 (https://check.example.org/2)"]
    assert "--unknown-ratings unverifiable" in rows["ClaimReview 2 (https://check.example.org/2)"]
    assert ledger.counts()["claims"] == 0


def test_unknown_ratings_as_unverifiable_when_the_user_says_so(ledger):
    result = import_text(ledger, json.dumps([review("odd", "Sorta")]), RatingMap(unknown="unverifiable"))
    assert ledger.claim_views()[0].outcome.verdict == "unverifiable"
    assert any("'Sorta'" in n for n in result.notes)


def test_the_users_mapping_comes_first(ledger):
    ratings = RatingMap(parse_overrides(["Sorta=partly_true", "Misleading=false"]))
    import_text(ledger, json.dumps([review("a", "sorta!", "https://c.example.org/1"),
                                    review("b", "MISLEADING", "https://c.example.org/2")]), ratings)
    assert {v.claim.statement: v.outcome.verdict for v in ledger.claim_views()} == {"a": "partly_true", "b": "false"}
    for bad in ("Sorta", "Sorta=maybe", "=true"):
        with pytest.raises(ValidationError, match="--rating"):
            parse_overrides([bad])


# -- disagreement, idempotence, bad items, hostile text ---------------------------------------
def test_disagreeing_publishers_are_revisions_in_date_order(ledger):
    result = import_text(ledger, PAGES)
    buses = next(v for v in ledger.claim_views() if v.claim.statement.startswith("Rebel fighters"))
    # the file lists the later review first; the history is in date order and the latest is in force
    assert [(o.verdict, o.decided_at.day) for o in buses.outcomes] == [("unverifiable", 17), ("partly_true", 19)]
    assert buses.outcome.verdict == "partly_true"
    (note,) = [n for n in result.notes if "different verdicts" in n]
    assert "Desk Check: unverifiable (2016-12-17); Faktencheck Mitte: partly_true (2016-12-19)" in note
    assert any("no claim date" in n for n in result.notes)


def test_two_publishers_agreeing_on_one_day_make_one_outcome_naming_both(ledger):
    items = [review("same", "False", "https://a.example.org/1"), review("same", "Fake", "https://b.example.org/1")]
    import_text(ledger, json.dumps(items))
    (outcome,) = ledger.claim_views()[0].outcomes
    assert outcome.evidence_url == "https://a.example.org/1" and "https://b.example.org/1" in outcome.note


def test_importing_again_adds_nothing(ledger):
    first = import_text(ledger, PAGES)
    counts = ledger.counts()
    again = import_text(ledger, PAGES)
    assert ledger.counts() == counts
    assert (again.summary.claims_created, again.summary.reports_added, again.summary.outcomes_added) == (0, 0, 0)
    assert again.summary.claims_matched == first.summary.claims_created


def test_a_new_review_of_a_known_claim_adds_one_revision(ledger):
    import_text(ledger, json.dumps([review("c", "True", "https://a.example.org/1")]))
    later = review("c", "False", "https://b.example.org/2", datePublished="2016-12-22")
    result = import_text(ledger, json.dumps([review("c", "True", "https://a.example.org/1"), later]))
    assert result.summary.outcomes_added == 1
    assert [o.verdict for o in ledger.claim_views()[0].outcomes] == ["true", "false"]


def test_every_bad_review_is_named_and_nothing_changes(ledger):
    items = [
        review("fine", "True", "https://c.example.org/0"),
        review("", "True", "https://c.example.org/1"),
        review("no url", "True", None),
        review("no date", "True", "https://c.example.org/3", datePublished=None),
        review("bad date", "True", "https://c.example.org/4", datePublished="sometime soon"),
        review("before it was said", "True", "https://c.example.org/5", datePublished="2016-12-01"),
        review("fine", "False", "https://c.example.org/0"),  # the same url with another rating
    ]
    with pytest.raises(ImportRejected) as caught:
        import_text(ledger, json.dumps(items))
    reasons = "\n".join(str(e) for e in caught.value.errors)
    for expected in ("ClaimReview 2 (https://c.example.org/1): the claim reviewed is empty",
                     "ClaimReview 3: the review has no url", "ClaimReview 4 (https://c.example.org/3): the review has no date",
                     "ClaimReview 5 (https://c.example.org/4): the review's date", "dated before",
                     "ClaimReview 7 (https://c.example.org/0): the review url is also ClaimReview 1"):
        assert expected in reasons
    assert ledger.counts()["claims"] == 0


def test_broken_json_is_refused_with_its_line(ledger):
    with pytest.raises(ImportRejected, match="line 2"):
        import_text(ledger, '{"claims": [\n  {"text": }]}')


def test_hostile_text_is_kept_as_text(ledger, tmp_path):
    from tests.test_hostile_input import HOSTILE

    items = [review(text, "True", f"https://c.example.org/{i}", author={"@type": "Organization", "name": text},
                    itemReviewed={"@type": "Claim", "author": {"name": text[:40] + f" {i}"},
                                  "datePublished": "2016-12-14"}) for i, text in enumerate(HOSTILE)]
    # as a page embeds it: `</` escaped, so the markup in the text cannot end the script block
    html = "<html><head>" + "".join('<script type="application/ld+json">' + json.dumps(i).replace("</", "<\\/")
                                     + "</script>" for i in items) + "</head></html>"
    import_text(ledger, html)
    views = ledger.claim_views()
    assert sorted(v.claim.statement for v in views) == sorted(HOSTILE)
    assert sorted(src for v in views for _, src, _ in v.reports) == sorted(t[:40].strip() + f" {i}"
                                                                            for i, t in enumerate(HOSTILE))
    assert all(v.outcome.note.startswith(v.claim.statement) for v in views)  # the publisher, as written


def test_oversized_files_are_refused(ledger, monkeypatch, tmp_path):
    monkeypatch.setenv("TRACKER_MAX_IMPORT_MB", "0.001")
    path = tmp_path / "big.jsonld"
    path.write_text(json.dumps([review("x" * 2000)]))
    with pytest.raises(ValidationError, match="over the import limit"):
        import_file(ledger, path)
    with pytest.raises(ValidationError, match="over the import limit"):
        preview(path.read_text())


def test_preview_shows_each_review_with_its_verdict_or_problem():
    rows = preview(json.dumps([review("a", "Mostly false"), review("b", "Sorta", "https://c.example.org/2")]))
    assert [(r["claim"], r["rating"], r["verdict"]) for r in rows] == [("a", "Mostly false", "false"),
                                                                      ("b", "Sorta", "")]
    assert "not in the rating mapping" in rows[1]["problem"] and rows[0]["problem"] == ""


def test_reading_the_same_input_twice_gives_the_same_reviews():
    assert read_reviews(PAGES) == read_reviews(PAGES)


# -- ClaimReview out -----------------------------------------------------------------------
def test_export_round_trips_claims_and_verdicts(seeded, tmp_path):
    stream = io.StringIO()
    count = write_claimreview(seeded, stream, "Aleppo Desk", "https://desk.example.org/checks/{ref}",
                              publisher_url="https://desk.example.org")
    resolved = [v for v in seeded.claim_views() if v.outcome]
    assert count == len(resolved) == 11
    exported = json.loads(stream.getvalue())
    first = exported[0]
    assert first["@type"] == "ClaimReview" and first["url"] == "https://desk.example.org/checks/aleppo-01"
    assert first["author"] == {"@type": "Organization", "name": "Aleppo Desk", "url": "https://desk.example.org"}
    assert first["itemReviewed"]["@type"] == "Claim" and first["itemReviewed"]["author"]["name"]
    assert {r["reviewRating"]["alternateName"] for r in exported} <= {"True", "False", "Partly true", "Unverifiable"}
    other = Ledger.open(str(tmp_path / "other.db"), clock=lambda: NOW)
    import_text(other, stream.getvalue())
    assert {v.claim.statement: v.outcome.verdict for v in other.claim_views()} == \
           {v.claim.statement: v.outcome.verdict for v in resolved}


def test_export_needs_a_publisher_and_a_url_pattern(seeded):
    with pytest.raises(ValidationError, match="--publisher"):
        write_claimreview(seeded, io.StringIO(), None, "https://x.example.org/{ref}")
    with pytest.raises(ValidationError, match="--review-url"):
        write_claimreview(seeded, io.StringIO(), "Desk", None)
    with pytest.raises(ValidationError, match="not usable"):
        write_claimreview(seeded, io.StringIO(), "Desk", "https://x.example.org/{claim}")


def test_exported_refs_are_quoted_in_urls(ledger):
    claim = ledger.log_claim("a", reports=[{"source": "S", "stance": "confirmed", "reported_at": "2016-12-13"}],
                             ref="a b/../c")
    ledger.record_outcome(claim.id, "true", "2016-12-14")
    (item,) = claimreview.to_claimreviews(ledger, "Desk", "https://x.example.org/{ref}")
    assert item["url"] == "https://x.example.org/a%20b%2F..%2Fc"


def test_fact_check_import_on_sqlite_and_postgresql(any_ledger):
    first = import_text(any_ledger, PAGES)
    assert first.summary.outcomes_added == 6
    import_file(any_ledger, HERE / "fact-check-page.html")
    counts = any_ledger.counts()
    assert import_text(any_ledger, PAGES).summary.outcomes_added == 0 and any_ledger.counts() == counts
    buses = next(v for v in any_ledger.claim_views() if v.claim.statement.startswith("Rebel fighters"))
    assert [o.verdict for o in buses.outcomes] == ["unverifiable", "partly_true"]


def test_malformed_fact_check_results_are_named(ledger):
    page = {"claims": [{"text": "fine", "claimant": "A", "claimDate": "2016-12-13",
                        "claimReview": [{"url": "https://c.example.org/1", "reviewDate": "2016-12-14",
                                         "textualRating": "False"}, "oops"]},
                       "not a claim", {"text": "no reviews"}]}
    with pytest.raises(ImportRejected) as caught:
        import_text(ledger, json.dumps(page))
    assert [str(e) for e in caught.value.errors] == [
        "claims[0].claimReview[1]: each claimReview must be an object",
        "claims[1]: each claim must be an object",
        "claims[2]: the claim has no claimReview list; a Fact Check Tools result always has one, so check the file"]
