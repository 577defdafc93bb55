"""Migration 021 (docs/05_TRIGGER_PERFORMANCE.md section 9): md_date and md_year recognise each
spelling with a plain `~` test and cut the parts out with split_part / substr instead of
capture-group regexes. Every input gives what 001's versions give: the same date or year, NULL,
or the same error. 001's definitions are loaded as temporary functions and compared on the
spellings of tests/test_value_parsers.py and a grid of edge cases (leap days, impossible dates,
out-of-range years, one- and two-digit parts, trailing text, non-ASCII digits, other JSON types)."""

from __future__ import annotations

import itertools
import re

from psycopg.types.json import Jsonb

from backend.app.db.migrate import MIGRATIONS_DIR


def _load_001(db) -> None:
    text = (MIGRATIONS_DIR / "001_create_bronze_tables.sql").read_text()
    for name in ("md_date", "md_year"):
        body = re.search(rf"CREATE OR REPLACE FUNCTION public\.{name}\(.*?\n\$\$;\n", text, re.S).group(0)
        db.execute(body.replace(f"public.{name}(", f"pg_temp.old_{name}("))
    db.execute("""
        CREATE FUNCTION pg_temp.try_parse(f text, v jsonb) RETURNS text LANGUAGE plpgsql AS $$
        DECLARE r text;
        BEGIN
            EXECUTE format('SELECT %s($1)::text', f) INTO r USING v;
            RETURN coalesce(r, 'NULL');
        EXCEPTION WHEN OTHERS THEN
            RETURN 'ERROR ' || SQLSTATE || ' ' || SQLERRM;
        END $$""")


def _differences(db, new: str, old: str, values: list) -> list:
    rows = db.execute(
        "SELECT v::text, pg_temp.try_parse(%s, v), pg_temp.try_parse(%s, v)"
        " FROM unnest(%s::jsonb[]) AS v", (new, old, [Jsonb(x) for x in values])).fetchall()
    assert len(rows) == len(values)
    return [r for r in rows if r[1] != r[2]]


SPELLINGS = ["2022-05-30", "2022-05-30T13:45:00Z", "05-30-2022", "5/3/2022", "20220530", "02-29-2020",
             "02-29-2021", "13-01-2022", "", "n/a", 20220530, None, True, {"a": 1}, [1], "Unknown",
             2023, "2023", "Tax Year 2023", "TY2021", "12/31/2022", 23, 2023.0, "12345", 2023.5, "2023.0",
             " 2023", "2023 ", "1949", "1950", "2100", "2101", "1899", "19999", "FY2019/2020", "x2019y",
             "٢٠٢٣", "2023-٠5-30", "2022-05-3٠", "2022-05-٣0", "٠5/30/2022", "2022٠530", "+2022-05-30",
             "2022-5-3", "2022-05-305", "2022-5-30x", "2022-05-3-1", "2022-05-", "2022--05-30", "2022-005-30",
             "5/30-2022", "5-30/2022", "05/30/22", "5/30/2022 ", " 5/30/2022", "005/30/2022", "5//30/2022",
             "202205301", "2022053", "0000-00-00", "00000000", "99999999", "2022-0-1", "2022-1-0"]


def _grid() -> list[str]:
    years = ["1899", "1900", "1999", "2000", "2020", "2021", "2024", "2100", "2200", "2201", "0000"]
    months = ["0", "00", "1", "01", "2", "02", "9", "12", "13", "99"]
    days = ["0", "00", "1", "01", "28", "29", "30", "31", "32", "5", "99"]
    out = []
    for y, m, d in itertools.product(years, months, days):
        out += [f"{y}-{m}-{d}", f"{y}-{m}-{d}T00:00:00", f"{y}-{m}-{d}7", f"{m}-{d}-{y}", f"{m}/{d}/{y}",
                f"{m}-{d}/{y}"]
        if len(m) == 2 and len(d) == 2:
            out.append(f"{y}{m}{d}")
    return out


def test_md_date_same_as_001(db):
    _load_001(db)
    assert _differences(db, "public.md_date", "pg_temp.old_md_date", SPELLINGS + _grid()) == []


def test_md_year_same_as_001(db):
    _load_001(db)
    values = SPELLINGS + _grid() + [str(y) for y in range(1890, 2110)] + list(range(1890, 2110)) \
        + [f"TY{y}" for y in (1949, 1950, 2100, 2101)] + ["2023x", "x2023", "12023", "20231"]
    assert _differences(db, "public.md_year", "pg_temp.old_md_year", values) == []


def test_md_date_and_md_year_keep_their_definition_properties(db):
    rows = db.execute(
        "SELECT proname, provolatile, proparallel, proconfig, pg_get_function_identity_arguments(oid)"
        " FROM pg_proc WHERE pronamespace = 'public'::regnamespace AND proname IN ('md_date', 'md_year')"
        " ORDER BY proname").fetchall()
    assert rows == [("md_date", "i", "s", None, "v jsonb"), ("md_year", "i", "s", None, "v jsonb")]
