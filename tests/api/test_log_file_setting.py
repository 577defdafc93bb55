"""LOG_FILE chooses the rotating JSON log file (empty: stdout only)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from backend.app.config import PROJECT_ROOT

_SCRIPT = ("import logging, backend.app.main; from backend.app.logging_config import get_logger;"
           " get_logger('probe').warning('hello');"
           " print(sorted(type(h).__name__ for h in logging.getLogger('medallion').handlers))")


def _run(log_file: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LOG_FILE": log_file, "PYTHONPATH": str(PROJECT_ROOT)}
    return subprocess.run([sys.executable, "-c", _SCRIPT], cwd=PROJECT_ROOT, env=env, capture_output=True,
                          text=True, timeout=120, check=True)


def test_log_lines_go_to_the_configured_file(tmp_path: Path) -> None:
    target = tmp_path / "logs" / "api.log"
    result = _run(str(target))
    line = json.loads(target.read_text().strip().splitlines()[-1])
    assert line["msg"] == "hello" and line["logger"] == "medallion.probe"
    assert '"msg": "hello"' in result.stdout  # stdout still gets every line


def test_an_empty_log_file_setting_logs_to_stdout_only() -> None:
    result = _run("")
    assert '"msg": "hello"' in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "['StreamHandler']"
