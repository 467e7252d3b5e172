"""Review queue: open claims to settle, overdue first (past their expected-by date), then those
with the most reports; reviewers and admins record each one's verdict, when it became known,
evidence and a note (analysts see the queue only)."""

import streamlit as st

from tracker.dashboard import access, cache, forms, pages, widgets
from tracker.models import Role

st.title("Review queue")
widgets.flash()
ledger = cache.ledger()
who = access.current()
counts = cache.counts(cache.fingerprint(), cache.minute())
left, right, _ = st.columns([1, 1, 4])
left.metric("Open", counts["open"])
right.metric("Overdue", counts["overdue"], help="Open past the date they were expected to be settled by")

if counts["open"] == 0:
    st.success("Nothing to review: every claim has a verdict." if counts["claims"] else "The store has no claim yet.")
    st.stop()

now = cache.minute()
page = widgets.paged("review", lambda offset, limit: cache.review_queue(cache.fingerprint(), now, offset, limit))
ids = tuple(int(i) for i in page.rows["id"])
predicted = cache.prediction(cache.fingerprint(), ids)
table = page.rows.merge(predicted[["claim_id", "p_true"]], left_on="id", right_on="claim_id", how="left")
table = widgets.claims_table(table.drop(columns=["claim_id", "outcome"]))
event = widgets.table(
    table[["id", "first reported", "claim", "overdue", "expected by", "reports", "status", "p_true", "sources"]],
    "review_table", select=True, wrap=True, column_config={
        **widgets.CLAIM_COLUMNS,
        "p_true": st.column_config.ProgressColumn("p_true", min_value=0.0, max_value=1.0, format="%.2f")})
widgets.pager("review", page, "open claims")

# a row picked in the table becomes the claim under review
selected = list(getattr(getattr(event, "selection", None), "rows", []) or [])
if selected and selected[0] < len(ids) and st.session_state.get("review_claim") != ids[selected[0]]:
    st.session_state["review_claim"] = ids[selected[0]]
if st.session_state.get("review_claim") not in ids:
    st.session_state.pop("review_claim", None)

reviewer = who.may(Role.reviewer)
st.subheader("Record an outcome" if reviewer else "Open a claim")
access.role_note(who, Role.reviewer, "record outcomes")
statements = dict(zip(ids, page.rows["statement"]))
claim_id = st.selectbox("Claim to review", ids, format_func=lambda i: f"#{i} {statements[i][:110]}", key="review_claim")
if claim_id is not None:
    st.page_link(pages.CLAIM_PAGE, label=f"Open claim #{claim_id} (its reports and timeline)",
                 query_params={"claim": str(claim_id)}, icon=":material/open_in_new:")
    if reviewer:
        forms.outcome_form(claim_id, key="review", version=ledger.get_claim(claim_id).claim.version)
if not reviewer:
    access.refusals("review")
