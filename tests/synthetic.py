"""A synthetic world of sources with known (planted) reliabilities, for tests and benchmarks.

`make_world(seed, n_sources, n_claims, ...)` draws, all vectorised with numpy:

* **sources** with a planted reliability: the probability that the stance a source takes on a
  claim is the right one (Beta(2, 1.2) by default, other Betas by `reliability_beta`, or an even
  spread 0.2..0.95, or given); how prolific a source is varies (log-normal activity), so some
  have long records and some short.
  A few extra *aggregator* sources ("news_outlet") never judge anything themselves: they only
  relay another source, and have no planted reliability (NaN).
* **claims** with a planted truth (true with probability `base_rate`), first reported at a time
  spread over `days` days from `start` (claim ids follow time, as they would in a ledger).
* **reports**: each claim is reported by a few distinct sources (1 + Poisson); each source's
  stance is correct with probability equal to its reliability. A source that thinks the claim
  true asserts it (`confirmed` or `rumoured`, at random); one that thinks it false `denied` it.
  The first reporter reports at the claim's time, the others a little later (exponential lag).
* **relays**: on a share of claims an aggregator relays one of the reporters (`via` that origin),
  copying the origin's stance; sometimes the origin's own report is not on record at all, so the
  relay is the only trace of it (as "Western media, drawing on Jihadi sources").
* **outcomes**: every claim not held open gets its planted truth (`true` / `false`) as verdict,
  decided a few days after its first report (some late reports fall after the verdict and are
  then not predictions). A share `open_rate` of claims is held open: their truth is known to the
  test but not to the store. With `revision_rate`, some verdicts are first recorded wrong and
  revised to the truth days later (the revision has the higher id and is in force); the CSV
  contract carries only the verdict in force, so such a world written to a ledger has no history.

**World types** (`make_world_type(name, seed)`, presets in `WORLD_TYPES`) switch on what the
defaults leave out: rumours weaker than confirmations (`rumour_share_false`: the rumour share of
assertions of false claims), rumours as good as confirmations from well-informed sources on mostly
false claims (`rumour_share`, `reliability_beta`, `base_rate`), topics with their own base rates
(`topic_base_rates`), sources whose reliability turns to its mirror halfway through
(`drift_share`), copiers that repeat a leader's stance without a `via` (`copy_share`,
`copy_rate`), and reliability that follows a source's kind and parent (`reliability="hierarchical"`,
sources get a `parent_id`). Every world keeps what it planted (each report's `origin_id` and
`planted_reliability`, each claim's `base_rate`, `World.planted`), so `World.bayes_limit` gives
the posterior of the model fed those values: the floor for any scorer.

`World.evidence()` gives the `tracker.evidence.Evidence` frames directly (fast, no database);
`World.csv_text()` / `World.write_to_ledger(ledger)` write the same world through the public CSV
contract (`tracker.interchange.import_text`) for end-to-end tests.

Generation is vectorised: 20,000 claims take a few tens of milliseconds.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tracker.evidence import Evidence

DIRECT_KINDS = ("government", "military", "official", "ngo", "social_account", "wire_agency")
# the mean reliability of each kind in a world with reliability="hierarchical"
KIND_RELIABILITY = {"government": 0.3, "military": 0.42, "official": 0.65, "ngo": 0.78, "social_account": 0.55,
                    "wire_agency": 0.88}
TOPICS = ("military", "diplomacy", "humanitarian", "economy")
_MINUTE_NS = 60 * 10**9


@dataclass
class World:
    """A synthetic world: the store's frames plus the planted truth behind them."""

    sources: pd.DataFrame  # index id; name, kind, reliability (planted; NaN for aggregators), aggregator, activity
    claims: pd.DataFrame  # index id; ref, statement, first_reported_at, truth (bool), open (bool), topic
    reports: pd.DataFrame  # claim_id, source_id, stance, reported_at, via_source_id (-1), correct (planted)
    outcomes: pd.DataFrame  # id, claim_id, verdict, decided_at
    topics: pd.DataFrame  # claim_id, topic
    seed: int = 0
    planted: dict = field(default_factory=dict)  # rumour shares, topic base rates, drift time (see make_world)

    # -- views ----------------------------------------------------------------------------
    def evidence(self) -> Evidence:
        """The world as the Evidence frames `tracker.evidence.load_evidence` would return."""
        sources = self.sources[["name", "kind"]].copy()
        sources["parent_id"] = self.sources["parent_id"] if "parent_id" in self.sources else -1
        sources.index.name = "id"
        claims = self.claims[["ref", "statement", "first_reported_at"]].copy()
        claims.index.name = "id"
        reports = self.reports[["claim_id", "source_id", "stance", "reported_at", "via_source_id"]]
        return Evidence(sources, claims, reports.reset_index(drop=True),
                        self.outcomes[["id", "claim_id", "verdict", "decided_at"]].reset_index(drop=True),
                        self.topics.reset_index(drop=True))

    @property
    def open_claims(self) -> pd.Index:
        """Ids of the claims held open (no outcome in the store)."""
        return self.claims.index[self.claims["open"].to_numpy()]

    @property
    def resolved_claims(self) -> pd.Index:
        """Ids of the claims that have a verdict."""
        return self.claims.index[~self.claims["open"].to_numpy()]

    # -- the oracle -----------------------------------------------------------------------------
    def bayes_limit(self, claim_ids=None, at_report_time: bool = False, rumour_weight: float = 1.0) -> pd.Series:
        """`p_true` of the model fed the planted values: the best any scorer can do on this world.

        Log-odds of the claim's planted topic base rate plus, per independent origin (relays and
        copies collapse into the source whose judgement they repeat), log P(stance | true) /
        P(stance | false) from that origin's planted reliability when it judged and the planted
        rumour shares. With `at_report_time`, only the reports made by the claim's first report;
        with `rumour_weight`, a rumour's term is scaled by it (what a fixed weight costs the limit).
        """
        claims = self.claims if claim_ids is None else self.claims.loc[list(claim_ids)]
        reports = self.reports[self.reports["claim_id"].isin(claims.index)]
        if at_report_time:
            first = self.claims["first_reported_at"].reindex(reports["claim_id"]).to_numpy()
            reports = reports[reports["reported_at"].to_numpy() <= first]
        votes = reports.drop_duplicates(["claim_id", "origin_id"])
        r = votes["planted_reliability"].clip(1e-6, 1 - 1e-6).to_numpy()
        s_true, s_false = self.planted.get("rumour_share_true", 0.4), self.planted.get("rumour_share_false", 0.4)
        stance = votes["stance"].to_numpy()
        llr = np.select(
            [stance == "confirmed", stance == "rumoured"],
            [np.log(r * (1 - s_true)) - np.log((1 - r) * (1 - s_false)),
             rumour_weight * (np.log(r * s_true) - np.log((1 - r) * s_false))],
            default=np.log(1 - r) - np.log(r))
        total = pd.Series(llr).groupby(votes["claim_id"].to_numpy()).sum().reindex(claims.index, fill_value=0.0)
        prior = _logit(claims["base_rate"].clip(1e-6, 1 - 1e-6).to_numpy())
        return pd.Series(1.0 / (1.0 + np.exp(-(prior + total.to_numpy()))), index=claims.index, name="p_true")

    # -- the CSV contract -----------------------------------------------------------------
    def csv_rows(self) -> pd.DataFrame:
        """One row per report in the columns of the CSV contract (times as ISO text, UTC)."""
        names = self.sources["name"]
        reports = self.reports
        claim = self.claims.loc[reports["claim_id"].to_numpy()]
        verdict = self.outcomes.drop_duplicates("claim_id", keep="last").set_index("claim_id")
        verdict = verdict.reindex(reports["claim_id"].to_numpy())
        via = reports["via_source_id"].to_numpy()
        return pd.DataFrame({
            "claim_ref": claim["ref"].to_numpy(),
            "claim": claim["statement"].to_numpy(),
            "source": names.reindex(reports["source_id"]).to_numpy(),
            "stance": reports["stance"].to_numpy(),
            "reported_at": _iso(reports["reported_at"]),
            "outcome": verdict["verdict"].fillna("").to_numpy(),
            "outcome_at": np.where(verdict["decided_at"].isna().to_numpy(), "", _iso(verdict["decided_at"])),
            "via": np.where(via >= 0, names.reindex(np.where(via >= 0, via, names.index[0])).to_numpy(), ""),
            "topic": claim["topic"].to_numpy(),
        })

    def csv_text(self) -> str:
        """The world as a CSV file of the public contract (one row per report)."""
        buffer = io.StringIO()
        self.csv_rows().to_csv(buffer, index=False, lineterminator="\n")
        return buffer.getvalue()

    def write_to_ledger(self, ledger):
        """Create the sources (with their kinds), then import the CSV through `import_text`."""
        from tracker.interchange import import_text

        with ledger.transaction() as w:
            for name, kind in zip(self.sources["name"], self.sources["kind"]):
                if w.find_source(name) is None:
                    w.add_source(name, kind=kind)
        return import_text(ledger, self.csv_text(), "csv")

    def write_edited_by_a_team(self, ledger) -> list[int]:
        """`write_to_ledger`, then the edits a team makes that scoring must leave out: the first claim
        retracted, the second's first report retracted, the last source merged into the first.
        Returns the claims' ids in order."""
        self.write_to_ledger(ledger)
        claim_ids = sorted(self.claims.index)
        ledger.retract_claim(claim_ids[0], "logged twice")
        ledger.retract_report(ledger.get_claim(claim_ids[1]).reports[0][0].id, "misattributed")
        names = list(self.sources["name"])
        ledger.merge_sources(names[-1], names[0])
        return claim_ids


