"""A synthetic world of sources with known (planted) reliabilities, for tests and benchmarks.

`make_world(seed, n_sources, n_claims, ...)` draws, all vectorised with numpy:

* **sources** with a planted reliability: the probability that the stance a source takes on a
  claim is the right one (Beta(2, 1.2) by default, or an even spread 0.2..0.95, or given); how
  prolific a source is varies (log-normal activity), so some have long records and some short.
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

`World.evidence()` gives the `tracker.evidence.Evidence` frames directly (fast, no database);
`World.csv_text()` / `World.write_to_ledger(ledger)` write the same world through the public CSV
contract (`tracker.interchange.import_text`) for end-to-end tests.

Generation is vectorised: 20,000 claims take a few tens of milliseconds.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tracker.evidence import Evidence

DIRECT_KINDS = ("government", "military", "official", "ngo", "social_account", "wire_agency")
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


def _iso(times: pd.Series) -> np.ndarray:
    """UTC timestamps as the ISO text the importer reads (to the minute, `Z` suffix)."""
    text = pd.Series(times).dt.strftime("%Y-%m-%dT%H:%MZ")
    return text.fillna("").to_numpy()


def _planted_reliability(rng: np.random.Generator, n: int, reliability) -> np.ndarray:
    if isinstance(reliability, str):
        if reliability == "beta":
            return rng.beta(2.0, 1.2, size=n)
        if reliability == "spread":
            return rng.permutation(np.linspace(0.2, 0.95, n))
        raise ValueError(f"unknown reliability scheme {reliability!r}; use 'beta', 'spread' or values")
    values = np.asarray(reliability, dtype=float)
    if values.shape != (n,):
        raise ValueError(f"need {n} planted reliabilities, got shape {values.shape}")
    return values


def _times(minutes: np.ndarray, start: pd.Timestamp) -> pd.Series:
    """Minute offsets from `start` as UTC timestamps (microsecond unit, as load_evidence gives)."""
    stamps = pd.to_datetime(start.value + minutes.astype(np.int64) * _MINUTE_NS, utc=True)
    return pd.Series(stamps).dt.as_unit("us")


def make_world(seed: int, n_sources: int = 100, n_claims: int = 2000, *,
               reliability: str | Sequence[float] = "beta", base_rate: float = 0.6,
               reports_per_claim: float = 2.5, rumour_share: float = 0.4,
               relay_rate: float = 0.15, relay_only_share: float = 0.3, n_aggregators: int | None = None,
               open_rate: float = 0.1, unverifiable_rate: float = 0.0, revision_rate: float = 0.0,
               activity_sigma: float = 1.0, days: float = 365.0, start: str = "2016-01-01",
               report_lag_days: float = 1.0,
               decide_days: tuple[float, float] = (2.0, 10.0)) -> World:
    """A reproducible synthetic world (see the module doc); `n_sources` judging sources plus aggregators."""
    rng = np.random.default_rng(seed)
    start_at = pd.Timestamp(start, tz="UTC")
    if n_aggregators is None:
        n_aggregators = max(1, n_sources // 10) if relay_rate > 0 else 0

    # -- sources ------------------------------------------------------------------------------
    planted = _planted_reliability(rng, n_sources, reliability)
    activity = rng.lognormal(0.0, activity_sigma, size=n_sources)
    n_all = n_sources + n_aggregators
    source_ids = np.arange(1, n_all + 1)
    aggregator = np.arange(n_all) >= n_sources
    sources = pd.DataFrame({
        "name": [f"Agency {i:03d}" if agg else f"Source {i:03d}" for i, agg in zip(source_ids, aggregator)],
        "kind": np.where(aggregator, "news_outlet", rng.choice(DIRECT_KINDS, size=n_all)),
        "reliability": np.concatenate([planted, np.full(n_aggregators, np.nan)]),
        "aggregator": aggregator,
        "activity": np.concatenate([activity, np.zeros(n_aggregators)]),
    }, index=pd.Index(source_ids, name="id"))

    # -- claims -------------------------------------------------------------------------------
    claim_ids = np.arange(1, n_claims + 1)
    t0 = np.sort(rng.uniform(0, days * 1440, size=n_claims)).round()  # minutes, in id order
    truth = rng.random(n_claims) < base_rate
    topic = rng.choice(TOPICS, size=n_claims)

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
    r_correct = rng.random(r_claim.size) < planted[r_source]
    thinks_true = truth[r_claim] == r_correct
    stance = np.where(thinks_true, np.where(rng.random(r_claim.size) < rumour_share, "rumoured", "confirmed"),
                      "denied")
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
    }, index=pd.Index(claim_ids, name="id"))
    topics = pd.DataFrame({"claim_id": claim_ids, "topic": topic})
    return World(sources, claims, reports, outcomes, topics, seed)


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
