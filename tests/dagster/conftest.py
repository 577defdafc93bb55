"""Fixtures for the pipeline tests: real Postgres (tests/conftest.py), real sandbox HTTP
services (tests/sandbox_fixtures.py), real resources with small timeouts and backoff."""

from collections.abc import Iterator

import dagster as dg
import psycopg
import pytest

from dagster_pipeline.assets.bronze_assets import bronze_case_extraction, case_batch_run_config
from dagster_pipeline.resources.casehelper_resource import CaseHelperResource
from dagster_pipeline.resources.supabase_resource import SupabaseResource
from dagster_pipeline.resources.tiparser_resource import TiParserResource


def make_resources(sandbox, database_url: str, tmp_path=None, read_timeout: float = 1.5) -> dict:
    return {
        "supabase": SupabaseResource(
            database_url=database_url, pdf_local_dir=str(tmp_path or "/tmp/medallion-test-pdfs")
        ),
        "tiparser": TiParserResource(
            base_url=sandbox.tiparser_url,
            api_key=sandbox.tiparser_api_key,
            connect_timeout=1,
            read_timeout=read_timeout,
            max_retries=3,
            backoff_base=0.05,
        ),
        "casehelper": CaseHelperResource(
            base_url=sandbox.casehelper_url,
            username=sandbox.casehelper_username,
            password=sandbox.casehelper_password,
            app_type=sandbox.casehelper_app_type,
            timeout=read_timeout,
            connect_timeout=1,
            max_retries=3,
            backoff_base=0.05,
        ),
    }


@pytest.fixture
def resources(sandbox_reset, database_url, tmp_path) -> dict:
    return make_resources(sandbox_reset, database_url, tmp_path)


@pytest.fixture
def conn(database_url) -> Iterator[psycopg.Connection]:
    with psycopg.connect(database_url, autocommit=True) as c:
        yield c


def materialize_cases(
    resources: dict, case_ids: list[str], request_ids=None, instance: dg.DagsterInstance | None = None
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [bronze_case_extraction],
        resources=resources,
        instance=instance,
        run_config=case_batch_run_config(case_ids, request_ids),
        raise_on_error=False,
        tags={"case_id": case_ids[0]} if len(case_ids) == 1 else {},
    )


def reset_case(conn: psycopg.Connection, *case_ids: str) -> None:
    """Fixed sandbox case ids are shared by tests: start each from a clean case."""
    for case_id in case_ids:
        conn.execute("DELETE FROM public.cases WHERE case_id = %s", (case_id,))
