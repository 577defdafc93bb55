"""Migration 023 (docs/05_TRIGGER_PERFORMANCE.md section 10): a bronze statement refreshes each
gold part (interview tables, employment, projections) for all its cases in one pass, falling
back to case by case when that pass raises; the projections are computed by one set query
(tax_projection_rows).

The arithmetic must be 022's exactly: 022's plpgsql compute_tax_projection is loaded as a
temporary function and compared, row for row and column for column, with the set query on
generated documents that reach every branch (owners, filing statuses and their sources, years
with and without tables, SE earnings under $400, benefits, preferential income, NIIT, early
distributions, 1099-K confirmation, payments, negative amounts)."""

from __future__ import annotations

import random
import re

from psycopg.types.json import Jsonb

from backend.app.db.migrate import MIGRATIONS_DIR
from sandbox import data
from tests.schema_gold import D

KINDS = ["wages", "wages", "self_employment", "interest", "dividends", "capital_gain", "social_security",
         "retirement", "other", "unemployment"]
STATUSES = [None, "single", "married_filing_jointly", "married_filing_separately", "head_of_household",
            "qualifying_surviving_spouse"]
INTERVIEW_STATUSES = [None, "Single", "Married Filing Jointly", "MFS", "Head of Household", "???"]


def _load_022(db) -> None:
    text = (MIGRATIONS_DIR / "022_projection_credits_estimated_payments.sql").read_text()
    body = re.search(r"CREATE OR REPLACE FUNCTION public\.compute_tax_projection\(.*?\n\$\$;\n", text, re.S).group(0)
    db.execute(body.replace("public.compute_tax_projection(", "pg_temp.old_compute_tax_projection("))


def _money(rng: random.Random, top: float) -> float:
    return round(rng.choice([0, 0, rng.uniform(0, 500), rng.uniform(0, top), -rng.uniform(0, 3000)]), 2)


def _generate(db, rng: random.Random, cases: list[str]) -> list[tuple[str, int]]:
    """Silver rows for each case written directly (the loaders are tested elsewhere; triggers off,
    as nothing here reads gold); returns the (case, year) pairs to compare, including years
    without documents and without tables."""
    db.execute("SET LOCAL session_replication_role = replica")
    pairs = []
    for case_id in cases:
        db.execute("INSERT INTO cases (case_id) VALUES (%s)", (case_id,))
        years = rng.sample([2018, 2019, 2020, 2021, 2022, 2023, 2024, 2025, 2026], rng.randint(1, 4))
        if rng.random() < 0.7:
            status = rng.choice(INTERVIEW_STATUSES)
            employer = rng.choice(["", "Acme Corp", "Self-employed hauling", "self employ"])
            db.execute("INSERT INTO logiqs_raw_data (case_id, bronze_id, filing_status_raw, b3, c3)"
                       " VALUES (%s, gen_random_uuid(), %s, %s, %s)", (case_id, status, employer, ""))
        for year in years:
            if rng.random() < 0.6:
                db.execute("INSERT INTO tax_years (case_id, tax_year, filing_status) VALUES (%s, %s, %s)",
                           (case_id, year, rng.choice(STATUSES)))
                for n in range(rng.randint(0, 3)):
                    code = rng.choice(["430", "610", "611", "612", "660", "661", "670", "806"])
                    db.execute(
                        "INSERT INTO account_activity (case_id, tax_year, owner, transaction_code, activity_date,"
                        " amount, transaction_type, affects_balance, is_assessment, indicates_collection_action,"
                        " occurrence) VALUES (%s, %s, %s, %s, %s, %s, 'payment', true, false, false, %s)",
                        (case_id, year, rng.choice(["TP", "TP", "S"]), code, f"{year + 1}-04-15",
                         rng.choice([-1, 1]) * round(rng.uniform(1, 4000), 2), n + 1))
            for n in range(rng.randint(0, 5)):
                kind = rng.choice(KINDS)
                gross = _money(rng, rng.choice([30000, 120000, 400000]))
                se_amount = gross if kind == "self_employment" and rng.random() < 0.8 else 0
                if kind == "self_employment" and rng.random() < 0.2:
                    se_amount = round(rng.uniform(0, 450), 2)
                confirm = kind == "self_employment" and rng.random() < 0.3
                db.execute(
                    "INSERT INTO income_documents (case_id, tax_year, form_type, owner, gross_amount,"
                    " federal_withholding, se_amount, ss_wages, medicare_wages, preferential_amount,"
                    " early_distribution_amount, category, income_kind, is_self_employment, include_in_projection,"
                    " requires_confirmation, amount_source, flags, doc_fingerprint, doc_seq, bronze_id)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'Non-SE', %s, %s, %s, %s, 'fields', %s,"
                    " %s, 1, gen_random_uuid())",
                    (case_id, year, f"F-{n}", rng.choice(["TP", "TP", "S"]), gross, _money(rng, 9000), se_amount,
                     rng.choice([None, gross, round(gross * 0.9, 2)]), rng.choice([None, gross, 250000]),
                     rng.choice([0, 0, round(abs(gross) * 0.5, 2)]), rng.choice([0, 0, round(abs(gross), 2)]),
                     kind, se_amount > 0, rng.random() < 0.9, confirm,
                     rng.sample(["basis_missing", "amount_missing", "unknown_tax_year"], rng.randint(0, 2)),
                     f"fp{n}"))
            pairs.append((case_id, year))
        pairs.append((case_id, 2017))  # a year with no documents at all
    db.execute("SET LOCAL session_replication_role = origin")
    return pairs


