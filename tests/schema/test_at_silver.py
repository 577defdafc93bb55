"""AT bronze -> silver (tax_years, account_activity, at_unplaced_records): every key variant of
upstream-apis.md 2.4, value formats, normalisation, and the natural keys."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tests.schema import errors, ingest, new_case_id, record, set_as_of, tx, year_row

D = dt.date.fromisoformat

UPSTREAM_EXAMPLE = {
    "at_records": [
        {
            "tax_year": "2021",
            "account_balance": 4210.55,
            "accrued_interest": 312.10,
            "accrued_penalty": 508.00,
            "total_balance": 5030.65,
            "adjusted_gross_income": 61850.00,
            "taxable_income": 49300.00,
            "tax_per_return": 5920.00,
            "se_tax_taxpayer": 0.0,
            "se_tax_spouse": 0.0,
            "total_se_tax": 0.0,
            "filing_status": "Single",
            "processing_date": "05-30-2022",
            "owner": "TP",
            "source_file": "AT 21.pdf",
            "transactions": [
                {"code": "150", "date": "2022-05-30", "amount": 5920.00, "description": "Tax return filed"},
                {
                    "code": "806",
                    "date": "2022-04-15",
                    "amount": -1709.45,
                    "description": "W-2 or 1099 withholding",
                },
                {
                    "code": "276",
                    "date": "2022-05-30",
                    "amount": 88.80,
                    "description": "Penalty for late payment of tax",
                },
                {
                    "code": "196",
                    "date": "2022-05-30",
                    "amount": 21.40,
                    "description": "Interest charged for late payment",
                },
            ],
        }
    ]
}


def load(db, payload) -> str:
    case = new_case_id()
    set_as_of(db)
    ingest(db, case, payload)
    assert errors(db, case) == []
    return case


def activity(db, case, year=None):
    return db.execute(
        "SELECT transaction_code, activity_date::text, amount, explanation FROM account_activity"
        " WHERE case_id = %s AND (%s::int IS NULL OR tax_year = %s) ORDER BY activity_date,"
        " transaction_code, amount",
        (case, year, year),
    ).fetchall()


def test_upstream_example_fills_every_column(db):
    case = load(db, UPSTREAM_EXAMPLE)
    ty = year_row(db, case, 2021)
    assert {
        k: ty[k]
        for k in (
            "filing_status",
            "filing_status_raw",
            "return_filed",
            "return_filed_source",
            "return_filed_date",
            "processing_date",
            "adjusted_gross_income",
            "taxable_income",
            "tax_per_return",
            "account_balance",
            "accrued_interest",
            "accrued_penalty",
            "total_balance",
            "owner",
            "source_file",
            "at_record_count",
            "csed_status",
            "csed_date",
        )
    } == {
        "filing_status": "single",
        "filing_status_raw": "Single",
        "return_filed": True,
        "return_filed_source": "transactions",
        "return_filed_date": D("2022-05-30"),
        "processing_date": D("2022-05-30"),
        "adjusted_gross_income": Decimal("61850.00"),
        "taxable_income": Decimal("49300.00"),
        "tax_per_return": Decimal("5920.00"),
        "account_balance": Decimal("4210.55"),
        "accrued_interest": Decimal("312.10"),
        "accrued_penalty": Decimal("508.00"),
        "total_balance": Decimal("5030.65"),
        "owner": "TP",
        "source_file": "AT 21.pdf",
        "at_record_count": 1,
        "csed_status": "running",
        "csed_date": D("2032-05-30"),
    }
    rows = db.execute(
        "SELECT transaction_code, transaction_type, affects_balance, is_assessment,"
        " indicates_collection_action"
        " FROM account_activity WHERE case_id = %s ORDER BY transaction_code",
        (case,),
    ).fetchall()
    # Correct meanings (irs-domain 7): 196 interest, 276 failure-to-pay penalty, neither an
    # own-CSED assessment.
    assert rows == [
        ("150", "return_filed", True, True, False),
        ("196", "interest", True, False, False),
        ("276", "penalty", True, False, False),
        ("806", "withholding", True, False, False),
    ]


def test_camel_case_keys_string_amounts_and_mdy_dates(db):
    """`records`, taxYear "Tax Year 2023", returnFiled "YES", "$1,234.56" / "(500.00)", MM-DD-YYYY,
    transaction keys transaction_code / Date / Amount / explanation under `activity`."""
    case = load(
        db,
        {
            "records": [
                {
                    "taxYear": "Tax Year 2023",
                    "filingStatus": "Married Filing Joint",
                    "adjustedGrossIncome": "$101,234.56",
                    "taxableIncome": "$71,500.00",
                    "TaxPerReturn": "$8,120.00",
                    "accountBalance": "$1,234.56",
                    "totalBalance": "$1,400.00",
                    "accruedInterest": "$100.44",
                    "returnFiled": "YES",
                    "returnFiledDate": "04-15-2024",
                    "processingDate": "04-29-2024",
                    "owner": "TP",
                    "sourceFile": "AT 23.pdf",
                    "activity": [
                        {
                            "transaction_code": "150",
                            "Date": "04-29-2024",
                            "Amount": "$8,120.00",
                            "explanation": "Tax return filed",
                        },
                        {
                            "transaction_code": "806",
                            "Date": "04-15-2024",
                            "Amount": "(6,885.44)",
                            "explanation": "Withholding",
                        },
                    ],
                }
            ]
        },
    )
    ty = year_row(db, case, 2023)
    assert (ty["filing_status"], ty["return_filed"], ty["return_filed_source"], ty["return_filed_date"]) == (
        "married_filing_jointly",
        True,
        "payload",
        D("2024-04-15"),
    )
    assert (
        ty["adjusted_gross_income"],
        ty["account_balance"],
        ty["total_balance"],
        ty["accrued_interest"],
    ) == (Decimal("101234.56"), Decimal("1234.56"), Decimal("1400.00"), Decimal("100.44"))
    assert activity(db, case) == [
        ("806", "2024-04-15", Decimal("-6885.44"), "Withholding"),
        ("150", "2024-04-29", Decimal("8120.00"), "Tax return filed"),
    ]


def test_data_array_with_year_tc_and_running_balance(db):
    """`data`, year as a number, FilingStatus, agi, total_tax, total_balance as the balance fallback,
    filed true, account_activity with tc / posted_date / transaction_amount / Explanation / balance_after."""
    case = load(
        db,
        {
            "data": [
                {
                    "year": 2020,
                    "FilingStatus": "HOH",
                    "agi": 50000,
                    "total_tax": 4100.5,
                    "total_balance": 900,
                    "filed": True,
                    "account_activity": [
                        {
                            "tc": 150,
                            "posted_date": "2021-05-17",
                            "transaction_amount": 4100.5,
                            "Explanation": "Return filed",
                            "balance_after": 4100.5,
                        },
                        {
                            "tc": "670",
                            "posted_date": "2021-08-02",
                            "transaction_amount": "(3,200.50)",
                            "Explanation": "Payment",
                            "balance_after": 900,
                        },
                    ],
                }
            ]
        },
    )
    ty = year_row(db, case, 2020)
    assert (
        ty["filing_status"],
        ty["adjusted_gross_income"],
        ty["tax_per_return"],
        ty["account_balance"],
        ty["total_balance"],
    ) == ("head_of_household", Decimal("50000.00"), Decimal("4100.50"), Decimal("900.00"), Decimal("900.00"))
    assert db.execute(
        "SELECT transaction_code, amount, running_balance FROM account_activity WHERE case_id"
        " = %s ORDER BY activity_date",
        (case,),
    ).fetchall() == [
        ("150", Decimal("4100.50"), Decimal("4100.50")),
        ("670", Decimal("-3200.50"), Decimal("900.00")),
    ]


@pytest.mark.parametrize("code_key", ["code", "Code", "transaction_code", "tc"])
@pytest.mark.parametrize("date_key", ["date", "Date", "transaction_date", "posted_date", "activity_date"])
def test_transaction_code_and_date_keys(db, code_key, date_key):
    case = load(
        db,
        {
            "at_records": [
                {"tax_year": 2019, "transactions": [{code_key: "150", date_key: "2020-07-15", "amount": 10}]}
            ]
        },
    )
    assert activity(db, case) == [
        (
            "150",
            "2020-07-15",
            Decimal("10.00"),
            "Return filed and tax assessed (or substitute return prepared by IRS)",
        )
    ]


@pytest.mark.parametrize(
    ("amount_key", "expl_key", "txn_key"),
    [
        ("amount", "description", "transactions"),
        ("Amount", "explanation", "activity"),
        ("transaction_amount", "Explanation", "account_activity"),
    ],
)
def test_amount_explanation_and_array_keys(db, amount_key, expl_key, txn_key):
    case = load(
        db,
        {
            "at_records": [
                {
                    "tax_year": 2019,
                    txn_key: [
                        {
                            "code": "610",
                            "date": "07-15-2020",
                            amount_key: "-$1,000.00",
                            expl_key: "Payment with return",
                        }
                    ],
                }
            ]
        },
    )
    assert activity(db, case) == [("610", "2020-07-15", Decimal("-1000.00"), "Payment with return")]


@pytest.mark.parametrize(
    ("year_value", "year_key", "expected"),
    [
        ("2023", "tax_year", 2023),
        (2023, "taxYear", 2023),
        ("Tax Year 2023", "year", 2023),
        ("202312", "period", 2023),
        ("12/31/2023", "period", 2023),
        ("TY2023", "tax_year", 2023),
    ],
)
def test_year_formats(db, year_value, year_key, expected):
    case = load(db, {"at_records": [{year_key: year_value, "transactions": []}]})
    assert db.execute("SELECT tax_year FROM tax_years WHERE case_id = %s", (case,)).fetchall() == [
        (expected,)
    ]


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("return_filed", True, True),
        ("return_filed", "true", True),
        ("filed", "YES", True),
        ("filed", "NO", False),
        ("returnFiled", "Filed", True),
        ("status", "Unfiled", False),
        ("status", "Not filed", False),
        ("filed", "false", False),
    ],
)
def test_filed_flag_formats(db, key, value, expected):
    # the TC 150 line says "filed"; an explicit flag in the payload wins over it
    case = load(
        db,
        {
            "at_records": [
                {
                    "tax_year": 2019,
                    key: value,
                    "transactions": [tx("150", "2020-07-15", 1.0, "Tax return filed")],
                }
            ]
        },
    )
    ty = year_row(db, case, 2019)
    assert (ty["return_filed"], ty["return_filed_source"]) == (expected, "payload")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Single", "single"),
        ("SINGLE", "single"),
        ("1", "single"),
        ("Married Filing Joint", "married_filing_jointly"),
        ("Married filing jointly", "married_filing_jointly"),
        ("MFJ", "married_filing_jointly"),
        ("Married Filing Separate", "married_filing_separately"),
        ("married-filing-separately", "married_filing_separately"),
        ("MFS", "married_filing_separately"),
        ("Head of Household", "head_of_household"),
        ("HOH", "head_of_household"),
        ("Qualifying Widow(er)", "qualifying_surviving_spouse"),
        ("Qualifying Surviving Spouse", "qualifying_surviving_spouse"),
        ("QW", "qualifying_surviving_spouse"),
        ("Unknown", None),
        ("", None),
        (None, None),
    ],
)
def test_filing_status_normalised_raw_kept(db, raw, expected):
    case = load(db, {"at_records": [{"tax_year": 2019, "filing_status": raw, "transactions": []}]})
    ty = year_row(db, case, 2019)
    assert ty["filing_status"] == expected
    assert ty["filing_status_raw"] == (raw or None)


def test_single_record_body_and_bare_array(db):
    body = load(
        db, {"taxYear": 2018, "accountBalance": "$12.00", "transactions": [tx("150", "2019-04-15", 12.0)]}
    )
    assert year_row(db, body, 2018)["account_balance"] == Decimal("12.00")
    bare = load(db, [record(2017, [tx("150", "2018-04-16", 5.0)]), record(2018, [])])
    assert [
        r[0] for r in db.execute("SELECT tax_year FROM tax_years WHERE case_id = %s ORDER BY 1", (bare,))
    ] == [2017, 2018]


def test_unknown_year_record_is_kept_aside_not_in_tax_years(db):
    """Decision: a record whose year cannot be read ("Unknown") goes to at_unplaced_records whole
    (with its raw year and reason); it never reaches tax_years / account_activity, whose keys need a year."""
    case = load(
        db,
        {
            "records": [
                record(2021, [tx("150", "2022-04-11", 100.0)]),
                {
                    "taxYear": "Unknown",
                    "owner": "TP",
                    "sourceFile": "AT.pdf",
                    "activity": [tx("150", "2022-05-02", 7.0)],
                },
                {"taxYear": "Unknown", "activity": []},
            ]
        },
    )
    assert db.execute("SELECT tax_year FROM tax_years WHERE case_id = %s", (case,)).fetchall() == [(2021,)]
    assert db.execute("SELECT count(*) FROM account_activity WHERE case_id = %s", (case,)).fetchone() == (1,)
    assert db.execute(
        "SELECT record_index, raw_tax_year, source_file, transaction_count, reason FROM at_unplaced_records"
        " WHERE case_id = %s ORDER BY record_index",
        (case,),
    ).fetchall() == [
        (2, "Unknown", "AT.pdf", 1, "tax year unreadable: 'Unknown'"),
        (3, "Unknown", None, 0, "tax year unreadable: 'Unknown'"),
    ]


def test_one_row_per_year_with_taxpayer_and_spouse_modules(db):
    """Two records for one year (taxpayer and spouse, MFS) give ONE tax_years row (summary from the
    taxpayer's record) and both modules' lines, each with its owner; a spouse assessment has its own CSED."""
    case = load(
        db,
        {
            "at_records": [
                record(
                    2022,
                    [tx("150", "2023-06-05", 300.0)],
                    owner="S",
                    filing_status="Married Filing Separate",
                    account_balance=300,
                    source_file="AT 22 E.pdf",
                ),
                record(
                    2022,
                    [tx("150", "2023-04-10", 900.0)],
                    owner="TP",
                    filing_status="Married Filing Separate",
                    account_balance=900,
                    source_file="AT 22.pdf",
                ),
            ]
        },
    )
    ty = year_row(db, case, 2022)
    assert (ty["owner"], ty["account_balance"], ty["source_file"], ty["at_record_count"]) == (
        "TP",
        Decimal("900.00"),
        "AT 22.pdf",
        2,
    )
    assert db.execute(
        "SELECT owner, csed_date::text FROM csed_assessments WHERE case_id = %s ORDER BY owner", (case,)
    ).fetchall() == [("S", "2033-06-05"), ("TP", "2033-04-10")]
    assert ty["csed_date"] == D("2033-06-05") and ty["earliest_csed_date"] == D("2033-04-10")


def test_repeated_lines_in_one_transcript_are_kept_but_a_duplicate_record_is_not(db):
    """Two identical $100 payments on one day in one transcript are two lines (occurrence 1 and 2);
    the same transcript delivered twice (same year and owner) does not double them."""
    lines = [
        tx("150", "2020-07-15", 500.0),
        tx("670", "2020-09-01", -100.0, "Payment"),
        tx("670", "2020-09-01", -100.0, "Payment"),
    ]
    case = load(db, {"at_records": [record(2019, lines), record(2019, lines, source_file="copy.pdf")]})
    assert db.execute(
        "SELECT transaction_code, occurrence FROM account_activity WHERE case_id = %s ORDER BY"
        " transaction_code, occurrence",
        (case,),
    ).fetchall() == [("150", 1), ("670", 1), ("670", 2)]


def test_missing_explanation_falls_back_to_rule_meaning_and_unknown_codes(db):
    case = load(
        db,
        {
            "at_records": [
                record(
                    2019,
                    [
                        {"code": "150", "date": "2020-07-15", "amount": 1},
                        {"code": "999", "date": "2020-07-16", "amount": 0, "description": "Something new"},
                        {"code": "n/a", "date": "", "amount": 0.0, "description": "No tax return filed"},
                        {"code": "TC 670", "date": "20200901", "amount": "-1"},
                    ],
                )
            ]
        },
    )
    rows = db.execute(
        "SELECT transaction_code, transaction_code_raw, transaction_type, explanation_source,"
        " activity_date::text"
        " FROM account_activity WHERE case_id = %s ORDER BY transaction_code NULLS LAST",
        (case,),
    ).fetchall()
    assert rows == [
        ("150", "150", "return_filed", "rule", "2020-07-15"),
        ("670", "TC 670", "payment", "rule", "2020-09-01"),
        ("999", "999", "unknown", "transcript", "2020-07-16"),
        (None, "n/a", "informational", "transcript", None),
    ]


def test_collection_flags_from_rules_action_codes_and_text(db):
    """Lien TC 582 and CP 504 notices (TC 971 stream) and a levy payment (TC 670 'Levy') are
    collection actions; an ordinary TC 670 payment is not."""
    case = load(
        db,
        {
            "at_records": [
                record(
                    2019,
                    [
                        tx("582", "2021-09-13", 0, "Lien placed on assets due to balance owed"),
                        tx("971", "2021-06-14", 0, "Notice issued CP 0504"),
                        tx("670", "2022-01-10", -1250.0, "Levy"),
                        tx("670", "2022-02-10", -50.0, "Payment"),
                    ],
                )
            ]
        },
    )
    assert db.execute(
        "SELECT transaction_code, amount, indicates_collection_action FROM account_activity"
        " WHERE case_id = %s ORDER BY activity_date",
        (case,),
    ).fetchall() == [
        ("971", Decimal("0.00"), True),
        ("582", Decimal("0.00"), True),
        ("670", Decimal("-1250.00"), True),
        ("670", Decimal("-50.00"), False),
    ]


def test_sfr_year_is_flagged_and_not_filed(db):
    case = load(
        db,
        {
            "at_records": [
                record(
                    2018,
                    [
                        tx("150", "2020-09-14", 0.0, "Substitute tax return prepared by IRS"),
                        tx(
                            "300",
                            "2021-02-01",
                            5400.0,
                            "Additional tax or deficiency assessment by examination",
                        ),
                    ],
                )
            ]
        },
    )
    ty = year_row(db, case, 2018)
    assert (ty["return_filed"], ty["is_sfr"], ty["return_filed_date"], ty["csed_date"]) == (
        False,
        True,
        None,
        D("2031-02-01"),
    )


def test_empty_record_array_clears_the_case(db):
    case = load(db, UPSTREAM_EXAMPLE)
    ingest(db, case, {"at_records": []})
    assert errors(db, case) == []
    assert db.execute("SELECT count(*) FROM tax_years WHERE case_id = %s", (case,)).fetchone() == (0,)
    assert db.execute("SELECT count(*) FROM account_activity WHERE case_id = %s", (case,)).fetchone() == (0,)
