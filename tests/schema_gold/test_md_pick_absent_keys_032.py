"""Migration 032 (docs/05_TRIGGER_PERFORMANCE.md section 12): md_pick answers "none of these keys"
without the plpgsql loop. Same answers as the loop for every object and key list, whether the key
list is a constant (as at every call site: the "no dotted path" test is folded when the caller is
planned) or a parameter (evaluated per call); and the loop is no longer called for absent keys."""

from __future__ import annotations

import json

import pytest
from psycopg import sql

OBJECTS = [
    {"a": 1, "b": "x"}, {"a": "  ", "b": "x"}, {"a": None, "b": 0}, {"a": {"c": " y "}}, {"a": {"c": ""}, "b": []},
    [{"a": 1}], ["a"], "a", 5, None, {"0": {"a": 1}}, {"a.c": 1, "a": {"c": 2}}, {"b": False}, {}, {"zz": None},
    {f"k{i}": i for i in range(20)},
]
KEY_LISTS = [
    ["a", "b"], ["b", "a"], ["a.c", "b"], ["0.a"], ["zz", "a.c"], ["zz", "yy"], ["a.c"], ["b"], ["zz"], [None, "b"],
    [f"x{i}" for i in range(15)] + ["a.c"],  # a dotted path in the 16th place
    [f"x{i}" for i in range(16)] + ["k19"],  # longer than 16: always the loop
]


@pytest.mark.parametrize("keys", KEY_LISTS, ids=lambda k: ",".join(map(str, k))[:40])
def test_md_pick_with_constant_keys_equals_the_loop(db, keys):
    # the key list as a literal in the statement, as the parsers write it
    query = sql.SQL("SELECT o, md_pick(o::jsonb, {k}) IS NOT DISTINCT FROM md_pick_loop(o::jsonb, {k}),"
                    " md_pick(o::jsonb, {k}) FROM unnest(%s::text[]) AS o").format(k=sql.Literal(keys))
    rows = db.execute(query, ([None if o is None else json.dumps(o) for o in OBJECTS],)).fetchall()
    assert len(rows) == len(OBJECTS)
    assert [r for r in rows if not r[1]] == []


def test_absent_keys_do_not_call_the_loop(db):
    db.execute("SET LOCAL track_functions = 'all'")
    # this transaction's calls so far
    loop_calls = "SELECT coalesce((SELECT calls FROM pg_stat_xact_user_functions WHERE funcname = 'md_pick_loop'), 0)"
    before = db.execute(loop_calls).fetchone()[0]
    got = db.execute("SELECT count(md_pick(jsonb_build_object('amount', g, 'code', '150'),"
                     " ARRAY['balance', 'balance_after', 'ending_balance', 'running_balance'])),"
                     " count(md_pick(jsonb_build_object('amount', g), ARRAY['Amount', 'amount']))"
                     " FROM generate_series(1, 50) AS g").fetchone()
    calls = db.execute(loop_calls).fetchone()[0] - before
    assert got == (0, 50)
    assert calls == 50  # only the second pick (its first key absent, the second present) loops
