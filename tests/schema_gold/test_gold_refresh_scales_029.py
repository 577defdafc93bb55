"""Migration 029 (docs/05_TRIGGER_PERFORMANCE.md section 11): refreshing one case's projections or
employment reads that case's rows only, however many cases are stored. 023's candidate check
(EXISTS ... OR EXISTS ...) ran as a hashed subplan that read all of tax_projections,
logiqs_raw_data and employment_information on every refresh; this test fails on it."""

from __future__ import annotations

from psycopg.types.json import Jsonb

from sandbox import data

SOURCES = {"at": data.at_payload, "wi": data.wi_payload, "trt": data.trt_payload,
           "interview": data.interview_payload}
TABLES = ("income_documents", "tax_projections", "logiqs_raw_data", "employment_information")


def _rows_read(db) -> int:
    """Rows this transaction has read so far from the four tables: sequentially, or from their indexes."""
    return db.execute(
        "SELECT sum(pg_stat_get_xact_tuples_returned(r)) FROM ("
        " SELECT t::regclass::oid AS r FROM unnest(%(t)s::text[]) AS t"
        " UNION ALL SELECT i.indexrelid FROM pg_index AS i WHERE i.indrelid = ANY (%(t)s::text[]::regclass[])) AS x",
        {"t": list(TABLES)}).fetchone()[0]


def test_one_case_refresh_reads_only_that_case(db):
    cases = [str(7_429_000 + i) for i in range(60)]
    for source, build in SOURCES.items():
        rows = [(c, build(c)) for c in cases if build(c) is not None]
        db.execute(f"INSERT INTO bronze_{source}_raw (case_id, raw_response)"
                   " SELECT * FROM unnest(%s::text[], %s::jsonb[])",
                   ([c for c, _ in rows], [Jsonb(p) for _, p in rows]))
    stored = db.execute("SELECT (SELECT count(*) FROM tax_projections), (SELECT count(*) FROM logiqs_raw_data),"
                        " (SELECT count(*) FROM employment_information)").fetchone()
    assert min(stored) >= 60
    case = cases[7]
    own = db.execute("SELECT (SELECT count(*) FROM income_documents WHERE case_id = %(c)s)"
                     " + (SELECT count(*) FROM tax_projections WHERE case_id = %(c)s)"
                     " + 1 + (SELECT count(*) FROM employment_information WHERE case_id = %(c)s)",
                     {"c": case}).fetchone()[0]

    for refresh in ("gold_refresh_projections_batch", "gold_refresh_employment_batch"):
        for _ in range(6):  # past plpgsql's first executions: the generic plan is the one that stays
            before = _rows_read(db)
            db.execute(f"SELECT {refresh}(ARRAY[%s])", (case,))
            read = _rows_read(db) - before
        # the case's own rows, a few times over (the refresh reads them more than once); not the table
        assert read <= 6 * own, (refresh, read, own, stored)
