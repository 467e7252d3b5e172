"""Where the ledger lives: the database URL, the engine, SQLite's settings and the migrations.

The default store is `sqlite:///db/tracker.db`, relative to the working directory, created on
first use. `TRACKER_DATABASE_URL` (or the CLI's `--db`) points anywhere SQLAlchemy can, such as
`postgresql+psycopg://user@host/tracker`. SQLite runs with foreign keys on, write-ahead logging
and a busy timeout so that readers never block the writer and writers wait rather than fail.
Schema changes go through Alembic (`tracker/migrations`); `upgrade` brings any store to the
current schema without touching its data; two processes opening an old store at once take turns
(SQLite's write lock, PostgreSQL's advisory lock), so the second finds the work done. `backup` and
`restore` copy SQLite stores with SQLite's online backup API; a restore checks the backup first
(`PRAGMA integrity_check`, a tracker schema, a revision this release knows) and keeps a safety copy
of the store it replaces. A store URL is only ever printed through `display_url`, which masks its
password.
"""

from __future__ import annotations

import functools
import os
import re
import sqlite3
import tempfile
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from tracker.errors import LedgerError

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
WAIT_OPTION = "tracker_wait_ms"  # a shorter busy timeout for one transaction (sign-in fails fast)
UPGRADE_LOCK = 0x7472_6163  # PostgreSQL advisory lock key taken while the schema is upgraded
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")
# ids bound into one `IN (...)` at most: SQLite refuses more variables than its limit (32,766 or
# 250,000 depending on the build) and PostgreSQL's protocol more than 65,535 parameters
MAX_BOUND_IDS = 5_000


class StoreError(LedgerError):
    """A store URL that cannot be used, or a store that is not there: what was wrong and what to do."""


class BackupError(StoreError):
    """A backup or restore that cannot be done, with what to do instead."""


def database_url(explicit: str | None = None) -> str:
    """The store URL: an explicit one, else `TRACKER_DATABASE_URL`, else the SQLite default."""
    url = explicit or os.environ.get(URL_ENV) or DEFAULT_URL
    if "://" not in url:  # a bare path is taken as a SQLite file
        url = f"sqlite:///{url}"
    return url


def display_url(url: str | None) -> str:
    """The store URL as the tool prints it: any password replaced by ***."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    url = database_url(url)
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", url)


def mask_secrets(message: str, url: str | None) -> str:
    """`message` with the store URL's password (if any) replaced by ***, wherever it appears."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        password = make_url(database_url(url)).password
    except ArgumentError:
        password = None
    return message.replace(str(password), "***") if password else message


def sqlite_file(url: str | None) -> Path | None:
    """The SQLite file a URL names (None for another backend, or for an in-memory database)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(database_url(url))
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).expanduser()


def require_existing(url: str | None) -> None:
    """Refuse (StoreError) a SQLite URL whose file does not exist: reading never creates a store."""
    path = sqlite_file(url)
    if path is not None and not path.is_file():
        raise StoreError(f"there is no store at {path}: check --db / {URL_ENV} (`tracker init` creates a new one)")


def id_chunks(ids: list[int], size: int | None = None) -> list[list[int]]:
    """`ids` in slices small enough to bind into one `IN (...)` on any backend (MAX_BOUND_IDS each)."""
    size = size or MAX_BOUND_IDS
    return [ids[start:start + size] for start in range(0, len(ids), size)]


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
    options = connection.get_execution_options()
    # every transaction states its wait: a pooled connection must not keep another's shorter one
    connection.exec_driver_sql(f"PRAGMA busy_timeout={int(options.get(WAIT_OPTION, BUSY_TIMEOUT_MS))}")
    connection.exec_driver_sql("BEGIN IMMEDIATE" if options.get(WRITE_OPTION) else "BEGIN")


def make_engine(url: str | None = None) -> Engine:
    """An engine for the store at `url` (see `database_url`), creating a SQLite file's folder."""
    from sqlalchemy import create_engine, event
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    url = database_url(url)
    try:
        parsed = make_url(url)
        backend = parsed.get_backend_name()
    except ArgumentError as exc:
        raise StoreError(f"{display_url(url)!r} is not a store URL; give a SQLite path or a URL such as "
                         "postgresql+psycopg://user@host/tracker") from exc
    if backend == "sqlite":
        path = sqlite_file(url)
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create the folder for the store {path}: {exc.strerror}; "
                                 "choose a folder you can write to") from exc
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_pragmas)
        # Take over pysqlite's transaction handling (SQLAlchemy's documented recipe) so that a
        # write transaction can take SQLite's write lock up front with BEGIN IMMEDIATE: two
        # concurrent read-then-write transactions then queue on the busy timeout instead of
        # failing with "database is locked" when the second one tries to upgrade its lock.
        event.listen(engine, "connect", _no_implicit_begin)
        event.listen(engine, "begin", _explicit_begin)
        return engine
    if backend != "postgresql":
        raise StoreError(f"{display_url(url)!r}: the tracker keeps its store in SQLite or PostgreSQL, not {backend}; "
                         "give a SQLite path or a postgresql+psycopg:// URL")
    try:
        return create_engine(url, pool_pre_ping=True)
    except (ArgumentError, ImportError) as exc:
        raise StoreError(f"{display_url(url)!r} cannot be used: {exc}; use a postgresql+psycopg:// URL") from exc


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


