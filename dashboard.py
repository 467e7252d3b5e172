"""The tracker's dashboard: navigation only; each page lives in pages/."""

import streamlit as st

st.set_page_config(page_title="tracker", layout="wide")
st.navigation([
    st.Page("pages/claims.py", title="Claims", default=True),
    st.Page("pages/sources.py", title="Sources"),
]).run()
