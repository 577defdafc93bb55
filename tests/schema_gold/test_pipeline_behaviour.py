"""Idempotency, atomic replacement, error capture (silver and gold), health views, business
functions, and the sandbox generator's payloads."""

from __future__ import annotations

import copy
from pathlib import Path

import psycopg
import pytest

from tests.schema_gold import D, docs, dump, errors_since, form, ingest, max_error_id, wi
from tests.schema_gold.test_payload_variants import UPSTREAM_SAMPLE, VARIANT_A

CASE = "740000001"


def _wi_payload():
    return {"years_data": {
        "2022": [form("W-2", {"Wages, Tips, and Other Compensation": 50000, "Federal Withholding": 4000}),
                 form("1099-NEC", {"Non-Employee Compensation": 12000}),
                 form("1099-INT", {"Interest": 80})],
        "2023": [form("W-2", {"Wages, Tips, and Other Compensation": 52000, "Federal Withholding": 4100})]}}


def test_ingest_twice_and_rebuild_leave_identical_rows(database_url, case_id):
    """Committed, separate transactions (so a rewrite would show a new ctid and updated_at)."""
    with psycopg.connect(database_url, autocommit=True) as db:
        since = max_error_id(db)
        ingest(db, "wi", case_id, _wi_payload())
        ingest(db, "interview", case_id, VARIANT_A)
        first = dump(db, case_id)
        assert all(first[t] for t in ("income_documents", "logiqs_raw_data", "employment_information",
                                      "household_information", "vehicles", "tax_projections"))
        # same payloads again: bronze keeps one row each, nothing below changes
        ingest(db, "wi", case_id, _wi_payload())
        ingest(db, "interview", case_id, VARIANT_A)
        assert db.execute("SELECT (SELECT count(*) FROM bronze_wi_raw WHERE case_id = %s),"
                          " (SELECT count(*) FROM bronze_interview_raw WHERE case_id = %s)",
                          (case_id, case_id)).fetchone() == (1, 1)
        assert dump(db, case_id) == first
        # re-run the loaders on the same bronze rows (what a rule change triggers)
        results = db.execute("SELECT source, ok FROM rebuild_from_bronze(%s) ORDER BY 1", (case_id,)).fetchall()
        assert results == [("interview", True), ("wi", True)]
        assert dump(db, case_id) == first
        assert errors_since(db, since, case_id) == []
        db.execute("DELETE FROM cases WHERE case_id = %s", (case_id,))


def test_changed_payload_replaces_the_case_rows(db):
    """A new payload: changed amounts replace, vanished forms are deleted, new forms added; gold follows."""
    ingest(db, "wi", CASE, _wi_payload())
    assert len(docs(db, CASE)) == 4
    changed = _wi_payload()
    changed["years_data"]["2022"][0]["Fields"]["Wages, Tips, and Other Compensation"] = 55000
    del changed["years_data"]["2022"][2]             # the 1099-INT is gone
    del changed["years_data"]["2023"]                # and the whole of 2023
    changed["years_data"]["2024"] = [form("W-2G", {"Gross Winnings": 1500})]
    ingest(db, "wi", CASE, changed)
    got = [(d["tax_year"], d["form_type"], d["gross_amount"]) for d in docs(db, CASE)]
    assert got == [(2022, "1099-NEC", D("12000")), (2022, "W-2", D("55000")), (2024, "W-2G", D("1500"))]
    years = db.execute("SELECT tax_year, wages FROM tax_projections WHERE case_id = %s ORDER BY 1", (CASE,)).fetchall()
    assert years == [(2022, D("55000")), (2024, D("0"))]
    bronze_ids = {b for (b,) in db.execute("SELECT DISTINCT bronze_id FROM income_documents WHERE case_id = %s",
                                           (CASE,))}
    latest = db.execute("SELECT bronze_id FROM bronze_wi_raw WHERE case_id = %s ORDER BY inserted_at DESC LIMIT 1",
                        (CASE,)).fetchone()[0]
    assert bronze_ids == {latest}


