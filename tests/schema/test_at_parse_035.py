"""Migration 035 (docs/05_TRIGGER_PERFORMANCE.md section 13): a bulk AT statement parses its
records without counting their transactions (only an unplaced record stores the count, and
at_load_unplaced_set now takes it), and flattens records and lines with sorts of one element
per row. 027's sorts carried each payload's whole array in every row and spilled to disk."""

from __future__ import annotations

import re

from psycopg.types.json import Jsonb

from sandbox import data
from tests.schema import record, set_as_of, tx

CASES = ["735000001", "735000002"]


def _insert(db, rows: list[tuple[str, dict]]) -> str:
    db.execute("INSERT INTO bronze_at_raw (case_id, raw_response) SELECT * FROM unnest(%s::text[], %s::jsonb[])",
               ([c for c, _ in rows], [Jsonb(p) for _, p in rows]))
    return db.execute("SELECT current_setting('medallion.promotion_path', true)").fetchone()[0]


def _unplaced(db, case_id: str) -> list[tuple]:
    return db.execute("SELECT record_index, raw_tax_year, transaction_count FROM at_unplaced_records"
                      " WHERE case_id = %s ORDER BY record_index", (case_id,)).fetchall()


def test_unplaced_records_keep_their_transaction_counts(db):
    set_as_of(db)
    payload = {"at_records": [
        record(2020, [tx("150", "04-15-2021", 100.0)]),
        record("Unknown", []),                                                          # none
        record("Unknown", [tx("150", "04-15-2020", 10.0), tx("196", "05-01-2020", 2.0),
                           tx("276", "05-01-2020", 1.0)]),                             # three
        {"tax_year": "n/a", "activity": {"code": "150", "date": "04-15-2019", "amount": 5.0}},  # one object
    ]}
    assert _insert(db, [(c, payload) for c in CASES]) == f"batch:at:{len(CASES)}"
    expected = [(2, "Unknown", 0), (3, "Unknown", 3), (4, "n/a", 1)]
    for case_id in CASES:
        assert _unplaced(db, case_id) == expected
    # the per-case path (at_parsed_records' own count) stores the same
    assert _insert(db, [("735000009", payload)]) == "per_case:at:1"
    assert _unplaced(db, "735000009") == expected


def test_the_flattening_sorts_stay_in_memory(db):
    """150 sandbox cases: 027's sorts read ~10 MB of whole arrays and spilled at the default
    work_mem (4 MB); one element per row is well under it."""
    db.execute("SET LOCAL work_mem = '4MB'")
    cases = [str(7_435_000 + i) for i in range(150)]
    plans: list[str] = []
    db.add_notice_handler(lambda d: plans.append(d.message_primary))
    db.execute("LOAD 'auto_explain'")
    for setting, value in (("log_min_duration", "0"), ("log_analyze", "on"), ("log_timing", "off"),
                           ("log_nested_statements", "on"), ("log_level", "notice")):
        db.execute(f"SET LOCAL auto_explain.{setting} = '{value}'")
    assert _insert(db, [(c, data.at_payload(c)) for c in cases]) == f"batch:at:{len(cases)}"
    db.execute("SET LOCAL auto_explain.log_min_duration = -1")

    flattening = [p for p in plans if "generate_subscripts(p.lines, 1)" in p and "at_record_lines" in p]
    assert len(flattening) == 1
    methods = re.findall(r"Sort Method: ([\w -]+?)\s+(?:Memory|Disk)", flattening[0])
    assert len(methods) >= 2, flattening[0]
    assert all(m == "quicksort" for m in methods), methods
