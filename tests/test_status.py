"""tracker.status: a claim's reported status, derived from what sources said."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tracker.models import ClaimStatus, Stance
from tracker.status import status_of, status_timeline

R, C, D = "rumoured", "confirmed", "denied"
UNREPORTED, RUMOURED, CONFIRMED, DENIED, CONTESTED = (
    ClaimStatus.unreported, ClaimStatus.rumoured, ClaimStatus.confirmed, ClaimStatus.denied,
    ClaimStatus.contested,
)
T0 = datetime(2016, 12, 13, 12, 0, tzinfo=UTC)


def t(hours: int) -> datetime:
    return T0 + timedelta(hours=hours)


@pytest.mark.parametrize(
    ("stances", "expected"),
    [
        ([], UNREPORTED),
        ([R], RUMOURED),
        ([R, R], RUMOURED),
        ([C], CONFIRMED),
        ([R, C], CONFIRMED),  # a confirmation outranks a rumour
        ([D], DENIED),
        ([D, D], DENIED),
        ([C, D], CONTESTED),
        ([R, D], CONTESTED),
        ([R, C, D], CONTESTED),
    ],
)
def test_status_of_current_stances(stances, expected):
    assert status_of(stances) == expected
    assert status_of(iter(stances)) == expected  # any iterable, read once


def test_status_of_accepts_stance_members():
    assert status_of([Stance.confirmed, Stance.denied]) == CONTESTED
    assert status_of([Stance.rumoured]) == RUMOURED


def test_timeline_of_no_reports_is_empty():
    assert status_timeline([]) == []


@pytest.mark.parametrize(
    ("reports", "expected"),
    [
        pytest.param([(t(0), "A", R)], [(t(0), RUMOURED)], id="one-rumour"),
        pytest.param(
            [(t(0), "A", R), (t(1), "A", D)],
            [(t(0), RUMOURED), (t(1), DENIED)],
            id="source-retracts-its-rumour-denied-not-contested",
        ),
        pytest.param(
            [(t(0), "A", R), (t(1), "A", C)],
            [(t(0), RUMOURED), (t(1), CONFIRMED)],
            id="source-upgrades-rumour-to-confirmation",
        ),
        pytest.param(
            [(t(0), "A", C), (t(1), "B", D), (t(2), "B", C)],
            [(t(0), CONFIRMED), (t(1), CONTESTED), (t(2), CONFIRMED)],
            id="denier-comes-round-ends-contest",
        ),
        pytest.param(
            [(t(0), "A", R), (t(1), "B", C), (t(2), "C", D)],
            [(t(0), RUMOURED), (t(1), CONFIRMED), (t(2), CONTESTED)],
            id="rumoured-confirmed-contested",
        ),
        pytest.param(
            [(t(0), "A", D), (t(1), "B", D), (t(2), "A", D)],
            [(t(0), DENIED)],
            id="repeats-of-the-same-status-are-not-changes",
        ),
        pytest.param(
            [(t(0), "A", R), (t(1), "B", R), (t(2), "C", R)],
            [(t(0), RUMOURED)],
            id="more-rumours-are-not-changes",
        ),
        pytest.param(
            [(t(2), "C", D), (t(0), "A", R), (t(1), "B", C)],
            [(t(0), RUMOURED), (t(1), CONFIRMED), (t(2), CONTESTED)],
            id="reports-are-taken-in-time-order",
        ),
        pytest.param(
            [(t(0), "A", C), (t(0), "B", D)],
            [(t(0), CONTESTED)],
            id="reports-at-one-instant-make-one-change",
        ),
        pytest.param(
            [(t(0), "A", C), (t(1), "B", D), (t(1), "B", C)],
            [(t(0), CONFIRMED)],
            id="instant-that-ends-where-it-began-is-no-change",
        ),
        pytest.param(
            [(t(0), "A", C), (t(1), "B", D), (t(2), "B", C), (t(2), "C", D), (t(3), "C", C)],
            [(t(0), CONFIRMED), (t(1), CONTESTED), (t(3), CONFIRMED)],
            id="contest-that-carries-over-an-instant-is-not-repeated",
        ),
    ],
)
def test_timeline_lists_only_changes(reports, expected):
    assert status_timeline(reports) == expected


def test_timeline_ends_at_status_of_each_sources_latest_stance():
    reports = [(t(0), "A", R), (t(1), "B", C), (t(2), "A", D), (t(3), "B", D), (t(4), "C", R)]
    latest = {"A": D, "B": D, "C": R}
    assert status_timeline(reports)[-1][1] == status_of(latest.values()) == CONTESTED


def test_timeline_accepts_a_generator_and_any_source_key():
    reports = ((t(i), source_id, stance) for i, (source_id, stance) in enumerate([(1, R), (2, D), (1, D)]))
    assert status_timeline(reports) == [(t(0), RUMOURED), (t(1), CONTESTED), (t(2), DENIED)]
