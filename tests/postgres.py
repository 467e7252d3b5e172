"""A throwaway PostgreSQL server for the tests: initdb and pg_ctl into a temp folder, a free port.

The server runs as the `postgres` user when the tests run as root (CI does; PostgreSQL refuses to
run as root), as the current user otherwise. `POSTGRES_BIN` overrides where initdb and pg_ctl are.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

BIN = Path(os.environ.get("POSTGRES_BIN", "/usr/lib/postgresql/15/bin"))


def available() -> bool:
    """Whether initdb and pg_ctl are here."""
    return (BIN / "initdb").exists() and (BIN / "pg_ctl").exists()


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """One running server; `url(database)` for SQLAlchemy, `create()`/`drop()` for databases."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="tracker-pg-"))
        self.data = self.folder / "data"
        self.port = _free_port()
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        subprocess.run(_as_server_user([str(BIN / "initdb"), "-D", str(self.data), "-U", "postgres",
                                        "--auth=trust", "--no-sync", "-E", "UTF8"]),
                       check=True, capture_output=True)
        subprocess.run(_as_server_user([
            str(BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.folder / "server.log"), "-w", "-t", "60",
            "-o", f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
                  "-c synchronous_commit=off -c full_page_writes=off", "start"]),
            check=True, capture_output=True)

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL of a database on this server."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                             autocommit=True) as connection:
            connection.execute(sql)

    def create(self, database: str) -> str:
        """Create an empty database; returns its URL."""
        self._admin(f'CREATE DATABASE "{database}"')
        return self.url(database)

    def drop(self, database: str) -> None:
        """Drop a database (ending its connections)."""
        self._admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    def stop(self) -> None:
        """Stop the server and delete its files."""
        subprocess.run(_as_server_user([str(BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"]),
                       capture_output=True)
        shutil.rmtree(self.folder, ignore_errors=True)
