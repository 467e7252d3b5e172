"""Who is acting in the dashboard: local mode or the signed-in user, sign-in and passwords, and every write.

A store without accounts runs in local mode (`actor()` is the local operator, who has every role);
otherwise the browser session holds a login token in `st.session_state` and every rerun checks it
again (`Ledger.session_actor`), so an expired or ended session, or a disabled account, is back on
the sign-in page at once. `sync_cookie` keeps the token in a cookie too (SameSite=Strict, Secure on
HTTPS, as long as the session lasts), so a reload or a second tab stays signed in; signing out
ends the session in the store and clears the cookie. When OpenID Connect is set up for Streamlit
(`[auth]` in `.streamlit/secrets.toml`), the sign-in page also offers the identity provider, and
an address it vouches for signs in the account of that name (`Ledger.login_verified`). Every write goes through `acting_ledger()`, the ledger acting for that
person (`act` makes one change and leaves a refusal for `form_error`); pages only hide what a role
may not do.
"""

from __future__ import annotations

import importlib.util

import streamlit as st
import streamlit.components.v1 as components

from tracker.accounts import (
    LOCAL_OPERATOR,
    MIN_PASSWORD,
    Actor,
    LoginFailed,
    LoginRequired,
    require_login_forced,
    session_length,
)
from tracker.errors import LedgerError, ValidationError
from tracker.ledger import Ledger
from tracker.models import Role
from tracker.dashboard.cache import ledger
from tracker.dashboard.widgets import md

TOKEN = "auth_token"  # the login token in this browser session's state (never in the URL)
NOTICE = "auth_notice"  # why the browser is on the sign-in page: (kind, text)
COOKIE = "tracker_session"  # the same token in the browser, so that a reload stays signed in
_COOKIE_SEEN = "auth_cookie"  # what this browser session last read from or wrote to the cookie
_SSO_LOGOUT = "auth_sso_logout"  # signed out: forget the identity provider's word too
_THIS_RUN = "auth_actor"  # who this run acts as (set by `actor()`, read by `current()`)


def access() -> str:
    """How the store admits people: "local" (no accounts), "setup" (sign-in forced, no account yet) or "accounts"."""
    if ledger().has_accounts():
        return "accounts"
    return "setup" if require_login_forced() else "local"


def actor() -> Actor | None:
    """Who this browser session acts as, checked in the store now: the local operator in local mode,
    the signed-in user, or None. dashboard.py checks once per run; pages then read `current()`."""
    who = _check()
    st.session_state[_THIS_RUN] = who
    return who


def current() -> Actor | None:
    """Who this run acts as, as dashboard.py checked it when the run began (no second look-up)."""
    return st.session_state[_THIS_RUN] if _THIS_RUN in st.session_state else actor()


def _check() -> Actor | None:
    if access() == "local":
        return LOCAL_OPERATOR
    token = st.session_state.get(TOKEN)
    if not token and TOKEN not in st.session_state:  # a new browser session: signed in in another tab?
        token = _cookie_token() or _single_sign_on_token()
        st.session_state[TOKEN] = token
    if not token:
        return None
    try:
        return ledger().session_actor(token)
    except LoginFailed as exc:  # expired, ended (signed out, password changed), or the account disabled
        st.session_state[TOKEN] = None
        st.session_state[NOTICE] = ("warning", str(exc))
        return None


def single_sign_on() -> str | None:
    """The identity provider's label when OpenID Connect is set up (`[auth]` in secrets.toml), else None."""
    try:
        auth = st.secrets.get("auth")
    except Exception:  # no secrets.toml at all (Streamlit raises its own error type)  # noqa: BLE001
        return None
    if not auth or not auth.get("redirect_uri"):
        return None
    return str(auth.get("tracker_label") or "single sign-on")


def _provider() -> str | None:
    """The one named provider of `[auth.NAME]`, if the configuration names one."""
    named = [name for name, value in st.secrets.get("auth", {}).items() if hasattr(value, "keys")]
    return named[0] if len(named) == 1 else None


def identity() -> str | None:
    """The e-mail address the identity provider vouched for in this browser, if any."""
    try:
        return st.user.get("email") if st.user.is_logged_in else None
    except (AttributeError, KeyError, RuntimeError):
        return None


def identity_verified() -> bool:
    """True when the identity provider says it verified the e-mail address (the ID token's `email_verified`)."""
    try:
        return st.user.is_logged_in and st.user.get("email_verified") is True
    except (AttributeError, KeyError, RuntimeError):
        return False


