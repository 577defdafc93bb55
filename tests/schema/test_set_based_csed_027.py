"""Migration 027 (docs/05_TRIGGER_PERFORMANCE.md section 11): the CSED refresh runs once for all the
cases of an AT statement. Every event match, interval pairing, merge and summary must stay within
a case: cases whose transcripts show the same years and owners, each with its own mix of
assessments, bankruptcies, offers, installment agreements, CDP hearings and printed CSEDs, get
exactly the CSED rows a refresh of that case alone gives (tests/schema/test_csed.py checks those
against irs-domain.md)."""

from __future__ import annotations

import random

from psycopg.types.json import Jsonb

from tests.schema import record, set_as_of, tx

CSED_TABLES = {
    "tax_years": "SELECT tax_year, base_csed_date, csed_date, earliest_csed_date, minimum_csed_date, csed_status,"
                 " csed_review_notes FROM tax_years WHERE case_id = %s ORDER BY 1",
    "csed_assessments": "SELECT tax_year, owner, transaction_code, assessment_date, amount, base_csed_date,"
                        " suspended_days, floor_date, override_date, csed_date, minimum_csed_date, csed_status"
                        " FROM csed_assessments WHERE case_id = %s ORDER BY 1, 2, 4, 3, 5",
    "csed_tolling_events": "SELECT tax_year, owner, event_type, start_date, end_date, days, rule, citation,"
                           " source_codes, confidence FROM csed_tolling_events WHERE case_id = %s ORDER BY 1, 2, 4",
}

# CSED-relevant lines (codes and spellings as test_csed.py uses them); {y} is the year after the tax year
EVENTS = [
    lambda y, r: tx("290", f"{y}-0{r.randint(3, 9)}-14", round(r.uniform(100, 3000), 2)),
    lambda y, r: tx("300", f"{y + 1}-02-01", round(r.uniform(100, 9000), 2), "Additional tax assessed by examination"),
    lambda y, r: tx("520", f"{y + 1}-01-04", closing_code=r.choice(["65", "72", "76", "81"])),
    lambda y, r: tx("520", f"{y + 1}-02-03", 0, "Bankruptcy or other legal action filed"),
    lambda y, r: tx("521", f"{y + 2}-0{r.randint(1, 9)}-01"),
    lambda y, r: tx("480", f"{y + 1}-06-01", description="Offer in compromise pending"),
    lambda y, r: tx("481", f"{y + 2}-09-26"),
    lambda y, r: tx("482", f"{y + 2}-12-01", description="Offer in compromise withdrawn"),
    lambda y, r: tx("483", f"{y + 2}-03-01"),
    lambda y, r: tx("971", f"{y + 1}-03-01", action_code="043"),
    lambda y, r: tx("971", f"{y + 1}-04-12", description="Installment agreement established"),
    lambda y, r: tx("971", f"{y + 2}-01-09", description="Installment agreement terminated"),
    lambda y, r: tx("972", f"{y + 1}-05-10", description="Reversed pending installment agreement"),
    lambda y, r: tx("971", f"{y + 1}-03-21", description="Intent to levy collection due process notice"),
    lambda y, r: tx("971", f"{y + 1}-06-01", 0, "Collection due process request", action_code="275"),
    lambda y, r: tx("550", f"{y + 1}-08-05", 0, f"Collection statute expiration extended to 10-31-{y + 12}"),
    lambda y, r: tx("196", f"{y + 1}-05-17", 95.0, "Interest charged"),
    lambda y, r: tx("276", f"{y + 1}-05-18", 45.0, "Penalty for late payment of tax"),
]


def _payload(rng: random.Random) -> dict:
    records = []
    for year in (2016, 2019):
        for owner in ("TP", "S"):
            lines = [tx("150", f"{year + 1}-04-15", round(rng.uniform(0, 8000), 2), "Tax return filed")]
            lines += [rng.choice(EVENTS)(year + 1, rng) for _ in range(rng.randint(0, 6))]
            records.append(record(year, lines, owner=owner))
    return {"at_records": records}


def _csed(db, case_id: str) -> dict[str, list[tuple]]:
    return {table: db.execute(query, (case_id,)).fetchall() for table, query in CSED_TABLES.items()}


def test_one_refresh_for_many_cases_equals_each_case_alone(db):
    set_as_of(db)
    rng = random.Random(27)
    cases = [f"7270000{n:02d}" for n in range(40)]
    payloads = [_payload(rng) for _ in cases]
    payloads[1] = payloads[0]  # two cases with the same transcript
    db.execute("INSERT INTO bronze_at_raw (case_id, raw_response) SELECT * FROM unnest(%s::text[], %s::jsonb[])",
               (cases, [Jsonb(p) for p in payloads]))
    assert db.execute("SELECT current_setting('medallion.promotion_path', true)").fetchone()[0] == "batch:at:40"
    assert db.execute("SELECT count(*) FROM transformation_errors").fetchone()[0] == 0
    together = {c: _csed(db, c) for c in cases}

    # each case refreshed alone (csed_refresh: the set statements with one case) changes nothing
    for c in cases:
        db.execute("SELECT csed_refresh(%s)", (c,))
        assert _csed(db, c) == together[c], c
    # and a case refreshed alone from scratch gets the same rows
    for c in rng.sample(cases, 8):
        db.execute("DELETE FROM csed_assessments WHERE case_id = %s", (c,))
        db.execute("DELETE FROM csed_tolling_events WHERE case_id = %s", (c,))
        db.execute("UPDATE tax_years SET csed_date = NULL, csed_status = NULL WHERE case_id = %s", (c,))
        db.execute("SELECT csed_refresh(%s)", (c,))
        assert _csed(db, c) == together[c], c

    # the generated transcripts reach what the set statements must keep apart
    assert together[cases[1]] == together[cases[0]]
    statuses = {row[5] for c in cases for row in together[c]["tax_years"]}
    assert {"running", "suspended_open"} <= statuses
    kinds = {row[2] for c in cases for row in together[c]["csed_tolling_events"]}
    assert len(kinds) >= 3
    assert sum(1 for c in cases for row in together[c]["csed_assessments"] if row[8]) > 5   # printed CSEDs
    assert len({str(together[c]["csed_assessments"]) for c in cases}) > 30                  # cases differ


def test_many_case_refresh_call_equals_single_calls(db):
    """csed_refresh_set called directly (the daily status refresh can pass many cases) with a
    different "today" moves statuses exactly as one call per case does."""
    set_as_of(db)
    rng = random.Random(270)
    cases = [f"7271000{n:02d}" for n in range(12)]
    db.execute("INSERT INTO bronze_at_raw (case_id, raw_response) SELECT * FROM unnest(%s::text[], %s::jsonb[])",
               (cases, [Jsonb(_payload(rng)) for _ in cases]))
    db.execute("SELECT csed_refresh_set(%s::text[], '2031-01-01')", (cases,))
    together = {c: _csed(db, c) for c in cases}
    assert any(row[5] == "expired" for c in cases for row in together[c]["tax_years"])
    for c in cases:
        db.execute("SELECT csed_refresh(%s, '2031-01-01')", (c,))
        assert _csed(db, c) == together[c], c
