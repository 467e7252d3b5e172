"""Reliability scoring: how each source's claims held up, with honest uncertainty.

Pure functions over `tracker.evidence.Evidence` frames (no I/O, no Streamlit), vectorised with
pandas, numpy and scipy.

**Credit.** On a claim whose verdict in force is `true` (1), `false` (0) or `partly_true` (0.5), a
source that asserted it (`confirmed`, or `rumoured` at `rumour_weight`) earns the verdict's value,
a source that `denied` it earns one minus that value. `unverifiable` counts for nothing; claims
without a verdict are *pending*. Each source counts once per claim: its latest stance reported
before the outcome became known (reports made after it are not predictions). A relayed report
("Western media, drawing on Jihadi sources") credits the relaying source and its origin; when the
origin also reported the claim itself, its own report is the one that counts.

**Reliability.** Per source, a Beta posterior: the prior's mean is the share of credit earned
across the whole store (empirical Bayes, by Laplace's rule so that it is never 0 or 1), its strength `prior_strength` pseudo-reports (4 by
default: a handful of real reports outweighs it, two lucky ones do not). The reliability is the
posterior mean with an equal-tailed credible interval (90% by default, scipy's beta.ppf); sources
are ranked by the interval's lower end, so two lucky claims never outrank forty good ones. An
optional half-life discounts credit by the age of the outcome.

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

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import beta as beta_dist

from tracker.evidence import Evidence

VERDICT_VALUE = {"true": 1.0, "false": 0.0, "partly_true": 0.5, "unverifiable": np.nan}
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
        if self.prior_strength <= 0:
            raise ValueError("prior_strength must be positive")
        if not 0 < self.level < 1:
            raise ValueError("level must be between 0 and 1, e.g. 0.9 for a 90% interval")
        if self.half_life_days is not None and self.half_life_days <= 0:
            raise ValueError("half_life_days must be positive")


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


# -- building blocks -----------------------------------------------------------------------
def verdicts_as_of(outcomes: pd.DataFrame, as_of=None) -> pd.DataFrame:
    """The verdict in force per claim (index claim_id): the newest revision known by `as_of`."""
    stamp = _as_timestamp(as_of)
    known = outcomes if stamp is None else outcomes[outcomes["decided_at"] <= stamp]
    latest = known.sort_values("id").drop_duplicates("claim_id", keep="last").set_index("claim_id")
    latest = latest[["verdict", "decided_at"]].copy()
    latest["value"] = latest["verdict"].map(VERDICT_VALUE).astype(float)
    return latest


def latest_stances(reports: pd.DataFrame, key: str = "claim_id") -> pd.DataFrame:
    """One row per (claim, source): relays also speak for their origin; own reports win, latest last.

    Adds `origin` (whose information the row carries) and `first_at` (when the source first took
    the stance it ends with). `key` may name another grouping column (e.g. a revision id).
    """
    columns = [key, "claim_id", "source_id", "stance", "reported_at", "via_source_id"]
    columns = list(dict.fromkeys(columns))
    base = reports[columns]
    relayed = base["via_source_id"] >= 0
    own = base.assign(direct=1, origin=np.where(relayed, base["via_source_id"], base["source_id"]))
    implied = base[relayed].assign(source_id=base.loc[relayed, "via_source_id"], direct=0,
                                   origin=base.loc[relayed, "via_source_id"])
    rows = pd.concat([own, implied], ignore_index=True)
    first = rows.groupby([key, "source_id", "stance"], sort=False)["reported_at"].min().rename("first_at")
    rows = rows.sort_values([key, "source_id", "direct", "reported_at"], kind="stable")
    rows = rows.drop_duplicates([key, "source_id"], keep="last")
    rows = rows.join(first, on=[key, "source_id", "stance"])
    return rows.drop(columns=["direct"]).reset_index(drop=True)


def _credit_rows(reports: pd.DataFrame, verdicts: pd.DataFrame, config: ScoringConfig, as_of=None) -> pd.DataFrame:
    """The scored (claim, source) rows: correctness and weight of each source's stance."""
    resolved = verdicts[verdicts["value"].notna()]
    r = reports.join(resolved[["value", "decided_at"]], on="claim_id", how="inner")
    r = r[r["reported_at"] <= r["decided_at"]]
    rows = latest_stances(r)
    rows = rows.join(resolved[["value", "decided_at"]], on="claim_id")
    asserted = rows["stance"].to_numpy() != "denied"
    value = rows["value"].to_numpy()
    rows["asserted"] = asserted
    rows["correct"] = np.where(asserted, value, 1.0 - value)
    weight = np.where(rows["stance"].to_numpy() == "rumoured", config.rumour_weight, 1.0)
    if config.half_life_days is not None and len(rows):
        now = _as_timestamp(as_of) or rows["decided_at"].max()
        age_days = (now - rows["decided_at"]).dt.total_seconds().to_numpy() / 86400.0
        weight = weight * np.power(0.5, np.maximum(age_days, 0) / config.half_life_days)
    rows["weight"] = weight
    rows["lead_days"] = (rows["decided_at"] - rows["first_at"]).dt.total_seconds() / 86400.0
    return rows


