"""The forecasting model's rules: direction, no hindsight, fitted versus default parameters, no
look-ahead in the fit, explanations, timelines. Each test fails when its rule is broken."""

from __future__ import annotations

import dataclasses
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.synthetic import build_evidence, make_world, make_world_type
from tests.test_scoring_properties import BASE, SOURCES, _hours, stores
from tracker import forecast
from tracker.evidence import Evidence, LetGo, load_evidence
from tracker.scoring import latest_stances

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _p(evidence: Evidence, claim_ref: str) -> float:
    out = forecast.predict(evidence, claim_ids=[_id(evidence, claim_ref)])
    return float(out["p_true"].iloc[0])


def _id(evidence: Evidence, claim_ref: str) -> int:
    return int(evidence.claims.index[evidence.claims["ref"] == claim_ref][0])


def _record(source: str, stance: str, verdict: str, n: int, start: int = 0) -> list[dict]:
    """`n` resolved claims on which `source` took `stance` and the verdict was `verdict`."""
    return [{"ref": f"{source}-{stance}-{i}", "reports": [(source, stance, BASE + _hours(start + 10 * i))],
             "outcomes": [(verdict, BASE + _hours(start + 10 * i + 5))]} for i in range(n)]


OPEN_AT = BASE + _hours(5000)


def _open(ref: str, *reports) -> dict:
    return {"ref": ref, "reports": [(s, stance, OPEN_AT + _hours(k)) for k, (s, stance) in enumerate(reports)]}


# -- direction -------------------------------------------------------------------------------
def test_a_denial_from_a_source_with_no_record_never_raises_p_true():
    # the store's denials were mostly wrong (denied claims turned out true), on a small record
    past = _record("Old", "denied", "true", 2) + _record("Old", "confirmed", "true", 3, start=100)
    # the newcomer is of another kind: no record of its own, its parent's or its kind's
    base = build_evidence(past + [_open("x", ("Known", "confirmed"))], sources=[("Newcomer", "official")])
    denied = build_evidence(past + [_open("x", ("Known", "confirmed"), ("Newcomer", "denied"))],
                            sources=[("Newcomer", "official")])
    assert _p(denied, "x") <= _p(base, "x") + 1e-12


def test_a_confirmation_from_a_source_with_no_record_never_lowers_p_true():
    past = _record("Old", "confirmed", "false", 3) + _record("Old", "denied", "false", 2, start=100)
    base = build_evidence(past + [_open("x", ("Known", "denied"))], sources=[("Newcomer", "official")])
    confirmed = build_evidence(past + [_open("x", ("Known", "denied"), ("Newcomer", "confirmed"))],
                               sources=[("Newcomer", "official")])
    assert _p(confirmed, "x") >= _p(base, "x") - 1e-12


def test_a_denial_raises_p_true_only_when_the_record_shows_it_is_usually_wrong_with_confidence():
    strong = _record("Contrarian", "denied", "true", 12) + _record("Other", "confirmed", "false", 6, start=500)
    weak = _record("Contrarian", "denied", "true", 1) + _record("Other", "confirmed", "false", 6, start=500)
    for past, raises in ((strong, True), (weak, False)):
        without = build_evidence(past + [_open("x", ("Other", "confirmed"))], sources=["Contrarian"])
        with_denial = build_evidence(past + [_open("x", ("Other", "confirmed"), ("Contrarian", "denied"))])
        moved = _p(with_denial, "x") - _p(without, "x")
        assert (moved > 0.01) if raises else (moved <= 1e-12), (raises, moved)


def test_a_sources_skill_in_one_direction_carries_to_the_other():
    """A source whose assertions held up is trusted more than a newcomer when it first denies, and
    one whose denials held up more when it first asserts (`skill_transfer`); both with no record of
    that direction and of the same kind as the newcomer."""
    shared = _record("Other", "confirmed", "true", 3, start=900) + _record("Other", "denied", "false", 3, start=1000)
    cases = ((_record("Sharp", "confirmed", "true", 10), "denied", -1),
             (_record("Sharp", "denied", "false", 10), "confirmed", +1))
    for past, stance, direction in cases:
        by = {who: _p(build_evidence(past + shared + [_open("x", ("Other", "rumoured"), (who, stance))],
                                     sources=["Newcomer"]), "x") for who in ("Sharp", "Newcomer")}
        assert (by["Sharp"] - by["Newcomer"]) * direction > 0.01, (stance, by)
    # and the drivers say so: the first case's denial, read with the ten assertions that held up
    evidence = build_evidence(cases[0][0] + shared + [_open("x", ("Other", "rumoured"), ("Sharp", "denied"))])
    said = forecast.predict(evidence, claim_ids=[_id(evidence, "x")]).attrs["drivers"].set_index("source")
    assert "its assertions were right 10 time(s) in 10 (skill carries over)" in said.loc["Sharp", "explanation"]


@SETTINGS
@given(claims=stores(), source=st.sampled_from(SOURCES + ["Nobody"]), stance=st.sampled_from(["confirmed",
                                                                                                "rumoured", "denied"]))
def test_no_stance_pushes_against_its_direction_without_a_confident_record(claims, source, stance):
    """On random stores: add one stance to a new open claim that already has another vote; p_true
    moves the stance's way, or against it only when the vote's record is confidently wrong."""
    later = BASE + _hours(90 * 24)
    first = ("First", "confirmed", later)  # a vote the added one cannot replace
    before = build_evidence(claims + [{"ref": "new", "reports": [first]}], sources=SOURCES + ["Nobody"])
    after = build_evidence(claims + [{"ref": "new", "reports": [first, (source, stance, later + _hours(1))]}],
                           sources=SOURCES + ["Nobody"])
    moved = _p(after, "new") - _p(before, "new")
    drivers = forecast.predict(after, claim_ids=[_id(after, "new")]).attrs["drivers"]
    term = drivers.loc[drivers["source"] == source, "llr"]
    towards = 1 if stance != "denied" else -1
    if moved * towards < -1e-12:
        model = forecast.fit(after)
        queries = pd.DataFrame({"claim_id": [_id(after, "new")], "at": [forecast._FUTURE]})
        feats = forecast._features(after, model.walk, queries, 0.9)
        mine = feats.vote_source == after.sources.index[after.sources["name"] == source][0]
        assert feats.confident_wrong[mine].all(), (moved, term.tolist())


def test_on_the_aleppo_example_no_vote_pushes_against_its_stance(seeded):
    evidence = load_evidence(seeded.engine)
    out = forecast.predict(evidence, claim_ids=list(evidence.claims.index))
    drivers = out.attrs["drivers"]
    asserting = drivers["stance"] != "denied"
    assert (drivers.loc[asserting, "llr"] >= 0).all() and (drivers.loc[~asserting, "llr"] <= 0).all()


# -- no hindsight ----------------------------------------------------------------------------
def _flip(evidence: Evidence, claim_id: int, verdict: str = "false", shift_days: float = 0.0) -> Evidence:
    outcomes = evidence.outcomes.copy()
    mine = outcomes["claim_id"] == claim_id
    outcomes.loc[mine, "verdict"] = verdict
    outcomes.loc[mine, "decided_at"] = outcomes.loc[mine, "decided_at"] + pd.Timedelta(days=shift_days)
    return Evidence(evidence.sources, evidence.claims, evidence.reports, outcomes, evidence.topics)