def _iso(times: pd.Series) -> np.ndarray:
    """UTC timestamps as the ISO text the importer reads (to the minute, `Z` suffix)."""
    text = pd.Series(times).dt.strftime("%Y-%m-%dT%H:%MZ")
    return text.fillna("").to_numpy()


def _planted_reliability(rng: np.random.Generator, n: int, reliability, beta: tuple[float, float]) -> np.ndarray:
    if isinstance(reliability, str):
        if reliability == "beta":
            return rng.beta(*beta, size=n)
        if reliability == "spread":
            return rng.permutation(np.linspace(0.2, 0.95, n))
        raise ValueError(f"unknown reliability scheme {reliability!r}; use 'beta', 'spread' or values")
    values = np.asarray(reliability, dtype=float)
    if values.shape != (n,):
        raise ValueError(f"need {n} planted reliabilities, got shape {values.shape}")
    return values


def _hierarchical_reliability(rng: np.random.Generator, kind: np.ndarray, activity: np.ndarray):
    """Reliabilities that follow kind and parent: (reliability, parent id or -1, kind) per source.

    One source in 15 is a parent (five times as active); 60% of the others belong to one, share
    its kind and scatter around its reliability; the rest scatter around their kind's mean.
    """
    n = kind.size
    is_parent = rng.random(n) < 1 / 15
    is_parent[0] = True
    parents = np.flatnonzero(is_parent)
    activity[parents] *= 5.0
    kind_logit = _logit(pd.Series(KIND_RELIABILITY).reindex(kind).to_numpy())
    parent = np.where(~is_parent & (rng.random(n) < 0.6), parents[rng.integers(0, parents.size, size=n)], -1)
    kind = np.where(parent >= 0, kind[np.maximum(parent, 0)], kind)
    logit = kind_logit + rng.normal(0.0, 0.5, size=n)  # parents and loners around their kind
    child = parent >= 0
    logit[child] = logit[parent[child]] + rng.normal(0.0, 0.3, size=child.sum())  # children around their parent
    return 1.0 / (1.0 + np.exp(-logit)), np.where(child, parent + 1, -1), kind


