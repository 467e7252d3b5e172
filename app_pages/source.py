"""Source: one source (`?source=7`): its grade and reliability, how that changed as outcomes became
known, its record by stance, the claims it made or that were relayed from it, and its history of
changes. Admins also rename it, edit its details or merge it into another source. A merged source's
page says which source it was merged into."""

import streamlit as st

from tracker import charts, queries, ui, ui_access, ui_forms, ui_history
from tracker.errors import NotFoundError
from tracker.models import Role, SourceKind
from tracker.scoring import GRADE_WORDS

st.title("Source")
ui.flash()
ledger = ui.ledger()
who = ui_access.current()
source_id = ui.query_id("source")

if source_id is None:
    if "source" in st.query_params:
        st.error(f"{ui.md(st.query_params['source'])} is not a source number")
    ids = queries.source_id_by_name(ledger)
    if not ids:
        st.info("No source yet.")
        st.stop()
    ui.open_control("Source", {i: name for name, i in sorted(ids.items(), key=lambda kv: kv[0].casefold())},
                    ui.SOURCE_PAGE, "source", key="source_pick")
    st.stop()

try:
    detail = queries.source_detail(ledger, source_id)
except NotFoundError as exc:
    st.error(ui.md(exc))
    st.page_link(ui.SOURCES_PAGE, label="All sources", icon=":material/group:")
    st.stop()

st.subheader(ui.md(detail["name"]))
if detail["merged_into"]:
    into = detail["merged_into"]
    st.info(f"{ui.md(detail['name'])} was merged into {ui.md(into['name'])}: its reports and names are that "
            "source's now.", icon=":material/merge:")
    st.page_link(ui.SOURCE_PAGE, label=f"Open {ui.md(into['name'])}", query_params={"source": str(into["id"])},
                 icon=":material/open_in_new:")
    ui_access.refusals("source_rename", "source_details", "source_merge")
    ui_history.history_section("source_history", "source", source_id=source_id)
    st.stop()
facts = [detail["kind"].replace("_", " ")]
if detail["affiliation"]:
    facts.append(detail["affiliation"])
if detail["parent"]:
    facts.append(f"part of {detail['parent']}")
if detail["aliases"]:
    facts.append("also called " + ", ".join(detail["aliases"]))
facts.append(f"{detail['reports']} report(s) on {detail['claims']} claim(s)")
if detail["relayed"]:
    facts.append(f"relayed {detail['relayed']} time(s) by others")
st.caption(ui.md(" · ".join(facts)))
if detail["notes"]:
    st.markdown(ui.md(detail["notes"]))
link = ui.safe_url(detail["url"])
if link:
    st.link_button("Source's website", link, key="source_website")

fp = ui.fingerprint()
scores = ui.scores(fp)
row = scores[scores["source_id"] == source_id]
if len(row):
    r = row.iloc[0]
    cells = st.columns(4)
    cells[0].metric("Grade", r["grade"], help=GRADE_WORDS[r["grade"]])
    cells[1].metric("Reliability", f"{r['reliability']:.2f}",
                    help=f"90% credible interval {r['lower']:.2f}-{r['upper']:.2f}")
    cells[2].metric("Resolved", int(r["resolved"]), help="Claims with a verdict on which its stance counted")
    cells[3].metric("Pending", int(r["pending"]), help="Its claims still open")
    st.caption(f"{r['grade']}: {GRADE_WORDS[r['grade']]}. Reliability {r['reliability']:.2f}, "
               f"90% credible interval {r['lower']:.2f} to {r['upper']:.2f}.")

left, right = st.columns(2)
with left:
    with st.spinner("Scoring its record over time..."):
        series = ui.reliability_series(fp, source_id)
    if len(series) >= 1:
        st.altair_chart(charts.reliability_over_time_chart(series, prior=scores.attrs.get("prior_mean")),
                        key="source_over_time", width="stretch")
        st.caption("As it stood each time one of its claims was settled; the dashed line is the store's average.")
    else:
        st.caption("No report yet, so no record over time.")
with right:
    record = queries.source_record(ledger, source_id)
    if len(record) and record["resolved"].sum() > 0:
        st.altair_chart(charts.truth_rate_chart(record[record["resolved"] > 0][["stance", "resolved", "truth_rate"]]
                                                .rename(columns={"resolved": "claims"}),
                                                title="When it said this, the claim turned out true"),
                        key="source_by_stance", width="stretch")
    ui.table(record, "source_record",
             column_config={"truth_rate": st.column_config.NumberColumn("truth rate", format="%.2f")})
    st.caption("Its latest stance on each claim (its own report, else a relay of it) against the verdict in force.")

st.subheader("Its claims")
page = ui.paged("source_claims",
                lambda offset, limit: queries.source_claims(ledger, source_id, offset=offset, limit=limit))
table = ui.claims_table(page.rows)
event = st.dataframe(table, hide_index=True, key="source_claims_table", on_select="rerun", selection_mode="single-row",
                     column_config={"id": st.column_config.NumberColumn("#", format="%d"),
                                    "claim": st.column_config.TextColumn("claim", width="large")})
ui.open_selected_row(event, page.rows, ui.CLAIM_PAGE, "claim")
ui.pager("source_claims", page, "claims")
ui.open_control("Open one of its claims", {int(r.id): f"#{r.id} {r.statement[:100]}" for r in page.rows.itertuples()},
                ui.CLAIM_PAGE, "claim", key="source_claims_open")

if who.may(Role.admin):
    st.subheader("Change this source")
    rename, details, merge = st.tabs(["Rename", "Details", "Merge into another"])
    with rename:
        ui_forms.rename_source_form(detail)
    with details:
        ui_forms.source_details_form(detail, [kind.value for kind in SourceKind])
    with merge:
        others = sorted((name for name in queries.source_id_by_name(ledger) if name != detail["name"]),
                        key=str.casefold)
        ui_forms.merge_source_form(detail, others)
else:
    ui_access.refusals("source_rename", "source_details", "source_merge")
    ui_access.role_note(who, Role.admin, "rename, edit and merge sources")

ui_history.history_section("source_history", "source", source_id=source_id)
