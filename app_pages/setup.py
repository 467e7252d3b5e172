"""Set up: sign-in is required (TRACKER_REQUIRE_LOGIN) but the store has no account yet."""

import streamlit as st

from tracker.accounts import REQUIRE_LOGIN_ENV

st.title("No account yet")
st.warning(f"This dashboard requires sign-in ({REQUIRE_LOGIN_ENV} is set), but its store has no account yet, "
           "so nobody can sign in.")
st.markdown("Whoever runs the server creates the first admin account on the command line, with the same "
            "store (`--db` or `TRACKER_DATABASE_URL`):")
st.code("tracker user add NAME --role admin", language="sh")
st.markdown("Then sign in here as that admin and add the others on the Users page.")
# a click reruns the dashboard, which then finds the account and shows the sign-in page
st.button("I have created it: sign in", key="setup_done", type="primary")
