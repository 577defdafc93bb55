"""Monitoring: three assets that measure the layers and the business functions, and asset
checks that turn the measurements into pass/fail (bronze without silver, transformation
errors, stale cases, stuck requests, CSED and projection sanity).

Each reads the schema engineers' monitoring views when they exist (bronze_silver_health,
silver_gold_health) and otherwise queries the tables directly. A table that does not exist
yet is reported, by name, as a failed check rather than crashing the job. Failing checks of
severity ERROR raise an alert (webhook + pipeline_alerts).
"""

import dagster as dg
import psycopg

from backend.app.config import get_settings
from dagster_pipeline.alerts import Alert, send_alert
from dagster_pipeline.assets.layer_specs import GOLD, SILVER
from dagster_pipeline.resources.supabase_resource import SupabaseResource
from dagster_pipeline.settings import get_pipeline_settings

BRONZE_TO_SILVER = {
    "at": "tax_years",
    "wi": "income_documents",
    "trt": "trt_records",
    "interview": "logiqs_raw_data",
}


def _count(conn: psycopg.Connection, table: str) -> tuple[int, int]:
    """(rows, distinct cases) of a table."""
    rows, cases = conn.execute(f"SELECT count(*), count(DISTINCT case_id) FROM public.{table}").fetchone()  # noqa: S608
    return int(rows), int(cases)


def _view_md(conn: psycopg.Connection, view: str, limit: int = 50) -> dg.MetadataValue:
    with conn.cursor() as cur:
        cur.execute(f"SELECT * FROM public.{view} LIMIT {limit}")  # noqa: S608
        cols = [d.name for d in cur.description or []]
        rows = cur.fetchall()
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join("" if v is None else str(v) for v in r) + " |" for r in rows]
    return dg.MetadataValue.md("\n".join(lines))


def _layer_counts(conn: psycopg.Connection, tables: list[str]) -> dict:
    meta: dict = {}
    for t in tables:
        meta[f"{t}_rows"], meta[f"{t}_cases"] = _count(conn, t)
    return meta


# ------------------------------------------------------------------------------------------
# Assets
# ------------------------------------------------------------------------------------------


@dg.asset(
    group_name="monitoring",
    kinds={"postgres"},
    deps=[f"bronze_{s}_data" for s in BRONZE_TO_SILVER] + list(SILVER),
)
def monitor_bronze_silver_health(supabase: SupabaseResource) -> dg.MaterializeResult:
    """Rows and cases per bronze and silver table, and transformation errors of the last 24 h."""
    with supabase.connect() as conn:
        meta = _layer_counts(conn, [f"bronze_{s}_raw" for s in BRONZE_TO_SILVER] + list(SILVER))
        meta["transformation_errors_24h"] = int(
            conn.execute(
                "SELECT count(*) FROM public.transformation_errors"
                " WHERE created_at > now() - interval '24 hours'"
            ).fetchone()[0]
        )
        meta["bronze_silver_health"] = _view_md(conn, "bronze_silver_health")
    return dg.MaterializeResult(metadata=meta)


@dg.asset(group_name="monitoring", kinds={"postgres"}, deps=list(SILVER) + list(GOLD))
def monitor_silver_gold_health(supabase: SupabaseResource) -> dg.MaterializeResult:
    """Rows and cases per gold table against the silver tables they come from."""
    with supabase.connect() as conn:
        meta = _layer_counts(conn, list(GOLD))
        meta["silver_gold_health"] = _view_md(conn, "silver_gold_health")
    return dg.MaterializeResult(metadata=meta)


CSED_REFRESH_BATCH = 500


