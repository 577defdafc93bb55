"""Migration 034 (docs/05_TRIGGER_PERFORMANCE.md section 12): the projections are synced from an
array of tax_projections rows instead of a jsonb array. The typed sync makes the given cases' rows
exactly the given rows: unchanged rows are not rewritten, a changed value is updated, a missing
year is deleted, other cases are not touched; and the jsonb sync functions are generated as before."""

from __future__ import annotations

from psycopg.types.json import Jsonb

from sandbox import data

CASES = [str(7_434_000 + i) for i in range(3)]


def _rows(db) -> list[tuple]:
    return db.execute("SELECT case_id, tax_year, ctid::text, total_income FROM tax_projections"
                      " WHERE case_id = ANY (%s) ORDER BY case_id, tax_year", (CASES,)).fetchall()


def test_typed_sync_makes_the_cases_rows_exactly_the_given_rows(db):
    db.execute("INSERT INTO bronze_wi_raw (case_id, raw_response) SELECT * FROM unnest(%s::text[], %s::jsonb[])",
               (CASES, [Jsonb(data.wi_payload(c)) for c in CASES]))
    before = _rows(db)
    first = [r for r in before if r[0] == CASES[0]]
    assert len(first) >= 2 and {r[0] for r in before} == set(CASES)

    # the same rows again: nothing rewritten
    db.execute("SELECT gold_sync_tax_projections_rows(%s, ARRAY(SELECT p FROM tax_projections p"
               " WHERE p.case_id = ANY (%s) ORDER BY p.case_id, p.tax_year))", (CASES, CASES))
    assert _rows(db) == before

    # case 0: its first year dropped, its second year's income changed; case 1 and 2 not in the call
    kept_year = first[1][1]
    db.execute("SELECT gold_sync_tax_projections_rows(ARRAY[%(c)s], ARRAY("
               " SELECT jsonb_populate_record(p, jsonb_build_object('total_income', p.total_income + 1))"
               " FROM tax_projections p WHERE p.case_id = %(c)s AND p.tax_year = %(y)s))",
               {"c": CASES[0], "y": kept_year})
    after = _rows(db)
    [changed] = [r for r in after if r[0] == CASES[0]]  # the first year's row is gone
    assert (changed[1], changed[3]) == (kept_year, first[1][3] + 1)
    assert changed[2] != first[1][2]  # rewritten
    assert [r for r in after if r[0] != CASES[0]] == [r for r in before if r[0] != CASES[0]]


def test_jsonb_sync_statements_are_generated_as_before(db):
    four, five = db.execute(
        "SELECT gold_sync_statement('monthly_expenses', ARRAY['case_id', 'source_key'], 'p_rows', 'ANY (p_cases)'),"
        " gold_sync_statement('monthly_expenses', ARRAY['case_id', 'source_key'], 'p_rows', 'ANY (p_cases)', false)"
    ).fetchone()
    assert four == five
    assert "jsonb_populate_recordset(NULL::public.monthly_expenses, coalesce(p_rows, '[]'::jsonb))" in four
    typed = db.execute("SELECT gold_sync_statement('tax_projections', ARRAY['case_id', 'tax_year'], 'p_rows',"
                       " 'ANY (p_cases)', true)").fetchone()[0]
    assert "FROM unnest(p_rows)" in typed and "jsonb_populate_recordset" not in typed
