"""Log a claim: a new claim with the sources that carried it (each with its stance and when), or one
more source's report on a claim already logged. Dates are written as people write them and
previewed as read; similar claims already logged are offered before a new one is created. The
source pickers take the best existing match of what is typed; a new source is an explicit choice,
with the known names close to it listed. A pasted link fills the report's link (and its source,
when the link is on a known source's website); the latest sources and topics are a click away, and
after a save the form is ready for the next claim with its topics kept. The service layer checks
everything, reports every problem at once, and writes the claim with its reports in one
transaction, as the signed-in user (every role may log claims and reports)."""

import streamlit as st

from tracker import queries
from tracker.dashboard import access, cache, pages, widgets
from tracker.models import Stance

NEW, EXISTING = "A new claim", "A report on a claim already logged"
STANCES = [s.value for s in Stance]
REPORT_FIELDS = ("source", "stance", "when", "via", "url", "quote", "note")
state = st.session_state

st.title("Log a claim")
widgets.flash()
done = state.pop("log_done", None)
if done is not None:
    st.page_link(pages.CLAIM_PAGE, label=f"Open claim #{done}", query_params={"claim": str(done)},
                 icon=":material/open_in_new:")
ledger = cache.ledger()

# `?claim=42` (the claim page's "Add a report" link) opens the form for a report on that claim
linked = widgets.query_id("claim")
if linked is not None and state.get("log_linked") != linked:
    state["log_linked"] = linked
    state["log_mode"] = EXISTING
    state["log_claim_pick"] = linked
state.setdefault("log_rows", [0])


def _add_row() -> None:
    state["log_rows"] = state["log_rows"] + [max(state["log_rows"], default=-1) + 1]


def _remove_row(row: int) -> None:
    state["log_rows"] = [r for r in state["log_rows"] if r != row] or [0]


def _report(prefix: str) -> dict:
    values = {field: state.get(f"{prefix}_{field}") for field in REPORT_FIELDS}
    if prefix == "log_r0" and not values["url"]:  # the claim was started from a link: it is the first report's
        values["url"] = (state.get("log_link") or "").strip()
    return {"source": widgets.picked_source(f"{prefix}_source") or "", "stance": values["stance"] or "",
            "reported_at": widgets.entered_when(values["when"], state.get("log_zone")),
            "via": widgets.picked_source(f"{prefix}_via"), "url": values["url"] or None,
            "quote": values["quote"] or None, "note": values["note"] or None}


def _clear(prefix: str) -> None:
    for field in REPORT_FIELDS:
        if field in ("source", "via"):
            widgets.clear_source_picker(f"{prefix}_{field}")
        else:
            state[f"{prefix}_{field}"] = None if field == "stance" else ""


def _logged(claim) -> str:
    state["log_done"] = claim.id
    return f"Logged claim #{claim.id}."


def _log_claim() -> None:
    rows = state["log_rows"]
    if not access.act("log", lambda acting: acting.log_claim(
            state.get("log_statement") or "", topics=state.get("log_topics") or None,
            expected_by=widgets.entered_when(state.get("log_expected"), state.get("log_zone")) or None,
            reports=[_report(f"log_r{row}") for row in rows]),
            _logged):
        return
    for row in rows:
        _clear(f"log_r{row}")
    state["log_rows"] = [0]
    # ready for the next claim: the topics stay (a live story goes on), the rest is emptied
    state["log_statement"] = state["log_expected"] = state["log_link"] = ""


def _add_report() -> None:
    claim_id = state.get("log_claim_pick")
    if claim_id is None:
        state["log_error"] = "pick the claim this report is about (search for it by its words or #number)"
        return
    if access.act("log", lambda acting: acting.add_report(claim_id, **_report("log_rep")),
                  f"Added the report to claim #{claim_id}."):
        _clear("log_rep")
        state["log_done"] = claim_id


def _from_link() -> None:
    link = (state.get("log_link") or "").strip()
    if not link:
        return
    state["log_r0_url"] = link
    known = queries.source_for_link(cache.ledger(), link)
    if known is not None and not widgets.picked_source("log_r0_source"):
        widgets.clear_source_picker("log_r0_source")
        state["log_r0_source"] = known


def _use_recent_source(name: str) -> None:
    empty = [row for row in state["log_rows"] if not widgets.picked_source(f"log_r{row}_source")]
    if not empty:
        _add_row()
        empty = state["log_rows"][-1:]
    widgets.clear_source_picker(f"log_r{empty[0]}_source")
    state[f"log_r{empty[0]}_source"] = name


def _use_recent_topic(topic: str) -> None:
    typed = [t.strip() for t in (state.get("log_topics") or "").split(";") if t.strip()]
    if topic not in (t.lower() for t in typed):
        state["log_topics"] = "; ".join([*typed, topic])


def _use_existing(claim_id: int) -> None:
    state["log_mode"] = EXISTING
    state["log_claim_pick"] = claim_id


