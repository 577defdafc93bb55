"""The connection pool (opened and closed by the app lifespan) and a small catalog cache.

One driver style for the whole app: psycopg 3, synchronous, from a psycopg_pool pool. Routes
that touch the database are plain `def` routes (FastAPI runs them in its threadpool), so no
query ever blocks the event loop.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

POOL_MIN_SIZE = 2
POOL_MAX_SIZE = 20
POOL_TIMEOUT_S = 5.0  # waiting for a free connection longer than this answers 503


def create_pool(database_url: str, *, min_size: int = POOL_MIN_SIZE, max_size: int = POOL_MAX_SIZE) -> ConnectionPool:
    """Not opened yet: the lifespan opens it without waiting, so the API starts (and /readyz says
    why it is not ready) even while the database is down."""
    return ConnectionPool(
        database_url,
        min_size=min_size,
        max_size=max_size,
        timeout=POOL_TIMEOUT_S,
        open=False,
        name="medallion-api",
        # Tuple rows by default (services/data_saver.py indexes rows); our reads use dict rows
        # explicitly through fetch_all/fetch_one below.
        kwargs={"connect_timeout": 5, "application_name": "medallion-api"},
    )


class Catalog:
    """Which public tables/views exist and their columns, refreshed every `ttl_s` seconds.

    The silver and gold schema grows by migration while the API runs; reads and counts adapt
    instead of failing on a table that has not landed yet."""

    def __init__(self, pool: ConnectionPool, ttl_s: float = 30.0) -> None:
        self._pool = pool
        self._ttl_s = ttl_s
        self._loaded_at = 0.0
        self._columns: dict[str, list[str]] = {}
        self._lock = threading.Lock()

    def _refresh(self) -> None:
        with self._pool.connection() as conn:
            rows = fetch_all(
                conn,
                "SELECT table_name, column_name FROM information_schema.columns"
                " WHERE table_schema = 'public' ORDER BY table_name, ordinal_position",
            )
        columns: dict[str, list[str]] = {}
        for row in rows:
            columns.setdefault(row["table_name"], []).append(row["column_name"])
        self._columns = columns
        self._loaded_at = time.monotonic()

    def invalidate(self) -> None:
        self._loaded_at = 0.0

    def columns(self, table: str) -> list[str]:
        if time.monotonic() - self._loaded_at > self._ttl_s:
            with self._lock:
                if time.monotonic() - self._loaded_at > self._ttl_s:
                    self._refresh()
        return self._columns.get(table, [])

    def has(self, table: str) -> bool:
        return bool(self.columns(table))

    @property
    def version(self) -> float:
        """Changes whenever the catalog is reloaded (for callers that cache derived SQL)."""
        return self._loaded_at


def fetch_all(conn: psycopg.Connection, query: Any, params: Any = None) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query, params)
        return cur.fetchall()


def fetch_one(conn: psycopg.Connection, query: Any, params: Any = None) -> dict[str, Any] | None:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query, params)
        return cur.fetchone()


DB_ERRORS: tuple[type[BaseException], ...] = (psycopg.OperationalError,)
