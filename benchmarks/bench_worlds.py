"""Every scorer on every synthetic world type, beside the Bayes limit (issue 15, "What must show").

    python benchmarks/bench_worlds.py                  # 6 world types x 3 seeds x 2,000 claims
    python benchmarks/bench_worlds.py --seeds 5 --claims 5000 --worlds drift,topics

For each world type (tests/synthetic.py `WORLD_TYPES`) and seed, each scorer of tests/baselines.py
forecasts the claims held open (Brier against the planted truth, from everything in the store) and
every resolved claim at its first report (chronological Brier, no look-ahead). Printed per world
type: the mean Brier over seeds, its spread (standard deviation across seeds), the distance to the
Bayes limit (the model fed the planted values), and for the scorers that give source intervals
their coverage of the planted reliability.

crowd-kit's DawidSkene is unsupervised: for open claims it is fitted on every claim's votes
without the verdicts; at report time the claims are cut into `--blocks` chronological blocks,
each forecast by a DawidSkene fitted on every vote reported before the block began (see
`tests.baselines.dawid_skene_at_report_time`).

**The joint-inference trial** (`em_supervised`, `em_joint`): a Dawid-Skene-family model with the
new scorer's shape (per source, P(stance | true) and P(stance | false) over confirmed / rumoured /
denied, shrunk toward the store's pooled rows by `EM_STRENGTH` pseudo-claims; a claim's prior is its
topic's truth rate shrunk to the store's), fitted by EM. `em_supervised` is its first step: the
tallies of resolved claims only (what the new scorer counts). `em_joint` goes on, adding the open
claims that have two or more independent origins as soft labels (their posterior) to the tallies
and the topic rates, until the posteriors settle. Both are fitted the same way at report time, in
`--blocks` chronological blocks (verdicts known before the block began are labels, claims
reported by then without one are open). `em_joint - em_supervised` is what learning from open
claims is worth.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests import baselines  # noqa: E402  (after the path insert)
from tests.synthetic import WORLD_TYPES, World, make_world_type  # noqa: E402
from tracker import scoring  # noqa: E402
from tracker.evidence import Evidence  # noqa: E402

STANCE_CODE = {"confirmed": 0, "rumoured": 1, "denied": 2}
EM_STRENGTH = 4.0  # pseudo-claims pulling a source's rows toward the store's
TOPIC_STRENGTH = 10.0  # pseudo-claims pulling a topic's rate toward the store's
EM_STEPS = 30
COVERAGE_SKIPPED = {"drift", "copying"}  # a planted reliability that changes, or copies someone else's


# -- the joint-inference trial --------------------------------------------------------------------
class _Votes:
    """Independent-origin votes as integer codes: claim position, source position, stance code."""

    def __init__(self, reports: pd.DataFrame, claims: pd.Index, sources: pd.Index):
        votes = baselines.origin_votes(reports)
        keep = votes["task"].isin(claims).to_numpy()
        self.claim = claims.get_indexer(votes["task"])[keep]
        self.source = sources.get_indexer(votes["worker"])[keep]
        self.stance = votes["stance"].map(STANCE_CODE).to_numpy()[keep].astype(np.int64)


def _em(train: _Votes, label: np.ndarray, topic: np.ndarray, n_sources: int, n_topics: int, joint: bool):
    """Fit the trial model: returns (P(stance | T) rows, P(stance | F) rows, topic truth rates).

    `label` is 1 / 0 for claims with a verdict, NaN for open ones; `joint` adds the open claims
    with two or more origins as soft labels (EM), otherwise only the labels count.
    """
    known = ~np.isnan(label)
    origins = np.bincount(train.claim, minlength=label.size)
    soft = ~known & (origins >= 2) if joint else np.zeros(label.size, bool)
    q = np.where(known, label, 0.5)
    cells = train.source * 3 + train.stance
    for step in range(EM_STEPS if joint else 1):
        counted = known | soft if step else known  # the first step is the supervised fit, EM's start
        weight = counted[train.claim].astype(float)
        to_true = np.bincount(cells, weight * q[train.claim], minlength=n_sources * 3).reshape(n_sources, 3)
        to_false = np.bincount(cells, weight * (1 - q[train.claim]), minlength=n_sources * 3).reshape(n_sources, 3)
        rows = []
        for counts in (to_true, to_false):
            pooled = (counts.sum(axis=0) + 1.0) / (counts.sum() + 3.0)
            rows.append((counts + EM_STRENGTH * pooled) / (counts.sum(axis=1, keepdims=True) + EM_STRENGTH))
        store = (q[counted].sum() + 1.0) / (counted.sum() + 2.0)
        rates = ((np.bincount(topic[counted], q[counted], minlength=n_topics) + TOPIC_STRENGTH * store)
                 / (np.bincount(topic[counted], minlength=n_topics) + TOPIC_STRENGTH))
        if not joint:
            break
        p = _posterior(train, rows[0], rows[1], rates, topic, label.size)
        change = np.abs(p[soft] - q[soft]).max() if soft.any() else 0.0
        q = np.where(soft, p, q)
        if change < 1e-4:
            break
    return rows[0], rows[1], rates


def _posterior(votes: _Votes, p_true_rows, p_false_rows, rates, topic, n_claims) -> np.ndarray:
    """P(true) of each claim from its votes and its topic's rate."""
    seen = votes.source >= 0
    llr = np.zeros(votes.claim.size)
    llr[seen] = (np.log(p_true_rows[votes.source[seen], votes.stance[seen]])
                 - np.log(p_false_rows[votes.source[seen], votes.stance[seen]]))
    total = np.bincount(votes.claim, llr, minlength=n_claims)
    rate = np.clip(rates[topic], 1e-6, 1 - 1e-6)
    return 1.0 / (1.0 + np.exp(-(np.log(rate) - np.log1p(-rate) + total)))


