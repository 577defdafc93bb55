"""An `anon` database session reads nothing and writes nothing, through any door.

tests/test_security_rls.py checks SELECT on public base tables. This extends it to every schema
and every kind of relation (views and materialized views read with their owner's rights unless
security_invoker, so a view can leak what RLS hides), functions anon may execute (SECURITY DEFINER
would run as the owner), sequences, write privileges and role escalation. The data is real:
a sandbox case stored through the bronze writer, with silver and gold built by the triggers."""

from __future__ import annotations

import psycopg
import pytest

from backend.app.services import data_saver
from sandbox import data as sandbox_data

SYSTEM = ("pg_catalog", "information_schema")


@pytest.fixture
def seeded_db(db, case_id):
    for source, payload in (("at", sandbox_data.at_payload("1295022")), ("wi", sandbox_data.wi_payload("1295022")),
                            ("interview", sandbox_data.interview_payload("1295022"))):
        data_saver.save_bronze(db, source, case_id, payload)
    # Sanity: the triggers did build silver/gold, so "anon sees 0 rows" is not vacuous.
    assert db.execute("SELECT count(*) FROM public.tax_years WHERE case_id = %s", (case_id,)).fetchone()[0] > 0
    return db


def _relations(conn, kinds: str) -> list[tuple[str, str, str]]:
    return conn.execute(
        "SELECT n.nspname, c.relname, c.relkind::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE c.relkind = ANY(%s) AND n.nspname <> ALL(%s) AND n.nspname NOT LIKE 'pg_toast%%'"
        " AND n.nspname NOT LIKE 'pg_temp%%' ORDER BY 1, 2", (list(kinds), list(SYSTEM))).fetchall()


def test_anon_reads_no_row_from_any_table_or_view_in_any_schema(seeded_db):
    db = seeded_db
    rels = _relations(db, "rpvmf")
    assert any(kind == "v" for _, _, kind in rels) or any(kind == "m" for _, _, kind in rels) or rels
    db.execute("SET LOCAL ROLE anon")
    readable = []
    for schema, name, kind in rels:
        try:
            with db.transaction():
                n = db.execute(f'SELECT count(*) FROM "{schema}"."{name}"').fetchone()[0]
        except psycopg.errors.InsufficientPrivilege:
            continue
        if n:
            readable.append((schema, name, kind, n))
    assert readable == [], f"anon read rows from: {readable}"


def test_anon_holds_no_write_privilege_anywhere(db):
    rows = db.execute(
        "SELECT n.nspname, c.relname, p.priv FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,"
        " unnest(ARRAY['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) AS p(priv)"
        " WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND n.nspname <> ALL(%s) AND n.nspname NOT LIKE 'pg_%%'"
        " AND has_table_privilege('anon', c.oid, p.priv)", (list(SYSTEM),)).fetchall()
    assert rows == []


def test_anon_cannot_write_even_where_it_tries(seeded_db, case_id):
    db = seeded_db
    db.execute("SET LOCAL ROLE anon")
    for statement in ("INSERT INTO public.cases (case_id) VALUES ('777000111')",
                      "INSERT INTO public.bronze_at_raw (case_id, raw_response) VALUES ('777000111', '{}')",
                      f"UPDATE public.cases SET client_name = 'x' WHERE case_id = '{case_id}'",
                      f"DELETE FROM public.cases WHERE case_id = '{case_id}'",
                      "INSERT INTO public.extraction_requests (case_id) VALUES ('777000111')"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            with db.transaction():
                db.execute(statement)


def test_no_security_definer_function_is_executable_by_anon(db):
    rows = db.execute(
        "SELECT n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')'"
        " FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
        " WHERE p.prosecdef AND n.nspname <> ALL(%s) AND n.nspname NOT LIKE 'pg_%%'"
        " AND has_function_privilege('anon', p.oid, 'EXECUTE') ORDER BY 1", (list(SYSTEM),)).fetchall()
    assert rows == [], f"SECURITY DEFINER functions anon can call (they run as their owner): {rows}"


def test_anon_calls_to_data_functions_return_nothing(seeded_db, case_id):
    """Every function in public that takes one text argument (the case-id shaped ones: CSED,
    projections, business functions) and that anon may execute: called as anon it must fail
    on privileges or return nothing for a case that has data."""
    db = seeded_db
    funcs = db.execute(
        "SELECT p.oid::regprocedure::text, p.proretset FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
        " WHERE n.nspname = 'public' AND p.prokind = 'f' AND p.pronargs = 1"
        " AND p.proargtypes[0] IN ('text'::regtype, 'varchar'::regtype)"
        " AND p.prorettype NOT IN ('trigger'::regtype, 'void'::regtype)"
        " AND p.provolatile <> 'i'"  # immutable functions read no table (text normalisers etc.)
        " AND has_function_privilege('anon', p.oid, 'EXECUTE')").fetchall()
    db.execute("SET LOCAL ROLE anon")
    leaked = []
    for signature, returns_set in funcs:
        name = signature.split("(")[0]
        try:
            with db.transaction():
                if returns_set:
                    got = db.execute(f"SELECT count(*) FROM {name}(%s)", (case_id,)).fetchone()[0]
                    if got:
                        leaked.append((signature, got))
                else:
                    got = db.execute(f"SELECT {name}(%s)", (case_id,)).fetchone()[0]
                    if got not in (None, 0, False, "", [], {}) and "{}" != str(got) and "[]" != str(got):
                        leaked.append((signature, str(got)[:80]))
        except psycopg.Error:
            continue  # refused, or the function is not for case ids
    assert leaked == [], f"functions that gave anon case data: {leaked}"


def test_anon_uses_no_sequence_and_cannot_become_another_role(db):
    seqs = db.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'S'"
        " AND n.nspname = 'public' AND (has_sequence_privilege('anon', c.oid, 'USAGE')"
        " OR has_sequence_privilege('anon', c.oid, 'UPDATE'))").fetchall()
    assert seqs == []
    for role in ("authenticated", "service_role", "postgres"):
        exists = db.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
        if exists:
            assert not db.execute("SELECT pg_has_role('anon', %s, 'MEMBER')", (role,)).fetchone()[0], role
    attrs = db.execute("SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = 'anon'"
                       ).fetchone()
    assert attrs == (False, False, False, False)
    # (SET ROLE from an anon session is checked against the *session* user, so a real anon login
    # is what matters: anon is a member of nothing above, which is what pg_has_role proves.)
