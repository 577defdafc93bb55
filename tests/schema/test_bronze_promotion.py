"""AT promotion behaviour: idempotency (identical rows AND values, no churn), a changed payload
replacing the case's rows as a unit, error capture that changes nothing else, concurrent
ingestion of one case, rebuild, and the sandbox generator's payloads loading without errors."""

from __future__ import annotations

import threading

import psycopg
import pytest
from psycopg.types.json import Jsonb

from tests.schema import (
    AS_OF,
    SILVER_AT_TABLES,
    dump,
    errors,
    ingest,
    new_case_id,
    record,
    set_as_of,
    tx,
    year_row,
)

V1 = {
    "at_records": [
        record(
            2019,
            [
                tx("150", "2020-07-15", 5000.00),
                tx("290", "2022-03-14", 1860.00),
                tx("670", "2020-09-01", -300.0),
            ],
        ),
        record(2020, [tx("150", "2021-08-23", 2000.00), tx("480", "2022-02-14"), tx("481", "2022-09-26")]),
        record(2021, [tx("150", "2022-04-11", 900.00), tx("520", "2023-03-06", closing_code="65")]),
        {"tax_year": "Unknown", "transactions": []},
    ]
}
V2 = {  # 2020 gone, 2021's assessment changed and its bankruptcy closed, 2022 new, no unplaced record
    "at_records": [
        record(
            2019,
            [
                tx("150", "2020-07-15", 5000.00),
                tx("290", "2022-03-14", 1860.00),
                tx("670", "2020-09-01", -300.0),
            ],
        ),
        record(
            2021,
            [
                tx("150", "2022-04-11", 950.00),
                tx("520", "2023-03-06", closing_code="65"),
                tx("521", "2023-09-05"),
            ],
        ),
        record(2022, [tx("150", "2023-04-10", 100.00)], filing_status="Head of Household"),
    ]
}

# Columns that are identity/lineage/timestamps rather than content (for comparing two cases).
_VOLATILE = {"id", "case_id", "bronze_id", "created_at", "updated_at", "activity_id", "ctid"}


def physical_dump(conn, case_id):
    """Every column plus ctid: an UPDATE (even to identical values) moves the row to a new ctid."""
    out = {}
    for table, order in SILVER_AT_TABLES.items():
        out[table] = conn.execute(
            f"SELECT ctid::text, * FROM {table} WHERE case_id = %s ORDER BY {order}", (case_id,)
        ).fetchall()
    return out


def content(conn, case_id):
    out = {}
    for table, order in SILVER_AT_TABLES.items():
        cur = conn.execute(f"SELECT * FROM {table} WHERE case_id = %s ORDER BY {order}", (case_id,))
        keep = [i for i, c in enumerate(cur.description) if c.name not in _VOLATILE]
        out[table] = [tuple(row[i] for i in keep) for row in cur.fetchall()]
    return out


def latest_bronze(conn, case_id):
    return conn.execute(
        "SELECT bronze_id FROM bronze_at_raw WHERE case_id = %s ORDER BY ingest_seq DESC"
        " LIMIT 1",
        (case_id,),
    ).fetchone()[0]


def test_loading_the_same_bronze_row_again_changes_nothing(db):
    case = new_case_id()
    set_as_of(db)
    ingest(db, case, V1)
    before = physical_dump(db, case)
    assert sum(len(rows) for rows in before.values()) > 10
    db.execute("SELECT silver_load_at(%s)", (latest_bronze(db, case),))
    assert physical_dump(db, case) == before  # same rows, same values, not even rewritten
    assert db.execute("SELECT bool_and(ok) FROM rebuild_from_bronze(%s)", (case,)).fetchone() == (True,)
    assert physical_dump(db, case) == before
    ingest(db, case, V1)  # identical payload: bronze skips it
    assert db.execute("SELECT count(*) FROM bronze_at_raw WHERE case_id = %s", (case,)).fetchone() == (1,)
    assert physical_dump(db, case) == before
    assert errors(db, case) == []


