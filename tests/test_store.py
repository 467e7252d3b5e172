"""tracker.store: the database URL, SQLite's settings and the Alembic migrations."""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel

from tests.conftest import FIXTURES, NOW
from tracker import store
from tracker.errors import DuplicateError
from tracker.ledger import Ledger
from tracker.models import ClaimStatus

LEDGER_TABLES = {"source", "source_alias", "claim", "claim_topic", "report", "outcome"}
SCHEMA_0001 = FIXTURES / "schema_0001.sql"
UTC = UTC


def utc(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=UTC)


@pytest.fixture
def engine(db_path):
    made = store.make_engine(str(db_path))
    yield made
    made.dispose()


def schema_of(engine) -> set[tuple[str, str, str]]:
    """(type, name, normalised SQL) of every table and index in the database."""
    with engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT type, name, sql FROM sqlite_master").fetchall()
    return {(kind, name, re.sub(r"\s+", " ", sql or "")) for kind, name, sql in rows}


def table_rows(engine, table: str) -> list[tuple]:
    with engine.connect() as connection:
        return [tuple(r) for r in connection.exec_driver_sql(f"SELECT * FROM {table} ORDER BY 1, 2")]


def columns(engine, table: str) -> list[str]:
    return [c["name"] for c in inspect(engine).get_columns(table)]


def downgrade(engine, revision: str) -> None:
    with engine.connect() as connection:
        # batch mode rebuilds tables others reference: foreign keys off, outside any transaction
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                command.downgrade(store._alembic_config(connection), revision)
        finally:
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")


def load_0001_fixture(path: Path) -> None:
    load_sql(path, SCHEMA_0001)


# -- URL and engine --------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("explicit", "env", "expected"),
    [
        ("sqlite:///explicit.db", "sqlite:///env.db", "sqlite:///explicit.db"),
        (None, "sqlite:///env.db", "sqlite:///env.db"),
        ("", "sqlite:///env.db", "sqlite:///env.db"),
        (None, None, "sqlite:///db/tracker.db"),
        (None, "", "sqlite:///db/tracker.db"),
        ("data/ledger.db", "sqlite:///env.db", "sqlite:///data/ledger.db"),
        (None, "/srv/tracker/ledger.db", "sqlite:////srv/tracker/ledger.db"),
        ("postgresql+psycopg://analyst@db.example/tracker", None, "postgresql+psycopg://analyst@db.example/tracker"),
    ],
)
def test_database_url_precedence_explicit_then_env_then_default(monkeypatch, explicit, env, expected):
    if env is not None:
        monkeypatch.setenv("TRACKER_DATABASE_URL", env)
    assert store.database_url(explicit) == expected


def test_default_url_is_relative_to_working_directory():
    assert store.database_url() == store.DEFAULT_URL == "sqlite:///db/tracker.db"


def test_make_engine_creates_sqlite_folder(tmp_path):
    path = tmp_path / "deep" / "er" / "tracker.db"
    engine = store.make_engine(str(path))
    try:
        assert path.parent.is_dir()
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
        assert path.exists()
    finally:
        engine.dispose()


def test_make_engine_without_url_uses_default_file_in_working_directory(tmp_path):
    engine = store.make_engine()
    try:
        assert (tmp_path / "db").is_dir()
        assert engine.url.database == "db/tracker.db"
    finally:
        engine.dispose()


def test_make_engine_follows_env_url(monkeypatch, tmp_path):
    monkeypatch.setenv("TRACKER_DATABASE_URL", str(tmp_path / "from-env" / "t.db"))
    engine = store.make_engine()
    try:
        assert (tmp_path / "from-env").is_dir()
        assert Path(engine.url.database) == tmp_path / "from-env" / "t.db"
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("pragma", "check"),
    [
        ("foreign_keys", lambda v: v == 1),
        ("journal_mode", lambda v: v == "wal"),
        ("busy_timeout", lambda v: v > 0),
        ("synchronous", lambda v: v == 1),  # NORMAL
    ],
)
def test_sqlite_pragmas_in_force_on_every_connection(engine, pragma, check):
    for _ in range(2):  # the pooled connection and a fresh one
        with engine.connect() as connection:
            assert check(connection.exec_driver_sql(f"PRAGMA {pragma}").scalar())
        engine.dispose()


