-- Transcript PDFs as received: one row per distinct file (sha256), wherever it is stored
-- (Supabase Storage bucket case-pdfs, or a local folder). The same bytes arriving again, for
-- any case or under any name, are recognised by the hash and not stored twice.
CREATE TABLE IF NOT EXISTS public.bronze_pdf_raw (
    pdf_id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    case_id            text NOT NULL REFERENCES public.cases (case_id) ON DELETE CASCADE,
    document_type      text NOT NULL,
    upstream_document_id text,
    file_name          text NOT NULL,
    tax_year           integer,
    owner              text,
    file_size_bytes    bigint NOT NULL,
    sha256             text NOT NULL,
    storage_backend    text NOT NULL DEFAULT 'local',
    storage_bucket     text NOT NULL DEFAULT 'case-pdfs',
    storage_path       text NOT NULL,
    mime_type          text NOT NULL DEFAULT 'application/pdf',
    source_system      text NOT NULL DEFAULT 'tiparser',
    linked_bronze_table text,
    linked_bronze_id   uuid,
    dagster_run_id     text,
    downloaded_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT bronze_pdf_raw_document_type_check CHECK (document_type IN ('AT', 'WI', 'TRT', 'Interview', 'Other')),
    CONSTRAINT bronze_pdf_raw_storage_backend_check CHECK (storage_backend IN ('local', 'supabase')),
    CONSTRAINT bronze_pdf_raw_owner_check CHECK (owner IS NULL OR owner IN ('TP', 'S')),
    CONSTRAINT bronze_pdf_raw_sha256_format CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    CONSTRAINT bronze_pdf_raw_linked_table_check
        CHECK (linked_bronze_table IS NULL OR linked_bronze_table IN ('bronze_at_raw', 'bronze_wi_raw', 'bronze_trt_raw')),
    CONSTRAINT bronze_pdf_raw_sha256_unique UNIQUE (sha256)
);
CREATE INDEX IF NOT EXISTS bronze_pdf_raw_case_idx ON public.bronze_pdf_raw (case_id, document_type, tax_year);

CREATE OR REPLACE VIEW public.bronze_pdf_health AS
SELECT document_type,
       count(*)              AS files,
       count(DISTINCT case_id) AS cases,
       sum(file_size_bytes)  AS total_bytes,
       min(downloaded_at)    AS oldest,
       max(downloaded_at)    AS newest
FROM public.bronze_pdf_raw
GROUP BY document_type;
