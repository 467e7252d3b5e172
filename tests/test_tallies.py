"""Scores aggregated on the database (tracker.tallies) equal the in-memory scores, on SQLite and
PostgreSQL: one random store with relays, revised and unverifiable verdicts, open claims, a
retracted claim, a retracted report, a merged source and reports tied in time, scored five ways
(now, from the pairs kept on write; as of a date, from the reports)."""

from __future__ import annotations

import pandas as pd

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
