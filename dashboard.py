"""The tracker's dashboard: navigation only; each page lives in app_pages/.

Who may see what: a store without accounts runs in local mode (every page, a banner in the
sidebar); with accounts (or TRACKER_REQUIRE_LOGIN=1) a browser session that is not signed in
gets only the sign-in page (or, with no account yet, the page saying how to create the first);
the Users page is for admins only.

Deep links: `?claim=42` and `?source=7` on the front page open that claim's or source's page
(`/claim?claim=42` and `/source?source=7` are the pages' own addresses); one opened while signed
out goes through the sign-in page and on to the claim or source (any other page asked for while
signed out, such as /review, opens once signed in).

Start-up: `streamlit run dashboard.py` finds the `app = st.App(...)` line below, imports this file
once as the server (`__name__` is then "dashboard") and runs it as a script for each browser
session (as `__main__`). The server warms up as it starts (`tracker.dashboard.startup`), so the
first page after a start does not pay every import and the first read of the store.
"""

import streamlit as st

if __name__ != "__main__":  # the server
    from tracker.dashboard.startup import lifespan

    app = st.App(__file__, lifespan=lifespan)
else:  # a browser session's run
    from tracker.dashboard import startup

    startup.ready()  # the server's warm-up imports what pages use: this run waits rather than import alongside

    from tracker.dashboard import access, pages
    from tracker.models import Role

    st.set_page_config(page_title="tracker", layout="wide")
    who = access.actor()
    menu = [
        st.Page(pages.LOG_PAGE, title="Log a claim", url_path="log"),
        st.Page(pages.CLAIMS_PAGE, title="Claims", url_path="claims"),
        st.Page(pages.REVIEW_PAGE, title="Review queue", url_path="review"),
        st.Page(pages.SOURCES_PAGE, title="Sources", url_path="sources"),
        st.Page(pages.CALIBRATION_PAGE, title="Calibration", url_path="calibration"),
        st.Page(pages.TRANSFER_PAGE, title="Import and export", url_path="import-export"),
        st.Page(pages.HISTORY_PAGE, title="History", url_path="history"),
    ]
    claim = st.Page(pages.CLAIM_PAGE, title="Claim", url_path="claim", visibility="hidden")
    source = st.Page(pages.SOURCE_PAGE, title="Source", url_path="source", visibility="hidden")

    if who is None:
        # every address is known (no "page not found"), but only the gate runs; a deep link's
        # ?claim= or ?source= rides along to the front page, which opens it once signed in
        setup = access.access() == "setup"
        gate = st.Page(pages.SETUP_PAGE if setup else pages.SIGN_IN_PAGE, title="Set up" if setup else "Sign in",
                       default=True)
        page = st.navigation([gate, st.Page(pages.OVERVIEW_PAGE, title="Overview", url_path="overview"), *menu,
                              claim, source, st.Page(pages.USERS_PAGE, title="Users", url_path="users")],
                             position="hidden")
        if page is not gate:
            kept = {k: v for k, v in st.query_params.to_dict().items() if k in ("claim", "source")}
            if page.url_path and page.url_path not in ("claim", "source"):
                kept["next"] = page.url_path  # where to go once signed in
            st.switch_page(gate, query_params=kept)
        access.sync_cookie()
        page.run()
        st.stop()

    overview = st.Page(pages.OVERVIEW_PAGE, title="Overview", default=True)
    if who.may(Role.admin) and not who.is_local:
        menu.append(st.Page(pages.USERS_PAGE, title="Users", url_path="users"))
    page = st.navigation([overview, *menu, claim, source])
    access.sidebar(who)
    if page is overview and "next" in st.query_params:  # asked for a page while signed out
        wanted = next((p for p in menu if p.url_path == st.query_params["next"]), None)
        if wanted is not None:
            st.switch_page(wanted)
    if page is overview and "claim" in st.query_params:
        st.switch_page(claim, query_params=st.query_params.to_dict())
    if page is overview and "source" in st.query_params:
        st.switch_page(source, query_params=st.query_params.to_dict())
    with st.sidebar:
        access.sync_cookie()  # sign-in and sign-out happen in callbacks, before this run: the cookie follows
    page.run()