def test_malformed_payload_leaves_bronze_and_one_error_only(db):
    ingest(db, "wi", CASE, _wi_payload())
    ingest(db, "interview", CASE, VARIANT_A)
    before = dump(db, CASE)
    since = max_error_id(db)
    ingest(db, "wi", CASE, {"unexpected": {"shape": True}})
    ingest(db, "interview", CASE, {"not": "an interview"})
    errs = errors_since(db, since)
    assert [(e[0], e[1], e[2]) for e in errs] == [("silver", "bronze_wi_raw", CASE),
                                                   ("silver", "bronze_interview_raw", CASE)]
    assert dump(db, CASE) == before
    assert db.execute("SELECT count(*) FROM bronze_wi_raw WHERE case_id = %s", (CASE,)).fetchone() == (2,)


def test_gold_failure_is_recorded_and_silver_kept(db):
    """Force a gold failure with a constraint only this test has (rolled back with it)."""
    db.execute("ALTER TABLE tax_projections ADD CONSTRAINT test_no_huge_wages CHECK (wages < 1000000)")
    db.execute("ALTER TABLE employment_information ADD CONSTRAINT test_no_boom CHECK (employer_name <> 'BOOM')")
    since = max_error_id(db)
    ingest(db, "wi", CASE, wi(2023, form("W-2", {"Wages, Tips, and Other Compensation": 2000000})))
    payload = copy.deepcopy(VARIANT_A)
    payload["employment"]["clientEmployer"] = "BOOM"
    ingest(db, "interview", CASE, payload)
    errs = errors_since(db, since, CASE)
    assert {(e[0], e[1]) for e in errs} == {("gold", "tax_projections"), ("gold", "interview_gold_tables")}
    assert all(e[0] == "gold" for e in errs)
    # silver stands; the failing gold parts wrote nothing
    assert [d["gross_amount"] for d in docs(db, CASE)] == [D("2000000")]
    assert db.execute("SELECT b3 FROM logiqs_raw_data WHERE case_id = %s", (CASE,)).fetchone() == ("BOOM",)
    assert db.execute("SELECT count(*) FROM tax_projections WHERE case_id = %s", (CASE,)).fetchone() == (0,)
    assert db.execute("SELECT count(*) FROM employment_information WHERE case_id = %s", (CASE,)).fetchone() == (0,)
    health = dict(db.execute("SELECT gold_table, gold_errors FROM silver_gold_health").fetchall())
    assert health["tax_projections"] >= 1 and health["employment_information"] >= 1


def test_health_views_count_per_source_and_table(db):
    before_bs = {r[0]: r for r in db.execute("SELECT source, bronze_rows, bronze_cases, silver_rows,"
                                              " bronze_rows_without_silver, transformation_errors"
                                              " FROM bronze_silver_health").fetchall()}
    ingest(db, "wi", CASE, UPSTREAM_SAMPLE)
    ingest(db, "interview", CASE, VARIANT_A)
    ingest(db, "wi", "740000002", {"years_data": {}})            # no forms: bronze without silver
    ingest(db, "interview", "740000003", {"bogus": 1})          # error
    after = {r[0]: r for r in db.execute("SELECT source, bronze_rows, bronze_cases, silver_rows,"
                                          " bronze_rows_without_silver, transformation_errors"
                                          " FROM bronze_silver_health").fetchall()}
    delta = {s: tuple(a - b for a, b in zip(after[s][1:], before_bs[s][1:], strict=True)) for s in after}
    assert delta["wi"] == (2, 2, 2, 1, 0)
    assert delta["interview"] == (2, 2, 1, 1, 1)
    assert delta["at"] == (0, 0, 0, 0, 0) and delta["trt"] == (0, 0, 0, 0, 0)
    gold = {r[0]: r[1:] for r in db.execute("SELECT gold_table, silver_source, gold_rows FROM silver_gold_health")}
    assert gold["tax_projections"][0] == "income_documents"
    assert set(gold) == {"employment_information", "household_information", "financial_accounts", "income_sources",
                         "monthly_expenses", "vehicles", "real_property", "tax_projections"}


