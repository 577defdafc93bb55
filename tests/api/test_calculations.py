"""CSED summary, projections and ability to pay, over trigger-built data and hand-set gold rows."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest

from backend.app.services.calculations import months_between


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
    # local: lesser of actual and standard; housing and utilities are one standard (irs-domain 5.1)
    assert lines["housing_utilities"]["allowed"] == 1500
    assert lines["taxes"]["allowed"] == 400  # other necessary: actual
    assert lines["health_out_of_pocket"]["allowed"] == 2 * 83
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


@pytest.fixture
def large_household_case(database_url, case_id):
    """Six people (one 65+), two vehicles. Income: taxpayer wages 7,000 (an employment record's
    9,999 is not counted beside a wage line); spouse wages from the employment record only
    (30,000 a year = 2,500), spouse social security 600; rental 1,000 less 400 expenses.
    Expenses above and below the standards: food 2,000 and housekeeping 50 against the table;
    rent 2,600 + electricity 300 against a stated housing standard of 2,400; auto payments 800
    and 300 against the 619 per-vehicle standard; auto insurance 250 (no operating standard on
    file); health insurance 450, prescriptions 700; taxes 900, child care 500, term life 40,
    whole life 80, 'other' 60."""
    with psycopg.connect(database_url) as conn:
        conn.execute("SELECT ensure_case(%s)", (case_id,))
        conn.execute("INSERT INTO household_information (case_id, total_household_members, members_under_65,"
                     " members_over_65) VALUES (%s, 6, 5, 1)", (case_id,))
        conn.execute("INSERT INTO employment_information (case_id, person_type, gross_annual_income,"
                     " gross_monthly_income) VALUES (%s, 'taxpayer', 119988, 9999), (%s, 'spouse', 30000, NULL)",
                     (case_id, case_id))
        conn.execute("INSERT INTO income_sources (case_id, source_key, person_type, income_type, amount,"
                     " normalized_monthly_amount) VALUES (%s, 'b33', 'taxpayer', 'wages', 7000, 7000),"
                     " (%s, 'b37', 'spouse', 'social_security', 600, 600), (%s, 'b40', 'joint', 'rental_gross', 1000,"
                     " 1000), (%s, 'b41', 'joint', 'rental_expenses', 400, 400)", (case_id,) * 4)
        rows = [("b56", "food", None, 2000, None), ("b57", "housekeeping", None, 50, None),
                ("b66", "housing", "rent", 2600, 2400), ("b70", "utilities", "electricity", 300, None),
                ("b79", "healthcare", "insurance", 450, None), ("b80", "healthcare", "prescriptions", 700, None),
                ("b84", "taxes", None, 900, None), ("b88", "child_care", None, 500, None),
                ("b89", "insurance", "whole_life", 80, None), ("b90", "insurance", "term_life", 40, None),
                ("ak6", "transportation", "auto_insurance", 250, None),
                ("ak7", "transportation", "auto_payment_1", 800, None),
                ("ak8", "transportation", "auto_payment_2", 300, None), ("x1", "other", None, 60, None)]
        for key, cat, sub, amount, std in rows:
            conn.execute("INSERT INTO monthly_expenses (case_id, source_key, expense_category, expense_subcategory,"
                         " amount, normalized_monthly_amount, irs_standard_amount) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                         (case_id, key, cat, sub, amount, amount, std))
        conn.execute("INSERT INTO vehicles (case_id, source_key, current_value, loan_balance) VALUES"
                     " (%s, 'vehicle1', 20000, 15000), (%s, 'vehicle2', 6000, 2000)", (case_id, case_id))
    return case_id


def test_api_mdi_is_the_databases(api, database_url, large_household_case):
    """One place for MDI: the API shows calculate_disposable_income's answer and the lines it is
    summed from (migration 016). Expected by hand (irs-domain 5.1-5.3):
    income 7,000 + 2,500 + 600 + 1,000 - 400 = 10,700;
    national standards, 6 persons: 2,129 + 2 x 394 = 2,917 (table, allowed in full);
    out-of-pocket health 5 x 83 + 158 = 573 (prescriptions above it need substantiation);
    housing and utilities min(2,900, 2,400) = 2,400; vehicle ownership min(800, 619) + min(300, 619)
    = 919; operating 250 (standard unknown: actual); public transportation 0 (vehicles, none spent);
    other necessary 450 + 900 + 500 + 40 = 1,890; whole life and 'other' not allowed.
    Allowable 8,949; MDI 1,751."""
    body = api.get(f"/api/calculations/{large_household_case}/ability-to-pay").json()
    with psycopg.connect(database_url) as conn:
        cur = conn.execute("SELECT * FROM calculate_disposable_income(%s)", (large_household_case,))
        db = dict(zip([d.name for d in cur.description], cur.fetchone(), strict=True))
    assert body["monthly_disposable_income"] == pytest.approx(float(db["disposable_income"])) == 1751
    assert body["monthly_income"]["total"] == pytest.approx(float(db["total_monthly_income"])) == 10700
    assert body["allowable_expenses"]["total"] == pytest.approx(float(db["total_allowable_expenses"])) == 8949
    assert body["household_size"] == db["household_size"] == 6
    income = {(line["person"], line["type"]): line["monthly"] for line in body["monthly_income"]["lines"]}
    assert income == {("taxpayer", "wages"): 7000, ("spouse", "wages (employment)"): 2500,
                      ("spouse", "social_security"): 600, ("joint", "rental_gross"): 1000,
                      ("joint", "rental_expenses"): -400}
    lines = body["allowable_expenses"]["lines"]
    by_group: dict[str, float] = {}
    for line in lines:
        by_group[line["group"]] = by_group.get(line["group"], 0) + line["allowed"]
    for group in ("national_standards", "health_out_of_pocket", "housing_utilities", "vehicle_ownership",
                  "vehicle_operating", "public_transportation", "other_necessary"):
        assert by_group.get(group, 0) == pytest.approx(float(db[group])), group
    assert sum(line["allowed"] for line in lines) == pytest.approx(8949)
    assert (float(db["national_standards"]), float(db["health_out_of_pocket"]), float(db["housing_utilities"]),
            float(db["vehicle_ownership"]), float(db["vehicle_operating"]), float(db["public_transportation"]),
            float(db["other_necessary"])) == (2917, 573, 2400, 919, 250, 0, 1890)
    named = {line["category"]: line for line in lines}
    assert named["food"]["allowed"] < 2000 and "substantiation" in named["food"]["rule"]  # above the standard
    assert named["housekeeping"]["allowed"] > 50  # below the standard: the standard in full
    assert named["health_out_of_pocket"]["allowed"] == 573 and "substantiation" in named["health_out_of_pocket"]["rule"]
    assert named["whole_life_insurance"]["allowed"] == 0 and named["other"]["allowed"] == 0
    assert db["notes"] == ["operating_standard_unknown_actual_used", "other_expenses_not_allowed_review",
                           "no_interview"]
    # the decisions are built on the database's MDI
    assert body["installment_agreement"]["monthly_payment"] == pytest.approx(1751)
    assert body["currently_not_collectible"]["eligible"] is False
    assert body["reasonable_collection_potential"]["future_income_lump_sum"] == pytest.approx(1751 * 12)
    assert "database_check" not in body


def test_national_standards_published_total(db, case_id):
    """One person: the IRS table's items sum to 838, its total is 839 (irs-domain 5.2); the lines
    add up to the published total."""
    db.execute("SELECT ensure_case(%s)", (case_id,))
    db.execute("INSERT INTO household_information (case_id, total_household_members, members_under_65,"
               " members_over_65) VALUES (%s, 1, 0, 1)", (case_id,))
    lines = db.execute("SELECT category, allowed FROM disposable_income_lines(%s)"
                       " WHERE grp = 'national_standards'", (case_id,)).fetchall()
    assert sum(a for _, a in lines) == 839 and ("national_standards_published_total", 1) in lines
    row = db.execute("SELECT national_standards, health_out_of_pocket, public_transportation, disposable_income"
                     " FROM calculate_disposable_income(%s)", (case_id,)).fetchone()
    # no vehicle: the public-transportation standard in full (215, 2024 set); 65+: health 158
    assert row == (839, 158, 215, -(839 + 158 + 215))