@pytest.mark.parametrize("verdict,shift", [("false", 0.0), ("true", 3.0), ("unverifiable", 0.0)])
def test_changing_a_claims_own_verdict_never_changes_the_forecast_shown_for_it(verdict, shift):
    world = make_world(11, 30, 400)
    evidence = world.evidence()
    model = forecast.fit(evidence)
    history = model.history.set_index("claim_id")["p_true"]
    for claim_id in [int(c) for c in world.resolved_claims[::90]]:
        shown = forecast.predict(evidence, claim_ids=[claim_id], model=model)
        line = forecast.timeline(evidence, claim_id, model=model)
        changed_store = _flip(evidence, claim_id, verdict, shift)
        refit = forecast.fit(changed_store)
        changed = forecast.predict(changed_store, claim_ids=[claim_id], model=refit)
        if not shift:  # a later verdict lets the tracker say more before it: only the value is compared
            assert changed["p_true"].iloc[0] == pytest.approx(shown["p_true"].iloc[0], abs=1e-12)
        assert changed["p_true_at_first_report"].iloc[0] == pytest.approx(shown["p_true_at_first_report"].iloc[0],
                                                                           abs=1e-12)
        assert refit.history.set_index("claim_id").loc[claim_id, "p_true"] == pytest.approx(history[claim_id],
                                                                                            abs=1e-12)
        again = forecast.timeline(changed_store, claim_id, model=refit)["p_true"].to_numpy()
        assert np.allclose(again[:len(line)], line["p_true"], atol=1e-12)
        assert shown["resolved"].iloc[0] and shown["said_at"].iloc[0] == evidence.outcomes.loc[
            evidence.outcomes["claim_id"] == claim_id, "decided_at"].min()


def test_a_resolved_claim_is_shown_as_it_stood_before_its_verdict_not_with_hindsight(seeded):
    evidence = load_evidence(seeded.engine)
    claim = _id(evidence, "aleppo-08")
    shown = forecast.predict(evidence, claim_ids=[claim]).iloc[0]
    line = forecast.timeline(evidence, claim)
    first = forecast.predict_at_report_time(evidence).set_index("claim_id").loc[claim, "p_true"]
    assert shown["p_true_at_first_report"] == pytest.approx(first) == pytest.approx(line["p_true"].iloc[0])
    assert shown["p_true"] == pytest.approx(line["p_true"].iloc[-1])
    verdict_at = evidence.outcomes.loc[evidence.outcomes["claim_id"] == claim, "decided_at"].min()
    assert (line["at"] < verdict_at).all()
    reports = evidence.reports[(evidence.reports["claim_id"] == claim) & (evidence.reports["reported_at"] < verdict_at)]
    assert len(line) == reports["reported_at"].nunique()
    assert list(line["source"]) == ["Jihadi sources", "Western media", "The Duran", "Russian Defence Ministry", "ICRC"]


def test_predicting_the_open_claims_computes_their_first_report_forecasts_not_the_whole_history():
    evidence = make_world(4, 30, 600).evidence()
    model = forecast.fit(evidence)
    out = forecast.predict(evidence, model=model, explain=False)
    assert "history" not in model.__dict__ and "first_report" not in model.__dict__  # left for who reads them
    first = model.history.set_index("claim_id")["p_true"].reindex(out["claim_id"]).to_numpy()
    assert np.array_equal(out["p_true_at_first_report"], first)


def test_first_report_forecasts_read_each_fits_claims_in_place(monkeypatch):
    # the open claims' first-report forecasts are worked out in order of first report, where each
    # chronological fit serves a run of claims: no copy of the features per fit (`_subset`)
    evidence = make_world(4, 30, 600).evidence()
    model = forecast.fit(evidence)
    assert len(model.fits) > 3
    claims = evidence.claims.index.to_numpy()[::-1]  # (not in time order)
    monkeypatch.setattr(forecast, "_subset", None)
    got = replace(model).at_first_report(claims)
    assert np.array_equal(got, model.history.set_index("claim_id")["p_true"].reindex(claims).to_numpy())



def _blocks_of_seven(monkeypatch) -> list:
    """Forecasts worked out 7 queries at a time; the sizes of the queries `_features` is given, as it is."""
    sizes, features = [], forecast._features

    def counted(evidence, walk, queries, *args, **kwargs):
        sizes.append(len(queries))
        return features(evidence, walk, queries, *args, **kwargs)

    monkeypatch.setattr(forecast, "FORECAST_BLOCK", 7)
    monkeypatch.setattr(forecast, "_features", counted)
    return sizes


def test_open_claims_are_forecast_a_block_at_a_time_with_the_numbers_of_one_call(monkeypatch):
    evidence = make_world(4, 30, 600, open_rate=0.3).evidence()
    model = forecast.fit(evidence)
    whole = forecast.predict(evidence, model=model)
    sizes = _blocks_of_seven(monkeypatch)
    for explain in (False, True):
        sizes.clear()
        blocks = forecast.predict(evidence, model=model, explain=explain)
        assert sizes and max(sizes) <= 7 and sum(sizes) >= 2 * len(whole)  # now, and at first report
        pd.testing.assert_frame_equal(blocks, whole, check_exact=True)
        if explain:
            for name in ("drivers", "priors"):
                pd.testing.assert_frame_equal(blocks.attrs[name], whole.attrs[name], check_exact=True)


def test_every_claims_first_report_forecast_is_worked_out_a_block_at_a_time_with_the_numbers_of_one_call(monkeypatch):
    # `history` (what `calibration` and `predict --at-report-time` read) and the majority vote beside
    # it: a block of claims' features at a time (every claim's at once held 6.8 GB at ten million
    # reports), the same numbers bit for bit as one call over every claim
    evidence = make_world(4, 30, 600, open_rate=0.3).evidence()
    model = forecast.fit(evidence)
    assert all(f.half_life_days is None for f in model.fits)  # (with a half-life: one block, tested below)
    one = replace(model)
    monkeypatch.setattr(forecast, "FORECAST_BLOCK", 1 << 30)
    whole, whole_majority = one.history, one.majority_at_first_report
    votes = one.first_report.votes
    asserting = votes["stance"].isin(("confirmed", "rumoured")).to_numpy(dtype=float)
    total, count = (np.bincount(one.first_report.vote_query, weights=w, minlength=len(whole)) for w in (asserting, None))
    assert np.array_equal(whole_majority, np.where(count > 0, total / np.maximum(count, 1), 0.5))
    sizes = _blocks_of_seven(monkeypatch)
    blocks = replace(model)
    pd.testing.assert_frame_equal(blocks.history, whole, check_exact=True)
    assert np.array_equal(blocks.majority_at_first_report, whole_majority)
    assert max(sizes) == 7 and sum(sizes) == len(whole)
    sizes.clear()
    decayed = replace(model, fits=[replace(f, half_life_days=30.0) for f in model.fits])
    assert len(decayed.history) == len(whole) and sizes == [len(whole)]  # a half-life: one block


def test_the_replay_works_out_its_credit_rows_a_block_of_revisions_at_a_time_with_the_same_sums(monkeypatch):
    evidence = make_world(6, 30, 500, revision_rate=0.2, unverifiable_rate=0.1).evidence()
    pairs = forecast._claim_topics(evidence)
    whole = forecast._walk(evidence, pairs)
    calls, of = [], forecast._ReportsByClaim.of

    def counted(self, claim_ids):
        calls.append(len(claim_ids))
        return of(self, claim_ids)

    monkeypatch.setattr(forecast, "CREDIT_BLOCK", 11)
    monkeypatch.setattr(forecast._ReportsByClaim, "of", counted)
    blocks = forecast._walk(evidence, pairs)
    assert max(calls) <= 11 and len(calls) > 10  # the revisions' rows were read a block at a time
    for name in forecast.LEVELS:
        assert np.array_equal(blocks.levels[name].key, whole.levels[name].key)
        assert np.array_equal(blocks.levels[name].sums, whole.levels[name].sums)


