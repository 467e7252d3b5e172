"""Each (claim, source)'s final stance, as scoring counts it: computed from the reports, and kept on write.

Scoring credits a source once per claim, for the stance it held when the claim's verdict in force
became known (see `tracker.scoring`): per (claim, source) the latest stance reported by then, a
relay speaking for its origin too, the source's own report winning over relays (its own, then its
relay of another, then another's relay of it), later reports winning over earlier ones, ties by
report id; retracted claims and reports left out; a claim whose verdict has no value
(unverifiable) credits nobody; a claim without a verdict leaves its pairs pending.

`said` computes those pairs by one GROUP BY (claim, source) over the reports, for any date. For
the store as it is now they are also kept in the `stance_pair` table (schema 0009), so that the
scores sum one row per pair rather than grouping every report again (at ten million reports that
grouping alone is most of a minute; benchmarks/README.md, "Ten million reports"):

- a claim is out of date when a report or verdict of it is newer than the table has taken in
  (`stance_pair_state` keeps the newest ids taken in: new rows need no mark, so a bulk import pays
  nothing per row), or when triggers on `report`, `outcome` and `claim` have marked it in
  `stale_claim` because one of those rows changed, whatever changed it (the ledger, an
  administrator's SQL);
- `refresh`, called by the ledger's write transactions (the import's too) before they commit,
  rebuilds the out-of-date claims' pairs (and the claims' kept summaries, `tracker.summaries`, which
  the same marks cover), clears the marks and takes in the newest ids;
- `current` reads the table, with the out-of-date claims' pairs (a write made without `refresh`)
  computed afresh, so a reader never sees a stale pair.

Writers of claims, reports and verdicts take turns (SQLite's write lock; on PostgreSQL the store
revision's row lock, which each such ledger transaction takes first), so their ids are taken in in
the order they were written.
"""

from __future__ import annotations

from sqlalchemy import (BigInteger, Column, Float, Integer, MetaData, Table, Text, and_, bindparam, case, cast, func,
                        literal, literal_column, or_, select, union, union_all)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

from tracker import summaries
from tracker.models import Claim, ClaimTopic, Outcome, Report, StaleClaim, StancePair, StancePairState
from tracker.vocabulary import Stance

_R, _O, _C, _T = (m.__table__ for m in (Report, Outcome, Claim, ClaimTopic))
_P, _STALE, _STATE = StancePair.__table__, StaleClaim.__table__, StancePairState.__table__
STANCES = [stance.value for stance in Stance]
VALUES = {"true": 1.0, "false": 0.0, "partly_true": 0.5}  # each verdict's value; unverifiable: none (no credit)
COLUMNS = ["claim_id", "source_id", "stance", "verdict_value", "decided_at", "lead_days"]
_LISTED = 1_000  # claims to rebuild bound as values at most (store.MAX_BOUND_IDS is the backends' limit)


def days(connection: Connection, later, earlier):
    """`later - earlier` in days as a float column, on either backend."""
    if connection.dialect.name == "sqlite":
        return func.julianday(later) - func.julianday(earlier)
    return func.extract("epoch", later - earlier) / 86400.0


