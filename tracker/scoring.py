"""Reliability scoring: how each source's claims held up, with honest uncertainty.

Source reliability, grades and credibility live here. `p_true` is now `tracker.forecast`'s (a
stated, fitted model); `predict` and `predict_at_report_time` below are the *previous scorer*,
kept as a named baseline (`tracker calibration` and the Calibration page compare against it).

Pure functions over `tracker.evidence.Evidence` frames (no I/O, no Streamlit), vectorised with
pandas, numpy and scipy.

**Credit.** On a claim whose verdict in force is `true` (1), `false` (0) or `partly_true` (0.5), a
source that asserted it (`confirmed`, or `rumoured` at `rumour_weight`) earns the verdict's value,
a source that `denied` it earns one minus that value. `unverifiable` counts for nothing; claims
without a verdict are *pending*. Each source counts once per claim: its latest stance reported
before the outcome became known (reports made after it are not predictions). A relayed report
("Western media, drawing on Jihadi sources") credits the relaying source and its origin; when the
origin also reported the claim itself, its own report is the one that counts; a source's own
report also outweighs a later relay of someone else's (the relay is its origin's information).

**Reliability.** Per source, a Beta posterior: the prior's mean is the share of credit earned
across the whole store (empirical Bayes, by Laplace's rule so that it is never 0 or 1), its
strength `prior_strength` pseudo-reports (4 by default: a handful of real reports outweighs it,
two lucky ones do not). The reliability is the posterior mean with an equal-tailed credible
interval (90% by default, the Beta quantiles by scipy.special.betaincinv); sources are ranked by the interval's lower end, so
two lucky claims do not outrank forty good ones (unless nearly every source in the store is
nearly always right, when the prior itself says a new source is probably excellent). An optional
half-life discounts credit by the age of the outcome, measured from `as_of` (default: now).

**Grades.** Admiralty/NATO source reliability, derived from the interval and the record:

| grade | NATO wording | rule here |
| --- | --- | --- |
| A | completely reliable | lower bound >= 0.85 |
| B | usually reliable | lower bound >= 0.70 |
| C | fairly reliable | lower bound >= 0.50 |
| D | not usually reliable | otherwise (the record is mixed) |
| E | unreliable | upper bound < 0.50 (more often wrong than right, with confidence) |
| F | reliability cannot be judged | fewer than `min_record` resolved reports (weighted) |

Information credibility (1-6) of a claim comes from its reports, with every relay of one origin
counted as that origin: 1 confirmed by two or more independent sources and denied by none,
2 confirmed by one and denied by none, 3 only rumoured, 4 asserted and denied (contested),
5 only denied, 6 no reports (cannot be judged).

**Likely truth.** `p_true` of a claim combines, in log-odds, the base rate (the share of resolved
claims that were true, by Laplace's rule) with one term per independent origin: for an assertion, the logit of that
source's accuracy when asserting minus the logit of the base rate (scaled by `rumour_weight` for a
rumour); for a denial, the same with its accuracy when denying. Unknown sources carry the store's
average accuracy for that stance. Relays add nothing beyond their origin.

**Self-scoring.** `predict_at_report_time` gives every claim's `p_true` from only the outcomes
known strictly before the claim was first reported and the reports made by then; `calibration`
scores those predictions on resolved claims (Brier score beside the running base rate's, a
reliability table by bins, and the observed truth rate of rumoured, confirmed and denied claims).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from tracker.evidence import Evidence
from tracker.pairs import VALUES

VERDICT_VALUE = {**VALUES, "unverifiable": np.nan}  # the values the kept pairs carry; unverifiable credits nobody
GRADE_WORDS = {
    "A": "completely reliable", "B": "usually reliable", "C": "fairly reliable",
    "D": "not usually reliable", "E": "unreliable", "F": "reliability cannot be judged",
}
CREDIBILITY_WORDS = {
    1: "confirmed by other sources", 2: "probably true", 3: "possibly true", 4: "doubtful",
    5: "improbable", 6: "truth cannot be judged",
}
_EPS = 1e-4


@dataclass(frozen=True)
class ScoringConfig:
    """The knobs of scoring, with the documented defaults."""

    rumour_weight: float = 0.5
    prior_strength: float = 4.0
    level: float = 0.9
    half_life_days: float | None = None
    min_record: float = 5.0

    def __post_init__(self) -> None:
        if not 0 <= self.rumour_weight <= 1:
            raise ValueError("rumour_weight must be between 0 and 1")
        if not 0 < self.prior_strength < math.inf:
            raise ValueError("prior_strength must be positive")
        if not 0 < self.level < 1:
            raise ValueError("level must be between 0 and 1, e.g. 0.9 for a 90% interval")
        # NaN fails every comparison, so "not 0 < x < inf" refuses it as well as infinity
        if self.half_life_days is not None and not 0 < self.half_life_days < math.inf:
            raise ValueError("half_life_days must be a positive number of days, e.g. 30")


def _logit(p):
    p = np.clip(p, _EPS, 1 - _EPS)
    return np.log(p) - np.log1p(-p)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _as_timestamp(as_of) -> pd.Timestamp | None:
    if as_of is None:
        return None
    stamp = pd.Timestamp(as_of)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _is(values: pd.Series, stance: str) -> np.ndarray:
    """`values == stance` as a numpy bool array (missing values: False), compared without
    converting Arrow-backed strings to Python objects."""
    return (values == stance).fillna(False).to_numpy(dtype=bool)


def _claim_refs(claims: pd.DataFrame):
    """Each claim's reference, or its id as text when it has none."""
    refs = claims["ref"]
    if refs.dtype == pd.StringDtype(na_value=np.nan) and not (refs.isna() | (refs == "")).any():
        # every claim has one: the texts as they are held, in the dtype a frame infers for a list
        # of them (not 600,000 Python strings made, listed, then converted back)
        return refs.array
    if isinstance(refs.dtype, pd.StringDtype) and claims.index.dtype.kind in "iu":
        given = (refs.notna() & (refs != "")).to_numpy(dtype=bool)
        return np.where(given, refs.to_numpy(dtype=object, na_value=""),
                        claims.index.astype(str).to_numpy(dtype=object)).tolist()
    return [ref if isinstance(ref, str) and ref else str(cid) for cid, ref in zip(claims.index, refs)]


