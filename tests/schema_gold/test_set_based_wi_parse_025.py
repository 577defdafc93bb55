"""Migration 025 (docs/05_TRIGGER_PERFORMANCE.md section 11): the W&I parse runs for a whole
statement in one query (wi_documents_set), its box lookups as joins instead of per-form plpgsql
calls.

What it stores must be 007's exactly: 007's wi_documents is loaded as a temporary function and
compared, row for row and column for column, with the set query on generated payloads whose forms
use every rule's box groups, spelled every way a label can be (case, punctuation, a later synonym
of the group, two labels with one key), with values as numbers, "$1,234.56", "(500.00)", text,
blanks, nulls, booleans and containers, fields as an object or as a list of pairs, codes that make
a distribution non-taxable or penalised, unknown forms and years."""

from __future__ import annotations

import json
import random
import re
from collections import Counter

from psycopg.types.json import Jsonb

from backend.app.db.migrate import MIGRATIONS_DIR

COLUMNS = ("tax_year, tax_year_raw, form_type, form_type_raw, owner, gross_amount, federal_withholding, se_amount,"
           " ss_wages, medicare_wages, preferential_amount, early_distribution_amount, category, income_kind,"
           " is_self_employment, include_in_projection, requires_confirmation, rule_id, amount_source,"
           " upstream_income, upstream_category, issuer_name, issuer_id, issuer_address, recipient_name,"
           " recipient_id, recipient_address, fields, flags, doc_fingerprint, doc_seq")


def _load_007(db) -> None:
    text = (MIGRATIONS_DIR / "007_wage_income_and_interview_silver.sql").read_text()
    body = re.search(r"CREATE OR REPLACE FUNCTION public\.wi_documents\(.*?FROM numbered n;\n\$\$;\n",
                     text, re.S).group(0)
    db.execute(body.replace("public.wi_documents(", "pg_temp.old_wi_documents("))


def _spell(rng: random.Random, label: str) -> str:
    """The same label key (md_label_key ignores case and punctuation), spelled another way."""
    return rng.choice([label, label.upper(), label.lower(), label.replace(" ", "_"), f" {label}.",
                       label.replace(",", "")])


def _value(rng: random.Random):
    amount = round(rng.uniform(-2000, 90000), 2)
    return rng.choice([amount, amount, f"${amount:,.2f}", f"({abs(amount):.2f})", str(amount), "n/a", "", None,
                       0, True, {"nested": 1}, [1, 2], f" {int(amount)} "])


def _form(rng: random.Random, rules: list[tuple]) -> dict:
    form_code, groups, code_values = rng.choice(rules)
    fields: dict = {}
    for group in groups:
        if rng.random() < 0.25:
            continue
        labels = group.lstrip("-").split("|")
        for label in rng.sample(labels, rng.randint(1, min(2, len(labels)))):
            fields[_spell(rng, label)] = _value(rng)
    if rng.random() < 0.3:
        fields["Statutory Employee"] = rng.choice([True, False, "X", "yes", "", "no", 1])
    if code_values and rng.random() < 0.7:
        fields[rng.choice(["Distribution Code", "Box 7", "distribution code(s)"])] = rng.choice(code_values)
    if rng.random() < 0.2:
        fields["Unrelated Box"] = _value(rng)
    form: dict = {"Form": rng.choice([form_code, form_code.replace("-", ""), f"Form {form_code}", form_code.lower()])
                  if rng.random() < 0.9 else rng.choice(["Mystery 123", "1099-ZZ", ""])}
    if rng.random() < 0.3:  # a list of {Name, Value} pairs instead of an object
        form["Fields"] = [{"Name": k, "Value": v} for k, v in fields.items()]
    else:
        form["Fields"] = fields
    if rng.random() < 0.6:
        form["Income"] = _value(rng)
    if rng.random() < 0.5:
        form["Withholding"] = _value(rng)
    form["Owner"] = rng.choice(["TP", "S", "Spouse", ""])
    form["Issuer"] = {"Name": rng.choice(["Acme", "", "Beta LLC"]), "EIN": "XX-XXX1234"}
    return form


