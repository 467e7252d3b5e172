"""The scorers compared on synthetic worlds (tests/synthetic.py), and the comparison itself.

Each scorer gives two sets of `p_true` for a world:

* **open**: the claims the world holds open (no verdict in the store), scored against their
  planted truth, from everything in the store;
* **at report time**: every resolved claim as it stood when first reported, from the reports made
  by then and the verdicts known strictly before (no look-ahead), scored against its verdict.

The scorers: `new` (`tracker.forecast`, the scorer of issue 15), `previous` (`tracker.scoring`,
kept as a named baseline), `majority` (share of independent origins asserting), `base_rate`
(share of verdicts true, by Laplace's rule, running in time for the at-report-time set),
`coin` (0.5), `dawid_skene` (crowd-kit's DawidSkene, see `dawid_skene_open` and
`dawid_skene_at_report_time`) and `bayes` (`World.bayes_limit`: the model fed the planted values).
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tests.synthetic import World
from tracker import scoring
from tracker.evidence import Evidence

# crowd-kit's DawidSkene stops at this change of the evidence lower bound per vote (or after 25
# iterations); on the world types Brier moves by about 0.005 against 1e-4 and 100 iterations, at a tenth of the time
DS_ITERATIONS = 25
DS_TOLERANCE = 1e-3
DS_BLOCKS = 4  # chronological blocks, each with its own fit: more blocks, fresher fits, longer runs


@dataclass
class Scored:
    """One scorer's forecasts on one world."""

    open: pd.Series  # p_true of the open claims, by claim id
    at_report: pd.Series  # p_true at first report of the resolved claims, by claim id


# -- what the scorers read ------------------------------------------------------------------------
def at_first_report(evidence: Evidence) -> Evidence:
    """The evidence with each claim's reports cut to those made by its first report."""
    first = evidence.claims["first_reported_at"].reindex(evidence.reports["claim_id"]).to_numpy()
    reports = evidence.reports[evidence.reports["reported_at"].to_numpy() <= first].reset_index(drop=True)
    return Evidence(evidence.sources, evidence.claims, reports, evidence.outcomes, evidence.topics)


def origin_votes(reports: pd.DataFrame) -> pd.DataFrame:
    """One vote per (claim, independent origin), its latest stance: relays count as their origin."""
    origin = np.where(reports["via_source_id"] >= 0, reports["via_source_id"], reports["source_id"])
    votes = pd.DataFrame({"task": reports["claim_id"].to_numpy(), "worker": origin,
                          "label": (reports["stance"] != "denied").to_numpy(), "stance": reports["stance"].to_numpy(),
                          "reported_at": reports["reported_at"].to_numpy()})
    return votes.sort_values("reported_at", kind="stable").drop_duplicates(["task", "worker"], keep="last")


def _resolved(world: World) -> pd.Index:
    return world.resolved_claims


# -- the scorers ----------------------------------------------------------------------------------
def new_module():
    """`tracker.forecast` when it has the scorer's API, else None."""
    try:
        module = importlib.import_module("tracker.forecast")
    except ImportError:
        return None
    return module if hasattr(module, "predict") and hasattr(module, "predict_at_report_time") else None


def _module_scorer(module) -> Callable[[World, Evidence], Scored]:
    def score(world: World, evidence: Evidence) -> Scored:
        fitted = {"model": module.fit(evidence)} if hasattr(module, "fit") else {}  # one fit serves both
        now = module.predict(evidence, claim_ids=world.open_claims, **fitted).set_index("claim_id")["p_true"]
        then = module.predict_at_report_time(evidence, **fitted).set_index("claim_id")["p_true"]
        return Scored(now.reindex(world.open_claims), then.reindex(_resolved(world)))
    return score


def majority(world: World, evidence: Evidence) -> Scored:
    """Share of independent origins asserting (0.5 with none)."""
    return Scored(scoring.majority_vote(evidence, world.open_claims),
                  scoring.majority_vote(at_first_report(evidence), _resolved(world)))


def base_rate(world: World, evidence: Evidence) -> Scored:
    """Share of verdicts true by Laplace's rule: of all of them, and running (strictly before)."""
    verdicts = scoring.verdicts_as_of(evidence.outcomes)
    decided = evidence.outcomes.sort_values("decided_at", kind="stable").drop_duplicates("claim_id", keep="last")
    value = decided["verdict"].map(scoring.VERDICT_VALUE).to_numpy(dtype=float)
    counts = ~np.isnan(value)
    times = decided["decided_at"].to_numpy()[counts]
    total = np.r_[0.0, np.cumsum(value[counts])]
    first = evidence.claims["first_reported_at"].reindex(_resolved(world)).to_numpy()
    seen = np.searchsorted(times, first, side="left")
    running = pd.Series((total[seen] + 1.0) / (seen + 2.0), index=_resolved(world))
    return Scored(pd.Series(scoring.base_rate(verdicts), index=world.open_claims), running)


def coin(world: World, evidence: Evidence) -> Scored:
    """A constant 0.5."""
    return Scored(pd.Series(0.5, index=world.open_claims), pd.Series(0.5, index=_resolved(world)))


