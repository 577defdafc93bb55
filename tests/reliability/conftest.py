"""Reliability scenarios (pytest -m reliability): one isolated stack for the module, see stack.py."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.reliability.stack import CASEHELPER_PASSWORD, TIPARSER_KEY, Stack
from tests.sandbox_fixtures import start_sandbox


def pytest_collection_modifyitems(items):
    # Everything here needs the stack, except the checkers' own unit tests (run by `make test`).
    for item in items:
        path = str(item.fspath).replace("\\", "/")
        if "tests/reliability/" in path and not path.endswith("/test_checkers.py"):
            item.add_marker(pytest.mark.reliability)


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    # Not under pytest's tmp_path: the embedded Postgres servers run as another user (root is not
    # allowed), and every pytest session on the machine resets /tmp/pytest-of-<user> to 0700 and
    # deletes all but its 3 newest numbered dirs, so a concurrent session took the data directory
    # away from a running server (pg_ctl "Permission denied", checkpointer PANIC on pg_control).
    root = Path(tempfile.mkdtemp(prefix="medallion-reliability-"))
    root.chmod(0o755)
    # Sandboxes that require this stack's distinctive secrets, so the secrets really travel and the
    # last scenario can search every log for them.
    secrets = {"SANDBOX_TIPARSER_API_KEY": TIPARSER_KEY, "SANDBOX_CASEHELPER_PASSWORD": CASEHELPER_PASSWORD}
    with start_sandbox(secrets) as sb:
        st = None
        try:
            st = Stack(root, sb)
            st.start_dagster()
            st.start_api()
            yield st
        finally:
            if st is not None:
                st.close()
            else:  # failed while starting: stop whichever Postgres had come up
                Stack._stop_postgres(SimpleNamespace(root=root, app_pg_dir=root / "pg-app"))
            if os.environ.get("RELIABILITY_KEEP_DIR"):
                print(f"\nreliability stack directory kept: {root}")
            else:
                shutil.rmtree(root, ignore_errors=True)