# -- building blocks -----------------------------------------------------------------------
def verdicts_as_of(outcomes: pd.DataFrame, as_of=None) -> pd.DataFrame:
    """The verdict in force per claim (index claim_id): the newest revision known by `as_of`."""
    stamp = _as_timestamp(as_of)
    known = outcomes if stamp is None else outcomes[outcomes["decided_at"] <= stamp]
    latest = known.sort_values("id").drop_duplicates("claim_id", keep="last").set_index("claim_id")
    latest = latest[["verdict", "decided_at"]].copy()
    latest["value"] = verdict_values(latest["verdict"])
    return latest


def verdict_values(verdicts: pd.Series) -> np.ndarray:
    """Each verdict's `VERDICT_VALUE` (NaN for any other), as `map` gives it but compared
    without converting Arrow-backed strings to Python objects."""
    values = np.full(len(verdicts), np.nan)
    for name, value in VERDICT_VALUE.items():
        values[_is(verdicts, name)] = value
    return values


def latest_stances(reports: pd.DataFrame, key: str = "claim_id", time_rank: np.ndarray | None = None) -> pd.DataFrame:
    """One row per (claim, source): relays also speak for their origin; own reports win, latest last.

    Adds `origin` (whose information the row carries) and `first_at` (when the source first took
    the stance it ends with). `key` may name another grouping column (e.g. a revision id).
    `time_rank` (optional, per row) orders the rows as (reported_at, row order) does within each
    key; given, one sort replaces three (see `_Stances`).
    """
    return _Stances(reports, key, time_rank).latest()