def test_a_fit_that_lets_the_reports_go_forecasts_the_same_and_refuses_to_read_them_again():
    # `tracker predict` lets the reports' frame go once the replay holds what it reads of them:
    # the forecasts are those of a fit that keeps it, and a later read is an error, not a guess
    evidence = make_world(6, 30, 500, revision_rate=0.2, unverifiable_rate=0.1).evidence()
    kept = forecast.fit(evidence)
    for fitted in (None, kept.fitted):  # fitted here, and with the parameters of an earlier fit
        lean = replace(evidence)  # its own frames' attributes, the same frames
        model = forecast.fit(lean, fitted=fitted, keep_reports=False)
        assert model.reused == (fitted is not None)
        for claim_ids in (None, [1, 2, 3]):
            got, want = (forecast.predict(e, claim_ids=claim_ids, model=m) for e, m in ((lean, model), (evidence, kept)))
            pd.testing.assert_frame_equal(got, want, check_exact=True)
            for name in ("drivers", "priors"):
                pd.testing.assert_frame_equal(got.attrs[name], want.attrs[name], check_exact=True)
        pd.testing.assert_frame_equal(forecast.predict_at_report_time(lean, model=model),
                                      forecast.predict_at_report_time(evidence, model=kept), check_exact=True)
        for read in (lambda: lean.reports["claim_id"], lambda: len(lean.reports), lambda: lean.reports.columns,
                     lambda: forecast.timeline(lean, 1, model=model)):
            with pytest.raises(LetGo, match="reports were let go .* load the evidence again"):
                read()
        with pytest.raises(LetGo, match="topics were let go"):
            lean.for_topic("politics")
    assert len(evidence.reports) > 1000 and len(evidence.topics)  # the evidence the others shared keeps its own


def test_the_replays_own_id_columns_give_the_latest_stances_of_the_frames():
    # the int32 copies kept when the frame is let go are read back as the int64 ids of the frame
    reports = make_world(7, 30, 300, relay_rate=0.3).evidence().reports
    shared, own = forecast._ReportsByClaim(reports), forecast._ReportsByClaim(reports, own_ids=True)
    assert own.source.dtype == np.int32 and shared.source.dtype == np.int64
    assert not np.shares_memory(own.claim, reports["claim_id"].to_numpy())
    rows, key = shared.of(reports["claim_id"].unique()[:100])
    got, want = own.latest(rows, key), shared.latest(rows, key)
    for name in want:
        assert got[name].dtype == want[name].dtype and np.array_equal(got[name], want[name]), name
    wide = reports.assign(source_id=reports["source_id"] + 2**31)  # ids past int32 stay as they are
    assert forecast._ReportsByClaim(wide, own_ids=True).source.dtype == np.int64


def test_the_replays_tables_hold_row_numbers_and_steps_as_int32_and_the_topics_once():
    # at ten million reports each int64 column of a claim's rows or of a level's rows is 15-45 MB
    evidence = make_world(8, 30, 400, revision_rate=0.2).evidence()
    walk = forecast.fit(evidence).walk
    for by_claim in (walk.reports, walk.pairs):
        assert by_claim.order.dtype == by_claim._start.dtype == by_claim._count.dtype == np.int32
    for sums in walk.levels.values():
        assert sums.step.dtype == sums.entity_start.dtype == np.int32 and sums.sums.dtype == np.int32
    # each pair's topic is read from its code: the topics' texts are held once, not once a pair
    pairs = forecast._claim_topics(evidence)
    assert len(walk.topic_names) == pairs["topic"].nunique() + 1
    assert walk.topic_names[walk.pair_code].tolist() == pairs["topic"].tolist()


# -- fitted or default parameters ------------------------------------------------------------
def test_defaults_while_the_record_is_small_and_fitted_values_once_it_is_large():
    small = make_world(3, 10, 25).evidence()
    model = forecast.fit(small)
    resolved = model.history["outcome"].notna().sum()
    assert resolved < forecast.MIN_FIT_CLAIMS
    assert replace(model.params, level=0.9) == forecast.DEFAULTS and model.params.fitted_on == 0
    assert (model.history["fitted_on"] == 0).all()

    large = make_world(3, 40, 1500).evidence()
    model = forecast.fit(large)
    assert model.params.fitted_on >= 1000
    assert model.params != replace(forecast.DEFAULTS, fitted_on=model.params.fitted_on)
    assert model.history["fitted_on"].max() > 0 and model.history["fitted_on"].iloc[0] == 0
    # the current forecasts use the fitted values: forcing the defaults changes them
    fitted = forecast.predict(large, model=model)["p_true"].to_numpy()
    forced = forecast.predict(large, model=replace(model, params=forecast.DEFAULTS))["p_true"].to_numpy()
    assert not np.allclose(fitted, forced)


def test_a_store_where_rumours_are_as_good_as_confirmations_learns_to_count_them_fully():
    world = make_world(5, 40, 2500, rumour_share=0.8)
    model = forecast.fit(world.evidence())
    assert model.params.weight_rumoured > 0.7


def test_the_fits_analytic_gradient_is_the_slope_of_its_log_odds():
    """The fit follows `_log_odds_and_slopes`: each column must match a finite difference of the
    log-odds by that free parameter (strengths by their logs), away from the defaults, with groups,
    kinds, topics and all three stances in play."""
    from tests.synthetic import make_world_type

    model = forecast.fit(make_world_type("sparse", 3, n_claims=400).evidence())
    f = model.first_report
    x = forecast._to_vector(forecast.DEFAULTS) + np.array([0.3, -0.4, 0.5, -0.2, -0.2, -0.1, -0.3, -0.15, -0.3])
    params = forecast._from_vector(x, forecast.DEFAULTS)
    z, slopes = forecast._log_odds_and_slopes(f, params)
    assert np.allclose(z, np.log(forecast._p_true(f, params)) - np.log1p(-forecast._p_true(f, params)), atol=1e-6)
    step = 1e-6
    for k, name in enumerate(forecast._FREE):
        moved = x.copy()
        moved[k] += step
        z_moved, _ = forecast._log_odds_and_slopes(f, forecast._from_vector(moved, forecast.DEFAULTS))
        numeric = (z_moved - z) / step
        assert np.abs(numeric).max() > 1e-3, name  # the parameter reaches the forecasts
        assert np.allclose(slopes[:, k], numeric, atol=1e-4, rtol=1e-3), name



def test_the_fit_keeps_every_blas_to_one_thread_in_a_fresh_process():
    """SciPy brings a BLAS of its own beside numpy's, and the fit's one-thread limit only reaches a
    BLAS already loaded: in a fresh process, where SciPy loads during the fit, its threads must not
    run (and spin) beside the fit's. Every BLAS reports one thread while the parameters are fitted."""
    import subprocess
    import sys
    from pathlib import Path

    code = ("import threadpoolctl\n"
            "from tests.synthetic import make_world\n"
            "from tracker import forecast\n"
            "threads, inner = set(), forecast.fit_params\n"
            "def fit_params(*args, **kwargs):\n"
            "    threads.update(i['num_threads'] for i in threadpoolctl.threadpool_info() if i['user_api'] == 'blas')\n"
            "    return inner(*args, **kwargs)\n"
            "forecast.fit_params = fit_params\n"
            "forecast.fit(make_world(5, 40, 300).evidence())\n"
            "print(sorted(threads))")
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root)
    assert done.stdout.split() == ["[1]"]


