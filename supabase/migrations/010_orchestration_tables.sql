-- Orchestration state in our own tables: what a user asked for (extraction_requests), where
-- each source of a case stands (case_ingestion_status), bodies that could not be stored as
-- JSON (bronze_rejected_payloads) and alerts. The API reads these instead of polling Dagster.

CREATE TABLE IF NOT EXISTS public.extraction_requests (
    request_id     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    case_id        text NOT NULL REFERENCES public.cases (case_id) ON DELETE CASCADE,
    case_number    text,
    status         text NOT NULL DEFAULT 'queued',
    force          boolean NOT NULL DEFAULT false,
    requested_by   text,
    origin         text NOT NULL DEFAULT 'api',  -- api, cli, sensor, schedule, bulk
    dagster_run_id text,
    error          text,
    attempts       integer NOT NULL DEFAULT 0,
    requested_at   timestamptz NOT NULL DEFAULT now(),
    submitted_at   timestamptz,
    started_at     timestamptz,
    finished_at    timestamptz,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT extraction_requests_status_check
        CHECK (status IN ('queued', 'submitted', 'running', 'complete', 'partial', 'failed', 'cancelled'))
);
-- At most one active (not forced) request per case: a second click returns the first one.
CREATE UNIQUE INDEX IF NOT EXISTS extraction_requests_one_active_per_case
    ON public.extraction_requests (case_id) WHERE status IN ('queued', 'submitted', 'running') AND NOT force;
CREATE INDEX IF NOT EXISTS extraction_requests_pending_idx
    ON public.extraction_requests (requested_at) WHERE status = 'queued';
CREATE INDEX IF NOT EXISTS extraction_requests_case_idx ON public.extraction_requests (case_id, requested_at DESC);

CREATE TABLE IF NOT EXISTS public.case_ingestion_status (
    case_id        text NOT NULL REFERENCES public.cases (case_id) ON DELETE CASCADE,
    source         text NOT NULL,
    state          text NOT NULL,
    request_id     uuid,
    dagster_run_id text,
    bronze_id      uuid,
    http_status    integer,
    error          text,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT case_ingestion_status_pkey PRIMARY KEY (case_id, source),
    CONSTRAINT case_ingestion_status_source_check CHECK (source IN ('at', 'wi', 'trt', 'interview', 'pdf')),
    -- stored: new payload written; unchanged: same as the latest bronze row; no_data: upstream 404
    CONSTRAINT case_ingestion_status_state_check
        CHECK (state IN ('pending', 'fetching', 'stored', 'unchanged', 'no_data', 'failed'))
);

-- A body that arrived but is not valid JSON (truncated, malformed) is kept verbatim here.
CREATE TABLE IF NOT EXISTS public.bronze_rejected_payloads (
    id             bigserial PRIMARY KEY,
    case_id        text NOT NULL REFERENCES public.cases (case_id) ON DELETE CASCADE,
    source         text NOT NULL,
    api_endpoint   text,
    http_status    integer,
    body_text      text NOT NULL,
    error          text NOT NULL,
    dagster_run_id text,
    received_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS public.pipeline_alerts (
    id             bigserial PRIMARY KEY,
    kind           text NOT NULL,           -- run_failure, health_check, ...
    severity       text NOT NULL DEFAULT 'error',
    case_id        text,
    source         text,
    message        text NOT NULL,
    dagster_run_id text,
    run_url        text,
    delivered      boolean NOT NULL DEFAULT false,
    delivery_error text,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS pipeline_alerts_created_idx ON public.pipeline_alerts (created_at DESC);
