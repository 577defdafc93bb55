"""Cases (CRUD, search) and the per-case reads the frontend grid shows. Plain arguments, no
FastAPI. The silver/gold tables and their columns are fixed by supabase/migrations; a missing
one is an error, not an empty answer."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import sql

from backend.app.database import CASE_TABLES, fetch_all, fetch_one
from backend.app.errors import CaseAlreadyExists, CaseNotFound

HIDDEN_COLUMNS = {"raw_response"}  # the raw payload stays in bronze; not for the grid
YEAR_COLUMNS = ("tax_year", "year")

_CASE_COLUMNS = sql.SQL(
    "c.case_id, c.case_number, c.client_name, c.status_code, c.created_at, c.updated_at,"
    " (SELECT to_jsonb(r) FROM (SELECT request_id, status, requested_at, dagster_run_id, error"
    "   FROM public.extraction_requests er WHERE er.case_id = c.case_id"
    "   ORDER BY requested_at DESC LIMIT 1) r) AS latest_extraction")


def plain(value: Any) -> Any:
    """JSON-friendly values: numbers stay numbers (Decimal -> float), ids and dates become text."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    return value


def plain_row(row: dict[str, Any]) -> dict[str, Any]:
    return {k: plain(v) for k, v in row.items() if k not in HIDDEN_COLUMNS}


# ------------------------------------------------------------------------------ CRUD
def create_case(conn: psycopg.Connection, case_id: str, case_number: str | None, client_name: str | None,
                status_code: str) -> dict[str, Any]:
    row = fetch_one(conn, "INSERT INTO public.cases (case_id, case_number, client_name, status_code)"
                          " VALUES (%s, %s, %s, %s) ON CONFLICT (case_id) DO NOTHING RETURNING case_id",
                    (case_id, case_number, client_name, status_code))
    if row is None:
        raise CaseAlreadyExists(case_id)
    return get_case(conn, case_id)


def get_case(conn: psycopg.Connection, case_id: str) -> dict[str, Any]:
    row = fetch_one(conn, sql.SQL("SELECT {} FROM public.cases c WHERE c.case_id = %s").format(_CASE_COLUMNS),
                    (case_id,))
    if row is None:
        raise CaseNotFound(case_id)
    return row


