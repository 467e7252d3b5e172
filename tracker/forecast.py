"""The likelihood that a claim is true: a stated model, fitted from the store's own record.

**The model.** Each claim is true or false. Its prior comes from its topics: every topic has a
truth rate drawn around the topics' mean (each topic counted once, beside one pseudo-topic at 0.5),
and a topic's rate is its record shrunk toward that mean by `topic_strength` pseudo-claims; a claim
with several topics takes the mean of their log-odds, an untagged claim belongs to the pseudo-topic
"(untagged)". When a source speaks on a claim it takes one of three stances (confirmed, rumoured,
denied), and each source has an *accuracy per stance*: how often a claim it confirmed (rumoured,
denied) turned out true, or false for a denial. These accuracies are drawn hierarchically: a
source's from its parent's group (the parent and its children), the group's from the source's kind,
the kind's from the store's, the store's from the truth rate of every stance on record. Each step
is a Beta shrinkage by a number of pseudo-claims: `group_strength` for store, kind and group;
`source_strength` for what a source asserted (confirmations and rumours together) or denied;
`stance_strength` from what it asserted to how it confirmed or rumoured. A source's skill is one
thing seen from two sides: before its own record of a direction counts, the group's accuracy is
tilted by how much better (or worse) than its group the source was in the *other* direction, in
log-odds, times `skill_transfer` (a source whose denials held up is trusted more when it asserts,
and the other way round). Independent origins speak independently given the truth (relays
collapse into their origin), so

    logit p_true = prior_weight * logit(prior) + sum over origins of w[stance] * log LR,
    log LR = logit(accuracy of that origin's stance) - logit(truth rate of all stances on record),

the log-likelihood ratio P(stance | true) / P(stance | false) written with the accuracies. With no
record anywhere an LR is 1; a source that takes a stance on true and false claims alike moves
nothing, whatever its share of true claims. The weights `w[confirmed]`, `w[rumoured]`, `w[denied]`
say how much each kind of stance counts (how much a rumour counts next to a confirmation is learned,
not set), `prior_weight` how much the topic prior does; all four lie between 0 and 1, so the fit can
discount what the record says (sources that copy each other, a prior that misled) but never
amplify it.

**Learned, not hand-set.** The four strengths, the skill transfer and four weights are fitted by maximising the
likelihood of the tracker's own at-report-time forecasts of resolved claims (each built only from
outcomes known before the claim was first reported), with a weak pull toward the defaults
(`DEFAULTS`), by L-BFGS-B with the gradient carried along the shrinkage chain (`_Dual`,
`_log_odds_and_slopes`). The fit is the self-correction: when past forecasts leaned too far (a misleading
topic prior, over-counted rumours), the weights shrink and the forecasts move back toward 0.5.
Below `MIN_FIT_CLAIMS` resolved claims the defaults apply. The chronological forecasts never look
ahead: the parameters a claim is forecast with were fitted at the last checkpoint before its first
report (checkpoints from 30 resolved claims to all of them, `MAX_CHECKPOINTS` steps spaced evenly
in the log of the resolved count, each at least `GROWTH` times the last) on the latest
`REFIT_SAMPLE` claims resolved by then; current forecasts use a fit on the latest `FIT_SAMPLE`
resolved claims. Each fit also tries a recency half-life (a third and a tenth of the span of the
verdicts on record *then*, so a later verdict never changes what an earlier refit tried), kept
only when it passes a likelihood-ratio test against none (`HALF_LIFE_NATS`); a half-life whose
records, at the parameters fitted without it, fall short of that test by more than `SCREEN_NATS`
per claim is not fitted at all. Each fit reads only its own sample's first-report records; every
claim's first-report forecast (`history`) is computed when something asks for it. A fit depends only on what the store holds, so callers
that know the store's revision keep it (`Model.fitted`, `tracker.fitcache`) and pass it back.

**Direction.** A stance never pushes against its own direction (a denial raising `p_true`, a
confirmation lowering it) unless the record shows, with the interval's confidence (90%), that this
source (or, without a record of that stance, its parent's group, then its kind) is more often wrong
than right when taking that stance: the upper end of the Jeffreys interval of its share of right
calls is below one half. Otherwise that vote's term is 0.

**No hindsight.** A forecast only ever uses outcomes known strictly before the time it is made and
before the claim's own first verdict. A resolved claim is shown with what the tracker said before
its verdict (`predict`), at its first report (`predict_at_report_time`), and as each report
arrived (`timeline`), never with a value computed after the fact.

**The replay.** Verdicts (and the revisions that replace them) are events on a time line. Each
event changes per-entity running sums of right and wrong calls per stance (source, parent group,
kind, store) and of true and resolved claims per topic. Every forecast reads those sums as they
stood before its time (`_RunningSums.before`), so one claim's forecast is computed from what the
tracker had seen then. The walk is done in bulk rather than a loop: the events are put in time
order once, each level sorts them by entity (then time) and sums them along that order, and a
forecast's "before" is a difference of two of those prefix sums found by binary search. An open
claim's forecast reads the sums after the last event, a resolved claim's the sums before its own
first verdict.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache, partial

import numpy as np
import pandas as pd

from tracker.evidence import Evidence
from tracker.scoring import (
    _as_timestamp,
    _claim_refs,
    _pair_codes,
    _sigmoid,
    _sortable,
    _stance_order,
    _credibility_levels,
    verdict_values,
    verdicts_as_of,
)

STANCES = ("confirmed", "rumoured", "denied")  # column order of the confusion counts
ASSERTING = np.array([True, True, False])
UNTAGGED = "(untagged)"
MIN_FIT_CLAIMS = 30
FIT_SAMPLE = 5_000  # the fit reads at most this many of the latest resolved claims
REFIT_SAMPLE = 2_000  # a chronological refit reads at most this many (nine parameters need no more)
MAX_CHECKPOINTS = 16  # steps between the chronological refits, spaced evenly in log(resolved claims)
# a half-life is kept when it raises the fit's log-likelihood by this much (chi-squared, 1 degree
# of freedom, 95%: 3.84 / 2)
HALF_LIFE_NATS = 1.92
# a half-life whose records, at the parameters fitted without it, explain the outcomes worse than
# the test's bar by more than this (nats per claim) is not fitted: refitting gains less than that
SCREEN_NATS = 0.01
# L-BFGS-B stops once a step lowers the penalised log loss by less than this share of it (at a loss
# near 0.5 nats a claim: 0.001 nats over a refit's 2,000 claims, far below the half-life test's bar)
FIT_FTOL = 1e-6
GROWTH = 1.25  # the checkpoints are at least this far apart (a factor in resolved claims)
# decayed records are summed in blocks of stances at most this many half-lives apart, reading the
# events within this many half-lives of the block (older ones weigh under 2 ** -64 each)
DECAY_BLOCK, DECAY_REACH = 8.0, 64.0
# a claim's p_true line is computed at most at this many of its report times (a chart's worth):
# each point reads every report of the claim before it, so one per report is quadratic
TIMELINE_POINTS = 60
# open claims are forecast this many at a time (`_forecast_in_blocks`): a block's features (a few
# hundred bytes per vote) are let go before the next, rather than 600,000 claims' at once
FORECAST_BLOCK = 1 << 16
CREDIT_BLOCK = 1 << 18  # revisions whose credit rows the replay works out at a time (`_credit_rows`)
LEVELS = ("source", "group", "kind", "store")
_EPS = 1e-6


@dataclass(frozen=True)
class Params:
    """The model's strengths and weights (defaults until the record is large enough to fit)."""

    # the defaults are what the fit gives on a typical store: the median, rounded, of the fits of
    # held-out stores (seeds 11-13 of every synthetic world type at 2,000 claims and the PHEME
    # rumours at three lags; benchmarks/README.md, "Defaults from held-out fits")
    source_strength: float = 6.0
    stance_strength: float = 7.0
    group_strength: float = 5.0
    topic_strength: float = 12.0
    prior_weight: float = 0.75
    weight_confirmed: float = 0.9
    weight_rumoured: float = 0.85
    weight_denied: float = 0.85
    skill_transfer: float = 1.0  # how far a source's skill in one direction carries to the other
    half_life_days: float | None = None  # records weighted by closeness in time to the stance (None: all alike)
    fitted_on: int = 0  # resolved claims the fit rests on (0: defaults)
    fit_loss: float = float("nan")  # the fit's penalised log loss per claim
    level: float = 0.9  # confidence of the direction rule

    @property
    def weights(self) -> np.ndarray:
        """The stance weights in `STANCES` order."""
        return np.array([self.weight_confirmed, self.weight_rumoured, self.weight_denied])

    def as_dict(self) -> dict:
        """The parameters as plain numbers (for JSON and display)."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


DEFAULTS = Params()
_FREE = ("source_strength", "stance_strength", "group_strength", "topic_strength", "prior_weight",
         "weight_confirmed", "weight_rumoured", "weight_denied", "skill_transfer")
_LOG_SCALED = {"source_strength", "stance_strength", "group_strength", "topic_strength"}
_BOUNDS = {"source_strength": (0.25, 500.0), "stance_strength": (0.25, 500.0), "group_strength": (0.25, 500.0), "topic_strength": (0.5, 2000.0),
           "prior_weight": (0.0, 1.0), "weight_confirmed": (0.0, 1.0), "weight_rumoured": (0.0, 1.0),
           "weight_denied": (0.0, 1.0), "skill_transfer": (0.0, 2.0)}
_PULL = 2.0  # the weak pull toward the defaults, in claims' worth of log loss
_PULL_SCALE = np.array([1.0 if name in _LOG_SCALED else 0.5 for name in _FREE])  # per parameter


_NAT = np.iinfo(np.int64).min


def _ns(times) -> np.ndarray:
    """UTC times as int64 nanoseconds (NaT: the int64 minimum), without building Timestamps."""
    return pd.DatetimeIndex(pd.to_datetime(times, utc=True)).as_unit("ns").asi8


def _logit(p):
    p = np.clip(p, _EPS, 1 - _EPS)
    return np.log(p) - np.log1p(-p)


# -- the walk over time ----------------------------------------------------------------------
def _search(keys: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """`np.searchsorted(keys, wanted, side="left")`, the wanted values looked up in sorted order
    (several times faster on large arrays: each lookup starts near the last one)."""
    order = np.argsort(wanted)
    out = np.empty(len(wanted), dtype=np.int64)
    out[order] = np.searchsorted(keys, wanted[order], side="left")
    return out


def _ascending(values: np.ndarray) -> bool:
    """Whether the values never fall from one to the next."""
    return bool(np.greater_equal(values[1:], values[:-1]).all())


def _stable_order(values: np.ndarray) -> np.ndarray:
    """`np.argsort(values, kind="stable")` of integers; for values in [0, 2 ** 32), the same order
    by two radix sorts of 16 bits each (NumPy radix-sorts 16-bit integers only, and several times
    faster than it merges 64-bit ones)."""
    if not len(values) or values.min() < 0 or values.max() >= 2**32 or _ascending(values):
        return np.argsort(values, kind="stable")  # (in order already: one pass)
    low = np.argsort((values & 0xFFFF).astype(np.uint16), kind="stable")
    return low[np.argsort((values[low] >> 16).astype(np.uint16), kind="stable")]


def _by_entity_then_step(entity: np.ndarray, step: np.ndarray, width: int) -> np.ndarray:
    """The order sorting events by entity, then step (events already in step order, as the walk
    makes them, need only a radix sort by a small entity code)."""
    if len(step) and entity.min() >= -1 and entity.max() < 2**16 - 1 and _ascending(step):
        return np.argsort((entity + 1).astype(np.uint16), kind="stable")
    return np.argsort(entity.astype(np.int64) * width + step, kind="stable")


def _in_key_order(entity: np.ndarray, step: np.ndarray) -> bool:
    """Whether events are sorted by entity, then step (as their keys entity * width + step are,
    every step below the width), tested without making the keys."""
    if len(entity) < 2:
        return True
    later, earlier = entity[1:], entity[:-1]
    return bool(((later > earlier) | (later == earlier) & (step[1:] >= step[:-1])).all())


def _last_of_runs(new: np.ndarray) -> np.ndarray:
    """The place of the last of each run of values (`new` marks where each starts), as `_narrow`
    of `np.flatnonzero` gives them: picked from int32 numbers where they fit (no int64 copy)."""
    ends = np.empty(len(new), dtype=bool)
    if len(new):
        ends[:-1] = new[1:]
        ends[-1] = True
    if len(new) < 2**31:
        return np.arange(len(new), dtype=np.int32)[ends]
    return _narrow(np.flatnonzero(ends))


def _run_starts(values: np.ndarray) -> np.ndarray:
    """Whether each value differs from the one before it (the first: True), without the copy
    `np.r_` makes."""
    new = np.empty(len(values), dtype=bool)
    if len(values):
        new[0] = True
        np.not_equal(values[1:], values[:-1], out=new[1:])
    return new


_HALVES_BLOCK = 1 << 16  # amounts tested at a time (`_whole_halves`)


def _whole_halves(amounts: np.ndarray) -> bool:
    """Whether every amount is a half or whole number and the absolute amounts, doubled, sum to
    below 2 ** 30: then any running sum of them, in halves, is a whole number an int32 holds and
    a float64 sums exactly (tested a block at a time: no temporary of the amounts' size)."""
    flat = amounts.ravel()
    total = 0.0
    for lo in range(0, len(flat), _HALVES_BLOCK):
        doubled = flat[lo:lo + _HALVES_BLOCK] * 2.0
        if not np.array_equal(doubled, np.trunc(doubled)):  # (a NaN or an infinity fails too)
            return False
        total += float(np.abs(doubled).sum())
        if total >= 2**30:
            return False
    return True


_SUM_BLOCK = 1 << 18  # events summed at a time (`_halves_in_blocks`): own sums of at most 12 MB


def _halves_in_blocks(new: np.ndarray, order: np.ndarray | None, amounts: np.ndarray, columns: np.ndarray,
                      rows: int, dims: int) -> np.ndarray:
    """The running sums (row i: the sums before row i), as int32 numbers of halves, of events of
    half or whole amounts (`_whole_halves`) that `columns` place: `new` marks the events (in the
    order `order` sorts them) that start a row. Summed a block of events at a time in that order,
    so the only array of the sums' size made is the result: no float64 own sums (260 MB for the
    source level at ten million reports), no index of every event. Exact in any order: every
    partial sum is a whole number of halves below 2 ** 30."""
    row = np.cumsum(new, dtype=np.int32 if rows < 2**31 else np.int64)  # each event's row, plus 1
    halves = np.zeros((rows + 1, dims), np.int32)
    flat = halves.ravel()
    for lo in range(0, len(row), _SUM_BLOCK):
        hi = min(lo + _SUM_BLOCK, len(row))
        if order is None:
            block, weights = columns[lo:hi], amounts[lo:hi]
        else:  # (np.take: gathered several times faster than by indexing)
            block, weights = np.take(columns, order[lo:hi], axis=0), np.take(amounts, order[lo:hi], axis=0)
        first, past = int(row[lo]), int(row[hi - 1]) + 1  # the block's rows (a row may span two blocks)
        index = (row[lo:hi] - first).astype(np.intp)[:, None] * dims + block
        own = np.bincount(index.ravel(), weights=weights.ravel(), minlength=(past - first) * dims)
        own *= 2.0  # exact: a power of two
        flat[first * dims:past * dims] += own.astype(np.int32)
    return np.cumsum(halves, axis=0, dtype=np.int32, out=halves)  # (in place: no cast copy)


_COMPARE_ROWS = 1 << 16  # rows of running sums compared at a time (`_RunningSums`)


class _RunningSums:
    """Per-entity running sums of event vectors, readable as they stood before any step.

    The events are sorted by entity, then step, and summed along that order once: an entity's sum
    before a step is the prefix sum there less the prefix sum where the entity's events start. The
    plain counts are sums of halves and whole numbers, so that difference is exact; the weighted
    sums of `decayed_before` hold weights of at most 1 that are scaled up by at most
    2 ** DECAY_BLOCK, so their rounding stays far below a claim's worth for any half-life.
    """

    def __init__(self, entity: np.ndarray, step: np.ndarray, amounts: np.ndarray, n_steps: int,
                 columns: np.ndarray | None = None, dims: int | None = None) -> None:
        """Events (entity, step) with their vectors: `amounts` (events, dims); or, given `columns`
        (events, k), event i adds amounts[i, j] to column columns[i, j] of a vector of `dims`."""
        self.width = n_steps + 1
        self.dims = amounts.shape[1] if columns is None else dims
        order = None
        if not _in_key_order(entity, step):  # the store's events come in order already
            order = _by_entity_then_step(entity, step, self.width)
            entity, step = np.take(entity, order), np.take(step, order)
        # the keys made once, in order and in place: one array of the events' size rather than
        # four (each a fresh mmap the kernel zeroes, at ten million reports 44 MB)
        key = entity.astype(np.int64)
        key *= self.width
        key += step
        # one entity's events at one step act together: one row each (the store's level then holds
        # one row per verdict rather than one per credited report)
        new = _run_starts(key)
        last = _last_of_runs(new)
        self.key, self.step = key[last], step[last]
        # every array of one entry per event is let go as soon as it is read for the last time
        # (at ten million reports one is up to 56 MB, and the source level's float64 sums 260 MB)
        del key, step
        if columns is not None and _whole_halves(amounts):
            self.sums = _halves_in_blocks(new, order, amounts, columns, len(last), self.dims)
            del new, order
        elif columns is not None:
            # each row's own sums (row i + 1: a row of zeros first), then their running sums: the
            # counts are sums of halves and whole numbers, exact in any order, so the events need
            # not be gathered in order to be added (row numbers as int32 where they fit)
            row = np.cumsum(new, dtype=np.int32 if (len(last) + 1) * self.dims < 2**31 else np.int64)
            if order is not None:
                in_order, row = row, np.empty_like(row)
                row[order] = in_order
                del in_order
                order = None  # (read for the last time)
            np.multiply(row, self.dims, out=row)  # in place: one array of the events' size fewer at once
            index = np.add(row[:, None], columns, dtype=np.intp)  # (bincount reads intp: no copy)
            del row, new
            own = np.bincount(index.ravel(), weights=amounts.ravel(),
                              minlength=(len(last) + 1) * self.dims).astype(np.float64, copy=False)  # (no events: int)
            del index
            self.sums = own.reshape(len(last) + 1, self.dims)  # row i: the sums before row i
            del own
            np.cumsum(self.sums, axis=0, out=self.sums)
        else:
            self.sums = np.empty((len(last) + 1, self.dims))  # row i: the sums before row i
            self.sums[0] = 0.0
            # np.take rather than amounts[order]: the same rows, gathered several times faster;
            # summed in place
            if order is not None:
                summed = np.take(amounts, order, axis=0)
                np.cumsum(summed, axis=0, out=summed)
            else:
                summed = np.cumsum(amounts, axis=0)
            np.take(summed, last, axis=0, out=self.sums[1:])
            del summed, new, order
        self.halves = self.sums.dtype == np.int32  # (summed as halves already: `_halves_in_blocks`)
        if not self.halves:
            self._as_halves()
        self.step = self.step.astype(np.int32, copy=False) if self.width < 2**31 else self.step
        self.entity_start = self._entity_starts()
        self._columns: list | None = None  # see `_by_column`, once decay asks for it
        self._bounds: tuple | None = None  # see `_bounds_of`
        self._whole: tuple | None = None  # see `_in_order`

    def _as_halves(self) -> None:
        """Float64 sums as int32 numbers of halves when each is a half or whole number in range."""
        # counts of halves and whole calls (every level's, every topic's) are kept as int32 numbers
        # of halves: a third of the float64s' memory (the sums are exact either way, and so is
        # every difference read from them)
        self.sums *= 2.0  # exact: a power of two
        # tested without a float64 temporary of the sums' size (np.abs, np.round: 260 MB each for
        # the source level at ten million reports): in range, then the int32s equal to the floats
        # (truncation changes any number that is not whole; a NaN fails the range)
        self.halves = bool(self.sums.max() < 2**30 and self.sums.min() > -2**30)
        if self.halves:
            halves = self.sums.astype(np.int32)
            # compared a block of rows at a time: no array of booleans of the sums' size either
            self.halves = all(np.array_equal(halves[lo:lo + _COMPARE_ROWS], self.sums[lo:lo + _COMPARE_ROWS])
                              for lo in range(0, len(halves), _COMPARE_ROWS))
            if self.halves:
                self.sums = halves
            del halves
        if not self.halves:
            self.sums *= 0.5

    def _entity_starts(self) -> np.ndarray:
        """Per row, the row where its entity's rows start (int32 where the rows fit)."""
        rows = len(self.key)
        if not rows:
            return np.zeros(0, np.int32)
        # the rows' entities as int32 where they fit, divided without an int64 copy
        low, high = int(self.key[0]) // self.width, int(self.key[-1]) // self.width
        small = -(2**31) <= low and high < 2**31
        entity = np.floor_divide(self.key, self.width, out=np.empty(rows, np.int32 if small else np.int64),
                                 casting="unsafe")
        new = _run_starts(entity)
        del entity
        # each row's number where an entity starts, else 0: their running maximum, in place
        start = np.arange(rows, dtype=np.int32 if rows < 2**31 else np.int64)
        start[~new] = 0
        return np.maximum.accumulate(start, out=start)

    def _difference(self, later: np.ndarray, earlier: np.ndarray) -> np.ndarray:
        """The sums at rows `later` less those at rows `earlier`, as float64."""
        out = np.take(self.sums, later, axis=0) - np.take(self.sums, earlier, axis=0)
        return out * 0.5 if self.halves else out

    def _locate(self, entity: np.ndarray, step: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per query: the first row at or past (entity, step), and where the entity's rows start
        (that same row when the entity has none before it)."""
        at = _search(self.key, entity.astype(np.int64) * self.width + step)
        prior = np.maximum(at - 1, 0)
        own = (at > 0) & (self.key[prior] // self.width == entity)
        return at, np.where(own, self.entity_start[prior], at)

    def before(self, entity: np.ndarray, seen: np.ndarray) -> np.ndarray:
        """The sums of each entity's events at steps below `seen` (zeros when there are none)."""
        if not len(self.key):
            return np.zeros((len(entity), self.dims))
        low, high = (int(entity.min()), int(entity.max())) if len(entity) else (0, -1)
        if len(entity) > 1024 and high - low < len(entity) and (seen == seen[0]).all():
            # every query at one step (open claims now): each entity's sums worked out once, then
            # gathered per query (the same numbers as a difference per query, for one take of
            # float64 rows instead of two takes of int32 rows and a subtraction per query)
            at, start = self._locate(np.arange(low, high + 1), np.full(high - low + 1, seen[0]))
            return np.take(self._difference(at, start), entity - low, axis=0)
        at, start = self._locate(entity, seen)
        return self._difference(at, start)

    def decayed_before(self, entity: np.ndarray, seen: np.ndarray, split: np.ndarray, t_ref: np.ndarray,
                       half_life: float, step_days: np.ndarray) -> np.ndarray:
        """As `before`, each event weighted by 2 ** (-|its time - t_ref| / half_life): the record as
        it bears on a stance taken at `t_ref` (events at steps below `split` came before it).

        The stances are taken in blocks spanning at most `DECAY_BLOCK` half-lives; each block sums
        its events weighted against its own anchor (its latest stance for the events before, its
        earliest for those after), so no weight exceeds 1 and none is scaled up by more than
        2 ** DECAY_BLOCK, whatever the record's span. Events more than `DECAY_REACH` half-lives
        from a block are left out (they weigh less than 2 ** -DECAY_REACH each)."""
        out = np.zeros((len(entity), self.dims))
        if not len(self.key) or not len(entity):
            return out
        self._by_column(step_days)
        lower = np.minimum(split, seen)
        after = seen > lower  # some events came between the stance and the cut-off
        # each stance's bounds (its entity's first row, the rows at `lower` and at `seen`) among
        # each column's rows, and the stances in time order: none depends on the half-life, so the
        # second half-life's try reads the first's (`_bounds_of`)
        rows, places, order = self._bounds_of(entity, lower, seen, t_ref)
        n = len(entity)
        times = t_ref[order]
        edges = [0]
        while edges[-1] < len(times):  # greedy blocks: each starts at its first stance
            edges.append(int(np.searchsorted(times, times[edges[-1]] + DECAY_BLOCK * half_life, side="right")))
        for lo, hi in zip(edges[:-1], edges[1:]):
            pick = order[lo:hi]
            latest, earliest = float(times[hi - 1]), float(times[lo])
            # before the stance: weights 2 ** ((t - latest) / h), events up to the latest stance
            out[pick] = self._window_sums(*self._in_order(rows, places, np.concatenate([pick, pick + n]), hi - lo == n),
                                          latest - DECAY_REACH * half_life, latest, latest, half_life) \
                * np.exp2((latest - t_ref[pick]) / half_life)[:, None]
            later = pick[after[pick]]
            if len(later):  # after it: weights 2 ** ((earliest - t) / h), events from the earliest stance on
                out[later] += (self._window_sums(*self._in_order(rows, places, np.concatenate([later + n, later + 2 * n])),
                                                 earliest, earliest + (DECAY_BLOCK + DECAY_REACH) * half_life,
                                                 earliest, -half_life)
                               * np.exp2((t_ref[later] - earliest) / half_life)[:, None])
        return out

    def _bounds_of(self, entity: np.ndarray, lower: np.ndarray, seen: np.ndarray,
                   t_ref: np.ndarray) -> tuple[np.ndarray, list, np.ndarray]:
        """Each stance's three bounds (its entity's first row, the first row at or past `lower`,
        the first at or past `seen`) as rows of the level, all the first bounds, then the second,
        then the third; per column, their places among its rows; and the stances' order in time.
        Kept for the next call: the fit tries two half-lives on the same stances in turn, and the
        searches (a third of a try's cost at a million reports) are the same for both."""
        kept = self._bounds
        if kept is not None and all(np.array_equal(a, b) for a, b in zip(kept[0], (entity, lower, seen, t_ref))):
            return kept[1:]
        # the rows at `lower` searched for; the entity's first row read from them (`entity_start`);
        # the rows at `seen` searched for only where they differ from those at `lower`
        base = entity.astype(np.int64) * self.width
        at = _search(self.key, base + lower)
        prior = np.maximum(at - 1, 0)
        own = (at > 0) & (self.key[prior] // self.width == entity)
        rows = np.concatenate([np.where(own, self.entity_start[prior], at), at, at])
        after = np.flatnonzero(seen > lower)
        rows[2 * len(entity) + after] = _search(self.key, base[after] + seen[after])
        # kept as int32 where the level's rows fit (held through the fit: at ten million reports
        # some 25,000 stances' bounds, three per stance, for each of six columns and three levels)
        small = np.int32 if len(self.key) < 2**31 else np.int64
        rows = rows.astype(small)
        places = [_rank(*ranks, rows).astype(small) for *_, ranks in self._columns]
        order = np.argsort(t_ref, kind="stable")
        self._bounds = ((entity.copy(), lower.copy(), seen.copy(), t_ref.copy()), rows, places, order)
        self._whole = None  # (`_in_order` of every stance's first two bounds, once asked for)
        return rows, places, order

    def _in_order(self, rows: np.ndarray, places: list, index: np.ndarray,
                  whole: bool = False) -> tuple[list, np.ndarray]:
        """Per column, the places of the bounds `index` (of `_bounds_of`'s) in the order of their
        rows, which is their order among every column's rows too; and that order: `_window_sums`
        looks them up in sorted order (several times faster). With `whole` (every stance's first
        two bounds, in time order), kept for the next half-life's try."""
        if whole and self._whole is not None:
            return self._whole
        by_bound = np.argsort(rows[index])
        in_order = index[by_bound]
        found = ([np.take(column, in_order) for column in places], by_bound)
        if whole:
            self._whole = found
        return found

    def _window_sums(self, in_order: list, by_bound: np.ndarray, since: float, until: float,
                     anchor: float, half_life: float) -> np.ndarray:
        """Per query, its entity's events between two bounds, each weighted 2 ** ((t - anchor) /
        half_life); only the events timed between `since` and `until` are read. `in_order[j]`:
        the bounds' places among column j's rows, sorted; `by_bound`: the order that sorted them
        (the queries' first bounds, then their last; see `_in_order`)."""
        n = len(by_bound) // 2
        out = np.empty((n, self.dims))
        # each step's weight (an event's time is its step's), 0 outside the window: the steps are
        # in time order, so the window is a run of them
        days = self._step_days
        lo, hi = int(np.searchsorted(days, since, side="left")), int(np.searchsorted(days, until, side="right"))
        weight = np.zeros(len(days))
        window = weight[lo:hi]  # filled in place: the same operations without two temporaries of its size
        np.exp2(np.divide(np.subtract(days[lo:hi], anchor, out=window), half_life, out=window), out=window)
        # one buffer for every column's running sums: a fresh one per column cost more in page
        # faults (a million rows: 8 MB) than the sum itself
        scratch = np.empty(max(len(step) for step, *_ in self._columns) + 1)
        at = np.empty(2 * n, dtype=np.int64)
        for j, (step, own, by_time, steps, _ranks) in enumerate(self._columns):
            sorted_places = in_order[j]  # (sorted: the last is the furthest)
            a, b = np.searchsorted(steps, np.asarray([lo, hi], steps.dtype), side="left")
            if b - a > len(steps) // 4:
                # most rows: every row, those outside the window weighted 0 (adding a zero to a
                # running sum leaves it as it was, so the sums at the rows inside are the same);
                # the rows past the last bound are never read
                top = int(sorted_places[-1])
                sums = scratch[:top + 1]
                # ("clip" clips nothing, every step being in the table, and gathers without the
                # copy of `out` that "raise" makes; the product is own * weight, commuted)
                np.take(weight, step[:top], out=sums[1:], mode="clip")
                np.multiply(sums[1:], own[:top], out=sums[1:])
            else:  # a few: only the rows inside, found in time order (those up to the last bound)
                inside = np.sort(by_time[a:b])
                sorted_places = self._sorted_places(inside, sorted_places)
                inside = inside[:int(sorted_places[-1])]
                sums = scratch[:len(inside) + 1]
                np.multiply(own[inside], weight[step[inside]], out=sums[1:])
            sums[0] = 0.0
            np.cumsum(sums[1:], out=sums[1:])
            at[by_bound] = sorted_places
            out[:, j] = sums[at[n:]] - sums[at[:n]]
        return out

    @staticmethod
    def _sorted_places(rows: np.ndarray, wanted: np.ndarray) -> np.ndarray:
        """`np.searchsorted(rows, wanted, side="left")` of sorted row numbers `wanted`, looked up
        as the rows' own type: given wider needles, numpy copies the whole of `rows` into their
        type on every search (a millisecond for a column of a million rows)."""
        return np.searchsorted(rows, wanted.astype(rows.dtype, copy=False), side="left")

    def _by_column(self, step_days: np.ndarray) -> None:
        """Per column of sums, the rows whose own sum there is not zero: their steps and own sums
        (as float32 where each is a half or whole number that it holds exactly), in the rows' order,
        then their places in time order, their steps in that order, and a bit per row of the level
        (a row finds its place among them by counting bits, `_rank`), once. A weighted running sum need
        not read the others: adding a zero changes no sum, and most rows move one or two of their
        six columns."""
        if self._columns is None:
            self._step_days = step_days
            self._columns = []
            for j in range(self.dims):  # a column at a time: the own sums of all six at once were 260 MB at 10M reports
                # the differences in the sums' own type (int32 halves), scaled only where not zero:
                # the same numbers without a float64 array of the level's rows (43 MB at 10M)
                own = np.diff(self.sums[:, j])
                moved = own != 0
                rows = _narrow(np.flatnonzero(moved))  # (through booleans: several times faster than of int32s)
                step = self.step[rows]
                own = own[rows] * (0.5 if self.halves else 1.0)  # exact: sums of halves and whole numbers
                narrow = own.astype(np.float32)
                if np.array_equal(narrow, own):  # (as counts of halves and whole calls are, below 2 ** 23)
                    own = narrow
                del narrow
                self._columns.append((step, own, *_time_order(step), _ranks(moved)))
                del own, rows, moved


def _ranks(flagged: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The table `_rank` counts flagged rows with: a bit per row in 64-bit words (a zero word past
    the end), and per word the flagged rows before it. A quarter of the memory of the flagged rows'
    numbers when a column moves at one row in four, and no binary search: the searches of those
    numbers, their misses in the cache, were most of the cost of a million reports' windows."""
    padded = np.zeros(((len(flagged) >> 6) + 1) * 64, dtype=bool)
    padded[:len(flagged)] = flagged
    words = np.packbits(padded, bitorder="little").view("<u8")
    before = np.zeros(len(words), dtype=np.int64)
    np.cumsum(_bits_set(words[:-1]), out=before[1:])  # (counted by words: six times faster than by bytes)
    return words, before


def _rank(words: np.ndarray, before: np.ndarray, row: np.ndarray) -> np.ndarray:
    """Per row number (0 to the rows' count), the flagged rows before it, by `_ranks`' table:
    `np.searchsorted` of the flagged rows' numbers, by counting bits."""
    word = row >> 6
    low = words[word] & ((np.uint64(1) << (row & 63).astype(np.uint64)) - np.uint64(1))  # the bits below the row's
    return before[word] + _bits_set(low)


def _bits_set(words: np.ndarray) -> np.ndarray:
    """The number of bits set in each 64-bit word (a population count by halves, quarters and
    bytes: NumPy's own, `bitwise_count`, is NumPy 2's only)."""
    m1, m2, m4 = np.uint64(0x5555555555555555), np.uint64(0x3333333333333333), np.uint64(0x0F0F0F0F0F0F0F0F)
    words = words - ((words >> np.uint64(1)) & m1)
    words = (words & m2) + ((words >> np.uint64(2)) & m2)
    words = (words + (words >> np.uint64(4))) & m4
    return ((words * np.uint64(0x0101010101010101)) >> np.uint64(56)).astype(np.int64)  # (the product wraps: its top byte is the sum)


def _time_order(step: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A column's rows in time order (ties in row order, as `_stable_order` puts them, as int32
    where they fit) and their steps in that order."""
    if len(step) < 2**31 and (not len(step) or (int(step.min()) >= 0 and int(step.max()) < 2**31)):
        # one sort of (step, row) packed in an int64 (a third of the time of two radix passes
        # and a gather; every key distinct, so the order is the stable one)
        if _ascending(step):  # (a level of one entity: its rows are in time order already)
            return np.arange(len(step), dtype=np.int32), step
        key = step.astype(np.int64)
        key <<= 32
        key |= np.arange(len(step), dtype=np.int64)
        key.sort()
        if np.little_endian:  # each key's two halves read straight from it: one pass each
            halves = key.view(np.int32)
            return halves[0::2].copy(), halves[1::2].astype(step.dtype)
        return (key & 0xFFFFFFFF).astype(np.int32), (key >> 32).astype(step.dtype)
    in_time = _narrow(_stable_order(step))
    return in_time, step[in_time]


class _ByClaim:
    """Rows of a frame sorted by claim once, so a forecast finds its claim's rows without a join."""

    def __init__(self, claims: np.ndarray) -> None:
        # each claim's rows in the frame's order (row numbers as int32 where they fit: ten million
        # reports' order is then 40 MB, not 80)
        self.order = _narrow(_stable_order(claims))
        # (rows in claim order already, as a store gives them: the claims themselves, not a gather)
        sorted_claims = claims if _ascending(claims) else np.take(claims, self.order)
        # each claim's first row and number of rows, found by claim id (in a dense table: binary
        # searches of a million rows in the claims' random order cost more than the rest of `of`)
        first = np.flatnonzero(_run_starts(sorted_claims))
        self._place = pd.Series(_narrow(np.arange(len(first))), index=sorted_claims[first])
        self._start, self._count = _narrow(np.r_[first, 0]), _narrow(np.r_[np.diff(np.r_[first, len(claims)]), 0])

    def of(self, claim_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The rows of these claims (each claim's in the frame's order, as a merge on claim_id
        gives them), and for each row the position of its claim in `claim_ids`."""
        place = _codes_of(self._place, claim_ids)  # -1, a claim without rows: the tables' last entry, 0 rows
        start, count = self._start[place], self._count[place]
        query = np.repeat(np.arange(len(claim_ids)), count)
        offset = np.arange(len(query)) - np.repeat(np.cumsum(count) - count, count)
        return self.order[np.repeat(start, count) + offset], query


_ORDER_BLOCK = 1 << 20  # rows whose time order is checked at a time (`_ReportsByClaim._in_time_order`)


class _ReportsByClaim(_ByClaim):
    """The reports, found by claim; and their columns as numbers (the stance as its place in
    `STANCES`), which the latest stances are picked from without handling a string."""

    def __init__(self, reports: pd.DataFrame, own_ids: bool = False) -> None:
        # the id columns are the frame's own (no copy when they are int64 already, as the store
        # gives them), or with `own_ids` (the frame is let go next) int32 copies where they fit:
        # half the memory, read back as int64 by `latest`; the stances as int8 codes
        claims = reports["claim_id"].to_numpy(dtype=np.int64)
        super().__init__(claims)
        self.when = _ns(reports["reported_at"])  # per row, as int64 nanoseconds
        ids = _narrow_ids if own_ids else (lambda values: values)
        self.claim = ids(claims)
        self.source = ids(reports["source_id"].to_numpy(dtype=np.int64))
        self.via = ids(reports["via_source_id"].to_numpy(dtype=np.int64))
        self.code = _stance_codes(reports["stance"])
        # each row's place in time order (missing times last, ties in the rows' order): the rows
        # `latest` is given keep that order within each key, so the rank orders them as time does
        same = claims[1:] == claims[:-1]
        if (claims[1:] >= claims[:-1]).all() and self._in_time_order(same):
            # reports in order of claim, then time (as a store gives them): a key's rows are one
            # claim's, so their row numbers order them as their ranks in time do (None: no table)
            self.rank = None
        else:
            when = np.where(self.when == _NAT, np.iinfo(np.int64).max, self.when)
            by_time = np.argsort(when, kind="stable")
            self.rank = np.empty(len(by_time), dtype=np.int64)
            self.rank[by_time] = np.arange(len(by_time))

    def _in_time_order(self, same: np.ndarray) -> bool:
        """Whether each run of rows `same` joins (one claim's) is in time order, missing times last."""
        when = self.when
        # a block of rows at a time: no copies of the times (80 MB each at ten million reports)
        for lo in range(0, len(same), _ORDER_BLOCK):
            joined = same[lo:lo + _ORDER_BLOCK]
            later, earlier = when[lo + 1:lo + 1 + len(joined)], when[lo:lo + len(joined)]
            # every pair tested, those of two claims passed: no masked copies of the times
            fine = np.greater_equal(later, earlier)
            fine &= earlier != _NAT
            fine |= later == _NAT
            fine |= ~joined
            if not fine.all():
                return False
        return True

    @cached_property
    def last_when(self) -> int:
        """The time of the latest report (int64 nanoseconds; none: the int64 minimum)."""
        return int(self.when.max()) if len(self.when) else _NAT

    def latest(self, rows: np.ndarray, key: np.ndarray) -> dict:
        """`latest_stances` of these reports' rows grouped by `key`, as arrays: key, source_id,
        stance (its code, -1: none of `STANCES`), when (int64 nanoseconds) and origin (neither
        `claim_id`, which a key stands for, nor `first_at` is needed here). The rows of one key come
        in the reports' order, as `of` gives them."""
        # the stance rows as `_Stances` makes them (each report its source's, each relay its
        # origin's too), from the columns themselves: a frame of them cost more than the sort
        source, via = self.source[rows], self.via[rows]
        relayed = via >= 0
        implied = np.flatnonzero(relayed)
        at = np.concatenate([np.arange(len(rows)), implied])  # each stance row's place in `rows`
        speaker = np.concatenate([source, via[implied]])
        # implied by someone's relay 0, relayed by the source 1, the source's own report 2
        direct = np.concatenate([np.where(relayed, 1, 2).astype(np.int8), np.zeros(len(implied), np.int8)])
        group = _pair_codes(_sortable(key[at]), _sortable(speaker))
        rank = rows if self.rank is None else self.rank[rows]
        same = key[1:] == key[:-1]
        if bool(((rank[1:] > rank[:-1]) | ~same).all()):
            # each key's rows in time order (a store's reports): so are those of each (key, source,
            # direct), and a stable sort by those alone is the sort by time too (by 16-bit radix
            # passes where the codes fit 32 bits, several times faster than merging 64-bit keys)
            order = _stable_order(group * 3 + direct)
        else:
            when = self.when[rows][at]
            when[when == _NAT] = np.iinfo(np.int64).max  # (missing times last, as `_time_key` puts them)
            order = _stance_order(group, direct, when, rank[at])
        group = group[order]
        last = np.ones(len(group), dtype=bool)
        last[:-1] = group[1:] != group[:-1]
        chosen = order[last]  # the latest stance row of each (key, source)
        place = at[chosen]
        picked = rows[place]
        source, via = source[place].astype(np.int64), via[place].astype(np.int64)
        return {"key": key[place], "source_id": np.where(direct[chosen] >= 1, source, via),
                "stance": self.code[picked], "when": self.when[picked], "origin": np.where(relayed[place], via, source)}


@dataclass
class _Walk:
    """Verdict events in time order and the running sums they drive."""

    decided: pd.Series  # decided_at of each step, sorted
    n_steps: int
    levels: dict  # level name -> _RunningSums over 6 columns (stance x truth)
    entity_of: dict  # level name -> Series source_id -> entity code
    topics: _RunningSums | None  # per topic: (true, resolved)
    topic_codes: pd.Index  # the topics, in the order of their codes
    topic_mean_steps: np.ndarray  # steps of the topic-mean changes, sorted
    topic_mean_sum: np.ndarray  # running sum of topic rates after each change
    topic_mean_count: np.ndarray  # running number of topics with a record
    first_verdict: pd.Series  # claim_id -> earliest decided_at of its verdicts
    claims: _RunningSums  # the store's (true, resolved) claims
    step_days: np.ndarray  # the time of each step, in days since the epoch
    reports: "_ReportsByClaim"  # the reports, found by claim
    pairs: _ByClaim  # the (claim, topic) pairs, found by claim
    pair_code: np.ndarray  # each pair's topic, as its place in `topic_codes`
    topic_names: np.ndarray  # the topics in the order of their codes, then a missing one (code -1)
    verdicts: pd.DataFrame  # the verdict in force per claim now (`verdicts_as_of`)


def _narrow(rows: np.ndarray) -> np.ndarray:
    """Row numbers as int32 when every one fits (half the memory of int64)."""
    return rows.astype(np.int32) if len(rows) < 2**31 else rows


def _narrow_ids(values: np.ndarray) -> np.ndarray:
    """Ids (-1: none) as an int32 copy when every one fits, else as they are."""
    fits = not len(values) or (int(values.min()) >= -(2**31) and int(values.max()) < 2**31)
    return values.astype(np.int32) if fits else values


def _stance_codes(stance: pd.Series) -> np.ndarray:
    """Each stance's place in `STANCES` (-1 for anything else), compared without Python strings."""
    found, names = pd.factorize(stance)  # missing: -1, which the table's last entry maps to -1
    table = np.array([STANCES.index(name) if name in STANCES else -1 for name in names] + [-1], dtype=np.int8)
    return table[found]  # (int8: a byte per report, not eight)


def _codes_of(codes: pd.Series, ids: np.ndarray) -> np.ndarray:
    """`codes.reindex(ids).fillna(-1)` for an integer index and integer codes, looked up in a
    dense table (or by binary search when the index is too sparse for one)."""
    return _lookup(codes, ids, np.int64)


def _entity_codes(codes: pd.Series, ids: np.ndarray) -> np.ndarray:
    """`_narrow_ids(_codes_of(codes, ids))`: from an int32 table when every code fits one (no
    int64 codes of the ids' size to narrow afterwards)."""
    values = codes.to_numpy(dtype=np.int64)
    if not len(values) or (int(values.min()) >= -(2**31) and int(values.max()) < 2**31):
        return _lookup(codes, ids, np.int32)
    return _narrow_ids(_codes_of(codes, ids))


def _lookup(codes: pd.Series, ids: np.ndarray, dtype) -> np.ndarray:
    """`_codes_of`, the codes as `dtype` (which must hold every one of them)."""
    keys = codes.index.to_numpy(dtype=np.int64)
    values = codes.to_numpy(dtype=np.int64)
    if not len(keys):
        return np.full(len(ids), -1, dtype=dtype)
    low, span = int(keys.min()), int(keys.max()) - int(keys.min()) + 1
    if span <= 4 * len(keys) + 1024:
        # a slot either side for the ids outside the keys' span, which the clip sends there: one
        # array of the ids' size made and read in place, not five
        table = np.full(span + 2, -1, dtype=dtype)
        table[keys - low + 1] = values
        ids = np.asarray(ids)
        # int32 places where the ids' are int32 and their places fit: half the bytes
        small = (ids.dtype == np.int32 and len(ids) and low - 1 >= -(2**31) and int(ids.min()) - low + 1 >= 0
                 and int(ids.max()) - low + 1 < 2**31)
        at = np.array(ids, dtype=np.int32 if small else np.int64)
        at -= low - 1
        np.clip(at, 0, span + 1, out=at)
        return table[at]  # (indexing, not np.take: no intp copy of int32 places)
    ids = np.asarray(ids, dtype=np.int64)
    order = np.argsort(keys, kind="stable")
    at = np.minimum(np.searchsorted(keys[order], ids), len(keys) - 1)
    return np.where(keys[order][at] == ids, values[order][at], -1).astype(dtype, copy=False)


def _entity_maps(sources: pd.DataFrame) -> dict:
    """Source id -> entity code at each level (group: the parent, or the source itself; -1 for a
    source alone in its group, whose group's record is its own and is read at the source level)."""
    parent = sources["parent_id"] if "parent_id" in sources else pd.Series(-1, index=sources.index)
    parent = parent.fillna(-1).astype(np.int64)
    group = np.where(parent.to_numpy() >= 0, parent.to_numpy(), sources.index.to_numpy())
    _, member, members = np.unique(group, return_inverse=True, return_counts=True)
    group = np.where(members[member] > 1, group, -1)
    kinds = pd.factorize(sources["kind"].fillna("other"))[0]
    return {
        "source": pd.Series(sources.index.to_numpy(dtype=np.int64), index=sources.index),
        "group": pd.Series(group.astype(np.int64), index=sources.index),
        "kind": pd.Series(kinds.astype(np.int64), index=sources.index),
        "store": pd.Series(np.zeros(len(sources), np.int64), index=sources.index),
    }


def _claim_topics(evidence: Evidence) -> pd.DataFrame:
    """One row per (claim, topic); claims without a topic get the pseudo-topic `UNTAGGED`."""
    tagged = evidence.topics[evidence.topics["claim_id"].isin(evidence.claims.index)]
    untagged = evidence.claims.index.difference(tagged["claim_id"].unique())
    return pd.concat([tagged[["claim_id", "topic"]],
                      pd.DataFrame({"claim_id": untagged.to_numpy(), "topic": UNTAGGED})], ignore_index=True)


def _walk(evidence: Evidence, pairs: pd.DataFrame, keep_reports: bool = True) -> _Walk:
    """Replay every verdict (a revision replacing the one it revises) into running sums; unless
    `keep_reports`, the evidence's reports are let go once the replay holds what it reads of them."""
    revisions = evidence.outcomes[evidence.outcomes["claim_id"].isin(evidence.claims.index)]
    revisions = _in_decision_order(revisions)
    n = len(revisions)
    value = verdict_values(revisions["verdict"])
    claim = revisions["claim_id"].to_numpy()
    # a revision takes effect unless a newer one (higher id) of the same claim is already in force
    by_claim = np.argsort(claim, kind="stable")
    claim_sorted = claim[by_claim]
    new_claim = np.r_[True, claim_sorted[1:] != claim_sorted[:-1]] if n else np.zeros(0, bool)
    ids = revisions["id"].to_numpy()[by_claim]
    newest = _running_max_by_group(ids, new_claim)
    first_rows, first_claims = by_claim[new_claim], claim_sorted[new_claim]
    applied = new_claim.copy()
    if n:
        applied[1:] |= ids[1:] >= newest[:-1]
    steps = by_claim[applied]
    replaces = np.full(len(steps), -1)
    same = ~new_claim[applied][1:]
    replaces[1:][same] = steps[:-1][same]
    # events: (step, revision whose credit moves, sign)
    back = replaces >= 0
    ev_step = np.r_[steps[back], steps]
    ev_rev = np.r_[replaces[back], steps]
    ev_sign = np.r_[-np.ones(back.sum()), np.ones(len(steps))]
    live = ~np.isnan(value[ev_rev])
    # in time order: every running sum below is then built without sorting by time again
    by_step = np.flatnonzero(live)[np.argsort(ev_step[live], kind="stable")]
    ev_step, ev_rev, ev_sign = ev_step[by_step], ev_rev[by_step], ev_sign[by_step]
    # each claim's earliest verdict: its first row in time order (the groupby's minimum)
    first_verdict = pd.Series(revisions["decided_at"].array.take(first_rows),
                              index=pd.Index(first_claims, name="claim_id"), name="decided_at")
    decided = pd.to_datetime(revisions["decided_at"], utc=True)
    # the revisions' frame and the arrays that ordered them (a dozen of 11 MB each at ten
    # million reports) are let go before the credit rows are worked out
    del revisions, claim_sorted, new_claim, ids, newest, applied, steps, replaces, same, back, live, by_step

    by_claim = _ReportsByClaim(evidence.reports, own_ids=not keep_reports)
    if not keep_reports:
        # its columns (454 MB at ten million reports) go: `by_claim` keeps the stances' codes,
        # the times in nanoseconds and int32 copies of the ids
        evidence.let_go("reports", "the replay holds what the forecasts read of them")
    maps = _entity_maps(evidence.sources)
    levels = _level_sums(by_claim, maps, claim, _ns(decided), value, ev_step, ev_rev, ev_sign)

    # topics: (true, resolved) per topic, and the mean of the topics' rates
    codes, names = pd.factorize(pairs["topic"])
    topic_codes = pd.Index(names)
    pair_by_claim = _ByClaim(pairs["claim_id"].to_numpy(dtype=np.int64))
    found, e = pair_by_claim.of(claim[ev_rev])
    t_entity = codes[found].astype(np.int64)
    t_amounts = np.c_[ev_sign[e] * value[ev_rev[e]], ev_sign[e]]
    topics = _RunningSums(t_entity, ev_step[e], t_amounts, n)
    mean_steps, mean_sum, mean_count = _topic_mean(t_entity, ev_step[e], t_amounts)
    claim_sums = _RunningSums(np.zeros(len(ev_step), np.int64), ev_step, np.c_[ev_sign * value[ev_rev], ev_sign], n)
    return _Walk(decided, n, levels, maps, topics, topic_codes, mean_steps, mean_sum, mean_count,
                 first_verdict, claim_sums, _ns(decided) / 86400e9, by_claim, pair_by_claim, codes,
                 np.r_[topic_codes.to_numpy(dtype=object), np.array([np.nan], dtype=object)],
                 verdicts_as_of(evidence.outcomes))


def _in_decision_order(revisions: pd.DataFrame) -> pd.DataFrame:
    """`revisions.sort_values(["decided_at", "id"], kind="stable").reset_index(drop=True)`: without
    the sort when they are in that order already, as a store gives them (the sort was 10 ms of
    the replay at a million reports; the test, compared as integers, a fraction of one)."""
    decided = revisions["decided_at"]
    if isinstance(decided.array, pd.arrays.DatetimeArray) and revisions["id"].dtype.kind in "iu" and not decided.isna().any():
        when, ids = decided.array.asi8, revisions["id"].to_numpy()
        later, earlier = when[1:], when[:-1]
        if bool(((later > earlier) | (later == earlier) & (ids[1:] >= ids[:-1])).all()):
            return revisions.reset_index(drop=True)
    return revisions.sort_values(["decided_at", "id"], kind="stable").reset_index(drop=True)


def _level_sums(reports: _ReportsByClaim, maps: dict, claim: np.ndarray, decided: np.ndarray, value: np.ndarray,
                ev_step: np.ndarray, ev_rev: np.ndarray, ev_sign: np.ndarray) -> dict:
    """Each level's running sums of its sources' right and wrong calls: the credit rows each
    revision brings (every speaker's latest stance by its decision time), each event bringing its
    revision's rows with its sign. Its own function so that the rows (about a hundred bytes each,
    some seven million at ten million reports) are let go before the replay goes on: each column
    is dropped once the next is made from it, and the steps are int32, as the sums keep them."""
    n = len(claim)
    row_rev, row_code, row_source = _credit_rows(reports, claim, decided, value)
    if not _ascending(row_rev):  # (`latest` gives them by revision already: no sort, no gathers)
        by_rev = np.argsort(row_rev, kind="stable")
        row_rev, row_code, row_source = row_rev[by_rev], row_code[by_rev], row_source[by_rev]
        del by_rev
    count = np.bincount(row_rev, minlength=n) if n else np.zeros(0, np.int64)
    start = np.cumsum(count) - count
    lengths = count[ev_rev]
    take = _segments(start[ev_rev], lengths, len(row_rev))
    del row_rev
    # each row's right and wrong call of its stance: columns 2 * stance (true) and 2 * stance + 1;
    # a row's value and sign are its event's revision's and its event's, so the same products are
    # made once per event and repeated (no temporaries of the rows' size)
    e_value = value[ev_rev]
    amounts = np.repeat(np.c_[ev_sign * e_value, ev_sign * (1.0 - e_value)], lengths, axis=0)
    del e_value
    r_code = row_code[take]
    columns = np.c_[r_code * 2, r_code * 2 + 1]
    del r_code, row_code
    source_ids = _narrow_ids(row_source)[take]  # (int32 gathered: half the bytes)
    del row_source, take
    r_step = np.repeat(ev_step.astype(np.int32) if n < 2**31 else ev_step, lengths)
    levels = {}
    for name in LEVELS:
        entity = _entity_codes(maps[name], source_ids)
        if name == "group":  # groups of several sources only: a source alone has its record at "source"
            shared = np.flatnonzero(entity >= 0)
            levels[name] = _RunningSums(entity[shared], r_step[shared], amounts[shared], n, columns[shared], 6)
        else:
            levels[name] = _RunningSums(entity, r_step, amounts, n, columns, 6)
        del entity
    return levels


def _segments(starts: np.ndarray, lengths: np.ndarray, rows: int) -> np.ndarray:
    """Row numbers of consecutive runs: `lengths[i]` rows from `starts[i]`, one run after another
    (int32 when the `rows` they number, and the runs' rows, fit: half the memory of the int64s)."""
    dtype = np.int32 if rows < 2**31 and int(lengths.sum()) < 2**31 else np.int64
    offsets = (starts - (np.cumsum(lengths) - lengths)).astype(dtype)
    take = np.repeat(offsets, lengths)
    take += np.arange(len(take), dtype=dtype)  # (in place)
    return take


def _credit_rows(reports: _ReportsByClaim, claim: np.ndarray, decided: np.ndarray,
                 value: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each revision's credit rows: every speaker's latest stance by its decision time (revisions
    with a value only), as (revision, stance code, source) in the order `latest` gives them.
    Worked out `CREDIT_BLOCK` revisions at a time: a revision's rows are its own, and the rows of
    every speaker of ten million reports at once held several gigabytes."""
    parts = []
    for lo in range(0, len(claim), CREDIT_BLOCK):
        hi = min(lo + CREDIT_BLOCK, len(claim))
        # the revisions with a value only, left out before their claims' reports are found (the
        # same rows, in the same order, as all of them found, then those of the others dropped)
        valued = lo + np.flatnonzero(~np.isnan(value[lo:hi]))
        found, revision = reports.of(claim[valued])
        revision = valued[revision]
        keep = reports.when[found] <= decided[revision]
        rows = reports.latest(found[keep], revision[keep])
        stated = rows["stance"] >= 0
        parts.append((rows["key"][stated].astype(np.int64), rows["stance"][stated], rows["source_id"][stated]))
        del found, revision, keep, rows
    if not parts:
        return np.zeros(0, np.int64), np.zeros(0, np.int8), np.zeros(0, np.int64)
    return tuple(np.concatenate(column) for column in zip(*parts))


def _running_max_by_group(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """The running maximum of integer `values` within each group of consecutive rows (`starts`
    marks each group's first row): one running maximum, each group's values lifted above every
    earlier group's, when that fits in 62 bits."""
    if not len(values):
        return values
    low, span = int(values.min()), int(values.max()) - int(values.min()) + 1
    group = np.cumsum(starts) - 1
    if span * (int(group[-1]) + 1) >= 2**62:
        return pd.Series(values).groupby(group).cummax().to_numpy()
    lift = group * span - low
    return np.maximum.accumulate(values + lift) - lift


def _topic_mean(entity: np.ndarray, step: np.ndarray, amounts: np.ndarray):
    """Running sum and count of the topics' Laplace rates, as changes ordered by step."""
    if not len(entity):
        return np.zeros(0, np.int64), np.zeros(0), np.zeros(0)
    order = _by_entity_then_step(entity, step, int(step.max()) + 1)  # np.lexsort((step, entity))
    # (np.take: the same rows gathered several times faster than by indexing)
    ent, stp, amt = np.take(entity, order), np.take(step, order), np.take(amounts, order, axis=0)
    starts = _run_starts(ent)
    cum = np.cumsum(amt, axis=0)
    seg = np.cumsum(starts) - 1
    first = np.flatnonzero(starts)
    base = np.where(first > 0, 1, 0)[:, None] * np.take(cum, np.maximum(first - 1, 0), axis=0)
    cum = cum - np.take(base, seg, axis=0)
    present = cum[:, 1] > 0.5
    rate = np.where(present, (cum[:, 0] + 1.0) / (cum[:, 1] + 2.0), 0.0)
    prev_rate = np.where(starts, 0.0, np.r_[0.0, rate[:-1]])
    prev_present = np.where(starts, False, np.r_[False, present[:-1]])
    d_rate = rate - prev_rate
    d_count = present.astype(float) - prev_present.astype(float)
    by_step = _stable_order(stp)
    return stp[by_step], np.cumsum(d_rate[by_step]), np.cumsum(d_count[by_step])


# -- features: what each forecast reads from the walk ---------------------------------------
@dataclass
class _Features:
    """The counts behind a set of forecasts, independent of the parameters."""

    queries: pd.DataFrame  # query (0..n-1), claim_id, at
    seen: np.ndarray  # per query: the verdict steps it may read (those decided strictly before)
    vote_query: np.ndarray  # query index of each vote
    vote_code: np.ndarray  # stance code (STANCES order)
    vote_source: np.ndarray  # source id
    vote_has_group: np.ndarray  # the source has a parent
    counts: dict  # level -> (votes, 2, 2): n(T), n(F) of the vote's stance, then of the other
    # direction (denials for a confirmation or rumour, confirmations and rumours for a denial);
    # "source:other": the source's of the other direction, (votes, 2); "source:asserted": its
    # confirmations and rumours together, (votes, 2); "store:every": every stance's, (votes, 2)
    confident_wrong: np.ndarray  # the direction rule's exception holds for this vote
    vote_seen: np.ndarray  # the verdict steps the vote's forecast may read
    vote_split: np.ndarray | None  # the steps decided before the vote's stance was taken (None: not
    # worked out, as no half-life reads these features, see `_features`)
    vote_days: np.ndarray  # when the stance was taken, in days since the epoch
    topic_query: np.ndarray  # query index of each (query, topic) pair
    topic_code: np.ndarray  # each pair's topic, as its place in `topic_names` (-1: missing)
    topic_names: np.ndarray  # the walk's topics in the order of their codes (`_Walk.topic_names`)
    topic_true: np.ndarray
    topic_resolved: np.ndarray
    topic_mean: np.ndarray  # per query: the mean of the topics' rates (with the pseudo-topic at 0.5)
    topic_count: np.ndarray  # per query: topics with a record

    @property
    def topic_name(self) -> np.ndarray:
        """Each (query, topic) pair's topic, named only when asked: the texts only explain a
        forecast, and gathering them costs more than the numbers (0.2 s per 600,000 claims)."""
        return self.topic_names[self.topic_code]

    @cached_property
    def by_record(self) -> "_Features":
        """With counts shared by the votes of one source and stance (`_SharedCounts`): the features
        of one vote of each such pair, whose terms are every such vote's."""
        shared = self.counts
        one = partial(np.take, indices=shared.first)
        return replace(self, vote_query=one(self.vote_query), vote_code=one(self.vote_code),
                       vote_source=one(self.vote_source), vote_has_group=one(self.vote_has_group),
                       counts=shared.records, confident_wrong=one(self.confident_wrong), vote_seen=one(self.vote_seen),
                       vote_split=None if self.vote_split is None else one(self.vote_split),
                       vote_days=one(self.vote_days))

    @cached_property
    def stance_counts(self) -> np.ndarray:
        """Per query, its votes of each stance (queries, 3): one count of (query, stance) pairs,
        not a selection and a count per stance."""
        n = len(self.queries)
        return np.bincount(self.vote_query * len(STANCES) + self.vote_code, minlength=n * len(STANCES)).reshape(n, -1)

    @cached_property
    def votes(self) -> pd.DataFrame:
        """The votes as a frame: claim_id, source_id, stance (categorical), query."""
        return pd.DataFrame({"claim_id": self.queries["claim_id"].to_numpy()[self.vote_query],
                             "source_id": self.vote_source,
                             "stance": pd.Categorical.from_codes(self.vote_code, STANCES), "query": self.vote_query})

    @cached_property
    def store_rate(self) -> tuple[np.ndarray, np.ndarray]:
        """Per vote: the truth rate of every stance on record, and its log-odds (the same under any
        parameters: a fit reads them at every step)."""
        every = self.counts["store:every"]
        rate = (every[:, 0] + 1.0) / (every[:, 0] + every[:, 1] + 2.0)
        return rate, _logit(rate)

    @cached_property
    def topic_mean_logit(self) -> np.ndarray:
        """Per query: the log-odds of the topics' mean (the prior of an untagged query)."""
        return _logit(self.topic_mean)

    @cached_property
    def calls(self) -> dict:
        """Per vote, (right calls, all calls) of each record the accuracy's chain shrinks: the
        stance and the other direction at "store", "kind" and "group" (votes, 2) each; the
        source's calls in the other direction ("other"), in the vote's direction ("direction"),
        of its stance ("stance"). The same under any parameters: a fit reads them at every step."""
        c = self.counts
        out = {}
        for name in ("store", "kind", "group"):
            pair = c[name]
            out[name] = (np.ascontiguousarray(pair[:, :, 0]), pair[:, :, 0] + pair[:, :, 1])
        other, own = c["source:other"], c["source"][:, 0]
        out["other"] = (np.ascontiguousarray(other[:, 0]), other.sum(axis=1))
        direction = np.where(ASSERTING[self.vote_code][:, None], c["source:asserted"], own)
        out["direction"] = (np.ascontiguousarray(direction[:, 0]), direction.sum(axis=1))
        out["stance"] = (np.ascontiguousarray(own[:, 0]), own[:, 0] + own[:, 1])
        return out

    @cached_property
    def vote_sum(self):
        """The (queries, votes) matrix of ones whose product sums each query's votes, in the
        votes' order: `np.bincount(vote_query, weights=...)` of several columns at once."""
        from scipy.sparse import csr_matrix

        n = len(self.vote_query)
        return csr_matrix((np.ones(n), (self.vote_query, np.arange(n))), shape=(len(self.queries), n))

    @cached_property
    def vote_weight_slot(self) -> np.ndarray:
        """Per vote: where its slope by the weight of its stance is in the fit's (votes, 10)
        matrix of slopes and terms, read flat (see `_vote_terms_and_slopes`)."""
        width = len(_FREE) + 1
        return np.arange(len(self.vote_code)) * width + _FREE.index("weight_confirmed") + self.vote_code

    @cached_property
    def vote_asserting(self) -> np.ndarray:
        """Per vote: its stance asserts (a confirmation or rumour), not a denial."""
        return ASSERTING[self.vote_code]

    @cached_property
    def topic_pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per (query, topic) pair the topics' mean; per query its number of topics (at least 1,
        a divisor) and whether it has any."""
        count = np.bincount(self.topic_query, minlength=len(self.queries))
        return self.topic_mean[self.topic_query], np.maximum(count, 1), count > 0


def _features(evidence: Evidence, walk: _Walk, queries: pd.DataFrame,
              level: float, half_life: float | None = None, splits: bool = True) -> _Features:
    """The counts each query's forecast reads: as they stood strictly before its time; without
    `splits`, not the steps decided before each vote's stance (`vote_split`), which only a
    half-life reads."""
    queries = queries.reset_index(drop=True)
    queries["at"] = pd.to_datetime(queries["at"], utc=True)
    q_claim = queries["claim_id"].to_numpy()
    # strictly before the query's time and before the claim's own first verdict (as int64 ns)
    own = _ns(walk.first_verdict.reindex(q_claim))
    at = _ns(queries["at"])
    cutoff = np.where(own == _NAT, at, np.minimum(at, own))
    decided = _ns(walk.decided)
    seen = _search(decided, cutoff)

    # the votes: each independent origin's latest stance by the query's time
    rows, query = walk.reports.of(q_claim)
    if not len(at) or at.min() < walk.reports.last_when:  # (else every report was made by then: open claims now)
        by_then = walk.reports.when[rows] <= at[query]
        rows, query = rows[by_then], query[by_then]
    rows = walk.reports.latest(rows, query)
    independent = (rows["origin"] == rows["source_id"]) & (rows["stance"] >= 0)
    v_query = rows["key"][independent].astype(np.int64)
    v_source = rows["source_id"][independent]
    v_code = rows["stance"][independent]
    v_seen = seen[v_query]
    taken = rows["when"][independent]
    v_split = _steps_before(decided, taken, cutoff[v_query], v_seen) if splits or half_life is not None else None
    v_days = taken / 86400e9
    if half_life is None and len(seen) and (seen == seen[0]).all():
        # every query reads the sums at one step (the open claims now): the votes of one source
        # and stance read one record, worked out once
        counts = _SharedCounts(walk, v_source, v_code)
        records = _vote_records(evidence, walk, *counts.one_vote_each(v_source, v_code, v_seen), None, None, level)
        counts.records = records[0]
        has_group, wrong = (np.take(r, counts.row) for r in records[1:])
    else:
        counts, has_group, wrong = _vote_records(evidence, walk, v_source, v_code, v_seen, v_split, v_days, level,
                                                 half_life)

    # the topics' records and their mean, as they stood
    found, t_query = walk.pairs.of(q_claim.astype(np.int64))
    t_code = walk.pair_code[found].astype(np.int64)
    t_counts = walk.topics.before(t_code, seen[t_query])
    at = np.searchsorted(walk.topic_mean_steps, seen, side="left") - 1
    total = np.where(at >= 0, walk.topic_mean_sum[np.maximum(at, 0)] if len(walk.topic_mean_sum) else 0.0, 0.0)
    number = np.where(at >= 0, walk.topic_mean_count[np.maximum(at, 0)] if len(walk.topic_mean_count) else 0.0, 0.0)
    return _Features(queries, seen, v_query, v_code, v_source, has_group, counts, wrong, v_seen, v_split, v_days,
                     t_query,
                     t_code, walk.topic_names, t_counts[:, 0], t_counts[:, 1],
                     (0.5 + total) / (1.0 + number), number)


def _steps_before(decided: np.ndarray, taken: np.ndarray, cutoff: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """`_search(decided, taken)`, given per stance a time and its search already (`cutoff`, `seen`):
    a stance taken at that very time (a claim's first report, forecast then) is not looked up again."""
    out = seen.copy()
    others = np.flatnonzero(taken != cutoff)
    out[others] = _search(decided, taken[others])
    return out


def _vote_records(evidence: Evidence, walk: _Walk, source: np.ndarray, code: np.ndarray, seen: np.ndarray,
                  split: np.ndarray | None, days: np.ndarray | None, level: float,
                  half_life: float | None = None) -> tuple:
    """Per vote: its records (`_level_counts`; `split` and `days` read with a half-life alone),
    whether its source has a parent, and whether the direction rule's exception holds for it
    (`_confident_wrong`)."""
    counts = _level_counts(walk, source, code, seen, split, days, half_life)
    parent = evidence.sources["parent_id"] if "parent_id" in evidence.sources else None
    has_group = (parent.reindex(source).fillna(-1).to_numpy() >= 0) if parent is not None else np.zeros(len(source), bool)
    return counts, has_group, _confident_wrong(counts, code, has_group, level)


class _SharedCounts(Mapping):
    """`_Features.counts` of votes that read the sums at one step: the records of each (source,
    stance) pair, worked out once (`records`, of one vote each), and gathered per vote (by `row`,
    its pair's place) only when read. The terms of the votes are worked out once per pair too
    (`_Features.by_record`)."""

    def __init__(self, walk: _Walk, source: np.ndarray, code: np.ndarray) -> None:
        # the pairs found in a dense table of (source's code, stance), in that order
        key = (_codes_of(walk.entity_of["source"], source) + 1) * len(STANCES) + code
        present = np.zeros(int(key.max()) + 1 if len(key) else 0, bool)
        present[key] = True
        self.row = (np.cumsum(present) - 1)[key]
        self.first = np.empty(int(present.sum()), np.int64)  # a vote of each pair
        self.first[self.row] = np.arange(len(key))
        self.records: dict = {}  # (set once worked out, see `_features`)
        self._gathered: dict = {}

    def one_vote_each(self, *per_vote: np.ndarray) -> list:
        """These per-vote arrays at a vote of each pair, in the pairs' order."""
        return [np.take(values, self.first) for values in per_vote]

    def __getitem__(self, name: str) -> np.ndarray:
        """The records `name` per vote (gathered once, on first read)."""
        if name not in self._gathered:
            self._gathered[name] = np.take(self.records[name], self.row, axis=0)
        return self._gathered[name]

    def __iter__(self):
        """The names of the records, as `_level_counts` gives them."""
        return iter(self.records)

    def __len__(self) -> int:
        """How many records each vote has."""
        return len(self.records)


def _level_counts(walk: _Walk, source: np.ndarray, code: np.ndarray, seen: np.ndarray, split: np.ndarray | None,
                  days: np.ndarray | None, half_life: float | None) -> dict:
    """Each vote's record at every level (`_Features.counts`)."""
    def record(name: str, entity: np.ndarray, pick=slice(None)) -> np.ndarray:
        sums = walk.levels[name]
        return (sums.before(entity[pick], seen[pick]) if half_life is None
                else sums.decayed_before(entity[pick], seen[pick], split[pick], days[pick], half_life, walk.step_days))

    counts = {}
    asserting = ASSERTING[code]
    source_codes = _codes_of(walk.entity_of["source"], source)
    own = record("source", source_codes)
    for name in LEVELS:
        entity = source_codes if name == "source" else _codes_of(walk.entity_of[name], source)
        if name == "group":  # a source alone in its group (code -1) has its own record as its group's
            shared = np.flatnonzero(entity >= 0)
            if not len(shared):  # every source alone: the group's counts are the source's
                counts["group"] = counts["source"]
                continue
            c = own.copy()
            c[shared] = record(name, entity, shared)
        else:
            c = own if name == "source" else record(name, entity)
        counts.update(_records(name, c, code, asserting))
    counts["source:other"] = counts["source"][:, 1]  # (a view: what `_drivers` reads)
    return counts


def _records(name: str, c: np.ndarray, code: np.ndarray, asserting: np.ndarray) -> dict:
    """One level's entries of `_Features.counts`, from its votes' sums (votes, 6) of (true, false)
    calls per stance: the stance's and the other direction's; the confirmations and rumours
    together ("source:asserted"), every stance ("store:every")."""
    # each (true, false) pair read as one complex number, whose sum is the pairs' sums: a pass over
    # a column of pairs rather than a pass per row of two (the same additions, bit for bit)
    pairs = np.ascontiguousarray(c).view(np.complex128)  # (votes, 3)
    asserted = pairs[:, 0] + pairs[:, 1]
    out = np.empty((len(code), 2, 2))
    both = out.view(np.complex128)[:, :, 0]  # (votes, 2)
    # (taken into an array of its own, then copied: `np.take` into a strided `out` is ten times slower)
    both[:, 0] = np.take(pairs.reshape(-1), np.arange(len(code)) * 3 + code)
    # the other direction: a confirmation's or rumour's denials, a denial's confirmations and rumours
    both[:, 1] = np.where(asserting, pairs[:, 2], asserted)
    records = {name: out}
    if name == "source":
        records["source:asserted"] = asserted.view(np.float64).reshape(-1, 2)
    if name == "store":
        records["store:every"] = (asserted + pairs[:, 2]).view(np.float64).reshape(-1, 2)
    return records


def _with_half_life(f: _Features, walk: _Walk, half_life: float | None, level: float) -> _Features:
    """The same forecasts with every record weighted by its distance in time from the stance."""
    counts = _level_counts(walk, f.vote_source, f.vote_code, f.vote_seen, f.vote_split, f.vote_days, half_life)
    return replace(f, counts=counts, confident_wrong=_confident_wrong(counts, f.vote_code, f.vote_has_group, level))


def _most_specific(counts: dict, code: np.ndarray, has_group: np.ndarray,
                   levels: tuple = LEVELS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each vote: the most specific level (of `levels`) with a record of its stance, as its
    place in `LEVELS`, and the right calls and all calls of that stance there ("store" and zeros
    where none has one)."""
    n = len(code)
    level = np.full(n, LEVELS.index("store"), dtype=np.int64)
    right, total = np.zeros(n), np.zeros(n)
    found = np.zeros(n, bool)
    asserting = ASSERTING[code]
    for name in levels:
        c = counts[name][:, 0]  # (the vote's stance)
        usable = ~found & (c[:, 0] + c[:, 1] > 0.5)
        if name == "group":
            usable &= has_group
        level[usable] = LEVELS.index(name)
        right[usable] = np.where(asserting[usable], c[usable, 0], c[usable, 1])
        total[usable] = c[usable, 0] + c[usable, 1]
        found |= usable
    return level, right, total


def _confident_wrong(counts: dict, code: np.ndarray, has_group: np.ndarray, level: float) -> np.ndarray:
    """Whether the most specific record of each vote's stance (source, parent group, kind) shows,
    with `level` confidence, that the stance is more often wrong than right."""
    from scipy.special import betainc

    _, right, total = _most_specific(counts, code, has_group, ("source", "group", "kind"))
    wrong = total - right
    # the interval's upper end can only fall below one half when the stance was wrong more often
    maybe = np.flatnonzero(wrong > right)
    out = np.zeros(len(code), bool)
    if len(maybe):
        # the upper end is below one half when more than its share of the Jeffreys posterior is:
        # the distribution function at one half (cheaper than the quantile, the same comparison)
        # computed once per distinct record (votes of one source and stance often share theirs)
        pair = np.empty(len(maybe), np.complex128)
        pair.real, pair.imag = right[maybe], wrong[maybe]
        which, records = pd.factorize(pair)
        out[maybe] = (betainc(records.real + 0.5, records.imag + 0.5, 0.5) > 1 - (1 - level) / 2)[which]
    return out


# -- the model's arithmetic ----------------------------------------------------------------
# the parameters a vote's accuracy depends on, in the order of its slopes' columns
_VOTE_FREE = ("source_strength", "stance_strength", "group_strength", "skill_transfer")


@dataclass(frozen=True)
class _Dual:
    """A value per vote with its derivatives by the parameters of `_VOTE_FREE` that reach it
    (strengths by their logs; a parameter not in `slopes` has slope 0): the chain of shrinkage
    steps carries both, so the fit's gradient is exact without being written out. Without slopes
    (None) only the values are carried: what a forecast needs."""

    value: np.ndarray
    slopes: dict | None  # parameter name -> (votes,) derivatives, or None

    @classmethod
    def constant(cls, value: np.ndarray, with_slopes: bool) -> "_Dual":
        return cls(value, {} if with_slopes else None)

    def _then(self, value: np.ndarray, scale) -> "_Dual":
        """`value`, a function of this one whose derivative by it is `scale`."""
        return _Dual(value, None if self.slopes is None else {k: d * scale for k, d in self.slopes.items()})

    def _plus(self, name: str, slope: np.ndarray) -> "_Dual":
        """This value with `slope` added to its slope by `name` (in place: on a value just made)."""
        if self.slopes is not None:
            self.slopes[name] = self.slopes[name] + slope if name in self.slopes else slope
        return self

    def _combined(self, other: "_Dual", value: np.ndarray, how) -> "_Dual":
        if self.slopes is None:
            return _Dual(value, None)
        names = self.slopes.keys() | other.slopes.keys()
        return _Dual(value, {k: how(self.slopes.get(k, 0.0), other.slopes.get(k, 0.0)) for k in names})

    def shrunk(self, right: np.ndarray, total: np.ndarray, strength: float, by: str) -> "_Dual":
        """(right + k a) / (total + k): a record shrunk toward this value by `k` pseudo-calls."""
        n = total + strength
        value = (right + strength * self.value) / n
        return self._then(value, strength / n)._plus(by, strength * (self.value - value) / n)  # d/d log k

    def where(self, keep: np.ndarray, other: "_Dual") -> "_Dual":
        return self._combined(other, np.where(keep, self.value, other.value), lambda a, b: np.where(keep, a, b))

    def logit(self) -> "_Dual":
        if self.slopes is None:
            return _Dual(_logit(self.value), None)
        inside = (self.value > _EPS) & (self.value < 1 - _EPS)  # _logit is flat where it clips
        return self._then(_logit(self.value), np.where(inside, 1.0 / (self.value * (1 - self.value)), 0.0))

    def sigmoid(self) -> "_Dual":
        value = _sigmoid(self.value)
        return self._then(value, value * (1 - value))

    def __add__(self, other: "_Dual") -> "_Dual":
        return self._combined(other, self.value + other.value, lambda a, b: a + b)

    def __sub__(self, other: "_Dual") -> "_Dual":
        return self._combined(other, self.value - other.value, lambda a, b: a - b)

    def times_transfer(self, transfer: float) -> "_Dual":
        """This value times the skill transfer, a parameter itself."""
        return self._then(transfer * self.value, transfer)._plus("skill_transfer", self.value)

    def column(self, i: int) -> "_Dual":
        """Column `i` of a (votes, k) value."""
        return _Dual(self.value[:, i], None if self.slopes is None else {k: d[:, i] for k, d in self.slopes.items()})


def _group_chain(f: _Features, p: Params, with_slopes: bool) -> _Dual:
    """P(true | a stance) shrunk from the store's rate of every stance, by `group_strength`, to
    the store's, the kind's and the parent group's record: (votes, 2), of the vote's stance and
    of the calls in the other direction, side by side."""
    acc = _Dual.constant(f.store_rate[0][:, None], with_slopes)
    for name in ("store", "kind", "group"):
        if name == "group" and not f.vote_has_group.any():
            break  # no vote's source has a parent: the kind's accuracy is every vote's
        shrunk = acc.shrunk(*f.calls[name], p.group_strength, "group_strength")
        acc = shrunk.where(f.vote_has_group[:, None], acc) if name == "group" else shrunk
    return acc


def _accuracy(f: _Features, p: Params, with_slopes: bool = False) -> _Dual:
    """Each vote's P(true | this source took this stance), with its slopes if asked.

    The group chain gives the stance's accuracy among the source's peers. What the source showed
    in the *other* direction tilts it: a source whose denials were right more often than its
    group's is taken to assert better than its group too, by `skill_transfer` times the log-odds
    gap (and the other way round). The source's own record of the vote's direction, then of its
    stance, is shrunk toward that."""
    s, t = p.source_strength, p.stance_strength
    # how much more often than its peers' the source's calls in the other direction were true, in
    # log-odds: truer assertions make a better denier, truer denials a worse asserter
    chain = _group_chain(f, p, with_slopes)
    peers = chain.logit()
    gap = chain.column(1).shrunk(*f.calls["other"], s, "source_strength").logit() - peers.column(1)
    prior = (peers.column(0) - gap.times_transfer(p.skill_transfer)).sigmoid()
    # the source's own record of the vote's direction (for a confirmation or rumour: everything it
    # asserted), then of its stance
    by_direction = prior.shrunk(*f.calls["direction"], s, "source_strength")
    by_stance = by_direction.shrunk(*f.calls["stance"], t, "stance_strength")
    return by_stance.where(f.vote_asserting, by_direction)


def _vote_terms(f: _Features, p: Params) -> np.ndarray:
    """Each vote's term in the log-odds: weighted log LR, held to its stance's direction."""
    return _vote_terms_and_slopes(f, p, with_slopes=False)[0]


def _vote_terms_and_slopes(f: _Features, p: Params, with_slopes: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """`_vote_terms`, and their derivatives by the free parameters (`_FREE` order, 0 by those
    that do not reach them), then the terms again (None unless `with_slopes`).

    A vote's log LR is the log-odds of its accuracy (`_accuracy`) less that of the truth rate of
    every stance on record: P(stance | T) / P(stance | F). With no record anywhere it is 1, and a
    source that takes the stance on true and false claims alike moves nothing."""
    log_acc = _accuracy(f, p, with_slopes).logit()
    raw = log_acc.value - f.store_rate[1]
    weight = p.weights[f.vote_code]
    llr = raw * weight
    against = np.where(f.vote_asserting, llr < 0, llr > 0)
    counted = ~(against & ~f.confident_wrong)
    terms = np.where(counted, llr, 0.0)
    if not with_slopes:
        return terms, None
    # one matrix, which the fit sums per query in one product (`_Features.vote_sum`): the slopes
    # in `_FREE` order (0 by the prior's two), then the terms themselves
    out = np.zeros((len(raw), len(_FREE) + 1))
    scale = np.where(counted, weight, 0.0)
    for k, d in log_acc.slopes.items():
        np.multiply(d, scale, out=out[:, _FREE.index(k)])
    out.reshape(-1)[f.vote_weight_slot] = np.where(counted, raw, 0.0)  # by the weight of its stance
    out[:, -1] = terms
    return terms, out


def _prior_logit(f: _Features, p: Params) -> np.ndarray:
    """Each query's prior log-odds: the mean over its topics of their rates' log-odds."""
    return _prior_logit_and_slope(f, p, with_slope=False)[0]


def _prior_logit_and_slope(f: _Features, p: Params, with_slope: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """`_prior_logit`, and its derivative by the log of the topic strength (None unless `with_slope`)."""
    n = len(f.queries)
    k = p.topic_strength
    mean, count, tagged = f.topic_pairs
    rates = (f.topic_true + k * mean) / (f.topic_resolved + k)  # each pair's record shrunk toward the mean
    total = np.bincount(f.topic_query, weights=_logit(rates), minlength=n)
    prior = np.where(tagged, total / count, f.topic_mean_logit)
    if not with_slope:
        return prior, None
    slope = k * (mean - rates) / (f.topic_resolved + k)
    inside = (rates > _EPS) & (rates < 1 - _EPS)
    d_logits = np.where(inside, slope / (rates * (1 - rates)), 0.0)
    d_total = np.bincount(f.topic_query, weights=d_logits, minlength=n)
    return prior, np.where(tagged, d_total / count, 0.0)


def _log_odds(f: _Features, p: Params) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per query: the prior's log-odds (weighted), the votes' sum; and each vote's term."""
    prior = p.prior_weight * _prior_logit(f, p)
    terms = _vote_terms(f, p)
    votes = np.bincount(f.vote_query, weights=terms, minlength=len(f.queries))
    return prior, votes, terms


def _p_true(f: _Features, p: Params) -> np.ndarray:
    """Each query's p_true under these parameters."""
    if not isinstance(f.counts, _SharedCounts):
        prior, votes, _ = _log_odds(f, p)
        return _sigmoid(prior + votes)
    # votes that share their records share their terms: each worked out once, then gathered
    terms = np.take(_vote_terms(f.by_record, p), f.counts.row)
    votes = np.bincount(f.vote_query, weights=terms, minlength=len(f.queries))
    return _sigmoid(p.prior_weight * _prior_logit(f, p) + votes)


# -- fitting ---------------------------------------------------------------------------------
def _subset(f: _Features, keep: np.ndarray) -> _Features:
    """The features of the queries in `keep` (a boolean mask over queries), renumbered."""
    new_index = np.cumsum(keep) - 1
    v = np.flatnonzero(keep[f.vote_query])  # positions: rows of 2-d arrays are taken several times faster
    t = keep[f.topic_query]
    return _Features(
        f.queries[keep].reset_index(drop=True), f.seen[keep], new_index[f.vote_query[v]], f.vote_code[v], f.vote_source[v],
        f.vote_has_group[v], {k: np.take(c, v, axis=0) for k, c in f.counts.items()}, f.confident_wrong[v], f.vote_seen[v],
        f.vote_split[v], f.vote_days[v],
        new_index[f.topic_query[t]], f.topic_code[t], f.topic_names, f.topic_true[t], f.topic_resolved[t],
        f.topic_mean[keep], f.topic_count[keep])


def _to_vector(p: Params) -> np.ndarray:
    return np.array([np.log(getattr(p, n)) if n in _LOG_SCALED else getattr(p, n) for n in _FREE])


def _from_vector(x: np.ndarray, base: Params) -> Params:
    values = {n: float(np.exp(v)) if n in _LOG_SCALED else float(v) for n, v in zip(_FREE, x)}
    return replace(base, **values)


_PULL_CENTRE = _to_vector(DEFAULTS)


def _log_odds_and_slopes(f: _Features, p: Params) -> tuple[np.ndarray, np.ndarray]:
    """Each query's log-odds, and its derivatives by the free parameters (`_FREE` order, strengths
    by their logs): what the fit's analytic gradient is made of."""
    prior, d_prior = _prior_logit_and_slope(f, p)
    _, d_terms = _vote_terms_and_slopes(f, p)
    summed = f.vote_sum @ d_terms  # per query: its votes' slopes and terms
    slopes = np.ascontiguousarray(summed[:, :-1])  # (the layout the optimiser's product had)
    slopes[:, 3] = p.prior_weight * d_prior
    slopes[:, 4] = prior
    return p.prior_weight * prior + summed[:, -1], slopes


def fit_params(f: _Features, outcome: np.ndarray, start: Params = DEFAULTS, steps: int = 40) -> Params:
    """Parameters maximising the log-likelihood of these forecasts' outcomes (0, 0.5, 1), with a
    weak pull toward the defaults; the defaults while fewer than `MIN_FIT_CLAIMS` are resolved.
    `f` and `outcome` are the claims to fit on (see `_fit_sample`); the gradient is analytic."""
    from scipy.optimize import minimize

    n = len(outcome)
    if n < MIN_FIT_CLAIMS:
        return replace(start, fitted_on=0)

    def loss(x: np.ndarray) -> tuple[float, np.ndarray]:
        z, slopes = _log_odds_and_slopes(f, _from_vector(x, start))
        nll, residual = _nll(z, outcome)
        penalty, d_penalty = _pull(x)
        return (nll + penalty) / n, (residual @ slopes + d_penalty) / n

    bounds = [(np.log(_BOUNDS[name][0]), np.log(_BOUNDS[name][1])) if name in _LOG_SCALED else _BOUNDS[name]
              for name in _FREE]
    best = minimize(loss, np.clip(_to_vector(start), [b[0] for b in bounds], [b[1] for b in bounds]), jac=True,
                    method="L-BFGS-B", bounds=bounds, options={"maxiter": steps, "ftol": FIT_FTOL})
    return replace(_from_vector(best.x, start), fitted_on=n, fit_loss=float(best.fun))


def _nll(z: np.ndarray, outcome: np.ndarray) -> tuple[float, np.ndarray]:
    """The negative log-likelihood of the outcomes under log-odds `z`, and its slope by `z`."""
    p = np.clip(_sigmoid(z), _EPS, 1 - _EPS)
    return float(-np.sum(outcome * np.log(p) + (1 - outcome) * np.log1p(-p))), p - outcome


def _pull(x: np.ndarray) -> tuple[float, np.ndarray]:
    """The weak pull toward the defaults at parameter vector `x` (in claims' worth of log loss), and its slope."""
    pull = (x - _PULL_CENTRE) / _PULL_SCALE
    return float(_PULL * np.sum(pull ** 2)), 2 * _PULL * pull / _PULL_SCALE


def _fit_loss(f: _Features, outcome: np.ndarray, p: Params) -> float:
    """What `fit_params` minimises, at `p`: the penalised log loss per claim."""
    prior, votes, _ = _log_odds(f, p)
    return (_nll(prior + votes, outcome)[0] + _pull(_to_vector(p))[0]) / len(outcome)


def _fit_sample(outcome: np.ndarray, size: int = FIT_SAMPLE) -> np.ndarray:
    """The claims a fit reads: the resolved ones (outcome not NaN), the latest `size` of them (the
    latest carry the most record; their count bounds the cost)."""
    return np.flatnonzero(~np.isnan(outcome))[-size:]


def _half_lives(walk: _Walk, by: int | None = None) -> list:
    """The half-lives tried: none, and a third and a tenth of the span of the verdicts on record
    (of the first `by` of them, at a chronological refit: the record as it stood then)."""
    days = walk.step_days[:by]
    span = float(days.max() - days.min()) if len(days) else 0.0
    return [None] + ([round(span / 3, 1), round(span / 10, 1)] if span >= 1.0 else [])


def fit_best(feats: _Features, walk: _Walk, outcome: np.ndarray, start: Params, steps: int = 40,
             by: int | None = None, size: int = FIT_SAMPLE) -> Params:
    """`fit_params` on the fit sample under each half-life's records (`_half_lives` of the first
    `by` verdicts); the half-life whose fit explains the outcomes best. The decayed records are
    computed for the sample (the latest `size` resolved claims) only."""
    sample = _fit_sample(outcome, size)
    keep = np.zeros(len(outcome), bool)
    keep[sample] = True
    base, y = _subset(feats, keep), outcome[keep]
    best = None
    for half_life in _half_lives(walk, by):
        f = base if half_life is None else _with_half_life(base, walk, half_life, start.level)
        # a half-life is one more parameter: it must earn its place by a likelihood-ratio test
        bar = None if best is None else best.fit_loss - HALF_LIFE_NATS / best.fitted_on
        if bar is not None and _fit_loss(f, y, replace(best, half_life_days=half_life)) > bar + SCREEN_NATS:
            continue  # at the best fit's parameters it is too far off to pass: not worth a fit
        got = replace(fit_params(f, y, replace(start, half_life_days=half_life), steps), half_life_days=half_life)
        if got.fitted_on == 0:
            return replace(got, half_life_days=None)  # too few to fit: the defaults, no decay
        if bar is None or got.fit_loss < bar:
            best = got
    return best


# -- the public surface ----------------------------------------------------------------------
@dataclass
class Model:
    """A fitted model of one store: the walk, the fitted parameters, and what they rest on.

    `fit` computes what every forecast needs: the walk, the chronological refits and the current
    fit, each from the features of the claims it reads. The at-report-time forecast of every claim
    (`history`, a block of claims at a time; the features it read, `first_report`, all at once) is
    computed on first use: only `predict_at_report_time` and the self-assessment read all of it.
    """

    evidence: Evidence
    walk: _Walk
    params: Params
    checkpoints: pd.DataFrame  # from (time), resolved, params fitted then
    fits: list  # the Params of each checkpoint, in order (the first: the defaults)
    claims: pd.DataFrame  # the claims in order of first report (the rows of `history`)
    level: float = 0.9
    reused: bool = False  # the parameters came from an earlier fit of the same store (`fit(fitted=...)`)

    @property
    def fitted(self) -> dict:
        """The fitted parameters as plain data, which `fit(evidence, fitted=...)` of the same store
        takes instead of fitting again (see `tracker.fitcache`)."""
        return {"params": self.params.as_dict(), "fits": [f.as_dict() for f in self.fits],
                "checkpoints": [{"from": None if pd.isna(row["from"]) else row["from"].isoformat(),
                                 "resolved": int(row["resolved"])} for _, row in self.checkpoints.iterrows()]}

    @cached_property
    def first_report(self) -> _Features:
        """What each claim's first-report forecast read (rows of `history`)."""
        queries = pd.DataFrame({"claim_id": self.claims.index.to_numpy(), "at": self.claims["first_reported_at"].array})
        return _features(self.evidence, self.walk, queries, self.level)

    @cached_property
    def history(self) -> pd.DataFrame:
        """The at-report-time forecasts of every claim (see `predict_at_report_time`)."""
        p, base_rate, credibility, _majority = self._first_reports
        at = pd.to_datetime(self.claims["first_reported_at"].reset_index(drop=True), utc=True)
        now = self.walk.verdicts
        return pd.DataFrame({
            "claim_id": self.claims.index.to_numpy(),
            "claim_ref": _claim_refs(self.claims),
            "statement": self.claims["statement"].to_numpy(),
            "first_reported_at": self.claims["first_reported_at"].array,
            "p_true": p,
            "base_rate": base_rate,
            "credibility": credibility,
            "verdict": now["verdict"].reindex(self.claims.index).to_numpy(),
            "outcome": now["value"].reindex(self.claims.index).to_numpy(dtype=float),
            "fitted_on": np.array([f.fitted_on for f in self.fits], dtype=np.int64)[_params_index(self, at)],
        })

    @property
    def majority_at_first_report(self) -> np.ndarray:
        """Per claim of `history`: the share of independent origins asserting it at its first
        report (0.5 with none), majority vote with no look-ahead."""
        return self._first_reports[3]

    @cached_property
    def _first_reports(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per claim of `history`: its first-report forecast, the running base rate then, its
        credibility and the share of origins asserting it, worked out `FORECAST_BLOCK` claims at a
        time (every claim's features at once held 6.8 GB at ten million reports); one block when a
        fit weighs records by time, whose decayed sums are summed over the queries at hand (see
        `_forecast_in_blocks`). A query's numbers are its own: the blocks give one call's, bit for bit."""
        queries = pd.DataFrame({"claim_id": self.claims.index.to_numpy(), "at": self.claims["first_reported_at"].array})
        n = len(queries)
        block = FORECAST_BLOCK if all(f.half_life_days is None for f in self.fits) else max(n, 1)
        parts = []
        for lo in range(0, max(n, 1), block):  # (an empty store: one empty block, as one call)
            feats = _features(self.evidence, self.walk, queries.iloc[lo:lo + block], self.level)
            parts.append((_forecast(self, feats.queries, feats=feats)[0], _running_base_rate(self.walk, feats),
                          _credibility(feats), _asserting_share(feats)))
        return tuple(np.concatenate(column) for column in zip(*parts))

    def at_first_report(self, claim_ids) -> np.ndarray:
        """These claims' forecasts at their first report (the `history` rows, computed for these
        claims alone unless the whole history is already at hand)."""
        if "history" in self.__dict__:
            return self.history.set_index("claim_id")["p_true"].reindex(claim_ids).to_numpy()
        # the claims in order of first report, as `claims` holds them: each fit then serves a run
        # of them (see `_forecast`)
        place = self.claims.index.get_indexer(claim_ids)  # (-1: not a claim of the store)
        first = self.claims["first_reported_at"].array
        known = np.flatnonzero(place >= 0)
        known = known[np.argsort(place[known], kind="stable")]
        known = known[pd.notna(first[place[known]])]
        out = np.full(len(place), np.nan)
        if len(known):
            queries = pd.DataFrame({"claim_id": self.claims.index[place[known]], "at": first[place[known]]})
            out[known] = _forecast_in_blocks(self, queries)[0]
        return out


def fit(evidence: Evidence, level: float = 0.9, fitted: dict | None = None, keep_reports: bool = True) -> Model:
    """Replay the store and fit the parameters without look-ahead: the chronological refits (each
    claim's first-report forecast uses the last one before it) and the current fit. `fitted`
    (`Model.fitted` of an earlier fit of the same store) is used instead of fitting again. Unless
    `keep_reports`, `evidence.reports` and `evidence.topics` are let go during the replay
    (`Evidence.let_go`): the model's forecasts do not read them, but `timeline`, `Evidence.for_topic`
    and a later `predict(..., as_of=...)` of the evidence do."""
    from threadpoolctl import threadpool_limits

    pairs = _claim_topics(evidence)
    if not keep_reports:  # the topics' frame is read for its pairs alone (61 MB at ten million reports)
        evidence.let_go("topics", "the replay holds the claims' topics")
    walk = _walk(evidence, pairs, keep_reports)
    # the (claim, topic) pairs' frame is the replay's alone: the forecasts read them through `walk.pairs`
    del pairs
    claims = evidence.claims.sort_values("first_reported_at", kind="stable")
    if fitted is not None:
        try:
            return _refitted(evidence, walk, claims, fitted, level)
        except (AttributeError, KeyError, TypeError, ValueError):
            pass  # not what an earlier fit wrote: fit again
    # the optimiser's vectors have eight entries: BLAS threads only contend for the cores (eight
    # times slower on a busy two-core machine). SciPy brings its own BLAS, which the limit only
    # reaches once loaded: imported first, or its threads spin beside the fit (about 2 CPU s in
    # a fresh process at a million reports)
    import scipy.optimize  # noqa: F401  (loads SciPy's BLAS, which scipy.special uses too)

    with threadpool_limits(1, user_api="blas"):
        model = _fit(evidence, walk, claims, level)
    for sums in walk.levels.values():
        sums._bounds = sums._whole = None  # the fit's stances' bounds (`_bounds_of`): no forecast reads them
    if all(f.half_life_days is None for f in [model.params, *model.fits]):
        # no forecast of this model weighs records by time: the tables the fit's tries of a
        # half-life built (about 600 MB at ten million reports) are let go
        for sums in walk.levels.values():
            sums._columns = None
    return model


def _refitted(evidence: Evidence, walk: _Walk, claims: pd.DataFrame, fitted: dict,
              level: float) -> Model:
    """The model with the parameters of an earlier fit (`Model.fitted`) of the same store; a
    ValueError when they are not what a fit writes (numbers, or None for no half-life)."""
    for values in [fitted["params"], *fitted["fits"]]:
        if not all(v is None or (isinstance(v, int | float) and not isinstance(v, bool)) for v in values.values()):
            raise ValueError("not a fit's parameters")
    fits = [Params(**f) for f in fitted["fits"]]
    rows = [{"from": pd.NaT if c["from"] is None else pd.Timestamp(c["from"]), "resolved": int(c["resolved"]),
             **f.as_dict()} for c, f in zip(fitted["checkpoints"], fits, strict=True)]
    checkpoints = pd.DataFrame(rows)
    checkpoints["from"] = pd.to_datetime(checkpoints["from"], utc=True).astype(evidence.outcomes["decided_at"].dtype)
    if any(f.level != level for f in fits):
        raise ValueError("fitted at another level")
    return Model(evidence, walk, Params(**fitted["params"]), checkpoints, fits, claims, level, reused=True)


def _fit(evidence: Evidence, walk: _Walk, claims: pd.DataFrame, level: float) -> Model:
    queries = pd.DataFrame({"claim_id": claims.index.to_numpy(), "at": claims["first_reported_at"].array})
    now = walk.verdicts
    outcome = now["value"].reindex(queries["claim_id"]).to_numpy(dtype=float)
    decided = now["decided_at"].reindex(queries["claim_id"])

    # checkpoints: the times at which the number of resolved claims reaches 30, 60, 120, ...
    scored = now[now["value"].notna()].sort_values("decided_at", kind="stable")
    growth = max(GROWTH, (len(scored) / MIN_FIT_CLAIMS) ** (1 / MAX_CHECKPOINTS))
    marks, target = [], float(MIN_FIT_CLAIMS)
    while target <= len(scored):
        marks.append(int(target))
        target *= growth
    whens = [scored["decided_at"].iloc[mark - 1] for mark in marks]
    # resolved by each checkpoint (their own verdict decided at or before it), and by now
    known = [~np.isnan(outcome) & (decided <= when).to_numpy(dtype=bool) for when in whens] + [~np.isnan(outcome)]
    # each fit reads its sample of claims (`_fit_sample`): the features of those claims alone
    read = np.zeros(len(queries), bool)
    for mask, size in zip(known, [REFIT_SAMPLE] * len(whens) + [FIT_SAMPLE]):
        read[_fit_sample(np.where(mask, outcome, np.nan), size)] = True
    feats = _features(evidence, walk, queries[read], level)
    fits, start = [replace(DEFAULTS, level=level)], replace(DEFAULTS, level=level)
    rows = [{"from": pd.NaT, "resolved": 0, **start.as_dict()}]
    read_outcome = outcome[read]  # (each refit's outcomes masked among the claims read only)
    for when, mask in zip(whens, known):
        # each refit starts from the last one, which it rarely moves far from, and tries the
        # half-lives of the record as it stood then (the verdicts decided by then)
        by = int(np.searchsorted(walk.decided.array, when, side="right"))
        start = fit_best(feats, walk, np.where(mask[read], read_outcome, np.nan), start, steps=20, by=by,
                         size=REFIT_SAMPLE)
        fits.append(start)
        rows.append({"from": when, "resolved": int(mask.sum()), **start.as_dict()})
    final = (fit_best(feats, walk, read_outcome, start) if len(marks)
             else replace(DEFAULTS, level=level))
    return Model(evidence, walk, final, pd.DataFrame(rows), fits, claims, level)


def _running_base_rate(walk: _Walk, f: _Features) -> np.ndarray:
    """The share of true claims among those resolved before each forecast (Laplace's rule)."""
    sums = walk.claims.before(np.zeros(len(f.seen), np.int64), f.seen)
    return (sums[:, 0] + 1.0) / (sums[:, 1] + 2.0)


def _asserting_share(f: _Features) -> np.ndarray:
    """Per query: the share of its independent origins asserting the claim (0.5 with none)."""
    n = len(f.queries)
    total = np.bincount(f.vote_query, weights=f.vote_asserting.astype(float), minlength=n)
    count = np.bincount(f.vote_query, minlength=n)
    return np.where(count > 0, total / np.maximum(count, 1), 0.5)


def _credibility(f: _Features) -> np.ndarray:
    """Each query's information credibility (`scoring.credibility` of its votes)."""
    n = len(f.queries)
    return _credibility_levels(*(np.bincount(f.vote_query[f.vote_code == k], minlength=n) for k in range(len(STANCES))))


def _params_index(model: Model, times: pd.Series) -> np.ndarray:
    """Which checkpoint's parameters a forecast made at each time uses (no later fit)."""
    starts = model.checkpoints["from"].iloc[1:]
    if not len(starts):
        return np.zeros(len(times), dtype=np.int64)
    return np.searchsorted(starts.array, pd.DatetimeIndex(times).array, side="left").astype(np.int64)


def _forecast(model: Model, queries: pd.DataFrame, params: Params | None = None,
              feats: _Features | None = None) -> tuple[np.ndarray, list]:
    """p_true of each query (claim_id, at), with the parameters of its time (or `params`), and the
    parts it was computed in: (positions, features under that fit's half-life, parameters)."""
    if feats is None:
        feats = _features(model.evidence, model.walk, queries, model.level)
    out = np.empty(len(feats.queries))
    which = _params_index(model, feats.queries["at"]) if params is None else np.zeros(len(feats.queries), np.int64)
    fits = model.fits if params is None else [params]
    # queries in time order (as `Model.at_first_report` puts them) use each fit for a run of them:
    # their features are read in place, not copied (`_queries_between`)
    runs = _ascending(which) and _ascending(feats.vote_query) and _ascending(feats.topic_query)
    parts = []
    for k in np.unique(which):
        mask = which == k
        if len(fits) == 1 or mask.all():
            part = feats
        elif runs:
            part = _queries_between(feats, *np.searchsorted(which, [k, k + 1]))
        else:
            part = _subset(feats, mask)
        if fits[k].half_life_days is not None:
            part = _with_half_life(part, model.walk, fits[k].half_life_days, model.level)
        out[mask] = _p_true(part, fits[k])
        parts.append((np.flatnonzero(mask), part, fits[k]))
    return out, parts


def _queries_between(f: _Features, lo: int, hi: int) -> _Features:
    """`_subset` of the queries from `lo` to `hi`, of features whose votes and topics come in the
    queries' order: the same arrays, as views of a run of each."""
    v_lo, v_hi = np.searchsorted(f.vote_query, [lo, hi])
    t_lo, t_hi = np.searchsorted(f.topic_query, [lo, hi])
    votes, topics = slice(v_lo, v_hi), slice(t_lo, t_hi)
    return _Features(
        f.queries.iloc[lo:hi].reset_index(drop=True), f.seen[lo:hi], f.vote_query[votes] - lo, f.vote_code[votes],
        f.vote_source[votes], f.vote_has_group[votes], {k: c[votes] for k, c in f.counts.items()},
        f.confident_wrong[votes], f.vote_seen[votes], None if f.vote_split is None else f.vote_split[votes],
        f.vote_days[votes],
        f.topic_query[topics] - lo, f.topic_code[topics], f.topic_names, f.topic_true[topics], f.topic_resolved[topics],
        f.topic_mean[lo:hi], f.topic_count[lo:hi])


def _forecast_in_blocks(model: Model, queries: pd.DataFrame, params: Params | None = None,
                        explain: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray, list, list]:
    """`_forecast` of the queries, `FORECAST_BLOCK` at a time, with each query's credibility and
    number of independent sources and, if `explain`, the drivers and prior notes of each part:
    (p_true, credibility, sources, drivers, priors). A block's features are let go once read. A
    query's features are its own (its claim's reports, the records before its time), so the blocks
    give the numbers one call gives, bit for bit; not so the decayed records, which are summed in
    blocks of the queries' stance times (`decayed_before`): with a half-life in any fit used, one
    block. The notes come block by block, which orders them as one call does only under one fit."""
    n = len(queries)
    fits = model.fits if params is None else [params]
    exact = all(f.half_life_days is None for f in fits) and (len(fits) == 1 or not explain)
    block = FORECAST_BLOCK if exact else max(n, 1)
    # under one fit without a half-life (the open claims now, usually) no part of the features is
    # copied (`_subset`) nor weighed by time: the steps before each vote's stance are not needed
    splits = len(fits) > 1 or fits[0].half_life_days is not None
    p, cred, sources = np.empty(n), np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    drivers, priors = [], []
    for lo in range(0, n, block):
        hi = min(lo + block, n)
        feats = _features(model.evidence, model.walk, queries.iloc[lo:hi], model.level, splits=splits)
        p[lo:hi], parts = _forecast(model, feats.queries, params, feats)
        # credibility and sources read the votes alone, which every part (fit) shares: once a block
        cred[lo:hi] = _credibility_levels(*feats.stance_counts.T)
        sources[lo:hi] = np.bincount(feats.vote_query, minlength=hi - lo)
        if explain:
            drivers += [_drivers(model, f, fitted) for _, f, fitted in parts]
            priors += [_prior_notes(f, fitted) for _, f, fitted in parts]
        del parts, feats
    return p, cred, sources, drivers, priors


_FUTURE = pd.Timestamp("2200-01-01", tz="UTC")


def _restricted(evidence: Evidence, stamp: pd.Timestamp) -> Evidence:
    """The evidence as it stood at `stamp`: reports, claims and verdicts known by then."""
    return Evidence(
        evidence.sources,
        evidence.claims[evidence.claims["first_reported_at"] <= stamp],
        evidence.reports[evidence.reports["reported_at"] <= stamp].reset_index(drop=True),
        evidence.outcomes[evidence.outcomes["decided_at"] <= stamp].reset_index(drop=True),
        evidence.topics,
    )


def predict(evidence: Evidence, as_of=None, claim_ids=None, model: Model | None = None,
            level: float = 0.9, explain: bool = True) -> pd.DataFrame:
    """`p_true` of the claims open as of a date (or of `claim_ids`), with what drives it.

    An open claim gets its current forecast (every outcome known by then, the parameters fitted
    now). A resolved claim gets what the tracker said before its verdict was known: its last
    forecast before the verdict (`p_true`) and its forecast at first report (`p_true_at_first_report`);
    its own verdict never enters either. Drivers (`attrs["drivers"]`) explain each vote in words,
    and `attrs["priors"]` each topic's part in the prior (empty with `explain=False`, which skips
    writing the sentences: most of the time at many open claims).
    """
    stamp = _as_timestamp(as_of)
    if stamp is not None:
        if model is not None:
            raise ValueError("a model is fitted to the store as it is now; pass as_of or a model, not both")
        evidence = _restricted(evidence, stamp)
    model = model or fit(evidence, level)
    claims = evidence.claims
    verdicts = model.walk.verdicts if evidence is model.evidence else verdicts_as_of(evidence.outcomes)
    if claim_ids is None:
        claims = claims[~claims.index.isin(verdicts.index)]
    else:
        claims = claims[claims.index.isin(list(claim_ids))]
    first_verdict = model.walk.first_verdict.reindex(claims.index)
    resolved = first_verdict.notna().to_numpy()
    # an open claim is forecast now; a resolved one just before its first verdict became known
    at = first_verdict.where(first_verdict.notna(), _FUTURE if stamp is None else stamp)
    queries = pd.DataFrame({"claim_id": claims.index.to_numpy(), "at": at.array})
    p = np.empty(len(queries))
    cred = np.empty(len(queries), dtype=np.int64)
    sources = np.empty(len(queries), dtype=np.int64)
    drivers, priors = [], []  # each part's, block by block (`explain`)
    for mask, params in ((~resolved, model.params if stamp is None else None), (resolved, None)):
        p[mask], cred[mask], sources[mask], got_drivers, got_priors = _forecast_in_blocks(
            model, queries[mask], params, explain)
        drivers += got_drivers
        priors += got_priors
    first = model.at_first_report(claims.index)
    statement = claims["statement"]
    out = pd.DataFrame({
        "claim_id": claims.index,
        "claim_ref": _claim_refs(claims),
        # texts stay as they are held (not one Python string each, then held again: 90 MB at
        # 600,000 claims); other columns as before, which the frame then infers text of
        "statement": statement.array if isinstance(statement.dtype, pd.StringDtype) else statement.to_numpy(),
        "first_reported_at": claims["first_reported_at"].array,
        "p_true": p,
        "credibility": cred,
        "independent_sources": sources,
        "p_true_at_first_report": first,
        "resolved": resolved,
        "said_at": at.where(resolved).array,
    })
    out.attrs.update(params=model.params.as_dict(), as_of=stamp,
                     drivers=_concat(drivers, _DRIVER_COLUMNS).sort_values(
                         "llr", key=np.abs, ascending=False, kind="stable").reset_index(drop=True),
                     priors=_concat(priors, _PRIOR_COLUMNS))
    # `sort_values("p_true", ascending=False, kind="stable")`, by the order worked out from the numbers
    return out.take(_descending(p)).reset_index(drop=True)


def _descending(values: np.ndarray) -> np.ndarray:
    """`np.argsort(-values, kind="stable")` (largest first, ties in their order, NaN last): one
    quicksort, then each run of equal values put back in order, several times faster than a merge
    sort of floats."""
    if np.isnan(values).any():
        return np.argsort(-values, kind="stable")
    order = np.argsort(-values)
    in_order = values[order]
    run = np.zeros(len(order), dtype=np.int64)  # each place's run of equal values, counted from 0
    np.cumsum(in_order[1:] != in_order[:-1], out=run[1:])
    run *= len(order)
    return np.sort(run + order) - run


def predict_at_report_time(evidence: Evidence, model: Model | None = None, level: float = 0.9) -> pd.DataFrame:
    """Every claim's `p_true` as it stood at its first report, from outcomes known strictly before
    (and parameters fitted on claims resolved before): the tracker's own chronological record."""
    return (model or fit(evidence, level)).history.copy()


def timeline(evidence: Evidence, claim_id: int, model: Model | None = None) -> pd.DataFrame:
    """One claim's `p_true` as each of its reports arrived (up to its first verdict), with the
    report that moved it: at, p_true, source, stance. A claim with more than TIMELINE_POINTS
    report times gets that many, spread evenly over them (its first and last kept)."""
    model = model or fit(evidence)
    reports = evidence.reports[evidence.reports["claim_id"] == claim_id]
    first = evidence.claims["first_reported_at"].get(claim_id)
    if first is None or pd.isna(first):
        return pd.DataFrame(columns=["at", "p_true", "source", "stance"])
    verdict = model.walk.first_verdict.get(claim_id)
    times = reports["reported_at"]
    if verdict is not None and not pd.isna(verdict):
        times = times[times < verdict]
    times = pd.Series(sorted(set(times.tolist()) | {first}))
    times = times[times >= first].reset_index(drop=True)
    if len(times) > TIMELINE_POINTS:
        keep = np.unique(np.linspace(0, len(times) - 1, TIMELINE_POINTS).round().astype(np.int64))
        times = times.iloc[keep].reset_index(drop=True)
    queries = pd.DataFrame({"claim_id": claim_id, "at": times.array})
    p, _ = _forecast(model, queries)
    names = evidence.sources["name"]
    last = reports.sort_values("reported_at", kind="stable").drop_duplicates("reported_at", keep="last")
    last = last.set_index("reported_at").reindex(times)
    return pd.DataFrame({
        "at": times.array,
        "p_true": p,
        "source": names.reindex(last["source_id"].fillna(-1).astype(np.int64)).to_numpy(),
        "stance": last["stance"].to_numpy(),
    })


# -- explanations ----------------------------------------------------------------------------
_PLURAL = {"confirmed": "confirmations", "rumoured": "rumours", "denied": "denials"}
_LEVEL_WORDS = {"source": "its own", "group": "its parent's group", "kind": "its kind's", "store": "the store's"}


_DRIVER_COLUMNS = ["claim_id", "source_id", "source", "stance", "llr", "direction", "explanation"]
_PRIOR_COLUMNS = ["claim_id", "topic", "true", "resolved", "rate", "explanation"]


def _concat(frames: list, columns: list) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def _drivers(model: Model, f: _Features, params: Params) -> pd.DataFrame:
    """Each vote's term and a sentence an analyst can check, largest push first."""
    if not len(f.vote_code):
        return pd.DataFrame(columns=_DRIVER_COLUMNS)
    terms = _vote_terms(f, params)
    recency = " (recent calls weigh more)" if params.half_life_days is not None else ""
    names = model.evidence.sources["name"].reindex(f.vote_source).to_numpy()
    at, right, total = _most_specific(f.counts, f.vote_code, f.vote_has_group)
    level = np.array(LEVELS, dtype=object)[at]
    stance = np.array(STANCES, dtype=object)[f.vote_code]
    # what the source showed in the other direction, which tilts this one (`skill_transfer`)
    asserts = ASSERTING[f.vote_code]
    other = f.counts["source:other"]
    other_right = np.where(asserts, other[:, 1], other[:, 0])
    other_total = other.sum(axis=1) if params.skill_transfer > 0 else np.zeros(len(other))
    other_words = np.where(asserts, "its denials", "its assertions")
    push = np.select([terms > 0.05, terms < -0.05, terms == 0], _PUSH[:3], _PUSH[3])
    # the votes of one source and stance on the open claims read one record: each distinct
    # sentence is written once (3.5 million votes at ten million reports, a few thousand sentences)
    sentence = lru_cache(maxsize=None)(partial(_driver_sentence, recency))
    words = [sentence(*vote) for vote in zip(
        names.tolist(), stance.tolist(), level.tolist(), right.tolist(), total.tolist(), other_right.tolist(),
        other_total.tolist(), other_words.tolist(), push.tolist())]
    out = pd.DataFrame({
        "claim_id": f.queries["claim_id"].to_numpy()[f.vote_query],
        "source_id": f.vote_source, "source": names, "stance": stance, "llr": terms,
        "direction": np.sign(terms), "explanation": words,
    })
    return out.sort_values("llr", key=np.abs, ascending=False, kind="stable").reset_index(drop=True)


_PUSH = ("toward true", "toward false", "no push (the record does not show it either way)",
         "hardly any push (taken on true and false claims alike)")  # a term above 0.05, below -0.05, 0, else


def _driver_sentence(recency: str, name, st: str, lv: str, r: float, t: float, o_right: float, o_total: float,
                     o_words: str, push: str) -> str:
    """One vote's sentence: who took which stance, the record it is read against, and its push."""
    record = (f"{_LEVEL_WORDS[lv]} {_PLURAL[st]} were right {_count(r)} time(s) in {_count(t)}{recency}"
              if t > 0 else f"no {_PLURAL[st][:-1]} on record yet")
    if o_total > 0:
        record += f"; {o_words} were right {_count(o_right)} time(s) in {_count(o_total)} (skill carries over)"
    return f"{name} {st}; {record} -> {push}"


def _count(value: float) -> str:
    return f"{value:g}" if value == int(value) else f"{value:.1f}"


def _prior_notes(f: _Features, params: Params) -> pd.DataFrame:
    """Where each claim's prior comes from, per topic: 'topic aleppo: 7 of 10 resolved claims true'."""
    if not len(f.topic_query):
        return pd.DataFrame(columns=_PRIOR_COLUMNS)
    strength = params.topic_strength
    mean = f.topic_mean[f.topic_query]
    rate = (f.topic_true + strength * mean) / (f.topic_resolved + strength)
    words = []
    for topic, t, n, m, r in zip(f.topic_name, f.topic_true, f.topic_resolved, mean, rate):
        label = "untagged claims" if topic == UNTAGGED else f"topic {topic}"
        if n > 0.5:
            words.append(f"{label}: {_count(t)} of {_count(n)} resolved claims true -> prior {r:.2f} "
                         f"(shrunk toward the topics' mean {m:.2f})")
        else:
            words.append(f"{label}: no resolved claim yet -> the topics' mean {m:.2f}")
    return pd.DataFrame({"claim_id": f.queries["claim_id"].to_numpy()[f.topic_query], "topic": f.topic_name,
                         "true": f.topic_true, "resolved": f.topic_resolved, "rate": rate, "explanation": words})