class _Stances:
    """The stance rows of a reports frame (own reports plus the ones relays imply), sorted once.

    Rows are ordered as `latest_stances` needs them: by (key, source), implied before relayed
    before own, then by time, ties in the order of the reports. `latest(mask)` is then `latest_stances(reports[mask])`
    for any row subset without sorting again, which lets one sort serve the credit rows, the
    pending counts and the votes of a scoring run.
    """

    def __init__(self, reports: pd.DataFrame, key: str = "claim_id", time_rank: np.ndarray | None = None) -> None:
        self.reports, self.key = reports, key
        n = len(reports)
        self.relayed = np.asarray(reports["via_source_id"] >= 0, dtype=bool)
        implied = np.flatnonzero(self.relayed)
        row = np.concatenate([np.arange(n), implied])
        # rank within a (claim, source): implied by someone's relay 0, relayed by the source 1,
        # the source's own report 2; the highest rank wins, then the latest time
        direct = np.concatenate([np.where(self.relayed, 1, 2).astype(np.int8), np.zeros(len(implied), np.int8)])
        speaker = np.concatenate([reports["source_id"].to_numpy(), reports["via_source_id"].to_numpy()[implied]])
        keys = speaker if key == "source_id" else reports[key].to_numpy()[row]
        group = _pair_codes(_sortable(keys), _sortable(speaker))
        when = _time_key(reports["reported_at"])[row]
        # stable: equal (key, source, direct, time) keep the reports' order, as sort_values(kind="stable")
        order = _stance_order(group, direct, when, None if time_rank is None else np.asarray(time_rank)[row])
        self.row, self.direct, self.when = row[order], direct[order], when[order]
        group = group[order]
        starts = np.ones(len(group), dtype=bool)
        starts[1:] = group[1:] != group[:-1]
        self.group = np.cumsum(starts) - 1  # dense (key, source) id, ascending
        self.groups = int(self.group[-1]) + 1 if len(group) else 0

    @cached_property
    def code(self) -> np.ndarray:
        """Each sorted row's stance as a code (missing: -1), once `select` asks for the firsts."""
        codes, _ = pd.factorize(self.reports["stance"])
        return codes.astype(np.int8)[self.row]  # a few stances: one byte each, not eight

    def select(self, mask: np.ndarray | None = None, firsts: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
        """Positions (in sorted order) of the latest row per (key, source) among the reports in
        `mask`, and (unless not `firsts`) the reports row of each one's first report of its final stance."""
        take = np.arange(len(self.row)) if mask is None else np.flatnonzero(mask[self.row])
        group = self.group[take]
        last = np.ones(len(take), dtype=bool)
        last[:-1] = group[1:] != group[:-1]
        chosen = take[last]
        if not firsts:
            return chosen, None
        first = np.full(len(chosen), -1, dtype=np.int64)
        if not len(chosen):
            return chosen, first
        # the earliest time the final stance was taken in each (key, source), as groupby().min() per
        # (key, source, stance) would give it (a missing stance has none). `take` runs (key, source)
        # by (key, source), so each one's rows are a segment, and so are those of its final stance
        segment = np.cumsum(np.concatenate([[True], last[:-1]])) - 1
        code = self.code[take]
        final = code == self.code[chosen][segment]
        final &= code >= 0
        known, segment = take[final], segment[final]
        del code, final
        if len(known):
            starts = np.flatnonzero(np.concatenate([[True], segment[1:] != segment[:-1]]))
            when = self.when[known]
            hit = when == np.repeat(np.minimum.reduceat(when, starts), np.diff(np.append(starts, len(known))))
            first[segment[hit]] = self.row[known[hit]]  # ties: the last in order, as before
        return chosen, first

    def latest(self, mask: np.ndarray | None = None) -> pd.DataFrame:
        """`latest_stances(reports[mask], key)` (every report when `mask` is None)."""
        chosen, first = self.select(mask)
        rows = self.row[chosen]
        reports = self.reports
        source = reports["source_id"].to_numpy()[rows]
        via = reports["via_source_id"].to_numpy()[rows]
        frame = {}
        for column in dict.fromkeys([self.key, "claim_id", "source_id", "stance", "reported_at", "via_source_id"]):
            frame[column] = reports[column].array.take(rows)
        frame["source_id"] = np.where(self.direct[chosen] >= 1, source, via)
        frame["origin"] = np.where(self.relayed[rows], via, source)
        frame["first_at"] = reports["reported_at"].array.take(first, allow_fill=True)
        return pd.DataFrame(frame, copy=False)  # every column is a new array: no copy into one block


def _stance_order(group: np.ndarray, direct: np.ndarray, when: np.ndarray, rank: np.ndarray | None) -> np.ndarray:
    """`np.lexsort((when, direct, group))`; with `rank` (each row's place in the order of time,
    then row, within a group) the same order by one stable sort of a combined key, which is several
    times faster, when that key fits in 62 bits."""
    if rank is not None and len(group):
        width = int(rank.max()) + 1
        if (int(group.max()) + 1) * 3 * width < 2**62:
            return np.argsort((group * 3 + direct) * width + rank, kind="stable")
    return np.lexsort((when, direct, group))


def _sortable(values: np.ndarray) -> np.ndarray:
    """Non-negative int64 codes ordered as the values sort (integers shifted, others ranked)."""
    if values.dtype.kind in "iub":
        values = values.astype(np.int64, copy=False)
        return values - values.min() if len(values) else values
    return pd.factorize(values, sort=True)[0].astype(np.int64) + 1  # missing (-1) first


def _pair_codes(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """One int64 per (first, second) pair, ordered as the pairs are (lexicographically)."""
    if not len(first):
        return first
    width = int(second.max()) + 1
    if (int(first.max()) + 1) * width >= 2**62:  # too wide to combine: rank each side first
        first, second = np.unique(first, return_inverse=True)[1], np.unique(second, return_inverse=True)[1]
        width = int(second.max()) + 1
    return first * width + second


def _time_key(times: pd.Series) -> np.ndarray:
    """Times as int64 that sort as sort_values does (missing last)."""
    if not isinstance(times.dtype, pd.DatetimeTZDtype) and times.dtype.kind != "M":
        times = pd.to_datetime(times, utc=True)
    key = times.array.asi8.copy()
    key[key == np.iinfo(np.int64).min] = np.iinfo(np.int64).max  # NaT: sorted last, never the minimum
    return key


def _credit_rows(reports: pd.DataFrame, verdicts: pd.DataFrame, config: ScoringConfig, as_of=None,
                 stances: _Stances | None = None) -> pd.DataFrame:
    """The scored (claim, source) rows: correctness and weight of each source's stance."""
    resolved = verdicts[verdicts["value"].notna()]
    stances = _Stances(reports) if stances is None else stances
    return _credited(stances.latest(_made_by_verdict(reports, resolved)), resolved, config, as_of)


def _made_by_verdict(reports: pd.DataFrame, resolved: pd.DataFrame) -> np.ndarray:
    """Which reports were made by the time their claim's verdict (in `resolved`) became known."""
    decided = resolved["decided_at"].array.take(resolved.index.get_indexer(reports["claim_id"]), allow_fill=True)
    return np.asarray(reports["reported_at"].array <= decided, dtype=bool)


def _credited(rows: pd.DataFrame, resolved: pd.DataFrame, config: ScoringConfig, as_of) -> pd.DataFrame:
    """The latest stances `rows` with their verdict, correctness, weight and lead, as columns."""
    # the verdict of each row's claim (every row's claim has one), as columns: a join would copy every row
    verdict = resolved.index.get_indexer(rows["claim_id"])
    rows["value"] = resolved["value"].to_numpy()[verdict]
    rows["decided_at"] = resolved["decided_at"].array.take(verdict)
    asserted = ~_is(rows["stance"], "denied")
    value = rows["value"].to_numpy()
    rows["asserted"] = asserted
    rows["correct"] = np.where(asserted, value, 1.0 - value)
    weight = np.where(_is(rows["stance"], "rumoured"), config.rumour_weight, 1.0)
    if config.half_life_days is not None and len(rows):
        now = _as_timestamp(as_of) or pd.Timestamp.now(tz="UTC")
        age_days = (now - rows["decided_at"]).dt.total_seconds().to_numpy() / 86400.0
        weight = weight * np.power(0.5, np.maximum(age_days, 0) / config.half_life_days)
    rows["weight"] = weight
    lead = (rows["decided_at"].array - rows["first_at"].array).total_seconds()
    lead /= 86400.0  # in place: at millions of rows each temporary column is tens of megabytes
    rows["lead_days"] = lead
    return rows


def _posterior(successes, trials, prior_mean: float, config: ScoringConfig):
    # beta.ppf's own computation, without loading scipy.stats (~1.5 s); imported here, not above, so
    # that a page showing scores kept beside the store (the dashboard's Overview) loads no SciPy
    from scipy.special import betaincinv

    a = prior_mean * config.prior_strength + successes
    b = (1 - prior_mean) * config.prior_strength + (trials - successes)
    tail = (1 - config.level) / 2
    return a / (a + b), betaincinv(a, b, tail), betaincinv(a, b, 1 - tail)


def grade(lower, upper, trials, config: ScoringConfig = ScoringConfig()) -> np.ndarray:
    """Admiralty letters A-F from interval bounds and (weighted) resolved counts; see module doc."""
    lower, upper, trials = np.asarray(lower), np.asarray(upper), np.asarray(trials)
    letters = np.select(
        [trials < config.min_record, lower >= 0.85, lower >= 0.70, lower >= 0.50, upper < 0.50],
        ["F", "A", "B", "C", "E"], default="D",
    )
    return letters


def _shrunk_rate(total: float, count: float) -> float:
    # Laplace's rule: one true and one false pseudo-claim, so a single resolved claim cannot
    # make the base rate 0 or 1
    return (total + 1.0) / (count + 2.0)


def base_rate(verdicts: pd.DataFrame) -> float:
    """The share of resolved claims that were true (partly true counts half), by Laplace's rule."""
    values = verdicts["value"].dropna()
    return _shrunk_rate(float(values.sum()), len(values))


# -- scores --------------------------------------------------------------------------------
def score_sources(evidence: Evidence, as_of=None, config: ScoringConfig = ScoringConfig()) -> pd.DataFrame:
    """Every source's reliability as of a date, ranked by the interval's lower end (see module doc)."""
    stamp = _as_timestamp(as_of)
    reports = evidence.reports if stamp is None else evidence.reports[evidence.reports["reported_at"] <= stamp]
    verdicts = verdicts_as_of(evidence.outcomes, stamp)
    return _score_sources(evidence, reports, verdicts, None, stamp, config)


def _score_sources(evidence: Evidence, reports: pd.DataFrame, verdicts: pd.DataFrame, stances: _Stances | None,
                   stamp: pd.Timestamp | None, config: ScoringConfig) -> pd.DataFrame:
    stances = _Stances(reports) if stances is None else stances
    # one per (claim, source) on claims without a verdict: count the groups, no frame needed
    chosen, _ = stances.select(~reports["claim_id"].isin(verdicts.index).to_numpy(), firsts=False)
    speakers = np.where(stances.direct[chosen] >= 1, reports["source_id"].to_numpy()[stances.row[chosen]],
                        reports["via_source_id"].to_numpy()[stances.row[chosen]])
    pending = pd.Series(speakers).value_counts()
    resolved = verdicts[verdicts["value"].notna()]
    rows = stances.latest(_made_by_verdict(reports, resolved))
    # built here, the sort's arrays (as long as the reports) go before the rows are counted; a
    # caller that passed its own keeps them
    del chosen, speakers, stances
    by_source, totals = tallies_from_rows(_credited(rows, resolved, config, stamp), pending)
    return table_from_tallies(evidence.sources, by_source, totals, stamp, config)


def tallies_from_rows(rows: pd.DataFrame, pending: pd.Series) -> tuple[pd.DataFrame, dict[str, float]]:
    """Per source (index source_id) the sums reliability comes from, and the store-wide sums of the
    priors: the in-memory twin of `tracker.tallies.source_tallies`, from the credit rows."""
    # summed by numpy on the rows' own columns: no copy of the (millions of rows) frame per sum
    codes, ids = pd.factorize(rows["source_id"], sort=True)
    n = len(ids)
    weight, correct = rows["weight"].to_numpy(dtype=float), rows["correct"].to_numpy(dtype=float)
    earned = weight * correct
    asserted = rows["asserted"].to_numpy(dtype=bool)

    def count(mask=None):
        return np.bincount(codes if mask is None else codes[mask], minlength=n)

    def total(values, mask=None):
        return np.bincount(codes if mask is None else codes[mask],
                           weights=values if mask is None else values[mask], minlength=n)

    table = pd.DataFrame({"resolved": count(), "successes": total(earned), "trials": total(weight)},
                         index=pd.Index(ids, name="source_id"))
    totals = {"earned": float(earned.sum()), "weight": float(weight.sum())}
    for name, mask in (("asserted", asserted), ("denied", ~asserted)):
        table[f"{name}_n"], table[f"{name}_w"], table[f"{name}_s"] = count(mask), total(weight, mask), total(earned, mask)
        totals[f"{name}_earned"] = float(earned[mask].sum())
        totals[f"{name}_weight"] = float(weight[mask].sum())
    for stance in ("rumoured", "confirmed"):
        mask = (rows["stance"] == stance).to_numpy(dtype=bool, na_value=False)
        said = count(mask)
        table[f"{stance}_n"] = said
        table[f"{stance}_right"] = np.divide(total(correct, mask), said, out=np.full(n, np.nan), where=said > 0)
    table = table.reindex(table.index.union(pending.index))
    table["pending"] = pending
    right = correct >= 1.0
    lead = pd.Series(rows["lead_days"].to_numpy(dtype=float)[right]).groupby(codes[right]).median()
    table["median_lead_days"] = pd.Series(lead.to_numpy(), index=ids[lead.index.to_numpy()])
    return table, totals


def table_from_tallies(sources: pd.DataFrame, by_source: pd.DataFrame, totals: dict[str, float],
                       stamp: pd.Timestamp | None, config: ScoringConfig) -> pd.DataFrame:
    """The scores table (see `score_sources`) from per-source tallies, in memory or from the database alike."""
    def column(name, fill=None):
        values = by_source[name].reindex(sources.index)
        return values if fill is None else values.fillna(fill)

    table = pd.DataFrame(index=sources.index)
    table["source"] = sources["name"]
    table["kind"] = sources["kind"]
    table["resolved"] = column("resolved", 0).astype(int)
    table["successes"] = column("successes", 0.0).astype(float)
    table["trials"] = column("trials", 0.0).astype(float)
    table["pending"] = column("pending", 0).astype(int)

    prior = _shrunk_rate(totals["earned"], totals["weight"])
    mean, lower, upper = _posterior(table["successes"].to_numpy(), table["trials"].to_numpy(), prior, config)
    table["reliability"], table["lower"], table["upper"] = mean, lower, upper
    table["grade"] = grade(lower, upper, table["trials"].to_numpy(), config)
    table["prior_only"] = table["trials"] <= 0

    for name in ("asserted", "denied"):
        part_prior = _shrunk_rate(totals[f"{name}_earned"], totals[f"{name}_weight"])
        n = column(f"{name}_w", 0.0).to_numpy(dtype=float)
        s = column(f"{name}_s", 0.0).to_numpy(dtype=float)
        table[f"{name}_n"] = column(f"{name}_n", 0).astype(int)
        table[f"{name}_accuracy"] = _posterior(s, n, part_prior, config)[0]
    for stance in ("rumoured", "confirmed"):
        table[f"{stance}_n"] = column(f"{stance}_n", 0).astype(int)
        table[f"{stance}_right"] = column(f"{stance}_right").astype(float)
    table["median_lead_days"] = column("median_lead_days").astype(float)
    table.attrs.update(prior_mean=prior, level=config.level, as_of=stamp)
    table = table.reset_index().rename(columns={"index": "source_id", "id": "source_id"})
    return table.sort_values(["lower", "reliability", "resolved", "source"],
                             ascending=[False, False, False, True], kind="stable").reset_index(drop=True)


def most_and_least(scores: pd.DataFrame, n: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The most reliable sources (by the interval's low end) and the least reliable (by its high end),
    never one source in both: with fewer than 2n to rank, they are split in two. Ranked are the
    sources with a grade (A-E) when at least two have one, else every source with a resolved claim."""
    graded = scores[(scores["resolved"] > 0) & (scores["grade"] != "F")]
    judged = (graded if len(graded) >= 2 else scores[scores["resolved"] > 0]).sort_values(["lower", "reliability", "resolved", "source"],
                                                        ascending=[False, False, False, True], kind="stable")
    top = min(n, (len(judged) + 1) // 2)
    most = judged.head(top)
    rest = judged.iloc[top:].sort_values(["upper", "reliability"], kind="stable")
    return most, rest.head(min(n, len(rest)))


def score_sources_in_store(engine, as_of=None, config: ScoringConfig = ScoringConfig(),
                           topic: str | None = None, on_database: bool | None = None) -> pd.DataFrame:
    """`score_sources` of the store at `engine`, aggregated on the database (`tracker.tallies`): the
    same table, in memory that grows with the sources rather than the reports. For the store as it
    is now the database sums the pairs kept on write (`tracker.pairs`), one row per (claim,
    source). As of an earlier date it must group every report again, which on SQLite (one core, no
    parallel sorts) is slower than reading the rows and counting in memory, so there the rows are
    read instead (reading neither claim texts nor, unless asked for one, topics). `on_database`
    forces one way (None: by the backend and the date; benchmarks/README.md has the figures)."""
    if on_database is None:
        on_database = engine.dialect.name != "sqlite" or as_of is None
    if not on_database:
        from tracker.evidence import load_evidence

        found = load_evidence(engine, claim_texts=False, topics=bool(topic))
        return score_sources(found.for_topic(topic) if topic else found, as_of, config)
    from tracker.tallies import source_tallies

    stamp = _as_timestamp(as_of)
    moment = None if stamp is None else stamp.to_pydatetime()
    now = moment if moment is not None else pd.Timestamp.now(tz="UTC").to_pydatetime()
    tallies = source_tallies(engine, moment, rumour_weight=config.rumour_weight,
                             half_life_days=config.half_life_days, now=now, topic=topic)
    return table_from_tallies(tallies.sources, tallies.by_source, tallies.totals, stamp, config)


def score_by_kind(scores: pd.DataFrame) -> pd.DataFrame:
    """Pooled record per source kind: resolved reports, credit share, and mean source reliability."""
    grouped = scores.groupby("kind")
    out = pd.DataFrame({
        "sources": grouped.size(),
        "resolved": grouped["resolved"].sum(),
        "pending": grouped["pending"].sum(),
        "credit_share": grouped["successes"].sum() / grouped["trials"].sum().replace(0, np.nan),
        "mean_reliability": grouped["reliability"].mean(),
    })
    return out.reset_index().sort_values("credit_share", ascending=False, na_position="last")


def reliability_over_time(evidence: Evidence, dates, config: ScoringConfig = ScoringConfig(),
                          source_ids=None) -> pd.DataFrame:
    """Scores as of each date (long format: as_of, source_id, source, reliability, lower, upper)."""
    frames = []
    for when in dates:
        table = score_sources(evidence, when, config)
        if source_ids is not None:
            table = table[table["source_id"].isin(list(source_ids))]
        frames.append(table[["source_id", "source", "resolved", "reliability", "lower", "upper", "grade"]]
                      .assign(as_of=_as_timestamp(when)))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


# -- votes and predictions -----------------------------------------------------------------
def _votes(reports: pd.DataFrame, stances: _Stances | None = None, mask: np.ndarray | None = None) -> pd.DataFrame:
    """One vote per (claim, independent origin): relays collapse into the source they relay."""
    rows = (_Stances(reports) if stances is None else stances).latest(mask)
    return rows[rows["origin"] == rows["source_id"]]


def credibility(votes: pd.DataFrame, claim_ids) -> pd.Series:
    """Information credibility 1-6 per claim from its origin-collapsed votes (see module doc)."""
    # a crosstab of claim by stance, counted with bincount (pd.crosstab is slow on many claims)
    codes, claims = pd.factorize(votes["claim_id"], sort=True)
    claims = pd.Index(claims, name=votes["claim_id"].name)
    index, at = claims.reindex(list(claim_ids))
    at = np.arange(len(index)) if at is None else at
    counted = codes >= 0
    confirmed, rumoured, denied = (
        np.bincount(codes[counted & _is(votes["stance"], name)], minlength=len(claims))
        .take(at, mode="clip") * (at >= 0)
        if len(claims) else np.zeros(len(index), dtype=np.int64)
        for name in ("confirmed", "rumoured", "denied"))
    return pd.Series(_credibility_levels(confirmed, rumoured, denied), index=index, name="credibility")


def _credibility_levels(confirmed: np.ndarray, rumoured: np.ndarray, denied: np.ndarray) -> np.ndarray:
    """Information credibility 1-6 from each claim's counts of confirmations, rumours and denials."""
    asserted = confirmed + rumoured
    return np.select(
        [asserted + denied == 0, (confirmed >= 2) & (denied == 0), (confirmed >= 1) & (denied == 0),
         (asserted > 0) & (denied == 0), (asserted > 0) & (denied > 0)],
        [6, 1, 2, 3, 4], default=5,
    )


def _vote_llr(votes: pd.DataFrame, assert_acc: pd.Series, deny_acc: pd.Series, base: float,
              config: ScoringConfig) -> np.ndarray:
    denied = _is(votes["stance"], "denied")
    acc_assert = assert_acc.reindex(votes["source_id"]).to_numpy()
    acc_deny = deny_acc.reindex(votes["source_id"]).to_numpy()
    llr_assert = _logit(acc_assert) - _logit(base)
    llr_deny = -(_logit(acc_deny) - _logit(1 - base))
    weight = np.where(_is(votes["stance"], "rumoured"), config.rumour_weight, 1.0)
    return np.where(denied, llr_deny, llr_assert * weight)


def predict(evidence: Evidence, as_of=None, config: ScoringConfig = ScoringConfig(),
            claim_ids=None) -> pd.DataFrame:
    """`p_true` for the claims open as of a date (or for `claim_ids`), with credibility and drivers."""
    stamp = _as_timestamp(as_of)
    reports = evidence.reports if stamp is None else evidence.reports[evidence.reports["reported_at"] <= stamp]
    verdicts = verdicts_as_of(evidence.outcomes, stamp)
    claims = evidence.claims if stamp is None else evidence.claims[evidence.claims["first_reported_at"] <= stamp]
    if claim_ids is None:
        claims = claims[~claims.index.isin(verdicts.index)]
    else:
        claims = claims[claims.index.isin(list(claim_ids))]
    stances = _Stances(reports)
    scores = _score_sources(evidence, reports, verdicts, stances, stamp, config).set_index("source_id")
    base = base_rate(verdicts)
    votes = _votes(reports, stances, reports["claim_id"].isin(claims.index).to_numpy())
    llr = _vote_llr(votes, scores["asserted_accuracy"], scores["denied_accuracy"], base, config)
    votes = votes.assign(llr=llr, source=scores["source"].reindex(votes["source_id"]).to_numpy())
    total = votes.groupby("claim_id")["llr"].sum().reindex(claims.index, fill_value=0.0)
    out = pd.DataFrame({
        "claim_id": claims.index,
        "claim_ref": _claim_refs(claims),
        "statement": claims["statement"].to_numpy(),
        "first_reported_at": claims["first_reported_at"].to_numpy(),
        "p_true": _sigmoid(_logit(base) + total.to_numpy()),
        "credibility": credibility(votes, claims.index).to_numpy(),
        "independent_sources": votes.groupby("claim_id").size().reindex(claims.index, fill_value=0).to_numpy(),
    })
    out.attrs.update(base_rate=base, as_of=stamp)
    drivers = votes.sort_values("llr", key=np.abs, ascending=False)
    out.attrs["drivers"] = drivers[["claim_id", "source_id", "source", "stance", "llr"]].reset_index(drop=True)
    return out.sort_values("p_true", ascending=False, kind="stable").reset_index(drop=True)


def majority_vote(evidence: Evidence, claim_ids) -> pd.Series:
    """The baseline: share of independent origins asserting each claim (0.5 with no votes)."""
    votes = _votes(evidence.reports[evidence.reports["claim_id"].isin(list(claim_ids))])
    share = (votes["stance"] != "denied").groupby(votes["claim_id"]).mean()
    return share.reindex(list(claim_ids)).fillna(0.5)


def predict_at_report_time(evidence: Evidence, config: ScoringConfig = ScoringConfig()) -> pd.DataFrame:
    """Every claim's `p_true` as it stood when first reported, from outcomes known strictly before.

    Walks time forward once: before each claim, the verdicts decided earlier are added to the
    per-source tallies (a revision replaces the verdict it revises), then the claim's reports made
    by its first-report time are combined as in `predict`. Time decay is not applied here.
    """
    # The walk is done in bulk: every change to the tallies is an event (a revision adding its
    # credit rows, the revision it replaces taking its rows back), and each claim reads the
    # running sums of the events before it. Each (source, stance column) tally adds its events
    # in the walk's order, so it holds the same sums a step-by-step walk would.
    if evidence.claims.empty:  # an empty store, or a topic nobody has used: nothing to predict
        return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in (
            ("claim_id", "int64"), ("claim_ref", object), ("statement", object),
            ("first_reported_at", "datetime64[us, UTC]"), ("p_true", float), ("base_rate", float),
            ("credibility", "int64"), ("verdict", object), ("outcome", float))})
    claims = evidence.claims.sort_values("first_reported_at", kind="stable")
    sources = evidence.sources.index
    revisions = evidence.outcomes.sort_values(["decided_at", "id"], kind="stable").reset_index(drop=True)
    revisions["value"] = revisions["verdict"].map(VERDICT_VALUE).astype(float)
    n_rev = len(revisions)
    rev_value = revisions["value"].to_numpy()

    # the credit rows each revision would bring, computed for all revisions at once
    r = evidence.reports.merge(revisions[["id", "claim_id", "value", "decided_at"]], on="claim_id")
    r = r[(r["reported_at"] <= r["decided_at"]) & r["value"].notna()].rename(columns={"id": "revision"})
    rows = latest_stances(r, key="revision")
    asserted = ~_is(rows["stance"], "denied")
    rumoured = _is(rows["stance"], "rumoured")
    step = pd.Index(revisions["id"]).get_indexer(rows["revision"])  # the revision's place in the walk
    pos = sources.get_indexer(rows["source_id"])
    if (pos < 0).any():
        raise ValueError("a report names a source that is not in evidence.sources")
    value = rev_value[step]
    w = np.where(rumoured, config.rumour_weight, 1.0)
    by_step = np.argsort(step, kind="stable")
    row_cell = (pos * 2 + np.where(asserted, 0, 1))[by_step]
    row_w = w[by_step]
    row_e = (w * np.where(asserted, value, 1.0 - value))[by_step]
    row_count = np.bincount(step, minlength=n_rev)
    row_start = np.cumsum(row_count) - row_count
    # the credit rows now live in row_*: the frames and per-row arrays go before the events are made
    # (what is kept at once is what limits this walk at ten million reports: benchmarks/README.md)
    del r, rows, asserted, rumoured, step, pos, value, w, by_step

    # which revisions take effect (an older revision decided later does not replace a newer one),
    # and which earlier one each of them replaces
    by_claim = np.argsort(revisions["claim_id"].to_numpy(), kind="stable")
    claim_of = revisions["claim_id"].to_numpy()[by_claim]
    new_claim = np.ones(n_rev, dtype=bool)
    new_claim[1:] = claim_of[1:] != claim_of[:-1]
    ids = revisions["id"].to_numpy(dtype=np.int64)[by_claim]  # int64 also when there are none
    newest = pd.Series(ids).groupby(np.cumsum(new_claim)).cummax().to_numpy()
    applied = new_claim.copy()
    applied[1:] |= ids[1:] >= newest[:-1]
    applied_steps = by_claim[applied]
    replaces = np.full(len(applied_steps), -1)
    same = ~new_claim[applied][1:]
    replaces[1:][same] = applied_steps[:-1][same]

    # events in the walk's order: (step, 0) takes back the replaced verdict, (step, 1) adds the new
    back = replaces >= 0
    event_rev = np.concatenate([replaces[back], applied_steps])
    event_step = np.concatenate([applied_steps[back], applied_steps])
    event_sub = np.concatenate([np.zeros(back.sum(), np.int64), np.ones(len(applied_steps), np.int64)])
    event_sign = np.concatenate([np.full(back.sum(), -1.0), np.ones(len(applied_steps))])
    walk = np.lexsort((event_sub, event_step))
    event_rev, event_step, event_sign = event_rev[walk], event_step[walk], event_sign[walk]
    # the base rate's running sums (unverifiable verdicts do not count)
    counts = ~np.isnan(rev_value[event_rev])
    value_step = event_step[counts]
    value_sum = np.cumsum(event_sign[counts] * rev_value[event_rev[counts]])
    value_n = np.cumsum(event_sign[counts].astype(np.int64))
    # the tallies' events, one per credit row
    lengths = row_count[event_rev]
    take = np.repeat(row_start[event_rev] - (np.cumsum(lengths) - lengths), lengths) + np.arange(lengths.sum())
    cell = row_cell[take]
    t_step = np.repeat(event_step, lengths)
    d_trials = np.repeat(event_sign, lengths) * row_w[take]
    d_earned = np.repeat(event_sign, lengths) * row_e[take]
    col = cell % 2
    totals_t = [np.cumsum(d_trials[col == c]) for c in (0, 1)]
    totals_e = [np.cumsum(d_earned[col == c]) for c in (0, 1)]
    totals_step = [t_step[col == c] for c in (0, 1)]
    by_cell = np.argsort(cell, kind="stable")  # the walk's order within each cell
    cell = cell[by_cell]  # one at a time: an old array goes as its sorted copy is made
    t_step = t_step[by_cell]
    d_trials = d_trials[by_cell]
    d_earned = d_earned[by_cell]
    bounds = np.flatnonzero(np.r_[True, cell[1:] != cell[:-1], True]) if len(cell) else np.array([0])
    cum_t, cum_e = np.empty_like(d_trials), np.empty_like(d_earned)
    for a, b in itertools.pairwise(bounds.tolist()):  # one tally at a time, added in order like the walk
        cum_t[a:b] = np.cumsum(d_trials[a:b])
        cum_e[a:b] = np.cumsum(d_earned[a:b])
    cell_key = cell * (n_rev + 1) + t_step
    del lengths, take, t_step, d_trials, d_earned, col, by_cell, bounds
    del row_cell, row_w, row_e, event_rev, event_step, event_sign

    # each claim sees the revisions decided strictly before it was first reported
    seen = revisions["decided_at"].array.searchsorted(claims["first_reported_at"].array, side="left")
    seen = np.maximum.accumulate(seen) if len(seen) else seen
    known = np.searchsorted(value_step, seen, side="left")
    total = np.where(known > 0, value_sum[np.maximum(known - 1, 0)] if len(value_sum) else 0.0, 0.0)
    count = np.where(known > 0, value_n[np.maximum(known - 1, 0)] if len(value_n) else 0, 0)
    base_out = (total + 1.0) / (count + 2.0)  # as _shrunk_rate
    logit = _logit(base_out)

    # the votes each claim has at its first-report time
    first = evidence.claims["first_reported_at"]
    at_start = evidence.reports[evidence.reports["reported_at"] <= evidence.reports["claim_id"].map(first)]
    votes = _votes(at_start)
    del at_start
    cred = credibility(votes, claims.index)
    if len(votes):
        which = claims.index.get_indexer(votes["claim_id"])
        denied = _is(votes["stance"], "denied")
        w = np.where(_is(votes["stance"], "rumoured"), config.rumour_weight, 1.0)
        vpos = sources.get_indexer(votes["source_id"])
        vcell = vpos * 2 + denied.astype(np.int64)
        vseen = seen[which]

        def tally(cum: np.ndarray) -> np.ndarray:
            at = np.searchsorted(cell_key, vcell * (n_rev + 1) + vseen, side="left") - 1
            ok = (at >= 0) & (cell[np.maximum(at, 0)] == vcell) if len(cell) else np.zeros(len(vcell), bool)
            return np.where(ok, cum[np.maximum(at, 0)] if len(cum) else 0.0, 0.0)

        def column_total(c: np.ndarray, sums: list) -> np.ndarray:
            out = np.zeros(len(c))
            for k in (0, 1):
                at = np.searchsorted(totals_step[k], vseen, side="left") - 1
                got = np.where(at >= 0, sums[k][np.maximum(at, 0)] if len(sums[k]) else 0.0, 0.0)
                out = np.where(c == k, got, out)
            return out

        cols = denied.astype(np.int64)
        prior = (column_total(cols, totals_e) + 1.0) / (column_total(cols, totals_t) + 2.0)  # as _shrunk_rate
        k = config.prior_strength
        acc = (prior * k + tally(cum_e)) / (k + tally(cum_t))
        vbase = base_out[which]
        llr = np.where(denied, -(_logit(acc) - _logit(1 - vbase)), w * (_logit(acc) - _logit(vbase)))
        # votes are grouped by claim; sum each claim's as one array sum, as the walk did
        order = np.argsort(which, kind="stable")
        which, llr = which[order], llr[order]
        starts = np.flatnonzero(np.r_[True, which[1:] != which[:-1]])
        logit = logit.copy()
        logit[which[starts]] += _segment_sums(llr, starts)
    p_out = _sigmoid(logit)
    now = verdicts_as_of(evidence.outcomes)
    out = pd.DataFrame({
        "claim_id": claims.index,
        "claim_ref": _claim_refs(claims),
        "statement": claims["statement"].to_numpy(),
        "first_reported_at": claims["first_reported_at"].to_numpy(),
        "p_true": p_out,
        "base_rate": base_out,
        "credibility": cred.to_numpy(),
        "verdict": now["verdict"].reindex(claims.index).to_numpy(),
        "outcome": now["value"].reindex(claims.index).to_numpy(),
    })
    return out.reset_index(drop=True)


def _segment_sums(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """`values[a:b].sum()` for each segment starting at `starts`, to the last bit: numpy adds
    fewer than 8 numbers left to right and more in pairs (np.add.reduceat does neither)."""
    ends = np.r_[starts[1:], len(values)]
    lengths = ends - starts
    out = values[starts].copy()
    for k in range(1, 7):
        more = lengths > k
        if not more.any():
            break
        out[more] += values[starts[more] + k]
    for i in np.flatnonzero(lengths >= 8):
        out[i] = values[starts[i]:ends[i]].sum()
    return out


# -- self-scoring --------------------------------------------------------------------------
@dataclass
class Calibration:
    """How the tracker's own at-report-time predictions held up."""

    claims: int
    brier: float
    base_rate_brier: float
    accuracy: float
    table: pd.DataFrame  # bin, predicted, observed, claims
    by_stance: pd.DataFrame  # stance, claims (each claim once per stance), truth_rate
    by_source_stance: pd.DataFrame  # source, stance, claims, truth_rate


def calibration(evidence: Evidence, predictions: pd.DataFrame | None = None, bins: int = 10,
                config: ScoringConfig = ScoringConfig()) -> Calibration:
    """Brier score, reliability table and truth rate by stance for the at-report-time predictions."""
    if predictions is None:
        predictions = predict_at_report_time(evidence, config)
    scored = predictions[predictions["outcome"].notna()]
    y = scored["outcome"].to_numpy()
    p = scored["p_true"].to_numpy()
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    table = pd.DataFrame({"bin": which, "p": p, "y": y}).groupby("bin").agg(
        predicted=("p", "mean"), observed=("y", "mean"), claims=("y", "size")).reset_index()
    table["bin"] = [f"{edges[b]:.1f}-{edges[b + 1]:.1f}" for b in table["bin"]]
    # the stances scored as predictions: each source's last stance before the verdict was known
    rows = _credit_rows(evidence.reports, verdicts_as_of(evidence.outcomes), config)
    # overall, a claim counts once per stance it was given, however many sources gave it
    per_claim = rows.drop_duplicates(["claim_id", "stance"])
    by_stance = per_claim.groupby("stance")["value"].agg(claims="size", truth_rate="mean").reset_index()
    per_source = rows.groupby(["source_id", "stance"])["value"].agg(claims="size", truth_rate="mean").reset_index()
    per_source.insert(0, "source", evidence.sources["name"].reindex(per_source["source_id"]).to_numpy())
    n = len(scored)
    decided = (y == 0.0) | (y == 1.0)  # accuracy needs a yes or a no: partly true claims are left out
    return Calibration(
        claims=n,
        brier=float(np.mean((p - y) ** 2)) if n else float("nan"),
        base_rate_brier=float(np.mean((scored["base_rate"].to_numpy() - y) ** 2)) if n else float("nan"),
        accuracy=float(np.mean((p[decided] > 0.5) == (y[decided] == 1.0))) if decided.any() else float("nan"),
        table=table,
        by_stance=by_stance,
        by_source_stance=per_source.drop(columns=["source_id"]),
    )
