"""The connection pools (opened and closed by the app lifespan) and the tables the API reads.

Two pools on the same database:

* an async pool (psycopg 3 `AsyncConnectionPool`, autocommit) for the hot paths — the status
  poll and the trigger — which run on the event loop: one SQL statement per request, no
  threadpool hop, no separate COMMIT round trip;
* a sync pool for everything else (case reads, calculations, the legacy path, the background
  submitter thread): those routes are plain `def` routes that FastAPI runs in its threadpool, so
  no query ever blocks the event loop.

The table names are fixed (they come from supabase/migrations); a table that is missing is a
loud error (psycopg.errors.UndefinedTable -> 500, logged), never an empty result.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool, ConnectionPool

POOL_MIN_SIZE = 2
POOL_MAX_SIZE = 20
POOL_TIMEOUT_S = 5.0  # waiting for a free connection longer than this answers 503
# The async pool serves one event loop (one uvicorn worker): a few connections keep Postgres
# busy on a small machine; more only queue inside Postgres instead of in the pool.
ASYNC_POOL_MIN_SIZE = 4
ASYNC_POOL_MAX_SIZE = 8

# Silver and gold tables, all keyed by case_id (supabase/migrations 002, 003, 007).
SILVER_TABLES = ("tax_years", "income_documents", "account_activity", "trt_records", "csed_assessments",
                 "csed_tolling_events", "logiqs_raw_data")
GOLD_TABLES = ("employment_information", "household_information", "financial_accounts", "income_sources",
               "monthly_expenses", "vehicles", "real_property", "tax_projections")
CASE_TABLES = frozenset(SILVER_TABLES + GOLD_TABLES)


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


def create_async_pool(database_url: str, *, min_size: int = ASYNC_POOL_MIN_SIZE,
                      max_size: int = ASYNC_POOL_MAX_SIZE) -> AsyncConnectionPool:
    """Autocommit: each hot-path request is one statement, so there is no transaction to commit.
    psycopg prepares a statement after a few executions on a connection, so the status query is
    planned once per connection. Opened by the lifespan (`await pool.open(wait=False)`)."""
    return AsyncConnectionPool(
        database_url,
        min_size=min_size,
        max_size=max_size,
        timeout=POOL_TIMEOUT_S,
        open=False,
        name="medallion-api-async",
        kwargs={"connect_timeout": 5, "application_name": "medallion-api", "autocommit": True},
    )


def fetch_all(conn: psycopg.Connection, query: Any, params: Any = None) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query, params)
        return cur.fetchall()


def fetch_one(conn: psycopg.Connection, query: Any, params: Any = None) -> dict[str, Any] | None:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query, params)
        return cur.fetchone()


DB_ERRORS: tuple[type[BaseException], ...] = (psycopg.OperationalError,)
