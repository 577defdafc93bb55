"""Migrations 011/012 (docs/05_TRIGGER_PERFORMANCE.md section 2): the promotion entry points
run without JIT, the gold refresh is narrowed to the parts a change can move (and the parts it
does move still follow), md_pick answers like the plpgsql loop it wraps."""

from __future__ import annotations

import copy
import json

import pytest

from tests.schema_gold import dump, form, ingest, wi
from tests.schema_gold.test_payload_variants import VARIANT_A

CASE = "740011001"


def test_jit_off_only_at_the_entry_points(db):
    rows = dict(db.execute(
        "SELECT proname, proconfig FROM pg_proc WHERE pronamespace = 'public'::regnamespace"
        " AND proconfig IS NOT NULL").fetchall())
    assert rows.get("csed_refresh") == ["jit=off"]
    # the promotion also plans every statement it runs once per session (generic plans, 012);
    # since 039 the rebuild runs the same promotion (promote_bronze_set), so it plans alike
    for entry in ("trg_bronze_promote", "rebuild_from_bronze"):
        assert sorted(rows.get(entry)) == ["jit=off", "plan_cache_mode=force_generic_plan"], entry
    # per-case and per-statement functions carry no SET (it cost time on every call, 012)
    for inner in ("promote_bronze_set", "silver_load_at", "silver_load_wi", "gold_refresh_case",
                  "trg_silver_refresh_gold", "trg_tax_years_refresh_gold", "trg_logiqs_raw_data_update_refresh_gold"):
        assert inner not in rows, inner
    # the rule lookups return at most one row and say so to the planner
    assert db.execute("SELECT array_agg(prorows ORDER BY proname) FROM pg_proc"
                      " WHERE proname IN ('at_match_action_code', 'at_match_closing_code')").fetchone()[0] == [1, 1]


def _gold(db, table: str) -> list[tuple]:
    return db.execute(f"SELECT ctid::text, t::text FROM {table} t WHERE case_id = %s ORDER BY 2", (CASE,)).fetchall()


def test_wi_change_refreshes_employment_and_projections_only(db):
    ingest(db, "wi", CASE, wi(2023, form("W-2", {"Wages, Tips, and Other Compensation": 40000})))
    ingest(db, "interview", CASE, VARIANT_A)
    before = dump(db, CASE)
    assert db.execute("SELECT is_self_employed FROM employment_information"
                      " WHERE case_id = %s AND person_type = 'taxpayer'", (CASE,)).fetchone() == (False,)
    # an SE form in the latest year: employment_information.is_self_employed follows
    ingest(db, "wi", CASE, wi(2023, form("W-2", {"Wages, Tips, and Other Compensation": 40000}),
                              form("1099-NEC", {"Non-Employee Compensation": 9000})))
    after = dump(db, CASE)
    assert db.execute("SELECT is_self_employed FROM employment_information"
                      " WHERE case_id = %s AND person_type = 'taxpayer'", (CASE,)).fetchone() == (True,)
    assert after["tax_projections"] != before["tax_projections"]
    for table in ("household_information", "financial_accounts", "income_sources", "monthly_expenses",
                  "vehicles", "real_property", "logiqs_raw_data"):
        assert after[table] == before[table], table  # not rewritten (same ctid)


@pytest.mark.parametrize("change, moves_projection", [
    (lambda p: p["expenses"]["foodClothingMisc"].update(food=999), False),
    (lambda p: p["employment"].update(clientEmployer="Self-employed hauling"), True),
    (lambda p: p["employment"].update(clientNextTaxReturn="Single"), True),
])
def test_interview_update_refreshes_projections_only_when_their_cells_change(db, change, moves_projection):
    # a 1099-K (needs the interview's confirmation) and no transcript: the projection reads the
    # interview's filing status and employer cells
    ingest(db, "wi", CASE, wi(2023, form("W-2", {"Wages, Tips, and Other Compensation": 40000}),
                              form("1099-K", {"Gross Amount": 20000})))
    ingest(db, "interview", CASE, VARIANT_A)
    before_projection = _gold(db, "tax_projections")
    before_expenses = _gold(db, "monthly_expenses")
    payload = copy.deepcopy(VARIANT_A)
    change(payload)
    ingest(db, "interview", CASE, payload)
    after_projection = _gold(db, "tax_projections")
    if moves_projection:
        assert after_projection != before_projection
    else:
        assert after_projection == before_projection  # untouched: same ctid
        assert _gold(db, "monthly_expenses") != before_expenses  # the interview gold did follow
    # and what is there is what a full recomputation gives
    db.execute("SELECT gold_refresh_case(%s)", (CASE,))
    assert _gold(db, "tax_projections") == after_projection


@pytest.mark.parametrize("obj", [
    {"a": 1, "b": "x"}, {"a": "  ", "b": "x"}, {"a": None, "b": 0}, {"a": {"c": " y "}}, {"a": {"c": ""}, "b": []},
    [{"a": 1}], "a", 5, None, {"0": {"a": 1}}, {"a.c": 1, "a": {"c": 2}}, {"b": False}, {},
])
@pytest.mark.parametrize("keys", [
    ["a", "b"], ["b", "a"], ["a.c", "b"], ["0.a"], [], [None, "b"], ["zz", "a.c"], ["a.c"], ["b"],
])
def test_md_pick_equals_the_key_loop(db, obj, keys):
    got = db.execute("SELECT md_pick(%s::jsonb, %s::text[]) IS NOT DISTINCT FROM md_pick_loop(%s::jsonb, %s::text[]),"
                     " md_pick(%s::jsonb, %s::text[])",
                     (json.dumps(obj), keys, json.dumps(obj), keys, json.dumps(obj), keys)).fetchone()
    assert got[0], (obj, keys, got[1])
