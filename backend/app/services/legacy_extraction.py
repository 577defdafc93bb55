"""The older synchronous extraction path, kept for when Dagster is down: fetch the four
sources of a case concurrently with the pipeline's own upstream clients, store each raw
answer through services/data_saver.py (the SQL triggers build silver and gold), and record
each source's state in case_ingestion_status so the status endpoint shows it."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from psycopg_pool import ConnectionPool

from backend.app.config import Settings
from backend.app.errors import FeatureUnavailable
from backend.app.logging_config import get_logger
from backend.app.services import data_saver
from backend.app.services.case_status import plain_error

log = get_logger("legacy_extraction")
SOURCES = ("at", "wi", "trt", "interview")


class LegacyExtractor:
    def __init__(self, pool: ConnectionPool, settings: Settings) -> None:
        self.pool = pool
        self.settings = settings
        self._clients: tuple[Any, Any] | None = None
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="legacy-extract")

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        if self._clients:
            for client in self._clients:
                client.close()

    def _get_clients(self) -> tuple[Any, Any]:
        with self._lock:
            if self._clients is None:
                try:
                    from dagster_pipeline.resources.casehelper_resource import CaseHelperClient
                    from dagster_pipeline.resources.tiparser_resource import TiParserClient
                except ImportError as exc:
                    raise FeatureUnavailable("The legacy extraction path needs the pipeline's upstream clients "
                                             "(dagster_pipeline.resources), which are not installed.") from exc
                s = self.settings
                tiparser = TiParserClient(s.tiparser_base_url, s.tiparser_api_key, s.tiparser_connect_timeout,
                                          s.tiparser_read_timeout)
                casehelper = CaseHelperClient(s.casehelper_base_url, s.casehelper_username, s.casehelper_password,
                                              s.casehelper_app_type, s.casehelper_api_key, s.casehelper_timeout)
                self._clients = (tiparser, casehelper)
            return self._clients

    def extract(self, case_id: str, requested_by: str | None = None) -> dict[str, Any]:
        tiparser, casehelper = self._get_clients()
        started = time.perf_counter()
        with self.pool.connection() as conn:
            for source in SOURCES:
                data_saver.set_source_state(conn, case_id, source, "fetching")
        futures = {source: self._executor.submit(self._one, tiparser, casehelper, case_id, source)
                   for source in SOURCES}
        results = {source: future.result() for source, future in futures.items()}
        failed = [s for s, r in results.items() if r["state"] == "failed"]
        if not failed:
            status = "complete"
            message = f"Case {case_id} extracted: raw data stored; silver and gold were built by the triggers."
        elif len(failed) == len(SOURCES):
            status = "failed"
            message = "Extraction failed: " + "; ".join(f"{s.upper()}: {results[s]['error']}" for s in failed) + "."
        else:
            status = "partial"
            message = ("Extraction finished with errors: "
                       + "; ".join(f"{s.upper()}: {results[s]['error']}" for s in failed)
                       + ". Data from the other sources is stored.")
        log.info("legacy extraction %s", status, extra={"case_id": case_id, "failed_sources": failed})
        return {"case_id": case_id, "status": status, "message": message, "sources": results,
                "seconds": round(time.perf_counter() - started, 3)}

    def _one(self, tiparser: Any, casehelper: Any, case_id: str, source: str) -> dict[str, Any]:
        from dagster_pipeline.resources.common import MalformedPayload, UpstreamError

        started = time.perf_counter()
        result: dict[str, Any] = {"state": "failed", "bronze_id": None, "http_status": None, "error": None}
        try:
            fetched = casehelper.fetch_interview(case_id) if source == "interview" else tiparser.fetch(source, case_id)
            result["http_status"] = fetched.http_status
            with self.pool.connection() as conn:
                if fetched.status == "no_data":
                    result["state"] = "no_data"
                else:
                    saved = data_saver.save_bronze(conn, source, case_id, fetched.payload)
                    result["bronze_id"] = saved.bronze_id
                    result["state"] = "unchanged" if saved.unchanged else "stored"
                data_saver.set_source_state(conn, case_id, source, result["state"], bronze_id=result["bronze_id"],
                                            http_status=fetched.http_status)
        except MalformedPayload as exc:
            result.update(http_status=exc.http_status,
                          error=f"{'CaseHelper' if source == 'interview' else 'TiParser'} returned malformed "
                                "JSON; the body is kept in bronze_rejected_payloads")
            with self.pool.connection() as conn:
                data_saver.save_rejected_payload(conn, source, case_id, exc.body_text, str(exc),
                                                 http_status=exc.http_status)
                data_saver.set_source_state(conn, case_id, source, "failed", http_status=exc.http_status,
                                            error=result["error"])
        except UpstreamError as exc:
            result.update(http_status=exc.http_status, error=plain_error(source, exc.http_status, str(exc)))
            with self.pool.connection() as conn:
                data_saver.set_source_state(conn, case_id, source, "failed", http_status=exc.http_status,
                                            error=str(exc))
        except Exception as exc:  # a database failure or a bug: recorded, never raised past the other sources
            log.exception("legacy extraction of %s failed", source, extra={"case_id": case_id})
            result["error"] = f"Could not store the {source.upper()} data ({type(exc).__name__})."
            try:
                with self.pool.connection() as conn:
                    data_saver.set_source_state(conn, case_id, source, "failed", error=result["error"])
            except Exception:  # noqa: BLE001 - the database itself is down; the response says so
                pass
        result["seconds"] = round(time.perf_counter() - started, 3)
        return result
