"""Scores aggregated on the database (tracker.tallies) equal the in-memory scores, on SQLite and
PostgreSQL: one random store with relays, revised and unverifiable verdicts, open claims, a
retracted claim, a retracted report, a merged source and reports tied in time, scored five ways
(now, from the pairs kept on write; as of a date, from the reports)."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import event

from tracker.evidence import load_evidence
from tracker.scoring import ScoringConfig, score_sources, score_sources_in_store

WAYS = [
    {},
    {"as_of": "2016-03-01"},
    {"as_of": "2016-04-15", "config": ScoringConfig(half_life_days=20, rumour_weight=0.3, level=0.8)},
    {"config": ScoringConfig(half_life_days=30, rumour_weight=0.3)},  # now: the kept pairs, decayed
    {"topic": "TOPIC"},
]


def test_scores_aggregated_on_the_database_equal_the_in_memory_scores(random_store):
    evidence = load_evidence(random_store.engine)
    topic = evidence.topics["topic"].iloc[0] if len(evidence.topics) else None
    for way in WAYS:
        options = dict(way)
        if "topic" in options:
            if topic is None:
                continue
            options["topic"] = topic
        given = evidence.for_topic(options.pop("topic")) if "topic" in way else evidence
        expected = score_sources(given, **options)
        got = score_sources_in_store(random_store.engine, topic=topic if "topic" in way else None, on_database=True,
                                     **options)
        assert len(expected) and expected["resolved"].sum() > 0
        pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-9, atol=1e-7, obj=str(way))


@pytest.mark.parametrize("any_url", ["postgresql"], indirect=True)
def test_postgresql_groups_the_kept_pairs_by_a_scan_not_by_the_keys_order(random_store):
    """With many kept pairs and a `work_mem` their leads' hash does not fit, PostgreSQL would read
    the pairs in primary-key order (each page visited many times): the tallies turn index scans
    off for their GROUP BY, and give the setting back after it."""
    engine = random_store.engine
    with engine.begin() as connection:  # many pairs (under claim ids of no claim: only the plan is looked at)
        connection.exec_driver_sql(
            "INSERT INTO stance_pair (source_id, stance, claim_id, verdict_value, decided_at, lead_days) "
            "SELECT source_id, stance, claim_id + 1000000 * g, verdict_value, decided_at, lead_days "
            "FROM stance_pair, generate_series(1, 400) AS g")
        connection.exec_driver_sql("ANALYZE stance_pair")
    plans, settings = [], []

    @event.listens_for(engine, "before_cursor_execute")
    def explain(connection, cursor, statement, parameters, context, executemany):
        if "GROUP BY" in statement and "FROM stance_pair" in statement:
            cursor.execute("SET LOCAL work_mem = '64kB'")
            cursor.execute("EXPLAIN " + statement, parameters)
            plans.append("\n".join(row[0] for row in cursor.fetchall()))

    @event.listens_for(engine, "after_cursor_execute")
    def setting(connection, cursor, statement, parameters, context, executemany):
        if "GROUP BY" in statement and "FROM stance_pair" in statement:
            cursor.execute("SELECT current_setting('enable_indexscan')")
            settings.append(cursor.fetchone()[0])
        elif "FROM source" in statement:
            cursor.execute("SELECT current_setting('enable_indexscan')")
            settings.append(cursor.fetchone()[0])

    score_sources_in_store(engine, on_database=True)
    event.remove(engine, "before_cursor_execute", explain)
    event.remove(engine, "after_cursor_execute", setting)
    assert plans and all("Seq Scan on stance_pair" in plan and "Index Scan" not in plan for plan in plans), plans
    assert settings == ["off", "on"]
