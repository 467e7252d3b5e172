"""The dashboard's forms that change claims and sources: outcomes, edits, retractions, renames, merges.

Each writes as the signed-in user (`access.act`). A form given the version of the claim or
source the page shows saves from it, so a save after someone else changed the row meanwhile is
refused (`EditConflict`, listing the changes) and nothing is saved; after a refusal the fields the
user changed keep what they typed (`prefill`, `keep_typed`). Also here: loading the Aleppo example
into an empty store.
"""

from __future__ import annotations

import streamlit as st

from tracker import queries
from tracker.dates import format_when
from tracker.errors import EditConflict, LedgerError
from tracker.interchange import load_example
from tracker.ledger import ClaimView
from tracker.models import Verdict
from tracker.dashboard import cache
from tracker.dashboard.cache import ledger
from tracker.dashboard.widgets import date_preview, entered_when, md, when, zone_picker
from tracker.dashboard.access import act, form_error

VERDICTS = [v.value for v in Verdict]
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
    right.text_input("When it became known", placeholder="e.g. 15 December 2016 12:00, yesterday 21:00",
                     key=f"{key}_when")
    with right:
        date_preview(st.session_state.get(f"{key}_when"), zone_picker(f"{key}_zone"))
    left.text_input("Evidence (a link)", placeholder="https://...", key=f"{key}_evidence")
    right.text_input("Reviewer", placeholder="optional", key=f"{key}_reviewer")
    st.text_area("Note", placeholder="What settles it, in a sentence", key=f"{key}_note", height=80)
    st.button("Record the outcome", type="primary", key=f"{key}_record", on_click=_record_outcome,
              args=(claim_id, key, version is not None))
    form_error(key)


def _record_outcome(claim_id: int, key: str, versioned: bool) -> None:
    state = st.session_state
    version = state.get(f"{key}_from", (None, None))[1] if versioned else None

    def refused(exc: LedgerError) -> None:
        if isinstance(exc, EditConflict):  # the user has seen the changes now: the next save starts from them
            state.pop(f"{key}_from", None)

    if not act(key, lambda acting: acting.record_outcome(
            claim_id, state.get(f"{key}_verdict") or "",
            entered_when(state.get(f"{key}_when"), state.get(f"{key}_zone")),
            evidence_url=state.get(f"{key}_evidence") or None, note=state.get(f"{key}_note") or None,
            reviewer=state.get(f"{key}_reviewer") or None, version=version),
            lambda outcome: (f"Claim #{claim_id} is now {outcome.verdict} "
                             f"(as of {format_when(outcome.decided_at, outcome.decided_date_only)})."),
            refused):
        return
    for field in ("when", "evidence", "note"):
        state[f"{key}_{field}"] = ""
    state[f"{key}_verdict"] = None
    state.pop(f"{key}_from", None)


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
    shown = {"statement": claim.statement, "expected": when(claim.expected_by, claim.expected_by_date_only),
             "topics": "; ".join(view.topics)}
    prefill(key, {**shown, "reason": ""}, (claim.id, claim.version))
    with st.form(key):
        st.text_area("Statement", key=f"{key}_statement", height=80)
        left, right = st.columns(2)
        left.text_input("Expected to be settled by", key=f"{key}_expected",
                        help="As people write it, e.g. 17 December 2016; empty for no date")
        right.text_input("Topics", key=f"{key}_topics", help="Separate topics with ;")
        with left:
            zone_picker(f"{key}_zone")
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
        changes.update({"expected_by": entered_when(typed["expected"], state.get(f"{key}_zone"))}
                       if typed["expected"] else {"clear_expected_by": True})
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
        st.form_submit_button("Merge", key=f"{key}_submit", on_click=_merge_source,
                              args=(detail["name"], detail["version"], key))
    form_error(key)


def _merge_source(name: str, version: int, key: str) -> None:
    state = st.session_state
    into = state.get(f"{key}_into")
    if not into or not state.get(f"{key}_sure"):
        state[f"{key}_error"] = "pick the source to keep and tick the box to confirm the merge"
        return
    act(key, lambda acting: acting.merge_sources(name, into, version=version), f"Merged {md(name)} into {md(into)}.")


# -- claims logged twice -------------------------------------------------------------------
def merge_claim_form(view: ClaimView, key: str = "claim_merge") -> None:
    """Merge a duplicate into this claim (reviewers): its likely duplicates are offered, or any claim by # or ref."""
    alike = cache.similar(cache.fingerprint(), view.claim.statement, limit=6)  # a scan of every statement
    alike = alike[alike["id"] != view.claim.id]
    offered = {str(r.id): f"#{r.id} {r.statement[:100]} ({r.similarity:.0%} alike)" for r in alike.itertuples()}
    with st.form(key):
        st.selectbox("A likely duplicate", list(offered), index=None, format_func=offered.get, key=f"{key}_pick",
                     placeholder="Claims that read like this one" if offered else "None found: name one below")
        st.text_input("Or the duplicate's # or claim_ref", key=f"{key}_other", placeholder="e.g. 14 or c-5e0c2f8a9b1d3e47")
        st.checkbox("Move its reports and topics to this claim; it stays in the history, merged into this one",
                    key=f"{key}_sure")
        st.form_submit_button("Merge into this claim", key=f"{key}_submit", on_click=_merge_claim,
                              args=(view.claim.id, key))
    form_error(key)


def _merge_claim(claim_id: int, key: str) -> None:
    state = st.session_state
    duplicate = (state.get(f"{key}_other") or "").strip() or state.get(f"{key}_pick")
    if not duplicate or not state.get(f"{key}_sure"):
        state[f"{key}_error"] = "pick the duplicate (or give its # or claim_ref) and tick the box to confirm the merge"
        return
    if act(key, lambda acting: acting.merge_claims(claim_id, duplicate),
           f"Merged claim {md(duplicate)} into claim #{claim_id}."):
        state[f"{key}_other"], state[f"{key}_pick"], state[f"{key}_sure"] = "", None, False


def likely_duplicates(claims: dict[int, str], key: str, label: str = "Look for claims logged twice on this page") -> None:
    """Claims that read like these (any claim in the store), each pair with a button merging the newer into the older."""
    if not st.button(label, key=f"{key}_look"):
        form_error(key)
        return
    pairs = queries.likely_duplicate_pairs(ledger(), claims)
    if not pairs:
        st.caption("No two claims here read alike.")
    for keep, duplicate, score in pairs:
        text, button = st.columns([6, 2], vertical_alignment="center")
        text.markdown(f"**#{keep}** and **#{duplicate}** read {score:.0%} alike")
        button.button(f"Merge #{duplicate} into #{keep}", key=f"{key}_{keep}_{duplicate}", on_click=act,
                      args=(key, lambda acting, k=keep, d=duplicate: acting.merge_claims(k, d),
                            f"Merged claim #{duplicate} into claim #{keep}."))


# -- an empty store -----------------------------------------------------------------------
def offer_example(key: str) -> None:
    """On an empty store: a one-click way to load the Aleppo example."""
    st.info("The store is empty. Load the Aleppo 2016 example (13 claims from 16 sources, with "
            "their outcomes) to see how the tracker works, or log a claim or import a file.")
    if st.button("Load the Aleppo example", type="primary", key=key):
        with st.spinner("Loading the Aleppo example..."):
            loaded = act(key, load_example, lambda summary: f"Loaded the Aleppo example: {summary}")
        if loaded:  # an analyst may not record its outcomes: then the refusal shows below
            st.rerun()
    form_error(key)
