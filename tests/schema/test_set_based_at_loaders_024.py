"""Migration 024 (docs/05_TRIGGER_PERFORMANCE.md section 10): a bronze statement's AT payloads are
loaded into tax_years, account_activity and at_unplaced_records by one statement per table for
all its cases. Every grouping, dedup and delete must stay within a case: cases with identical
payloads each keep all their rows, and one case's reload never touches another's."""

from __future__ import annotations

from psycopg.types.json import Jsonb

from tests.schema import SILVER_AT_TABLES, dump, record, set_as_of, tx

CASES = ["724000001", "724000002", "724000003"]


def _at(*years: int, extra_line: bool = False) -> dict:
    records = []
    for year in years:
        lines = [tx("150", f"04-15-{year + 1}", 1200.0, "Tax return filed"),
                 tx("196", f"05-20-{year + 1}", 35.5, "Interest charged"),
                 tx("196", f"05-20-{year + 1}", 35.5, "Interest charged"),  # a repeated line counts twice
                 tx("971", f"06-01-{year + 1}", 0, "Collection due process request", action_code="275")]
        if extra_line:
            lines.append(tx("670", f"07-01-{year + 1}", -100.0, "Payment"))
        records.append(record(year, lines))
    records.append(record("Unknown", [tx("150", "04-15-2020", 10.0)]))  # an unplaced record
    return {"at_records": records}


def _insert(db, rows: list[tuple[str, dict]]) -> str:
    db.execute("INSERT INTO bronze_at_raw (case_id, raw_response) SELECT * FROM unnest(%s::text[], %s::jsonb[])",
               ([c for c, _ in rows], [Jsonb(p) for _, p in rows]))
    return db.execute("SELECT current_setting('medallion.promotion_path', true)").fetchone()[0]


def _rows(db, case_id: str) -> dict[str, list[tuple]]:
    """The case's silver AT rows without ids, lineage and timestamps, to compare across cases."""
    out = {}
    for table, data in dump(db, case_id).items():
        cols = [c for (c,) in db.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped"
            " ORDER BY attnum", (f"public.{table}",))]
        keep = [i for i, c in enumerate(cols)
                if c not in {"id", "case_id", "bronze_id", "activity_id", "created_at", "updated_at"}]
        out[table] = [tuple(r[i] for i in keep) for r in data]
    return out


def test_cases_with_identical_payloads_each_keep_all_their_rows(db):
    set_as_of(db)
    assert _insert(db, [(c, _at(2019, 2021)) for c in CASES]) == f"batch:at:{len(CASES)}"
    first = _rows(db, CASES[0])
    assert len(first["tax_years"]) == 2 and len(first["at_unplaced_records"]) == 1
    assert len(first["account_activity"]) == 8          # 4 lines x 2 years, the repeated 196 twice
    assert len(first["csed_assessments"]) == 2
    for other in CASES[1:]:
        assert _rows(db, other) == first
    # the same payload loaded by the per-case path gives the same rows
    assert _insert(db, [("724000009", _at(2019, 2021))]) == "per_case:at:1"
    assert _rows(db, "724000009") == first


def test_a_reload_in_bulk_changes_each_case_alone(db):
    set_as_of(db)
    _insert(db, [(c, _at(2019, 2021)) for c in CASES])
    untouched = dump(db, CASES[2], SILVER_AT_TABLES)
    # case 1 drops 2021 and its unplaced record; case 2 gains a line; case 3 is not in the statement
    reload = {"at_records": [r for r in _at(2019)["at_records"] if r["tax_year"] != "Unknown"]}
    assert _insert(db, [(CASES[0], reload), (CASES[1], _at(2019, 2021, extra_line=True))]) == "batch:at:2"
    one, two = _rows(db, CASES[0]), _rows(db, CASES[1])
    assert [r[0] for r in db.execute("SELECT tax_year FROM tax_years WHERE case_id = %s", (CASES[0],))] == [2019]
    assert one["at_unplaced_records"] == [] and len(one["account_activity"]) == 4
    assert len(two["account_activity"]) == 10 and len(two["tax_years"]) == 2
    assert dump(db, CASES[2], SILVER_AT_TABLES) == untouched
