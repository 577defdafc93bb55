"""Reliability scenarios (pytest -m reliability): one isolated stack for the module, see stack.py."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.reliability.stack import Stack
from tests.sandbox_fixtures import start_sandbox


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/reliability/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.reliability)


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    # Not under pytest's tmp_path: the embedded Postgres servers run as another user (root is not
    # allowed), and every pytest session on the machine resets /tmp/pytest-of-<user> to 0700 and
    # deletes all but its 3 newest numbered dirs, so a concurrent session took the data directory
    # away from a running server (pg_ctl "Permission denied", checkpointer PANIC on pg_control).
    root = Path(tempfile.mkdtemp(prefix="medallion-reliability-"))
    root.chmod(0o755)
    with start_sandbox() as sb:
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
