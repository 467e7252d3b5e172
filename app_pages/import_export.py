"""Import and export: upload a CSV, JSON or ClaimReview file (all or nothing: a file with any bad
row changes nothing and every bad row is listed), and download the whole store as CSV, JSON,
ClaimReview or STIX. A ClaimReview file (schema.org JSON-LD, a saved fact-check page, or Fact
Check Tools results) is previewed review by review, with the rating mapping in force, before it is
imported; a CSV or JSON file is previewed too (a dry run: what it would create, update, leave
unchanged and refuse). An import is made as the signed-in user; only reviewers and admins may
import outcomes or change what the store holds."""

import io
from pathlib import Path

import pandas as pd
import streamlit as st

from tracker import claimreview, queries
from tracker.dashboard import access, cache, forms, widgets
from tracker.errors import ImportRejected, LedgerError, ValidationError, count_problems
from tracker.models import Role
from tracker.interchange import import_text, write_csv, write_json
from tracker.ratings import RatingMap, parse_overrides
from tracker.stix_export import write_stix

st.title("Import and export")
widgets.flash()
ledger = cache.ledger()

st.subheader("Import")
st.caption("CSV (one row per report) or JSON, in the formats the README describes, or published fact-checks: "
           "schema.org ClaimReview (JSON-LD, or a saved fact-check page) and Google Fact Check Tools results. "
           "Every row is checked; a file with any bad row changes nothing. Importing the same file twice adds "
           "nothing.")
upload = st.file_uploader("CSV, JSON or ClaimReview file", type=["csv", "json", "jsonld", "html", "htm"],
                          key="import_file", on_change=lambda: st.session_state.pop("import_error", None))


@st.cache_data(max_entries=4, show_spinner="Reading the reviews...")
def _preview(text: str, overrides: tuple, unknown: str | None) -> pd.DataFrame:
    """The reviews of an upload as they would be imported, kept while the file and the mapping stay the same."""
    return pd.DataFrame(claimreview.preview(text, RatingMap(dict(overrides), unknown)))


def preview(upload, fmt: str) -> None:
    """What importing `upload` would do (a dry run: nothing is written), kept until the file or the store changes."""
    state = st.session_state
    marker = (upload.file_id, fmt, ledger.revision())
    if state.get("import_preview_of") != marker:
        try:
            text = upload.getvalue().decode("utf-8-sig")
            state["import_preview"] = import_text(access.acting_ledger(), text, fmt, label=upload.name, dry_run=True)
        except (LedgerError, UnicodeDecodeError) as exc:
            state["import_preview"] = exc
        state["import_preview_of"] = marker
    found = state["import_preview"]
    if isinstance(found, Exception):
        st.warning(f"{widgets.md(upload.name)} cannot be imported as it is: {widgets.md(found)}")
        return
    counts = pd.DataFrame([
        {"": "claims", "created": found.claims_created, "updated": found.claims_updated,
         "unchanged": found.claims_matched - found.claims_updated},
        {"": "reports", "created": found.reports_added, "updated": found.reports_updated,
         "unchanged": found.reports_skipped},
    ])
    st.markdown(f"**Preview of {widgets.md(upload.name)}** (nothing written yet): {found.outcomes_added} outcome(s) and "
                f"{found.sources_created} source(s) would be added.")
    widgets.table(counts, "import_preview_counts")
    if found.refused:
        st.error(f"{count_problems(found.refused)} would be refused, and then nothing is imported:")
        widgets.table(pd.DataFrame([{"row": e.row, "problem": e.reason} for e in found.refused]), "import_preview_refused",
                 column_config={"problem": st.column_config.TextColumn("problem", width="large")})
    elif not found.changed:
        st.info("Importing it would change nothing: the store holds all of it already.")


chosen = st.selectbox("Format", ["from the file", "csv", "json", "claimreview"], key="import_format")
ratings = None
is_review = False
if upload is not None:
    try:
        text = upload.getvalue().decode("utf-8-sig")
        is_review = claimreview.is_claimreview(upload.name, text, None if chosen == "from the file" else chosen)
    except UnicodeDecodeError:
        text = None
    except ValidationError as exc:
        st.warning(widgets.md(exc))
        text = None
    if is_review and text is not None:
        st.markdown("**Rating mapping** (used before the built-in one; one `TEXT=VERDICT` per line)")
        left, right = st.columns([2, 1])
        own = left.text_area("Your ratings", key="import_ratings", placeholder="Mostly false=false")
        unknown = right.radio("Ratings not in the mapping", ["refuse the file", "import as unverifiable"],
                              key="import_unknown")
        try:
            ratings = RatingMap(parse_overrides(line for line in own.splitlines() if line.strip()),
                                unknown="unverifiable" if unknown == "import as unverifiable" else None)
        except ValidationError as exc:
            st.error(widgets.md(exc))
        if ratings is not None:
            with st.expander("The rating mapping in force"):
                widgets.table(pd.DataFrame(ratings.table(), columns=["rating text", "verdict"]), "import_rating_map")
            try:
                st.markdown("**Preview**: each review as it would be imported (nothing is written yet)")
                widgets.table(_preview(text, tuple(ratings.overrides.items()), ratings.unknown), "import_preview",
                         column_config={"claim": st.column_config.TextColumn("claim", width="medium"),
                                        "problem": st.column_config.TextColumn("problem", width="large")})
            except (ImportRejected, ValidationError) as exc:
                st.error(widgets.md(exc))
    elif text is not None:
        preview(upload, chosen if chosen != "from the file" else Path(upload.name).suffix.lower().lstrip("."))