def test_business_functions_on_a_known_interview(db):
    """VARIANT_A: income = wages 5,200 (monthly) + child support 350 = 5,550.
    Allowable (irs-domain 5.1): national standards from the interview's Result c56-c60
    820 + 80 + 210 + 75 + 170 = 1,355 (full standard); out-of-pocket health 252;
    housing actual 1,450 + 190 + 60 + 90 = 1,790 < standard 1,900 -> 1,790;
    vehicle ownership min(410, 619) = 410; operating min(140, 308 x 1) = 140; public transport with a
    vehicle and no spending 0; other necessary 320 health insurance + 300 child care + 35 term life
    = 655 (whole life 50 excluded). Total 4,602; MDI 948; x 12 = 11,376; x 24 = 22,752."""
    ingest(db, "interview", CASE, VARIANT_A)
    assert db.execute("SELECT * FROM calculate_total_monthly_income(%s)", (CASE,)).fetchone() == (
        D("5200"), D("0"), D("350"), D("5550"))
    row = db.execute("SELECT total_monthly_income, national_standards, health_out_of_pocket, housing_utilities,"
                     " vehicle_ownership, vehicle_operating, public_transportation, other_necessary,"
                     " total_allowable_expenses, disposable_income, future_income_lump_sum, future_income_periodic,"
                     " household_size, standards_source, notes FROM calculate_disposable_income(%s)",
                     (CASE,)).fetchone()
    assert row == (D("5550"), D("1355"), D("252"), D("1790"), D("410"), D("140"), D("0"), D("655"), D("4602"),
                   D("948"), D("11376"), D("22752"), 3, "interview", [])


def test_disposable_income_falls_back_to_published_standards(db):
    """Without the Result section: national standards by household size 3 (2025-04-21 table) 1,753;
    health 3 x 83 (2024, under 65) = 249; housing and operating at actual (standards unknown, noted).
    Total 1,753 + 249 + 1,790 + 410 + 140 + 0 + 655 = 4,997; MDI 5,550 - 4,997 = 553."""
    payload = copy.deepcopy(VARIANT_A)
    del payload["Result"]
    ingest(db, "interview", CASE, payload)
    row = db.execute("SELECT national_standards, health_out_of_pocket, total_allowable_expenses, disposable_income,"
                     " standards_source, notes FROM calculate_disposable_income(%s)", (CASE,)).fetchone()
    assert row == (D("1753"), D("249"), D("4997"), D("553"), "irs_collection_standards",
                   ["housing_standard_unknown_actual_used", "operating_standard_unknown_actual_used"])


def test_case_summary(db):
    ingest(db, "wi", CASE, UPSTREAM_SAMPLE)
    ingest(db, "interview", CASE, VARIANT_A)
    s = db.execute("SELECT get_case_summary(%s)", (CASE,)).fetchone()[0]
    assert s["status"] == "complete" and s["case_exists"] is True
    assert s["bronze"] == {"at": 0, "wi": 1, "trt": 0, "interview": 1, "total": 2}
    assert s["silver"]["income_documents"] == 2 and s["silver"]["logiqs_raw_data"] == 1
    assert s["gold"]["tax_projections"] == 1 and s["gold"]["employment_information"] == 1
    assert s["tax_years"] == [2022]
    assert s["csed_earliest"] is None and s["total_balance"] is None
    empty = db.execute("SELECT get_case_summary('740000099')").fetchone()[0]
    assert (empty["status"], empty["case_exists"], empty["bronze"]["total"]) == ("not_started", False, 0)


SANDBOX = Path(__file__).resolve().parents[2] / "sandbox" / "data.py"


@pytest.mark.skipif(not SANDBOX.exists(), reason="sandbox generator not present")
@pytest.mark.parametrize("sandbox_case", ["1295022", "1000001", "1000002", "3000001", "3000002", "2000001"])
def test_sandbox_payloads_load_without_errors(db, sandbox_case):
    from sandbox.data import interview_payload, wi_payload

    # a private copy of the case id, so committed data of other tests cannot interfere
    case = "88" + sandbox_case.rjust(10, "0")
    since = max_error_id(db)
    ingest(db, "wi", case, wi_payload(sandbox_case))
    interview = interview_payload(sandbox_case)
    if interview is not None:
        ingest(db, "interview", case, interview)
    assert errors_since(db, since, case) == []
    rows = docs(db, case)
    assert rows and all(d["category"] != "Unknown" for d in rows)
    assert db.execute("SELECT count(*) FROM tax_projections WHERE case_id = %s", (case,)).fetchone()[0] >= 1
    if interview is not None:
        assert db.execute("SELECT count(*) FROM employment_information WHERE case_id = %s", (case,)).fetchone()[0] >= 1
        assert db.execute("SELECT pay_frequency FROM employment_information WHERE case_id = %s"
                          " AND person_type = 'taxpayer'", (case,)).fetchone()[0] is not None
