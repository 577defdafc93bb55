"""Helpers shared by the AT / TRT / CSED schema tests (002 and 006)."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

AS_OF = "2025-06-01"  # the injected "today" (GUC medallion.as_of_date) for deterministic statuses

SILVER_AT_TABLES = {
    "tax_years": "tax_year",
    "account_activity": "tax_year, owner, transaction_code, activity_date, amount, occurrence",
    "csed_assessments": "tax_year, owner, assessment_date, transaction_code",
    "csed_tolling_events": "tax_year, owner, start_date",
    "at_unplaced_records": "record_index",
}


def new_case_id() -> str:
    return str(uuid.uuid4().int % 10**12).rjust(12, "8")


def set_as_of(conn: psycopg.Connection, as_of: str = AS_OF) -> None:
    conn.execute("SELECT set_config('medallion.as_of_date', %s, false)", (as_of,))


def ingest(conn: psycopg.Connection, case_id: str, payload: Any, source: str = "at") -> None:
    """Insert a payload into bronze_<source>_raw; the statement trigger promotes it."""
    conn.execute(
        f"INSERT INTO bronze_{source}_raw (case_id, raw_response, api_endpoint) VALUES (%s, %s, %s)",
        (case_id, Jsonb(payload), f"/analysis/{source}/{case_id}"),
    )


def errors(conn: psycopg.Connection, case_id: str) -> list[tuple]:
    return conn.execute(
        "SELECT table_name, sqlstate, message FROM transformation_errors WHERE case_id = %s ORDER BY id",
        (case_id,),
    ).fetchall()


def dump(
    conn: psycopg.Connection, case_id: str, tables: dict[str, str] | None = None
) -> dict[str, list[tuple]]:
    """Every column of every row the case holds in the given silver tables, in a stable order."""
    out = {}
    for table, order in (tables or SILVER_AT_TABLES).items():
        out[table] = conn.execute(
            f"SELECT * FROM {table} WHERE case_id = %s ORDER BY {order}", (case_id,)
        ).fetchall()
    return out


def year_row(conn: psycopg.Connection, case_id: str, year: int) -> dict[str, Any] | None:
    cur = conn.execute("SELECT * FROM tax_years WHERE case_id = %s AND tax_year = %s", (case_id, year))
    row = cur.fetchone()
    return None if row is None else dict(zip([c.name for c in cur.description], row, strict=True))


def assessments(conn: psycopg.Connection, case_id: str, year: int) -> list[tuple]:
    return conn.execute(
        "SELECT transaction_code, assessment_date::text, base_csed_date::text, suspended_days,"
        " csed_date::text,"
        " minimum_csed_date::text, csed_status FROM csed_assessments WHERE case_id = %s AND tax_year = %s"
        " ORDER BY assessment_date, transaction_code",
        (case_id, year),
    ).fetchall()


def tolling(conn: psycopg.Connection, case_id: str, year: int) -> list[tuple]:
    return conn.execute(
        "SELECT event_type, start_date::text, end_date::text, days FROM csed_tolling_events"
        " WHERE case_id = %s AND tax_year = %s ORDER BY start_date",
        (case_id, year),
    ).fetchall()


def tx(
    code: str, date: str, amount: float = 0.0, description: str | None = None, **extra: Any
) -> dict[str, Any]:
    out: dict[str, Any] = {"code": code, "date": date, "amount": amount}
    if description is not None:
        out["description"] = description
    out.update(extra)
    return out


def record(year: Any, transactions: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    return {
        "tax_year": year,
        "owner": "TP",
        "filing_status": "Single",
        "transactions": transactions,
        **fields,
    }
