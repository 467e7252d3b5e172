"""The dashboard's state shared across reruns: the one ledger per process, and cached scores.

The ledger (engine) lives in `st.cache_resource`. Scores, predictions and calibration are cached
with `st.cache_data` under the store's `fingerprint` (its URL and revision, which every write
transaction raises: one cheap query per rerun), so a rerun that changed nothing recomputes nothing
and any write, from this dashboard or the command line, shows up at once. The pages' counts and
the review queue, which also depend on the time (claims fall overdue), are cached under the
fingerprint and the minute. The sources' scores, the fitted model's parameters and the Overview's
calibration glance are also kept beside a SQLite store for its state (`tracker.fitcache`), so a
restarted server neither scores nor fits again a store that has not changed: its first Overview
then reads no whole-store frames at all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from tracker import fitcache, forecast, queries, scoring
from tracker.evidence import Evidence, load_evidence
from tracker.ledger import Ledger

if TYPE_CHECKING:  # the self-assessment loads SciPy's optimisers (about 0.4 s): only where a page scores itself
    from tracker import selfscore

# seconds: cached entries also expire (the fingerprint already sees every write), so that a server
# left running lets go of the frames of states it no longer shows
CACHE_TTL = 600


@st.cache_resource
def ledger() -> Ledger:
    """The ledger over the configured store, opened (and migrated) once per server process."""
    return Ledger.open()


# -- cached reads --------------------------------------------------------------------------
def fingerprint() -> tuple:
    """The store's current fingerprint: the key of every cached score (see `queries.fingerprint`)."""
    return queries.fingerprint(ledger())


def minute():
    """The store's clock now, to the minute: the time key of the cached counts and queue below, so a
    claim that falls overdue with time alone shows as overdue within a minute (a write, at once)."""
    return ledger().clock().replace(second=0, microsecond=0)


@st.cache_data(max_entries=32, ttl=CACHE_TTL, show_spinner=False)
def counts(fp: tuple, now) -> dict[str, int]:
    """`queries.overview_counts` at `now` (see `minute`), read once per store state and minute."""
    return queries.overview_counts(ledger(), now=now)


@st.cache_data(max_entries=16, ttl=CACHE_TTL, show_spinner=False)
def topics(fp: tuple) -> list[tuple[str, int]]:
    """`queries.topics`, read once per store state: the Claims and Sources pages ask on every rerun
    (1.1 s on SQLite at two million claims)."""
    return queries.topics(ledger())


@st.cache_data(max_entries=64, ttl=CACHE_TTL, show_spinner=False)
def review_queue(fp: tuple, now, offset: int = 0, limit: int = 25) -> queries.Page:
    """One page of `queries.review_queue` at `now` (see `minute`), read once per store state and minute."""
    return queries.review_queue(ledger(), offset=offset, limit=limit, now=now)


# Evidence frames can be large (every report in the store): held once, shared read-only by the
# cached functions below rather than copied into st.cache_data on every call.
@st.cache_resource(max_entries=1, ttl=CACHE_TTL, show_spinner=False)
def evidence(fp: tuple) -> Evidence:
    """Every source, claim, report and verdict as frames, read once per store state."""
    return load_evidence(ledger().engine)


@st.cache_resource(max_entries=8, ttl=CACHE_TTL, show_spinner=False)
def kept_for(fp: tuple) -> list | None:
    """The store's state (`fitcache.state`) that results computed for `fp` are kept beside it for;
    None when nothing is kept, or when the store was written after `fp` was read: what is read for
    `fp` is read after `fp`, so a result kept under this state is never older than the state."""
    state = fitcache.state(ledger().engine)
    return state if state is not None and state[0] == fp[1] else None


@st.cache_data(max_entries=32, ttl=CACHE_TTL, show_spinner=False)
def scores(fp: tuple, topic: str | None = None) -> pd.DataFrame:
    """Every source's reliability now (all claims, or those tagged `topic`), ranked; for all claims,
    kept beside the store for its state, so a restarted server scores an unchanged store only once.
    Summed by the database from the pairs it keeps (`scoring.score_sources_in_store`): no page
    needs the whole store read into memory for the scores."""
    if topic:
        return scoring.score_sources_in_store(ledger().engine, topic=topic)
    kept = fitcache.read(ledger().engine, kept_for(fp), "scores")
    table = None if kept is None else fitcache.entry_frame(kept)
    if table is None:
        table = scoring.score_sources_in_store(ledger().engine)
        fitcache.write(ledger().engine, kept_for(fp), "scores", fitcache.frame_entry(table))
    return table