@dg.asset(group_name="monitoring", kinds={"postgres"}, deps=["csed_assessments", "csed_tolling_events"])
def csed_status_refresh(supabase: SupabaseResource) -> dg.MaterializeResult:
    """Recompute every case's CSED status as of today. The triggers compute it when a transcript
    arrives, so without this a year would stay `running` after its statute expired."""
    with supabase.connect() as conn:
        before = dict(conn.execute("SELECT csed_status, count(*) FROM public.tax_years GROUP BY 1").fetchall())
        cases = [c for (c,) in conn.execute("SELECT DISTINCT case_id FROM public.tax_years ORDER BY 1")]
        # csed_refresh_set: one set of statements for many cases (migration 027); a commit per
        # batch keeps each transaction short on a large table
        for start in range(0, len(cases), CSED_REFRESH_BATCH):
            conn.execute("SELECT public.csed_refresh_set(%s::text[])", (cases[start:start + CSED_REFRESH_BATCH],))
            conn.commit()
        after = dict(conn.execute("SELECT csed_status, count(*) FROM public.tax_years GROUP BY 1").fetchall())
    return dg.MaterializeResult(metadata={
        "cases_refreshed": len(cases),
        **{f"years_{status}": int(n) for status, n in after.items()},
        "newly_expired": max(0, int(after.get("expired", 0)) - int(before.get("expired", 0))),
    })


@dg.asset(group_name="monitoring", kinds={"postgres"},
          deps=["csed_assessments", "tax_projections", "csed_status_refresh"])
