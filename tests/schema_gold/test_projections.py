"""Tax projections against the published tables (irs-domain.md 4.1, 4.2, 4.4). Every expected
number is derived by hand in the docstring or the table comment."""

from __future__ import annotations

import pytest

from tests.schema_gold import D, form, ingest, projection, wi

CASE = "720000001"


def w2(wages, withholding=0, ss_wages=None, owner="TP"):
    fields = {"Wages, Tips, and Other Compensation": wages, "Federal Withholding": withholding}
    if ss_wages is not None:
        fields.update({"Social Security Wages": ss_wages, "Medicare Wages and Tips": ss_wages})
    return form("W-2", fields, Owner=owner)


def nec(amount, owner="TP"):
    return form("1099-NEC", {"Non-Employee Compensation": amount}, Owner=owner)


def interview_status(status: str) -> dict:
    return {"household": {"filingStatus": status}}


# (year, interview filing status, wages, expected standard deduction, taxable income, income tax)
WAGE_ONLY = [
    # 2019 single: 50,000 - 12,200 = 37,800; 10% x 9,700 = 970 + 12% x 28,100 = 3,372 -> 4,342
    (2019, "Single", 50000, D("12200"), D("37800"), D("4342.00")),
    # 2019 MFJ: 50,000 - 24,400 = 25,600; 10% x 19,400 = 1,940 + 12% x 6,200 = 744 -> 2,684
    (2019, "Married Filing Jointly", 50000, D("24400"), D("25600"), D("2684.00")),
    # 2019 HoH: 50,000 - 18,350 = 31,650; 10% x 13,850 = 1,385 + 12% x 17,800 = 2,136 -> 3,521
    (2019, "Head of Household", 50000, D("18350"), D("31650"), D("3521.00")),
    # 2023 single: 60,000 - 13,850 = 46,150; 1,100 + 12% x 33,725 = 4,047 + 22% x 1,425 = 313.50 -> 5,460.50
    (2023, "single", 60000, D("13850"), D("46150"), D("5460.50")),
    # 2023 MFJ: 60,000 - 27,700 = 32,300; 10% x 22,000 = 2,200 + 12% x 10,300 = 1,236 -> 3,436
    (2023, "MFJ", 60000, D("27700"), D("32300"), D("3436.00")),
    # 2023 HoH: 60,000 - 20,800 = 39,200; 10% x 15,700 = 1,570 + 12% x 23,500 = 2,820 -> 4,390
    (2023, "HOH", 60000, D("20800"), D("39200"), D("4390.00")),
    # 2025 single (OBBBA 15,750): 80,000 - 15,750 = 64,250; 1,192.50 + 12% x 36,550 = 4,386
    #   + 22% x 15,775 = 3,470.50 -> 9,049
    (2025, "Single", 80000, D("15750"), D("64250"), D("9049.00")),
    # 2025 MFJ (31,500): 48,500; 10% x 23,850 = 2,385 + 12% x 24,650 = 2,958 -> 5,343
    (2025, "married filing joint", 80000, D("31500"), D("48500"), D("5343.00")),
    # 2025 HoH (23,625): 56,375; 10% x 17,000 = 1,700 + 12% x 39,375 = 4,725 -> 6,425
    (2025, "head_of_household", 80000, D("23625"), D("56375"), D("6425.00")),
]


@pytest.mark.parametrize(("year", "status", "wages", "std", "taxable", "tax"), WAGE_ONLY)
def test_wage_only_years_and_statuses(db, year, status, wages, std, taxable, tax):
    ingest(db, "interview", CASE, interview_status(status))
    ingest(db, "wi", CASE, wi(year, w2(wages, withholding=5000)))
    p = projection(db, CASE, year)
    assert p["filing_status_source"] == "interview"
    assert (p["standard_deduction"], p["taxable_income"], p["income_tax"]) == (std, taxable, tax)
    assert p["se_tax"] == 0 and p["additional_medicare_tax"] == 0
    assert p["total_tax"] == tax
    assert p["projected_balance"] == tax - 5000          # + owed / - refund


def test_mfs_2023_top_bracket_uses_irs_figure_and_additional_medicare(db):
    """2023 MFS, W-2 400,000 (Medicare wages 400,000). Taxable 400,000 - 13,850 = 386,150.
    1,100 + 4,047 + 22% x 50,650 = 11,143 + 24% x 86,725 = 20,814 + 32% x 49,150 = 15,728
    + 35% x (346,875 - 231,250 = 115,625) = 40,468.75 + 37% x (386,150 - 346,875 = 39,275) = 14,531.75
    = 107,832.50 (with Tax-Calculator's wrong 578,125 the last slice would be at 35 %).
    Additional Medicare: 0.9 % x (400,000 - 125,000) = 2,475. Total 110,307.50."""
    ingest(db, "interview", CASE, interview_status("MFS"))
    ingest(db, "wi", CASE, wi(2023, w2(400000, withholding=100000, ss_wages=400000)))
    p = projection(db, CASE, 2023)
    assert p["filing_status"] == "married_filing_separately"
    assert p["income_tax"] == D("107832.50")
    assert p["additional_medicare_tax"] == D("2475.00")
    assert p["total_tax"] == D("110307.50")
    assert p["projected_balance"] == D("10307.50")


