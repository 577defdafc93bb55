"""W&I categorisation per form type (irs-domain.md section 3, corrected per section 7) and the
payload/key variants of upstream-apis.md 2.5."""

from __future__ import annotations

import pytest

from tests.schema_gold import D, docs, errors_since, form, ingest, max_error_id, wi

CASE = "710000001"

# (form as sent, year, Fields, expected: gross, se, category, include, extra checks)
CASES = [
    # box 1 wages, box 2 withholding; SS wages kept for the SE wage-base coordination
    ("W-2", 2022, {"Wages, Tips, and Other Compensation": 1000, "Federal Withholding": 100,
                   "Social Security Wages": 1100}, D("1000"), D("0"), "Non-SE", True,
     {"federal_withholding": D("100"), "ss_wages": D("1100")}),
    # statutory employee -> Schedule C (irs-domain 3, W-2 row)
    ("W-2", 2021, {"Wages, Tips, and Other Compensation": 900, "Statutory Employee": True},
     D("900"), D("900"), "SE", True, {"flags": ["statutory_employee"]}),
    ("W-2G", 2022, {"Gross Winnings": 2000, "Federal Withholding": 480}, D("2000"), D("0"), "Non-SE", True,
     {"federal_withholding": D("480")}),
    ("1099-NEC", 2022, {"Non-Employee Compensation": 5000}, D("5000"), D("5000"), "SE", True, {}),
    ("1099-NEC", 2019, {"Non-Employee Compensation": 700}, D("700"), D("700"), "SE", True,
     {"flags": ["form_type_year_mismatch"]}),
    # TY 2020+: rents/other income are not SE; medical payments (box 6) are
    ("1099-MISC", 2022, {"Rents": 3000, "Other Income": 500, "Medical Payments": 0}, D("3500"), D("0"), "Non-SE",
     True, {}),
    ("1099-MISC", 2023, {"Medical and Health Care Payments": 7000}, D("7000"), D("7000"), "SE", True, {}),
    # TY <= 2019: nonemployee compensation was box 7 (irs-domain 3 / 7)
    ("1099-MISC", 2019, {"Non-Employee Compensation": 8000, "Rents": 0}, D("8000"), D("8000"), "SE", True, {}),
    ("1099-K", 2022, {"Gross Amount": 4000}, D("4000"), D("4000"), "SE", True,
     {"requires_confirmation": True, "flags": ["form_1099k_requires_confirmation"]}),
    # savings-bond interest counts in full (upstream's >= 1,000 rule corrected)
    ("1099-INT", 2022, {"Interest": 120, "Savings Bonds": 30}, D("150"), D("0"), "Non-SE", True, {}),
    # 1a + 2a as income; 1b + 2a at capital-gain rates
    ("1099-DIV", 2022, {"Ordinary Dividends": 1000, "Qualified Dividends": 700, "Capital Gains": 200},
     D("1200"), D("0"), "Non-SE", True, {"preferential_amount": D("900")}),
    ("1099-B", 2022, {"Proceeds": 10000, "Cost or Basis": 8000}, D("2000"), D("0"), "Non-SE", True, {}),
    ("1099-R", 2022, {"Gross Distribution": 10000, "Taxable Amount": 10000, "Distribution Code": "7",
                      "Federal Withholding": 2000}, D("10000"), D("0"), "Non-SE", True,
     {"early_distribution_amount": D("0")}),
    ("1099-G", 2021, {"Unemployment Compensation": 6000, "State or Local Income Tax Refunds": 300,
                      "Federal Withholding": 600}, D("6000"), D("0"), "Non-SE", True, {}),
    ("SSA-1099", 2022, {"Total Benefits Paid": 18000, "Federal Withholding": 900}, D("18000"), D("0"), "Non-SE",
     True, {}),
    ("RRB-1099", 2022, {"Net Social Security Equivalent Benefit": 9000}, D("9000"), D("0"), "Non-SE", True, {}),
    ("RRB-1099-R", 2022, {"Taxable Amount": 4000}, D("4000"), D("0"), "Non-SE", True, {}),
    ("1099-S", 2022, {"Gross Proceeds": 250000}, D("250000"), D("0"), "Neither", False,
     {"flags": ["basis_unknown_review"]}),
    ("1099-C", 2022, {"Amount of Debt Discharged": 5000}, D("5000"), D("0"), "Non-SE", True,
     {"flags": ["debt_cancellation_review"]}),
    ("1099-SA", 2022, {"Gross Distribution": 900}, D("900"), D("0"), "Neither", False, {}),
    ("1099-Q", 2022, {"Gross Distribution": 4000}, D("4000"), D("0"), "Neither", False, {}),
    ("1099-LTC", 2022, {"Gross Long-Term Care Benefits Paid": 3000}, D("3000"), D("0"), "Neither", False, {}),
    ("1099-OID", 2022, {"Original Issue Discount": 40, "Other Periodic Interest": 10}, D("50"), D("0"), "Non-SE",
     True, {}),
    ("1098", 2022, {"Mortgage Interest": 9000}, D("0"), D("0"), "Neither", False, {}),
    ("1098-E", 2022, {"Student Loan Interest": 900}, D("0"), D("0"), "Neither", False, {}),
    ("1098-T", 2022, {"Payments Received": 5000}, D("0"), D("0"), "Neither", False, {}),
    ("5498", 2022, {"Fair Market Value": 30000}, D("0"), D("0"), "Neither", False, {}),
    ("5498-SA", 2022, {"Fair Market Value": 3000}, D("0"), D("0"), "Neither", False, {}),
    ("1095-A", 2022, {"Monthly Premium": 400}, D("0"), D("0"), "Neither", False, {}),
    ("1095-B", 2022, {}, D("0"), D("0"), "Neither", False, {}),
    ("1095-C", 2022, {}, D("0"), D("0"), "Neither", False, {}),
    # partnership: ordinary income + guaranteed payments -> SE; interest is not SE
    ("K-1 (Form 1065)", 2022, {"Ordinary Income K-1": 20000, "Guaranteed Payments": 5000, "Interest Income": 100},
     D("25100"), D("25000"), "SE", True, {}),
    ("K-1 1120S", 2022, {"Ordinary Income K-1": 20000}, D("20000"), D("0"), "Non-SE", True, {}),
    ("K-1 (Form 1041)", 2022, {"Interest Income": 300}, D("300"), D("0"), "Non-SE", True, {}),
    ("1099-PATR", 2022, {"Patronage Dividends": 250}, D("250"), D("0"), "Non-SE", True,
     {"flags": ["se_status_review"]}),
    ("1042-S", 2022, {"Gross Income": 1500}, D("1500"), D("0"), "Non-SE", True, {}),
    ("1099-A", 2022, {}, D("0"), D("0"), "Neither", False, {}),
    ("3922", 2022, {}, D("0"), D("0"), "Neither", False, {}),
]

