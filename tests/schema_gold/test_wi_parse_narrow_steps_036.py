"""Migration 036 (docs/05_TRIGGER_PERFORMANCE.md section 13): the W&I set parse computes each
form's fingerprint once, in its `parsed` step, and no later step carries the form's jsonb (025's
did, to hash it at the end, and wrote tens of MB of temporary files for a 500-case statement);
the repeat number is computed over a few columns; the owner test looks for the taxpayer-type
keys before calling md_pick. The values are unchanged: re-ingestion matches stored documents by
fingerprint and repeat number, and every spelling of the taxpayer type still counts, the first
one with a value winning."""

from __future__ import annotations

import hashlib
import json
import re

from psycopg.types.json import Jsonb


def _form(form: str, income: float) -> dict:
    return {"Form": form, "Income": income, "Issuer": {"Name": "Acme"}, "Fields": {"Wages": income}}


def test_fingerprint_is_md5_of_the_form_text_and_repeats_are_numbered(db):
    payload = {"forms": [_form("W-2", 100.0), _form("W-2", 100.0), _form("1099-NEC", 50.0)], "tax_year": 2022}
    rows = db.execute("SELECT form_type, doc_fingerprint, doc_seq FROM wi_documents(%s) ORDER BY doc_seq, form_type",
                      (Jsonb(payload),)).fetchall()
    text_of = {f["Form"]: db.execute("SELECT %s::jsonb::text", (json.dumps(f),)).fetchone()[0]
               for f in payload["forms"]}
    md5 = {k: hashlib.md5(v.encode()).hexdigest() for k, v in text_of.items()}
    assert sorted(rows) == sorted([("W-2", md5["W-2"], 1), ("W-2", md5["W-2"], 2), ("1099-NEC", md5["1099-NEC"], 1)])


def test_no_step_after_the_header_parse_carries_the_form(db):
    plans: list[str] = []
    db.add_notice_handler(lambda d: plans.append(d.message_primary))
    db.execute("LOAD 'auto_explain'")
    for setting, value in (("log_min_duration", "0"), ("log_verbose", "on"), ("log_nested_statements", "on"),
                           ("log_level", "notice")):
        db.execute(f"SET LOCAL auto_explain.{setting} = '{value}'")
    payload = {"forms": [_form("W-2", 100.0), _form("1099-NEC", 50.0)], "tax_year": 2022}
    db.execute("SELECT d.* FROM wi_documents_set(ARRAY[%s::jsonb]) AS d", (Jsonb(payload),))
    db.execute("SET LOCAL auto_explain.log_min_duration = -1")

    parse = [p for p in plans if "CTE with_rule" in p]
    assert len(parse) == 1
    outputs = [line for line in parse[0].splitlines() if line.strip().startswith("Output:")]
    assert outputs, parse[0]
    # pr / wr (with aliases pr_1, wr_2, ...) are the parsed and with_rule steps as later steps read
    # them: the form must not be among their columns
    carried = [line for line in outputs if re.search(r"\b(?:pr|wr)(?:_\d+)?\.form\b(?!_)", line)]
    assert not carried, carried
    assert [line for line in outputs if re.search(r"md5\(\(\w+\.form\)::text\)", line)]  # hashed in `parsed`


TAXPAYER_TYPE_SPELLINGS = [("Recipient", "TaxpayerType"), ("Recipient", "taxpayer_type"), ("recipient", "TaxpayerType"),
                           ("recipient", "taxpayer_type"), (None, "taxpayer_type"), (None, "taxpayerType"),
                           (None, "TaxpayerType")]


def _owner(db, form: dict) -> str:
    return db.execute("SELECT owner FROM wi_documents(%s)", (Jsonb({"forms": [form], "tax_year": 2022}),)).fetchone()[0]


def test_every_taxpayer_type_spelling_marks_a_spouse_form(db):
    for parent, key in TAXPAYER_TYPE_SPELLINGS:
        form = _form("W-2", 10.0)
        if parent:
            form.setdefault(parent, {})[key] = "Spouse"
        else:
            form[key] = "spouse"
        assert _owner(db, form) == "S", (parent, key)
    assert _owner(db, _form("W-2", 10.0)) == "TP"
    # the first spelling with a value decides: a taxpayer first, a spouse later, is the taxpayer's
    first_wins = _form("W-2", 10.0) | {"Recipient": {"Name": "AL", "TaxpayerType": "Primary"}, "TaxpayerType": "spouse"}
    assert _owner(db, first_wins) == "TP"
    blank_first = _form("W-2", 10.0) | {"Recipient": {"Name": "AL", "TaxpayerType": " "}, "TaxpayerType": "spouse"}
    assert _owner(db, blank_first) == "S"


def test_repeat_numbers_count_identical_forms_within_year_owner_and_type(db):
    w2 = _form("W-2", 100.0)
    payload = {"years_data": {"2021": [w2, w2, _form("1099-NEC", 5.0)], "2022": [w2]}}
    rows = db.execute("SELECT tax_year, form_type, doc_seq FROM wi_documents(%s) ORDER BY 1, 2, 3",
                      (Jsonb(payload),)).fetchall()
    assert rows == [(2021, "1099-NEC", 1), (2021, "W-2", 1), (2021, "W-2", 2), (2022, "W-2", 1)]
