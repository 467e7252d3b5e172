"""Altair chart builders: pure functions from a DataFrame to an `alt.Chart`, no Streamlit, no I/O.

Each builder takes the frame the service layer or scoring produced, titles its axes, gives every
mark a tooltip, and returns the chart; pages only display it. Charts whose marks stand for a source
or a claim carry a point selection named `PICK` over `source_id` or `claim_id`: a page shows them
with `st.altair_chart(..., on_select="rerun")` and opens the picked source or claim. Stances and
grades have fixed colours everywhere so that one chart reads like the next.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from tracker.scoring import GRADE_WORDS

# the name of the click selection on marks that open a source or claim page
PICK = "pick"
STANCES = ["rumoured", "confirmed", "denied"]
STANCE_COLOURS = ["#e8a33d", "#2e8b57", "#c0392b"]
STANCE_SHAPES = ["circle", "square", "triangle-down"]
GRADES = list("ABCDEF")
GRADE_COLOURS = ["#1a7f37", "#4caf50", "#a3c644", "#e6a23c", "#d9534f", "#9e9e9e"]
_STANCE_COLOUR = alt.Scale(domain=STANCES, range=STANCE_COLOURS)
_GRADE_COLOUR = alt.Scale(domain=GRADES, range=GRADE_COLOURS)
_UNIT = alt.Scale(domain=[0, 1])
# width follows the container; the height given is the plot's own (Streamlit's default, "fit",
# would squeeze the plot into a height that must also hold the axes and legend)
_FIT_WIDTH = alt.AutoSizeParams(type="fit-x", contains="padding")


def _pick(field: str) -> alt.Parameter:
    """A click selection of one mark, by the id it stands for (the mark nearest the click)."""
    return alt.selection_point(name=PICK, fields=[field], on="click", clear="dblclick", toggle=False, nearest=True)


def _row_height(rows: int, per_row: int = 24, least: int = 80) -> int:
    return max(least, per_row * max(rows, 1))


def status_timeline_chart(reports: pd.DataFrame, outcomes: pd.DataFrame | None = None, *,
                          title: str = "Who said what, when") -> alt.LayerChart:
    """A claim's reports over time: one row per source, one mark per report coloured by stance;
    a dashed rule for each verdict when it became known. Clicking a report picks its source.

    `reports`: reported_at, source, source_id, stance, and optionally via, quote, url.
    `outcomes`: decided_at, verdict (every revision, oldest first).
    """
    data = reports.copy()
    for column in ("via", "quote", "url"):
        if column not in data:
            data[column] = ""
    data[["via", "quote", "url"]] = data[["via", "quote", "url"]].fillna("")
    pick = _pick("source_id")
    sources = list(dict.fromkeys(data["source"]))
    x = alt.X("reported_at:T", title="Reported at (UTC)", axis=alt.Axis(format="%d %b %Y %H:%M", labelAngle=-30))
    points = alt.Chart(data).mark_point(size=140, filled=True, cursor="pointer").encode(
        x=x,
        y=alt.Y("source:N", title=None, sort=sources, axis=alt.Axis(labelLimit=260)),
        color=alt.Color("stance:N", title="Stance", scale=_STANCE_COLOUR),
        shape=alt.Shape("stance:N", title="Stance", scale=alt.Scale(domain=STANCES, range=STANCE_SHAPES)),
        opacity=alt.condition(pick, alt.value(1.0), alt.value(0.5)),
        tooltip=[
            alt.Tooltip("source:N", title="Source"), alt.Tooltip("stance:N", title="Stance"),
            alt.Tooltip("reported_at:T", title="Reported at (UTC)", format="%Y-%m-%d %H:%M"),
            alt.Tooltip("via:N", title="Relaying"), alt.Tooltip("quote:N", title="Quote"),
        ],
    ).add_params(pick)
    layers: list[alt.Chart] = [points]
    if outcomes is not None and len(outcomes):
        verdicts = outcomes[["decided_at", "verdict"]].copy()
        verdicts["label"] = "outcome: " + verdicts["verdict"].astype(str)
        tooltip = [alt.Tooltip("verdict:N", title="Outcome"),
                   alt.Tooltip("decided_at:T", title="Known at (UTC)", format="%Y-%m-%d %H:%M")]
        rule = alt.Chart(verdicts).mark_rule(strokeDash=[6, 4], size=2, color="#555").encode(
            x=alt.X("decided_at:T"), tooltip=tooltip)
        label = alt.Chart(verdicts).mark_text(align="right", dx=-4, dy=2, baseline="top", color="#555").encode(
            x="decided_at:T", y=alt.value(0), text="label:N", tooltip=tooltip)
        layers += [rule, label]
    return alt.layer(*layers).properties(
        title=title, height=_row_height(len(sources), 34, 120), width="container", autosize=_FIT_WIDTH)


def leaderboard_chart(scores: pd.DataFrame, *, level: float = 0.9,
                      title: str = "Source reliability") -> alt.LayerChart:
    """Sources ranked as given: the reliability as a point with its credible interval as an
    error bar, coloured by grade; clicking a source picks it.

    `scores`: a slice of `scoring.score_sources` (source_id, source, reliability, lower, upper,
    grade, resolved, pending; kind optional), in the order to show.
    """
    data = scores.copy()
    data["rank"] = range(1, len(data) + 1)
    data["grade_words"] = data["grade"].map(GRADE_WORDS)
    if "kind" not in data:
        data["kind"] = ""
    pct = f"{round(level * 100)}%"
    pick = _pick("source_id")
    order = list(data["source"])
    y = alt.Y("source:N", title=None, sort=order, axis=alt.Axis(labelLimit=260))
    tooltip = [
        alt.Tooltip("source:N", title="Source"), alt.Tooltip("grade:N", title="Grade"),
        alt.Tooltip("grade_words:N", title="Meaning"),
        alt.Tooltip("reliability:Q", title="Reliability", format=".2f"),
        alt.Tooltip("lower:Q", title=f"{pct} low", format=".2f"),
        alt.Tooltip("upper:Q", title=f"{pct} high", format=".2f"),
        alt.Tooltip("resolved:Q", title="Resolved"), alt.Tooltip("pending:Q", title="Pending"),
        alt.Tooltip("kind:N", title="Kind"),
    ]
    base = alt.Chart(data).encode(y=y, tooltip=tooltip)
    grade = alt.Color("grade:N", title="Grade", scale=_GRADE_COLOUR)
    bars = base.mark_rule(strokeWidth=3, opacity=0.6).encode(
        x=alt.X("lower:Q", title=f"Reliability, with its {pct} credible interval", scale=_UNIT),
        x2="upper:Q",
        color=grade,
    )
    points = base.mark_point(size=90, filled=True, cursor="pointer").encode(
        x=alt.X("reliability:Q", scale=_UNIT),
        color=grade,
        opacity=alt.condition(pick, alt.value(1.0), alt.value(0.6)),
    ).add_params(pick)
    return alt.layer(bars, points).properties(title=title, height=_row_height(len(data)), width="container",
                                              autosize=_FIT_WIDTH)


def reliability_over_time_chart(series: pd.DataFrame, *, prior: float | None = None, level: float = 0.9,
                                title: str = "Reliability over time") -> alt.LayerChart:
    """One source's reliability as it stood at each moment (as-of scores), with its interval as a band.

    `series`: as_of, reliability, lower, upper, resolved, grade (`scoring.reliability_over_time`).
    """
    data = series.copy()
    pct = f"{round(level * 100)}%"
    x = alt.X("as_of:T", title="As of (UTC)", axis=alt.Axis(format="%d %b %Y"))
    tooltip = [
        alt.Tooltip("as_of:T", title="As of (UTC)", format="%Y-%m-%d %H:%M"),
        alt.Tooltip("reliability:Q", title="Reliability", format=".2f"),
        alt.Tooltip("lower:Q", title=f"{pct} low", format=".2f"),
        alt.Tooltip("upper:Q", title=f"{pct} high", format=".2f"),
        alt.Tooltip("resolved:Q", title="Resolved"), alt.Tooltip("grade:N", title="Grade"),
    ]
    band = alt.Chart(data).mark_area(opacity=0.25, interpolate="step-after").encode(
        x=x, y=alt.Y("lower:Q", title=f"Reliability ({pct} interval shaded)", scale=_UNIT), y2="upper:Q")
    line = alt.Chart(data).mark_line(interpolate="step-after").encode(x=x, y=alt.Y("reliability:Q", scale=_UNIT))
    points = alt.Chart(data).mark_point(filled=True, size=50).encode(
        x=x, y=alt.Y("reliability:Q", scale=_UNIT), color=alt.Color("grade:N", title="Grade", scale=_GRADE_COLOUR),
        tooltip=tooltip)
    layers = [band, line, points]
    if prior is not None:
        layers.append(alt.Chart(pd.DataFrame({"prior": [prior]})).mark_rule(strokeDash=[4, 4], color="gray").encode(
            y="prior:Q", tooltip=[alt.Tooltip("prior:Q", title="Store average (prior)", format=".2f")]))
    return alt.layer(*layers).properties(title=title, height=260, width="container", autosize=_FIT_WIDTH)


def calibration_chart(table: pd.DataFrame, *, title: str = "Reliability diagram") -> alt.LayerChart:
    """Predicted p_true against how often those claims turned out true, per bin, beside the
    diagonal of perfect calibration; marks sized by how many claims each bin holds.

    `table`: bin, predicted, observed, claims (`scoring.calibration(...).table`).
    """
    diagonal = alt.Chart(pd.DataFrame({"x": [0.0, 1.0], "y": [0.0, 1.0]})).mark_line(
        strokeDash=[5, 5], color="gray").encode(
        x=alt.X("x:Q", title="Predicted p_true at report time", scale=_UNIT),
        y=alt.Y("y:Q", title="Share that turned out true", scale=_UNIT))
    tooltip = [alt.Tooltip("bin:N", title="Bin"), alt.Tooltip("predicted:Q", title="Mean predicted", format=".2f"),
               alt.Tooltip("observed:Q", title="Observed true", format=".2f"),
               alt.Tooltip("claims:Q", title="Claims")]
    line = alt.Chart(table).mark_line().encode(x="predicted:Q", y="observed:Q")
    points = alt.Chart(table).mark_circle(opacity=0.85).encode(
        x=alt.X("predicted:Q", scale=_UNIT), y=alt.Y("observed:Q", scale=_UNIT),
        size=alt.Size("claims:Q", title="Claims"), tooltip=tooltip)
    return alt.layer(diagonal, line, points).properties(title=title, height=320, width="container", autosize=_FIT_WIDTH)


def truth_rate_chart(by_stance: pd.DataFrame, *, base_rate: float | None = None,
                     title: str = "How often claims turned out true, by stance") -> alt.LayerChart:
    """Per stance, the share of resolved claims that were true (partly true counts half), with counts.

    `by_stance`: stance, claims, truth_rate (`scoring.calibration(...).by_stance`).
    """
    data = by_stance.copy()
    data["label"] = "n=" + data["claims"].astype(int).astype(str)
    x = alt.X("stance:N", title="Stance", sort=STANCES, axis=alt.Axis(labelAngle=0))
    tooltip = [alt.Tooltip("stance:N", title="Stance"), alt.Tooltip("claims:Q", title="Claims"),
               alt.Tooltip("truth_rate:Q", title="Turned out true", format=".0%")]
    bars = alt.Chart(data).mark_bar().encode(
        x=x, y=alt.Y("truth_rate:Q", title="Share that turned out true", scale=_UNIT, axis=alt.Axis(format="%")),
        color=alt.Color("stance:N", title="Stance", scale=_STANCE_COLOUR, legend=None), tooltip=tooltip)
    labels = alt.Chart(data).mark_text(dy=-6, baseline="bottom").encode(x=x, y="truth_rate:Q", text="label:N")
    layers = [bars, labels]
    if base_rate is not None:
        layers.append(alt.Chart(pd.DataFrame({"base_rate": [base_rate]})).mark_rule(
            strokeDash=[4, 4], color="gray").encode(
            y="base_rate:Q", tooltip=[alt.Tooltip("base_rate:Q", title="All resolved claims", format=".0%")]))
    return alt.layer(*layers).properties(title=title, height=260, width="container", autosize=_FIT_WIDTH)


def corp_reliability_chart(diagram: pd.DataFrame, forecasts=None, *,
                           title: str = "Reliability diagram (CORP)") -> alt.LayerChart:
    """The CORP reliability diagram: the recalibrated (PAV) forecast as a step line against the
    forecast, beside the diagonal of perfect calibration, with a histogram of the forecasts along
    the bottom when `forecasts` is given.

    `diagram`: block, lower, upper, mean_forecast, recalibrated, claims
    (`evaluation.reliability_diagram`); `forecasts`: the scored forecasts, one per claim.
    """
    blocks = diagram.copy()
    blocks["range"] = [f"{lo:.2f}-{hi:.2f}" for lo, hi in zip(blocks["lower"], blocks["upper"])]
    # each block is a flat run from its lowest to its highest forecast; runs join in order
    steps = pd.concat([blocks.assign(forecast=blocks["lower"], end=0),
                       blocks.assign(forecast=blocks["upper"], end=1)]).sort_values(["block", "end"])
    steps["order"] = range(len(steps))
    x = alt.X("forecast:Q", title="Forecast p_true", scale=_UNIT)
    y = alt.Y("recalibrated:Q", title="Share that turned out true (PAV-recalibrated)", scale=_UNIT)
    tooltip = [alt.Tooltip("range:N", title="Forecasts"),
               alt.Tooltip("mean_forecast:Q", title="Mean forecast", format=".2f"),
               alt.Tooltip("recalibrated:Q", title="Turned out true", format=".2f"),
               alt.Tooltip("claims:Q", title="Claims")]
    diagonal = alt.Chart(pd.DataFrame({"forecast": [0.0, 1.0], "recalibrated": [0.0, 1.0]})).mark_line(
        strokeDash=[5, 5], color="gray").encode(x=x, y=y)
    line = alt.Chart(steps).mark_line(color="#1f77b4").encode(x=x, y=y, order="order:Q", tooltip=tooltip)
    points = alt.Chart(blocks).mark_circle(color="#1f77b4", opacity=0.85).encode(
        x=alt.X("mean_forecast:Q", scale=_UNIT), y=alt.Y("recalibrated:Q", scale=_UNIT),
        size=alt.Size("claims:Q", title="Claims"), tooltip=tooltip)
    chart = alt.layer(diagonal, line, points)
    if forecasts is not None and len(forecasts):
        counts, edges = np.histogram(np.asarray(forecasts, dtype=float), bins=20, range=(0.0, 1.0))
        histogram = pd.DataFrame({"start": edges[:-1], "stop": edges[1:], "claims": counts, "zero": 0})
        # drawn against its own axis, scaled so the tallest bar fills the bottom fifth of the plot
        bars = alt.Chart(histogram).mark_rect(opacity=0.3, color="gray").encode(
            x=alt.X("start:Q", scale=_UNIT), x2="stop:Q", y2="zero:Q",
            y=alt.Y("claims:Q", axis=None, scale=alt.Scale(domain=[0, 5 * max(int(counts.max()), 1)])),
            tooltip=[alt.Tooltip("start:Q", title="Forecasts from", format=".2f"),
                     alt.Tooltip("stop:Q", title="to", format=".2f"), alt.Tooltip("claims:Q", title="Claims")])
        chart = alt.layer(chart, bars).resolve_scale(y="independent")
    return chart.properties(title=title, height=320, width="container", autosize=_FIT_WIDTH)


def comparison_chart(table: pd.DataFrame, *, title: str = "Brier score by forecaster") -> alt.LayerChart:
    """One bar per forecaster, in the order given, for its Brier score (lower is better),
    with its log loss, skill scores and claims in the tooltip.

    `table`: forecaster, brier, log_loss, claims, skill_vs_coin, skill_vs_base_rate
    (`evaluation.compare`).
    """
    data = table.copy()
    data["label"] = data["brier"].map(lambda v: "" if pd.isna(v) else f"{v:.3f}")
    y = alt.Y("forecaster:N", title=None, sort=list(data["forecaster"]), axis=alt.Axis(labelLimit=260))
    tooltip = [alt.Tooltip("forecaster:N", title="Forecaster"),
               alt.Tooltip("brier:Q", title="Brier score", format=".3f"),
               alt.Tooltip("log_loss:Q", title="Log loss", format=".3f"),
               alt.Tooltip("skill_vs_coin:Q", title="Skill vs constant 0.5", format="+.1%"),
               alt.Tooltip("skill_vs_base_rate:Q", title="Skill vs running base rate", format="+.1%"),
               alt.Tooltip("claims:Q", title="Claims scored")]
    bars = alt.Chart(data).mark_bar().encode(
        x=alt.X("brier:Q", title="Brier score (lower is better)"), y=y, tooltip=tooltip)
    labels = alt.Chart(data).mark_text(align="left", dx=4).encode(x="brier:Q", y=y, text="label:N")
    return alt.layer(bars, labels).properties(title=title, height=_row_height(len(data)), width="container",
                                              autosize=_FIT_WIDTH)


def p_true_timeline_chart(line: pd.DataFrame, *, title: str = "p_true as the reports arrived") -> alt.LayerChart:
    """A claim's forecast after each report (a step line), with the report that moved it.

    `line`: at, p_true, source, stance (`forecast.timeline`).
    """
    data = line.assign(label=[f"{s} {st}" if isinstance(s, str) else "" for s, st in zip(line["source"], line["stance"])])
    x = alt.X("at:T", title="Reported at")
    y = alt.Y("p_true:Q", title="p_true", scale=_UNIT)
    tooltip = [alt.Tooltip("at:T", title="At", format="%Y-%m-%d %H:%M"),
               alt.Tooltip("p_true:Q", title="p_true", format=".2f"), alt.Tooltip("label:N", title="Report")]
    half = alt.Chart(pd.DataFrame({"p": [0.5]})).mark_rule(strokeDash=[4, 4], color="gray").encode(y="p:Q")
    steps = alt.Chart(data).mark_line(interpolate="step-after", color="#1f77b4").encode(x=x, y=y)
    points = alt.Chart(data).mark_circle(size=70, color="#1f77b4").encode(x=x, y=y, tooltip=tooltip)
    return alt.layer(half, steps, points).properties(title=title, height=220, width="container",
                                                     autosize=_FIT_WIDTH)