def known_revisions() -> set[str]:
    """Every schema revision this release knows (a store at another one is from a newer release)."""
    from alembic.script import ScriptDirectory

    return {script.revision for script in ScriptDirectory.from_config(_alembic_config(None)).walk_revisions()}


def upgrade(engine: Engine, revision: str = "head", *, migrate_new: bool = False) -> None:
    """Bring the store's schema to `revision` (default: the newest), keeping its data.

    A database with no tables at all, brought to the newest schema, is built at it directly
    (`_create_at_head`: the models' tables, then stamped) rather than through every migration;
    `migrate_new` walks the migrations even then (the tests compare the two schemas).
    Upgrades take turns: SQLite's write lock is taken before Alembic reads the store's revision
    (BEGIN IMMEDIATE waits on the busy timeout), PostgreSQL's advisory lock likewise; a process
    that waited finds the store current and has nothing left to do.
    """
    from sqlalchemy import inspect, text

    with for_writing(engine).begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": UPGRADE_LOCK})
        if revision in ("head", head_revision()) and not migrate_new and not inspect(connection).get_table_names():
            _create_at_head(connection)
            return
        from alembic import command

        command.upgrade(_alembic_config(connection), revision)


def _create_at_head(connection) -> None:
    """A new store's tables made from the models, with the rows the migrations seed, stamped at the
    newest revision: the same schema the migrations build (tests compare them on both backends),
    without Alembic's import and nine migrations (0.2-0.3 s of CPU on every new store)."""
    from sqlalchemy import text
    from sqlmodel import SQLModel

    from tracker import pairs
    from tracker.models import StoreRevision

    SQLModel.metadata.create_all(connection)
    pairs.start(connection)  # the triggers and state row that keep stance_pair, as migration 0009 makes them
    connection.execute(StoreRevision.__table__.insert().values(id=1, revision=0))  # as migration 0004 seeds it
    # Alembic's own version table, as `alembic stamp head` creates it
    connection.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
                            "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"))
    connection.execute(text("INSERT INTO alembic_version (version_num) VALUES (:head)"), {"head": head_revision()})


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


def _copy(source_path: str | Path, target_path: str | Path, *, source_uri: bool = False) -> None:
    """Copy one SQLite database into another with the online backup API (a consistent snapshot)."""
    with closing(sqlite3.connect(source_path, timeout=BUSY_TIMEOUT_MS / 1000, uri=source_uri)) as source, \
            closing(sqlite3.connect(target_path, timeout=BUSY_TIMEOUT_MS / 1000)) as target:
        source.backup(target)


def backup(engine: Engine, target: str | Path) -> Path:
    """Copy the SQLite store to `target` consistently, even while others read and write it."""
    source_path = Path(_sqlite_path(engine))
    target = Path(target)
    resolved, store_file = target.resolve(), source_path.resolve()
    if resolved == store_file:
        raise BackupError("the backup file is the store itself; name another file")
    if resolved in {store_file.with_name(store_file.name + suffix) for suffix in SQLITE_COMPANIONS}:
        raise BackupError(f"{target} is one of SQLite's working files of the store (its -wal, -shm or -journal), "
                          "which hold committed changes; name another file for the backup")
    partial = target.with_name(target.name + ".partial")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _copy(source_path, partial)
        partial.replace(target)  # only a finished copy takes the name
    except (OSError, sqlite3.Error) as exc:
        if partial.parent.is_dir():
            partial.unlink(missing_ok=True)
        reason = getattr(exc, "strerror", None) or str(exc)
        raise BackupError(f"cannot write the backup to {target}: {reason}; choose a folder you can write to") from exc
    return target


