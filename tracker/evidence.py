"""Everything scoring needs, read from the store in bulk as pandas frames.

One query per table, no ORM objects per row: this is what lets scoring run over a million
reports. Times come back as pandas UTC timestamps whatever the backend.

On SQLite each block of half a million rowids comes back as a single row: SQLite joins each
column into one string (`group_concat` for numbers and times, `json_group_array` for text), which
numpy and the json module split in C. That avoids building a Python tuple per row, which is what dominates reading
a million rows through any Python driver. Columns that are not in the form that fast path expects
(say a time not written by SQLAlchemy) make that table fall back to the plain query. PostgreSQL
(14 and later) does the same for blocks of a table's pages (`string_agg`, `json_agg`, times as
whole microseconds since the epoch); where that does not apply, each table comes through
`COPY ... TO STDOUT` as CSV, which pandas' C reader parses a block at a time (a NULL text comes
with a flag beside it, as CSV cannot tell it from an empty one). Every table is read in one read
transaction (on PostgreSQL, one snapshot: REPEATABLE READ), so the frames agree with each other.
"""

from __future__ import annotations

import functools
import io
import json
import queue
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from tracker.models import Claim, ClaimTopic, Outcome, Report, Source


@dataclass
class Evidence:
    """The store's sources, claims, reports and verdict history, as frames."""

    sources: pd.DataFrame  # index id; name, kind, parent_id (-1: none)
    claims: pd.DataFrame  # index id; ref, statement, first_reported_at
    reports: pd.DataFrame  # claim_id, source_id, stance, reported_at, via_source_id (-1: none)
    outcomes: pd.DataFrame  # id, claim_id, verdict, decided_at (every revision)
    topics: pd.DataFrame  # claim_id, topic

    def let_go(self, name: str, why: str) -> None:
        """Drop the frame `name` (say "reports") to free its memory once a computation holds all
        it needs of it; any later use of it raises `LetGo` naming `why` rather than reading nothing."""
        setattr(self, name, _LetGoFrame(name, why))

    def for_topic(self, topic: str) -> Evidence:
        """The same evidence restricted to claims tagged `topic` (every source is kept)."""
        wanted = set(self.topics.loc[self.topics["topic"] == topic.strip().lower(), "claim_id"])
        return Evidence(
            self.sources,
            self.claims[self.claims.index.isin(wanted)],
            self.reports[self.reports["claim_id"].isin(wanted)].reset_index(drop=True),
            self.outcomes[self.outcomes["claim_id"].isin(wanted)].reset_index(drop=True),
            self.topics[self.topics["claim_id"].isin(wanted)].reset_index(drop=True),
        )


class LetGo(RuntimeError):
    """A frame of an `Evidence` was read after it was let go (`Evidence.let_go`)."""


class _LetGoFrame:
    """Stands in for a frame an `Evidence` let go of: any use of it raises `LetGo`."""

    def __init__(self, name: str, why: str) -> None:
        self._message = (f"the evidence's {name} were let go ({why}) and cannot be read again: "
                         f"load the evidence again (`load_evidence`) to read them")

    def _refuse(self, *_args, **_kwargs):
        raise LetGo(self._message)

    __getattr__ = __getitem__ = __len__ = __iter__ = __contains__ = __array__ = _refuse