def _topic_codes(world: World, claims: pd.Index) -> tuple[np.ndarray, int]:
    codes, names = pd.factorize(world.claims["topic"].reindex(claims))
    return codes, len(names)


def em_scorer(joint: bool, blocks: int):
    """The trial model as a scorer of tests/baselines.py (`joint`: with open claims as soft labels)."""
    def score(world: World, evidence: Evidence) -> baselines.Scored:
        claims, sources = evidence.claims.index, evidence.sources.index
        topic, n_topics = _topic_codes(world, claims)
        verdicts = scoring.verdicts_as_of(evidence.outcomes)
        label = verdicts["value"].reindex(claims).to_numpy(dtype=float)
        votes = _Votes(evidence.reports, claims, sources)
        fitted = _em(votes, label, topic, len(sources), n_topics, joint)
        now = pd.Series(_posterior(votes, *fitted, topic, len(claims)), index=claims)

        # at report time: a fit per chronological block, from what was known when it began
        order = evidence.claims.sort_values("first_reported_at", kind="stable")
        first = baselines.at_first_report(evidence)
        outcomes = evidence.outcomes.sort_values("decided_at", kind="stable")
        then = []
        for block in np.array_split(order.index.to_numpy(), blocks):
            begins = order.loc[block[0], "first_reported_at"]
            reports = evidence.reports[evidence.reports["reported_at"] < begins]
            known = scoring.verdicts_as_of(outcomes[outcomes["decided_at"] < begins])
            past = claims[(evidence.claims["first_reported_at"] < begins).to_numpy()]
            past_label = known["value"].reindex(past).to_numpy(dtype=float)
            past_topic = topic[claims.get_indexer(past)]
            fitted = _em(_Votes(reports, past, sources), past_label, past_topic, len(sources), n_topics, joint)
            mine = pd.Index(block)
            block_votes = _Votes(first.reports, mine, sources)
            then.append(pd.Series(_posterior(block_votes, *fitted, topic[claims.get_indexer(mine)], len(mine)),
                                  index=mine))
        return baselines.Scored(now.reindex(world.open_claims), pd.concat(then).reindex(world.resolved_claims))
    return score


# -- interval coverage ----------------------------------------------------------------------------
def coverage(world: World, evidence: Evidence, module) -> float:
    """Share of judging sources with a resolved record whose interval holds the planted reliability."""
    table = module.score_sources(evidence).set_index("source_id")
    if not {"lower", "upper", "resolved"} <= set(table.columns):
        return float("nan")
    planted = world.sources["reliability"].reindex(table.index)
    judged = planted.notna() & (table["resolved"] > 0)
    inside = (table["lower"] <= planted) & (planted <= table["upper"])
    return float(inside[judged].mean())


# -- the run ----------------------------------------------------------------------------------------
def _paired(stacked: pd.DataFrame, a: str, b: str) -> str:
    """Scorer `a` minus scorer `b`, seed by seed: the mean, its sd and each seed's, open and at report."""
    diff = stacked.xs(a, level="scorer") - stacked.xs(b, level="scorer")
    parts = [f"{which.replace('_', ' ')} {diff[which].mean():+.4f} (sd {diff[which].std(ddof=1):.4f}; seeds "
             + " ".join(f"{v:+.4f}" for v in diff[which]) + ")" for which in ("open", "at_report")]
    return f"{a} - {b}: " + ", ".join(parts)


