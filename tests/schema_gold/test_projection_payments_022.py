"""Migration 022: the projected balance credits the year's payments from the account transcript
(irs-domain.md 4.5 step 6: tax - withholding - estimated payments, TC 610/660/430).

Every case below has one 2023 W-2 of 60,000 wages with 5,000 withheld, filed single (from the
transcript): 60,000 - 13,850 = 46,150 taxable; 1,100 + 12% x 33,725 = 4,047 + 22% x 1,425 =
313.50 -> income tax 5,460.50, balance before payments 460.50."""

from __future__ import annotations

import pytest

from tests.schema_gold import D, form, ingest, projection, wi

CASE = "740022001"
TAX = D("5460.50")
WITHHELD = D("5000")


def _at(transactions: list[dict], status: str = "Single", spouse_transactions: list[dict] | None = None) -> dict:
    records = [{"tax_year": 2023, "owner": "TP", "filing_status": status, "transactions": transactions}]
    if spouse_transactions is not None:
        records.append({"tax_year": 2023, "owner": "S", "filing_status": status,
                        "transactions": spouse_transactions})
    return {"at_records": records}


def _tx(code: str, amount: str, date: str = "04-15-2024") -> dict:
    return {"code": code, "date": date, "amount": amount}


def _w2_2023(db) -> None:
    ingest(db, "wi", CASE, wi(2023, form("W-2", {"Wages, Tips, and Other Compensation": 60000,
                                                  "Federal Withholding": 5000})))


@pytest.mark.parametrize(("transactions", "payments"), [
    # nothing paid: the balance is tax - withholding, as before 022
    ([], D("0")),
    # estimated payments (TC 660 twice, TC 430) and a payment with the return (TC 610),
    # printed as credits: 300 + 300 + 150 + 200 = 950
    ([_tx("660", "-$300.00", "04-18-2023"), _tx("660", "-300.00", "06-15-2023"),
      _tx("430", "(150.00)", "04-18-2023"), _tx("610", "-200.00")], D("950.00")),
    # a source that prints the credit unsigned counts the same
    ([_tx("660", "300.00")], D("300.00")),
    # a dishonored estimated payment (661) and a corrected payment with return (612) take theirs back
    ([_tx("660", "-500.00", "04-18-2023"), _tx("661", "500.00", "05-01-2023"),
      _tx("610", "-400.00"), _tx("612", "100.00")], D("300.00")),
    # other credits are not payments toward this projection: withholding (806, already counted
    # from the W-2), a subsequent payment (670), an assessment (150)
    ([_tx("806", "-5000.00"), _tx("670", "-250.00"), _tx("150", "5460.50")], D("0")),
])
def test_payments_reduce_the_projected_balance(db, transactions, payments):
    ingest(db, "at", CASE, _at(transactions))
    _w2_2023(db)
    p = projection(db, CASE, 2023)
    assert (p["filing_status_source"], p["total_tax"], p["total_withholding"]) == ("tax_years", TAX, WITHHELD)
    assert p["estimated_payments"] == payments
    assert p["projected_balance"] == TAX - WITHHELD - payments


def test_an_overpayment_projects_a_refund(db):
    ingest(db, "at", CASE, _at([_tx("660", "-1000.00")]))
    _w2_2023(db)
    assert projection(db, CASE, 2023)["projected_balance"] == D("-539.50")   # 460.50 - 1,000


def test_a_later_transcript_moves_the_balance_either_way(db):
    """The AT may arrive before or after the W&I; a reload that adds or drops only a payment line
    (no tax_years change) still refreshes the projection."""
    _w2_2023(db)
    assert projection(db, CASE, 2023)["projected_balance"] == D("460.50")
    ingest(db, "at", CASE, _at([_tx("660", "-200.00")]))
    assert projection(db, CASE, 2023)["projected_balance"] == D("260.50")
    ingest(db, "at", CASE, _at([_tx("660", "-200.00"), _tx("660", "-100.00", "09-15-2023")]))
    assert projection(db, CASE, 2023)["projected_balance"] == D("160.50")
    ingest(db, "at", CASE, _at([]))
    p = projection(db, CASE, 2023)
    assert (p["estimated_payments"], p["projected_balance"]) == (D("0"), D("460.50"))


def test_spouse_payments_count_only_on_a_joint_projection(db):
    """MFJ 2023: 60,000 - 27,700 = 32,300; 2,200 + 12% x 10,300 = 1,236 -> 3,436."""
    spouse = [_tx("660", "-400.00")]
    ingest(db, "at", CASE, _at([_tx("660", "-100.00")], status="Married Filing Jointly", spouse_transactions=spouse))
    _w2_2023(db)
    p = projection(db, CASE, 2023)
    assert (p["total_tax"], p["estimated_payments"]) == (D("3436.00"), D("500.00"))
    assert p["projected_balance"] == D("3436.00") - WITHHELD - D("500.00")

    ingest(db, "at", CASE, _at([_tx("660", "-100.00")], status="Married Filing Separately", spouse_transactions=spouse))
    p = projection(db, CASE, 2023)
    assert p["filing_status"] == "married_filing_separately"
    assert p["estimated_payments"] == D("100.00")


def test_payments_of_another_year_do_not_count(db):
    ingest(db, "at", CASE, {"at_records": [
        {"tax_year": 2023, "owner": "TP", "filing_status": "Single", "transactions": []},
        {"tax_year": 2022, "owner": "TP", "filing_status": "Single", "transactions": [_tx("660", "-700.00")]}]})
    _w2_2023(db)
    assert projection(db, CASE, 2023)["estimated_payments"] == D("0")


def test_reingesting_the_same_transcript_rewrites_nothing(db):
    ingest(db, "at", CASE, _at([_tx("660", "-300.00")]))
    _w2_2023(db)
    before = db.execute("SELECT ctid::text, t::text FROM tax_projections t WHERE case_id = %s", (CASE,)).fetchall()
    ingest(db, "at", CASE, {"at_records": _at([_tx("660", "-300.00")])["at_records"], "note": "same lines"})
    after = db.execute("SELECT ctid::text, t::text FROM tax_projections t WHERE case_id = %s", (CASE,)).fetchall()
    assert after == before
    # and what is stored equals a full recomputation
    db.execute("SELECT gold_refresh_case(%s)", (CASE,))
    assert db.execute("SELECT ctid::text, t::text FROM tax_projections t WHERE case_id = %s",
                      (CASE,)).fetchall() == before


def test_a_manual_edit_of_a_payment_line_refreshes_the_projection(db):
    ingest(db, "at", CASE, _at([_tx("660", "-300.00")]))
    _w2_2023(db)
    db.execute("UPDATE account_activity SET amount = -450.00 WHERE case_id = %s AND transaction_code = '660'", (CASE,))
    assert projection(db, CASE, 2023)["estimated_payments"] == D("450.00")
    db.execute("DELETE FROM account_activity WHERE case_id = %s AND transaction_code = '660'", (CASE,))
    assert projection(db, CASE, 2023)["estimated_payments"] == D("0")
