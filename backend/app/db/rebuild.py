"""`make rebuild [CASE=<id>]`: re-derive silver and gold from the latest bronze row of each
source (SQL function rebuild_from_bronze), e.g. after a rule table changed."""

from __future__ import annotations

import sys

import psycopg

from backend.app.config import get_settings
from backend.app.db.location import resolve_database_url


def main(argv: list[str]) -> int:
    case_id = argv[0] if argv else None
    if case_id is not None and not (case_id.isdigit() and 1 <= len(case_id) <= 12):
        sys.stderr.write(f"case id must be 1 to 12 digits, got {case_id!r}\n")
        return 2
    with psycopg.connect(resolve_database_url(get_settings())) as conn:
        rows = conn.execute("SELECT source, case_id, ok FROM public.rebuild_from_bronze(%s)", (case_id,)).fetchall()
    failed = [(source, case) for source, case, ok in rows if not ok]
    sys.stdout.write(f"rebuilt {len(rows)} source(s) across {len({c for _, c, _ in rows})} case(s); "
                     f"{len(failed)} failed (see transformation_errors)\n")
    for source, case in failed:
        sys.stdout.write(f"  failed: case {case} source {source}\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
