"""Import and export: upload a CSV or JSON file (all or nothing: a file with any bad row changes
nothing and every bad row is listed), and download the whole store as CSV or JSON. Before the
button, a preview (a dry run) says what the file would create, update, leave unchanged and refuse.
An import is made as the signed-in user; only reviewers and admins may import outcomes or change
what the store holds."""

import io
from pathlib import Path

import pandas as pd
import streamlit as st

from tracker import queries, ui, ui_access, ui_forms
from tracker.errors import ImportRejected, LedgerError, ValidationError
from tracker.models import Role
from tracker.interchange import import_text, write_csv, write_json

st.title("Import and export")
ui.flash()
ledger = ui.ledger()

st.subheader("Import")
st.caption("CSV (one row per report) or JSON, in the formats the README describes. Every row is checked; "
           "a file with any bad row changes nothing. Importing the same file twice adds nothing.")
upload = st.file_uploader("CSV or JSON file", type=["csv", "json"], key="import_file",
                          on_change=lambda: st.session_state.pop("import_error", None))


def preview(upload) -> None:
    """What importing `upload` would do (a dry run: nothing is written), kept until the file or the store changes."""
    state = st.session_state
    marker = (upload.file_id, ledger.revision())
    if state.get("import_preview_of") != marker:
        try:
            text = upload.getvalue().decode("utf-8-sig")
            fmt = Path(upload.name).suffix.lower().lstrip(".")
            state["import_preview"] = import_text(ui_access.acting_ledger(), text, fmt, label=upload.name, dry_run=True)
        except (LedgerError, UnicodeDecodeError) as exc:
            state["import_preview"] = exc
        state["import_preview_of"] = marker
    found = state["import_preview"]
    if isinstance(found, Exception):
        st.warning(f"{upload.name} cannot be imported as it is: {ui.md(found)}")
        return
    counts = pd.DataFrame([
        {"": "claims", "created": found.claims_created, "updated": found.claims_updated,
         "unchanged": found.claims_matched - found.claims_updated},
        {"": "reports", "created": found.reports_added, "updated": found.reports_updated,
         "unchanged": found.reports_skipped},
    ])
    st.markdown(f"**Preview of {ui.md(upload.name)}** (nothing written yet): {found.outcomes_added} outcome(s) and "
                f"{found.sources_created} source(s) would be added.")
    ui.table(counts, "import_preview_counts")
    if found.refused:
        st.error(f"{len(found.refused)} row(s) would be refused, and then nothing is imported:")
        ui.table(pd.DataFrame([{"row": e.row, "problem": e.reason} for e in found.refused]), "import_preview_refused",
                 column_config={"problem": st.column_config.TextColumn("problem", width="large")})
    elif not found.changed:
        st.info("Importing it would change nothing: the store holds all of it already.")


if upload is not None:
    preview(upload)
if st.button("Import", type="primary", key="import_button", disabled=upload is None) and upload is not None:
    fmt = Path(upload.name).suffix.lower().lstrip(".")
    with st.status(f"Importing {upload.name}...", expanded=True) as status:
        try:
            st.write("Reading the file...")
            text = upload.getvalue().decode("utf-8-sig")
            st.write("Checking every row and writing, in one transaction...")
            newest = queries.newest_claim_id(ledger)
            summary = import_text(ui_access.acting_ledger(), text, fmt, label=upload.name)
        except ValidationError as exc:  # too large, or not a format the tracker reads
            status.update(label=f"{upload.name} was not imported", state="error")
            st.session_state["import_error"] = (str(exc), None)
        except UnicodeDecodeError:
            status.update(label=f"{upload.name} was not imported", state="error")
            st.session_state["import_error"] = (
                f"{upload.name} is not UTF-8 text; save it as UTF-8 (CSV UTF-8 in spreadsheets) and upload it again",
                None)
        except ImportRejected as exc:
            status.update(label=f"{upload.name} was not imported: nothing was changed", state="error")
            st.session_state["import_error"] = (
                (f"{upload.name} was not imported: {len(exc.errors)} bad row(s); nothing was changed. "
                 "Fix these rows and import it again."),
                pd.DataFrame([{"row": e.row, "problem": e.reason} for e in exc.errors]))
        except LedgerError as exc:
            status.update(label=f"{upload.name} was not imported", state="error")
            st.session_state["import_error"] = (str(exc), None)
        else:
            status.update(label=f"Imported {upload.name}", state="complete", expanded=False)
            st.session_state["import_error"] = None
            st.session_state["flash"] = f"Imported {upload.name}: {summary}"
            st.session_state["import_new_claims"] = queries.claims_after(ledger, newest)
            st.rerun()

problem = st.session_state.get("import_error")
if problem:
    message, rows = problem
    st.error(message)
    if rows is not None:
        ui.table(rows, "import_bad_rows",
                 column_config={"problem": st.column_config.TextColumn("problem", width="large")})

created = st.session_state.get("import_new_claims")
who = ui_access.current()
if created and who is not None and who.may(Role.reviewer):
    st.caption(f"The last import created {len(created)} claim(s) (the first {queries.AFTER_LIMIT} are checked): "
               "some may be claims already logged under other words.")
    ui_forms.likely_duplicates(created, "import_duplicates", label="Look for claims it logged twice")

st.subheader("Export")
counts = queries.overview_counts(ledger)
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
