"""Shared fixtures: every test gets real SQLite files in its own temp folder."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.synthetic import make_world
from tracker.interchange import CSV_COLUMNS, write_json
from tracker.ledger import Ledger

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# a fixed "now" well after the Aleppo example, so future-date checks are deterministic
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def store_json(ledger: Ledger) -> str:
    """Everything the store holds, as JSON text (to show that a refused change wrote nothing)."""
    stream = io.StringIO()
    write_json(ledger, stream)
    return stream.getvalue()


def csv_of(rows: list[dict]) -> str:
    """CSV text with every column of the contract, from rows of cells (absent cells empty)."""
    stream = io.StringIO()
    writer = csv.DictWriter(stream, fieldnames=CSV_COLUMNS, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return stream.getvalue()


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path):
    """No test sees the developer's store, time zone or date-order settings."""
    for name in ("TRACKER_DATABASE_URL", "TRACKER_TIMEZONE", "TRACKER_DATE_ORDER", "TRACKER_REQUIRE_LOGIN",
                 "TRACKER_SESSION_HOURS", "TRACKER_USER", "TRACKER_PASSWORD", "TRACKER_ZONE_ABBREVIATIONS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashes():
    """Passwords hashed in this process use argon2's cheapest profile (the real one costs about 0.1-0.4 s
    a hash, paid by every account and sign-in the tests make). Still argon2id, still salted and checked
    the same way; the command-line and browser tests run the tracker in its own process, with the
    real parameters."""
    from argon2 import PasswordHasher, profiles

    from tracker import accounts

    cheap = PasswordHasher.from_parameters(profiles.CHEAPEST)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(accounts, "_hasher", lambda: cheap)
        yield


@pytest.fixture
def db_path(tmp_path) -> Path:
    """A path for a fresh SQLite store."""
    return tmp_path / "store" / "tracker.db"


@pytest.fixture
def ledger(db_path) -> Ledger:
    """A ledger over a fresh SQLite file, with a fixed clock."""
    opened = Ledger.open(str(db_path), clock=lambda: NOW)
    yield opened
    opened.engine.dispose()


@pytest.fixture
def seeded(ledger) -> Ledger:
    """The ledger with the Aleppo example loaded."""
    from tracker.interchange import import_file

    import_file(ledger, REPO / "seed" / "aleppo-2016-12.json")
    return ledger


@pytest.fixture(scope="session")
def postgres():
    """A throwaway PostgreSQL 15 server for the whole test run (skipped where PostgreSQL is absent)."""
    from tests import postgres as pg

    if not pg.available():
        pytest.skip(f"PostgreSQL server binaries not found in {pg.BIN} (set POSTGRES_BIN)")
    server = pg.Server()
    yield server
    server.stop()


def empty_store(request, tmp_path, backend: str, name: str = "any"):
    """Yield the URL of an empty store named `name` on `backend` (a SQLite file, or a database on the
    session's PostgreSQL server, dropped afterwards)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / f'{name}.db'}"
        return
    server = request.getfixturevalue("postgres")
    database = f"{name[0]}{abs(hash(request.node.nodeid)) % 10**12}"
    yield server.create(database)
    server.drop(database)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_url(request, tmp_path) -> str:
    """The URL of an empty store: a SQLite file and, in a second run of the test, a real PostgreSQL database."""
    yield from empty_store(request, tmp_path, request.param)


@pytest.fixture
def any_ledger(any_url) -> Ledger:
    """A fresh ledger with a fixed clock over `any_url` (SQLite, then PostgreSQL)."""
    opened = Ledger.open(any_url, clock=lambda: NOW)
    yield opened
    opened.engine.dispose()


@pytest.fixture
def random_store(any_ledger):
    """A small random world written through the CSV contract, then edited the ways a team edits one."""
    world = make_world(14, n_sources=12, n_claims=160, days=120, open_rate=0.25, unverifiable_rate=0.1,
                       relay_rate=0.3)
    ledger = any_ledger
    claim_ids = world.write_edited_by_a_team(ledger)
    for claim_id in claim_ids[2:4]:  # a revision: the newest verdict is the one in force
        ledger.record_outcome(claim_id, "partly_true", "2016-03-20")
    # ties the database must break as the in-memory path does: a source's two stances at one instant
    # (the later report counts), two relays of one origin at one instant, and times a microsecond
    # apart (the later time counts, though logged first)
    at = datetime(2016, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    tied = ledger.log_claim("Ties: the convoy left at dawn", first_reported_at=at)
    for source, stance, when, via in [("Tie source", "confirmed", at, None), ("Tie source", "rumoured", at, None),
                                      ("Tie relay 1", "denied", at, "Tie origin"),
                                      ("Tie relay 2", "confirmed", at, "Tie origin"),
                                      ("Tie late", "rumoured", at + timedelta(microseconds=1), None),
                                      ("Tie late", "denied", at, None)]:
        ledger.add_report(tied.id, source, stance, when, via=via)
    ledger.record_outcome(tied.id, "true", "2016-01-05")
    if ledger.engine.dialect.name == "sqlite":  # a time another tool wrote without its fraction
        whole = ledger.log_claim("Whole seconds: the bridge is closed", first_reported_at=at)
        early = ledger.add_report(whole.id, "Tie whole", "denied", at - timedelta(microseconds=6))
        ledger.add_report(whole.id, "Tie whole", "confirmed", at + timedelta(microseconds=1))
        ledger.record_outcome(whole.id, "false", "2016-01-05")
        with ledger.engine.begin() as connection:
            connection.exec_driver_sql("UPDATE report SET reported_at = '2016-01-02 03:04:05' WHERE id = ?",
                                       (early.id,))
    return ledger
