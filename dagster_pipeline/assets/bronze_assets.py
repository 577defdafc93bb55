"""Bronze: the raw JSON of each case, per source, exactly as the upstream sent it.

`bronze_case_extraction` is one multi_asset producing `bronze_at_data`, `bronze_wi_data`,
`bronze_trt_data` and `bronze_interview_data`: its run config carries a list of case ids, the
four fetches of a case run at the same time and several cases run at once (see
dagster_pipeline/ingest.py for the rules). The SQL triggers build silver and gold from each
INSERT, so nothing downstream is computed here.

`bronze_pdf_archive` downloads the transcript PDFs of the same cases into PDF storage and
records them in `bronze_pdf_raw`, deduplicated by sha256.
"""

import hashlib
import re
from collections import Counter

import dagster as dg
from pydantic import Field

from dagster_pipeline.ingest import SOURCES, BatchIngestor, CaseOutcome
from dagster_pipeline.resources.casehelper_resource import CaseHelperResource
from dagster_pipeline.resources.common import UpstreamAuthError, UpstreamError
from dagster_pipeline.resources.supabase_resource import SupabaseResource
from dagster_pipeline.resources.tiparser_resource import TiParserResource
from dagster_pipeline.settings import get_pipeline_settings

BRONZE_OP = "bronze_case_extraction"
ASSET_NAMES = {s: f"bronze_{s}_data" for s in SOURCES}
TABLES = {s: f"bronze_{s}_raw" for s in SOURCES}
_UPSTREAM = {
    "at": "TiParser /analysis/at",
    "wi": "TiParser /analysis/wi",
    "trt": "TiParser /analysis/trt",
    "interview": "CaseHelper /api/cases/{id}/interview",
}


class CaseBatchConfig(dg.Config):
    """Run config of the bronze step: which cases (and which extraction requests) to work."""

    case_ids: list[str] = Field(
        description="Logiqs case ids (digits) to extract, worked through in one process"
    )
    request_ids: list[str] = Field(
        default_factory=list, description="extraction_requests ids, parallel to case_ids ('' = none)"
    )
    origin: str = Field(default="dagster", description="who asked: api, cli, sensor, schedule, bulk")
    max_concurrent_cases: int = Field(
        default_factory=lambda: get_pipeline_settings().max_concurrent_cases,
        description="cases fetched at once (each is 4 concurrent upstream calls)",
    )


def case_batch_run_config(
    case_ids: list[str], request_ids: list[str | None] | None = None, origin: str = "dagster"
) -> dict:
    """The run config for `case_ingestion_job` (used by the trigger, sensor and schedule)."""
    config: dict = {"case_ids": list(case_ids), "origin": origin}
    if request_ids:
        config["request_ids"] = [r or "" for r in request_ids]
    return {"ops": {BRONZE_OP: {"config": config}}}


def case_run_tags(case_ids: list[str], request_ids: list[str | None] | None = None, origin: str = "") -> dict:
    """`case_id` (and `request_id`) for a one-case run; `case_ids`/`case_count` for a batch."""
    tags = {"medallion/origin": origin} if origin else {}
    if len(case_ids) == 1:
        tags["case_id"] = case_ids[0]
        if request_ids and request_ids[0]:
            tags["request_id"] = request_ids[0]
    else:
        tags["case_count"] = str(len(case_ids))
        joined = ",".join(case_ids)
        tags["case_ids"] = joined if len(joined) <= 200 else joined[:190].rsplit(",", 1)[0] + ",..."
    return tags


def _validate_case_ids(case_ids: list[str]) -> list[str]:
    bad = [c for c in case_ids if not re.fullmatch(r"\d{1,12}", c or "")]
    if bad:
        raise dg.Failure(
            f"case ids must be 1 to 12 digits; refused: {', '.join(map(repr, bad[:10]))}", allow_retries=False
        )
    return list(dict.fromkeys(case_ids))


def _step_retry_policy() -> dg.RetryPolicy:
    s = get_pipeline_settings()
    return dg.RetryPolicy(
        max_retries=s.step_max_retries,
        delay=s.step_retry_delay_s,
        backoff=dg.Backoff.EXPONENTIAL,
        jitter=dg.Jitter.PLUS_MINUS,
    )