def monitor_business_functions(supabase: SupabaseResource) -> dg.MaterializeResult:
    """Extraction requests and per-source states of the last 24 h, alerts, CSED and projections."""
    with supabase.connect() as conn:
        meta: dict = {}
        for status, n in conn.execute(
            "SELECT status, count(*) FROM public.extraction_requests"
            " WHERE requested_at > now() - interval '24 hours' GROUP BY status"
        ).fetchall():
            meta[f"requests_24h_{status}"] = int(n)
        for source, state, n in conn.execute(
            "SELECT source, state, count(*) FROM public.case_ingestion_status GROUP BY source, state"
        ).fetchall():
            meta[f"{source}_{state}"] = int(n)
        meta["alerts_24h"] = int(
            conn.execute(
                "SELECT count(*) FROM public.pipeline_alerts WHERE created_at > now() - interval '24 hours'"
            ).fetchone()[0]
        )
        for table in ("csed_assessments", "tax_projections"):
            meta[f"{table}_rows"] = _count(conn, table)[0]
        # Exercise the business functions the API relies on, on the most recently touched cases.
        recent = [r[0] for r in conn.execute(
            "SELECT case_id FROM public.cases ORDER BY updated_at DESC LIMIT 20").fetchall()]
        statuses: dict[str, int] = {}
        mdi_values = []
        for case_id in recent:
            summary = conn.execute("SELECT public.get_case_summary(%s)", (case_id,)).fetchone()[0]
            statuses[summary["status"]] = statuses.get(summary["status"], 0) + 1
            mdi = conn.execute("SELECT disposable_income FROM public.calculate_disposable_income(%s)",
                               (case_id,)).fetchone()
            if mdi and mdi[0] is not None:
                mdi_values.append(float(mdi[0]))
        meta["sampled_cases"] = len(recent)
        meta.update({f"sampled_status_{k}": v for k, v in statuses.items()})
        meta["sampled_cases_with_mdi"] = len(mdi_values)
        if mdi_values:
            meta["sampled_mdi_median"] = sorted(mdi_values)[len(mdi_values) // 2]
    return dg.MaterializeResult(metadata=meta)


# ------------------------------------------------------------------------------------------
# Checks
# ------------------------------------------------------------------------------------------


def _result(
    conn: psycopg.Connection,
    check: str,
    passed: bool,
    description: str,
    *,
    metadata: dict | None = None,
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
) -> dg.AssetCheckResult:
    if not passed and severity == dg.AssetCheckSeverity.ERROR:
        settings = get_settings()
        send_alert(
            conn,
            Alert("health_check", f"{check}: {description}", severity="error"),
            settings.alert_webhook_url,
        )
        conn.commit()
    return dg.AssetCheckResult(
        passed=passed, severity=severity, description=description, metadata=metadata or {}
    )


@dg.asset_check(asset=monitor_bronze_silver_health, description="Every case with bronze has silver rows.")
def bronze_cases_have_silver(supabase: SupabaseResource) -> dg.AssetCheckResult:
    with supabase.connect() as conn:
        counts: dict[str, int] = {}
        examples: list[str] = []
        for source, silver in BRONZE_TO_SILVER.items():
            # Only payloads that carry something: an AT body with no records legitimately yields nothing.
            rows = conn.execute(
                f"SELECT DISTINCT b.case_id FROM public.bronze_{source}_raw b"  # noqa: S608
                f" WHERE b.raw_response::text NOT IN ('{{}}', '[]', 'null')"
                f" AND NOT EXISTS (SELECT 1 FROM public.{silver} s WHERE s.case_id = b.case_id) LIMIT 1000"
            ).fetchall()
            counts[source] = len(rows)
            examples += [f"{source}:{r[0]}" for r in rows[:5]]
        total = sum(counts.values())
        return _result(
            conn,
            "bronze_cases_have_silver",
            total == 0,
            "all bronze cases reached silver"
            if total == 0
            else f"{total} case/source pair(s) have bronze rows but no silver rows",
            metadata={
                **{f"{s}_cases_without_silver": n for s, n in counts.items()},
                "examples": ", ".join(examples),
            },
        )


@dg.asset_check(asset=monitor_bronze_silver_health, description="No transformation errors in the last 24 h.")
def no_recent_transformation_errors(supabase: SupabaseResource) -> dg.AssetCheckResult:
    with supabase.connect() as conn:
        rows = conn.execute(
            "SELECT table_name, count(*), max(message) FROM public.transformation_errors"
            " WHERE created_at > now() - interval '24 hours' GROUP BY table_name ORDER BY 2 DESC"
        ).fetchall()
        total = sum(int(r[1]) for r in rows)
        return _result(
            conn,
            "no_recent_transformation_errors",
            total == 0,
            "no transformation errors in 24 h"
            if total == 0
            else f"{total} transformation error(s) in 24 h, e.g. {rows[0][0]}: {rows[0][2]}",
            metadata={f"{r[0]}": int(r[1]) for r in rows},
            severity=dg.AssetCheckSeverity.WARN,
        )


@dg.asset_check(asset=monitor_silver_gold_health, description="Cases with an interview in silver reach gold.")
def interview_cases_have_gold(supabase: SupabaseResource) -> dg.AssetCheckResult:
    with supabase.connect() as conn:
        n = int(
            conn.execute(
                "SELECT count(DISTINCT l.case_id) FROM public.logiqs_raw_data l WHERE NOT EXISTS"
                " (SELECT 1 FROM public.employment_information e WHERE e.case_id = l.case_id)"
            ).fetchone()[0]
        )
        return _result(
            conn,
            "interview_cases_have_gold",
            n == 0,
            "every interview reached gold" if n == 0 else f"{n} case(s) in silver are missing in gold",
            metadata={"cases_without_gold": n},
        )


@dg.asset_check(asset=monitor_business_functions, description="Active cases were extracted recently.")
def no_stale_cases(supabase: SupabaseResource) -> dg.AssetCheckResult:
    s = get_pipeline_settings()
    with supabase.connect() as conn:
        rows = conn.execute(
            "SELECT r.case_id FROM (SELECT DISTINCT case_id FROM public.extraction_requests"
            "   WHERE requested_at > now() - make_interval(days => %s)) r"
            " WHERE NOT EXISTS (SELECT 1 FROM public.bronze_at_raw b WHERE b.case_id = r.case_id"
            "   AND b.inserted_at > now() - make_interval(days => %s))"
            " AND NOT EXISTS (SELECT 1 FROM public.case_ingestion_status c WHERE c.case_id = r.case_id"
            "   AND c.source = 'at' AND c.state IN ('unchanged', 'no_data')"
            "   AND c.updated_at > now() - make_interval(days => %s)) LIMIT 1000",
            (s.refresh_active_days, s.stale_case_days, s.stale_case_days),
        ).fetchall()
        return _result(
            conn,
            "no_stale_cases",
            not rows,
            "no stale active cases"
            if not rows
            else f"{len(rows)} active case(s) not extracted in {s.stale_case_days} days",
            metadata={"stale_cases": len(rows), "examples": ", ".join(r[0] for r in rows[:10])},
            severity=dg.AssetCheckSeverity.WARN,
        )


@dg.asset_check(asset=monitor_business_functions, description="No extraction request is stuck.")
def no_stuck_requests(supabase: SupabaseResource) -> dg.AssetCheckResult:
    with supabase.connect() as conn:
        rows = conn.execute(
            "SELECT case_id, status, dagster_run_id FROM public.extraction_requests"
            " WHERE (status = 'queued' AND requested_at < now() - interval '15 minutes')"
            "    OR (status IN ('submitted', 'running') AND updated_at < now() - interval '60 minutes')"
            " LIMIT 100"
        ).fetchall()
        return _result(
            conn,
            "no_stuck_requests",
            not rows,
            "no stuck requests"
            if not rows
            else f"{len(rows)} request(s) stuck (queued > 15 min or running > 60 min); is the Dagster "
            "daemon up?",
            metadata={"stuck": len(rows), "examples": ", ".join(f"{r[0]} ({r[1]})" for r in rows[:10])},
        )


@dg.asset_check(asset=monitor_business_functions, description="CSED dates are plausible.")
def csed_sanity(supabase: SupabaseResource) -> dg.AssetCheckResult:
    with supabase.connect() as conn:
        # A CSED is 10 years after assessment, extended by tolling; before the assessment or more than
        # 20 years after it is a calculation error.
        bad = conn.execute(
            "SELECT count(*) FROM public.csed_assessments WHERE csed_date IS NOT NULL"
            " AND (csed_date < assessment_date OR csed_date > assessment_date + interval '20 years')"
        ).fetchone()[0]
        total = conn.execute("SELECT count(*) FROM public.csed_assessments").fetchone()[0]
        return _result(
            conn,
            "csed_sanity",
            bad == 0,
            f"{total} CSED rows plausible"
            if bad == 0
            else f"{bad} CSED date(s) before the assessment or > 20 years after it",
            metadata={"rows": int(total), "implausible": int(bad)},
        )


@dg.asset_check(asset=monitor_business_functions, description="Tax projections are plausible.")
def projection_sanity(supabase: SupabaseResource) -> dg.AssetCheckResult:
    with supabase.connect() as conn:
        nonneg = ["total_income", "se_tax", "taxable_income", "income_tax", "total_tax", "total_withholding"]
        cond = " OR ".join(f"{c} < 0" for c in nonneg)
        bad = conn.execute(f"SELECT count(*) FROM public.tax_projections WHERE {cond}").fetchone()[0]  # noqa: S608
        total = conn.execute("SELECT count(*) FROM public.tax_projections").fetchone()[0]
        return _result(
            conn,
            "projection_sanity",
            bad == 0,
            f"{total} projections plausible"
            if bad == 0
            else f"{bad} projection(s) with negative amounts in {', '.join(nonneg)}",
            metadata={"rows": int(total), "implausible": int(bad), "checked_columns": ", ".join(nonneg)},
        )


monitoring_assets = [
    monitor_bronze_silver_health, monitor_silver_gold_health, csed_status_refresh, monitor_business_functions,
]
monitoring_checks = [
    bronze_cases_have_silver,
    no_recent_transformation_errors,
    interview_cases_have_gold,
    no_stale_cases,
    no_stuck_requests,
    csed_sanity,
    projection_sanity,
]
