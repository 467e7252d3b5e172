"""History: every change made to the store, newest first (who, when, what, the fields it changed
before and after, and why), a page at a time; filter by user, claim, source and kind of change.
`?claim=42`, `?source=7` or `?user=NAME` opens it filtered."""

import pandas as pd
import streamlit as st

from tracker import audit, queries
from tracker.dashboard import cache, history, pages, widgets

st.title("History")
widgets.flash()
ledger = cache.ledger()
state = st.session_state

# a link from a claim's or source's page (`?claim=42`) sets the filters once
linked = {name: st.query_params.get(name) for name in ("claim", "source", "user")}
if state.get("history_linked") != linked:
    state["history_linked"] = linked
    if any(linked.values()):
        state["history_user"] = linked["user"] or "anyone"
        state["history_claim"] = widgets.query_id("claim")
        state["history_source"] = widgets.query_id("source")
        state["history_action"] = "any"
        widgets.reset_page("history")

users = ["anyone"] + audit.actors(ledger.engine)
if state.get("history_user") not in users:
    state["history_user"] = "anyone"
sources = {i: name for name, i in sorted(queries.source_id_by_name(ledger).items(), key=lambda kv: kv[0].casefold())}
picked = state.get("history_source")
if picked is not None and picked not in sources:  # a merged source, linked from its page
    sources = {picked: queries.source_names(ledger, [picked]).get(picked, f"source #{picked}"), **sources}

who, claim, source, action = st.columns([2, 1, 3, 2])
who.selectbox("User", users, key="history_user", on_change=widgets.reset_page, args=("history",))
claim.number_input("Claim #", min_value=1, step=1, value=None, key="history_claim", on_change=widgets.reset_page,
                   args=("history",))
source.selectbox("Source", list(sources), index=None, format_func=sources.get, key="history_source",
                 placeholder="any", on_change=widgets.reset_page, args=("history",))
action.selectbox("Change", ["any", *audit.ACTIONS], key="history_action", on_change=widgets.reset_page, args=("history",),
                 format_func=lambda a: a if a == "any" else audit.ACTIONS[a])

filters = {"user": None if state["history_user"] == "anyone" else state["history_user"],
           "claim_id": state.get("history_claim"), "source_id": state.get("history_source"),
           "action": None if state["history_action"] == "any" else state["history_action"]}
page = widgets.paged("history", lambda offset, limit: history.history_page(offset, limit, **filters))
if not page.total:
    st.info("No change matches these filters." if any(filters.values()) else "No change recorded yet.")
    st.stop()
event = st.dataframe(page.rows, hide_index=True, key="history_table", on_select="rerun", selection_mode="single-row",
                     column_config=history.HISTORY_COLUMNS)
widgets.pager("history", page, "changes")
st.caption("Newest first. Select a row to open its claim (or its source). Nothing here can be edited or deleted: "
           "a correction is one more change.")
rows = list(getattr(getattr(event, "selection", None), "rows", []) or [])
if rows and rows[0] < len(page.rows):
    row = page.rows.iloc[rows[0]]
    if pd.notna(row["claim_id"]):
        st.switch_page(pages.CLAIM_PAGE, query_params={"claim": str(int(row["claim_id"]))})
    elif pd.notna(row["source_id"]):
        st.switch_page(pages.SOURCE_PAGE, query_params={"source": str(int(row["source_id"]))})
