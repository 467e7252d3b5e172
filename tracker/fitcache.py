"""What is computed from a whole SQLite store, kept beside it for the store's current state.

Fitting the forecasting model reads the whole record (a few seconds at a million reports), and
so do the sources' scores the dashboard's Overview opens with (about 1.3 s at 50,000 claims);
their results depend only on what the store holds, which every write changes along with the
store's revision (`Ledger.revision`). So a command or a dashboard page that finds a result kept
for the store's current state (`state`: its revision, and the newest row of each table, which
tell apart two stores at one revision, say after restoring a backup) reuses it instead of
computing it again; any write, from any process, makes the next one compute afresh. The results
live in a small JSON file beside the store (`STORE-fits.json`), so they outlive the process: the
next `tracker predict`, `tracker calibration` or a restarted dashboard pays the work only when
something changed. A store that is not a file (PostgreSQL, an in-memory SQLite) keeps nothing,
and a file that cannot be read or written is ignored: everything is then computed as if there
were none.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

FORMAT = 7  # raised when what the file holds (or what the model fits) changes meaning
SUFFIX = "-fits.json"


def path_for(url) -> Path | None:
    """Where the fitted parameters of the store at `url` (an engine's URL, or its text) are kept:
    beside its SQLite file (None for other stores)."""
    from sqlalchemy import make_url

    url = make_url(url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:" \
            or url.database.startswith("file:"):
        return None
    return Path(url.database).with_name(Path(url.database).name + SUFFIX)


# the tables whose newest row, beside the revision, tells one state of a store from another
# (`max(rowid)` is one seek on SQLite, where alone anything is kept)
_TABLES = ("source", "source_alias", "claim", "claim_topic", "report", "outcome", "audit_event")


def state(engine) -> list | None:
    """What entries kept now are valid for: the store's revision and the newest row of each table,
    read in one statement (so they agree); None for a store beside which nothing is kept."""
    if path_for(engine.url) is None:
        return None
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    newest = ", ".join(f"(SELECT max(rowid) FROM {table})" for table in _TABLES)
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(f"SELECT (SELECT revision FROM store_revision), {newest}")).one())
    except OperationalError:  # not a tracker store at this release's schema: keep nothing
        return None


def read(engine, kept_for: list | None, name: str):
    """The entry `name` stored for this state of the store (`state`), or None."""
    path = path_for(engine.url)
    if path is None or kept_for is None:
        return None
    try:
        with open(path, encoding="utf-8") as f:
            stored = json.load(f)
    except (OSError, ValueError):
        return None
    if not isinstance(stored, dict) or stored.get("format") != FORMAT or stored.get("state") != kept_for:
        return None
    return stored.get("entries", {}).get(name)


def write(engine, kept_for: list | None, name: str, value) -> None:
    """Keep `value` (plain JSON data) as the entry `name` for this state of the store (`state`);
    entries of another state are dropped. Written atomically; a store whose folder is read-only keeps nothing."""
    path = path_for(engine.url)
    if path is None or kept_for is None or not path.parent.is_dir():
        return
    try:
        with open(path, encoding="utf-8") as f:
            stored = json.load(f)
    except (OSError, ValueError):
        stored = None
    if not isinstance(stored, dict) or stored.get("format") != FORMAT or stored.get("state") != kept_for:
        stored = {"format": FORMAT, "state": kept_for, "entries": {}}
    stored.setdefault("entries", {})[name] = value
    try:
        fd, scratch = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(json.dumps(stored))  # one C-encoded string: half the time of json.dump's many small writes
        os.replace(scratch, path)
    except OSError:
        try:
            os.unlink(scratch)
        except (OSError, UnboundLocalError):
            pass


def frame_entry(frame) -> dict:
    """A pandas frame (its columns, their types and its `attrs`) as plain JSON data for `write`."""
    return {"columns": {name: frame[name].tolist() for name in frame.columns},
            "dtypes": {name: str(dtype) for name, dtype in frame.dtypes.items()}, "attrs": frame.attrs}


def entry_frame(entry):
    """The frame `frame_entry` kept (None for anything else, such as an entry from another release)."""
    import pandas as pd

    try:
        frame = pd.DataFrame(entry["columns"]).astype(entry["dtypes"])
        frame.attrs.update(entry["attrs"])
    except (KeyError, TypeError, ValueError):
        return None
    return frame


def load_and_fit(ledger, level: float = 0.9, claim_texts: bool | str = True, keep_reports: bool = True):
    """The store's evidence (`load_evidence`'s `claim_texts`) and `forecast.fit` of it, reusing the
    parameters kept for the store's state (read first: a write meanwhile only makes the next call
    refit) and keeping them when they had to be fitted; unless `keep_reports`, the evidence's
    reports and topics are let go during the fit (see `forecast.fit`)."""
    from tracker.evidence import load_evidence

    kept_for = state(ledger.engine)
    evidence = load_evidence(ledger.engine, claim_texts=claim_texts)
    return evidence, fitted_model(ledger.engine, kept_for, evidence, level, keep_reports)


def fitted_model(engine, kept_for: list | None, evidence, level: float = 0.9, keep_reports: bool = True):
    """`forecast.fit` of `evidence`, read from the store in `kept_for` (`state`, read before it, or
    None) or after it, with the parameters kept for that state of the store when there are any."""
    from tracker import forecast

    name = f"model@{level:g}"
    kept = read(engine, kept_for, name)
    model = forecast.fit(evidence, level, fitted=kept, keep_reports=keep_reports)
    if not model.reused:
        write(engine, kept_for, name, model.fitted)
    return model
