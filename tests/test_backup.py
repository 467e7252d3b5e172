"""`tracker backup` and `tracker restore`: consistent copies of a SQLite store, checked restores."""

from __future__ import annotations

import io
import sqlite3
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
    assert store.restore(fresh.engine, copy) == store.head_revision()
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