def _posterior(successes, trials, prior_mean: float, config: ScoringConfig):
    a = prior_mean * config.prior_strength + successes
    b = (1 - prior_mean) * config.prior_strength + (trials - successes)
    tail = (1 - config.level) / 2
    return a / (a + b), beta_dist.ppf(tail, a, b), beta_dist.ppf(1 - tail, a, b)


def _prior_mean(rows: pd.DataFrame) -> float:
    return _shrunk_rate(float((rows["weight"] * rows["correct"]).sum()), float(rows["weight"].sum()))


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
    rows = _credit_rows(reports, verdicts, config, stamp)
    rows["earned"] = rows["weight"] * rows["correct"]
    by_source = rows.groupby("source_id")
    table = pd.DataFrame(index=evidence.sources.index)
    table["source"] = evidence.sources["name"]
    table["kind"] = evidence.sources["kind"]
    table["resolved"] = by_source.size().reindex(table.index, fill_value=0).astype(int)
    table["successes"] = by_source["earned"].sum().reindex(table.index, fill_value=0.0)
    table["trials"] = by_source["weight"].sum().reindex(table.index, fill_value=0.0)

    everything = latest_stances(reports)
    open_claims = ~everything["claim_id"].isin(verdicts.index)
    table["pending"] = everything[open_claims].groupby("source_id").size().reindex(table.index, fill_value=0).astype(int)

    prior = _prior_mean(rows)
    mean, lower, upper = _posterior(table["successes"].to_numpy(), table["trials"].to_numpy(), prior, config)
    table["reliability"], table["lower"], table["upper"] = mean, lower, upper
    table["grade"] = grade(lower, upper, table["trials"].to_numpy(), config)
    table["prior_only"] = table["trials"] <= 0

    for name, mask in (("asserted", rows["asserted"]), ("denied", ~rows["asserted"])):
        part = rows[mask]
        part_prior = _prior_mean(part)
        g = part.groupby("source_id")
        n = g["weight"].sum().reindex(table.index, fill_value=0.0).to_numpy()
        s = g["earned"].sum().reindex(table.index, fill_value=0.0).to_numpy()
        table[f"{name}_n"] = g.size().reindex(table.index, fill_value=0).astype(int)
        table[f"{name}_accuracy"] = _posterior(s, n, part_prior, config)[0]
    for stance in ("rumoured", "confirmed"):
        part = rows[rows["stance"] == stance]
        g = part.groupby("source_id")
        table[f"{stance}_n"] = g.size().reindex(table.index, fill_value=0).astype(int)
        table[f"{stance}_right"] = g["correct"].mean().reindex(table.index)
    right = rows[rows["correct"] >= 1.0]
    table["median_lead_days"] = right.groupby("source_id")["lead_days"].median().reindex(table.index)
    table.attrs.update(prior_mean=prior, level=config.level, as_of=stamp)
    table = table.reset_index().rename(columns={"index": "source_id", "id": "source_id"})
    return table.sort_values(["lower", "reliability", "resolved", "source"],
                             ascending=[False, False, False, True], kind="stable").reset_index(drop=True)


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
def _votes(reports: pd.DataFrame) -> pd.DataFrame:
    """One vote per (claim, independent origin): relays collapse into the source they relay."""
    rows = latest_stances(reports)
    return rows[rows["origin"] == rows["source_id"]]


