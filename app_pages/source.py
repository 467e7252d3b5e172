"""Source: one source (`?source=7`): its grade and reliability, how that changed as outcomes became
known, its record by stance, the claims it made or that were relayed from it, and its history of
changes. Admins also rename it, edit its details or merge it into another source. A merged source's
page says which source it was merged into."""

import streamlit as st

from tracker import charts, queries
from tracker.dashboard import access, cache, forms, history, pages, widgets
from tracker.errors import NotFoundError
from tracker.models import Role, SourceKind
from tracker.scoring import GRADE_WORDS

st.title("Source")
widgets.flash()
ledger = cache.ledger()
who = access.current()
source_id = widgets.query_id("source")

if source_id is None:
    if "source" in st.query_params:
        st.error(f"{widgets.md(st.query_params['source'])} is not a source number")
    ids = queries.source_id_by_name(ledger)
    if not ids:
        st.info("No source yet.")
        st.stop()
    widgets.open_control("Source", {i: name for name, i in sorted(ids.items(), key=lambda kv: kv[0].casefold())},
                    pages.SOURCE_PAGE, "source", key="source_pick")
    st.stop()

try:
    detail = queries.source_detail(ledger, source_id)
except NotFoundError as exc:
    st.error(widgets.md(exc))
    st.page_link(pages.SOURCES_PAGE, label="All sources", icon=":material/group:")
    st.stop()

st.subheader(widgets.md(detail["name"]))
if detail["merged_into"]:
    into = detail["merged_into"]
    st.info(f"{widgets.md(detail['name'])} was merged into {widgets.md(into['name'])}: its reports and names are that "
            "source's now.", icon=":material/merge:")
    st.page_link(pages.SOURCE_PAGE, label=f"Open {widgets.md(into['name'])}", query_params={"source": str(into["id"])},
                 icon=":material/open_in_new:")
    access.refusals("source_rename", "source_details", "source_merge")
    history.history_section("source_history", "source", source_id=source_id)
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
st.caption(widgets.md(" · ".join(facts)))
if detail["notes"]:
    st.markdown(widgets.md(detail["notes"]))
link = widgets.safe_url(detail["url"])
if link:
    st.link_button("Source's website", link, key="source_website")

fp = cache.fingerprint()
scores = cache.scores(fp)
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
        series = cache.reliability_series(fp, source_id)
    if len(series) >= 1:
        widgets.chart(charts.reliability_over_time_chart(series, prior=scores.attrs.get("prior_mean")),
                      key="source_over_time", width="stretch")
        st.caption("As it stood each time one of its claims was settled; the dashed line is the store's average.")
    else:
        st.caption("No report yet, so no record over time.")
with right:
    record = queries.source_record(ledger, source_id)
    if len(record) and record["resolved"].sum() > 0:
        widgets.chart(charts.truth_rate_chart(record[record["resolved"] > 0][["stance", "resolved", "truth_rate"]]
                                              .rename(columns={"resolved": "claims"}),
                                              title="When it said this, the claim turned out true"),
                      key="source_by_stance", width="stretch")
    widgets.table(record, "source_record",
             column_config={"truth_rate": st.column_config.NumberColumn("truth rate", format="%.2f")})
    st.caption("Its latest stance on each claim (its own report, else a relay of it) against the verdict in force.")

st.subheader("Its claims")
page = widgets.paged("source_claims",
                lambda offset, limit: queries.source_claims(ledger, source_id, offset=offset, limit=limit))
table = widgets.claims_table(page.rows)
event = widgets.table(table, "source_claims_table", select=True, wrap=True, column_config=widgets.CLAIM_COLUMNS)
widgets.open_selected_row(event, page.rows, pages.CLAIM_PAGE, "claim")
widgets.pager("source_claims", page, "claims")
widgets.open_control("Open one of its claims", {int(r.id): f"#{r.id} {r.statement[:100]}" for r in page.rows.itertuples()},
                pages.CLAIM_PAGE, "claim", key="source_claims_open")

if who.may(Role.admin):
    st.subheader("Change this source")
    rename, details, merge = st.tabs(["Rename", "Details", "Merge into another"])
    with rename:
        forms.rename_source_form(detail)
    with details:
        forms.source_details_form(detail, [kind.value for kind in SourceKind])
    with merge:
        others = sorted((name for name in queries.source_id_by_name(ledger) if name != detail["name"]),
                        key=str.casefold)
        forms.merge_source_form(detail, others)
else:
    access.refusals("source_rename", "source_details", "source_merge")
    access.role_note(who, Role.admin, "rename, edit and merge sources")

history.history_section("source_history", "source", source_id=source_id)
