"""TRT bronze -> trt_records (upstream-apis.md 2.7): both mapping generations, value formats,
idempotency, replacement and error capture."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tests.schema import errors, ingest, new_case_id

UPSTREAM_EXAMPLE = {
    "records": [
        {
            "response_date": "2023-02-10",
            "form_number": "1040",
            "tax_period_ending": "2022-12-31",
            "primary_ssn": "XXX-XX-1111",
            "spouse_ssn": "",
            "type": "Form",
            "category": "Income",
            "sub_category": "Wages",
            "line_number": "1a",
            "description": "Wages, salaries, tips",
            "data": "$48,200",
        },
        {
            "response_date": "2023-02-10",
            "form_number": "Schedule C",
            "tax_period_ending": "2022-12-31",
            "type": "Schedule",
            "category": "Expenses",
            "sub_category": "Car and truck expenses",
            "line_number": "9",
            "data": "(1,250)",
        },
    ]
}

TRT_TABLE = {"trt_records": "tax_year, form_number, line_number, occurrence"}
COLUMNS = (
    "tax_year, response_date, form_number, tax_period_ending, primary_ssn_last4,"
    " spouse_ssn_last4, type, category,"
    " sub_category, line_number, description, data, numeric_value"
)


def rows(db, case):
    return db.execute(
        f"SELECT {COLUMNS} FROM trt_records WHERE case_id = %s ORDER BY record_index", (case,)
    ).fetchall()


def load(db, payload):
    case = new_case_id()
    ingest(db, case, payload, source="trt")
    assert errors(db, case) == []
    return case


def test_phase1_generation_keys(db):
    case = load(db, UPSTREAM_EXAMPLE)
    assert rows(db, case) == [
        (
            2022,
            dt.date(2023, 2, 10),
            "1040",
            dt.date(2022, 12, 31),
            "1111",
            None,
            "Form",
            "Income",
            "Wages",
            "1a",
            "Wages, salaries, tips",
            "$48,200",
            Decimal("48200.00"),
        ),
        (
            2022,
            dt.date(2023, 2, 10),
            "Schedule C",
            dt.date(2022, 12, 31),
            None,
            None,
            "Schedule",
            "Expenses",
            "Car and truck expenses",
            "9",
            None,
            "(1,250)",
            Decimal("-1250.00"),
        ),
    ]


def test_spaced_and_camel_keys(db):
    case = load(
        db,
        {
            "trt_records": [
                {
                    "Response Date": "02-10-2023",
                    "Form Number": "1040",
                    "Tax Period Ending": "12/31/2021",
                    "Primary SSN": "123-45-6789",
                    "Spouse SSN": "987-65-4321",
                    "Type": "Form",
                    "Category": "Tax",
                    "Sub Category": "Total tax",
                    "Line Number": "24",
                    "Data": "$5,920.00",
                },
                {
                    "responseDate": "2023-02-10",
                    "formNumber": "1040",
                    "taxPeriodEnding": "2021-12-31",
                    "subCategory": "AGI",
                    "lineNumber": "11",
                    "Data": 61850,
                    "Year": "2021",
                },
            ]
        },
    )
    assert rows(db, case) == [
        (
            2021,
            dt.date(2023, 2, 10),
            "1040",
            dt.date(2021, 12, 31),
            "6789",
            "4321",
            "Form",
            "Tax",
            "Total tax",
            "24",
            None,
            "$5,920.00",
            Decimal("5920.00"),
        ),
        (
            2021,
            dt.date(2023, 2, 10),
            "1040",
            dt.date(2021, 12, 31),
            None,
            None,
            None,
            None,
            "AGI",
            "11",
            None,
            "61850",
            Decimal("61850.00"),
        ),
    ]


def test_gen_a_keys(db):
    """Gen A: documents, taxYear, form/schedule, subcategory, line, label, amount/value."""
    case = load(
        db,
        {
            "documents": [
                {
                    "taxYear": "Tax Year 2020",
                    "form": "1040",
                    "category": "Income",
                    "subcategory": "Interest",
                    "line": "2b",
                    "label": "Taxable interest",
                    "amount": 312.5,
                },
                {
                    "year": 2020,
                    "schedule": "Schedule SE",
                    "category": "Tax",
                    "line": "12",
                    "label": "SE tax",
                    "value": "$1,130",
                },
            ]
        },
    )
    assert [(r[0], r[2], r[8], r[9], r[10], r[12]) for r in rows(db, case)] == [
        (2020, "1040", "Interest", "2b", "Taxable interest", Decimal("312.50")),
        (2020, "Schedule SE", None, "12", "SE tax", Decimal("1130.00")),
    ]


def test_unreadable_year_is_kept_with_null_year(db):
    case = load(
        db, {"records": [{"form_number": "1040", "year": "Unknown", "line_number": "1a", "data": "$1"}]}
    )
    assert [(r[0], r[2]) for r in rows(db, case)] == [(None, "1040")]


def test_idempotent_and_replaced_by_a_changed_payload(db):
    case = new_case_id()
    ingest(db, case, UPSTREAM_EXAMPLE, source="trt")
    before = db.execute(
        "SELECT ctid::text, * FROM trt_records WHERE case_id = %s ORDER BY record_index", (case,)
    ).fetchall()
    bronze = db.execute("SELECT bronze_id FROM bronze_trt_raw WHERE case_id = %s", (case,)).fetchone()[0]
    db.execute("SELECT silver_load_trt(%s)", (bronze,))
    assert (
        db.execute(
            "SELECT ctid::text, * FROM trt_records WHERE case_id = %s ORDER BY record_index", (case,)
        ).fetchall()
        == before
    )
    changed = {
        "records": [
            dict(UPSTREAM_EXAMPLE["records"][0], data="$50,000"),
            dict(UPSTREAM_EXAMPLE["records"][0]),
        ]
    }
    ingest(db, case, changed, source="trt")
    assert errors(db, case) == []
    assert db.execute(
        "SELECT form_number, line_number, occurrence, numeric_value FROM trt_records WHERE"
        " case_id = %s ORDER BY occurrence",
        (case,),
    ).fetchall() == [("1040", "1a", 1, Decimal("50000.00")), ("1040", "1a", 2, Decimal("48200.00"))]


@pytest.mark.parametrize("bad", [{"records": "oops"}, {"records": [1, 2]}, {"nothing": []}])
def test_malformed_trt_payload_is_an_error_row_and_changes_nothing(db, bad):
    case = load(db, UPSTREAM_EXAMPLE)
    before = rows(db, case)
    ingest(db, case, bad, source="trt")
    errs = errors(db, case)
    assert len(errs) == 1 and errs[0][0] == "bronze_trt_raw" and "TRT payload" in errs[0][2]
    assert rows(db, case) == before
    assert db.execute("SELECT count(*) FROM bronze_trt_raw WHERE case_id = %s", (case,)).fetchone() == (2,)
