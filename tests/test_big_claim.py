"""A claim carried by very many reports: its page reads it in time linear in its reports.

Speed itself is measured in benchmarks/bench_big_claim.py; these tests pin what the fast paths
must keep: the p_true line is a chart's worth of points (one per report read every earlier report
of the claim again), and the status timeline is the one a per-report recount gives.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from tracker import forecast
from tracker.evidence import load_evidence
from tracker.status import status_of, status_timeline

START = datetime(2016, 12, 13, 8, 0, tzinfo=UTC)


def test_the_p_true_line_of_a_claim_with_many_report_times_is_a_chart_of_points(ledger, monkeypatch):
    monkeypatch.setattr(forecast, "TIMELINE_POINTS", 8, raising=False)
    stances = ("rumoured", "confirmed", "denied")
    ledger.log_claim("The convoy left eastern Aleppo", reports=[
        {"source": f"Wire {n % 5}", "stance": stances[n % 3], "reported_at": START + timedelta(minutes=n)}
        for n in range(30)])
    line = forecast.timeline(load_evidence(ledger.engine), 1)
    assert len(line) == 8
    assert line["at"].iloc[0] == START and line["at"].iloc[-1] == START + timedelta(minutes=29)
    assert line["at"].is_monotonic_increasing and line["p_true"].between(0, 1).all()


def test_the_status_timeline_is_the_one_a_recount_at_every_report_gives():
    rng = random.Random(11)
    reports = [(START + timedelta(minutes=rng.randrange(200)), f"s{rng.randrange(12)}",
                rng.choice(("rumoured", "confirmed", "denied"))) for _ in range(400)]
    latest: dict[str, str] = {}
    recount: list = []
    for at, source, stance in sorted(reports, key=lambda r: r[0]):
        latest[source] = stance
        status = status_of(latest.values())
        if recount and recount[-1][0] == at:
            recount[-1] = (at, status)
        elif not recount or recount[-1][1] != status:
            recount.append((at, status))
    recount = [entry for i, entry in enumerate(recount) if i == 0 or recount[i - 1][1] != entry[1]]
    assert status_timeline(reports) == recount
