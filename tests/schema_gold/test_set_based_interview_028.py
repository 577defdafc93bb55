"""Migration 028 (docs/05_TRIGGER_PERFORMANCE.md section 11): an interview bronze statement writes
logiqs_raw_data with one upsert for all its cases. A changed interview in bulk updates its own
case exactly as a per-case load does (and so its gold), an unchanged one is not rewritten, and
cases with the same interview each keep their own row. (test_set_based_promotion_018.py covers a
first load in bulk and a malformed payload among good ones.)"""

from __future__ import annotations

import copy

from psycopg.types.json import Jsonb

from sandbox import data

CASES = [str(7_428_000 + i) for i in range(5)]
GOLD = ("employment_information", "household_information", "monthly_expenses", "income_sources",
        "financial_accounts", "vehicles", "real_property")


def _insert(db, rows: list[tuple[str, dict]]) -> str:
    db.execute("INSERT INTO bronze_interview_raw (case_id, raw_response) SELECT * FROM unnest(%s::text[], %s::jsonb[])",
               ([c for c, _ in rows], [Jsonb(p) for _, p in rows]))
    return db.execute("SELECT current_setting('medallion.promotion_path', true)").fetchone()[0]


def _state(db) -> dict[str, list]:
    """logiqs_raw_data and the interview gold tables per case, without ids, lineage and times."""
    out = {}
    for table in ("logiqs_raw_data", *GOLD):
        cols = [c for (c,) in db.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped"
            " ORDER BY attnum", (f"public.{table}",)) if c not in {"id", "bronze_id", "created_at", "updated_at"}]
        out[table] = sorted(tuple(str(v) for v in r) for r in db.execute(
            f"SELECT {', '.join(cols)} FROM public.{table} WHERE case_id = ANY (%s)", (CASES,)))
    return out


def _changed(payload: dict) -> dict:
    """The same interview with the employer (b3) and the food expense (b56) changed."""
    out = copy.deepcopy(payload)
    out["employment"]["clientEmployer"] = "Changed Employer LLC"
    out["expenses"]["foodClothingMisc"]["food"] = 987.65
    return out


def test_changed_interviews_in_bulk_update_their_own_case_as_per_case_loads_do(db):
    first = [(c, data.interview_payload(c)) for c in CASES]
    first[1] = (CASES[1], first[0][1])  # two cases with the same interview
    second = [(c, _changed(p)) if c in CASES[:2] else (c, p) for c, p in first]

    db.execute("SAVEPOINT before")
    assert _insert(db, first) == f"batch:interview:{len(CASES)}"
    versions = dict(db.execute("SELECT case_id, ctid::text FROM logiqs_raw_data WHERE case_id = ANY (%s)",
                             (CASES,)).fetchall())
    # (bronze stores a payload only when it changed: the second statement holds the two changed)
    assert _insert(db, second) == "batch:interview:2"
    bulk = _state(db)
    after = dict(db.execute("SELECT case_id, ctid::text FROM logiqs_raw_data WHERE case_id = ANY (%s)",
                            (CASES,)).fetchall())
    # only the changed rows rewritten (a new row version)
    assert [c for c in CASES if after[c] != versions[c]] == CASES[:2]
    assert db.execute("SELECT case_id FROM logiqs_raw_data WHERE case_id = ANY (%s)"
                      " AND b3 = 'Changed Employer LLC' AND b56 = 987.65 ORDER BY 1", (CASES,)).fetchall() == [
        (c,) for c in CASES[:2]]
    assert db.execute("SELECT count(*) FROM transformation_errors WHERE case_id = ANY (%s)",
                      (CASES,)).fetchone()[0] == 0

    db.execute("ROLLBACK TO SAVEPOINT before")
    for rows in (first, second):
        for row in rows:
            assert _insert(db, [row]) in ("per_case:interview:1", "per_case:interview:0")  # 0: unchanged, not stored
    assert _state(db) == bulk
