"""Overview: the store at a glance: claims open, overdue and resolved, what grade F means and what to
do about it, the most and least reliable sources (never one in both), the claims waiting for an
outcome (overdue first), what was logged last, and how well the tracker's own predictions have held up."""

import math

import streamlit as st

from tracker import queries, scoring
from tracker.dashboard import cache, forms, pages, widgets

st.title("Overview")
widgets.flash()
ledger = cache.ledger()
counts = cache.counts(cache.fingerprint(), cache.minute())
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

if counts["claims"]:
    fp = cache.fingerprint()
    with st.spinner("Scoring sources..."):
        scores = cache.scores(fp)
    most, least = scoring.most_and_least(scores)
    st.subheader("Who to trust")
    unjudged = int((scores["grade"] == "F").sum())
    if unjudged:
        where = " (the open ones are listed below and on the Review queue)" if counts["open"] else ""
        st.info(f"**Grade F means not judged yet**: {unjudged} of {len(scores)} source(s) have fewer than "
                f"{scoring.ScoringConfig().min_record:g} resolved reports, too short a record to judge. Record the "
                f"outcomes of claims as they become known{where} and their grades follow.", icon=":material/info:")
    if most.empty:
        st.caption("No source has a resolved claim yet: record outcomes on the Review queue page.")
    else:
        level = scores.attrs.get("level", 0.9)
        left, right = st.columns(2)
        with left:
            widgets.source_chart(most, "overview_most", "Most reliable (by the interval's low end)", level)
        with right:
            if least.empty:
                st.caption("Only one source has a resolved claim: no other to rank as least reliable yet.")
            else:
                widgets.source_chart(least, "overview_least", "Least reliable (by the interval's high end)", level)
        st.caption("Dots are each source's reliability, bars its 90% credible interval, colours its grade "
                   "(A completely reliable ... E unreliable, F cannot be judged yet). Click a source to open it.")

    if counts["open"]:
        st.subheader("Waiting for an outcome")
        waiting = cache.review_queue(fp, cache.minute(), limit=5)
        widgets.table(widgets.claims_table(waiting.rows)[["id", "overdue", "claim", "expected by", "reports",
                                                          "first reported"]], "overview_waiting",
                      wrap=True, column_config=widgets.CLAIM_COLUMNS)
        st.page_link(pages.REVIEW_PAGE, label=f"All {counts['open']} open claim(s), overdue first, on the Review "
                     "queue", icon=":material/rate_review:")

    left, right = st.columns([3, 2])
    with left:
        st.subheader("Recent activity")
        activity = queries.recent_activity(ledger, limit=10)
        widgets.table(widgets.claims_table(activity), "overview_activity", column_config=widgets.CLAIM_COLUMNS)
    with right:
        st.subheader("Calibration at a glance")
        result = cache.glance_kept(fp)
        if result is None and counts["resolved"] <= cache.GLANCE_INLINE:
            with st.spinner("Scoring the tracker's own predictions..."):
                result = cache.glance(fp)
        if result is None:  # a large store: the page is drawn first, the fit waits to be asked for
            st.caption(f"Scoring the tracker's own predictions on {counts['resolved']} resolved claims refits "
                       "its model chronologically: a few seconds.")
            if st.button("Score the predictions", key="overview_glance", icon=":material/insights:"):
                with st.spinner("Scoring the tracker's own predictions..."):
                    result = cache.glance(fp)
        if result is not None and (result["claims"] == 0 or math.isnan(result["brier"])):
            st.caption("No resolved claim to check the predictions against yet.")
        elif result is not None:
            a, b = st.columns(2)
            gap = result["brier"] - result["base_rate_brier"]  # lower is better: negative when the tracker wins
            a.metric("Brier score", f"{result['brier']:.3f}", delta=f"{gap:+.3f}" if round(gap, 3) else None,
                     delta_color="inverse", delta_description="vs the base rate",
                     help="Of p_true at report time, on resolved claims; lower is better (green: below the base rate)")
            b.metric("Base rate's Brier", f"{result['base_rate_brier']:.3f}",
                     help="Predicting the running share of true claims for every claim; the tracker should beat it")
            st.caption(f"On {result['claims']} resolved claim(s), scored with only what was known when each "
                       "was first reported.")
        st.page_link(pages.CALIBRATION_PAGE, label="Calibration in full", icon=":material/insights:")
