"""Migration 030 (docs/05_TRIGGER_PERFORMANCE.md section 11): the tax_years UPDATE trigger finds the
cases whose projections can move with set differences instead of a join of its transition tables
(which ran as a quadratic nested loop under the generic plans of a promotion). Same cases: a year
whose filing status changed refreshes its case's projections; an update that changes no filing
status leaves every projection as it was."""

from __future__ import annotations

from psycopg.types.json import Jsonb

from sandbox import data

CASES = [str(7_430_000 + i) for i in range(4)]


def _projections(db) -> dict[str, list[tuple]]:
    return {c: db.execute("SELECT tax_year, filing_status, ctid::text FROM tax_projections WHERE case_id = %s"
                          " ORDER BY tax_year", (c,)).fetchall() for c in CASES}


def test_only_a_changed_filing_status_refreshes_projections(db):
    for source, build in (("at", data.at_payload), ("wi", data.wi_payload)):
        db.execute(f"INSERT INTO bronze_{source}_raw (case_id, raw_response)"
                   " SELECT * FROM unnest(%s::text[], %s::jsonb[])",
                   (CASES, [Jsonb(build(c)) for c in CASES]))
    year = db.execute("SELECT p.tax_year FROM tax_projections p JOIN tax_years t USING (case_id, tax_year)"
                      " WHERE p.case_id = %s AND p.filing_status_source = 'tax_years' ORDER BY 1 LIMIT 1",
                      (CASES[0],)).fetchone()[0]
    before = _projections(db)
    assert all(before.values())

    # one statement over every year of four cases: one status changes, the rest are rewritten unchanged
    db.execute("UPDATE tax_years SET filing_status = CASE WHEN case_id = %s AND tax_year = %s"
               " THEN 'head_of_household' ELSE filing_status END, updated_at = now() WHERE case_id = ANY (%s)",
               (CASES[0], year, CASES))
    after = _projections(db)
    assert dict((y, s) for y, s, _ in after[CASES[0]])[year] == "head_of_household"
    assert after[CASES[0]] != before[CASES[0]]
    for other in CASES[1:]:
        assert after[other] == before[other]  # unchanged (same rows, same row versions)
