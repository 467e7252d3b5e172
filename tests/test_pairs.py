"""The pairs kept on write (`stance_pair`, tracker.pairs) and the claims' summaries kept with them
(`claim_summary`, tracker.summaries: status and report count) always equal those computed from the reports, on SQLite and
PostgreSQL: after every kind of write, after an import, after writes that bypassed the ledger (a
changed row, a new row: a reader still sees them right), and after the migrations that add them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from sqlalchemy import select

from tests.synthetic import make_world
from tests.conftest import NOW, empty_store
from tests.test_backends import GOOD
from tracker import pairs, queries, store, summaries
from tracker.evidence import load_evidence
from tracker.errors import ImportRejected
from tracker.interchange import import_text
from tracker.ledger import Ledger
from tracker.scoring import score_sources, score_sources_in_store


def _rows(connection, query) -> list[tuple]:
    return sorted((r.claim_id, r.source_id, r.stance, r.verdict_value, r.decided_at,
                   None if r.lead_days is None else round(r.lead_days, 9)) for r in connection.execute(query))


def kept(engine) -> list[tuple]:
    """The table's rows, sorted."""
    with engine.connect() as connection:
        return _rows(connection, select(pairs._P))


def computed(engine) -> list[tuple]:
    """The pairs grouped afresh from the reports, sorted."""
    with engine.connect() as connection:
        return _rows(connection, select(pairs.said(connection)))


def stale(engine) -> list[int]:
    """The claims whose kept pairs are out of date (marked, or with rows newer than the table took in)."""
    with engine.connect() as connection:
        return sorted(connection.execute(pairs._out_of_date()).scalars())


def kept_summaries(engine) -> list[tuple]:
    """The kept (claim, status, reports) rows, sorted."""
    with engine.connect() as connection:
        return sorted(tuple(row) for row in connection.execute(select(summaries._K)))


def computed_summaries(engine) -> list[tuple]:
    """The (claim, status, reports) rows grouped afresh from the reports, sorted."""
    with engine.connect() as connection:
        fresh = summaries.computed()
        return sorted(tuple(row) for row in connection.execute(select(*(fresh.c[n] for n in summaries.COLUMNS))))


def assert_kept(ledger) -> None:
    """The tables hold exactly the computed pairs and claim summaries, and no claim is left marked."""
    assert stale(ledger.engine) == []
    assert kept(ledger.engine) == computed(ledger.engine)
    assert kept_summaries(ledger.engine) == computed_summaries(ledger.engine)


def test_every_write_of_the_ledger_keeps_the_pairs(random_store):
    ledger = random_store
    with ledger.engine.begin() as connection:  # on SQLite the fixture wrote behind the ledger's back: see below
        pairs.refresh(connection)
    assert_kept(ledger)
    assert len(kept(ledger.engine)) > 100
    claims = load_evidence(ledger.engine).claims.index.tolist()
    resolved = [c for c in claims[2:] if ledger.get_claim(c).outcome is not None]
    open_claim, open_other = [c for c in claims[2:] if ledger.get_claim(c).outcome is None][-2:]
    first = ledger.get_claim(claims[5]).reports[0][0]
    edits = [
        lambda: ledger.add_report(open_claim, "A newcomer", "denied", "2016-02-01"),
        lambda: ledger.add_report(claims[6], "Relay desk", "confirmed", "2016-01-20", via="A newcomer"),
        lambda: ledger.edit_report(first.id, stance="rumoured" if first.stance == "denied" else "denied"),
        lambda: ledger.edit_report(first.id, reported_at="2015-12-01"),
        lambda: ledger.retract_report(ledger.get_claim(claims[7]).reports[0][0].id, "wrong claim"),
        lambda: ledger.record_outcome(open_claim, "false", "2016-03-01"),
        lambda: ledger.record_outcome(open_claim, "unverifiable", "2016-03-02"),  # a revision of no value
        # a revised verdict dated an hour after the first report: later reports no longer count
        lambda: ledger.record_outcome(resolved[8], "true", ledger.get_claim(resolved[8]).claim.first_reported_at
                                      + timedelta(hours=1)),
        lambda: ledger.retract_claim(claims[9], "a duplicate"),
        lambda: ledger.merge_claims(resolved[10], open_other),  # its reports move to a claim with a verdict
        lambda: ledger.merge_sources("A newcomer", "Relay desk"),
    ]
    before = kept(ledger.engine)
    for edit in edits:
        edit()
        assert_kept(ledger)
    assert kept(ledger.engine) != before


