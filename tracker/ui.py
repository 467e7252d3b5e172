"""What the Streamlit pages share: the one ledger per process, cached scores, and small widgets.

The ledger (engine) lives in `st.cache_resource`. Scores, predictions and calibration are cached
with `st.cache_data` under the store's `fingerprint` (newest ids and a few counts, one cheap query
per rerun), so a rerun that changed nothing recomputes nothing and any write, from this dashboard
or the command line, shows up at once. Widgets here only collect input and show results: every
check is the service layer's, and its `LedgerError` messages are shown as they are. User text is
shown through `md` (Markdown escaped) or in tables, never as HTML.

Who is acting: a store without accounts runs in local mode (`actor()` is the local operator, who
has every role); otherwise the browser session holds a login token in `st.session_state` and every
rerun checks it again (`Ledger.session_actor`), so an expired or ended session, or a disabled
account, is back on the sign-in page at once. Every write goes through `acting_ledger()`, the
ledger acting for that person; pages only hide what a role may not do.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pandas as pd
import streamlit as st
from sqlmodel import col, select

from tracker import audit, queries, scoring
from tracker.accounts import LOCAL_OPERATOR, Actor, LoginFailed, LoginRequired, require_login_forced
from tracker.dates import DateError, format_when, parse_when
from tracker.errors import EditConflict, LedgerError, ValidationError
from tracker.evidence import Evidence, load_evidence
from tracker.interchange import load_example
from tracker.ledger import ClaimView, Ledger
from tracker.models import Role, Source, Verdict

# page scripts, relative to dashboard.py (st.switch_page and st.page_link take these). Not in a
# folder called `pages/`: beside the entry script, that name makes Streamlit route a fresh server's
# first request the legacy way, straight to the page script without `st.navigation`.
OVERVIEW_PAGE = "app_pages/overview.py"
LOG_PAGE = "app_pages/log_claim.py"
CLAIMS_PAGE = "app_pages/claims.py"
CLAIM_PAGE = "app_pages/claim.py"
REVIEW_PAGE = "app_pages/review.py"
SOURCES_PAGE = "app_pages/sources.py"
SOURCE_PAGE = "app_pages/source.py"
CALIBRATION_PAGE = "app_pages/calibration.py"
TRANSFER_PAGE = "app_pages/import_export.py"
HISTORY_PAGE = "app_pages/history.py"
USERS_PAGE = "app_pages/users.py"
SIGN_IN_PAGE = "app_pages/sign_in.py"
SETUP_PAGE = "app_pages/setup.py"
PAGE_SIZES = (25, 50, 100)
VERDICTS = [v.value for v in Verdict]
# seconds: cached scores also expire, for the rare edit in place that the fingerprint does not see
# (a source's kind, topics added to a claim by re-importing it)
CACHE_TTL = 600
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>$:&=^])")


@st.cache_resource
def ledger() -> Ledger:
    """The ledger over the configured store, opened (and migrated) once per server process."""
    return Ledger.open()


# -- who is acting -------------------------------------------------------------------------
TOKEN = "auth_token"  # the login token: this browser session's state only, never the URL or a cookie
NOTICE = "auth_notice"  # why the browser is on the sign-in page: (kind, text)


def access() -> str:
    """How the store admits people: "local" (no accounts), "setup" (sign-in forced, no account yet) or "accounts"."""
    if ledger().has_accounts():
        return "accounts"
    return "setup" if require_login_forced() else "local"


def actor() -> Actor | None:
    """Who this browser session acts as: the local operator in local mode, the signed-in user, or None."""
    if access() == "local":
        return LOCAL_OPERATOR
    token = st.session_state.get(TOKEN)
    if not token:
        return None
    try:
        return ledger().session_actor(token)
    except LoginFailed as exc:  # expired, ended (signed out, password changed), or the account disabled
        st.session_state.pop(TOKEN, None)
        st.session_state[NOTICE] = ("warning", str(exc))
        return None


def acting_ledger() -> Ledger:
    """The ledger acting for this browser session's user: every write from a page goes through it."""
    who = actor()
    if who is None:
        raise LoginRequired("you are signed out (your session ended or expired); sign in again")
    return ledger().acting_as(who)


def act(key: str, write, done) -> bool:
    """Make one change as the signed-in user (`write(ledger)`); a refusal is left for `form_error(key)`,
    success for `flash` (`done` is the message, or makes it from what `write` returned)."""
    try:
        result = write(acting_ledger())
    except LedgerError as exc:
        st.session_state[f"{key}_error"] = str(exc)
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
                  help="At least 10 characters")
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