def report_fields(prefix: str, names: dict[str, str | None], number: int | None = None,
                  removable: bool = False) -> None:
    """One source's report: who, stance, when (previewed), relaying whom, link, quote, note."""
    with st.container(border=True, key=f"{prefix}_box"):
        if number is not None:
            st.markdown(f"**Source {number}**")
        who, stance, at = st.columns([3, 2, 3])
        with who:
            widgets.source_picker("Source", f"{prefix}_source", names, placeholder="Type to find a source; Enter takes it",
                             help="A name or an alias, any case; Enter takes the best match")
        stance.selectbox("Stance", STANCES, index=None, key=f"{prefix}_stance",
                         placeholder="rumoured, confirmed or denied")
        with at:
            st.text_input("When", key=f"{prefix}_when", placeholder="e.g. 13 Dec 2016 18:00 EET, 2 hours ago",
                          help="As people write it; without a zone it is taken in the zone picked above")
            widgets.date_preview(state.get(f"{prefix}_when"), state.get("log_zone"))
        via, url = st.columns([3, 5])
        with via:
            widgets.source_picker("Relaying (via)", f"{prefix}_via", names, placeholder="optional: the source it passes on",
                             help="'Western media, drawing on Jihadi sources'")
        url.text_input("Link", key=f"{prefix}_url", placeholder="optional: https://...")
        quote, note = st.columns(2)
        quote.text_input("Quote", key=f"{prefix}_quote", placeholder="optional: the words used")
        note.text_input("Note", key=f"{prefix}_note", placeholder="optional")
        if removable:
            st.button("Remove this source", key=f"{prefix}_remove", on_click=_remove_row, args=(int(prefix[5:]),))


mode = st.radio("What are you logging?", [NEW, EXISTING], horizontal=True, key="log_mode")
widgets.zone_picker("log_zone")
names = queries.source_choices(ledger)

if mode == NEW:
    recent_sources, recent_topics = queries.recent_choices(ledger)
    st.text_input("Start from a link", key="log_link", on_change=_from_link,
                  placeholder="Paste the link you are reading: it becomes the report's link, and its source "
                              "when the site is a known source's",
                  help="The source is found by the host of its website (a source's details on its page)")
    st.text_area("Statement", key="log_statement", height=80,
                 placeholder="One checkable statement, e.g. 'The evacuation of eastern Aleppo has begun'")
    statement = (state.get("log_statement") or "").strip()
    # always there, so the fields below keep their place (a moved text field would show its old value)
    similar_slot = st.container()
    if statement:
        alike = cache.similar(cache.fingerprint(), statement)
        if len(alike):
            with similar_slot, st.container(border=True, key="log_similar"):
                st.warning("Possibly logged already. If one of these is the same claim, add a report to it instead.")
                for row in alike.itertuples():
                    text, button = st.columns([6, 2], vertical_alignment="center")
                    text.markdown(f"**#{row.id}** {widgets.md(row.statement)} ({row.similarity:.0%} alike)")
                    button.button(f"Add a report to #{row.id}", key=f"log_use_{row.id}", on_click=_use_existing,
                                  args=(int(row.id),))
    left, right = st.columns(2)
    with left:
        st.text_input("Topics", key="log_topics", placeholder="e.g. aleppo; evacuation", help="Separate topics with ;")
        widgets.one_click("Recent:", recent_topics[:4], "log_recent_topic", _use_recent_topic)
    with right:
        st.text_input("Expected to be settled by", key="log_expected", placeholder="optional, e.g. 17 December 2016")
        widgets.date_preview(state.get("log_expected"), state.get("log_zone"))
    widgets.one_click("Recent sources:", recent_sources[:5], "log_recent_source", _use_recent_source)
    rows = state["log_rows"]
    for number, row in enumerate(rows, 1):
        report_fields(f"log_r{row}", names, number=number, removable=len(rows) > 1)
    st.button("Add another source", key="log_add_row", on_click=_add_row, icon=":material/add:")
    st.button("Log the claim", type="primary", key="log_submit", on_click=_log_claim)
else:
    st.text_input("Find the claim", key="log_find", placeholder="words in its statement, or #number")
    found = queries.find_claims(ledger, state.get("log_find"))
    options = dict(found)
    picked = state.get("log_claim_pick")
    if picked is not None and picked not in options:
        statement = queries.claim_statement(ledger, picked)
        if statement is None:
            state["log_claim_pick"] = None
        else:
            options = {picked: statement, **options}
    st.selectbox("Claim", list(options), index=None, key="log_claim_pick",
                 format_func=lambda i: f"#{i} {options[i][:120]}", placeholder="Search above, then pick the claim")
    if state.get("log_find") and not found:
        st.caption("No claim holds all those words.")
    report_fields("log_rep", names)
    st.button("Add the report", type="primary", key="log_add_report", on_click=_add_report)

access.form_error("log")
