"""The dashboard's read queries: filters, paging and derived status in SQL agree with the service layer."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import NOW
from tracker import queries
from tracker.errors import LedgerError, NotFoundError
from tracker.ledger import Ledger


def test_status_in_sql_matches_the_service_layer(seeded):
    expected = {v.claim.id: v.status.value for v in seeded.claim_views()}
    rows = queries.claim_rows(seeded, limit=100).rows
    assert dict(zip(rows["id"], rows["status"])) == expected
    for status in queries.STATUS_FILTERS[1:]:
        got = set(queries.claim_rows(seeded, status=status, limit=100).rows["id"])
        assert got == {cid for cid, s in expected.items() if s == status}, status


@pytest.mark.parametrize(("outcome", "count"), [
    ("any", 13), ("open", 2), ("resolved", 11), ("overdue", 0), ("true", 5), ("false", 3),
    ("partly_true", 1), ("unverifiable", 2),
])
def test_outcome_filter(seeded, outcome, count):
    assert queries.claim_rows(seeded, outcome=outcome, limit=100).total == count


def test_topic_source_and_text_filters(seeded):
    assert list(queries.claim_rows(seeded, source="churkin").rows["ref"]) == ["aleppo-01"]
    assert set(queries.claim_rows(seeded, topic="Military", limit=100).rows["id"]) == {
        v.claim.id for v in seeded.claim_views() if "military" in v.topics}
    words = queries.claim_rows(seeded, text="EVACUATION eastern", limit=100).rows
    assert len(words) and all("evacuation" in s.lower() and "eastern" in s.lower() for s in words["statement"])
    assert list(queries.claim_rows(seeded, text="#8").rows["id"]) == [8]
    assert queries.claim_rows(seeded, text="100%_").total == 0  # LIKE wildcards are taken literally
    with pytest.raises(NotFoundError, match="no source is called"):
        queries.claim_rows(seeded, source="nobody at all")


def test_claims_are_paged_in_sql(seeded):
    first = queries.claim_rows(seeded, offset=0, limit=5)
    second = queries.claim_rows(seeded, offset=5, limit=5)
    last = queries.claim_rows(seeded, offset=10, limit=5)
    assert (first.total, first.pages, len(first.rows), len(last.rows)) == (13, 3, 5, 3)
    ids = list(first.rows["id"]) + list(second.rows["id"]) + list(last.rows["id"])
    assert sorted(ids) == list(range(1, 14))
    by_reports = queries.claim_rows(seeded, order="reports", limit=100).rows["reports"].tolist()
    assert by_reports == sorted(by_reports, reverse=True)


def test_overview_counts_agree_with_the_service_layer(seeded):
    """The Overview's counts (three counts of claims, the reports summed from the kept counts) are
    what the claims' own views add up to, with a claim and a report retracted and one overdue."""
    late = seeded.log_claim("A deal will be signed by Friday", expected_by="15 December 2016",
                            reports=[{"source": "Kremlin", "stance": "rumoured", "reported_at": "13 December 2016"}])
    seeded.retract_claim(13, "a duplicate")
    seeded.retract_report(seeded.get_claim(11).reports[0][0].id, "wrong claim")
    views = [v for v in seeded.claim_views() if not v.retracted]
    resolved = sum(v.outcome is not None for v in views)
    late_ones = [v.claim.id for v in views if v.outcome is None and queries.is_overdue(
        v.claim.expected_by, v.claim.expected_by_date_only, NOW)]
    assert late_ones == [late.id]
    counts = queries.overview_counts(seeded, now=NOW)
    del counts["sources"]
    assert counts == {
        "claims": len(views), "open": len(views) - resolved, "overdue": 1, "resolved": resolved,
        "reports": sum(len(v.live_reports) for v in views), "outcomes": sum(len(v.outcomes) for v in views)}


def test_review_queue_puts_overdue_first_then_most_reports(seeded):
    late = seeded.log_claim("A deal will be signed by Friday", expected_by="15 December 2016",
                            reports=[{"source": "Kremlin", "stance": "rumoured", "reported_at": "13 December 2016"}])
    page = queries.review_queue(seeded, now=NOW)
    assert list(page.rows["id"]) == [late.id, 11, 13]  # 11 has two reports, 13 one
    assert page.rows["overdue"].tolist() == [True, False, False]
    assert queries.overview_counts(seeded, now=NOW)["overdue"] == 1
    assert list(queries.claim_rows(seeded, outcome="overdue", now=NOW).rows["id"]) == [late.id]
    seeded.record_outcome(late.id, "false", "16 December 2016")
    assert late.id not in set(queries.review_queue(seeded, now=NOW).rows["id"])


