"""Proper scoring of forecasts against outcomes: any scorer's, the tracker's own or a baseline's.

Pure functions over a frame of predictions with `claim_id`, a forecast column (`p_true` by
default) and `outcome` (1 true, 0 false, 0.5 partly true; NaN = not scored), such as
`scoring.predict_at_report_time` gives. Which scorer made the forecasts does not matter: extra
columns (`base_rate`, a previous scorer's, majority vote) are scored the same way. A row counts
when both its outcome and its forecast are known. Forecasts and outcomes must lie in [0, 1].

**Scores** (lower is better, averaged over claims; a partly true claim is a fractional label):
Brier score `mean((p - y)^2)`; log loss `-mean(y log p + (1 - y) log(1 - p))` in nats, with `p`
clipped to [1e-6, 1 - 1e-6] so that one confident miss costs about 13.8, not infinity.

**Decomposition** (CORP: Dimitriadis, Gneiting and Jordan 2021, "Stable reliability diagrams for
probabilistic classifiers", PNAS 118(8) e2016191118). The *recalibrated* forecast `r` is the
isotonic regression of the outcomes on the forecasts, fitted by the pool-adjacent-violators
algorithm (scipy.optimize.isotonic_regression; equal forecasts are pooled first, so they always
share one value): the non-decreasing function of the forecast that fits the outcomes best under
every proper score at once. Its blocks (runs of forecasts given one recalibrated value) are the
reliability diagram's bins, so no bin count is chosen by hand. With `S` any of the scores and
`c` the climatology (the mean outcome, given to every claim):

    MCB (miscalibration, "reliability")  = S(p) - S(r)   >= 0; 0 when the forecast is calibrated
    DSC (discrimination, "resolution")   = S(c) - S(r)   >= 0; what telling claims apart earns
    UNC (uncertainty)                    = S(c)          the score of knowing only the base rate

so `S(p) = MCB - DSC + UNC` holds exactly, by definition. For the Brier score `S(r)` is the mean
squared error of the block means and DSC equals `mean((r - c)^2)`, Murphy's (1973) resolution
computed on the PAV blocks; UNC is `c(1 - c)` when every outcome is 0 or 1.

**Accuracy** counts only decided claims (outcome 0 or 1): a forecast above 0.5 says true, below
says false, and exactly 0.5 earns half (a coin toss's expectation). **Skill** against a reference
forecast is `1 - S(p) / S(reference)` on the same claims: above 0 beats it, 1 is perfect.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import isotonic_regression

CLIP = 1e-6
SCORES = ("brier", "log_loss")
DIAGRAM_COLUMNS = ("block", "lower", "upper", "mean_forecast", "recalibrated", "claims")
METRIC_COLUMNS = ("claims", "brier", "log_loss", "mcb", "dsc", "unc", "log_loss_mcb", "log_loss_dsc",
                  "log_loss_unc", "accuracy", "decided")
COMPARISON_COLUMNS = ("forecaster", *METRIC_COLUMNS, "skill_vs_coin", "skill_vs_base_rate")


def _pairs(p, y) -> tuple[np.ndarray, np.ndarray]:
    """Forecasts and outcomes as float arrays, rows missing either dropped, ranges checked."""
    p = np.asarray(p, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    if p.shape != y.shape:
        raise ValueError(f"forecasts and outcomes differ in length ({len(p)} against {len(y)}); pass one per claim")
    known = ~(np.isnan(p) | np.isnan(y))
    p, y = p[known], y[known]
    if ((p < 0) | (p > 1)).any():
        raise ValueError("forecasts must be probabilities between 0 and 1; rescale them before scoring")
    if ((y < 0) | (y > 1)).any():
        raise ValueError("outcomes must be 1 (true), 0 (false) or 0.5 (partly true)")
    return p, y


def _brier(p: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean((p - y) ** 2)) if len(y) else float("nan")


def _log_loss(p: np.ndarray, y: np.ndarray) -> float:
    if not len(y):
        return float("nan")
    p = np.clip(p, CLIP, 1 - CLIP)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log1p(-p)))


_SCORE = {"brier": _brier, "log_loss": _log_loss}


def brier_score(p, y) -> float:
    """Mean squared difference between forecasts and outcomes (NaN when nothing is scored)."""
    return _brier(*_pairs(p, y))


def log_loss(p, y) -> float:
    """Mean negative log-likelihood in nats, forecasts clipped to [1e-6, 1 - 1e-6] (NaN when empty)."""
    return _log_loss(*_pairs(p, y))


def _pav(p: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct forecasts (ascending), each one's recalibrated value, and each row's index into them."""
    values, row, counts = np.unique(p, return_inverse=True, return_counts=True)
    means = np.bincount(row, weights=y, minlength=len(values)) / counts
    fitted = isotonic_regression(means, weights=counts).x if len(values) else means
    return values, fitted, row


