"""Row-level security: an `anon` session reads nothing, `authenticated` reads, `service_role` writes."""

from __future__ import annotations

import psycopg
import pytest


def _public_tables(conn: psycopg.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1"
    ).fetchall()
    return [name for (name,) in rows]


def test_every_public_table_has_rls_enabled(db):
    unsecured = db.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'public' AND c.relkind = 'r' AND NOT c.relrowsecurity"
    ).fetchall()
    assert unsecured == []
    assert "cases" in _public_tables(db)


def test_anon_reads_nothing(db):
    db.execute("INSERT INTO bronze_at_raw (case_id, raw_response) VALUES ('555000111', '{\"at_records\": []}')")
    db.execute("SET LOCAL ROLE anon")
    for table in _public_tables(db):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            with db.transaction():
                db.execute(f'SELECT count(*) FROM public."{table}"')


def test_authenticated_reads_but_cannot_write(db):
    db.execute("INSERT INTO bronze_at_raw (case_id, raw_response) VALUES ('555000112', '{\"at_records\": []}')")
    db.execute("SET LOCAL ROLE authenticated")
    assert db.execute("SELECT count(*) FROM cases WHERE case_id = '555000112'").fetchone() == (1,)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        with db.transaction():
            db.execute("INSERT INTO cases (case_id) VALUES ('555000113')")


def test_service_role_writes_bronze_and_the_triggers_run(db):
    db.execute("SET LOCAL ROLE service_role")
    db.execute("INSERT INTO bronze_wi_raw (case_id, raw_response) VALUES ('555000114', '{\"years_data\": {}}')")
    assert db.execute("SELECT count(*) FROM bronze_wi_raw WHERE case_id = '555000114'").fetchone() == (1,)
