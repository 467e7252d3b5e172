"""Each claim's reported status and live report count, computed from the reports and kept on write.

A claim's status comes from each source's latest live report on it, as `tracker.status` derives it
for one claim: a denial beside a confirmation or a rumour is contested, and so on. A claim with no
live report has no row here (it is unreported, with no reports); neither has a retracted claim.

`computed` groups the reports. Grouping every report for the Claims page filtered by a status took
2.6 s at a million reports and 28 s at ten million, and sorting it by the number of reports 5.5 s
at ten million (benchmarks/README.md), so both are also kept in the `claim_summary` table (schema
0010), rebuilt by `tracker.pairs.refresh` for the claims out of date, with the kept pairs and by the
same marks (a summary depends on a report's claim, source, stance, time and retraction, and on the
claim's retraction, all of which mark the claim); `current` reads the table with the out-of-date
claims' summaries computed afresh, so a reader never sees a stale one.
"""

from __future__ import annotations

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.engine import Connection

from tracker.models import Claim, ClaimStatus, ClaimSummary, Report

_CLAIM, _REPORT, _K = Claim.__table__, Report.__table__, ClaimSummary.__table__
# what pages show: the live ledger. Retracted claims (with their reports, verdicts and topics) and
# retracted reports stay in the store and its history but not here.
# (`id NOT IN` the few retracted ids: see models._RETRACTED_ONLY for why not `retracted_at IS NULL`)
RETRACTED_CLAIMS = select(_CLAIM.c.id).where(_CLAIM.c.retracted_at.is_not(None))
RETRACTED_REPORTS = select(_REPORT.c.id).where(_REPORT.c.retracted_at.is_not(None))
LIVE_REPORTS = select(_REPORT).where(_REPORT.c.id.not_in(RETRACTED_REPORTS),
                                     _REPORT.c.claim_id.not_in(RETRACTED_CLAIMS)).subquery("live_report")
COLUMNS = ["claim_id", "status", "reports"]


def computed(claims=None):
    """(claim_id, status, reports) of the claims with live reports, grouped afresh from the reports,
    as a subquery; `claims` (ids, a selectable of ids, or an expanding bound parameter) keeps only those."""
    live = LIVE_REPORTS
    ranked = select(
        live.c.claim_id, live.c.stance,
        func.row_number().over(partition_by=(live.c.claim_id, live.c.source_id),
                               order_by=(live.c.reported_at.desc(), live.c.id.desc())).label("rn"),
    )
    if claims is not None:
        ranked = ranked.where(live.c.claim_id.in_(claims))
    ranked = ranked.subquery("ranked")

    def flag(stance: str):  # whether some source's latest report takes this stance
        return func.max(case((and_(ranked.c.rn == 1, ranked.c.stance == stance), 1), else_=0))

    agg = (select(ranked.c.claim_id, flag("denied").label("d"), flag("confirmed").label("c"),
                  flag("rumoured").label("r"), func.count().label("reports"))
           .group_by(ranked.c.claim_id).subquery("stances"))
    status = case(
        (and_(agg.c.d == 1, or_(agg.c.c == 1, agg.c.r == 1)), ClaimStatus.contested.value),
        (agg.c.d == 1, ClaimStatus.denied.value),
        (agg.c.c == 1, ClaimStatus.confirmed.value),
        (agg.c.r == 1, ClaimStatus.rumoured.value),
        else_=ClaimStatus.unreported.value,
    )
    return select(agg.c.claim_id, status.label("status"), agg.c.reports).subquery("claim_summary")


def statements(claims) -> tuple:
    """The (delete, insert) that rebuild the kept summaries of `claims` (as `computed` takes them;
    None: every claim), to run in the caller's transaction."""
    fresh = computed(claims)
    delete = _K.delete() if claims is None else _K.delete().where(_K.c.claim_id.in_(claims))
    return delete, _K.insert().from_select(COLUMNS, select(*(fresh.c[name] for name in COLUMNS)))


def rebuild(connection: Connection, claims=None) -> None:
    """Compute the kept summaries of `claims` again (None: every claim; the migration that adds them)."""
    for statement in statements(claims):
        connection.execute(statement)


def current(connection: Connection):
    """(claim_id, status, reports) of the store as it is now, as a subquery: the kept rows, with those
    of the claims out of date (a write made without `tracker.pairs.refresh`) computed afresh instead."""
    from tracker import pairs  # pairs.refresh rebuilds these: imported here, not at the top

    def fresh(behind):
        made = computed(behind)
        return select(*(made.c[name] for name in COLUMNS))

    return pairs.as_now(connection, select(*(_K.c[name] for name in COLUMNS)), _K.c.claim_id, fresh, "claim_summary")
