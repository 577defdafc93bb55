"""Lookups by case inside the promotion use their indexes (migration 017, docs/05 section 7).

A PL/pgSQL callee takes its call's collation from the arguments; TG_TABLE_NAME (collation "C")
passed beside a case id made every `case_id = p_case_id` inside the callee compare in "C", which
the indexes cannot serve, so each lookup scanned the whole table and a case's promotion grew with
the data stored.
"""

from __future__ import annotations

import re

import psycopg
from psycopg.types.json import Jsonb

from sandbox import data

SOURCES = {"at": data.at_payload, "wi": data.wi_payload, "trt": data.trt_payload,
           "interview": data.interview_payload}
CASE_KEYED = ("bronze_at_raw", "bronze_wi_raw", "bronze_trt_raw", "bronze_interview_raw", "income_documents",
              "tax_years", "account_activity", "logiqs_raw_data", "employment_information", "household_information",
              "monthly_expenses", "income_sources", "financial_accounts", "tax_projections", "csed_assessments")


def _ingest(conn: psycopg.Connection, case_ids: list[str]) -> None:
    """One INSERT per source for all the cases (the bulk path)."""
    for source, build in SOURCES.items():
        rows = [(c, Jsonb(p)) for c in case_ids if (p := build(c)) is not None]
        if rows:
            conn.execute(f"INSERT INTO bronze_{source}_raw (case_id, raw_response)"
                         " SELECT * FROM unnest(%b::text[], %b::jsonb[])",
                         ([c for c, _ in rows], [p for _, p in rows]))


def test_no_trigger_passes_the_table_name_uncast(db):
    """Every function that hands TG_TABLE_NAME to another function beside a case id casts it."""
    uncast = db.execute(
        "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
        " WHERE n.nspname = 'public' AND p.prosrc ~ 'TG_TABLE_NAME\\s*,' ORDER BY 1").fetchall()
    assert uncast == []


def test_every_lookup_by_case_can_use_an_index(db):
    """With sequential scans priced out, a lookup still scanning a case-keyed table had no usable
    index (table size does not matter: on a small table a scan is the planner's fair choice)."""
    plans: list[str] = []
    db.add_notice_handler(lambda d: plans.append(d.message_primary or ""))
    db.execute("LOAD 'auto_explain'")
    for setting in ("enable_seqscan = off", "auto_explain.log_min_duration = 0",
                    "auto_explain.log_nested_statements = on", "auto_explain.log_level = notice",
                    "client_min_messages = notice"):
        db.execute(f"SET LOCAL {setting}")
    _ingest(db, ["7799998", "7799999"])
    db.execute("SET LOCAL auto_explain.log_min_duration = -1")
    assert len(plans) > 100, "auto_explain logged too little to judge"
    scans = {(m.group(1), m.group(2)) for plan in plans
             for m in re.finditer(r"Seq Scan on (\w+)[^\n]*\n(?:[^\n]*Disabled[^\n]*\n)?\s*Filter: ([^\n]*)", plan)
             if m.group(1) in CASE_KEYED and "case_id" in m.group(2)}
    assert sorted(scans) == []
