"""Calibration: how well the tracker's own predictions held up. Each claim's p_true as it stood
when the claim was first reported (from earlier outcomes only), scored against its outcome."""

import math

import streamlit as st

from tracker import charts, ui

st.title("Calibration")
ui.flash()
bins = st.slider("Bins", min_value=4, max_value=20, value=10, key="calibration_bins",
                 help="How many equal slices of 0-1 the predictions are grouped into")
with st.spinner("Scoring the tracker's own predictions..."):
    result = ui.calibration(ui.fingerprint(), bins)
if result is None or result.claims == 0:
    st.info("No resolved claim yet: predictions are scored once outcomes are recorded (Review queue).")
    st.stop()

cells = st.columns(5)
cells[0].metric("Claims scored", result.claims, help="Resolved claims with a true, false or partly true verdict")
cells[1].metric("Brier score", f"{result.brier:.3f}",
                help="Mean squared error of p_true at report time; lower is better")
cells[2].metric("Base rate's Brier", f"{result.base_rate_brier:.3f}",
                delta=f"{result.base_rate_brier - result.brier:+.3f}", delta_color="normal",
                help="Predicting the running share of true claims for every claim. "
                     "A positive difference: the tracker beats it")
cells[3].metric("Coin flip's Brier", "0.250", help="Predicting 0.5 for every claim")
cells[4].metric("Accuracy", "-" if math.isnan(result.accuracy) else f"{result.accuracy:.0%}",
                help="p_true on the right side of 0.5")

left, right = st.columns(2)
with left:
    st.altair_chart(charts.calibration_chart(result.table), key="calibration_diagram", width="stretch")
    st.caption("Points on the dashed diagonal are perfectly calibrated: of the claims given 0.7, "
               "seven in ten were true.")
with right:
    if len(result.by_stance):
        judged = result.by_stance
        st.altair_chart(charts.truth_rate_chart(judged), key="calibration_by_stance", width="stretch")
        st.caption("Every source's last stance on each resolved claim, against the verdict.")

st.subheader("The reliability table")
number = st.column_config.NumberColumn(format="%.2f")
ui.table(result.table, "calibration_table", column_config={"predicted": number, "observed": number})
with st.expander("Truth rate by source and stance"):
    ui.table(result.by_source_stance, "calibration_by_source", column_config={"truth_rate": number})
