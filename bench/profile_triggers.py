"""Function profile of the bronze -> silver -> gold triggers (docs/05 section 1).

A scratch database, `track_functions = 'all'`, payloads of N sandbox cases inserted source by
source (one statement per source, or one transaction per case with --single), then
pg_stat_user_functions: calls, total ms (callees included) and self ms.

    python -m bench.profile_triggers [--cases 20] [--single | --per-source] [--top 40] [--migrations DIR]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import psycopg

from bench.bench_triggers import SOURCES, _case_ids, _insert, _payloads, _warm_up
from bench.common import scratch_database


def profile(cases: int, single: bool, top: int, migrations: Path | None, per_source: bool = False) -> str:
    out = []
    with scratch_database(migrations) as url:
        with psycopg.connect(url) as conn:
            _warm_up(conn)
            conn.execute("SET track_functions = 'all'")
            conn.execute("SELECT pg_stat_reset()")
            conn.commit()
            ids = _case_ids(7_300_000, cases)
            rows = _payloads(ids)
            started = time.perf_counter()
            if single:
                for case_id in ids:
                    for source in SOURCES:
                        _insert(conn, f"bronze_{source}_raw", [r for r in rows[source] if r[0] == case_id])
                    conn.commit()
            else:
                for source in SOURCES:
                    if per_source:
                        conn.execute("SELECT pg_stat_reset()")
                        conn.commit()
                    t = time.perf_counter()
                    _insert(conn, f"bronze_{source}_raw", rows[source])
                    out.append(f"{source:10s} {1000 * (time.perf_counter() - t):8.1f} ms")
                    if per_source:  # function counters reach the view when the transaction ends
                        conn.execute("SELECT pg_stat_force_next_flush()")
                        conn.commit()
                        conn.execute("SELECT pg_stat_clear_snapshot()")
                        for name, calls, total, self_ in conn.execute(
                                "SELECT funcname, calls, total_time, self_time FROM pg_stat_user_functions"
                                " WHERE schemaname = 'public' ORDER BY total_time DESC LIMIT %s", (top,)):
                            out.append(f"    {name:40s} {calls:7d} {total:10.1f} {self_:10.1f}")
                conn.commit()
            elapsed = time.perf_counter() - started
            out.append(f"{cases} cases, {'one transaction per case' if single else 'one statement per source'}: "
                       f"{elapsed * 1000:.0f} ms, {cases / elapsed:.1f} cases/s")
            conn.execute("SELECT pg_stat_force_next_flush()") if conn.info.server_version >= 150000 else None
            conn.commit()
            stats = conn.execute(
                "SELECT funcname, calls, total_time, self_time FROM pg_stat_user_functions"
                " WHERE schemaname = 'public' ORDER BY total_time DESC LIMIT %s", (top,)).fetchall()
            errors = conn.execute("SELECT count(*) FROM transformation_errors").fetchone()[0]
    out.append(f"transformation errors: {errors}")
    out.append(f"{'function':40s} {'calls':>7s} {'total ms':>10s} {'self ms':>10s}")
    for name, calls, total, self_ in stats:
        out.append(f"{name:40s} {calls:7d} {total:10.1f} {self_:10.1f}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=20)
    parser.add_argument("--single", action="store_true")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--migrations", type=Path, default=None)
    parser.add_argument("--per-source", action="store_true", help="bulk: a profile per source statement")
    args = parser.parse_args(argv)
    sys.stdout.write(profile(args.cases, args.single, args.top, args.migrations, args.per_source) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
