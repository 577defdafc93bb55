"""Does one case's promotion get slower as the tables fill? (docs/05 section 7)

Loads --stored cases in bulk into a scratch database, ANALYZEs, then ingests --single cases one
at a time (four payloads, one transaction each, as bench_triggers does) and reports the median
beside the median measured with only 20 cases stored, plus the tuples read by sequential scans
per case and, with --explain, which statements inside the bronze INSERT scanned a silver or gold
table sequentially (auto_explain at NOTICE level on the ingesting connection).

    python -m bench.probe_table_growth --stored 1000 --single 15 --explain
"""

from __future__ import annotations

import argparse
import collections
import re
import sys
import time
from pathlib import Path

import psycopg

from bench.bench_triggers import SOURCES, _bulk, _case_ids, _insert, _payloads, _single
from bench.common import median, scratch_database

SILVER_GOLD = ("income_documents", "tax_years", "account_activity", "monthly_expenses", "tax_projections",
               "logiqs_raw_data", "employment_information", "csed_assessments", "csed_tolling_events")


def _seq_tuples(url: str) -> int:
    time.sleep(0.6)  # the statistics collector flushes about every 0.5 s
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute("SELECT coalesce(sum(seq_tup_read), 0) FROM pg_stat_user_tables").fetchone()[0]


def _explained_seq_scans(url: str, case_id: str) -> collections.Counter:
    notices: list[str] = []
    with psycopg.connect(url) as conn:
        conn.add_notice_handler(lambda d: notices.append(d.message_primary or ""))
        conn.execute("LOAD 'auto_explain'")
        for setting in ("auto_explain.log_min_duration = 0", "auto_explain.log_nested_statements = on",
                        "auto_explain.log_level = notice", "client_min_messages = notice"):
            conn.execute(f"SET {setting}")
        rows = _payloads([case_id])
        for source in SOURCES:
            _insert(conn, f"bronze_{source}_raw", rows[source])
        conn.commit()
    found: collections.Counter = collections.Counter()
    for plan in notices:
        for m in re.finditer(r"Seq Scan on (\w+)", plan):
            if m.group(1) in SILVER_GOLD:
                query = re.search(r"Query Text: (.*)", plan)
                found[(m.group(1), (query.group(1) if query else "?")[:140])] += 1
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stored", type=int, default=1000)
    parser.add_argument("--single", type=int, default=15)
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--migrations", type=Path, help="another directory of migrations (e.g. an older set)")
    args = parser.parse_args(argv)
    with scratch_database(args.migrations) as url:
        _bulk(url, _case_ids(7_100_000, 20), triggers=True)
        small = _single(url, _case_ids(7_150_000, args.single), triggers=True)
        for start in range(0, args.stored, 250):
            _bulk(url, _case_ids(7_300_000 + start, min(250, args.stored - start)), triggers=True)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("ANALYZE")
        before = _seq_tuples(url)
        large = _single(url, _case_ids(7_500_000, args.single), triggers=True)
        per_case = (_seq_tuples(url) - before) / args.single
        sys.stdout.write(f"single case, median: {median(small):.1f} ms with 20 cases stored, "
                         f"{median(large):.1f} ms with {args.stored + 20} stored; "
                         f"{per_case:,.0f} tuples read by sequential scans per case\n")
        if args.explain:
            for (table, query), n in _explained_seq_scans(url, "7600001").most_common(15):
                sys.stdout.write(f"{n:3d}  {table}: {query}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
