"""Every W&I shape and key variant (upstream-apis.md 2.5), every interview variant A-D
(upstream-apis.md 3.3, numbers as numeric strings) and pay-frequency synonyms
(business-rules.md 7)."""

from __future__ import annotations

import copy
import json

import pytest

from tests.schema_gold import D, docs, errors_since, ingest, max_error_id

CASE = "730000001"

UPSTREAM_SAMPLE = {  # upstream-apis.md 2.5, verbatim
    "summary": {"total_years": 1, "years_analyzed": ["2022"], "total_forms": 2,
                "by_year": {"2022": {"number_of_forms": 2, "se_income": 0.0, "total_income": 57200.0}},
                "overall_totals": {"total_se_income": 0.0, "total_income": 57200.0}},
    "years_data": {"2022": [
        {"Form": "W-2", "UniqueID": "UNKNOWN", "Label": "E", "Income": 48200.0, "Withholding": 5100.0,
         "Category": "Non-SE",
         "Fields": {"Wages, Tips, and Other Compensation": 48200.0, "Federal Withholding": 5100.0},
         "PayerBlurb": "", "Owner": "TP", "SourceFile": "WI 22.pdf"},
        {"Form": "1099-NEC", "UniqueID": "UNKNOWN", "Label": "P", "Income": 9000.0, "Withholding": 0.0,
         "Category": "SE", "Fields": {"Non-Employee Compensation": 9000.0}, "PayerBlurb": "", "Owner": "TP",
         "SourceFile": "WI 22.pdf"}]},
}


def _summary(case):
    return [(d["tax_year"], d["form_type"], d["owner"], d["gross_amount"], d["federal_withholding"], d["category"])
            for d in docs_of(case)]


docs_of = None  # set per test via fixture below


@pytest.fixture(autouse=True)
def _bind(db):
    global docs_of
    docs_of = lambda case: docs(db, case)  # noqa: E731
    yield


def test_upstream_sample_recomputes_se_and_ignores_summary(db):
    """summary.se_income is always 0 upstream; the rules make the 1099-NEC SE income."""
    ingest(db, "wi", CASE, UPSTREAM_SAMPLE)
    assert _summary(CASE) == [(2022, "1099-NEC", "TP", D("9000"), D("0"), "SE"),
                              (2022, "W-2", "TP", D("48200"), D("5100"), "Non-SE")]
    p = db.execute("SELECT se_income, wages FROM tax_projections WHERE case_id = %s", (CASE,)).fetchone()
    assert p == (D("9000"), D("48200"))


def test_years_data_forms_object_and_unknown_year(db):
    """years_data[year] = {"forms": [...]}; an "Unknown" bucket: a form with its own Year gets it,
    one without stays NULL (kept, flagged, not projected)."""
    forms = copy.deepcopy(UPSTREAM_SAMPLE["years_data"]["2022"])
    payload = {"years_data": {"2022": {"forms": forms},
                              "Unknown": {"forms": [{"Form": "1099-INT", "Income": "15.00"},
                                                    {"Form": "1099-INT", "Income": 20, "Year": "Tax Year 2021"}]}}}
    ingest(db, "wi", CASE, payload)
    rows = _summary(CASE)
    assert (2021, "1099-INT", "TP", D("20"), D("0"), "Non-SE") in rows
    assert (None, "1099-INT", "TP", D("15"), D("0"), "Non-SE") in rows
    assert len(rows) == 4
    unknown = [d for d in docs(db, CASE) if d["tax_year"] is None][0]
    assert "unknown_tax_year" in unknown["flags"]
    years = [y for (y,) in db.execute("SELECT tax_year FROM tax_projections WHERE case_id = %s ORDER BY 1", (CASE,))]
    assert years == [2021, 2022]