def _single_sign_on_token() -> str | None:
    """A login session for the account named by the provider's e-mail address (None: no such account)."""
    if single_sign_on() is None:
        return None
    email = identity()
    if not email:
        return None
    try:
        return ledger().login_verified(email, email_verified=identity_verified())[0]
    except LedgerError as exc:  # not verified, no such account, disabled, or the store busy
        st.session_state[NOTICE] = ("warning", str(exc))
        return None


def single_sign_on_button() -> None:
    """The "Sign in with ..." button, when single sign-on is set up."""
    label = single_sign_on()
    if label is None:
        return
    if identity():  # vouched for, but no (enabled) account: signing in again would change nothing
        if st.button("Sign out of " + label, key="sso_logout"):
            st.logout()
        return
    if any(importlib.util.find_spec(package) is None for package in ("authlib", "httpx")):
        st.warning("Single sign-on is set up in secrets.toml, but the packages it needs are missing: "
                   "install them with `pip install -e '.[oidc]'` and restart the dashboard.")
        return
    if st.button(f"Sign in with {label}", key="sso_login", icon=":material/key:"):
        provider = _provider()
        st.login(provider) if provider else st.login()


def _cookie_token() -> str | None:
    try:
        value = st.context.cookies.get(COOKIE)
    except (AttributeError, RuntimeError):  # no browser behind this run (e.g. a script test)
        return None
    return value if isinstance(value, str) and value else None


def sync_cookie() -> None:
    """Write (or clear) the session cookie when this browser session's token changed since last seen."""
    state = st.session_state
    if _COOKIE_SEEN not in state:
        state[_COOKIE_SEEN] = _cookie_token()
    token = state.get(TOKEN) or None
    if token != state[_COOKIE_SEEN]:
        state[_COOKIE_SEEN] = token
        # the token is URL-safe base64: nothing in it needs quoting in JavaScript or in a cookie
        age = int(session_length().total_seconds()) if token else 0
        script = (f"document.cookie = '{COOKIE}={token or ''}; path=/; max-age={age}; SameSite=Strict'"
                  " + (location.protocol === 'https:' ? '; Secure' : '');")
        components.html(f"<script>{script}</script>", height=0)
    if state.pop(_SSO_LOGOUT, False) and identity():
        st.logout()  # Streamlit's identity cookie goes too, or the next load would sign in again


def acting_ledger() -> Ledger:
    """The ledger acting for this browser session's user: every write from a page goes through it."""
    who = actor()
    if who is None:
        raise LoginRequired("you are signed out (your session ended or expired); sign in again")
    return ledger().acting_as(who)


def act(key: str, write, done, refused=None) -> bool:
    """Make one change as the signed-in user (`write(ledger)`); a refusal is left for `form_error(key)`
    (and handed to `refused`, if given), success for `flash` (`done` is the message, or makes it from
    what `write` returned). Every write from a page goes through here."""
    try:
        result = write(acting_ledger())
    except LedgerError as exc:
        st.session_state[f"{key}_error"] = str(exc)
        if refused is not None:
            refused(exc)
        return False
    st.session_state.pop(f"{key}_error", None)
    st.session_state["flash"] = done(result) if callable(done) else done
    return True


def form_error(key: str) -> str | None:
    """Show (once) why the last change from form `key` was refused; user text in it is escaped."""
    message = st.session_state.pop(f"{key}_error", None)
    if message:
        st.error(md(message))
    return message


def refusals(*keys: str) -> None:
    """Show why a change was refused from forms this rerun no longer shows (the role or the row changed)."""
    for key in keys:
        form_error(key)


def typed_password(key: str) -> str:
    """The new password typed twice in form `key` (both fields are emptied at once), or a ValidationError."""
    state = st.session_state
    password, again = state.get(f"{key}_password") or "", state.get(f"{key}_again") or ""
    state[f"{key}_password"] = state[f"{key}_again"] = ""
    if password != again:
        raise ValidationError("the two passwords differ; type the same password twice")
    return password


def password_fields(key: str, label: str = "Password") -> None:
    """A new password and the same again (never echoed; see `typed_password`)."""
    st.text_input(label, type="password", key=f"{key}_password", autocomplete="new-password",
                  help=f"At least {MIN_PASSWORD} characters; a few words make a good one")
    st.text_input(f"{label} again", type="password", key=f"{key}_again", autocomplete="new-password")