def said(connection: Connection, *, as_of=None, topic: str | None = None, claims=None):
    """The pairs as of `as_of` (None: everything), one row per (claim, source): `COLUMNS` as a
    subquery. `topic` keeps one topic's claims; `claims` (ids, a selectable of ids, or an expanding
    bound parameter) only those."""

    def wanted(claim_id):
        # not "claim_id IN (live claims)": SQLite would answer that by probing the report index once
        # per claim and fetching each row from all over the file, where a scan reads it in order
        kept = claim_id.not_in(select(_C.c.id).where(_C.c.retracted_at.is_not(None)))
        if topic:
            kept = and_(kept, claim_id.in_(select(_T.c.claim_id).where(_T.c.topic == topic.strip().lower())))
        if claims is not None:
            kept = and_(kept, claim_id.in_(claims))
        return kept

    # the verdict in force per claim: its newest revision known by as_of
    newest = select(_O.c.claim_id, func.max(_O.c.id).label("id")).where(wanted(_O.c.claim_id))
    if as_of is not None:
        newest = newest.where(_O.c.decided_at <= as_of)
    newest = newest.group_by(_O.c.claim_id).subquery("newest")
    value = case(*((_O.c.verdict == verdict, literal(number, Float)) for verdict, number in VALUES.items()),
                 else_=None)
    # a subquery, not a CTE: PostgreSQL plans each use with the outcome table's statistics (a
    # materialized CTE has none, and keeps the scan of the reports from running in parallel)
    verdicts = (select(_O.c.claim_id, _O.c.decided_at, value.label("value"))
                .join(newest, _O.c.id == newest.c.id).subquery("verdicts"))

    # stance rows: each report speaks for its source (rank 2, or 1 when it relays another) and,
    # when it is a relay, for its origin too (rank 0). Kept: on a claim with a verdict of some
    # value, the reports made by the verdict's time (credit); on a claim without one, all (pending).
    # Each arm joins the verdicts itself: SQLite then looks them up by an index it builds on them
    def arm(speaker, direct, *only):
        live = and_(_R.c.retracted_at.is_(None), wanted(_R.c.claim_id), *only,
                    or_(verdicts.c.claim_id.is_(None),
                        and_(verdicts.c.value.is_not(None), _R.c.reported_at <= verdicts.c.decided_at)))
        if as_of is not None:
            live = and_(live, _R.c.reported_at <= as_of)
        return (select(_R.c.id, _R.c.claim_id, speaker.label("speaker"), direct.label("direct"), _R.c.stance,
                       _R.c.reported_at, verdicts.c.value, verdicts.c.decided_at)
                .select_from(_R.outerjoin(verdicts, verdicts.c.claim_id == _R.c.claim_id)).where(live))

    stances = union_all(
        arm(_R.c.source_id, case((_R.c.via_source_id.is_not(None), 1), else_=2)),
        arm(_R.c.via_source_id, literal(0), _R.c.via_source_id.is_not(None)),
    ).subquery("stances")

    # one GROUP BY per (claim, source), no sort of its own rows: the latest stance is the greatest of
    # one key (rank, time, report id, then the stance's code), and the first time of each stance is
    # a conditional min(), of which the final stance's is kept
    key, code_of = _latest_key(connection, stances)
    code = code_of(func.max(key))
    firsts = {name: func.min(case((stances.c.stance == name, stances.c.reported_at))) for name in STANCES}
    # the stance and its first time worked out here, once per (claim, source): the aggregates are
    # computed once, where every later use of a flattened subquery's column repeats its expression
    # (the verdict is the claim's, the same on every row of the pair: max() carries it through)
    grouped = select(
        stances.c.claim_id, stances.c.speaker, code.label("code"),
        case(*((code == number, firsts[name]) for number, name in enumerate(STANCES))).label("first_at"),
        func.max(stances.c.value).label("value"), func.max(stances.c.decided_at).label("decided_at"),
    ).group_by(stances.c.claim_id, stances.c.speaker).subquery("grouped")
    stance = case(*((grouped.c.code == number, literal_column(f"'{name}'")) for number, name in enumerate(STANCES)))
    return select(grouped.c.claim_id, grouped.c.speaker.label("source_id"), stance.label("stance"),
                  grouped.c.value.label("verdict_value"), grouped.c.decided_at,
                  days(connection, grouped.c.decided_at, grouped.c.first_at).label("lead_days")).subquery("said")


