"""Proper scoring (tracker.evaluation): Brier and log loss, the CORP decomposition and diagram,
per-topic views, side-by-side comparisons, and their charts."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker import charts, evaluation, scoring
from tracker.evidence import load_evidence

# a hand example: PAV pools 0.3, 0.3 and 0.6 (outcomes 1, 0, 0) into one block at 1/3
P = [0.1, 0.3, 0.3, 0.6, 0.8, 0.9]
Y = [0, 1, 0, 0, 1, 1]


def frame(p=P, y=Y, **extra) -> pd.DataFrame:
    return pd.DataFrame({"claim_id": range(1, len(p) + 1), "p_true": p, "outcome": y, **extra})


# -- scores and decomposition on the hand example -------------------------------------------
def test_brier_and_its_decomposition_by_hand():
    # Brier: (.01 + .49 + .09 + .36 + .04 + .01) / 6 = 1/6; recalibrated (0, 1/3 x3, 1, 1): 1/9
    split = evaluation.decomposition(P, Y)
    assert split.score == pytest.approx(1 / 6)
    assert split.mcb == pytest.approx(1 / 6 - 1 / 9)
    assert split.dsc == pytest.approx(1 / 4 - 1 / 9)
    assert split.unc == pytest.approx(1 / 4)
    assert evaluation.brier_score(P, Y) == pytest.approx(1 / 6)


def test_log_loss_by_hand():
    expected = -(math.log(0.9) + math.log(0.3) + math.log(0.7) + math.log(0.4) + math.log(0.8) + math.log(0.9)) / 6
    assert evaluation.log_loss(P, Y) == pytest.approx(expected)
    # a partly true claim is half a true label and half a false one
    assert evaluation.log_loss([0.8], [0.5]) == pytest.approx(-(0.5 * math.log(0.8) + 0.5 * math.log(0.2)))
    # a certain miss costs -log(1e-6), not infinity
    assert evaluation.log_loss([0.0, 1.0], [1, 0]) == pytest.approx(-math.log(1e-6))
    split = evaluation.decomposition(P, Y, "log_loss")
    recalibrated = -(2 * math.log(2 / 3) + math.log(1 / 3) + 3 * math.log(1 - 1e-6)) / 6
    assert split.score == pytest.approx(expected)
    assert split.mcb == pytest.approx(expected - recalibrated)
    assert split.unc == pytest.approx(math.log(2))
    assert split.dsc == pytest.approx(math.log(2) - recalibrated)


def test_reliability_diagram_blocks_by_hand():
    diagram = evaluation.reliability_diagram(P, Y)
    assert list(diagram.columns) == list(evaluation.DIAGRAM_COLUMNS)
    assert diagram["block"].tolist() == [0, 1, 2]
    assert diagram["lower"].tolist() == [0.1, 0.3, 0.8]
    assert diagram["upper"].tolist() == [0.1, 0.6, 0.9]
    assert diagram["recalibrated"].tolist() == pytest.approx([0, 1 / 3, 1])
    assert diagram["mean_forecast"].tolist() == pytest.approx([0.1, 0.4, 0.85])
    assert diagram["claims"].tolist() == [1, 3, 2]


def test_equal_forecasts_share_one_recalibrated_value():
    # PAV alone would leave (0, 1) for two claims given the same 0.5 in this order
    assert evaluation.recalibrate([0.5, 0.5], [0, 1]).tolist() == [0.5, 0.5]
    assert evaluation.reliability_diagram([0.5, 0.5], [0, 1])["claims"].tolist() == [2]


def test_unscored_rows_are_left_out_and_bad_values_refused():
    assert evaluation.brier_score([0.2, np.nan, 0.7], [0, 1, np.nan]) == pytest.approx(0.04)
    assert evaluation.metrics([0.2, np.nan, 0.7], [0, 1, np.nan])["claims"] == 1
    with pytest.raises(ValueError, match="between 0 and 1"):
        evaluation.brier_score([1.2], [1])
    with pytest.raises(ValueError, match="outcomes must be"):
        evaluation.log_loss([0.5], [2])
    with pytest.raises(ValueError, match="differ in length"):
        evaluation.metrics([0.5, 0.5], [1])
    with pytest.raises(ValueError, match="unknown score"):
        evaluation.decomposition(P, Y, "accuracy")


def test_accuracy_counts_decided_claims_and_a_coin_toss_half():
    result = evaluation.metrics([0.9, 0.2, 0.5, 0.7, 0.6], [1, 1, 0, 0.5, np.nan])
    assert result["decided"] == 3 and result["claims"] == 4
    assert result["accuracy"] == pytest.approx((1 + 0 + 0.5) / 3)


# -- the identity and PAV's properties on random data ---------------------------------------
forecasts = st.one_of(st.floats(0, 1), st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.75, 1.0]))
labels = st.sampled_from([0.0, 0.5, 1.0])
samples = st.lists(st.tuples(forecasts, labels), min_size=1, max_size=60)


@settings(max_examples=200, deadline=None)
@given(samples)
def test_score_is_miscalibration_minus_discrimination_plus_uncertainty(pairs):
    p, y = map(np.array, zip(*pairs))
    for score in evaluation.SCORES:
        split = evaluation.decomposition(p, y, score)
        assert split.score == pytest.approx(split.mcb - split.dsc + split.unc, abs=1e-12)
        assert split.mcb >= -1e-12 and split.dsc >= -1e-12
    brier = evaluation.decomposition(p, y)
    recalibrated = evaluation.recalibrate(p, y)
    assert brier.dsc == pytest.approx(np.mean((recalibrated - y.mean()) ** 2), abs=1e-12)
    assert brier.unc == pytest.approx(np.mean((y - y.mean()) ** 2), abs=1e-12)
    # the recalibrated forecast is calibrated: recalibrating it again changes nothing
    again = evaluation.decomposition(recalibrated, y)
    assert again.mcb == pytest.approx(0, abs=1e-12) and again.dsc == pytest.approx(brier.dsc, abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(samples)
def test_pav_is_monotone_and_its_blocks_keep_their_means(pairs):
    p, y = map(np.array, zip(*pairs))
    recalibrated = evaluation.recalibrate(p, y)
    order = np.argsort(p, kind="stable")
    assert (np.diff(recalibrated[order]) >= -1e-12).all()
    assert ((recalibrated >= -1e-12) & (recalibrated <= 1 + 1e-12)).all()
    diagram = evaluation.reliability_diagram(p, y)
    assert diagram["claims"].sum() == len(p)
    assert (np.diff(diagram["recalibrated"]) > 0).all()
    assert (diagram["lower"] <= diagram["upper"]).all() and (diagram["upper"].iloc[:-1].to_numpy()
                                                            < diagram["lower"].iloc[1:].to_numpy()).all()
    for block in diagram.itertuples():
        inside = (p >= block.lower) & (p <= block.upper)
        assert inside.sum() == block.claims
        assert y[inside].mean() == pytest.approx(block.recalibrated, abs=1e-12)
        assert p[inside].mean() == pytest.approx(block.mean_forecast, abs=1e-12)


# -- one forecaster, per topic, side by side ------------------------------------------------
def test_evaluate_scores_a_predictions_frame():
    result = evaluation.evaluate(frame(P + [0.4], Y + [np.nan]))
    assert result.claims == 6 and result.decided == 6
    assert result.brier.score == pytest.approx(1 / 6) and result.log_loss.score == pytest.approx(
        evaluation.log_loss(P, Y))
    assert result.accuracy == pytest.approx(4 / 6)
    assert result.diagram["claims"].tolist() == [1, 3, 2]
    with pytest.raises(ValueError, match="no forecast column 'previous'"):
        evaluation.evaluate(frame(), "previous")


def test_scores_by_topic_count_a_claim_in_each_of_its_topics():
    topics = pd.DataFrame({"claim_id": [1, 2, 3, 3, 6, 7, 8], "topic": ["a", "a", "a", "b", "b", "b", "c"]})
    predictions = frame(P + [0.5, 0.5], Y + [np.nan, np.nan])  # claims 7 and 8 are unscored
    table = evaluation.scores_by_topic(predictions, topics)
    assert table["topic"].tolist() == ["a", "b"]  # most claims first; c has none scored
    assert table["claims"].tolist() == [3, 2]
    assert table["truth_rate"].tolist() == pytest.approx([1 / 3, 0.5])
    a = evaluation.metrics([0.1, 0.3, 0.3], [0, 1, 0])
    assert table.iloc[0][list(a)].to_dict() == pytest.approx(a)
    assert evaluation.topic_predictions(predictions, topics, "b")["claim_id"].tolist() == [3, 6, 7]


def test_compare_keeps_the_order_given_and_scores_each_on_its_own_claims():
    predictions = frame(base_rate=[0.5, 0.5, 0.4, 0.4, 0.45, 0.5], previous=[0.2, 0.6, np.nan, 0.3, 0.7, 0.8])
    table = evaluation.compare(predictions, {"tracker": "p_true", "previous scorer": "previous",
                                             "running base rate": "base_rate", "constant 0.5": 0.5})
    assert list(table.columns) == list(evaluation.COMPARISON_COLUMNS)
    assert table["forecaster"].tolist() == ["tracker", "previous scorer", "running base rate", "constant 0.5"]
    assert table["claims"].tolist() == [6, 5, 6, 6]
    tracker, previous, base, coin = (row._asdict() for row in table.itertuples(index=False))
    assert tracker["brier"] == pytest.approx(1 / 6) and coin["brier"] == pytest.approx(0.25)
    assert tracker["mcb"] - tracker["dsc"] + tracker["unc"] == pytest.approx(1 / 6)
    assert tracker["skill_vs_coin"] == pytest.approx(1 - (1 / 6) / 0.25)
    base_brier = np.mean((np.array([0.5, 0.5, 0.4, 0.4, 0.45, 0.5]) - np.array(Y)) ** 2)
    assert base["brier"] == pytest.approx(base_brier)
    assert tracker["skill_vs_base_rate"] == pytest.approx(1 - (1 / 6) / base_brier)
    assert base["skill_vs_base_rate"] == pytest.approx(0) and coin["skill_vs_coin"] == pytest.approx(0)
    # the previous scorer is scored on the five claims it gave, its references on the same five
    kept = [0, 1, 3, 4, 5]
    prev_brier = np.mean((np.array([0.2, 0.6, 0.3, 0.7, 0.8]) - np.array(Y)[kept]) ** 2)
    assert previous["brier"] == pytest.approx(prev_brier)
    assert previous["skill_vs_coin"] == pytest.approx(1 - prev_brier / 0.25)
    assert previous["skill_vs_base_rate"] == pytest.approx(
        1 - prev_brier / np.mean((np.array([0.5, 0.5, 0.4, 0.45, 0.5]) - np.array(Y)[kept]) ** 2))
    assert coin["accuracy"] == pytest.approx(0.5)
    # without a base-rate column that skill is unknown
    alone = evaluation.compare(frame(), {"tracker": "p_true"})
    assert math.isnan(alone["skill_vs_base_rate"].iloc[0])


def test_empty_inputs_give_nan_and_empty_frames():
    empty = frame([], [])
    result = evaluation.evaluate(empty)
    assert result.claims == 0 and math.isnan(result.brier.score) and math.isnan(result.log_loss.mcb)
    assert math.isnan(result.accuracy) and result.diagram.empty
    assert list(result.diagram.columns) == list(evaluation.DIAGRAM_COLUMNS)
    assert math.isnan(evaluation.brier_score([], [])) and math.isnan(evaluation.log_loss([np.nan], [1]))
    table = evaluation.compare(empty, {"tracker": "p_true", "constant 0.5": 0.5})
    assert table["claims"].tolist() == [0, 0] and table["brier"].isna().all() and table["skill_vs_coin"].isna().all()
    topics = evaluation.scores_by_topic(empty, pd.DataFrame({"claim_id": [], "topic": []}))
    assert topics.empty and list(topics.columns)[:3] == ["topic", "claims", "truth_rate"]
    charts.corp_reliability_chart(result.diagram, []).to_dict()
    charts.comparison_chart(table).to_dict()


def test_on_the_aleppo_store_it_agrees_with_the_tracker_s_own_calibration(seeded):
    evidence = load_evidence(seeded.engine)
    predictions = scoring.predict_at_report_time(evidence)
    own = scoring.calibration(evidence, predictions)
    result = evaluation.evaluate(predictions)
    assert result.claims == own.claims > 0
    assert result.brier.score == pytest.approx(own.brier)
    table = evaluation.compare(predictions, {"tracker": "p_true", "running base rate": "base_rate"})
    assert table["brier"].tolist() == pytest.approx([own.brier, own.base_rate_brier])
    by_topic = evaluation.scores_by_topic(predictions, evidence.topics)
    scored = set(predictions.loc[predictions["outcome"].notna(), "claim_id"])
    expected = evidence.topics[evidence.topics["claim_id"].isin(scored)].groupby("topic").size()
    assert by_topic.set_index("topic")["claims"].to_dict() == expected.to_dict()


# -- charts ---------------------------------------------------------------------------------
def test_corp_chart_draws_the_step_line_diagonal_and_histogram():
    diagram = evaluation.reliability_diagram(P, Y)
    spec = charts.corp_reliability_chart(diagram, P).to_dict()
    main, histogram = spec["layer"]
    diagonal, line, points = main["layer"]
    assert spec["resolve"]["scale"]["y"] == "independent"
    assert line["mark"]["type"] == "line" and line["encoding"]["y"]["field"] == "recalibrated"
    assert line["encoding"]["x"]["field"] == "forecast" and line["encoding"]["order"]["field"] == "order"
    steps = spec["datasets"][line["data"]["name"]]
    # each block runs flat from its lowest to its highest forecast
    assert [(s["forecast"], round(s["recalibrated"], 3)) for s in steps] == [
        (0.1, 0.0), (0.1, 0.0), (0.3, 0.333), (0.6, 0.333), (0.8, 1.0), (0.9, 1.0)]
    assert diagonal["mark"]["strokeDash"] == [5, 5]
    assert {t["field"] for t in points["encoding"]["tooltip"]} >= {"range", "recalibrated", "claims"}
    bars = spec["datasets"][histogram["data"]["name"]]
    assert sum(b["claims"] for b in bars) == len(P) and histogram["encoding"]["y"]["axis"] is None
    assert histogram["mark"]["type"] == "rect" and histogram["encoding"]["y2"]["field"] == "zero"
    assert "layer" not in charts.corp_reliability_chart(diagram).to_dict()["layer"][0]  # no histogram


def test_comparison_chart_keeps_the_forecasters_order():
    table = evaluation.compare(frame(base_rate=0.5), {"tracker": "p_true", "constant 0.5": 0.5,
                                                      "base rate": "base_rate"})
    spec = charts.comparison_chart(table).to_dict()
    bars, labels = spec["layer"]
    assert bars["encoding"]["y"]["sort"] == ["tracker", "constant 0.5", "base rate"]
    assert bars["encoding"]["x"]["field"] == "brier"
    assert {t["field"] for t in bars["encoding"]["tooltip"]} >= {"log_loss", "skill_vs_coin", "claims"}
