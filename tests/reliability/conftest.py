"""Reliability scenarios (pytest -m reliability): one isolated stack for the module, see stack.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.reliability.stack import Stack
from tests.sandbox_fixtures import start_sandbox


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/reliability/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.reliability)


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    with start_sandbox() as sb:
        st = Stack(tmp_path_factory.mktemp("reliability"), sb)
        try:
            st.start_dagster()
            st.start_api()
            yield st
        finally:
            st.close()