def sign_in_form() -> None:
    """Name and password; the right pair starts a login session for this browser session."""
    notice = st.session_state.pop(NOTICE, None)
    if notice:
        kind, text = notice
        (st.info if kind == "info" else st.warning)(md(text))
    with st.form("sign_in"):
        st.text_input("Name", key="sign_in_name", autocomplete="username")
        st.text_input("Password", type="password", key="sign_in_password", autocomplete="current-password")
        st.form_submit_button("Sign in", type="primary", key="sign_in_submit", on_click=_sign_in)
    form_error("sign_in")
    single_sign_on_button()


def _sign_in() -> None:
    state = st.session_state
    password = state.get("sign_in_password") or ""
    state["sign_in_password"] = ""
    try:
        state[TOKEN], _ = ledger().login(state.get("sign_in_name") or "", password)
    except LedgerError as exc:
        state["sign_in_error"] = str(exc)


def _sign_out() -> None:
    ledger().logout(st.session_state.get(TOKEN))
    st.session_state[TOKEN] = None  # signed out here: not even the cookie signs this session in again
    st.session_state[NOTICE] = ("info", "You signed out.")
    st.session_state[_SSO_LOGOUT] = True  # and out of single sign-on (see sync_cookie)


def _create_first_admin() -> None:
    state = st.session_state
    try:
        password = typed_password("first_admin")
        # made by the local operator, as the first account must be
        account = ledger().add_account(state.get("first_admin_name") or "", Role.admin, password)
        state[TOKEN], _ = ledger().login(account.name, password)
    except LedgerError as exc:
        state["first_admin_error"] = str(exc)
        return
    state["first_admin_name"] = ""
    state["flash"] = (f"Created the admin account {md(account.name)} and signed you in. This store now "
                      "requires sign-in for good; add the others on the Users page.")


def _change_own_password() -> None:
    state = st.session_state
    current = state.get("own_password_current") or ""
    state["own_password_current"] = ""
    try:
        password = typed_password("own_password")
        acting = acting_ledger()
        who = acting.actor
        acting.set_password(who.name, password, current_password=current)
        state[TOKEN], _ = ledger().login(who.name, password)  # the change ended every session, this one too
    except LedgerError as exc:
        state["own_password_error"] = str(exc)
        return
    state["flash"] = "Your password was changed; your sessions in other browsers were signed out."


def reset_password(name: str, password: str) -> None:
    """Set another account's password as an admin (your own: the sidebar's form, with the current one)."""
    acting_ledger().set_password(name, password)


def sidebar(who: Actor) -> None:
    """The sidebar's account box: the local-mode banner with the first admin's form, or who is signed in."""
    with st.sidebar:
        if who.is_local:
            st.warning("**Local mode**: this store has no accounts, so whoever opens this dashboard acts as the "
                       "local operator, with every role (analyst, reviewer and admin).", icon=":material/lock_open:")
            with st.expander("Create the first admin account"):
                st.caption("This ends local mode for good: from then on everyone signs in, and the admin adds "
                           "the others (analysts, reviewers, admins) on the Users page. You are signed in at once.")
                with st.form("first_admin"):
                    st.text_input("Name", key="first_admin_name", autocomplete="username")
                    password_fields("first_admin")
                    st.caption("Role: admin")
                    st.form_submit_button("Create the admin account", type="primary", key="first_admin_submit",
                                          on_click=_create_first_admin)
                form_error("first_admin")
            return
        st.markdown(f"Signed in as **{md(who.name)}** ({Role(who.role).value})")
        st.button("Sign out", key="sign_out", on_click=_sign_out, icon=":material/logout:")
        with st.expander("Change your password"):
            with st.form("own_password"):
                st.text_input("Current password", type="password", key="own_password_current",
                              autocomplete="current-password")
                password_fields("own_password", "New password")
                st.form_submit_button("Change the password", key="own_password_submit",
                                      on_click=_change_own_password)
            form_error("own_password")


def role_note(who: Actor, role: Role, what: str) -> None:
    """A caption saying who does what this person's role may not (nothing for those who may)."""
    if not who.may(role):
        others = "" if role == Role.admin else " and admins"
        st.caption(f"Only {role.value}s{others} {what}; you are signed in as "
                   f"{'an' if Role(who.role) == Role.analyst else 'a'} {Role(who.role).value}.")
