"""Reading the evidence: SQLite's fast path (read in blocks of rowids) and PostgreSQL's COPY give
the frames the plain query gives, and the lean read the source scores use scores the same."""

from __future__ import annotations

import threading

import pandas as pd
import pytest
from sqlalchemy import text

from tests.synthetic import make_world
from tracker import evidence as evidence_module
from tracker.evidence import load_evidence
from tracker.scoring import score_sources, score_sources_in_store

FRAMES = ("sources", "claims", "reports", "outcomes", "topics")


def _random_store(ledger):
    """A small random world with relays and open claims, a retracted claim and report, a merged source."""
    world = make_world(5, n_sources=9, n_claims=60, days=60, open_rate=0.3, relay_rate=0.3)
    return ledger, world.write_edited_by_a_team(ledger)


@pytest.fixture
def store(ledger):
    """The random store on SQLite."""
    return _random_store(ledger)[0]


def test_the_fast_reads_give_the_plain_querys_frames(any_ledger, monkeypatch):
    ledger, claim_ids = _random_store(any_ledger)
    with ledger.engine.begin() as connection:  # texts CSV must quote, a ref that is NULL, one that is empty
        connection.execute(text("UPDATE claim SET statement = :s WHERE id = :i"),
                           {"s": 'Says "yes", then\nno; a \\ back-slash, \t tab, ünïcödé, \\N', "i": claim_ids[2]})
        connection.execute(text("UPDATE claim SET ref = NULL WHERE id = :i"), {"i": claim_ids[3]})
        connection.execute(text("UPDATE claim SET ref = '' WHERE id = :i"), {"i": claim_ids[4]})
        connection.execute(text("UPDATE source SET name = :s WHERE id = (SELECT min(id) FROM source)"),
                           {"s": "Name, with \"quotes\""})
    whole = load_evidence(ledger.engine)
    _only_the_open_claims_texts_are_read(ledger.engine, whole)
    monkeypatch.setattr(evidence_module, "CHUNK_ROWS", 7)  # blocks that split every table (SQLite: some empty)
    monkeypatch.setattr(evidence_module, "BESIDE_BLOCKS", 2)  # PostgreSQL: a table of 2 blocks or more read by two
    joined, split = [], []  # PostgreSQL: the tables read in blocks of pages, each column joined
    joined_frame, split_values = evidence_module._joined_postgres_frame, evidence_module._split
    readers, fetch = [], evidence_module._fetch_in_snapshot
    monkeypatch.setattr(evidence_module, "_fetch_in_snapshot", lambda *args: readers.append(
        threading.current_thread().name) or fetch(*args))
    monkeypatch.setattr(evidence_module, "_joined_postgres_frame",
                        lambda *args: joined.append(joined_frame(*args)) or joined[-1])
    monkeypatch.setattr(evidence_module, "_split", lambda *args: split.append(args[1]) or split_values(*args))
    blocks = load_evidence(ledger.engine)
    copies = blocks
    if ledger.engine.dialect.name == "postgresql":
        assert len(joined) == len(FRAMES) and all(frame is not None for frame in joined)
        assert len(split) > sum(len(spec) for _table, spec in evidence_module._TABLES.values())  # several blocks
        # every other block read by a second connection in the first one's snapshot
        assert any(name.startswith("tracker-blocks") for name in readers)
        # where that does not apply, COPY: its rows parsed a block at a time as they arrive
        copied, copied_types = [], evidence_module._copied_types
        monkeypatch.setattr(evidence_module, "_joined_postgres_frame", lambda *args: None)
        monkeypatch.setattr(evidence_module, "_copied_types", lambda frame, *args: copied.append(len(frame))
                            or copied_types(frame, *args))
        copies = load_evidence(ledger.engine)
        assert max(copied) == 7 and sum(copied) == sum(len(getattr(copies, name)) for name in FRAMES)
    _only_the_open_claims_texts_are_read(ledger.engine, whole)
    monkeypatch.setattr(evidence_module, "_fast_sqlite_frame", lambda *args: None)
    monkeypatch.setattr(evidence_module, "_joined_postgres_frame", lambda *args: None)
    monkeypatch.setattr(evidence_module, "_copy_postgres_frame", lambda *args: None)
    plain = load_evidence(ledger.engine)
    _only_the_open_claims_texts_are_read(ledger.engine, whole)
    assert len(whole.reports) > 7 * 3 and len(whole.claims) > 7 * 3
    assert plain.claims["ref"].isna().sum() == 1 and (plain.claims["ref"] == "").sum() == 1
    assert plain.claims.loc[claim_ids[2], "statement"].startswith('Says "yes"')
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(blocks, name), getattr(plain, name), obj=name)
        pd.testing.assert_frame_equal(getattr(copies, name), getattr(plain, name), obj=name)
        pd.testing.assert_frame_equal(getattr(whole, name), getattr(plain, name), obj=name)


def _only_the_open_claims_texts_are_read(engine, whole):
    """`claim_texts="open"`: the claims without a verdict as the whole read gives them, the others'
    texts missing, every other frame the same."""
    lean = load_evidence(engine, claim_texts="open")
    open_ids = whole.claims.index.difference(whole.outcomes["claim_id"].unique())
    assert 0 < len(open_ids) < len(whole.claims)
    pd.testing.assert_frame_equal(lean.claims.loc[open_ids], whole.claims.loc[open_ids])
    assert lean.claims.drop(open_ids)[["ref", "statement"]].isna().all().all()
    pd.testing.assert_frame_equal(lean.claims[["first_reported_at"]], whole.claims[["first_reported_at"]])
    for name in ("sources", "reports", "outcomes", "topics"):
        pd.testing.assert_frame_equal(getattr(lean, name), getattr(whole, name), obj=name)