def main(argv=None) -> None:
    """Print every scorer's Brier per world type (mean, spread across seeds, distance to the Bayes limit)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--claims", type=int, default=2000)
    parser.add_argument("--blocks", type=int, default=baselines.DS_BLOCKS,
                        help="chronological blocks for the models refitted per block (Dawid-Skene, the EM trial)")
    parser.add_argument("--worlds", default=",".join(WORLD_TYPES))
    parser.add_argument("--no-ds", action="store_true", help="leave crowd-kit's Dawid-Skene out (it is the slow one)")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", DeprecationWarning)
    chosen = baselines.scorers(with_ds=not args.no_ds)
    if not args.no_ds:
        chosen["dawid_skene"] = lambda world, evidence: baselines.Scored(
            baselines.dawid_skene_open(world, evidence),
            baselines.dawid_skene_at_report_time(world, evidence, blocks=args.blocks))
    bayes = chosen.pop("bayes")
    chosen["em_supervised"] = em_scorer(False, args.blocks)
    chosen["em_joint"] = em_scorer(True, args.blocks)
    chosen["bayes"] = bayes
    # the Bayes limit with rumours at the previous scorer's fixed weight: how far a world can expose
    # that weight at all (a perfect scorer's loss from it)
    half = scoring.ScoringConfig().rumour_weight
    chosen["bayes_half_rumours"] = lambda world, evidence: baselines.Scored(
        world.bayes_limit(world.open_claims, rumour_weight=half),
        world.bayes_limit(world.resolved_claims, at_report_time=True, rumour_weight=half))
    new = baselines.new_module()
    interval_modules = {"previous": scoring} | ({"new": new} if new is not None and hasattr(new, "score_sources")
                                                else {})
    print(f"# {args.claims} claims per world, seeds 1..{args.seeds}; Brier mean (sd across seeds) "
          f"and mean distance to the Bayes limit; `new` = {'tracker.forecast' if new else 'not available'}")
    started = time.perf_counter()
    for name in args.worlds.split(","):
        tables, cover, seconds = [], {key: [] for key in interval_modules}, {key: 0.0 for key in chosen}
        for seed in range(1, args.seeds + 1):
            world = make_world_type(name, seed, n_claims=args.claims)
            evidence = world.evidence()
            rows = {}
            for key, scorer in chosen.items():
                t = time.perf_counter()
                scored = scorer(world, evidence)
                seconds[key] += time.perf_counter() - t
                rows[key] = {"open": baselines.brier(scored.open, world.claims["truth"]),
                             "at_report": baselines.brier(scored.at_report, world.claims["truth"])}
            tables.append(pd.DataFrame.from_dict(rows, orient="index"))
            if name not in COVERAGE_SKIPPED:
                for key, module in interval_modules.items():
                    cover[key].append(coverage(world, evidence, module))
        stacked = pd.concat(tables, keys=range(1, args.seeds + 1), names=["seed", "scorer"])
        print(f"\n## {name}  ({len(world.open_claims)} open, {len(world.resolved_claims)} resolved claims a seed)")
        print("| scorer | open Brier | sd | vs Bayes | at-report Brier | sd | vs Bayes | seconds/seed |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- |")
        for key in chosen:
            line = [key]
            for which in ("open", "at_report"):
                values = stacked[which].xs(key, level="scorer")
                gap = values - stacked[which].xs("bayes", level="scorer")
                line += [f"{values.mean():.4f}", f"{values.std(ddof=1):.4f}", f"{gap.mean():+.4f}"]
            line.append(f"{seconds[key] / args.seeds:.2f}")
            print("| " + " | ".join(line) + " |")
        for key, values in cover.items():
            if values:
                print(f"{key}: 90% source intervals cover the planted reliability {np.mean(values):.1%} "
                      f"(seeds {', '.join(f'{v:.1%}' for v in values)})")
        print(_paired(stacked, "em_joint", "em_supervised"))
        print(_paired(stacked, "bayes_half_rumours", "bayes"))
        if "new" in chosen:
            print(_paired(stacked, "new", "previous"))
        sys.stdout.flush()
    print(f"\n# {time.perf_counter() - started:.0f} s in all")


if __name__ == "__main__":
    main()