def _latest_key(connection: Connection, stances):
    """Per stance row, a key that sorts as the rows compete to be a (claim, source)'s latest (the
    rank, the time, the report id) and ends with the stance's code (its place in `STANCES`); and
    how to read the code back from the greatest key.

    On SQLite, text: times are stored as fixed-width text (`YYYY-MM-DD HH:MM:SS.ffffff`, as
    SQLAlchemy and the importer write them), which sorts as the times do, compared byte by byte
    (one written without its fraction is padded to that width, and still sorts first).
    On PostgreSQL, an array of bigints, the time in microseconds (far cheaper than text there).

    Its constants are written into the SQL, not bound: SQLite numbers each bound value apart, so
    the same max(key) used twice would be two aggregates (each step of the key paid twice over).
    """
    code = case(*((stances.c.stance == literal_column(f"'{name}'"), literal_column(str(number)))
                  for number, name in enumerate(STANCES)))
    if connection.dialect.name == "sqlite":
        # a time written without its fraction is padded to the width (a space sorts before '.'),
        # and the code, one digit, is read from the end, wherever the time ended
        key = (cast(stances.c.direct, Text).concat(func.printf(literal_column("'%-26s'"), stances.c.reported_at))
               .concat(func.printf(literal_column("'%019d'"), stances.c.id)).concat(cast(code, Text)))
        return key, lambda latest: cast(func.substr(latest, literal_column("-1")), Integer)
    micros = func.round(func.date_part(literal_column("'epoch'"), stances.c.reported_at) * literal_column("1000000"))
    key = postgresql.array([cast(stances.c.direct, BigInteger), cast(micros, BigInteger),
                            cast(stances.c.id, BigInteger), cast(code, BigInteger)])
    return key, lambda latest: latest[literal_column("4")]


def _out_of_date(*, once: bool = True):
    """The claims whose kept pairs are out of date, as a selectable of ids: those marked stale, and
    those with a report or verdict newer than the table has taken in (`once=False`: a claim once per
    such row, which a LIMIT can stop early)."""
    state = select(_STATE.c.report_id, _STATE.c.outcome_id).where(_STATE.c.id == 1).subquery("state")
    return (union if once else union_all)(select(_STALE.c.claim_id),
                 select(_R.c.claim_id).where(_R.c.id > select(state.c.report_id).scalar_subquery()),
                 select(_O.c.claim_id).where(_O.c.id > select(state.c.outcome_id).scalar_subquery()))


def _columns(pairs_query):
    """`COLUMNS` of a pairs subquery (`said`), in order, as a select."""
    return select(*(pairs_query.c[name] for name in COLUMNS))


def _any(connection: Connection, claims) -> bool:
    return connection.execute(select(literal(1)).select_from(claims.subquery()).limit(1)).first() is not None


def current(connection: Connection, *, topic: str | None = None):
    """The pairs of the store as it is now (`COLUMNS`, as a subquery): the kept rows, with those of
    the claims out of date (a write made without `refresh`) computed afresh instead."""
    kept = select(*(_P.c[name] for name in COLUMNS))
    if topic:
        kept = kept.where(_P.c.claim_id.in_(select(_T.c.claim_id).where(_T.c.topic == topic.strip().lower())))
    # with nothing out of date, a plain read of the table: SQLite groups it in its stored order
    return as_now(connection, kept, _P.c.claim_id, lambda behind: _columns(said(connection, topic=topic, claims=behind)),
                  "pairs")


def as_now(connection: Connection, kept, claim_id, fresh, name: str):
    """A kept table's rows as of now, as a subquery named `name`: `kept` (a select, `claim_id` its
    claim column) as it is, or with the rows of the claims out of date replaced by `fresh(behind)`
    (a select of the same columns for the claims `behind` selects), computed afresh."""
    behind = _out_of_date()
    if not _any(connection, behind):
        return kept.subquery(name)
    return union_all(kept.where(claim_id.not_in(behind)), fresh(behind)).subquery(name)


