"""What the Streamlit pages share: the one ledger per process, and tables built from service results."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from tracker.dates import format_when
from tracker.ledger import ClaimView, Ledger


@st.cache_resource
def ledger() -> Ledger:
    """The ledger over the configured store, opened (and migrated) once per server process."""
    return Ledger.open()


def claims_frame(views: list[ClaimView]) -> pd.DataFrame:
    """Claims as a table for display: one row per claim."""
    return pd.DataFrame(
        [{
            "id": v.claim.id, "ref": v.claim.ref or "", "claim": v.claim.statement,
            "status": v.status.value, "outcome": v.outcome.verdict if v.outcome else "open",
            "reports": len(v.reports), "sources": ", ".join(dict.fromkeys(s for _, s, _ in v.reports)),
            "topics": ", ".join(v.topics), "first reported": format_when(v.claim.first_reported_at),
            "expected by": format_when(v.claim.expected_by),
        } for v in views],
        columns=["id", "ref", "claim", "status", "outcome", "reports", "sources", "topics",
                 "first reported", "expected by"],
    )
