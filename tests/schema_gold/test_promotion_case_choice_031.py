"""Migration 031 (docs/05_TRIGGER_PERFORMANCE.md section 12): the promotion trigger chooses each
gold part's cases with INTERSECT, reading the statement's cases once. 023's
`noted.case_id IN (SELECT ... FROM new_rows)` ran, under the trigger's generic plan, as a nested
loop that rescanned new_rows once per noted case (quadratic in the statement's cases; ~0.37 s
per gold part for 500 W&I payloads). Since 039 the choice is made in promote_bronze_set, over
its array of case ids instead of the transition table. This test reads the plan auto_explain
logs for that statement: no node of it may run more than once (023's form fails)."""

from __future__ import annotations

import re

from psycopg.types.json import Jsonb

from sandbox import data


def test_each_gold_part_reads_the_statement_rows_once(db):
    cases = [str(7_431_000 + i) for i in range(12)]
    plans: list[str] = []
    db.add_notice_handler(lambda d: plans.append(d.message_primary))
    db.execute("LOAD 'auto_explain'")
    for setting, value in (("log_min_duration", "0"), ("log_analyze", "on"), ("log_timing", "off"),
                           ("log_nested_statements", "on"), ("log_level", "notice")):
        db.execute(f"SET LOCAL auto_explain.{setting} = '{value}'")
    db.execute("INSERT INTO bronze_wi_raw (case_id, raw_response) SELECT * FROM unnest(%s::text[], %s::jsonb[])",
               (cases, [Jsonb(data.wi_payload(c)) for c in cases]))
    db.execute("SET LOCAL auto_explain.log_min_duration = -1")

    assert db.execute("SELECT current_setting('medallion.gold_path', true)").fetchone()[0] == "employment,projections"
    choices = [p for p in plans if "split_part(token, ':', 2)) AS parts" in p and "INTERSECT" in p]
    assert len(choices) == 3  # one per gold part: interview, employment, projections
    loops = []
    for plan in choices:
        # "never executed" when the part has no noted cases (here: interview, the statement is W&I)
        nodes = re.findall(r"(?:loops=(\d+)|never executed)", plan)
        assert len(nodes) >= 5, plan
        loops += [int(n or 0) for n in nodes]
    assert max(loops) == 1, choices