def _half_cent_case(db, case_id: str) -> tuple[str, int]:
    """Total income adds the taxable benefits unrounded: a 4,999.99 loss and 60,000 of benefits,
    single 2023: provisional income -4,999.99 + 30,000 = 25,000.01, 0.01 over the base, so 0.005
    is taxable; total income = round(-4,999.985) = -4,999.99, not -4,999.99 + round(0.005) = -4,999.98."""
    db.execute("INSERT INTO cases (case_id) VALUES (%s)", (case_id,))
    db.execute("INSERT INTO tax_years (case_id, tax_year, filing_status) VALUES (%s, 2023, 'single')", (case_id,))
    for n, (kind, gross) in enumerate([("other", -4999.99), ("social_security", 60000.00)]):
        db.execute(
            "INSERT INTO income_documents (case_id, tax_year, form_type, owner, gross_amount, category, income_kind,"
            " amount_source, doc_fingerprint, bronze_id)"
            " VALUES (%s, 2023, %s, 'TP', %s, 'Non-SE', %s, 'fields', %s, gen_random_uuid())",
            (case_id, f"F-{n}", gross, kind, f"fp{n}"))
    return case_id, 2023


def test_the_set_query_equals_022s_function_on_generated_documents(db):
    _load_022(db)
    rng = random.Random(20261126)
    cases = [str(7_023_000 + i) for i in range(400)]
    pairs = _generate(db, rng, cases) + [_half_cent_case(db, "7023999")]
    total = db.execute("SELECT total_income, taxable_social_security FROM tax_projection_rows('{7023999}', '{2023}')")
    assert total.fetchone() == (D("-4999.99"), D("0.01"))
    old = db.execute("SELECT p.case_id, p.tax_year, (pg_temp.old_compute_tax_projection(p.case_id, p.tax_year))::text"
                     " FROM unnest(%s::text[], %s::int[]) AS p(case_id, tax_year)",
                     ([c for c, _ in pairs], [y for _, y in pairs])).fetchall()
    new = db.execute("SELECT t.case_id, t.tax_year, t::text FROM tax_projection_rows(%s, %s) AS t",
                     ([c for c, _ in pairs], [y for _, y in pairs])).fetchall()
    assert len(new) == len(set(pairs))
    assert sorted(new) == sorted(set(old))
    # the generated data reaches the branches it is meant to
    reached = db.execute("""
        SELECT count(*) FILTER (WHERE 'spouse_documents_excluded' = ANY (t.flags)),
               count(*) FILTER (WHERE 'se_earnings_under_400' = ANY (t.flags)),
               count(*) FILTER (WHERE 'no_tax_tables_for_year' = ANY (t.flags)),
               count(*) FILTER (WHERE 'form_1099k_unconfirmed_excluded' = ANY (t.flags)),
               count(*) FILTER (WHERE 'additional_medicare_withheld_by_employer_not_credited' = ANY (t.flags)),
               count(*) FILTER (WHERE t.filing_status_source = 'interview'),
               count(*) FILTER (WHERE t.filing_status_source = 'default'),
               count(*) FILTER (WHERE t.taxable_social_security > 0),
               count(*) FILTER (WHERE t.preferential_income > 0),
               count(*) FILTER (WHERE t.net_investment_income_tax > 0),
               count(*) FILTER (WHERE t.estimated_payments <> 0),
               count(*) FILTER (WHERE t.projected_balance < 0)
        FROM tax_projection_rows(%s, %s) AS t""", ([c for c, _ in pairs], [y for _, y in pairs])).fetchone()
    assert all(n > 0 for n in reached), reached


def test_compute_tax_projection_is_the_set_query_for_one_pair(db):
    _load_022(db)
    pairs = _generate(db, random.Random(7), [str(7_023_900 + i) for i in range(10)])
    for case_id, year in pairs:
        new, old = db.execute(
            "SELECT compute_tax_projection(%s, %s)::text, pg_temp.old_compute_tax_projection(%s, %s)::text",
            (case_id, year, case_id, year)).fetchone()
        assert new == old, (case_id, year)


def _wi_rows(cases: list[str]) -> list[tuple[str, object]]:
    rows = [(c, data.wi_payload(c)) for c in cases]
    assert all(p is not None for _, p in rows)
    return rows