# -- no look-ahead in the fit ----------------------------------------------------------------
def test_forecasts_made_before_a_date_do_not_change_when_later_verdicts_change():
    world = make_world(8, 30, 1200)
    evidence = world.evidence()
    cut = evidence.claims["first_reported_at"].quantile(0.6)
    later = evidence.outcomes["decided_at"] >= cut
    flipped = evidence.outcomes.copy()
    flipped.loc[later, "verdict"] = flipped.loc[later, "verdict"].map({"true": "false", "false": "true"})
    changed = Evidence(evidence.sources, evidence.claims, evidence.reports, flipped, evidence.topics)
    a = forecast.fit(evidence)
    b = forecast.fit(changed)
    early = (a.history["first_reported_at"] < cut).to_numpy()
    assert early.sum() > 300 and (a.checkpoints["resolved"] >= 120).any()
    assert np.allclose(a.history["p_true"][early], b.history["p_true"][early], atol=1e-12)
    assert not np.allclose(a.history["p_true"][~early], b.history["p_true"][~early])
    # the refits made before the cut are the same; the final fit saw the change
    before = a.checkpoints["from"].isna() | (a.checkpoints["from"] < cut)
    as_numbers = {"half_life_days": float}  # None (no half-life) in a column that holds only None
    pd.testing.assert_frame_equal(a.checkpoints[before].astype(as_numbers),
                                  b.checkpoints[before.to_numpy()].astype(as_numbers))
    assert a.params != b.params


def test_a_refit_tries_the_half_lives_of_the_record_as_it_stood_then():
    # a verdict two years after the rest lengthens the record's span: the refits made before it
    # tried half-lives from the span they saw, so they and the forecasts made with them stay as they were
    world = make_world_type("drift", 1, n_claims=1200)  # its refits from 545 resolved claims on keep a half-life
    evidence = world.evidence()
    last = evidence.outcomes["decided_at"].max()
    late = build_evidence([{"ref": "late", "reports": [("late source", "confirmed", last + pd.Timedelta(days=700))],
                            "outcomes": [("true", last + pd.Timedelta(days=730))]}])
    claim_id, source_id = evidence.claims.index.max() + 1, evidence.sources.index.max() + 1
    longer = Evidence(
        pd.concat([evidence.sources, late.sources.set_axis([source_id]).rename_axis("id")]),
        pd.concat([evidence.claims, late.claims.set_axis([claim_id]).rename_axis("id")]),
        pd.concat([evidence.reports, late.reports.assign(claim_id=claim_id, source_id=source_id)], ignore_index=True),
        pd.concat([evidence.outcomes, late.outcomes.assign(claim_id=claim_id, id=evidence.outcomes["id"].max() + 1)],
                  ignore_index=True),
        evidence.topics)
    a, b = forecast.fit(evidence), forecast.fit(longer)
    assert len(a.fits) == len(b.fits) and any(f.half_life_days for f in a.fits[:-1])
    assert a.fits == b.fits
    assert np.array_equal(a.history["p_true"], b.history["p_true"].iloc[:-1])