def test_changed_payload_replaces_the_case_rows_like_a_fresh_load(db):
    case, fresh = new_case_id(), new_case_id()
    set_as_of(db)
    ingest(db, case, V1)
    unchanged_2019 = db.execute(
        "SELECT ctid::text, * FROM account_activity WHERE case_id = %s AND tax_year = 2019"
        " ORDER BY transaction_code",
        (case,),
    ).fetchall()
    ingest(db, case, V2)
    ingest(db, fresh, V2)
    assert errors(db, case) == [] and errors(db, fresh) == []
    assert content(db, case) == content(db, fresh)
    assert [
        r[0] for r in db.execute("SELECT tax_year FROM tax_years WHERE case_id = %s ORDER BY 1", (case,))
    ] == [2019, 2021, 2022]
    assert db.execute("SELECT count(*) FROM at_unplaced_records WHERE case_id = %s", (case,)).fetchone() == (
        0,
    )
    # The untouched year's lines were not rewritten.
    assert (
        db.execute(
            "SELECT ctid::text, * FROM account_activity WHERE case_id = %s AND tax_year = 2019"
            " ORDER BY transaction_code",
            (case,),
        ).fetchall()
        == unchanged_2019
    )
    ty = year_row(db, case, 2021)
    # 2021: TC 150 2022-04-11 -> 2032-04-11; bankruptcy [2023-03-06, 2023-09-05 + 6 months = 2024-03-05]
    # = 26 + 30 + 31 + 30 + 31 + 31 + 30 + 31 + 30 + 31 + 31 + 29 + 5 = 366 days -> 2033-04-12.
    assert (ty["csed_status"], str(ty["csed_date"])) == ("running", "2033-04-12")


@pytest.mark.parametrize(
    "bad",
    [
        {"at_records": "oops"},
        {"at_records": [5]},
        {"at_records": [{"tax_year": 2020, "transactions": ["150"]}]},
        {"at_records": [{"tax_year": 2020, "transactions": "150 2020-01-01"}]},
        {
            "at_records": [
                record(2019, [tx("150", "2020-07-15", 1.0)]),
                {"tax_year": 2020, "activity": [[1, 2]]},
            ]
        },
        {"something": "else"},
        "not an object",
    ],
)
def test_malformed_payload_keeps_bronze_records_one_error_and_changes_nothing(db, bad):
    case = new_case_id()
    set_as_of(db)
    ingest(db, case, V1)
    before = physical_dump(db, case)
    ingest(db, case, bad)
    assert db.execute("SELECT count(*) FROM bronze_at_raw WHERE case_id = %s", (case,)).fetchone() == (2,)
    errs = db.execute(
        "SELECT layer, table_name, bronze_id, sqlstate, message FROM transformation_errors"
        " WHERE case_id = %s",
        (case,),
    ).fetchall()
    assert len(errs) == 1
    layer, table, bronze_id, sqlstate, message = errs[0]
    bad_row = db.execute(
        "SELECT bronze_id FROM bronze_at_raw WHERE case_id = %s AND raw_response = %s", (case, Jsonb(bad))
    ).fetchone()[0]
    assert (layer, table, bronze_id, sqlstate) == ("silver", "bronze_at_raw", bad_row, "22000")
    assert "AT payload" in message or "AT record" in message
    assert physical_dump(db, case) == before


def _ingest_in_thread(url, case_id, payload, barrier, failures):
    try:
        with psycopg.connect(url) as conn:
            conn.execute("SELECT set_config('medallion.as_of_date', %s, false)", (AS_OF,))
            barrier.wait(timeout=30)
            conn.execute(
                "INSERT INTO bronze_at_raw (case_id, raw_response) VALUES (%s, %s)", (case_id, Jsonb(payload))
            )
            conn.commit()
    except Exception as exc:  # noqa: BLE001 - reported to the main thread
        failures.append(exc)