NORMALISED = {"K-1 (Form 1065)": "K-1 1065", "K-1 1120S": "K-1 1120-S", "K-1 (Form 1041)": "K-1 1041"}


@pytest.mark.parametrize(("form_type", "year", "fields", "gross", "se", "category", "include", "extra"), CASES,
                         ids=[f"{c[0]}-{c[1]}-{i}" for i, c in enumerate(CASES)])
def test_form_categorisation(db, form_type, year, fields, gross, se, category, include, extra):
    since = max_error_id(db)
    ingest(db, "wi", CASE, wi(year, form(form_type, fields, Income=0)))
    assert errors_since(db, since) == []
    [doc] = docs(db, CASE)
    assert doc["form_type"] == NORMALISED.get(form_type, form_type)
    assert doc["tax_year"] == year
    assert (doc["gross_amount"], doc["se_amount"], doc["category"], doc["include_in_projection"]) == (
        gross, se, category, include)
    assert doc["is_self_employment"] == (se > 0)
    for key, value in extra.items():
        if key == "flags":
            assert set(value) <= set(doc["flags"])
        else:
            assert doc[key] == value, key


def test_every_rule_form_is_covered(db):
    """Adding a rule row without a categorisation case above fails here."""
    tested = {NORMALISED.get(c[0], c[0]) for c in CASES}
    rules = {r for (r,) in db.execute("SELECT DISTINCT form_code FROM wi_type_rules").fetchall()}
    assert rules - tested == set()
    # and every row carries its provenance
    assert db.execute("SELECT count(*) FROM wi_type_rules WHERE source = '' OR confidence IS NULL").fetchone() == (0,)


def test_1099r_codes_and_1099b_missing_basis(db):
    """1099-R code G (rollover) is not taxable; code 1 is an early distribution (+10 %);
    1099-B without basis: full proceeds as gain, flagged (irs-domain 3)."""
    ingest(db, "wi", CASE, wi(2022,
        form("1099-R", {"Gross Distribution": 5000, "Taxable Amount": 5000, "Distribution Code": "G"}),
        form("1099-R", {"Gross Distribution": 3000, "Taxable Amount": 3000, "Distribution Code": "1"}),
        form("1099-B", {"Proceeds": 4000})))
    by_amount = {(d["form_type"], d["gross_amount"]): d for d in docs(db, CASE)}
    assert by_amount[("1099-R", D("0"))]["early_distribution_amount"] == 0
    assert by_amount[("1099-R", D("3000"))]["early_distribution_amount"] == D("3000")
    assert "basis_missing" in by_amount[("1099-B", D("4000"))]["flags"]


def test_1099misc_without_breakdown_depends_on_year(db):
    """No Fields: <= 2019 the form carried NEC in box 7 (SE); 2020+ it is other income."""
    ingest(db, "wi", CASE, {"years_data": {"2019": [form("1099-MISC", None, Income=8000)],
                                           "2021": [form("1099-MISC", None, Income=800)]}})
    d2019, d2021 = docs(db, CASE)
    assert (d2019["category"], d2019["se_amount"]) == ("SE", D("8000"))
    assert (d2021["category"], d2021["se_amount"]) == ("Non-SE", D("0"))


def test_unknown_form_type_is_kept_and_flagged(db):
    ingest(db, "wi", CASE, wi(2022, form("Form 8888", None, Income="$1,250.50")))
    [doc] = docs(db, CASE)
    assert (doc["form_type"], doc["category"], doc["gross_amount"]) == ("8888", "Unknown", D("1250.50"))
    assert "unknown_form_type" in doc["flags"]


@pytest.mark.parametrize(("raw", "code"), [
    ("W2", "W-2"), ("w-2", "W-2"), ("Form W-2", "W-2"), (" W 2 ", "W-2"), ("W2G", "W-2G"), ("1099nec", "1099-NEC"),
    ("1099 MISC", "1099-MISC"), ("ssa1099", "SSA-1099"), ("RRB-1099R", "RRB-1099-R"), ("5498sa", "5498-SA"),
    ("Schedule K-1 (Form 1065)", "K-1 1065"), ("K1 1120S", "K-1 1120-S"), ("W-2C", "W-2"), ("1098-E", "1098-E"),
])
def test_form_code_spellings(db, raw, code):
    assert db.execute("SELECT md_form_code(%s)", (raw,)).fetchone() == (code,)
