"""The forecasting model's parameters kept beside a SQLite store for its revision (`tracker.fitcache`)
and the Overview's calibration glance that waits for a click on a large store."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from click.testing import CliRunner
from sqlalchemy import create_engine

from tests.synthetic import make_world
from tests.test_dashboard import aleppo, ok, on, store_env  # noqa: F401  (fixtures)
from tracker import fitcache, forecast
from tracker.cli import main
from tracker.dashboard import cache
from tracker.evidence import load_evidence
from tracker.scoring import score_sources_in_store


def test_a_kept_fit_gives_the_same_forecasts_as_fitting_again():
    evidence = make_world(4, 30, 600).evidence()
    fresh = forecast.fit(evidence)
    assert fresh.params.fitted_on > 0 and not fresh.reused
    kept = forecast.fit(evidence, fitted=json.loads(json.dumps(fresh.fitted)))  # as the file holds it
    assert kept.reused and kept.params == fresh.params and kept.checkpoints.equals(fresh.checkpoints)
    a, b = forecast.predict(evidence, model=fresh), forecast.predict(evidence, model=kept)
    pd.testing.assert_frame_equal(a, b)
    assert np.array_equal(fresh.history["p_true"], kept.history["p_true"])
    # something that is not an earlier fit's output is ignored: the model is fitted again
    assert not forecast.fit(evidence, fitted={"params": {"nonsense": 1}}).reused
    for broken in ("source_strength", "half_life_days"):  # a value that is not a number: fitted again
        altered = json.loads(json.dumps(fresh.fitted))
        altered["params"][broken] = "4"
        assert not forecast.fit(evidence, fitted=altered).reused
    assert not forecast.fit(evidence, fitted={"params": [], "fits": "x", "checkpoints": 3}).reused


def test_the_cli_fits_once_per_store_revision_and_again_after_any_write(seeded, db_path):
    path = fitcache.path_for(seeded.engine.url)
    assert path == db_path.with_name(db_path.name + "-fits.json") and not path.exists()
    run = lambda *args: CliRunner().invoke(main, ["--db", str(db_path), *args])  # noqa: E731
    first = run("predict", "--format", "json")
    assert first.exit_code == 0, first.output
    stored = json.loads(path.read_text())
    assert stored["state"][0] == seeded.revision() and "model@0.9" in stored["entries"]
    evidence, model = fitcache.load_and_fit(seeded)
    assert model.reused
    assert run("predict", "--format", "json").output == first.output
    claim = int(evidence.claims.index[~evidence.claims.index.isin(evidence.outcomes["claim_id"])][0])
    seeded.record_outcome(claim, "false", "2016-12-20")
    assert not fitcache.load_and_fit(seeded)[1].reused  # the store changed: fitted again
    assert json.loads(path.read_text())["state"][0] == seeded.revision()


def test_an_unreadable_or_foreign_file_is_ignored(seeded):
    path = fitcache.path_for(seeded.engine.url)
    path.write_text("{not json")
    assert not fitcache.load_and_fit(seeded)[1].reused
    assert fitcache.load_and_fit(seeded)[1].reused  # rewritten by the fit
    assert fitcache.path_for(create_engine("sqlite://").url) is None and fitcache.path_for("postgresql://h/db") is None  # no file: nothing kept


def test_on_a_large_store_the_overview_draws_first_and_scores_on_a_click(aleppo, monkeypatch):
    monkeypatch.setattr(cache, "GLANCE_INLINE", 0)  # every store counts as large
    at = ok(on("overview"))
    assert not [m for m in at.metric if m.label == "Brier score"]
    assert "Who to trust" in [h.value for h in at.subheader]
    at = ok(at.button(key="overview_glance").click().run())
    inline = next(m for m in at.metric if m.label == "Brier score")
    # kept for the store's revision: a restarted server (caches cleared) shows it without a click
    cache._glances.clear()
    again = ok(on("overview"))
    assert next(m for m in again.metric if m.label == "Brier score").value == inline.value


def test_the_dashboard_scores_a_store_once_per_state_and_again_after_any_write(aleppo, monkeypatch):
    """The sources' scores (the Overview's first figures) are kept beside the store for its state: a
    restarted server reads them instead of scoring again, and any write is scored afresh at once."""
    scored = []

    def counted(engine, *args, **kwargs):
        scored.append(engine)
        return score_sources_in_store(engine, *args, **kwargs)

    monkeypatch.setattr(cache.scoring, "score_sources_in_store", counted)
    restart = lambda: [f.clear() for f in (cache.scores, cache.kept_for, cache.evidence)]  # noqa: E731
    restart()
    fp = cache.fingerprint()
    first = cache.scores(fp)
    assert len(scored) == 1 and json.loads(fitcache.path_for(aleppo.engine.url).read_text())["state"] == fitcache.state(aleppo.engine)
    restart()
    kept = cache.scores(fp)
    assert len(scored) == 1  # read, not scored
    pd.testing.assert_frame_equal(kept, first)
    assert kept.attrs == first.attrs and kept["median_lead_days"].isna().any()  # NaN survives the file

    evidence = load_evidence(aleppo.engine)
    claim = int(evidence.claims.index[~evidence.claims.index.isin(evidence.outcomes["claim_id"])][0])
    aleppo.record_outcome(claim, "false", "2016-12-20")
    restart()
    assert cache.kept_for(fp) is None  # written since: what is read now is not kept under the old state
    after = cache.scores(cache.fingerprint())
    assert len(scored) == 2 and after["resolved"].sum() > first["resolved"].sum()
    restart()
    pd.testing.assert_frame_equal(cache.scores(cache.fingerprint()), after)
    assert len(scored) == 2