def test_every_table_is_read_in_one_snapshot_while_a_claim_and_its_reports_are_written(any_ledger, monkeypatch):
    # a writer adds a claim with a report after the claims were read and before the reports are:
    # the evidence is the store as it was when the read began, every report's claim among the
    # claims (on PostgreSQL each statement would otherwise see the store as it is by then)
    ledger, _claim_ids = _random_store(any_ledger)
    before = load_evidence(ledger.engine)
    when = before.claims["first_reported_at"].iloc[0].to_pydatetime()
    read = evidence_module._read

    def a_write_after_the_claims(connection, what, *args):
        frame = read(connection, what, *args)
        if what == "claims":
            ledger.log_claim("Written while the store is read", reports=[
                {"source": "A newcomer", "stance": "confirmed", "reported_at": when}])
        return frame

    monkeypatch.setattr(evidence_module, "_read", a_write_after_the_claims)
    monkeypatch.setattr(evidence_module, "CHUNK_ROWS", 7)  # PostgreSQL: blocks read by two connections too
    monkeypatch.setattr(evidence_module, "BESIDE_BLOCKS", 2)
    during = load_evidence(ledger.engine)
    assert during.reports["claim_id"].isin(during.claims.index).all()
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(during, name), getattr(before, name), obj=name)
    monkeypatch.setattr(evidence_module, "_read", read)
    assert len(load_evidence(ledger.engine).reports) == len(before.reports) + 1  # the write did land


def test_the_scores_read_neither_claim_texts_nor_topics_and_score_the_same(store):
    lean = load_evidence(store.engine, claim_texts=False, topics=False)
    full = load_evidence(store.engine)
    assert list(lean.claims.columns) == ["first_reported_at"] and lean.topics.empty
    pd.testing.assert_frame_equal(lean.reports, full.reports)
    expected = score_sources(full)
    assert expected["resolved"].sum() > 0
    pd.testing.assert_frame_equal(score_sources_in_store(store.engine, on_database=False), expected)
    topic = full.topics["topic"].iloc[0]
    pd.testing.assert_frame_equal(score_sources_in_store(store.engine, topic=topic, on_database=False),
                                  score_sources(full.for_topic(topic)))


@pytest.mark.parametrize("retracted", [set(), {"report"}, {"claim"}])
def test_a_retraction_condition_is_left_out_only_where_nothing_of_its_kind_is_retracted(ledger, monkeypatch, retracted):
    """On SQLite the reads leave out the condition that rules out a retracted claim (report) when no
    claim (report) is retracted: the frames are those every condition gives, whatever is retracted."""
    world = make_world(5, n_sources=9, n_claims=60, days=60, open_rate=0.3, relay_rate=0.3)
    world.write_to_ledger(ledger)
    claim_ids = sorted(world.claims.index)
    if "claim" in retracted:
        ledger.retract_claim(claim_ids[0], "logged twice")
    if "report" in retracted:
        ledger.retract_report(ledger.get_claim(claim_ids[1]).reports[0][0].id, "misattributed")
    lean = load_evidence(ledger.engine)
    found, real = [], evidence_module._retracted
    monkeypatch.setattr(evidence_module, "_retracted",
                        lambda connection: found.append(real(connection)) or set(evidence_module._RETRACTABLE))
    every_condition = load_evidence(ledger.engine)
    assert found == [retracted]
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(lean, name), getattr(every_condition, name), obj=name)


def test_each_tables_rowid_range_is_looked_up_not_scanned(store):
    """The fast read's first statement per table, its lowest and highest rowid, is two b-tree
    lookups on SQLite: `min(rowid), max(rowid)` in one select scans the whole table."""
    with store.engine.connect() as connection:
        for table, _spec in evidence_module._TABLES.values():
            name = table.__tablename__
            sql = evidence_module._rowid_range(name)
            plan = " | ".join(row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
            assert f"SCAN {name}" not in plan and f"SEARCH {name}" in plan, plan
            assert tuple(connection.exec_driver_sql(sql).one()) == tuple(connection.exec_driver_sql(
                f"SELECT min(rowid), max(rowid) FROM {name}").one())


def test_the_open_claims_are_found_by_an_anti_join_whatever_the_verdicts_size(any_ledger):
    """The open claims' texts are read with the claims that have no verdict picked by an anti-join:
    PostgreSQL hashes a `NOT IN (subquery)` only while the subquery fits `work_mem`, and beyond it
    scans every verdict again per claim (at ten million reports under the default 4 MB: hours)."""
    ledger, _claim_ids = _random_store(any_ledger)
    whole = load_evidence(ledger.engine)
    sql = f"SELECT id FROM claim WHERE {evidence_module._WITHOUT_VERDICT}"
    with ledger.engine.connect() as connection, connection.begin() as transaction:
        found = {row[0] for row in connection.exec_driver_sql(sql)}
        assert found == set(whole.claims.index.difference(whole.outcomes["claim_id"].unique()))
        if connection.dialect.name == "postgresql":
            # many verdicts (revisions of the ones there, undone with the transaction), counted
            # by the planner, and the least work_mem there is: a hashed NOT IN would not fit
            connection.exec_driver_sql(
                "INSERT INTO outcome (claim_id, verdict, decided_at, recorded_at) SELECT claim_id, verdict, "
                "decided_at, recorded_at FROM outcome, generate_series(1, 2000)")
            connection.exec_driver_sql("ANALYZE outcome")
            connection.exec_driver_sql("SET LOCAL work_mem = '64kB'")
            plan = "\n".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN {sql}"))
            assert "Anti Join" in plan and "SubPlan" not in plan, plan
        transaction.rollback()