@pytest.mark.parametrize("container", ["forms", "data", "wi_forms", "documents", "income_documents"])
def test_flat_containers_with_per_form_year(db, container):
    payload = {container: [
        {"Form": "W-2", "Year": 2022, "Income": 1000, "Withholding": 100},
        {"form_type": "1099-NEC", "tax_year": "2023", "gross_amount": "2,500.00"},
        {"FormType": "1099-INT", "TaxYear": "Tax Year 2021", "Amount": "$12.34"},
        {"document_type": "W2", "taxYear": 2020, "Wages": 700, "FederalWithholding": "70"},
    ]}
    ingest(db, "wi", CASE, payload)
    assert _summary(CASE) == [(2020, "W-2", "TP", D("700"), D("70"), "Non-SE"),
                              (2021, "1099-INT", "TP", D("12.34"), D("0"), "Non-SE"),
                              (2022, "W-2", "TP", D("1000"), D("100"), "Non-SE"),
                              (2023, "1099-NEC", "TP", D("2500"), D("0"), "SE")]


def test_form_level_key_variants(db):
    """Every key family of upstream-apis.md 2.5: form type, amounts, issuer, recipient, owner."""
    forms = [
        {"Form": {"Type": "W-2"}, "income": 100, "withholding": 10,
         "Issuer": {"Name": "ACME", "EIN": "12-3456789", "Address": "1 Main"},
         "Recipient": {"Name": "JO DOE", "SSN": "XXX-XX-1234"}},
        {"type": "W-2", "GrossAmount": 200, "Federal": 20, "IssuerName": "BETA", "IssuerEIN": "22-2222222",
         "RecipientName": "JO DOE SPOUSE", "RecipientSSN": "XXX-XX-9999"},
        {"formCode": "W-2", "gross_income": 300, "federal": 30, "employer_name": "GAMMA", "ein": "33",
         "employee_name": "AL", "taxpayer_type": "spouse"},
        {"FormCode": "W-2", "gross": 400, "FederalTaxWithheld": "$40.00",
         "Fields": {"PayerName": "DELTA", "PayerEIN": "44"},
         "Recipient": {"Name": "AL", "TaxpayerType": "spouse"}},
        {"Code": "W-2", "Total": 500, "WithholdingAmount": 50, "Issuer": {"company": "EPS"}, "Owner": "S"},
        {"code": "W-2", "total": 600, "Issuer": {"name": "ZETA", "id": "66"}, "owner": "spouse"},
        {"Description": "W2 Wage and Tax Statement", "Amount": "(0.00)", "issuer": {"Name": "ETA"}},
    ]
    ingest(db, "wi", CASE, {"years_data": {"2022": forms}})
    rows = docs(db, CASE)
    got = sorted((d["gross_amount"], d["federal_withholding"], d["owner"], d["issuer_name"], d["issuer_id"],
                  d["recipient_name"], d["recipient_id"], d["form_type"]) for d in rows)
    assert got == [
        (D("0"), D("0"), "TP", "ETA", None, None, None, "W-2"),
        (D("100"), D("10"), "TP", "ACME", "12-3456789", "JO DOE", "XXX-XX-1234", "W-2"),
        (D("200"), D("20"), "S", "BETA", "22-2222222", "JO DOE SPOUSE", "XXX-XX-9999", "W-2"),
        (D("300"), D("30"), "S", "GAMMA", "33", "AL", None, "W-2"),
        (D("400"), D("40"), "S", "DELTA", "44", "AL", None, "W-2"),
        (D("500"), D("50"), "S", "EPS", None, None, None, "W-2"),
        (D("600"), D("0"), "S", "ZETA", "66", None, None, "W-2"),
    ]


def test_numeric_strings_are_not_zero(db):
    """The original turned numeric strings into 0 (medallion-schema 8.6)."""
    ingest(db, "wi", CASE, {"years_data": {"2022": [
        {"Form": "W-2",
         "Fields": {"Wages, Tips, and Other Compensation": "48,200.00", "Federal Withholding": "$5,100"}}]}})
    [d] = docs(db, CASE)
    assert (d["gross_amount"], d["federal_withholding"]) == (D("48200"), D("5100"))