def test_se_crossing_wage_base_with_w2_wages(db):
    """2023 single, W-2 150,000 (SS/Medicare wages 150,000, withheld 30,000) + 1099-NEC 60,000.
    Net SE earnings 60,000 x 0.9235 = 55,410. Wage base left 160,200 - 150,000 = 10,200:
    SS 12.4 % x 10,200 = 1,264.80; Medicare 2.9 % x 55,410 = 1,606.89; SE tax 2,871.69;
    half = 1,435.845 -> 1,435.85. Additional Medicare: wages below 200,000; SE part
    0.9 % x (55,410 - (200,000 - 150,000)) = 0.9 % x 5,410 = 48.69.
    AGI 210,000 - 1,435.85 = 208,564.15; taxable - 13,850 = 194,714.15;
    tax 1,100 + 4,047 + 11,143 + 20,814 + 32 % x 12,614.15 = 4,036.528 -> 41,140.53.
    Total 41,140.53 + 2,871.69 + 48.69 = 44,060.91; balance 44,060.91 - 30,000 = 14,060.91."""
    ingest(db, "interview", CASE, interview_status("single"))
    ingest(db, "wi", CASE, wi(2023, w2(150000, 30000, ss_wages=150000), nec(60000)))
    p = projection(db, CASE, 2023)
    assert p["se_net_earnings"] == D("55410.00")
    assert (p["se_social_security"], p["se_medicare"], p["se_tax"], p["se_deduction"]) == (
        D("1264.80"), D("1606.89"), D("2871.69"), D("1435.85"))
    assert p["additional_medicare_tax"] == D("48.69")
    assert (p["estimated_agi"], p["taxable_income"], p["income_tax"]) == (D("208564.15"), D("194714.15"), D("41140.53"))
    assert p["total_tax"] == D("44060.91")
    assert p["projected_balance"] == D("14060.91")


def test_se_above_wage_base_and_additional_medicare_2024(db):
    """2024 single, W-2 190,000 + 1099-NEC 100,000. Net SE 92,350; wage base 168,600 already
    used by wages -> SS part 0; Medicare 2.9 % x 92,350 = 2,678.15 = SE tax; half 1,339.075 ->
    1,339.08. Additional Medicare: 0.9 % x (92,350 - (200,000 - 190,000)) = 741.15.
    Taxable 290,000 - 1,339.08 - 14,600 = 274,060.92; tax 1,160 + 4,266 + 11,742.50 + 21,942
    + 16,568 + 35 % x 30,335.92 = 10,617.572 -> 66,296.07. Total 66,296.07 + 2,678.15 + 741.15
    = 69,715.37; withheld 40,000 -> owed 29,715.37."""
    ingest(db, "interview", CASE, interview_status("single"))
    ingest(db, "wi", CASE, wi(2024, w2(190000, 40000, ss_wages=190000), nec(100000)))
    p = projection(db, CASE, 2024)
    assert (p["se_social_security"], p["se_medicare"], p["se_tax"], p["se_deduction"]) == (
        D("0.00"), D("2678.15"), D("2678.15"), D("1339.08"))
    assert p["additional_medicare_tax"] == D("741.15")
    assert (p["taxable_income"], p["income_tax"]) == (D("274060.92"), D("66296.07"))
    assert (p["total_tax"], p["projected_balance"]) == (D("69715.37"), D("29715.37"))


def test_joint_return_includes_spouse_and_separate_excludes_it(db):
    """2024, TP 1099-NEC 50,000, spouse W-2 40,000 (withheld 3,000).
    SE: 50,000 x 0.9235 = 46,175; 12.4 % = 5,725.70; 2.9 % = 1,339.075; SE tax 7,064.775 -> 7,064.78
    (business-rules 10's 0.9235 x 0.153 figure happens to agree below the wage base);
    half 3,532.39.
    MFJ: AGI 90,000 - 3,532.39 = 86,467.61; taxable - 29,200 = 57,267.61; tax 2,320 + 12 % x 34,067.61
    = 4,088.1132 -> 6,408.11; total 13,472.89; balance 13,472.89 - 3,000 = 10,472.89.
    Single (tax_years says so): spouse excluded; AGI 46,467.61; taxable 31,867.61; tax 1,160 + 12 % x
    20,267.61 = 2,432.1132 -> 3,592.11; total 10,656.89; nothing withheld."""
    ingest(db, "interview", CASE, interview_status("MFJ"))
    ingest(db, "wi", CASE, wi(2024, nec(50000), w2(40000, 3000, owner="S")))
    p = projection(db, CASE, 2024)
    assert p["includes_spouse"] and p["filing_status"] == "married_filing_jointly"
    assert (p["tp_income"], p["spouse_income"], p["spouse_withholding"]) == (D("50000"), D("40000"), D("3000"))
    assert (p["se_tax"], p["se_deduction"], p["taxable_income"], p["income_tax"]) == (
        D("7064.78"), D("3532.39"), D("57267.61"), D("6408.11"))
    assert (p["total_tax"], p["projected_balance"]) == (D("13472.89"), D("10472.89"))

    # tax_years (the AT loader's table) wins over the interview; its trigger refreshes gold
    db.execute("INSERT INTO tax_years (case_id, tax_year, filing_status) VALUES (%s, 2024, 'single')", (CASE,))
    p = projection(db, CASE, 2024)
    assert (p["filing_status"], p["filing_status_source"], p["includes_spouse"]) == ("single", "tax_years", False)
    assert "spouse_documents_excluded" in p["flags"]
    assert (p["taxable_income"], p["income_tax"], p["total_tax"], p["projected_balance"]) == (
        D("31867.61"), D("3592.11"), D("10656.89"), D("10656.89"))


