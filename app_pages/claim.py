"""Claim: one claim (`?claim=42`): its statement, who said what when, its outcome history, how
likely it is to be true and which sources drive that, and its history of changes. Reviewers and
admins also record or revise the outcome, edit the claim, retract it or one of its reports, and
merge a claim logged twice into it;
each form saves from the version of the claim this page showed."""

import streamlit as st

from tracker import charts
from tracker.dashboard import access, cache, forms, history, pages, widgets
from tracker.errors import NotFoundError
from tracker.models import Role
from tracker.scoring import CREDIBILITY_WORDS

st.title("Claim")
widgets.flash()
ledger = cache.ledger()
who = access.current()
claim_id = widgets.query_id("claim")

if claim_id is None:
    if "claim" in st.query_params:
        st.error(f"{widgets.md(st.query_params['claim'])} is not a claim number; claims are numbered 1, 2, 3...")
    left, right = st.columns([1, 4], vertical_alignment="bottom")
    number = left.number_input("Claim #", min_value=1, step=1, value=None, key="claim_pick")
    if right.button("Open", key="claim_pick_open") and number:
        st.query_params["claim"] = str(int(number))
        st.rerun()
    st.page_link(pages.CLAIMS_PAGE, label="Find a claim on the Claims page", icon=":material/search:")
    st.stop()

try:
    view = ledger.get_claim(claim_id)
except NotFoundError as exc:
    st.error(widgets.md(exc))
    st.page_link(pages.CLAIMS_PAGE, label="Find a claim on the Claims page", icon=":material/search:")
    st.stop()

claim = view.claim
st.subheader(f"#{claim.id}: {widgets.md(claim.statement)}")
details = [f"first reported {widgets.when(claim.first_reported_at, claim.first_reported_date_only)}"]
if claim.expected_by:
    details.append(f"expected by {widgets.when(claim.expected_by, claim.expected_by_date_only)}")
if view.topics:
    details.append("topics: " + ", ".join(view.topics))
if claim.ref:
    details.append(f"ref {claim.ref}")
st.caption(widgets.md(" · ".join(details)))
if view.retracted:
    st.error(widgets.md(widgets.retraction(claim)) + "  \nIt is left out of lists and scores; what it said and its "
             "history are kept.", icon=":material/block:")

fp = cache.fingerprint()
predicted, priors, drivers, p_line = cache.explanation(fp, claim.id)
row = predicted[predicted["claim_id"] == claim.id]
cells = st.columns(4)
cells[0].metric("Reported status", view.status.value, help="What the sources said: each source's latest stance counts")
cells[1].metric("Outcome", view.outcome.verdict if view.outcome else "open",
                help="The verdict in force" + (f", as of {widgets.when(view.outcome.decided_at, view.outcome.decided_date_only)}"
                                              if view.outcome else ""))
resolved = bool(len(row)) and bool(row["resolved"].iloc[0])
if len(row):
    p_true, credibility = float(row["p_true"].iloc[0]), int(row["credibility"].iloc[0])
    first = float(row["p_true_at_first_report"].iloc[0])
    if resolved:
        cells[2].metric("p_true before the verdict", f"{p_true:.2f}",
                        help="What the tracker said before the verdict was known, from earlier outcomes only; "
                             "the claim's own verdict never enters its forecast")
    else:
        cells[2].metric("Likely true (p_true)", f"{p_true:.2f}",
                        help="From the topics' record and the track record of every independent source "
                             "that asserted or denied it")
    cells[2].caption(f"{first:.2f} at first report")
    cells[3].metric("Credibility", f"{credibility}",
                    help=f"{credibility}: {CREDIBILITY_WORDS[credibility]} (1 best, 6 cannot be judged)")

reports = widgets.reports_frame(view)
outcomes = widgets.outcomes_frame(view)
live = reports[reports["retracted"] == ""]
if len(live):
    event = widgets.chart(charts.status_timeline_chart(live, outcomes), key="claim_timeline",
                          on_select="rerun", selection_mode=[charts.PICK], width="stretch")
    widgets.open_picked(event, "source_id", pages.SOURCE_PAGE, "source")
    steps = " → ".join(f"{status.value} ({widgets.when(at, view.date_only_at(at))})" for at, status in view.timeline)
    st.caption(f"Status over time: {steps}. Click a report to open its source.")
