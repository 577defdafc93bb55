"""Our own Postgres (bronze writes through backend.app.services.data_saver) and PDF storage.

PDF storage has one interface and two back ends: Supabase Storage (supabase-py) when
SUPABASE_URL is set, a local folder (settings.pdf_local_dir) otherwise. Objects are
content-addressed (`<kind>/<case_id>/<sha256>.pdf`), so the same PDF is stored once.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import dagster as dg
import psycopg
from psycopg_pool import ConnectionPool
from pydantic import PrivateAttr


class PdfStorage(Protocol):
    bucket: str
    backend: str  # "local" | "supabase" (bronze_pdf_raw.storage_backend)

    def put(self, path: str, data: bytes, content_type: str = "application/pdf") -> str: ...

    def exists(self, path: str) -> bool: ...


class LocalPdfStorage:
    def __init__(self, root: Path, bucket: str = "local") -> None:
        self.root = Path(root)
        self.bucket = bucket
        self.backend = "local"

    def put(self, path: str, data: bytes, content_type: str = "application/pdf") -> str:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(target.suffix + ".part")
        tmp.write_bytes(data)
        tmp.replace(target)  # atomic: a reader never sees half a file
        return path

    def exists(self, path: str) -> bool:
        return (self.root / path).exists()


class SupabasePdfStorage:
    def __init__(self, url: str, service_key: str, bucket: str) -> None:
        from supabase import create_client

        self.bucket = bucket
        self.backend = "supabase"
        self._client = create_client(url, service_key)

    def put(self, path: str, data: bytes, content_type: str = "application/pdf") -> str:
        self._client.storage.from_(self.bucket).upload(
            path, data, {"content-type": content_type, "upsert": "true"}
        )
        return path

    def exists(self, path: str) -> bool:
        # storage3 answers False only for "object not found"; a bad key or a missing bucket raises.
        return self._client.storage.from_(self.bucket).exists(path)


class SupabaseResource(dg.ConfigurableResource):
    """`supabase` resource: Postgres connections (pooled, thread-safe) and PDF storage."""

    database_url: str
    supabase_url: str | None = None
    service_role_key: str | None = None
    pdf_bucket: str = "case-pdfs"
    pdf_local_dir: str = "var/pdfs"
    pool_max_size: int = 16

    _pool: ConnectionPool | None = PrivateAttr(default=None)
    _storage: PdfStorage | None = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @contextlib.contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        """A pooled connection; commits on success, rolls back on error."""
        with self._lock:
            if self._pool is None:
                self._pool = ConnectionPool(
                    self.database_url,
                    min_size=1,
                    max_size=self.pool_max_size,
                    open=True,
                    name="medallion-pipeline",
                )
        with self._pool.connection() as conn:
            yield conn

    @contextlib.contextmanager
    def connect(self) -> Iterator[psycopg.Connection]:
        """A dedicated (unpooled) connection, for sensors and schedules that run once per tick."""
        with psycopg.connect(self.database_url) as conn:
            yield conn

    def pdf_storage(self) -> PdfStorage:
        with self._lock:
            if self._storage is None:
                if self.supabase_url and self.service_role_key:
                    self._storage = SupabasePdfStorage(
                        self.supabase_url, self.service_role_key, self.pdf_bucket
                    )
                else:
                    self._storage = LocalPdfStorage(Path(self.pdf_local_dir), bucket=self.pdf_bucket)
            return self._storage

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None
