"""The API test fixtures (real app, real pool, FakeSubmitter for Dagster) for the fuzz package."""

from tests.api.conftest import api, auth, client, settings, submitter, token  # noqa: F401
