"""Differential check of two migration sets: load the same payloads through both and compare
every row of the silver and gold tables (minus ids, timestamps and lineage uuids) and the
transformation errors.

    python -m bench.diff_triggers [--old DIR] [--new DIR] [--cases 40]

--old defaults to the current migrations without 011/012/015 (the trigger performance files),
--new to the current migrations. Steps, each compared: every sandbox behaviour case plus N
normal cases in bulk (one INSERT per source); N more cases one statement per row; changed
payloads for 6 cases (AT line dropped, W&I form dropped and amounts changed, TRT line changed,
interview: employer cell changed / only an expense cell changed / filing status changed),
bulk then per row; malformed payloads for 3 cases; a malformed payload per source among 8 new
cases' good ones, in bulk; the first payloads of 20 cases again; then
rebuild_from_bronze(). Exit status 1 when anything differs.
"""

from __future__ import annotations

import argparse
import copy
import shutil
import sys
import tempfile
from pathlib import Path

import psycopg
from psycopg.types.json import Jsonb

from backend.app.db.migrate import MIGRATIONS_DIR
from bench.bench_triggers import SOURCES, _insert
from bench.common import scratch_database
from sandbox import data

SILVER = ["tax_years", "account_activity", "at_unplaced_records", "csed_tolling_events", "csed_assessments",
          "trt_records", "income_documents", "logiqs_raw_data"]
GOLD = ["employment_information", "household_information", "financial_accounts", "income_sources",
        "monthly_expenses", "vehicles", "real_property", "tax_projections"]
# ids, timestamps and lineage: differ between two loads by construction
IGNORED = {"id", "created_at", "updated_at", "bronze_id", "activity_id"}
BUILDERS = {"at": data.at_payload, "wi": data.wi_payload, "trt": data.trt_payload, "interview": data.interview_payload}


def _payload(source: str, case_id: str):
    try:
        return BUILDERS[source](case_id)
    except Exception:  # a behaviour case whose upstream only faults
        return None


def _rows(case_ids: list[str]) -> dict[str, list[tuple[str, Jsonb]]]:
    rows: dict[str, list[tuple[str, Jsonb]]] = {s: [] for s in SOURCES}
    for case_id in case_ids:
        for source in SOURCES:
            payload = _payload(source, case_id)
            if payload is not None:
                rows[source].append((case_id, Jsonb(payload)))
    return rows


def _changed(case_ids: list[str]) -> dict[str, list[tuple[str, Jsonb]]]:
    """Changed payloads for up to 6 cases (each case gets one kind of change per source)."""
    rows: dict[str, list[tuple[str, Jsonb]]] = {s: [] for s in SOURCES}
    for i, case_id in enumerate(case_ids[:6]):
        at = copy.deepcopy(data.at_payload(case_id))
        recs = at["at_records"]
        if recs and recs[0].get("transactions"):
            recs[0]["transactions"].pop()
        rows["at"].append((case_id, Jsonb(at)))
        wi = copy.deepcopy(data.wi_payload(case_id))
        years = wi.get("years_data", {})
        for n, (_year, forms) in enumerate(sorted(years.items())):
            if isinstance(forms, list) and forms:
                if n == 0:
                    forms.pop()
                for form in forms:
                    for key, value in list(form.get("Fields", {}).items()):
                        if isinstance(value, (int, float)) and value:
                            form["Fields"][key] = round(value * 1.1 + i, 2)
        rows["wi"].append((case_id, Jsonb(wi)))
        trt = data.trt_payload(case_id)
        if trt is not None:
            trt = copy.deepcopy(trt)
            for rec in trt.get("records", [])[:1]:
                rec["data"] = "12345"
            rows["trt"].append((case_id, Jsonb(trt)))
        interview = data.interview_payload(case_id)
        if interview is not None:
            interview = copy.deepcopy(interview)
            kind = i % 3
            if kind == 0:
                interview["employment"]["clientEmployer"] = "Self-employed consulting"
            elif kind == 1:
                interview.setdefault("expenses", {})["food"] = 777
            else:
                interview.setdefault("employment", {})["clientNextTaxReturn"] = "Head of Household"
            rows["interview"].append((case_id, Jsonb(interview)))
    return rows


def _load(url: str, rows: dict[str, list[tuple[str, Jsonb]]], *, per_row: bool) -> None:
    with psycopg.connect(url) as conn:
        for source in SOURCES:
            if per_row:
                for row in rows[source]:
                    _insert(conn, f"bronze_{source}_raw", [row])
            else:
                _insert(conn, f"bronze_{source}_raw", rows[source])
        conn.commit()