@st.cache_resource(max_entries=1, ttl=CACHE_TTL, show_spinner=False)
def model(fp: tuple) -> forecast.Model:
    """The forecasting model fitted to the store as it is (refitted when the store changes; the
    parameters are kept beside a SQLite store for its state, so a restarted server reuses them)."""
    return fitcache.fitted_model(ledger().engine, kept_for(fp), evidence(fp))


@st.cache_data(max_entries=64, ttl=CACHE_TTL, show_spinner=False)
def prediction(fp: tuple, claim_ids: tuple[int, ...]) -> pd.DataFrame:
    """p_true and credibility of these claims (open: now; resolved: what the tracker said before
    the verdict), without the sentences (`explanation` has them, for one claim)."""
    if not claim_ids:
        return pd.DataFrame(columns=["claim_id", "p_true", "credibility"])
    return forecast.predict(evidence(fp), claim_ids=list(claim_ids), model=model(fp), explain=False)


@st.cache_data(max_entries=64, ttl=CACHE_TTL, show_spinner=False)
def explanation(fp: tuple, claim_id: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """One claim's forecast, where its prior comes from and what drives it (in words), and its
    p_true timeline: (prediction, priors, drivers, timeline)."""
    out = forecast.predict(evidence(fp), claim_ids=[claim_id], model=model(fp))
    line = forecast.timeline(evidence(fp), claim_id, model=model(fp))
    return out, out.attrs.get("priors", pd.DataFrame()), out.attrs.get("drivers", pd.DataFrame()), line


@st.cache_data(max_entries=16, ttl=CACHE_TTL, show_spinner=False)
def calibration(fp: tuple, bins: int = 10) -> selfscore.Assessment | None:
    """How the at-report-time predictions held up beside the baselines; None without claims."""
    from tracker import selfscore

    found = evidence(fp)
    if found.claims.empty:
        return None
    result = selfscore.assess(found, model(fp), bins=bins)
    glance(fp)  # the Overview's figures, from the history just computed
    return result


# the Overview computes its calibration glance inline up to this many resolved claims (a fraction
# of a second); on a larger store it waits for a click, or for the Calibration page, to compute it
GLANCE_INLINE = 5_000


@st.cache_resource(show_spinner=False)
def _glances() -> dict:
    """Calibration glances computed by this server process, by fingerprint."""
    return {}


def glance_kept(fp: tuple) -> dict | None:
    """The calibration glance (`selfscore.glance`) if this process or an earlier one (the file kept
    beside a SQLite store, `tracker.fitcache`) computed it for this store state; else None."""
    if fp not in _glances():
        kept = fitcache.read(ledger().engine, kept_for(fp), "glance")
        if kept is None:
            return None
        _keep_glance(fp, kept)
    return _glances()[fp]


def _keep_glance(fp: tuple, value: dict) -> None:
    """Remember a glance for this store state (only the latest few states: each write makes a new one)."""
    kept = _glances()
    while len(kept) >= 16:
        kept.pop(next(iter(kept)))
    kept[fp] = value


def glance(fp: tuple) -> dict:
    """The calibration glance for this store state, computed (and kept) when not yet known."""
    kept = glance_kept(fp)
    if kept is None:
        from tracker import selfscore

        kept = selfscore.glance(model(fp))
        _keep_glance(fp, kept)
        fitcache.write(ledger().engine, kept_for(fp), "glance", kept)
    return kept


@st.cache_data(max_entries=64, ttl=CACHE_TTL, show_spinner=False)
def reliability_series(fp: tuple, source_id: int) -> pd.DataFrame:
    """One source's reliability as it stood each time its record changed."""
    times = queries.source_settle_times(ledger(), source_id)
    if not times:
        return pd.DataFrame()
    return scoring.reliability_over_time(evidence(fp), times, source_ids=[source_id])


@st.cache_data(max_entries=64, ttl=CACHE_TTL, show_spinner=False)
def similar(fp: tuple, statement: str, limit: int = 5) -> pd.DataFrame:
    """Claims already logged that look like `statement` (at most `limit`, most similar first)."""
    return queries.similar_claims(ledger(), statement, limit=limit)