def test_write_transactions_take_the_write_lock_up_front(engine):
    store.upgrade(engine)
    with store.for_writing(engine).begin() as writer:
        writer.exec_driver_sql("SELECT count(*) FROM source").scalar()
        # BEGIN IMMEDIATE holds the RESERVED lock already: another writer cannot start
        other = sqlite3.connect(engine.url.database, timeout=0, isolation_level=None)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        finally:
            other.close()


# -- migrations ------------------------------------------------------------------------------

def test_empty_database_has_no_revision(engine):
    assert store.current_revision(engine) is None


def test_upgrade_empty_database_to_head_creates_every_table(engine):
    store.upgrade(engine)
    assert LEDGER_TABLES <= set(inspect(engine).get_table_names())
    assert store.current_revision(engine) == store.head_revision() == "0010_claim_summary"
    assert "note" in columns(engine, "report")


def test_migrations_match_the_models(engine):
    store.upgrade(engine)
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), SQLModel.metadata) == []


def test_ensure_schema_twice_is_a_no_op(engine):
    store.ensure_schema(engine)
    schema = schema_of(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO source (name, name_key, kind, created_at) VALUES ('Kremlin', 'kremlin', 'government', '2016-12-13 00:00:00.000000')"
        )
    store.ensure_schema(engine)
    assert schema_of(engine) == schema
    assert store.current_revision(engine) == "0010_claim_summary"
    assert [row[1] for row in table_rows(engine, "source")] == ["Kremlin"]


def test_foreign_keys_are_enforced(engine):
    store.upgrade(engine)
    with pytest.raises(IntegrityError, match="FOREIGN KEY"):
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "INSERT INTO report (claim_id, source_id, stance, reported_at, logged_at) "
                "VALUES (999, 999, 'confirmed', '2016-12-13 00:00:00.000000', '2016-12-13 00:00:00.000000')"
            )
    assert table_rows(engine, "report") == []


def test_report_identity_is_unique_in_the_schema(engine):
    store.upgrade(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO source (id, name, name_key, kind, created_at) VALUES (1, 'K', 'k', 'other', '2016-12-13 00:00:00.000000')")
        connection.exec_driver_sql(
            "INSERT INTO claim (id, statement, first_reported_at, logged_at) VALUES (1, 'S', '2016-12-13 00:00:00.000000', '2016-12-13 00:00:00.000000')")
    insert = ("INSERT INTO report (claim_id, source_id, stance, reported_at, logged_at) "
              "VALUES (1, 1, 'confirmed', '2016-12-13 00:00:00.000000', '2016-12-13 00:00:00.000000')")
    with engine.begin() as connection:
        connection.exec_driver_sql(insert)
    with pytest.raises(IntegrityError, match="UNIQUE"):
        with engine.begin() as connection:
            connection.exec_driver_sql(insert)


# -- from the previous schema ----------------------------------------------------------------

def test_schema_0001_fixture_is_what_revision_0001_creates(tmp_path, engine):
    """Guards the fixture: its DDL must be exactly what migration 0001 makes."""
    store.upgrade(engine, "0001")
    fixture_path = tmp_path / "fixture.db"
    load_0001_fixture(fixture_path)
    fixture_engine = store.make_engine(str(fixture_path))
    try:
        assert schema_of(fixture_engine) == schema_of(engine)
        assert store.current_revision(fixture_engine) == "0001"
    finally:
        fixture_engine.dispose()


@pytest.fixture
def upgraded(db_path) -> Ledger:
    """A store written by release 0001, opened (and so upgraded) by this release."""
    load_0001_fixture(db_path)
    opened = Ledger.open(str(db_path), clock=lambda: NOW)
    yield opened
    opened.engine.dispose()


def test_opening_a_0001_store_upgrades_it_to_head(upgraded):
    assert store.current_revision(upgraded.engine) == store.head_revision() == "0010_claim_summary"
    with upgraded.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), SQLModel.metadata) == []
        assert connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
        assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"