def credibility(votes: pd.DataFrame, claim_ids) -> pd.Series:
    """Information credibility 1-6 per claim from its origin-collapsed votes (see module doc)."""
    counts = pd.crosstab(votes["claim_id"], votes["stance"]).reindex(
        index=list(claim_ids), columns=["confirmed", "rumoured", "denied"], fill_value=0)
    confirmed, rumoured, denied = (counts[c].to_numpy() for c in ("confirmed", "rumoured", "denied"))
    asserted = confirmed + rumoured
    level = np.select(
        [asserted + denied == 0, (confirmed >= 2) & (denied == 0), (confirmed >= 1) & (denied == 0),
         (asserted > 0) & (denied == 0), (asserted > 0) & (denied > 0)],
        [6, 1, 2, 3, 4], default=5,
    )
    return pd.Series(level, index=counts.index, name="credibility")


def _vote_llr(votes: pd.DataFrame, assert_acc: pd.Series, deny_acc: pd.Series, base: float,
              config: ScoringConfig) -> np.ndarray:
    denied = votes["stance"].to_numpy() == "denied"
    acc_assert = assert_acc.reindex(votes["source_id"]).to_numpy()
    acc_deny = deny_acc.reindex(votes["source_id"]).to_numpy()
    llr_assert = _logit(acc_assert) - _logit(base)
    llr_deny = -(_logit(acc_deny) - _logit(1 - base))
    weight = np.where(votes["stance"].to_numpy() == "rumoured", config.rumour_weight, 1.0)
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
    scores = score_sources(evidence, stamp, config).set_index("source_id")
    base = base_rate(verdicts)
    votes = _votes(reports[reports["claim_id"].isin(claims.index)])
    llr = _vote_llr(votes, scores["asserted_accuracy"], scores["denied_accuracy"], base, config)
    votes = votes.assign(llr=llr, source=scores["source"].reindex(votes["source_id"]).to_numpy())
    total = votes.groupby("claim_id")["llr"].sum().reindex(claims.index, fill_value=0.0)
    out = pd.DataFrame({
        "claim_id": claims.index,
        "claim_ref": [ref if isinstance(ref, str) and ref else str(cid) for cid, ref in zip(claims.index, claims["ref"])],
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
    claims = evidence.claims.sort_values("first_reported_at", kind="stable")
    sources = evidence.sources.index
    position = pd.Series(np.arange(len(sources)), index=sources)
    revisions = evidence.outcomes.sort_values(["decided_at", "id"], kind="stable").reset_index(drop=True)
    revisions["value"] = revisions["verdict"].map(VERDICT_VALUE).astype(float)

    # the credit rows each revision would bring, computed for all revisions at once
    r = evidence.reports.merge(revisions[["id", "claim_id", "value", "decided_at"]], on="claim_id")
    r = r[(r["reported_at"] <= r["decided_at"]) & r["value"].notna()].rename(columns={"id": "revision"})
    rows = latest_stances(r, key="revision").merge(revisions[["id", "value"]], left_on="revision", right_on="id")
    asserted = rows["stance"].to_numpy() != "denied"
    rows["col"] = np.where(asserted, 0, 1)
    rows["pos"] = position.reindex(rows["source_id"]).to_numpy()
    rows["w"] = np.where(rows["stance"].to_numpy() == "rumoured", config.rumour_weight, 1.0)
    rows["earned"] = rows["w"] * np.where(asserted, rows["value"], 1.0 - rows["value"])
    rows = rows.sort_values("revision", kind="stable")
    by_revision = {rev: (g["pos"].to_numpy(), g["col"].to_numpy(), g["w"].to_numpy(), g["earned"].to_numpy())
                   for rev, g in rows.groupby("revision", sort=False)}

    # the votes each claim has at its first-report time
    first = evidence.claims["first_reported_at"]
    at_start = evidence.reports[evidence.reports["reported_at"] <= evidence.reports["claim_id"].map(first)]
    votes = _votes(at_start)
    votes = votes.assign(pos=position.reindex(votes["source_id"]).to_numpy(),
                         denied=votes["stance"].to_numpy() == "denied",
                         w=np.where(votes["stance"].to_numpy() == "rumoured", config.rumour_weight, 1.0))
    votes_by_claim = {cid: (g["pos"].to_numpy(), g["denied"].to_numpy(), g["w"].to_numpy())
                      for cid, g in votes.groupby("claim_id", sort=False)}
    cred = credibility(votes, claims.index)

    trials = np.zeros((len(sources), 2))
    earned = np.zeros((len(sources), 2))
    in_force: dict[int, tuple[int, float]] = {}  # claim -> (revision id, value)
    value_sum, value_n = 0.0, 0
    rev_times = revisions["decided_at"].to_numpy()
    rev_ids, rev_claims, rev_values = (revisions[c].to_numpy() for c in ("id", "claim_id", "value"))
    k = config.prior_strength
    p_out = np.empty(len(claims))
    base_out = np.empty(len(claims))
    next_rev = 0
    for i, (cid, when) in enumerate(zip(claims.index, claims["first_reported_at"].to_numpy())):
        while next_rev < len(revisions) and rev_times[next_rev] < when:
            rid, claim, value = int(rev_ids[next_rev]), int(rev_claims[next_rev]), rev_values[next_rev]
            next_rev += 1
            current = in_force.get(claim)
            if current is not None and current[0] > rid:
                continue  # an older revision decided later does not replace a newer one
            if current is not None:
                _apply(by_revision.get(current[0]), trials, earned, -1.0)
                if not np.isnan(current[1]):
                    value_sum, value_n = value_sum - current[1], value_n - 1
            _apply(by_revision.get(rid), trials, earned, 1.0)
            in_force[claim] = (rid, value)
            if not np.isnan(value):
                value_sum, value_n = value_sum + value, value_n + 1
        base = _shrunk_rate(value_sum, value_n)
        base_out[i] = base
        logit = float(_logit(base))
        vote = votes_by_claim.get(cid)
        if vote is not None:
            pos, denied, w = vote
            col_totals_t, col_totals_e = trials.sum(axis=0), earned.sum(axis=0)
            prior = (col_totals_e + 1.0) / (col_totals_t + 2.0)  # as _shrunk_rate
            cols = denied.astype(int)
            acc = (prior[cols] * k + earned[pos, cols]) / (k + trials[pos, cols])
            llr = np.where(denied, -(_logit(acc) - _logit(1 - base)), w * (_logit(acc) - _logit(base)))
            logit += float(llr.sum())
        p_out[i] = float(_sigmoid(logit))
    now = verdicts_as_of(evidence.outcomes)
    out = pd.DataFrame({
        "claim_id": claims.index,
        "claim_ref": [ref if isinstance(ref, str) and ref else str(cid) for cid, ref in zip(claims.index, claims["ref"])],
        "statement": claims["statement"].to_numpy(),
        "first_reported_at": claims["first_reported_at"].to_numpy(),
        "p_true": p_out,
        "base_rate": base_out,
        "credibility": cred.to_numpy(),
        "verdict": now["verdict"].reindex(claims.index).to_numpy(),
        "outcome": now["value"].reindex(claims.index).to_numpy(),
    })
    return out.reset_index(drop=True)


def _apply(rows, trials: np.ndarray, earned: np.ndarray, sign: float) -> None:
    if rows is None:
        return
    pos, col, w, e = rows
    np.add.at(trials, (pos, col), sign * w)
    np.add.at(earned, (pos, col), sign * e)


# -- self-scoring --------------------------------------------------------------------------
@dataclass
class Calibration:
    """How the tracker's own at-report-time predictions held up."""

    claims: int
    brier: float
    base_rate_brier: float
    accuracy: float
    table: pd.DataFrame  # bin, predicted, observed, claims
    by_stance: pd.DataFrame  # stance, claims, truth_rate
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
    verdicts = verdicts_as_of(evidence.outcomes)
    stances = latest_stances(evidence.reports).join(verdicts[["value"]], on="claim_id")
    stances = stances[stances["value"].notna()]
    by_stance = stances.groupby("stance")["value"].agg(claims="size", truth_rate="mean").reset_index()
    per_source = stances.groupby(["source_id", "stance"])["value"].agg(claims="size", truth_rate="mean").reset_index()
    per_source.insert(0, "source", evidence.sources["name"].reindex(per_source["source_id"]).to_numpy())
    n = len(scored)
    return Calibration(
        claims=n,
        brier=float(np.mean((p - y) ** 2)) if n else float("nan"),
        base_rate_brier=float(np.mean((scored["base_rate"].to_numpy() - y) ** 2)) if n else float("nan"),
        accuracy=float(np.mean((p >= 0.5) == (y >= 0.5))) if n else float("nan"),
        table=table,
        by_stance=by_stance,
        by_source_stance=per_source.drop(columns=["source_id"]),
    )