def refresh(connection: Connection) -> None:
    """Rebuild the pairs and kept summaries of the claims out of date and take in the newest reports
    and verdicts, in the caller's transaction (the ledger's write transactions call it before they commit)."""
    made = _statements(connection)
    newest = connection.execute(made["newest"]).one()
    # at most _LISTED + 1 rows: an import's claims are not all read (and grouped) twice just to count them
    rows = list(connection.execute(made["behind"], {"room": _LISTED + 1}).scalars())
    if not rows:
        return
    if len(rows) <= _LISTED:  # an edit's claim or two, as bound values
        claim_ids = sorted(set(rows))
        for name in ("delete", "insert", "summary delete", "summary insert"):
            connection.execute(made[name], {"claim_ids": claim_ids})
    else:  # an import's thousands in a temporary table, read once by each statement
        held = _temporary_ids(connection, _out_of_date())
        if connection.dialect.name == "postgresql":
            _analyze(connection, held)
        claims = select(held.c.claim_id)
        connection.execute(_P.delete().where(_P.c.claim_id.in_(claims)))
        fresh = said(connection, claims=claims)
        connection.execute(_P.insert().from_select(COLUMNS, _columns(fresh)))
        summaries.rebuild(connection, claims)
        held.drop(connection)
    _taken_in(connection, newest)


_MADE: dict[str, dict] = {}


def _statements(connection: Connection) -> dict:
    """`refresh`'s statements for this backend, built once: building them costs more than running
    them for one claim (about 8 ms a write, measured, against 1 ms)."""
    name = connection.dialect.name
    if name not in _MADE:
        ids = bindparam("claim_ids", expanding=True)
        fresh = said(connection, claims=ids)
        _MADE[name] = {
            "newest": select(select(func.max(_R.c.id)).scalar_subquery(), select(func.max(_O.c.id)).scalar_subquery()),
            "behind": _out_of_date(once=False).limit(bindparam("room")),
            "delete": _P.delete().where(_P.c.claim_id.in_(ids)),
            "insert": _P.insert().from_select(COLUMNS, _columns(fresh)),
            **dict(zip(("summary delete", "summary insert"), summaries.statements(ids), strict=True)),
            "taken in": _STATE.update().where(_STATE.c.id == 1).values(report_id=bindparam("report_id"),
                                                                       outcome_id=bindparam("outcome_id")),
        }
    return _MADE[name]


def _temporary_ids(connection: Connection, claims) -> Table:
    """The ids `claims` selects, in a temporary table of this connection (the caller drops it)."""
    table = Table("stance_pair_refreshing", MetaData(), Column("claim_id", Integer, primary_key=True,
                                                               autoincrement=False), prefixes=["TEMPORARY"])
    table.create(connection)
    connection.execute(table.insert().from_select(["claim_id"], claims))
    return table


def _analyze(connection: Connection, held: Table) -> None:
    """PostgreSQL: statistics for the temporary table of claims, and for the tables the pairs are
    grouped from where they have none yet (a store that was never analyzed, such as a new one filled
    by its first import in this very transaction: autovacuum sees no uncommitted rows).

    Without them the planner takes `retracted_at IS NULL` to keep 0.5% of the reports, joins the
    verdicts to each report in a nested loop and groups every verdict again per report: the
    rebuild after a 222,000-report import into a new store ran 13 minutes without finishing
    (benchmarks/README.md, "Import speed", fifth pass), where with statistics it takes seconds.
    ANALYZE counts the rows this transaction wrote itself."""
    connection.exec_driver_sql(f"ANALYZE {held.name}")
    tables = [t.name for t in (_R, _O, _C)]
    listed = ", ".join(f"'{name}'" for name in tables)
    known = set(connection.exec_driver_sql(
        f"SELECT DISTINCT tablename FROM pg_stats WHERE schemaname = current_schema() AND tablename IN ({listed})"
    ).scalars())
    for name in tables:
        if name not in known:
            connection.exec_driver_sql(f"ANALYZE {name}")


def _taken_in(connection: Connection, newest) -> None:
    """No claim marked, and the newest report and verdict ids (read before the pairs were) taken in."""
    connection.execute(_STALE.delete())
    connection.execute(_statements(connection)["taken in"], {"report_id": newest[0] or 0, "outcome_id": newest[1] or 0})


def start(connection: Connection) -> None:
    """A new store's bookkeeping: its triggers, and the state row (nothing taken in yet)."""
    install(connection)
    connection.execute(_STATE.insert().values(id=1, report_id=0, outcome_id=0))