def _concurrent(url, case_id, payloads):
    barrier, failures = threading.Barrier(len(payloads)), []
    threads = [
        threading.Thread(target=_ingest_in_thread, args=(url, case_id, p, barrier, failures))
        for p in payloads
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert failures == []


@pytest.fixture
def committed_case(database_url, case_id):
    yield case_id
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("DELETE FROM transformation_errors WHERE case_id = %s", (case_id,))
        conn.execute("DELETE FROM cases WHERE case_id = %s", (case_id,))


def test_concurrent_ingestion_of_the_same_payload_stores_it_once(database_url, committed_case, db):
    _concurrent(database_url, committed_case, [V1, V1, V1])
    assert db.execute(
        "SELECT count(*) FROM bronze_at_raw WHERE case_id = %s", (committed_case,)
    ).fetchone() == (1,)
    reference = new_case_id()
    set_as_of(db)
    ingest(db, reference, V1)
    assert content(db, committed_case) == content(db, reference)
    assert errors(db, committed_case) == []


def test_concurrent_different_payloads_leave_one_whole_version(database_url, committed_case, db):
    _concurrent(database_url, committed_case, [V1, V2])
    assert db.execute(
        "SELECT count(*) FROM bronze_at_raw WHERE case_id = %s", (committed_case,)
    ).fetchone() == (2,)
    set_as_of(db)
    versions = []
    for payload in (V1, V2):
        reference = new_case_id()
        ingest(db, reference, payload)
        versions.append(content(db, reference))
    assert content(db, committed_case) in versions  # never a mix, never duplicates
    assert errors(db, committed_case) == []


# --------------------------------------------------------------------------------------------
# The sandbox generator (sandbox/data.py): generated payloads load without error rows, and the
# CSED scenario cases give the dates their behaviour table derives by hand.

data = pytest.importorskip("sandbox.data")

CSED_EXPECTED = {  # case: (focus year, csed_date or None, status) as in sandbox BEHAVIOURS[case].expected
    "2000001": (2017, "2030-06-08", "running"),
    "2000002": (2018, "2029-06-25", "running"),
    "2000003": (2017, "2029-01-31", "running"),
    "2000004": (2017, "2028-10-23", "running"),
    "2000005": (2018, "2030-05-13", "running"),
    "2000006": (2018, None, "suspended_open"),
    "2000007": (2017, "2028-10-31", "running"),
    "2000008": (2017, "2028-12-25", "running"),
    "2000009": (2015, "2026-02-28", "running"),
    "2000010": (2018, "2029-05-28", "running"),
    "2000011": (2013, "2024-08-22", "expired"),
}


def _load_sandbox_case(db, case):
    set_as_of(db)
    ingest(db, case, data.at_payload(case))
    trt = data.trt_payload(case)
    if trt is not None:
        ingest(db, case, trt, source="trt")
    # The session database may already hold this sandbox case from another test: rebuild so the
    # rows reflect this test's "today".
    db.execute("SELECT * FROM rebuild_from_bronze(%s)", (case,))


@pytest.mark.parametrize("case", ["1295022", "1000001", "1000002", "3000001", "3000002", "5000404"])
def test_sandbox_payloads_load_without_errors(db, case):
    _load_sandbox_case(db, case)
    assert db.execute(
        "SELECT count(*) FROM transformation_errors WHERE case_id = %s AND table_name IN"
        " ('bronze_at_raw', 'bronze_trt_raw')",
        (case,),
    ).fetchone() == (0,)
    years = {r["tax_year"] for r in data.at_payload(case).get("at_records", [])}
    assert db.execute("SELECT count(*) FROM tax_years WHERE case_id = %s", (case,)).fetchone()[0] >= max(
        1, len(years)
    )
    assert db.execute("SELECT count(*) FROM account_activity WHERE case_id = %s", (case,)).fetchone()[0] > 0
    if data.trt_payload(case):
        assert db.execute("SELECT count(*) FROM trt_records WHERE case_id = %s", (case,)).fetchone()[
            0
        ] == len(data.trt_payload(case)["records"])


@pytest.mark.parametrize("case", sorted(CSED_EXPECTED))
def test_sandbox_csed_scenarios(db, case):
    year, csed, status = CSED_EXPECTED[case]
    if csed:
        assert csed in data.behaviour(case).expected
    _load_sandbox_case(db, case)
    ty = year_row(db, case, year)
    assert (None if ty["csed_date"] is None else str(ty["csed_date"]), ty["csed_status"]) == (csed, status)
    assert dump(db, case)["csed_assessments"]
