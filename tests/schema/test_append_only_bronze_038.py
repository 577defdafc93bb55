"""Migration 038: the bronze payload tables and bronze_rejected_payloads are append-only (a row
leaves only with its case), and the silver lineage columns no longer carry foreign keys to them."""

from __future__ import annotations

import psycopg
import pytest

from sandbox import data
from tests.schema import errors, ingest, new_case_id, set_as_of

BRONZE = ("bronze_at_raw", "bronze_wi_raw", "bronze_trt_raw", "bronze_interview_raw")
BUILDERS = {"at": data.at_payload, "wi": data.wi_payload, "trt": data.trt_payload,
            "interview": data.interview_payload}
# silver tables whose bronze_id names a row of this bronze table
LINEAGE = {"bronze_at_raw": ("tax_years", "account_activity", "csed_assessments", "csed_tolling_events",
                             "at_unplaced_records"),
           "bronze_wi_raw": ("income_documents",),
           "bronze_trt_raw": ("trt_records",),
           "bronze_interview_raw": ("logiqs_raw_data",)}


def _case_with_all_sources() -> str:
    """A new case id for which the sandbox has all four payloads (about half have no TRT)."""
    while True:
        case_id = new_case_id()
        if all(build(case_id) is not None for build in BUILDERS.values()):
            return case_id


def _ingest_all(db, case_id: str) -> None:
    for source, build in BUILDERS.items():
        ingest(db, case_id, build(case_id), source)


def _bronze_rows(db, case_id: str) -> dict[str, int]:
    return {t: db.execute(f"SELECT count(*) FROM {t} WHERE case_id = %s", (case_id,)).fetchone()[0]
            for t in BRONZE}


@pytest.mark.parametrize("table", BRONZE)
def test_a_bronze_row_cannot_be_updated_or_deleted_on_its_own(db, table):
    case = _case_with_all_sources()
    set_as_of(db)
    _ingest_all(db, case)
    before = db.execute(f"SELECT bronze_id, raw_response FROM {table} WHERE case_id = %s", (case,)).fetchall()
    assert before
    with pytest.raises(psycopg.errors.RestrictViolation, match="append-only: UPDATE is not allowed"):
        with db.transaction():
            db.execute(f"UPDATE {table} SET raw_response = '{{}}' WHERE case_id = %s", (case,))
    with pytest.raises(psycopg.errors.RestrictViolation, match="cannot be deleted on its own") as raised:
        with db.transaction():
            db.execute(f"DELETE FROM {table} WHERE case_id = %s", (case,))
    assert "DELETE FROM cases" in raised.value.diag.message_hint
    with pytest.raises(psycopg.errors.RestrictViolation, match="TRUNCATE is not allowed"):
        with db.transaction():
            db.execute(f"TRUNCATE {table} CASCADE")
    assert db.execute(f"SELECT bronze_id, raw_response FROM {table} WHERE case_id = %s",
                      (case,)).fetchall() == before


def test_a_rejected_body_cannot_be_updated_or_deleted_on_its_own(db):
    case = new_case_id()
    db.execute("SELECT ensure_case(%s)", (case,))
    db.execute("INSERT INTO bronze_rejected_payloads (case_id, source, body_text, error)"
               " VALUES (%s, 'at', '{\"at_records\": [', 'not JSON')", (case,))
    for statement in ("UPDATE bronze_rejected_payloads SET body_text = '' WHERE case_id = %s",
                      "DELETE FROM bronze_rejected_payloads WHERE case_id = %s"):
        with pytest.raises(psycopg.errors.RestrictViolation, match="append-only"):
            with db.transaction():
                db.execute(statement, (case,))
    assert db.execute("SELECT body_text FROM bronze_rejected_payloads WHERE case_id = %s",
                      (case,)).fetchall() == [('{"at_records": [',)]
    db.execute("DELETE FROM cases WHERE case_id = %s", (case,))
    assert db.execute("SELECT count(*) FROM bronze_rejected_payloads WHERE case_id = %s", (case,)).fetchone()[0] == 0


def test_deleting_the_case_removes_its_bronze_rows_and_nothing_else(db):
    case, other = _case_with_all_sources(), _case_with_all_sources()
    set_as_of(db)
    for c in (case, other):
        _ingest_all(db, c)
    assert errors(db, case) == [] and errors(db, other) == []
    other_before = _bronze_rows(db, other)
    assert all(_bronze_rows(db, case).values()) and all(other_before.values())
    db.execute("DELETE FROM cases WHERE case_id = %s", (case,))
    assert _bronze_rows(db, case) == dict.fromkeys(BRONZE, 0)
    assert db.execute("SELECT count(*) FROM account_activity WHERE case_id = %s", (case,)).fetchone()[0] == 0
    assert _bronze_rows(db, other) == other_before


def test_silver_lineage_names_an_existing_bronze_row_of_the_case(db):
    """Without the keys, the lineage is the loaders' doing: after a first load and a changed
    payload, every silver row's bronze_id is a bronze row of the same case."""
    case = _case_with_all_sources()
    set_as_of(db)
    _ingest_all(db, case)
    changed = data.at_payload(case)
    changed["at_records"] = changed["at_records"][:-1]
    ingest(db, case, changed, "at")
    assert errors(db, case) == []
    for bronze, tables in LINEAGE.items():
        for table in tables:
            rows, dangling = db.execute(
                f"SELECT count(*), count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM {bronze} AS b"
                f" WHERE b.bronze_id = s.bronze_id AND b.case_id = s.case_id)) FROM {table} AS s"
                " WHERE s.case_id = %s", (case,)).fetchone()
            assert dangling == 0, (table, rows, dangling)


def test_no_foreign_key_references_a_bronze_payload_table(db):
    referencing = db.execute(
        "SELECT conrelid::regclass::text, conname FROM pg_constraint"
        " WHERE contype = 'f' AND confrelid::regclass::text = ANY (%s)", (list(BRONZE),)).fetchall()
    assert referencing == []