def rebuild(connection: Connection) -> None:
    """Every claim's pairs computed again from the reports (the migration that adds the table)."""
    newest = connection.execute(_statements(connection)["newest"]).one()
    connection.execute(_P.delete())
    connection.execute(_P.insert().from_select(COLUMNS, _columns(said(connection))))
    _taken_in(connection, newest)


# -- the triggers that mark stale claims ------------------------------------------------------
# what a pair depends on: a report's claim, speakers, stance, time and retraction; a verdict's
# claim, value and time; a claim's retraction. Other columns (notes, quotes, versions) mark
# nothing, and new rows need no mark: their ids are past what the table has taken in
_REPORT_COLUMNS = "claim_id, source_id, via_source_id, stance, reported_at, retracted_at"
_OUTCOME_COLUMNS = "claim_id, verdict, decided_at"


def _sqlite_triggers() -> list[str]:
    def mark(row: str) -> str:
        return f"INSERT OR IGNORE INTO stale_claim (claim_id) VALUES ({row});"

    return [
        f"CREATE TRIGGER stance_pair_report_change AFTER UPDATE OF {_REPORT_COLUMNS} ON report "
        f"BEGIN {mark('OLD.claim_id')} {mark('NEW.claim_id')} END",
        f"CREATE TRIGGER stance_pair_report_delete AFTER DELETE ON report BEGIN {mark('OLD.claim_id')} END",
        f"CREATE TRIGGER stance_pair_outcome_change AFTER UPDATE OF {_OUTCOME_COLUMNS} ON outcome "
        f"BEGIN {mark('OLD.claim_id')} {mark('NEW.claim_id')} END",
        f"CREATE TRIGGER stance_pair_outcome_delete AFTER DELETE ON outcome BEGIN {mark('OLD.claim_id')} END",
        f"CREATE TRIGGER stance_pair_claim_change AFTER UPDATE OF retracted_at ON claim BEGIN {mark('NEW.id')} END",
        f"CREATE TRIGGER stance_pair_claim_delete AFTER DELETE ON claim BEGIN {mark('OLD.id')} END",
    ]


_PG_FUNCTION = """CREATE FUNCTION stance_pair_mark() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'claim' THEN
        INSERT INTO stale_claim (claim_id) VALUES (OLD.id) ON CONFLICT DO NOTHING;
        RETURN NULL;
    END IF;
    INSERT INTO stale_claim (claim_id) VALUES (OLD.claim_id) ON CONFLICT DO NOTHING;
    IF TG_OP = 'UPDATE' THEN
        INSERT INTO stale_claim (claim_id) VALUES (NEW.claim_id) ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $$"""


def _postgresql_triggers() -> list[str]:
    def changed(table: str, columns: str) -> str:
        return (f"CREATE TRIGGER stance_pair_{table}_change AFTER UPDATE OF {columns} OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION stance_pair_mark()")

    return [_PG_FUNCTION, changed("report", _REPORT_COLUMNS), changed("outcome", _OUTCOME_COLUMNS),
            changed("claim", "retracted_at")]


def install(connection: Connection) -> None:
    """Create the triggers that mark stale claims (a new store, and the migration that adds the table)."""
    statements = _sqlite_triggers() if connection.dialect.name == "sqlite" else _postgresql_triggers()
    for statement in statements:
        connection.exec_driver_sql(statement)


def uninstall(connection: Connection) -> None:
    """Drop the triggers (and PostgreSQL's trigger function) that `install` made."""
    for name in sorted(trigger_names(connection)):
        if name.startswith("stance_pair_"):
            on = "" if connection.dialect.name == "sqlite" else f" ON {name.split('_')[2]}"
            connection.exec_driver_sql(f"DROP TRIGGER {name}{on}")
    if connection.dialect.name != "sqlite":
        connection.exec_driver_sql("DROP FUNCTION stance_pair_mark()")


def trigger_names(connection: Connection) -> set[str]:
    """The triggers the store has (to compare a new store's schema with a migrated one's)."""
    if connection.dialect.name == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    else:
        query = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
    return {name for (name,) in connection.exec_driver_sql(query)}
