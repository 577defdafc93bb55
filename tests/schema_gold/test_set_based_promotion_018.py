"""Migration 018 (docs/05_TRIGGER_PERFORMANCE.md section 8): a bronze statement with several cases
is promoted as one batch (W&I and TRT: one upsert and one delete for all its cases), and falls
back to the per-case path when the batch raises. What ends up in silver, gold and
transformation_errors must be what promoting each case on its own gives."""

from __future__ import annotations

import pytest
from psycopg.types.json import Jsonb

from sandbox import data

SOURCES = ("at", "wi", "trt", "interview")
BUILDERS = {"at": data.at_payload, "wi": data.wi_payload, "trt": data.trt_payload,
            "interview": data.interview_payload}
SILVER = ["tax_years", "account_activity", "at_unplaced_records", "csed_tolling_events", "csed_assessments",
          "trt_records", "income_documents", "logiqs_raw_data"]
GOLD = ["employment_information", "household_information", "financial_accounts", "income_sources",
        "monthly_expenses", "vehicles", "real_property", "tax_projections"]
IGNORED = {"id", "created_at", "updated_at", "bronze_id", "activity_id"}
CASES = [str(7_418_000 + i) for i in range(6)]  # normal sandbox cases (no behaviour)
BAD = {"at": {"nothing": "here"}, "wi": [1, 2], "trt": "not a transcript", "interview": {"not": "an interview"}}


def _payloads(cases: list[str]) -> dict[str, list[tuple[str, object]]]:
    rows: dict[str, list[tuple[str, object]]] = {s: [] for s in SOURCES}
    for case_id in cases:
        for source in SOURCES:
            payload = BUILDERS[source](case_id)
            if payload is not None:
                rows[source].append((case_id, payload))
    return rows


def _insert(db, source: str, rows: list[tuple[str, object]]) -> str:
    """One multi-row INSERT (one trigger statement); returns the promotion path it took."""
    db.execute(f"INSERT INTO bronze_{source}_raw (case_id, raw_response) SELECT * FROM unnest(%s::text[], %s::jsonb[])",
               ([c for c, _ in rows], [Jsonb(p) for _, p in rows]))
    return db.execute("SELECT current_setting('medallion.promotion_path', true)").fetchone()[0]


def _snapshot(db, cases: list[str]) -> dict[str, list]:
    snap = {}
    for table in SILVER + GOLD:
        cols = [c for (c,) in db.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped"
            " ORDER BY attnum", (f"public.{table}",)) if c not in IGNORED]
        select = ", ".join(f'"{c}"::text' for c in cols)
        snap[table] = sorted((tuple(r) for r in db.execute(
            f"SELECT {select} FROM public.{table} WHERE case_id = ANY (%s)", (cases,))),
            key=lambda r: tuple("" if v is None else v for v in r))
    snap["errors"] = sorted(db.execute(
        "SELECT layer, table_name, case_id, sqlstate, message FROM transformation_errors WHERE case_id = ANY (%s)",
        (cases,)).fetchall())
    return snap


def _lineage(db, cases: list[str], *, trt: bool = True) -> list[tuple]:
    """Silver rows whose bronze_id is not their case's latest bronze row of the source. (A TRT
    row whose values did not change keeps the bronze_id of the load that wrote it: trt=False.)"""
    return db.execute("""
        SELECT 'income_documents', t.case_id FROM income_documents t
        WHERE t.case_id = ANY (%(c)s) AND t.bronze_id IS DISTINCT FROM
              (SELECT b.bronze_id FROM bronze_wi_raw b WHERE b.case_id = t.case_id ORDER BY ingest_seq DESC LIMIT 1)
        UNION ALL
        SELECT 'trt_records', t.case_id FROM trt_records t
        WHERE t.case_id = ANY (%(c)s) AND t.bronze_id IS DISTINCT FROM
              (SELECT b.bronze_id FROM bronze_trt_raw b WHERE b.case_id = t.case_id ORDER BY ingest_seq DESC LIMIT 1)
          AND %(trt)s
        """, {"c": cases, "trt": trt}).fetchall()


def _ingest_per_case(db, rows: dict[str, list[tuple[str, object]]]) -> None:
    for source in SOURCES:
        for row in rows[source]:
            assert _insert(db, source, [row]).startswith("per_case:")