if st.button("Import", type="primary", key="import_button",
             disabled=upload is None or (is_review and ratings is None)) and upload is not None:
    fmt = chosen if chosen != "from the file" else Path(upload.name).suffix.lower().lstrip(".")
    with st.status(f"Importing {upload.name}...", expanded=True) as status:
        try:
            st.write("Reading the file...")
            text = upload.getvalue().decode("utf-8-sig")
            st.write("Checking every row and writing, in one transaction...")
            newest = queries.newest_claim_id(ledger)
            if is_review:
                summary = widgets.md(claimreview.import_text(access.acting_ledger(), text, ratings, label=upload.name))
            else:
                summary = import_text(access.acting_ledger(), text, fmt, label=upload.name)
        except ValidationError as exc:  # too large, or not a format the tracker reads
            status.update(label=f"{upload.name} was not imported", state="error")
            st.session_state["import_error"] = (widgets.md(exc), None)
        except UnicodeDecodeError:
            status.update(label=f"{upload.name} was not imported", state="error")
            st.session_state["import_error"] = (
                f"{widgets.md(upload.name)} is not UTF-8 text; save it as UTF-8 (CSV UTF-8 in spreadsheets) and upload it again",
                None)
        except ImportRejected as exc:
            status.update(label=f"Checked {upload.name}", state="error")  # the message below says the rest, once
            st.session_state["import_error"] = (
                (f"{widgets.md(upload.name)} was not imported: {count_problems(exc.errors)}; nothing was changed. "
                 "Fix these rows and import it again."),
                pd.DataFrame([{"row": e.row, "problem": e.reason} for e in exc.errors]))
        except LedgerError as exc:
            status.update(label=f"{upload.name} was not imported", state="error")
            st.session_state["import_error"] = (widgets.md(exc), None)
        else:
            status.update(label=f"Imported {upload.name}", state="complete", expanded=False)
            st.session_state["import_error"] = None
            st.session_state["import_new_claims"] = queries.claims_after(ledger, newest)
            st.session_state["flash"] = f"Imported {widgets.md(upload.name)}: {summary}"
            st.rerun()

problem = st.session_state.get("import_error")
if problem:
    message, rows = problem
    st.error(message)  # escaped where it is made
    if rows is not None:
        widgets.table(rows, "import_bad_rows",
                 column_config={"problem": st.column_config.TextColumn("problem", width="large")})

created = st.session_state.get("import_new_claims")
who = access.current()
if created and who is not None and who.may(Role.reviewer):
    st.caption(f"The last import created {len(created)} claim(s) (the first {queries.AFTER_LIMIT} are checked): "
               "some may be claims already logged under other words.")
    forms.likely_duplicates(created, "import_duplicates", label="Look for claims it logged twice")

st.subheader("Export")
counts = cache.counts(cache.fingerprint(), cache.minute())
st.caption(f"The store holds {counts['claims']} claim(s), {counts['reports']} report(s) and "
           f"{counts['outcomes']} verdict(s). CSV has one row per report and the verdict in force; "
           "JSON keeps everything, including every revision of a verdict and the sources' details.")


def _csv() -> bytes:
    stream = io.StringIO(newline="")
    write_csv(ledger, stream)
    return stream.getvalue().encode("utf-8")


def _json() -> bytes:
    stream = io.StringIO()
    write_json(ledger, stream)
    return stream.getvalue().encode("utf-8")


left, right, _ = st.columns([1, 1, 3])
# the files are written only when a button is clicked, not on every rerun of the page
left.download_button("Download CSV", _csv, file_name="tracker.csv", mime="text/csv", key="export_csv",
                     disabled=counts["claims"] == 0, on_click="ignore")
right.download_button("Download JSON", _json, file_name="tracker.json", mime="application/json",
                      key="export_json", disabled=counts["claims"] == 0, on_click="ignore")

st.markdown("**For other tools**: ClaimReview (one schema.org fact-check per resolved claim, for search engines "
            "and fact-check archives) and STIX 2.1 (for OpenCTI and other threat-intelligence platforms: each "
            "source with its computed reliability, each claim with its confidence, each verdict an opinion).")
left, right = st.columns(2)
publisher = left.text_input("Publishing organisation", key="export_publisher")
pattern = right.text_input("Url of each fact-check page ({ref} or {id})", key="export_review_url",
                           placeholder="https://factcheck.example.org/claims/{ref}")
try:
    usable = bool(pattern) and bool(claimreview.review_url(pattern, "ref", 1))
except ValidationError as exc:
    st.error(widgets.md(exc))
    usable = False


def _claimreview() -> bytes:
    stream = io.StringIO()
    claimreview.write_claimreview(ledger, stream, publisher, pattern)
    return stream.getvalue().encode("utf-8")


def _stix() -> bytes:
    stream = io.StringIO()
    write_stix(ledger, stream, publisher or "tracker")
    return stream.getvalue().encode("utf-8")


left, right, _ = st.columns([1, 1, 3])
left.download_button("Download ClaimReview", _claimreview, file_name="claimreview.jsonld", mime="application/ld+json",
                     key="export_claimreview", disabled=counts["outcomes"] == 0 or not publisher or not usable,
                     on_click="ignore", help="needs the publishing organisation and the url pattern")
right.download_button("Download STIX", _stix, file_name="tracker.stix.json", mime="application/json",
                      key="export_stix", disabled=counts["claims"] == 0, on_click="ignore")
