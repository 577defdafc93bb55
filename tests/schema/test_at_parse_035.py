"""Migration 035 (docs/05_TRIGGER_PERFORMANCE.md section 13): a bulk AT statement parses its
records without counting their transactions (only an unplaced record stores the count, and
at_load_unplaced_set now takes it), and flattens records and lines with sorts of one element
per row. 027's sorts carried each payload's whole array in every row and spilled to disk."""

from __future__ import annotations

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
    # a case loaded on its own (the per-case path, a one-case statement) stores the same
    assert _insert(db, [("735000009", payload)]) == "per_case:at:1"
    assert _unplaced(db, "735000009") == expected


def test_the_flattening_sorts_stay_in_memory(db):
    """150 sandbox cases. From Postgres 16 on, an aggregate's ORDER BY is done by a Sort below it,
    on the rows it reads: under 027 those rows held each payload's whole array (~10 MB here),
    which spilled to temporary files at the default work_mem (4 MB); one element per row is
    well under it. (Postgres 15 sorted the aggregate's arguments, the element, and never
    spilled.) Every temporary file the server writes is reported to this session
    (log_temp_files = 0), with the statement that wrote it."""
    db.execute("SET LOCAL work_mem = '4MB'")
    db.execute("SET LOCAL log_temp_files = 0")
    db.execute("SET LOCAL client_min_messages = log")
    temp_files: list[str] = []
    db.add_notice_handler(lambda d: temp_files.append(d.context or "")
                          if (d.message_primary or "").startswith("temporary file") else None)
    cases = [str(7_435_000 + i) for i in range(150)]
    assert _insert(db, [(c, data.at_payload(c)) for c in cases]) == f"batch:at:{len(cases)}"
    assert db.execute("SELECT count(*) FROM account_activity WHERE case_id = ANY (%s)", (cases,)).fetchone()[0] > 3000
    flattening = [c for c in temp_files if "at_record_lines" in c and "generate_subscripts" in c]
    assert flattening == []