def _sign_in() -> None:
    state = st.session_state
    password = state.get("sign_in_password") or ""
    state["sign_in_password"] = ""
    try:
        state[TOKEN], _ = ledger().login(state.get("sign_in_name") or "", password)
    except LedgerError as exc:
        state["sign_in_error"] = str(exc)


def _sign_out() -> None:
    ledger().logout(st.session_state.pop(TOKEN, None))
    st.session_state[NOTICE] = ("info", "You signed out.")


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
    """Set an account's password as an admin; resetting your own keeps you signed in here."""
    acting = acting_ledger()
    who = acting.actor
    acting.set_password(name, password)
    if who.name.casefold() == name.casefold():
        st.session_state[TOKEN], _ = ledger().login(who.name, password)


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


# -- cached reads --------------------------------------------------------------------------
def fingerprint() -> tuple:
    """The store's current fingerprint: the key of every cached score (see `queries.fingerprint`)."""
    return queries.fingerprint(ledger())


# Evidence frames can be large (every report in the store): held once, shared read-only by the
# cached functions below rather than copied into st.cache_data on every call.
@st.cache_resource(max_entries=1, ttl=CACHE_TTL, show_spinner=False)
def evidence(fp: tuple) -> Evidence:
    """Every source, claim, report and verdict as frames, read once per store state."""
    return load_evidence(ledger().engine)


@st.cache_data(max_entries=32, ttl=CACHE_TTL, show_spinner=False)
def scores(fp: tuple, topic: str | None = None) -> pd.DataFrame:
    """Every source's reliability now (all claims, or those tagged `topic`), ranked."""
    found = evidence(fp)
    return scoring.score_sources(found.for_topic(topic) if topic else found)


