"""Tests of the W&I / interview silver loaders, the gold layer, tax projections and the
monitoring functions (migrations 003, 007, 008, 009). Shared helpers live here."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import psycopg

D = Decimal


def ingest(db: psycopg.Connection, source: str, case_id: str, payload: Any) -> None:
    """Insert one bronze row (the promotion trigger runs the loader)."""
    db.execute(f"INSERT INTO bronze_{source}_raw (case_id, raw_response) VALUES (%s, %s::jsonb)",
               (case_id, json.dumps(payload)))


def max_error_id(db: psycopg.Connection) -> int:
    return db.execute("SELECT coalesce(max(id), 0) FROM transformation_errors").fetchone()[0]


def errors_since(db: psycopg.Connection, since: int, case_id: str | None = None) -> list[tuple]:
    return db.execute(
        "SELECT layer, table_name, case_id, message FROM transformation_errors"
        " WHERE id > %s AND (%s::text IS NULL OR case_id = %s) ORDER BY id",
        (since, case_id, case_id)).fetchall()


def docs(db: psycopg.Connection, case_id: str) -> list[dict]:
    cur = db.execute(
        "SELECT tax_year, form_type, owner, gross_amount, federal_withholding, se_amount, category,"
        " is_self_employment, include_in_projection, requires_confirmation, preferential_amount,"
        " early_distribution_amount, ss_wages, flags, issuer_name, issuer_id, recipient_name, recipient_id"
        " FROM income_documents WHERE case_id = %s ORDER BY tax_year NULLS LAST, form_type, owner, gross_amount",
        (case_id,))
    cols = [d.name for d in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def projection(db: psycopg.Connection, case_id: str, year: int) -> dict:
    cur = db.execute("SELECT * FROM tax_projections WHERE case_id = %s AND tax_year = %s", (case_id, year))
    row = cur.fetchone()
    assert row is not None, f"no projection for {case_id} {year}"
    return dict(zip([d.name for d in cur.description], row, strict=True))


SILVER_GOLD_TABLES = ["income_documents", "logiqs_raw_data", "employment_information", "household_information",
                      "financial_accounts", "income_sources", "monthly_expenses", "vehicles", "real_property",
                      "tax_projections"]


def dump(db: psycopg.Connection, case_id: str) -> dict[str, list[tuple]]:
    """Every row (all columns, plus ctid: a rewritten row gets a new tuple) of the case."""
    out = {}
    for table in SILVER_GOLD_TABLES:
        rows = db.execute(f"SELECT ctid::text, t::text FROM {table} t WHERE case_id = %s ORDER BY t::text",
                          (case_id,)).fetchall()
        out[table] = rows
    return out


def form(form_type: str, fields: dict | None = None, **extra: Any) -> dict:
    body: dict[str, Any] = {"Form": form_type, "Owner": "TP"}
    if fields is not None:
        body["Fields"] = fields
    body.update(extra)
    return body


def wi(year: int | str, *forms: dict) -> dict:
    return {"years_data": {str(year): list(forms)}}