def _insert(db, source: str, rows) -> str:
    """One multi-row INSERT; returns the gold parts the statement refreshed in one pass."""
    db.execute(f"INSERT INTO bronze_{source}_raw (case_id, raw_response) SELECT * FROM unnest(%s::text[], %s::jsonb[])",
               ([c for c, _ in rows], [Jsonb(p) for _, p in rows]))
    return db.execute("SELECT current_setting('medallion.gold_path', true)").fetchone()[0]


def _insert_wi(db, rows) -> str:
    return _insert(db, "wi", rows)


def _projections(db, cases: list[str]) -> list[tuple]:
    return db.execute("SELECT t.case_id, (t.*)::text FROM tax_projections t WHERE case_id = ANY (%s)"
                      " ORDER BY case_id, tax_year", (cases,)).fetchall()


def _strip_times(rows: list[tuple]) -> list[tuple]:
    return [(c, re.sub(r'"?\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[.\d]*\+\d\d"?', "T", t)) for c, t in rows]


def test_a_bulk_statement_refreshes_all_its_projections_in_one_pass(db):
    cases = [str(7_023_500 + i) for i in range(6)]
    assert _insert_wi(db, _wi_rows(cases)) == "employment,projections"
    batched = _strip_times(_projections(db, cases))
    assert {c for c, _ in batched} == set(cases)
    db.execute("DELETE FROM cases WHERE case_id = ANY (%s)", (cases,))
    for row in _wi_rows(cases):
        assert _insert_wi(db, [row]) == ""
    assert _strip_times(_projections(db, cases)) == batched


def test_a_case_whose_projection_fails_does_not_stop_the_others(db):
    """Two W-2s of 9,999,999,999,999 overflow a projection's numeric(15,2) total: the one-pass
    refresh raises, the statement falls back to case by case (and says so in the log), the bad
    case gets a gold error row and no projection, the others get theirs."""
    cases = [str(7_023_600 + i) for i in range(4)]
    huge = {"Form": "W-2", "Owner": "TP", "Fields": {"Wages, Tips, and Other Compensation": 9999999999999}}
    rows = _wi_rows(cases[:3]) + [(cases[3], {"years_data": {"2023": [huge, dict(huge, Label="second")]}})]
    notices: list[str] = []
    db.add_notice_handler(lambda d: notices.append(d.message_primary))
    db.execute("SET LOCAL client_min_messages = log")
    assert _insert_wi(db, rows) == "employment"
    assert [m for m in notices if m.startswith("gold projections of 4 cases (wi) fell back to case by case: ")]
    errors = db.execute("SELECT case_id, layer, table_name FROM transformation_errors WHERE case_id = ANY (%s)",
                        (cases,)).fetchall()
    assert errors == [(cases[3], "gold", "tax_projections")]
    assert {c for c, _ in _projections(db, cases)} == set(cases[:3])


GOLD_TABLES = ["employment_information", "household_information", "financial_accounts", "income_sources",
               "monthly_expenses", "vehicles", "real_property", "tax_projections"]


def _gold(db, cases: list[str]) -> dict[str, list[str]]:
    out = {}
    for table in GOLD_TABLES:
        rows = db.execute(f"SELECT to_jsonb(t) - 'id' - 'created_at' - 'updated_at' FROM {table} t"
                          " WHERE case_id = ANY (%s)", (cases,)).fetchall()
        out[table] = sorted(str(r[0]) for r in rows)
    return out


def test_interview_gold_of_a_bulk_statement_equals_case_by_case(db):
    """The interview statement refreshes the seven interview tables (and, where the interview
    moves them, the projections) of all its cases in one pass; a later W&I statement then has
    employment rows to refresh. Every gold row equals what one statement per case gives."""
    cases = [str(7_023_700 + i) for i in range(8)]
    def load(bulk: bool) -> list[str]:
        paths = []
        for source in ("wi", "interview"):
            rows = [(c, getattr(data, f"{source}_payload")(c)) for c in cases]
            if bulk:
                paths.append(_insert(db, source, rows))
            else:
                paths += [_insert(db, source, [row]) for row in rows]
        changed = [(c, dict(p, income={"taxpayerIncome": {"wages": 4321}})) for c, p in
                   [(c, data.interview_payload(c)) for c in cases[:3]]]
        changed_wi = [(c, {"years_data": {"2023": [{"Form": "1099-NEC", "Owner": "TP",
                                                    "Fields": {"Non-Employee Compensation": 5000}}]}})
                      for c in cases[3:6]]
        if bulk:
            paths += [_insert(db, "interview", changed), _insert(db, "wi", changed_wi)]
        else:
            paths += [_insert(db, "interview", [r]) for r in changed] + [_insert(db, "wi", [r]) for r in changed_wi]
        return paths
    paths = load(bulk=True)
    assert paths[1].startswith("interview") and paths[2].startswith("interview")
    assert paths[3] == "employment,projections"   # the interview exists now: employment rows to refresh
    bulk = _gold(db, cases)
    assert all(bulk[t] for t in ("employment_information", "household_information", "tax_projections"))
    db.execute("DELETE FROM cases WHERE case_id = ANY (%s)", (cases,))
    assert set(load(bulk=False)) == {""}
    assert _gold(db, cases) == bulk