def bayes(world: World, evidence: Evidence) -> Scored:
    """The Bayes limit: the model fed the planted reliabilities and base rates."""
    return Scored(world.bayes_limit(world.open_claims), world.bayes_limit(_resolved(world), at_report_time=True))


# -- crowd-kit's Dawid-Skene ----------------------------------------------------------------------
def _fit_dawid_skene(votes: pd.DataFrame):
    """crowd-kit's DawidSkene fitted on `task, worker, label` votes (its pandas deprecation warnings muted)."""
    from crowdkit.aggregation import DawidSkene  # imported here: crowd-kit takes seconds to import

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        return DawidSkene(n_iter=DS_ITERATIONS, tol=DS_TOLERANCE).fit(votes[["task", "worker", "label"]])


def _ds_apply(model, votes: pd.DataFrame, claim_ids) -> pd.Series:
    """P(true) of each claim from a fitted model's confusion matrices (E-step), its prior when no votes.

    A worker the model has not seen votes with the mean confusion matrix of those it has.
    """
    errors = model.errors_.reindex(columns=[True, False])
    asserts = errors.xs(True, level="label").reindex(errors.index.unique("worker")).fillna(1e-10)
    pooled = asserts.mean()
    a = asserts.reindex(votes["worker"].to_numpy()).fillna(pooled).clip(1e-10, 1 - 1e-10)
    p_vote_true = np.where(votes["label"], a[True], 1 - a[True])
    p_vote_false = np.where(votes["label"], a[False], 1 - a[False])
    llr = pd.Series(np.log(p_vote_true) - np.log(p_vote_false)).groupby(votes["task"].to_numpy()).sum()
    prior = model.priors_.reindex([True, False]).fillna(0.5).clip(1e-10, 1 - 1e-10)
    logit = np.log(prior[True]) - np.log(prior[False]) + llr.reindex(list(claim_ids), fill_value=0.0)
    return pd.Series(1.0 / (1.0 + np.exp(-logit.to_numpy())), index=pd.Index(list(claim_ids)))


def dawid_skene_open(world: World, evidence: Evidence) -> pd.Series:
    """P(true) of the open claims: DawidSkene fitted, unsupervised, on every claim's votes.

    Workers are the independent origins, tasks the claims, labels asserted (confirmed or rumoured:
    True) or denied (False); the store's verdicts are not given to it.
    """
    votes = origin_votes(evidence.reports)
    model = _fit_dawid_skene(votes)
    return _ds_apply(model, votes, world.open_claims)


def dawid_skene_at_report_time(world: World, evidence: Evidence, blocks: int = DS_BLOCKS) -> pd.Series:
    """P(true) at first report: claims in `blocks` chronological blocks, each from a DawidSkene
    fitted on every vote reported before the block began (the first block: on its own claims'
    votes at their first report), applied to the block's votes at first report (`_ds_apply`)."""
    claims = evidence.claims.sort_values("first_reported_at", kind="stable")
    all_votes = origin_votes(evidence.reports)
    at_first = origin_votes(at_first_report(evidence).reports)
    out = []
    for block in np.array_split(claims.index.to_numpy(), blocks):
        if not len(block):
            continue
        begins = claims.loc[block[0], "first_reported_at"]
        history = all_votes[all_votes["reported_at"] < begins]
        mine = at_first[at_first["task"].isin(block)]
        train = history if history["task"].nunique() >= 50 else mine
        model = _fit_dawid_skene(train)
        out.append(_ds_apply(model, mine, block))
    return pd.concat(out).reindex(_resolved(world))


def dawid_skene(world: World, evidence: Evidence) -> Scored:
    """crowd-kit's DawidSkene (unsupervised): see `dawid_skene_open`, `dawid_skene_at_report_time`."""
    return Scored(dawid_skene_open(world, evidence), dawid_skene_at_report_time(world, evidence))


def scorers(with_ds: bool = True) -> dict[str, Callable[[World, Evidence], Scored]]:
    """Every scorer by name (`new` only once `tracker.forecast` has its API)."""
    found = {}
    module = new_module()
    if module is not None:
        found["new"] = _module_scorer(module)
    found |= {"previous": _module_scorer(scoring), "majority": majority, "base_rate": base_rate, "coin": coin}
    if with_ds:
        found["dawid_skene"] = dawid_skene
    found["bayes"] = bayes
    return found


# -- the comparison -------------------------------------------------------------------------------
def brier(p: pd.Series, truth: pd.Series) -> float:
    """Mean squared error of `p` against the 0/1 truth of the same claims."""
    y = truth.reindex(p.index).astype(float).to_numpy()
    return float(np.mean((p.to_numpy(dtype=float) - y) ** 2))


def score_world(world: World, chosen: dict[str, Callable[[World, Evidence], Scored]]) -> pd.DataFrame:
    """Open-claim and at-report-time Brier of each scorer on one world (rows: scorers)."""
    evidence = world.evidence()
    truth = world.claims["truth"]
    rows = {}
    for name, scorer in chosen.items():
        scored = scorer(world, evidence)
        rows[name] = {"open": brier(scored.open, truth), "at_report": brier(scored.at_report, truth)}
    return pd.DataFrame.from_dict(rows, orient="index")