@dg.multi_asset(
    name=BRONZE_OP,
    specs=[
        dg.AssetSpec(
            ASSET_NAMES[s],
            group_name="bronze",
            kinds={"postgres", "python"},
            description=f"Raw {s.upper()} JSON per case from {_UPSTREAM[s]}, table public.{TABLES[s]} "
            "(append-only; an identical repeat is skipped).",
            metadata={"table": f"public.{TABLES[s]}", "upstream": _UPSTREAM[s]},
            skippable=True,
        )
        for s in SOURCES
    ],
    pool="tiparser_api",
    retry_policy=_step_retry_policy(),
    op_tags={"medallion/upstream": "tiparser,casehelper"},
    description="Fetch AT, WI, TRT (TiParser) and the interview (CaseHelper) of a batch of cases, the four "
    "calls of a case concurrently, and store the raw JSON in bronze.",
)
def bronze_case_extraction(
    context: dg.AssetExecutionContext,
    config: CaseBatchConfig,
    supabase: SupabaseResource,
    tiparser: TiParserResource,
    casehelper: CaseHelperResource,
):
    case_ids = _validate_case_ids(config.case_ids)
    request_ids = list(config.request_ids) + [""] * (len(case_ids) - len(config.request_ids))
    run_id = context.run.run_id
    attempt = context.retry_number
    context.log.info(
        f"extracting {len(case_ids)} case(s) (attempt {attempt + 1}); {config.max_concurrent_cases} at a time"
    )
    ingestor = BatchIngestor(
        tiparser=tiparser.get_client(),
        casehelper=casehelper.get_client(),
        connection=supabase.connection,
        run_id=run_id,
        origin=config.origin,
        max_concurrent_cases=config.max_concurrent_cases,
        log_fn=context.log.info,
    )
    try:
        outcomes = ingestor.run(case_ids, [r or None for r in request_ids])
    finally:
        ingestor.close()

    for source in SOURCES:
        yield dg.MaterializeResult(
            asset_key=ASSET_NAMES[source], metadata=_source_metadata(source, outcomes, run_id)
        )
    _raise_for_failures(context, outcomes)


def _source_metadata(source: str, outcomes: list[CaseOutcome], run_id: str) -> dict:
    per = [(o.case_id, o.sources[source]) for o in outcomes if source in o.sources]
    states = Counter(s.state for _, s in per)
    years = sorted({str(y) for _, s in per for y in s.summary.get("years", [])})
    meta: dict = {
        "cases": len(per),
        "stored": states.get("stored", 0),
        "unchanged": states.get("unchanged", 0),
        "no_data": states.get("no_data", 0),
        "failed": states.get("failed", 0),
        "bytes": sum(s.size_bytes for _, s in per),
        "dagster_run_id": run_id,
    }
    if len(per) == 1:
        meta["case_id"] = per[0][0]
        meta["state"] = per[0][1].state
        if per[0][1].bronze_id:
            meta["bronze_id"] = per[0][1].bronze_id
    if years:
        meta["years"] = ", ".join(years)
    if source == "wi":
        meta["forms"] = sum(s.summary.get("forms", 0) for _, s in per)
    if source in ("at", "trt"):
        meta["records"] = sum(s.summary.get("records", 0) for _, s in per)
    if source == "at":
        meta["transactions"] = sum(s.summary.get("transactions", 0) for _, s in per)
    errors = [f"{c}: {s.error}" for c, s in per if s.state == "failed" and s.error]
    if errors:
        meta["errors"] = dg.MetadataValue.md("\n".join(f"- {e}" for e in errors[:20]))
    return meta


def _raise_for_failures(context: dg.AssetExecutionContext, outcomes: list[CaseOutcome]) -> None:
    statuses = Counter(o.status for o in outcomes)
    context.log.info("cases: " + ", ".join(f"{k}={v}" for k, v in sorted(statuses.items())))
    for o in outcomes:
        if o.status == "partial":
            context.log.warning(f"case {o.case_id} partial: {o.error}")
    failed = [o for o in outcomes if o.status == "failed"]
    if not failed:
        return
    if len(outcomes) == 1:
        description = failed[0].error or "extraction failed"
    else:
        description = f"{len(failed)} of {len(outcomes)} cases failed: " + "; ".join(
            f"{o.case_id}: {o.error}" for o in failed[:10]
        )
    metadata = {"failed_cases": ", ".join(o.case_id for o in failed[:50])}
    if any(o.auth_error for o in failed):
        raise dg.Failure(description=description, metadata=metadata, allow_retries=False)
    if all(o.retryable for o in failed):
        # Upstream still down after the client's own retries: the step RetryPolicy tries again later
        # (cases already finished are skipped then: their requests are no longer ours to claim).
        raise UpstreamError(description)
    raise dg.Failure(description=description, metadata=metadata, allow_retries=False)


