"""A claim's reported status, derived from its reports: what sources said, not what happened."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime

from tracker.models import ClaimStatus, Stance


def status_of(stances: Iterable[str]) -> ClaimStatus:
    """The status that a set of current stances adds up to (each source's latest stance counts)."""
    seen = set(stances)
    if not seen:
        return ClaimStatus.unreported
    asserted = seen & {Stance.confirmed.value, Stance.rumoured.value}
    if Stance.denied.value in seen:
        return ClaimStatus.contested if asserted else ClaimStatus.denied
    if Stance.confirmed.value in seen:
        return ClaimStatus.confirmed
    return ClaimStatus.rumoured


def status_timeline(reports: Iterable[tuple[datetime, str, str]]) -> list[tuple[datetime, ClaimStatus]]:
    """(time, status) each time the status changes, from (reported_at, source, stance) triples.

    A source's later report replaces its earlier stance ("rumoured" then "confirmed" counts once).
    How many sources hold each stance is kept as it goes, so each report costs the same however
    many sources the claim has (not a pass over every source's stance per report).
    """
    latest: dict[str, str] = {}
    holding: Counter[str] = Counter()  # stance -> how many sources' latest stance it is
    timeline: list[tuple[datetime, ClaimStatus]] = []
    for at, source, stance in sorted(reports, key=lambda r: r[0]):
        previous = latest.get(source)
        if previous is not None:
            holding[previous] -= 1
        latest[source] = stance
        holding[stance] += 1
        status = status_of(held for held, count in holding.items() if count)
        if timeline and timeline[-1][0] == at:
            timeline[-1] = (at, status)
        elif not timeline or timeline[-1][1] != status:
            timeline.append((at, status))
    # two reports at one instant may have folded into a repeat of the status before them
    return [entry for i, entry in enumerate(timeline) if i == 0 or timeline[i - 1][1] != entry[1]]
