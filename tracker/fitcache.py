"""The forecasting model's fitted parameters, kept beside a SQLite store for its current state.

Fitting reads the whole record (a few seconds at a million reports), and its result depends only
on what the store holds, which every write changes along with the store's revision
(`Ledger.revision`). So a command or a dashboard page that finds the parameters fitted at the
store's current state (its revision, and the sizes and newest times of what it holds, which tell
apart two stores at one revision, say after restoring a backup) reuses them instead of fitting
again; any write, from any process, makes the next one refit. The parameters live in a small
JSON file beside the store (`STORE-fits.json`), so they outlive the process: the next `tracker predict`, `tracker calibration` or a restarted
dashboard pays the fit only when something changed. A store that is not a file (PostgreSQL, an
in-memory SQLite) keeps nothing, and a file that cannot be read or written is ignored: the model
is then fitted as if there were none.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

FORMAT = 4  # raised when what the file holds (or what the model fits) changes meaning
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


def state(revision: int, evidence) -> list:
    """What the kept entries are valid for: the store's revision and a signature of its evidence."""
    def newest(times) -> str | None:
        return None if times.empty or times.isna().all() else times.max().isoformat()

    return [int(revision), len(evidence.sources), len(evidence.claims), len(evidence.reports),
            len(evidence.outcomes), len(evidence.topics), newest(evidence.reports["reported_at"]),
            newest(evidence.outcomes["decided_at"])]


def read(engine, kept_for: list, name: str):
    """The entry `name` stored for this state of the store (`state`), or None."""
    path = path_for(engine.url)
    if path is None:
        return None
    try:
        with open(path, encoding="utf-8") as f:
            stored = json.load(f)
    except (OSError, ValueError):
        return None
    if not isinstance(stored, dict) or stored.get("format") != FORMAT or stored.get("state") != kept_for:
        return None
    return stored.get("entries", {}).get(name)


def write(engine, kept_for: list, name: str, value) -> None:
    """Keep `value` (plain JSON data) as the entry `name` for this state of the store (`state`);
    entries of another state are dropped. Written atomically; a store whose folder is read-only keeps nothing."""
    path = path_for(engine.url)
    if path is None or not path.parent.is_dir():
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
            json.dump(stored, f)
        os.replace(scratch, path)
    except OSError:
        try:
            os.unlink(scratch)
        except (OSError, UnboundLocalError):
            pass


def load_and_fit(ledger, level: float = 0.9):
    """The store's evidence and `forecast.fit` of it, reusing the parameters kept for the store's
    revision (read first: a write meanwhile only makes the next call refit) and keeping them when
    they had to be fitted."""
    from tracker.evidence import load_evidence

    revision = ledger.revision()
    evidence = load_evidence(ledger.engine)
    return evidence, fitted_model(ledger.engine, revision, evidence, level)


def fitted_model(engine, revision: int, evidence, level: float = 0.9):
    """`forecast.fit` of `evidence`, read from the store at `revision` (or after it), with the
    parameters kept for that state of the store when there are any."""
    from tracker import forecast

    name, kept_for = f"model@{level:g}", state(revision, evidence)
    kept = read(engine, kept_for, name)
    model = forecast.fit(evidence, level, fitted=kept)
    if not model.reused:
        write(engine, kept_for, name, model.fitted)
    return model