def _payload(rng: random.Random, rules: list[tuple]) -> dict:
    years = {}
    for year in rng.sample(["2019", "2020", "2021", "2022", "2023", "2024", "Tax Year 2023", "Unknown", "23"],
                           rng.randint(1, 4)):
        forms = [_form(rng, rules) for _ in range(rng.randint(1, 6))]
        if forms and rng.random() < 0.2:
            forms.append(dict(forms[0]))  # the same form twice: two documents, doc_seq 1 and 2
        years[year] = forms
    return {"years_data": years}


def _rules(db) -> list[tuple]:
    rows = db.execute(
        "SELECT form_code, income_fields || se_fields || se_flag_fields || withholding_fields || ss_wage_fields"
        " || medicare_wage_fields || preferential_fields || array_remove(ARRAY[code_field], NULL),"
        " nontaxable_codes || penalty_codes FROM wi_type_rules").fetchall()
    assert len(rows) > 20
    return [(code, groups, list(codes) + ["7", "1D", "G", ""]) for code, groups, codes in rows]


def _hashable(value):
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return tuple(value) if isinstance(value, list) else value


def _rows(db, sql: str, params) -> Counter:
    return Counter(tuple(_hashable(v) for v in r) for r in db.execute(sql, params).fetchall())


def test_set_parse_equals_007_on_generated_payloads(db):
    _load_007(db)
    rng = random.Random(25)
    rules = _rules(db)
    payloads = [Jsonb(_payload(rng, rules)) for _ in range(200)]
    payloads += payloads[:3]  # two cases with the same documents: each numbers its own (doc_seq)

    old = Counter()
    for p in payloads:
        old += _rows(db, f"SELECT {COLUMNS} FROM pg_temp.old_wi_documents(%s)", (p,))
    new_set = _rows(db, f"SELECT {COLUMNS} FROM wi_documents_set(%s::jsonb[])", (payloads,))
    assert sum(old.values()) > 1500
    assert new_set == old

    # each payload's rows are its own: the set query's payload_no and doc_seq are per payload
    for i in rng.sample(range(len(payloads)), 20):
        one = _rows(db, f"SELECT {COLUMNS} FROM pg_temp.old_wi_documents(%s)", (payloads[i],))
        assert _rows(db, f"SELECT {COLUMNS} FROM wi_documents_set(%s::jsonb[]) WHERE payload_no = %s",
                     (payloads, i + 1)) == one
        assert _rows(db, f"SELECT {COLUMNS} FROM wi_documents(%s)", (payloads[i],)) == one

    # the generated forms reach the branches the joins replace
    stored = list(new_set)
    index = {name: n for n, name in enumerate(c.strip() for c in COLUMNS.split(","))}
    sources = Counter(r[index["amount_source"]] for r in stored)
    assert sources["fields"] > 100 and sources["form"] > 20 and sources["none"] > 5
    flags = Counter(f for r in stored for f in r[index["flags"]])
    assert flags["statutory_employee"] > 5 and flags["unknown_form_type"] > 5 and flags["amount_missing"] > 5
    assert sum(1 for r in stored if r[index["early_distribution_amount"]]) > 3
    assert sum(1 for r in stored if r[index["preferential_amount"]]) > 3
    assert sum(1 for r in stored if r[index["ss_wages"]] is not None) > 20


def test_duplicate_label_keys_first_label_in_order_wins(db):
    """Two labels with one key ("Wages" and "WAGES"): md_field_index kept the first in label
    order; the join must pick the same one."""
    _load_007(db)
    payload = Jsonb({"years_data": {"2023": [{"Form": "W-2", "Fields": {
        "WAGES": 100, "Wages": 200, "wages": 300, "Federal Withholding": "(12.50)"}}]}})
    old = _rows(db, f"SELECT {COLUMNS} FROM pg_temp.old_wi_documents(%s)", (payload,))
    new = _rows(db, f"SELECT {COLUMNS} FROM wi_documents(%s)", (payload,))
    assert new == old
    (row,) = new
    first = db.execute("SELECT min(k) FROM unnest(ARRAY['WAGES', 'Wages', 'wages']) AS k").fetchone()[0]
    assert row[5] == {"WAGES": 100, "Wages": 200, "wages": 300}[first] and row[6] == -12.50