@pytest.mark.parametrize("listed", [pairs._LISTED, 0])  # the claims bound as values, or held in a temporary table
def test_an_import_keeps_the_pairs(any_ledger, monkeypatch, listed):
    monkeypatch.setattr(pairs, "_LISTED", listed)
    world = make_world(3, n_sources=8, n_claims=60, days=60, open_rate=0.3, relay_rate=0.3)
    world.write_to_ledger(any_ledger)
    assert_kept(any_ledger)
    assert {row[3] for row in kept(any_ledger.engine)} >= {None, 0.0, 1.0}  # pending and credited pairs


def test_many_claims_rebuilt_at_once_give_the_computed_pairs(random_store, monkeypatch):
    """The rebuild of many claims at once (their ids in a temporary table, as after an import) keeps
    exactly what `said` computes, over a store edited every way (retractions, merges, revised and
    unverifiable verdicts, relays, ties at one instant, a time without its fraction, a report made at
    its verdict's very time)."""
    with random_store.engine.connect() as connection:
        judged = connection.exec_driver_sql("SELECT max(claim_id) FROM outcome WHERE verdict = 'true'").scalar()
    outcome = random_store.get_claim(judged).outcome
    random_store.add_report(judged, "At the verdict", "denied", outcome.decided_at)  # counts: made by its time
    monkeypatch.setattr(pairs, "_LISTED", 0)
    with random_store.engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM stance_pair")
        connection.exec_driver_sql("DELETE FROM stale_claim")
        connection.exec_driver_sql("INSERT INTO stale_claim (claim_id) SELECT id FROM claim")
        pairs.refresh(connection)
    assert_kept(random_store)
    assert len(kept(random_store.engine)) > 100


@pytest.fixture
def postgresql_url(request, tmp_path) -> str:
    """The URL of an empty PostgreSQL store (skipped where PostgreSQL is absent)."""
    yield from empty_store(request, tmp_path, "postgresql")


def _statistics(engine) -> set[str]:
    with engine.connect() as connection:
        return set(connection.exec_driver_sql(
            "SELECT DISTINCT tablename FROM pg_stats WHERE schemaname = current_schema()").scalars())


def test_rebuilding_many_claims_on_postgresql_plans_with_statistics(postgresql_url, monkeypatch):
    """A new store filled by its first import has no statistics in the import's transaction; the
    rebuild of many claims' pairs gathers them first (without them PostgreSQL joined the verdicts
    to each report in a nested loop: minutes for 222,000 reports, benchmarks/README.md)."""
    monkeypatch.setattr(pairs, "_LISTED", 0)  # the many claims' path
    ledger = Ledger.open(postgresql_url, clock=lambda: NOW)
    assert not {"report", "outcome", "claim"} & _statistics(ledger.engine)
    import_text(ledger, GOOD, "csv")
    assert {"report", "outcome", "claim"} <= _statistics(ledger.engine)
    assert_kept(ledger)
    ledger.engine.dispose()


