"""Apply `supabase/migrations/*.sql` in numeric order, each file once, each in its own
transaction, recorded with its checksum in `medallion_meta.schema_migrations`.

A file that was applied and then edited is refused: applied migrations are history, so a
change goes into a new numbered file. (The one exception, `_EARLIER_CHECKSUMS`, is a revision
that differed in comments only and that some databases recorded.) The same files apply to a real
Supabase project with `supabase db push` (they guard Supabase-only objects themselves).

    python -m backend.app.db.migrate            # apply what is pending
    python -m backend.app.db.migrate --status   # list applied / pending
    python -m backend.app.db.migrate --reset    # drop the app schema and re-apply (local only)
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import psycopg

from backend.app.config import PROJECT_ROOT, get_settings

MIGRATIONS_DIR = PROJECT_ROOT / "supabase" / "migrations"
_FILE_NAME = re.compile(r"^(\d+)_[\w.-]+\.sql$")
# One runner at a time per database (the API, Dagster and `make migrate` may start together).
_ADVISORY_LOCK_KEY = 7_202_611_260


# Checksums that some databases recorded for an earlier revision of a file that differed from it
# in comments only. 026's header comment was edited after it had landed (aee0124, landed at
# 179c420) and then restored (9beba7a): databases migrated in between recorded the edited bytes,
# and without this entry could not upgrade.
_EARLIER_CHECKSUMS: dict[str, frozenset[str]] = {
    "026_fewer_per_row_checks.sql": frozenset({"98a985ee8340cd4edab74d0cdc00adddea22fcc8694fd1e43943c69dbf52598c"}),
}


class MigrationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: bytes  # read once, so what runs is exactly what the checksum describes

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql).hexdigest()

    def was_applied_as(self, recorded: str) -> bool:
        """The ledger's checksum is this file's, or an earlier comment-only revision's."""
        return recorded == self.checksum or recorded in _EARLIER_CHECKSUMS.get(self.name, frozenset())


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    migrations: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _FILE_NAME.match(path.name)
        if not match:
            raise MigrationError(f"{path.name}: migration files are named <digits>_<name>.sql")
        version = int(match.group(1))
        if version in migrations:
            raise MigrationError(f"{path.name} and {migrations[version].name} share number {version}")
        migrations[version] = Migration(version, path.name, path.read_bytes())
    return [migrations[v] for v in sorted(migrations)]


def _ensure_ledger(conn: psycopg.Connection) -> None:
    conn.execute("CREATE SCHEMA IF NOT EXISTS medallion_meta")
    conn.execute(
        """CREATE TABLE IF NOT EXISTS medallion_meta.schema_migrations (
               version    integer PRIMARY KEY,
               name       text NOT NULL,
               checksum   text NOT NULL,
               applied_at timestamptz NOT NULL DEFAULT now())"""
    )


def applied(conn: psycopg.Connection) -> dict[int, tuple[str, str]]:
    rows = conn.execute("SELECT version, name, checksum FROM medallion_meta.schema_migrations").fetchall()
    return {version: (name, checksum) for version, name, checksum in rows}


def _say(message: str, stream=sys.stdout) -> None:
    stream.write(message + "\n")


def apply_migrations(database_url: str, directory: Path = MIGRATIONS_DIR, *, log=_say) -> list[str]:
    """Apply pending migrations; return the names applied. Raises MigrationError on refusal."""
    migrations = discover(directory)
    done: list[str] = []
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_ADVISORY_LOCK_KEY,))
        try:
            _ensure_ledger(conn)
            ledger = applied(conn)
            for migration in migrations:
                if migration.version in ledger:
                    name, checksum = ledger[migration.version]
                    if not migration.was_applied_as(checksum):
                        raise MigrationError(
                            f"supabase/migrations/{migration.name} changed after it was applied "
                            f"(as {name}). Applied migrations are history: undo the edit and put the "
                            "change in a new numbered file. On a local database, `make reset-db` "
                            "rebuilds everything from the current files."
                        )
                    if checksum != migration.checksum:
                        conn.execute("UPDATE medallion_meta.schema_migrations SET checksum = %s WHERE version = %s",
                                     (migration.checksum, migration.version))
                        log(f"recorded {migration.name} with its current checksum (the applied revision "
                            "differed in comments only)")
                    continue
                try:
                    with conn.transaction():
                        conn.execute(migration.sql.decode("utf-8"))
                        conn.execute(
                            "INSERT INTO medallion_meta.schema_migrations (version, name, checksum)"
                            " VALUES (%s, %s, %s)",
                            (migration.version, migration.name, migration.checksum),
                        )
                except psycopg.Error as exc:
                    raise MigrationError(
                        f"supabase/migrations/{migration.name} failed and was rolled back "
                        f"(earlier files stay applied): {exc}"
                    ) from exc
                log(f"applied {migration.name}")
                done.append(migration.name)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_ADVISORY_LOCK_KEY,))
    return done


def reset(database_url: str) -> None:
    """Drop everything the migrations created in this database (schemas public and medallion_meta)."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS medallion_meta CASCADE")
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")
        conn.execute("GRANT ALL ON SCHEMA public TO public")


def main(argv: list[str] | None = None) -> int:
    from backend.app.db.location import resolve_database_url

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reset", action="store_true", help="drop the schema and re-apply every migration")
    parser.add_argument("--status", action="store_true", help="show applied and pending migrations")
    args = parser.parse_args(argv)

    settings = get_settings()
    url = resolve_database_url(settings)
    try:
        if args.reset:
            if not settings.is_local:
                _say("reset-db refuses to run outside ENVIRONMENT=local/test.", sys.stderr)
                return 2
            reset(url)
            _say("schema dropped")
        if args.status:
            with psycopg.connect(url, autocommit=True) as conn:
                _ensure_ledger(conn)
                ledger = applied(conn)
            for migration in discover():
                if migration.version not in ledger:
                    state = "pending"
                elif not migration.was_applied_as(ledger[migration.version][1]):
                    state = "CHANGED since applied"
                else:
                    state = "applied"
                _say(f"{state:<22} {migration.name}")
            return 0
        names = apply_migrations(url)
        _say(f"{len(names)} migration(s) applied; database is up to date.")
        return 0
    except MigrationError as exc:
        _say(f"migration refused: {exc}", sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
