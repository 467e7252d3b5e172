"""Claims: what the store holds, filterable by status, topic and source."""

import streamlit as st

from tracker import ui
from tracker.errors import LedgerError
from tracker.interchange import load_example
from tracker.models import ClaimStatus

ledger = ui.ledger()
counts = ledger.counts()

st.title("Claims")
if counts["claims"] == 0:
    st.info("The store is empty. Load the Aleppo 2016 example to see how the tracker works.")
    if st.button("Load the Aleppo example", type="primary"):
        summary = load_example(ledger)
        st.success(f"Loaded: {summary}")
        st.rerun()

left, mid, right, last = st.columns(4)
left.metric("Claims", counts["claims"])
mid.metric("Reports", counts["reports"])
right.metric("Sources", counts["sources"])
last.metric("Outcomes recorded", counts["outcomes"])

f1, f2, f3 = st.columns(3)
status = f1.selectbox("Status", ["any", "open", "resolved"] + [s.value for s in ClaimStatus])
topic = f2.text_input("Topic")
source = f3.text_input("Source or alias")
try:
    views = ledger.search_claims(status=None if status == "any" else status, topic=topic or None,
                                 source=source or None)
except LedgerError as exc:
    st.error(str(exc))
    views = []
st.caption(f"{len(views)} claim(s)")
st.dataframe(ui.claims_frame(views), hide_index=True)