def test_similar_statements_are_offered(seeded):
    alike = queries.similar_claims(seeded, "the evacuation of eastern Aleppo is back on track")
    assert alike["id"].iloc[0] == 8 and alike["similarity"].iloc[0] >= 0.8
    assert queries.similar_claims(seeded, "Penguins migrate north in spring").empty
    assert queries.similar_claims(seeded, "").empty


def test_fingerprint_changes_on_every_write(seeded):
    seen = {queries.fingerprint(seeded)}
    claim = seeded.log_claim("A new claim", reports=[{"source": "ICRC", "stance": "rumoured",
                                                      "reported_at": "20 December 2016"}])
    for write in (
        lambda: seeded.add_report(claim.id, "Kremlin", "denied", "21 December 2016"),
        lambda: seeded.record_outcome(claim.id, "true", "22 December 2016"),
        lambda: seeded.record_outcome(claim.id, "false", "22 December 2016"),
        lambda: seeded.add_alias("ICRC", "Red Cross"),
        lambda: seeded.rename_source("Kremlin", "The Kremlin"),
        lambda: seeded.merge_sources("Turkish officials", "Turkish military intelligence"),
        lambda: seeded.add_source("Someone new"),
    ):
        seen.add(queries.fingerprint(seeded))
        write()
    seen.add(queries.fingerprint(seeded))
    assert len(seen) == 9
    assert queries.fingerprint(seeded) == queries.fingerprint(seeded)


def test_source_pages(seeded):
    detail = queries.source_detail(seeded, 4)
    assert detail["name"] == "Vitaly Churkin" and "Churkin" in detail["aliases"]
    assert detail["parent"] == "Russian Foreign Ministry"
    claims = queries.source_claims(seeded, 16, limit=5)
    assert claims.total == 11 and len(claims.rows) == 5
    record = queries.source_record(seeded, 16).set_index("stance")
    assert record["claims"].sum() == 11
    assert record.loc["confirmed", "true"] == 4 and record.loc["confirmed", "truth_rate"] == 1.0
    times = queries.source_settle_times(seeded, 16)
    assert times == sorted(times) and len(times) >= 2
    assert queries.find_source(seeded, "LAVROV") == {"id": 3, "name": "Sergei Lavrov", "alias": "Lavrov"}
    assert queries.source_choices(seeded)["Lavrov"] == "Sergei Lavrov"
    with pytest.raises(NotFoundError):
        queries.source_detail(seeded, 999)


def test_recent_activity_newest_first(seeded):
    seeded.clock = lambda: NOW + timedelta(hours=1)
    seeded.record_outcome(13, "false", "20 December 2016")
    activity = queries.recent_activity(seeded, limit=3)
    assert activity.iloc[0][["what", "claim_id", "stance or verdict"]].tolist() == ["outcome", 13, "false"]
    assert len(activity) == 3


def test_empty_store(ledger):
    assert queries.overview_counts(ledger)["claims"] == 0
    assert queries.claim_rows(ledger).total == 0 and queries.review_queue(ledger).rows.empty
    assert queries.recent_activity(ledger).empty and queries.topics(ledger) == []


def test_fingerprint_changes_on_edits_in_place_and_not_on_refused_writes(seeded):
    before = queries.fingerprint(seeded)
    with seeded.transaction() as w:  # an edit that adds no row: a source's kind
        w.update_source(w.source("Western media", create=False), kind="news_outlet")
    edited = queries.fingerprint(seeded)
    assert edited != before
    with pytest.raises(LedgerError):
        seeded.add_report(1, "Kremlin", "maybe", "2016-12-14")
    assert queries.fingerprint(seeded) == edited  # nothing was written, nothing to invalidate
    other = Ledger.open(str(seeded.engine.url.database))  # another process's ledger on the same file
    other.record_outcome(11, "false", "2016-12-20")
    assert queries.fingerprint(seeded) != edited
    other.engine.dispose()


def test_the_sql_status_agrees_with_the_status_rule(seeded):
    # tracker/status.py is the rule; queries filter by a SQL copy of it: they must never differ
    seeded.log_claim("Two sources at one instant", reports=[
        {"source": "A", "stance": "rumoured", "reported_at": "2016-12-20 10:00"},
        {"source": "B", "stance": "denied", "reported_at": "2016-12-20 10:00"}])
    seeded.log_claim("A source changes its mind", reports=[
        {"source": "A", "stance": "confirmed", "reported_at": "2016-12-20 10:00"},
        {"source": "A", "stance": "denied", "reported_at": "2016-12-21 10:00"}])
    seeded.log_claim("Only relayed", reports=[
        {"source": "Western media", "stance": "rumoured", "reported_at": "2016-12-20", "via": "Jihadi sources"}])
    expected = {v.claim.id: v.status.value for v in seeded.claim_views()}
    shown = queries.claim_rows(seeded, limit=100).rows
    assert dict(zip(shown["id"], shown["status"])) == expected
    for status in set(expected.values()):
        assert set(queries.claim_rows(seeded, status=status, limit=100).rows["id"]) == {
            cid for cid, s in expected.items() if s == status}


