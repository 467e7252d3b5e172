"""Property tests (hypothesis) for reliability scoring: monotonicity and no look-ahead.

Each example is a small random store: up to eight claims over two months, each with up to four
reports by four sources (any stance, some relayed via another source) and up to two verdicts
(any of true / false / partly_true / unverifiable, revisions possibly back-dated).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.synthetic import build_evidence
from tracker import scoring
from tracker.evidence import Evidence

BASE = pd.Timestamp("2020-01-01", tz="UTC")
SOURCES = ["S0", "S1", "S2", "S3"]
STANCES = ["confirmed", "rumoured", "denied"]
VERDICTS = ["true", "false", "partly_true", "unverifiable"]
SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _hours(n: int) -> pd.Timedelta:
    return pd.Timedelta(hours=n)


@st.composite
def stores(draw, max_claims: int = 8) -> list[dict]:
    """Claims for `build_evidence` (times on the hour, within ~80 days of BASE)."""
    claims = []
    for i in range(draw(st.integers(1, max_claims))):
        start = draw(st.integers(0, 60 * 24))
        reports = []
        for j in range(draw(st.integers(0, 4))):
            source = draw(st.sampled_from(SOURCES))
            via = draw(st.none() | st.sampled_from(SOURCES))
            lag = 0 if j == 0 else draw(st.integers(0, 240))
            reports.append((source, draw(st.sampled_from(STANCES)), BASE + _hours(start + lag),
                            None if via == source else via))
        outcomes = [(draw(st.sampled_from(VERDICTS)), BASE + _hours(start + draw(st.integers(0, 480))))
                    for _ in range(draw(st.integers(0, 2)))]
        claims.append({"ref": f"c{i}", "reports": reports, "outcomes": outcomes,
                       "first_reported_at": BASE + _hours(start)})
    return claims


configs = st.builds(
    scoring.ScoringConfig,
    rumour_weight=st.sampled_from([0.5, 0.25, 1.0]),
    prior_strength=st.sampled_from([1.0, 4.0, 10.0]),
    level=st.sampled_from([0.9, 0.8]),
)


def _evidence(claims: list[dict]) -> Evidence:
    return build_evidence(claims, sources=SOURCES)


def _by_source(evidence: Evidence, as_of=None, config=scoring.ScoringConfig()) -> pd.DataFrame:
    return scoring.score_sources(evidence, as_of, config).set_index("source")


# -- monotonicity -------------------------------------------------------------------------------------
def _one_more_correct(source: str, stance: str, start: int, lag: int) -> dict:
    when = BASE + _hours(start)
    verdict = "false" if stance == "denied" else "true"
    return {"ref": "new", "reports": [(source, stance, when)], "outcomes": [(verdict, when + _hours(lag))]}


@SETTINGS
@given(claims=stores(), source=st.sampled_from(SOURCES), stance=st.sampled_from(STANCES),
       start=st.integers(0, 60 * 24), lag=st.integers(0, 480), config=configs)
def test_one_more_correct_claim_never_lowers_reliability_or_lower_bound(claims, source, stance, start, lag, config):
    before = _by_source(_evidence(claims), config=config).loc[source]
    after = _by_source(_evidence(claims + [_one_more_correct(source, stance, start, lag)]), config=config).loc[source]
    assert after["reliability"] >= before["reliability"] - 1e-12
    assert after["lower"] >= before["lower"] - 1e-9
    assert after["resolved"] == before["resolved"] + 1


@SETTINGS
@given(claims=stores(), source=st.sampled_from(SOURCES), stance=st.sampled_from(STANCES),
       start=st.integers(0, 60 * 24), lag=st.integers(0, 480), half_life=st.sampled_from([7.0, 30.0, 365.0]),
       as_of_day=st.integers(0, 100))
def test_monotone_with_half_life_as_of_a_fixed_date(claims, source, stance, start, lag, half_life, as_of_day):
    """With the date fixed, decay weighs the old record the same with or without the new claim."""
    config = scoring.ScoringConfig(half_life_days=half_life)
    as_of = BASE + pd.Timedelta(days=as_of_day)
    before = _by_source(_evidence(claims), as_of, config).loc[source]
    after = _by_source(_evidence(claims + [_one_more_correct(source, stance, start, lag)]), as_of, config).loc[source]
    assert after["reliability"] >= before["reliability"] - 1e-12
    assert after["lower"] >= before["lower"] - 1e-9


def test_monotone_with_half_life_and_no_as_of():
    config = scoring.ScoringConfig(half_life_days=30)
    record = [{"ref": f"a{i}", "reports": [("A", "confirmed", BASE + pd.Timedelta(days=i))],
               "outcomes": [("true" if i < 9 else "false", BASE + pd.Timedelta(days=i, hours=6))]} for i in range(10)]
    late = {"ref": "late", "reports": [("A", "confirmed", "2020-12-01")], "outcomes": [("true", "2020-12-02")]}
    before = _by_source(_evidence(record), config=config).loc["A"]
    after = _by_source(_evidence(record + [late]), config=config).loc["A"]
    # observed: reliability 0.868 -> 0.734, lower bound 0.692 -> 0.388
    assert after["reliability"] >= before["reliability"]
    assert after["lower"] >= before["lower"]


# -- no look-ahead -----------------------------------------------------------------------------------
def _rewrite_future(evidence: Evidence, cutoff: pd.Timestamp, data, strictly_after: bool) -> Evidence:
    """The same store with every outcome decided at/after `cutoff` changed, moved, dropped or revised,
    and new reports made after it; nothing known before `cutoff` changes."""
    outcomes = evidence.outcomes.copy()
    future = (outcomes["decided_at"] > cutoff) if strictly_after else (outcomes["decided_at"] >= cutoff)
    keep = []
    for i in outcomes.index[future]:
        action = data.draw(st.sampled_from(["verdict", "move", "drop", "keep"]))
        if action == "verdict":
            outcomes.loc[i, "verdict"] = data.draw(st.sampled_from(VERDICTS))
        elif action == "move":
            outcomes.loc[i, "decided_at"] = cutoff + _hours(data.draw(st.integers(int(strictly_after), 500)))
        keep.append(action != "drop")
    outcomes = pd.concat([outcomes[~future], outcomes[future].iloc[np.flatnonzero(keep)]])
    claim_ids = list(evidence.claims.index)
    first = evidence.claims["first_reported_at"]
    new_outcomes, new_reports = [], []
    next_id = int(evidence.outcomes["id"].max()) + 1 if len(evidence.outcomes) else 1
    for claim, verdict, hours in data.draw(st.lists(st.tuples(st.sampled_from(claim_ids), st.sampled_from(VERDICTS),
                                                              st.integers(int(strictly_after), 500)), max_size=3)):
        new_outcomes.append((next_id, claim, verdict, max(cutoff, first[claim]) + _hours(hours)))
        next_id += 1
    for claim, source, stance, hours, via in data.draw(st.lists(st.tuples(
            st.sampled_from(claim_ids), st.sampled_from([1, 2, 3, 4]), st.sampled_from(STANCES),
            st.integers(1, 500), st.sampled_from([-1, 1, 2])), max_size=3)):
        new_reports.append((claim, source, stance, max(cutoff, first[claim]) + _hours(hours), -1 if via == source else via))
    outcomes = pd.concat([outcomes, pd.DataFrame(new_outcomes, columns=outcomes.columns)], ignore_index=True)
    outcomes = outcomes.sort_values("id", kind="stable").reset_index(drop=True)
    reports = pd.concat([evidence.reports, pd.DataFrame(new_reports, columns=evidence.reports.columns)],
                        ignore_index=True)
    for frame, column in ((outcomes, "decided_at"), (reports, "reported_at")):
        frame[column] = pd.to_datetime(frame[column], utc=True).dt.as_unit("us")
    return Evidence(evidence.sources, evidence.claims, reports, outcomes.astype({"id": "int64", "claim_id": "int64"}),
                    evidence.topics)


@SETTINGS
@given(claims=stores(), pick=st.integers(0, 7), data=st.data())
def test_no_look_ahead_in_predictions_at_report_time(claims, pick, data):
    evidence = _evidence(claims)
    cutoff = evidence.claims["first_reported_at"].iloc[pick % len(evidence.claims)]
    before = scoring.predict_at_report_time(evidence).set_index("claim_id")
    changed = _rewrite_future(evidence, cutoff, data, strictly_after=False)
    after = scoring.predict_at_report_time(changed).set_index("claim_id").loc[before.index]
    settled = before["first_reported_at"] <= cutoff  # the picked claim and every claim reported before it
    assert settled.any()
    pd.testing.assert_series_equal(after.loc[settled, "p_true"], before.loc[settled, "p_true"], rtol=0, atol=1e-12)
    pd.testing.assert_series_equal(after.loc[settled, "base_rate"], before.loc[settled, "base_rate"], rtol=0, atol=1e-12)
    assert (after.loc[settled, "credibility"] == before.loc[settled, "credibility"]).all()


@SETTINGS
@given(claims=stores(), as_of_hours=st.integers(0, 80 * 24), config=configs,
       half_life=st.sampled_from([None, 20.0]), data=st.data())
def test_scores_as_of_a_date_ignore_later_outcomes(claims, as_of_hours, config, half_life, data):
    config = scoring.ScoringConfig(config.rumour_weight, config.prior_strength, config.level, half_life)
    evidence = _evidence(claims)
    as_of = BASE + _hours(as_of_hours)
    changed = _rewrite_future(evidence, as_of, data, strictly_after=True)
    before = scoring.score_sources(evidence, as_of, config)
    after = scoring.score_sources(changed, as_of, config)
    pd.testing.assert_frame_equal(after, before)
    # and the same as a store that never heard of anything after the date
    known = Evidence(evidence.sources, evidence.claims,
                     evidence.reports[evidence.reports["reported_at"] <= as_of].reset_index(drop=True),
                     evidence.outcomes[evidence.outcomes["decided_at"] <= as_of].reset_index(drop=True),
                     evidence.topics)
    pd.testing.assert_frame_equal(scoring.score_sources(known, as_of, config), before)
    # predictions as of the date ignore them too
    p_before = scoring.predict(evidence, as_of, config)
    p_after = scoring.predict(changed, as_of, config)
    pd.testing.assert_frame_equal(p_after, p_before)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(claims=stores(), pick=st.integers(0, 7), config=configs)
def test_at_report_time_is_predict_as_of_the_first_report(claims, pick, config):
    """Self-scoring replays `predict` at each claim's first report, with outcomes known strictly before."""
    evidence = _evidence(claims)
    claim_id = evidence.claims.index[pick % len(evidence.claims)]
    when = evidence.claims.loc[claim_id, "first_reported_at"]
    # 'strictly before' (self-scoring) and 'by' (as of a date) differ only on an outcome at that instant
    evidence = Evidence(evidence.sources, evidence.claims, evidence.reports,
                        evidence.outcomes[evidence.outcomes["decided_at"] != when].reset_index(drop=True),
                        evidence.topics)
    replay = scoring.predict_at_report_time(evidence, config).set_index("claim_id").loc[claim_id]
    as_of = scoring.predict(evidence, when, config, claim_ids=[claim_id])
    assert replay["p_true"] == pytest.approx(as_of["p_true"].iloc[0], abs=1e-9)
    assert replay["base_rate"] == pytest.approx(as_of.attrs["base_rate"], abs=1e-12)
    assert replay["credibility"] == as_of["credibility"].iloc[0]
