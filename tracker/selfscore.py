"""The tracker scoring itself: its at-report-time forecasts against what happened, beside baselines.

One place assembles what `tracker calibration` and the Calibration page show: the model's own
chronological forecasts (`forecast.predict_at_report_time`), the same claims forecast by the
previous scorer (`scoring.predict_at_report_time`, kept as a named baseline), the running base
rate, majority vote of the origins on record at first report, and a constant 0.5; every one scored
by `tracker.evaluation` (Brier with its CORP decomposition, log loss, accuracy), the CORP
reliability diagram, per-topic scores, the fitted parameters with the claims they rest on, and the
legacy binned table and truth rates by stance of `scoring.calibration`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tracker import evaluation, forecast, scoring
from tracker.evidence import Evidence

FORECASTERS = {
    "tracker": "p_true",
    "previous scorer": "previous",
    "running base rate": "base_rate",
    "majority vote": "majority_vote",
    "constant 0.5": 0.5,
}


@dataclass
class Assessment:
    """How the tracker's own forecasts held up, and what they were made with."""

    calibration: scoring.Calibration  # claims, brier, base_rate_brier, accuracy, binned table, by stance
    predictions: pd.DataFrame  # claim_id, p_true, outcome, base_rate, previous, majority_vote, ...
    comparison: pd.DataFrame  # evaluation.compare over FORECASTERS
    evaluation: evaluation.Evaluation  # the tracker's own: log loss, decompositions, CORP diagram
    by_topic: pd.DataFrame  # evaluation.scores_by_topic of the tracker's forecasts
    params: forecast.Params  # what current forecasts use
    checkpoints: pd.DataFrame  # the chronological refits: from, resolved, parameters

    @property
    def log_loss(self) -> float:
        """The tracker's log loss at report time (nats; lower is better)."""
        return self.evaluation.log_loss.score


def assess(evidence: Evidence, model: forecast.Model | None = None, bins: int = 10) -> Assessment:
    """Score the tracker's at-report-time forecasts and its baselines on the resolved claims."""
    model = model or forecast.fit(evidence)
    predictions = model.history.copy()
    previous = scoring.predict_at_report_time(evidence).set_index("claim_id")["p_true"]
    predictions["previous"] = previous.reindex(predictions["claim_id"]).to_numpy()
    predictions["majority_vote"] = model.majority_at_first_report  # (no look-ahead: see the property)
    legacy = scoring.calibration(evidence, predictions=predictions, bins=bins)
    return Assessment(
        calibration=legacy,
        predictions=predictions,
        comparison=evaluation.compare(predictions, FORECASTERS),
        evaluation=evaluation.evaluate(predictions),
        by_topic=evaluation.scores_by_topic(predictions, evidence.topics),
        params=model.params,
        checkpoints=model.checkpoints,
    )


def glance(model: forecast.Model) -> dict:
    """The Overview's figures: resolved claims scored at report time, the Brier score of the
    tracker's forecasts and of the running base rate (the figures `scoring.calibration` gives,
    without the baselines, tables and decompositions of `assess`)."""
    history = model.history
    scored = history[history["outcome"].notna()]
    y = scored["outcome"].to_numpy()
    n = len(scored)
    return {"claims": n,
            "brier": float(np.mean((scored["p_true"].to_numpy() - y) ** 2)) if n else float("nan"),
            "base_rate_brier": float(np.mean((scored["base_rate"].to_numpy() - y) ** 2)) if n else float("nan")}


def describe_params(params: forecast.Params) -> str:
    """One line on what the forecasts use: fitted (on how many claims) or the defaults."""
    values = (f"source strength {params.source_strength:.2g}, stance strength {params.stance_strength:.2g}, "
              f"group strength {params.group_strength:.2g}, topic strength {params.topic_strength:.2g}, "
              f"prior weight {params.prior_weight:.2f}, weights: confirmed {params.weight_confirmed:.2f}, "
              f"rumoured {params.weight_rumoured:.2f}, denied {params.weight_denied:.2f}, "
              f"skill transfer {params.skill_transfer:.2f}, "
              + (f"half-life {params.half_life_days:g} days" if params.half_life_days else "no half-life"))
    if params.fitted_on:
        return f"fitted on {params.fitted_on} resolved claim(s): {values}"
    return (f"defaults (a fit needs {forecast.MIN_FIT_CLAIMS} resolved claims): {values}")
