"""Sign in: the only page a browser that is not signed in sees on a store with accounts."""

import streamlit as st

from tracker.dashboard import access

st.title("Sign in")
st.caption("This tracker's store has accounts: sign in with the name and password an admin gave you. "
           "Forgotten your password? Ask an admin to reset it.")
left, _ = st.columns([2, 3])
with left:
    access.sign_in_form()
