"""CSED summary, projections and ability to pay, over trigger-built data and hand-set gold rows."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest

from backend.app.services.calculations import months_between, national_standard


def test_csed_summary(api, ingested):
    body = api.get(f"/api/calculations/{ingested}/csed").json()
    assert body["available"] and body["summary"]["tax_years"] == len(body["tax_years"]) > 0
    year = next(y for y in body["tax_years"] if y["assessments"])
    a = year["assessments"][0]
    assert {"transaction_code", "assessment_date", "base_csed_date", "suspended_days", "csed_date"} <= set(a)
    if year["csed_status"] == "running":
        assert dt.date.fromisoformat(year["csed_date"]) >= dt.date.today()
        assert year["days_until_csed"] >= 0
    counted = sum(body["summary"][k] for k in ("running", "expired", "suspended_open", "no_assessment"))
    assert counted == body["summary"]["tax_years"]


def test_csed_for_a_sandbox_scenario_case(api, database_url):
    """2000005: bankruptcy 2021-08-09 .. 2022-01-18 + 6 months -> CSED 2030-05-13 (sandbox README)."""
    from backend.app.services import data_saver
    from sandbox import data as sandbox_data

    case_id = "2000005"
    with psycopg.connect(database_url) as conn:
        data_saver.save_bronze(conn, "at", case_id, sandbox_data.at_payload(case_id))
    body = api.get(f"/api/calculations/{case_id}/csed").json()
    year = next(y for y in body["tax_years"] if y["tax_year"] == "2018")
    assert year["csed_date"] == "2030-05-13"
    assert year["suspensions"] and year["suspensions"][0]["start_date"] == "2021-08-09"
    assert year["total_suspended_days"] == 344


def test_projections(api, ingested):
    body = api.get(f"/api/calculations/{ingested}/projections").json()
    assert body["available"] and body["count"] > 0
    assert body["balance_column"] == "projected_balance"
    assert body["total_projected_balance"] == pytest.approx(
        sum(r["projected_balance"] or 0 for r in body["items"]), abs=0.01)


def test_ability_to_pay_over_ingested_interview(api, ingested):
    body = api.get(f"/api/calculations/{ingested}/ability-to-pay").json()
    mdi = body["monthly_disposable_income"]
    assert mdi == pytest.approx(body["monthly_income"]["total"] - body["allowable_expenses"]["total"], abs=0.01)
    assert body["currently_not_collectible"]["eligible"] == (mdi <= 0)
    rcp = body["reasonable_collection_potential"]
    assert rcp["rcp_lump_sum"] == pytest.approx(rcp["asset_equity"] + rcp["future_income_lump_sum"], abs=0.01)


@pytest.fixture
def household_case(database_url, case_id):
    """A hand-built case: 2 people, $6,000 wages, rent $1,800 with a $1,500 standard, one car."""
    with psycopg.connect(database_url) as conn:
        conn.execute("SELECT ensure_case(%s)", (case_id,))
        conn.execute("INSERT INTO household_information (case_id, total_household_members, members_under_65,"
                     " members_over_65) VALUES (%s, 2, 2, 0)", (case_id,))
        conn.execute("INSERT INTO income_sources (case_id, source_key, person_type, income_type, amount, frequency,"
                     " normalized_monthly_amount) VALUES (%s, 'b33', 'taxpayer', 'wages', 6000, 'monthly', 6000)",
                     (case_id,))
        conn.execute("INSERT INTO monthly_expenses (case_id, source_key, expense_category, amount,"
                     " normalized_monthly_amount, irs_standard_amount) VALUES"
                     " (%s, 'b66', 'housing', 1800, 1800, 1500), (%s, 'b56', 'food', 1000, 1000, NULL),"
                     " (%s, 'b84', 'taxes', 400, 400, NULL)", (case_id, case_id, case_id))
        conn.execute("INSERT INTO vehicles (case_id, source_key, current_value, loan_balance) VALUES"
                     " (%s, 'vehicle1', 20000, 5000)", (case_id,))
        conn.execute("INSERT INTO financial_accounts (case_id, source_key, account_type, current_balance) VALUES"
                     " (%s, 'b18', 'checking', 3500)", (case_id,))
    return case_id


def test_ability_to_pay_rules(api, household_case):
    body = api.get(f"/api/calculations/{household_case}/ability-to-pay").json()
    lines = {line["category"]: line for line in body["allowable_expenses"]["lines"]}
    assert body["household_size"] == 2
    assert lines["food"]["allowed"] == 863 and "substantiation" in lines["food"]["rule"]  # national: standard
    assert lines["housing"]["allowed"] == 1500  # local: lesser of actual and standard
    assert lines["taxes"]["allowed"] == 400  # other necessary: actual
    assert lines["healthcare"]["allowed"] == 2 * 83
    expected_allowable = 863 + 75 + 181 + 91 + 271 + 166 + 1500 + 400
    assert body["allowable_expenses"]["total"] == pytest.approx(expected_allowable)
    assert body["monthly_disposable_income"] == pytest.approx(6000 - expected_allowable)
    assert body["currently_not_collectible"]["eligible"] is False
    rcp = body["reasonable_collection_potential"]
    # car: 20,000 * 0.8 - 5,000 - 3,450 = 7,550; bank: 3,500 - 1,000 = 2,500
    assert rcp["asset_equity"] == pytest.approx(7550 + 2500)
    assert rcp["future_income_periodic"] == pytest.approx(body["monthly_disposable_income"] * 24)
    ia = body["installment_agreement"]
    assert ia["monthly_payment"] == pytest.approx(body["monthly_disposable_income"])
    assert ia["eligible"] is True and ia["payoff_months"] == 0  # no balance owed on this hand-built case


def test_unknown_case_is_404(api, case_id):
    for path in ("csed", "projections", "ability-to-pay"):
        assert api.get(f"/api/calculations/{case_id}/{path}").status_code == 404


def test_helpers():
    assert months_between(dt.date(2025, 1, 31), dt.date(2025, 2, 28)) == 0
    assert months_between(dt.date(2025, 1, 15), dt.date(2026, 1, 15)) == 12
    assert national_standard("food", 1) == 497 and national_standard("misc", 4) == 390
    assert national_standard("food", 6) > national_standard("food", 4)