def test_decayed_records_are_exact_however_many_half_lives_the_record_spans():
    # events over 3,000 half-lives: each stance reads its entity's events weighted 2 ** (-distance
    # / half-life), events before the stance and events between it and the cut-off alike
    rng = np.random.default_rng(4)
    n_steps, half_life = 400, 1.0
    step_days = np.sort(rng.uniform(0, 3000, n_steps))
    entity, step = rng.integers(0, 5, 2000), rng.integers(0, n_steps, 2000)
    amounts = rng.integers(0, 3, (2000, 6)).astype(float)
    sums = forecast._RunningSums(entity, step, amounts, n_steps)
    q_entity, seen = rng.integers(0, 5, 300), rng.integers(0, n_steps + 1, 300)
    split = rng.integers(0, n_steps + 1, 300)
    t_ref = np.where(split > 0, step_days[np.maximum(split - 1, 0)], 0.0) + 0.01
    got = sums.decayed_before(q_entity, seen, split, t_ref, half_life, step_days)
    for i in range(300):
        read = (entity == q_entity[i]) & (step < seen[i])
        weights = np.exp2(-np.abs(step_days[step[read]] - t_ref[i]) / half_life)
        assert np.allclose(got[i], weights @ amounts[read], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("unit, narrow", [(0.5, True), (0.1, False)])
def test_the_decay_tables_hold_each_columns_rows_and_own_sums_as_float32_only_where_exact(unit, narrow):
    # the tables the half-life tries read (`_by_column`): per column, the rows that move it and
    # their own sums, as float32 where each is held exactly (halves: 600 MB at ten million reports
    # became about 300), never rounded (tenths stay float64); no table of every row of the level
    rng = np.random.default_rng(6)
    n_steps, half_life = 300, 1000.0  # (weights near 1: a float32 tenth's rounding, 1e-8, would show)
    step_days = np.sort(rng.uniform(0, 2000, n_steps))
    entity, step = rng.integers(0, 6, 3000), rng.integers(0, n_steps, 3000)
    amounts = rng.integers(0, 4, (3000, 6)) * unit
    sums = forecast._RunningSums(entity, step, amounts, n_steps)
    q_entity, seen = rng.integers(0, 6, 200), rng.integers(0, n_steps + 1, 200)
    split = rng.integers(0, n_steps + 1, 200)
    t_ref = np.where(split > 0, step_days[np.maximum(split - 1, 0)], 0.0) + 0.01
    got = sums.decayed_before(q_entity, seen, split, t_ref, half_life, step_days)
    for column_step, own, _by_time, _steps, ranks in sums._columns:
        assert own.dtype == (np.float32 if narrow else np.float64) and len(own) == len(column_step)
        assert forecast._rank(*ranks, np.array([len(sums.key)])) == len(own)  # a bit per row, one set per own sum
    assert not hasattr(sums, "_column_rank")
    for i in range(200):
        read = (entity == q_entity[i]) & (step < seen[i])
        weights = np.exp2(-np.abs(step_days[step[read]] - t_ref[i]) / half_life)
        assert np.allclose(got[i], weights @ amounts[read], rtol=1e-9, atol=1e-12)


def _window_sums_plainly(sums, base, lower, upper, since, until, anchor, half_life):
    """`_RunningSums._window_sums` as it was first written: a fresh array and every search per
    column, each column summed to its end (the arithmetic the faster one must repeat bit for bit);
    a column's rows are those whose own sum is not zero."""
    first, last = base + (lower if upper is not None else 0), base + (upper if upper is not None else lower)
    first_row, last_row = np.searchsorted(sums.key, first), np.searchsorted(sums.key, last)
    out = np.empty((len(base), sums.dims))
    days = sums._step_days
    lo, hi = int(np.searchsorted(days, since, side="left")), int(np.searchsorted(days, until, side="right"))
    weight = np.zeros(len(days))
    weight[lo:hi] = np.exp2((days[lo:hi] - anchor) / half_life)
    for j, (step, own, by_time, steps, _ranks) in enumerate(sums._columns):
        rows = np.flatnonzero(np.diff(sums.sums[:, j]) != 0)
        begin, end = np.searchsorted(rows, first_row), np.searchsorted(rows, last_row)
        a, b = np.searchsorted(steps, lo), np.searchsorted(steps, hi)
        if b - a > len(steps) // 4:
            values = own * weight[step]
        else:
            inside = np.sort(by_time[a:b])
            values = own[inside] * weight[step[inside]]
            begin, end = np.searchsorted(inside, begin), np.searchsorted(inside, end)
        running = np.r_[0.0, np.cumsum(values)]
        out[:, j] = running[end] - running[begin]
    return out


@pytest.mark.parametrize("since, until", [(-1e9, 1e9), (0.0, 150.0), (900.0, 1e9), (500.0, 520.0)])
def test_window_sums_are_those_summed_plainly_bit_for_bit(since, until):
    # the windows the half-life tries read (`_window_sums`: one buffer, bounds looked up once in
    # sorted order, rows past the last bound left out) against the plain sums: every bit the same,
    # most rows (a wide window) and a few (a narrow one), events before a stance and after it;
    # the bounds from `_bounds_of` (an entity's first row read off the row at `lower`), entities
    # without rows (7, 30) among them
    rng = np.random.default_rng(8)
    n_steps = 500
    step_days = np.sort(rng.uniform(0, 1000, n_steps))
    entity, step = rng.integers(0, 30, 5000), rng.integers(0, n_steps, 5000)
    entity[entity == 7] = 8
    amounts = rng.integers(-1, 4, (5000, 6)) * 0.5
    sums = forecast._RunningSums(entity, step, amounts, n_steps)
    sums._by_column(step_days)
    for n_queries, top in ((200, 31), (40, 12), (1, 3)):  # the last queries' entities: all, or the first few
        q_entity = rng.integers(0, top, n_queries)
        lower = rng.integers(0, n_steps + 1, n_queries)
        upper = np.maximum(lower, rng.integers(0, n_steps + 1, n_queries))
        base = q_entity.astype(np.int64) * sums.width
        rows, places, _ = sums._bounds_of(q_entity, lower, upper, rng.random(n_queries))
        n = n_queries
        for up, half_life, index in ((None, 40.0, np.arange(2 * n)), (upper, -40.0, np.arange(n, 3 * n))):
            got = sums._window_sums(*sums._in_order(rows, places, index), since, until, 600.0, half_life)
            want = _window_sums_plainly(sums, base, lower, up, since, until, 600.0, half_life)
            assert got.tobytes() == want.tobytes()


def test_a_second_half_lifes_try_reads_the_bounds_the_first_found(monkeypatch):
    # the stances' bounds (`_bounds_of`) do not depend on the half-life: the second try on the same
    # stances searches nothing and sums the same bits as a level that never saw the first try;
    # other stances are searched afresh
    rng = np.random.default_rng(12)
    n_steps = 300
    step_days = np.sort(rng.uniform(0, 600, n_steps))
    entity, step = rng.integers(0, 12, 4000), rng.integers(0, n_steps, 4000)
    amounts = rng.integers(0, 3, (4000, 6)) * 0.5

    def level():
        return forecast._RunningSums(entity, step, amounts, n_steps)

    q_entity, seen = rng.integers(0, 13, 150), rng.integers(0, n_steps + 1, 150)
    split = rng.integers(0, n_steps + 1, 150)
    t_ref = np.where(split > 0, step_days[np.maximum(split - 1, 0)], 0.0) + 0.01
    searches = []
    search = forecast._search
    monkeypatch.setattr(forecast, "_search", lambda keys, wanted: searches.append(len(wanted)) or search(keys, wanted))
    kept = level()
    for half_life in (200.0, 15.0, 200.0):
        got = kept.decayed_before(q_entity, seen, split, t_ref, half_life, step_days)
        assert got.tobytes() == level().decayed_before(q_entity, seen, split, t_ref, half_life, step_days).tobytes()
    assert len(searches) == 2 * 4  # the kept level searched once (two searches), each fresh level once
    kept.decayed_before(q_entity[:-1], seen[:-1], split[:-1], t_ref[:-1], 15.0, step_days)
    assert len(searches) == 2 * 5


def test_rank_counts_the_flagged_rows_before_each_row_as_a_search_does():
    # a column's rows found by counting bits (`_ranks`, `_rank`, `_bits_set`): the places a binary
    # search of the flagged rows' numbers gives, for every row number up to the end, at lengths on
    # and either side of a 64-bit word, none flagged, some, all
    rng = np.random.default_rng(10)
    for n in (0, 1, 63, 64, 65, 128, 1000, 4097):
        for share in (0.0, 0.1, 0.5, 1.0):
            flagged = rng.random(n) < share
            every = np.arange(n + 1)
            assert np.array_equal(forecast._rank(*forecast._ranks(flagged), every),
                                  np.searchsorted(np.flatnonzero(flagged), every))
    words = np.r_[rng.integers(0, 2**63, 1000, dtype=np.uint64) * np.uint64(2) + np.uint64(1),
                  np.zeros(1, np.uint64), np.full(1, 2**64 - 1, np.uint64)]
    want = np.array([bin(int(word)).count("1") for word in words])
    assert np.array_equal(forecast._bits_set(words), want)


def test_time_order_is_the_stable_order_packed_or_not(monkeypatch):
    # a column's rows in time order (`_time_order`): one sort of (step, row) packed in an int64, or,
    # for steps that do not fit, the stable argsort; ties in row order either way
    rng = np.random.default_rng(9)
    step = rng.integers(0, 50, 3000).astype(np.int32)  # many ties
    in_time, steps = forecast._time_order(step)
    assert in_time.dtype == np.int32 and steps.dtype == step.dtype
    assert np.array_equal(in_time, np.argsort(step, kind="stable")) and np.array_equal(steps, np.sort(step))
    wide = step.astype(np.int64) * 2**26  # past 2 ** 31: the fallback
    in_time, steps = forecast._time_order(wide)
    assert np.array_equal(in_time, np.argsort(wide, kind="stable")) and np.array_equal(steps, np.sort(wide))
    empty = forecast._time_order(np.zeros(0, np.int32))
    assert len(empty[0]) == len(empty[1]) == 0
    ordered = np.sort(step)  # in time order already (a level of one entity): no sort, the same answer
    in_time, steps = forecast._time_order(ordered)
    assert in_time.dtype == np.int32 and np.array_equal(in_time, np.arange(len(step))) and np.array_equal(steps, ordered)
    for byteorder in (True, False):  # a key's halves read from its words, or by masks and shifts
        monkeypatch.setattr(np, "little_endian", byteorder)
        in_time, steps = forecast._time_order(step)
        assert in_time.dtype == np.int32 and steps.dtype == step.dtype
        assert np.array_equal(in_time, np.argsort(step, kind="stable")) and np.array_equal(steps, np.sort(step))


def test_sums_of_calls_added_by_column_are_those_of_their_vectors():
    # the replay adds each credit row's right and wrong call to two of six columns: the running
    # sums (and the rows they collapse to) must be those of the rows' full vectors, bit for bit
    rng = np.random.default_rng(5)
    n_steps, n = 300, 4000
    entity, step = rng.integers(0, 40, n), rng.integers(0, n_steps, n)
    columns = np.c_[rng.integers(0, 3, n) * 2, np.zeros(n, np.int64)]
    columns[:, 1] = columns[:, 0] + 1
    amounts = rng.choice([-1.0, -0.5, 0.0, 0.5, 1.0], (n, 2))
    dense = np.zeros((n, 6))
    np.add.at(dense, (np.arange(n)[:, None], columns), amounts)
    for order in (np.arange(n), np.lexsort((step, entity))):  # out of order, and in it
        by_column = forecast._RunningSums(entity[order], step[order], amounts[order], n_steps, columns[order], 6)
        full = forecast._RunningSums(entity[order], step[order], dense[order], n_steps)
        assert np.array_equal(by_column.key, full.key) and np.array_equal(by_column.sums, full.sums)
        assert np.array_equal(by_column.entity_start, full.entity_start)
    # kept as int32 numbers of halves, read back as the float64 sums they stand for
    assert by_column.halves and by_column.sums.dtype == np.int32
    queries, seen = rng.integers(0, 40, 500), rng.integers(0, n_steps + 1, 500)
    expected = np.array([dense[(entity == e) & (step < s)].sum(axis=0) for e, s in zip(queries, seen)])
    got = by_column.before(queries, seen)
    assert got.dtype == np.float64 and np.array_equal(got, expected)
    fractions = forecast._RunningSums(entity, step, np.c_[amounts[:, :1], np.full(n, 0.3)], n_steps)
    assert not fractions.halves and fractions.sums.dtype == np.float64  # not halves: float64 as before


def test_queries_all_at_one_step_read_each_entitys_sums_once_with_the_numbers_of_one_per_query():
    # open claims are all forecast now: `before` works each entity's sums out once and gathers
    # them per query, which must give bit for bit what a difference per query gives
    rng = np.random.default_rng(7)
    n_steps, n = 200, 5000
    entity, step = rng.integers(0, 50, n), rng.integers(0, n_steps, n)
    amounts = rng.choice([0.0, 0.5, 1.0], (n, 6))
    for values in (amounts, amounts * 0.3):  # halves kept as int32, and float64 sums
        sums = forecast._RunningSums(entity, step, values, n_steps)
        queries = rng.integers(0, 60, 3000)  # past the last entity too: no events, zeros
        for at in (0, 77, n_steps):
            got = sums.before(queries, np.full(len(queries), at))
            one_by_one = sums._difference(*sums._locate(queries, np.full(len(queries), at)))
            assert got.dtype == np.float64 and np.array_equal(got, one_by_one)


@pytest.mark.parametrize("refs, expected", [(["a", "b,c", "d"], ["a", "b,c", "d"]),
                                            (["a", "", None], ["a", "12", "13"])])
def test_a_claims_reference_is_its_ref_held_as_text_or_its_id(refs, expected):
    # every claim with a ref: the refs' own array (no Python string per claim), which a frame
    # holds as the text a list of them would give; otherwise each missing one is the id as text
    from tracker.scoring import _claim_refs

    claims = pd.DataFrame({"ref": pd.array(refs, dtype="str")}, index=pd.Index([11, 12, 13], dtype="int64"))
    got = _claim_refs(claims)
    assert list(got) == expected
    frame = pd.DataFrame({"claim_ref": got})
    assert frame["claim_ref"].dtype == pd.DataFrame({"claim_ref": expected})["claim_ref"].dtype
    assert frame.to_csv(index=False) == pd.DataFrame({"claim_ref": expected}).to_csv(index=False)


@pytest.mark.parametrize("values", [[3, 1, 2, 1, 3, 0], list(range(10)), [5, -1, 5, 2], [2**33, 1, 2**33]])
def test_the_radix_order_is_the_stable_sort(values):
    rng = np.random.default_rng(6)
    values = np.r_[np.array(values, dtype=np.int64), rng.integers(0, 2**20, 5000) if min(values) >= 0 else []]
    assert np.array_equal(forecast._stable_order(values.astype(np.int64)), np.argsort(values, kind="stable"))
    starts = np.r_[True, rng.random(len(values) - 1) < 0.2]
    assert np.array_equal(forecast._running_max_by_group(values.astype(np.int64), starts),
                          pd.Series(values).groupby(np.cumsum(starts)).cummax().to_numpy())


# -- the replay's reads -----------------------------------------------------------------------
@SETTINGS
@given(stores())
def test_the_latest_stances_read_as_numbers_are_those_the_rule_picks(claims):
    # ties in time, relays and a source returning to a claim: the one sort on a time rank must pick
    # the rows latest_stances picks (own reports win, then the latest, then the last recorded);
    # reports in the order they were built, and in order of claim and time as a store gives them
    # (where the rows' own order is their order in time)
    built = build_evidence(claims).reports
    for reports in (built, built.sort_values(["claim_id", "reported_at"], kind="stable").reset_index(drop=True)):
        by_claim = forecast._ReportsByClaim(reports)
        rows, _ = by_claim.of(np.unique(reports["claim_id"].to_numpy()))
        fast = pd.DataFrame(by_claim.latest(rows, reports["claim_id"].to_numpy()[rows]))
        fast["claim_id"] = fast["key"]  # (the claims are the keys here)
        rule = latest_stances(reports)
        columns = ["claim_id", "source_id", "origin", "stance", "reported_at"]
        fast = fast.assign(stance=np.array(forecast.STANCES + ("",), dtype=object)[fast["stance"].to_numpy()],
                           reported_at=pd.to_datetime(fast["when"], utc=True))
        rule = rule.assign(reported_at=pd.to_datetime(rule["reported_at"], utc=True).dt.as_unit("ns"))
        key = ["claim_id", "source_id"]
        pd.testing.assert_frame_equal(fast[columns].sort_values(key).reset_index(drop=True),
                                      rule[columns].astype({"stance": object}).sort_values(key).reset_index(drop=True),
                                      check_dtype=False)


def _open_now(evidence: Evidence, model: forecast.Model) -> pd.DataFrame:
    """The queries of `predict`'s open claims now."""
    claims = evidence.claims.index[~evidence.claims.index.isin(model.walk.verdicts.index)]
    return pd.DataFrame({"claim_id": claims.to_numpy(), "at": forecast._FUTURE})


def test_votes_of_one_source_and_stance_read_at_one_step_share_one_record_with_each_votes_numbers():
    # the open claims now read the sums at one step: a record (and a term) per source and stance,
    # worked out once, which must be what each vote reads on its own, bit for bit (parent groups,
    # relays and the direction rule's exception included)
    evidence = make_world(5, 40, 800, open_rate=0.3, reliability="hierarchical").evidence()
    model = forecast.fit(evidence)
    shared = forecast._features(evidence, model.walk, _open_now(evidence, model), 0.9)
    assert isinstance(shared.counts, forecast._SharedCounts)
    assert 0 < len(shared.counts.first) < len(shared.vote_code) / 2  # far fewer records than votes
    counts, has_group, wrong = forecast._vote_records(evidence, model.walk, shared.vote_source, shared.vote_code,
                                                      shared.vote_seen, shared.vote_split, shared.vote_days, 0.9)
    assert has_group.any() and not has_group.all()
    assert set(shared.counts) == set(counts)
    for name, each in counts.items():
        assert np.array_equal(shared.counts[name], each), name
    assert np.array_equal(shared.vote_has_group, has_group) and np.array_equal(shared.confident_wrong, wrong)
    one_by_one = replace(shared, counts=counts)
    for params in (model.params, replace(model.params, skill_transfer=0.4, weight_denied=0.3)):
        assert np.array_equal(forecast._p_true(shared, params), forecast._p_true(one_by_one, params))
    # read at several steps (at first report), each vote reads its own
    at_first_report = pd.DataFrame({"claim_id": model.claims.index.to_numpy(), "at": model.claims["first_reported_at"].array})
    assert isinstance(forecast._features(evidence, model.walk, at_first_report, 0.9).counts, dict)


def test_a_votes_records_are_its_stances_the_other_directions_and_every_stances_calls():
    # per vote, (true, false) calls of confirmations, rumours and denials in a row of six
    sums = np.tile(np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]), (3, 1))
    code = np.array([0, 1, 2], dtype=np.int8)  # a confirmation, a rumour, a denial
    store = forecast._records("store", sums, code, forecast.ASSERTING[code])
    assert np.array_equal(store["store"][:, 0], [[1, 2], [3, 4], [5, 6]])  # its stance's
    assert np.array_equal(store["store"][:, 1], [[5, 6], [5, 6], [4, 6]])  # the other direction's
    assert np.array_equal(store["store:every"], [[9, 12]] * 3) and set(store) == {"store", "store:every"}
    source = forecast._records("source", sums, code, forecast.ASSERTING[code])
    assert np.array_equal(source["source:asserted"], [[4, 6]] * 3) and set(source) == {"source", "source:asserted"}


