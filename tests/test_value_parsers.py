"""The shared value parsers of 001 (md_*): every upstream value format, and garbage -> NULL."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from psycopg.types.json import Jsonb

from backend.app.db.migrate import MIGRATIONS_DIR


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1234.5, Decimal("1234.5")), ("1234.5", Decimal("1234.5")), ("$1,234.56", Decimal("1234.56")),
        ("(500.00)", Decimal("-500.00")), ("-$20", Decimal("-20")), (" 12 ", Decimal("12")),
        ("-.5", Decimal("-0.5")), ("abc", None), ("", None), (None, None), (True, None), ({"a": 1}, None),
    ],
)
def test_md_numeric(db, value, expected):
    assert db.execute("SELECT md_numeric(%s)", (Jsonb(value),)).fetchone()[0] == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2022-05-30", dt.date(2022, 5, 30)), ("2022-05-30T13:45:00Z", dt.date(2022, 5, 30)),
        ("05-30-2022", dt.date(2022, 5, 30)), ("5/3/2022", dt.date(2022, 5, 3)), ("20220530", dt.date(2022, 5, 30)),
        ("02-29-2020", dt.date(2020, 2, 29)), ("02-29-2021", None), ("13-01-2022", None), ("", None),
        ("n/a", None), (20220530, dt.date(2022, 5, 30)),
    ],
)
def test_md_date(db, value, expected):
    assert db.execute("SELECT md_date(%s)", (Jsonb(value),)).fetchone()[0] == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(2023, 2023), ("2023", 2023), ("Tax Year 2023", 2023), ("TY2021", 2021), ("12/31/2022", 2022),
     ("Unknown", None), (23, None), ("", None), (2023.0, 2023), ("12345", None)],
)
def test_md_year(db, value, expected):
    assert db.execute("SELECT md_year(%s)", (Jsonb(value),)).fetchone()[0] == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), ("YES", True), ("Filed", True), ("true", True), ("y", True), (1, True),
     (False, False), ("NO", False), ("Unfiled", False), ("not filed", False), (0, False),
     ("maybe", None), (None, None)],
)
def test_md_bool(db, value, expected):
    assert db.execute("SELECT md_bool(%s)", (Jsonb(value),)).fetchone()[0] is expected


def test_md_pick_takes_the_first_non_empty_key_or_path(db):
    obj = {"tax_year": "", "taxYear": None, "year": "2021", "Issuer": {"Name": "ACME"}}
    pick = "SELECT md_pick(%s, %s)"
    assert db.execute(pick, (Jsonb(obj), ["tax_year", "taxYear", "year"])).fetchone()[0] == "2021"
    assert db.execute(pick, (Jsonb(obj), ["Issuer.Name", "year"])).fetchone()[0] == "ACME"
    assert db.execute(pick, (Jsonb(obj), ["missing"])).fetchone()[0] is None
    assert db.execute(pick, (Jsonb([1, 2]), ["0"])).fetchone()[0] is None  # not an object


def _load_001_md_text(db) -> None:
    """001's plpgsql md_text, as pg_temp.md_text_001 (033 replaced it)."""
    text = (MIGRATIONS_DIR / "001_create_bronze_tables.sql").read_text()
    body = re.search(r"CREATE OR REPLACE FUNCTION public\.md_text\(.*?\n\$\$;\n", text, re.S).group(0)
    db.execute(body.replace("public.md_text(", "pg_temp.md_text_001("))


def test_md_text_equals_001s_plpgsql_body(db):
    """033 made md_text an inlined jsonpath expression: the same text for every kind of value."""
    _load_001_md_text(db)
    values = ['"  a b "', '""', '"   "', '"\\t x\\n"', '"0"', "12.50", "-3", "1e3", "0.0000001", "true", "false",
              "null", "[1]", '["x"]', "[]", '{"a": 1}', "{}", None]
    rows = db.execute("SELECT v, md_text(v::jsonb), pg_temp.md_text_001(v::jsonb) FROM unnest(%s::text[]) AS v",
                      (values,)).fetchall()
    assert len(rows) == len(values)
    assert [r for r in rows if r[1] != r[2]] == []
    # and where it is inlined around a pick, as the parsers call it
    obj = Jsonb({"a": " ", "b": " x "})
    picked = db.execute("SELECT md_text(md_pick(%(o)s, ARRAY['a', 'b'])),"
                        " pg_temp.md_text_001(md_pick(%(o)s, ARRAY['a', 'b']))", {"o": obj}).fetchone()
    assert picked == ("x", "x")


def test_md_text_unquotes_and_trims(db):
    assert db.execute("SELECT md_text(%s)", (Jsonb("  ACME Corp "),)).fetchone()[0] == "ACME Corp"
    assert db.execute("SELECT md_text(%s)", (Jsonb(12.5),)).fetchone()[0] == "12.5"
    assert db.execute("SELECT md_text(%s)", (Jsonb({"a": 1}),)).fetchone()[0] is None
