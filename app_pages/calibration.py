"""Calibration: how well the tracker's own forecasts held up. Each claim's p_true as it stood
when the claim was first reported (from earlier outcomes only, with parameters fitted on claims
resolved before), scored against its outcome beside the baselines it has to beat."""

import math

import streamlit as st

from tracker import charts, selfscore
from tracker.dashboard import cache, widgets

st.title("Calibration")
widgets.flash()
with st.spinner("Scoring the tracker's own predictions..."):
    result = cache.calibration(cache.fingerprint())
if result is None or result.calibration.claims == 0:
    st.info("No resolved claim yet: predictions are scored once outcomes are recorded (Review queue).")
    st.stop()

legacy = result.calibration
cells = st.columns(5)
cells[0].metric("Claims scored", legacy.claims, help="Resolved claims with a true, false or partly true verdict")
cells[1].metric("Brier score", f"{legacy.brier:.3f}",
                help="Mean squared error of p_true at report time; lower is better")
gain = legacy.base_rate_brier - legacy.brier
cells[2].metric("Base rate's Brier", f"{legacy.base_rate_brier:.3f}",
                delta=None if abs(gain) < 0.0005 else f"tracker {'better' if gain > 0 else 'worse'} by {abs(gain):.3f}",
                delta_color="normal" if gain > 0 else "inverse",
                help="Predicting the running share of true claims for every claim")
cells[3].metric("Log loss", f"{result.log_loss:.3f}", help="Coin flip: 0.693; lower is better")
cells[4].metric("Accuracy", "-" if math.isnan(legacy.accuracy) else f"{legacy.accuracy:.0%}",
                help="p_true on the right side of 0.5")
st.caption(f"Model: {selfscore.describe_params(result.params)}.")

st.subheader("Against the baselines")
widgets.chart(charts.comparison_chart(result.comparison), key="calibration_comparison", width="stretch")
number = st.column_config.NumberColumn(format="%.4f")
widgets.table(result.comparison[["forecaster", "brier", "log_loss", "mcb", "dsc", "unc", "accuracy", "claims"]],
         "calibration_comparison_table",
         column_config={"brier": number, "log_loss": st.column_config.NumberColumn("log loss", format="%.4f"),
                        "mcb": st.column_config.NumberColumn("miscalibration", format="%.4f"),
                        "dsc": st.column_config.NumberColumn("discrimination", format="%.4f"),
                        "unc": st.column_config.NumberColumn("uncertainty", format="%.4f"),
                        "accuracy": st.column_config.NumberColumn(format="%.2f")})
st.caption("Every forecaster made each claim's forecast at its first report, from earlier outcomes only. "
           "Brier = miscalibration − discrimination + uncertainty (CORP decomposition).")

left, right = st.columns(2)
with left:
    widgets.chart(charts.corp_reliability_chart(result.evaluation.diagram, result.predictions["p_true"]
                                                [result.predictions["outcome"].notna()]),
                  key="calibration_diagram", width="stretch")
    st.caption("The blue steps are the share of claims that turned out true, fitted by isotonic regression: "
               "no bins to choose. On the dashed diagonal, of the claims given 0.7, seven in ten were true.")
with right:
    if len(legacy.by_stance):
        widgets.chart(charts.truth_rate_chart(legacy.by_stance), key="calibration_by_stance", width="stretch")
        st.caption("Every source's last stance on each resolved claim, against the verdict.")

st.subheader("By topic")
if len(result.by_topic):
    widgets.table(result.by_topic[["topic", "claims", "truth_rate", "brier", "log_loss", "accuracy"]], "calibration_by_topic",
             column_config={"truth_rate": st.column_config.NumberColumn("truth rate", format="%.2f"),
                            "brier": st.column_config.NumberColumn(format="%.3f"),
                            "log_loss": st.column_config.NumberColumn("log loss", format="%.3f"),
                            "accuracy": st.column_config.NumberColumn(format="%.2f")})
else:
    st.caption("No topic has a resolved claim yet.")

with st.expander("The model's parameters, refitted as the record grew"):
    widgets.table(result.checkpoints.drop(columns=["level"]), "calibration_checkpoints",
             column_config={"from": "from", "resolved": "resolved claims"})
    st.caption("Each claim's forecast used the row before its first report: no fit ever saw its outcome.")
with st.expander("Truth rate by source and stance"):
    number = st.column_config.NumberColumn(format="%.2f")
    widgets.table(legacy.by_source_stance, "calibration_by_source", column_config={"truth_rate": number})
