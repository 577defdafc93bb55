"""The monitoring checks pass on healthy data and fail, with a plain description, when their
property breaks. Each test uses a database of its own, since the checks read whole tables."""

from __future__ import annotations

import dagster as dg
import psycopg
import pytest
from psycopg.types.json import Jsonb

from backend.app.db.migrate import apply_migrations
from backend.app.services import data_saver
from dagster_pipeline.assets.monitoring_assets import monitoring_assets, monitoring_checks
from dagster_pipeline.resources.supabase_resource import SupabaseResource
from sandbox import data


@pytest.fixture
def healthy_db(create_database, tmp_path) -> str:
    url = create_database("medallion_monitoring")
    apply_migrations(url, log=lambda _m: None)
    with psycopg.connect(url) as conn:
        for case_id in ("1000001", "2000001"):
            for source, payload in (("at", data.at_payload(case_id)), ("wi", data.wi_payload(case_id)),
                                    ("interview", data.interview_payload(case_id))):
                data_saver.save_bronze(conn, source, case_id, payload)
    return url


def _checks(url: str, tmp_path) -> dict[str, dg.AssetCheckEvaluation]:
    # Without csed_status_refresh: it would recompute (and so repair) a planted bad CSED.
    assets = [a for a in monitoring_assets if a.key.path[-1] != "csed_status_refresh"]
    result = dg.materialize(
        [*assets, *monitoring_checks],
        resources={"supabase": SupabaseResource(database_url=url, pdf_local_dir=str(tmp_path))},
        raise_on_error=False,
    )
    assert result.success
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def test_checks_pass_on_healthy_data(healthy_db, tmp_path):
    checks = _checks(healthy_db, tmp_path)
    for name in ("bronze_cases_have_silver", "no_recent_transformation_errors", "interview_cases_have_gold",
                 "csed_sanity", "projection_sanity", "no_stuck_requests"):
        assert checks[name].passed, (name, checks[name].description)


def test_checks_fail_when_their_property_breaks(healthy_db, tmp_path):
    with psycopg.connect(healthy_db) as conn:
        # A CSED before its assessment date, a negative projected tax, and an AT payload that
        # cannot be promoted (bronze row without silver + an error row).
        conn.execute("UPDATE csed_assessments SET csed_date = assessment_date - 1"
                     " WHERE ctid = (SELECT min(ctid) FROM csed_assessments)")
        conn.execute("UPDATE tax_projections SET total_tax = -1 WHERE ctid = (SELECT min(ctid) FROM tax_projections)")
        conn.execute("INSERT INTO bronze_at_raw (case_id, raw_response) VALUES ('3999999', %s)",
                     (Jsonb({"at_records": "not a list"}),))
    checks = _checks(healthy_db, tmp_path)
    assert not checks["csed_sanity"].passed and "before the assessment" in checks["csed_sanity"].description
    assert not checks["projection_sanity"].passed
    assert not checks["bronze_cases_have_silver"].passed
    assert not checks["no_recent_transformation_errors"].passed
    assert checks["interview_cases_have_gold"].passed


def test_daily_csed_refresh_expires_statutes_that_have_run(healthy_db, tmp_path):
    """A year computed as `running` whose CSED has since passed becomes `expired` on the next
    daily refresh (simulated by moving the stored CSED into the past)."""
    with psycopg.connect(healthy_db) as conn:
        running = conn.execute("SELECT count(*) FROM tax_years WHERE csed_status = 'running'").fetchone()[0]
        assert running > 0
        conn.execute("UPDATE tax_years SET csed_status = 'running' WHERE csed_status = 'expired'")
        expected_expired = conn.execute(
            "SELECT count(*) FROM tax_years WHERE csed_date < current_date").fetchone()[0]
    result = dg.materialize(
        [m for m in monitoring_assets if m.key.path[-1] == "csed_status_refresh"],
        resources={"supabase": SupabaseResource(database_url=healthy_db, pdf_local_dir=str(tmp_path))},
    )
    meta = result.asset_materializations_for_node("csed_status_refresh")[0].metadata
    assert meta["cases_refreshed"].value == 2
    with psycopg.connect(healthy_db) as conn:
        expired = conn.execute("SELECT count(*) FROM tax_years WHERE csed_status = 'expired'").fetchone()[0]
    assert expired == expected_expired
    assert meta["newly_expired"].value == expected_expired
