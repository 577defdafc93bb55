"""Migration 039 (docs/05_TRIGGER_PERFORMANCE.md section 15): rebuild_from_bronze() promotes the
latest bronze rows through the set-based path, up to 500 cases per batch, instead of case by case.
What it leaves must be what ingesting the same payloads under the same rules leaves; a payload
that cannot be transformed fails only its own case; every case is reported once per source."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest
from psycopg.types.json import Jsonb

from backend.app.db.migrate import apply_migrations
from sandbox import data
from tests.schema_gold.test_set_based_promotion_018 import (
    BAD,
    CASES,
    SOURCES,
    _ingest_per_case,
    _insert,
    _lineage,
    _payloads,
    _snapshot,
)


@pytest.fixture(scope="module")
def database_url(create_database) -> str:
    """This module's own database (conftest's `db` connects to it): a full rebuild reads every
    case, and tests elsewhere commit cases to the shared one.

    Autovacuum is off for its tables. Its tables hold only the dead rows of rolled-back tests, and
    a VACUUM while a test's bulk insert is uncommitted would set their statistics to 0 rows over
    N pages. A plan made after that estimates one row per table: the 501-case rebuild then ran for
    minutes instead of a second (docs/05 section 15.3)."""
    url = create_database("medallion_rebuild")
    apply_migrations(url, log=lambda _msg: None)
    with psycopg.connect(url, autocommit=True) as conn:
        for (table,) in conn.execute("SELECT oid::regclass::text FROM pg_class"
                                     " WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'").fetchall():
            conn.execute(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")
    return url


def _path(db) -> str:
    return db.execute("SELECT current_setting('medallion.promotion_path', true)").fetchone()[0]


def _rebuild(db) -> list[tuple]:
    db.execute("SELECT set_config('medallion.promotion_path', '', true)")  # what the inserts left
    return db.execute("SELECT source, case_id, bronze_id, ok FROM rebuild_from_bronze() ORDER BY 1, 2").fetchall()


def test_a_full_rebuild_after_a_rule_change_equals_ingesting_under_the_new_rule(db):
    rows = _payloads(CASES)
    db.execute("SAVEPOINT before")
    for source in SOURCES:
        _insert(db, source, rows[source])
    original = _snapshot(db, CASES)
    # the rule change a rebuild exists for: interest no longer counts in the projections
    assert db.execute("UPDATE wi_type_rules SET include_in_projection = false"
                      " WHERE form_code = '1099-INT'").rowcount >= 1
    rebuilt = _rebuild(db)
    assert _path(db) == f"batch:interview:{len(rows['interview'])}"  # the last source's batch
    latest = {(s, c): b for s, c, b in db.execute(
        "SELECT DISTINCT ON (s, case_id) s, case_id, bronze_id FROM ("
        " SELECT 'at' AS s, case_id, bronze_id, ingest_seq FROM bronze_at_raw UNION ALL"
        " SELECT 'wi', case_id, bronze_id, ingest_seq FROM bronze_wi_raw UNION ALL"
        " SELECT 'trt', case_id, bronze_id, ingest_seq FROM bronze_trt_raw UNION ALL"
        " SELECT 'interview', case_id, bronze_id, ingest_seq FROM bronze_interview_raw) AS b"
        " WHERE case_id = ANY (%s) ORDER BY s, case_id, ingest_seq DESC", (CASES,))}
    assert {(s, c): b for s, c, b, _ in rebuilt} == latest and len(rebuilt) == len(latest)  # once each
    assert all(ok for *_, ok in rebuilt)
    after = _snapshot(db, CASES)
    assert after != original  # the change moved something (the projections), so the check below can fail
    assert _lineage(db, CASES) == []

    db.execute("ROLLBACK TO SAVEPOINT before")
    db.execute("UPDATE wi_type_rules SET include_in_projection = false WHERE form_code = '1099-INT'")
    _ingest_per_case(db, rows)
    assert _snapshot(db, CASES) == after


def test_a_payload_that_cannot_be_transformed_fails_only_its_case_in_a_rebuild(db):
    rows = _payloads(CASES)
    bad_case = rows["wi"][1][0]
    rows["wi"] = [(c, BAD["wi"] if c == bad_case else p) for c, p in rows["wi"]]
    for source in SOURCES:
        _insert(db, source, rows[source])
    before = _snapshot(db, CASES)
    rebuilt = _rebuild(db)
    assert [(s, c) for s, c, _, ok in rebuilt if not ok] == [("wi", bad_case)]
    after = _snapshot(db, CASES)
    # the batch fell back to case by case, which recorded the bad payload's error once more
    assert after["errors"] == sorted(before["errors"] * 2)
    assert {k: v for k, v in after.items() if k != "errors"} == {k: v for k, v in before.items() if k != "errors"}


def test_more_than_500_cases_are_rebuilt_in_batches_of_500(db):
    cases = [str(7_439_000 + i) for i in range(501)]
    db.execute("INSERT INTO bronze_at_raw (case_id, raw_response) SELECT * FROM unnest(%s::text[], %s::jsonb[])",
               (cases, [Jsonb(data.at_payload(c)) for c in cases]))
    before = db.execute("SELECT case_id, tax_year, csed_date, csed_status FROM tax_years"
                        " WHERE case_id = ANY (%s) ORDER BY 1, 2", (cases,)).fetchall()
    rebuilt = _rebuild(db)
    assert [(s, c) for s, c, _, ok in rebuilt if ok] == [("at", c) for c in sorted(cases)]
    assert _path(db) == "per_case:at:1"  # 500 in the first batch, the 501st on its own
    assert db.execute("SELECT case_id, tax_year, csed_date, csed_status FROM tax_years"
                      " WHERE case_id = ANY (%s) ORDER BY 1, 2", (cases,)).fetchall() == before
    assert len(before) >= 501


def test_a_rebuild_waiting_on_an_ingestion_promotes_the_payload_that_ingestion_stored(database_url):
    """A rebuild that reaches a case while an ingestion of it is uncommitted waits for its lock, and
    must then promote the newer payload, not the one it listed before waiting (001 did)."""
    case = "7439901"
    first = data.wi_payload(case)
    years = {y: (v[:-1] if isinstance(v, list) else v) for y, v in first["years_data"].items()}
    second = {**first, "years_data": years}  # one form per year fewer
    insert = "INSERT INTO bronze_wi_raw (case_id, raw_response) VALUES (%s, %s) RETURNING bronze_id"
    with psycopg.connect(database_url, autocommit=True) as setup:
        setup.execute(insert, (case, Jsonb(first)))
    with psycopg.connect(database_url) as ingestion, psycopg.connect(database_url) as rebuild:
        newer = ingestion.execute(insert, (case, Jsonb(second))).fetchone()[0]  # holds the case's lock
        pid = rebuild.info.backend_pid
        result: list = []
        thread = threading.Thread(target=lambda: result.extend(rebuild.execute(
            "SELECT source, bronze_id FROM rebuild_from_bronze(%s)", (case,)).fetchall()))
        thread.start()
        try:
            with psycopg.connect(database_url, autocommit=True) as watch:
                for _ in range(500):  # until the rebuild waits for the advisory lock
                    if watch.execute("SELECT count(*) FROM pg_locks WHERE pid = %s AND locktype = 'advisory'"
                                     " AND NOT granted", (pid,)).fetchone()[0]:
                        break
                    time.sleep(0.01)
                else:
                    pytest.fail("the rebuild never waited for the ingestion's lock")
            ingestion.commit()
        finally:
            thread.join(timeout=30)
        rebuild.commit()
        stored = rebuild.execute("SELECT DISTINCT bronze_id FROM income_documents WHERE case_id = %s",
                                 (case,)).fetchall()
        rebuild.execute("DELETE FROM cases WHERE case_id = %s", (case,))  # the other tests rebuild every case
        rebuild.commit()
    assert result == [("wi", newer)]
    assert stored == [(newer,)]
