"""Each rule of tracker/scoring.py's module doc, on small hand-made evidence (and the Aleppo example)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import beta as beta_dist

from tests.synthetic import build_evidence
from tracker import scoring
from tracker.evidence import load_evidence
from tracker.ledger import Ledger
from tracker.scoring import ScoringConfig


def evidence(*claims: dict, sources=()):
    return build_evidence(list(claims), sources=list(sources))


def claim(ref: str, *reports, outcomes=(), topics=(), first=None) -> dict:
    """A claim; `outcomes` is a (verdict, decided_at) pair or a list of them, oldest recorded first."""
    if outcomes and isinstance(outcomes[0], str):
        outcomes = [outcomes]
    item = {"ref": ref, "reports": list(reports), "outcomes": list(outcomes), "topics": list(topics)}
    if first is not None:
        item["first_reported_at"] = first
    return item


def scores(ev, as_of=None, config=ScoringConfig()) -> pd.DataFrame:
    return scoring.score_sources(ev, as_of, config).set_index("source")


def tally(table: pd.DataFrame, source: str) -> tuple:
    row = table.loc[source]
    return int(row["resolved"]), float(row["successes"]), float(row["trials"]), int(row["pending"])


def _logit(p):
    return np.log(p) - np.log1p(-p)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


# -- credit ---------------------------------------------------------------------------------------
def test_credit_for_confirmed_rumoured_and_denied_with_the_rumour_weight():
    ev = evidence(
        claim("t", ("A", "confirmed", "2020-01-01"), ("B", "rumoured", "2020-01-01"), ("C", "denied", "2020-01-01"),
              outcomes=("true", "2020-01-05")),
        claim("f", ("A", "confirmed", "2020-01-02"), ("B", "rumoured", "2020-01-02"), ("C", "denied", "2020-01-02"),
              outcomes=("false", "2020-01-06")),
    )
    table = scores(ev)
    assert tally(table, "A") == (2, 1.0, 2.0, 0)
    assert tally(table, "B") == (2, 0.5, 1.0, 0)  # a rumour weighs half by default
    assert tally(table, "C") == (2, 1.0, 2.0, 0)
    # the empirical-Bayes prior: the store's share of credit, by Laplace's rule
    prior = (2.5 + 1) / (5 + 2)
    assert table.attrs["prior_mean"] == pytest.approx(prior)
    for source in "ABC":
        s, n = table.loc[source, ["successes", "trials"]]
        a, b = prior * 4 + s, (1 - prior) * 4 + n - s
        assert table.loc[source, "reliability"] == pytest.approx(a / (a + b))
        assert table.loc[source, "lower"] == pytest.approx(beta_dist.ppf(0.05, a, b))
        assert table.loc[source, "upper"] == pytest.approx(beta_dist.ppf(0.95, a, b))
    quarter = scores(ev, config=ScoringConfig(rumour_weight=0.25))
    assert tally(quarter, "B") == (2, 0.25, 0.5, 0)
    assert tally(quarter, "A") == (2, 1.0, 2.0, 0)


def test_partly_true_earns_half_whatever_the_stance():
    ev = evidence(claim("p", ("A", "confirmed", "2020-01-01"), ("B", "denied", "2020-01-01"),
                        ("C", "rumoured", "2020-01-01"), outcomes=("partly_true", "2020-01-03")))
    table = scores(ev)
    assert tally(table, "A") == (1, 0.5, 1.0, 0)
    assert tally(table, "B") == (1, 0.5, 1.0, 0)
    assert tally(table, "C") == (1, 0.25, 0.5, 0)


def test_unverifiable_counts_for_nothing():
    ev = evidence(claim("u", ("A", "confirmed", "2020-01-01"), outcomes=("unverifiable", "2020-01-03")),
                  claim("t", ("B", "confirmed", "2020-01-01"), outcomes=("true", "2020-01-03")))
    table = scores(ev)
    assert tally(table, "A") == (0, 0.0, 0.0, 0)  # neither scored nor pending
    assert table.loc["A", "prior_only"] and table.loc["A", "grade"] == "F"
    assert scoring.base_rate(scoring.verdicts_as_of(ev.outcomes)) == pytest.approx(2 / 3)  # only 't' counts
    assert set(scoring.predict(ev)["claim_ref"]) == set()  # an unverifiable claim is not open


def test_open_claims_are_pending_not_scored():
    ev = evidence(claim("o", ("A", "confirmed", "2020-01-01"), ("B", "denied", "2020-01-02", "A")),
                  claim("t", ("A", "denied", "2020-01-01"), outcomes=("false", "2020-01-02")))
    table = scores(ev)
    assert tally(table, "A") == (1, 1.0, 1.0, 1)
    assert tally(table, "B") == (0, 0.0, 0.0, 1)
    assert list(scoring.predict(ev)["claim_ref"]) == ["o"]


def test_reports_made_after_the_outcome_was_known_are_not_scored():
    ev = evidence(claim("x", ("A", "confirmed", "2020-01-03"), ("B", "confirmed", "2020-01-06"),
                        ("C", "denied", "2020-01-02"), ("C", "confirmed", "2020-01-07"),
                        outcomes=("true", "2020-01-05")))
    table = scores(ev)
    assert tally(table, "A") == (1, 1.0, 1.0, 0)
    assert tally(table, "B") == (0, 0.0, 0.0, 0)  # not a prediction, and not pending either
    assert tally(table, "C") == (1, 0.0, 1.0, 0)  # its stance before the outcome is the one that counts


def test_each_source_counts_once_per_claim_with_its_latest_stance_before_the_outcome():
    ev = evidence(claim("x", ("A", "rumoured", "2020-01-01"), ("A", "confirmed", "2020-01-02"),
                        ("A", "denied", "2020-01-03"), outcomes=("true", "2020-01-04")),
                  claim("y", ("A", "denied", "2020-01-01"), ("A", "rumoured", "2020-01-02"),
                        outcomes=("true", "2020-01-04")))
    table = scores(ev)
    assert tally(table, "A") == (2, 0.5, 1.5, 0)
    row = table.loc["A"]
    assert (row["denied_n"], row["asserted_n"], row["rumoured_n"], row["confirmed_n"]) == (1, 1, 1, 0)


def test_relays_credit_relayer_and_origin_once_each_and_the_origins_own_report_wins():
    ev = evidence(
        # only the relay records A's stance
        claim("r1", ("B", "confirmed", "2020-01-01", "A"), outcomes=("true", "2020-01-05")),
        # A's own denial beats two relays of A asserting it
        claim("r2", ("A", "denied", "2020-01-01"), ("B", "confirmed", "2020-01-02", "A"),
              ("C", "rumoured", "2020-01-03", "A"), outcomes=("true", "2020-01-05")),
        # ... even when its own report comes after the relay
        claim("r3", ("B", "rumoured", "2020-01-01", "A"), ("A", "denied", "2020-01-02"),
              outcomes=("false", "2020-01-05")),
    )
    table = scores(ev)
    assert tally(table, "A") == (3, 2.0, 3.0, 0)
    assert tally(table, "B") == (3, 2.0, 2.5, 0)
    assert tally(table, "C") == (1, 0.5, 0.5, 0)


def test_relays_through_the_ledger(ledger):
    ledger.log_claim("Relayed claim", reports=[
        {"source": "Western media", "stance": "rumoured", "reported_at": "2020-01-02 10:00", "via": "Jihadi sources"},
    ])
    own = ledger.log_claim("Own claim", reports=[
        {"source": "Jihadi sources", "stance": "denied", "reported_at": "2020-01-03 10:00"},
        {"source": "Western media", "stance": "confirmed", "reported_at": "2020-01-03 11:00", "via": "Jihadi sources"},
    ])
    ledger.record_outcome(1, "true", "2020-01-05")
    ledger.record_outcome(own.id, "false", "2020-01-05")
    table = scores(load_evidence(ledger.engine))
    assert tally(table, "Jihadi sources") == (2, 1.5, 1.5, 0)
    assert tally(table, "Western media") == (2, 0.5, 1.5, 0)


# -- every source appears -----------------------------------------------------------------------
def test_every_source_appears_and_prior_only_ones_are_flagged():
    ev = evidence(claim("x", ("A", "confirmed", "2020-01-01"), outcomes=("true", "2020-01-02")),
                  claim("o", ("B", "confirmed", "2020-01-01")),
                  sources=["Silent", ("Agency", "news_outlet")])
    table = scores(ev)
    assert set(table.index) == {"A", "B", "Silent", "Agency"}
    assert table["prior_only"].to_dict() == {"A": False, "B": True, "Silent": True, "Agency": True}
    prior = table.attrs["prior_mean"]
    assert prior == pytest.approx(2 / 3)
    silent = table.loc["Silent"]
    assert silent["reliability"] == pytest.approx(prior)
    assert silent["lower"] == pytest.approx(beta_dist.ppf(0.05, prior * 4, (1 - prior) * 4))
    assert silent["grade"] == "F" and silent["kind"] == "other" and table.loc["Agency", "kind"] == "news_outlet"
    assert table.loc["B", "pending"] == 1
    # ranked by the lower end of the interval
    assert list(table["lower"]) == sorted(table["lower"], reverse=True)


# -- half-life and as-of ----------------------------------------------------------------------------
def test_half_life_lowers_the_weight_of_old_outcomes():
    ev = evidence(claim("old", ("A", "confirmed", "2020-01-01"), ("B", "denied", "2020-01-01"),
                        outcomes=("true", "2020-01-01 12:00")),
                  claim("new", ("A", "denied", "2020-01-30"), ("B", "rumoured", "2020-01-30"),
                        outcomes=("true", "2020-01-31 12:00")))
    flat = scores(ev)
    assert flat.loc["A", "trials"] == 2 and flat.loc["B", "trials"] == 1.5
    decayed = scores(ev, as_of="2020-01-31 12:00", config=ScoringConfig(half_life_days=30))
    # ages count from the as-of date: the old outcome is one half-life old
    assert decayed.loc["A", "trials"] == pytest.approx(1.5)
    assert decayed.loc["A", "successes"] == pytest.approx(0.5)
    assert decayed.loc["B", "trials"] == pytest.approx(1.0)  # 0.5 (old, decayed) + 0.5 (rumour)
    assert decayed.loc["B", "successes"] == pytest.approx(0.5)
    # A was right long ago and wrong lately, B the other way round
    assert flat.loc["A", "successes"] / flat.loc["A", "trials"] > flat.loc["B", "successes"] / flat.loc["B", "trials"]
    assert decayed.loc["A", "successes"] / decayed.loc["A", "trials"] < 0.5 == decayed.loc["B", "successes"] / decayed.loc["B", "trials"]
    later = scores(ev, as_of="2020-03-01 12:00", config=ScoringConfig(half_life_days=30))
    assert later.loc["A", "trials"] == pytest.approx(0.25 + 0.5)
    assert (later["trials"] < flat["trials"].reindex(later.index)).all()


def test_as_of_uses_only_what_was_known_then():
    ev = evidence(claim("x", ("A", "confirmed", "2020-01-01"), outcomes=("true", "2020-01-10")),
                  claim("y", ("B", "confirmed", "2020-01-15"), outcomes=("false", "2020-01-20")))
    assert tally(scores(ev, "2020-01-05"), "A") == (0, 0.0, 0.0, 1)
    at_12 = scores(ev, "2020-01-12")
    assert tally(at_12, "A") == (1, 1.0, 1.0, 0) and tally(at_12, "B") == (0, 0.0, 0.0, 0)
    assert tally(scores(ev, "2020-01-17"), "B") == (0, 0.0, 0.0, 1)
    assert tally(scores(ev), "B") == (1, 0.0, 1.0, 0)
    assert scores(ev, "2020-01-12").attrs["as_of"] == pd.Timestamp("2020-01-12", tz="UTC")
    assert list(scoring.predict(ev, "2020-01-17")["claim_ref"]) == ["y"]
    assert list(scoring.predict(ev, "2020-01-05")["claim_ref"]) == ["x"]
    over_time = scoring.reliability_over_time(ev, ["2020-01-05", "2020-01-12", "2020-02-01"], source_ids=[1])
    assert list(over_time["resolved"]) == [0, 1, 1]


# -- verdict revisions -------------------------------------------------------------------------------
def test_the_latest_revision_is_in_force_and_as_of_picks_the_one_known_then():
    ev = evidence(claim("v", ("A", "confirmed", "2020-01-01"),
                        outcomes=[("false", "2020-01-10"), ("true", "2020-02-01")]),
                  # a revision recorded later but dated earlier is still the one in force
                  claim("w", ("B", "confirmed", "2020-01-01"),
                        outcomes=[("true", "2020-01-10"), ("false", "2020-01-08")]))
    now = scores(ev)
    assert tally(now, "A") == (1, 1.0, 1.0, 0) and tally(now, "B") == (1, 0.0, 1.0, 0)
    jan15 = scores(ev, "2020-01-15")
    assert tally(jan15, "A") == (1, 0.0, 1.0, 0) and tally(jan15, "B") == (1, 0.0, 1.0, 0)
    jan09 = scores(ev, "2020-01-09")
    assert tally(jan09, "A") == (0, 0.0, 0.0, 1) and tally(jan09, "B") == (1, 0.0, 1.0, 0)
    verdicts = scoring.verdicts_as_of(ev.outcomes, "2020-01-15")
    assert verdicts["verdict"].to_dict() == {1: "false", 2: "false"}


def test_at_report_time_each_claim_sees_the_verdicts_in_force_before_it():
    ev = evidence(claim("v", ("A", "confirmed", "2020-01-01"),
                        outcomes=[("false", "2020-01-10"), ("true", "2020-02-01")]),
                  claim("w", ("A", "confirmed", "2020-01-20")),
                  claim("z", ("A", "confirmed", "2020-02-05")))
    table = scoring.predict_at_report_time(ev).set_index("claim_ref")
    assert table.loc["v", "base_rate"] == 0.5 and table.loc["v", "p_true"] == 0.5
    assert table.loc["w", "base_rate"] == pytest.approx(1 / 3)  # v was false then
    assert table.loc["z", "base_rate"] == pytest.approx(2 / 3)  # and true by then
    # A alone on a claim: p_true is its accuracy when asserting, from the record in force
    assert table.loc["w", "p_true"] == pytest.approx((1 / 3 * 4 + 0) / (4 + 1))
    assert table.loc["z", "p_true"] == pytest.approx((2 / 3 * 4 + 1) / (4 + 1))
    assert table.loc["v", "verdict"] == "true" and table.loc["v", "outcome"] == 1.0
    assert pd.isna(table.loc["w", "verdict"])


def test_at_report_time_a_back_dated_revision_stays_in_force():
    """A revision recorded later but dated earlier: once both are known the later-recorded one rules,
    as in verdicts_as_of."""
    ev = evidence(claim("v", ("A", "confirmed", "2020-01-01"),
                        outcomes=[("true", "2020-01-10"), ("false", "2020-01-08")]),
                  claim("w", ("A", "confirmed", "2020-01-09")),
                  claim("z", ("A", "confirmed", "2020-01-12")))
    table = scoring.predict_at_report_time(ev).set_index("claim_ref")
    assert table.loc["w", "base_rate"] == pytest.approx(1 / 3)  # only the 'false' of 8 January known
    assert table.loc["z", "base_rate"] == pytest.approx(1 / 3)  # both known: the later-recorded 'false'
    assert table.loc["z", "p_true"] == pytest.approx(table.loc["w", "p_true"])
    assert scoring.verdicts_as_of(ev.outcomes, "2020-01-12")["verdict"].to_dict() == {1: "false"}


def test_at_report_time_uses_outcomes_known_strictly_before_the_first_report():
    ev = evidence(claim("a", ("A", "confirmed", "2020-01-01"), outcomes=("true", "2020-01-05 12:00")),
                  claim("b", ("A", "confirmed", "2020-01-05 12:00")),
                  claim("c", ("A", "confirmed", "2020-01-05 12:01")))
    table = scoring.predict_at_report_time(ev).set_index("claim_ref")
    assert table.loc["b", "base_rate"] == 0.5 and table.loc["b", "p_true"] == 0.5
    assert table.loc["c", "base_rate"] == pytest.approx(2 / 3)
    assert table.loc["c", "p_true"] > 2 / 3


# -- breakdowns ---------------------------------------------------------------------------------------
def test_breakdown_by_topic_keeps_every_source():
    ev = evidence(claim("m", ("A", "confirmed", "2020-01-01"), outcomes=("true", "2020-01-02"), topics=["military"]),
                  claim("d", ("A", "denied", "2020-01-01"), ("B", "confirmed", "2020-01-01"),
                        outcomes=("true", "2020-01-02"), topics=["diplomacy"]),
                  claim("b", ("A", "denied", "2020-01-01"), outcomes=("false", "2020-01-02"),
                        topics=["military", "diplomacy"]))
    military = ev.for_topic("military")
    assert set(military.claims["ref"]) == {"m", "b"}
    assert tally(scores(military), "A") == (2, 2.0, 2.0, 0)
    assert tally(scores(military), "B") == (0, 0.0, 0.0, 0)  # kept, prior only
    diplomacy = scores(ev.for_topic(" Diplomacy "))
    assert tally(diplomacy, "A") == (2, 1.0, 2.0, 0) and tally(diplomacy, "B") == (1, 1.0, 1.0, 0)
    assert len(scores(ev.for_topic("economy"))) == 2


def test_breakdown_by_source_kind_pools_the_record():
    ev = evidence(claim("1", ("A", "confirmed", "2020-01-01"), ("B", "confirmed", "2020-01-01"),
                        outcomes=("true", "2020-01-02")),
                  claim("2", ("A", "confirmed", "2020-01-01"), ("C", "rumoured", "2020-01-01"),
                        outcomes=("true", "2020-01-02")),
                  claim("3", ("B", "confirmed", "2020-01-01"), outcomes=("false", "2020-01-02")),
                  claim("4", ("B", "confirmed", "2020-01-01")),
                  sources=[("A", "government"), ("B", "government"), ("C", "ngo"), ("D", "ngo")])
    table = scoring.score_sources(ev)
    kinds = scoring.score_by_kind(table).set_index("kind")
    assert list(kinds.index) == ["ngo", "government"]  # best credit share first
    assert kinds.loc["government", ["sources", "resolved", "pending"]].tolist() == [2, 4, 1]
    assert kinds.loc["government", "credit_share"] == pytest.approx(3 / 4)
    assert kinds.loc["ngo", ["sources", "resolved", "pending"]].tolist() == [2, 1, 0]
    assert kinds.loc["ngo", "credit_share"] == pytest.approx(1.0)
    by_source = table.set_index("source")
    assert kinds.loc["ngo", "mean_reliability"] == pytest.approx(by_source.loc[["C", "D"], "reliability"].mean())


def _hawk_and_dove() -> list[dict]:
    """Hawk asserts well and denies badly; Dove the other way round."""
    claims, day = [], 0

    def add(source, stance, verdict):
        nonlocal day
        day += 1
        start = pd.Timestamp("2020-01-01") + pd.Timedelta(days=day)
        claims.append(claim(f"{source}-{day}", (source, stance, start), outcomes=(verdict, start + pd.Timedelta(hours=12))))

    for _ in range(4):
        add("Hawk", "confirmed", "true")
        add("Hawk", "denied", "true")
        add("Dove", "denied", "false")
        add("Dove", "confirmed", "false")
    add("Hawk", "rumoured", "true")
    add("Hawk", "rumoured", "false")
    return claims


def test_rumoured_and_confirmed_tallies_and_asserting_and_denying_accuracy():
    table = scores(evidence(*_hawk_and_dove()))
    hawk, dove = table.loc["Hawk"], table.loc["Dove"]
    assert (hawk["confirmed_n"], hawk["confirmed_right"], hawk["rumoured_n"], hawk["rumoured_right"]) == (4, 1.0, 2, 0.5)
    assert (hawk["asserted_n"], hawk["denied_n"]) == (6, 4)
    assert (dove["confirmed_n"], dove["confirmed_right"], dove["rumoured_n"]) == (4, 0.0, 0)
    assert pd.isna(dove["rumoured_right"])
    # each stance has its own prior (the store's share for that stance, Laplace), both 0.5 here
    assert hawk["asserted_accuracy"] == pytest.approx((0.5 * 4 + 4.5) / (4 + 5))
    assert hawk["denied_accuracy"] == pytest.approx((0.5 * 4 + 0) / (4 + 4))
    assert dove["asserted_accuracy"] == pytest.approx((0.5 * 4 + 0) / (4 + 4))
    assert dove["denied_accuracy"] == pytest.approx((0.5 * 4 + 4) / (4 + 4))


def test_p_true_combines_the_base_rate_with_each_sources_accuracy_for_its_stance():
    history = _hawk_and_dove()
    ev = evidence(*history,
                  claim("hawk asserts", ("Hawk", "confirmed", "2020-03-01")),
                  claim("hawk denies", ("Hawk", "denied", "2020-03-01")),
                  claim("hawk rumours", ("Hawk", "rumoured", "2020-03-01")),
                  claim("both", ("Hawk", "confirmed", "2020-03-01"), ("Dove", "denied", "2020-03-01")),
                  claim("stranger", ("Stranger", "confirmed", "2020-03-01")),
                  claim("nobody", first="2020-03-01"))
    predicted = scoring.predict(ev).set_index("claim_ref")
    base = predicted.attrs["base_rate"]
    assert base == pytest.approx((9 + 1) / (18 + 2))
    hawk_assert, hawk_deny, dove_deny = 6.5 / 9, 2 / 8, 6 / 8
    assert predicted.loc["hawk asserts", "p_true"] == pytest.approx(hawk_assert)
    assert predicted.loc["hawk denies", "p_true"] == pytest.approx(1 - hawk_deny)  # Hawk's denials are mostly wrong
    assert predicted.loc["hawk rumours", "p_true"] == pytest.approx(
        _sigmoid(_logit(base) + 0.5 * (_logit(hawk_assert) - _logit(base))))
    assert predicted.loc["both", "p_true"] == pytest.approx(
        _sigmoid(_logit(base) + _logit(hawk_assert) - _logit(base) - (_logit(dove_deny) - _logit(1 - base))))
    # a source with no record carries the store's accuracy for its stance (0.5 here)
    assert predicted.loc["stranger", "p_true"] == pytest.approx(0.5)
    assert predicted.loc["nobody", "p_true"] == pytest.approx(base)
    assert predicted.loc["nobody", "independent_sources"] == 0
    drivers = predicted.attrs["drivers"]
    assert set(drivers.columns) >= {"claim_id", "source", "stance", "llr"}


def test_median_lead_time_over_the_claims_a_source_got_right():
    ev = evidence(claim("1", ("L", "confirmed", "2020-01-08"), outcomes=("true", "2020-01-10")),
                  claim("2", ("L", "rumoured", "2020-02-01"), ("L", "confirmed", "2020-02-06"),
                        outcomes=("true", "2020-02-10")),
                  claim("3", ("L", "denied", "2020-03-10"), outcomes=("false", "2020-03-20")),
                  claim("4", ("L", "denied", "2020-04-01"), outcomes=("true", "2020-04-10")),
                  claim("5", ("M", "confirmed", "2020-04-01"), outcomes=("false", "2020-04-10")))
    table = scores(ev)
    assert table.loc["L", "median_lead_days"] == pytest.approx(4.0)  # of 2, 4 (since it confirmed) and 10
    assert pd.isna(table.loc["M", "median_lead_days"])  # never right


# -- grades and credibility ------------------------------------------------------------------------
@pytest.mark.parametrize(("lower", "upper", "trials", "letter"), [
    (0.86, 0.99, 10, "A"), (0.85, 0.99, 5, "A"), (0.84, 0.99, 50, "B"), (0.70, 0.9, 5, "B"),
    (0.69, 0.9, 5, "C"), (0.50, 0.8, 5, "C"), (0.49, 0.8, 5, "D"), (0.30, 0.5, 5, "D"),
    (0.20, 0.49, 5, "E"), (0.95, 0.99, 4.9, "F"), (0.05, 0.2, 4.5, "F"), (0.3, 0.9, 0, "F"),
])
def test_grade_letters(lower, upper, trials, letter):
    assert scoring.grade([lower], [upper], [trials])[0] == letter
    assert letter in scoring.GRADE_WORDS


def test_grades_in_the_scores():
    claims = []
    for i in range(40):
        claims.append(claim(f"g{i}", ("Good", "confirmed", f"2020-01-{1 + i % 28:02d}"), outcomes=("true", "2020-03-01")))
    for i in range(30):
        claims.append(claim(f"b{i}", ("Bad", "denied", f"2020-01-{1 + i % 28:02d}"), outcomes=("true", "2020-03-01")))
    claims += [claim("n1", ("Newbie", "confirmed", "2020-01-01"), outcomes=("true", "2020-03-01")),
               claim("n2", ("Newbie", "confirmed", "2020-01-02"), outcomes=("true", "2020-03-01"))]
    table = scores(evidence(*claims))
    assert table["grade"].to_dict() == {"Good": "A", "Newbie": "F", "Bad": "E"}
    assert scores(evidence(*claims), config=ScoringConfig(min_record=1))["grade"]["Newbie"] != "F"
    assert list(table.index) == ["Good", "Newbie", "Bad"]


def test_credibility_levels_with_relays_of_one_origin_counted_once():
    day = "2020-01-01"
    cases = {
        "two confirm": ([("A", "confirmed", day), ("B", "confirmed", day)], 1),
        "confirmed and rumoured": ([("A", "confirmed", day), ("B", "rumoured", day)], 2),
        "one confirms": ([("A", "confirmed", day)], 2),
        "only rumoured": ([("A", "rumoured", day), ("B", "rumoured", day)], 3),
        "contested": ([("A", "confirmed", day), ("B", "denied", day)], 4),
        "rumoured and denied": ([("A", "rumoured", day), ("B", "denied", day)], 4),
        "only denied": ([("A", "denied", day), ("B", "denied", day)], 5),
        "relay of A": ([("A", "confirmed", day), ("B", "confirmed", "2020-01-02", "A")], 2),
        "two relays of A": ([("B", "confirmed", day, "A"), ("C", "confirmed", day, "A")], 2),
        "A and a relay of D denying": ([("A", "confirmed", day), ("B", "confirmed", day, "A"),
                                        ("C", "denied", day, "D")], 4),
    }
    claims = [claim(ref, *reports) for ref, (reports, _) in cases.items()]
    claims.append(claim("no reports", first=day))
    predicted = scoring.predict(evidence(*claims)).set_index("claim_ref")
    for ref, (_, level) in cases.items():
        assert predicted.loc[ref, "credibility"] == level, ref
    assert predicted.loc["no reports", "credibility"] == 6
    assert predicted.loc["two relays of A", "independent_sources"] == 1
    votes = pd.DataFrame({"claim_id": [1, 1, 2], "stance": ["confirmed", "confirmed", "denied"]})
    assert scoring.credibility(votes, [1, 2, 3]).tolist() == [1, 5, 6]
    assert sorted(scoring.CREDIBILITY_WORDS) == [1, 2, 3, 4, 5, 6]


# -- self-scoring -------------------------------------------------------------------------------------
def test_calibration_returns_brier_base_rate_brier_table_and_truth_rate_by_stance():
    claims = []
    for i in range(12):
        truth = i % 3 != 0
        start = pd.Timestamp("2020-01-01") + pd.Timedelta(days=3 * i)
        claims.append(claim(f"c{i}", ("Good", "confirmed" if truth else "denied", start),
                            ("Noisy", "rumoured", start + pd.Timedelta(hours=1)),
                            outcomes=("true" if truth else "false", start + pd.Timedelta(days=1))))
    claims.append(claim("u", ("Good", "confirmed", "2020-03-01"), outcomes=("unverifiable", "2020-03-02")))
    claims.append(claim("open", ("Good", "confirmed", "2020-03-01")))
    ev = evidence(*claims)
    predictions = scoring.predict_at_report_time(ev)
    result = scoring.calibration(ev, predictions, bins=5)
    scored = predictions[predictions["outcome"].notna()]
    y, p = scored["outcome"].to_numpy(), scored["p_true"].to_numpy()
    assert result.claims == 12
    assert result.brier == pytest.approx(np.mean((p - y) ** 2))
    assert result.base_rate_brier == pytest.approx(np.mean((scored["base_rate"].to_numpy() - y) ** 2))
    assert result.accuracy == pytest.approx(np.mean((p > 0.5) == (y == 1.0)))  # no partly_true here
    assert result.brier < result.base_rate_brier  # learning who is right pays
    assert list(result.table.columns) == ["bin", "predicted", "observed", "claims"]
    assert result.table["claims"].sum() == 12
    assert set(result.table["bin"]) <= {"0.0-0.2", "0.2-0.4", "0.4-0.6", "0.6-0.8", "0.8-1.0"}
    by_stance = result.by_stance.set_index("stance")
    assert by_stance.loc["confirmed", "truth_rate"] == 1.0 and by_stance.loc["denied", "truth_rate"] == 0.0
    assert by_stance.loc["rumoured", "truth_rate"] == pytest.approx(8 / 12)
    per_source = result.by_source_stance.set_index(["source", "stance"])
    assert per_source.loc[("Noisy", "rumoured"), "claims"] == 12
    assert scoring.calibration(ev).brier == pytest.approx(result.brier)  # computes the predictions itself


# -- the Aleppo example -----------------------------------------------------------------------------
def test_aleppo_every_source_scored_and_the_open_claims_predicted(seeded):
    ev = load_evidence(seeded.engine)
    table = scores(ev)
    assert len(table) == 16 == len(ev.sources)
    assert set(table.index[table["prior_only"]]) == {
        "Russian Foreign Ministry", "Syrian government", "UN Secretary-General", "UN human rights office"}
    assert tally(table, "Rebel officials") == (2, 0.5, 2.0, 0)  # partly true + false; own report beats the relay
    assert tally(table, "Jihadi sources") == (1, 0.5, 0.5, 0)
    assert table.loc["The Duran", "pending"] == 2 and table.loc["Western media", "pending"] == 1
    assert (table["grade"] != "A").all()  # far too small a record for confidence
    predicted = scoring.predict(ev).set_index("claim_ref")
    assert set(predicted.index) == {"aleppo-11", "aleppo-13"}
    assert predicted.loc["aleppo-11", "credibility"] == 4  # rumoured by Western media, denied by The Duran
    assert predicted.loc["aleppo-13", "credibility"] == 3  # only rumoured
    assert ((predicted["p_true"] > 0) & (predicted["p_true"] < 1)).all()


def test_aleppo_self_scoring_and_topics(seeded):
    ev = load_evidence(seeded.engine)
    at_report = scoring.predict_at_report_time(ev)
    assert len(at_report) == 13 and at_report["p_true"].between(0, 1).all()
    result = scoring.calibration(ev, at_report)
    assert result.claims == 9  # 13 claims, less 2 open and 2 unverifiable
    assert {"confirmed", "rumoured", "denied"} == set(result.by_stance["stance"])
    military = ev.for_topic("military")
    assert len(scores(military)) == 16
    assert set(military.claims["ref"]) == {"aleppo-03", "aleppo-04", "aleppo-05", "aleppo-09"}


# -- edge cases that were bugs ---------------------------------------------------------------------
@pytest.mark.parametrize("which", ["empty store", "topic without claims"])
def test_self_scoring_with_no_claims(seeded, tmp_path, which):
    if which == "empty store":
        empty = Ledger.open(str(tmp_path / "empty.db"))
        ev = load_evidence(empty.engine)
        empty.engine.dispose()
    else:
        ev = load_evidence(seeded.engine).for_topic("no such topic")
    assert len(ev.claims) == 0
    assert len(scoring.predict_at_report_time(ev)) == 0
    assert scoring.calibration(ev).claims == 0


def test_a_later_relay_does_not_retract_the_relayers_own_report():
    history = [claim(f"h{i}", ("W", "confirmed", f"2020-01-{i + 1:02d}"), outcomes=("true", f"2020-01-{i + 1:02d} 12:00"))
               for i in range(5)]
    own = scoring.predict(evidence(*history, claim("x", ("W", "confirmed", "2020-02-01")))).iloc[0]
    both = scoring.predict(evidence(*history, claim("x", ("W", "confirmed", "2020-02-01"),
                                                    ("W", "rumoured", "2020-02-02", "J")))).iloc[0]
    # observed: independent_sources 1 (J only), credibility 3, p_true 0.937 -> 0.857
    assert both["independent_sources"] == 2  # W on its own account, and J through W
    assert both["credibility"] == own["credibility"] == 2


def test_half_life_without_a_date_counts_ages_from_now():
    ev = evidence(claim("old", ("A", "confirmed", "2020-01-01"), outcomes=("true", "2020-01-02")),
                  claim("new", ("A", "confirmed", "2020-01-30"), outcomes=("true", "2020-01-31")))
    decayed = scores(ev, config=ScoringConfig(half_life_days=30))
    # both outcomes are years old today: almost nothing of the record is left, and A is near the prior
    assert decayed.loc["A", "trials"] < 1e-6
    assert decayed.loc["A", "trials"] == pytest.approx(
        scores(ev, as_of=pd.Timestamp.now(tz="UTC"), config=ScoringConfig(half_life_days=30)).loc["A", "trials"],
        rel=1e-3)


def test_truth_rate_by_stance_counts_claims_once_and_only_stances_taken_before_the_verdict():
    ev = evidence(claim("x", ("A", "confirmed", "2020-01-01"), ("B", "confirmed", "2020-01-01"),
                        ("C", "denied", "2020-01-05"), outcomes=("true", "2020-01-02")),
                  claim("y", ("A", "confirmed", "2020-01-03"), outcomes=("false", "2020-01-04")))
    result = scoring.calibration(ev)
    by_stance = result.by_stance.set_index("stance")
    assert by_stance.loc["confirmed", "claims"] == 2  # x (twice confirmed) counts once, and y
    assert by_stance.loc["confirmed", "truth_rate"] == 0.5
    assert "denied" not in by_stance.index  # C denied x only after it was settled
