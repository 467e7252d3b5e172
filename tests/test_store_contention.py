"""Contention on the store: processes upgrading an old store at once, a sign-in behind a long write."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time

import pytest

from tests.conftest import NOW, REPO
from tracker import ledger as ledger_module
from tracker import store
from tracker.errors import StoreBusy
from tracker.ledger import Ledger

OPEN_AT = """
import sys, time
from tracker.ledger import Ledger
start = float(sys.argv[2])
time.sleep(max(0.0, start - time.time()))  # every process imported first: they open the store together
Ledger.open(sys.argv[1]).engine.dispose()
print("opened")
"""


def test_processes_opening_an_old_store_at_once_all_open_it(any_url):
    engine = store.make_engine(any_url)
    store.upgrade(engine, "0001")
    engine.dispose()
    start = time.time() + 4  # past the processes' start-up, so their upgrades collide
    workers = [subprocess.Popen([sys.executable, "-c", OPEN_AT, any_url, str(start)], cwd=REPO,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    results = [worker.communicate(timeout=120) for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0, 0], [err[-600:] for _, err in results]
    assert all(out.strip() == "opened" for out, _ in results)
    engine = store.make_engine(any_url)
    assert store.current_revision(engine) == store.head_revision()
    engine.dispose()


def test_a_sign_in_behind_a_long_write_says_the_store_is_busy_instead_of_waiting(ledger, db_path, monkeypatch):
    ledger.add_account("Ada", "admin", "correct horse battery")
    monkeypatch.setattr(ledger_module, "BUSY_SECONDS", 1)  # so that the old behaviour fails in seconds too
    importer = sqlite3.connect(db_path, isolation_level=None)
    importer.execute("BEGIN IMMEDIATE")  # a long import holds SQLite's write lock
    try:
        with pytest.raises(StoreBusy, match="cannot record a sign-in just now"):
            ledger.login("Ada", "correct horse battery")
    finally:
        importer.execute("ROLLBACK")
        importer.close()
    assert Ledger(ledger.engine, clock=lambda: NOW).login("Ada", "correct horse battery")[1].name == "Ada"
