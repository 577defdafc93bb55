"""Migration 019 (docs/05_TRIGGER_PERFORMANCE.md section 8): the batch loaders of 018 find a
batch's existing rows through an index, whatever the planner would pick on the table's size.

Their plans are generic and cached for the session, made at the first batch; on a small table a
`case_id = ANY (...)` lookup is planned as a sequential scan, and a long session kept that plan as
the table grew (every later batch read all of income_documents and trt_records)."""

from __future__ import annotations

import re

from psycopg.types.json import Jsonb

from sandbox import data

CASES = [str(7_419_000 + i) for i in range(4)]


def test_batch_loaders_never_scan_their_silver_table(db):
    plans: list[str] = []
    db.add_notice_handler(lambda d: plans.append(d.message_primary or ""))
    db.execute("LOAD 'auto_explain'")
    for setting in ("auto_explain.log_min_duration = 0", "auto_explain.log_nested_statements = on",
                    "auto_explain.log_level = notice", "client_min_messages = notice"):
        db.execute(f"SET LOCAL {setting}")
    paths = []
    for source, build in (("wi", data.wi_payload), ("trt", data.trt_payload)):
        rows = [(c, Jsonb(p)) for c in CASES if (p := build(c)) is not None]
        assert len(rows) >= 2
        db.execute(f"INSERT INTO bronze_{source}_raw (case_id, raw_response)"
                   " SELECT * FROM unnest(%b::text[], %b::jsonb[])",
                   ([c for c, _ in rows], [p for _, p in rows]))
        paths.append(db.execute("SELECT current_setting('medallion.promotion_path', true)").fetchone()[0])
    db.execute("SET LOCAL auto_explain.log_min_duration = -1")
    assert [p.split(":")[0] for p in paths] == ["batch", "batch"]
    # the batch loaders' own statements (their query text names v_cases); other functions' plans
    # are the planner's fair choice on this small test table (test_case_lookups_use_indexes.py
    # checks those with sequential scans priced out)
    batch_plans = [plan for plan in plans if "v_cases" in plan]
    assert len(batch_plans) >= 4
    scans = [m.group(0) for plan in batch_plans
             for m in re.finditer(r"Seq Scan on (income_documents|trt_records)\b[^\n]*", plan)]
    assert scans == []
