"""`tracker backup` and `tracker restore`: consistent copies of a SQLite store, checked restores."""

from __future__ import annotations

import io
import shutil
import sqlite3
import subprocess
import sys
import threading

import pytest
from click.testing import CliRunner

from tests.conftest import NOW
from tracker import store
from tracker.cli import main
from tracker.interchange import write_json
from tracker.ledger import Ledger


def exported(ledger: Ledger) -> str:
    """The whole store as JSON text."""
    stream = io.StringIO()
    write_json(ledger, stream)
    return stream.getvalue()


def test_backup_then_restore_into_a_fresh_store_gives_the_same_store(seeded, tmp_path):
    copy = store.backup(seeded.engine, tmp_path / "backups" / "aleppo.db")
    fresh = Ledger.open(str(tmp_path / "fresh.db"), clock=lambda: NOW)
    fresh.log_claim("Something only the fresh store had", reports=[
        {"source": "X", "stance": "rumoured", "reported_at": "2016-12-13"}])
    assert store.restore(fresh.engine, copy).revision == store.head_revision()
    assert exported(fresh) == exported(seeded)
    assert not (tmp_path / "backups" / "aleppo.db.partial").exists()


def test_backup_is_consistent_while_writers_are_busy(seeded, tmp_path):
    errors = []

    def write(n: int) -> None:
        try:
            for i in range(20):
                seeded.log_claim(f"Concurrent claim {n}-{i}", reports=[
                    {"source": f"Writer {n}", "stance": "confirmed", "reported_at": "2016-12-20"}])
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    copies = [store.backup(seeded.engine, tmp_path / f"copy{k}.db") for k in range(3)]
    for thread in threads:
        thread.join()
    assert not errors
    for copy in copies:
        with sqlite3.connect(copy) as db:
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            # every claim in the copy has its report: no half-written claim was copied
            assert db.execute("SELECT count(*) FROM claim WHERE id NOT IN (SELECT claim_id FROM report)").fetchone() == (0,)


def test_restore_refuses_what_is_not_a_tracker_store(ledger, tmp_path):
    text = tmp_path / "notes.db"
    text.write_text("not a database at all, just text" * 100)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    for bad, message in ((text, "not a SQLite database"), (other, "not a tracker store"),
                         (tmp_path / "missing.db", "does not exist")):
        with pytest.raises(store.BackupError, match=message):
            store.restore(ledger.engine, bad)


def test_postgresql_backups_point_to_pg_dump():
    engine = store.make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    with pytest.raises(store.BackupError, match="pg_dump"):
        store.backup(engine, "x.db")


def test_cli_backup_and_restore(seeded, tmp_path):
    runner = CliRunner()
    url = str(seeded.engine.url.database)
    done = runner.invoke(main, ["--db", url, "backup", str(tmp_path / "b.db")])
    assert done.exit_code == 0, done.output
    target = str(tmp_path / "target.db")
    refused = runner.invoke(main, ["--db", target, "restore", str(tmp_path / "b.db")], input="n\n")
    assert refused.exit_code == 1
    restored = runner.invoke(main, ["--db", target, "restore", "--yes", str(tmp_path / "b.db")])
    assert restored.exit_code == 0 and "schema" in restored.output
    assert exported(Ledger.open(target)) == exported(seeded)
    same = runner.invoke(main, ["--db", url, "backup", url])
    assert same.exit_code == 1 and "the store itself" in same.output


# -- restore refuses what would break the store, and keeps the one it replaces -----------------------

def _damaged(backup, tmp_path):
    """A copy of `backup` with one of its table pages overwritten (the page that holds the reports)."""
    bad = tmp_path / "damaged.db"
    shutil.copy(backup, bad)
    with sqlite3.connect(bad) as db:
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
        root = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'report'").fetchone()[0]
    with open(bad, "r+b") as raw:
        raw.seek((root - 1) * page_size + 8)
        raw.write(b"\x07" * 200)
    return bad


def _foreign(tmp_path):
    """A SQLite file with tables of the tracker's names (and a known revision) that is not a tracker store."""
    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as db:
        db.executescript("CREATE TABLE alembic_version (version_num TEXT); CREATE TABLE claim (text TEXT);"
                         "CREATE TABLE report (text TEXT); CREATE TABLE source (name TEXT);")
        db.execute("INSERT INTO alembic_version VALUES (?)", (store.head_revision(),))
    return foreign


def _newer(backup, tmp_path):
    """A copy of `backup` as a later release would leave it: a schema revision this one does not know."""
    newer = tmp_path / "newer.db"
    shutil.copy(backup, newer)
    with sqlite3.connect(newer) as db:
        db.execute("UPDATE alembic_version SET version_num = '0099_from_the_future'")
    return newer


@pytest.mark.parametrize(("make", "message"), [
    (_damaged, "damaged"),
    (lambda backup, tmp_path: _foreign(tmp_path), "not a tracker store: its tables and columns"),
    (_newer, "newer release of the tracker"),
])
def test_restore_refuses_a_damaged_foreign_or_newer_backup_and_leaves_the_store_as_it_was(
        seeded, tmp_path, make, message):
    backup = store.backup(seeded.engine, tmp_path / "good.db")
    bad = make(backup, tmp_path)
    before = exported(seeded)
    seeded.engine.dispose()
    result = CliRunner().invoke(main, ["--db", seeded.engine.url.database, "restore", "--yes", str(bad)])
    assert result.exit_code == 1 and message in result.output and "left as it was" in result.output, result.output
    assert "Traceback" not in result.output
    assert exported(seeded) == before
    with sqlite3.connect(seeded.engine.url.database) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert not list(tmp_path.rglob("*.before-restore-*")) and not list(tmp_path.rglob("*.restoring"))


def test_restore_keeps_a_safety_copy_of_the_store_it_replaces_and_says_where(seeded, tmp_path):
    backup = store.backup(seeded.engine, tmp_path / "before.db")
    seeded.log_claim("Logged after the backup", reports=[
        {"source": "X", "stance": "rumoured", "reported_at": "2016-12-20"}])
    current = exported(seeded)
    seeded.engine.dispose()
    result = CliRunner().invoke(main, ["--db", seeded.engine.url.database, "restore", "--yes", str(backup)])
    assert result.exit_code == 0, result.output
    kept = list((tmp_path / "store").glob("tracker.before-restore-*.db"))
    assert len(kept) == 1 and f"kept in {kept[0]}" in result.output
    assert exported(Ledger.open(str(kept[0]), clock=lambda: NOW)) == current
    assert "Logged after the backup" not in exported(seeded)


@pytest.mark.parametrize("suffix", ["-wal", "-shm", "-journal"])
def test_backup_refuses_the_stores_own_working_files_and_loses_no_committed_claim(seeded, tmp_path, suffix):
    path = seeded.engine.url.database
    # another process holds the store open and commits a claim, which waits in the -wal file
    writer = subprocess.Popen([sys.executable, "-c", (
        "import sys, sqlite3; db = sqlite3.connect(sys.argv[1], isolation_level=None);"
        "db.execute('PRAGMA wal_autocheckpoint=0'); db.execute(\"UPDATE claim SET statement = 'kept' WHERE id = 1\");"
        "print('committed', flush=True); sys.stdin.read()"), path],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "committed"
        result = CliRunner().invoke(main, ["--db", path, "backup", path + suffix])
        assert result.exit_code == 1 and "working files of the store" in result.output, result.output
    finally:
        writer.communicate("")
    assert seeded.get_claim(1).claim.statement == "kept"