def test_the_command_lines_claim_list_is_what_the_claim_views_show(random_store, monkeypatch):
    """`claim_list` (set-based, a slice of ids at a time) gives, for every filter, the rows the
    command line used to build from one ClaimView per claim: status, verdict, live reports, dates."""
    from tracker import store

    monkeypatch.setattr(store, "MAX_BOUND_IDS", 7)  # several slices
    source = random_store.list_sources()[0]["name"]
    cases = [{}, {"outcome": "open"}, {"outcome": "resolved"}, {"status": "contested"}, {"status": "rumoured"},
             {"topic": "TOPIC"}, {"source": source}]
    for filters in cases:
        if "topic" in filters:
            filters["topic"] = queries.topics(random_store)[0][0]
        views = random_store.claim_views(queries.claim_ids(random_store, **filters))
        expected = [(v.claim.id, v.claim.ref, v.claim.statement, v.status.value,
                     v.outcome.verdict if v.outcome else None, len(v.reports), v.claim.first_reported_at,
                     v.claim.first_reported_date_only) for v in views]
        assert expected and queries.claim_list(random_store, **filters) == expected, filters


# statements whose words differ only in case (SQLite folds ASCII letters only, PostgreSQL all), or
# sit beside LIKE's own characters (a word never holds one: words are runs of letters and digits)
_ALIKE = ["ALEPPO evacuation DEAL reached", "Алеппо: ЭВАКУАЦИЯ началась в Алеппо", "Évacuation d'Alep: accord conclu",
          "100% of_the buses left Aleppo", "deal_breaker in aleppo", "Idealists dealt a blow", "Straße nach ALEPPO gesperrt",
          "ÉVACUATION D'ALEP", "алеппо эвакуация", r"a back\\slash claim"]


@pytest.fixture
def alike(any_ledger):
    """A store holding the `_ALIKE` statements, each with one report (SQLite, then PostgreSQL)."""
    for statement in _ALIKE:
        any_ledger.log_claim(statement, reports=[{"source": "Kremlin", "stance": "rumoured", "reported_at": "13 December 2016"}])
    return any_ledger


@pytest.mark.parametrize("text", ["aleppo deal", "Алеппо эвакуация", "évacuation alep", "buses_left 100%",
                                  "deal_breaker idealists", "straße", "back slash", "ÉVACUATION"])
def test_claims_sharing_words_are_those_ilike_finds(alike, text):
    """The candidates for likely duplicates (each statement lowered once, counted once) are exactly
    what `ILIKE` per word finds, in the same order, on both backends."""
    from sqlalchemy import case, select

    words = sorted(set(queries._words(text)), key=len, reverse=True)[:8]
    assert words
    live = queries._C
    hits = [case((live.c.statement.ilike(f"%{queries._escape_like(w)}%", escape="\\"), 1), else_=0) for w in words]
    shared = sum(hits[1:], hits[0])
    reference = select(live.c.id, live.c.statement).where(shared > 0).order_by(shared.desc(), live.c.id.desc()).limit(200)
    with alike.engine.connect() as connection:
        expected = [tuple(row) for row in connection.execute(reference)]
    assert [tuple(row) for row in queries._sharing_words(alike, words, 200)] == expected


@pytest.mark.parametrize("text", ["aleppo", "ALEPPO deal", "Алеппо", "évacuation", "100%", "of_the", "deal_", "Straße"])
def test_the_claims_search_finds_what_ilike_finds(alike, text):
    """The Claims page's search (`queries._folded`: on SQLite by LIKE, which folds case as its lower() does) finds
    exactly the claims `ILIKE` per word finds, on both backends, `%` and `_` taken as themselves."""
    from sqlalchemy import select

    reference = select(queries._C.c.id)
    for word in text.split():
        reference = reference.where(queries._C.c.statement.ilike(f"%{queries._escape_like(word)}%", escape="\\"))
    with alike.engine.connect() as connection:
        expected = sorted(connection.execute(reference).scalars())
    assert sorted(queries.claim_ids(alike, text=text)) == expected
    assert sorted(claim_id for claim_id, _ in queries.find_claims(alike, text)) == expected
