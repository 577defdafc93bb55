"""One filing-status normaliser (migration 013) for the AT transcript and the interview: every
spelling the upstreams and real forms produce, including the ones the two former normalisers
disagreed on ("married" alone, "sgl", "married filing joint return")."""

from __future__ import annotations

import pytest

from tests.schema_gold import ingest, projection

SPELLINGS = [
    # transcript words, any case or punctuation
    ("Single", "single"), ("SINGLE", "single"), ("s", "single"), ("sgl", "single"), ("1", "single"),
    ("Married Filing Joint", "married_filing_jointly"), ("Married filing jointly", "married_filing_jointly"),
    ("married_filing_jointly", "married_filing_jointly"),
    ("Married Filing Joint Return", "married_filing_jointly"),
    ("MFJ", "married_filing_jointly"), ("MJ", "married_filing_jointly"), ("Joint", "married_filing_jointly"),
    ("jointly", "married_filing_jointly"), ("2", "married_filing_jointly"),
    ("Married Filing Separate", "married_filing_separately"),
    ("married-filing-separately", "married_filing_separately"),
    ("Married Filing Separate Return", "married_filing_separately"), ("MFS", "married_filing_separately"),
    ("ms", "married_filing_separately"), ("separate", "married_filing_separately"), ("3", "married_filing_separately"),
    ("Head of Household", "head_of_household"), ("Head of the Household", "head_of_household"),
    ("HOH", "head_of_household"), ("HH", "head_of_household"), ("4", "head_of_household"),
    ("Qualifying Widow(er)", "qualifying_surviving_spouse"),
    ("Qualifying Surviving Spouse", "qualifying_surviving_spouse"),
    ("Qualifying widow(er) with dependent child", "qualifying_surviving_spouse"),
    ("QW", "qualifying_surviving_spouse"), ("QSS", "qualifying_surviving_spouse"),
    ("QW/ER", "qualifying_surviving_spouse"), ("QSSW", "qualifying_surviving_spouse"),
    ("5", "qualifying_surviving_spouse"),
    # ambiguous or unknown: no guess
    ("Married", None), ("married", None), ("Widow", None), ("Unknown", None), ("", None), (None, None), ("6", None),
]


@pytest.mark.parametrize(("raw", "expected"), SPELLINGS)
def test_both_names_give_the_same_status(db, raw, expected):
    got = db.execute("SELECT md_filing_status(%s), at_filing_status(%s)", (raw, raw)).fetchone()
    assert got == (expected, expected)


AGREEING = [("sgl", "single"), ("Married Filing Joint Return", "married_filing_jointly"), ("Married", None)]


@pytest.mark.parametrize(("raw", "expected"), AGREEING)
def test_at_and_interview_loaders_agree(db, raw, expected):
    case = "730000001"
    ingest(db, "at", case, {"at_records": [{"tax_year": 2023, "filing_status": raw, "transactions": []}]})
    ingest(db, "interview", case, {"household": {"filingStatus": raw}})
    tax_year = db.execute("SELECT filing_status FROM tax_years WHERE case_id = %s AND tax_year = 2023",
                          (case,)).fetchone()
    household = db.execute("SELECT filing_status FROM household_information WHERE case_id = %s", (case,)).fetchone()
    assert (tax_year[0], household[0]) == (expected, expected)


def test_married_alone_is_flagged_not_guessed(db):
    """'Married' could be joint or separate; the projection uses the SFR default and says so."""
    case = "730000002"
    ingest(db, "interview", case, {"household": {"filingStatus": "Married"}})
    ingest(db, "wi", case, {"years_data": {"2023": [{"Form": "W-2", "Owner": "TP",
                                                      "Fields": {"Wages, Tips, and Other Compensation": 50000}}]}})
    p = projection(db, case, 2023)
    assert (p["filing_status"], p["filing_status_source"]) == ("single", "default")
    assert "filing_status_unknown" in p["flags"]