def test_a_run_of_queries_reads_in_place_the_features_a_subset_copies():
    evidence = make_world(4, 30, 600, open_rate=0.3).evidence()
    model = forecast.fit(evidence)
    queries = pd.DataFrame({"claim_id": model.claims.index.to_numpy(), "at": model.claims["first_reported_at"].array})
    feats = forecast._features(evidence, model.walk, queries, 0.9)
    lo, hi = len(queries) // 3, 2 * len(queries) // 3
    run, copied = forecast._queries_between(feats, lo, hi), forecast._subset(feats, np.arange(len(queries)) // lo == 1)
    for field in dataclasses.fields(forecast._Features):
        got, want = getattr(run, field.name), getattr(copied, field.name)
        if isinstance(want, pd.DataFrame):
            pd.testing.assert_frame_equal(got, want, check_exact=True)
        elif isinstance(want, dict):
            assert set(got) == set(want) and all(np.array_equal(got[k], want[k]) for k in want)
        else:
            assert got is want or (np.array_equal(got, want) and got.dtype == want.dtype), field.name


def test_a_stance_taken_at_its_queries_time_is_not_looked_up_again():
    rng = np.random.default_rng(3)
    decided = np.sort(rng.integers(0, 1000, 200))
    taken = rng.integers(0, 1000, 500)
    cutoff = np.where(rng.random(500) < 0.5, taken, rng.integers(0, 1000, 500))
    seen = forecast._search(decided, cutoff)
    assert np.array_equal(forecast._steps_before(decided, taken, cutoff, seen), forecast._search(decided, taken))


def test_a_forecast_reads_the_reports_made_by_its_time_every_report_when_none_came_later():
    evidence = make_world(4, 30, 600, open_rate=0.3).evidence()
    model = forecast.fit(evidence)
    assert model.walk.reports.last_when == forecast._ns(evidence.reports["reported_at"]).max()
    last = pd.Timestamp(model.walk.reports.last_when, tz="UTC")
    queries = pd.DataFrame({"claim_id": evidence.claims.index.to_numpy(), "at": forecast._FUTURE})
    for at, same in ((last, True), (last - pd.Timedelta(1, "ns"), False)):  # the last report left out
        got = forecast._features(evidence, model.walk, queries.assign(at=at), 0.9)
        now = forecast._features(evidence, model.walk, queries, 0.9)
        assert (np.array_equal(got.vote_days, now.vote_days) and np.array_equal(got.vote_source, now.vote_source)) == same
        assert (got.vote_days <= at.value / 86400e9).all()


def test_when_each_stance_was_taken_among_the_verdicts_is_worked_out_only_where_a_half_life_may_read_it(monkeypatch):
    evidence = make_world(4, 30, 600, open_rate=0.3).evidence()
    model = forecast.fit(evidence)
    assert model.params.half_life_days is None
    queries = _open_now(evidence, model)
    whole = forecast._features(evidence, model.walk, queries, 0.9)
    made, features = [], forecast._features
    monkeypatch.setattr(forecast, "_features", lambda *args, **kwargs: made.append(features(*args, **kwargs)) or made[-1])
    for params, read in ((model.params, False), (replace(model.params, half_life_days=20.0), True)):
        got = forecast._forecast_in_blocks(model, queries, params)
        # one fit, no half-life: not read, not worked out
        assert (made[-1].vote_split is not None) == read and whole.vote_split is not None
        if read:
            assert np.array_equal(made[-1].vote_split, whole.vote_split)
        assert np.array_equal(got[0], forecast._forecast(model, queries, params, feats=whole)[0])
        assert np.array_equal(got[1], forecast._credibility(whole))
        assert np.array_equal(got[2], np.bincount(whole.vote_query, minlength=len(queries)))


@pytest.mark.parametrize("values", [[0.3, 0.7, 0.3, 0.9, 0.7, 0.3], [], [0.5] * 4, [0.2, float("nan"), 0.8, float("nan")]])
def test_the_forecasts_are_shown_largest_first_ties_in_their_order(values):
    rng = np.random.default_rng(8)
    values = np.r_[np.array(values, dtype=float), np.round(rng.random(3000), 2)]  # many ties
    assert np.array_equal(forecast._descending(values), np.argsort(-values, kind="stable"))


def test_each_querys_votes_of_each_stance_are_counted_once_for_all_stances():
    evidence = make_world(4, 30, 600, open_rate=0.3).evidence()
    model = forecast.fit(evidence)
    feats = forecast._features(evidence, model.walk, _open_now(evidence, model), 0.9)
    counts = feats.stance_counts
    for k in range(len(forecast.STANCES)):
        assert np.array_equal(counts[:, k], np.bincount(feats.vote_query[feats.vote_code == k], minlength=len(feats.queries)))
    assert np.array_equal(forecast._credibility_levels(*counts.T), forecast._credibility(feats))


# -- explanations ----------------------------------------------------------------------------
def test_drivers_and_the_prior_are_explained_in_words(seeded):
    evidence = load_evidence(seeded.engine)
    out = forecast.predict(evidence, claim_ids=[_id(evidence, "aleppo-11"), _id(evidence, "aleppo-03")])
    words = dict(zip(out.attrs["drivers"]["source"] + "/" + out.attrs["drivers"]["claim_id"].astype(str),
                     out.attrs["drivers"]["explanation"]))
    c11, c3 = _id(evidence, "aleppo-11"), _id(evidence, "aleppo-03")
    assert words[f"Western media/{c11}"] == ("Western media rumoured; its own rumours were right 1.5 time(s) in 3 "
                                             "-> no push (the record does not show it either way)")
    assert words[f"Russian Reconciliation Centre at Khmeimim/{c3}"].endswith(
        "confirmed; its own confirmations were right 2 time(s) in 2 -> toward true")
    priors = out.attrs["priors"]
    assert ("topic aleppo: 5.5 of 9 resolved claims true -> prior 0.58 (shrunk toward the topics' mean 0.56)"
            in set(priors.loc[priors["claim_id"] == c11, "explanation"]))


def test_an_untagged_claim_takes_the_untagged_record_and_a_new_topic_the_topics_mean():
    past = [{"ref": f"t{i}", "reports": [("A", "confirmed", BASE + _hours(i))], "topics": ["war"],
             "outcomes": [("true" if i % 4 else "false", BASE + _hours(i + 1))]} for i in range(8)]
    past += [{"ref": f"u{i}", "reports": [("A", "confirmed", BASE + _hours(i))],
              "outcomes": [("false", BASE + _hours(i + 1))]} for i in range(4)]
    evidence = build_evidence(past + [{"ref": "new", "reports": [], "topics": ["elections"],
                                       "first_reported_at": OPEN_AT},
                                      {"ref": "bare", "reports": [], "first_reported_at": OPEN_AT}])
    priors = forecast.predict(evidence).attrs["priors"].set_index("claim_id")["explanation"]
    assert priors[_id(evidence, "new")].startswith("topic elections: no resolved claim yet -> the topics' mean")
    assert priors[_id(evidence, "bare")].startswith("untagged claims: 0 of 4 resolved claims true")
    assert _p(evidence, "bare") < _p(evidence, "new")


def test_a_store_with_claims_and_no_outcome_yet_is_scored_without_error(ledger):
    """The first minutes of a new store (the Overview's calibration box): claims, no verdict yet."""
    from tracker import scoring, selfscore

    ledger.log_claim("A thing happened", reports=[{"source": "Wire", "stance": "rumoured",
                                                    "reported_at": "2016-12-13 10:00"}])
    evidence = load_evidence(ledger.engine)
    assert scoring.predict_at_report_time(evidence)["p_true"].notna().all()
    assessed = selfscore.assess(evidence, forecast.fit(evidence))
    assert assessed.calibration.claims == 0


def test_sums_of_halves_added_a_block_at_a_time_are_those_the_float_sums_give(monkeypatch):
    # the replay sums credit rows of half or whole amounts straight into int32 halves, a block of
    # events at a time: the same rows and sums, bit for bit, as the float64 sums it falls back to
    # (amounts that are not halves, or that could overflow an int32)
    rng = np.random.default_rng(7)
    n_steps, n = 300, 5000
    entity, step = rng.integers(-1, 40, n), np.sort(rng.integers(0, n_steps, n))
    columns = np.c_[rng.integers(0, 3, n) * 2, np.zeros(n, np.int64)]
    columns[:, 1] = columns[:, 0] + 1
    amounts = rng.choice([-1.0, -0.5, 0.0, 0.5, 1.0], (n, 2))
    monkeypatch.setattr(forecast, "_SUM_BLOCK", 97)  # blocks that split rows between them
    assert forecast._whole_halves(amounts)
    for order in (np.arange(n), np.lexsort((step, entity))):  # out of order, and in it
        blocks = forecast._RunningSums(entity[order], step[order], amounts[order], n_steps, columns[order], 6)
        with monkeypatch.context() as m:
            m.setattr(forecast, "_whole_halves", lambda amounts: False)  # the float64 sums
            floats = forecast._RunningSums(entity[order], step[order], amounts[order], n_steps, columns[order], 6)
        assert blocks.halves and floats.halves and blocks.sums.dtype == floats.sums.dtype == np.int32
        for name in ("key", "step", "sums", "entity_start"):
            got, want = getattr(blocks, name), getattr(floats, name)
            assert got.dtype == want.dtype and np.array_equal(got, want)
    # not halves, infinite, or too large a total: no int32 halves straight away
    assert not forecast._whole_halves(np.c_[amounts[:, :1], np.full(n, 0.3)])
    assert not forecast._whole_halves(np.array([[1.0, np.inf]])) and not forecast._whole_halves(np.array([[np.nan]]))
    assert not forecast._whole_halves(np.full((2**16 + 1, 2), 2.0**14))
    fractions = forecast._RunningSums(entity, step, np.c_[amounts[:, :1], np.full(n, 0.3)], n_steps, columns, 6)
    assert not fractions.halves and fractions.sums.dtype == np.float64
    empty = forecast._RunningSums(entity[:0], step[:0], amounts[:0], n_steps, columns[:0], 6)
    assert empty.halves and empty.sums.shape == (1, 6) and not empty.sums.any()


def test_entity_codes_are_the_narrowed_codes_of_the_ids():
    rng = np.random.default_rng(8)
    ids = rng.integers(-5, 3000, 20_000)
    dense = pd.Series(rng.integers(-1, 50, 1000), index=rng.choice(np.arange(100, 2500), 1000, replace=False))
    sparse = pd.Series(np.arange(300), index=rng.choice(np.arange(0, 10**9), 300, replace=False))
    wide = pd.Series([2**40, 7], index=[10, 11])
    lowest = pd.Series([3, 4], index=[-(2**31), -(2**31) + 1])  # places past int32's reach: int64 ones
    ids = np.r_[ids, -(2**31), -(2**31) + 1]
    for codes in (dense, sparse, wide, lowest, pd.Series([], dtype=np.int64)):
        want = codes.reindex(ids).fillna(-1).to_numpy(dtype=np.int64)
        assert np.array_equal(forecast._codes_of(codes, ids), want) and forecast._codes_of(codes, ids).dtype == np.int64
        for kind in (np.int64, np.int32):
            got = forecast._entity_codes(codes, ids.astype(kind))
            assert np.array_equal(got, want) and got.dtype == forecast._narrow_ids(want).dtype


def test_credit_row_segments_and_the_blockwise_time_order_check(monkeypatch):
    starts, lengths = np.array([5, 0, 9, 2]), np.array([2, 0, 3, 1])
    assert forecast._segments(starts, lengths, 12).tolist() == [5, 6, 9, 10, 11, 2]
    monkeypatch.setattr(forecast, "_ORDER_BLOCK", 3)  # checked in blocks smaller than a claim's run
    times = pd.to_datetime(["2026-01-01", "2026-01-02", "2026-01-03", "2026-01-04", "2026-01-01", None, None], utc=True)
    reports = pd.DataFrame({"claim_id": [1, 1, 1, 1, 2, 2, 2], "source_id": 1, "via_source_id": -1,
                            "stance": "confirmed", "reported_at": times})
    assert forecast._ReportsByClaim(reports).rank is None  # each claim's reports in time order, missing last
    late = reports.assign(reported_at=times[[0, 1, 2, 3, 4, 5, 6]].where(np.arange(7) != 3, times[0]))
    assert forecast._ReportsByClaim(late).rank is not None  # the fourth report before the third
    missing_first = reports.assign(reported_at=times[[0, 1, 2, 3, 5, 4, 6]])
    assert forecast._ReportsByClaim(missing_first).rank is not None  # a missing time before a known one
    two_claims = reports.assign(claim_id=[1, 1, 2, 2, 2, 3, 3], reported_at=times[[2, 3, 0, 1, 4, 5, 6]])
    assert forecast._ReportsByClaim(two_claims).rank is not None  # claim 2's third report before its second
    assert forecast._ReportsByClaim(two_claims.assign(claim_id=[1, 1, 2, 2, 4, 4, 4])).rank is None  # (a new claim)


def test_key_order_and_last_rows_of_runs_without_the_keys():
    entity, step = np.array([-1, -1, 0, 0, 2]), np.array([3, 5, 0, 0, 1])
    assert forecast._in_key_order(entity, step) and forecast._in_key_order(entity[:1], step[:1])
    assert not forecast._in_key_order(entity[[0, 2, 1]], step[[0, 2, 1]])  # a lower entity after a higher
    assert not forecast._in_key_order(entity[[1, 0]], step[[1, 0]])  # one entity's steps falling
    new = forecast._run_starts(entity * 10 + step)
    last = forecast._last_of_runs(new)
    assert last.tolist() == [0, 1, 3, 4] and last.dtype == np.int32
    assert forecast._last_of_runs(new[:0]).dtype == np.int32 and not len(forecast._last_of_runs(new[:0]))


def test_revisions_in_decision_order_are_sorted_only_when_out_of_it(monkeypatch):
    # the replay's revisions (`_in_decision_order`): by decision time, then id, as a stable sort
    # gives them; a frame in that order already (ties of time in id order) is taken as it is
    stamps = pd.to_datetime([0, 5, 5, 9, 9, 12], unit="s", utc=True).as_unit("us")
    ordered = pd.DataFrame({"id": [3, 1, 4, 2, 6, 5], "claim_id": [7, 7, 8, 9, 9, 8], "decided_at": stamps},
                           index=[10, 11, 12, 13, 14, 15])
    shuffled = ordered.iloc[[3, 0, 5, 2, 1, 4]]
    tied = ordered.assign(id=[3, 4, 1, 2, 6, 5])  # a tie of time out of id order
    missing = ordered.assign(decided_at=stamps.insert(0, pd.NaT)[:-1])
    want = {name: frame.sort_values(["decided_at", "id"], kind="stable").reset_index(drop=True)
            for name, frame in (("ordered", ordered), ("shuffled", shuffled), ("tied", tied), ("missing", missing))}
    for name, frame in (("shuffled", shuffled), ("tied", tied), ("missing", missing)):
        pd.testing.assert_frame_equal(forecast._in_decision_order(frame), want[name])

    def no_sort(*args, **kwargs):
        raise AssertionError("sorted a frame in order")

    monkeypatch.setattr(pd.DataFrame, "sort_values", no_sort)
    pd.testing.assert_frame_equal(forecast._in_decision_order(ordered), want["ordered"])
    pd.testing.assert_frame_equal(forecast._in_decision_order(ordered.iloc[:0]), want["ordered"].iloc[:0])