else:
    st.info("No source has reported this claim yet.")

if len(row):
    st.subheader("What drives p_true" + (" (as it stood before the verdict)" if resolved else ""))
    mine = priors[priors["claim_id"] == claim.id] if len(priors) else priors
    lines = [f"- Prior: {widgets.md(text)}" for text in mine["explanation"]]
    votes = drivers[drivers["claim_id"] == claim.id] if len(drivers) else drivers
    lines += [f"- {widgets.md(text)}" for text in votes["explanation"]]
    st.markdown("\n".join(lines) if lines else "No source has taken a stance yet: p_true is the prior.")
    st.caption("Each independent origin counts once (relays count as their origin). A stance never pushes "
               "against its own direction unless the record shows, with 90% confidence, that it is more often "
               "wrong than right.")
    if len(p_line) > 1:
        widgets.chart(charts.p_true_timeline_chart(p_line), key="claim_p_true_timeline", width="stretch")

st.subheader("Reports")
# dates given without a time show as dates (the frame holds the reports in view.reports' order)
shown = reports.assign(reported_at=[widgets.when(r.reported_at, r.reported_date_only) for r, _s, _v in view.reports],
                       url=reports["url"].map(widgets.safe_url))
shown = shown.drop(columns=["source_id"])
if len(shown) > widgets.PAGE_SIZES[-1]:  # a claim with thousands of reports: a page of them at a time
    page = widgets.paged_frame("claim_reports_pages", shown)
    widgets.pager("claim_reports_pages", page, "reports")
    shown = page.rows
if shown["retracted"].any():  # greyed (struck where the table can), with who retracted it and why beside it
    order = list(shown.columns)
    order.insert(order.index("stance") + 1, order.pop(order.index("retracted")))
    shown = shown[order]
    shown = shown.style.apply(lambda row: [widgets.STRUCK if row["retracted"] and column != "retracted" else ""
                                           for column in row.index], axis=1)
else:
    shown = shown.drop(columns=["retracted"])
widgets.table(shown, "claim_reports",
         column_config={"id": st.column_config.NumberColumn("#", format="%d"),
                        "url": st.column_config.LinkColumn("url"), "reported_at": "reported at", "via": "relaying",
                        "logged_by": "logged by"})
if "retracted" in reports and reports["retracted"].any():
    st.caption("Retracted reports stay listed with who retracted them and why; they no longer count.")
if not view.retracted:
    st.page_link(pages.LOG_PAGE, label="Add a report to this claim", icon=":material/add_comment:",
                 query_params={"claim": str(claim.id)})

st.subheader("Outcome history")
if len(outcomes):
    shown = outcomes.assign(decided_at=[widgets.when(o.decided_at, o.decided_date_only) for o in view.outcomes],
                            recorded_at=outcomes["recorded_at"].map(widgets.when),
                            evidence=outcomes["evidence"].map(widgets.safe_url))
    widgets.table(shown, "claim_outcomes",
             column_config={"evidence": st.column_config.LinkColumn("evidence"), "decided_at": "known at",
                            "recorded_at": "recorded at"})
    st.caption("Oldest first; the last verdict is in force. A revision adds a row: the history is kept.")
else:
    st.caption("No verdict yet: the claim is open.")

if not view.retracted and who.may(Role.reviewer):
    with st.expander("Revise the outcome" if view.outcome else "Record the outcome", expanded=not view.outcome):
        forms.outcome_form(claim.id, key="claim_outcome", version=claim.version)
    with st.expander("Edit the claim"):
        forms.edit_claim_form(view)
    with st.expander("Retract a report"):
        forms.retract_report_form(view)
    with st.expander("Retract the claim"):
        forms.retract_claim_form(view)
    with st.expander("Merge a duplicate into this claim"):
        forms.merge_claim_form(view)
else:
    access.refusals("claim_outcome", "claim_edit", "report_retract", "claim_retract", "claim_merge")
    if not view.retracted:
        access.role_note(who, Role.reviewer, "record outcomes, edit claims and retract claims or reports")

history.history_section("claim_history", "claim", claim_id=claim.id)