def test_identical_forms_both_count(db):
    """Two identical W-2s (e.g. two pay periods reported alike) are two documents."""
    w2 = {"Form": "W-2", "Income": 1000}
    ingest(db, "wi", CASE, {"years_data": {"2022": [w2, dict(w2)]}})
    assert len(docs(db, CASE)) == 2


@pytest.mark.parametrize("payload", [{"unexpected": True}, "just a string", 42, {"years_data": "2022"},
                                     {"forms": ["W-2", "1099"]}])
def test_unreadable_wi_payload_raises_and_is_recorded(db, payload):
    since = max_error_id(db)
    ingest(db, "wi", CASE, payload)
    errs = errors_since(db, since, CASE)
    assert len(errs) == 1 and errs[0][:2] == ("silver", "bronze_wi_raw")
    assert "W&I payload" in errs[0][3]
    assert docs(db, CASE) == []
    assert db.execute("SELECT count(*) FROM bronze_wi_raw WHERE case_id = %s", (CASE,)).fetchone() == (1,)


def test_empty_years_data_clears_the_case(db):
    ingest(db, "wi", CASE, UPSTREAM_SAMPLE)
    assert len(docs(db, CASE)) == 2
    since = max_error_id(db)
    ingest(db, "wi", CASE, {"summary": {}, "years_data": {}})
    assert errors_since(db, since, CASE) == []
    assert docs(db, CASE) == []
    assert db.execute("SELECT count(*) FROM tax_projections WHERE case_id = %s", (CASE,)).fetchone() == (0,)


# ------------------------------------------------------------------------------------------
# Interview variants

VARIANT_A = {  # upstream-apis.md 3.3 skeleton (invented values)
    "employment": {
        "clientEmployer": "Harbor Freight Lines", "clientStartWorkingDate": "2019-03-04",
        "clientGrossIncome": 62400, "clientNetIncome": 48100, "clientFrequentlyPaid": "biweekly",
        "spouseEmployer": "", "spouseGrossIncome": 0, "spouseNetIncome": 0,
        "clientHouseMembers": "3", "clientNextTaxReturn": "MFJ", "clientSpouseClaim": "yes",
        "clientLengthofresidency": "6 years", "clientOccupancyStatus": "rent"},
    "assets": {
        "bankAccounts": {"accountsData": 2350,
                         "accountsGrid": [{"type": "Checking", "fullName": "Local CU", "balance": 2350}]},
        "cashOnHand": 150,
        "vehicles": {"vehicle1MarketValue": 14500, "vehicle1Loan": 9200,
                     "vehiclesGrid": [{"year": "2018", "make": "Ford", "model": "F-150", "currentValue": 14500,
                                       "mileage": "88000", "monthlyPayment": 410, "loanBalance": 9200,
                                       "finalPaymentDate": "2027-06-01"}]},
        "retirement": {"retirementMarketValue": 8000, "retirementLoan": 0}},
    "income": {"taxpayerIncome": {"wages": 5200, "socialSecurity": 0, "pension": 0},
               "spouseIncome": {"wages": 0}, "otherIncome": {"rentalGross": 0, "childSupport": 350}},
    "expenses": {
        "familySize": {"under65": "3", "over65": "0"}, "location": {"state": "TX", "county": "Harris"},
        "foodClothingMisc": {"food": 780, "housekeeping": 60, "apparel": 120, "personalCare": 70, "misc": 150},
        "housing": {"rent": 1450, "utilities": {"electricity": 190, "water": 60, "phone": 90}},
        "healthcare": {"healthInsurance": 320, "prescriptions": 40, "copays": 25},
        "taxes": 0,
        "transportation": {"vehicleCount": "1", "autoInsurance": 140, "autoPayment1": 410, "autoPayment2": 0}},
    "raw_data": {"ExpenseChildCare": 300, "ExpenseCourtPayments": 0, "ExpenseTermLifeInsurance": 35,
                 "ExpenseWholeLifeInsurance": 50, "ExpenseAutoTotal": 410},
    "Result": {"Food": 820, "Housekeeping": 80, "Apparel": 210, "PersonalCare": 75, "Misc": 170,
               "FoodClothingMiscTotal": 1355, "HealthOutOfPocket": 252, "PublicTrans": 244, "Housing": 1900,
               "OperatingCostCar": 308},
}