@st.cache_data(max_entries=64, ttl=CACHE_TTL, show_spinner=False)
def prediction(fp: tuple, claim_ids: tuple[int, ...]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """p_true and credibility of these claims now, and the votes that drive them (largest first)."""
    if not claim_ids:
        return pd.DataFrame(columns=["claim_id", "p_true", "credibility"]), pd.DataFrame()
    out = scoring.predict(evidence(fp), claim_ids=list(claim_ids))
    return out, out.attrs.get("drivers", pd.DataFrame())


@st.cache_data(max_entries=16, ttl=CACHE_TTL, show_spinner=False)
def calibration(fp: tuple, bins: int = 10) -> scoring.Calibration | None:
    """How the at-report-time predictions held up; None while the store has no claim."""
    found = evidence(fp)
    if found.claims.empty:
        return None
    return scoring.calibration(found, bins=bins)


@st.cache_data(max_entries=64, ttl=CACHE_TTL, show_spinner=False)
def reliability_series(fp: tuple, source_id: int) -> pd.DataFrame:
    """One source's reliability as it stood each time its record changed."""
    times = queries.source_settle_times(ledger(), source_id)
    if not times:
        return pd.DataFrame()
    return scoring.reliability_over_time(evidence(fp), times, source_ids=[source_id])


@st.cache_data(max_entries=64, ttl=CACHE_TTL, show_spinner=False)
def similar(fp: tuple, statement: str) -> pd.DataFrame:
    """Claims already logged that look like `statement`."""
    return queries.similar_claims(ledger(), statement)


# -- display helpers -----------------------------------------------------------------------
def md(text) -> str:
    """User text made safe to show in Markdown: every Markdown character is escaped."""
    return _MD_SPECIAL.sub(r"\\\1", "" if text is None else str(text)).replace("\n", "  \n")


def when(moment: datetime | None) -> str:
    """A time as the tracker writes it (ISO 8601, UTC, `Z`), or "" for none."""
    if moment is None or pd.isna(moment):  # NaT is a datetime too
        return ""
    return format_when(moment)


def safe_url(url: str | None) -> str | None:
    """A URL fit for a link (http or https), else None: other schemes are shown as text only."""
    if isinstance(url, str) and re.match(r"^https?://", url.strip(), re.IGNORECASE):
        return url.strip()
    return None


def flash() -> None:
    """Show (once) the message the last action left for this rerun."""
    message = st.session_state.pop("flash", None)
    if message:
        st.success(message)


def offer_example(key: str) -> None:
    """On an empty store: a one-click way to load the Aleppo example."""
    st.info("The store is empty. Load the Aleppo 2016 example (13 claims from 16 sources, with "
            "their outcomes) to see how the tracker works, or log a claim or import a file.")
    if st.button("Load the Aleppo example", type="primary", key=key):
        with st.spinner("Loading the Aleppo example..."):
            try:
                summary = load_example(acting_ledger())
            except LedgerError as exc:  # an analyst may not record its outcomes
                st.error(md(exc))
                return
        st.session_state["flash"] = f"Loaded the Aleppo example: {summary}"
        st.rerun()


def table(frame: pd.DataFrame, key: str, **options) -> None:
    """A read-only table in a keyed container: Streamlit gives a read-only table no key of its own,
    and the container's `st-key-<key>` class is what a browser test finds it by."""
    with st.container(key=key):
        st.dataframe(frame, hide_index=True, **options)


def claims_table(frame: pd.DataFrame) -> pd.DataFrame:
    """A page of `queries.claim_rows` as shown: times written out, columns named for people."""
    table = frame.copy()
    for column in ("first_reported_at", "expected_by", "reported_at", "logged_at", "as of"):
        if column in table:
            table[column] = table[column].map(when)
    return table.rename(columns={"first_reported_at": "first reported", "expected_by": "expected by",
                                 "reported_at": "reported at", "logged_at": "logged at", "statement": "claim"})


def paged(key: str, fetch) -> queries.Page:
    """The current page of `fetch(offset=, limit=)` -> Page, per the pager's state (see `pager`)."""
    limit = st.session_state.get(f"{key}_size", PAGE_SIZES[0])
    number = int(st.session_state.get(f"{key}_page", 1))
    page = fetch(offset=(number - 1) * limit, limit=limit)
    if number > page.pages:  # the filter now matches fewer rows: show its last page
        number = page.pages
        st.session_state[f"{key}_page"] = number
        page = fetch(offset=(number - 1) * limit, limit=limit)
    return page


def pager(key: str, page: queries.Page, what: str = "claims") -> None:
    """Rows-per-page and page-number controls, with where this page sits in the whole."""
    left, mid, right = st.columns([1, 1, 3], vertical_alignment="bottom")
    left.selectbox("Rows per page", PAGE_SIZES, key=f"{key}_size", on_change=reset_page, args=(key,))
    mid.number_input("Page", min_value=1, max_value=page.pages, step=1, key=f"{key}_page")
    first = page.offset + 1 if page.total else 0
    right.caption(f"{first}-{page.offset + len(page.rows)} of {page.total} {what} "
                  f"(page {page.offset // page.limit + 1} of {page.pages})")


def reset_page(key: str) -> None:
    """Back to the first page (a filter changed)."""
    st.session_state[f"{key}_page"] = 1


def picked(event, field: str):
    """The `field` value of the mark clicked in a chart shown with on_select="rerun", if any."""
    from tracker.charts import PICK

    try:
        chosen = event.selection.get(PICK) if event is not None else None
    except AttributeError:
        return None
    if isinstance(chosen, list) and chosen and isinstance(chosen[0], dict):
        return chosen[0].get(field)
    if isinstance(chosen, dict):
        values = chosen.get(field)
        return values[0] if isinstance(values, list) and values else values
    return None


def open_picked(event, field: str, page: str, param: str) -> None:
    """Open the page of the source or claim clicked in a chart."""
    value = picked(event, field)
    if value is not None:
        st.switch_page(page, query_params={param: str(int(value))})


def source_chart(scores: pd.DataFrame, key: str, title: str, level: float = 0.9) -> None:
    """A leaderboard of these sources (`charts.leaderboard_chart`); clicking one opens its page."""
    from tracker.charts import PICK, leaderboard_chart

    event = st.altair_chart(leaderboard_chart(scores, level=level, title=title), key=key, on_select="rerun",
                            selection_mode=[PICK], width="stretch")
    open_picked(event, "source_id", SOURCE_PAGE, "source")


def open_selected_row(event, frame: pd.DataFrame, page: str, param: str, column: str = "id") -> None:
    """Open the page of the row selected in a table shown with on_select="rerun"."""
    rows = list(getattr(getattr(event, "selection", None), "rows", []) or [])
    if rows and rows[0] < len(frame):
        st.switch_page(page, query_params={param: str(int(frame.iloc[rows[0]][column]))})


def open_control(label: str, options: dict[int, str], page: str, param: str, key: str) -> None:
    """A picker and an Open button: the keyboard (and test-driver) way to a claim or source page."""
    if not options:
        return
    left, right = st.columns([4, 1], vertical_alignment="bottom")
    choice = left.selectbox(label, list(options), format_func=lambda i: options[i], key=key)
    if right.button("Open", key=f"{key}_button") and choice is not None:
        st.switch_page(page, query_params={param: str(choice)})


def query_id(name: str) -> int | None:
    """The integer in query parameter `name` (`?claim=42`), or None when missing or not a number."""
    raw = st.query_params.get(name)
    try:
        return int(str(raw).lstrip("#")) if raw is not None else None
    except ValueError:
        return None


# -- input helpers -------------------------------------------------------------------------
def date_preview(text: str | None) -> None:
    """Under a free-text date: what the tracker reads it as, or why it cannot."""
    if not (text or "").strip():
        return
    try:
        moment = parse_when(text)
    except DateError as exc:
        st.caption(f":red[{md(exc)}]")
        return
    st.caption(f"Read as {format_when(moment)} ({moment:%A %d %B %Y, %H:%M} UTC)")


def source_preview(name: str | None) -> None:
    """Under a source picker: which source a typed name or alias is, or that it will be created."""
    if not (name or "").strip():
        return
    found = queries.find_source(ledger(), name)
    if found is None:
        st.caption(f"New source: {md(' '.join(name.split()))} will be created")
    elif found["alias"]:
        st.caption(f"{md(found['alias'])} is an alias of {md(found['name'])}")


OUTCOME_FIELDS = ("verdict", "when", "evidence", "reviewer", "note")


def outcome_form(claim_id: int, key: str, version: int | None = None) -> None:
    """Record or revise a claim's verdict: verdict, when it became known, evidence, note, reviewer.

    `version` is the claim's version as the page shows it; the form saves from the version shown
    when the user began to fill it in, so a save after someone else changed the claim meanwhile is
    refused (EditConflict, listing the changes) and nothing is saved.
    """
    state = st.session_state
    touched = any(state.get(f"{key}_{field}") for field in OUTCOME_FIELDS)
    started = state.get(f"{key}_from")
    if version is not None and (not touched or started is None or started[0] != claim_id):
        state[f"{key}_from"] = (claim_id, version)
    left, right = st.columns(2)
    left.selectbox("Verdict", VERDICTS, index=None, placeholder="What happened?", key=f"{key}_verdict")
    right.text_input("When it became known", placeholder="e.g. 15 December 2016 12:00", key=f"{key}_when")
    with right:
        date_preview(st.session_state.get(f"{key}_when"))
    left.text_input("Evidence (a link)", placeholder="https://...", key=f"{key}_evidence")
    right.text_input("Reviewer", placeholder="optional", key=f"{key}_reviewer")
    st.text_area("Note", placeholder="What settles it, in a sentence", key=f"{key}_note", height=80)
    st.button("Record the outcome", type="primary", key=f"{key}_record", on_click=_record_outcome,
              args=(claim_id, key, version is not None))
    error = st.session_state.pop(f"{key}_error", None)
    if error:
        st.error(error)


def _record_outcome(claim_id: int, key: str, versioned: bool) -> None:
    state = st.session_state
    version = state.get(f"{key}_from", (None, None))[1] if versioned else None
    try:
        outcome = acting_ledger().record_outcome(
            claim_id, state.get(f"{key}_verdict") or "", state.get(f"{key}_when") or "",
            evidence_url=state.get(f"{key}_evidence") or None, note=state.get(f"{key}_note") or None,
            reviewer=state.get(f"{key}_reviewer") or None, version=version)
    except LedgerError as exc:
        state[f"{key}_error"] = str(exc)
        if isinstance(exc, EditConflict):  # the user has seen the changes now: the next save starts from them
            state.pop(f"{key}_from", None)
        return
    for field in ("when", "evidence", "note"):
        state[f"{key}_{field}"] = ""
    state[f"{key}_verdict"] = None
    state.pop(f"{key}_from", None)
    state["flash"] = f"Claim #{claim_id} is now {outcome.verdict} (as of {format_when(outcome.decided_at)})."


STRUCK = "text-decoration: line-through; color: #808495"  # a retracted row in a table


def retraction(row) -> str:
    """"Retracted by X at T: reason" for a retracted claim or report, else ""."""
    if row.retracted_at is None:
        return ""
    return f"Retracted by {row.retracted_by or 'someone'} at {when(row.retracted_at)}: {row.retraction_reason or ''}"


def reports_frame(view: ClaimView) -> pd.DataFrame:
    """A claim's reports, retracted ones too (flagged): id, reported_at, source, source_id, stance, via, ..."""
    return pd.DataFrame([{
        "id": r.id, "reported_at": r.reported_at, "source": source, "source_id": r.source_id, "stance": r.stance,
        "via": via or "", "quote": r.quote or "", "url": r.url or "", "note": r.note or "",
        "logged_by": r.logged_by or "", "retracted": retraction(r),
    } for r, source, via in view.reports],
        columns=["id", "reported_at", "source", "source_id", "stance", "via", "quote", "url", "note", "logged_by",
                 "retracted"])


def outcomes_frame(view: ClaimView) -> pd.DataFrame:
    """A claim's verdicts, oldest first, the last marked as the one in force."""
    last = len(view.outcomes) - 1
    return pd.DataFrame([{
        "verdict": o.verdict, "decided_at": o.decided_at, "evidence": o.evidence_url or "", "note": o.note or "",
        "reviewer": o.reviewer or "", "recorded_at": o.recorded_at, "in force": i == last,
    } for i, o in enumerate(view.outcomes)],
        columns=["verdict", "decided_at", "evidence", "note", "reviewer", "recorded_at", "in force"])


# -- changes to claims and sources ---------------------------------------------------------
def prefill(key: str, values: dict, marker) -> None:
    """Fill form `key`'s fields with the stored values when it shows a new row, or a new version of it.

    What the user typed survives other reruns. After a refused save, the fields the user changed
    (`keep_typed`) keep what they typed and the others show the row as it is stored now, so saving
    again never quietly undoes what someone else changed meanwhile.
    """
    state = st.session_state
    kept = state.pop(f"{key}_keep", ())
    if state.get(f"{key}_of") != marker or any(f"{key}_{field}" not in state for field in values):
        for field, value in values.items():
            if field not in kept or f"{key}_{field}" not in state:
                state[f"{key}_{field}"] = value
    state[f"{key}_of"] = marker


def keep_typed(key: str, fields) -> None:
    """Keep what was typed in these fields of form `key` through the next rerun, even over a newer version."""
    st.session_state[f"{key}_keep"] = tuple(fields)


def edit_claim_form(view: ClaimView, key: str = "claim_edit") -> None:
    """Edit a claim's statement, expected-by date and topics (reviewers), from the version shown."""
    claim = view.claim
    shown = {"statement": claim.statement, "expected": when(claim.expected_by), "topics": "; ".join(view.topics)}
    prefill(key, {**shown, "reason": ""}, (claim.id, claim.version))
    with st.form(key):
        st.text_area("Statement", key=f"{key}_statement", height=80)
        left, right = st.columns(2)
        left.text_input("Expected to be settled by", key=f"{key}_expected",
                        help="As people write it, e.g. 17 December 2016; empty for no date")
        right.text_input("Topics", key=f"{key}_topics", help="Separate topics with ;")
        st.text_input("Reason", key=f"{key}_reason", placeholder="optional: why it changes (kept in its history)")
        st.form_submit_button("Save the changes", type="primary", key=f"{key}_save", on_click=_edit_claim,
                              args=(claim.id, claim.version, shown, key))
    if form_error(key):
        st.caption("Stored now: " + md(f"{claim.statement} · expected by {shown['expected'] or '-'} · "
                                        f"topics {shown['topics'] or '-'} (version {claim.version})"))


def _edit_claim(claim_id: int, version: int, shown: dict, key: str) -> None:
    state = st.session_state
    typed = {field: (state.get(f"{key}_{field}") or "").strip() for field in shown}
    changed = [field for field in shown if typed[field] != shown[field]]
    changes: dict = {}
    if typed["statement"] != shown["statement"]:
        changes["statement"] = typed["statement"]
    if typed["expected"] != shown["expected"]:
        changes.update({"expected_by": typed["expected"]} if typed["expected"] else {"clear_expected_by": True})
    if typed["topics"] != shown["topics"]:
        changes["topics"] = typed["topics"]
    reason = state.get(f"{key}_reason") or None
    if not act(key, lambda acting: acting.edit_claim(claim_id, version=version, reason=reason, **changes),
               f"Saved the changes to claim #{claim_id}."):
        keep_typed(key, [*changed, "reason"])


RETRACT_REASON = "required: why it is withdrawn (kept in its history)"


def retract_claim_form(view: ClaimView, key: str = "claim_retract") -> None:
    """Retract a claim with a reason (reviewers), from the version shown."""
    with st.form(key):
        st.text_input("Reason", key=f"{key}_reason", placeholder=RETRACT_REASON)
        st.form_submit_button("Retract the claim", key=f"{key}_submit", on_click=_retract_claim,
                              args=(view.claim.id, view.claim.version, key))
    form_error(key)


def _retract_claim(claim_id: int, version: int, key: str) -> None:
    reason = st.session_state.get(f"{key}_reason") or ""
    if act(key, lambda acting: acting.retract_claim(claim_id, reason, version=version),
           f"Retracted claim #{claim_id}: it is left out of lists and scores, and its history is kept."):
        st.session_state[f"{key}_reason"] = ""


def retract_report_form(view: ClaimView, key: str = "report_retract") -> None:
    """Retract one of a claim's reports with a reason (reviewers), from the claim's version shown."""
    live = {r.id: f"#{r.id} {source}: {r.stance} at {when(r.reported_at)}" for r, source, _via in view.live_reports}
    if not live:
        st.caption("No report left to retract.")
        return
    with st.form(key):
        st.selectbox("Report", list(live), index=None, format_func=live.get, key=f"{key}_report",
                     placeholder="Pick the report")
        st.text_input("Reason", key=f"{key}_reason", placeholder=RETRACT_REASON)
        st.form_submit_button("Retract the report", key=f"{key}_submit", on_click=_retract_report,
                              args=(view.claim.id, view.claim.version, key))
    form_error(key)


def _retract_report(claim_id: int, version: int, key: str) -> None:
    state = st.session_state
    report_id = state.get(f"{key}_report")
    if report_id is None:
        state[f"{key}_error"] = "pick the report to retract"
        return
    reason = state.get(f"{key}_reason") or ""
    if act(key, lambda acting: acting.retract_report(report_id, reason, version=version),
           f"Retracted report #{report_id} of claim #{claim_id}."):
        state[f"{key}_reason"], state[f"{key}_report"] = "", None


def rename_source_form(detail: dict, key: str = "source_rename") -> None:
    """Rename a source (admins); its old name stays as an alias."""
    with st.form(key):
        st.text_input("New name", key=f"{key}_name")
        st.form_submit_button("Rename", key=f"{key}_submit", on_click=_rename_source,
                              args=(detail["name"], detail["version"], key))
    form_error(key)


def _rename_source(name: str, version: int, key: str) -> None:
    new = st.session_state.get(f"{key}_name") or ""
    if act(key, lambda acting: acting.rename_source(name, new, version=version),
           lambda source: f"Renamed {md(name)} to {md(source.name)}; the old name stays as an alias."):
        st.session_state[f"{key}_name"] = ""


def source_details_form(detail: dict, kinds: list[str], key: str = "source_details") -> None:
    """Change a source's kind, affiliation, link, notes and parent, or give it more names (admins)."""
    stored = {"kind": detail["kind"], "affiliation": detail["affiliation"] or "", "url": detail["url"] or "",
              "notes": detail["notes"] or "", "parent": detail["parent"] or "", "aliases": ""}
    prefill(key, stored, (detail["id"], detail["version"]))
    with st.form(key):
        left, right = st.columns(2)
        left.selectbox("Kind", kinds, key=f"{key}_kind")
        right.text_input("Part of (parent source)", key=f"{key}_parent", help="A source's name or alias")
        left.text_input("Affiliation", key=f"{key}_affiliation")
        right.text_input("Website", key=f"{key}_url", placeholder="https://...")
        st.text_area("Notes", key=f"{key}_notes", height=80)
        st.text_input("More names (aliases)", key=f"{key}_aliases", help="Separate names with ;")
        st.caption("Empty fields leave the stored value as it is.")
        st.form_submit_button("Save the details", key=f"{key}_submit", on_click=_edit_source,
                              args=(detail["name"], detail["version"], stored, key))
    form_error(key)


def _edit_source(name: str, version: int, stored: dict, key: str) -> None:
    state = st.session_state

    def typed(field: str) -> str | None:
        return (state.get(f"{key}_{field}") or "").strip() or None

    aliases = [alias for alias in (typed("aliases") or "").split(";") if alias.strip()]
    if not act(key, lambda acting: acting.update_source(
            name, version=version, kind=typed("kind"), affiliation=typed("affiliation"), url=typed("url"),
            notes=typed("notes"), parent=typed("parent"), aliases=aliases), f"Saved the details of {md(name)}."):
        keep_typed(key, [field for field in stored if (typed(field) or "") != stored[field]])


def merge_source_form(detail: dict, others: list[str], key: str = "source_merge") -> None:
    """Merge this source into another (admins): its reports, names and children move there."""
    with st.form(key):
        st.selectbox("Merge into", others, index=None, key=f"{key}_into", placeholder="The source to keep")
        st.checkbox("Move its reports, names and child sources to that source (it cannot be undone here)",
                    key=f"{key}_sure")
        st.form_submit_button("Merge", key=f"{key}_submit", on_click=_merge_source, args=(detail["name"], key))
    form_error(key)


def _merge_source(name: str, key: str) -> None:
    state = st.session_state
    into = state.get(f"{key}_into")
    if not into or not state.get(f"{key}_sure"):
        state[f"{key}_error"] = "pick the source to keep and tick the box to confirm the merge"
        return
    act(key, lambda acting: acting.merge_sources(name, into), f"Merged {md(name)} into {md(into)}.")


# -- history -------------------------------------------------------------------------------
HISTORY_COLUMNS = {"claim_id": None, "source_id": None,
                   "changes": st.column_config.TextColumn("changes (before → after)", width="large")}
HISTORY_FIELDS = ["when", "who", "what", "claim", "source", "changes", "reason", "claim_id", "source_id"]
_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def source_names(ids) -> dict[int, str]:
    """Source names by id, merged sources included."""
    wanted = [int(i) for i in ids if i is not None]
    if not wanted:
        return {}
    with ledger().session() as session:
        return dict(session.exec(select(Source.id, Source.name).where(col(Source.id).in_(wanted))).all())


def _short(value, width: int = 80) -> str:
    if value is None:
        return "-"
    text = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    if _ISO_TIME.match(text):  # times as the tracker writes them everywhere else (stored in UTC)
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            pass
        else:
            text = when(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    return text if len(text) <= width else text[: width - 1] + "…"


def _changes(change: audit.Change) -> str:
    if change.before is None:  # a creation: what it was made with
        return "; ".join(f"{field}: {_short(new)}" for field, _old, new in change.changed_fields())
    return "; ".join(f"{field}: {_short(old)} → {_short(new)}" for field, old, new in change.changed_fields())


def history_frame(changes: list[audit.Change]) -> pd.DataFrame:
    """Audit events as shown: when, who, what, claim, source, the fields changed (before → after), reason."""
    def source_of(change: audit.Change) -> int | None:
        return change.source_id if change.source_id is not None else (
            change.entity_id if change.entity == "source" else None)

    names = source_names({source_of(c) for c in changes})
    frame = pd.DataFrame([{
        "when": when(c.at), "who": c.actor, "what": c.summary, "claim": f"#{c.claim_id}" if c.claim_id else "",
        "source": names.get(source_of(c), ""), "changes": _changes(c), "reason": c.reason or "",
        "claim_id": c.claim_id, "source_id": source_of(c),
    } for c in changes], columns=HISTORY_FIELDS)
    return frame.astype({"claim_id": "Int64", "source_id": "Int64"})


def history_page(offset: int, limit: int, **filters) -> queries.Page:
    """One page of the audit trail, newest first, with how many events match `filters` in all."""
    engine = ledger().engine
    return queries.Page(history_frame(audit.history(engine, offset=offset, limit=limit, **filters)),
                        audit.count(engine, **filters), offset, limit)


def history_section(key: str, param: str, **filters) -> None:
    """The latest changes to one claim or source, and a link to all of them on the History page."""
    st.subheader("History")
    page = history_page(0, 10, **filters)
    if not page.total:
        st.caption("No change recorded yet.")
        return
    table(page.rows, key, column_config=HISTORY_COLUMNS)
    value = filters.get("claim_id", filters.get("source_id"))
    st.page_link(HISTORY_PAGE, label=f"All {page.total} change(s) on the History page", icon=":material/history:",
                 query_params={param: str(value)})
