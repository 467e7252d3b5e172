"""Users (admins only): the accounts, and forms to add one, change a role, reset a password, and
disable or enable an account. Password hashes are never shown; the service layer checks the role
again on every change."""

import pandas as pd
import streamlit as st

from tracker.dashboard import access, cache, widgets
from tracker.models import Role

ROLES = [role.value for role in Role]
state = st.session_state

st.title("Users")
widgets.flash()
who = access.current()
if who is None or who.is_local or not who.may(Role.admin):
    access.refusals("user_add", "user_role", "user_password", "user_state")
    st.error("Only admins manage accounts.")
    st.stop()

accounts = cache.ledger().list_accounts()
frame = pd.DataFrame(accounts, columns=["name", "role", "created_at", "disabled", "locked"])
frame["created_at"] = frame["created_at"].map(widgets.when)
widgets.table(frame.rename(columns={"created_at": "created"}), "users_table")
st.caption("Roles: analysts log claims and reports; reviewers also record outcomes, edit and retract; "
           "admins also manage sources and accounts. Locked: too many wrong passwords, for a while.")
names = [a["name"] for a in accounts]
versions = {a["name"]: a["version"] for a in accounts}
disabled = {a["name"]: a["disabled"] for a in accounts}


def _add() -> None:
    name, role = state.get("user_add_name") or "", state.get("user_add_role")
    if access.act("user_add",
                     lambda acting: acting.add_account(name, role, access.typed_password("user_add")),
                     lambda account: f"Added {widgets.md(account.name)} as {account.role}."):
        state["user_add_name"] = ""


def _role(versions: dict) -> None:
    name, role = state.get("user_role_name"), state.get("user_role_role")
    if not name:
        state["user_role_error"] = "pick the account"
        return
    access.act("user_role", lambda acting: acting.set_role(name, role, version=versions.get(name)),
                  f"{widgets.md(name)} is now {role}.")


def _password() -> None:
    name = state.get("user_password_name")
    if not name:
        state["user_password_password"] = state["user_password_again"] = ""
        state["user_password_error"] = "pick the account"
        return
    access.act("user_password",
                  lambda _acting: access.reset_password(name, access.typed_password("user_password")),
                  f"Set a new password for {widgets.md(name)}; their sessions were signed out.")


def _switch(was_disabled: bool) -> None:
    name = state.get("user_state_name")
    if not name:
        state["user_state_error"] = "pick the account"
        return
    access.act("user_state", lambda acting: acting.set_disabled(name, not was_disabled),
                  f"{'Enabled' if was_disabled else 'Disabled'} {widgets.md(name)}.")


add, role, password, switch = st.tabs(["Add an account", "Change a role", "Reset a password", "Disable or enable"])
with add:
    with st.form("user_add"):
        st.text_input("Name", key="user_add_name")
        st.selectbox("Role", ROLES, key="user_add_role")
        access.password_fields("user_add")
        st.form_submit_button("Add the account", type="primary", key="user_add_submit", on_click=_add)
    access.form_error("user_add")
with role:
    with st.form("user_role"):
        st.selectbox("Account", names, index=None, key="user_role_name", placeholder="Pick the account")
        st.selectbox("New role", ROLES, key="user_role_role")
        st.form_submit_button("Change the role", key="user_role_submit", on_click=_role, args=(versions,))
    access.form_error("user_role")
with password:
    with st.form("user_password"):
        st.selectbox("Account", names, index=None, key="user_password_name", placeholder="Pick the account")
        access.password_fields("user_password", "New password")
        st.form_submit_button("Set the password", key="user_password_submit", on_click=_password)
    st.caption("Tell them the new password in person; it ends their sessions. Your own password: the sidebar.")
    access.form_error("user_password")
with switch:
    picked = st.selectbox("Account", names, index=None, key="user_state_name", placeholder="Pick the account")
    if picked is not None:
        now_disabled = disabled[picked]
        st.button("Enable it" if now_disabled else "Disable it", key="user_state_submit", on_click=_switch,
                  args=(now_disabled,))
        st.caption("A disabled account cannot sign in and its sessions end at once; its history stays."
                   if not now_disabled else "It is disabled: it cannot sign in.")
    access.form_error("user_state")
