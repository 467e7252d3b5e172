"""Where the ledger lives: the database URL, the engine, SQLite's settings and the migrations.

The default store is `sqlite:///db/tracker.db`, relative to the working directory, created on
first use. `TRACKER_DATABASE_URL` (or the CLI's `--db`) points anywhere SQLAlchemy can, such as
`postgresql+psycopg://user@host/tracker`. SQLite runs with foreign keys on, write-ahead logging
and a busy timeout so that readers never block the writer and writers wait rather than fail.
Schema changes go through Alembic (`tracker/migrations`); `upgrade` brings any store to the
current schema without touching its data. `backup` and `restore` copy SQLite stores with SQLite's
online backup API.
"""

from __future__ import annotations

import functools
import os
import re
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import Engine

# SQLAlchemy loads when an engine is made and Alembic only when a store needs upgrading, so that
# the command line's help and options (which read DEFAULT_URL and URL_ENV) start fast
MIGRATIONS = Path(__file__).parent / "migrations" / "versions"

DEFAULT_URL = "sqlite:///db/tracker.db"
URL_ENV = "TRACKER_DATABASE_URL"
BUSY_TIMEOUT_MS = 30_000
WRITE_OPTION = "tracker_write"


def database_url(explicit: str | None = None) -> str:
    """The store URL: an explicit one, else `TRACKER_DATABASE_URL`, else the SQLite default."""
    url = explicit or os.environ.get(URL_ENV) or DEFAULT_URL
    if "://" not in url:  # a bare path is taken as a SQLite file
        url = f"sqlite:///{url}"
    return url


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # 64 MiB of page cache (the default is 2 MiB): bulk imports and scoring touch large indexes
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


def _no_implicit_begin(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None


def _explicit_begin(connection) -> None:
    immediate = connection.get_execution_options().get(WRITE_OPTION)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str | None = None) -> Engine:
    """An engine for the store at `url` (see `database_url`), creating a SQLite file's folder."""
    from sqlalchemy import create_engine, event
    from sqlalchemy.engine import make_url

    url = database_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_pragmas)
        # Take over pysqlite's transaction handling (SQLAlchemy's documented recipe) so that a
        # write transaction can take SQLite's write lock up front with BEGIN IMMEDIATE: two
        # concurrent read-then-write transactions then queue on the busy timeout instead of
        # failing with "database is locked" when the second one tries to upgrade its lock.
        event.listen(engine, "connect", _no_implicit_begin)
        event.listen(engine, "begin", _explicit_begin)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _alembic_config(connection) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "tracker:migrations")
    config.attributes["connection"] = connection
    return config


@functools.cache
def head_revision() -> str:
    """The newest schema revision this release knows: the one no migration file revises.

    Read from the files' `revision` and `down_revision` lines rather than through Alembic, whose
    import costs a third of a second on every command (a test pins it to Alembic's own answer).
    """
    revisions, revised = set(), set()
    for path in MIGRATIONS.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        for name, value in re.findall(r"^(revision|down_revision)\s*=(.*)$", text, re.MULTILINE):
            (revisions if name == "revision" else revised).update(re.findall(r"""["']([^"']+)["']""", value))
    (head,) = revisions - revised
    return head


def current_revision(engine: Engine) -> str | None:
    """The schema revision the store is at (None for an empty database), by one plain query."""
    from sqlalchemy import inspect, text

    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the store's schema to `revision` (default: the newest), keeping its data."""
    from alembic import command

    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), revision)


def ensure_schema(engine: Engine) -> None:
    """Upgrade the store if it is behind this release; a no-op when it is current."""
    if current_revision(engine) != head_revision():
        upgrade(engine)


def for_writing(engine: Engine) -> Engine:
    """The same engine, marked so that its transactions take the write lock when they begin."""
    return engine.execution_options(**{WRITE_OPTION: True})


def _sqlite_path(engine: Engine) -> str:
    url = engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise BackupError(
            f"backup and restore here copy SQLite files; for {url.get_backend_name()} use its own tools "
            "(PostgreSQL: `pg_dump --format=custom DBNAME > tracker.dump`, then `pg_restore --clean -d DBNAME "
            "tracker.dump`)"
        )
    return url.database


class BackupError(Exception):
    """A backup or restore that cannot be done, with what to do instead."""


def backup(engine: Engine, target: str | Path) -> Path:
    """Copy the SQLite store to `target` consistently, even while others read and write it."""
    source_path = _sqlite_path(engine)
    target = Path(target)
    if target.resolve() == Path(source_path).resolve():
        raise BackupError("the backup file is the store itself; name another file")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    with sqlite3.connect(source_path, timeout=BUSY_TIMEOUT_MS / 1000) as source, sqlite3.connect(partial) as copy:
        source.backup(copy)  # SQLite's online backup API: a consistent snapshot
    partial.replace(target)  # only a finished copy takes the name
    return target


def restore(engine: Engine, backup_file: str | Path) -> str | None:
    """Replace the SQLite store's contents with a backup made by `backup`; returns its schema revision.

    The backup is checked first (it must be a tracker store), copied in with SQLite's backup API,
    then upgraded to this release's schema if it came from an older one.
    """
    target_path = _sqlite_path(engine)
    backup_file = Path(backup_file)
    if not backup_file.is_file():
        raise BackupError(f"{str(backup_file)!r} does not exist; check the path")
    try:
        with sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True) as probe:
            tables = {row[0] for row in probe.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{str(backup_file)!r} is not a SQLite database ({exc})") from exc
    if not {"alembic_version", "claim", "report", "source"} <= tables:
        raise BackupError(f"{str(backup_file)!r} is not a tracker store (no claim, report and source tables)")
    engine.dispose()  # no pooled connection may hold the old pages
    with sqlite3.connect(backup_file) as source, sqlite3.connect(target_path, timeout=BUSY_TIMEOUT_MS / 1000) as target:
        source.backup(target)
    ensure_schema(engine)
    return current_revision(engine)
