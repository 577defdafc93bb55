"""Migration 037 (docs/05_TRIGGER_PERFORMANCE.md section 13): the interview refresh syncs its
financial accounts, income sources and monthly expenses as arrays of table rows (034's typed
sync) instead of jsonb. Each row still comes from its cell, columns the refresh does not set take
their defaults, a reload with the same interview rewrites nothing, a changed cell updates its
row, a cell that drops to zero loses its row, and another case is not touched."""

from __future__ import annotations

import copy
from decimal import Decimal

from psycopg.types.json import Jsonb

from sandbox import data

CASES = ["737000001", "737000002"]


def _d(value) -> Decimal:
    return Decimal(str(value))


def _ingest(db, payloads: list[dict]) -> None:
    db.execute("INSERT INTO bronze_interview_raw (case_id, raw_response) SELECT * FROM unnest(%s::text[], %s::jsonb[])",
               (CASES[:len(payloads)], [Jsonb(p) for p in payloads]))


def _rows(db, table: str, cols: str) -> dict[tuple, tuple]:
    return {r[:2]: r[2:] for r in db.execute(
        f"SELECT case_id, source_key, ctid::text, {cols} FROM {table} WHERE case_id = ANY (%s)", (CASES,))}


def test_three_tables_come_from_their_cells_and_reload_as_rows(db):
    payload = data.interview_payload(CASES[0])
    _ingest(db, [payload, data.interview_payload(CASES[1])])
    expenses = _rows(db, "monthly_expenses", "amount, normalized_monthly_amount, is_irs_standard,"
                     " irs_standard_amount, use_irs_standard, frequency")
    food = expenses[(CASES[0], "b56")]
    assert food[1:] == (_d(payload["expenses"]["foodClothingMisc"]["food"]),) * 2 + (
        True, _d(payload["Result"]["Food"]), False, "monthly")
    assert expenses[(CASES[0], "b67")][1:4] == (_d(95), _d(95), False)  # no standard for insurance
    income = _rows(db, "income_sources", "person_type, income_type, amount, frequency")
    assert income[(CASES[0], "b33")][1:] == ("taxpayer", "wages", _d(payload["income"]["taxpayerIncome"]["wages"]),
                                             "monthly")
    accounts = _rows(db, "financial_accounts", "account_type, current_balance, loan_balance, is_primary,"
                     " is_joint, institution_name")
    invest = payload["assets"]["investments"]
    assert accounts[(CASES[0], "b20")][1:] == ("investment", _d(invest["investmentMarketValue"]),
                                               _d(invest["investmentLoan"]), False, False, None)

    # the same interview again: no row rewritten (the case's bronze row is new, its content is not)
    again = copy.deepcopy(payload)
    again["meta"] = {"note": "re-sent"}
    _ingest(db, [again])
    assert {k: v[0] for k, v in _rows(db, "monthly_expenses", "amount").items()} == {
        k: v[0] for k, v in expenses.items()}

    # food changes, insurance drops to zero; the other case stays as it was
    changed = copy.deepcopy(again)
    changed["expenses"]["foodClothingMisc"]["food"] = "912.50"
    changed["expenses"]["housing"]["insurance"] = 0
    _ingest(db, [changed])
    after = _rows(db, "monthly_expenses", "amount")
    assert after[(CASES[0], "b56")][1] == _d("912.50") and after[(CASES[0], "b56")][0] != food[0]
    assert (CASES[0], "b67") not in after
    assert {k: v for k, v in after.items() if k[0] == CASES[1]} == {
        k: v[:2] for k, v in expenses.items() if k[0] == CASES[1]}


def test_typed_syncs_replace_the_jsonb_ones(db):
    functions = {r[0] for r in db.execute(
        "SELECT p.oid::regprocedure::text FROM pg_proc p WHERE p.proname ~ '^gold_sync_.*_(rows|batch)$'")}
    for table in ("financial_accounts", "income_sources", "monthly_expenses", "tax_projections"):
        assert f"gold_sync_{table}_rows(text[],{table}[])" in functions
        assert f"gold_sync_{table}_batch(text[],jsonb)" not in functions
    for table in ("employment_information", "household_information", "vehicles", "real_property"):
        assert f"gold_sync_{table}_batch(text[],jsonb)" in functions
