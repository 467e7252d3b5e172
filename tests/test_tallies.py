"""Scores aggregated on the database (tracker.tallies) equal the in-memory scores, on SQLite and
PostgreSQL: one random store with relays, revised and unverifiable verdicts, open claims, a
retracted claim, a retracted report, a merged source and reports tied in time, scored four ways."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from tests.synthetic import make_world
from tracker.evidence import load_evidence
from tracker.scoring import ScoringConfig, score_sources, score_sources_in_store

WAYS = [
    {},
    {"as_of": "2016-03-01"},
    {"as_of": "2016-04-15", "config": ScoringConfig(half_life_days=20, rumour_weight=0.3, level=0.8)},
    {"topic": "TOPIC"},
]


@pytest.fixture
def random_store(any_ledger):
    """A small random world written through the CSV contract, then edited the ways a team edits one."""
    world = make_world(14, n_sources=12, n_claims=160, days=120, open_rate=0.25, unverifiable_rate=0.1,
                       relay_rate=0.3)
    ledger = any_ledger
    claim_ids = world.write_edited_by_a_team(ledger)
    for claim_id in claim_ids[2:4]:  # a revision: the newest verdict is the one in force
        ledger.record_outcome(claim_id, "partly_true", "2016-03-20")
    # ties the database must break as the in-memory path does: a source's two stances at one instant
    # (the later report counts), two relays of one origin at one instant, and times a microsecond
    # apart (the later time counts, though logged first)
    at = datetime(2016, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    tied = ledger.log_claim("Ties: the convoy left at dawn", first_reported_at=at)
    for source, stance, when, via in [("Tie source", "confirmed", at, None), ("Tie source", "rumoured", at, None),
                                      ("Tie relay 1", "denied", at, "Tie origin"),
                                      ("Tie relay 2", "confirmed", at, "Tie origin"),
                                      ("Tie late", "rumoured", at + timedelta(microseconds=1), None),
                                      ("Tie late", "denied", at, None)]:
        ledger.add_report(tied.id, source, stance, when, via=via)
    ledger.record_outcome(tied.id, "true", "2016-01-05")
    if ledger.engine.dialect.name == "sqlite":  # a time another tool wrote without its fraction
        whole = ledger.log_claim("Whole seconds: the bridge is closed", first_reported_at=at)
        early = ledger.add_report(whole.id, "Tie whole", "denied", at - timedelta(microseconds=6))
        ledger.add_report(whole.id, "Tie whole", "confirmed", at + timedelta(microseconds=1))
        ledger.record_outcome(whole.id, "false", "2016-01-05")
        with ledger.engine.begin() as connection:
            connection.exec_driver_sql("UPDATE report SET reported_at = '2016-01-02 03:04:05' WHERE id = ?",
                                       (early.id,))
    return ledger


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