@pytest.mark.parametrize("how", ["changed", "inserted"])
def test_a_write_behind_the_ledgers_back_is_seen_and_mended(random_store, how):
    """SQL that bypasses the ledger leaves its claim out of date (a changed row by its trigger's mark,
    a new row by its id); scores read that claim afresh until the next writer refreshes it."""
    ledger = random_store
    with ledger.engine.begin() as connection:
        pairs.refresh(connection)  # on SQLite the fixture wrote behind the ledger's back too
        report_id = connection.exec_driver_sql(  # a credited pair's only report: its stance is the pair's
            "SELECT min(r.id) FROM report r JOIN stance_pair p ON p.claim_id = r.claim_id AND p.source_id = r.source_id "
            "WHERE r.via_source_id IS NULL AND p.verdict_value IS NOT NULL AND (SELECT count(*) FROM report q "
            "WHERE q.claim_id = r.claim_id AND r.source_id IN (q.source_id, q.via_source_id)) = 1").scalar()
        claim_id = connection.exec_driver_sql(f"SELECT claim_id FROM report WHERE id = {report_id}").scalar()
        if how == "changed":
            connection.exec_driver_sql("UPDATE report SET stance = CASE stance WHEN 'denied' THEN 'confirmed' "
                                       f"ELSE 'denied' END WHERE id = {report_id}")
        else:  # the same source takes the other stance a second later: its latest
            connection.exec_driver_sql(
                "INSERT INTO report (claim_id, source_id, stance, reported_at, logged_at, version, reported_date_only) "
                "SELECT claim_id, source_id, CASE stance WHEN 'denied' THEN 'confirmed' ELSE 'denied' END, "
                f"reported_at, logged_at, 1, reported_date_only FROM report WHERE id = {report_id}")
    assert stale(ledger.engine) == [claim_id]
    assert kept(ledger.engine) != computed(ledger.engine)  # the table is behind ...
    fresh = {claim: status for claim, status, _ in computed_summaries(ledger.engine)}
    for status in sorted(set(fresh.values())):  # ... the Claims page's status filter is not
        shown = set(queries.claim_ids(ledger, status=status))
        assert shown == {claim for claim, said in fresh.items() if said == status}, status
    expected = score_sources(load_evidence(ledger.engine))
    got = score_sources_in_store(ledger.engine, on_database=True)
    pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-9, atol=1e-7)  # ... the scores are not
    ledger.add_source("Anyone")  # the next write transaction mends it
    assert_kept(ledger)


def test_the_claims_page_reads_the_kept_summaries_and_sees_a_write_behind_the_ledgers_back(any_ledger):
    """The Claims page filtered by a status, sorted by reports, its rows' statuses and counts, and
    the review queue's and the overview's counts read `claim_summary` (a row changed there by hand shows on the page: no report is grouped),
    except for a claim out of date, whose summary is computed afresh."""
    import_text(any_ledger, GOOD, "csv")
    (buses,) = queries.claim_ids(any_ledger, text="Buses")
    shown = lambda status: set(queries.claim_ids(any_ledger, status=status))  # noqa: E731
    assert shown("confirmed") == {1, buses}  # its one report confirms it (and the deal's sources)
    assert queries.claim_ids(any_ledger, order="reports") == [1, buses]  # two reports, then one
    with any_ledger.engine.begin() as connection:  # the kept row alone: nothing marks the claim
        connection.exec_driver_sql(f"UPDATE claim_summary SET status = 'denied', reports = 9 WHERE claim_id = {buses}")
    assert shown("denied") == {buses} and shown("confirmed") == {1}
    assert queries.claim_ids(any_ledger, order="reports") == [buses, 1]
    page = queries.claim_rows(any_ledger, text="Buses").rows
    assert (page["status"].tolist(), page["reports"].tolist()) == (["denied"], [9])
    assert queries.review_queue(any_ledger).rows["reports"].tolist() == [9]  # the one open claim
    assert queries.overview_counts(any_ledger)["reports"] == 2 + 9
    with any_ledger.engine.begin() as connection:  # a report turned: its trigger marks the claim
        connection.exec_driver_sql(f"UPDATE report SET stance = 'rumoured' WHERE claim_id = {buses}")
    assert shown("rumoured") == {buses} and shown("denied") == set()  # computed afresh
    assert queries.claim_ids(any_ledger, order="reports") == [1, buses]
    with any_ledger.engine.begin() as connection:  # its only report retracted: unreported
        connection.exec_driver_sql(f"UPDATE report SET retracted_at = '2016-12-15 00:00:00' WHERE claim_id = {buses}")
    assert shown("unreported") == {buses} and shown("rumoured") == set()
    any_ledger.add_source("Anyone")  # the next write transaction mends the table
    assert_kept(any_ledger)
    assert shown("unreported") == {buses}


