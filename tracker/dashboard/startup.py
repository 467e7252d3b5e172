"""The dashboard server's start: the first page's imports and reads done before anyone asks for it.

`streamlit run dashboard.py` finds dashboard.py's `app = st.App(...)` line (Streamlit's ASGI entry
point), imports dashboard.py once as the server and runs it as a script for every browser
session. The server's `lifespan` starts `warm` in a thread and takes requests at once: while the
browser loads Streamlit's own page, `warm` imports what the pages draw with (pandas, SciPy's
special functions, Altair, SQLAlchemy and the tracker's modules: most of a cold first page), opens
the store (upgrading it, as the first page would) and scores its sources for the Overview into
the dashboard's caches (`tracker.dashboard.cache`). A session whose first run starts before those
imports are done waits for them (`ready`) rather than import the same modules from a second
thread; the reads need no such care, since a cached function computes once for concurrent
callers. Whatever fails here is left to the first page, which meets the same error and shows it.
Without a server (AppTest, the tests), nothing warms and `ready` returns at once.
"""

from __future__ import annotations

import importlib
import logging
import threading
from contextlib import asynccontextmanager

_LOG = logging.getLogger(__name__)
_imported = threading.Event()
_imported.set()  # no warm-up under way: nothing to wait for
# in the order dashboard.py and the Overview import them: the store's modules and pandas, SciPy's
# special functions (the scores), Altair (the charts)
WARM_MODULES = ("tracker.dashboard.access", "tracker.dashboard.forms", "tracker.dashboard.widgets",
                "tracker.dashboard.history", "tracker.queries", "tracker.scoring", "tracker.charts")


def warm() -> None:
    """Import what the pages draw with, open the store and compute what the Overview shows first."""
    try:
        for name in WARM_MODULES:
            importlib.import_module(name)
    except Exception:  # noqa: BLE001  (the first page imports them again and shows the error)
        _LOG.warning("dashboard warm-up: importing the pages' modules failed", exc_info=True)
        return
    finally:
        _imported.set()
    try:
        from tracker.dashboard import cache

        fp = cache.fingerprint()  # opens (and, when due, upgrades) the store
        counts = cache.counts(fp, cache.minute())
        if counts["claims"]:
            cache.scores(fp)
            if cache.glance_kept(fp) is None and counts["resolved"] <= cache.GLANCE_INLINE:
                cache.glance(fp)
    except Exception:  # noqa: BLE001  (the first page meets the same error and shows it)
        _LOG.warning("dashboard warm-up: reading the store failed", exc_info=True)


THREAD = "tracker-dashboard-warm-up"


def _not_from_warm_up(record: logging.LogRecord) -> bool:
    """Drop Streamlit's "missing ScriptRunContext" warning for the warm-up thread (which runs no script)."""
    return record.threadName != THREAD


@asynccontextmanager
async def lifespan(app):
    """`st.App`'s lifespan: `warm` starts in a thread as the server starts; requests do not wait for it."""
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(_not_from_warm_up)
    _imported.clear()
    threading.Thread(target=warm, name=THREAD, daemon=True).start()
    yield


def ready() -> None:
    """Wait until the warm-up's imports are done (at once when no warm-up is under way)."""
    _imported.wait()
