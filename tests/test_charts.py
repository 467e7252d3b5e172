"""Chart builders, checked as Vega-Lite specs without a browser: encodings, titles, tooltips, clicks."""

from __future__ import annotations

import pandas as pd
import pytest

from tracker import charts, scoring
from tracker.evidence import load_evidence


def layers(chart) -> list[dict]:
    """The chart's layers as Vega-Lite dicts."""
    return chart.to_dict()["layer"]


def encoding(layer: dict, channel: str) -> dict:
    return layer["encoding"][channel]


def picks(chart) -> list[dict]:
    """The click selections on the chart (Altair lifts a layer's selection to the top, naming its view)."""
    spec = chart.to_dict()
    found = spec.get("params", []) + [p for layer in spec["layer"] for p in layer.get("params", [])]
    return [p for p in found if p["name"] == charts.PICK]


@pytest.fixture
def evidence(seeded):
    return load_evidence(seeded.engine)


def test_status_timeline_shows_who_said_what_when(seeded):
    view = seeded.get_claim(8)
    reports = pd.DataFrame([{"reported_at": r.reported_at, "source": s, "source_id": r.source_id,
                             "stance": r.stance, "via": v} for r, s, v in view.reports])
    outcomes = pd.DataFrame([{"decided_at": o.decided_at, "verdict": o.verdict} for o in view.outcomes])
    chart = charts.status_timeline_chart(reports, outcomes)
    spec = chart.to_dict()
    points, rule, _label = layers(chart)
    assert encoding(points, "x")["field"] == "reported_at" and encoding(points, "x")["type"] == "temporal"
    assert encoding(points, "y")["field"] == "source" and encoding(points, "y")["sort"][0] == "Jihadi sources"
    assert encoding(points, "color")["field"] == "stance"
    assert encoding(points, "color")["scale"]["domain"] == charts.STANCES
    assert {t["field"] for t in encoding(points, "tooltip")} >= {"source", "stance", "reported_at", "via"}
    assert picks(chart)[0]["select"]["fields"] == ["source_id"] and picks(chart)[0]["views"] == [points["name"]]
    assert encoding(rule, "x")["field"] == "decided_at" and "tooltip" in rule["encoding"]
    assert spec["title"] == "Who said what, when" and encoding(points, "x")["title"] == "Reported at (UTC)"
    data = next(iter(spec["datasets"].values()))
    assert {row["source"] for row in data} == {"Jihadi sources", "Western media", "The Duran",
                                              "Russian Defence Ministry", "ICRC"}


def test_status_timeline_without_outcome(seeded):
    view = seeded.get_claim(13)
    reports = pd.DataFrame([{"reported_at": r.reported_at, "source": s, "source_id": r.source_id,
                             "stance": r.stance} for r, s, _ in view.reports])
    assert len(layers(charts.status_timeline_chart(reports))) == 1


def test_leaderboard_has_points_with_interval_error_bars_and_grades(evidence):
    scores = scoring.score_sources(evidence)
    chart = charts.leaderboard_chart(scores.head(5))
    bars, points = layers(chart)
    assert bars["mark"]["type"] == "rule"
    assert encoding(bars, "x")["field"] == "lower" and encoding(bars, "x2")["field"] == "upper"
    assert encoding(points, "x")["field"] == "reliability"
    assert encoding(points, "x")["scale"]["domain"] == [0, 1]
    assert encoding(points, "color")["field"] == "grade"
    assert encoding(points, "y")["sort"] == list(scores.head(5)["source"])
    tips = {t["field"]: t.get("title") for t in encoding(points, "tooltip")}
    assert {"source", "grade", "grade_words", "reliability", "lower", "upper", "resolved", "pending"} <= set(tips)
    assert tips["lower"] == "90% low"
    assert picks(chart)[0]["select"]["fields"] == ["source_id"] and picks(chart)[0]["views"] == [points["name"]]
    assert "90% credible interval" in encoding(bars, "x")["title"]


def test_reliability_over_time_is_an_as_of_series_with_its_band(evidence):
    times = sorted(evidence.outcomes["decided_at"].unique())
    series = scoring.reliability_over_time(evidence, times, source_ids=[16])
    chart = charts.reliability_over_time_chart(series, prior=0.6)
    band, line, points, prior = layers(chart)
    assert band["mark"]["type"] == "area"
    assert encoding(band, "y")["field"] == "lower" and encoding(band, "y2")["field"] == "upper"
    assert encoding(line, "x")["field"] == "as_of" and encoding(line, "y")["field"] == "reliability"
    assert {t["field"] for t in encoding(points, "tooltip")} >= {"as_of", "reliability", "lower", "upper"}
    assert encoding(prior, "y")["field"] == "prior"


def test_calibration_diagram_has_the_diagonal(evidence):
    result = scoring.calibration(evidence)
    chart = charts.calibration_chart(result.table)
    diagonal, _line, points = layers(chart)
    spec = chart.to_dict()
    diagonal_data = spec["datasets"][diagonal["data"]["name"]]
    assert [(row["x"], row["y"]) for row in diagonal_data] == [(0.0, 0.0), (1.0, 1.0)]
    assert encoding(points, "x")["field"] == "predicted" and encoding(points, "y")["field"] == "observed"
    assert encoding(points, "size")["field"] == "claims"
    assert encoding(diagonal, "x")["title"] == "Predicted p_true at report time"
    assert {t["field"] for t in encoding(points, "tooltip")} == {"bin", "predicted", "observed", "claims"}


def test_truth_rate_by_stance(evidence):
    result = scoring.calibration(evidence)
    chart = charts.truth_rate_chart(result.by_stance, base_rate=0.55)
    bars, labels, base = layers(chart)
    assert bars["mark"]["type"] == "bar"
    assert encoding(bars, "x")["field"] == "stance" and encoding(bars, "x")["sort"] == charts.STANCES
    assert encoding(bars, "y")["field"] == "truth_rate" and encoding(bars, "y")["scale"]["domain"] == [0, 1]
    assert encoding(labels, "text")["field"] == "label"
    assert encoding(base, "y")["field"] == "base_rate"


def test_charts_fit_the_container_width():
    frame = pd.DataFrame({"stance": ["confirmed"], "claims": [3], "truth_rate": [0.5]})
    spec = charts.truth_rate_chart(frame).to_dict()
    assert spec["autosize"]["type"] == "fit-x" and spec["width"] == "container"