def test_default_single_se_under_400_and_no_tables(db):
    """No tax_years row and no interview: single, flagged. 1099-NEC 400 -> net earnings 369.40 < 400:
    no SE tax. 2018 has no tax tables loaded: income only, no tax figures."""
    ingest(db, "wi", CASE, {"years_data": {"2022": [nec(400)], "2018": [w2(30000)]}})
    p = projection(db, CASE, 2022)
    assert (p["filing_status"], p["filing_status_source"]) == ("single", "default")
    assert "filing_status_unknown" in p["flags"] and "se_earnings_under_400" in p["flags"]
    assert p["se_tax"] == 0
    # 400 - 12,950 < 0 -> taxable 0, tax 0
    assert (p["taxable_income"], p["income_tax"], p["total_tax"]) == (0, 0, 0)
    old = projection(db, CASE, 2018)
    assert old["total_tax"] is None and "no_tax_tables_for_year" in old["flags"]
    assert old["wages"] == D("30000")


def test_1099k_needs_interview_confirmation(db):
    """irs-domain 3: 1099-K is gross receipts; Schedule C only when the interview confirms a business.
    Unconfirmed: excluded (flagged). Confirmed (employer 'Self-Employed'): 2023 single, 1099-K 20,000 ->
    net SE 18,470; SE tax 15.3 % = 2,825.91; half 1,412.955 -> 1,412.96."""
    ingest(db, "wi", CASE, wi(2023, form("1099-K", {"Gross Amount": 20000})))
    p = projection(db, CASE, 2023)
    assert p["se_income"] == 0 and "form_1099k_unconfirmed_excluded" in p["flags"]
    ingest(db, "interview", CASE, {"employment": {"clientEmployer": "Self-Employed (rideshare)"},
                                   "household": {"filingStatus": "single"}})
    p = projection(db, CASE, 2023)
    assert (p["se_income"], p["se_tax"], p["se_deduction"]) == (D("20000"), D("2825.91"), D("1412.96"))


def test_qualified_dividends_and_social_security_worksheet(db):
    """2023 single. W-2 40,000; 1099-DIV ordinary 10,000 (qualified 8,000) + cap-gain distributions 2,000;
    SSA-1099 benefits 20,000.
    Provisional income = 40,000 + 12,000 + 10,000 (half the benefits) = 62,000; above 34,000:
    taxable SS = min(0.85 x 20,000 = 17,000, 0.85 x (62,000 - 34,000) + min(4,500, 10,000)) = 17,000.
    Total income 40,000 + 12,000 + 17,000 = 69,000; taxable 69,000 - 13,850 = 55,150.
    Preferential 8,000 + 2,000 = 10,000 sits on 45,150..55,150: 0 % up to 44,625 -> none; 15 % on 10,000.
    Ordinary 45,150: 1,100 + 4,047 + 22 % x 425 = 93.50 -> 5,240.50; + 1,500 = 6,740.50
    (all-ordinary would be 1,100 + 4,047 + 22 % x 10,425 = 7,440.50; the smaller is used)."""
    ingest(db, "interview", CASE, interview_status("single"))
    ingest(db, "wi", CASE, wi(2023, w2(40000),
                              form("1099-DIV", {"Ordinary Dividends": 10000, "Qualified Dividends": 8000,
                                                "Capital Gains": 2000}),
                              form("SSA-1099", {"Total Benefits Paid": 20000})))
    p = projection(db, CASE, 2023)
    assert p["taxable_social_security"] == D("17000")
    assert (p["total_income"], p["taxable_income"], p["preferential_income"]) == (D("69000"), D("55150"), D("10000"))
    assert p["income_tax"] == D("6740.50")


def test_compute_tax_projection_is_callable_directly(db):
    ingest(db, "wi", CASE, wi(2023, w2(60000, 6000)))
    row = db.execute("SELECT filing_status, income_tax, projected_balance FROM compute_tax_projection(%s, 2023)",
                     (CASE,)).fetchone()
    assert row == ("single", D("5460.50"), D("-539.50"))
