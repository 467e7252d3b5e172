"""The command line refuses, with one clear line, what used to succeed misleadingly or end in a traceback."""

from __future__ import annotations

import sqlite3

import pytest
from click.testing import CliRunner

from tests.conftest import NOW
from tracker import store
from tracker.cli import main
from tracker.ledger import Ledger


def tracker(*args: str):
    """Run `tracker ARGS...` in-process; returns the click Result."""
    return CliRunner().invoke(main, list(args))


def refused(result, message: str) -> None:
    """The command failed with `message` on one clean line, no traceback."""
    assert result.exit_code != 0 and message in result.output, result.output
    assert "Traceback" not in result.output and isinstance(result.exception, (SystemExit, type(None)))


@pytest.mark.parametrize("command", [["claims"], ["claims", "show", "1"], ["sources"], ["scores"], ["calibration"],
                                     ["history"], ["user"], ["export", "-"], ["backup", "copy.db"]])
def test_a_mistyped_store_path_on_a_read_command_creates_nothing(tmp_path, command):
    typo = tmp_path / "tpyo" / "tracker.db"
    refused(tracker("--db", str(typo), *command), f"there is no store at {typo}")
    assert not typo.parent.exists()


def test_init_demo_and_writes_still_create_the_store(tmp_path):
    for n, command in enumerate((["init"], ["demo"], ["sources", "add", "Reuters"])):
        path = tmp_path / f"new{n}" / "tracker.db"
        assert tracker("--db", str(path), *command).exit_code == 0 and path.is_file()


@pytest.mark.parametrize(("command", "message"), [
    (["scores", "--half-life", "nan"], "half_life_days must be a positive number of days"),
    (["scores", "--half-life", "inf"], "half_life_days must be a positive number of days"),
    (["calibration", "--bins", "0"], "0 is not in the range x>=1"),
    (["calibration", "--bins", "-5"], "-5 is not in the range x>=1"),
    (["export", "no/such/folder/out.csv"], "check that its folder exists"),
    (["backup", "/proc/tracker-backup.db"], "cannot write the backup to /proc/tracker-backup.db"),
])
def test_nonsense_options_and_unwritable_targets_are_refused(seeded, command, message):
    refused(tracker("--db", seeded.engine.url.database, *command), message)


@pytest.mark.parametrize("url", ["mysql://ada:s3cret-pw@db.example.org/tracker", "nosuchdialect://ada:s3cret-pw@x/y",
                                 "oracle+cx_oracle://ada:s3cret-pw@x/y"])
def test_a_store_url_of_another_database_is_refused_without_its_password(url):
    refused(tracker("--db", url, "claims"), "the tracker keeps its store in SQLite or PostgreSQL")
    assert "s3cret-pw" not in tracker("--db", url, "claims").output


def test_no_printed_store_url_carries_its_password(postgres):
    url = postgres.create("masked")
    try:
        engine = store.make_engine(url)
        engine.dispose()
        with_password = url.replace("postgres@", "postgres:s3cret-pw@")
        done = tracker("--db", with_password, "init")  # the test server trusts every local connection
        assert done.exit_code == 0 and "postgres:***@" in done.output and "s3cret-pw" not in done.output
        unreachable = with_password.replace(f":{postgres.port}/", ":1/")
        refused(tracker("--db", unreachable, "claims"), "cannot use the store at")
        assert "s3cret-pw" not in tracker("--db", unreachable, "claims").output
    finally:
        postgres.drop("masked")
    assert store.display_url("postgresql+psycopg://ada:s3cret-pw@h/t") == "postgresql+psycopg://ada:***@h/t"
    assert store.mask_secrets("failed for ada:s3cret-pw", "postgresql+psycopg://ada:s3cret-pw@h/t") == \
        "failed for ada:***"


def test_claims_lists_more_claims_than_the_database_takes_bound_variables(db_path, monkeypatch):
    ledger = Ledger.open(str(db_path), clock=lambda: NOW)
    ledger.log_claim("The first claim", reports=[{"source": "Wire", "stance": "rumoured", "reported_at": "2016-12-13"}])
    with sqlite3.connect(db_path) as db:  # cheaply: copies of the first claim, each with its report
        db.executemany("INSERT INTO claim (statement, first_reported_at, logged_at, version, ref) "
                       "SELECT ?, first_reported_at, logged_at, 1, ? FROM claim WHERE id = 1",
                       [(f"Claim {n}", f"c-{n}") for n in range(2, 1201)])
        db.execute("INSERT INTO report (claim_id, source_id, stance, reported_at, logged_at, version, ref) "
                   "SELECT c.id, r.source_id, r.stance, r.reported_at, r.logged_at, 1, 'r-' || c.id "
                   "FROM claim c, report r WHERE c.id > 1 AND r.id = 1")
    ledger.engine.dispose()
    # SQLite as built with a small variable limit (250,000 on this machine: 1,200 claims stand for 250,001)
    pragmas = store._sqlite_pragmas

    def small_limit(dbapi_connection, record) -> None:
        pragmas(dbapi_connection, record)
        dbapi_connection.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 500)

    monkeypatch.setattr(store, "_sqlite_pragmas", small_limit)
    monkeypatch.setattr(store, "MAX_BOUND_IDS", 400, raising=False)
    listed = tracker("--db", str(db_path), "claims", "--format", "json")
    assert listed.exit_code == 0, listed.output
    assert '"statement": "Claim 1200"' in listed.output and '"statement": "The first claim"' in listed.output
