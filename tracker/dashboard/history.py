"""The audit trail as the dashboard shows it: each change a row (fields before → after), a page at a time.

`history_section` shows one claim's or source's latest changes, with a link to all of them on the
History page.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from tracker import audit, queries
from tracker.dashboard.cache import ledger
from tracker.dashboard.pages import HISTORY_PAGE
from tracker.dashboard.widgets import table, when

HISTORY_COLUMNS = {"claim_id": None, "source_id": None,
                   "changes": st.column_config.TextColumn("changes (before → after)", width="large")}
HISTORY_FIELDS = ["when", "who", "what", "claim", "source", "changes", "reason", "claim_id", "source_id"]
_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


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
    names = queries.source_names(ledger(), {c.about_source for c in changes})
    frame = pd.DataFrame([{
        "when": when(c.at), "who": c.actor, "what": c.summary, "claim": f"#{c.claim_id}" if c.claim_id else "",
        "source": names.get(c.about_source, ""), "changes": _changes(c), "reason": c.reason or "",
        "claim_id": c.claim_id, "source_id": c.about_source,
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
