"""Claims: every claim, searchable and filterable by status, outcome, topic and source, a page at a time.
Reviewers can look for claims logged twice among those shown and merge them."""

import streamlit as st

from tracker import queries
from tracker.dashboard import access, cache, forms, pages, widgets
from tracker.errors import LedgerError
from tracker.models import Role

st.title("Claims")
widgets.flash()
ledger = cache.ledger()
counts = cache.counts(cache.fingerprint(), cache.minute())
if counts["claims"] == 0:
    forms.offer_example("claims_load_example")

topic_counts = dict(cache.topics(cache.fingerprint()))
search, status, outcome, topic, source = st.columns([3, 2, 2, 2, 2])
search.text_input("Search", placeholder="words in the claim, or #id", key="claims_search",
                  on_change=widgets.reset_page, args=("claims",))
status.selectbox("Reported status", queries.STATUS_FILTERS, key="claims_status", on_change=widgets.reset_page,
                 args=("claims",), help="What the sources said: each source's latest stance counts")
outcome.selectbox("Outcome", queries.OUTCOME_FILTERS, key="claims_outcome", on_change=widgets.reset_page,
                  args=("claims",), help="open: no verdict yet; overdue: open past its expected-by date")
topic.selectbox("Topic", ["any"] + list(topic_counts), key="claims_topic", on_change=widgets.reset_page, args=("claims",),
                format_func=lambda t: t if t == "any" else f"{t} ({topic_counts[t]})")
names = queries.source_choices(ledger)
source.selectbox("Source", list(names), index=None, key="claims_source", on_change=widgets.reset_page, args=("claims",),
                 placeholder="any source", help="Type a name or an alias to narrow the list",
                 format_func=lambda n: f"{n} (alias of {names[n]})" if names.get(n) else n)
order = st.columns([1, 4])[0].selectbox("Order", list(queries.ORDERS), key="claims_order")

state = st.session_state
try:
    page = widgets.paged("claims", lambda offset, limit: queries.claim_rows(
        ledger, text=state.get("claims_search"), status=state.get("claims_status"),
        outcome=state.get("claims_outcome"),
        topic=None if state.get("claims_topic") in (None, "any") else state["claims_topic"],
        source=state.get("claims_source") or None, order=queries.ORDERS[state.get("claims_order", "newest first")],
        offset=offset, limit=limit))
except LedgerError as exc:
    st.error(widgets.md(exc))
    page = None

if page is not None:
    table = widgets.claims_table(page.rows)
    event = widgets.table(table, "claims_table", select=True, wrap=True, column_config=widgets.CLAIM_COLUMNS)
    widgets.open_selected_row(event, page.rows, pages.CLAIM_PAGE, "claim")
    widgets.pager("claims", page, "claims")
    on_page = {int(r.id): f"#{r.id} {r.statement[:100]}" for r in page.rows.itertuples()}
    widgets.open_control("Open a claim on this page", on_page, pages.CLAIM_PAGE, "claim", key="claims_open")
    st.caption("Select a row (or pick it above) to open the claim: its timeline, reports, outcome history "
               "and likely truth.")
    who = access.current()
    if who is not None and who.may(Role.reviewer) and len(page.rows):
        forms.likely_duplicates({int(r.id): r.statement for r in page.rows.itertuples()}, "claims_duplicates")