def test_upgrade_keeps_every_row_of_a_0001_store(upgraded):
    assert upgraded.counts() == {"sources": 2, "claims": 2, "reports": 3, "outcomes": 1}
    assert [(s["name"], s["kind"], s["aliases"], s["parent"], s["reports"], s["claims"])
            for s in upgraded.list_sources()] == [
        ("Russian Foreign Ministry", "government", [], None, 1, 1),
        ("Sergei Lavrov", "official", ["Lavrov"], "Russian Foreign Ministry", 2, 2),
    ]
    ceasefire = upgraded.get_claim(1)
    assert ceasefire.claim.ref == "aleppo-04"
    assert ceasefire.claim.statement == "Russia has rejected a ceasefire in Aleppo and the fighting has resumed"
    assert ceasefire.claim.first_reported_at == utc(2016, 12, 14, 8, 0)
    assert ceasefire.claim.logged_by == "analyst"
    assert ceasefire.topics == ["aleppo", "ceasefire"]
    assert [(r.stance, r.reported_at, name, via, r.url) for r, name, via in ceasefire.reports] == [
        ("confirmed", utc(2016, 12, 14, 8, 0), "Sergei Lavrov", None, None),
        ("confirmed", utc(2016, 12, 14, 9, 30), "Russian Foreign Ministry", "Sergei Lavrov", "https://www.mid.ru/en/"),
    ]
    assert [(o.verdict, o.decided_at, o.reviewer) for o in ceasefire.outcomes] == [
        ("true", utc(2016, 12, 14, 18, 0), "reviewer"),
    ]
    assert ceasefire.status == ClaimStatus.confirmed
    soon = upgraded.get_claim(2)
    assert soon.claim.ref.startswith("c-")  # a claim logged without a ref is given one on upgrade
    refs = [r.ref for view in upgraded.claim_views() for r, _, _ in view.reports]
    assert len(set(refs)) == 3 and all(ref.startswith("r-") and len(ref) == 18 for ref in refs)
    assert soon.claim.expected_by == utc(2016, 12, 17, 8, 45)
    assert soon.reports[0][0].quote.startswith("Expects the situation")
    assert soon.outcome is None


def test_upgrade_adds_report_note_as_null_for_old_rows(upgraded):
    assert "note" in columns(upgraded.engine, "report")
    assert [r[0] for r in table_rows(upgraded.engine, "report")] == [1, 2, 3]
    with upgraded.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM report WHERE note IS NOT NULL").scalar() == 0
    assert all(r.note is None for view in upgraded.claim_views() for r, _, _ in view.reports)


def test_upgraded_0001_store_takes_new_writes(upgraded):
    report = upgraded.add_report(2, "lavrov", "denied", "2016-12-16T09:00Z", note="walked back after the suspension")
    upgraded.record_outcome(2, "false", "2016-12-17T23:00Z")
    claim = upgraded.log_claim("The evacuation of eastern Aleppo was completed on 22 December", topics="aleppo",
                               reports=[{"source": "Russian MFA", "stance": "confirmed", "reported_at": "2016-12-22T20:00Z"}])
    assert report.id == 4 and claim.id == 3
    assert upgraded.get_claim(2).reports[-1][0].note == "walked back after the suspension"
    assert upgraded.get_claim(2).status == ClaimStatus.denied
    assert upgraded.counts() == {"sources": 3, "claims": 3, "reports": 5, "outcomes": 2}
    with pytest.raises(DuplicateError, match="already used by the source .Sergei Lavrov."):
        upgraded.add_source("LAVROV")  # the old alias is still unique