@dataclass(frozen=True)
class Restored:
    """What a restore did: the schema revision the store is now at, and where the replaced store was kept."""

    revision: str | None
    safety_copy: Path | None


def _schema(path: str | Path) -> dict[str, set[str]]:
    """Each table of a SQLite file with its column names (SQLite's own tables left out)."""
    with closing(sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True)) as db:
        tables = [row[0] for row in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        return {table: {row[1] for row in db.execute(f'PRAGMA table_info("{table}")')} for table in tables}


def _expected_schema(revision: str) -> dict[str, set[str]]:
    """The tables and columns a tracker store at `revision` has: a scratch store migrated to it."""
    with tempfile.TemporaryDirectory() as folder:
        scratch = make_engine(f"sqlite:///{Path(folder) / 'scratch.db'}")
        try:
            upgrade(scratch, revision)
        finally:
            scratch.dispose()
        return _schema(Path(folder) / "scratch.db")


def check_backup(path: str | Path) -> str:
    """The schema revision of a backup that is a sound tracker store this release can read; else BackupError."""
    name = repr(str(path))
    try:
        with closing(sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True)) as db:
            problems = [row[0] for row in db.execute("PRAGMA integrity_check")]
            if problems != ["ok"]:
                raise BackupError(f"{name} is damaged (SQLite's integrity check: {'; '.join(problems[:3])}); "
                                  "the store was left as it was. Restore an older backup")
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            rows = db.execute("SELECT version_num FROM alembic_version").fetchall() if "alembic_version" in tables else []
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{name} is not a SQLite database, or a damaged one ({exc}); the store was left as it was") from exc
    if len(rows) != 1:
        raise BackupError(f"{name} is not a tracker store (it has no schema revision); the store was left as it was")
    revision = rows[0][0]
    if revision not in known_revisions():
        raise BackupError(f"{name} comes from a newer release of the tracker (schema {revision}; this one knows up to "
                          f"{head_revision()}); the store was left as it was. Upgrade the tracker, then restore")
    if _schema(path) != _expected_schema(revision):
        raise BackupError(f"{name} is not a tracker store: its tables and columns are not those of schema {revision}; "
                          "the store was left as it was")
    return revision


def safety_copy_path(store_path: str | Path, now: datetime | None = None) -> Path:
    """Where a restore keeps the store it replaces: beside it, named for the time of the restore."""
    store_path = Path(store_path)
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    suffix = store_path.suffix or ".db"
    path, n = store_path.with_name(f"{store_path.stem}.before-restore-{stamp}{suffix}"), 1
    while path.exists():  # two restores within a second
        n += 1
        path = store_path.with_name(f"{store_path.stem}.before-restore-{stamp}-{n}{suffix}")
    return path


def restore(engine: Engine, backup_file: str | Path) -> Restored:
    """Replace the SQLite store's contents with a backup made by `backup`, keeping a safety copy.

    The backup is copied to a scratch file beside the store and checked there (`check_backup`:
    SQLite's integrity check, a tracker schema, a revision this release knows); a refused backup
    leaves the store untouched. The store being replaced is first backed up (`safety_copy_path`),
    then the checked copy goes in with SQLite's backup API and is upgraded if it came from an
    older release.
    """
    target_path = Path(_sqlite_path(engine))
    backup_file = Path(backup_file)
    if not backup_file.is_file():
        raise BackupError(f"{str(backup_file)!r} does not exist; check the path")
    target_path.parent.mkdir(parents=True, exist_ok=True)
    scratch = target_path.with_name(target_path.name + ".restoring")
    try:
        try:
            _copy(f"file:{backup_file.resolve()}?mode=ro", scratch, source_uri=True)
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{str(backup_file)!r} is not a SQLite database, or a damaged one ({exc}); "
                              "the store was left as it was") from exc
        check_backup(scratch)
        engine.dispose()  # no pooled connection may hold the old pages
        safety = None
        if target_path.is_file() and target_path.stat().st_size > 0:
            safety = backup(engine, safety_copy_path(target_path))
        _copy(scratch, target_path)
    finally:
        for suffix in ("", *SQLITE_COMPANIONS):
            Path(str(scratch) + suffix).unlink(missing_ok=True)
    ensure_schema(engine)
    return Restored(current_revision(engine), safety)
