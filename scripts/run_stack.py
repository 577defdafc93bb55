"""`make run`: the whole stack on one machine.

Starts Postgres (embedded unless DATABASE_URL is set), applies the migrations, starts the
TiParser and CaseHelper sandboxes (unless TIPARSER_URL / CASEHELPER_API_URL point elsewhere),
Dagster (`dagster dev`: UI, daemon, code server) and the FastAPI app, waits until each one
answers, and prints where everything is. Ctrl-C or SIGTERM stops every child, then Postgres.

Each child runs in its own process group so a terminal Ctrl-C reaches only this supervisor,
which then stops the children in reverse order and waits for them (no orphans, no stale
locks). Child output goes to var/log/<name>.log.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.app.config import PROJECT_ROOT, VAR_DIR, Settings, get_settings  # noqa: E402
from backend.app.db import embedded  # noqa: E402
from backend.app.db.location import resolve_database_url  # noqa: E402
from backend.app.db.migrate import MigrationError, apply_migrations  # noqa: E402
from backend.app.security import create_dev_token  # noqa: E402
from dagster_pipeline.instance import sqlalchemy_url, write_local_instance_config  # noqa: E402

LOG_DIR = VAR_DIR / "log"
START_TIMEOUT_S = 90
STOP_TIMEOUT_S = 20


def say(message: str) -> None:
    sys.stdout.write(message + "\n")
    sys.stdout.flush()


class Shutdown(Exception):
    """Raised from the signal handler so `finally` blocks run."""


@dataclass
class Child:
    name: str
    argv: list[str]
    health_url: str
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen | None = None

    @property
    def log_path(self) -> Path:
        return LOG_DIR / f"{self.name}.log"

    def start(self) -> None:
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child
        self.process = subprocess.Popen(
            self.argv,
            cwd=PROJECT_ROOT,
            env={**os.environ, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # own process group: Ctrl-C reaches only the supervisor
            # A child started from a script can inherit an ignored SIGINT, and `dagster dev`
            # then ignores SIGTERM too; give it default handlers.
            preexec_fn=_default_signal_handlers,
        )

    def stop(self) -> None:
        if not self.process or self.process.poll() is not None:
            return
        pgid = self.process.pid
        # dagster dev shuts its own children down cleanly on SIGINT; others take SIGTERM.
        try:
            os.killpg(pgid, signal.SIGINT if self.name == "dagster" else signal.SIGTERM)
            self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            say(f"  {self.name} did not stop in {STOP_TIMEOUT_S}s; killing its process group")
        except ProcessLookupError:
            pass
        # Whatever is left in the group (grandchildren) goes too.
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()

    def log_tail(self, lines: int = 25) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def _default_signal_handlers() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _children(settings: Settings, database_url: str, dagster_pg_url: str) -> list[Child]:
    py = sys.executable
    bin_dir = Path(py).parent
    env = {
        "DATABASE_URL": database_url,
        "DAGSTER_HOME": str(settings.dagster_home),
        "DAGSTER_POSTGRES_URL": dagster_pg_url,
        "DAGSTER_POSTGRES_URL_SQLALCHEMY": sqlalchemy_url(dagster_pg_url),
        "PYTHONUNBUFFERED": "1",
    }
    children: list[Child] = []
    if settings.tiparser_url is None:
        port = settings.sandbox_tiparser_port
        children.append(Child("tiparser-sandbox", [py, "-m", "sandbox", "tiparser", "--port", str(port)],
                              f"http://127.0.0.1:{port}/health", env))
    if settings.casehelper_api_url is None:
        port = settings.sandbox_casehelper_port
        children.append(Child("casehelper-sandbox", [py, "-m", "sandbox", "casehelper", "--port", str(port)],
                              f"http://127.0.0.1:{port}/health", env))
    children.append(Child(
        "dagster",
        [str(bin_dir / "dagster"), "dev", "-m", "dagster_pipeline",
         "-h", settings.dagster_host, "-p", str(settings.dagster_port)],
        f"http://{settings.dagster_host}:{settings.dagster_port}/server_info", env))
    children.append(Child(
        "api",
        [py, "-m", "uvicorn", "backend.app.main:app", "--host", settings.host, "--port", str(settings.port)],
        f"http://{settings.host}:{settings.port}/health", env))
    return children


def _wait_healthy(children: list[Child]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    pending = list(children)
    while pending:
        for child in list(pending):
            if child.process and child.process.poll() is not None:
                raise RuntimeError(f"{child.name} exited with code {child.process.returncode}. "
                                   f"Last lines of {child.log_path}:\n{child.log_tail()}")
            try:
                if httpx.get(child.health_url, timeout=2).status_code == 200:
                    say(f"  ready: {child.name:<20} {child.health_url}")
                    pending.remove(child)
            except httpx.HTTPError:
                pass
        if pending and time.monotonic() > deadline:
            names = ", ".join(c.name for c in pending)
            raise RuntimeError(f"not answering after {START_TIMEOUT_S}s: {names}. See var/log/*.log.")
        time.sleep(0.5)


def main() -> int:
    def on_signal(signum, _frame):
        raise Shutdown(signal.Signals(signum).name)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    LOG_DIR.mkdir(parents=True, exist_ok=True)

    settings = get_settings()
    children: list[Child] = []
    try:
        ports = [(settings.host, settings.port), (settings.dagster_host, settings.dagster_port)]
        if settings.tiparser_url is None:
            ports.append(("127.0.0.1", settings.sandbox_tiparser_port))
        if settings.casehelper_api_url is None:
            ports.append(("127.0.0.1", settings.sandbox_casehelper_port))
        busy = [f"{host}:{port}" for host, port in ports if not _port_free(host, port)]
        if busy:
            say(f"Port(s) already in use: {', '.join(busy)}. Is another `make run` still up? Stop it first.")
            return 1

        where = "DATABASE_URL" if settings.database_url else f"embedded, {settings.embedded_pg_dir}"
        say(f"Starting Postgres ({where}) ...")
        database_url = resolve_database_url(settings)
        dagster_pg_url = os.environ.get("DAGSTER_POSTGRES_URL") or (
            database_url if settings.database_url
            else embedded.ensure_database(embedded.start(settings.embedded_pg_dir), embedded.DAGSTER_DATABASE))
        try:
            applied = apply_migrations(database_url, log=lambda m: say(f"  {m}"))
        except MigrationError as exc:
            say(f"Migrations refused: {exc}")
            return 1
        say(f"  migrations: {len(applied)} applied, database up to date")
        write_local_instance_config(settings.dagster_home)

        children = _children(settings, database_url, dagster_pg_url)
        for child in children:
            child.start()
        say("Starting services (logs in var/log/) ...")
        _wait_healthy(children)

        token = create_dev_token(settings)
        say(
            "\nMedallion is up.\n"
            f"  API            http://{settings.host}:{settings.port}  (docs: /docs, health: /health)\n"
            f"  Dagster UI     http://{settings.dagster_host}:{settings.dagster_port}\n"
            f"  TiParser       {settings.tiparser_base_url}\n"
            f"  CaseHelper     {settings.casehelper_base_url}\n"
            f"  Database       {'DATABASE_URL' if settings.database_url else settings.embedded_pg_dir}\n"
            f"  Logs           {LOG_DIR}\n"
            f"\nDevelopment token (12 h):\n  export TOKEN={token}\n"
            f"  curl -H \"Authorization: Bearer $TOKEN\" http://{settings.host}:{settings.port}/api/cases\n"
            "\nCtrl-C stops everything."
        )
        while True:
            for child in children:
                if child.process and child.process.poll() is not None:
                    say(f"\n{child.name} exited with code {child.process.returncode}; stopping the stack.\n"
                        f"Last lines of {child.log_path}:\n{child.log_tail()}")
                    return 1
            time.sleep(1)
    except Shutdown as reason:
        say(f"\nReceived {reason}; stopping ...")
        return 0
    except RuntimeError as exc:
        say(f"\nStart-up failed: {exc}")
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the shutdown short
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for child in reversed(children):
            child.stop()
        if children:
            say("All services stopped.")
        # The embedded Postgres is stopped by its own atexit hook (last handle out).


if __name__ == "__main__":
    sys.exit(main())