def recalibrate(p, y) -> np.ndarray:
    """The PAV-recalibrated forecast of each scored row (rows missing a forecast or outcome dropped)."""
    p, y = _pairs(p, y)
    _values, fitted, row = _pav(p, y)
    return fitted[row]


@dataclass(frozen=True)
class Decomposition:
    """A score split as `score = mcb - dsc + unc` (CORP; see the module docstring)."""

    score: float
    mcb: float
    dsc: float
    unc: float


def decomposition(p, y, score: str = "brier") -> Decomposition:
    """The CORP split of the Brier score or log loss into miscalibration, discrimination, uncertainty."""
    if score not in _SCORE:
        raise ValueError(f"unknown score {score!r}; use one of {', '.join(SCORES)}")
    p, y = _pairs(p, y)
    return _decompose(p, y, score)


def _decompose(p: np.ndarray, y: np.ndarray, score: str) -> Decomposition:
    if not len(y):
        nan = float("nan")
        return Decomposition(nan, nan, nan, nan)
    rule = _SCORE[score]
    _values, fitted, row = _pav(p, y)
    s_forecast, s_recalibrated = rule(p, y), rule(fitted[row], y)
    s_climate = rule(np.full(len(y), y.mean()), y)
    return Decomposition(s_forecast, s_forecast - s_recalibrated, s_climate - s_recalibrated, s_climate)


def reliability_diagram(p, y) -> pd.DataFrame:
    """The CORP reliability diagram as one row per PAV block, lowest forecasts first.

    Columns: block (0, 1, ...), lower and upper (the block's smallest and largest forecast),
    mean_forecast, recalibrated (the share of the block's claims that turned out true, partly
    true counting half) and claims. Empty (with these columns) when nothing is scored.
    """
    p, y = _pairs(p, y)
    if not len(y):
        return pd.DataFrame({column: pd.Series(dtype="int64" if column in ("block", "claims") else float)
                             for column in DIAGRAM_COLUMNS})
    values, fitted, row = _pav(p, y)
    counts = np.bincount(row, minlength=len(values))
    sums = np.bincount(row, weights=p, minlength=len(values))
    starts = np.flatnonzero(np.r_[True, fitted[1:] != fitted[:-1]])
    ends = np.r_[starts[1:], len(values)]
    claims = np.add.reduceat(counts, starts)
    total = np.add.reduceat(sums, starts)
    return pd.DataFrame({
        "block": np.arange(len(starts), dtype=np.int64),
        "lower": values[starts],
        "upper": values[ends - 1],
        "mean_forecast": total / np.maximum(claims, 1),
        "recalibrated": fitted[starts],
        "claims": claims.astype(np.int64),
    })


def _accuracy(p: np.ndarray, y: np.ndarray) -> tuple[float, int]:
    decided = (y == 0.0) | (y == 1.0)
    if not decided.any():
        return float("nan"), 0
    p, y = p[decided], y[decided]
    right = np.where(p == 0.5, 0.5, ((p > 0.5) == (y == 1.0)).astype(float))
    return float(right.mean()), int(decided.sum())


def _metrics(p: np.ndarray, y: np.ndarray) -> dict:
    brier, logl = _decompose(p, y, "brier"), _decompose(p, y, "log_loss")
    accuracy, decided = _accuracy(p, y)
    return {"claims": len(y), "brier": brier.score, "log_loss": logl.score, "mcb": brier.mcb, "dsc": brier.dsc,
            "unc": brier.unc, "log_loss_mcb": logl.mcb, "log_loss_dsc": logl.dsc, "log_loss_unc": logl.unc,
            "accuracy": accuracy, "decided": decided}


def metrics(p, y) -> dict:
    """Claims scored, Brier and log loss with their CORP splits, and accuracy on decided claims.

    Keys: claims, brier, log_loss, mcb, dsc, unc (the Brier split), log_loss_mcb, log_loss_dsc,
    log_loss_unc, accuracy, decided (how many claims the accuracy counts). NaN when empty.
    """
    return _metrics(*_pairs(p, y))


@dataclass(frozen=True)
class Evaluation:
    """One forecaster scored: the numbers of `metrics` and its CORP reliability diagram."""

    claims: int
    brier: Decomposition
    log_loss: Decomposition
    accuracy: float
    decided: int
    diagram: pd.DataFrame  # as reliability_diagram