# what each frame holds: (column, SQL expression, kind); kinds: int, text, time, stance, via
_TABLES = {
    "sources": (Source, [("id", Source.id, "int"), ("name", Source.name, "text"), ("kind", Source.kind, "text"),
                         ("parent_id", Source.parent_id, "via")]),
    "claims": (Claim, [("id", Claim.id, "int"), ("ref", Claim.ref, "text"), ("statement", Claim.statement, "text"),
                       ("first_reported_at", Claim.first_reported_at, "time")]),
    "reports": (Report, [("claim_id", Report.claim_id, "int"), ("source_id", Report.source_id, "int"),
                         ("stance", Report.stance, "stance"), ("reported_at", Report.reported_at, "time"),
                         ("via_source_id", Report.via_source_id, "via")]),
    "outcomes": (Outcome, [("id", Outcome.id, "int"), ("claim_id", Outcome.claim_id, "int"),
                           ("verdict", Outcome.verdict, "text"), ("decided_at", Outcome.decided_at, "time")]),
    "topics": (ClaimTopic, [("claim_id", ClaimTopic.claim_id, "int"), ("topic", ClaimTopic.topic, "text")]),
}
_TEXTS = {"claims": ("ref", "statement")}  # left out when the claims' texts are not wanted
# what counts as evidence: merged sources, retracted claims and retracted reports do not. Each
# condition with what it rules out: a retracted "claim" or "report" (on a SQLite store where
# nothing of that kind is retracted, as in most, it holds for every row and is left out: the
# scan then reads no column but those asked for), or None (always kept)
_RETRACTED_CLAIMS = "SELECT id FROM claim WHERE retracted_at IS NOT NULL"
_OF_A_LIVE_CLAIM = (f"claim_id NOT IN ({_RETRACTED_CLAIMS})", "claim")
_CONDITIONS = {
    "sources": [("merged_into_id IS NULL", None)],
    "claims": [("retracted_at IS NULL", "claim")],
    "reports": [("retracted_at IS NULL", "report"), _OF_A_LIVE_CLAIM],
    "outcomes": [_OF_A_LIVE_CLAIM],
    "topics": [_OF_A_LIVE_CLAIM],
}
_RETRACTABLE = ("claim", "report")  # the tables whose rows can be retracted
# a claim with no verdict, as an anti-join: PostgreSQL turns `id NOT IN (SELECT claim_id FROM
# outcome)` into a hash only while every verdict's claim id fits in `work_mem`, and past that
# (1.4 million verdicts, against the default 4 MB) scans the verdicts again for every claim: hours
_WITHOUT_VERDICT = "NOT EXISTS (SELECT 1 FROM outcome WHERE outcome.claim_id = claim.id)"
_STANCES = ("rumoured", "confirmed", "denied")  # codes 0, 1, 2 on the fast path
# rowids read per query on the fast path: the joined texts and the Python values split from them
# are held for one block at a time, not for the whole table (a 2,000,000-claim table's statements
# as one text, then as Python strings, peaked at 1.4 GiB)
CHUNK_ROWS = 1 << 19
# a PostgreSQL table read in this many blocks or more has a second connection read every other one
# (`_joined_postgres_frame`)
BESIDE_BLOCKS = 4
# SQLAlchemy's SQLite DateTime storage: `YYYY-MM-DD HH:MM:SS.ffffff`, always 26 characters
_TIME = 26


def _frame(connection: Connection, columns: list, names: list[str], where: str) -> pd.DataFrame:
    # the plain query, through the driver's cursor: SQLAlchemy's Row objects make a DataFrame
    # slow to build (pandas probes each row's attributes), plain tuples do not
    compiled = select(*columns).where(text(where)).compile(dialect=connection.dialect)
    cursor = connection.connection.cursor()
    try:
        cursor.execute(str(compiled))
        rows = cursor.fetchall()
    finally:
        cursor.close()
    return pd.DataFrame.from_records(rows, columns=names)