def test_bulk_statement_takes_the_batch_path_and_matches_per_case_ingestion(db):
    rows = _payloads(CASES)
    assert rows["trt"], "some of these sandbox cases have a TRT"
    db.execute("SAVEPOINT before")
    for source in SOURCES:
        assert _insert(db, source, rows[source]) == f"batch:{source}:{len(rows[source])}"
    batched = _snapshot(db, CASES)
    assert _lineage(db, CASES) == []
    assert batched["errors"] == []
    assert batched["income_documents"] and batched["trt_records"] and batched["tax_projections"]
    db.execute("ROLLBACK TO SAVEPOINT before")
    _ingest_per_case(db, rows)
    assert _snapshot(db, CASES) == batched


@pytest.mark.parametrize("bad_source", SOURCES)
def test_a_malformed_payload_among_good_ones_fails_only_its_case(db, bad_source):
    rows = _payloads(CASES)
    bad_case = rows[bad_source][1][0]
    rows[bad_source] = [(c, BAD[bad_source] if c == bad_case else p) for c, p in rows[bad_source]]
    db.execute("SAVEPOINT before")
    paths = {source: _insert(db, source, rows[source]) for source in SOURCES}
    # the statement with the bad payload fell back to the per-case path, the others did not
    assert paths == {s: f"{'per_case' if s == bad_source else 'batch'}:{s}:{len(rows[s])}" for s in SOURCES}
    bulk = _snapshot(db, CASES)
    bronze = db.execute(f"SELECT case_id FROM bronze_{bad_source}_raw WHERE case_id = ANY (%s) ORDER BY 1",
                        (CASES,)).fetchall()
    assert bronze == sorted((c,) for c, _ in rows[bad_source])  # every bronze row committed
    assert [(e[0], e[1], e[2]) for e in bulk["errors"]] == [("silver", f"bronze_{bad_source}_raw", bad_case)]
    assert _lineage(db, CASES) == []
    db.execute("ROLLBACK TO SAVEPOINT before")
    _ingest_per_case(db, rows)
    assert _snapshot(db, CASES) == bulk


def test_changed_payloads_in_bulk_update_and_delete_per_case(db):
    """A second bulk statement with changed W&I / TRT payloads: rows the payload no longer holds are
    deleted for their own case only, changed rows updated, as the per-case path does."""
    rows = _payloads(CASES)
    changed = {s: list(v) for s, v in rows.items()}
    for i in (0, 1):  # (unchanged payloads are not stored again: the statement holds the changed ones)
        wi_case, wi_payload = changed["wi"][i]
        years = {y: (v[:-1] if isinstance(v, list) else v) for y, v in wi_payload["years_data"].items()}
        changed["wi"][i] = (wi_case, {**wi_payload, "years_data": years})  # one form per year fewer
        trt_case, trt_payload = changed["trt"][i]
        changed["trt"][i] = (trt_case, {**trt_payload, "records": trt_payload["records"][:-1]})
    db.execute("SAVEPOINT before")
    for source in ("wi", "trt"):
        _insert(db, source, rows[source])
    for source in ("wi", "trt"):
        assert _insert(db, source, changed[source]) == f"batch:{source}:2"
    bulk = _snapshot(db, CASES)
    assert _lineage(db, CASES, trt=False) == []
    db.execute("ROLLBACK TO SAVEPOINT before")
    for source in ("wi", "trt"):
        for row in rows[source]:
            _insert(db, source, [row])
    for source in ("wi", "trt"):
        for row in changed[source]:
            _insert(db, source, [row])
    assert _snapshot(db, CASES) == bulk


def test_single_case_statement_keeps_the_per_case_path(db):
    rows = _payloads(CASES[:1])
    for source in SOURCES:
        for row in rows[source]:
            assert _insert(db, source, [row]) == f"per_case:{source}:1"


def test_a_batch_that_falls_back_says_so_in_the_server_log(db):
    """The fallback is not silent: a LOG line (server log; here sent to the client) names the
    statement's source, its case count and the batch's error."""
    rows = _payloads(CASES)["wi"]
    rows = [(c, BAD["wi"] if i == 1 else p) for i, (c, p) in enumerate(rows)]
    notices: list[str] = []
    db.add_notice_handler(lambda d: notices.append(d.message_primary))
    db.execute("SET LOCAL client_min_messages = log")
    assert _insert(db, "wi", rows).startswith("per_case:")
    fallbacks = [m for m in notices if "fell back to case by case" in m]
    assert len(fallbacks) == 1
    assert fallbacks[0].startswith(f"bronze promotion of {len(rows)} cases (wi) fell back to case by case: ")