def _logit(p):
    return np.log(p) - np.log1p(-p)


def _times(minutes: np.ndarray, start: pd.Timestamp) -> pd.Series:
    """Minute offsets from `start` as UTC timestamps (microsecond unit, as load_evidence gives)."""
    stamps = pd.to_datetime(start.value + minutes.astype(np.int64) * _MINUTE_NS, utc=True)
    return pd.Series(stamps).dt.as_unit("us")


def make_world(seed: int, n_sources: int = 100, n_claims: int = 2000, *,
               reliability: str | Sequence[float] = "beta", reliability_beta: tuple[float, float] = (2.0, 1.2),
               base_rate: float = 0.6,
               reports_per_claim: float = 2.5, rumour_share: float = 0.4,
               relay_rate: float = 0.15, relay_only_share: float = 0.3, n_aggregators: int | None = None,
               open_rate: float = 0.1, unverifiable_rate: float = 0.0, revision_rate: float = 0.0,
               activity_sigma: float = 1.0, days: float = 365.0, start: str = "2016-01-01",
               report_lag_days: float = 1.0,
               decide_days: tuple[float, float] = (2.0, 10.0),
               rumour_share_false: float | None = None, topic_base_rates: dict[str, float] | None = None,
               drift_share: float = 0.0, copy_share: float = 0.0, copy_rate: float = 0.8) -> World:
    """A reproducible synthetic world (see the module doc); `n_sources` judging sources plus aggregators."""
    rng = np.random.default_rng(seed)
    start_at = pd.Timestamp(start, tz="UTC")
    if n_aggregators is None:
        n_aggregators = max(1, n_sources // 10) if relay_rate > 0 else 0
    rumour_false = rumour_share if rumour_share_false is None else rumour_share_false

    # -- sources ------------------------------------------------------------------------------
    hierarchical = isinstance(reliability, str) and reliability == "hierarchical"
    planted = (np.zeros(n_sources) if hierarchical
               else _planted_reliability(rng, n_sources, reliability, reliability_beta))
    activity = rng.lognormal(0.0, activity_sigma, size=n_sources)
    n_all = n_sources + n_aggregators
    source_ids = np.arange(1, n_all + 1)
    aggregator = np.arange(n_all) >= n_sources
    kind = np.where(aggregator, "news_outlet", rng.choice(DIRECT_KINDS, size=n_all))
    parent = np.full(n_all, -1)
    if hierarchical:
        planted, parent[:n_sources], kind[:n_sources] = _hierarchical_reliability(rng, kind[:n_sources], activity)
    late = planted.copy()
    if drift_share > 0:  # from halfway through, a share of sources turn to the mirror of what they were
        drifted = rng.random(n_sources) < drift_share
        late[drifted] = 1.0 - planted[drifted]
    copies = np.full(n_all, -1)
    if copy_share > 0:  # copiers never judge: they repeat a leader's stance, without saying so
        copier = rng.random(n_sources) < copy_share
        leaders = np.flatnonzero(~copier)
        copies[:n_sources][copier] = source_ids[rng.choice(leaders, size=copier.sum(), p=activity[leaders] /
                                                           activity[leaders].sum())]
        activity[copier] = 1e-9
        planted[copier] = late[copier] = np.nan
    sources = pd.DataFrame({
        "name": [f"Agency {i:03d}" if agg else f"Source {i:03d}" for i, agg in zip(source_ids, aggregator)],
        "kind": kind,
        "reliability": np.concatenate([planted, np.full(n_aggregators, np.nan)]),
        "aggregator": aggregator,
        "activity": np.concatenate([activity, np.zeros(n_aggregators)]),
        "parent_id": parent,
        "reliability_late": np.concatenate([late, np.full(n_aggregators, np.nan)]),
        "copies": copies,
    }, index=pd.Index(source_ids, name="id"))

    # -- claims -------------------------------------------------------------------------------
    claim_ids = np.arange(1, n_claims + 1)
    t0 = np.sort(rng.uniform(0, days * 1440, size=n_claims)).round()  # minutes, in id order
    draw = rng.random(n_claims)
    topic = rng.choice(TOPICS, size=n_claims)
    rates = {name: base_rate for name in TOPICS} | (topic_base_rates or {})
    claim_rate = pd.Series(rates, dtype=float).reindex(topic).to_numpy()
    truth = draw < claim_rate

    # -- who reports what: distinct sources per claim, weighted by activity (exponential race)
    k = np.clip(1 + rng.poisson(max(reports_per_claim - 1.0, 0.0), size=n_claims), 1, n_sources)
    k_max = int(k.max())
    race = rng.exponential(size=(n_claims, n_sources)) / activity
    if k_max < n_sources:
        picked = np.argpartition(race, k_max - 1, axis=1)[:, :k_max]
    else:
        picked = np.tile(np.arange(n_sources), (n_claims, 1))
    order = np.argsort(np.take_along_axis(race, picked, axis=1), axis=1)
    picked = np.take_along_axis(picked, order, axis=1)  # first column = first reporter
    slot = np.arange(k_max)[None, :]
    mask = slot < k[:, None]
    r_claim = np.repeat(np.arange(n_claims), k)
    r_slot = np.broadcast_to(slot, mask.shape)[mask]
    r_source = picked[mask]  # 0-based among judging sources
    lag = np.where(r_slot == 0, 0.0, rng.exponential(report_lag_days * 1440, size=r_claim.size))
    r_time = t0[r_claim] + lag.round()
    drift_minute = days * 1440 / 2
    r_reliability = np.where(r_time >= drift_minute, late[r_source], planted[r_source])
    r_correct = rng.random(r_claim.size) < r_reliability
    thinks_true = truth[r_claim] == r_correct
    rumour_rate = np.where(truth[r_claim], rumour_share, rumour_false)
    stance = np.where(thinks_true, np.where(rng.random(r_claim.size) < rumour_rate, "rumoured", "confirmed"),
                      "denied")
    r_origin = r_source.copy()  # whose judgement the stance is (planted; a copy is its leader's)
    if copy_share > 0:
        pairs = [(row, c) for c in np.flatnonzero(copies > 0)
                 for row in np.flatnonzero(r_source == copies[c] - 1)]
        row, copier_pos = (np.array(x, dtype=np.int64) for x in zip(*pairs)) if pairs else (
            np.zeros(0, np.int64), np.zeros(0, np.int64))
        copied = rng.random(row.size) < copy_rate
        row, copier_pos = row[copied], copier_pos[copied]
        k = k + np.bincount(r_claim[row], minlength=n_claims)
        r_claim = np.concatenate([r_claim, r_claim[row]])
        r_source = np.concatenate([r_source, copier_pos])
        r_origin = np.concatenate([r_origin, r_origin[row]])
        r_time = np.concatenate([r_time, r_time[row] + rng.exponential(report_lag_days * 360, size=row.size).round()])
        r_correct = np.concatenate([r_correct, r_correct[row]])
        r_reliability = np.concatenate([r_reliability, r_reliability[row]])
        stance = np.concatenate([stance, stance[row]])
        grouped = np.argsort(r_claim, kind="stable")  # relays below pick a claim's rows from one block
        r_claim, r_source, r_origin, r_time = r_claim[grouped], r_source[grouped], r_origin[grouped], r_time[grouped]
        r_correct, r_reliability, stance = r_correct[grouped], r_reliability[grouped], stance[grouped]
    via = np.full(r_claim.size, -1)
    keep = np.ones(r_claim.size, dtype=bool)

    # -- relays: an aggregator copies one reporter's stance ------------------------------------
    if n_aggregators and relay_rate > 0:
        relayed = np.flatnonzero(rng.random(n_claims) < relay_rate)
        first_row = np.concatenate([[0], np.cumsum(k)[:-1]])
        origin_row = first_row[relayed] + (rng.random(relayed.size) * k[relayed]).astype(int)
        relay_source = n_sources + rng.integers(0, n_aggregators, size=relayed.size)
        origin_source = r_source[origin_row]
        relay_time = r_time[origin_row] + rng.exponential(report_lag_days * 720, size=relayed.size).round()
        # sometimes only the relay records what the origin said
        keep[origin_row[rng.random(relayed.size) < relay_only_share]] = False
        r_claim = np.concatenate([r_claim[keep], relayed])
        r_source = np.concatenate([r_source[keep], relay_source])
        r_time = np.concatenate([r_time[keep], relay_time])
        r_correct = np.concatenate([r_correct[keep], r_correct[origin_row]])
        r_reliability = np.concatenate([r_reliability[keep], r_reliability[origin_row]])
        r_origin = np.concatenate([r_origin[keep], r_origin[origin_row]])
        stance = np.concatenate([stance[keep], stance[origin_row]])
        via = np.concatenate([via[keep], source_ids[origin_source]])
    order = np.lexsort((r_time, r_claim))
    reports = pd.DataFrame({
        "claim_id": claim_ids[r_claim[order]],
        "source_id": source_ids[r_source[order]],
        "stance": stance[order],
        "reported_at": _times(r_time[order], start_at),
        "via_source_id": via[order].astype(np.int64),
        "correct": r_correct[order],
        "origin_id": source_ids[r_origin[order]],  # planted: whose judgement (relays and copies: the origin's)
        "planted_reliability": r_reliability[order],  # planted: the origin's reliability when it judged
    })

    # -- claims' first report and outcomes ------------------------------------------------------
    first_min = np.full(n_claims, np.inf)
    np.minimum.at(first_min, r_claim, r_time)
    is_open = rng.random(n_claims) < open_rate
    decided = first_min + rng.uniform(decide_days[0] * 1440, decide_days[1] * 1440, size=n_claims).round()
    verdict = np.where(truth, "true", "false")
    if unverifiable_rate > 0:
        verdict = np.where(rng.random(n_claims) < unverifiable_rate, "unverifiable", verdict)
    resolved = np.flatnonzero(~is_open)
    o_claim, o_verdict, o_time = resolved, verdict[resolved], decided[resolved]
    if revision_rate > 0:
        # a first verdict that got it wrong, revised to the truth some days later
        revised = resolved[rng.random(resolved.size) < revision_rate]
        wrong = np.where(truth[revised], "false", "true")
        later = decided[revised] + rng.uniform(1440, 20 * 1440, size=revised.size).round()
        first_verdict = o_verdict.copy()
        first_verdict[np.searchsorted(resolved, revised)] = wrong
        o_claim = np.concatenate([o_claim, revised])
        o_verdict = np.concatenate([first_verdict, verdict[revised]])
        o_time = np.concatenate([o_time, later])
    order = np.lexsort((o_claim, o_time))  # a ledger numbers verdicts in the order it records them
    outcomes = pd.DataFrame({
        "id": np.arange(1, o_claim.size + 1, dtype=np.int64),
        "claim_id": claim_ids[o_claim[order]],
        "verdict": o_verdict[order],
        "decided_at": _times(o_time[order], start_at),
    })
    refs = np.char.add("syn-", np.char.zfill(claim_ids.astype(str), 5))
    claims = pd.DataFrame({
        "ref": refs,
        "statement": np.char.add(np.char.add("Synthetic event ", claim_ids.astype(str)), " happened"),
        "first_reported_at": _times(first_min, start_at).to_numpy(),
        "truth": truth,
        "open": is_open,
        "topic": topic,
        "base_rate": claim_rate,  # planted: the prior truth rate of the claim's topic
    }, index=pd.Index(claim_ids, name="id"))
    topics = pd.DataFrame({"claim_id": claim_ids, "topic": topic})
    planted_params = {"rumour_share_true": rumour_share, "rumour_share_false": rumour_false,
                      "topic_base_rates": rates, "drift_at": _times(np.array([drift_minute]), start_at)[0]
                      if drift_share > 0 else None}
    return World(sources, claims, reports, outcomes, topics, seed, planted_params)


# -- world types: each built to expose something a scorer may miss ---------------------------------
WORLD_TYPES = {
    # rumours are weaker evidence than confirmations: a false claim is more often only rumoured
    "weak_rumours": dict(rumour_share=0.3, rumour_share_false=0.75),
    # rumours are as good as confirmations, and most assertions are rumours; the sources are well
    # informed (reliability mean 0.8) and most claims false, so a rumour often carries a claim across
    # 0.5: counting it at half weight then costs even the Bayes limit about 0.01 Brier (with Beta(2, 1.2)
    # and a base rate of 0.6 it cost 0.004 at report time, too little to expose a fixed weight)
    "reliable_rumours": dict(rumour_share=0.9, reliability_beta=(6.0, 1.5), base_rate=0.3),
    # 30% of the sources repeat (60% of the time) a leader's stance without a `via`: their errors are correlated
    "copying": dict(copy_share=0.3, copy_rate=0.6),
    # half of the sources turn to the mirror of their reliability halfway through
    "drift": dict(drift_share=0.5),
    # topics with clearly different base rates
    "topics": dict(topic_base_rates={"military": 0.2, "diplomacy": 0.5, "humanitarian": 0.85, "economy": 0.35}),
    # many sources with a claim or two, whose reliability follows their kind and parent
    "sparse": dict(reliability="hierarchical", n_sources=1200, activity_sigma=1.5),
}


def make_world_type(name: str, seed: int, n_claims: int = 3000, **options) -> World:
    """A world of one of `WORLD_TYPES` (120 sources, a quarter of claims held open unless overridden)."""
    if name not in WORLD_TYPES:
        raise ValueError(f"unknown world type {name!r}; use one of {', '.join(WORLD_TYPES)}")
    settings = dict(n_sources=120, open_rate=0.25) | WORLD_TYPES[name] | options
    return make_world(seed, n_claims=n_claims, **settings)


# -- small hand-made evidence ---------------------------------------------------------------------
def build_evidence(claims: Sequence[dict], sources: Sequence | None = None) -> Evidence:
    """Evidence frames from a few literal claims, for rule tests.

    Each claim is a dict: `ref`, `reports` (tuples `(source, stance, reported_at[, via])`),
    optional `outcomes` (tuples `(verdict, decided_at)`, in recording order: the last is in
    force), optional `topics` and `first_reported_at`. `sources` lists extra source names (or
    `(name, kind)` pairs, or `(name, kind, parent name)` triples) so that sources without reports
    appear too; names are given ids in first-seen order, sources first.
    """
    names: dict[str, int] = {}
    kinds: dict[str, str] = {}
    parents: dict[str, str] = {}

    def sid(name: str) -> int:
        if name not in names:
            names[name] = len(names) + 1
            kinds.setdefault(name, "other")
        return names[name]

    for item in sources or ():
        item = (item,) if isinstance(item, str) else tuple(item)
        name, kind, parent = (*item, "other", None)[:3] if len(item) == 1 else (*item, None)[:3]
        sid(name)
        kinds[name] = kind
        if parent:
            parents[name] = parent
    for parent in list(parents.values()):
        sid(parent)
    claim_rows, report_rows, outcome_rows, topic_rows = [], [], [], []
    for i, claim in enumerate(claims, start=1):
        times = []
        for rep in claim.get("reports", ()):
            source, stance, when, via = (*rep, None)[:4]
            stamp = _utc(when)
            times.append(stamp)
            report_rows.append((i, sid(source), stance, stamp, sid(via) if via else -1))
        for verdict, when in claim.get("outcomes", ()):
            outcome_rows.append((len(outcome_rows) + 1, i, verdict, _utc(when)))
        for topic in claim.get("topics", ()):
            topic_rows.append((i, topic))
        first = claim.get("first_reported_at")
        first = _utc(first) if first is not None else min(times)
        claim_rows.append((i, claim.get("ref", f"c{i}"), claim.get("statement", f"claim {i}"), first))
    source_frame = pd.DataFrame({"name": list(names), "kind": [kinds[n] for n in names],
                                 "parent_id": [names[parents[n]] if n in parents else -1 for n in names]},
                                index=pd.Index(list(names.values()), name="id", dtype=np.int64))
    claim_frame = pd.DataFrame(claim_rows, columns=["id", "ref", "statement", "first_reported_at"]).set_index("id")
    report_frame = pd.DataFrame(report_rows, columns=["claim_id", "source_id", "stance", "reported_at", "via_source_id"])
    outcome_frame = pd.DataFrame(outcome_rows, columns=["id", "claim_id", "verdict", "decided_at"])
    topic_frame = pd.DataFrame(topic_rows, columns=["claim_id", "topic"])
    for frame, column in ((claim_frame, "first_reported_at"), (report_frame, "reported_at"),
                          (outcome_frame, "decided_at")):
        frame[column] = pd.to_datetime(frame[column], utc=True).dt.as_unit("us")
    for frame, columns in ((report_frame, ["claim_id", "source_id", "via_source_id"]),
                           (outcome_frame, ["id", "claim_id"]), (topic_frame, ["claim_id"])):
        for column in columns:
            frame[column] = frame[column].astype(np.int64)
    return Evidence(source_frame, claim_frame, report_frame, outcome_frame, topic_frame)


def _utc(when) -> pd.Timestamp:
    stamp = pd.Timestamp(when)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