CELLS = "b3, b4, b5, b6, b7, b10, b11, b18, b19, b22, b24, d24, b33, b44, b50, b52, b56, b66, b79, b88, b90, " \
        "ak2, ak7, c56, c61_irs, c61_irs_calculated, c80, al4, al7"


def _cells(db):
    return db.execute(f"SELECT {CELLS} FROM logiqs_raw_data WHERE case_id = %s", (CASE,)).fetchone()


def _stringify(v):
    if isinstance(v, dict):
        return {k: _stringify(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_stringify(x) for x in v]
    if isinstance(v, bool):
        return v
    if isinstance(v, int | float):
        return f"{v:.2f}" if isinstance(v, float) else str(v)
    return v


EXPECTED_A = ("Harbor Freight Lines", __import__("datetime").date(2019, 3, 4), D("62400"), D("48100"), "biweekly",
              3, "MFJ", D("2350"), D("150"), D("8000"), D("14500"), D("9200"), D("5200"), D("350"), 3, "TX",
              D("780"), D("1450"), D("320"), D("300"), D("35"), 1, D("410"), D("820"), D("1355"), D("1355"),
              D("252"), D("244"), D("5200"))


def test_interview_variant_a_cells_and_gold(db):
    since = max_error_id(db)
    ingest(db, "interview", CASE, VARIANT_A)
    assert errors_since(db, since, CASE) == []
    assert _cells(db) == EXPECTED_A
    emp = db.execute("SELECT person_type, employer_name, pay_frequency, gross_annual_income, gross_monthly_income,"
                     " net_monthly_income FROM employment_information WHERE case_id = %s ORDER BY 1",
                     (CASE,)).fetchall()
    # no spouse data (empty employer, zero amounts) -> no spouse row; net monthly 48,100 / 12 = 4,008.33
    assert emp == [("taxpayer", "Harbor Freight Lines", "biweekly", D("62400"), D("5200"), D("4008.33"))]
    hh = db.execute("SELECT total_household_members, members_under_65, filing_status, state, county"
                    " FROM household_information WHERE case_id = %s", (CASE,)).fetchone()
    assert hh == (3, 3, "married_filing_jointly", "TX", "Harris")
    veh = db.execute("SELECT year, make, model, mileage, current_value, loan_balance, equity, monthly_payment"
                     " FROM vehicles WHERE case_id = %s", (CASE,)).fetchall()
    assert veh == [(2018, "Ford", "F-150", 88000, D("14500"), D("9200"), D("5300"), D("410"))]
    acc = db.execute("SELECT source_key, account_type, current_balance FROM financial_accounts WHERE case_id = %s"
                     " ORDER BY 1", (CASE,)).fetchall()
    assert acc == [("b18", "checking", D("2350")), ("b19", "other", D("150")), ("b22", "retirement", D("8000"))]
    inc = db.execute("SELECT source_key, person_type, income_type, frequency, normalized_monthly_amount"
                     " FROM income_sources WHERE case_id = %s ORDER BY 1", (CASE,)).fetchall()
    assert inc == [("b33", "taxpayer", "wages", "monthly", D("5200")),
                   ("b44", "joint", "child_support", "monthly", D("350"))]
    exp = dict(db.execute("SELECT source_key, irs_standard_amount FROM monthly_expenses WHERE case_id = %s",
                          (CASE,)).fetchall())
    # only positive amounts; ak2 (vehicle count) and ak5 (auto total) are never expenses
    assert set(exp) == {"b56", "b57", "b58", "b59", "b60", "b66", "b70", "b71", "b75", "b79", "b80", "b81", "b88",
                        "b89", "b90", "ak6", "ak7"}
    assert exp["b56"] == D("820") and exp["b66"] is None


def test_interview_numbers_as_strings_give_the_same_cells(db):
    ingest(db, "interview", CASE, _stringify(VARIANT_A))
    assert _cells(db) == EXPECTED_A


def test_interview_variant_b_flat_keys(db):
    payload = {
        "household": {"clientHouseMembers": "2", "under65": 1, "over65": "1", "state": "FL", "county": "Miami-Dade"},
        "employment": {"clientEmployer": "Shop", "clientMonthlyIncome": "3000.50"},
        "assets": {"checkingAccounts": "1200", "cashOnHand": 50, "realEstateValue": 200000, "realEstateLoan": 150000,
                   "vehicle1Value": 9000, "vehicle1Loan": 0},
        "income": {"clientWages": 3000.5, "childSupport": 200},
        "expenses": {"food": 600, "rent": 1000, "healthInsurance": "250", "autoPayment1": 300},
        "irs_standards": {"food": 500, "housekeeping": 40, "apparel": 90, "personalCare": 45, "misc": 150,
                          "total": 825},
    }
    since = max_error_id(db)
    ingest(db, "interview", CASE, payload)
    assert errors_since(db, since, CASE) == []
    row = db.execute("SELECT b10, b50, b51, b52, al7, b18, b23, d23, b24, b33, b44, b56, b66, b79, ak7, c56, c61_irs,"
                     " c61_irs_calculated FROM logiqs_raw_data WHERE case_id = %s", (CASE,)).fetchone()
    assert row == (2, 1, 1, "FL", D("3000.50"), D("1200"), D("200000"), D("150000"), D("9000"), D("3000.50"),
                   D("200"), D("600"), D("1000"), D("250"), D("300"), D("500"), D("825"), D("825"))
    assert db.execute("SELECT equity FROM real_property WHERE case_id = %s", (CASE,)).fetchone() == (D("50000"),)


def test_interview_variant_c_cell_keyed_sections(db):
    payload = {"employment": {"b3": "Cell Employer", "B5": "50000", "b7": "Semi-Monthly", "al7": 4166.67},
               "expenses": {"b56": "500", "ak7": 250}, "Result": {"c56": 497}}
    ingest(db, "interview", CASE, payload)
    row = db.execute("SELECT b3, b5, b7, al7, b56, ak7, c56 FROM logiqs_raw_data WHERE case_id = %s",
                     (CASE,)).fetchone()
    assert row == ("Cell Employer", D("50000"), "Semi-Monthly", D("4166.67"), D("500"), D("250"), D("497"))
    assert db.execute("SELECT pay_frequency, gross_monthly_income FROM employment_information WHERE case_id = %s",
                      (CASE,)).fetchone() == ("semimonthly", D("4166.67"))


def test_interview_variant_d_semantic_keys(db):
    payload = {"employment": {"taxpayer_employer": "Semantic LLC", "taxpayer_gross_income": "72,000",
                              "clientPayFrequency": "Bi-Weekly", "clientEmployerAddress": "9 Elm St",
                              "clientOccupation": "Driver", "spouseEmployer": "Clinic", "spousePayFrequency": "weekly"},
               "household": {"filingStatus": "Married Filing Jointly", "householdSize": 4, "zipCode": "77002",
                             "numberOfDependents": "2", "state": "TX"}}
    ingest(db, "interview", CASE, payload)
    emp = db.execute("SELECT person_type, employer_name, employer_address, job_title, pay_frequency,"
                     " gross_monthly_income"
                     " FROM employment_information WHERE case_id = %s ORDER BY 1", (CASE,)).fetchall()
    # 72,000 / 12 = 6,000 (no monthly wage cell)
    assert emp == [("spouse", "Clinic", None, None, "weekly", None),
                   ("taxpayer", "Semantic LLC", "9 Elm St", "Driver", "biweekly", D("6000"))]
    hh = db.execute("SELECT total_household_members, filing_status, zip_code, number_of_dependents, state"
                    " FROM household_information WHERE case_id = %s", (CASE,)).fetchone()
    assert hh == (4, "married_filing_jointly", "77002", 2, "TX")


@pytest.mark.parametrize("payload", [{"foo": 1}, ["employment"], "text", {"data": {"nothing": True}}])
def test_unreadable_interview_raises_and_is_recorded(db, payload):
    since = max_error_id(db)
    ingest(db, "interview", CASE, payload)
    errs = errors_since(db, since, CASE)
    assert len(errs) == 1 and errs[0][:2] == ("silver", "bronze_interview_raw")
    assert "interview payload" in errs[0][3]
    assert db.execute("SELECT count(*) FROM logiqs_raw_data WHERE case_id = %s", (CASE,)).fetchone() == (0,)


def test_wrapped_interview_is_unwrapped(db):
    ingest(db, "interview", CASE, {"data": VARIANT_A})
    assert _cells(db) == EXPECTED_A


# ------------------------------------------------------------------------------------------
# Pay frequency (business-rules.md 7): synonyms -> six canonical values; monthly factors
# 52/12 and 26/12 exact (the original's 4.33 / 2.17 are these rounded).

@pytest.mark.parametrize(("raw", "canonical"), [
    ("weekly", "weekly"), ("Weekly", "weekly"), ("every week", "weekly"),
    ("Bi-Weekly", "biweekly"), ("BIWEEKLY ", "biweekly"), ("bi weekly", "biweekly"), ("every 2 weeks", "biweekly"),
    ("Every two weeks", "biweekly"), ("fortnightly", "biweekly"),
    ("semi-monthly", "semimonthly"), ("Semi-Monthly", "semimonthly"), ("semimonthly", "semimonthly"),
    ("twice a month", "semimonthly"),
    ("Monthly", "monthly"), ("month", "monthly"), ("Quarterly", "quarterly"), ("quarter", "quarterly"),
    ("Yearly", "annual"), ("annually", "annual"), ("Annual", "annual"), ("year", "annual"),
    ("whenever", None), ("", None),
])
def test_pay_frequency_synonyms(db, raw, canonical):
    assert db.execute("SELECT md_pay_frequency(%s)", (raw,)).fetchone() == (canonical,)


@pytest.mark.parametrize(("freq", "monthly"), [
    ("weekly", D("4333.33")),       # 1,000 x 52 / 12 = 4,333.333...
    ("Bi-Weekly", D("2166.67")),    # 1,000 x 26 / 12 = 2,166.666...
    ("semi-monthly", D("2000.00")),  # x 2
    ("monthly", D("1000.00")),
    ("quarterly", D("333.33")),     # / 3
    ("yearly", D("83.33")),         # / 12
    ("unknown text", D("1000.00")),  # unknown: the amount as given
])
def test_monthly_normalisation(db, freq, monthly):
    assert db.execute("SELECT normalize_to_monthly(1000, %s)", (freq,)).fetchone() == (monthly,)


def test_pay_frequency_in_gold_keeps_raw_and_never_violates_check(db):
    payload = json.loads(json.dumps(VARIANT_A))
    payload["employment"]["clientFrequentlyPaid"] = "BIWEEKLY "
    payload["employment"]["spouseEmployer"] = "Other Co"
    payload["employment"]["spouseFrequentlyPaid"] = "every blue moon"
    since = max_error_id(db)
    ingest(db, "interview", CASE, payload)
    assert errors_since(db, since, CASE) == []
    rows = db.execute("SELECT person_type, pay_frequency, pay_frequency_raw FROM employment_information"
                      " WHERE case_id = %s ORDER BY 1", (CASE,)).fetchall()
    assert rows == [("spouse", None, "every blue moon"), ("taxpayer", "biweekly", "BIWEEKLY")]
