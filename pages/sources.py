"""Sources: who carries claims, their aliases, parents and how much they have reported."""

import pandas as pd
import streamlit as st

from tracker import ui

st.title("Sources")
rows = ui.ledger().list_sources()
frame = pd.DataFrame(rows, columns=["id", "name", "kind", "affiliation", "parent", "aliases", "claims", "reports"])
frame["aliases"] = frame["aliases"].map(", ".join)
st.caption(f"{len(frame)} source(s)")
st.dataframe(frame, hide_index=True)