def test_a_failed_import_leaves_the_pairs_as_they_were(any_ledger):
    import_text(any_ledger, GOOD, "csv")
    before = kept(any_ledger.engine)
    assert len(before) == 3  # two credited pairs (the relay's origin reported itself) and one pending
    with pytest.raises(ImportRejected):
        import_text(any_ledger, GOOD + "d2,Another,Kremlin,maybe,14 December 2016,,,,\n", "csv")
    assert kept(any_ledger.engine) == before and stale(any_ledger.engine) == []


def test_the_migration_fills_the_pairs_of_an_existing_store(any_url):
    engine = store.make_engine(any_url)
    store.upgrade(engine, "0008_expected_by_precision")
    with engine.begin() as connection:
        for sql in (
            "INSERT INTO source (name, name_key, kind, created_at) VALUES ('Kremlin', 'kremlin', 'government', "
            "'2016-12-13 10:00:00'), ('Presidency', 'presidency', 'other', '2016-12-13 10:00:00')",
            "INSERT INTO claim (statement, first_reported_at, logged_at) VALUES "
            "('Ceasefire agreed', '2016-12-13 12:00:00', '2016-12-13 12:05:00'), "
            "('Talks resume', '2016-12-13 12:00:00', '2016-12-13 12:05:00')",
            "INSERT INTO report (claim_id, source_id, stance, reported_at, logged_at) VALUES "
            "(1, 1, 'confirmed', '2016-12-13 12:00:00', '2016-12-13 12:05:00'), "
            "(1, 2, 'denied', '2016-12-13 12:00:00', '2016-12-13 12:05:00'), "
            "(2, 2, 'rumoured', '2016-12-13 12:00:00', '2016-12-13 12:05:00')",
            "INSERT INTO outcome (claim_id, verdict, decided_at, recorded_at) VALUES "
            "(1, 'false', '2016-12-14 00:00:00', '2016-12-14 01:00:00')",
        ):
            connection.exec_driver_sql(sql)
    store.upgrade(engine)
    rows = kept(engine)
    assert rows == computed(engine) and stale(engine) == []
    assert [(claim, source, stance, value) for claim, source, stance, value, _, _ in rows] == [
        (1, 1, "confirmed", 0.0), (1, 2, "denied", 0.0), (2, 2, "rumoured", None)]
    assert rows[0][5] == pytest.approx(0.5)  # twelve hours' lead
    assert rows[0][4].replace(tzinfo=UTC) == datetime(2016, 12, 14, tzinfo=UTC)
    assert kept_summaries(engine) == [(1, "contested", 2), (2, "rumoured", 1)]  # schema 0010's, filled too
    engine.dispose()
    ledger = Ledger.open(any_url)
    try:
        ledger.record_outcome(2, "true", "2016-12-15")
        assert_kept(ledger)
    finally:
        ledger.engine.dispose()


def test_downgrading_0009_removes_its_tables_and_triggers(any_url):
    engine = store.make_engine(any_url)
    try:
        store.upgrade(engine, migrate_new=True)
        with engine.connect() as connection:
            assert {"stance_pair_report_change", "stance_pair_claim_change"} <= pairs.trigger_names(connection)
        _downgrade(engine)
        with engine.connect() as connection:
            assert not {n for n in pairs.trigger_names(connection) if n.startswith("stance_pair_")}
            names = set(connection.dialect.get_table_names(connection))
        assert not names & {"stance_pair", "stale_claim", "stance_pair_state", "claim_summary"}
    finally:
        engine.dispose()


def _downgrade(engine) -> None:
    from alembic import command

    with store.for_writing(engine).begin() as connection:
        command.downgrade(store._alembic_config(connection), "0008_expected_by_precision")
