"""The tracker's dashboard: navigation only; each page lives in app_pages/.

Deep links: `?claim=42` and `?source=7` on the front page open that claim's or source's page
(`/claim?claim=42` and `/source?source=7` are the pages' own addresses).
"""

import streamlit as st

from tracker import ui

st.set_page_config(page_title="tracker", layout="wide")
overview = st.Page(ui.OVERVIEW_PAGE, title="Overview", default=True)
claim = st.Page(ui.CLAIM_PAGE, title="Claim", url_path="claim", visibility="hidden")
source = st.Page(ui.SOURCE_PAGE, title="Source", url_path="source", visibility="hidden")
page = st.navigation([
    overview,
    st.Page(ui.LOG_PAGE, title="Log a claim", url_path="log"),
    st.Page(ui.CLAIMS_PAGE, title="Claims", url_path="claims"),
    st.Page(ui.REVIEW_PAGE, title="Review queue", url_path="review"),
    st.Page(ui.SOURCES_PAGE, title="Sources", url_path="sources"),
    st.Page(ui.CALIBRATION_PAGE, title="Calibration", url_path="calibration"),
    st.Page(ui.TRANSFER_PAGE, title="Import and export", url_path="import-export"),
    claim,
    source,
])
if page is overview and "claim" in st.query_params:
    st.switch_page(claim, query_params=st.query_params.to_dict())
if page is overview and "source" in st.query_params:
    st.switch_page(source, query_params=st.query_params.to_dict())
page.run()