def _copy_postgres_frame(connection: Connection, table, spec: list, where: str) -> pd.DataFrame | None:
    """The table through PostgreSQL's `COPY ... TO STDOUT` as CSV, parsed by pandas' C reader (no
    Python tuple per row) `CHUNK_ROWS` rows at a time as the server sends them (never the whole
    table's text at once: 0.5 GB for ten million reports), in the types the plain query gives;
    None when it has no rows. A time that cannot be NULL comes as whole microseconds since the
    epoch (PostgreSQL 14 and later), which need no parsing as text."""
    parts, names, types = [], [], {}
    for name, column, kind in spec:
        sql_name = column.expression.name
        types[name] = {"int": "int64", "via": "int64"}.get(kind, "str")
        if kind == "time" and not column.expression.nullable and connection.dialect.server_version_info >= (14,):
            # exact: PostgreSQL keeps microseconds, and `extract` gives a numeric from version 14
            # (a double before: older servers send the text)
            parts.append(f"(extract(epoch FROM {sql_name}) * 1000000)::bigint")
            names.append(name)
            types[name] = "int64"
        elif kind != "via" and kind != "int" and column.expression.nullable:
            # CSV cannot tell NULL from '' to pandas: the value, and a flag for NULL beside it
            parts += [f"coalesce({sql_name}::text, '')", f"({sql_name} IS NULL)"]
            names += [name, f"{name} is null"]
            types[f"{name} is null"] = "str"
        else:
            parts.append(f"coalesce({sql_name}, -1)" if kind == "via" else sql_name)
            names.append(name)
    sql = f"COPY (SELECT {', '.join(parts)} FROM {table.__tablename__} WHERE {where}) TO STDOUT (FORMAT csv)"
    driver = connection.connection.driver_connection
    with driver.cursor() as cursor:
        cursor.execute("SET LOCAL DateStyle = 'ISO'")  # times as `_times` reads them, whatever the server's default
        with cursor.copy(sql) as copy:
            try:
                chunks = pd.read_csv(io.BufferedReader(_CopyStream(copy), 1 << 20), header=None, names=names,
                                     dtype=types, na_filter=False, keep_default_na=False,
                                     encoding=driver.info.encoding, chunksize=CHUNK_ROWS)
            except pd.errors.EmptyDataError:  # no rows
                return None
            with chunks:
                frames = [_copied_types(chunk, spec, types) for chunk in chunks]
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def _joined_postgres_frame(connection: Connection, table, spec: list, where: str) -> pd.DataFrame | None:
    """The table in blocks of its pages, each block's rows as one row of joined columns, as on
    SQLite (`_fast_sqlite_frame`): the server joins each column (`string_agg`, `json_agg` for text,
    a time as whole microseconds since the epoch), numpy and the json module split them. A COPY
    hands each row to Python as a message of its own (13 s of the client's CPU for ten million
    reports). With `BESIDE_BLOCKS` blocks or more, a second connection reads every other block in
    a thread, in this transaction's snapshot (exported to it), so the server joins two at once.
    None on a server before PostgreSQL 14 (no scan of a range of pages), for a time that can be
    NULL, or when some value does not fit (the caller then copies the table)."""
    if connection.dialect.server_version_info < (14,) or any(
            kind == "time" and column.expression.nullable for _name, column, kind in spec):
        return None
    name = table.__tablename__
    pages, rows, counted = connection.exec_driver_sql(
        "SELECT pg_relation_size(c.oid) / current_setting('block_size')::int, c.reltuples, c.relpages "
        f"FROM pg_class c WHERE c.oid = '{name}'::regclass").one()
    # pages per block: about CHUNK_ROWS rows (the table's statistics; 64 rows a page without them)
    per_block = max(1, int(CHUNK_ROWS // max(1.0, rows / counted if rows > 0 and counted > 0 else 64.0)))
    select = f"SELECT {', '.join(_joined_parts(spec, 'postgresql'))} FROM {name} WHERE ({where}) AND "
    # each block's pages; the last reaches past the table's size when the read began (rows added
    # since are not in this transaction's snapshot; nothing it sees is past it)
    blocks = [f"ctid >= '({start},0)'::tid" + (f" AND ctid < '({start + per_block},0)'::tid"
                                                if start + per_block < pages else "")
              for start in range(0, max(pages, 1), per_block)]
    snapshot = _exported_snapshot(connection) if len(blocks) >= BESIDE_BLOCKS else None
    if snapshot is None:
        return _of_blocks(_joined_block(connection.exec_driver_sql(select + block).one(), spec, "postgresql")
                          for block in blocks)
    # every other block fetched by a second connection in a thread, handed over one at a time
    # and split here: the thread holds one block's texts at most (what it allocates stays in
    # its own malloc arena: its frames there raised the peak at ten million reports by 130 MB)
    handed = queue.Queue(maxsize=1)
    pool = ThreadPoolExecutor(1, thread_name_prefix="tracker-blocks")
    beside = pool.submit(_fetch_in_snapshot, connection.engine, snapshot, select, blocks[1::2], handed)
    pool.shutdown(wait=False)  # (the thread ends with its one task)
    try:
        mine = []
        for i, block in enumerate(blocks):
            row = connection.exec_driver_sql(select + block).one() if i % 2 == 0 else handed.get()
            if row is None:  # (the thread failed: its error is raised below)
                break
            mine.append(_joined_block(row, spec, "postgresql"))
    finally:  # the thread's connection is back in the pool before anything is raised
        while not beside.done():
            try:
                handed.get(timeout=0.1)  # (unblock a thread left waiting to hand over a block)
            except queue.Empty:
                pass
        beside.result()
    return _of_blocks(mine)


def _exported_snapshot(connection: Connection) -> str | None:
    """This transaction's snapshot exported for another connection (`pg_export_snapshot`), or None
    unless the transaction keeps one snapshot for every statement (REPEATABLE READ, as
    `load_evidence` reads) on a server that is not a standby in recovery."""
    isolation, recovering = connection.exec_driver_sql(
        "SELECT current_setting('transaction_isolation'), pg_is_in_recovery()").one()
    if isolation != "repeatable read" or recovering:
        return None
    return connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar()


def _fetch_in_snapshot(engine: Engine, snapshot: str, select: str, blocks: list, handed: queue.Queue) -> None:
    """Each block's joined row (`select` and the block's condition) put in `handed`, in order, on a
    connection of its own that sees the store as `snapshot` does; None put last if it fails."""
    try:
        with engine.connect() as connection, connection.begin():
            connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            connection.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
            for block in blocks:
                handed.put(connection.exec_driver_sql(select + block).one())
    except BaseException:
        handed.put(None)
        raise


def _joined_block(row, spec: list, backend: str) -> pd.DataFrame | None:
    """A block's joined row (its count, then each column of `spec` joined as `_JOINED[backend]`
    says) split into a frame in the types the plain query gives; None where some value does not
    fit that form."""
    count = row[0]
    if not count:
        return pd.DataFrame()
    data = {}
    epoch_times = backend == "postgresql"  # (SQLite's times are SQLAlchemy's texts)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy warns (rather than fails) on text it cannot read
        for (name, _column, kind), joined in zip(spec, row[1:]):
            try:
                values = _split(joined, "int" if kind == "time" and epoch_times else kind, count)
            except (ValueError, TypeError, UnicodeError, DeprecationWarning):
                values = None
            if values is None or len(values) != count:
                return None
            data[name] = values
    frame = pd.DataFrame(data)
    for (name, _column, kind), joined in zip(spec, row[1:]):
        if kind == "time" and epoch_times:
            frame[name] = pd.to_datetime(frame[name], unit="us", utc=True).astype(_plain_time_dtype())
        elif kind == "time":
            # the dtype (unit, zone) the plain path's parse gives these texts, from the first one
            frame[name] = frame[name].dt.tz_localize("UTC").astype(_times(pd.Series([joined[:_TIME]])).dtype)
    return frame


def _of_blocks(blocks) -> pd.DataFrame | None:
    """The frames of a table's blocks (`_joined_block`, read as they are asked for) as one; None
    at the first block that does not fit, or when no block has a row."""
    frames = []
    for frame in blocks:
        if frame is None:
            return None
        if len(frame):
            frames.append(frame)
    if not frames:
        return None
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


class _CopyStream(io.RawIOBase):
    """The blocks of a psycopg `COPY ... TO STDOUT` as a binary file, read as they arrive."""

    def __init__(self, copy) -> None:
        self._blocks = iter(copy)
        self._block, self._at = memoryview(b""), 0

    def readable(self) -> bool:
        """A stream to read (`io.RawIOBase`)."""
        return True

    def readinto(self, buffer) -> int:
        """Fill `buffer` from the current block (the next one once it is used up); 0 at the end."""
        while self._at >= len(self._block):
            block = next(self._blocks, None)
            if block is None:
                return 0
            self._block, self._at = memoryview(block).cast("B"), 0
        n = min(len(buffer), len(self._block) - self._at)
        buffer[:n] = self._block[self._at:self._at + n]
        self._at += n
        return n


def _copied_types(frame: pd.DataFrame, spec: list, types: dict) -> pd.DataFrame:
    """A block of a COPY's rows in the types the plain query gives (NULL flags applied, times parsed)."""
    for name, _column, kind in spec:
        if f"{name} is null" in frame:
            frame.loc[frame.pop(f"{name} is null") == "t", name] = np.nan
        if kind == "time":
            times = (pd.to_datetime(frame[name], unit="us", utc=True) if types[name] == "int64"
                     else _times(frame[name]))
            frame[name] = times.astype(_plain_time_dtype())
    return frame


@functools.cache
def _plain_time_dtype():
    """The dtype the plain query's times get (the driver's datetimes, parsed by `_times`)."""
    return _times(pd.DataFrame.from_records([(datetime(2000, 1, 1),)], columns=["t"])["t"]).dtype


def _times(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, utc=True, format="ISO8601")


def _rowid_range(name: str) -> str:
    """The SQL of a SQLite table's lowest and highest rowid: two subqueries, as SQLite looks a lone
    min() or max() of the rowid up in the b-tree but scans the whole table for both in one select
    (0.06 s for a million reports, before the read itself)."""
    return f"SELECT (SELECT min(rowid) FROM {name}), (SELECT max(rowid) FROM {name})"


def _fast_sqlite_frame(connection: Connection, table, spec: list, where: str) -> pd.DataFrame | None:
    """The table in blocks of rowids, each as one row of joined columns (see module doc), or None
    when some value does not fit that form."""
    low, high = connection.exec_driver_sql(_rowid_range(table.__tablename__)).fetchone()
    if low is None:
        return None
    # NOT INDEXED: a plain scan of the table's rowid range, in rowid order, as the plain query's
    select = f"SELECT {', '.join(_joined_parts(spec, 'sqlite'))} FROM {table.__tablename__} NOT INDEXED WHERE "
    return _of_blocks(_fast_sqlite_block(connection, select + f"rowid BETWEEN {start} AND {start + CHUNK_ROWS - 1} "
                                         f"AND ({where})", spec) for start in range(low, high + 1, CHUNK_ROWS))


def _fast_sqlite_block(connection: Connection, sql: str, spec: list) -> pd.DataFrame | None:
    """The rows `sql` joins (`_joined_parts`) split into a frame; None when some value does not fit."""
    try:
        row = connection.exec_driver_sql(sql).fetchone()
    except DBAPIError:  # e.g. a BLOB where text belongs, which JSON cannot hold
        return None
    return _joined_block(row, spec, "sqlite")


# how each kind of column is joined into one text per block of rows ({c}: the column; a stance is
# one digit per row, and another value is NULL, which leaves a row out): numbers and times by
# commas, texts as a JSON array. PostgreSQL sends a time as whole microseconds since the epoch
# (exact: it keeps microseconds, and `extract` gives a numeric from version 14)
_STANCE_DIGITS = " ".join(f"WHEN '{s}' THEN '{i}'" for i, s in enumerate(_STANCES))
_JOINED = {
    "sqlite": {"int": "group_concat({c})", "via": "group_concat(ifnull({c}, -1))",
               "stance": f"group_concat(CASE {{c}} {_STANCE_DIGITS} END, '')", "time": "group_concat({c}, ',')",
               "text": "json_group_array({c})"},
    "postgresql": {"int": "string_agg({c}::text, ',')", "via": "string_agg(coalesce({c}, -1)::text, ',')",
                   "stance": f"string_agg(CASE {{c}} {_STANCE_DIGITS} END, '')",
                   "time": "string_agg(((extract(epoch FROM {c}) * 1000000)::bigint)::text, ',')",
                   "text": "json_agg({c})::text"},
}


def _joined_parts(spec: list, backend: str) -> list[str]:
    """The select list that gives a block's row count, then each column of `spec` joined (`_JOINED`)."""
    return ["count(*)"] + [_JOINED[backend][kind].format(c=column.expression.name) for _name, column, kind in spec]


def _split(text: str, kind: str, count: int):
    """One column's values from its joined text (None when the text is not as expected)."""
    if kind in ("int", "via"):
        return np.fromstring(text, dtype=np.int64, sep=",")
    if kind == "stance":
        codes = np.frombuffer(text.encode("ascii"), dtype=np.uint8) - ord("0")
        # taken from the three texts as a column of them is inferred (pandas' string dtype, or
        # objects): not a million strings converted one by one
        return pd.Series(list(_STANCES)).array.take(codes.astype(np.intp)) if len(codes) == count else None
    if kind == "time":
        # fixed-width texts, each followed by a comma: misplaced commas mean another length
        cells = np.frombuffer((text + ",").encode("ascii"), dtype=np.uint8)
        if len(cells) != count * (_TIME + 1):
            return None
        cells = cells.reshape(count, _TIME + 1)
        if not (cells[:, _TIME] == ord(",")).all():
            return None
        stamps = np.ascontiguousarray(cells[:, :_TIME]).view(f"S{_TIME}").ravel().astype("datetime64[us]")
        return None if np.isnat(stamps).any() else stamps
    return np.array(json.loads(text), dtype=object)


def _retracted(connection: Connection) -> set:
    """What kinds of row ("claim", "report") some retraction holds in the store: every kind but on
    SQLite, where the partial indexes of retracted rows tell at once."""
    if connection.dialect.name != "sqlite":
        return set(_RETRACTABLE)
    found = connection.exec_driver_sql(" UNION ALL ".join(
        f"SELECT '{table}' WHERE EXISTS (SELECT 1 FROM {table} WHERE retracted_at IS NOT NULL)"
        for table in _RETRACTABLE)).all()
    return {kind for (kind,) in found}


def _where(what: str, retracted: set) -> str:
    """The conditions of `_CONDITIONS` that can rule out a row of `what`, given what is retracted."""
    return " AND ".join(condition for condition, rules_out in _CONDITIONS[what]
                        if rules_out is None or rules_out in retracted) or "1 = 1"


def _read(connection: Connection, what: str, texts: bool = True, retracted: set = frozenset(_RETRACTABLE)) -> pd.DataFrame:
    table, spec = _TABLES[what]
    if not texts:
        spec = [column for column in spec if column[0] not in _TEXTS.get(what, ())]
    return _table_frame(connection, table, spec, _where(what, retracted))


def _table_frame(connection: Connection, table, spec: list, where: str) -> pd.DataFrame:
    """The columns of `spec` of the rows `where` picks: by the backend's fast path where it
    applies, else by the plain query."""
    frame = None
    if connection.dialect.name == "sqlite":
        frame = _fast_sqlite_frame(connection, table, spec, where)
    elif connection.dialect.name == "postgresql":
        frame = _joined_postgres_frame(connection, table, spec, where)
        if frame is None:
            frame = _copy_postgres_frame(connection, table, spec, where)
    if frame is None:
        frame = _frame(connection, [column for _n, column, _k in spec], [name for name, _c, _k in spec], where)
        for name, _column, kind in spec:
            if kind == "time":
                frame[name] = _times(frame[name])
            elif kind == "via":
                frame[name] = frame[name].fillna(-1).astype("int64")
    return frame


def _open_claims_texts(connection: Connection, claims: pd.DataFrame, retracted: set) -> pd.DataFrame:
    """`claims` (read without texts) with the refs and statements of the claims that have no
    verdict, read alone; missing for the others."""
    table, spec = _TABLES["claims"]
    spec = [column for column in spec if column[0] == "id" or column[0] in _TEXTS["claims"]]
    where = f"{_where('claims', retracted)} AND {_WITHOUT_VERDICT}"
    texts = _table_frame(connection, table, spec, where).set_index("id").reindex(claims["id"].to_numpy())
    columns = {"id": claims["id"]}
    for name, _column, _kind in _TABLES["claims"][1]:
        if name != "id":
            columns[name] = claims[name] if name in claims else texts[name].array
    return pd.DataFrame(columns)


def load_evidence(engine: Engine, claim_texts: bool | str = True, topics: bool = True) -> Evidence:
    """Read every source, claim, report, verdict and topic from the store; without the claims' refs
    and statements unless `claim_texts` (`"open"`: only those of the claims without a verdict,
    the ones `predict` shows; the others' are missing), and with no topic rows unless `topics`
    (the source scores of the whole store need neither)."""
    wanted = [what for what in _TABLES if topics or what != "topics"]
    with engine.connect() as connection, connection.begin():  # one read transaction: the frames agree
        if connection.dialect.name == "postgresql":
            # one snapshot for every statement (READ COMMITTED, the default, takes one per statement:
            # a claim and its reports written between two reads would be half seen)
            connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        retracted = _retracted(connection)
        frames = {what: _read(connection, what, claim_texts is True, retracted) for what in wanted}
        if claim_texts == "open":
            frames["claims"] = _open_claims_texts(connection, frames["claims"], retracted)
    if not topics:
        frames["topics"] = pd.DataFrame({"claim_id": pd.Series(dtype="int64"), "topic": pd.Series(dtype="str")})
    return Evidence(frames["sources"].set_index("id"), frames["claims"].set_index("id"), frames["reports"],
                    frames["outcomes"], frames["topics"])