def evaluate(predictions: pd.DataFrame, forecast: str = "p_true") -> Evaluation:
    """Score one forecast column of a predictions frame against its `outcome` column."""
    p, y = _pairs(_column(predictions, forecast), predictions["outcome"])
    accuracy, decided = _accuracy(p, y)
    return Evaluation(claims=len(y), brier=_decompose(p, y, "brier"), log_loss=_decompose(p, y, "log_loss"),
                      accuracy=accuracy, decided=decided, diagram=reliability_diagram(p, y))


def _column(predictions: pd.DataFrame, forecast: str | float) -> np.ndarray:
    """A named forecast column, or a constant forecast given as a number."""
    if isinstance(forecast, str):
        if forecast not in predictions:
            raise ValueError(f"no forecast column {forecast!r}; the predictions have {', '.join(map(str, predictions))}")
        return predictions[forecast].to_numpy(dtype=float, na_value=np.nan)
    return np.full(len(predictions), float(forecast))


def topic_predictions(predictions: pd.DataFrame, topics: pd.DataFrame, topic: str) -> pd.DataFrame:
    """The predictions of the claims filed under `topic` (topics: claim_id, topic; case as stored)."""
    wanted = topics.loc[topics["topic"] == topic, "claim_id"]
    return predictions[predictions["claim_id"].isin(wanted)].reset_index(drop=True)


def scores_by_topic(predictions: pd.DataFrame, topics: pd.DataFrame, forecast: str = "p_true") -> pd.DataFrame:
    """`metrics` per topic, plus the topic's truth rate; a claim with several topics counts in each.

    Columns: topic, claims, truth_rate and the keys of `metrics` after claims; topics with the
    most scored claims first, then by name. Topics none of whose claims is scored are left out.
    """
    p = _column(predictions, forecast)
    y = predictions["outcome"].to_numpy(dtype=float, na_value=np.nan)
    scored = ~(np.isnan(p) | np.isnan(y))
    frame = pd.DataFrame({"claim_id": predictions["claim_id"].to_numpy()[scored], "p": p[scored], "y": y[scored]})
    pairs = topics[["claim_id", "topic"]].drop_duplicates().merge(frame, on="claim_id")
    rows = []
    for topic, group in pairs.groupby("topic", sort=True):
        gp, gy = _pairs(group["p"], group["y"])
        rows.append({"topic": topic, "truth_rate": float(gy.mean()), **_metrics(gp, gy)})
    columns = ["topic", "claims", "truth_rate", *METRIC_COLUMNS[1:]]
    out = pd.DataFrame(rows, columns=columns)
    out["claims"] = out["claims"].astype(np.int64)
    out["decided"] = out["decided"].astype(np.int64)
    return out.sort_values(["claims", "topic"], ascending=[False, True], kind="stable").reset_index(drop=True)


def compare(predictions: pd.DataFrame, forecasters: Mapping[str, str | float],
            base_rate: str | None = "base_rate") -> pd.DataFrame:
    """Every named forecaster scored side by side, in the order given, with skill scores.

    `forecasters` maps a display name to a forecast column of `predictions` or to a constant
    (e.g. {"tracker": "p_true", "running base rate": "base_rate", "constant 0.5": 0.5}). Each is
    scored on the claims where it and the outcome are known. Columns: forecaster, the keys of
    `metrics`, skill_vs_coin (Brier skill against a constant 0.5) and skill_vs_base_rate (Brier
    skill against the `base_rate` column; NaN without one), both on that forecaster's claims.
    """
    y_all = predictions["outcome"].to_numpy(dtype=float, na_value=np.nan)
    reference = _column(predictions, base_rate) if base_rate is not None and base_rate in predictions else None
    rows = []
    for name, forecast in forecasters.items():
        p_all = _column(predictions, forecast)
        p, y = _pairs(p_all, y_all)
        row = {"forecaster": name, **_metrics(p, y)}
        known = ~(np.isnan(p_all) | np.isnan(y_all))
        row["skill_vs_coin"] = _skill(row["brier"], _brier(np.full(len(y), 0.5), y))
        if reference is None:
            row["skill_vs_base_rate"] = float("nan")
        else:
            both = known & ~np.isnan(reference)
            row["skill_vs_base_rate"] = _skill(_brier(p_all[both], y_all[both]), _brier(reference[both], y_all[both]))
        rows.append(row)
    out = pd.DataFrame(rows, columns=list(COMPARISON_COLUMNS))
    out["claims"] = out["claims"].astype(np.int64)
    out["decided"] = out["decided"].astype(np.int64)
    return out


def _skill(score: float, reference: float) -> float:
    """1 - score / reference; NaN when either is unknown or the reference is perfect."""
    if np.isnan(score) or np.isnan(reference) or reference == 0:
        return float("nan")
    return 1.0 - score / reference
