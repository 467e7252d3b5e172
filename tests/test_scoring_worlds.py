"""The scorers on synthetic world types built to expose them (issue 15, "What must show").

Each world type (tests/synthetic.py `WORLD_TYPES`) is drawn for a few seeds; every scorer of
tests/baselines.py forecasts its open claims (scored against the planted truth) and every
resolved claim at its first report (chronological, no look-ahead). The Bayes limit (the model fed
the planted values) must be the floor; the new scorer (`tracker.forecast`) must beat or tie the
previous scorer, majority vote and crowd-kit's Dawid-Skene everywhere, and beat clearly where a
world is built to expose a baseline. `benchmarks/bench_worlds.py` prints the same figures on
bigger worlds.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest

from tests import baselines
from tests.synthetic import KIND_RELIABILITY, WORLD_TYPES, make_world_type
from tracker import scoring

SEEDS = (1, 2, 3)
N_CLAIMS = 1200
# The drift world turns half its sources to their mirror halfway through its year: what it tests
# is learning from the record after the turn, so it is drawn at bench_worlds.py's 2,000 claims. At
# report time the new scorer's lead there grows with that record (`bench_worlds.py --worlds drift
# --no-ds --seeds 6 --claims N`, six seeds): 0.0032 at 1,200 claims (two seeds behind), 0.0064 at
# 2,000 (every seed ahead, by 0.0026 to 0.0116).
CLAIMS_OF = {"drift": 2000}
SETS = ("open", "at_report")
# a tie: within this many standard deviations (across seeds) of the paired difference, or 0.003
TIE_SDS = 1.0
TIE_FLOOR = 0.003
# a clear win: better on every seed, and by at least this much Brier on average
CLEAR_MARGIN = 0.005


@functools.cache
def _world(name: str, seed: int):
    return make_world_type(name, seed, n_claims=CLAIMS_OF.get(name, N_CLAIMS))


@functools.cache
def _table(name: str) -> pd.DataFrame:
    """Brier of every scorer on every seed of one world type: rows (seed, scorer), columns SETS."""
    chosen = baselines.scorers()
    return pd.concat({seed: baselines.score_world(_world(name, seed), chosen) for seed in SEEDS},
                     names=["seed", "scorer"])


def _difference(name: str, scorer: str, baseline: str, which: str) -> np.ndarray:
    table = _table(name)[which].unstack("scorer")
    return (table[scorer] - table[baseline]).to_numpy()


# -- the world types are what they say --------------------------------------------------------------
def _direct(world) -> pd.DataFrame:
    reports = world.reports[world.reports["via_source_id"] < 0]
    return reports.assign(truth=world.claims["truth"].reindex(reports["claim_id"]).to_numpy())


def test_rumour_worlds_plant_what_they_say():
    weak, good = (_direct(_world(name, 1)) for name in ("weak_rumours", "reliable_rumours"))
    for reports, rumours_weaker in ((weak, True), (good, False)):
        rate = reports.groupby("stance")["truth"].mean()
        gap = rate["confirmed"] - rate["rumoured"]
        assert (gap > 0.1) if rumours_weaker else (abs(gap) < 0.05), rate
    asserted = good[good["stance"] != "denied"]
    assert (asserted["stance"] == "rumoured").mean() > 0.8


def test_reliable_rumours_can_expose_a_fixed_rumour_weight():
    """The world has the power to show a clear win over the previous scorer's fixed rumour weight:
    counting rumours at half weight costs even the Bayes limit more than the margin on every seed,
    and twice the margin on average, open and at report time (0.0039 at report before the redesign)."""
    half = scoring.ScoringConfig().rumour_weight
    for at_report_time in (False, True):
        gaps = []
        for seed in SEEDS:
            world = _world("reliable_rumours", seed)
            claims = world.resolved_claims if at_report_time else world.open_claims
            truth = world.claims["truth"]
            gaps.append(baselines.brier(world.bayes_limit(claims, at_report_time, rumour_weight=half), truth)
                        - baselines.brier(world.bayes_limit(claims, at_report_time), truth))
        gaps = np.array(gaps)
        assert (gaps > CLEAR_MARGIN).all() and gaps.mean() >= 2 * CLEAR_MARGIN, (at_report_time, gaps)


def test_copiers_repeat_their_leader_without_a_via():
    world = _world("copying", 1)
    sources = world.sources
    copiers = sources.index[sources["copies"] > 0]
    assert 0.2 < len(copiers) / (~sources["aggregator"]).sum() < 0.4
    reports = world.reports[world.reports["source_id"].isin(copiers)]
    assert (reports["via_source_id"] < 0).all() and len(reports) > 500
    leader = sources["copies"].reindex(reports["source_id"]).to_numpy()
    assert (reports["origin_id"].to_numpy() == leader).all()
    theirs = world.reports.set_index(["claim_id", "origin_id"])["stance"]
    theirs = theirs[~theirs.index.duplicated()]
    said = theirs.reindex(pd.MultiIndex.from_arrays([reports["claim_id"], leader])).to_numpy()
    assert (said == reports["stance"].to_numpy()).all()


def test_drift_turns_sources_halfway():
    world = _world("drift", 1)
    reports = _direct(world)
    late = (reports["reported_at"] >= world.planted["drift_at"]).to_numpy()
    sources = world.sources[~world.sources["aggregator"]]
    turned = sources.index[(sources["reliability_late"] - sources["reliability"]).abs() > 0.4]
    assert len(turned) > 10
    mine = reports["source_id"].isin(turned).to_numpy()
    before = reports[mine & ~late].groupby("source_id")["correct"].mean()
    after = reports[mine & late].groupby("source_id")["correct"].mean()
    planted = sources["reliability"].reindex(before.index)
    assert np.corrcoef(before, planted)[0, 1] > 0.5
    assert np.corrcoef(after.reindex(before.index).fillna(0.5), planted)[0, 1] < -0.3


def test_topics_have_their_own_base_rates():
    world = _world("topics", 1)
    observed = world.claims.groupby("topic")["truth"].mean()
    planted = pd.Series(WORLD_TYPES["topics"]["topic_base_rates"])
    assert np.allclose(observed.reindex(planted.index), planted, atol=0.07), observed


def test_sparse_sources_follow_kind_and_parent():
    world = _world("sparse", 1)
    sources = world.sources[~world.sources["aggregator"]]
    counts = world.reports.groupby("source_id").size().reindex(sources.index, fill_value=0)
    assert ((counts >= 1) & (counts <= 2)).sum() / (counts >= 1).sum() > 0.3
    by_kind = sources.groupby("kind")["reliability"].mean()
    assert np.corrcoef(by_kind, pd.Series(KIND_RELIABILITY).reindex(by_kind.index))[0, 1] > 0.9
    children = sources[sources["parent_id"] > 0]
    assert len(children) > 300
    parents = world.sources.loc[children["parent_id"]]
    assert (parents["kind"].to_numpy() == children["kind"].to_numpy()).all()
    assert np.corrcoef(parents["reliability"], children["reliability"])[0, 1] > 0.7
    assert (world.evidence().sources["parent_id"] == world.sources["parent_id"]).all()


def test_bayes_limit_is_calibrated():
    """The oracle is the true posterior: among claims it gives about p, about p are true."""
    world = make_world_type("topics", 9, n_claims=8000)
    p = world.bayes_limit()
    truth = world.claims["truth"].reindex(p.index)
    bins = pd.cut(p, [0, 0.2, 0.4, 0.6, 0.8, 1.0])
    table = pd.DataFrame({"p": p, "y": truth}).groupby(bins, observed=True).agg(
        p=("p", "mean"), y=("y", "mean"), n=("y", "size"))
    assert (table["n"] > 300).all()
    assert np.allclose(table["p"], table["y"], atol=0.04), table


# -- the scorers on every world type -----------------------------------------------------------------
@pytest.mark.parametrize("name", list(WORLD_TYPES))
def test_bayes_limit_is_the_floor(name):
    table = _table(name)
    for which in SETS:
        for scorer in table.index.unique("scorer").drop("bayes"):
            gap = _difference(name, "bayes", scorer, which)
            assert gap.mean() <= 0.002, (name, which, scorer, gap)


BASELINES = ("previous", "majority", "dawid_skene")
# Where tracker.forecast falls short today (benchmarks/bench_worlds.py): marked, not hidden
# (`pytest -rxX` lists them; an XPASS says the mark can go). The new scorer is still changing, so the
# marks are not strict.
SHORTFALLS: dict[tuple, str] = {}  # none today


def _marked(test: str, *values):
    """The parameters, marked as an expected failure when they are a known shortfall."""
    reason = SHORTFALLS.get((test, values[0]))
    return pytest.param(*values, marks=[pytest.mark.xfail(reason=reason)] if reason else [])


@pytest.mark.parametrize("name", [_marked("ties", name) for name in WORLD_TYPES])
def test_new_scorer_beats_or_ties_every_baseline(name):
    pytest.importorskip("tracker.forecast")
    if baselines.new_module() is None:
        pytest.skip("tracker.forecast has no predict / predict_at_report_time yet")
    losses = []
    for which in SETS:
        for baseline in BASELINES:
            d = _difference(name, "new", baseline, which)
            if d.mean() > max(TIE_SDS * d.std(ddof=1), TIE_FLOOR):
                losses.append(f"{which} vs {baseline}: {d.mean():+.4f} (sd {d.std(ddof=1):.4f})")
    assert not losses, f"{name}: the new scorer trails " + "; ".join(losses)


# the worlds built to expose a baseline, and the baselines they expose
EXPOSED = [_marked("clear", *pair) for pair in (("reliable_rumours", "previous"), ("topics", "previous"),
                                                 ("topics", "majority"), ("drift", "previous"))]


@pytest.mark.parametrize("name, baseline", EXPOSED)
def test_new_scorer_beats_clearly_where_the_world_exposes_a_baseline(name, baseline):
    pytest.importorskip("tracker.forecast")
    if baselines.new_module() is None:
        pytest.skip("tracker.forecast has no predict / predict_at_report_time yet")
    for which in SETS:
        d = _difference(name, "new", baseline, which)
        assert (d < 0).all() and d.mean() <= -CLEAR_MARGIN, (name, which, baseline, d)