def _snapshot(url: str) -> dict[str, list]:
    snap: dict[str, list] = {}
    with psycopg.connect(url) as conn:
        for table in SILVER + GOLD:
            cols = [c for (c,) in conn.execute(
                "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0"
                " AND NOT attisdropped ORDER BY attnum", (f"public.{table}",)) if c not in IGNORED]
            select = ", ".join(f'"{c}"::text' for c in cols)
            snap[table] = sorted((tuple(r) for r in conn.execute(f"SELECT {select} FROM public.{table}")),
                                 key=lambda r: tuple("" if v is None else v for v in r))
        snap["transformation_errors"] = sorted(conn.execute(
            "SELECT layer, table_name, case_id, sqlstate, message FROM transformation_errors").fetchall())
        snap["bronze"] = sorted(conn.execute(
            "SELECT 'at', case_id, payload_hash FROM bronze_at_raw UNION ALL SELECT 'wi', case_id, payload_hash"
            " FROM bronze_wi_raw UNION ALL SELECT 'trt', case_id, payload_hash FROM bronze_trt_raw UNION ALL"
            " SELECT 'interview', case_id, payload_hash FROM bronze_interview_raw").fetchall())
    return snap


def _compare(step: str, old: dict[str, list], new: dict[str, list]) -> list[str]:
    problems = []
    for table in old:
        if old[table] != new[table]:
            only_old = [r for r in old[table] if r not in new[table]][:3]
            only_new = [r for r in new[table] if r not in old[table]][:3]
            problems.append(f"{step}: {table} differs ({len(old[table])} vs {len(new[table])} rows);"
                            f" old only e.g. {only_old}; new only e.g. {only_new}")
    rows = sum(len(v) for k, v in new.items() if k in SILVER + GOLD)
    errors = len(new["transformation_errors"])
    sys.stdout.write(f"{step:34s} {'identical' if not problems else 'DIFFERENT'}: {rows} silver/gold rows,"
                     f" {errors} transformation errors\n")
    return problems


def _default_old() -> Path:
    tmp = Path(tempfile.mkdtemp(prefix="medallion_old_migrations_"))
    for path in MIGRATIONS_DIR.glob("*.sql"):
        if not path.name.startswith(("011_", "012_", "015_")):
            shutil.copy(path, tmp / path.name)
    return tmp


def run(old_dir: Path, new_dir: Path, cases: int) -> list[str]:
    behaviour_cases = sorted(data.BEHAVIOURS)
    bulk_cases = behaviour_cases + [str(8_100_000 + i) for i in range(cases)]
    row_cases = [str(8_200_000 + i) for i in range(cases)]
    changed_bulk = _changed([data.DEMO_CASE, "1000001", "1000002"] + bulk_cases[-3:])
    changed_rows = _changed(row_cases[:6])
    bad = {"at": [(bulk_cases[-1], Jsonb({"nothing": "here"}))], "wi": [(row_cases[0], Jsonb([1, 2]))],
           "trt": [], "interview": [(row_cases[1], Jsonb({"not": "an interview"}))]}
    # a malformed payload among good ones in the same bulk statement (new cases): with 018 the
    # statement's batch fails and falls back to the per-case path
    mixed_cases = [str(8_300_000 + i) for i in range(8)]
    mixed = _rows(mixed_cases)
    for source, index, payload in (("at", 0, {"nothing": "here"}), ("wi", 1, [1, 2]),
                                   ("trt", 2, "not a transcript"), ("interview", 3, {"not": "an interview"})):
        mixed[source] = [(c, Jsonb(payload)) if c == mixed_cases[index] else (c, p) for c, p in mixed[source]]
        if not any(c == mixed_cases[index] for c, _ in mixed[source]):
            mixed[source].append((mixed_cases[index], Jsonb(payload)))
    steps = [
        ("bulk, every behaviour + normal", lambda u: _load(u, _rows(bulk_cases), per_row=False)),
        ("one statement per row", lambda u: _load(u, _rows(row_cases), per_row=True)),
        ("changed payloads, bulk", lambda u: _load(u, changed_bulk, per_row=False)),
        ("changed payloads, per row", lambda u: _load(u, changed_rows, per_row=True)),
        ("malformed payloads", lambda u: _load(u, bad, per_row=False)),
        ("malformed among good ones, bulk", lambda u: _load(u, mixed, per_row=False)),
        ("re-ingest the first payloads", lambda u: _load(u, _rows(bulk_cases[:10] + row_cases[:10]), per_row=False)),
        ("rebuild_from_bronze()", lambda u: psycopg.connect(u, autocommit=True).execute(
            "SELECT count(*) FROM rebuild_from_bronze()")),
    ]
    problems: list[str] = []
    with scratch_database(old_dir) as old_url, scratch_database(new_dir) as new_url:
        for name, step in steps:
            step(old_url)
            step(new_url)
            problems += _compare(name, _snapshot(old_url), _snapshot(new_url))
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--old", type=Path, default=None, help="old migrations (default: current minus 011/012/015)")
    parser.add_argument("--new", type=Path, default=MIGRATIONS_DIR)
    parser.add_argument("--cases", type=int, default=40)
    args = parser.parse_args(argv)
    old_dir = args.old or _default_old()
    try:
        problems = run(old_dir, args.new, args.cases)
    finally:
        if args.old is None:  # the temporary copy made by _default_old
            shutil.rmtree(old_dir, ignore_errors=True)
    for problem in problems:
        sys.stdout.write(problem + "\n")
    sys.stdout.write("RESULT: " + ("identical" if not problems else f"{len(problems)} differences") + "\n")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