def test_downgrade_and_upgrade_again_keeps_data(upgraded):
    engine = upgraded.engine
    before = {table: table_rows(engine, table) for table in LEDGER_TABLES}
    downgrade(engine, "0001")
    assert store.current_revision(engine) == "0001"
    assert "note" not in columns(engine, "report")
    store.upgrade(engine)
    assert store.current_revision(engine) == "0010_claim_summary"
    after = {table: table_rows(engine, table) for table in LEDGER_TABLES}
    # report refs (from 0006) went with the downgrade: the upgrade gives new ones
    ref = columns(engine, "report").index("ref")
    assert {r[ref] for r in after["report"]}.isdisjoint({r[ref] for r in before["report"]})
    after["report"] = [r[:ref] + r[ref + 1:] for r in after["report"]]
    before["report"] = [r[:ref] + r[ref + 1:] for r in before["report"]]
    assert after == before
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), SQLModel.metadata) == []
        assert connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []


def test_downgrade_from_head_drops_only_the_notes_themselves(ledger):
    claim = ledger.log_claim("A claim", reports=[
        {"source": "Kremlin", "stance": "rumoured", "reported_at": "2016-12-13T12:00Z", "note": "to be lost"},
    ])
    downgrade(ledger.engine, "0001")
    store.upgrade(ledger.engine)
    view = ledger.get_claim(claim.id)
    assert [(r.stance, name, r.note) for r, name, _ in view.reports] == [("rumoured", "Kremlin", None)]
    assert ledger.counts() == {"sources": 1, "claims": 1, "reports": 1, "outcomes": 0}


# -- from release 0004 (before accounts, history and row versions) ------------------------------
STORE_0004 = FIXTURES / "store_0004.sql"


def load_sql(path: Path, script: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path)
    try:
        connection.executescript(script.read_text(encoding="utf-8"))
    finally:
        connection.close()


def old_rows(path: Path) -> dict[str, list[tuple]]:
    """Every ledger row of a store, read with the columns release 0004 had."""
    connection = sqlite3.connect(path)
    try:
        return {table: connection.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
                for table in sorted(LEDGER_TABLES)}
    finally:
        connection.close()


def test_a_0004_store_with_data_upgrades_keeping_every_row(db_path):
    load_sql(db_path, STORE_0004)
    before = old_rows(db_path)
    width = {table: len(rows[0]) for table, rows in before.items()}
    upgraded = Ledger.open(str(db_path), clock=lambda: NOW)
    try:
        assert store.current_revision(upgraded.engine) == store.head_revision()
        after = {table: [row[:width[table]] for row in table_rows(upgraded.engine, table)] for table in before}
        assert after == before  # the old columns of every row, unchanged
        with upgraded.engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), SQLModel.metadata) == []
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
            assert connection.exec_driver_sql("SELECT DISTINCT version FROM claim").scalars().all() == [1]
            assert connection.exec_driver_sql("SELECT count(*) FROM audit_event").scalar() == 0
        assert upgraded.counts() == {"sources": 16, "claims": 13, "reports": 39, "outcomes": 12}
        assert upgraded.local_mode()  # no accounts yet: it opens as before
        three = upgraded.get_claim(3)
        assert [o.verdict for o in three.outcomes] == ["unverifiable", "false"]  # the revision kept
        assert ("ICRC", "confirmed") in {(name, r.stance) for r, name, _ in three.reports}
        icrc = next(s for s in upgraded.list_sources() if s["name"] == "ICRC")
        assert "Duplicate Desk" in icrc["aliases"]  # the 0004 merge's alias still resolves
        # and it takes the new kinds of change, with history from now on
        upgraded.retract_report(three.reports[-1][0].id, "checked against the original")
        upgraded.record_outcome(3, "unverifiable", "2016-12-24", version=upgraded.get_claim(3).claim.version)
        assert [c.action for c in upgraded.history()] == ["outcome.record", "report.retract"]
    finally:
        upgraded.engine.dispose()


def test_head_revision_read_from_the_migration_files_is_alembics_head():
    """The start-up check reads the newest revision without Alembic; it must agree with Alembic."""
    from alembic.script import ScriptDirectory

    assert store.head_revision() == ScriptDirectory.from_config(store._alembic_config(None)).get_current_head()
