"""Migration 019 (docs/05_TRIGGER_PERFORMANCE.md section 8): the W&I and TRT loads find a case's
or a batch's existing rows through an index, whatever the planner would pick on the table's size.

Their plans are generic and cached for the session, made the first time they run; on a small table
a `case_id = ANY (...)` lookup is planned as a sequential scan, and a long session kept that plan as
the table grew (every later load read all of income_documents and trt_records). Since 018 the
per-case and the batch loaders share that statement (silver_upsert_wi / silver_upsert_trt), so the
first path to plan it decides for both: the test plans it on the per-case path first, on this
test's nearly empty tables, then runs a batch."""

from __future__ import annotations

import re

from psycopg.types.json import Jsonb

from sandbox import data

CASES = [str(7_419_000 + i) for i in range(12)]
BUILDERS = {"wi": data.wi_payload, "trt": data.trt_payload}


def _insert(db, source: str, cases: list[str]) -> str:
    rows = [(c, Jsonb(p)) for c in cases if (p := BUILDERS[source](c)) is not None]
    db.execute(f"INSERT INTO bronze_{source}_raw (case_id, raw_response)"
               " SELECT * FROM unnest(%b::text[], %b::jsonb[])",
               ([c for c, _ in rows], [p for _, p in rows]))
    return db.execute("SELECT current_setting('medallion.promotion_path', true)").fetchone()[0]


def _silver_scans(plans: list[str]) -> list[str]:
    return [m.group(0) for plan in plans
            for m in re.finditer(r"Seq Scan on (income_documents|trt_records|bronze_wi_raw|bronze_trt_raw)\b[^\n]*",
                                 plan)]


def test_wi_and_trt_loads_never_scan_their_tables(db):
    plans: list[str] = []
    db.add_notice_handler(lambda d: plans.append(d.message_primary or ""))
    db.execute("LOAD 'auto_explain'")
    for setting in ("auto_explain.log_min_duration = 0", "auto_explain.log_nested_statements = on",
                    "auto_explain.log_level = notice", "client_min_messages = notice"):
        db.execute(f"SET LOCAL {setting}")
    # the loaders' own statements only (their query text names their array variables); other
    # functions' plans are the planner's fair choice on this small test table
    # (test_case_lookups_use_indexes.py checks those with sequential scans priced out)
    ours = re.compile(r"\b(p_cases|v_cases|p_bronze_ids)\b")
    by_path: dict[str, list[str]] = {}
    cases = {source: [c for c in CASES if build(c) is not None] for source, build in BUILDERS.items()}
    assert all(len(found) >= 3 for found in cases.values())
    for source in BUILDERS:  # one case per statement first: the shared statement is planned here
        assert _insert(db, source, cases[source][:1]).startswith("per_case:")
    by_path["per_case"] = [plan for plan in plans if ours.search(plan)]
    plans.clear()
    for source in BUILDERS:
        assert _insert(db, source, cases[source][1:]).startswith("batch:")
    by_path["batch"] = [plan for plan in plans if ours.search(plan)]
    db.execute("SET LOCAL auto_explain.log_min_duration = -1")
    assert len(by_path["per_case"]) >= 2 and len(by_path["batch"]) >= 4
    found = {path: _silver_scans(logged) for path, logged in by_path.items()}
    assert found == {"per_case": [], "batch": []}, found


def test_the_setting_is_on_the_functions_that_plan_the_lookups_only(db):
    """On the shared statement's functions and the batch loaders; never on the per-case loaders
    (a SET there cost time on every call, 012) or as plan_cache_mode (docs/05 section 8.1)."""
    rows = dict(db.execute(
        "SELECT proname, proconfig FROM pg_proc WHERE pronamespace = 'public'::regnamespace"
        " AND proname ~ '^silver_(load|upsert)_(wi|trt)'").fetchall())
    assert rows == {"silver_upsert_wi": ["enable_seqscan=off"], "silver_upsert_trt": ["enable_seqscan=off"],
                    "silver_load_wi_batch": ["enable_seqscan=off"], "silver_load_trt_batch": ["enable_seqscan=off"],
                    "silver_load_wi": None, "silver_load_trt": None}
