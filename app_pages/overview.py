"""Overview: the store at a glance: claims open, overdue and resolved, the most and least reliable
sources, what was logged last, and how well the tracker's own predictions have held up."""

import math

import streamlit as st

from tracker import queries
from tracker.dashboard import cache, forms, pages, widgets

st.title("Overview")
widgets.flash()
ledger = cache.ledger()
counts = queries.overview_counts(ledger)
if counts["claims"] == 0:
    forms.offer_example("overview_load_example")

cells = st.columns(6)
for cell, (label, value, help_text) in zip(cells, [
    ("Claims", counts["claims"], "Every claim logged"),
    ("Open", counts["open"], "No verdict yet"),
    ("Overdue", counts["overdue"], "Open past the date it was expected to be settled by"),
    ("Resolved", counts["resolved"], "With a verdict in force"),
    ("Sources", counts["sources"], None),
    ("Reports", counts["reports"], "One source's stance on one claim at one time"),
]):
    cell.metric(label, value, help=help_text)
if counts["overdue"]:
    st.page_link(pages.REVIEW_PAGE, label=f"Review the {counts['overdue']} overdue claim(s)", icon=":material/schedule:")

if counts["claims"]:
    fp = cache.fingerprint()
    with st.spinner("Scoring sources..."):
        scores = cache.scores(fp)
    judged = scores[scores["resolved"] > 0]
    st.subheader("Who to trust")
    if judged.empty:
        st.caption("No source has a resolved claim yet: record outcomes on the Review queue page.")
    else:
        level = scores.attrs.get("level", 0.9)
        most, least = st.columns(2)
        with most:
            widgets.source_chart(judged.head(5), "overview_most", "Most reliable (by the interval's low end)", level)
        with least:
            bottom = judged.sort_values(["upper", "reliability"], kind="stable").head(5)
            widgets.source_chart(bottom, "overview_least", "Least reliable (by the interval's high end)", level)
        st.caption("Dots are each source's reliability, bars its 90% credible interval, colours its grade "
                   "(A completely reliable ... E unreliable, F cannot be judged yet). Click a source to open it.")

    left, right = st.columns([3, 2])
    with left:
        st.subheader("Recent activity")
        activity = queries.recent_activity(ledger, limit=10)
        widgets.table(widgets.claims_table(activity), "overview_activity",
                 column_config={"claim_id": st.column_config.NumberColumn("claim", format="#%d")})
    with right:
        st.subheader("Calibration at a glance")
        with st.spinner("Scoring the tracker's own predictions..."):
            result = cache.calibration(fp)
        result = result.calibration if result is not None else None
        if result is None or result.claims == 0 or math.isnan(result.brier):
            st.caption("No resolved claim to check the predictions against yet.")
        else:
            a, b = st.columns(2)
            a.metric("Brier score", f"{result.brier:.3f}",
                     help="Of p_true at report time, on resolved claims; lower is better")
            b.metric("Base rate's Brier", f"{result.base_rate_brier:.3f}",
                     delta=f"{result.base_rate_brier - result.brier:+.3f}", delta_color="normal",
                     help="Predicting the running share of true claims for every claim; the tracker should beat it")
            st.caption(f"On {result.claims} resolved claim(s), scored with only what was known when each "
                       "was first reported.")
        st.page_link(pages.CALIBRATION_PAGE, label="Calibration in full", icon=":material/insights:")
