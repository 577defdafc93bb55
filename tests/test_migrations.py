"""The migration runner against a real Postgres: order, once only, checksum refusal, and a
failing file rolling back alone."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from backend.app.db.migrate import MIGRATIONS_DIR, MigrationError, apply_migrations, discover


def _write(directory: Path, name: str, body: str) -> None:
    (directory / name).write_text(body, encoding="utf-8")


def _tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
    return {name for (name,) in rows}


def test_applies_in_numeric_order_not_name_order(tmp_path, create_database):
    # 10 sorts before 9 as text; the runner must go by number (9 creates what 10 alters).
    _write(tmp_path, "9_create.sql", "CREATE TABLE t (a int);")
    _write(tmp_path, "10_alter.sql", "ALTER TABLE t ADD COLUMN b int;")
    url = create_database("mig")
    assert apply_migrations(url, tmp_path, log=lambda _m: None) == ["9_create.sql", "10_alter.sql"]
    with psycopg.connect(url) as conn:
        cols = conn.execute("SELECT column_name FROM information_schema.columns WHERE table_name='t'").fetchall()
    assert {c for (c,) in cols} == {"a", "b"}


def test_each_file_runs_once(tmp_path, create_database):
    _write(tmp_path, "001_a.sql", "CREATE TABLE once_only (a int); INSERT INTO once_only VALUES (1);")
    url = create_database("mig")
    assert apply_migrations(url, tmp_path, log=lambda _m: None) == ["001_a.sql"]
    assert apply_migrations(url, tmp_path, log=lambda _m: None) == []
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM once_only").fetchone() == (1,)
        ledger = conn.execute("SELECT version, name, length(checksum) FROM medallion_meta.schema_migrations").fetchall()
    assert ledger == [(1, "001_a.sql", 64)]


def test_changed_applied_file_is_refused_with_advice(tmp_path, create_database):
    _write(tmp_path, "001_a.sql", "CREATE TABLE a (x int);")
    url = create_database("mig")
    apply_migrations(url, tmp_path, log=lambda _m: None)
    _write(tmp_path, "001_a.sql", "CREATE TABLE a (x int, y int);")
    _write(tmp_path, "002_b.sql", "CREATE TABLE b (x int);")
    with pytest.raises(MigrationError) as refused:
        apply_migrations(url, tmp_path, log=lambda _m: None)
    assert "001_a.sql changed after it was applied" in str(refused.value)
    assert "new numbered file" in str(refused.value)
    assert "b" not in _tables(url)  # nothing after the refusal ran


def test_an_earlier_comment_only_revision_of_026_is_accepted(create_database):
    """Databases migrated at 179c420 recorded 026 with an edited header comment (restored later);
    they upgrade, and their ledger is brought to the current checksum. Any other checksum is
    still refused."""
    url = create_database("mig")
    apply_migrations(url, log=lambda _m: None)
    current = next(m.checksum for m in discover() if m.name == "026_fewer_per_row_checks.sql")
    ledger = "UPDATE medallion_meta.schema_migrations SET checksum = %s WHERE version = 26"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(ledger, ("98a985ee8340cd4edab74d0cdc00adddea22fcc8694fd1e43943c69dbf52598c",))
    logged: list[str] = []
    assert apply_migrations(url, log=logged.append) == []
    assert logged == ["recorded 026_fewer_per_row_checks.sql with its current checksum"
                      " (the applied revision differed in comments only)"]
    with psycopg.connect(url, autocommit=True) as conn:
        assert conn.execute("SELECT checksum FROM medallion_meta.schema_migrations WHERE version = 26"
                            ).fetchone() == (current,)
        conn.execute(ledger, ("0" * 64,))
    with pytest.raises(MigrationError, match="026_fewer_per_row_checks.sql changed after it was applied"):
        apply_migrations(url, log=lambda _m: None)


def test_failing_file_rolls_back_alone(tmp_path, create_database):
    _write(tmp_path, "001_ok.sql", "CREATE TABLE good (x int);")
    _write(tmp_path, "002_bad.sql", "CREATE TABLE half (x int); SELECT 1/0;")
    _write(tmp_path, "003_later.sql", "CREATE TABLE later (x int);")
    url = create_database("mig")
    with pytest.raises(MigrationError, match="002_bad.sql failed and was rolled back"):
        apply_migrations(url, tmp_path, log=lambda _m: None)
    assert _tables(url) == {"good"}  # 001 kept, 002 rolled back entirely, 003 not attempted
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT name FROM medallion_meta.schema_migrations").fetchall() == [("001_ok.sql",)]
    # Fixing the broken file lets the run continue from where it stopped.
    _write(tmp_path, "002_bad.sql", "CREATE TABLE half (x int);")
    assert apply_migrations(url, tmp_path, log=lambda _m: None) == ["002_bad.sql", "003_later.sql"]


def test_badly_named_and_duplicate_numbers_are_refused(tmp_path):
    _write(tmp_path, "001_a.sql", "")
    _write(tmp_path, "01_b.sql", "")
    with pytest.raises(MigrationError, match="share number 1"):
        discover(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    _write(other, "create_things.sql", "")
    with pytest.raises(MigrationError, match="<digits>_<name>.sql"):
        discover(other)


def test_project_migrations_apply_twice_cleanly(create_database):
    """The real files: apply on an empty database, then again (no-op)."""
    url = create_database("mig")
    applied = apply_migrations(url, log=lambda _m: None)
    assert applied == [m.name for m in discover(MIGRATIONS_DIR)]
    assert apply_migrations(url, log=lambda _m: None) == []
    assert {"cases", "bronze_at_raw", "bronze_wi_raw", "bronze_trt_raw", "bronze_interview_raw"} <= _tables(url)


LANDED = Path(__file__).with_name("landed_migrations.sha256")


def _landed() -> dict[str, str]:
    """name -> sha256 from tests/landed_migrations.sha256 (sha256sum's format; # comments)."""
    entries = {}
    for line in LANDED.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            digest, path = line.split(maxsplit=1)
            entries[Path(path).name] = digest
    return entries


def test_no_landed_migration_has_changed():
    """An edit to a migration that has landed makes every database migrated with it refuse to
    upgrade ("changed after it was applied"), and CI, starting from an empty database, would not
    notice. 026 was edited that way once (session 7 restored it)."""
    current = {m.name: m.checksum for m in discover()}
    changed = sorted(name for name, digest in _landed().items() if current.get(name) != digest)
    assert changed == [], (
        f"{changed} differ from tests/landed_migrations.sha256 (or are gone). A landed migration must"
        " never change, not even a comment: restore it and put the change in a new numbered migration."
        " Only if the file has not landed on main yet, update its line in the manifest.")


def test_every_migration_is_in_the_manifest():
    missing = sorted({m.name for m in discover()} - set(_landed()))
    assert missing == [], (
        f"{missing} are not in tests/landed_migrations.sha256: add a line for each"
        " (sha256sum supabase/migrations/NNN_name.sql >> tests/landed_migrations.sha256)")
