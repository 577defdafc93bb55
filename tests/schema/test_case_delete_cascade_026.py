"""Migration 026 dropped the direct case_id foreign keys of account_activity, csed_tolling_events and
csed_assessments as implied by their (case_id, tax_year) key to tax_years. The promises that rest
on it: deleting a case still removes every row of those tables, and a row for a case (or year)
that tax_years does not hold is still refused."""

from __future__ import annotations

import psycopg
import pytest

from tests.schema import errors, ingest, new_case_id, record, set_as_of, tx

TABLES = ("tax_years", "account_activity", "csed_tolling_events", "csed_assessments")


def _counts(db, case_id: str) -> dict[str, int]:
    return {t: db.execute(f"SELECT count(*) FROM {t} WHERE case_id = %s", (case_id,)).fetchone()[0]
            for t in TABLES}


def test_deleting_a_case_still_removes_its_account_and_csed_rows(db):
    case = new_case_id()
    set_as_of(db)
    ingest(db, case, {"at_records": [record(2019, [
        tx("150", "2020-04-15", 5000.00, "Tax return filed"),
        tx("480", "2021-06-01", description="Offer in compromise pending"),
        tx("481", "2022-09-26"),
    ])]})
    assert errors(db, case) == []
    assert all(_counts(db, case).values())  # a year, its lines, a tolling event, an assessment
    db.execute("DELETE FROM cases WHERE case_id = %s", (case,))
    assert _counts(db, case) == dict.fromkeys(TABLES, 0)


@pytest.mark.parametrize("table, columns, values", [
    ("account_activity",
     "case_id, tax_year, owner, transaction_type, affects_balance, is_assessment, indicates_collection_action,"
     " occurrence", "%s, 2019, 'TP', 'payment', true, false, false, 1"),
    ("csed_tolling_events",
     "case_id, tax_year, owner, event_type, start_date, days, rule, citation, source_codes, confidence",
     "%s, 2019, 'TP', 'bankruptcy', '2020-01-01', 1, 'r', 'c', 'TC 520', 'high'"),
])
def test_a_row_without_its_case_and_year_is_refused(db, table, columns, values):
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        with db.transaction():
            db.execute(f"INSERT INTO {table} ({columns}) VALUES ({values})", ("999999999999",))