# ------------------------------------------------------------------------------------------
# Transcript PDF archive
# ------------------------------------------------------------------------------------------

_YEAR = re.compile(r"(?:AT|WI|TRT)\s*(?:S\s+)?(\d{2}|\d{4})\b", re.IGNORECASE)


def _tax_year(filename: str) -> str | None:
    m = _YEAR.search(filename or "")
    if not m:
        return None
    y = m.group(1)
    return y if len(y) == 4 else ("20" + y if int(y) <= 50 else "19" + y)


@dg.asset(
    name="bronze_pdf_archive",
    group_name="bronze",
    kinds={"postgres", "pdf"},
    pool="tiparser_api",
    retry_policy=_step_retry_policy(),
    description="Transcript PDFs (AT, WI) of the batch's cases, stored once per sha256 in PDF storage "
    "(Supabase Storage or var/pdfs) and recorded in public.bronze_pdf_raw.",
)
def bronze_pdf_archive(
    context: dg.AssetExecutionContext,
    config: CaseBatchConfig,
    supabase: SupabaseResource,
    tiparser: TiParserResource,
) -> dg.MaterializeResult:
    case_ids = _validate_case_ids(config.case_ids)
    client = tiparser.get_client()
    storage = supabase.pdf_storage()
    with supabase.connection() as conn:
        if conn.execute("SELECT to_regclass('public.bronze_pdf_raw')").fetchone()[0] is None:
            raise dg.Failure(
                "table public.bronze_pdf_raw is missing: apply migration 005_bronze_pdf_metadata_table.sql",
                allow_retries=False,
            )
    stored = duplicates = missing = 0
    total_bytes = 0
    errors: list[str] = []
    for case_id in case_ids:
        for kind in ("at", "wi"):
            try:
                files = client.list_transcripts(kind, case_id)  # type: ignore[arg-type]
            except UpstreamAuthError:
                raise
            except UpstreamError as exc:
                errors.append(f"{case_id} {kind.upper()} list: {exc}")
                continue
            for f in files:
                try:
                    data = client.download_pdf(kind, case_id, f["case_document_id"])  # type: ignore[arg-type]
                except UpstreamAuthError:
                    raise
                except UpstreamError as exc:
                    errors.append(f"{case_id} {f['filename']}: {exc}")
                    continue
                if not data:
                    missing += 1
                    continue
                digest = hashlib.sha256(data).hexdigest()
                path = f"{kind}-transcripts/{case_id}/{digest}.pdf"
                with supabase.connection() as conn:
                    if conn.execute(
                        "SELECT 1 FROM public.bronze_pdf_raw WHERE sha256 = %s", (digest,)
                    ).fetchone():
                        duplicates += 1
                        continue
                    storage.put(path, data)
                    conn.execute("SELECT public.ensure_case(%s)", (case_id,))
                    linked = conn.execute(
                        f"SELECT bronze_id FROM public.bronze_{kind}_raw WHERE case_id = %s"  # noqa: S608
                        " ORDER BY inserted_at DESC LIMIT 1",
                        (case_id,),
                    ).fetchone()
                    year = _tax_year(f["filename"])
                    owner = f.get("owner") if f.get("owner") in ("TP", "S") else None
                    conn.execute(
                        "INSERT INTO public.bronze_pdf_raw (case_id, document_type, upstream_document_id,"
                        " file_name,"
                        " tax_year, owner, file_size_bytes, sha256, storage_backend, storage_bucket,"
                        " storage_path,"
                        " source_system, linked_bronze_table, linked_bronze_id, dagster_run_id)"
                        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'tiparser', %s, %s, %s)"
                        " ON CONFLICT (sha256) DO NOTHING",
                        (
                            case_id,
                            kind.upper(),
                            f["case_document_id"],
                            f["filename"],
                            int(year) if year else None,
                            owner,
                            len(data),
                            digest,
                            storage.backend,
                            storage.bucket,
                            path,
                            f"bronze_{kind}_raw" if linked else None,
                            linked[0] if linked else None,
                            context.run.run_id,
                        ),
                    )
                    conn.commit()
                stored += 1
                total_bytes += len(data)
    meta = {
        "cases": len(case_ids),
        "pdfs_stored": stored,
        "duplicates_skipped": duplicates,
        "missing_upstream": missing,
        "bytes": total_bytes,
        "storage_bucket": storage.bucket,
    }
    if errors:
        meta["errors"] = dg.MetadataValue.md("\n".join(f"- {e}" for e in errors[:20]))
    return dg.MaterializeResult(metadata=meta)
