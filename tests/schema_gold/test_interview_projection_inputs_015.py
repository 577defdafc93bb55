"""Migration 015 (docs/05_TRIGGER_PERFORMANCE.md section 6): an interview insert or update
recomputes the projections only when it changes what compute_tax_projection reads from it (the
filing status, for a year with no transcript status; the 1099-K confirmation, with a document
that needs it). Otherwise the projection rows are not rewritten, and in every case what is there
equals a full recomputation."""

from __future__ import annotations

import pytest

from tests.schema_gold import form, ingest, wi

CASE = "740015001"


def _projections(db) -> list[tuple]:
    return db.execute("SELECT ctid::text, t::text FROM tax_projections t WHERE case_id = %s ORDER BY 2",
                      (CASE,)).fetchall()


def _at(*years: int, status: str | None = "Married Filing Jointly") -> dict:
    return {"at_records": [{"tax_year": y, "filing_status": status, "transactions": []} for y in years]}


def _check_equals_full_recompute(db, rows):
    db.execute("SELECT gold_refresh_case(%s)", (CASE,))
    assert _projections(db) == rows


@pytest.mark.parametrize("at_years, at_status, interview, k_form, recomputed", [
    # every W&I year has a transcript status, no 1099-K: the interview cannot move a projection
    ((2022, 2023), "Married Filing Jointly", {"household": {"filingStatus": "Single"}}, False, False),
    # 2022 has no transcript: its projection reads the interview's status
    ((2023,), "Married Filing Jointly", {"household": {"filingStatus": "Single"}}, False, True),
    # a transcript status that is not one of the five counts as none
    ((2022, 2023), "???", {"household": {"filingStatus": "Head of Household"}}, False, True),
    # an interview whose status is unknown: the same default as no interview
    ((2023,), "Married Filing Jointly", {"household": {"filingStatus": "???"}}, False, False),
    # a 1099-K waiting for confirmation and an employer naming self-employment
    ((2022, 2023), "Single", {"employment": {"clientEmployer": "Self-employed hauling"}}, True, True),
    # the same 1099-K, an employer that does not confirm it
    ((2022, 2023), "Single", {"employment": {"clientEmployer": "Acme"}}, True, False),
])
def test_interview_insert_recomputes_projections_only_when_it_moves_one(db, at_years, at_status, interview,
                                                                        k_form, recomputed):
    ingest(db, "at", CASE, _at(*at_years, status=at_status))
    forms = [form("W-2", {"Wages, Tips, and Other Compensation": 40000})]
    if k_form:
        forms.append(form("1099-K", {"Gross Amount": 20000}))
    ingest(db, "wi", CASE, {"years_data": {"2022": forms, "2023": forms}})
    assert len(_projections(db)) == 2
    # a marker a recomputation would remove (the sync rewrites only rows whose values change)
    db.execute("UPDATE tax_projections SET flags = array_append(flags, 'test_marker') WHERE case_id = %s", (CASE,))
    ingest(db, "interview", CASE, interview)
    marked = db.execute("SELECT count(*) FROM tax_projections WHERE case_id = %s AND 'test_marker' = ANY (flags)",
                        (CASE,)).fetchone()[0]
    assert marked == (0 if recomputed else 2)
    db.execute("UPDATE tax_projections SET flags = array_remove(flags, 'test_marker') WHERE case_id = %s", (CASE,))
    after = _projections(db)
    assert db.execute("SELECT count(*) FROM household_information WHERE case_id = %s", (CASE,)).fetchone() == (1,)
    _check_equals_full_recompute(db, after)


def test_interview_then_transcripts_then_interview_change(db):
    # interview first (no W&I yet: nothing to project), then W&I, then the AT, then an update
    ingest(db, "interview", CASE, {"household": {"filingStatus": "Single"}})
    ingest(db, "wi", CASE, wi(2023, form("W-2", {"Wages, Tips, and Other Compensation": 40000})))
    assert db.execute("SELECT filing_status_source FROM tax_projections WHERE case_id = %s",
                      (CASE,)).fetchall() == [("interview",)]
    ingest(db, "at", CASE, _at(2023))
    _check_equals_full_recompute(db, _projections(db))
    db.execute("UPDATE tax_projections SET flags = array_append(flags, 'test_marker') WHERE case_id = %s", (CASE,))
    ingest(db, "interview", CASE, {"household": {"filingStatus": "Head of Household"}})
    # the transcript's status wins: nothing to recompute (the marker is still there)
    assert db.execute("SELECT bool_and('test_marker' = ANY (flags)) FROM tax_projections WHERE case_id = %s",
                      (CASE,)).fetchone() == (True,)
    db.execute("UPDATE tax_projections SET flags = array_remove(flags, 'test_marker') WHERE case_id = %s", (CASE,))
    # the interview goes: its status no longer matters either
    db.execute("DELETE FROM logiqs_raw_data WHERE case_id = %s", (CASE,))
    _check_equals_full_recompute(db, _projections(db))
