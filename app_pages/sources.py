"""Sources: who can be trusted, ranked by the low end of their reliability interval, with grades,
resolved and pending counts; filter by topic and kind, and hide sources too new to judge."""

import streamlit as st

from tracker import queries
from tracker.dashboard import cache, pages, widgets
from tracker.scoring import GRADE_WORDS, ScoringConfig, score_by_kind

st.title("Sources")
widgets.flash()
ledger = cache.ledger()
counts = cache.counts(cache.fingerprint(), cache.minute())
if counts["sources"] == 0:
    st.info("No source yet: log a claim, import a file, or load the Aleppo example from the Overview page.")
    st.stop()

topic_counts = dict(cache.topics(cache.fingerprint()))
kinds = queries.source_kinds(ledger)
min_record = ScoringConfig().min_record
left, mid, right = st.columns([2, 2, 3], vertical_alignment="bottom")
topic = left.selectbox("Topic", ["any"] + list(topic_counts), key="sources_topic",
                       format_func=lambda t: t if t == "any" else f"{t} ({topic_counts[t]})",
                       help="Score sources on the claims of one topic only")
kind = mid.selectbox("Kind", ["any"] + kinds, key="sources_kind")
judged_only = right.toggle(f"Only sources with a record to judge (at least {min_record:g} resolved reports)",
                           key="sources_min_record")

with st.spinner("Scoring sources..."):
    scores = cache.scores(cache.fingerprint(), None if topic == "any" else topic)
level = scores.attrs.get("level", 0.9)
shown = scores
if kind != "any":
    shown = shown[shown["kind"] == kind]
if judged_only:
    shown = shown[shown["grade"] != "F"]

if shown.empty:
    st.info("No source matches these filters.")
    st.stop()

limit = 40
top = f" (the top {limit})" if len(shown) > limit else ""
widgets.source_chart(shown.head(limit), "sources_chart", f"Reliability with its 90% credible interval{top}", level)
st.caption("Ranked by the interval's low end, so a short lucky record never outranks a long good one. "
           "Grades: " + "; ".join(f"{g} {w}" for g, w in GRADE_WORDS.items()) + ". Click a source to open it.")

table = shown[["source_id", "source", "grade", "reliability", "lower", "upper", "resolved", "pending", "kind",
               "asserted_accuracy", "denied_accuracy", "median_lead_days"]].rename(columns={
    "lower": "90% low", "upper": "90% high", "asserted_accuracy": "when asserting", "denied_accuracy": "when denying",
    "median_lead_days": "lead (days)"})
number = st.column_config.NumberColumn(format="%.2f", width="small")
page = widgets.paged_frame("sources", table)
selection = widgets.table(
    page.rows, "sources_table", select=True,
    column_config={"source_id": None, "source": st.column_config.TextColumn("source", width="medium"),
                   "grade": st.column_config.TextColumn("grade", width="small"), "reliability": number,
                   "90% low": number, "90% high": number, "when asserting": number, "when denying": number,
                   "lead (days)": number, "resolved": st.column_config.NumberColumn("resolved", width="small"),
                   "pending": st.column_config.NumberColumn("pending", width="small")})
widgets.open_selected_row(selection, page.rows, pages.SOURCE_PAGE, "source", column="source_id")
widgets.pager("sources", page, "sources")
widgets.open_control("Open a source", dict(zip(table["source_id"].astype(int), table["source"])), pages.SOURCE_PAGE, "source",
                key="sources_open")

with st.expander("By kind of source"):
    widgets.table(score_by_kind(shown), "sources_by_kind",
             column_config={"credit_share": number, "mean_reliability": number})