def update_case(conn: psycopg.Connection, case_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    changes = {k: v for k, v in changes.items() if k in ("case_number", "client_name", "status_code")}
    if changes:
        assignments = sql.SQL(", ").join(
            sql.SQL("{} = {}").format(sql.Identifier(k), sql.Placeholder(k)) for k in changes)
        row = fetch_one(conn, sql.SQL("UPDATE public.cases SET {}, updated_at = now() WHERE case_id = %(case_id)s"
                                      " RETURNING case_id").format(assignments), {**changes, "case_id": case_id})
        if row is None:
            raise CaseNotFound(case_id)
    return get_case(conn, case_id)


def delete_case(conn: psycopg.Connection, case_id: str) -> None:
    if fetch_one(conn, "DELETE FROM public.cases WHERE case_id = %s RETURNING case_id", (case_id,)) is None:
        raise CaseNotFound(case_id)


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


SORTS = {
    "updated_desc": "c.updated_at DESC, c.case_id",
    "created_desc": "c.created_at DESC, c.case_id",
    "case_id": "c.case_id",
    "client_name": "c.client_name NULLS LAST, c.case_id",
}


def list_cases(conn: psycopg.Connection, q: str | None, limit: int, offset: int, sort: str = "updated_desc",
               status_code: str | None = None) -> tuple[list[dict[str, Any]], int]:
    """Search: a run of digits matches case ids starting with it; any text matches the case
    number or the client name anywhere (case-insensitive)."""
    where: list[sql.Composable] = []
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    if q and q.strip():
        q = q.strip()
        params["contains"] = f"%{_like(q.lower())}%"
        clauses = [sql.SQL("lower(c.case_number) LIKE %(contains)s"), sql.SQL("lower(c.client_name) LIKE %(contains)s")]
        if q.isdigit():
            params["prefix"] = f"{_like(q)}%"
            clauses.insert(0, sql.SQL("c.case_id LIKE %(prefix)s"))
        where.append(sql.SQL("(") + sql.SQL(" OR ").join(clauses) + sql.SQL(")"))
    if status_code:
        params["status_code"] = status_code
        where.append(sql.SQL("c.status_code = %(status_code)s"))
    where_sql = sql.SQL(" WHERE ") + sql.SQL(" AND ").join(where) if where else sql.SQL("")
    total = fetch_one(conn, sql.SQL("SELECT count(*) AS n FROM public.cases c{}").format(where_sql), params)
    rows = fetch_all(conn, sql.SQL("SELECT {} FROM public.cases c{} ORDER BY {} LIMIT %(limit)s OFFSET %(offset)s")
                     .format(_CASE_COLUMNS, where_sql, sql.SQL(SORTS.get(sort, SORTS["updated_desc"]))), params)
    return rows, int(total["n"]) if total else 0


# ------------------------------------------------------------------------------ grid reads
# The year column of the tables that have one (for ?tax_year=); every table has case_id.
YEAR_COLUMN = {"tax_years": "tax_year", "income_documents": "tax_year", "account_activity": "tax_year",
               "trt_records": "tax_year", "csed_assessments": "tax_year", "csed_tolling_events": "tax_year",
               "tax_projections": "tax_year", "vehicles": "year"}


def read_rows(conn: psycopg.Connection, table: str, case_id: str, *, order: tuple[str, ...] = (),
              tax_year: int | None = None, limit: int | None = None, offset: int = 0) -> dict[str, Any]:
    """The case's rows of one silver/gold table (`order`: column names, all of which exist)."""
    if table not in CASE_TABLES:
        raise ValueError(f"{table} is not a per-case table")
    scope = sql.SQL("FROM public.{} x WHERE x.case_id = %(case_id)s").format(sql.Identifier(table))
    params: dict[str, Any] = {"case_id": case_id}
    filters = sql.SQL("")
    if tax_year is not None:
        year_col = YEAR_COLUMN.get(table)
        if year_col is None:
            raise ValueError(f"{table} has no tax year column")
        filters = sql.SQL(" AND x.{}::text = %(tax_year)s").format(sql.Identifier(year_col))
        params["tax_year"] = str(tax_year)
    order_sql = (sql.SQL(" ORDER BY ") + sql.SQL(", ").join(sql.SQL("x.{}").format(sql.Identifier(c)) for c in order)
                 if order else sql.SQL(""))
    page = sql.SQL("")
    total: int | None = None
    if limit is not None:
        params.update(limit=limit, offset=offset)
        page = sql.SQL(" LIMIT %(limit)s OFFSET %(offset)s")
        counted = fetch_one(conn, sql.SQL("SELECT count(*) AS n {}{}").format(scope, filters), params)
        total = int(counted["n"]) if counted else 0
    rows = fetch_all(conn, sql.SQL("SELECT x.* {}{}{}{}").format(scope, filters, order_sql, page), params)
    items = [plain_row(r) for r in rows]
    return {"case_id": case_id, "table": table, "available": True, "count": len(items),
            "total": total if total is not None else len(items), "items": items}


def year_of(row: dict[str, Any]) -> Any:
    for col in YEAR_COLUMNS:
        if row.get(col) is not None:
            return str(row[col])
    return None


def tax_years_with_cseds(conn: psycopg.Connection, case_id: str) -> dict[str, Any]:
    years = read_rows(conn, "tax_years", case_id, order=("tax_year",))
    assessments = read_rows(conn, "csed_assessments", case_id, order=("tax_year", "assessment_date"))["items"]
    suspensions = read_rows(conn, "csed_tolling_events", case_id, order=("tax_year", "start_date"))["items"]
    by_id = {r.get("id"): year_of(r) for r in years["items"]}

    def key(row: dict[str, Any]) -> Any:
        return year_of(row) or by_id.get(row.get("tax_year_id"))

    items = []
    for year in years["items"]:
        y = year_of(year)
        items.append({**year,
                      "assessments": [a for a in assessments if key(a) == y],
                      "suspensions": [s for s in suspensions if key(s) == y]})
    return {"case_id": case_id, "available": True, "count": len(items), "items": items}
